//! `prescale sigv4-proxy`: an HTTP proxy that signs every request with AWS SigV4 and forwards it to an AWS
//! endpoint — a drop-in for awslabs' aws-sigv4-proxy as the reference architecture deploys it in front of
//! Amazon Managed Service for Prometheus (`--name aps --region <r> --host aps-workspaces.<r>.amazonaws.com`),
//! for clients that cannot sign (KEDA before 2.13, Grafana without SigV4, curl).
//!
//! Per request (facts from prometheus.md §5.3, behaviour written here):
//! 1. The upstream is `<scheme>://<--host, else the request's Host header><path>?<query>`; `GET /healthz` is
//!    answered by the proxy itself.
//! 2. The signing service and region are `--name`/`--region` when both are given, otherwise inferred from
//!    the upstream host (`aps-workspaces.<r>.amazonaws.com` → `aps`, `<r>`; other `<service>.<region>.amazonaws.com`
//!    forms), with a given `--name` or `--region` taking precedence over the inferred part. aws-sigv4-proxy
//!    infers from the incoming Host header only; inferring from `--host` as well makes
//!    `--host aps-workspaces.<r>.amazonaws.com` enough on its own.
//! 3. The query string is rewritten to the canonical SigV4 form: each parameter form-decoded (`+` is a space,
//!    as Prometheus and Go's `url.ParseQuery` read it) and re-encoded with RFC 3986 unreserved characters
//!    (`%20`, `%2B`), in the original order. The upstream reads the same parameters, and the signed query is
//!    byte-for-byte the sent one (aws-sdk-go's signer rewrites `RawQuery` the same way).
//! 4. The body is read in full (SigV4 signs its SHA-256, so it must be known before the request leaves;
//!    bounded by `max_body_bytes`), then signed with `host` (`--sign-host` when given), `x-amz-date` and, for
//!    temporary credentials, `x-amz-security-token`. The client's other headers are then copied without
//!    overwriting (unsigned), minus hop-by-hop headers and `--strip` ones; `--custom-headers` likewise.
//! 5. The upstream's status, headers and body are streamed back. Redirects are not followed.
//! 6. Any failure — no credentials, a URL that cannot be signed, the upstream unreachable — is a **502** with
//!    `unable to proxy request - <reason>`. A request is never forwarded unsigned.
#![forbid(unsafe_code)]

pub mod flags;
mod query;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use futures_util::TryStreamExt;
use prescale_aws::{CredentialsProvider, service_and_region_from_host, sign};
use tokio::net::TcpListener;

pub use query::canonical_query;

/// The default bound on a buffered request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 << 20;

/// The region used when neither `--region`, the host nor `AWS_REGION`/`AWS_DEFAULT_REGION` give one, as
/// aws-sigv4-proxy does.
pub const FALLBACK_REGION: &str = "us-east-1";

/// What the proxy does.
#[derive(Clone)]
pub struct ProxyConfig {
    /// `--name`: the signing service name (e.g. `aps`).
    pub service: Option<String>,
    /// `--region`: the signing region.
    pub region: Option<String>,
    /// `AWS_REGION` / `AWS_DEFAULT_REGION`, the last resort before [`FALLBACK_REGION`].
    pub default_region: Option<String>,
    /// `--host`: the upstream host (and port); otherwise each request's Host header.
    pub host: Option<String>,
    /// `--sign-host`: the host to sign for and send as `Host`.
    pub sign_host: Option<String>,
    /// `--upstream-url-scheme` (`https`).
    pub upstream_scheme: String,
    /// `--strip`: headers removed from the incoming request.
    pub strip: Vec<HeaderName>,
    /// `--custom-headers`: added without overwriting.
    pub custom_headers: Vec<(HeaderName, HeaderValue)>,
    /// Bound on the buffered request body.
    pub max_body_bytes: usize,
    /// Where credentials come from (default chain, or `--role-arn` on top of it).
    pub credentials: CredentialsProvider,
    /// The client for upstream requests (TLS verification per `--no-verify-ssl`).
    pub client: reqwest::Client,
}

/// The signing service and region for a request to `upstream_host`.
pub fn signing_scope(cfg: &ProxyConfig, upstream_host: &str) -> Result<(String, String), String> {
    if let (Some(s), Some(r)) = (&cfg.service, &cfg.region) {
        return Ok((s.clone(), r.clone()));
    }
    let inferred = service_and_region_from_host(upstream_host);
    let service = cfg
        .service
        .clone()
        .or_else(|| inferred.as_ref().map(|(s, _)| s.clone()))
        .ok_or_else(|| {
            format!(
                "unable to determine service from host {upstream_host:?}; set --name (and --region)"
            )
        })?;
    let region = cfg
        .region
        .clone()
        .or_else(|| inferred.map(|(_, r)| r))
        .or_else(|| cfg.default_region.clone())
        .unwrap_or_else(|| FALLBACK_REGION.to_string());
    Ok((service, region))
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus `host`, which the proxy
/// sets itself.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

fn bad_gateway(reason: impl std::fmt::Display) -> Response<Body> {
    let text = format!("unable to proxy request - {reason}\n");
    tracing::warn!(error = %reason, "proxy request failed");
    Response::builder()
        .status(StatusCode::BAD_GATEWAY)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(text))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Where and how a request is forwarded: the upstream host, the signing scope and the `Host` header to sign.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub service: String,
    pub region: String,
    host_header: HeaderValue,
}

