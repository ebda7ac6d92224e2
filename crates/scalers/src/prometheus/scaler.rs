//! [`PrometheusScaler`]: the Prometheus trigger over HTTP (`NewPrometheusScaler` and `ExecutePromQuery`).
//!
//! One blocking `reqwest` client per trigger, built once with the trigger's `timeout` (KEDA's default
//! `KEDA_HTTP_DEFAULT_TIMEOUT`, 3 s, when unset). Each evaluation sends the [`request::build`] GET with the
//! `customHeaders` (added, so a name may repeat) and then the auth header of the first enabled mode among
//! bearer, basic and custom (set, so it replaces a custom header of the same name), as KEDA does; the answer
//! is read by [`response::interpret`].
//!
//! Not implemented yet, and refused at construction rather than sending something KEDA would not:
//! AWS SigV4 signing (an unsigned request would go to a server expecting a signed one), the `tls` auth mode
//! and a `ca` with auth modes (client certificates, custom CAs), and `https` server addresses (this build has
//! no TLS backend, so `unsafeSsl` has nothing to act on).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use prescale_core::keda::trigger::TargetType;
use prescale_core::spec::{MetricTargetType, ScaleTrigger};
use reqwest::blocking::Client;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use super::metadata::{self, AuthMode, PodIdentity, PrometheusMetadata, TriggerInput};
use super::{request, response};
use crate::error::{Error, Result};
use crate::scaler::{Evaluation, Scaler};

/// KEDA's `KEDA_HTTP_DEFAULT_TIMEOUT` default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(3000);

/// A Prometheus trigger ready to query its server.
#[derive(Debug)]
pub struct PrometheusScaler {
    meta: PrometheusMetadata,
    client: Client,
    /// Custom headers, then the auth header; built once.
    headers: HeaderMap,
}

impl PrometheusScaler {
    /// Parses trigger `index` (metadata, `metricType`, resolved authentication parameters, pod identity
    /// provider) as KEDA does and builds the scaler.
    pub fn new(
        index: usize,
        trigger: &ScaleTrigger,
        auth_params: &BTreeMap<String, String>,
        pod_identity: Option<&str>,
    ) -> Result<Self> {
        let meta = metadata::parse_trigger(&TriggerInput {
            trigger_index: index,
            metadata: &trigger.metadata,
            auth_params,
            resolved_env: &BTreeMap::new(),
            pod_identity: pod_identity.map(PodIdentity::provider),
            metric_type: trigger.metric_type.as_ref(),
        })?;
        Self::from_metadata(meta)
    }

    /// Builds the scaler from parsed metadata. Fails for what cannot be sent faithfully yet (see the module
    /// documentation).
    pub fn from_metadata(meta: PrometheusMetadata) -> Result<Self> {
        let index = meta.trigger_index;
        if meta.auth.aws.is_some() {
            return Err(Error::Config(format!(
                "trigger {index}: this trigger selects AWS SigV4 signing (no authModes, with identityOwner, \
                 an AWS role or AWS keys): SigV4 signing is not implemented yet, and an unsigned request \
                 is not sent instead"
            )));
        }
        if meta.auth.enabled(AuthMode::Tls) {
            return Err(Error::Config(format!(
                "trigger {index}: auth mode \"tls\" (client certificates) is not supported yet"
            )));
        }
        if !meta.auth.disabled() && meta.auth.ca.is_some() {
            return Err(Error::Config(format!(
                "trigger {index}: a custom CA (\"ca\") is not supported yet"
            )));
        }
        if meta
            .server_address
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            return Err(Error::Config(format!(
                "trigger {index}: serverAddress {:?}: https is not supported yet (this build has no TLS \
                 support); use an http:// address",
                meta.server_address
            )));
        }
        let headers = headers(&meta)?;
        let client = Client::builder()
            .timeout(meta.timeout.unwrap_or(DEFAULT_TIMEOUT))
            .user_agent(concat!("prescale/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::Transport(format!("cannot build the HTTP client: {}", chain(&e)))
            })?;
        Ok(PrometheusScaler {
            meta,
            client,
            headers,
        })
    }

    /// The parsed trigger.
    pub fn metadata(&self) -> &PrometheusMetadata {
        &self.meta
    }

    /// The request timeout in use.
    pub fn timeout(&self) -> Duration {
        self.meta.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }
}

