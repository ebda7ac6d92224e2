//! `prescale ho11y`: a behaviour-compatible reimplementation of ho11y, the synthetic signal generator of the
//! reference architecture (configured by the same environment variables, see [`Config`]).
//!
//! `GET /` answers `{"traceId":"1-<8 hex>-<24 hex>"}` (X-Ray format, epoch seconds first); other methods on `/`
//! get 405, unknown paths 404. Per request, in ho11y's order: throttling (429 when the rate measured over 500 ms
//! windows exceeds `HO11Y_CUTOFF_TPS`), failure injection (49 %: a random level 0..99 above 50 answers one of
//! 400, 403, 301, 404, 501 with an empty body), then `ho11y_total{http_status_code="200"}` is counted *before* the
//! downstreams are called one after the other (DUMMY: sleep the latency, report the size; URL: GET, the duration is
//! the body-read time only).
//!
//! Deliberate differences from ho11y:
//! - an unreachable URL downstream (transport error) is logged and answered with **502** (empty body) instead of
//!   exiting the process; the request stays counted as 200 (ho11y counts before the downstreams) and the remaining
//!   downstreams are not called;
//! - bad environment values stop start-up with an error naming the variable (see [`config`]);
//! - no OTLP trace export (`OTEL_EXPORTER_OTLP_ENDPOINT` is accepted and logged as unsupported), so incoming
//!   `X-Amzn-Trace-Id` headers are not continued nor propagated; the trace ID is generated locally;
//! - `/metrics` has no `go_*`/`process_*` families;
//! - JSON log lines use tracing's field names (`message`, `timestamp`, `level` in upper case) where logrus
//!   writes `msg`, `time` and a lower-case level.
#![forbid(unsafe_code)]

pub mod config;
pub mod metrics;
pub mod rng;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

pub use config::{Config, Downstream, LogDest};
pub use metrics::Metrics;

/// Errors of prescale-ho11y.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An environment variable has a value that cannot be used.
    #[error("{var}={value:?}: {reason}")]
    Env {
        var: String,
        value: String,
        reason: String,
    },
    /// The listener could not be bound.
    #[error("cannot listen on port {port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    /// Serving failed.
    #[error("serving HTTP failed: {0}")]
    Serve(std::io::Error),
    /// The HTTP client for URL downstreams could not be built.
    #[error("cannot build the downstream HTTP client: {0}")]
    Client(reqwest::Error),
}

/// Failure status codes of the failure injection, in ho11y's order.
pub const FAILURE_CODES: [u16; 5] = [400, 403, 301, 404, 501];

/// The shared state of one ho11y instance.
#[derive(Debug)]
pub struct App {
    config: Config,
    metrics: Metrics,
    client: Option<reqwest::Client>,
    invokes_in_period: AtomicU64,
    /// Last measured requests per second, as f64 bits.
    tps: AtomicU64,
}

impl App {
    /// Builds the state (and the HTTP client when a URL downstream is configured).
    pub fn new(config: Config) -> Result<Arc<Self>, Error> {
        let needs_client = config
            .downstreams
            .iter()
            .flatten()
            .any(|d| matches!(d, Downstream::Url { .. }));
        let client = if needs_client {
            prescale_aws::install_crypto_provider();
            Some(reqwest::Client::builder().build().map_err(Error::Client)?)
        } else {
            None
        };
        Ok(Arc::new(App {
            config,
            metrics: Metrics::new(),
            client,
            invokes_in_period: AtomicU64::new(0),
            tps: AtomicU64::new(0f64.to_bits()),
        }))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// An X-Ray format trace ID: `1-` + 8 hex digits of epoch seconds + `-` + 24 random hex digits.
pub fn xray_trace_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "1-{:08x}-{:08x}{:016x}",
        secs as u32,
        rng::next_u64() as u32,
        rng::next_u64()
    )
}

/// ho11y's failure decision: `level` is uniform in 0..99 and fails above 50 (49 of 100 levels); `pick` (uniform
/// in 0..4) chooses the status from [`FAILURE_CODES`].
pub fn injected_failure(level: u64, pick: u64) -> Option<u16> {
    if level > 50 {
        FAILURE_CODES.get(pick as usize).copied()
    } else {
        None
    }
}

/// The HTTP routes: `GET /` and `/metrics` (any method). Only GET on `/`, as ho11y's router: axum answers
/// HEAD with the GET handler (which would count it) unless HEAD has a handler of its own.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/",
            get(handle_root).head(|| async {
                (
                    [(header::ALLOW, HeaderValue::from_static("GET"))],
                    StatusCode::METHOD_NOT_ALLOWED,
                )
            }),
        )
        .route("/metrics", any(handle_metrics))
        .with_state(app)
}

