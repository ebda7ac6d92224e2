//! keda.md §2.6 and §4.6: `GetMetricsWithFallback` (every row of `pkg/fallback/fallback_test.go`), the e2e
//! fallback numbers, Value-type normalisation with ready pods, the Fallback condition, and failure counting
//! across the poll and HPA paths.

mod keda_support;

use keda_support::{prom, secs, so, state0, targets};
use prescale_core::keda::conditions::ConditionStatus;
use prescale_core::keda::fallback::{
    ERROR_PERFORMING_FALLBACK, FallbackOutcome, do_fallback, fallback_replicas,
    metric_milli_with_fallback, metric_with_fallback,
};
use prescale_core::keda::{
    ConditionType, EventType, HealthState, HealthStatus, KedaState, PollInput, hpa_metric, poll,
};
use prescale_core::spec::{FallbackBehavior, ScaledObject};
use serde_json::{Value, json};

const METRIC: &str = "s0-prometheus";

/// One Prometheus trigger with AverageValue target `target`, and the given fallback (or none).
fn so_with(target: &str, fallback: Value) -> ScaledObject {
    so(json!({"spec": {"triggers": [prom(target)], "fallback": fallback}}))
}

fn fb(threshold: i32, replicas: i32, behavior: Option<&str>) -> Value {
    let mut v = json!({"failureThreshold": threshold, "replicas": replicas});
    if let Some(b) = behavior {
        v["behavior"] = json!(b);
    }
    v
}

fn with_health(failures: i32, status: HealthState) -> KedaState {
    let mut s = state0();
    s.health.insert(
        METRIC.to_string(),
        HealthStatus {
            number_of_failures: failures,
            status,
        },
    );
    s
}

fn err() -> Result<f64, String> {
    Err("some error".to_string())
}

fn health(s: &KedaState) -> Option<(i32, HealthState)> {
    s.health
        .get(METRIC)
        .map(|h| (h.number_of_failures, h.status))
}

#[test]
fn fallback_disabled_success_passes_value_without_status_change() {
    let so = so_with("3", Value::Null);
    let t = targets(&so);
    let mut s = state0();
    let before = s.clone();
    let o = metric_with_fallback(&so, &mut s, &t[0], Ok(5.0), 1, 1);
    assert_eq!(
        o,
        FallbackOutcome {
            value_milli: Ok(5000),
            fallback_active: false
        }
    );
    assert_eq!(s, before);
}

#[test]
fn fallback_enabled_success_initialises_health() {
    let so = so_with("3", fb(3, 10, None));
    let t = targets(&so);
    let mut s = state0();
    let o = metric_with_fallback(&so, &mut s, &t[0], Ok(6.0), 1, 1);
    assert_eq!(o.value_milli, Ok(6000));
    assert!(!o.fallback_active);
    assert_eq!(health(&s), Some((0, HealthState::Happy)));
    // The Fallback condition is recomputed with the health.
    let c = s.conditions.get(ConditionType::Fallback).unwrap();
    assert_eq!(c.status, ConditionStatus::False);
    assert_eq!(c.reason, "NoFallbackFound");
    assert_eq!(c.message, "No fallbacks are active on this scaled object");
}

#[test]
fn fallback_enabled_success_resets_failures() {
    let so = so_with("3", fb(3, 10, None));
    let t = targets(&so);
    let mut s = with_health(5, HealthState::Failing);
    let o = metric_with_fallback(&so, &mut s, &t[0], Ok(6.0), 1, 1);
    assert_eq!(o.value_milli, Ok(6000));
    assert_eq!(health(&s), Some((0, HealthState::Happy)));
}

#[test]
fn fallback_disabled_success_leaves_stale_health() {
    let so = so_with("3", Value::Null);
    let t = targets(&so);
    let mut s = with_health(5, HealthState::Failing);
    let o = metric_with_fallback(&so, &mut s, &t[0], Ok(6.0), 1, 1);
    assert_eq!(o.value_milli, Ok(6000));
    assert_eq!(health(&s), Some((5, HealthState::Failing)));
}

#[test]
fn fallback_disabled_error_propagates() {
    let so = so_with("3", Value::Null);
    let t = targets(&so);
    let mut s = state0();
    let before = s.clone();
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 1, 1);
    assert_eq!(o.value_milli, Err("some error".to_string()));
    assert!(!o.fallback_active);
    assert_eq!(s, before);
}

