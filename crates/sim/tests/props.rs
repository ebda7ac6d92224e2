//! Property tests of the whole replay: random ScaledObjects and metric timelines.

use std::path::Path;

use prescale_sim::{Options, Scenario, simulate};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    min: i32,
    max: i32,
    threshold: u32,
    activation: u32,
    polling: u32,
    cooldown: u32,
    startup: u32,
    initial: i32,
    value_type: bool,
    fallback: Option<(i32, i32)>,
    behavior: bool,
    points: Vec<(u32, Option<u32>)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            0..3i32,
            1..12i32,
            1..50u32,
            0..20u32,
            5..60u32,
            0..120u32,
            0..90u32,
            0..15i32,
        ),
        (
            any::<bool>(),
            proptest::option::of((0..4i32, 0..6i32)),
            any::<bool>(),
        ),
        proptest::collection::vec(
            (0..1800u32, proptest::option::weighted(0.85, 0..500u32)),
            1..12,
        ),
    )
        .prop_map(
            |(
                (min, span, threshold, activation, polling, cooldown, startup, initial),
                (value_type, fallback, behavior),
                mut points,
            )| {
                points.sort_by_key(|p| p.0);
                points.dedup_by_key(|p| p.0);
                Case {
                    min,
                    max: min.max(1) + span,
                    threshold,
                    activation,
                    polling,
                    cooldown,
                    startup,
                    initial,
                    value_type,
                    fallback,
                    behavior,
                    points,
                }
            },
        )
}

fn yaml(c: &Case) -> String {
    let mut s = String::from(
        "scaledObject:\n  apiVersion: keda.sh/v1alpha1\n  kind: ScaledObject\n  metadata: {name: p, namespace: t}\n  spec:\n    scaleTargetRef: {name: w}\n",
    );
    s += &format!(
        "    minReplicaCount: {}\n    maxReplicaCount: {}\n    pollingInterval: {}\n    cooldownPeriod: {}\n",
        c.min, c.max, c.polling, c.cooldown
    );
    if let Some((t, r)) = c.fallback {
        s += &format!("    fallback: {{failureThreshold: {t}, replicas: {r}}}\n");
    }
    if c.behavior {
        s += "    advanced:\n      horizontalPodAutoscalerConfig:\n        behavior:\n          scaleUp:\n            policies: [{type: Pods, value: 2, periodSeconds: 30}]\n          scaleDown:\n            stabilizationWindowSeconds: 60\n";
    }
    s += &format!(
        "    triggers:\n      - type: prometheus\n        metricType: {}\n        metadata: {{serverAddress: 'http://p:9090', query: q, threshold: '{}', activationThreshold: '{}'}}\n",
        if c.value_type {
            "Value"
        } else {
            "AverageValue"
        },
        c.threshold,
        c.activation
    );
    s += &format!(
        "duration: 40m\nworkload: {{initialReplicas: {}, podStartupSeconds: {}, capacityPerPod: 10}}\n",
        c.initial, c.startup
    );
    let pts: Vec<String> = c
        .points
        .iter()
        .map(|(t, v)| match v {
            Some(v) => format!("[{t}, {v}]"),
            None => format!("[{t}, error]"),
        })
        .collect();
    s += &format!(
        "metrics:\n  - trigger: 0\n    points: [{}]\n",
        pts.join(", ")
    );
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// After t = 0, spec.replicas is 0 (KEDA scaled to zero) or within the HPA's [max(min, 1), max]; ready pods
    /// never exceed replicas; the same input gives the same output.
    #[test]
    fn replicas_stay_in_bounds_and_runs_are_deterministic(c in case()) {
        let text = yaml(&c);
        let sc = Scenario::parse(&text, "prop.yaml", Path::new(".")).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let run = simulate(&sc, Options { timeline: true }).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let hpa_min = c.min.max(1);
        for r in run.rows.as_ref().unwrap() {
            prop_assert!(r.ready <= r.replicas, "t={} ready {} > replicas {}", r.t_ms, r.ready, r.replicas);
            prop_assert!(
                r.replicas == 0 || (hpa_min..=c.max).contains(&r.replicas),
                "t={}ms replicas {} outside [{hpa_min}, {}]\n{text}", r.t_ms, r.replicas, c.max
            );
            if c.min > 0 {
                prop_assert!(r.replicas >= c.min, "t={}ms replicas {} below minReplicaCount {}\n{text}", r.t_ms, r.replicas, c.min);
            }
        }
        let again = simulate(&sc, Options { timeline: true }).unwrap();
        prop_assert_eq!(prescale_sim::report::json(&run).unwrap(), prescale_sim::report::json(&again).unwrap());
        prop_assert_eq!(run.rows, again.rows);
    }
}
