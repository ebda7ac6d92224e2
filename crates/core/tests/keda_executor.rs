//! keda.md §2.5 and §4.7: `RequestScale` (every row of `scale_scaledobjects_test.go`'s scenario table and
//! its Ready semantics), cooldown and initialCooldown at exact boundaries, and `lastActiveTime` rules.

mod keda_support;

use keda_support::{ms, prom, secs, so, state0, targets};
use prescale_core::keda::conditions::{ConditionStatus, HpaScalingActive, hpa_health};
use prescale_core::keda::executor::{
    ScaleRequest, ScaleResult, cooldown_elapsed, handle_result, request_scale,
};
use prescale_core::keda::{ConditionType, Conditions, EventType, KedaState, PollInput, poll};
use prescale_core::spec::ScaledObject;
use prescale_core::time::Timestamp;
use serde_json::{Value, json};

/// The upstream tests' object: `name` in `namespace`, targeting `name`.
fn exec_so(spec: Value, annotations: Value) -> ScaledObject {
    so(json!({
        "metadata": {"name": "name", "namespace": "namespace", "annotations": annotations},
        "spec": merge_spec(spec),
    }))
}

fn merge_spec(spec: Value) -> Value {
    let mut base = json!({"scaleTargetRef": {"name": "name"}});
    keda_support::merge(&mut base, &spec);
    base
}

fn run(
    so: &ScaledObject,
    state: &KedaState,
    current: i32,
    active: bool,
    error: bool,
) -> ScaleResult {
    run_at(so, state, secs(1000), current, active, error, &[])
}

fn run_at(
    so: &ScaledObject,
    state: &KedaState,
    now: Timestamp,
    current: i32,
    active: bool,
    error: bool,
    active_triggers: &[&str],
) -> ScaleResult {
    let active_triggers: Vec<String> = active_triggers.iter().map(|s| s.to_string()).collect();
    let names = vec!["s0-prometheus".to_string()];
    request_scale(
        so,
        state,
        &ScaleRequest {
            now,
            current_replicas: current,
            is_active: active,
            is_error: error,
            active_triggers: &active_triggers,
            external_metric_names: &names,
        },
    )
}

fn cond(c: &Conditions, t: ConditionType) -> (ConditionStatus, String, String) {
    let c = c.get(t).unwrap_or_else(|| panic!("no {t:?} condition"));
    (c.status, c.reason.clone(), c.message.clone())
}

fn active_true(msg: &str) -> (ConditionStatus, String, String) {
    (ConditionStatus::True, "ScalerActive".into(), msg.into())
}

fn active_false() -> (ConditionStatus, String, String) {
    (
        ConditionStatus::False,
        "ScalerNotActive".into(),
        "Scaling is not performed because triggers are not active".into(),
    )
}

const ACTIVE_MSG: &str = "Scaling is performed because triggers are active";
const FORCED_MSG: &str = "Scaling is performed because activation is being forced by annotation";

#[test]
fn scale_to_min_replicas_when_not_active() {
    let so = exec_so(json!({"minReplicaCount": 0}), json!({}));
    let r = run(&so, &state0(), 10, false, false);
    assert_eq!(r.scale_to, Some(0));
    assert_eq!(cond(&r.conditions, ConditionType::Active), active_false());
    assert_eq!(r.events.len(), 1);
    assert_eq!(
        r.events[0].to_string(),
        "Normal KEDAScaleTargetDeactivated Deactivated apps/v1.Deployment namespace/name from 10 to 0"
    );
    assert_eq!(r.last_active_time, None);
}

#[test]
fn scale_to_min_replicas_from_lower_initial_replica_count() {
    let so = exec_so(json!({"minReplicaCount": 5}), json!({}));
    let r = run(&so, &state0(), 1, false, false);
    assert_eq!(r.scale_to, Some(5));
    assert_eq!(cond(&r.conditions, ConditionType::Active), active_false());
    assert!(r.events.is_empty());
}

