//! The shared `credentials` and `config` files (INI format) and profile resolution.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{AwsEnv, Credentials, CredentialsError};

/// One `[section]` with its `key = value` properties (keys lower-cased).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Section {
    pub name: String,
    pub props: BTreeMap<String, String>,
}

/// Parses the AWS INI dialect: `[section]` headers, `key = value` properties, full-line
/// comments starting with `#` or `;`, inline comments after whitespace, and indented
/// continuation lines (nested sub-properties such as `s3 =\n  max_concurrent_requests = 20`,
/// which are kept out of the flat property map).
pub(crate) fn parse_ini(text: &str, path: &Path) -> Result<Vec<Section>, CredentialsError> {
    let err = |line: usize, message: String| CredentialsError::ProfileFile {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut sections: Vec<Section> = Vec::new();
    let mut last_property: Option<usize> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            // Continuation of the previous property (a nested sub-property).
            if last_property.is_none() {
                return Err(err(
                    line_no,
                    format!("indented line {trimmed:?} does not follow a property"),
                ));
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let Some(close) = rest.find(']') else {
                return Err(err(
                    line_no,
                    format!("section header {trimmed:?} has no ']'"),
                ));
            };
            let after = rest[close + 1..].trim();
            if !(after.is_empty() || after.starts_with('#') || after.starts_with(';')) {
                return Err(err(
                    line_no,
                    format!("unexpected text {after:?} after the section header"),
                ));
            }
            let name = rest[..close].trim();
            if name.is_empty() {
                return Err(err(line_no, "empty section name".into()));
            }
            sections.push(Section {
                name: name.to_string(),
                props: BTreeMap::new(),
            });
            last_property = None;
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            return Err(err(
                line_no,
                format!(
                    "expected `[section]` or `key = value`, found {}",
                    redact_line(trimmed)
                ),
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(err(line_no, "property with an empty name".into()));
        }
        let Some(section) = sections.last_mut() else {
            return Err(err(
                line_no,
                format!("property {key:?} appears before any [section]"),
            ));
        };
        section.props.insert(
            key.to_ascii_lowercase(),
            strip_inline_comment(value).to_string(),
        );
        last_property = Some(line_no);
    }
    Ok(sections)
}

/// Error messages quote malformed lines; hide whatever follows the first few characters
/// in case the line is a mangled secret.
/// What an error may show of a malformed line (one without `=`): only its length — its text may be a pasted
/// secret key; the error names the file and line.
fn redact_line(line: &str) -> String {
    format!("a line of {} characters", line.chars().count())
}

fn strip_inline_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    for i in 1..bytes.len() {
        if matches!(bytes[i], b'#' | b';') && bytes[i - 1].is_ascii_whitespace() {
            return value[..i].trim();
        }
    }
    value.trim()
}

/// What a profile says to do.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Static(Credentials),
    AssumeRole {
        source: Box<Plan>,
        role_arn: String,
        external_id: Option<String>,
        session_name: Option<String>,
        region: Option<String>,
    },
    WebIdentity {
        role_arn: String,
        token_file: PathBuf,
        session_name: Option<String>,
        region: Option<String>,
    },
}

/// Result of looking at the shared files.
pub(crate) enum Resolved {
    /// The link is not configured; the reason goes into the "no credentials" message.
    NotConfigured(String),
    Plan(Plan),
}

struct Files {
    credentials: (PathBuf, Option<Vec<Section>>),
    config: (PathBuf, Option<Vec<Section>>),
}

impl Files {
    fn describe_paths(&self) -> String {
        format!(
            "{} and {}",
            self.credentials.0.display(),
            self.config.0.display()
        )
    }

    /// Properties of `profile`: the config file's `[profile name]` (or `[default]`)
    /// overridden by the credentials file's `[name]`. `None` if neither has it.
    fn profile(&self, profile: &str) -> Option<BTreeMap<String, String>> {
        let mut found = false;
        let mut props = BTreeMap::new();
        if let Some(sections) = &self.config.1 {
            for s in sections {
                let name = s.name.split_whitespace().collect::<Vec<_>>();
                let matches = match name.as_slice() {
                    ["profile", n] => *n == profile,
                    [n] => *n == "default" && profile == "default",
                    _ => false,
                };
                if matches {
                    found = true;
                    props.extend(s.props.clone());
                }
            }
        }
        if let Some(sections) = &self.credentials.1 {
            for s in sections.iter().filter(|s| s.name == profile) {
                found = true;
                props.extend(s.props.clone());
            }
        }
        found.then_some(props)
    }
}

