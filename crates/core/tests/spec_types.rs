//! KEDA's API helper tables (keda.md §4.8): `CheckReplicaCountBoundsAreValid`,
//! `GetHPAMinReplicas`/`GetHPAMaxReplicas`, `ValidateTriggers`, `CheckFallbackValid`, the paused
//! helpers, `IsUsingModifiers`, and the defaults of every kind.

use prescale_core::Error;
use prescale_core::spec::validate::{
    check_fallback_valid, check_replica_count_bounds_are_valid, validate_triggers,
};
use prescale_core::spec::*;
use serde_json::{Value, json};

fn so(spec: Value) -> ScaledObject {
    so_with_annotations(spec, json!({}))
}

fn so_with_annotations(spec: Value, annotations: Value) -> ScaledObject {
    serde_json::from_value(json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "so", "namespace": "ns", "annotations": annotations},
        "spec": spec,
    }))
    .expect("test ScaledObject")
}

fn base_spec() -> Value {
    json!({"scaleTargetRef": {"name": "web"}, "triggers": [{"type": "couchdb", "metadata": {}}]})
}

fn with(mut spec: Value, key: &str, v: Value) -> Value {
    spec[key] = v;
    spec
}

fn message(r: prescale_core::Result<()>) -> Option<String> {
    match r {
        Ok(()) => None,
        Err(Error::Invalid { message, .. }) => Some(message),
        Err(other) => Some(other.to_string()),
    }
}

fn triggers(list: Value) -> Vec<ScaleTrigger> {
    serde_json::from_value(list).expect("test triggers")
}

// --- CheckReplicaCountBoundsAreValid ---------------------------------------------------------