/// Custom headers (appended, in order), then the auth header (replacing any header of that name).
fn headers(meta: &PrometheusMetadata) -> Result<HeaderMap> {
    let index = meta.trigger_index;
    let name = |n: &str| {
        HeaderName::from_bytes(n.as_bytes())
            .map_err(|_| Error::Config(format!("trigger {index}: invalid HTTP header name {n:?}")))
    };
    let value = |n: &str, v: &str, secret: bool| {
        let mut hv = HeaderValue::from_str(v).map_err(|_| {
            Error::Config(format!(
                "trigger {index}: invalid value for HTTP header {n:?}"
            ))
        })?;
        hv.set_sensitive(secret);
        Ok::<_, Error>(hv)
    };
    let mut map = HeaderMap::new();
    for (n, v) in &meta.custom_headers {
        map.append(name(n)?, value(n, v, false)?);
    }
    let auth = &meta.auth;
    if auth.enabled(AuthMode::Bearer) {
        if let Some(token) = &auth.bearer_token {
            let v = format!("Bearer {}", token.expose());
            map.insert(AUTHORIZATION, value("Authorization", &v, true)?);
        }
    } else if auth.enabled(AuthMode::Basic) {
        let user = auth.username.as_deref().unwrap_or("");
        let pass = auth.password.as_ref().map_or("", |p| p.expose());
        let v = format!("Basic {}", base64(format!("{user}:{pass}").as_bytes()));
        map.insert(AUTHORIZATION, value("Authorization", &v, true)?);
    } else if auth.enabled(AuthMode::Custom)
        && let (Some(h), Some(v)) = (&auth.custom_header, &auth.custom_value)
    {
        map.insert(name(h)?, value(h, v.expose(), true)?);
    }
    Ok(map)
}

/// Standard base64 with padding (RFC 4648 §4), as Go's `SetBasicAuth` uses.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An error with its sources, `outer: inner: …` (reqwest's own text omits the cause).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(out, ": {s}");
        source = s.source();
    }
    out
}

impl Scaler for PrometheusScaler {
    fn metric_name(&self) -> String {
        self.meta.metric_name()
    }

    fn target_type(&self) -> TargetType {
        match self.meta.metric_type {
            MetricTargetType::Value => TargetType::Value,
            _ => TargetType::AverageValue,
        }
    }

    fn target_value(&self) -> f64 {
        self.meta.threshold
    }

    fn activation_threshold(&self) -> f64 {
        self.meta.activation_threshold
    }

    fn describe(&self) -> Vec<(&'static str, String)> {
        vec![
            ("serverAddress", self.meta.server_address.clone()),
            ("query", self.meta.query.clone()),
        ]
    }

    fn evaluate(&self, now: SystemTime) -> Result<Evaluation> {
        let m = &self.meta;
        let req = request::build(
            &m.server_address,
            &m.query,
            now,
            m.namespace.as_deref(),
            &m.query_parameters,
            &[],
        );
        let resp = self
            .client
            .get(&req.url)
            .headers(self.headers.clone())
            .send()
            .map_err(|e| Error::Transport(chain(&e)))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().map_err(|e| {
            Error::Transport(format!("reading the answer to {}: {}", req.url, chain(&e)))
        })?;
        let value = response::interpret(status, &body, m.ignore_null_values)?;
        Ok(Evaluation {
            value,
            active: value > m.activation_threshold,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("user:p@ss", "dXNlcjpwQHNz"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
        }
    }
}
