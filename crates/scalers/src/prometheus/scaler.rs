//! [`PrometheusScaler`]: the Prometheus trigger over HTTP (`NewPrometheusScaler` and `ExecutePromQuery`).
//!
//! The scaler takes its `reqwest` client from the [`ScalerContext`]'s shared pool (one client per TLS
//! configuration, so triggers on one server share keep-alive connections). Each evaluation sends the
//! query GET ([`QueryUrl`], encoded once per trigger), bounded by the trigger's `timeout` (KEDA's default `KEDA_HTTP_DEFAULT_TIMEOUT`,
//! 3 s, when unset), with the `customHeaders` (added, so a name may repeat) and then the auth header of the
//! first enabled mode among bearer, basic and custom (set, so it replaces a custom header of the same name),
//! as KEDA does; the answer is read by [`response::interpret`]. [`PrometheusScaler::query_range`] sends the
//! trigger's query over a time range (`/api/v1/query_range`, see [`range`]) through the same code: same
//! headers, TLS client, timeout and SigV4 signing.
//!
//! TLS, as KEDA's transports: `unsafeSsl` skips server verification; with `authModes` set, `ca` adds a
//! trusted root and the `tls` mode presents the `cert`/`key` client certificate. As in KEDA, a `ca` without
//! `authModes` is not applied (keda.md §3.1).
//!
//! **AWS SigV4** (Amazon Managed Service for Prometheus): when the trigger selects it as KEDA does (no
//! `authModes`, and `podIdentity.provider: aws`, `awsRoleArn`, AWS keys or `identityOwner: operator`), every
//! query is signed for service `aps` with credentials from the [`ScalerContext`]'s shared providers. The region
//! is `awsRegion`, else the `aps-workspaces.<region>` host, else `AWS_REGION`/`AWS_DEFAULT_REGION`.
//! Differences from KEDA, all refusing to send an unsigned request where KEDA silently would (keda.md "gaps"):
//! - AWS settings that do not add up to credentials (`awsRegion` alone, a key id without its secret) are an
//!   error at construction, naming them;
//! - an `aps-workspaces` server address with no AWS settings at all is an error at construction (AMP answers
//!   unsigned queries with 403);
//! - credentials that cannot be resolved when a query is due fail that evaluation with the chain's account of
//!   every source it tried ([`Error::Credentials`]);
//! - no region from anywhere is an error (KEDA signs with an empty region, which AMP rejects).
//!
//! KEDA's SigV4 transport ignores `unsafeSsl`; prescale honours it on every transport.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use prescale_aws::CredentialsProvider;
use prescale_core::keda::trigger::TargetType;
use prescale_core::spec::{MetricTargetType, ScaleTrigger};
use reqwest::Client;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use super::metadata::{self, AuthMode, PodIdentity, PrometheusMetadata, TriggerInput};
use super::range::{self, RangePlan, RangeSeries};
use super::request::{self, QueryUrl, RangeQueryUrl};
use super::response;
use crate::error::{Error, Result, chain};
use crate::http::TlsConfig;
use crate::scaler::{BoxFuture, Evaluation, HistoryFuture, Scaler, ScalerContext, TriggerAuth};

/// KEDA's `KEDA_HTTP_DEFAULT_TIMEOUT` default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(3000);

/// The SigV4 service name of Amazon Managed Service for Prometheus.
pub const AMP_SERVICE: &str = "aps";

/// A Prometheus trigger ready to query its server.
#[derive(Debug)]
pub struct PrometheusScaler {
    meta: PrometheusMetadata,
    client: Client,
    /// Custom headers, then the auth header; built once.
    headers: HeaderMap,
    /// The query URL, encoded once.
    url: QueryUrl,
    sigv4: Option<SigV4>,
}