#[test]
fn fallback_bumps_failures() {
    let so = so_with("10", fb(3, 10, None));
    let t = targets(&so);
    let mut s = with_health(0, HealthState::Happy);
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 1, 1);
    assert_eq!(o.value_milli, Err("some error".to_string()));
    assert!(!o.fallback_active);
    assert_eq!(health(&s), Some((1, HealthState::Failing)));
    assert_eq!(
        s.conditions.status(ConditionType::Fallback),
        ConditionStatus::False
    );
}

#[test]
fn fallback_beyond_threshold_returns_normalised_metric() {
    let so = so_with("10", fb(3, 10, None));
    let t = targets(&so);
    let mut s = with_health(3, HealthState::Happy);
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 5, 5);
    // 10 replicas × target 10 = 100.
    assert_eq!(
        o,
        FallbackOutcome {
            value_milli: Ok(100_000),
            fallback_active: true
        }
    );
    assert_eq!(health(&s), Some((4, HealthState::Failing)));
}

// Upstream's "should ignore error if we fail to update kubernetes status" row has no counterpart here: the
// engine writes the status into `KedaState` and cannot fail to; the value it returns is the same 100 as in
// `fallback_beyond_threshold_returns_normalised_metric`.

#[test]
fn fallback_threshold_is_strictly_greater() {
    let so = so_with("10", fb(3, 10, None));
    let t = targets(&so);
    let mut s = with_health(2, HealthState::Failing);
    // failures 3 = threshold: still the error.
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 5, 5);
    assert_eq!(o.value_milli, Err("some error".to_string()));
    assert_eq!(health(&s), Some((3, HealthState::Failing)));
    // failures 4 > threshold: fallback.
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 5, 5);
    assert_eq!(o.value_milli, Ok(100_000));
}

#[test]
fn fallback_threshold_zero_falls_back_on_first_failure() {
    let so = so_with("10", fb(0, 2, None));
    let t = targets(&so);
    let mut s = state0();
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 5, 5);
    assert_eq!(o.value_milli, Ok(20_000));
    assert!(o.fallback_active);
}

#[test]
fn fallback_invalid_config_propagates_error_and_keeps_condition() {
    let so = so_with("10", fb(-3, 10, None));
    let t = targets(&so);
    let mut s = with_health(3, HealthState::Happy);
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 5, 5);
    assert_eq!(o.value_milli, Err("some error".to_string()));
    assert!(!o.fallback_active);
    assert_eq!(health(&s), Some((3, HealthState::Happy)));
    // "condition false on invalid": the Fallback condition is not True.
    assert!(!s.conditions.is_true(ConditionType::Fallback));
    assert_eq!(
        s.conditions.status(ConditionType::Fallback),
        ConditionStatus::Unknown
    );
    // Negative replicas are invalid too.
    let so = so_with("10", fb(3, -1, None));
    let mut s = with_health(3, HealthState::Happy);
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 5, 5);
    assert_eq!(o.value_milli, Err("some error".to_string()));
}

#[test]
fn fallback_condition_set_when_fallback_exists() {
    let so = so_with("10", fb(3, 10, None));
    let t = targets(&so);
    let mut s = with_health(3, HealthState::Happy);
    metric_with_fallback(&so, &mut s, &t[0], err(), 5, 5);
    let c = s.conditions.get(ConditionType::Fallback).unwrap();
    assert_eq!(c.status, ConditionStatus::True);
    assert_eq!(c.reason, "FallbackExists");
    assert_eq!(
        c.message,
        "At least one trigger is falling back on this scaled object"
    );
    // A success unsets it.
    metric_with_fallback(&so, &mut s, &t[0], Ok(1.0), 5, 5);
    assert_eq!(
        s.conditions.status(ConditionType::Fallback),
        ConditionStatus::False
    );
}

#[test]
fn fallback_condition_considers_every_health_entry() {
    // A stale Failing entry of another metric above the threshold keeps the condition True.
    let so = so_with("10", fb(3, 10, None));
    let t = targets(&so);
    let mut s = state0();
    s.health.insert(
        "s1-prometheus".to_string(),
        HealthStatus {
            number_of_failures: 9,
            status: HealthState::Failing,
        },
    );
    metric_with_fallback(&so, &mut s, &t[0], Ok(1.0), 5, 5);
    assert_eq!(
        s.conditions.status(ConditionType::Fallback),
        ConditionStatus::True
    );
}

fn fallback_value(behavior: &str, current: i32) -> Result<i64, String> {
    let so = so_with("10", fb(3, 10, Some(behavior)));
    let t = targets(&so);
    let mut s = with_health(3, HealthState::Happy);
    metric_with_fallback(&so, &mut s, &t[0], err(), current, current).value_milli
}

