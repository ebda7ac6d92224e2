//! `PrometheusScaler` over real HTTP against a tiny loopback server started by each test: the exact request
//! line and headers it sends (custom headers, bearer/basic/custom auth), how it reads the answer, its timeout,
//! and the cases it refuses without sending anything (unknown trigger types). SigV4 is in `sigv4.rs`.
#[path = "support/loopback.rs"]
mod loopback;
#[path = "support/trigger.rs"]
mod trigger;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prescale_core::keda::trigger::TargetType;
use prescale_core::spec::{MetricTargetType, ScaleTrigger};
use prescale_scalers::{
    Error, Evaluation, PrometheusScaler, Result, Scaler, ScalerContext, TriggerAuth,
};

use loopback::{Received, serve_once};
use trigger::prometheus_trigger;

/// 2024-01-18T12:34:56Z, plus a fraction the `time` parameter drops.
fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_705_581_296_789)
}

const VALUE_2_5: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1705581296,"2.5"]}]}}"#;

/// Builds trigger `index` with authentication parameters `auth` on a fresh context.
fn prom(
    index: usize,
    t: &ScaleTrigger,
    auth: &BTreeMap<String, String>,
) -> Result<PrometheusScaler> {
    let auth = TriggerAuth {
        params: Some(auth),
        ..Default::default()
    };
    PrometheusScaler::new(&ScalerContext::new(), index, t, auth)
}

/// The registry's `build` with authentication parameters `auth`.
fn build_scaler(
    index: usize,
    t: &ScaleTrigger,
    auth: &BTreeMap<String, String>,
) -> Result<Box<dyn Scaler>> {
    let auth = TriggerAuth {
        params: Some(auth),
        ..Default::default()
    };
    ScalerContext::new().build(index, t, auth)
}

/// Runs one evaluation to completion on a fresh single-threaded runtime.
fn eval(s: &dyn Scaler) -> Result<Evaluation> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(s.evaluate(at()))
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Evaluates one trigger against a server answering `VALUE_2_5`; returns what was sent.
fn sent(meta: &[(&str, &str)], auth: &[(&str, &str)]) -> Received {
    let (base, handle) = serve_once(200, VALUE_2_5);
    let mut pairs = vec![("serverAddress", base.as_str())];
    pairs.extend_from_slice(meta);
    let scaler = prom(0, &prometheus_trigger(&pairs), &map(auth)).unwrap();
    let eval = eval(&scaler).unwrap();
    assert_eq!(eval.value, 2.5);
    handle.join().unwrap()
}

#[test]
fn sends_the_exact_request_line_custom_headers_and_no_auth() {
    let (base, handle) = serve_once(200, VALUE_2_5);
    let t = prometheus_trigger(&[
        ("serverAddress", &format!("{base}/prefix")),
        ("query", "sum(rate(ho11y_total{job=\"a b\"}[1m])) + 1"),
        ("threshold", "2"),
        ("activationThreshold", "2.4"),
        ("namespace", "team-a"),
        ("queryParameters", "dedup=false,x=y z"),
        ("customHeaders", "X-Scope-OrgID=tenant1,X-Extra=1"),
    ]);
    let scaler = prom(3, &t, &BTreeMap::new()).unwrap();
    assert_eq!(scaler.metric_name(), "s3-prometheus");
    assert_eq!(scaler.target_type(), TargetType::AverageValue);
    assert_eq!(scaler.target_value(), 2.0);
    assert_eq!(scaler.activation_threshold(), 2.4);
    assert_eq!(scaler.timeout(), Duration::from_secs(3));
    let eval = eval(&scaler).unwrap();
    assert_eq!(
        eval,
        Evaluation {
            value: 2.5,
            active: true
        }
    );
    let got = handle.join().unwrap();
    assert_eq!(
        got.request_line,
        "GET /prefix/api/v1/query?query=sum%28rate%28ho11y_total%7Bjob%3D%22a%20b%22%7D%5B1m%5D%29%29%20%2B%201\
         &time=2024-01-18T12:34:56Z&namespace=team-a&dedup=false&x=y%20z HTTP/1.1"
    );
    assert_eq!(got.all("x-scope-orgid"), ["tenant1"]);
    assert_eq!(got.all("x-extra"), ["1"]);
    assert_eq!(got.all("authorization"), Vec::<&str>::new());
    assert_eq!(got.all("host"), [base.trim_start_matches("http://")]);
}

#[test]
fn active_is_strictly_greater_than_the_activation_threshold() {
    let (base, handle) = serve_once(200, VALUE_2_5);
    let t = prometheus_trigger(&[
        ("serverAddress", &base),
        ("query", "q"),
        ("threshold", "1"),
        ("activationThreshold", "2.5"),
    ]);
    let eval = eval(&prom(0, &t, &BTreeMap::new()).unwrap()).unwrap();
    handle.join().unwrap();
    assert_eq!(
        eval,
        Evaluation {
            value: 2.5,
            active: false
        }
    );
}