#[test]
fn scale_from_min_replicas_when_active() {
    let so = exec_so(json!({"minReplicaCount": 0}), json!({}));
    let r = run_at(
        &so,
        &state0(),
        ms(1_000_700),
        0,
        true,
        false,
        &["s0-prometheus"],
    );
    assert_eq!(r.scale_to, Some(1));
    assert_eq!(
        cond(&r.conditions, ConditionType::Active),
        active_true(ACTIVE_MSG)
    );
    // lastActiveTime is stored in whole seconds.
    assert_eq!(r.last_active_time, Some(secs(1000)));
    assert_eq!(
        r.events[0].message,
        "Scaled apps/v1.Deployment namespace/name from 0 to 1, triggered by s0-prometheus"
    );
}

#[test]
fn scale_to_idle_replicas_when_not_active() {
    let so = exec_so(
        json!({"minReplicaCount": 5, "idleReplicaCount": 0}),
        json!({}),
    );
    let r = run(&so, &state0(), 10, false, false);
    assert_eq!(r.scale_to, Some(0));
    assert_eq!(cond(&r.conditions, ConditionType::Active), active_false());
}

#[test]
fn scale_from_idle_to_min_replicas_when_active() {
    let so = exec_so(
        json!({"minReplicaCount": 5, "idleReplicaCount": 0}),
        json!({}),
    );
    let r = run(&so, &state0(), 0, true, false);
    assert_eq!(r.scale_to, Some(5));
    assert_eq!(
        cond(&r.conditions, ConditionType::Active),
        active_true(ACTIVE_MSG)
    );
    assert!(r.last_active_time.is_some());
}

#[test]
fn scale_to_paused_replicas_count_does_nothing_in_executor() {
    let so = exec_so(
        json!({}),
        json!({"autoscaling.keda.sh/paused-replicas": "0"}),
    );
    let r = run(&so, &state0(), 3, true, false);
    assert_eq!(r.scale_to, None);
    assert!(r.events.is_empty());
    assert_eq!(
        cond(&r.conditions, ConditionType::Paused),
        (
            ConditionStatus::True,
            "ScaledObjectPaused".into(),
            "ScaledObject is paused".into()
        )
    );
    assert!(!r.conditions.is_true(ConditionType::Active));
    assert!(r.conditions.get(ConditionType::Active).is_none());
    assert_eq!(
        cond(&r.conditions, ConditionType::Ready).0,
        ConditionStatus::True
    );
    // paused: "true" behaves the same.
    let so = exec_so(json!({}), json!({"autoscaling.keda.sh/paused": "true"}));
    let r = run(&so, &state0(), 0, true, false);
    assert_eq!(r.scale_to, None);
    assert!(r.conditions.is_true(ConditionType::Paused));
}

#[test]
fn event_with_trigger_info() {
    let so = exec_so(
        json!({"minReplicaCount": 5, "idleReplicaCount": 0}),
        json!({}),
    );
    let r = run_at(&so, &state0(), secs(100), 2, true, false, &["testTrigger"]);
    assert_eq!(r.scale_to, Some(5));
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].type_, EventType::Normal);
    assert_eq!(r.events[0].reason, "KEDAScaleTargetActivated");
    assert_eq!(
        r.events[0].to_string(),
        "Normal KEDAScaleTargetActivated Scaled apps/v1.Deployment namespace/name from 2 to 5, triggered by testTrigger"
    );
    // Several triggers are joined with ';'.
    let r = run_at(
        &so,
        &state0(),
        secs(100),
        2,
        true,
        false,
        &["s0-prometheus", "s1-prometheus"],
    );
    assert_eq!(
        r.events[0].message,
        "Scaled apps/v1.Deployment namespace/name from 2 to 5, triggered by s0-prometheus;s1-prometheus"
    );
}

#[test]
fn event_names_the_scale_target_kind() {
    let so = so(json!({
        "metadata": {"name": "so", "namespace": "prod"},
        "spec": {"scaleTargetRef": {"name": "db", "kind": "StatefulSet", "apiVersion": "apps/v1"}},
    }));
    let r = run_at(&so, &state0(), secs(5), 0, true, false, &["s0-prometheus"]);
    assert_eq!(
        r.events[0].message,
        "Scaled apps/v1.StatefulSet prod/db from 0 to 1, triggered by s0-prometheus"
    );
}

