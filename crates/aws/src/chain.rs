//! The links of the default credentials chain.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::http_util::{send, status_error};
use crate::profile::{self, Plan, Resolved};
use crate::sts::{self, AssumeRoleRequest};
use crate::{AwsEnv, Credentials, CredentialsError, Secret};

const CONTAINER_TIMEOUT: Duration = Duration::from_secs(5);
/// IMDS is the last resort and is absent off EC2: keep each step short.
const IMDS_TOKEN_TIMEOUT: Duration = Duration::from_secs(1);
const IMDS_TIMEOUT: Duration = Duration::from_secs(2);
const ECS_HOST: &str = "http://169.254.170.2";
const IMDS_DEFAULT: &str = "http://169.254.169.254";

/// Outcome of one link: not configured (with the reason) or credentials. A configured
/// link that fails returns `Err`.
enum Link {
    NotConfigured(String),
    Found(Credentials),
}

/// Runs the chain: environment, shared files, web identity, container credentials, IMDSv2.
pub(crate) async fn default_chain(
    env: &AwsEnv,
    http: &reqwest::Client,
) -> Result<Credentials, CredentialsError> {
    let mut tried: Vec<(String, String)> = Vec::new();
    let mut take = |name: &str, outcome: Result<Link, CredentialsError>| match outcome {
        Ok(Link::Found(c)) => Some(Ok(c)),
        Ok(Link::NotConfigured(reason)) => {
            tried.push((name.to_string(), reason));
            None
        }
        Err(e) => Some(Err(e)),
    };

    if let Some(r) = take("environment", environment(env)) {
        return r;
    }
    let profile_name = env.var("AWS_PROFILE").unwrap_or("default");
    let profile_link = format!("profile {profile_name:?}");
    let outcome = shared_files(env, http)
        .await
        .map_err(|e| CredentialsError::link(profile_link.clone(), e));
    if let Some(r) = take(&profile_link, outcome) {
        return r;
    }
    let outcome = web_identity_from_env(env, http)
        .await
        .map_err(|e| CredentialsError::link("web identity", e));
    if let Some(r) = take("web identity", outcome) {
        return r;
    }
    let outcome = container(env, http)
        .await
        .map_err(|e| CredentialsError::link("container credentials", e));
    if let Some(r) = take("container credentials", outcome) {
        return r;
    }
    let endpoint = imds_endpoint(env);
    let imds_name = format!("IMDSv2 {endpoint}");
    if env
        .var("AWS_EC2_METADATA_DISABLED")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        tried.push((imds_name, "disabled by AWS_EC2_METADATA_DISABLED".into()));
    } else {
        match imds(&endpoint, http).await {
            Ok(c) => return Ok(c),
            // The last resort: its failure is reported like a link that is not there.
            Err(e) => tried.push((imds_name, e.to_string())),
        }
    }
    Err(CredentialsError::NotFound { tried })
}

fn environment(env: &AwsEnv) -> Result<Link, CredentialsError> {
    match (
        env.var("AWS_ACCESS_KEY_ID"),
        env.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => {
            let mut c = Credentials::new_static(id, secret, "environment");
            c.session_token = env.var("AWS_SESSION_TOKEN").map(Secret::new);
            Ok(Link::Found(c))
        }
        (Some(_), None) => Err(CredentialsError::link(
            "environment",
            CredentialsError::Config(
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into(),
            ),
        )),
        (None, Some(_)) => Err(CredentialsError::link(
            "environment",
            CredentialsError::Config(
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".into(),
            ),
        )),
        (None, None) => Ok(Link::NotConfigured("AWS_ACCESS_KEY_ID not set".into())),
    }
}

async fn shared_files(env: &AwsEnv, http: &reqwest::Client) -> Result<Link, CredentialsError> {
    match profile::resolve(env)? {
        Resolved::NotConfigured(reason) => Ok(Link::NotConfigured(reason)),
        Resolved::Plan(plan) => run_plan(plan, env, http).await.map(Link::Found),
    }
}

