//! Front-proxy ("requestheader") authentication, as an aggregated API server does it: the kube-apiserver's
//! aggregator connects with a client certificate signed by the requestheader CA and names the user it
//! authenticated in headers (`X-Remote-User`, `X-Remote-Group`, `X-Remote-Extra-*`). The CA and the header names
//! are published in ConfigMap `kube-system/extension-apiserver-authentication`.
//!
//! A request is authenticated when the TLS peer presented a certificate chaining to the requestheader CA (checked
//! at the handshake and again per request against the CA in force then, so a CA swap also applies to open
//! connections), whose subject CN is in `requestheader-allowed-names` (an empty list allows any CN), and a
//! username header is set. Authorization (a SubjectAccessReview for the user) is not done here: the
//! kube-apiserver already authorized the request before proxying it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;

use super::Error;
use super::tls::{client_verifier, subject_common_name};

/// ConfigMap key: the requestheader CA bundle (PEM).
pub const CLIENT_CA_KEY: &str = "requestheader-client-ca-file";
/// ConfigMap key: JSON array of allowed client certificate CNs (empty = any).
pub const ALLOWED_NAMES_KEY: &str = "requestheader-allowed-names";
/// ConfigMap key: JSON array of username header names.
pub const USERNAME_HEADERS_KEY: &str = "requestheader-username-headers";
/// ConfigMap key: JSON array of group header names.
pub const GROUP_HEADERS_KEY: &str = "requestheader-group-headers";
/// ConfigMap key: JSON array of extra header prefixes.
pub const EXTRA_HEADERS_PREFIX_KEY: &str = "requestheader-extra-headers-prefix";

/// Used when the ConfigMap lacks a header key (kube-apiserver always writes them; these are its conventional
/// values). A key present with an empty list is taken as it is.
const DEFAULT_USERNAME_HEADER: &str = "X-Remote-User";
const DEFAULT_GROUP_HEADER: &str = "X-Remote-Group";
const DEFAULT_EXTRA_PREFIX: &str = "X-Remote-Extra-";

/// The requestheader configuration and the verifier built from its CA.
#[derive(Clone)]
pub struct FrontProxyAuth {
    client_ca: Vec<CertificateDer<'static>>,
    allowed_names: Vec<String>,
    username_headers: Vec<HeaderName>,
    group_headers: Vec<HeaderName>,
    /// Lower-case.
    extra_prefixes: Vec<String>,
    verifier: Arc<dyn ClientCertVerifier>,
}

impl fmt::Debug for FrontProxyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrontProxyAuth")
            .field("client_ca_certificates", &self.client_ca.len())
            .field("allowed_names", &self.allowed_names)
            .field("username_headers", &self.username_headers)
            .field("group_headers", &self.group_headers)
            .field("extra_prefixes", &self.extra_prefixes)
            .finish()
    }
}

fn json_list(data: &BTreeMap<String, String>, key: &str) -> Result<Option<Vec<String>>, Error> {
    let Some(raw) = data.get(key) else {
        return Ok(None);
    };
    if raw.trim().is_empty() {
        return Ok(Some(Vec::new()));
    }
    serde_json::from_str::<Vec<String>>(raw)
        .map(Some)
        .map_err(|e| Error::FrontProxyConfig {
            key: key.to_string(),
            reason: format!("not a JSON array of strings: {e}"),
        })
}

fn header_names(key: &str, names: &[String]) -> Result<Vec<HeaderName>, Error> {
    names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .map(|n| {
            HeaderName::from_bytes(n.as_bytes()).map_err(|_| Error::FrontProxyConfig {
                key: key.to_string(),
                reason: format!("{n:?} is not a valid HTTP header name"),
            })
        })
        .collect()
}