#[test]
fn fallback_behaviors() {
    // currentReplicasIfHigher: max(4, 10) × 10.
    assert_eq!(fallback_value("currentReplicasIfHigher", 4), Ok(100_000));
    assert_eq!(fallback_value("currentReplicasIfHigher", 12), Ok(120_000));
    // currentReplicas: 6 × 10.
    assert_eq!(fallback_value("currentReplicas", 6), Ok(60_000));
    // currentReplicasIfLower: min(4, 10) × 10.
    assert_eq!(fallback_value("currentReplicasIfLower", 4), Ok(40_000));
    assert_eq!(fallback_value("currentReplicasIfLower", 12), Ok(100_000));
    // static ignores the current replicas.
    assert_eq!(fallback_value("static", 15), Ok(100_000));
}

#[test]
fn fallback_replicas_by_behavior() {
    use FallbackBehavior::*;
    assert_eq!(fallback_replicas(None, 3, 7), 3.0);
    assert_eq!(fallback_replicas(Some(Static), 3, 7), 3.0);
    assert_eq!(fallback_replicas(Some(CurrentReplicas), 3, 7), 7.0);
    assert_eq!(fallback_replicas(Some(CurrentReplicasIfHigher), 3, 7), 7.0);
    assert_eq!(fallback_replicas(Some(CurrentReplicasIfLower), 3, 7), 3.0);
}

#[test]
fn fallback_target_normalisation_uses_the_milli_target() {
    // Target "100.5" → 100.500 → fallback 3 × 100.5 = 301.5.
    let so = so_with("100.5", fb(0, 3, None));
    let t = targets(&so);
    assert_eq!(do_fallback(&so, &t[0], 1, 1), Some(301_500));
    // Target "0.0625" is rounded to 0.062 before it is used.
    let so = so_with("0.0625", fb(0, 3, None));
    let t = targets(&so);
    assert_eq!(do_fallback(&so, &t[0], 1, 1), Some(186));
}

fn value_so(target: &str, fallback: Value) -> ScaledObject {
    let mut trig = prom(target);
    trig["metricType"] = json!("Value");
    so(json!({"spec": {"triggers": [trig], "fallback": fallback}}))
}

#[test]
fn value_type_fallback_divides_by_ready_pods_as_float() {
    let so = value_so("10", fb(0, 10, None));
    let t = targets(&so);
    // 10 / 4 = 2.5 replicas per ready pod → 10 × 1000 × 2.5.
    let mut s = state0();
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 4, 4);
    assert_eq!(o.value_milli, Ok(25_000));
    assert!(o.fallback_active);
    // 10 / 3 = 3.333… → int64(33333.33…) truncates.
    let mut s = state0();
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 3, 3);
    assert_eq!(o.value_milli, Ok(33_333));
}

#[test]
fn value_type_fallback_without_ready_pods_is_an_error() {
    let so = value_so("10", fb(0, 10, None));
    let t = targets(&so);
    let mut s = state0();
    let o = metric_with_fallback(&so, &mut s, &t[0], err(), 2, 0);
    assert_eq!(o.value_milli, Err(ERROR_PERFORMING_FALLBACK.to_string()));
    assert!(!o.fallback_active);
    // The failure was still counted and the condition set.
    assert_eq!(health(&s), Some((1, HealthState::Failing)));
    assert!(s.conditions.is_true(ConditionType::Fallback));
}

#[test]
fn scaling_modifiers_fallback_behavior_returns_placeholder() {
    let so = so(json!({"spec": {
        "fallback": fb(0, 3, Some("scalingModifiers")),
        "advanced": {"scalingModifiers": {"formula": "a ?? 1", "target": "2"}},
    }}));
    let t = targets(&so);
    let mut s = state0();
    let o = metric_milli_with_fallback(&so, &mut s, &t[0], Err("x".into()), 1, 1);
    assert_eq!(
        o,
        FallbackOutcome {
            value_milli: Ok(-1000),
            fallback_active: false
        }
    );
}