/// Carries out a profile's plan (recursively for `source_profile` chains).
fn run_plan<'a>(
    plan: Plan,
    env: &'a AwsEnv,
    http: &'a reqwest::Client,
) -> std::pin::Pin<Box<dyn Future<Output = Result<Credentials, CredentialsError>> + Send + 'a>> {
    Box::pin(async move {
        match plan {
            Plan::Static(c) => Ok(c),
            Plan::AssumeRole {
                source,
                role_arn,
                external_id,
                session_name,
                region,
            } => {
                let base = run_plan(*source, env, http).await?;
                let endpoint = sts::endpoint(env, region.as_deref());
                let session_name = session_name.unwrap_or_else(default_session_name);
                let request = AssumeRoleRequest {
                    role_arn: &role_arn,
                    session_name: &session_name,
                    external_id: external_id.as_deref(),
                };
                sts::assume_role(http, &endpoint, &base, request)
                    .await
                    .map_err(|e| CredentialsError::link(format!("sts assume role {role_arn}"), e))
            }
            Plan::WebIdentity {
                role_arn,
                token_file,
                session_name,
                region,
            } => {
                let session_name = session_name.unwrap_or_else(default_session_name);
                web_identity(
                    http,
                    &sts::endpoint(env, region.as_deref()),
                    &role_arn,
                    &token_file,
                    &session_name,
                )
                .await
            }
        }
    })
}

/// `prescale-<unix millis>`, like the SDKs' time-based default session names.
pub(crate) fn default_session_name() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("prescale-{millis}")
}

pub(crate) fn read_token_file(path: &Path, what: &'static str) -> Result<Secret, CredentialsError> {
    let file_err = |message: String| CredentialsError::File {
        what,
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(file_err("the file is empty".into()));
    }
    Ok(Secret::new(token))
}

/// `AssumeRoleWithWebIdentity` with the token read from `token_file` now.
pub(crate) async fn web_identity(
    http: &reqwest::Client,
    endpoint: &sts::StsEndpoint,
    role_arn: &str,
    token_file: &Path,
    session_name: &str,
) -> Result<Credentials, CredentialsError> {
    let token = read_token_file(token_file, "web identity token file")?;
    sts::assume_role_with_web_identity(http, endpoint, role_arn, session_name, &token).await
}

async fn web_identity_from_env(
    env: &AwsEnv,
    http: &reqwest::Client,
) -> Result<Link, CredentialsError> {
    let Some(token_file) = env.var("AWS_WEB_IDENTITY_TOKEN_FILE") else {
        let reason = if env.var("AWS_ROLE_ARN").is_some() {
            "AWS_WEB_IDENTITY_TOKEN_FILE not set (AWS_ROLE_ARN is set)"
        } else {
            "AWS_WEB_IDENTITY_TOKEN_FILE not set"
        };
        return Ok(Link::NotConfigured(reason.into()));
    };
    let Some(role_arn) = env.var("AWS_ROLE_ARN") else {
        return Err(CredentialsError::Config(
            "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not".into(),
        ));
    };
    let session_name = env
        .var("AWS_ROLE_SESSION_NAME")
        .map_or_else(default_session_name, str::to_string);
    web_identity(
        http,
        &sts::endpoint(env, None),
        role_arn,
        &env.expand_home(token_file),
        &session_name,
    )
    .await
    .map(Link::Found)
}

/// The JSON of container credential endpoints and IMDS.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JsonCredentials {
    code: Option<String>,
    message: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
}

