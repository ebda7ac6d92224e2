//! The HTTPS server: a tokio-rustls accept loop (the TLS configuration is read per connection, so a new CA or
//! certificate applies to the next handshake without a restart) serving an axum `Router` through hyper-util
//! (HTTP/1.1 or HTTP/2 by ALPN), with the peer's certificate chain put into each request.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use super::auth::{ClientAuth, Denied, User, authenticate};
use super::source::{MetricSource, value_list_document};
use super::tls::{ServingCert, server_config};
use super::{Error, Readiness};
use crate::external_metrics::{
    RequestError, api_group, api_group_list, parse_request, resource_list, status,
};
use crate::telemetry::{Telemetry, readyz_response};

/// A slow or silent client cannot hold a task for longer than this before its handshake is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests get to finish after the shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the TLS layer knows about the peer of a request (a request extension).
#[derive(Debug, Clone)]
pub struct TlsPeer {
    pub remote_addr: SocketAddr,
    /// The client certificate chain presented at the handshake (leaf first), verified against the
    /// requestheader CA in force then; `None` when the client sent none.
    pub certificates: Option<Arc<[CertificateDer<'static>]>>,
}

/// What the server needs to start.
pub struct ApiServerConfig {
    pub cert: ServingCert,
    pub auth: ClientAuth,
    pub source: Arc<dyn MetricSource>,
    /// Counts requests in `prescale_external_metrics_requests_total{code}` when set.
    pub telemetry: Option<Telemetry>,
    /// `/readyz` follows it when set (else always 200).
    pub readiness: Option<Readiness>,
}

struct Current {
    cert: ServingCert,
    auth: Arc<ClientAuth>,
    tls: Arc<ServerConfig>,
}

impl Current {
    fn new(cert: ServingCert, auth: ClientAuth) -> Result<Current, Error> {
        let verifier = match &auth {
            ClientAuth::FrontProxy(fp) => Some(fp.verifier()),
            ClientAuth::Insecure => None,
        };
        let tls = server_config(&cert, verifier)?;
        Ok(Current {
            cert,
            auth: Arc::new(auth),
            tls,
        })
    }
}

struct Shared {
    source: Arc<dyn MetricSource>,
    telemetry: Option<Telemetry>,
    readiness: Option<Readiness>,
    current: RwLock<Arc<Current>>,
}

impl Shared {
    fn current(&self) -> Arc<Current> {
        // A writer never panics while holding the lock (it only swaps an Arc); recover from poison anyway.
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn replace(&self, next: Current) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
    }
}

/// The external metrics API server. Cheap to clone; clones share the configuration, so
/// [`ApiServer::set_client_auth`] on one applies to a [`ApiServer::serve`] running on another.
#[derive(Clone)]
pub struct ApiServer {
    shared: Arc<Shared>,
}

impl ApiServer {
    /// Builds the TLS configuration; fails on an unusable certificate or CA.
    pub fn new(config: ApiServerConfig) -> Result<ApiServer, Error> {
        let current = Current::new(config.cert, config.auth)?;
        Ok(ApiServer {
            shared: Arc::new(Shared {
                source: config.source,
                telemetry: config.telemetry,
                readiness: config.readiness,
                current: RwLock::new(Arc::new(current)),
            }),
        })
    }

    /// Replaces the client authentication (a new requestheader CA or allowed names from a ConfigMap update, or
    /// a switch of mode). New handshakes use the new CA; requests on open connections are checked against it
    /// too. On error the previous configuration stays.
    pub fn set_client_auth(&self, auth: ClientAuth) -> Result<(), Error> {
        let cert = self.shared.current().cert.clone();
        self.shared.replace(Current::new(cert, auth)?);
        Ok(())
    }

    /// Replaces the serving certificate (for the next handshakes). On error the previous one stays.
    pub fn set_serving_cert(&self, cert: ServingCert) -> Result<(), Error> {
        let auth = ClientAuth::clone(&self.shared.current().auth);
        self.shared.replace(Current::new(cert, auth)?);
        Ok(())
    }

    /// The serving certificate in use.
    pub fn serving_cert(&self) -> ServingCert {
        self.shared.current().cert.clone()
    }

    /// The routes (authentication included). Requests need a [`TlsPeer`] extension, which [`ApiServer::serve`]
    /// adds; without one a request counts as presenting no certificate.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/healthz", get(ok))
            .route("/livez", get(ok))
            .route("/readyz", get(readyz))
            .route("/apis", get(apis))
            .route("/apis/external.metrics.k8s.io", get(group))
            .route("/apis/external.metrics.k8s.io/v1beta1", get(resources))
            .route(
                "/apis/external.metrics.k8s.io/v1beta1/namespaces/{*rest}",
                get(metric),
            )
            .route("/openapi/v2", get(openapi_v2))
            .route("/openapi/v3", get(openapi_v3))
            .fallback(not_found)
            .layer(from_fn_with_state(self.shared.clone(), gate))
            .with_state(self.shared.clone())
    }

