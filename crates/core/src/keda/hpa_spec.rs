//! The HPA KEDA creates for a ScaledObject: `newHPAForScaledObject`, `getScaledObjectMetricSpecs`,
//! `getHPAName` (`controllers/keda/hpa.go`), the Prometheus scaler's `GetMetricSpecForScaling`, and
//! `GetHPAMinReplicas` / `GetHPAMaxReplicas` (`apis/keda/v1alpha1/scaledobject_types.go`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::hpa::{Behavior, ExternalMetric, HpaSpec, MetricTarget, SelectPolicy};
use crate::quantity::format_milli;
use crate::spec::{
    ANNOTATION_HPA_EXCLUDED_LABELS, LABEL_SCALED_OBJECT_NAME, MetricTargetType, ScaledObject,
};
use crate::{Error, Result};

use super::naming::COMPOSITE_METRIC_NAME;
use super::trigger::trigger_targets;

/// The KEDA release whose behaviour prescale reproduces; KEDA writes it into the HPA's
/// `app.kubernetes.io/version` label (`version.Version`, set from the release tag).
pub const KEDA_VERSION: &str = "2.20.2";

/// The HPA's `spec.scaleTargetRef`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleTargetRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// The HPA KEDA would create or update for a ScaledObject.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedHpa {
    /// `keda-hpa-<so>` or `advanced.horizontalPodAutoscalerConfig.name`.
    pub name: String,
    pub spec: HpaSpec,
    pub labels: BTreeMap<String, String>,
    /// The ScaledObject's annotations, copied verbatim.
    pub annotations: BTreeMap<String, String>,
    pub scale_target_ref: ScaleTargetRef,
    /// `status.externalMetricNames`: every trigger's External metric name (also with a composite metric).
    pub external_metric_names: Vec<String>,
    /// `status.compositeScalerName` (`composite-metric`) when the external metrics were replaced by it.
    pub composite_scaler_name: Option<String>,
}

/// `app.kubernetes.io/name`: the HPA name, cut to 63 bytes with trailing non-alphanumerics trimmed.
pub fn hpa_name_label(hpa_name: &str) -> String {
    if hpa_name.len() <= 63 {
        return hpa_name.to_string();
    }
    let mut end = 63;
    while !hpa_name.is_char_boundary(end) {
        end -= 1;
    }
    hpa_name[..end]
        .trim_end_matches(|c: char| !c.is_alphanumeric())
        .to_string()
}

/// The HPA `behavior`: `advanced.horizontalPodAutoscalerConfig.behavior` with `selectPolicy: Disabled` on
/// `scaleDown` for paused-scale-in and on `scaleUp` for paused-scale-out.
pub fn hpa_behavior(so: &ScaledObject) -> Option<Behavior> {
    let mut behavior = so.spec.hpa_behavior().cloned();
    if so.need_to_pause_scale_in() {
        let b = behavior.get_or_insert_with(Behavior::default);
        b.scale_down
            .get_or_insert_with(Default::default)
            .select_policy = Some(SelectPolicy::Disabled);
    }
    if so.need_to_pause_scale_out() {
        let b = behavior.get_or_insert_with(Behavior::default);
        b.scale_up
            .get_or_insert_with(Default::default)
            .select_policy = Some(SelectPolicy::Disabled);
    }
    behavior
}

/// The HPA's labels: KEDA's four `app.kubernetes.io/*` labels plus the ScaledObject's labels (including the
/// `scaledobject.keda.sh/name` label the reconciler adds to it first) minus those listed in the
/// `scaledobject.keda.sh/hpa-excluded-labels` annotation (comma-separated, not trimmed).
pub fn hpa_labels(so: &ScaledObject, hpa_name: &str) -> BTreeMap<String, String> {
    let so_name = so.metadata.name();
    let mut labels = BTreeMap::from([
        (
            "app.kubernetes.io/name".to_string(),
            hpa_name_label(hpa_name),
        ),
        (
            "app.kubernetes.io/version".to_string(),
            KEDA_VERSION.to_string(),
        ),
        ("app.kubernetes.io/part-of".to_string(), so_name.to_string()),
        (
            "app.kubernetes.io/managed-by".to_string(),
            "keda-operator".to_string(),
        ),
    ]);
    let excluded: Vec<&str> = so
        .metadata
        .annotations
        .get(ANNOTATION_HPA_EXCLUDED_LABELS)
        .map(|v| v.split(',').collect())
        .unwrap_or_default();
    let mut so_labels = so.metadata.labels.clone();
    so_labels.insert(LABEL_SCALED_OBJECT_NAME.to_string(), so_name.to_string());
    for (k, v) in so_labels {
        if !excluded.contains(&k.as_str()) {
            labels.insert(k, v);
        }
    }
    labels
}

