//! Sending the credential requests and turning failures into [`CredentialsError`]s.

use crate::CredentialsError;

/// At most this many bytes of an unexpected response body go into an error.
const BODY_IN_ERROR: usize = 300;

/// The reqwest error with its causes (e.g. "error sending request: client error
/// (Connect): tcp connect error: Connection refused"), without the URL (the caller
/// names the endpoint).
pub(crate) fn describe(e: reqwest::Error) -> String {
    let timeout = e.is_timeout();
    let e = e.without_url();
    let mut s = error_chain(&e);
    if timeout && !s.contains("timed out") {
        s.push_str(" (timed out)");
    }
    s
}

/// Sends the request and reads the whole body as text.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    endpoint: &str,
) -> Result<(u16, String), CredentialsError> {
    let http_err = |message: String| CredentialsError::Http {
        endpoint: endpoint.to_string(),
        message,
    };
    let response = request.send().await.map_err(|e| http_err(describe(e)))?;
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| http_err(format!("reading the response body: {}", describe(e))))?;
    let text =
        String::from_utf8(bytes.to_vec()).map_err(|_| CredentialsError::InvalidResponse {
            endpoint: endpoint.to_string(),
            message: format!("HTTP {status} with a body that is not UTF-8"),
        })?;
    Ok((status, text))
}

/// A shortened, single-line version of an error body.
pub(crate) fn snippet(body: &str) -> String {
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.len() <= BODY_IN_ERROR {
        return flat.to_string();
    }
    let mut end = BODY_IN_ERROR;
    while !flat.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &flat[..end])
}

pub(crate) fn status_error(endpoint: &str, status: u16, body: &str) -> CredentialsError {
    CredentialsError::Status {
        endpoint: endpoint.to_string(),
        status,
        body: snippet(body),
    }
}

/// An error with its sources, `outer: inner: …`, skipping a source whose text the message already contains
/// (reqwest's and hyper's errors often repeat their cause). The one formatter of error chains in prescale.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}
