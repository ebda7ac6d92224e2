//! `PrometheusScaler::query_range` against real servers: Prometheus 2.42 and VictoriaMetrics 1.79 fed through
//! remote write 1.0 (`prescale-promwire`), the AMP-like SigV4 server of `prescale-testkit` in front of a real
//! Prometheus, and a loopback server that records the request for the headers.
//!
//! The binaries come from `PRESCALE_PROMETHEUS_BIN` and `PRESCALE_VICTORIA_METRICS_BIN`; without them a test
//! prints why and passes, unless `PRESCALE_REQUIRE_REAL` is set (CI sets it), in which case it fails.
#[path = "support/loopback.rs"]
mod loopback;
#[path = "support/servers.rs"]
mod servers;
#[path = "support/trigger.rs"]
mod trigger;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use loopback::{serve, serve_answers};
use prescale_aws::AwsEnv;
use prescale_core::spec::ScaleTrigger;
use prescale_promwire::Series;
use prescale_scalers::prometheus::RangeSeries;
use prescale_scalers::{Error, PrometheusScaler, Result, ScalerContext, TriggerAuth};
use prescale_testkit::amp::{AmpConfig, AmpServer};
use servers::Server;
use trigger::prometheus_trigger;

const STEP: Duration = Duration::from_secs(15);
const MINUTE: Duration = Duration::from_secs(60);
/// Samples written per series: one every 15 s over 50 minutes, both ends included.
const SAMPLES: i64 = 201;

fn trigger(server_address: &str, query: &str, extra: &[(&str, &str)]) -> ScaleTrigger {
    let mut t = prometheus_trigger(&[
        ("serverAddress", server_address),
        ("query", query),
        ("threshold", "1"),
        ("timeout", "10000"),
    ]);
    t.metadata
        .extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    t
}

fn scaler(server_address: &str, query: &str) -> PrometheusScaler {
    PrometheusScaler::new(
        &ScalerContext::new(),
        0,
        &trigger(server_address, query, &[]),
        TriggerAuth::default(),
    )
    .unwrap()
}

fn block<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn t(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap())
}

/// The history written: `first_ms` is a multiple of a minute, samples every 15 s.
struct History {
    first_ms: i64,
    last_ms: i64,
}

impl History {
    /// The 50 minutes up to a minute boundary at least 5 s in the past (Prometheus accepts recent samples only).
    fn recent() -> Self {
        let now_ms = i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap();
        let last_ms = (now_ms - 5_000).div_euclid(60_000) * 60_000;
        History {
            first_ms: last_ms - (SAMPLES - 1) * 15_000,
            last_ms,
        }
    }

    /// Sample `k`'s value: distinct, exact in binary, not monotonic.
    fn value(k: i64, scale: f64) -> f64 {
        scale * ((k * 37) % 101) as f64 + 0.25
    }

    fn samples(&self, scale: f64) -> Vec<(i64, f64)> {
        (0..SAMPLES)
            .map(|k| (self.first_ms + k * 15_000, Self::value(k, scale)))
            .collect()
    }

    /// The samples on the grid of `step_ms` within `[from_ms, to_ms]`.
    fn expected(&self, scale: f64, from_ms: i64, to_ms: i64, step_ms: i64) -> Vec<(i64, f64)> {
        self.samples(scale)
            .into_iter()
            .filter(|&(ts, _)| ts >= from_ms && ts <= to_ms && ts % step_ms == 0)
            .collect()
    }

    fn series(&self, instance: &str, scale: f64) -> Series {
        Series::new(
            &[
                ("__name__", "ho11y_total"),
                ("job", "ho11y"),
                ("instance", instance),
            ],
            &self.samples(scale),
        )
    }
}

/// What differs between the two servers.
struct Expect {
    /// Whether a single request of more than 11,000 points is refused (Prometheus; VictoriaMetrics allows
    /// 30,000 by default).
    limits_points: bool,
    /// Whether the query at a NaN sample's timestamp gives the sample before it (VictoriaMetrics drops NaN
    /// samples) rather than NaN (Prometheus), which `query_range` leaves out.
    nan_fills_from_the_previous_sample: bool,
    /// Status and `errorType` of a PromQL syntax error, and a fragment of its text.
    syntax_error: (u16, &'static str, &'static str),
}

fn range(s: &PrometheusScaler, from_ms: i64, to_ms: i64, step: Duration) -> Result<RangeSeries> {
    block(s.query_range(t(from_ms), t(to_ms), step))
}