    /// Accepts TLS connections on `listener` until `shutdown` completes, then stops accepting and gives open
    /// connections up to 10 s to finish their requests.
    pub async fn serve<F>(&self, listener: TcpListener, shutdown: F) -> Result<(), Error>
    where
        F: Future<Output = ()> + Send,
    {
        let router = self.router();
        let graceful = GracefulShutdown::new();
        let builder = auto::Builder::new(TokioExecutor::new());
        tokio::pin!(shutdown);
        loop {
            let (tcp, remote) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "external metrics API: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let acceptor = TlsAcceptor::from(self.shared.current().tls.clone());
            let watcher = graceful.watcher();
            let router = router.clone();
            let builder = builder.clone();
            tokio::spawn(async move {
                let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
                    .await
                {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%remote, error = %e, "external metrics API: TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%remote, "external metrics API: TLS handshake timed out");
                        return;
                    }
                };
                let certificates = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .filter(|c| !c.is_empty())
                    .map(|c| c.iter().map(|d| d.clone().into_owned()).collect());
                let peer = TlsPeer {
                    remote_addr: remote,
                    certificates,
                };
                let service =
                    hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                        req.extensions_mut().insert(peer.clone());
                        req.extensions_mut().insert(ConnectInfo(remote));
                        let mut router = router.clone();
                        async move { Service::call(&mut router, req).await }
                    });
                let conn = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned();
                if let Err(e) = watcher.watch(conn).await {
                    tracing::debug!(%remote, error = %e, "external metrics API: connection ended with an error");
                }
            });
        }
        drop(listener);
        if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                "external metrics API: connections still open after the shutdown grace period"
            );
        }
        Ok(())
    }
}

fn json_response(code: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (
        code,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}

fn status_response(code: u16, reason: &str, message: &str) -> Response {
    let sc = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(sc, &status(code, reason, message))
}

fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/livez" | "/readyz")
}

/// Authentication (everything but the probes) and request counting.
async fn gate(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    if is_probe(req.uri().path()) {
        return next.run(req).await;
    }
    let auth = shared.current().auth.clone();
    let certificates = req
        .extensions()
        .get::<TlsPeer>()
        .and_then(|p| p.certificates.clone());
    let response = match authenticate(&auth, certificates.as_deref(), req.headers()) {
        Ok(user) => {
            tracing::debug!(user = %user.name, groups = ?user.groups, method = %req.method(), path = %req.uri().path(), "external metrics API request");
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        Err(Denied::Unauthorized(why)) => {
            tracing::debug!(path = %req.uri().path(), reason = %why, "external metrics API: unauthorized");
            status_response(401, "Unauthorized", "Unauthorized")
        }
        Err(Denied::Forbidden(why)) => {
            tracing::debug!(path = %req.uri().path(), reason = %why, "external metrics API: forbidden");
            status_response(403, "Forbidden", &format!("forbidden: {why}"))
        }
    };
    if let Some(t) = &shared.telemetry {
        t.record_external_metrics_request(response.status().as_u16());
    }
    response
}

async fn ok() -> &'static str {
    "ok"
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    readyz_response(shared.readiness.as_ref())
}

async fn apis() -> Response {
    json_response(StatusCode::OK, &api_group_list())
}

async fn group() -> Response {
    json_response(StatusCode::OK, &api_group())
}

async fn resources(State(shared): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        &resource_list(&shared.source.metric_names()),
    )
}

fn request_error(e: &RequestError) -> Response {
    let code = match e {
        RequestError::NotFound => StatusCode::NOT_FOUND,
        RequestError::BadSelector { .. } => StatusCode::BAD_REQUEST,
        RequestError::NoScaledObject => StatusCode::INTERNAL_SERVER_ERROR,
    };
    json_response(code, &e.status())
}

async fn metric(
    State(shared): State<Arc<Shared>>,
    user: Option<axum::Extension<User>>,
    uri: Uri,
) -> Response {
    let request = match parse_request(uri.path(), uri.query()) {
        Ok(r) => r,
        Err(e) => return request_error(&e),
    };
    tracing::debug!(
        user = user.as_ref().map(|u| u.name.as_str()).unwrap_or(""),
        namespace = %request.namespace,
        metric = %request.metric,
        scaled_object = %request.scaled_object,
        "external metric read"
    );
    let metric = request.metric.clone();
    match shared.source.external_metric(request).await {
        Ok(values) => json_response(StatusCode::OK, &value_list_document(&values)),
        Err(e) => {
            tracing::debug!(%metric, error = %e, "external metric read failed");
            status_response(e.code(), e.reason(), &e.to_string())
        }
    }
}

async fn openapi_v2() -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "swagger": "2.0",
            "info": {"title": "prescale external metrics", "version": "v1beta1"},
            "paths": {},
        }),
    )
}

async fn openapi_v3() -> Response {
    json_response(StatusCode::OK, &json!({"paths": {}}))
}

async fn not_found() -> Response {
    request_error(&RequestError::NotFound)
}