#[test]
fn scaling_modifiers_fallback_needs_integer_target() {
    // HasValidFallback: with scalingModifiers the target must parse as an integer > 0.
    let so = so(json!({"spec": {
        "fallback": fb(0, 3, None),
        "advanced": {"scalingModifiers": {"formula": "a", "target": "2.5"}},
    }}));
    let t = targets(&so);
    let mut s = state0();
    let o = metric_milli_with_fallback(&so, &mut s, &t[0], Err("x".into()), 1, 1);
    assert_eq!(o.value_milli, Err("x".to_string()));
    assert!(s.health.is_empty());
    // With an integer target the composite normalisation is the modifiers target: 3 × 2.
    let so = keda_support::so(json!({"spec": {
        "fallback": fb(0, 3, None),
        "advanced": {"scalingModifiers": {"formula": "a", "target": "2"}},
    }}));
    let mut s = state0();
    let o = metric_milli_with_fallback(&so, &mut s, &t[0], Err("x".into()), 1, 1);
    assert_eq!(o.value_milli, Ok(6000));
    assert!(o.fallback_active);
}

/// The HPA's AverageValue arithmetic for a single External metric: ceil(value / target).
fn hpa_average_value_replicas(value_milli: i64, target_milli: i64) -> i64 {
    (value_milli + target_milli - 1) / target_milli
}

/// The HPA's Value arithmetic: ceil(readyPods × value / target).
fn hpa_value_replicas(ready: i64, value_milli: i64, target_milli: i64) -> i64 {
    ((ready as f64) * (value_milli as f64) / (target_milli as f64)).ceil() as i64
}

#[test]
fn e2e_fallback_numbers() {
    // tests/internals/fallback: min 0, max 5, fallback replicas 3, target 5.
    let make = |behavior: &str| {
        so(json!({"spec": {
            "minReplicaCount": 0, "maxReplicaCount": 5,
            "triggers": [prom("5")],
            "fallback": fb(3, 3, Some(behavior)),
        }}))
    };
    // Metric 20 → 4 replicas.
    let so0 = make("static");
    let t = targets(&so0);
    let mut s = state0();
    let o = metric_with_fallback(&so0, &mut s, &t[0], Ok(20.0), 0, 0);
    assert_eq!(
        hpa_average_value_replicas(o.value_milli.unwrap(), t[0].target_milli()),
        4
    );

    // Metrics server gone, running at 4 replicas: failures beyond the threshold.
    for (behavior, expected) in [
        ("currentReplicasIfHigher", 4),
        ("currentReplicasIfLower", 3),
        ("currentReplicas", 4),
        ("static", 3),
    ] {
        let so = make(behavior);
        let t = targets(&so);
        let mut s = state0();
        let mut last = None;
        for _ in 0..4 {
            last = Some(metric_with_fallback(&so, &mut s, &t[0], err(), 4, 4));
        }
        let o = last.unwrap();
        assert!(o.fallback_active, "{behavior}");
        let v = o.value_milli.unwrap();
        assert_eq!(
            hpa_average_value_replicas(v, t[0].target_milli()),
            expected,
            "{behavior}: value {v}m"
        );
    }
}

#[test]
fn e2e_value_metric_fallback_numbers() {
    // The Value-metric variant: the HPA multiplies by the ready pods, KEDA divides by them.
    for (behavior, expected) in [
        ("currentReplicasIfHigher", 4),
        ("currentReplicasIfLower", 3),
        ("currentReplicas", 4),
        ("static", 3),
    ] {
        let mut trig = prom("5");
        trig["metricType"] = json!("Value");
        let so = so(json!({"spec": {
            "minReplicaCount": 0, "maxReplicaCount": 5,
            "triggers": [trig],
            "fallback": fb(3, 3, Some(behavior)),
        }}));
        let t = targets(&so);
        let mut s = with_health(3, HealthState::Failing);
        let o = metric_with_fallback(&so, &mut s, &t[0], err(), 4, 4);
        let v = o.value_milli.unwrap();
        assert_eq!(
            hpa_value_replicas(4, v, t[0].target_milli()),
            expected,
            "{behavior}: value {v}m"
        );
    }
}

