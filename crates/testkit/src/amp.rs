//! A loopback server shaped like the Amazon Managed Service for Prometheus (AMP) data plane.
//!
//! It serves `/workspaces/<ws>/api/v1/{query,query_range,series,labels,label/<n>/values,metadata}`
//! (GET or POST) and `/workspaces/<ws>/api/v1/remote_write` (POST). Every request must carry a
//! valid SigV4 signature for service `aps` and the configured region, checked with
//! [`crate::sigv4::Verifier`] against the request exactly as received (the `host` header is what
//! the client sent, e.g. `127.0.0.1:<port>`). A refusal is a **403** with an AWS-style JSON body
//! (`{"message": …}`) and `x-amzn-ErrorType`, as AMP's IAM front end answers; a signed request for
//! an unknown workspace is a **404**. Accepted requests are forwarded to a backend Prometheus
//! (`<backend>/api/v1/<endpoint>?<query>`, same method and body; status and body returned) or,
//! without a backend, answered with a fixed JSON document (queries) or an empty 200
//! (remote write).
//!
//! Every request is recorded, accepted or not, so tests can assert for instance that no unsigned
//! request ever reached the server.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use crate::sigv4::{Key, Options, Rejection, RejectionKind, Request, Verified, Verifier};

/// SigV4 service name of AMP.
pub const SERVICE: &str = "aps";

/// Largest request body accepted (AMP's own limit for remote write is far lower).
const MAX_BODY: usize = 64 << 20;

/// Configuration of an [`AmpServer`].
#[derive(Debug, Clone)]
pub struct AmpConfig {
    /// Region signatures must be scoped to.
    pub region: String,
    /// Workspace ids served; the first is the one [`AmpServer::workspace_url`] names.
    pub workspaces: Vec<String>,
    /// Known access keys.
    pub keys: BTreeMap<String, Key>,
    /// Accepted clock skew (AWS: 5 minutes).
    pub max_skew: Duration,
    /// Canonicalisation switches of the verifier.
    pub options: Options,
    /// Base URL of a plain-HTTP Prometheus to forward accepted requests to, e.g.
    /// `http://127.0.0.1:9090`.
    pub backend: Option<String>,
    /// Body of the 200 answer to query endpoints when there is no backend.
    pub query_answer: String,
    /// The verifier's clock: `None` for the system clock, or a fixed instant.
    pub now: Option<SystemTime>,
}

impl AmpConfig {
    /// One workspace in `region`, no keys yet, no backend, an empty vector as the fixed answer.
    pub fn new(region: impl Into<String>, workspace: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            workspaces: vec![workspace.into()],
            keys: BTreeMap::new(),
            max_skew: Duration::from_secs(5 * 60),
            options: Options::default(),
            backend: None,
            query_answer: r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#
                .to_owned(),
            now: None,
        }
    }

    /// Adds a long-term access key.
    #[must_use]
    pub fn with_key(mut self, access_key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.keys.insert(
            access_key_id.into(),
            Key {
                secret: secret.into(),
                session_token: None,
            },
        );
        self
    }

    /// Adds a temporary access key that must come with `session_token`.
    #[must_use]
    pub fn with_session_key(
        mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
        session_token: impl Into<String>,
    ) -> Self {
        self.keys.insert(
            access_key_id.into(),
            Key {
                secret: secret.into(),
                session_token: Some(session_token.into()),
            },
        );
        self
    }

    /// Forwards accepted requests to `base_url`.
    #[must_use]
    pub fn with_backend(mut self, base_url: impl Into<String>) -> Self {
        self.backend = Some(base_url.into());
        self
    }

    /// Answers queries with `json` when there is no backend.
    #[must_use]
    pub fn with_query_answer(mut self, json: impl Into<String>) -> Self {
        self.query_answer = json.into();
        self
    }

    /// Serves another workspace id too.
    #[must_use]
    pub fn with_workspace(mut self, workspace: impl Into<String>) -> Self {
        self.workspaces.push(workspace.into());
        self
    }

    fn verifier(&self) -> Verifier {
        Verifier {
            region: self.region.clone(),
            service: SERVICE.to_owned(),
            keys: self.keys.clone(),
            max_skew: self.max_skew,
            options: self.options,
        }
    }
}

/// One request as the server saw it, and what it did with it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Raw path, escapes untouched.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Headers in the order received (names lower-case, as HTTP/1 parsing gives them).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// The verification result.
    pub verification: Result<Verified, Rejection>,
    /// Status code answered.
    pub status: u16,
}

