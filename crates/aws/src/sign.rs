//! SigV4 header signing through `aws-sigv4`, with the URL checks that keep the signed
//! form of a request equal to the form that is sent.

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};

use crate::Credentials;

/// Why a request could not be signed. Every variant names the offending URL or header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("cannot sign {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// A literal `+` in the query: SigV4 canonicalisation form-decodes the query and so
    /// signs it as a space, while AWS and Prometheus read it differently.
    #[error(
        "cannot sign {url:?}: literal '+' at byte {position} of the query; encode '+' as %2B \
         (and a space as %20), the signer would treat a bare '+' as a space"
    )]
    PlusInQuery { url: String, position: usize },
    /// A byte that HTTP clients percent-encode before sending, so the signed and the sent
    /// URL would differ.
    #[error(
        "cannot sign {url:?}: {found} at byte {position} of the {part} must be percent-encoded \
         (as {encoded}) so that the signed and the sent URL agree"
    )]
    NotEncoded {
        url: String,
        part: &'static str,
        position: usize,
        found: String,
        encoded: String,
    },
    #[error("cannot sign header {name:?}: {reason}")]
    InvalidHeader { name: String, reason: String },
    #[error("cannot sign request to {url:?} (region {region:?}, service {service:?}): {message}")]
    Signing {
        url: String,
        region: String,
        service: String,
        message: String,
    },
}

/// Whether a byte may stand unencoded in the given URL part (RFC 3986 `pchar` and, for
/// the query, `/` and `?`), excluding `+` in the query.
fn allowed_raw(b: u8, in_query: bool) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(b, b'-' | b'.' | b'_' | b'~')
        || matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
        || (b == b'?' && in_query)
        || (b == b'+' && !in_query)
}

/// Checks that the path and query of `url` are in the encoded form described on
/// [`sign`] and returns the parsed URI.
fn check_url(url: &str) -> Result<http::Uri, SignError> {
    let invalid = |reason: String| SignError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    if url.contains('#') {
        return Err(invalid(
            "a URL with a fragment ('#') is not sent as signed".into(),
        ));
    }
    let (before_query, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let path_start = before_query
        .find("://")
        .map(|i| i + 3)
        .and_then(|i| before_query[i..].find('/').map(|j| i + j));
    let path = path_start.map_or("", |i| &before_query[i..]);
    let parts = [("path", path, false), ("query", query.unwrap_or(""), true)];
    for (part, text, in_query) in parts {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'%' {
                let hex_ok = bytes.len() > i + 2
                    && bytes[i + 1].is_ascii_hexdigit()
                    && bytes[i + 2].is_ascii_hexdigit();
                if !hex_ok {
                    return Err(SignError::NotEncoded {
                        url: url.to_string(),
                        part,
                        position: i,
                        found: "'%' not followed by two hex digits".into(),
                        encoded: "%25".into(),
                    });
                }
                i += 3;
                continue;
            }
            if in_query && b == b'+' {
                return Err(SignError::PlusInQuery {
                    url: url.to_string(),
                    position: i,
                });
            }
            if !allowed_raw(b, in_query) {
                // Report the whole character (it may be multi-byte UTF-8).
                let ch = text[i..].chars().next().unwrap_or('\u{FFFD}');
                let mut buf = [0u8; 4];
                let encoded: String = ch
                    .encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect();
                return Err(SignError::NotEncoded {
                    url: url.to_string(),
                    part,
                    position: i,
                    found: format!("{ch:?}"),
                    encoded,
                });
            }
            i += 1;
        }
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => {
            return Err(invalid(
                "an absolute http:// or https:// URL is required".into(),
            ));
        }
    }
    if uri.authority().is_none() {
        return Err(invalid("the URL has no host".into()));
    }
    Ok(uri)
}

/// The `Host` header an HTTP client sends for `uri`: the authority without user info and
/// without the scheme's default port.
fn host_of(uri: &http::Uri) -> String {
    let authority = uri.authority().map_or("", |a| a.as_str());
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default_port = match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    match (uri.port_u16(), default_port) {
        (Some(p), Some(d)) if p == d => authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_string(),
        _ => authority.to_string(),
    }
}