#[test]
fn no_scale_to_min_when_pause_scale_in() {
    let so = exec_so(
        json!({"minReplicaCount": 0}),
        json!({"autoscaling.keda.sh/paused-scale-in": "true"}),
    );
    let r = run(&so, &state0(), 10, false, false);
    assert_eq!(r.scale_to, None);
    assert!(r.events.is_empty());
    assert_eq!(cond(&r.conditions, ConditionType::Active), active_false());
}

#[test]
fn no_scale_to_idle_when_pause_scale_in() {
    let so = exec_so(
        json!({"minReplicaCount": 5, "idleReplicaCount": 0}),
        json!({"autoscaling.keda.sh/paused-scale-in": "true"}),
    );
    let r = run(&so, &state0(), 10, false, false);
    assert_eq!(r.scale_to, None);
    assert_eq!(cond(&r.conditions, ConditionType::Active), active_false());
}

#[test]
fn scale_from_min_replicas_when_activation_forced() {
    let so = exec_so(
        json!({"minReplicaCount": 0}),
        json!({"autoscaling.keda.sh/force-activation": "true"}),
    );
    let r = run_at(&so, &state0(), secs(50), 0, false, false, &[]);
    assert_eq!(r.scale_to, Some(1));
    assert_eq!(
        cond(&r.conditions, ConditionType::Active),
        active_true(FORCED_MSG)
    );
    assert_eq!(r.last_active_time, Some(secs(50)));
    assert_eq!(
        r.events[0].message,
        "Scaled apps/v1.Deployment namespace/name from 0 to 1, caused by forced activation annotation"
    );
}

#[test]
fn no_scale_from_min_when_paused_scale_out() {
    let so = exec_so(
        json!({"minReplicaCount": 0}),
        json!({"autoscaling.keda.sh/paused-scale-out": "true"}),
    );
    let r = run(&so, &state0(), 0, true, false);
    assert_eq!(r.scale_to, None);
    assert!(r.events.is_empty());
    assert_eq!(
        cond(&r.conditions, ConditionType::Active),
        active_true(ACTIVE_MSG)
    );
    // scaleFromZeroOrIdle returned early: no lastActiveTime.
    assert_eq!(r.last_active_time, None);
}

#[test]
fn no_scale_from_idle_to_min_when_paused_scale_out() {
    let so = exec_so(
        json!({"minReplicaCount": 5, "idleReplicaCount": 0}),
        json!({"autoscaling.keda.sh/paused-scale-out": "true"}),
    );
    let r = run(&so, &state0(), 0, true, false);
    assert_eq!(r.scale_to, None);
    assert_eq!(
        cond(&r.conditions, ConditionType::Active),
        active_true(ACTIVE_MSG)
    );
}

#[test]
fn ready_true_when_all_healthy() {
    let so = exec_so(json!({"minReplicaCount": 0}), json!({}));
    let r = run(&so, &state0(), 3, true, false);
    assert_eq!(
        cond(&r.conditions, ConditionType::Ready),
        (
            ConditionStatus::True,
            "ScaledObjectReady".into(),
            "ScaledObject is defined correctly and is ready for scaling".into()
        )
    );
    // Active with replicas > 0: the HPA owns the count, KEDA only refreshes lastActiveTime.
    assert_eq!(r.scale_to, None);
    assert_eq!(r.last_active_time, Some(secs(1000)));
}

#[test]
fn ready_false_on_scaler_error_without_fallback() {
    // An erroring trigger blocks scale to zero.
    let so = exec_so(json!({"minReplicaCount": 0}), json!({}));
    let r = run(&so, &state0(), 10, false, true);
    assert_eq!(r.scale_to, None);
    assert_eq!(
        cond(&r.conditions, ConditionType::Ready),
        (
            ConditionStatus::False,
            "TriggerError".into(),
            "Triggers defined in ScaledObject are not working correctly".into()
        )
    );
    assert_eq!(cond(&r.conditions, ConditionType::Active), active_false());
}

