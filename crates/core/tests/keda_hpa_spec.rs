//! keda.md §2.2–2.3: the HPA KEDA derives from a ScaledObject (`newHPAForScaledObject`,
//! `getScaledObjectMetricSpecs`).

mod keda_support;

use std::collections::BTreeMap;

use keda_support::{prom, so};
use prescale_core::hpa::{ExternalMetric, MetricTarget, SelectPolicy};
use prescale_core::keda::derive_hpa;
use prescale_core::keda::hpa_spec::{KEDA_VERSION, hpa_name_label};
use serde_json::json;

fn selector(so_name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("scaledobject.keda.sh/name".to_string(), so_name.to_string())])
}

#[test]
fn prometheus_example_manifest() {
    let so = so(json!({
        "metadata": {"uid": "1234-abcd"},
        "spec": {"triggers": [prom("100.5")]},
    }));
    let hpa = derive_hpa(&so).unwrap();
    assert_eq!(hpa.name, "keda-hpa-my-so");
    assert_eq!(hpa.spec.min_replicas, Some(1));
    assert_eq!(hpa.spec.max_replicas, 100);
    assert_eq!(hpa.spec.behavior, None);
    assert_eq!(
        hpa.spec.metrics,
        vec![ExternalMetric {
            name: "s0-prometheus".into(),
            selector: selector("my-so"),
            target: MetricTarget::AverageValue(100_500),
        }]
    );
    assert_eq!(hpa.external_metric_names, vec!["s0-prometheus".to_string()]);
    assert_eq!(hpa.composite_scaler_name, None);
    assert_eq!(
        hpa.to_manifest(&so),
        json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {
                "name": "keda-hpa-my-so",
                "namespace": "ns",
                "labels": {
                    "app.kubernetes.io/name": "keda-hpa-my-so",
                    "app.kubernetes.io/version": KEDA_VERSION,
                    "app.kubernetes.io/part-of": "my-so",
                    "app.kubernetes.io/managed-by": "keda-operator",
                    "scaledobject.keda.sh/name": "my-so",
                },
                "ownerReferences": [{
                    "apiVersion": "keda.sh/v1alpha1",
                    "kind": "ScaledObject",
                    "name": "my-so",
                    "uid": "1234-abcd",
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "app"},
                "minReplicas": 1,
                "maxReplicas": 100,
                "metrics": [{
                    "type": "External",
                    "external": {
                        "metric": {
                            "name": "s0-prometheus",
                            "selector": {"matchLabels": {"scaledobject.keda.sh/name": "my-so"}},
                        },
                        "target": {"type": "AverageValue", "averageValue": "100500m"},
                    },
                }],
            },
        })
    );
}

#[test]
fn min_max_and_custom_name() {
    let so = so(json!({"spec": {
        "minReplicaCount": 0, "maxReplicaCount": 7,
        "advanced": {"horizontalPodAutoscalerConfig": {"name": "custom-hpa"}},
    }}));
    let hpa = derive_hpa(&so).unwrap();
    assert_eq!(hpa.name, "custom-hpa");
    assert_eq!(hpa.labels["app.kubernetes.io/name"], "custom-hpa");
    assert_eq!(hpa.spec.min_replicas, Some(1));
    assert_eq!(hpa.spec.max_replicas, 7);
    let so = keda_support::so(json!({"spec": {"minReplicaCount": 3}}));
    assert_eq!(derive_hpa(&so).unwrap().spec.min_replicas, Some(3));
}

#[test]
fn integer_thresholds_and_value_metric_type() {
    let mut trig = prom("20");
    trig["metricType"] = json!("Value");
    let so = so(json!({"spec": {"triggers": [prom("1e3"), trig, prom("0.0625")]}}));
    let hpa = derive_hpa(&so).unwrap();
    let targets: Vec<_> = hpa
        .spec
        .metrics
        .iter()
        .map(|m| (m.name.as_str(), m.target))
        .collect();
    assert_eq!(
        targets,
        vec![
            ("s0-prometheus", MetricTarget::AverageValue(1_000_000)),
            ("s1-prometheus", MetricTarget::Value(20_000)),
            ("s2-prometheus", MetricTarget::AverageValue(62)),
        ]
    );
    let m = hpa.to_manifest(&so);
    assert_eq!(
        m["spec"]["metrics"][0]["external"]["target"],
        json!({"type": "AverageValue", "averageValue": "1k"})
    );
    assert_eq!(
        m["spec"]["metrics"][1]["external"]["target"],
        json!({"type": "Value", "value": "20"})
    );
    assert_eq!(
        m["spec"]["metrics"][2]["external"]["target"],
        json!({"type": "AverageValue", "averageValue": "62m"})
    );
}

