//! The loopback AMP-like server: signed requests are accepted and forwarded, everything else is
//! refused with AMP-style 403s and recorded.
//!
//! The client side signs with `sigv4::sign`, which shares the verifier's canonicalisation: these
//! tests check the server's plumbing (what it verifies, records, forwards and answers), while
//! `sigv4_suite.rs` checks the canonicalisation itself against AWS's vectors.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::routing::{get, post};
use prescale_testkit::amp::{AmpConfig, AmpServer};
use prescale_testkit::sigv4::{
    self, Options, PlusInQuery, RejectionKind, Request, SigningCredentials, all_header_names,
    format_amz_date,
};

const REGION: &str = "us-west-2";
const WS: &str = "ws-0123abcd-4567-89ef-0123-456789abcdef";
const AKID: &str = "AKIDPRESCALETEST";
const SECRET: &str = "c2VjcmV0LWZvci10ZXN0cy1vbmx5/+abcdefghijklmno";

const VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.123,"42"]}]}}"#;

/// What the in-test backend Prometheus received: method, raw query, body.
type Seen = Arc<Mutex<Vec<(String, Option<String>, String)>>>;

async fn backend_handler(
    State(seen): State<Seen>,
    method: Method,
    RawQuery(query): RawQuery,
    body: String,
) -> ([(&'static str, &'static str); 1], &'static str) {
    seen.lock().unwrap().push((method.to_string(), query, body));
    ([("content-type", "application/json")], VECTOR)
}

async fn remote_write_handler(State(seen): State<Seen>, body: axum::body::Bytes) -> &'static str {
    seen.lock()
        .unwrap()
        .push(("POST".into(), None, format!("{} bytes", body.len())));
    ""
}

/// A tiny Prometheus stand-in on loopback; returns its base URL and what it saw.
async fn start_backend() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/api/v1/query", get(backend_handler).post(backend_handler))
        .route(
            "/api/v1/query_range",
            get(backend_handler).post(backend_handler),
        )
        .route("/api/v1/remote_write", post(remote_write_handler))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

#[derive(Clone)]
struct Signer {
    akid: String,
    secret: String,
    token: Option<String>,
    region: String,
    at: SystemTime,
    plus: PlusInQuery,
}

impl Signer {
    fn good() -> Self {
        Self {
            akid: AKID.into(),
            secret: SECRET.into(),
            token: None,
            region: REGION.into(),
            at: SystemTime::now(),
            plus: PlusInQuery::Literal,
        }
    }

