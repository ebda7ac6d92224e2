//! aws-sigv4-proxy's flag values turned into typed configuration (parsed once, at the edge).

use axum::http::{HeaderName, HeaderValue};
use prescale_aws::{AwsEnv, CredentialsProvider};

/// `--strip` header names. An invalid name is an error naming the flag and the value.
pub fn strip_headers(names: &[String]) -> Result<Vec<HeaderName>, String> {
    names.iter().map(|n| header_name("--strip", n)).collect()
}

/// `--custom-headers k=v,k2=v2`: items split at the first `=`, trimmed; empty items skipped.
pub fn custom_headers(spec: &str) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    let mut headers = Vec::new();
    for item in spec.split(',').filter(|s| !s.trim().is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("--custom-headers: {item:?} is not k=v"))?;
        let value = HeaderValue::from_str(v.trim())
            .map_err(|_| format!("--custom-headers: invalid value for {:?}", k.trim()))?;
        headers.push((header_name("--custom-headers", k)?, value));
    }
    Ok(headers)
}

fn header_name(flag: &str, n: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(n.trim().as_bytes())
        .map_err(|_| format!("{flag}: {n:?} is not a valid header name"))
}

/// The STS session name for `--role-arn`: `AWS_ROLE_SESSION_NAME`, else `prescale-sigv4-proxy-<hostname>`
/// (`HOSTNAME`, else `hostname_file`'s content), reduced to the characters STS accepts and cut to 64.
pub fn session_name(env: &AwsEnv, hostname_file: Option<&str>) -> String {
    if let Some(n) = env.var("AWS_ROLE_SESSION_NAME") {
        return n.to_string();
    }
    let host = env.var("HOSTNAME").or(hostname_file).unwrap_or_default();
    let mut name = format!("prescale-sigv4-proxy-{}", host.trim());
    name.retain(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(c));
    name.truncate(64);
    name
}

/// The proxy's credentials: the default chain, with `role_arn` assumed on top through STS when given.
pub fn credentials(
    env: &AwsEnv,
    http: &reqwest::Client,
    role_arn: Option<&str>,
    region: Option<String>,
    hostname_file: Option<&str>,
) -> CredentialsProvider {
    let base = CredentialsProvider::default_chain(env.clone(), http.clone());
    match role_arn {
        Some(role) => CredentialsProvider::assume_role(
            base,
            role.to_string(),
            None,
            session_name(env, hostname_file),
            region,
            env.clone(),
            http.clone(),
        ),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> AwsEnv {
        AwsEnv::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn header_flags() {
        let h = custom_headers(" X-A = 1 ,,X-B=two=2").unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!((h[0].0.as_str(), h[0].1.to_str().unwrap()), ("x-a", "1"));
        assert_eq!(
            (h[1].0.as_str(), h[1].1.to_str().unwrap()),
            ("x-b", "two=2")
        );
        assert_eq!(
            custom_headers("novalue").unwrap_err(),
            "--custom-headers: \"novalue\" is not k=v"
        );
        assert_eq!(
            custom_headers("bad name=1").unwrap_err(),
            "--custom-headers: \"bad name\" is not a valid header name"
        );
        assert_eq!(
            custom_headers("X-A=a\nb").unwrap_err(),
            "--custom-headers: invalid value for \"X-A\""
        );
        assert_eq!(
            strip_headers(&["Authorization".to_string()]).unwrap()[0].as_str(),
            "authorization"
        );
        assert_eq!(
            strip_headers(&["a:b".to_string()]).unwrap_err(),
            "--strip: \"a:b\" is not a valid header name"
        );
    }

    #[test]
    fn session_names() {
        assert_eq!(
            session_name(&env(&[("AWS_ROLE_SESSION_NAME", "mine")]), None),
            "mine"
        );
        assert_eq!(
            session_name(&env(&[("HOSTNAME", "keda-sigv4-7d9f")]), Some("ignored")),
            "prescale-sigv4-proxy-keda-sigv4-7d9f"
        );
        assert_eq!(
            session_name(&env(&[]), Some("node 1\n")),
            "prescale-sigv4-proxy-node1"
        );
        let long = "h".repeat(100);
        assert_eq!(session_name(&env(&[("HOSTNAME", &long)]), None).len(), 64);
    }
}