#[test]
fn negative_threshold_target_is_zero() {
    let so = so(json!({"spec": {"triggers": [prom("-5")]}}));
    let hpa = derive_hpa(&so).unwrap();
    assert_eq!(hpa.spec.metrics[0].target, MetricTarget::AverageValue(0));
    assert_eq!(
        hpa.to_manifest(&so)["spec"]["metrics"][0]["external"]["target"]["averageValue"],
        json!("0")
    );
}

#[test]
fn behavior_is_copied() {
    let behavior = json!({
        "scaleDown": {"stabilizationWindowSeconds": 60, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]},
        "scaleUp": {"selectPolicy": "Max"},
    });
    let so = so(
        json!({"spec": {"advanced": {"horizontalPodAutoscalerConfig": {"behavior": behavior.clone()}}}}),
    );
    let hpa = derive_hpa(&so).unwrap();
    let b = hpa.spec.behavior.as_ref().unwrap();
    assert_eq!(
        b.scale_down.as_ref().unwrap().stabilization_window_seconds,
        Some(60)
    );
    assert_eq!(hpa.to_manifest(&so)["spec"]["behavior"], behavior);
}

#[test]
fn paused_scale_in_and_out_overlay_disabled_select_policy() {
    let behavior = json!({"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Min"}});
    let so = so(json!({
        "metadata": {"annotations": {"autoscaling.keda.sh/paused-scale-in": "true"}},
        "spec": {"advanced": {"horizontalPodAutoscalerConfig": {"behavior": behavior}}},
    }));
    let hpa = derive_hpa(&so).unwrap();
    assert_eq!(
        hpa.to_manifest(&so)["spec"]["behavior"],
        json!({"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Disabled"}})
    );
    // Annotations are copied to the HPA.
    assert_eq!(
        hpa.annotations
            .get("autoscaling.keda.sh/paused-scale-in")
            .map(String::as_str),
        Some("true")
    );

    // Without a behavior, the overlay creates one.
    let so = keda_support::so(json!({
        "metadata": {"annotations": {"autoscaling.keda.sh/paused-scale-out": "true"}},
    }));
    let hpa = derive_hpa(&so).unwrap();
    let b = hpa.spec.behavior.as_ref().unwrap();
    assert_eq!(
        b.scale_up.as_ref().unwrap().select_policy,
        Some(SelectPolicy::Disabled)
    );
    assert!(b.scale_down.is_none());
    assert_eq!(
        hpa.to_manifest(&so)["spec"]["behavior"],
        json!({"scaleUp": {"selectPolicy": "Disabled"}})
    );

    // Both; "false" overlays nothing.
    let so = keda_support::so(json!({
        "metadata": {"annotations": {
            "autoscaling.keda.sh/paused-scale-out": "1",
            "autoscaling.keda.sh/paused-scale-in": "true",
        }},
    }));
    assert_eq!(
        derive_hpa(&so).unwrap().to_manifest(&so)["spec"]["behavior"],
        json!({"scaleUp": {"selectPolicy": "Disabled"}, "scaleDown": {"selectPolicy": "Disabled"}})
    );
    let so = keda_support::so(json!({
        "metadata": {"annotations": {"autoscaling.keda.sh/paused-scale-in": "false"}},
    }));
    assert_eq!(derive_hpa(&so).unwrap().spec.behavior, None);
}

#[test]
fn composite_metric_with_scaling_modifiers() {
    let so = so(json!({"spec": {
        "triggers": [
            {"type": "prometheus", "name": "a", "metadata": {"threshold": "1", "query": "q", "serverAddress": "s"}},
            {"type": "prometheus", "name": "b", "metadata": {"threshold": "2", "query": "q", "serverAddress": "s"}},
        ],
        "advanced": {"scalingModifiers": {"formula": "a + b", "target": "2.5"}},
    }}));
    let hpa = derive_hpa(&so).unwrap();
    assert_eq!(
        hpa.spec.metrics,
        vec![ExternalMetric {
            name: "composite-metric".into(),
            selector: selector("my-so"),
            target: MetricTarget::AverageValue(2500),
        }]
    );
    assert_eq!(
        hpa.composite_scaler_name.as_deref(),
        Some("composite-metric")
    );
    // status.externalMetricNames still lists every trigger's metric.
    assert_eq!(
        hpa.external_metric_names,
        vec!["s0-prometheus".to_string(), "s1-prometheus".to_string()]
    );
    assert_eq!(
        hpa.to_manifest(&so)["spec"]["metrics"],
        json!([{
            "type": "External",
            "external": {
                "metric": {"name": "composite-metric", "selector": {"matchLabels": {"scaledobject.keda.sh/name": "my-so"}}},
                "target": {"type": "AverageValue", "averageValue": "2500m"},
            },
        }])
    );
}