fn scenario(server: &Server, expect: &Expect) {
    let name = server.name;
    let h = History::recent();
    let (status, body) = server.remote_write(&[h.series("a:8765", 1.0)]);
    assert_eq!((status, body.as_str()), (204, ""), "{name}: remote write");
    server.wait_visible(1, t(h.last_ms));
    let base = server.base.as_str();
    let one = scaler(base, "ho11y_total");

    // Every sample back at a 15 s step, and every fourth at 60 s, timestamps and values exact.
    let got = range(&one, h.first_ms, h.last_ms, STEP).unwrap();
    assert_eq!(got.points.len(), 201, "{name}");
    assert_eq!(got.points, h.samples(1.0), "{name}: 15 s");
    // The same history through the `Scaler` trait (what the operator's forecaster bootstrap calls).
    let dyn_scaler: &dyn prescale_scalers::Scaler = &one;
    let via_trait = block(
        dyn_scaler
            .history(t(h.first_ms), t(h.last_ms), STEP)
            .expect("the Prometheus scaler replays its history"),
    )
    .unwrap();
    assert_eq!(via_trait, h.samples(1.0), "{name}: Scaler::history");
    let got = range(&one, h.first_ms, h.last_ms, MINUTE).unwrap();
    assert_eq!(got.points.len(), 51, "{name}");
    assert_eq!(
        got.points,
        h.expected(1.0, h.first_ms, h.last_ms, 60_000),
        "{name}: 60 s"
    );

    // A range off the grid is answered on the multiples of the step inside it, by both servers.
    let got = range(&one, h.first_ms + 7_000, h.last_ms - 7_000, MINUTE).unwrap();
    assert_eq!(
        got.points,
        h.expected(1.0, h.first_ms + 60_000, h.last_ms - 60_000, 60_000),
        "{name}: unaligned"
    );

    // Small chunks join without a missing or repeated point at any of the borders.
    for max in [1, 7, 50, 200, 201] {
        let got = block(one.query_range_chunked(t(h.first_ms), t(h.last_ms), STEP, max)).unwrap();
        assert_eq!(got.points, h.samples(1.0), "{name}: chunks of {max}");
    }

    // A range longer than one request may ask for (11,101 points, the border in the middle of the data):
    // two requests with the real limit, the same history.
    let border_ms = h.first_ms + 100 * 15_000;
    let long_from = border_ms - 11_000 * 15_000;
    let got = range(&one, long_from, h.last_ms, STEP).unwrap();
    assert_eq!(got.points, h.samples(1.0), "{name}: 11,101 points");
    let single = block(one.query_range_chunked(t(long_from), t(h.last_ms), STEP, 20_000));
    if expect.limits_points {
        match single {
            Err(Error::Api {
                status: 400,
                message: Some(m),
                ..
            }) => assert!(m.contains("11,000 points"), "{name}: {m}"),
            other => panic!("{name}: one request of 11,101 points gave {other:?}"),
        }
    } else {
        assert_eq!(single.unwrap().points, h.samples(1.0), "{name}");
    }

    // A NaN sample (not the staleness marker) is left out: a gap in the history.
    let mut gappy = h.samples(1.0);
    gappy[3].1 = f64::NAN;
    let (status, body) = server.remote_write(&[Series::new(
        &[("__name__", "ho11y_gappy"), ("job", "ho11y")],
        &gappy,
    )]);
    assert_eq!((status, body.as_str()), (204, ""), "{name}: NaN write");
    server.flush();
    let got = range(&scaler(base, "ho11y_gappy"), h.first_ms, h.last_ms, STEP).unwrap();
    let mut expected = h.samples(1.0);
    if expect.nan_fills_from_the_previous_sample {
        expected[3].1 = expected[2].1;
    } else {
        expected.remove(3);
    }
    assert_eq!(got.points, expected, "{name}: NaN");

    // A query that matches nothing is an empty history.
    let none = scaler(base, "ho11y_total{instance=\"nowhere\"}");
    assert_eq!(
        range(&none, h.first_ms, h.last_ms, STEP).unwrap(),
        RangeSeries::default(),
        "{name}"
    );

    // A second series: the bare selector now has two, which is refused; the aggregate adds them up.
    let (status, body) = server.remote_write(&[h.series("b:8765", 2.0)]);
    assert_eq!((status, body.as_str()), (204, ""), "{name}: second write");
    server.wait_visible(2, t(h.last_ms));
    match range(&one, h.first_ms, h.last_ms, MINUTE) {
        Err(Error::Response(msg)) => assert!(
            msg.starts_with(
                "prometheus range query \"ho11y_total\" returned 2 series, but the trigger needs exactly one"
            ) && msg.contains("a:8765")
                && msg.contains("b:8765"),
            "{name}: {msg}"
        ),
        other => panic!("{name}: two series gave {other:?}"),
    }
    let sum = scaler(base, "sum(ho11y_total) + 0");
    let got = range(&sum, h.first_ms, h.last_ms, MINUTE).unwrap();
    let expected: Vec<(i64, f64)> = h
        .expected(1.0, h.first_ms, h.last_ms, 60_000)
        .into_iter()
        .zip(h.expected(2.0, h.first_ms, h.last_ms, 60_000))
        .map(|((ts, a), (_, b))| (ts, a + b))
        .collect();
    assert_eq!(got.points, expected, "{name}: sum");

    // PromQL the server cannot parse: its status, errorType and text.
    let bad = scaler(base, "sum(rate(ho11y_total[1m])");
    match range(&bad, h.first_ms, h.last_ms, MINUTE) {
        Err(Error::Api {
            status,
            error_type,
            message: Some(message),
            body_excerpt: None,
        }) => {
            assert_eq!(
                (status, error_type.as_deref()),
                (expect.syntax_error.0, Some(expect.syntax_error.1)),
                "{name}: {message}"
            );
            assert!(message.contains(expect.syntax_error.2), "{name}: {message}");
        }
        other => panic!("{name}: syntax error gave {other:?}"),
    }
}

