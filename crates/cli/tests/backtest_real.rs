//! `prescale backtest` against real servers: Prometheus 2.42 and VictoriaMetrics 1.79 holding a known gauge
//! (remote-written by `prescale-promwire`: one sample every 15 s over the last hour, a ramp, a spike and one
//! NaN), the AMP-like SigV4 server of `prescale-testkit` in front of Prometheus, and the error cases.
//!
//! The keda-hpa numbers of the backtest are checked against `prescale_sim::simulate` run here on a scenario
//! built from the server's own `query_range` answer. Needs `PRESCALE_PROMETHEUS_BIN` and
//! `PRESCALE_VICTORIA_METRICS_BIN` (see `crates/scalers/tests/support/servers.rs`).

#[path = "../../scalers/tests/support/servers.rs"]
mod servers;
mod support {
    pub mod cli;
}

use std::path::{Path, PathBuf};
use std::process::Output;
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prescale_core::spec::{DocumentContent, KedaObject, ScaledObject};
use prescale_promwire::Series as WriteSeries;
use prescale_sim::bench::Policy;
use prescale_sim::scenario::{Controller, MetricSource, Scenario, TriggerRef, Workload};
use prescale_sim::series::{Sample, Series};
use prescale_sim::{Options, simulate};
use prescale_testkit::amp::{AmpConfig, AmpServer};
use serde_json::Value;
use servers::{Server, client};
use support::cli::{amp_keys_yaml, aws_isolated, json_ok};

const STEP_MS: i64 = 15_000;
/// Samples written: one every 15 s over an hour, both ends included.
const SAMPLES: i64 = 241;
/// The sample written as NaN.
const NAN_AT: i64 = 150;
const CAPACITY: f64 = 10.0;

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn t(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap())
}

/// Sample `k`'s value: a ramp from 20 by 0.5 per sample, with a spike of +250 for two minutes.
fn value(k: i64) -> f64 {
    let ramp = 20.0 + 0.5 * k as f64;
    if (200..208).contains(&k) {
        ramp + 250.0
    } else {
        ramp
    }
}

/// The hour of samples up to a 15 s boundary at least 5 s ago; sample `NAN_AT` is NaN.
fn samples() -> Vec<(i64, f64)> {
    let last = (now_ms() - 5_000).div_euclid(STEP_MS) * STEP_MS;
    (0..SAMPLES)
        .map(|k| {
            let v = if k == NAN_AT { f64::NAN } else { value(k) };
            (last - (SAMPLES - 1 - k) * STEP_MS, v)
        })
        .collect()
}

fn gauge(instance: &str, samples: &[(i64, f64)]) -> WriteSeries {
    WriteSeries::new(
        &[
            ("__name__", "backtest_load"),
            ("job", "bt"),
            ("instance", instance),
        ],
        samples,
    )
}

/// Writes `series` and waits until `count(backtest_load)` at the last sample is `expect`.
fn write(server: &Server, series: &[WriteSeries], at_ms: i64, expect: usize) {
    let (status, body) = server.remote_write(series);
    assert_eq!(
        (status, body.as_str()),
        (204, ""),
        "{}: remote write",
        server.name
    );
    server.flush();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let data = server.raw_query("count(backtest_load)", t(at_ms));
        if data["result"][0]["value"][1] == Value::String(expect.to_string()) {
            return;
        }
        assert!(Instant::now() < deadline, "{}: {data}", server.name);
        sleep(Duration::from_millis(100));
    }
}

fn scaled_object_yaml(
    server_address: &str,
    query: &str,
    extra_metadata: &str,
    tail: &str,
) -> String {
    format!(
        r#"apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: shop
  namespace: web
  annotations:
    prescale.dev/forecast-margin: "10"
spec:
  scaleTargetRef:
    name: shop
  minReplicaCount: 2
  maxReplicaCount: 40
  pollingInterval: 15
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 60
  triggers:
    - type: prometheus
      name: load
      metadata:
        serverAddress: {server_address}
        threshold: '{CAPACITY}'
        query: '{query}'{extra_metadata}{tail}
"#
    )
}

