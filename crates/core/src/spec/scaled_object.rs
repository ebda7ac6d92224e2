//! `ScaledObject` (`keda.sh/v1alpha1`), field for field as KEDA 2.20's CRD
//! (`config/crd/bases/keda.sh_scaledobjects.yaml`), with KEDA's defaults as methods.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ObjectMeta;
use crate::hpa::Behavior;

/// KEDA `defaultPollingInterval`.
pub const DEFAULT_POLLING_INTERVAL: i32 = 30;
/// KEDA's default `cooldownPeriod`.
pub const DEFAULT_COOLDOWN_PERIOD: i32 = 300;
/// KEDA's default `initialCooldownPeriod`.
pub const DEFAULT_INITIAL_COOLDOWN_PERIOD: i32 = 0;
/// `defaultHPAMinReplicas`.
pub const DEFAULT_HPA_MIN_REPLICAS: i32 = 1;
/// `defaultHPAMaxReplicas`.
pub const DEFAULT_HPA_MAX_REPLICAS: i32 = 100;

/// Annotation: pause at N replicas.
pub const ANNOTATION_PAUSED_REPLICAS: &str = "autoscaling.keda.sh/paused-replicas";
/// Annotation: pause at the current replica count.
pub const ANNOTATION_PAUSED: &str = "autoscaling.keda.sh/paused";
/// Annotation: block scale-in (HPA scaleDown selectPolicy Disabled, no scale to zero/idle).
pub const ANNOTATION_PAUSED_SCALE_IN: &str = "autoscaling.keda.sh/paused-scale-in";
/// Annotation: block scale-out (HPA scaleUp selectPolicy Disabled, no scale from zero/idle).
pub const ANNOTATION_PAUSED_SCALE_OUT: &str = "autoscaling.keda.sh/paused-scale-out";
/// Annotation: treat the ScaledObject as active.
pub const ANNOTATION_FORCE_ACTIVATION: &str = "autoscaling.keda.sh/force-activation";
/// Annotation: allow adopting an existing HPA named like `advanced.horizontalPodAutoscalerConfig.name`.
pub const ANNOTATION_TRANSFER_HPA_OWNERSHIP: &str = "scaledobject.keda.sh/transfer-hpa-ownership";
/// Annotation on an HPA: `"false"` makes KEDA's webhook ignore it.
pub const ANNOTATION_VALIDATE_HPA_OWNERSHIP: &str = "validations.keda.sh/hpa-ownership";
/// Annotation: SO labels not propagated to the HPA.
pub const ANNOTATION_HPA_EXCLUDED_LABELS: &str = "scaledobject.keda.sh/hpa-excluded-labels";
/// Label the operator adds to the SO and uses as the HPA metric selector.
pub const LABEL_SCALED_OBJECT_NAME: &str = "scaledobject.keda.sh/name";
/// KEDA's finalizer.
pub const FINALIZER: &str = "finalizer.keda.sh";

/// A complete `ScaledObject` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObject {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: ScaledObjectSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    pub scale_target_ref: ScaleTarget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polling_interval: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_cooldown_period: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_period: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_replica_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replica_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replica_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced: Option<AdvancedConfig>,
    pub triggers: Vec<ScaleTrigger>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleTarget {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_source_container_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizontal_pod_autoscaler_config: Option<HorizontalPodAutoscalerConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_to_original_replica_count: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_modifiers: Option<ScalingModifiers>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HorizontalPodAutoscalerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<Behavior>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingModifiers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<MetricTargetType>,
}

/// `triggers[].metricType` / `scalingModifiers.metricType`. The CRD has no enum for triggers, so unknown
/// strings are kept and rejected by validation with KEDA's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetricTargetType {
    AverageValue,
    Value,
    Utilization,
    #[serde(untagged)]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fallback {
    pub failure_threshold: i32,
    pub replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<FallbackBehavior>,
}

/// `fallback.behavior` (CRD default `static`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FallbackBehavior {
    #[default]
    Static,
    CurrentReplicas,
    CurrentReplicasIfHigher,
    CurrentReplicasIfLower,
    ScalingModifiers,
}

/// One entry of `spec.triggers` (`ScaleTriggers`), shared by ScaledObject and ScaledJob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleTrigger {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_cached_metrics: Option<bool>,
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_ref: Option<AuthenticationRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<MetricTargetType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationRef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl ScaledObjectSpec {
    /// `pollingInterval` with KEDA's default (30 s).
    pub fn polling_interval_secs(&self) -> i32 {
        self.polling_interval.unwrap_or(DEFAULT_POLLING_INTERVAL)
    }
    /// `cooldownPeriod` with KEDA's default (300 s).
    pub fn cooldown_period_secs(&self) -> i32 {
        self.cooldown_period.unwrap_or(DEFAULT_COOLDOWN_PERIOD)
    }
    /// `initialCooldownPeriod` with KEDA's default (0 s).
    pub fn initial_cooldown_period_secs(&self) -> i32 {
        self.initial_cooldown_period
            .unwrap_or(DEFAULT_INITIAL_COOLDOWN_PERIOD)
    }
    /// The executor's minimum: `minReplicaCount ?? 0`.
    pub fn min_replicas(&self) -> i32 {
        self.min_replica_count.unwrap_or(0)
    }
    /// `GetHPAMinReplicas`: `minReplicaCount > 0 ? minReplicaCount : 1`.
    pub fn hpa_min_replicas(&self) -> i32 {
        match self.min_replica_count {
            Some(m) if m > 0 => m,
            _ => DEFAULT_HPA_MIN_REPLICAS,
        }
    }
    /// `GetHPAMaxReplicas`: `maxReplicaCount ?? 100`.
    pub fn hpa_max_replicas(&self) -> i32 {
        self.max_replica_count.unwrap_or(DEFAULT_HPA_MAX_REPLICAS)
    }
    /// `advanced.horizontalPodAutoscalerConfig.behavior`, if any.
    pub fn hpa_behavior(&self) -> Option<&Behavior> {
        self.advanced
            .as_ref()?
            .horizontal_pod_autoscaler_config
            .as_ref()?
            .behavior
            .as_ref()
    }
    /// `advanced.scalingModifiers` when a formula is set (`IsUsingModifiers`).
    pub fn scaling_modifiers(&self) -> Option<&ScalingModifiers> {
        self.advanced
            .as_ref()?
            .scaling_modifiers
            .as_ref()
            .filter(|m| m.formula.as_deref().is_some_and(|f| !f.is_empty()))
    }
}

impl ScaledObject {
    /// `keda-hpa-<name>`, or `advanced.horizontalPodAutoscalerConfig.name` when set.
    pub fn hpa_name(&self) -> String {
        self.spec
            .advanced
            .as_ref()
            .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
            .and_then(|h| h.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("keda-hpa-{}", self.metadata.name()))
    }
    fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata.annotations.get(key).map(String::as_str)
    }
    /// `HasPausedAnnotation`: either pause annotation is present.
    pub fn has_paused_annotation(&self) -> bool {
        self.annotation(ANNOTATION_PAUSED).is_some()
            || self.annotation(ANNOTATION_PAUSED_REPLICAS).is_some()
    }
}