fn read_file(
    path: PathBuf,
    what: &'static str,
) -> Result<(PathBuf, Option<Vec<Section>>), CredentialsError> {
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let sections = parse_ini(&text, &path)?;
            Ok((path, Some(sections)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((path, None)),
        Err(e) => Err(CredentialsError::File {
            what,
            path,
            message: e.to_string(),
        }),
    }
}

/// Reads the shared files and resolves the profile `AWS_PROFILE` (default `default`).
/// Returns an error when the files are malformed, an explicitly chosen profile does not
/// exist, or the profile's credentials are incomplete or use an unsupported mechanism.
pub(crate) fn resolve(env: &AwsEnv) -> Result<Resolved, CredentialsError> {
    let explicit = env.var("AWS_PROFILE");
    let profile = explicit.unwrap_or("default");
    let credentials_path = env
        .var("AWS_SHARED_CREDENTIALS_FILE")
        .map(|p| env.expand_home(p))
        .or_else(|| env.home().map(|h| h.join(".aws").join("credentials")));
    let config_path = env
        .var("AWS_CONFIG_FILE")
        .map(|p| env.expand_home(p))
        .or_else(|| env.home().map(|h| h.join(".aws").join("config")));
    let (Some(credentials_path), Some(config_path)) = (credentials_path, config_path) else {
        return Ok(Resolved::NotConfigured(
            "no home directory (HOME not set) and AWS_SHARED_CREDENTIALS_FILE or AWS_CONFIG_FILE not set"
                .into(),
        ));
    };
    let files = Files {
        credentials: read_file(credentials_path, "shared credentials file")?,
        config: read_file(config_path, "shared config file")?,
    };
    if files.credentials.1.is_none() && files.config.1.is_none() {
        let message = format!(
            "{}: not found; {}: not found",
            files.credentials.0.display(),
            files.config.0.display()
        );
        return if explicit.is_some() {
            Err(CredentialsError::Config(format!(
                "AWS_PROFILE={profile} but {message}"
            )))
        } else {
            Ok(Resolved::NotConfigured(message))
        };
    }
    if files.profile(profile).is_none() {
        let message = format!("no profile in {}", files.describe_paths());
        return if explicit.is_some() {
            Err(CredentialsError::Config(format!(
                "AWS_PROFILE={profile} but there is {message}"
            )))
        } else {
            Ok(Resolved::NotConfigured(message))
        };
    }
    match plan_for(&files, env, profile, &mut Vec::new())? {
        Some(plan) => Ok(Resolved::Plan(plan)),
        None => {
            let message = format!(
                "has no credentials (no aws_access_key_id, role_arn or web_identity_token_file) in {}",
                files.describe_paths()
            );
            if explicit.is_some() {
                Err(CredentialsError::Config(message))
            } else {
                Ok(Resolved::NotConfigured(message))
            }
        }
    }
}

fn plan_for(
    files: &Files,
    env: &AwsEnv,
    profile: &str,
    visited: &mut Vec<String>,
) -> Result<Option<Plan>, CredentialsError> {
    let where_ = || format!("profile {profile:?} in {}", files.describe_paths());
    let props = files
        .profile(profile)
        .ok_or_else(|| CredentialsError::Config(format!("{} not found", where_())))?;
    let get = |k: &str| props.get(k).map(String::as_str).filter(|v| !v.is_empty());
    visited.push(profile.to_string());
    let static_keys = match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => {
            let mut c = Credentials::new_static(id, secret, format!("profile {profile}"));
            c.session_token = get("aws_session_token").map(crate::Secret::new);
            Some(c)
        }
        (Some(_), None) => {
            return Err(CredentialsError::Config(format!(
                "{}: aws_access_key_id is set but aws_secret_access_key is not",
                where_()
            )));
        }
        (None, Some(_)) => {
            return Err(CredentialsError::Config(format!(
                "{}: aws_secret_access_key is set but aws_access_key_id is not",
                where_()
            )));
        }
        (None, None) => None,
    };
    let region = get("region").map(str::to_string);
    let session_name = get("role_session_name").map(str::to_string);
    if let Some(role_arn) = get("role_arn") {
        if let Some(token_file) = get("web_identity_token_file") {
            return Ok(Some(Plan::WebIdentity {
                role_arn: role_arn.to_string(),
                token_file: env.expand_home(token_file),
                session_name,
                region,
            }));
        }
        let source = if let Some(source_profile) = get("source_profile") {
            if source_profile == profile {
                // A profile naming itself uses its own static keys as the source.
                static_keys.clone().map(Plan::Static).ok_or_else(|| {
                    CredentialsError::Config(format!(
                        "{}: source_profile is the profile itself but it has no static keys",
                        where_()
                    ))
                })?
            } else if visited.iter().any(|v| v == source_profile) {
                return Err(CredentialsError::Config(format!(
                    "{}: source_profile chain loops: {} -> {source_profile}",
                    where_(),
                    visited.join(" -> ")
                )));
            } else {
                plan_for(files, env, source_profile, visited)?.ok_or_else(|| {
                    CredentialsError::Config(format!(
                        "{}: source_profile {source_profile:?} has no credentials",
                        where_()
                    ))
                })?
            }
        } else if let Some(source) = get("credential_source") {
            return Err(CredentialsError::Config(format!(
                "{}: credential_source = {source} is not supported by prescale; use source_profile",
                where_()
            )));
        } else {
            return Err(CredentialsError::Config(format!(
                "{}: role_arn needs source_profile or web_identity_token_file",
                where_()
            )));
        };
        return Ok(Some(Plan::AssumeRole {
            source: Box::new(source),
            role_arn: role_arn.to_string(),
            external_id: get("external_id").map(str::to_string),
            session_name,
            region,
        }));
    }
    if let Some(keys) = static_keys {
        return Ok(Some(Plan::Static(keys)));
    }
    for unsupported in ["credential_process", "sso_session", "sso_start_url"] {
        if get(unsupported).is_some() {
            return Err(CredentialsError::Config(format!(
                "{}: {unsupported} is not supported by prescale",
                where_()
            )));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_comments_and_continuations() {
        let text = "# top\n[default]\naws_access_key_id = AKID ; note\nKey2=v=with=equals\n\n[profile dev]\ns3 =\n  max_concurrent_requests = 20\nregion=us-west-2 # c\n";
        let s = parse_ini(text, Path::new("cfg")).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].props["aws_access_key_id"], "AKID");
        assert_eq!(s[0].props["key2"], "v=with=equals");
        assert_eq!(s[1].name, "profile dev");
        assert_eq!(s[1].props["region"], "us-west-2");
        assert!(!s[1].props.contains_key("max_concurrent_requests"));
    }

    #[test]
    fn malformed_lines_report_file_and_line() {
        let cases = [
            ("[default\n", 1, "no ']'"),
            ("[default]\nnot a property\n", 2, "key = value"),
            ("key = v\n", 1, "before any [section]"),
            ("[a]\n\n  indented\n", 3, "does not follow a property"),
            ("[a] junk\n", 1, "after the section header"),
            ("[]\n", 1, "empty section name"),
            ("[a]\n= v\n", 2, "empty name"),
        ];
        for (text, line, needle) in cases {
            let e = parse_ini(text, Path::new("/x/credentials")).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("/x/credentials:{line}: ")) && msg.contains(needle),
                "{text:?}: {msg}"
            );
        }
    }

    #[test]
    fn malformed_line_message_does_not_echo_a_whole_secret() {
        let e = parse_ini(
            "[a]\nwJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n",
            Path::new("f"),
        )
        .unwrap_err();
        assert!(!e.to_string().contains("EXAMPLEKEY"), "{e}");
    }
}