#[test]
fn bearer_auth_sends_the_token() {
    let got = sent(
        &[("query", "q"), ("threshold", "1"), ("authModes", "bearer")],
        &[("bearerToken", "s3cr3t")],
    );
    assert_eq!(got.all("authorization"), ["Bearer s3cr3t"]);
}

#[test]
fn basic_auth_sends_base64_of_user_and_password() {
    let got = sent(
        &[("query", "q"), ("threshold", "1"), ("authModes", "basic")],
        &[("username", "user"), ("password", "p@ss")],
    );
    // base64("user:p@ss")
    assert_eq!(got.all("authorization"), ["Basic dXNlcjpwQHNz"]);
}

#[test]
fn custom_auth_replaces_a_custom_header_of_the_same_name() {
    let got = sent(
        &[
            ("query", "q"),
            ("threshold", "1"),
            ("authModes", "custom"),
            ("customHeaders", "X-Api-Key=from-metadata,X-Other=o"),
        ],
        &[
            ("customAuthHeader", "X-Api-Key"),
            ("customAuthValue", "k3y"),
        ],
    );
    assert_eq!(got.all("x-api-key"), ["k3y"]);
    assert_eq!(got.all("x-other"), ["o"]);
    assert_eq!(got.all("authorization"), Vec::<&str>::new());
}

#[test]
fn a_server_error_comes_back_with_its_text() {
    let (base, handle) = serve_once(
        400,
        r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"}"#,
    );
    let t = prometheus_trigger(&[
        ("serverAddress", &base),
        ("query", "sum("),
        ("threshold", "1"),
    ]);
    let err = eval(&prom(0, &t, &BTreeMap::new()).unwrap()).unwrap_err();
    handle.join().unwrap();
    assert_eq!(
        err.to_string(),
        "prometheus query api returned error. status: 400: bad_data: 1:5: parse error: unclosed left parenthesis"
    );
}

#[test]
fn the_timeout_metadata_bounds_the_request() {
    // A server that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let t = prometheus_trigger(&[
        ("serverAddress", &base),
        ("query", "q"),
        ("threshold", "1"),
        ("timeout", "300"),
    ]);
    let scaler = prom(0, &t, &BTreeMap::new()).unwrap();
    assert_eq!(scaler.timeout(), Duration::from_millis(300));
    let start = Instant::now();
    let err = eval(&scaler).unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}: {err}"
    );
    drop(listener);
}

#[test]
fn a_value_metric_type_is_reported() {
    let mut t = prometheus_trigger(&[
        ("serverAddress", "http://127.0.0.1:1"),
        ("query", "q"),
        ("threshold", "5"),
    ]);
    t.metric_type = Some(MetricTargetType::Value);
    let scaler = build_scaler(1, &t, &BTreeMap::new()).unwrap();
    assert_eq!(scaler.target_type(), TargetType::Value);
    assert_eq!(scaler.metric_name(), "s1-prometheus");
}

#[test]
fn metadata_errors_are_keda_s() {
    let t = prometheus_trigger(&[("serverAddress", "http://127.0.0.1:1"), ("threshold", "1")]);
    let err = build_scaler(0, &t, &BTreeMap::new()).err().unwrap();
    assert!(
        err.to_string()
            .contains("missing required parameter \"query\""),
        "{err}"
    );
}

#[test]
fn unknown_trigger_types_are_named() {
    let mut t = prometheus_trigger(&[("value", "50")]);
    t.kind = "cpu".to_string();
    let err = build_scaler(2, &t, &BTreeMap::new()).err().unwrap();
    assert_eq!(
        err.to_string(),
        "trigger 2: no scaler for trigger type \"cpu\" (supported: prometheus)"
    );
}

#[test]
fn dropping_an_evaluation_cancels_it_and_closes_the_connection() {
    use std::io::Read;
    // A server that accepts and never answers; the trigger's own timeout is long.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let t = prometheus_trigger(&[
        ("serverAddress", &base),
        ("query", "q"),
        ("threshold", "1"),
        ("timeout", "60s"),
    ]);
    let scaler = prom(0, &t, &BTreeMap::new()).unwrap();
    let accepted = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // Read the request, then wait for the client to hang up (read returns 0).
        let mut buf = [0u8; 4096];
        let start = Instant::now();
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return Some(start.elapsed()),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let outcome = rt.block_on(async {
        tokio::time::timeout(Duration::from_millis(200), scaler.evaluate(at())).await
    });
    assert!(outcome.is_err(), "the evaluation should still be pending");
    assert!(start.elapsed() < Duration::from_secs(2));
    // Keep the runtime (and the client's connection tasks) alive and running while the server waits: the
    // connection must close because the evaluation was dropped, not because the runtime went away.
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !accepted.is_finished() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    assert!(
        accepted.is_finished(),
        "the connection is still open after cancellation"
    );
    drop(scaler);
    let closed_after = accepted.join().unwrap();
    assert!(
        closed_after.is_some_and(|d| d < Duration::from_secs(5)),
        "the connection was not closed after cancellation: {closed_after:?}"
    );
}