fn backtest(dir: &Path, so: &Path, extra: &[&str]) -> Output {
    aws_isolated(dir, &[])
        .args(["backtest", "--quiet", "-f"])
        .arg(so)
        .args(["--from", "-50m", "--to", "now", "--step", "15s"])
        .args(extra)
        .output()
        .unwrap()
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The server's own range answer, independently of prescale: `(unix ms, value)`, NaN left out.
fn raw_range(server: &Server, query: &str, first_ms: i64, points: i64) -> Vec<(i64, f64)> {
    let last_ms = first_ms + (points - 1) * STEP_MS;
    let params = form_urlencoded::Serializer::new(String::new())
        .append_pair("query", query)
        .append_pair("start", &(first_ms / 1000).to_string())
        .append_pair("end", &(last_ms / 1000).to_string())
        .append_pair("step", "15")
        .finish();
    let resp = client()
        .get(format!("{}/api/v1/query_range?{params}", server.base))
        .send()
        .unwrap();
    let json: Value = serde_json::from_slice(&resp.bytes().unwrap()).unwrap();
    let result = json["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "{json}");
    result[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let ms = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
            let v: f64 = p[1].as_str().unwrap().parse().unwrap();
            (!v.is_nan()).then_some((ms, v))
        })
        .collect()
}

fn load_so(text: &str) -> ScaledObject {
    let docs = prescale_core::spec::load(text);
    match &docs[0].content {
        DocumentContent::Keda(KedaObject::ScaledObject(so)) => so.clone(),
        other => panic!("{other:?}"),
    }
}

/// The number `key` of `policy`'s result in pretty-printed JSON, parsed exactly.
fn number_in(json: &str, policy: &str, key: &str) -> f64 {
    let at = json
        .find(&format!("\"policy\": \"{policy}\""))
        .unwrap_or_else(|| panic!("no {policy} in {json}"));
    let rest = &json[at..];
    let from = rest.find(&format!("\"{key}\": ")).unwrap() + key.len() + 4;
    let text: String = rest[from..]
        .chars()
        .take_while(|c| !matches!(c, ',' | '\n' | '}'))
        .collect();
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{key}: {text:?}: {e}"))
}

/// What prescale-sim gives for keda-hpa on `points` (the server's answer), built here: the ScaledObject
/// without its prescale.dev/ annotations, t = 0 at the first grid point, one step past the last, starting
/// with the pods the first value needs (within minReplicaCount 2 and maxReplicaCount 40).
fn expected_keda_hpa(so_text: &str, points: &[(i64, f64)], first_ms: i64, grid: i64) -> Value {
    let mut so = load_so(so_text);
    so.metadata
        .annotations
        .retain(|k, _| !k.starts_with("prescale.dev/"));
    // Every grid point: its sample, or 0 where the server had none (KEDA's reading of an empty answer).
    let series = Series::new(
        (0..grid)
            .map(|k| {
                let ms = first_ms + k * STEP_MS;
                let v = points.iter().find(|p| p.0 == ms).map_or(0.0, |p| p.1);
                (ms - first_ms, Sample::Value(v))
            })
            .collect(),
    )
    .unwrap();
    let first = if points[0].0 == first_ms {
        points[0].1
    } else {
        0.0
    };
    let initial = ((first / CAPACITY).ceil() as i32).clamp(2, 40);
    let sc = Scenario {
        file: "test".into(),
        scaled_object: so,
        scaled_object_origin: "test".into(),
        duration_ms: grid * STEP_MS,
        workload: Workload {
            initial_replicas: Some(initial),
            pod_startup_ms: 60_000,
            capacity_per_pod: Some(CAPACITY),
            load: TriggerRef::Index(0),
        },
        metrics: vec![MetricSource {
            trigger: TriggerRef::Index(0),
            series,
            origin: "test".into(),
        }],
        controller: Controller::default(),
    };
    let run = simulate(&sc, Options::default()).unwrap();
    let s = run.summary;
    let scores = s.scores.unwrap();
    serde_json::json!({
        "pod_seconds": s.pod_seconds,
        "under_provisioned_s": scores.under_provisioned_s,
        "theta_u": scores.theta_u,
        "theta_o": scores.theta_o,
        "tau_u": scores.tau_u,
        "tau_o": scores.tau_o,
        "instability": scores.instability,
        "scale_actions": s.scale_actions,
        "served_load_pct": scores.served_load_pct,
    })
}

/// The backtest of the gauge on `server`, checked against the server's own answer and the simulator.
fn scenario(server: &Server) {
    let name = server.name;
    let written = samples();
    let last_ms = written.last().unwrap().0;
    write(server, &[gauge("a:1", &written)], last_ms, 1);
    let dir = tempfile::tempdir().unwrap();
    let query = "backtest_load{job=\"bt\"}";
    let so_text = scaled_object_yaml(&server.base, query, "", "");
    let so = write_file(dir.path(), "so.yaml", &so_text);
    let plots = dir.path().join("plots");
    let before = now_ms();
    let out = backtest(
        dir.path(),
        &so,
        &["--format", "json", "--plot", plots.to_str().unwrap()],
    );
    let after = now_ms();
    let json = json_ok(&out);
    let w = &json["workload"];

    // The grid: the multiples of 15 s in the 50 minutes up to the command's "now".
    let first_ms = w["first_point_unix_ms"].as_i64().unwrap();
    let grid = w["grid_points"].as_i64().unwrap();
    assert_eq!(first_ms % STEP_MS, 0, "{w}");
    assert!(
        first_ms >= before - 3_000_000 && first_ms < after - 3_000_000 + STEP_MS,
        "{w}"
    );
    assert!(grid == 200 || grid == 201, "{name}: {w}");
    assert_eq!(w["step_s"], 15.0);
    assert_eq!(w["scaled_object"], "web/shop");
    assert_eq!(w["capacity_per_pod"], CAPACITY);
    assert_eq!(w["pod_startup_s"], 60.0);
    assert_eq!(w["load_trigger"], 0);

    // The points: what the server answers for the grid; Prometheus answers NaN at the NaN sample (a gap),
    // VictoriaMetrics the sample before it.
    let raw = raw_range(server, query, first_ms, grid);
    let trigger = &w["triggers"][0];
    assert_eq!(trigger["name"], "load");
    assert_eq!(trigger["query"], query);
    assert_eq!(trigger["server_address"], server.base.as_str());
    assert_eq!(
        trigger["points"].as_u64().unwrap(),
        raw.len() as u64,
        "{name}: {w}"
    );
    let nan_ms = written[usize::try_from(NAN_AT).unwrap()].0;
    let gaps = u64::from(name == "prometheus");
    assert_eq!(trigger["gaps"].as_u64().unwrap(), gaps, "{name}: {w}");
    assert_eq!(raw.len() as i64, grid - gaps as i64, "{name}");
    for &(ms, v) in &raw {
        let k = written.iter().rposition(|&(at, _)| at <= ms).unwrap();
        let k = if written[k].1.is_nan() { k - 1 } else { k };
        assert_eq!(v, written[k].1, "{name}: at {ms}");
    }
    if name == "prometheus" {
        assert!(
            raw.iter().all(|&(ms, _)| ms != nan_ms),
            "{name}: NaN is a gap"
        );
    }

    // Every policy, in bench's order, on one "trace" named after the ScaledObject.
    let names: Vec<String> = Policy::all().into_iter().map(Policy::name).collect();
    assert_eq!(json["policies"], serde_json::json!(names));
    let traces = json["traces"].as_array().unwrap();
    assert_eq!(traces.len(), 1);
    let tr = &traces[0];
    assert_eq!(tr["trace"], "shop");
    assert_eq!(tr["rows"].as_u64().unwrap(), grid as u64);
    assert_eq!(tr["duration_s"].as_f64().unwrap(), (grid * 15) as f64);
    assert_eq!(
        tr["peak"],
        20.0 + 0.5 * 207.0 + 250.0,
        "{name}: the spike is in the range"
    );
    let results = tr["results"].as_array().unwrap();
    let got: Vec<&str> = results
        .iter()
        .map(|r| r["policy"].as_str().unwrap())
        .collect();
    assert_eq!(got, names);
    for r in results {
        assert!(r["pod_seconds"].as_f64().unwrap() > 0.0, "{r}");
    }

    // keda-hpa: exactly what the simulator gives on the same series (read from the output's text: serde_json
    // parses floats to within an ulp only).
    let expected = expected_keda_hpa(&so_text, &raw, first_ms, grid);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(
            number_in(&stdout, "keda-hpa", k),
            v.as_f64().unwrap(),
            "{name}: keda-hpa {k}"
        );
    }
    let keda = &results[0];
    // The spike is more than keda-hpa can follow: it is under-provisioned for a while, the oracle never.
    assert!(
        keda["under_provisioned_s"].as_f64().unwrap() > 0.0,
        "{keda}"
    );
    let oracle = results.last().unwrap();
    assert!(
        oracle["under_provisioned_s"].as_f64().unwrap()
            < keda["under_provisioned_s"].as_f64().unwrap(),
        "{oracle}"
    );

    // Plots of the load against each policy's capacity.
    assert!(plots.join("shop.svg").is_file());
    assert!(plots.join("shop.png").is_file());

    // The text table: the same comparison, with what was fetched.
    let out = backtest(dir.path(), &so, &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("backtest of ScaledObject web/shop"),
        "{text}"
    );
    for n in &names {
        assert!(text.contains(&format!("  {n} ")), "{n}: {text}");
    }

    // A second instance: the selector now matches 2 series, which the error says, naming the trigger.
    write(server, &[gauge("b:1", &written)], last_ms, 2);
    let out = backtest(dir.path(), &so, &[]);
    assert_eq!(out.status.code(), Some(1), "{name}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("prescale backtest: trigger 0 \"load\" (s0-prometheus): query \"backtest_load{job=\\\"bt\\\"}\"")
            && err.contains("returned 2 series"),
        "{name}: {err}"
    );
}