/// How to sign this trigger's queries.
#[derive(Debug)]
struct SigV4 {
    credentials: CredentialsProvider,
    region: String,
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
        let sigv4 = sigv4(ctx, &meta)?;
        let tls = tls_config(&meta);
        let client = ctx.http().client(&tls, &format!("trigger {index}"))?;
        let headers = headers(&meta)?;
        let url = QueryUrl::new(
            &meta.server_address,
            &meta.query,
            meta.namespace.as_deref(),
            &meta.query_parameters,
        );
        let scaler = PrometheusScaler {
            meta,
            client,
            headers,
            url,
            sigv4,
        };
        if let Some(sig) = &scaler.sigv4 {
            // A URL the signer cannot sign faithfully (a raw space or '{' in serverAddress, a fragment, …)
            // is a configuration error: report it now, once, rather than on every poll. Probe credentials:
            // nothing is sent.
            let probe = prescale_aws::Credentials::new_static("AKIDPROBE", "probe", "probe");
            scaler.sign(
                &mut scaler.headers.clone(),
                &sig.region,
                &probe,
                &scaler.url.at(SystemTime::now()),
            )?;
        }
        Ok(scaler)
    }

    /// Adds the SigV4 headers for a GET of `url` to `headers`.
    fn sign(
        &self,
        headers: &mut HeaderMap,
        region: &str,
        creds: &prescale_aws::Credentials,
        url: &str,
    ) -> Result<()> {
        // Signed at the wall-clock time, whatever instant the query asks about.
        prescale_aws::sign(
            &http::Method::GET,
            url,
            headers,
            b"",
            creds,
            region,
            AMP_SERVICE,
            SystemTime::now(),
        )
        .map_err(|e| {
            // The signer's errors quote the URL; never with credentials in it.
            let text = e.to_string().replace(url, &request::redact_userinfo(url));
            Error::Config(format!(
                "trigger {}: AWS SigV4: {text}",
                self.meta.trigger_index
            ))
        })
    }

    /// The SigV4 signing region, if the trigger is signed.
    pub fn sigv4_region(&self) -> Option<&str> {
        self.sigv4.as_ref().map(|s| s.region.as_str())
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
        let (status, body) = self.get(self.url.at(now)).await?;
        let value = response::interpret(status, body.as_ref(), m.ignore_null_values)?;
        Ok(Evaluation {
            value,
            active: value > m.activation_threshold,
        })
    }

    /// The trigger's query over `[start, end]` every `step` (`GET /api/v1/query_range`), sent like its
    /// instant queries: same server address, `namespace` and `queryParameters`, custom and auth headers,
    /// TLS settings, SigV4 signing and per-request `timeout`. Ranges of more than
    /// [`range::MAX_POINTS_PER_REQUEST`] points are fetched in consecutive requests and joined.
    ///
    /// The points are on the multiples of `step` since the unix epoch; NaN samples are left out, an
    /// infinite one or more than one series is an error. See [`range`] for the details. When the range takes
    /// several requests, the error of a failed one is [`Error::RangeChunk`], naming it and its window.
    pub async fn query_range(
        &self,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
    ) -> Result<RangeSeries> {
        self.query_range_chunked(start, end, step, range::MAX_POINTS_PER_REQUEST)
            .await
    }

    /// [`query_range`](Self::query_range) with at most `max_points` points per request, for servers with a
    /// lower limit than Prometheus' 11,000 (and for testing the joins of chunks).
    pub async fn query_range_chunked(
        &self,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
        max_points: usize,
    ) -> Result<RangeSeries> {
        let m = &self.meta;
        let plan = RangePlan::new(start, end, step, max_points)
            .map_err(|e| Error::Config(format!("trigger {}: {e}", m.trigger_index)))?;
        let url = RangeQueryUrl::new(
            &m.server_address,
            &m.query,
            m.namespace.as_deref(),
            &m.query_parameters,
        );
        let count = plan.chunk_count();
        let mut joined = range::Stitcher::default();
        for (chunk, index) in plan.chunks().zip(1..) {
            let fetched = async {
                let (status, body) = self
                    .get(url.window(chunk.start_ms, chunk.end_ms, plan.step_ms))
                    .await?;
                range::series(status, body.as_ref(), &m.query)
            }
            .await;
            // With several requests, name the one that failed.
            let series = fetched.map_err(|source| {
                if count > 1 {
                    Error::RangeChunk {
                        index,
                        count,
                        window: chunk.window(),
                        source: Box::new(source),
                    }
                } else {
                    source
                }
            })?;
            joined.push(series, &m.query)?;
        }
        Ok(joined.finish())
    }

    /// GETs `url` with the trigger's headers, signature and timeout; the status and body of the answer.
    async fn get(&self, url: String) -> Result<(u16, impl AsRef<[u8]> + use<>)> {
        let mut headers = self.headers.clone();
        if let Some(sig) = &self.sigv4 {
            let index = self.meta.trigger_index;
            let creds = sig.credentials.credentials().await.map_err(|e| {
                Error::Credentials(format!(
                    "trigger {index}: AWS SigV4: {e}; the query is not sent unsigned"
                ))
            })?;
            self.sign(&mut headers, &sig.region, &creds, &url)?;
        }
        let resp = self
            .client
            .get(&url)
            .headers(headers)
            .timeout(self.timeout())
            .send()
            .await
            .map_err(|e| Error::Transport(chain(&e)))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| {
            Error::Transport(format!(
                "reading the answer to {}: {}",
                request::redact_userinfo(&url),
                chain(&e)
            ))
        })?;
        Ok((status, body))
    }
}