fn composite_target(so: &ScaledObject) -> Result<Option<MetricTarget>> {
    let Some(m) = so.modifiers_in_use() else {
        return Ok(None);
    };
    // The target was validated when the scalers were built; an unparsable one reads as 0 here.
    let target: f64 = m
        .target
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0.0);
    let is_value = match &m.metric_type {
        None | Some(MetricTargetType::AverageValue) => false,
        Some(MetricTargetType::Other(s)) if s.is_empty() => false,
        Some(MetricTargetType::Value) => true,
        Some(MetricTargetType::Utilization) => {
            return Err(Error::Invalid {
                path: "spec.advanced.scalingModifiers.metricType".to_string(),
                message:
                    "error metric target type is Utilization, but it needs to be AverageValue or \
                          Value for external metrics"
                        .to_string(),
            });
        }
        Some(MetricTargetType::Other(s)) => {
            return Err(Error::Invalid {
                path: "spec.advanced.scalingModifiers.metricType".to_string(),
                message: format!(
                    "metric target type {s:?} is not supported, it needs to be AverageValue or Value"
                ),
            });
        }
    };
    // NaN is not > 0 either.
    if target.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return Ok(None);
    }
    // resource.NewMilliQuantity(int64(target*1000)): truncated, not rounded.
    let milli = (target * 1000.0) as i64;
    Ok(Some(if is_value {
        MetricTarget::Value(milli)
    } else {
        MetricTarget::AverageValue(milli)
    }))
}

/// `newHPAForScaledObject`: the HPA for `so`.
///
/// One External metric per trigger (`s<i>-<type>`, selector `{scaledobject.keda.sh/name: <so>}`, target
/// `GetMetricTargetMili(threshold)`); duplicate names are an error. With scalingModifiers whose target is
/// positive, the External metrics are replaced by a single `composite-metric` (target truncated to milli).
/// The formula itself is not checked here.
pub fn derive_hpa(so: &ScaledObject) -> Result<DerivedHpa> {
    let targets = trigger_targets(so)?;
    let gvk = so.scale_target_gvk()?;
    let so_name = so.metadata.name().to_string();
    let selector = BTreeMap::from([(LABEL_SCALED_OBJECT_NAME.to_string(), so_name.clone())]);

    let mut metrics: Vec<ExternalMetric> = Vec::with_capacity(targets.len());
    let mut external_metric_names: Vec<String> = Vec::with_capacity(targets.len());
    for t in &targets {
        if external_metric_names.contains(&t.metric_name) {
            return Err(Error::Invalid {
                path: format!("spec.triggers[{}]", t.index),
                message: format!(
                    "metricName {} defined multiple times in ScaledObject {so_name}",
                    t.metric_name
                ),
            });
        }
        external_metric_names.push(t.metric_name.clone());
        metrics.push(ExternalMetric {
            name: t.metric_name.clone(),
            selector: selector.clone(),
            target: t.metric_target(),
        });
    }
    // KEDA sorts the specs by type (External < Resource); every spec here is External, so the (stable)
    // order is the trigger order.

    let mut composite_scaler_name = None;
    if let Some(target) = composite_target(so)? {
        metrics = vec![ExternalMetric {
            name: COMPOSITE_METRIC_NAME.to_string(),
            selector: selector.clone(),
            target,
        }];
        composite_scaler_name = Some(COMPOSITE_METRIC_NAME.to_string());
    }

    let name = so.hpa_name();
    Ok(DerivedHpa {
        labels: hpa_labels(so, &name),
        annotations: so.metadata.annotations.clone(),
        scale_target_ref: ScaleTargetRef {
            api_version: gvk.api_version(),
            kind: gvk.kind.clone(),
            name: so.spec.scale_target_ref.name.clone(),
        },
        spec: HpaSpec {
            min_replicas: Some(so.hpa_min_replicas()),
            max_replicas: so.hpa_max_replicas(),
            metrics,
            behavior: hpa_behavior(so),
        },
        name,
        external_metric_names,
        composite_scaler_name,
    })
}

fn target_json(target: &MetricTarget) -> Value {
    match target {
        MetricTarget::AverageValue(m) => {
            json!({"type": "AverageValue", "averageValue": format_milli(*m)})
        }
        MetricTarget::Value(m) => json!({"type": "Value", "value": format_milli(*m)}),
    }
}

impl DerivedHpa {
    /// The `autoscaling/v2` HorizontalPodAutoscaler object KEDA would create, owned by `so`.
    pub fn to_manifest(&self, so: &ScaledObject) -> Value {
        let mut owner = json!({
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "name": so.metadata.name(),
            "controller": true,
            "blockOwnerDeletion": true,
        });
        if let (Some(uid), Some(o)) = (so.metadata.uid.as_ref(), owner.as_object_mut()) {
            o.insert("uid".to_string(), json!(uid));
        }
        let mut metadata = json!({
            "name": self.name,
            "namespace": so.metadata.namespace_or_default(),
            "labels": self.labels,
            "ownerReferences": [owner],
        });
        if !self.annotations.is_empty()
            && let Some(m) = metadata.as_object_mut()
        {
            m.insert("annotations".to_string(), json!(self.annotations));
        }
        let metrics: Vec<Value> = self
            .spec
            .metrics
            .iter()
            .map(|m| {
                json!({
                    "type": "External",
                    "external": {
                        "metric": {"name": m.name, "selector": {"matchLabels": m.selector}},
                        "target": target_json(&m.target),
                    }
                })
            })
            .collect();
        let mut spec = json!({
            "scaleTargetRef": {
                "apiVersion": self.scale_target_ref.api_version,
                "kind": self.scale_target_ref.kind,
                "name": self.scale_target_ref.name,
            },
            "minReplicas": self.spec.min_replicas,
            "maxReplicas": self.spec.max_replicas,
            "metrics": metrics,
        });
        if let (Some(b), Some(s)) = (self.spec.behavior.as_ref(), spec.as_object_mut()) {
            s.insert(
                "behavior".to_string(),
                serde_json::to_value(b).unwrap_or(Value::Null),
            );
        }
        json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": metadata,
            "spec": spec,
        })
    }
}
