//! [`PrometheusScaler`]: the Prometheus trigger over HTTP (`NewPrometheusScaler` and `ExecutePromQuery`).
//!
//! The scaler takes its `reqwest` client from the [`ScalerContext`]'s shared pool (one client per TLS
//! configuration, so triggers on one server share keep-alive connections). Each evaluation sends the
//! [`request::build`] GET, bounded by the trigger's `timeout` (KEDA's default `KEDA_HTTP_DEFAULT_TIMEOUT`,
//! 3 s, when unset), with the `customHeaders` (added, so a name may repeat) and then the auth header of the
//! first enabled mode among bearer, basic and custom (set, so it replaces a custom header of the same name),
//! as KEDA does; the answer is read by [`response::interpret`].
//!
//! TLS, as KEDA's transports: `unsafeSsl` skips server verification; with `authModes` set, `ca` adds a
//! trusted root and the `tls` mode presents the `cert`/`key` client certificate. As in KEDA, a `ca` without
//! `authModes` is not applied (keda.md §3.1).
//!
//! Not implemented yet, and refused at construction rather than sending something KEDA would not: AWS SigV4
//! signing (an unsigned request would go to a server expecting a signed one).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use prescale_core::keda::trigger::TargetType;
use prescale_core::spec::{MetricTargetType, ScaleTrigger};
use reqwest::Client;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use super::metadata::{self, AuthMode, PodIdentity, PrometheusMetadata, TriggerInput};
use super::{request, response};
use crate::error::{Error, Result, chain};
use crate::http::TlsConfig;
use crate::scaler::{BoxFuture, Evaluation, Scaler, ScalerContext, TriggerAuth};

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
    /// Parses trigger `index` (metadata, `metricType`, resolved authentication) as KEDA does and builds the
    /// scaler on `ctx`'s shared clients.
    pub fn new(
        ctx: &ScalerContext,
        index: usize,
        trigger: &ScaleTrigger,
        auth: TriggerAuth<'_>,
    ) -> Result<Self> {
        let empty = BTreeMap::new();
        let meta = metadata::parse_trigger(&TriggerInput {
            trigger_index: index,
            metadata: &trigger.metadata,
            auth_params: auth.params.unwrap_or(&empty),
            resolved_env: auth.resolved_env.unwrap_or(&empty),
            pod_identity: auth.pod_identity.map(PodIdentity::from_spec),
            metric_type: trigger.metric_type.as_ref(),
        })?;
        Self::from_metadata(ctx, meta)
    }

    /// Builds the scaler from parsed metadata. Fails for what cannot be sent faithfully yet (see the module
    /// documentation) and for unusable TLS material.
    pub fn from_metadata(ctx: &ScalerContext, meta: PrometheusMetadata) -> Result<Self> {
        let index = meta.trigger_index;
        if meta.auth.aws.is_some() {
            return Err(Error::Config(format!(
                "trigger {index}: this trigger selects AWS SigV4 signing (no authModes, with identityOwner, \
                 an AWS role or AWS keys): SigV4 signing is not implemented yet, and an unsigned request \
                 is not sent instead"
            )));
        }
        let tls = tls_config(&meta);
        let client = ctx.http().client(&tls, &format!("trigger {index}"))?;
        let headers = headers(&meta)?;
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

    async fn query(&self, now: SystemTime) -> Result<Evaluation> {
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
            .timeout(self.timeout())
            .send()
            .await
            .map_err(|e| Error::Transport(chain(&e)))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| {
            Error::Transport(format!("reading the answer to {}: {}", req.url, chain(&e)))
        })?;
        let value = response::interpret(status, &body, m.ignore_null_values)?;
        Ok(Evaluation {
            value,
            active: value > m.activation_threshold,
        })
    }
}

/// The TLS settings KEDA's transport would use for this trigger.
fn tls_config(meta: &PrometheusMetadata) -> TlsConfig {
    let auth = &meta.auth;
    let modes = !auth.disabled();
    TlsConfig {
        insecure_skip_verify: meta.unsafe_ssl,
        // KEDA builds its TLS round tripper only when authModes is set (then with `ca` and, for the `tls`
        // mode, the client certificate).
        ca_pem: auth.ca.clone().filter(|_| modes),
        client_cert: match (&auth.cert, &auth.key) {
            (Some(c), Some(k)) if auth.enabled(AuthMode::Tls) => {
                Some((c.clone(), k.expose().to_string()))
            }
            _ => None,
        },
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

impl Scaler for PrometheusScaler {
    fn kind(&self) -> &'static str {
        "prometheus"
    }

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

    fn evaluate(&self, now: SystemTime) -> BoxFuture<'_, Result<Evaluation>> {
        Box::pin(self.query(now))
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