#[test]
fn prometheus_2_42_query_range() {
    let Some(server) = Server::prometheus() else {
        return;
    };
    scenario(
        &server,
        &Expect {
            limits_points: true,
            nan_fills_from_the_previous_sample: false,
            syntax_error: (400, "bad_data", "parse error"),
        },
    );
}

#[test]
fn victoria_metrics_1_79_query_range() {
    let Some(server) = Server::victoria_metrics() else {
        return;
    };
    scenario(
        &server,
        &Expect {
            limits_points: false,
            nan_fills_from_the_previous_sample: true,
            syntax_error: (422, "422", "unexpected token"),
        },
    );
}

const AKID: &str = "AKIDRANGETEST";
const SECRET: &str = "range/secret+key";
const REGION: &str = "eu-west-1";
const WS: &str = "ws-range-0001";

/// A trigger signed with key `AKID` and `secret` for the AMP-like server's workspace; spaces and a '+' in
/// the query, and a query parameter, which must all survive signing unchanged.
fn signed_scaler(amp: &AmpServer, secret: &str) -> PrometheusScaler {
    let env = AwsEnv::from_vars([("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string())])
        .with_home(std::env::temp_dir().join("prescale-range-test-no-home"));
    let params: BTreeMap<String, String> = [
        ("awsAccessKeyID".to_string(), AKID.to_string()),
        ("awsSecretAccessKey".to_string(), secret.to_string()),
    ]
    .into();
    let t0 = trigger(
        &amp.workspace_url(),
        "sum(ho11y_total) + 0",
        &[("awsRegion", REGION), ("queryParameters", "dedup=true")],
    );
    PrometheusScaler::new(
        &ScalerContext::with_aws_env(env),
        0,
        &t0,
        TriggerAuth {
            params: Some(&params),
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn sigv4_signed_range_requests_verify_at_the_amp_like_server_in_front_of_prometheus() {
    let Some(prometheus) = Server::prometheus() else {
        return;
    };
    let h = History::recent();
    let (status, _) = prometheus.remote_write(&[h.series("a:8765", 1.0)]);
    assert_eq!(status, 204);
    prometheus.wait_visible(1, t(h.last_ms));
    let amp = AmpServer::start_blocking(
        AmpConfig::new(REGION, WS)
            .with_key(AKID, SECRET)
            .with_backend(prometheus.base.clone()),
    )
    .unwrap();
    let s = signed_scaler(&amp, SECRET);
    assert_eq!(s.sigv4_region(), Some(REGION));
    let got = block(s.query_range_chunked(t(h.first_ms), t(h.last_ms), STEP, 50)).unwrap();
    assert_eq!(got.points, h.samples(1.0));
    let reqs = amp.requests();
    assert_eq!(reqs.len(), 5, "201 points in chunks of 50");
    for r in &reqs {
        let v = r.verification.as_ref().expect("signature verified");
        assert_eq!(v.access_key_id, AKID);
        assert_eq!(r.path, format!("/workspaces/{WS}/api/v1/query_range"));
        let q = r.query.as_deref().unwrap();
        assert!(
            q.starts_with("query=sum%28ho11y_total%29%20%2B%200&start=")
                && q.ends_with("&dedup=true"),
            "{q}"
        );
        assert_eq!(r.status, 200);
    }
    // A wrong secret: refused by the server, with its message, for the first chunk.
    let s = signed_scaler(&amp, "wrong");
    let err = block(s.query_range(t(h.first_ms), t(h.last_ms), STEP)).unwrap_err();
    assert!(matches!(err, Error::Api { status: 403, .. }), "{err:?}");
    assert!(err.to_string().contains("signature"), "{err}");
    assert_eq!(amp.rejected().len(), 1);
}

#[test]
fn range_requests_carry_the_triggers_headers_auth_namespace_and_query_parameters() {
    const BODY: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1705581240,"4"],[1705581300,"NaN"],[1705581360,"6.5"]]}]}}"#;
    let (base, handle) = serve(2, 200, BODY);
    let t0 = trigger(
        &base,
        "sum(up)",
        &[
            ("authModes", "bearer"),
            ("customHeaders", "X-Scope-OrgID=tenant-1,X-Other=o"),
            ("namespace", "team-a"),
            ("queryParameters", "dedup=true,partial_response=false"),
        ],
    );
    let params: BTreeMap<String, String> =
        [("bearerToken".to_string(), "tok-123".to_string())].into();
    let s = PrometheusScaler::new(
        &ScalerContext::new(),
        0,
        &t0,
        TriggerAuth {
            params: Some(&params),
            ..Default::default()
        },
    )
    .unwrap();
    // 2024-01-18T12:34:00Z to 12:36:00Z every minute, two points per request: two requests.
    let got = block(s.query_range_chunked(t(1_705_581_240_000), t(1_705_581_360_000), MINUTE, 2))
        .unwrap();
    // Both answers are the fixed body; the second's points repeat the first's timestamps and are dropped,
    // and NaN is a gap.
    assert_eq!(
        got.points,
        vec![(1_705_581_240_000, 4.0), (1_705_581_360_000, 6.5)]
    );
    let received = handle.join().unwrap();
    let lines: Vec<&str> = received.iter().map(|r| r.request_line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "GET /api/v1/query_range?query=sum%28up%29&start=1705581240&end=1705581300&step=60&namespace=team-a&dedup=true&partial_response=false HTTP/1.1",
            "GET /api/v1/query_range?query=sum%28up%29&start=1705581360&end=1705581360&step=60&namespace=team-a&dedup=true&partial_response=false HTTP/1.1",
        ]
    );
    for r in &received {
        assert_eq!(r.all("authorization"), ["Bearer tok-123"]);
        assert_eq!(r.all("x-scope-orgid"), ["tenant-1"]);
        assert_eq!(r.all("x-other"), ["o"]);
    }
}

