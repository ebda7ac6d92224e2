//! keda.md §2.4 and §2.7: one poll (`checkScalers` → `getScaledObjectState` → `RequestScale` → status) and
//! the HPA's metrics request (`GetScaledObjectMetrics`), including the `useCachedMetrics` path.

mod keda_support;

use std::cell::Cell;

use keda_support::{prom, secs, so, state0, targets};
use prescale_core::keda::conditions::ConditionStatus;
use prescale_core::keda::scale_loop::{MODIFIERS_NOT_EVALUATED, modifiers_not_supported};
use prescale_core::keda::{
    ConditionType, EventType, HealthState, KedaState, MetricRecord, PollInput, PollOutcome,
    TriggerTarget, hpa_metric, poll,
};
use prescale_core::spec::ScaledObject;
use prescale_core::time::Timestamp;
use serde_json::json;

fn run(
    so: &ScaledObject,
    t: &[TriggerTarget],
    s: &mut KedaState,
    now: Timestamp,
    current: i32,
    results: &[Result<f64, String>],
) -> PollOutcome {
    poll(
        so,
        t,
        s,
        &PollInput {
            now,
            current_replicas: current,
            ready_pods: current,
            results,
        },
    )
}

fn two_triggers(activation: &str) -> ScaledObject {
    let mut a = prom("10");
    a["metadata"]["activationThreshold"] = json!(activation);
    so(json!({"spec": {"minReplicaCount": 0, "triggers": [a, prom("5")]}}))
}

#[test]
fn activation_is_strict_and_ored_over_triggers() {
    let so = two_triggers("20");
    let t = targets(&so);
    let mut s = state0();
    // value == activationThreshold and 0 with the default 0: inactive.
    let o = run(&so, &t, &mut s, secs(30), 0, &[Ok(20.0), Ok(0.0)]);
    assert!(!o.is_active && !o.is_error);
    assert_eq!(o.scale_to, None);
    assert_eq!(o.trigger_values, vec![Some(20.0), Some(0.0)]);
    // One trigger above its activation threshold is enough.
    let o = run(&so, &t, &mut s, secs(60), 0, &[Ok(20.0), Ok(0.5)]);
    assert!(o.is_active);
    assert_eq!(o.active_triggers, vec!["s1-prometheus".to_string()]);
    assert_eq!(o.scale_to, Some(1));
    assert_eq!(
        o.events,
        vec![prescale_core::keda::KedaEvent {
            type_: EventType::Normal,
            reason: "KEDAScaleTargetActivated".into(),
            message: "Scaled apps/v1.Deployment ns/app from 0 to 1, triggered by s1-prometheus"
                .into(),
        }]
    );
    assert_eq!(s.last_active_time, Some(secs(60)));
    assert_eq!(s.triggers_activity.get("s0-prometheus"), Some(&false));
    assert_eq!(s.triggers_activity.get("s1-prometheus"), Some(&true));
    let a = s.conditions.get(ConditionType::Active).unwrap();
    assert_eq!(
        (a.status, a.reason.as_str()),
        (ConditionStatus::True, "ScalerActive")
    );
    // Both active: both named, in trigger order.
    let o = run(&so, &t, &mut s, secs(90), 1, &[Ok(25.0), Ok(1.0)]);
    assert_eq!(
        o.active_triggers,
        vec!["s0-prometheus".to_string(), "s1-prometheus".to_string()]
    );
    assert_eq!(o.scale_to, None);
    assert_eq!(s.last_active_time, Some(secs(90)));
}

#[test]
fn negative_nan_and_inf_values() {
    let so = so(json!({"spec": {"triggers": [prom("10")]}}));
    let t = targets(&so);
    let mut s = state0();
    let o = run(&so, &t, &mut s, secs(1), 0, &[Ok(-3.0)]);
    assert!(!o.is_active);
    assert_eq!(o.trigger_values, vec![Some(0.0)]);
    let o = run(&so, &t, &mut s, secs(2), 0, &[Ok(f64::INFINITY)]);
    // +Inf > 0 is active in Go too; the metric itself reads as 0.
    assert!(o.is_active);
    assert_eq!(o.trigger_values, vec![Some(0.0)]);
}