fn parse_json_credentials(
    body: &str,
    endpoint: &str,
    provider: &str,
) -> Result<Credentials, CredentialsError> {
    let invalid = |message: String| CredentialsError::InvalidResponse {
        endpoint: endpoint.to_string(),
        message,
    };
    // serde_json's error names line and column, never the content.
    let parsed: JsonCredentials = serde_json::from_str(body)
        .map_err(|e| invalid(format!("not a credentials JSON object: {e}")))?;
    if let Some(code) = parsed.code.as_deref().filter(|c| *c != "Success") {
        return Err(invalid(format!(
            "Code {code:?}: {}",
            parsed.message.as_deref().unwrap_or("(no message)")
        )));
    }
    let field = |value: Option<String>, name: &str| {
        value
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid(format!("no {name} in the response")))
    };
    let access_key_id = field(parsed.access_key_id, "AccessKeyId")?;
    let secret = field(parsed.secret_access_key, "SecretAccessKey")?;
    let expiry = match parsed.expiration.filter(|e| !e.is_empty()) {
        Some(e) => Some(
            crate::time::parse_rfc3339(&e).map_err(|err| invalid(format!("Expiration: {err}")))?,
        ),
        None => None,
    };
    Ok(Credentials {
        access_key_id,
        secret_access_key: Secret::new(secret),
        session_token: parsed.token.filter(|t| !t.is_empty()).map(Secret::new),
        expiry,
        provider: provider.to_string(),
    })
}

/// Whether `AWS_CONTAINER_CREDENTIALS_FULL_URI` may be used: https to any host, or http to
/// a loopback address or the ECS / EKS Pod Identity link-local agents (as the SDKs allow).
fn full_uri_allowed(url: &reqwest::Url) -> Result<(), String> {
    match url.scheme() {
        "https" => return Ok(()),
        "http" => {}
        other => return Err(format!("scheme {other:?} is not http or https")),
    }
    let host = url.host_str().unwrap_or("");
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let allowed = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            ip.is_loopback()
                || ip == Ipv4Addr::new(169, 254, 170, 2)
                || ip == Ipv4Addr::new(169, 254, 170, 23)
        }
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23)
        }
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    if allowed {
        Ok(())
    } else {
        Err(
            "plain http is only allowed to loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23"
                .into(),
        )
    }
}

/// The container credentials URL from the environment, or why there is none.
pub(crate) fn container_url(env: &AwsEnv) -> Result<Option<String>, CredentialsError> {
    if let Some(relative) = env.var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        let sep = if relative.starts_with('/') { "" } else { "/" };
        return Ok(Some(format!("{ECS_HOST}{sep}{relative}")));
    }
    let Some(full) = env.var("AWS_CONTAINER_CREDENTIALS_FULL_URI") else {
        return Ok(None);
    };
    let url = reqwest::Url::parse(full).map_err(|e| {
        CredentialsError::Config(format!("AWS_CONTAINER_CREDENTIALS_FULL_URI={full}: {e}"))
    })?;
    full_uri_allowed(&url).map_err(|reason| {
        CredentialsError::Config(format!(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI={full}: {reason}"
        ))
    })?;
    Ok(Some(full.to_string()))
}