#[test]
fn prometheus_2_42_backtest_matches_the_simulator() {
    let Some(server) = Server::prometheus() else {
        return;
    };
    scenario(&server);
}

#[test]
fn victoria_metrics_1_79_backtest_matches_the_simulator() {
    let Some(server) = Server::victoria_metrics() else {
        return;
    };
    scenario(&server);
}

const AKID: &str = "AKIDBACKTEST";
const SECRET: &str = "backtest/sigv4+secret";
const REGION: &str = "eu-central-1";
const WS: &str = "ws-bac4e570-0001";

#[test]
fn sigv4_range_requests_are_signed_and_never_sent_unsigned() {
    let Some(prometheus) = Server::prometheus() else {
        return;
    };
    let written = samples();
    let last_ms = written.last().unwrap().0;
    write(&prometheus, &[gauge("a:1", &written)], last_ms, 1);
    let amp = AmpServer::start_blocking(
        AmpConfig::new(REGION, WS)
            .with_key(AKID, SECRET)
            .with_backend(prometheus.base.clone()),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let query = "sum(backtest_load) + 0";
    let region = format!("\n        awsRegion: {REGION}");
    let so_text = scaled_object_yaml(
        &amp.workspace_url(),
        query,
        &region,
        "\n      authenticationRef:\n        name: amp-keys",
    );
    let so = write_file(dir.path(), "so.yaml", &so_text);
    let secrets = write_file(
        dir.path(),
        "secrets.yaml",
        &amp_keys_yaml("web", AKID, SECRET),
    );
    let out = backtest(
        dir.path(),
        &so,
        &["--secrets", secrets.to_str().unwrap(), "--format", "json"],
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(SECRET));
    let json = json_ok(&out);
    let trigger = &json["workload"]["triggers"][0];
    assert!(
        trigger["sigv4"]
            .as_str()
            .unwrap()
            .starts_with("service aps, region eu-central-1"),
        "{trigger}"
    );
    let grid = json["workload"]["grid_points"].as_u64().unwrap();
    // sum() over the NaN sample is NaN in Prometheus: one gap.
    assert_eq!(trigger["points"].as_u64().unwrap(), grid - 1, "{trigger}");
    let requests = amp.requests();
    assert_eq!(requests.len(), 1, "200 points: one request");
    for r in &requests {
        assert_eq!(r.path, format!("/workspaces/{WS}/api/v1/query_range"));
        assert_eq!(r.verification.as_ref().unwrap().access_key_id, AKID);
        assert_eq!(r.status, 200);
    }

    // The same trigger without credentials: an error naming the trigger, and nothing sent at all.
    let no_keys = write_file(
        dir.path(),
        "nokeys.yaml",
        &scaled_object_yaml(&amp.workspace_url(), query, &region, ""),
    );
    let out = backtest(dir.path(), &no_keys, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("trigger 0 \"load\" (s0-prometheus)"), "{err}");
    assert!(err.contains("AWS"), "{err}");
    assert_eq!(amp.requests().len(), 1, "no request without a signature");
}

#[test]
fn an_unreachable_server_is_exit_1_naming_the_server_and_the_query() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let so = write_file(
        dir.path(),
        "so.yaml",
        &scaled_object_yaml(&base, "sum(up)", "", ""),
    );
    let out = backtest(dir.path(), &so, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "prescale backtest: trigger 0 \"load\" (s0-prometheus): query \"sum(up)\" on {base}: "
        )),
        "{err}"
    );
}