#[test]
fn errors_set_is_error_and_record_scaler_failed_events() {
    let so = two_triggers("0");
    let t = targets(&so);
    let mut s = state0();
    let o = run(
        &so,
        &t,
        &mut s,
        secs(30),
        3,
        &[
            Ok(50.0),
            Err("prometheus query api returned error. status: 500".into()),
        ],
    );
    assert!(o.is_active && o.is_error);
    assert_eq!(o.trigger_values, vec![Some(50.0), None]);
    assert_eq!(o.events.len(), 1);
    assert_eq!(
        o.events[0].to_string(),
        "Warning KEDAScalerFailed prometheus query api returned error. status: 500"
    );
    // PartialTriggerError, lastActiveTime not refreshed.
    let r = s.conditions.get(ConditionType::Ready).unwrap();
    assert_eq!(
        (r.status, r.reason.as_str()),
        (ConditionStatus::Unknown, "PartialTriggerError")
    );
    assert_eq!(s.last_active_time, None);
    // No fallback configured and nothing active: TriggerError blocks the scale to zero.
    let o = run(&so, &t, &mut s, secs(60), 3, &[Ok(0.0), Err("down".into())]);
    assert!(!o.is_active && o.is_error);
    assert_eq!(o.scale_to, None);
    let r = s.conditions.get(ConditionType::Ready).unwrap();
    assert_eq!(
        (r.status, r.reason.as_str()),
        (ConditionStatus::False, "TriggerError")
    );
    // Recovery: Ready back to True, scale to zero (no lastActiveTime, initialCooldown 0).
    let o = run(&so, &t, &mut s, secs(90), 3, &[Ok(0.0), Ok(0.0)]);
    assert_eq!(o.scale_to, Some(0));
    assert_eq!(
        s.conditions.status(ConditionType::Ready),
        ConditionStatus::True
    );
    assert_eq!(
        o.events.last().unwrap().message,
        "Deactivated apps/v1.Deployment ns/app from 3 to 0"
    );
}

#[test]
fn missing_result_is_an_error() {
    let so = two_triggers("0");
    let t = targets(&so);
    let mut s = state0();
    let o = run(&so, &t, &mut s, secs(1), 1, &[Ok(1.0)]);
    assert!(o.is_error);
    assert_eq!(o.trigger_values, vec![Some(1.0), None]);
    assert_eq!(o.events[0].message, "no query result for trigger 1");
}

#[test]
fn paused_object_is_evaluated_but_not_scaled() {
    let so = so(json!({
        "metadata": {"annotations": {"autoscaling.keda.sh/paused": "true"}},
        "spec": {"triggers": [prom("10")]},
    }));
    let t = targets(&so);
    let mut s = state0();
    let o = run(&so, &t, &mut s, secs(30), 0, &[Ok(100.0)]);
    assert!(o.is_active);
    assert_eq!(o.scale_to, None);
    assert!(o.events.is_empty());
    assert!(s.conditions.is_true(ConditionType::Paused));
    assert_eq!(
        s.conditions.status(ConditionType::Active),
        ConditionStatus::Unknown
    );
    assert_eq!(s.last_active_time, None);
}

#[test]
fn force_activation_scales_from_zero_without_active_triggers() {
    let so = so(json!({
        "metadata": {"annotations": {"autoscaling.keda.sh/force-activation": "true"}},
        "spec": {"minReplicaCount": 2, "triggers": [prom("10")]},
    }));
    let t = targets(&so);
    let mut s = state0();
    let o = run(&so, &t, &mut s, secs(30), 0, &[Ok(0.0)]);
    assert!(!o.is_active);
    assert_eq!(o.scale_to, Some(2));
    assert_eq!(
        o.events[0].message,
        "Scaled apps/v1.Deployment ns/app from 0 to 2, caused by forced activation annotation"
    );
}

