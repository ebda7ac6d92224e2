//! The HPA engine's memory is bounded by its windows, not by how long it runs: a day of 15 s syncs with a
//! load that keeps moving leaves at most one window's worth of recommendations and scale events.

use std::collections::BTreeMap;

use prescale_core::Timestamp;
use prescale_core::hpa::api::{PolicyType, ScalingPolicy, ScalingRules};
use prescale_core::hpa::{
    Behavior, ControllerConfig, ExternalMetric, HpaSpec, HpaState, MetricTarget, Observation,
    reconcile,
};

fn spec(behavior: Option<Behavior>) -> HpaSpec {
    HpaSpec {
        min_replicas: Some(1),
        max_replicas: 50,
        metrics: vec![ExternalMetric {
            name: "s0-prometheus".into(),
            selector: BTreeMap::new(),
            target: MetricTarget::AverageValue(1000),
        }],
        behavior,
    }
}

/// Drive `syncs` syncs 15 s apart with a sawtooth load; return the largest state sizes seen.
fn drive(spec: &HpaSpec, syncs: i64) -> (usize, usize, usize) {
    let cfg = ControllerConfig::default();
    let mut state = HpaState::new();
    let mut replicas = 3;
    let mut max = (0, 0, 0);
    for k in 0..syncs {
        let now = Timestamp::from_secs(k * 15);
        let load = 1000 * (1 + (k % 40)); // ramps 1..40 over 10 minutes, then drops
        let obs = Observation {
            now,
            spec_replicas: replicas,
            status_replicas: replicas,
            ready_pods: replicas,
        };
        let d = reconcile(&cfg, spec, &mut state, &obs, &mut |_| Ok(vec![load]));
        if d.rescale {
            state.record_scale(spec, now, replicas, d.desired_replicas);
            replicas = d.desired_replicas;
        }
        max.0 = max
            .0
            .max(state.recommendations.as_ref().map_or(0, Vec::len));
        max.1 = max.1.max(state.scale_up_events.len());
        max.2 = max.2.max(state.scale_down_events.len());
    }
    max
}

#[test]
fn legacy_state_is_bounded_by_the_downscale_window() {
    let (recs, up, down) = drive(&spec(None), 5760);
    // 300 s window / 15 s syncs = 20 live recommendations, plus the one being replaced and the newest.
    assert!(recs <= 22, "recommendations grew to {recs}");
    assert_eq!((up, down), (0, 0), "the legacy path keeps no scale events");
}

#[test]
fn behavior_state_is_bounded_by_windows_and_periods() {
    let behavior = Behavior {
        scale_up: Some(ScalingRules {
            policies: Some(vec![ScalingPolicy {
                kind: PolicyType::Pods,
                value: 2,
                period_seconds: 120,
            }]),
            ..ScalingRules::default()
        }),
        scale_down: Some(ScalingRules {
            stabilization_window_seconds: Some(120),
            ..ScalingRules::default()
        }),
    };
    let (recs, up, down) = drive(&spec(Some(behavior)), 5760);
    // 120 s down window / 15 s = 8 live recommendations, plus the replaced one and the newest.
    assert!(recs <= 10, "recommendations grew to {recs}");
    // Events older than the longest policy period (120 s) are reused: at most 120 / 15 + 1 live.
    assert!(up <= 10, "scale-up events grew to {up}");
    assert!(down <= 10, "scale-down events grew to {down}");
    assert!(
        up > 0 && down > 0,
        "the load must make the HPA scale both ways (up {up}, down {down})"
    );
}