impl FrontProxyAuth {
    /// From the `data` of ConfigMap `extension-apiserver-authentication`. `requestheader-client-ca-file` is
    /// required; the header lists default to `X-Remote-User`, `X-Remote-Group` and `X-Remote-Extra-` when their
    /// keys are absent; `requestheader-allowed-names` defaults to empty (any CN). Other keys (`client-ca-file`)
    /// are ignored.
    pub fn from_config_map(data: &BTreeMap<String, String>) -> Result<FrontProxyAuth, Error> {
        let ca = data
            .get(CLIENT_CA_KEY)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::FrontProxyConfig {
                key: CLIENT_CA_KEY.to_string(),
                reason: "missing or empty: front-proxy clients cannot be authenticated".to_string(),
            })?;
        let or = |v: Option<Vec<String>>, d: &str| v.unwrap_or_else(|| vec![d.to_string()]);
        FrontProxyAuth::new(
            ca,
            json_list(data, ALLOWED_NAMES_KEY)?.unwrap_or_default(),
            &or(
                json_list(data, USERNAME_HEADERS_KEY)?,
                DEFAULT_USERNAME_HEADER,
            ),
            &or(json_list(data, GROUP_HEADERS_KEY)?, DEFAULT_GROUP_HEADER),
            &or(
                json_list(data, EXTRA_HEADERS_PREFIX_KEY)?,
                DEFAULT_EXTRA_PREFIX,
            ),
        )
    }

    /// From explicit values: the CA bundle (PEM), allowed CNs, and header names.
    pub fn new(
        client_ca_pem: &str,
        allowed_names: Vec<String>,
        username_headers: &[String],
        group_headers: &[String],
        extra_header_prefixes: &[String],
    ) -> Result<FrontProxyAuth, Error> {
        let bad_ca = |reason: &str| Error::FrontProxyConfig {
            key: CLIENT_CA_KEY.to_string(),
            reason: reason.to_string(),
        };
        let client_ca: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(client_ca_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|_| bad_ca("malformed PEM certificate"))?;
        if client_ca.is_empty() {
            return Err(bad_ca(
                "no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            ));
        }
        let verifier = client_verifier(&client_ca)?;
        Ok(FrontProxyAuth {
            client_ca,
            allowed_names: allowed_names
                .into_iter()
                .filter(|n| !n.is_empty())
                .collect(),
            username_headers: header_names(USERNAME_HEADERS_KEY, username_headers)?,
            group_headers: header_names(GROUP_HEADERS_KEY, group_headers)?,
            extra_prefixes: extra_header_prefixes
                .iter()
                .map(|p| p.trim().to_ascii_lowercase())
                .filter(|p| !p.is_empty())
                .collect(),
            verifier,
        })
    }

    /// The allowed client certificate CNs (empty = any).
    pub fn allowed_names(&self) -> &[String] {
        &self.allowed_names
    }

    /// The username header names, in the order they are tried.
    pub fn username_headers(&self) -> &[HeaderName] {
        &self.username_headers
    }

    pub(crate) fn verifier(&self) -> Arc<dyn ClientCertVerifier> {
        self.verifier.clone()
    }
}

/// How callers of the external metrics API are authenticated.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// Front-proxy authentication (the aggregator's client certificate plus user headers).
    FrontProxy(FrontProxyAuth),
    /// `--insecure-skip-front-proxy-auth`: no client certificate is asked for and every caller is accepted; the
    /// user is read, unverified, from `X-Remote-User` (else `system:anonymous`). For local testing only: anyone
    /// reaching the port can read every ScaledObject's metrics.
    Insecure,
}

/// The caller, as the front proxy named it. Handlers get it as an `axum::Extension<User>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
    /// `X-Remote-Extra-<key>` values, keys lower-case and unescaped.
    pub extra: BTreeMap<String, Vec<String>>,
    /// Whether the front proxy was authenticated (false in insecure mode).
    pub verified: bool,
}

/// Why a request is refused: 401 (not authenticated) or 403 (a front proxy that is not allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denied {
    Unauthorized(String),
    Forbidden(String),
}

fn header_values(headers: &HeaderMap, name: &HeaderName) -> impl Iterator<Item = String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter()
}

/// `%XX` unescaping of an extra key (as Go's `url.PathUnescape`); the raw key when malformed.
fn unescape(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let Some(hex) = bytes.get(i + 1..i + 3) else {
                return key.to_string();
            };
            let Some(b) = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            else {
                return key.to_string();
            };
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| key.to_string())
}

fn user_from_headers(
    headers: &HeaderMap,
    username: &[HeaderName],
    groups: &[HeaderName],
    extra_prefixes: &[String],
) -> Option<User> {
    let name = username
        .iter()
        .flat_map(|h| header_values(headers, h))
        .find(|v| !v.is_empty())?;
    let groups = groups
        .iter()
        .flat_map(|h| header_values(headers, h))
        .collect();
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (h, v) in headers {
        // HeaderName is lower-case already.
        let Some(key) = extra_prefixes
            .iter()
            .find_map(|p| h.as_str().strip_prefix(p.as_str()))
        else {
            continue;
        };
        if key.is_empty() {
            continue;
        }
        if let Ok(v) = v.to_str() {
            extra.entry(unescape(key)).or_default().push(v.to_string());
        }
    }
    Some(User {
        name,
        groups,
        extra,
        verified: false,
    })
}

