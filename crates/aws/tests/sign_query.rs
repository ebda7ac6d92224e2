//! Signing Prometheus (AMP) query requests: the `+` pitfall, and that what is signed is
//! what a real HTTP client sends (checked by a loopback server that recomputes the
//! signature over the request it received and decodes the query as Prometheus does).

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::HeaderValue;
use prescale_aws::{SignError, sign};
use support::*;

const PROMQL: &str = r#"sum(rate(http_requests_total{job="api", path=~"/v1/.+"}[5m])) + 2 * scalar(up{instance="a b"}) / 3"#;

/// RFC 3986 encoding: everything but unreserved characters as %XX (space → %20,
/// `+` → %2B), which is what `sign` documents for query values.
fn encode_component(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Default)]
struct Received {
    params: Mutex<Vec<BTreeMap<String, String>>>,
    raw_queries: Mutex<Vec<String>>,
}

/// Verifies the SigV4 signature (service `aps`) and records the query parameters,
/// decoded the way Prometheus decodes them (form decoding: `+` is a space).
async fn fake_prometheus(received: Arc<Received>) -> std::net::SocketAddr {
    async fn handler(
        State(received): State<Arc<Received>>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        if let Err(why) = verify_sigv4(&method, &uri, &headers, &body, "aps") {
            return (StatusCode::FORBIDDEN, why).into_response();
        }
        let raw = uri.query().unwrap_or("").to_string();
        let mut params: BTreeMap<String, String> = form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect();
        if method == Method::POST {
            params.extend(form_urlencoded::parse(&body).into_owned());
        }
        received.raw_queries.lock().unwrap().push(raw);
        received.params.lock().unwrap().push(params);
        (
            StatusCode::OK,
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        )
            .into_response()
    }
    serve(Router::new().fallback(any(handler)).with_state(received)).await
}

#[tokio::test]
async fn promql_get_query_signs_consistently_with_what_is_sent() {
    let received = Arc::new(Received::default());
    let addr = fake_prometheus(received.clone()).await;
    let url = format!(
        "http://{addr}/workspaces/ws-123/api/v1/query?query={}&time=1700000000.5",
        encode_component(PROMQL)
    );
    assert!(
        url.contains("%2B") && url.contains("%20") && url.contains("%7B") && url.contains("%22")
    );
    let mut headers = http::HeaderMap::new();
    sign(
        &http::Method::GET,
        &url,
        &mut headers,
        b"",
        &base_creds(),
        "us-west-2",
        "aps",
        SystemTime::now(),
    )
    .unwrap();
    let auth = headers["authorization"].to_str().unwrap().to_string();
    assert!(
        auth.contains("/us-west-2/aps/aws4_request, SignedHeaders=host;x-amz-date,"),
        "{auth}"
    );
    let response = http().get(&url).headers(headers).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    let params = received.params.lock().unwrap()[0].clone();
    assert_eq!(
        params["query"], PROMQL,
        "the server must see the PromQL unchanged"
    );
    assert_eq!(params["time"], "1700000000.5");
    // The client sent the URL exactly as signed.
    assert_eq!(
        received.raw_queries.lock().unwrap()[0],
        url.split_once('?').unwrap().1
    );
}