#[test]
fn ready_unknown_on_partial_error_and_last_active_time_not_refreshed() {
    let so = exec_so(json!({"minReplicaCount": 0}), json!({}));
    let r = run(&so, &state0(), 3, true, true);
    assert_eq!(r.scale_to, None);
    assert_eq!(
        cond(&r.conditions, ConditionType::Ready),
        (
            ConditionStatus::Unknown,
            "PartialTriggerError".into(),
            "Some triggers defined in ScaledObject are not working correctly".into()
        )
    );
    assert_eq!(
        cond(&r.conditions, ConditionType::Active),
        active_true(ACTIVE_MSG)
    );
    assert_eq!(r.last_active_time, None);
}

#[test]
fn partial_error_at_zero_still_scales_from_zero() {
    let so = exec_so(json!({"minReplicaCount": 0}), json!({}));
    let r = run(&so, &state0(), 0, true, true);
    assert_eq!(r.scale_to, Some(1));
    assert_eq!(
        cond(&r.conditions, ConditionType::Ready).0,
        ConditionStatus::True
    );
}

#[test]
fn scaler_error_with_fallback_keeps_ready_and_replicas() {
    let so = exec_so(
        json!({"minReplicaCount": 0, "fallback": {"failureThreshold": 3, "replicas": 10}}),
        json!({}),
    );
    let r = run(&so, &state0(), 10, false, true);
    assert_eq!(r.scale_to, None);
    assert_eq!(
        cond(&r.conditions, ConditionType::Ready).0,
        ConditionStatus::True
    );
    assert_eq!(cond(&r.conditions, ConditionType::Active), active_false());
}

#[test]
fn scaler_error_with_zero_fallback_replicas_scales_to_zero() {
    let so = exec_so(
        json!({"minReplicaCount": 0, "fallback": {"failureThreshold": 3, "replicas": 0}}),
        json!({}),
    );
    let r = run(&so, &state0(), 10, false, true);
    assert_eq!(r.scale_to, Some(0));
    assert_eq!(
        cond(&r.conditions, ConditionType::Ready).0,
        ConditionStatus::True
    );
}

#[test]
fn inactive_at_min_does_nothing() {
    let so = exec_so(json!({"minReplicaCount": 2}), json!({}));
    let r = run(&so, &state0(), 2, false, false);
    assert_eq!(r.scale_to, None);
    assert!(r.events.is_empty());
    let so = exec_so(json!({}), json!({}));
    let r = run(&so, &state0(), 0, false, false);
    assert_eq!(r.scale_to, None);
    assert_eq!(cond(&r.conditions, ConditionType::Active), active_false());
}

#[test]
fn min_unset_scales_to_zero() {
    let so = exec_so(json!({}), json!({}));
    let r = run(&so, &state0(), 4, false, false);
    assert_eq!(r.scale_to, Some(0));
}

#[test]
fn triggers_activity_lists_external_metric_names() {
    let so = exec_so(json!({}), json!({}));
    let r = run_at(&so, &state0(), secs(1), 2, true, false, &["s0-prometheus"]);
    assert_eq!(r.triggers_activity.get("s0-prometheus"), Some(&true));
    let r = run(&so, &state0(), 2, false, false);
    assert_eq!(r.triggers_activity.get("s0-prometheus"), Some(&false));
}

// --- cooldown -------------------------------------------------------------------------------

fn cooldown_so(spec: Value) -> ScaledObject {
    exec_so(spec, json!({}))
}

#[test]
fn cooldown_boundary_is_strict() {
    let so = cooldown_so(json!({"minReplicaCount": 0, "cooldownPeriod": 300}));
    let mut s = state0();
    s.last_active_time = Some(secs(100));
    // lastActiveTime + 300 s == now: not Before → still cooling down.
    let r = run_at(&so, &s, secs(400), 3, false, false, &[]);
    assert_eq!(r.scale_to, None);
    assert_eq!(
        cond(&r.conditions, ConditionType::Active),
        (
            ConditionStatus::False,
            "ScalerCooldown".into(),
            "Scaler cooling down because triggers are not active".into()
        )
    );
    // One millisecond later it has elapsed.
    let r = run_at(&so, &s, ms(400_001), 3, false, false, &[]);
    assert_eq!(r.scale_to, Some(0));
    assert_eq!(cond(&r.conditions, ConditionType::Active), active_false());
    assert!(!cooldown_elapsed(&so, &s, secs(400)));
    assert!(cooldown_elapsed(&so, &s, ms(400_001)));
}