fn usage_error(args: &[&str], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let so = write_file(
        dir.path(),
        "so.yaml",
        &scaled_object_yaml("http://127.0.0.1:9", "sum(up)", "", ""),
    );
    let out = aws_isolated(dir.path(), &[])
        .args(["backtest", "-f"])
        .arg(&so)
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(expected), "{args:?}: {err}");
}

#[test]
fn bad_times_and_options_are_usage_errors_naming_them() {
    usage_error(
        &["--from", "yesterday"],
        "prescale backtest: --from \"yesterday\": expected an RFC 3339 time",
    );
    usage_error(
        &["--from", "2026-02-30T10:00:00Z"],
        "--from \"2026-02-30T10:00:00Z\": \"2026-02-30T10:00:00Z\" is not an RFC 3339 time",
    );
    usage_error(&["--from", "-5x"], "--from \"-5x\": invalid duration");
    usage_error(
        &[
            "--from",
            "2026-11-28T12:00:00Z",
            "--to",
            "2026-11-28T10:00:00Z",
        ],
        "prescale backtest: --from 2026-11-28T12:00:00Z is not before --to 2026-11-28T10:00:00Z",
    );
    usage_error(&["--from", "-1h", "--to", "-1h"], "is not before --to");
    usage_error(
        &["--from", "-1h", "--step", "0s"],
        "--step \"0s\" must be longer than 0",
    );
    usage_error(
        &["--from", "-1h", "--load-trigger", "nope"],
        "--load-trigger \"nope\" names no trigger; the ScaledObject has 0 (load)",
    );
    usage_error(
        &["--from", "-1h", "--policies", "keda-hpa,psychic"],
        "--policies: unknown policy \"psychic\"",
    );
}
