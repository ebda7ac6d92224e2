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

/// A history of one day and 75 s (one season plus the lead, in milliseconds) holds only 2882 polls of 30 s, one
/// fewer than the forecaster needs: the replay runs reactively and names the history annotation, as the
/// operator and `validate` do; one more poll of history runs the policy.
#[test]
fn history_a_poll_short_of_a_season_plus_the_lead_is_reported() {
    assert_reactive_with_reason(
        "prescale.dev/forecast: auto, prescale.dev/forecast-history: 86475s",
        r#"metadata.annotations["prescale.dev/forecast-history"]: 1d1m15s holds 2882 polls of 30s (pollingInterval), fewer than the 2883 the auto model needs: one season (1d, 2880 polls) plus the lead (1m15s, 3 polls)"#,
    );
    let run = run_yaml(&scenario(
        "prescale.dev/forecast: auto, prescale.dev/forecast-history: 86490s",
    ));
    assert_eq!(run.summary.proactive.unwrap().invalid, None);
}

/// `proactive::spec` accepts exactly the policies the forecaster accepts, around the boundary of every
/// model, season, lead and polling interval.
#[test]
fn spec_and_forecaster_agree_on_the_history() {
    use prescale_core::proactive::{self, Model};
    use prescale_forecast::{Config, Forecaster};
    let mut checked = (0, 0);
    for model in Model::ALL {
        for season in ["none", "1h", "1d"] {
            for lead in ["15s", "75s", "10m"] {
                for poll in [1, 7, 15, 30, 60] {
                    let so: prescale_core::spec::ScaledObject =
                        serde_json::from_value(serde_json::json!({
                            "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
                            "metadata": {"name": "x", "namespace": "ns"},
                            "spec": {"scaleTargetRef": {"name": "web"}, "pollingInterval": poll,
                                     "triggers": [{"type": "prometheus", "metadata": {
                                         "serverAddress": "http://p:9090", "query": "q", "threshold": "1"}}]}
                        }))
                        .unwrap();
                    let season_ms = match season {
                        "none" => None,
                        "1h" => Some(3_600_000),
                        _ => Some(86_400_000),
                    };
                    let lead_ms = prescale_core::duration::parse_duration_ms(lead).unwrap();
                    let base = season_ms.unwrap_or(0) + lead_ms;
                    // Around one season plus the lead, and around whole polls of it.
                    let step = i64::from(poll) * 1000;
                    for history_ms in [
                        base - step,
                        base - 1000,
                        base,
                        base + 1000,
                        base + step - 1000,
                        base + step,
                        base + 2 * step,
                    ] {
                        if history_ms < 60_000 {
                            continue;
                        }
                        let mut so = so.clone();
                        for (k, v) in [
                            (proactive::ANNOTATION_FORECAST, model.as_str().to_string()),
                            (proactive::ANNOTATION_SEASON, season.to_string()),
                            (proactive::ANNOTATION_LEAD, lead.to_string()),
                            (
                                proactive::ANNOTATION_HISTORY,
                                format!("{}s", history_ms / 1000),
                            ),
                        ] {
                            so.metadata.annotations.insert(k.to_string(), v);
                        }
                        let spec = proactive::spec(&so);
                        let forecaster = Forecaster::new(Config {
                            model,
                            step_ms: proactive::step_ms(&so),
                            season_ms,
                            history_ms,
                            lead_ms,
                            quantile: 0.8,
                        });
                        assert_eq!(
                            spec.is_ok(),
                            forecaster.is_ok(),
                            "{model} season {season} lead {lead} poll {poll}s history {history_ms} ms: \
                             spec {spec:?}, forecaster {:?}",
                            forecaster.err()
                        );
                        if spec.is_ok() {
                            checked.0 += 1;
                        } else {
                            checked.1 += 1;
                        }
                    }
                }
            }
        }
    }
    // Both sides of the boundary were reached.
    assert!(checked.0 > 100 && checked.1 > 100, "{checked:?}");
}