#[test]
fn default_cooldown_is_300s() {
    let so = cooldown_so(json!({}));
    let mut s = state0();
    s.last_active_time = Some(secs(10));
    assert!(!cooldown_elapsed(&so, &s, secs(310)));
    assert!(cooldown_elapsed(&so, &s, ms(310_001)));
}

#[test]
fn cooldown_zero() {
    let so = cooldown_so(json!({"cooldownPeriod": 0}));
    let mut s = state0();
    s.last_active_time = Some(secs(10));
    assert!(!cooldown_elapsed(&so, &s, secs(10)));
    assert!(cooldown_elapsed(&so, &s, ms(10_001)));
}

#[test]
fn initial_cooldown_counts_from_creation_until_first_activity() {
    let so = cooldown_so(json!({"initialCooldownPeriod": 60, "cooldownPeriod": 10}));
    // The creation timestamp is stored in whole seconds: 10.5 s → 10 s.
    let s = KedaState::new(ms(10_500));
    assert_eq!(s.created_at, secs(10));
    assert!(!cooldown_elapsed(&so, &s, secs(70)));
    assert!(cooldown_elapsed(&so, &s, ms(70_001)));
    let r = run_at(&so, &s, secs(70), 2, false, false, &[]);
    assert_eq!(r.scale_to, None);
    assert_eq!(
        cond(&r.conditions, ConditionType::Active).1,
        "ScalerCooldown"
    );
    let r = run_at(&so, &s, ms(70_001), 2, false, false, &[]);
    assert_eq!(r.scale_to, Some(0));
    // Once lastActiveTime is set, only cooldownPeriod counts.
    let mut s = s;
    s.last_active_time = Some(secs(20));
    assert!(!cooldown_elapsed(&so, &s, secs(30)));
    assert!(cooldown_elapsed(&so, &s, ms(30_001)));
}

#[test]
fn default_initial_cooldown_is_zero() {
    let so = cooldown_so(json!({}));
    let s = KedaState::new(secs(100));
    assert!(!cooldown_elapsed(&so, &s, secs(100)));
    assert!(cooldown_elapsed(&so, &s, ms(100_001)));
}

#[test]
fn cooldown_is_measured_from_the_truncated_last_active_poll() {
    // Polls every 30 s, active until t = 90.7 s; cooldown 60 s from lastActiveTime = 90 s.
    let so =
        so(json!({"spec": {"minReplicaCount": 0, "cooldownPeriod": 60, "triggers": [prom("10")]}}));
    let t = targets(&so);
    let mut s = state0();
    let high = [Ok(50.0)];
    let zero = [Ok(0.0)];
    let input = |now, current, results| PollInput {
        now,
        current_replicas: current,
        ready_pods: current,
        results,
    };
    let o = poll(&so, &t, &mut s, &input(ms(700), 0, &high[..]));
    assert_eq!(o.scale_to, Some(1));
    assert_eq!(s.last_active_time, Some(secs(0)));
    for now in [30_700, 60_700, 90_700] {
        let o = poll(&so, &t, &mut s, &input(ms(now), 1, &high[..]));
        assert_eq!(o.scale_to, None);
    }
    assert_eq!(s.last_active_time, Some(secs(90)));
    // 150.0 s == 90 s + 60 s: still cooling down; 150.001 s: scale to zero.
    let o = poll(&so, &t, &mut s, &input(secs(150), 1, &zero[..]));
    assert_eq!(o.scale_to, None);
    assert_eq!(
        s.conditions.get(ConditionType::Active).unwrap().reason,
        "ScalerCooldown"
    );
    let o = poll(&so, &t, &mut s, &input(ms(150_001), 1, &zero[..]));
    assert_eq!(o.scale_to, Some(0));
    assert_eq!(
        s.conditions.get(ConditionType::Active).unwrap().reason,
        "ScalerNotActive"
    );
    assert_eq!(s.last_active_time, Some(secs(90)));
}