impl Target {
    fn new(cfg: &ProxyConfig, host: String) -> Result<Target, String> {
        let (service, region) = signing_scope(cfg, &host)?;
        let sign_host = cfg.sign_host.as_deref().unwrap_or(&host);
        let host_header =
            HeaderValue::from_str(sign_host).map_err(|_| format!("invalid host {sign_host:?}"))?;
        Ok(Target {
            host,
            service,
            region,
            host_header,
        })
    }
}

/// A [`ProxyConfig`] with what does not change per request worked out once: with `--host`, the upstream, its
/// signing scope and the signed `Host` header.
pub struct Proxy {
    cfg: ProxyConfig,
    fixed: Option<Target>,
}

impl Proxy {
    /// Fails when `--host` is given but no signing scope can be determined for it, or a host is not a valid
    /// header value.
    pub fn new(cfg: ProxyConfig) -> Result<Proxy, String> {
        let fixed = match &cfg.host {
            Some(host) => {
                Some(Target::new(&cfg, host.clone()).map_err(|e| format!("--host {host}: {e}"))?)
            }
            None => None,
        };
        Ok(Proxy { cfg, fixed })
    }

    /// Where credentials come from.
    pub fn credentials(&self) -> &CredentialsProvider {
        &self.cfg.credentials
    }

    /// The upstream every request goes to, when `--host` fixes it.
    pub fn fixed_target(&self) -> Option<&Target> {
        self.fixed.as_ref()
    }

    /// The target of a request whose Host header (or URI authority) is `incoming_host`.
    fn target(
        &self,
        incoming_host: Option<String>,
    ) -> Result<std::borrow::Cow<'_, Target>, String> {
        if let Some(t) = &self.fixed {
            return Ok(std::borrow::Cow::Borrowed(t));
        }
        let host = incoming_host
            .ok_or("no upstream host: the request has no Host header and --host is not set")?;
        Target::new(&self.cfg, host).map(std::borrow::Cow::Owned)
    }
}

/// The router: `/healthz`, and every other request proxied.
pub fn router(proxy: Proxy) -> Router {
    Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .fallback(forward)
        .with_state(Arc::new(proxy))
}

/// Serves on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    proxy: Proxy,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(proxy))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Parses an aws-sigv4-proxy `--port` value: `:8080` (all interfaces), `8080`, `127.0.0.1:8080`, `[::1]:8080`.
pub fn listen_address(port: &str) -> Result<SocketAddr, String> {
    let p = port.trim();
    let candidate = if let Some(rest) = p.strip_prefix(':') {
        format!("0.0.0.0:{rest}")
    } else if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() {
        format!("0.0.0.0:{p}")
    } else {
        p.to_string()
    };
    candidate.parse().map_err(|_| {
        format!("--port {port:?}: expected a listen address such as :8080 or 127.0.0.1:8080")
    })
}

async fn forward(State(proxy): State<Arc<Proxy>>, req: Request) -> Response<Body> {
    let cfg = &proxy.cfg;
    let (parts, body) = req.into_parts();
    let incoming_host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()));
    let target = match proxy.target(incoming_host) {
        Ok(t) => t,
        Err(e) => return bad_gateway(e),
    };
    let upstream_host = &target.host;
    let path = parts.uri.path();
    let url = match parts.uri.query() {
        Some(q) => {
            let q = canonical_query(q);
            if q.is_empty() {
                format!("{}://{upstream_host}{path}", cfg.upstream_scheme)
            } else {
                format!("{}://{upstream_host}{path}?{q}", cfg.upstream_scheme)
            }
        }
        None => format!("{}://{upstream_host}{path}", cfg.upstream_scheme),
    };
    let body = match axum::body::to_bytes(body, cfg.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => {
            return bad_gateway(format!(
                "reading the request body (at most {} bytes): {e}",
                cfg.max_body_bytes
            ));
        }
    };
    let creds = match cfg.credentials.credentials().await {
        Ok(c) => c,
        Err(e) => return bad_gateway(e),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::HOST, target.host_header.clone());
    if let Err(e) = sign(
        &parts.method,
        &url,
        &mut headers,
        &body,
        &creds,
        &target.region,
        &target.service,
        SystemTime::now(),
    ) {
        return bad_gateway(e);
    }
    // The client's headers after signing, without overwriting what was signed.
    for (name, value) in &parts.headers {
        if hop_by_hop(name) || cfg.strip.contains(name) || headers.contains_key(name) {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    for (name, value) in &cfg.custom_headers {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    let method = parts.method.clone();
    tracing::debug!(%method, %url, service = %target.service, region = %target.region, "forwarding signed request");
    let sent = cfg
        .client
        .request(method, &url)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match sent {
        Ok(r) => r,
        Err(e) => return bad_gateway(prescale_aws::error_chain(&e)),
    };
    let mut resp = Response::builder().status(upstream.status());
    if let Some(h) = resp.headers_mut() {
        for (name, value) in upstream.headers() {
            if !hop_by_hop(name) {
                h.append(name.clone(), value.clone());
            }
        }
    }
    let stream = upstream.bytes_stream().map_err(std::io::Error::other);
    resp.body(Body::from_stream(stream))
        .unwrap_or_else(bad_gateway)
}