#[test]
fn replica_bounds_table() {
    // (min, max, idle, expected error)
    type Case = (Option<i32>, Option<i32>, Option<i32>, Option<&'static str>);
    let cases: &[Case] = &[
        (Some(1), Some(5), None, None),
        (Some(1), Some(5), Some(0), None),
        (
            Some(2),
            Some(1),
            None,
            Some("MinReplicaCount=2 must be less than MaxReplicaCount=1"),
        ),
        (
            Some(1),
            Some(5),
            Some(1),
            Some("IdleReplicaCount=1 must be less than MinReplicaCount=1"),
        ),
        (
            Some(1),
            Some(5),
            Some(2),
            Some("IdleReplicaCount=2 must be less than MinReplicaCount=1"),
        ),
    ];
    for (min, max, idle, want) in cases {
        let mut spec = base_spec();
        if let Some(v) = min {
            spec["minReplicaCount"] = json!(v);
        }
        if let Some(v) = max {
            spec["maxReplicaCount"] = json!(v);
        }
        if let Some(v) = idle {
            spec["idleReplicaCount"] = json!(v);
        }
        let got = message(check_replica_count_bounds_are_valid(&so(spec)));
        assert_eq!(
            got.as_deref(),
            *want,
            "min {min:?} max {max:?} idle {idle:?}"
        );
    }
}

#[test]
fn replica_bounds_consequences() {
    // An explicit 0 counts as 1 (GetHPAMinReplicas), so min 0 / idle 0 passes...
    let ok = so(with(
        with(base_spec(), "minReplicaCount", json!(0)),
        "idleReplicaCount",
        json!(0),
    ));
    assert_eq!(message(check_replica_count_bounds_are_valid(&ok)), None);
    // ...while an unset min is 0, and any idle fails.
    let bad = so(with(base_spec(), "idleReplicaCount", json!(0)));
    assert_eq!(
        message(check_replica_count_bounds_are_valid(&bad)).as_deref(),
        Some("IdleReplicaCount=0 must be less than MinReplicaCount=0")
    );
    // max defaults to 100.
    let big = so(with(base_spec(), "minReplicaCount", json!(101)));
    assert_eq!(
        message(check_replica_count_bounds_are_valid(&big)).as_deref(),
        Some("MinReplicaCount=101 must be less than MaxReplicaCount=100")
    );
}

// --- GetHPAMinReplicas / GetHPAMaxReplicas ---------------------------------------------------

#[test]
fn hpa_min_max_table() {
    let cases: &[(Option<i32>, Option<i32>, i32, i32)] = &[
        (None, None, 1, 100),
        (Some(5), None, 5, 100),
        (None, Some(10), 1, 10),
        (Some(5), Some(10), 5, 10),
        (Some(0), None, 1, 100),
    ];
    for (min, max, want_min, want_max) in cases {
        let mut spec = base_spec();
        if let Some(v) = min {
            spec["minReplicaCount"] = json!(v);
        }
        if let Some(v) = max {
            spec["maxReplicaCount"] = json!(v);
        }
        let o = so(spec);
        assert_eq!(o.hpa_min_replicas(), *want_min, "min {min:?}");
        assert_eq!(o.hpa_max_replicas(), *want_max, "max {max:?}");
    }
}

// --- ValidateTriggers ------------------------------------------------------------------------

#[test]
fn validate_triggers_table() {
    let cases: Vec<(Value, Option<&str>)> = vec![
        (
            json!([{"name": "trigger1", "type": "cpu", "metadata": {}},
                   {"name": "trigger2", "type": "prometheus", "metadata": {}}]),
            None,
        ),
        (
            json!([{"name": "trigger1", "type": "cpu", "metadata": {}},
                   {"name": "trigger1", "type": "prometheus", "metadata": {}}]),
            Some(
                "triggerName \"trigger1\" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique",
            ),
        ),
        (
            json!([{"name": "trigger1", "type": "cpu", "useCachedMetrics": true, "metadata": {}}]),
            Some("property \"useCachedMetrics\" is not supported for \"cpu\" scaler"),
        ),
        (
            json!([{"name": "trigger2", "type": "memory", "useCachedMetrics": true, "metadata": {}}]),
            Some("property \"useCachedMetrics\" is not supported for \"memory\" scaler"),
        ),
        (
            json!([{"name": "trigger3", "type": "cron", "useCachedMetrics": true, "metadata": {}}]),
            Some("property \"useCachedMetrics\" is not supported for \"cron\" scaler"),
        ),
        (
            json!([{"name": "trigger4", "type": "kafka", "useCachedMetrics": true, "metadata": {}}]),
            None,
        ),
        (
            json!([]),
            Some("no triggers defined in the ScaledObject/ScaledJob"),
        ),
    ];
    for (list, want) in cases {
        let got = message(validate_triggers(&triggers(list.clone())));
        assert_eq!(got.as_deref(), want, "{list}");
    }
}

#[test]
fn validate_triggers_allows_repeated_empty_names() {
    let list = json!([{"type": "kafka", "metadata": {}}, {"type": "kafka", "metadata": {}}]);
    assert_eq!(message(validate_triggers(&triggers(list))), None);
}

#[test]
fn validate_triggers_paths() {
    let list = json!([{"type": "kafka", "name": "a", "metadata": {}},
                      {"type": "kafka", "name": "a", "metadata": {}}]);
    match validate_triggers(&triggers(list)) {
        Err(Error::Invalid { path, .. }) => assert_eq!(path, "spec.triggers[1].name"),
        other => panic!("unexpected {other:?}"),
    }
}

// --- CheckFallbackValid ----------------------------------------------------------------------

const NOT_CPU_MEMORY: &str = "at least one trigger (that is not cpu or memory) has to have the `AverageValue` type for the fallback to be enabled";

#[test]
fn check_fallback_valid_table() {
    let fb = json!({"failureThreshold": 3, "replicas": 1});
    let t = |ty: &str, mt: Option<&str>| match mt {
        Some(m) => json!({"type": ty, "metricType": m, "metadata": {}}),
        None => json!({"type": ty, "metadata": {}}),
    };
    // (name, fallback, triggers, scalingModifiers, expected error)
    type Case = (
        &'static str,
        Option<Value>,
        Vec<Value>,
        Option<Value>,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        ("no fallback", None, vec![t("couchdb", None)], None, None),
        (
            "AverageValue",
            Some(fb.clone()),
            vec![t("couchdb", Some("AverageValue"))],
            None,
            None,
        ),
        (
            "implicit AverageValue (\"\")",
            Some(fb.clone()),
            vec![t("couchdb", Some(""))],
            None,
            None,
        ),
        (
            "Value",
            Some(fb.clone()),
            vec![t("couchdb", Some("Value"))],
            None,
            None,
        ),
        (
            "Value + AverageValue",
            Some(fb.clone()),
            vec![
                t("prometheus", Some("Value")),
                t("couchdb", Some("AverageValue")),
            ],
            None,
            None,
        ),
        (
            "cpu only",
            Some(fb.clone()),
            vec![t("cpu", Some("AverageValue"))],
            None,
            Some(NOT_CPU_MEMORY),
        ),
        (
            "memory only",
            Some(fb.clone()),
            vec![t("memory", Some("AverageValue"))],
            None,
            Some(NOT_CPU_MEMORY),
        ),
        (
            "cpu + couchdb",
            Some(fb.clone()),
            vec![
                t("cpu", Some("Utilization")),
                t("couchdb", Some("AverageValue")),
            ],
            None,
            None,
        ),
        (
            "negative threshold",
            Some(json!({"failureThreshold": -1, "replicas": 1})),
            vec![t("couchdb", Some("AverageValue"))],
            None,
            Some("FailureThreshold=-1 & Replicas=1 must both be greater than or equal to 0"),
        ),
        (
            "negative replicas",
            Some(json!({"failureThreshold": 3, "replicas": -1})),
            vec![t("couchdb", Some("AverageValue"))],
            None,
            Some("FailureThreshold=3 & Replicas=-1 must both be greater than or equal to 0"),
        ),
        (
            "scalingModifiers AverageValue",
            Some(fb.clone()),
            vec![t("couchdb", None)],
            Some(json!({"metricType": "AverageValue", "formula": "x * 2"})),
            None,
        ),
        (
            "scalingModifiers Value",
            Some(fb.clone()),
            vec![t("couchdb", None)],
            Some(json!({"metricType": "Value", "formula": "x * 2"})),
            None,
        ),
        (
            "scalingModifiers with cpu only",
            Some(fb.clone()),
            vec![t("cpu", Some("Utilization"))],
            Some(json!({"formula": "x"})),
            None,
        ),
    ];
    for (name, fallback, trigs, modifiers, want) in cases {
        let mut spec = json!({"scaleTargetRef": {"name": "web"}, "triggers": trigs});
        if let Some(f) = fallback {
            spec["fallback"] = f;
        }
        if let Some(m) = modifiers {
            spec["advanced"] = json!({"scalingModifiers": m});
        }
        let got = message(check_fallback_valid(&so(spec)));
        assert_eq!(got.as_deref(), want, "{name}");
    }
}

// --- paused helpers --------------------------------------------------------------------------

#[test]
fn has_paused_annotation_table() {
    let cases = [
        (json!({}), false),
        (json!({ANNOTATION_PAUSED: "true"}), true),
        (json!({ANNOTATION_PAUSED_REPLICAS: "5"}), true),
        (
            json!({ANNOTATION_PAUSED: "true", ANNOTATION_PAUSED_REPLICAS: "5"}),
            true,
        ),
        (json!({"some-other-annotation": "value"}), false),
        // Presence is what counts, whatever the value.
        (json!({ANNOTATION_PAUSED: "false"}), true),
    ];
    for (annotations, want) in cases {
        let o = so_with_annotations(base_spec(), annotations.clone());
        assert_eq!(o.has_paused_annotation(), want, "{annotations}");
    }
}

#[test]
fn need_to_be_paused_by_annotation_table() {
    let cases = [
        (json!({}), false),
        (json!({ANNOTATION_PAUSED: "true"}), true),
        (json!({ANNOTATION_PAUSED: "false"}), false),
        (json!({ANNOTATION_PAUSED: "invalid"}), true),
        (json!({ANNOTATION_PAUSED: "0"}), false),
        (json!({ANNOTATION_PAUSED: "T"}), true),
        (json!({ANNOTATION_PAUSED_REPLICAS: "5"}), true),
        (
            json!({ANNOTATION_PAUSED: "true", ANNOTATION_PAUSED_REPLICAS: "5"}),
            true,
        ),
        (
            json!({ANNOTATION_PAUSED: "false", ANNOTATION_PAUSED_REPLICAS: "5"}),
            true,
        ),
    ];
    for (annotations, want) in cases {
        let o = so_with_annotations(base_spec(), annotations.clone());
        assert_eq!(o.need_to_be_paused_by_annotation(), want, "{annotations}");
    }
}

#[test]
fn get_paused_replica_count_table() {
    let none = so(base_spec());
    assert_eq!(none.paused_replica_count(), Ok(None));
    let other = so_with_annotations(base_spec(), json!({"x": "1"}));
    assert_eq!(other.paused_replica_count(), Ok(None));
    let five = so_with_annotations(base_spec(), json!({ANNOTATION_PAUSED_REPLICAS: "5"}));
    assert_eq!(five.paused_replica_count(), Ok(Some(5)));
    let zero = so_with_annotations(base_spec(), json!({ANNOTATION_PAUSED_REPLICAS: "0"}));
    assert_eq!(zero.paused_replica_count(), Ok(Some(0)));
    let bad = so_with_annotations(
        base_spec(),
        json!({ANNOTATION_PAUSED_REPLICAS: "not-a-number"}),
    );
    assert_eq!(
        bad.paused_replica_count(),
        Err(Error::Invalid {
            path: "metadata.annotations[autoscaling.keda.sh/paused-replicas]".into(),
            message: "strconv.ParseInt: parsing \"not-a-number\": invalid syntax".into(),
        })
    );
    let big = so_with_annotations(
        base_spec(),
        json!({ANNOTATION_PAUSED_REPLICAS: "2147483648"}),
    );
    assert!(big.paused_replica_count().is_err());
}

#[test]
fn scale_in_out_and_force_activation_annotations() {
    let o = so_with_annotations(
        base_spec(),
        json!({
            ANNOTATION_PAUSED_SCALE_IN: "true",
            ANNOTATION_PAUSED_SCALE_OUT: "false",
            ANNOTATION_FORCE_ACTIVATION: "yes",
        }),
    );
    assert!(o.need_to_pause_scale_in());
    assert!(!o.need_to_pause_scale_out());
    // Not a Go boolean, so true.
    assert!(o.need_to_force_activation());
    assert!(!so(base_spec()).need_to_force_activation());
}

#[test]
fn is_using_modifiers_table() {
    let cases = [
        (None, false),
        (Some(json!({})), false),
        (Some(json!({"formula": "x * 2"})), true),
        (Some(json!({"target": "100"})), true),
        (Some(json!({"formula": "", "target": ""})), false),
    ];
    for (m, want) in cases {
        let mut spec = base_spec();
        if let Some(m) = &m {
            spec["advanced"] = json!({"scalingModifiers": m});
        }
        assert_eq!(so(spec).is_using_modifiers(), want, "{m:?}");
    }
    // No `advanced` at all.
    let mut spec = base_spec();
    spec["advanced"] = json!({"restoreToOriginalReplicaCount": true});
    assert!(!so(spec).is_using_modifiers());
}

// --- defaults --------------------------------------------------------------------------------

#[test]
fn scaled_object_defaults() {
    let o = so(base_spec());
    assert_eq!(o.spec.polling_interval_secs(), 30);
    assert_eq!(o.spec.cooldown_period_secs(), 300);
    assert_eq!(o.spec.initial_cooldown_period_secs(), 0);
    assert_eq!(o.spec.min_replicas(), 0);
    assert_eq!(o.hpa_min_replicas(), 1);
    assert_eq!(o.hpa_max_replicas(), 100);
    assert_eq!(o.hpa_name(), "keda-hpa-so");
    assert_eq!(
        o.scale_target_gvk_string().as_deref(),
        Ok("apps/v1.Deployment")
    );
    assert!(o.spec.fallback.is_none());
    assert_eq!(FallbackBehavior::default(), FallbackBehavior::Static);
    assert_eq!(
        o.spec.triggers[0]
            .authentication_ref
            .as_ref()
            .map(AuthenticationRef::kind),
        None
    );
    let named = so(with(
        base_spec(),
        "advanced",
        json!({"horizontalPodAutoscalerConfig": {"name": "custom"}}),
    ));
    assert_eq!(named.hpa_name(), "custom");
    let sts = so(
        json!({"scaleTargetRef": {"name": "db", "apiVersion": "apps/v1", "kind": "StatefulSet"},
                        "triggers": [{"type": "cron", "metadata": {}}]}),
    );
    assert_eq!(
        sts.scale_target_gvk_string().as_deref(),
        Ok("apps/v1.StatefulSet")
    );
    let core = so(
        json!({"scaleTargetRef": {"name": "x", "apiVersion": "v1", "kind": "Foo"},
                         "triggers": [{"type": "cron", "metadata": {}}]}),
    );
    assert_eq!(core.scale_target_gvk_string().as_deref(), Ok("/v1.Foo"));
}

#[test]
fn authentication_ref_kind_default() {
    let r: AuthenticationRef = serde_json::from_value(json!({"name": "auth"})).expect("ref");
    assert_eq!(r.kind(), AuthenticationRefKind::TriggerAuthentication);
    let c: AuthenticationRef =
        serde_json::from_value(json!({"name": "auth", "kind": "ClusterTriggerAuthentication"}))
            .expect("ref");
    assert_eq!(
        c.kind(),
        AuthenticationRefKind::ClusterTriggerAuthentication
    );
}

fn sj(spec: Value, annotations: Value) -> ScaledJob {
    serde_json::from_value(json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledJob",
        "metadata": {"name": "sj", "annotations": annotations},
        "spec": spec,
    }))
    .expect("test ScaledJob")
}