#[test]
fn handle_result_merges_into_status() {
    let so = exec_so(json!({"minReplicaCount": 0}), json!({}));
    let mut s = state0();
    let r = run_at(&so, &s, ms(5_500), 0, true, false, &["s0-prometheus"]);
    handle_result(&mut s, &r);
    assert_eq!(s.last_active_time, Some(secs(5)));
    assert_eq!(
        s.conditions.status(ConditionType::Ready),
        ConditionStatus::True
    );
    assert_eq!(
        s.conditions.status(ConditionType::Active),
        ConditionStatus::True
    );
    // Untouched by the executor: Fallback stays Unknown, Paused False.
    assert_eq!(
        s.conditions.status(ConditionType::Fallback),
        ConditionStatus::Unknown
    );
    assert_eq!(
        s.conditions.status(ConditionType::Paused),
        ConditionStatus::False
    );
    // The order of the initial set is kept.
    let order: Vec<_> = s.conditions.0.iter().map(|c| c.type_).collect();
    assert_eq!(
        order,
        vec![
            ConditionType::Ready,
            ConditionType::Active,
            ConditionType::Fallback,
            ConditionType::Paused
        ]
    );
    // A later result without lastActiveTime keeps the old one.
    let r = run_at(&so, &s, secs(9), 1, true, true, &["s0-prometheus"]);
    handle_result(&mut s, &r);
    assert_eq!(s.last_active_time, Some(secs(5)));
}

#[test]
fn initial_conditions() {
    let c = Conditions::initialized();
    assert!(c.are_initialized());
    let got: Vec<_> = c.0.iter().map(|c| (c.type_.as_str(), c.status)).collect();
    assert_eq!(
        got,
        vec![
            ("Ready", ConditionStatus::Unknown),
            ("Active", ConditionStatus::Unknown),
            ("Fallback", ConditionStatus::Unknown),
            ("Paused", ConditionStatus::False),
        ]
    );
    assert!(c.get(ConditionType::HpaActive).is_none());
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v[3], json!({"type": "Paused", "status": "False"}));
}

#[test]
fn hpa_active_mirrors_hpa_scaling_active() {
    let sa = |status, reason: &str, message: &str| HpaScalingActive {
        status,
        reason: reason.into(),
        message: message.into(),
    };
    assert_eq!(hpa_health(None), None);
    let c = hpa_health(Some(&sa(ConditionStatus::True, "ValidMetricFound", "x"))).unwrap();
    assert_eq!(
        (c.status, c.reason.as_str(), c.message.as_str()),
        (
            ConditionStatus::True,
            "HPAActive",
            "HPA is actively scaling"
        )
    );
    let c = hpa_health(Some(&sa(
        ConditionStatus::False,
        "ScalingDisabled",
        "scaling is disabled since the replica count of the target is zero",
    )))
    .unwrap();
    assert_eq!(
        (c.status, c.reason.as_str(), c.message.as_str()),
        (
            ConditionStatus::True,
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero"
        )
    );
    let c = hpa_health(Some(&sa(
        ConditionStatus::False,
        "FailedGetExternalMetric",
        "unable to get metrics",
    )))
    .unwrap();
    assert_eq!(
        (c.status, c.reason.as_str(), c.message.as_str()),
        (
            ConditionStatus::False,
            "FailedGetExternalMetric",
            "HPA is not actively scaling: unable to get metrics"
        )
    );
    let c = hpa_health(Some(&sa(
        ConditionStatus::False,
        "",
        "unable to compute replica count",
    )))
    .unwrap();
    assert_eq!(
        (c.status, c.reason.as_str(), c.message.as_str()),
        (
            ConditionStatus::False,
            "HPAMetricsUnavailable",
            "HPA is not actively scaling: unable to compute replica count"
        )
    );
    assert_eq!(c.type_.as_str(), "HPAActive");
}
