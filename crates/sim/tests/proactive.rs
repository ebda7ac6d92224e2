//! The proactive policy in a replay: a ScaledObject that opted in with a policy that cannot run is run
//! reactively with the reason reported, as the operator runs it (`validate` warns about the same thing).

mod support;

use std::path::Path;

use prescale_sim::run::check_proactive;
use prescale_sim::{Run, Scenario};
use support::{changes, run_yaml, so_annotated};

const PROM: &str = "serverAddress: http://prometheus:9090\n      query: q";

/// A 2-hour ramp from 5 to 80 and back (threshold 10, 1..12 replicas), with `annotations` on the ScaledObject.
fn scenario(annotations: &str) -> String {
    format!(
        "{}duration: 2h\nworkload: {{podStartupSeconds: 30, capacityPerPod: 10}}\nmetrics:\n  - trigger: 0\n    points: [[0, 5], [1200, 40], [2400, 80], [3600, 30], [4800, 5]]\n",
        so_annotated(
            annotations,
            &format!(
                "scaleTargetRef: {{name: api}}\npollingInterval: 30\nminReplicaCount: 1\nmaxReplicaCount: 12\ntriggers:\n  - type: prometheus\n    metadata:\n      {PROM}\n      threshold: '10'\n"
            )
        )
    )
}

fn replicas(run: &Run) -> Vec<(i64, i32, i32)> {
    run.rows
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| (r.t_ms, r.replicas, r.ready))
        .collect()
}

fn assert_reactive_with_reason(annotations: &str, reason: &str) {
    let plain = run_yaml(&scenario(""));
    let bad = run_yaml(&scenario(annotations));
    assert!(plain.summary.proactive.is_none());
    assert!(
        changes(&plain).len() >= 4,
        "the load must move the replicas"
    );
    // Exactly the keda-hpa replay.
    assert_eq!(replicas(&bad), replicas(&plain));
    assert_eq!(bad.summary.replica_changes, plain.summary.replica_changes);
    assert_eq!(bad.summary.pod_seconds, plain.summary.pod_seconds);
    assert_eq!(bad.summary.events, plain.summary.events);
    assert_eq!(bad.summary.scores, plain.summary.scores);
    // ... with the reason reported.
    let p = bad.summary.proactive.as_ref().expect("proactive summary");
    assert_eq!(p.invalid.as_deref(), Some(reason));
    assert_eq!(
        (p.forecast_won, p.current_won, p.reactive),
        (0, 0, 0),
        "no read is answered by the policy"
    );
    assert_eq!((p.lead_s, p.quantile, p.margin_pct), (None, None, None));
    let human = prescale_sim::report::human(&bad);
    assert!(
        human.contains(&format!(
            "is invalid; ran reactively, as the operator does until it is fixed: {reason}\n"
        )),
        "{human}"
    );
    let json = prescale_sim::report::json(&bad).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["proactive"]["invalid"], reason, "{json}");
    assert!(v["proactive"].get("lead_s").is_none(), "{json}");
}

#[test]
fn bad_annotation_value_runs_reactively_and_says_why() {
    assert_reactive_with_reason(
        "prescale.dev/forecast: auto, prescale.dev/forecast-quantile: '0.2'",
        r#"metadata.annotations["prescale.dev/forecast-quantile"]: "0.2" is not a number between 0.5 and 0.99 (e.g. "0.8")"#,
    );
}

#[test]
fn unknown_model_runs_reactively_and_says_why() {
    assert_reactive_with_reason(
        "prescale.dev/forecast: prophet",
        r#"metadata.annotations["prescale.dev/forecast"]: unknown model "prophet"; use one of auto, holt-winters, trend, seasonal-naive, or off"#,
    );
    let bad = run_yaml(&scenario("prescale.dev/forecast: prophet"));
    assert_eq!(bad.summary.proactive.unwrap().model, "prophet");
}

/// `check_proactive` (what `bench` calls before replaying a proactive policy) still refuses the policy,
/// naming the annotation and the value; a valid policy and no policy pass.
#[test]
fn check_proactive_names_the_annotation() {
    let parse = |a: &str| Scenario::parse(&scenario(a), "t.yaml", Path::new(".")).unwrap();
    let err = check_proactive(&parse(
        "prescale.dev/forecast: auto, prescale.dev/forecast-quantile: '0.2'",
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"t.yaml: scaledObject.metadata.annotations["prescale.dev/forecast-quantile"]: "0.2" is not a number between 0.5 and 0.99 (e.g. "0.8")"#
    );
    check_proactive(&parse("prescale.dev/forecast: auto")).unwrap();
    check_proactive(&parse("")).unwrap();
}

/// A valid policy reports its parameters and no `invalid`.
#[test]
fn valid_policy_reports_its_parameters() {
    let run = run_yaml(&scenario(
        "prescale.dev/forecast: trend, prescale.dev/forecast-margin: '10'",
    ));
    let p = run.summary.proactive.unwrap();
    assert_eq!(p.invalid, None);
    assert_eq!(p.model, "trend");
    assert_eq!(
        (p.lead_s, p.quantile, p.margin_pct),
        (Some(75.0), Some(0.8), Some(10.0))
    );
    assert!(p.reads() > 1);
}