#[test]
fn idle_replicas_round_trip() {
    let so = so(json!({"spec": {
        "minReplicaCount": 3, "idleReplicaCount": 0, "cooldownPeriod": 30,
        "triggers": [prom("10")],
    }}));
    let t = targets(&so);
    let mut s = state0();
    let o = run(&so, &t, &mut s, secs(10), 0, &[Ok(5.0)]);
    assert_eq!(o.scale_to, Some(3));
    let o = run(&so, &t, &mut s, secs(20), 3, &[Ok(0.0)]);
    assert_eq!(o.scale_to, None);
    let o = run(&so, &t, &mut s, secs(41), 3, &[Ok(0.0)]);
    assert_eq!(o.scale_to, Some(0));
    assert_eq!(
        o.events[0].message,
        "Deactivated apps/v1.Deployment ns/app from 3 to 0"
    );
}

#[test]
fn scaling_modifiers_are_not_evaluated_yet() {
    let so =
        so(json!({"spec": {"advanced": {"scalingModifiers": {"formula": "a", "target": "1"}}}}));
    let t = targets(&so);
    let mut s = state0();
    let before = s.clone();
    let o = run(&so, &t, &mut s, secs(1), 0, &[Ok(1.0)]);
    assert!(o.is_error);
    assert_eq!(
        o.error.as_deref(),
        Some("spec.advanced.scalingModifiers: scalingModifiers formulas are not evaluated yet")
    );
    assert_eq!(
        MODIFIERS_NOT_EVALUATED,
        "scalingModifiers formulas are not evaluated yet"
    );
    assert_eq!(o.scale_to, None);
    assert_eq!(s, before);
    let mut live = |_i: usize| -> Result<f64, String> { Ok(1.0) };
    let r = hpa_metric(&so, &t, &mut s, "composite-metric", 1, 1, &mut live);
    assert_eq!(r, Err(modifiers_not_supported().to_string()));
}

#[test]
fn hpa_metric_live_path() {
    let so = two_triggers("0");
    let t = targets(&so);
    let mut s = state0();
    let calls = Cell::new(0);
    let mut live = |i: usize| -> Result<f64, String> {
        calls.set(calls.get() + 1);
        if i == 0 {
            Ok(12.3456)
        } else {
            Err("boom".into())
        }
    };
    assert_eq!(
        hpa_metric(&so, &t, &mut s, "s0-prometheus", 1, 1, &mut live),
        Ok(vec![12_346])
    );
    // EqualFold matching.
    assert_eq!(
        hpa_metric(&so, &t, &mut s, "S0-Prometheus", 1, 1, &mut live),
        Ok(vec![12_346])
    );
    assert_eq!(
        hpa_metric(&so, &t, &mut s, "s1-prometheus", 1, 1, &mut live),
        Err("metric:s1-prometheus encountered error".to_string())
    );
    assert_eq!(
        hpa_metric(&so, &t, &mut s, "s9-prometheus", 1, 1, &mut live),
        Err("no matching metrics found for s9-prometheus".to_string())
    );
    assert_eq!(calls.get(), 3);
}

fn cached_so(fallback: serde_json::Value) -> ScaledObject {
    let mut a = prom("10");
    a["useCachedMetrics"] = json!(true);
    so(json!({"spec": {"minReplicaCount": 1, "triggers": [a, prom("10")], "fallback": fallback}}))
}

#[test]
fn use_cached_metrics_reads_the_last_poll() {
    let so = cached_so(serde_json::Value::Null);
    let t = targets(&so);
    let mut s = state0();
    let calls = Cell::new(0);
    let mut live = |_i: usize| -> Result<f64, String> {
        calls.set(calls.get() + 1);
        Ok(99.0)
    };
    // No record yet: the scaler is queried.
    assert_eq!(
        hpa_metric(&so, &t, &mut s, "s0-prometheus", 1, 1, &mut live),
        Ok(vec![99_000])
    );
    assert_eq!(calls.get(), 1);
    // A poll stores a record for the cached trigger only.
    run(&so, &t, &mut s, secs(30), 1, &[Ok(7.0), Ok(8.0)]);
    assert_eq!(
        s.metric_records.get("s0-prometheus"),
        Some(&MetricRecord {
            is_active: true,
            value: Ok(7000)
        })
    );
    assert!(!s.metric_records.contains_key("s1-prometheus"));
    // Now the HPA gets the poll's value without a query; the uncached trigger is still queried.
    assert_eq!(
        hpa_metric(&so, &t, &mut s, "s0-prometheus", 1, 1, &mut live),
        Ok(vec![7000])
    );
    assert_eq!(calls.get(), 1);
    assert_eq!(
        hpa_metric(&so, &t, &mut s, "s1-prometheus", 1, 1, &mut live),
        Ok(vec![99_000])
    );
    assert_eq!(calls.get(), 2);
    // The next poll replaces the record.
    run(&so, &t, &mut s, secs(60), 1, &[Ok(0.0), Ok(8.0)]);
    assert_eq!(
        s.metric_records.get("s0-prometheus"),
        Some(&MetricRecord {
            is_active: false,
            value: Ok(0)
        })
    );
    // Records disappear when the scale loop stops.
    s.on_scale_loop_stopped();
    assert!(s.metric_records.is_empty());
}