#[test]
fn scaled_job_defaults() {
    let j = sj(
        json!({"jobTargetRef": {"template": {}}, "triggers": [{"type": "rabbitmq", "metadata": {}}]}),
        json!({}),
    );
    assert_eq!(j.spec.polling_interval_secs(), 30);
    assert_eq!(j.spec.successful_jobs_history_limit(), 100);
    assert_eq!(j.spec.failed_jobs_history_limit(), 100);
    assert_eq!(j.min_replica_count(), 0);
    assert_eq!(j.max_replica_count(), 100);
    assert_eq!(j.spec.scaling_strategy_kind(), ScalingStrategyKind::Default);
    assert_eq!(
        j.spec.multiple_scalers_calculation(),
        MultipleScalersCalculation::Max
    );
    assert_eq!(
        j.spec.effective_rollout_strategy(),
        RolloutStrategy::Immediate
    );
    assert!(!j.need_to_be_paused_by_annotation());
}

#[test]
fn scaled_job_replica_counts() {
    // (min, max) -> (MinReplicaCount(), MaxReplicaCount())
    let cases: &[(Option<i32>, Option<i32>, i64, i64)] = &[
        (None, None, 0, 100),
        (Some(2), None, 2, 100),
        (None, Some(10), 0, 10),
        (Some(2), Some(10), 2, 8),
        (Some(20), Some(10), 10, 10),
    ];
    for (min, max, want_min, want_max) in cases {
        let mut spec = json!({"jobTargetRef": {}, "triggers": []});
        if let Some(v) = min {
            spec["minReplicaCount"] = json!(v);
        }
        if let Some(v) = max {
            spec["maxReplicaCount"] = json!(v);
        }
        let j = sj(spec, json!({}));
        assert_eq!(j.min_replica_count(), *want_min, "{min:?} {max:?}");
        assert_eq!(j.max_replica_count(), *want_max, "{min:?} {max:?}");
    }
}