impl RecordedRequest {
    /// Whether the signature verified.
    pub fn accepted(&self) -> bool {
        self.verification.is_ok()
    }

    /// The rejection, if the signature did not verify.
    pub fn rejection(&self) -> Option<&Rejection> {
        self.verification.as_ref().err()
    }

    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Shared {
    config: AmpConfig,
    verifier: Verifier,
    client: reqwest::Client,
    log: Mutex<Vec<RecordedRequest>>,
}

/// A running AMP-like server on `127.0.0.1`; stops when dropped.
pub struct AmpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for AmpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmpServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn shared(config: AmpConfig) -> std::io::Result<Arc<Shared>> {
    crate::ensure_crypto_provider();
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(std::io::Error::other)?;
    Ok(Arc::new(Shared {
        verifier: config.verifier(),
        config,
        client,
        log: Mutex::new(Vec::new()),
    }))
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

impl AmpServer {
    /// Starts the server on the current tokio runtime (which must keep running while it is used;
    /// a multi-thread runtime if blocking clients call it from the same runtime's threads).
    pub async fn start(config: AmpConfig) -> std::io::Result<Self> {
        let shared = shared(config)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = router(Arc::clone(&shared));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            shared,
            shutdown: Some(tx),
            thread: None,
        })
    }

    /// Starts the server on a thread of its own with its own runtime, for blocking tests.
    pub fn start_blocking(config: AmpConfig) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let shared = shared(config)?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = router(Arc::clone(&shared));
        let thread = std::thread::Builder::new()
            .name("amp-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })?;
        Ok(Self {
            addr,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:<port>/workspaces/<first workspace>`, the prefix a client appends
    /// `/api/v1/query` to.
    pub fn workspace_url(&self) -> String {
        let ws = self
            .shared
            .config
            .workspaces
            .first()
            .map_or("", String::as_str);
        format!("{}/workspaces/{ws}", self.url())
    }

    /// The region signatures must be scoped to.
    pub fn region(&self) -> &str {
        &self.shared.config.region
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The requests whose signature verified.
    pub fn accepted(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(RecordedRequest::accepted)
            .collect()
    }

    /// The requests refused for their signature.
    pub fn rejected(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| !r.accepted())
            .collect()
    }
}

impl Drop for AmpServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn json_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(error_type) {
        headers.insert("x-amzn-errortype", v);
    }
    response
}

/// The message AMP's front end would put in the JSON body.
fn client_message(rejection: &Rejection) -> String {
    match (&rejection.canonical_request, &rejection.string_to_sign) {
        (Some(creq), Some(sts)) if rejection.kind == RejectionKind::SignatureMismatch => format!(
            "{}\n\nThe Canonical String for this request should have been\n'{creq}'\n\nThe String-to-Sign should have been\n'{sts}'\n",
            rejection.reason
        ),
        _ => rejection.reason.clone(),
    }
}

enum Endpoint {
    Query,
    RemoteWrite,
}

/// Splits `/workspaces/<ws>/api/v1/<endpoint>`.
fn route(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/workspaces/")?;
    let (ws, rest) = rest.split_once('/')?;
    let endpoint = rest.strip_prefix("api/v1/")?;
    Some((ws, endpoint))
}

fn endpoint(name: &str, method: &Method) -> Result<Endpoint, StatusCode> {
    let is_query = matches!(
        name,
        "query" | "query_range" | "series" | "labels" | "metadata"
    ) || name
        .strip_prefix("label/")
        .and_then(|n| n.strip_suffix("/values"))
        .is_some_and(|label| !label.is_empty() && !label.contains('/'));
    if is_query {
        return if method == Method::GET || method == Method::POST {
            Ok(Endpoint::Query)
        } else {
            Err(StatusCode::METHOD_NOT_ALLOWED)
        };
    }
    if name == "remote_write" {
        return if method == Method::POST {
            Ok(Endpoint::RemoteWrite)
        } else {
            Err(StatusCode::METHOD_NOT_ALLOWED)
        };
    }
    Err(StatusCode::NOT_FOUND)
}

async fn handle(State(shared): State<Arc<Shared>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b.to_vec(),
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "ValidationException",
                &format!("could not read body: {e}"),
            );
        }
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let signed_request = Request {
        method: parts.method.as_str(),
        path_and_query: &path_and_query,
        headers: &headers,
        body: &body,
    };
    let now = shared.config.now.unwrap_or_else(SystemTime::now);
    let verification = shared.verifier.verify(&signed_request, now);
    let path = signed_request.path().to_owned();
    let query = signed_request.query().map(str::to_owned);

    let response = match &verification {
        Err(rejection) => json_error(
            StatusCode::FORBIDDEN,
            rejection.aws_error_type(),
            &client_message(rejection),
        ),
        Ok(_) => {
            answer(
                &shared,
                &parts.method,
                &path,
                query.as_deref(),
                &parts.headers,
                &body,
            )
            .await
        }
    };
    let record = RecordedRequest {
        method: parts.method.to_string(),
        path,
        query,
        headers,
        body,
        verification,
        status: response.status().as_u16(),
    };
    shared
        .log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(record);
    response
}

async fn answer(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Response {
    let Some((ws, name)) = route(path) else {
        return json_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "Not Found",
        );
    };
    if !shared.config.workspaces.iter().any(|w| w == ws) {
        return json_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("Workspace not found: {ws}"),
        );
    }
    let endpoint = match endpoint(name, method) {
        Ok(e) => e,
        Err(status) => {
            let (kind, msg) = if status == StatusCode::METHOD_NOT_ALLOWED {
                (
                    "MethodNotAllowedException",
                    format!("{method} is not allowed on /api/v1/{name}"),
                )
            } else {
                (
                    "ResourceNotFoundException",
                    format!("Unknown API path /api/v1/{name}"),
                )
            };
            return json_error(status, kind, &msg);
        }
    };
    if let Some(backend) = &shared.config.backend {
        return forward(shared, backend, method, name, query, headers, body).await;
    }
    match endpoint {
        Endpoint::RemoteWrite => StatusCode::OK.into_response(),
        Endpoint::Query => {
            let mut response = (StatusCode::OK, shared.config.query_answer.clone()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
    }
}

async fn forward(
    shared: &Shared,
    backend: &str,
    method: &Method,
    name: &str,
    query: Option<&str>,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Response {
    let mut url = format!("{}/api/v1/{name}", backend.trim_end_matches('/'));
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    let method = match reqwest::Method::from_bytes(method.as_str().as_bytes()) {
        Ok(m) => m,
        Err(e) => {
            return json_error(
                StatusCode::BAD_GATEWAY,
                "InternalServerException",
                &e.to_string(),
            );
        }
    };
    let mut outgoing = shared.client.request(method, &url).body(body.to_vec());
    for name in [
        "content-type",
        "content-encoding",
        "x-prometheus-remote-write-version",
        "accept",
    ] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            outgoing = outgoing.header(name, v);
        }
    }
    let upstream = match outgoing.send().await {
        Ok(r) => r,
        Err(e) => {
            return json_error(
                StatusCode::BAD_GATEWAY,
                "InternalServerException",
                &format!("backend {url}: {e}"),
            );
        }
    };
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = upstream
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| HeaderValue::from_str(v).ok());
    let bytes = match upstream.bytes().await {
        Ok(b) => b,
        Err(e) => {
            return json_error(
                StatusCode::BAD_GATEWAY,
                "InternalServerException",
                &format!("backend {url}: {e}"),
            );
        }
    };
    let mut response = (status, Body::from(bytes.to_vec())).into_response();
    if let Some(ct) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route("/workspaces/ws-1/api/v1/query"),
            Some(("ws-1", "query"))
        );
        assert_eq!(
            route("/workspaces/ws-1/api/v1/label/job/values"),
            Some(("ws-1", "label/job/values"))
        );
        assert_eq!(route("/api/v1/query"), None);
        assert_eq!(route("/workspaces/ws-1/query"), None);
        assert!(matches!(
            endpoint("query", &Method::GET),
            Ok(Endpoint::Query)
        ));
        assert!(matches!(
            endpoint("label/job/values", &Method::POST),
            Ok(Endpoint::Query)
        ));
        assert_eq!(
            endpoint("remote_write", &Method::GET).err(),
            Some(StatusCode::METHOD_NOT_ALLOWED)
        );
        assert_eq!(
            endpoint("query", &Method::PUT).err(),
            Some(StatusCode::METHOD_NOT_ALLOWED)
        );
        assert_eq!(
            endpoint("label//values", &Method::GET).err(),
            Some(StatusCode::NOT_FOUND)
        );
        assert_eq!(
            endpoint("targets", &Method::GET).err(),
            Some(StatusCode::NOT_FOUND)
        );
    }
}
