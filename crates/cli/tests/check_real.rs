//! `prescale check` against a real Prometheus 2.42 holding `ho11y_total` (remote-written by `prescale-promwire`):
//! the seed ScaledObject, pointed at the server with `--server-address`, reads the server's own
//! `rate(ho11y_total[1m])`, is active, and the HPA decision from 1 replica follows the value.
//! Needs `PRESCALE_PROMETHEUS_BIN` (see `crates/scalers/tests/support/servers.rs`).

#[path = "../../scalers/tests/support/servers.rs"]
mod servers;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use servers::{Server, client, ho11y_total};

fn seed_copy(dir: &tempfile::TempDir) -> PathBuf {
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/seed/scaledobject.yaml"
    );
    let path = dir.path().join("scaledobject.yaml");
    std::fs::copy(seed, &path).unwrap();
    path
}

/// The server's own instant query at `time` (RFC 3339), as a number.
fn server_value(server: &Server, query: &str, time: &str) -> f64 {
    let params = form_urlencoded::Serializer::new(String::new())
        .append_pair("query", query)
        .append_pair("time", time)
        .finish();
    let resp = client()
        .get(format!("{}/api/v1/query?{params}", server.base))
        .send()
        .unwrap();
    let json: Value = serde_json::from_slice(&resp.bytes().unwrap()).unwrap();
    assert_eq!(
        json["data"]["result"].as_array().map(Vec::len),
        Some(1),
        "{json}"
    );
    json["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Writes `ho11y_total` rising by `step` every 15 s up to a second ago, runs `prescale check` on the seed
/// and returns its JSON output after checking the trigger against the server's own answer.
fn check_seed(step: f64) -> Option<Value> {
    let server = Server::prometheus()?;
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1;
    let at = UNIX_EPOCH + Duration::from_secs(secs);
    let end_ms = i64::try_from(secs).unwrap() * 1000;
    let (status, body) = server.remote_write(&[ho11y_total("a:8765", end_ms, step)]);
    assert_eq!((status, body.as_str()), (204, ""), "remote write");
    server.wait_visible(1, at);

    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prescale"))
        .arg("check")
        .arg("-f")
        .arg(seed_copy(&dir))
        .args(["--server-address", &server.base])
        .args(["--current-replicas", "1", "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let trigger = &json["triggers"][0];
    assert_eq!(trigger["serverAddress"], server.base.as_str(), "{json}");
    assert_eq!(trigger["query"], "rate(ho11y_total[1m])");
    assert_eq!(trigger["metricName"], "s0-prometheus");
    assert_eq!(trigger["threshold"], 1.0);
    let value = trigger["value"].as_f64().unwrap();
    let expected = server_value(
        &server,
        "rate(ho11y_total[1m])",
        json["time"].as_str().unwrap(),
    );
    assert!(
        (value - expected).abs() < 1e-9,
        "check read {value}, the server answers {expected}"
    );
    assert_eq!(trigger["active"], true, "{json}");
    assert_eq!(json["keda"]["active"], true);
    assert_eq!(json["keda"]["scaleTo"], Value::Null);
    let note = json["notes"][0].as_str().unwrap();
    assert!(
        note.contains("AWS SigV4 signing (metadata identityOwner, metadata awsRegion) dropped: "),
        "{note}"
    );
    Some(json)
}

#[test]
fn seed_below_target_stays_at_one_replica() {
    // 10 per 15 s: a rate of about 2/3 against threshold 1.
    let Some(json) = check_seed(10.0) else { return };
    let value = json["triggers"][0]["value"].as_f64().unwrap();
    assert!(value > 0.4 && value < 0.8, "{json}");
    let hpa = &json["hpa"];
    assert_eq!(hpa["currentReplicas"], 1, "{json}");
    assert_eq!(hpa["desiredReplicas"], 1, "{json}");
    assert_eq!(hpa["rescale"], false, "{json}");
}

#[test]
fn seed_above_target_scales_to_two() {
    // 22.5 per 15 s: a rate of about 1.5 against threshold 1, so ceil(1.5 * 1) = 2 replicas.
    let Some(json) = check_seed(22.5) else { return };
    let value = json["triggers"][0]["value"].as_f64().unwrap();
    assert!(value > 1.2 && value < 2.0, "{json}");
    let hpa = &json["hpa"];
    assert_eq!(hpa["desiredReplicas"], 2, "{json}");
    assert_eq!(hpa["rescale"], true, "{json}");
    assert!(
        hpa["reason"]
            .as_str()
            .is_some_and(|r| r.contains("above target")),
        "{json}"
    );
}

/// `sum(...)`, `scalar(...)` and a two-series query through `prescale check`, against both real servers: the
/// first two read what the server itself answers, the third fails naming both series, and check exits 1.
fn three_queries(server: &Server) {
    let name = server.name;
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5;
    let at = UNIX_EPOCH + Duration::from_secs(secs);
    let end_ms = i64::try_from(secs).unwrap() * 1000;
    let (status, _) = server.remote_write(&[
        ho11y_total("a:8765", end_ms, 10.0),
        ho11y_total("b:8765", end_ms, 20.0),
    ]);
    assert_eq!(status, 204, "{name}: remote write");
    server.wait_visible(2, at);
    let dir = tempfile::tempdir().unwrap();
    let so = dir.path().join("so.yaml");
    std::fs::write(
        &so,
        r#"apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: three, namespace: default}
spec:
  scaleTargetRef: {name: app}
  triggers:
    - type: prometheus
      metadata: {serverAddress: http://unused, threshold: '1', query: 'sum(rate(ho11y_total[1m]))'}
    - type: prometheus
      metadata: {serverAddress: http://unused, threshold: '1', query: 'scalar(sum(ho11y_total))'}
    - type: prometheus
      metadata: {serverAddress: http://unused, threshold: '1', query: 'ho11y_total'}
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prescale"))
        .arg("check")
        .arg("-f")
        .arg(&so)
        .args(["--server-address", &server.base, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{name}: a trigger failed");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let time = json["time"].as_str().unwrap();
    for (i, q) in [
        (0, "sum(rate(ho11y_total[1m]))"),
        (1, "scalar(sum(ho11y_total))"),
    ] {
        let value = json["triggers"][i]["value"].as_f64().unwrap();
        // scalar() is a scalar on Prometheus and a one-element vector on VictoriaMetrics; the form-encoded
        // raw query below reads either.
        let expected = if q.starts_with("scalar") {
            180.0
        } else {
            server_value(server, q, time)
        };
        assert!(
            (value - expected).abs() < 1e-9,
            "{name}: {q}: {value} vs {expected}"
        );
    }
    let error = json["triggers"][2]["error"].as_str().unwrap();
    assert!(
        error.contains("returned 2 series") && error.contains("a:8765") && error.contains("b:8765"),
        "{name}: {error}"
    );
    assert_eq!(
        json["hpa"],
        Value::Null,
        "{name}: no HPA step with a failed trigger"
    );
}

#[test]
fn sum_scalar_and_two_series_on_prometheus() {
    if let Some(server) = Server::prometheus() {
        three_queries(&server);
    }
}

#[test]
fn sum_scalar_and_two_series_on_victoria_metrics() {
    if let Some(server) = Server::victoria_metrics() {
        three_queries(&server);
    }
}
