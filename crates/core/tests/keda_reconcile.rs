//! keda.md §1.1, §1.4 and §2.1: the reconciler's conditions, pause handling and validation messages.

mod keda_support;

use keda_support::{prom, secs, so, state0, targets};
use prescale_core::keda::conditions::ConditionStatus;
use prescale_core::keda::reconcile::{check_replica_count_bounds, validate_triggers};
use prescale_core::keda::{
    ConditionType, Conditions, HpaAction, KedaState, MetricRecord, PollInput, ScaleLoopAction,
    poll, reconcile,
};
use serde_json::json;

fn cond(s: &KedaState, t: ConditionType) -> (ConditionStatus, String, String) {
    let c = s.conditions.get(t).unwrap();
    (c.status, c.reason.clone(), c.message.clone())
}

#[test]
fn first_reconcile_makes_the_object_ready() {
    let so = so(json!({}));
    let mut s = KedaState::new(secs(0));
    s.conditions = Conditions::default();
    let o = reconcile(&so, &mut s, 1);
    assert_eq!(o.error, None);
    assert_eq!(o.scale_loop, ScaleLoopAction::Run);
    let HpaAction::Ensure(hpa) = &o.hpa else {
        panic!("expected an HPA, got {:?}", o.hpa)
    };
    assert_eq!(hpa.name, "keda-hpa-my-so");
    assert_eq!(
        cond(&s, ConditionType::Ready),
        (
            ConditionStatus::True,
            "ScaledObjectReady".into(),
            "ScaledObject is defined correctly and is ready for scaling".into()
        )
    );
    assert_eq!(
        s.conditions.status(ConditionType::Active),
        ConditionStatus::Unknown
    );
    // No fallback configured: Fallback False.
    assert_eq!(
        cond(&s, ConditionType::Fallback),
        (
            ConditionStatus::False,
            "NoFallbackFound".into(),
            "No fallbacks are active on this scaled object".into()
        )
    );
    assert_eq!(
        s.conditions.status(ConditionType::Paused),
        ConditionStatus::False
    );
    assert_eq!(o.events.len(), 1);
    assert_eq!(
        o.events[0].to_string(),
        "Normal ScaledObjectReady ScaledObject is ready for scaling"
    );
    // Already Ready: no second event.
    let o = reconcile(&so, &mut s, 1);
    assert!(o.events.is_empty());
}

#[test]
fn valid_fallback_leaves_fallback_condition_alone() {
    let so = so(json!({"spec": {"fallback": {"failureThreshold": 3, "replicas": 2}}}));
    let mut s = state0();
    reconcile(&so, &mut s, 1);
    assert_eq!(
        s.conditions.status(ConditionType::Fallback),
        ConditionStatus::Unknown
    );
}

#[test]
fn pause_at_replicas_then_unpause() {
    let paused =
        so(json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused-replicas": "2"}}}));
    let mut s = state0();
    s.metric_records.insert(
        "s0-prometheus".into(),
        MetricRecord {
            is_active: true,
            value: Ok(1),
        },
    );
    let o = reconcile(&paused, &mut s, 5);
    assert_eq!(o.error, None);
    assert_eq!(o.scale_to, Some(2));
    assert_eq!(o.hpa, HpaAction::Delete);
    assert_eq!(o.scale_loop, ScaleLoopAction::Stop);
    assert!(s.metric_records.is_empty());
    assert_eq!(s.paused_replica_count, Some(2));
    assert_eq!(
        cond(&s, ConditionType::Paused),
        (
            ConditionStatus::True,
            "ScaledObjectPaused".into(),
            "ScaledObject is paused".into()
        )
    );
    // Ready is True with the pause message.
    assert_eq!(
        cond(&s, ConditionType::Ready),
        (
            ConditionStatus::True,
            "ScaledObjectReady".into(),
            "ScaledObject is paused".into()
        )
    );
    let reasons: Vec<_> = o.events.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, vec!["ScaledObjectPaused", "ScaledObjectReady"]);
    // Already at the paused count: no write, no second Paused event.
    let o = reconcile(&paused, &mut s, 2);
    assert_eq!(o.scale_to, None);
    assert!(o.events.is_empty());

    // Annotation removed: Unpaused, HPA and loop back.
    let plain = so(json!({}));
    let o = reconcile(&plain, &mut s, 2);
    assert_eq!(o.scale_loop, ScaleLoopAction::Run);
    assert!(matches!(o.hpa, HpaAction::Ensure(_)));
    assert_eq!(s.paused_replica_count, None);
    assert_eq!(
        cond(&s, ConditionType::Paused),
        (
            ConditionStatus::False,
            "ScaledObjectUnpaused".into(),
            "pause annotation removed for ScaledObject".into()
        )
    );
    assert_eq!(
        o.events[0].to_string(),
        "Normal ScaledObjectUnpaused pause annotation removed for ScaledObject"
    );
}