/// Authenticates one request from the peer's certificate chain (as presented at the handshake) and the
/// request headers.
pub(crate) fn authenticate(
    auth: &ClientAuth,
    chain: Option<&[CertificateDer<'static>]>,
    headers: &HeaderMap,
) -> Result<User, Denied> {
    let fp = match auth {
        ClientAuth::Insecure => {
            let user = user_from_headers(
                headers,
                &[HeaderName::from_static("x-remote-user")],
                &[HeaderName::from_static("x-remote-group")],
                &["x-remote-extra-".to_string()],
            )
            .unwrap_or_else(|| User {
                name: "system:anonymous".to_string(),
                groups: vec!["system:unauthenticated".to_string()],
                ..User::default()
            });
            return Ok(user);
        }
        ClientAuth::FrontProxy(fp) => fp,
    };
    let Some((leaf, intermediates)) = chain.and_then(|c| c.split_first()) else {
        return Err(Denied::Unauthorized(
            "no client certificate presented".to_string(),
        ));
    };
    fp.verifier
        .verify_client_cert(leaf, intermediates, UnixTime::now())
        .map_err(|e| {
            Denied::Unauthorized(format!(
                "client certificate not verified by the requestheader CA: {e}"
            ))
        })?;
    let cn = subject_common_name(leaf.as_ref()).unwrap_or_default();
    if !fp.allowed_names.is_empty() && !fp.allowed_names.contains(&cn) {
        return Err(Denied::Forbidden(format!(
            "client certificate CN {cn:?} is not in {ALLOWED_NAMES_KEY}"
        )));
    }
    let mut user = user_from_headers(
        headers,
        &fp.username_headers,
        &fp.group_headers,
        &fp.extra_prefixes,
    )
    .ok_or_else(|| {
        Denied::Unauthorized(format!(
            "front proxy {cn:?} sent no user (headers {:?})",
            fp.username_headers
        ))
    })?;
    user.verified = true;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ca_pem() -> String {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn config_map_is_read() {
        let mut data = BTreeMap::new();
        data.insert(CLIENT_CA_KEY.to_string(), ca_pem());
        data.insert(
            ALLOWED_NAMES_KEY.to_string(),
            r#"["front-proxy-client"]"#.to_string(),
        );
        data.insert(
            USERNAME_HEADERS_KEY.to_string(),
            r#"["X-Remote-User"]"#.to_string(),
        );
        data.insert(GROUP_HEADERS_KEY.to_string(), "[]".to_string());
        let fp = FrontProxyAuth::from_config_map(&data).unwrap();
        assert_eq!(fp.allowed_names(), ["front-proxy-client"]);
        assert_eq!(fp.username_headers()[0].as_str(), "x-remote-user");
        assert!(fp.group_headers.is_empty());
        // Absent key: the conventional default.
        assert_eq!(fp.extra_prefixes, ["x-remote-extra-"]);
    }

    #[test]
    fn config_map_errors_name_the_key() {
        let mut data = BTreeMap::new();
        let e = FrontProxyAuth::from_config_map(&data).unwrap_err();
        assert!(e.to_string().contains(CLIENT_CA_KEY), "{e}");
        data.insert(CLIENT_CA_KEY.to_string(), "garbage".to_string());
        let e = FrontProxyAuth::from_config_map(&data).unwrap_err();
        assert!(e.to_string().contains(CLIENT_CA_KEY), "{e}");
        data.insert(CLIENT_CA_KEY.to_string(), ca_pem());
        data.insert(ALLOWED_NAMES_KEY.to_string(), "front-proxy".to_string());
        let e = FrontProxyAuth::from_config_map(&data).unwrap_err();
        assert!(e.to_string().contains(ALLOWED_NAMES_KEY), "{e}");
        data.remove(ALLOWED_NAMES_KEY);
        data.insert(
            USERNAME_HEADERS_KEY.to_string(),
            r#"["bad header"]"#.to_string(),
        );
        let e = FrontProxyAuth::from_config_map(&data).unwrap_err();
        assert!(e.to_string().contains(USERNAME_HEADERS_KEY), "{e}");
    }

    #[test]
    fn user_groups_and_extra_come_from_headers() {
        let mut h = HeaderMap::new();
        h.append("x-remote-user", HeaderValue::from_static(""));
        h.append("x-user", HeaderValue::from_static("alice"));
        h.append("x-remote-group", HeaderValue::from_static("a"));
        h.append("x-remote-group", HeaderValue::from_static("b"));
        h.append("x-remote-extra-scopes%2fx", HeaderValue::from_static("s1"));
        let u = user_from_headers(
            &h,
            &[
                HeaderName::from_static("x-remote-user"),
                HeaderName::from_static("x-user"),
            ],
            &[HeaderName::from_static("x-remote-group")],
            &["x-remote-extra-".to_string()],
        )
        .unwrap();
        // An empty first header falls through to the next.
        assert_eq!(u.name, "alice");
        assert_eq!(u.groups, ["a", "b"]);
        assert_eq!(u.extra["scopes/x"], ["s1"]);
    }

    #[test]
    fn front_proxy_mode_needs_a_certificate() {
        let fp = FrontProxyAuth::new(&ca_pem(), vec![], &["X-Remote-User".to_string()], &[], &[])
            .unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-remote-user", HeaderValue::from_static("bob"));
        let d = authenticate(&ClientAuth::FrontProxy(fp), None, &h).unwrap_err();
        assert!(matches!(d, Denied::Unauthorized(_)));
        let u = authenticate(&ClientAuth::Insecure, None, &h).unwrap();
        assert_eq!(u.name, "bob");
        assert!(!u.verified);
        let u = authenticate(&ClientAuth::Insecure, None, &HeaderMap::new()).unwrap();
        assert_eq!(u.name, "system:anonymous");
    }
}