#[tokio::test]
async fn promql_post_form_body_is_covered_by_the_payload_hash() {
    let received = Arc::new(Received::default());
    let addr = fake_prometheus(received.clone()).await;
    let url = format!("http://{addr}/workspaces/ws-123/api/v1/query");
    // In a body, form encoding (with '+' for spaces) is fine: the bytes are hashed as sent.
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("query", PROMQL)
        .finish();
    assert!(body.contains('+'));
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    sign(
        &http::Method::POST,
        &url,
        &mut headers,
        body.as_bytes(),
        &base_creds(),
        "us-west-2",
        "aps",
        SystemTime::now(),
    )
    .unwrap();
    let response = http()
        .post(&url)
        .headers(headers.clone())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(received.params.lock().unwrap()[0]["query"], PROMQL);

    // A changed body no longer matches the signature.
    let response = http()
        .post(&url)
        .headers(headers)
        .body(body.replace("sum", "max"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[test]
fn urls_that_would_be_signed_differently_from_how_they_are_sent_are_rejected() {
    let creds = base_creds();
    let try_sign = |url: &str| {
        let mut headers = http::HeaderMap::new();
        let r = sign(
            &http::Method::GET,
            url,
            &mut headers,
            b"",
            &creds,
            "us-west-2",
            "aps",
            SystemTime::now(),
        );
        if r.is_err() {
            assert!(headers.is_empty(), "nothing is added on error");
        }
        r
    };
    let base = "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/query";
    // A literal '+' (PromQL addition, or a form-encoded space).
    let e = try_sign(&format!("{base}?query=up+1")).unwrap_err();
    assert!(
        matches!(e, SignError::PlusInQuery { position: 8, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("%2B"), "{e}");
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("query", "sum(up) by (job)")
        .finish();
    assert!(matches!(
        try_sign(&format!("{base}?{form}")),
        Err(SignError::PlusInQuery { .. })
    ));
    // Bytes clients percent-encode before sending.
    for (raw, encoded) in [
        ("up{job=\"a\"}", "%7B"),
        ("a b", "%20"),
        ("\"x\"", "%22"),
        ("a|b", "%7C"),
        ("é", "%C3%A9"),
        ("100%", "%25"),
    ] {
        let e = try_sign(&format!("{base}?query={raw}")).unwrap_err();
        assert!(
            matches!(e, SignError::NotEncoded { part: "query", .. }),
            "{raw}: {e:?}"
        );
        assert!(e.to_string().contains(encoded), "{raw}: {e}");
        assert!(
            e.to_string().contains("ws-1"),
            "the error names the URL: {e}"
        );
    }
    assert!(matches!(
        try_sign("https://h.example/a b"),
        Err(SignError::NotEncoded { part: "path", .. })
    ));
    assert!(matches!(
        try_sign(&format!("{base}#x")),
        Err(SignError::InvalidUrl { .. })
    ));
    assert!(matches!(
        try_sign("aps-workspaces.us-west-2.amazonaws.com/x"),
        Err(SignError::InvalidUrl { .. })
    ));
    // The encoded forms are accepted; `/`, `:`, `=`, `,` and `@` may stay raw in a
    // query, brackets may not.
    try_sign(&format!("{base}?query={}", encode_component(PROMQL))).unwrap();
    try_sign(&format!(
        "{base}?query=rate(x[5m])/2&start=2026-01-01T00:00:00Z&a=b,c@d"
    ))
    .unwrap_err();
    try_sign(&format!(
        "{base}?query=rate(x%5B5m%5D)/2&start=2026-01-01T00:00:00Z&a=b,c@d"
    ))
    .unwrap();
}

#[test]
fn non_ascii_header_values_are_rejected_with_the_header_name() {
    let mut headers = http::HeaderMap::new();
    headers.insert("x-custom", HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
    let e = sign(
        &http::Method::GET,
        "https://example.amazonaws.com/",
        &mut headers,
        b"",
        &base_creds(),
        "us-east-1",
        "service",
        SystemTime::now(),
    )
    .unwrap_err();
    assert!(
        matches!(&e, SignError::InvalidHeader { name, .. } if name == "x-custom"),
        "{e:?}"
    );
}

#[test]
fn host_header_overrides_the_url_authority() {
    // aws-sigv4-proxy style: send to a local proxy, sign for the AMP host.
    let creds = base_creds();
    let time = SystemTime::now();
    let sign_with = |url: &str, host: Option<&str>| {
        let mut headers = http::HeaderMap::new();
        if let Some(h) = host {
            headers.insert("host", HeaderValue::from_str(h).unwrap());
        }
        sign(
            &http::Method::GET,
            url,
            &mut headers,
            b"",
            &creds,
            "us-west-2",
            "aps",
            time,
        )
        .unwrap();
        headers["authorization"].to_str().unwrap().to_string()
    };
    let amp = "aps-workspaces.us-west-2.amazonaws.com";
    let direct = sign_with(
        &format!("https://{amp}/workspaces/w/api/v1/query?query=up"),
        None,
    );
    let via_proxy = sign_with(
        "http://127.0.0.1:8080/workspaces/w/api/v1/query?query=up",
        Some(amp),
    );
    assert_eq!(direct, via_proxy);
    let default_port = sign_with(
        &format!("https://{amp}:443/workspaces/w/api/v1/query?query=up"),
        None,
    );
    assert_eq!(
        direct, default_port,
        "the default port is not part of the signed host"
    );
    let other = sign_with(
        "http://127.0.0.1:8080/workspaces/w/api/v1/query?query=up",
        None,
    );
    assert_ne!(direct, other);
}