    /// Headers to send (without `host`, which the HTTP client adds as `127.0.0.1:<port>`).
    fn headers(
        &self,
        server: &AmpServer,
        method: &str,
        path_and_query: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> Vec<(String, String)> {
        let mut headers = vec![
            ("host".to_owned(), server.addr().to_string()),
            ("x-amz-date".to_owned(), format_amz_date(self.at)),
        ];
        headers.extend(
            extra
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        );
        if let Some(token) = &self.token {
            headers.push(("x-amz-security-token".into(), token.clone()));
        }
        let names = all_header_names(&headers);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let signed = sigv4::sign(
            &Request {
                method,
                path_and_query,
                headers: &headers,
                body,
            },
            &names,
            SigningCredentials {
                access_key_id: &self.akid,
                secret: &self.secret,
                region: &self.region,
                service: "aps",
            },
            &Options {
                plus_in_query: self.plus,
                ..Options::default()
            },
        )
        .unwrap();
        headers.push(("authorization".into(), signed.authorization));
        headers.retain(|(n, _)| n != "host");
        headers
    }
}

fn ws_path(suffix: &str) -> String {
    format!("/workspaces/{WS}{suffix}")
}

async fn send(
    server: &AmpServer,
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, String) {
    prescale_testkit::ensure_crypto_provider();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut req = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path_and_query}", server.url()),
        )
        .body(body.to_vec());
    for (n, v) in headers {
        req = req.header(n, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

async fn signed_get(server: &AmpServer, signer: &Signer, path_and_query: &str) -> (u16, String) {
    let headers = signer.headers(server, "GET", path_and_query, &[], b"");
    send(server, "GET", path_and_query, &headers, b"").await
}

fn message(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["message"].as_str().expect("message").to_owned()
}

fn config() -> AmpConfig {
    AmpConfig::new(REGION, WS).with_key(AKID, SECRET)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_query_is_verified_and_forwarded() {
    let (backend, seen) = start_backend().await;
    let server = AmpServer::start(config().with_backend(&backend))
        .await
        .unwrap();
    assert_eq!(
        server.workspace_url(),
        format!("{}/workspaces/{WS}", server.url())
    );

    let path = ws_path("/api/v1/query?query=sum%28up%29&time=1700000000");
    let (status, body) = signed_get(&server, &Signer::good(), &path).await;
    assert_eq!((status, body.as_str()), (200, VECTOR));

    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(
            "GET".to_owned(),
            Some("query=sum%28up%29&time=1700000000".to_owned()),
            String::new()
        )]
    );
    let accepted = server.accepted();
    assert_eq!(accepted.len(), 1);
    assert!(server.rejected().is_empty());
    let rec = &accepted[0];
    assert_eq!(rec.status, 200);
    assert_eq!(rec.path, ws_path("/api/v1/query"));
    assert_eq!(
        rec.query.as_deref(),
        Some("query=sum%28up%29&time=1700000000")
    );
    assert_eq!(rec.header("host"), Some(server.addr().to_string().as_str()));
    let verified = rec.verification.as_ref().unwrap();
    assert_eq!(verified.access_key_id, AKID);
    assert_eq!(verified.signed_headers, ["host", "x-amz-date"]);
    assert!(
        verified
            .credential_scope
            .ends_with("/us-west-2/aps/aws4_request")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_form_query_with_signed_body_is_forwarded() {
    let (backend, seen) = start_backend().await;
    let server = AmpServer::start(config().with_backend(&backend))
        .await
        .unwrap();
    let body = b"query=sum%28rate%28ho11y_total%5B1m%5D%29%29+%2B+1&start=1&end=61&step=15";
    let path = ws_path("/api/v1/query_range");
    let headers = Signer::good().headers(
        &server,
        "POST",
        &path,
        &[("content-type", "application/x-www-form-urlencoded")],
        body,
    );
    let (status, answer) = send(&server, "POST", &path, &headers, body).await;
    assert_eq!((status, answer.as_str()), (200, VECTOR));
    assert_eq!(seen.lock().unwrap()[0].2.as_bytes(), body);

    // The same signature does not cover another body.
    let (status, answer) = send(&server, "POST", &path, &headers, b"query=up").await;
    assert_eq!(status, 403);
    assert!(message(&answer).starts_with("The request signature we calculated does not match"));
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "a refused request must not reach the backend"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_request_is_refused_and_recorded() {
    let (backend, seen) = start_backend().await;
    let server = AmpServer::start(config().with_backend(&backend))
        .await
        .unwrap();
    let path = ws_path("/api/v1/query?query=up");
    let (status, body) = send(&server, "GET", &path, &[], b"").await;
    assert_eq!(status, 403);
    assert_eq!(message(&body), "Missing Authentication Token");
    assert!(seen.lock().unwrap().is_empty());
    assert!(server.accepted().is_empty());
    let rejected = server.rejected();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].status, 403);
    assert_eq!(
        rejected[0].rejection().unwrap().kind,
        RejectionKind::MissingAuthorization
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_a_signature_mismatch() {
    let server = AmpServer::start(config()).await.unwrap();
    let signer = Signer {
        secret: format!("{SECRET}x"),
        ..Signer::good()
    };
    let (status, body) = signed_get(&server, &signer, &ws_path("/api/v1/query?query=up")).await;
    assert_eq!(status, 403);
    let msg = message(&body);
    assert!(
        msg.starts_with(
            "The request signature we calculated does not match the signature you provided."
        ),
        "{msg}"
    );
    assert!(
        msg.contains("The Canonical String for this request should have been\n'GET\n"),
        "{msg}"
    );
    let rec = &server.rejected()[0];
    let rejection = rec.rejection().unwrap();
    assert_eq!(rejection.kind, RejectionKind::SignatureMismatch);
    assert!(
        rejection
            .canonical_request
            .as_deref()
            .unwrap()
            .contains("\nquery=up\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_region_is_refused_with_a_scope_message() {
    let server = AmpServer::start(config()).await.unwrap();
    let signer = Signer {
        region: "eu-west-1".into(),
        ..Signer::good()
    };
    let (status, body) = signed_get(&server, &signer, &ws_path("/api/v1/query?query=up")).await;
    assert_eq!(status, 403);
    assert!(
        message(&body)
            .starts_with("Credential should be scoped to a valid region, not 'eu-west-1'."),
        "{body}"
    );
    assert_eq!(
        server.rejected()[0].rejection().unwrap().kind,
        RejectionKind::WrongRegion
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_beyond_the_limit_is_refused() {
    let server = AmpServer::start(config()).await.unwrap();
    let path = ws_path("/api/v1/query?query=up");
    let old = Signer {
        at: SystemTime::now() - Duration::from_secs(10 * 60),
        ..Signer::good()
    };
    let (status, body) = signed_get(&server, &old, &path).await;
    assert_eq!(status, 403);
    assert!(message(&body).starts_with("Signature expired: "), "{body}");
    let future = Signer {
        at: SystemTime::now() + Duration::from_secs(10 * 60),
        ..Signer::good()
    };
    let (status, body) = signed_get(&server, &future, &path).await;
    assert_eq!(status, 403);
    assert!(
        message(&body).starts_with("Signature not yet current: "),
        "{body}"
    );
    // Within the limit is fine.
    let recent = Signer {
        at: SystemTime::now() - Duration::from_secs(2 * 60),
        ..Signer::good()
    };
    assert_eq!(signed_get(&server, &recent, &path).await.0, 200);
    let kinds: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.rejection().map(|r| r.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            Some(RejectionKind::RequestTimeSkewed),
            Some(RejectionKind::RequestTimeSkewed),
            None
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plus_sent_as_percent_2b_verifies_and_a_raw_plus_signed_as_space_does_not() {
    let (backend, seen) = start_backend().await;
    let server = AmpServer::start(config().with_backend(&backend))
        .await
        .unwrap();

    // `sum(a) + sum(b)` with `+` as %2B and spaces as %20: both readings agree.
    let path = ws_path("/api/v1/query?query=sum%28a%29%20%2B%20sum%28b%29");
    let (status, _) = signed_get(&server, &Signer::good(), &path).await;
    assert_eq!(status, 200);
    assert_eq!(
        seen.lock().unwrap()[0].1.as_deref(),
        Some("query=sum%28a%29%20%2B%20sum%28b%29")
    );

    // A raw `+` canonicalised as a space (what a form-decoding signer such as aws-sigv4 does)
    // does not match the server's RFC 3986 reading.
    let raw_plus = ws_path("/api/v1/query?query=a+b");
    let form_reading = Signer {
        plus: PlusInQuery::Space,
        ..Signer::good()
    };
    let (status, body) = signed_get(&server, &form_reading, &raw_plus).await;
    assert_eq!(status, 403);
    let rejection = server.rejected()[0].rejection().unwrap().clone();
    assert_eq!(rejection.kind, RejectionKind::SignatureMismatch, "{body}");
    assert!(
        rejection
            .canonical_request
            .unwrap()
            .contains("\nquery=a%2Bb\n")
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_tokens_are_required_and_checked() {
    let server = AmpServer::start(
        AmpConfig::new(REGION, WS).with_session_key("ASIATEMP", SECRET, "token-1"),
    )
    .await
    .unwrap();
    let path = ws_path("/api/v1/query?query=up");
    let base = Signer {
        akid: "ASIATEMP".into(),
        ..Signer::good()
    };
    let (status, body) = signed_get(&server, &base, &path).await;
    assert_eq!(status, 403);
    assert!(message(&body).starts_with("The security token included in the request is invalid."));
    let wrong = Signer {
        token: Some("token-2".into()),
        ..base.clone()
    };
    assert_eq!(signed_get(&server, &wrong, &path).await.0, 403);
    let right = Signer {
        token: Some("token-1".into()),
        ..base
    };
    assert_eq!(signed_get(&server, &right, &path).await.0, 200);
    let accepted = server.accepted();
    assert_eq!(accepted.len(), 1);
    let verified = accepted[0].verification.as_ref().unwrap();
    assert_eq!(verified.session_token.as_deref(), Some("token-1"));
    assert!(
        verified
            .signed_headers
            .iter()
            .any(|h| h == "x-amz-security-token")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_workspace_and_path_are_404_after_verification() {
    let server = AmpServer::start(config()).await.unwrap();
    let (status, body) = signed_get(
        &server,
        &Signer::good(),
        "/workspaces/ws-other/api/v1/query?query=up",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(message(&body), "Workspace not found: ws-other");
    let (status, _) = signed_get(&server, &Signer::good(), &ws_path("/api/v1/targets")).await;
    assert_eq!(status, 404);
    let (status, _) = signed_get(&server, &Signer::good(), &ws_path("/api/v1/remote_write")).await;
    assert_eq!(status, 405);
    // Unsigned, the same workspace is a 403: authentication comes first.
    let (status, _) = send(
        &server,
        "GET",
        "/workspaces/ws-other/api/v1/query",
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(server.accepted().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_without_backend_is_an_empty_200() {
    let server = AmpServer::start(config()).await.unwrap();
    let body = b"\x00snappy-compressed-protobuf";
    let path = ws_path("/api/v1/remote_write");
    let headers = Signer::good().headers(
        &server,
        "POST",
        &path,
        &[
            ("content-encoding", "snappy"),
            ("content-type", "application/x-protobuf"),
            ("x-prometheus-remote-write-version", "0.1.0"),
        ],
        body,
    );
    let (status, answer) = send(&server, "POST", &path, &headers, body).await;
    assert_eq!((status, answer.as_str()), (200, ""));
    let rec = &server.accepted()[0];
    assert_eq!(rec.body, body);
    assert_eq!(
        rec.verification.as_ref().unwrap().signed_headers,
        [
            "content-encoding",
            "content-type",
            "host",
            "x-amz-date",
            "x-prometheus-remote-write-version"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_is_forwarded_to_the_backend() {
    let (backend, seen) = start_backend().await;
    let server = AmpServer::start(config().with_backend(&backend))
        .await
        .unwrap();
    let body = vec![7u8; 100];
    let path = ws_path("/api/v1/remote_write");
    let headers = Signer::good().headers(&server, "POST", &path, &[], &body);
    assert_eq!(send(&server, "POST", &path, &headers, &body).await.0, 200);
    assert_eq!(seen.lock().unwrap()[0].2, "100 bytes");
}

#[test]
fn blocking_server_answers_with_the_fixed_document() {
    let answer = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"3"]}}"#;
    let server = AmpServer::start_blocking(config().with_query_answer(answer)).unwrap();
    let path = ws_path("/api/v1/query?query=scalar%28vector%283%29%29");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let headers = Signer::good().headers(&server, "GET", &path, &[], b"");
    prescale_testkit::ensure_crypto_provider();
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let mut req = client.get(format!("{}{path}", server.url()));
    for (n, v) in &headers {
        req = req.header(n, v);
    }
    let resp = req.send().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().unwrap(), answer);
    // The async helpers work against it too.
    let (status, _) = runtime.block_on(send(&server, "GET", &path, &[], b""));
    assert_eq!(status, 403);
    assert_eq!(server.accepted().len(), 1);
    assert_eq!(server.rejected().len(), 1);
    drop(server);
}