#[test]
fn paused_true_freezes_without_scaling() {
    let so = so(json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused": "true"}}}));
    let mut s = state0();
    let o = reconcile(&so, &mut s, 7);
    assert_eq!(o.scale_to, None);
    assert_eq!(o.hpa, HpaAction::Delete);
    assert_eq!(s.paused_replica_count, None);
    assert!(s.conditions.is_true(ConditionType::Paused));
}

#[test]
fn invalid_paused_replicas_fails_the_reconcile() {
    let so =
        so(json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused-replicas": "two"}}}));
    let mut s = state0();
    let o = reconcile(&so, &mut s, 3);
    let e = o.error.unwrap();
    assert!(
        e.starts_with(
            "failed to scale target to paused replica count: failed to parse paused replica count: "
        ),
        "{e}"
    );
    assert!(e.contains("\"two\""), "{e}");
    assert_eq!(o.scale_to, None);
    let (status, reason, message) = cond(&s, ConditionType::Ready);
    assert_eq!(
        (status, reason.as_str()),
        (ConditionStatus::False, "ScaledObjectCheckFailed")
    );
    assert_eq!(message, e);
    assert_eq!(
        cond(&s, ConditionType::Active),
        (
            ConditionStatus::Unknown,
            "UnknownState".into(),
            "ScaledObject check failed".into()
        )
    );
    assert_eq!(o.events.last().unwrap().reason, "ScaledObjectCheckFailed");
}

#[test]
fn unidirectional_pause_sets_paused_but_keeps_the_loop() {
    let so =
        so(json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused-scale-in": "true"}}}));
    let mut s = state0();
    let o = reconcile(&so, &mut s, 3);
    assert_eq!(o.scale_loop, ScaleLoopAction::Run);
    assert!(s.conditions.is_true(ConditionType::Paused));
    assert_eq!(o.events[0].reason, "ScaledObjectPaused");
    let HpaAction::Ensure(hpa) = &o.hpa else {
        panic!("expected an HPA")
    };
    assert!(hpa.spec.behavior.is_some());
}

#[test]
fn bounds_and_trigger_validation_messages() {
    let b = |spec: serde_json::Value| check_replica_count_bounds(&so(json!({ "spec": spec })));
    assert_eq!(
        b(json!({"minReplicaCount": 1, "maxReplicaCount": 5})),
        Ok(())
    );
    assert_eq!(
        b(json!({"minReplicaCount": 1, "maxReplicaCount": 5, "idleReplicaCount": 0})),
        Ok(())
    );
    assert_eq!(
        b(json!({"minReplicaCount": 2, "maxReplicaCount": 1})),
        Err("MinReplicaCount=2 must be less than MaxReplicaCount=1".into())
    );
    assert_eq!(
        b(json!({"minReplicaCount": 1, "idleReplicaCount": 1})),
        Err("IdleReplicaCount=1 must be less than MinReplicaCount=1".into())
    );
    assert!(b(json!({"minReplicaCount": 1, "idleReplicaCount": 2})).is_err());
    // min 0 counts as 1 (GetHPAMinReplicas), so idle 0 passes; unset min with idle fails.
    assert_eq!(
        b(json!({"minReplicaCount": 0, "idleReplicaCount": 0})),
        Ok(())
    );
    assert_eq!(
        b(json!({"idleReplicaCount": 0})),
        Err("IdleReplicaCount=0 must be less than MinReplicaCount=0".into())
    );

    let mut a = prom("1");
    a["name"] = json!("trigger1");
    let dup = so(json!({"spec": {"triggers": [a.clone(), a]}}));
    assert_eq!(
        validate_triggers(&dup),
        Err("triggerName \"trigger1\" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique".into())
    );
    let cpu = so(
        json!({"spec": {"triggers": [{"type": "cpu", "useCachedMetrics": true, "metadata": {}}]}}),
    );
    assert_eq!(
        validate_triggers(&cpu),
        Err("property \"useCachedMetrics\" is not supported for \"cpu\" scaler".into())
    );
    let none = so(json!({"spec": {"triggers": []}}));
    assert_eq!(
        validate_triggers(&none),
        Err("no triggers defined in the ScaledObject/ScaledJob".into())
    );

    let mut s = state0();
    let o = reconcile(
        &so(json!({"spec": {"minReplicaCount": 3, "maxReplicaCount": 2}})),
        &mut s,
        1,
    );
    assert_eq!(
        o.error.as_deref(),
        Some(
            "ScaledObject doesn't have correct Idle/Min/Max Replica Counts specification: MinReplicaCount=3 must be less than MaxReplicaCount=2"
        )
    );
    assert_eq!(o.hpa, HpaAction::Unchanged);
    assert_eq!(o.scale_loop, ScaleLoopAction::Unchanged);
}

#[test]
fn unsupported_trigger_fails_hpa_creation() {
    let so = so(json!({"spec": {"triggers": [{"type": "kafka", "metadata": {}}]}}));
    let mut s = state0();
    let o = reconcile(&so, &mut s, 1);
    let e = o.error.unwrap();
    assert_eq!(
        e,
        "failed to ensure HPA is correctly created for ScaledObject: trigger type \"kafka\" is not supported yet \
         (supported: prometheus)"
    );
}

#[test]
fn an_hpa_the_api_server_rejects_fails_the_reconcile() {
    // threshold 0: the HPA's AverageValue target would be 0, which the API server refuses.
    let so = so(
        json!({"spec": {"triggers": [{"type": "prometheus", "metadata": {
        "serverAddress": "http://p:9090", "query": "up", "threshold": "0"}}]}}),
    );
    let mut s = state0();
    let o = reconcile(&so, &mut s, 1);
    let e = o.error.unwrap();
    assert!(
        e.starts_with("failed to ensure HPA is correctly created for ScaledObject: ")
            && e.contains("must be positive"),
        "{e}"
    );
    assert_eq!(
        o.scale_loop,
        ScaleLoopAction::Unchanged,
        "no scale loop for an object that cannot scale"
    );
}

#[test]
fn reconcile_prunes_stale_health() {
    let so = so(json!({"spec": {"fallback": {"failureThreshold": 3, "replicas": 2}}}));
    let t = targets(&so);
    let mut s = state0();
    s.health.insert(
        "s7-prometheus".into(),
        prescale_core::keda::HealthStatus::happy(),
    );
    poll(
        &so,
        &t,
        &mut s,
        &PollInput {
            now: secs(1),
            current_replicas: 1,
            ready_pods: 1,
            results: &[Err("x".into())],
        },
    );
    reconcile(&so, &mut s, 1);
    assert_eq!(s.health.keys().collect::<Vec<_>>(), vec!["s0-prometheus"]);
}

#[test]
fn a_failed_scale_target_check_fails_the_reconcile_after_pause_handling() {
    use prescale_core::keda::reconcile::{DriverChecks, reconcile_with_checks};
    let so1 = so(json!({}));
    let mut s = KedaState::new(secs(0));
    let failed = DriverChecks {
        target: Some("deployments.apps \"web\" not found"),
        hpa: Some("not reached"),
    };
    let o = reconcile_with_checks(&so1, &mut s, 1, &failed);
    assert_eq!(
        o.error.as_deref(),
        Some(
            "ScaledObject doesn't have correct scaleTargetRef specification: deployments.apps \"web\" not found"
        )
    );
    assert_eq!(o.hpa, HpaAction::Unchanged);
    assert_eq!(o.scale_loop, ScaleLoopAction::Unchanged);
    assert_eq!(
        cond(&s, ConditionType::Ready).1,
        "ScaledObjectCheckFailed".to_string()
    );
    // Paused objects never look at their target: the pause wins.
    let paused = so(json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused": "true"}}}));
    let mut s = KedaState::new(secs(0));
    let o = reconcile_with_checks(&paused, &mut s, 1, &failed);
    assert_eq!(o.error, None);
    assert_eq!(o.hpa, HpaAction::Delete);
}

#[test]
fn scaler_build_errors_and_refused_hpa_writes_fail_the_ensure_hpa_step() {
    use prescale_core::keda::reconcile::{DriverChecks, reconcile_failed, reconcile_with_checks};
    let so1 = so(json!({}));
    let mut s = KedaState::new(secs(0));
    let checks = DriverChecks {
        target: None,
        hpa: Some("trigger 0: serverAddress: missing"),
    };
    let o = reconcile_with_checks(&so1, &mut s, 1, &checks);
    assert_eq!(
        o.error.as_deref(),
        Some(
            "failed to ensure HPA is correctly created for ScaledObject: trigger 0: serverAddress: missing"
        )
    );
    assert_eq!(o.hpa, HpaAction::Unchanged);

    // A reconcile that succeeded in the engine, whose HPA write the API server then refused.
    let mut s = KedaState::new(secs(0));
    let mut o = reconcile(&so1, &mut s, 1);
    assert_eq!(o.scale_loop, ScaleLoopAction::Run);
    reconcile_failed(
        &mut s,
        &mut o,
        "failed to ensure HPA is correctly created for ScaledObject",
        "admission webhook denied",
    );
    assert_eq!(o.scale_loop, ScaleLoopAction::Unchanged);
    assert_eq!(
        cond(&s, ConditionType::Ready),
        (
            ConditionStatus::False,
            "ScaledObjectCheckFailed".into(),
            "failed to ensure HPA is correctly created for ScaledObject: admission webhook denied"
                .into()
        )
    );
    let reasons: Vec<_> = o.events.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, ["ScaledObjectCheckFailed"]);
}