#[test]
fn cached_error_counts_a_failure_per_call() {
    let so = cached_so(json!({"failureThreshold": 2, "replicas": 4}));
    let t = targets(&so);
    let mut s = state0();
    let mut live = |_i: usize| -> Result<f64, String> { panic!("must read the cache") };
    run(&so, &t, &mut s, secs(30), 2, &[Err("down".into()), Ok(1.0)]);
    assert_eq!(
        s.metric_records.get("s0-prometheus"),
        Some(&MetricRecord {
            is_active: false,
            value: Err("down".into())
        })
    );
    assert_eq!(s.health["s0-prometheus"].number_of_failures, 1);
    // Each HPA request re-applies fallback to the cached error.
    assert_eq!(
        hpa_metric(&so, &t, &mut s, "s0-prometheus", 2, 2, &mut live),
        Err("metric:s0-prometheus encountered error".to_string())
    );
    assert_eq!(s.health["s0-prometheus"].number_of_failures, 2);
    // Third failure > threshold 2: the cached error now yields the fallback value 4 × 10.
    assert_eq!(
        hpa_metric(&so, &t, &mut s, "s0-prometheus", 2, 2, &mut live),
        Ok(vec![40_000])
    );
    assert_eq!(s.health["s0-prometheus"].number_of_failures, 3);
}

#[test]
fn cached_fallback_value_resets_health_on_the_hpa_path() {
    // A poll past the threshold caches the fallback value as a plain metric; reading it back is a success for
    // GetMetricsWithFallback, which resets the health (upstream behaviour).
    let so = cached_so(json!({"failureThreshold": 0, "replicas": 4}));
    let t = targets(&so);
    let mut s = state0();
    let o = run(&so, &t, &mut s, secs(30), 2, &[Err("down".into()), Ok(1.0)]);
    assert!(o.fallback_active);
    assert_eq!(
        s.metric_records.get("s0-prometheus"),
        Some(&MetricRecord {
            is_active: true,
            value: Ok(40_000)
        })
    );
    let mut live = |_i: usize| -> Result<f64, String> { panic!("must read the cache") };
    assert_eq!(
        hpa_metric(&so, &t, &mut s, "s0-prometheus", 2, 2, &mut live),
        Ok(vec![40_000])
    );
    assert_eq!(s.health["s0-prometheus"].status, HealthState::Happy);
    assert_eq!(s.health["s0-prometheus"].number_of_failures, 0);
}

#[test]
fn records_are_kept_when_a_poll_stores_none() {
    // Without any useCachedMetrics trigger a poll stores nothing, and earlier records stay.
    let so = so(json!({"spec": {"triggers": [prom("10")]}}));
    let t = targets(&so);
    let mut s = state0();
    s.metric_records.insert(
        "s0-prometheus".into(),
        MetricRecord {
            is_active: true,
            value: Ok(1),
        },
    );
    run(&so, &t, &mut s, secs(1), 1, &[Ok(1.0)]);
    assert_eq!(s.metric_records.len(), 1);
}

#[test]
fn prune_health_keeps_current_metric_names() {
    let mut s = state0();
    for n in ["s0-prometheus", "s1-prometheus"] {
        s.health.insert(
            n.into(),
            prescale_core::keda::HealthStatus {
                number_of_failures: 2,
                status: HealthState::Failing,
            },
        );
    }
    s.prune_health(&["s0-prometheus".to_string()]);
    assert_eq!(s.health.keys().collect::<Vec<_>>(), vec!["s0-prometheus"]);
}