async fn handle_root(
    State(app): State<Arc<App>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
) -> Response {
    let traceid = xray_trace_id();
    // 1. Throttling: every request counts towards the rate, throttled ones included.
    if let Some(cutoff) = app.config.cutoff_tps {
        app.invokes_in_period.fetch_add(1, Ordering::Relaxed);
        let tps = f64::from_bits(app.tps.load(Ordering::Relaxed));
        if tps > cutoff as f64 {
            app.metrics.count_status(429);
            tracing::info!("Throttle engaged, got {tps} TPS with a {cutoff} TPS cutoff point");
            return StatusCode::TOO_MANY_REQUESTS.into_response();
        }
    }
    // 2. Failure injection: 51..99 out of 0..99, i.e. 49 %.
    if app.config.inject_failure
        && let Some(code) =
            injected_failure(rng::below(100), rng::below(FAILURE_CODES.len() as u64))
    {
        app.metrics.count_status(code);
        return StatusCode::from_u16(code)
            .unwrap_or(StatusCode::BAD_REQUEST)
            .into_response();
    }
    // 3. Success: log, count, then the downstreams.
    tracing::info!(event = "invoke", traceID = %traceid, remote = %SocketAddr::new(remote.ip().to_canonical(), remote.port()), "ho11y was invoked");
    app.metrics.count_status(200);
    for downstream in app.config.downstreams.iter().flatten() {
        let (size, elapsed) = match downstream {
            Downstream::Dummy { size, latency, .. } => {
                tokio::time::sleep(*latency).await;
                (*size, *latency)
            }
            Downstream::Url { raw } => match call_url(&app, raw).await {
                Ok(r) => r,
                Err(reason) => {
                    tracing::error!(event = "downstream", downstream = %raw, "HTTP GET to {raw} failed: {reason}");
                    return StatusCode::BAD_GATEWAY.into_response();
                }
            },
        };
        let secs = elapsed.as_secs_f64();
        tracing::info!(
            event = "downstream",
            body_bytes = size,
            duration_sec = secs,
            "ho11y invoked {}",
            downstream.raw()
        );
        app.metrics
            .downstream(downstream.raw(), size, secs, &traceid);
    }
    let body = serde_json::json!({ "traceId": traceid }).to_string();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// GETs a URL downstream; the duration is the body-read time only, as in ho11y. A body that fails half-way is
/// counted with what was read (ho11y logs and carries on).
async fn call_url(app: &App, url: &str) -> Result<(u64, Duration), String> {
    let client = app.client.as_ref().ok_or("no HTTP client")?;
    let mut resp = client.get(url).send().await.map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut size = 0u64;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => size += chunk.len() as u64,
            Ok(None) => break,
            Err(e) => {
                tracing::debug!("Can't read downstream body of {url}: {e}");
                break;
            }
        }
    }
    Ok((size, start.elapsed()))
}

async fn handle_metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let wants_om = app.config.open_metrics
        && headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("application/openmetrics-text"));
    let (ct, body) = if wants_om {
        (metrics::OPENMETRICS_CONTENT_TYPE, app.metrics.render(true))
    } else {
        (metrics::TEXT_CONTENT_TYPE, app.metrics.render(false))
    };
    ([(header::CONTENT_TYPE, HeaderValue::from_static(ct))], body).into_response()
}

/// Binds `HO11Y_PORT` on all local IPs (IPv6 dual-stack, else IPv4).
pub async fn bind(port: u16) -> Result<tokio::net::TcpListener, Error> {
    match tokio::net::TcpListener::bind(("::", port)).await {
        Ok(l) => Ok(l),
        Err(_) => tokio::net::TcpListener::bind(("0.0.0.0", port))
            .await
            .map_err(|source| Error::Bind { port, source }),
    }
}

/// Logs ho11y's start-up lines, starts the background tasks (random values every 5 s, the throttle window every
/// 500 ms) and serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let c = &app.config;
    if c.inject_failure {
        tracing::info!("Failure injection enabled, dropping half of the requests");
    }
    for (i, d) in c.downstreams.iter().enumerate() {
        if let Some(d) = d {
            tracing::info!("Using downstream {i}: {}", d.raw());
        }
    }
    if let Some(cutoff) = c.cutoff_tps {
        tracing::info!("Throttling enabled with a {cutoff} TPS cutoff point");
    }
    tracing::warn!(
        "OTLP trace export is not supported by prescale ho11y; not sending traces to {}",
        c.otlp_endpoint
    );
    tracing::info!("Init instrumentation done");
    if !c.open_metrics {
        tracing::info!("OpenMetrics disabled");
    }
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(c.port);
    tracing::info!(
        "Launching ho11y: I am [{}] listening on port :{port} on all local IPs.",
        c.service_name
    );

    let mut tasks = Vec::new();
    let a = app.clone();
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            a.metrics.random(rng::normal(), rng::normal());
        }
    }));
    if app.config.cutoff_tps.is_some() {
        let a = app.clone();
        tasks.push(tokio::spawn(async move {
            let period = Duration::from_millis(500);
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let n = a.invokes_in_period.swap(0, Ordering::Relaxed);
                let tps = n as f64 / period.as_secs_f64();
                a.tps.store(tps.to_bits(), Ordering::Relaxed);
            }
        }));
    }
    let result = axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(Error::Serve);
    for t in tasks {
        t.abort();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_odds_are_49_in_100() {
        let failing = (0..100)
            .filter(|l| injected_failure(*l, 0).is_some())
            .count();
        assert_eq!(failing, 49);
        assert_eq!(injected_failure(50, 0), None);
        assert_eq!(injected_failure(51, 2), Some(301));
        let picked: Vec<u16> = (0..5).filter_map(|p| injected_failure(99, p)).collect();
        assert_eq!(picked, [400, 403, 301, 404, 501]);
    }

    #[test]
    fn trace_ids_are_xray_shaped_and_distinct() {
        let a = xray_trace_id();
        let b = xray_trace_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 2 + 8 + 1 + 24, "{a}");
        assert!(
            a.starts_with("1-") && a[2..].chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
            "{a}"
        );
    }
}