async fn container(env: &AwsEnv, http: &reqwest::Client) -> Result<Link, CredentialsError> {
    let Some(url) = container_url(env)? else {
        return Ok(Link::NotConfigured(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set"
                .into(),
        ));
    };
    let token = match (
        env.var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
        env.var("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
    ) {
        (Some(file), _) => Some(read_token_file(
            &env.expand_home(file),
            "container authorization token file",
        )?),
        (None, Some(token)) => Some(Secret::new(token)),
        (None, None) => None,
    };
    let mut request = http.get(&url).timeout(CONTAINER_TIMEOUT);
    if let Some(token) = &token {
        let mut value = http::HeaderValue::from_str(token.expose()).map_err(|_| {
            CredentialsError::Config(
                "the container authorization token contains characters not allowed in a header"
                    .into(),
            )
        })?;
        value.set_sensitive(true);
        request = request.header(http::header::AUTHORIZATION, value);
    }
    let (status, body) = send(request, &url).await?;
    if !(200..300).contains(&status) {
        return Err(status_error(&url, status, &body));
    }
    parse_json_credentials(&body, &url, "container credentials").map(Link::Found)
}

fn imds_endpoint(env: &AwsEnv) -> String {
    env.var("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .unwrap_or(IMDS_DEFAULT)
        .trim_end_matches('/')
        .to_string()
}

/// IMDSv2: session token, role name, then the role's credentials.
async fn imds(endpoint: &str, http: &reqwest::Client) -> Result<Credentials, CredentialsError> {
    let token_url = format!("{endpoint}/latest/api/token");
    let request = http
        .put(&token_url)
        .header("x-aws-ec2-metadata-token-ttl-seconds", "21600")
        .timeout(IMDS_TOKEN_TIMEOUT);
    let (status, token) = send(request, &token_url).await?;
    if !(200..300).contains(&status) {
        return Err(status_error(&token_url, status, &token));
    }
    let token = token.trim().to_string();
    let mut token_value =
        http::HeaderValue::from_str(&token).map_err(|_| CredentialsError::InvalidResponse {
            endpoint: token_url.clone(),
            message: "the session token is not a valid header value".into(),
        })?;
    token_value.set_sensitive(true);
    let roles_url = format!("{endpoint}/latest/meta-data/iam/security-credentials/");
    let request = http
        .get(&roles_url)
        .header("x-aws-ec2-metadata-token", token_value.clone())
        .timeout(IMDS_TIMEOUT);
    let (status, roles) = send(request, &roles_url).await?;
    if status == 404 {
        return Err(CredentialsError::Config(format!(
            "{roles_url}: no IAM role is attached to this instance"
        )));
    }
    if !(200..300).contains(&status) {
        return Err(status_error(&roles_url, status, &roles));
    }
    let Some(role) = roles.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return Err(CredentialsError::InvalidResponse {
            endpoint: roles_url,
            message: "empty role list".into(),
        });
    };
    if !role
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    {
        return Err(CredentialsError::InvalidResponse {
            endpoint: roles_url,
            message: format!("{role:?} is not an IAM role name"),
        });
    }
    let creds_url = format!("{roles_url}{role}");
    let request = http
        .get(&creds_url)
        .header("x-aws-ec2-metadata-token", token_value)
        .timeout(IMDS_TIMEOUT);
    let (status, body) = send(request, &creds_url).await?;
    if !(200..300).contains(&status) {
        return Err(status_error(&creds_url, status, &body));
    }
    parse_json_credentials(&body, &creds_url, &format!("IMDSv2 role {role}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> AwsEnv {
        AwsEnv::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn container_urls() {
        let u = container_url(&env(&[(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/creds/abc",
        )]));
        assert_eq!(
            u.unwrap().as_deref(),
            Some("http://169.254.170.2/v2/creds/abc")
        );
        assert_eq!(container_url(&env(&[])).unwrap(), None);
        for ok in [
            "http://169.254.170.23/v1/credentials",
            "http://169.254.170.2/creds",
            "http://127.0.0.1:1234/x",
            "http://localhost/x",
            "http://[::1]:80/x",
            "http://[fd00:ec2::23]/v1/credentials",
            "https://creds.example.com/x",
        ] {
            let u = container_url(&env(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok)]));
            assert_eq!(u.unwrap().as_deref(), Some(ok));
        }
        for bad in [
            "http://10.0.0.1/x",
            "http://example.com/x",
            "ftp://127.0.0.1/x",
            "not a url",
            "http://[fd00::1]/x",
        ] {
            let e =
                container_url(&env(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", bad)])).unwrap_err();
            assert!(
                e.to_string().contains("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
                "{e}"
            );
        }
    }

    #[test]
    fn json_credentials_errors_are_clear() {
        let e = parse_json_credentials("{not json", "http://x", "p").unwrap_err();
        assert!(e.to_string().contains("http://x: invalid response"), "{e}");
        let e = parse_json_credentials(r#"{"AccessKeyId":"A"}"#, "http://x", "p").unwrap_err();
        assert!(e.to_string().contains("no SecretAccessKey"), "{e}");
        let e = parse_json_credentials(
            r#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"denied"}"#,
            "http://x",
            "p",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("AssumeRoleUnauthorizedAccess"),
            "{e}"
        );
        let e = parse_json_credentials(
            r#"{"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"tomorrow"}"#,
            "http://x",
            "p",
        )
        .unwrap_err();
        assert!(e.to_string().contains("Expiration"), "{e}");
        let e = parse_json_credentials("[1,2]", "http://x", "p").unwrap_err();
        assert!(e.to_string().contains("invalid response"), "{e}");
    }
}
