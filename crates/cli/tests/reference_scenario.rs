//! The reference scenario (issue 6 point 3, `holly.yaml` and prometheus.md §1.6) on loopback: three
//! `prescale ho11y` processes (frontend calling downstream0 and downstream1, downstream1 with its two DUMMY
//! downstreams), scraped every second by a real Prometheus 2.42, `prescale load` against the frontend, and
//! `prescale check` evaluating the seed ScaledObject's Prometheus trigger against that Prometheus.
//!
//! Differences from the seed, all forced by running offline on loopback: downstream0's `DOWNSTREAM0` and
//! downstream1's `DOWNSTREAM0` are public web sites and are left out; there is no OTLP collector. The seed's
//! query is restricted to the frontend job and summed over status codes, since three jobs and several status
//! codes are scraped. Needs `PRESCALE_PROMETHEUS_BIN` (see `crates/scalers/tests/support/servers.rs`).

#[path = "../../scalers/tests/support/servers.rs"]
mod servers;
mod support {
    pub mod cli;
    pub mod ho11y_process;
}

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use servers::Server;
use support::cli::json_ok;
use support::ho11y_process::Ho11y;

const RATE: f64 = 40.0;
const LOAD_SECONDS: u64 = 20;
/// When, after the load started, the trigger is evaluated over the last [`MID_WINDOW`].
const MID_LOAD_CHECK: Duration = Duration::from_secs(14);
const MID_WINDOW: &str = "10s";
const MAX_REPLICAS: f64 = 10.0;
/// The replicas `check` starts from: 5, so the HPA's scale-up limit (10) equals maxReplicaCount.
const CURRENT_REPLICAS: i32 = 5;

/// `value` of every series of an instant-vector answer, keyed by `label`.
fn by_label(data: &Value, label: &str) -> BTreeMap<String, f64> {
    data["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let key = s["metric"][label].as_str().unwrap_or_default().to_owned();
            let value: f64 = s["value"][1].as_str().unwrap().parse().unwrap();
            (key, value)
        })
        .collect()
}

/// The seed ScaledObject with `query` and `threshold` in place of its own.
fn scaled_object(dir: &Path, file: &str, query: &str, threshold: &str) -> String {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/seed/scaledobject.yaml"
    ))
    .unwrap();
    let (old_query, old_threshold) = ("query: rate(ho11y_total[1m])", "threshold: '1'");
    assert_eq!(seed.matches(old_query).count(), 1, "{seed}");
    assert_eq!(seed.matches(old_threshold).count(), 1, "{seed}");
    let yaml = seed
        .replace(old_query, &format!("query: '{query}'"))
        .replace(old_threshold, &format!("threshold: '{threshold}'"));
    let path = dir.join(file);
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

/// `prescale check` on `file` against `server`, from [`CURRENT_REPLICAS`]; returns its JSON report.
fn check(server: &Server, file: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_prescale"))
        .args(["check", "-f", file, "--server-address", &server.base])
        .args(["--current-replicas", &CURRENT_REPLICAS.to_string()])
        .args(["--format", "json"])
        .output()
        .unwrap();
    json_ok(&out)
}

/// The trigger's value, after checking the HPA decision is ceil(value / threshold) bounded by the seed's
/// minReplicaCount 1 and maxReplicaCount 10 (the HPA's 10 % tolerance kept in; from [`CURRENT_REPLICAS`] its
/// scale-up limit without `behavior`, max(2 × current, 4), is 10 and does not bind).
fn value_and_decision(json: &Value, query: &str, threshold: f64) -> f64 {
    let trigger = &json["triggers"][0];
    assert_eq!(trigger["query"], query, "{json}");
    assert_eq!(trigger["threshold"], threshold, "{json}");
    assert_eq!(trigger["active"], true, "{json}");
    let value = trigger["value"].as_f64().unwrap();
    let current = f64::from(CURRENT_REPLICAS);
    let expected = if (value / (threshold * current) - 1.0).abs() <= 0.1 {
        current
    } else {
        (value / threshold).ceil().clamp(1.0, MAX_REPLICAS)
    };
    assert_eq!(json["hpa"]["currentReplicas"], CURRENT_REPLICAS, "{json}");
    assert_eq!(
        json["hpa"]["desiredReplicas"].as_f64(),
        Some(expected),
        "value {value}, threshold {threshold}: {json}"
    );
    value
}

fn assert_within(actual: f64, expected: f64, fraction: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= expected * fraction,
        "{what}: {actual}, expected {expected} ± {}%",
        fraction * 100.0
    );
}

