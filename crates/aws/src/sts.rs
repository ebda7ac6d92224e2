//! STS `AssumeRole` (SigV4-signed) and `AssumeRoleWithWebIdentity` (unsigned) calls.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue, Method};

use crate::http_util::{self, send};
use crate::{AwsEnv, Credentials, CredentialsError, Secret, xml};

const STS_TIMEOUT: Duration = Duration::from_secs(10);
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Where STS requests go and the region they are signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StsEndpoint {
    /// Base URL ending in `/`.
    pub url: String,
    pub signing_region: String,
}

/// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the regional endpoint of
/// `region` (falling back to `AWS_REGION`, `AWS_DEFAULT_REGION`), else the global one.
pub(crate) fn endpoint(env: &AwsEnv, region: Option<&str>) -> StsEndpoint {
    let region = region.filter(|r| !r.is_empty()).or_else(|| env.region());
    let signing_region = region.unwrap_or("us-east-1").to_string();
    let url = match env
        .var("AWS_ENDPOINT_URL_STS")
        .or_else(|| env.var("AWS_ENDPOINT_URL"))
    {
        Some(url) => url.to_string(),
        None => match region {
            Some(r) if r.starts_with("cn-") => format!("https://sts.{r}.amazonaws.com.cn"),
            Some(r) => format!("https://sts.{r}.amazonaws.com"),
            None => "https://sts.amazonaws.com".to_string(),
        },
    };
    let url = if url.ends_with('/') {
        url
    } else {
        format!("{url}/")
    };
    StsEndpoint {
        url,
        signing_region,
    }
}

pub(crate) struct AssumeRoleRequest<'a> {
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub external_id: Option<&'a str>,
}

/// `AssumeRole` signed with `base`.
pub(crate) async fn assume_role(
    http: &reqwest::Client,
    sts: &StsEndpoint,
    base: &Credentials,
    req: AssumeRoleRequest<'_>,
) -> Result<Credentials, CredentialsError> {
    let body = {
        // The serializer is not Send; keep it out of the awaits below.
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("Action", "AssumeRole")
            .append_pair("Version", "2011-06-15")
            .append_pair("RoleArn", req.role_arn)
            .append_pair("RoleSessionName", req.session_name);
        if let Some(id) = req.external_id {
            form.append_pair("ExternalId", id);
        }
        form.finish().into_bytes()
    };
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(FORM));
    crate::sign(
        &Method::POST,
        &sts.url,
        &mut headers,
        &body,
        base,
        &sts.signing_region,
        "sts",
        SystemTime::now(),
    )
    .map_err(|source| CredentialsError::Sign {
        endpoint: sts.url.clone(),
        source: Box::new(source),
    })?;
    let request = http
        .post(&sts.url)
        .headers(headers)
        .body(body)
        .timeout(STS_TIMEOUT);
    let (status, text) = send(request, &sts.url).await?;
    parse_response(
        &text,
        status,
        &sts.url,
        "AssumeRole",
        format!("sts assume role {}", req.role_arn),
    )
}

/// `AssumeRoleWithWebIdentity`; unsigned, the token authenticates the call.
pub(crate) async fn assume_role_with_web_identity(
    http: &reqwest::Client,
    sts: &StsEndpoint,
    role_arn: &str,
    session_name: &str,
    token: &Secret,
) -> Result<Credentials, CredentialsError> {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "AssumeRoleWithWebIdentity")
        .append_pair("Version", "2011-06-15")
        .append_pair("RoleArn", role_arn)
        .append_pair("RoleSessionName", session_name)
        .append_pair("WebIdentityToken", token.expose())
        .finish();
    let request = http
        .post(&sts.url)
        .header(http::header::CONTENT_TYPE, FORM)
        .body(body)
        .timeout(STS_TIMEOUT);
    let (status, text) = send(request, &sts.url).await?;
    parse_response(
        &text,
        status,
        &sts.url,
        "AssumeRoleWithWebIdentity",
        format!("web identity {role_arn}"),
    )
}

/// Reads the credentials out of an STS response, or the STS error out of an error response.
pub(crate) fn parse_response(
    body: &str,
    status: u16,
    endpoint: &str,
    action: &'static str,
    provider: String,
) -> Result<Credentials, CredentialsError> {
    let invalid = |message: String| CredentialsError::InvalidResponse {
        endpoint: endpoint.to_string(),
        message: format!("{action}: {message}"),
    };
    if !(200..300).contains(&status) {
        let error = xml::element(body, "Error").ok().flatten();
        let code = error.and_then(|e| xml::leaf_text(e, "Code").ok().flatten());
        let message = error.and_then(|e| xml::leaf_text(e, "Message").ok().flatten());
        return Err(match (code, message) {
            (Some(code), message) => CredentialsError::Sts {
                endpoint: endpoint.to_string(),
                action,
                status,
                code,
                message: message.unwrap_or_else(|| "(no message)".into()),
            },
            (None, _) => http_util::status_error(endpoint, status, body),
        });
    }
    let creds = xml::element(body, "Credentials")
        .map_err(invalid)?
        .ok_or_else(|| invalid("no <Credentials> element in the response".into()))?;
    let leaf = |name: &str| -> Result<String, CredentialsError> {
        xml::leaf_text(creds, name)
            .map_err(&invalid)?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(format!("no <{name}> in <Credentials>")))
    };
    let access_key_id = leaf("AccessKeyId")?;
    let secret = leaf("SecretAccessKey")?;
    let token = leaf("SessionToken")?;
    let expiration = leaf("Expiration")?;
    let expiry = crate::time::parse_rfc3339(&expiration)
        .map_err(|e| invalid(format!("<Expiration>: {e}")))?;
    Ok(Credentials {
        access_key_id,
        secret_access_key: Secret::new(secret),
        session_token: Some(Secret::new(token)),
        expiry: Some(expiry),
        provider,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> AwsEnv {
        AwsEnv::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn endpoint_resolution_order() {
        let e = endpoint(&env(&[]), None);
        assert_eq!(e.url, "https://sts.amazonaws.com/");
        assert_eq!(e.signing_region, "us-east-1");
        let e = endpoint(&env(&[("AWS_DEFAULT_REGION", "eu-west-1")]), None);
        assert_eq!(e.url, "https://sts.eu-west-1.amazonaws.com/");
        let e = endpoint(
            &env(&[
                ("AWS_DEFAULT_REGION", "eu-west-1"),
                ("AWS_REGION", "us-west-2"),
            ]),
            None,
        );
        assert_eq!(e.url, "https://sts.us-west-2.amazonaws.com/");
        let e = endpoint(&env(&[("AWS_REGION", "us-west-2")]), Some("ap-south-1"));
        assert_eq!(e.url, "https://sts.ap-south-1.amazonaws.com/");
        assert_eq!(e.signing_region, "ap-south-1");
        let e = endpoint(&env(&[]), Some("cn-north-1"));
        assert_eq!(e.url, "https://sts.cn-north-1.amazonaws.com.cn/");
        let e = endpoint(
            &env(&[
                ("AWS_ENDPOINT_URL", "http://generic:1"),
                ("AWS_REGION", "us-west-2"),
            ]),
            None,
        );
        assert_eq!(e.url, "http://generic:1/");
        assert_eq!(e.signing_region, "us-west-2");
        let e = endpoint(
            &env(&[
                ("AWS_ENDPOINT_URL", "http://generic:1"),
                ("AWS_ENDPOINT_URL_STS", "http://sts:2/"),
            ]),
            None,
        );
        assert_eq!(e.url, "http://sts:2/");
    }
}