#[test]
fn composite_metric_value_type_truncated_target_and_non_positive_target() {
    let m = |mods: serde_json::Value| {
        let so = so(json!({"spec": {"advanced": {"scalingModifiers": mods}}}));
        derive_hpa(&so)
    };
    let hpa = m(json!({"formula": "x", "target": "4", "metricType": "Value"})).unwrap();
    assert_eq!(hpa.spec.metrics[0].target, MetricTarget::Value(4000));
    // int64(target*1000): truncated, not rounded like trigger thresholds.
    let hpa = m(json!({"formula": "x", "target": "2.0005"})).unwrap();
    assert_eq!(hpa.spec.metrics[0].target, MetricTarget::AverageValue(2000));
    // A target that is not > 0 keeps the per-trigger metrics.
    let hpa = m(json!({"formula": "x", "target": "0"})).unwrap();
    assert_eq!(hpa.spec.metrics[0].name, "s0-prometheus");
    assert_eq!(hpa.composite_scaler_name, None);
    // Utilization is rejected.
    let e = m(json!({"formula": "x", "target": "1", "metricType": "Utilization"})).unwrap_err();
    assert!(
        e.to_string()
            .contains("spec.advanced.scalingModifiers.metricType"),
        "{e}"
    );
    assert!(e.to_string().contains("Utilization"), "{e}");
}

#[test]
fn labels_propagate_with_exclusions() {
    let so = so(json!({"metadata": {
        "labels": {"team": "a", "tier": "web", "env": "prod"},
        "annotations": {"scaledobject.keda.sh/hpa-excluded-labels": "tier,env"},
    }}));
    let hpa = derive_hpa(&so).unwrap();
    assert_eq!(hpa.labels.get("team").map(String::as_str), Some("a"));
    assert!(!hpa.labels.contains_key("tier"));
    assert!(!hpa.labels.contains_key("env"));
    assert_eq!(hpa.labels["scaledobject.keda.sh/name"], "my-so");
    assert_eq!(hpa.labels.len(), 6);
}

#[test]
fn long_hpa_name_label_is_cut_and_trimmed() {
    let name = format!("{}-{}", "a".repeat(62), "bcd");
    assert_eq!(hpa_name_label(&name), "a".repeat(62));
    let name = format!("{}xy", "b".repeat(62));
    assert_eq!(hpa_name_label(&name), format!("{}x", "b".repeat(62)));
    assert_eq!(hpa_name_label("short"), "short");
}

#[test]
fn scale_target_ref_kinds() {
    let so = so(
        json!({"spec": {"scaleTargetRef": {"name": "db", "kind": "StatefulSet", "apiVersion": "apps/v1"}}}),
    );
    let m = derive_hpa(&so).unwrap().to_manifest(&so);
    assert_eq!(
        m["spec"]["scaleTargetRef"],
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"})
    );
    let so = keda_support::so(
        json!({"spec": {"scaleTargetRef": {"name": "rc", "kind": "ReplicationController", "apiVersion": "v1"}}}),
    );
    let m = derive_hpa(&so).unwrap().to_manifest(&so);
    assert_eq!(
        m["spec"]["scaleTargetRef"],
        json!({"apiVersion": "v1", "kind": "ReplicationController", "name": "rc"})
    );
    let so =
        keda_support::so(json!({"spec": {"scaleTargetRef": {"name": "x", "apiVersion": "a/b/c"}}}));
    let e = derive_hpa(&so).unwrap_err();
    assert!(
        e.to_string().contains("spec.scaleTargetRef.apiVersion"),
        "{e}"
    );
}

#[test]
fn invalid_triggers_fail_derivation() {
    let so = so(
        json!({"spec": {"triggers": [prom("1"), {"type": "cpu", "metadata": {"value": "50"}}]}}),
    );
    let e = derive_hpa(&so).unwrap_err().to_string();
    assert!(
        e.contains("spec.triggers[1].type") && e.contains("\"cpu\""),
        "{e}"
    );
}