/// The SigV4 decision (see the module documentation).
fn sigv4(ctx: &ScalerContext, meta: &PrometheusMetadata) -> Result<Option<SigV4>> {
    let index = meta.trigger_index;
    let host = request::server_host(&meta.server_address);
    let amp_region = host.as_deref().and_then(prescale_aws::aps_region_from_host);
    let Some(aws) = &meta.auth.aws else {
        let settings = &meta.auth.aws_settings_without_credentials;
        if !settings.is_empty() && !meta.auth.disabled() {
            return Err(Error::Config(format!(
                "trigger {index}: AWS SigV4 settings ({}) together with authModes {:?}: KEDA signs only when \
                 authModes is empty, so they would be ignored and the request sent unsigned; remove one or the other",
                settings.join(", "),
                auth_modes(meta)
            )));
        }
        if !settings.is_empty() {
            return Err(Error::Config(format!(
                "trigger {index}: AWS SigV4 settings ({}) without AWS credentials: set podIdentity.provider aws \
                 in the TriggerAuthentication, the awsRoleArn or awsAccessKeyID and awsSecretAccessKey \
                 parameters, or metadata identityOwner: operator; an unsigned request is not sent instead",
                settings.join(", ")
            )));
        }
        if amp_region.is_some() {
            return Err(Error::Config(format!(
                "trigger {index}: serverAddress {:?} is an Amazon Managed Service for Prometheus workspace, which \
                 only answers SigV4-signed queries, but the trigger configures no AWS credentials (podIdentity \
                 provider aws, awsRoleArn, AWS keys or identityOwner: operator){}",
                request::redact_userinfo(&meta.server_address),
                if meta.auth.disabled() {
                    String::new()
                } else {
                    format!(
                        " and sets authModes {:?}, which turns SigV4 off",
                        auth_modes(meta)
                    )
                }
            )));
        }
        return Ok(None);
    };
    let region = aws
        .region
        .clone()
        .filter(|r| !r.trim().is_empty())
        .or(amp_region)
        .or_else(|| ctx.aws().default_region())
        .ok_or_else(|| {
            Error::Config(format!(
                "trigger {index}: AWS SigV4: no region: set awsRegion (the serverAddress host {:?} does not name \
                 one, and AWS_REGION is not set)",
                host.as_deref().unwrap_or("")
            ))
        })?;
    Ok(Some(SigV4 {
        credentials: ctx.aws().provider(aws)?,
        region,
    }))
}

/// The trigger's `authModes`, comma-joined as written.
fn auth_modes(meta: &PrometheusMetadata) -> String {
    let modes: Vec<&str> = meta.auth.modes.iter().map(|m| m.as_str()).collect();
    modes.join(",")
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
        let mut out = vec![
            ("serverAddress", self.meta.server_address.clone()),
            ("query", self.meta.query.clone()),
        ];
        if let Some(sig) = &self.sigv4 {
            out.push((
                "sigv4",
                format!(
                    "service {AMP_SERVICE}, region {}, credentials: {}",
                    sig.region,
                    sig.credentials.describe()
                ),
            ));
        }
        out
    }

    fn evaluate(&self, now: SystemTime) -> BoxFuture<'_, Result<Evaluation>> {
        Box::pin(self.query(now))
    }

    fn history(
        &self,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
    ) -> Option<HistoryFuture<'_>> {
        Some(Box::pin(async move {
            self.query_range(start, end, step).await.map(|s| s.points)
        }))
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