/// Signs a request with AWS Signature Version 4 (signature in headers, SHA-256 of `body`
/// as the payload hash, path normalisation and double path encoding as for every service
/// but S3).
///
/// Adds `x-amz-date`, `authorization` and, when `creds` has a session token,
/// `x-amz-security-token` to `headers` (replacing earlier values of these three). The
/// signed headers are `host` — the `host` entry of `headers` if present, else the URL
/// authority as an HTTP client sends it (default port dropped) — and every other header
/// in `headers`, except the ones `aws-sigv4` never signs (`user-agent`,
/// `x-amzn-trace-id`, `transfer-encoding`, `authorization`). Headers added after
/// signing (e.g. `content-length` by the client) are not signed, which is fine.
///
/// **URL encoding.** `url` must be sent exactly as given, so it must already be
/// percent-encoded the way HTTP clients leave it untouched: in the path and query only
/// RFC 3986 unreserved characters, `%XX` escapes and ``!$&'()*,;=:@/`` (plus `?` in the
/// query and `+` in the path) may appear raw. In particular, in a query, encode `+` as
/// `%2B` and a space as `%20` — never use `+` for a space (as
/// `application/x-www-form-urlencoded` serializers such as `form_urlencoded::Serializer`
/// do): the signer form-decodes the query, so a bare `+` would be signed as a space
/// while a server reads it otherwise (PromQL `a + b` would become `a   b`). Such URLs,
/// and URLs with other bytes a client would re-encode (space, `"`, `{`, `}`, `|`,
/// non-ASCII, …) or a fragment, are rejected with an error instead of producing a
/// signature the server will refuse. Sending a PromQL query as a form-encoded POST body
/// avoids the question: the body is covered by the payload hash as bytes.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    method: &Method,
    url: &str,
    headers: &mut HeaderMap,
    body: &[u8],
    creds: &Credentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<(), SignError> {
    let uri = check_url(url)?;
    for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
        headers.remove(name);
    }
    let host = match headers.get(http::header::HOST) {
        Some(v) => v
            .to_str()
            .map_err(|_| SignError::InvalidHeader {
                name: "host".into(),
                reason: "value is not visible ASCII".into(),
            })?
            .to_string(),
        None => host_of(&uri),
    };
    let mut signable_headers: Vec<(&str, &str)> = vec![("host", host.as_str())];
    for (name, value) in headers.iter() {
        if name == http::header::HOST {
            continue;
        }
        let value = value.to_str().map_err(|_| SignError::InvalidHeader {
            name: name.as_str().to_string(),
            reason: "value is not visible ASCII (SigV4 signs header values as text)".into(),
        })?;
        signable_headers.push((name.as_str(), value));
    }
    let signing_err = |message: String| SignError::Signing {
        url: url.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        message,
    };
    let identity: Identity = aws_credential_types::Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.expose().to_string(),
        creds.session_token.as_ref().map(|t| t.expose().to_string()),
        creds.expiry,
        "prescale",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| signing_err(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        method.as_str(),
        url,
        signable_headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| signing_err(crate::http_util::error_chain(&e)))?;
    let (instructions, _signature) = aws_sigv4::http_request::sign(signable, &params)
        .map_err(|e| signing_err(crate::http_util::error_chain(&e)))?
        .into_parts();
    for (name, value) in instructions.headers() {
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
            signing_err(format!("signer produced invalid header name {name:?}: {e}"))
        })?;
        let mut header_value = HeaderValue::from_str(value)
            .map_err(|e| signing_err(format!("signer produced invalid {name} value: {e}")))?;
        if name == "authorization" || name == "x-amz-security-token" {
            header_value.set_sensitive(true);
        }
        headers.insert(header_name, header_value);
    }
    Ok(())
}

/// Appends `bytes` percent-encoded in SigV4's canonical form: every byte except the RFC 3986 unreserved
/// characters (`A–Z a–z 0–9 - . _ ~`) becomes `%XX` with upper-case hex, so a space is `%20` and a `+` is `%2B`.
/// A query string built from such parameters is its own canonical form: the signer's decode and re-encode is
/// the identity, and every server decodes it the same way (unlike `+` for a space, which form decoders read
/// as a space and RFC 3986 readers as a plus).
pub fn percent_encode_into(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// `s` percent-encoded in SigV4's canonical form (see [`percent_encode_into`]).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    percent_encode_into(&mut out, s.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_checks() {
        assert!(check_url("https://h/p?query=a%2Bb%20c").is_ok());
        assert!(check_url("https://h/a+b?x=1").is_ok());
        assert!(matches!(
            check_url("https://h/p?query=a+b"),
            Err(SignError::PlusInQuery { position: 7, .. })
        ));
        let e = check_url("https://h/p?q=a b").unwrap_err();
        assert!(e.to_string().contains("%20"), "{e}");
        let e = check_url("https://h/p?q={x=\"1\"}").unwrap_err();
        assert!(e.to_string().contains("%7B"), "{e}");
        let e = check_url("https://h/ሴ").unwrap_err();
        assert!(e.to_string().contains("%E1%88%B4"), "{e}");
        assert!(check_url("https://h/p?q=%zz").is_err());
        assert!(check_url("https://h/p?q=%2").is_err());
        assert!(check_url("https://h/p#frag").is_err());
        assert!(check_url("/relative?x=1").is_err());
        assert!(check_url("ftp://h/x").is_err());
    }

    #[test]
    fn host_drops_default_port_and_userinfo() {
        let h = |u: &str| host_of(&u.parse().unwrap());
        assert_eq!(h("https://example.com:443/"), "example.com");
        assert_eq!(h("http://example.com:80/"), "example.com");
        assert_eq!(h("http://127.0.0.1:8080/"), "127.0.0.1:8080");
        assert_eq!(h("https://example.com:80/"), "example.com:80");
        assert_eq!(h("https://user:pw@example.com/"), "example.com");
    }
}