#[test]
fn failures_are_counted_per_call_across_poll_and_hpa_paths() {
    let so = so(json!({"spec": {
        "minReplicaCount": 1,
        "triggers": [prom("5")],
        "fallback": fb(3, 3, None),
    }}));
    let t = targets(&so);
    let mut s = state0();
    let errs = [Err("down".to_string())];
    let input = |now| PollInput {
        now,
        current_replicas: 2,
        ready_pods: 2,
        results: &errs,
    };
    let mut live = |_i: usize| -> Result<f64, String> { Err("down".to_string()) };

    // 1: poll
    let o = poll(&so, &t, &mut s, &input(secs(30)));
    assert!(o.is_error && !o.fallback_active);
    assert_eq!(health(&s), Some((1, HealthState::Failing)));
    // 2, 3: HPA requests between polls
    for n in 2..=3 {
        let r = hpa_metric(&so, &t, &mut s, METRIC, 2, 2, &mut live);
        assert_eq!(r, Err("metric:s0-prometheus encountered error".to_string()));
        assert_eq!(health(&s), Some((n, HealthState::Failing)));
    }
    assert_eq!(
        s.conditions.status(ConditionType::Fallback),
        ConditionStatus::False
    );
    // 4: the next poll is past the threshold — fallback is active and counts as active.
    let o = poll(&so, &t, &mut s, &input(secs(60)));
    assert!(o.fallback_active);
    assert!(o.is_active);
    assert!(!o.is_error);
    assert_eq!(o.trigger_values, vec![Some(15.0)]);
    assert_eq!(health(&s), Some((4, HealthState::Failing)));
    assert!(s.conditions.is_true(ConditionType::Fallback));
    assert!(o.events.iter().any(|e| e.type_ == EventType::Normal
        && e.reason == "ScaledObjectFallbackActivated"
        && e.message == "ScaledObject fallback is active"));
    // 5: the HPA now gets the fallback value: 3 replicas × 5.
    let r = hpa_metric(&so, &t, &mut s, METRIC, 2, 2, &mut live);
    assert_eq!(r, Ok(vec![15_000]));
    assert_eq!(health(&s), Some((5, HealthState::Failing)));
    // Still falling back at the next poll: no second Activated event.
    let o = poll(&so, &t, &mut s, &input(secs(90)));
    assert!(o.fallback_active);
    assert!(
        !o.events
            .iter()
            .any(|e| e.reason.starts_with("ScaledObjectFallback"))
    );
    // Recovery: health reset, condition False, Deactivated event.
    let ok = [Ok(1.0)];
    let o = poll(
        &so,
        &t,
        &mut s,
        &PollInput {
            now: secs(120),
            current_replicas: 3,
            ready_pods: 3,
            results: &ok,
        },
    );
    assert!(!o.fallback_active);
    assert_eq!(health(&s), Some((0, HealthState::Happy)));
    assert_eq!(
        s.conditions.status(ConditionType::Fallback),
        ConditionStatus::False
    );
    let ev: Vec<_> = o
        .events
        .iter()
        .filter(|e| e.reason.starts_with("ScaledObjectFallback"))
        .collect();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].reason, "ScaledObjectFallbackDeactivated");
    assert_eq!(ev[0].message, "ScaledObject fallback is no longer active");
}

#[test]
fn fallback_condition_set_by_hpa_path_suppresses_poll_activation_event() {
    // checkScalers compares with the Fallback condition as read before the poll; when an HPA request
    // already flipped it to True, the poll records no Activated event.
    let so = so(json!({"spec": {"triggers": [prom("5")], "fallback": fb(0, 3, None)}}));
    let t = targets(&so);
    let mut s = state0();
    let mut live = |_i: usize| -> Result<f64, String> { Err("down".to_string()) };
    let r = hpa_metric(&so, &t, &mut s, METRIC, 1, 1, &mut live);
    assert_eq!(r, Ok(vec![15_000]));
    assert!(s.conditions.is_true(ConditionType::Fallback));
    let errs = [Err("down".to_string())];
    let o = poll(
        &so,
        &t,
        &mut s,
        &PollInput {
            now: secs(30),
            current_replicas: 1,
            ready_pods: 1,
            results: &errs,
        },
    );
    assert!(o.fallback_active);
    assert!(
        !o.events
            .iter()
            .any(|e| e.reason.starts_with("ScaledObjectFallback"))
    );
}

#[test]
fn fallback_activates_from_zero() {
    // While fallback is active the trigger counts as active, so KEDA scales 0 → 1 (#7239).
    let so = so(json!({"spec": {
        "minReplicaCount": 0,
        "triggers": [prom("5")],
        "fallback": fb(0, 3, None),
    }}));
    let t = targets(&so);
    let mut s = state0();
    let errs = [Err("down".to_string())];
    let o = poll(
        &so,
        &t,
        &mut s,
        &PollInput {
            now: secs(30),
            current_replicas: 0,
            ready_pods: 0,
            results: &errs,
        },
    );
    assert!(o.is_active && o.fallback_active && !o.is_error);
    assert_eq!(o.scale_to, Some(1));
    assert!(
        o.events.iter().any(|e| e.message
            == "Scaled apps/v1.Deployment ns/app from 0 to 1, triggered by s0-prometheus")
    );
    assert_eq!(s.last_active_time, Some(secs(30)));
}