#[test]
fn holly_scenario_scales_on_the_frontend_rate() {
    if std::env::var_os("PRESCALE_PROMETHEUS_BIN").is_none()
        && std::env::var_os("PRESCALE_REQUIRE_REAL").is_none()
    {
        eprintln!("skipping: PRESCALE_PROMETHEUS_BIN is not set (.ci/run sets it; see README)");
        return;
    }
    let downstream0 = Ho11y::start("downstream0", &[]);
    let downstream1 = Ho11y::start(
        "downstream1",
        &[
            ("DOWNSTREAM1", "DUMMY:187kB:42ms".to_owned()),
            ("DOWNSTREAM2", "DUMMY:13kB:2ms".to_owned()),
        ],
    );
    let frontend = Ho11y::start(
        "frontend",
        &[
            ("HO11Y_INJECT_FAILURE", "enabled".to_owned()),
            ("DOWNSTREAM0", downstream0.url()),
            ("DOWNSTREAM1", downstream1.url()),
        ],
    );
    let mut config =
        String::from("global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs:\n");
    for (job, p) in [
        ("frontend", &frontend),
        ("downstream0", &downstream0),
        ("downstream1", &downstream1),
    ] {
        config.push_str(&format!(
            "  - job_name: {job}\n    static_configs: [{{targets: ['{}']}}]\n",
            p.target()
        ));
    }
    let Some(server) = Server::prometheus_with_config(&config) else {
        return;
    };

    // All three targets scraped and up before the load starts.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let up = by_label(&server.raw_query("up", SystemTime::now()), "job");
        if up.len() == 3 && up.values().all(|v| *v == 1.0) {
            break;
        }
        assert!(Instant::now() < deadline, "targets not up: {up:?}");
        sleep(Duration::from_millis(200));
    }

    let started = Instant::now();
    let load = Command::new(env!("CARGO_BIN_EXE_prescale"))
        .args(["load", &frontend.url()])
        .args(["--rate", &RATE.to_string()])
        .args([
            "--duration",
            &format!("{LOAD_SECONDS}s"),
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Mid-load, over a window inside the load: the trigger reads about the offered rate. (The seed's 1m window
    // would divide a 20 s load's increase by 60 s; that is checked after the load.)
    sleep(MID_LOAD_CHECK.saturating_sub(started.elapsed()));
    let mid_query = format!("sum(rate(ho11y_total{{job=\"frontend\"}}[{MID_WINDOW}]))");
    let seed_threshold = scaled_object(dir.path(), "mid-seed.yaml", &mid_query, "1");
    let json = check(&server, &seed_threshold);
    let mid_value = value_and_decision(&json, &mid_query, 1.0);
    assert_within(mid_value, RATE, 0.25, "mid-load trigger value");
    assert_eq!(json["hpa"]["desiredReplicas"], 10, "capped at max: {json}");
    // A threshold that puts the answer inside the bounds: ceil(40 / 6) = 7.
    let inside = scaled_object(dir.path(), "mid-6.yaml", &mid_query, "6");
    let json = check(&server, &inside);
    let value = value_and_decision(&json, &mid_query, 6.0);
    assert_within(value, RATE, 0.25, "mid-load trigger value (threshold 6)");
    let desired = json["hpa"]["desiredReplicas"].as_i64().unwrap();
    assert!((6..=9).contains(&desired), "{json}");

    let out = load.wait_with_output().unwrap();
    let load_elapsed = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sent = report["sent"].as_u64().unwrap();
    assert_eq!(report["completed"].as_u64(), Some(sent), "{report}");
    assert_within(
        sent as f64,
        RATE * LOAD_SECONDS as f64,
        0.05,
        "requests sent",
    );
    let codes: BTreeMap<String, f64> = report["status_codes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
        .collect();
    assert_eq!(codes.values().sum::<f64>(), sent as f64, "{report}");
    // HO11Y_INJECT_FAILURE: about 49 % fail with one of ho11y's five codes.
    let ok = codes.get("200").copied().unwrap_or_default();
    assert_within(ok / sent as f64, 0.51, 0.2, "share of 200s");
    assert!(
        codes
            .keys()
            .all(|c| ["200", "301", "400", "403", "404", "501"].contains(&c.as_str())),
        "{report}"
    );

    // Once Prometheus has scraped the finished counts: the frontend counted exactly what load saw, code by
    // code, and each downstream was called once per successful frontend request.
    let deadline = Instant::now() + Duration::from_secs(5);
    let (frontend_codes, per_job) = loop {
        let now = SystemTime::now();
        let frontend_codes = by_label(
            &server.raw_query("ho11y_total{job=\"frontend\"}", now),
            "http_status_code",
        );
        let per_job = by_label(&server.raw_query("sum by (job) (ho11y_total)", now), "job");
        let done = frontend_codes == codes
            && per_job.get("downstream0") == Some(&ok)
            && per_job.get("downstream1") == Some(&ok);
        if done || Instant::now() > deadline {
            break (frontend_codes, per_job);
        }
        sleep(Duration::from_millis(200));
    };
    assert_eq!(frontend_codes, codes, "frontend ho11y_total vs load");
    assert_eq!(per_job.get("downstream0"), Some(&ok), "{per_job:?}");
    assert_eq!(per_job.get("downstream1"), Some(&ok), "{per_job:?}");

    // The seed's own window: rate() divides the extrapolated increase (about everything sent) by 60 s.
    let seed_query = "sum(rate(ho11y_total{job=\"frontend\"}[1m]))";
    let seed = scaled_object(dir.path(), "seed.yaml", seed_query, "1");
    let json = check(&server, &seed);
    let value = value_and_decision(&json, seed_query, 1.0);
    assert!(load_elapsed < Duration::from_secs(50), "{load_elapsed:?}");
    eprintln!(
        "sent {sent} {codes:?} in {load_elapsed:?}; trigger mid-load [{MID_WINDOW}] {mid_value:.2}/s, \
         after load [1m] {value:.2}/s (sent / 60 = {:.2})",
        sent as f64 / 60.0
    );
    assert_within(value, sent as f64 / 60.0, 0.25, "seed-window trigger value");
}