#[test]
fn scaled_job_rollout_and_pause() {
    let j = sj(
        json!({"jobTargetRef": {}, "triggers": [], "rolloutStrategy": "gradual",
               "rollout": {"strategy": "immediate", "propagationPolicy": "foreground"}}),
        json!({ANNOTATION_PAUSED: "true"}),
    );
    // The deprecated field wins when set.
    assert_eq!(
        j.spec.effective_rollout_strategy(),
        RolloutStrategy::Gradual
    );
    assert_eq!(
        j.spec.rollout.as_ref().and_then(|r| r.propagation_policy),
        Some(PropagationPolicy::Foreground)
    );
    assert!(j.need_to_be_paused_by_annotation());
}

#[test]
fn trigger_authentication_defaults() {
    let ta: TriggerAuthentication = serde_json::from_value(json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "TriggerAuthentication",
        "metadata": {"name": "ta"},
        "spec": {
            "podIdentity": {"provider": "aws", "identityOwner": "workload"},
            "oauth2": {"clientId": "id", "tokenUrl": "https://example.com/token"},
            "hashiCorpVault": {"address": "https://vault", "authentication": "token",
                               "secrets": [{"parameter": "p", "path": "a", "key": "k"}]},
        },
    }))
    .expect("ta");
    let pi = ta.spec.pod_identity.as_ref().expect("podIdentity");
    assert_eq!(pi.provider, PodIdentityProvider::Aws);
    assert!(pi.is_workload_identity_owner());
    assert_eq!(
        ta.spec.oauth2.as_ref().map(OAuth2::grant_type),
        Some(OAuth2GrantType::ClientCredentials)
    );
    let vault = ta.spec.hashi_corp_vault.as_ref().expect("vault");
    assert_eq!(
        vault.secrets[0].kind.unwrap_or_default(),
        VaultSecretType::Generic
    );
}