#[test]
fn a_failed_request_of_a_chunked_range_names_its_chunk_and_window() {
    const OK: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1705581240,"4"],[1705581300,"5"]]}]}}"#;
    const FAILED: &str = r#"{"status":"error","errorType":"execution","error":"query timed out"}"#;
    // 2024-01-18T12:34:00Z to 12:38:00Z every minute, two points per request: three requests, the
    // second refused; the third is never sent.
    let (base, handle) = serve_answers(vec![(200, OK), (503, FAILED)]);
    let s = scaler(&base, "sum(up)");
    let err = block(s.query_range_chunked(t(1_705_581_240_000), t(1_705_581_480_000), MINUTE, 2))
        .unwrap_err();
    match &err {
        Error::RangeChunk {
            index: 2,
            count: 3,
            window,
            source,
        } => {
            assert_eq!(
                window,
                "2024-01-18T12:36:00Z (1705581360)..2024-01-18T12:37:00Z (1705581420)"
            );
            assert_eq!(
                **source,
                Error::Api {
                    status: 503,
                    error_type: Some("execution".to_string()),
                    message: Some("query timed out".to_string()),
                    body_excerpt: None,
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "range chunk 2 of 3 (2024-01-18T12:36:00Z (1705581360)..2024-01-18T12:37:00Z (1705581420)): \
         prometheus query api returned error. status: 503: execution: query timed out"
    );
    let lines: Vec<String> = handle
        .join()
        .unwrap()
        .into_iter()
        .map(|r| r.request_line)
        .collect();
    assert_eq!(
        lines,
        [
            "GET /api/v1/query_range?query=sum%28up%29&start=1705581240&end=1705581300&step=60 HTTP/1.1",
            "GET /api/v1/query_range?query=sum%28up%29&start=1705581360&end=1705581420&step=60 HTTP/1.1",
        ]
    );
}

#[test]
fn a_single_request_range_error_is_the_requests_own() {
    const FAILED: &str = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
    let (base, handle) = serve(1, 400, FAILED);
    let s = scaler(&base, "sum(up)");
    let err = block(s.query_range_chunked(t(1_705_581_240_000), t(1_705_581_300_000), MINUTE, 2))
        .unwrap_err();
    assert_eq!(
        err,
        Error::Api {
            status: 400,
            error_type: Some("bad_data".to_string()),
            message: Some("parse error".to_string()),
            body_excerpt: None,
        }
    );
    assert_eq!(handle.join().unwrap().len(), 1);
}
