//! `ScaledObject` (`keda.sh/v1alpha1`), field for field as KEDA 2.20's CRD
//! (`config/crd/bases/keda.sh_scaledobjects.yaml`), with KEDA's defaults as methods.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ObjectMeta, go};
use crate::hpa::Behavior;
use crate::{Error, Result};

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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    pub scale_target_ref: ScaleTarget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub polling_interval: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub initial_cooldown_period: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub cooldown_period: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub idle_replica_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub min_replica_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub max_replica_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced: Option<AdvancedConfig>,
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub triggers: Vec<ScaleTrigger>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScaleTarget {
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_source_container_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct HorizontalPodAutoscalerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<Behavior>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScalingModifiers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("enum" = ["AverageValue", "Value"])))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Fallback {
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub failure_threshold: i32,
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("default" = "static")))]
    pub behavior: Option<FallbackBehavior>,
}

/// `fallback.behavior` (CRD default `static`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScaleTrigger {
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationRef {
    pub name: String,
    /// Unset means `TriggerAuthentication`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AuthenticationRefKind>,
}

/// `authenticationRef.kind` (CRD enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum AuthenticationRefKind {
    #[default]
    TriggerAuthentication,
    ClusterTriggerAuthentication,
}

impl AuthenticationRef {
    /// The referenced kind with KEDA's default applied.
    pub fn kind(&self) -> AuthenticationRefKind {
        self.kind.unwrap_or_default()
    }
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
    /// KEDA's `getBoolAnnotation`: absent is false; a value that is not a Go boolean
    /// (`strconv.ParseBool`) counts as true.
    pub fn bool_annotation(&self, key: &str) -> bool {
        self.annotation(key)
            .is_some_and(|v| go::parse_bool(v).unwrap_or(true))
    }
    /// `NeedToBePausedByAnnotation`: `paused-replicas` present (any value), or `paused` true.
    pub fn need_to_be_paused_by_annotation(&self) -> bool {
        self.annotation(ANNOTATION_PAUSED_REPLICAS).is_some()
            || self.bool_annotation(ANNOTATION_PAUSED)
    }
    /// `NeedToPauseScaleIn` (`autoscaling.keda.sh/paused-scale-in`).
    pub fn need_to_pause_scale_in(&self) -> bool {
        self.bool_annotation(ANNOTATION_PAUSED_SCALE_IN)
    }
    /// `NeedToPauseScaleOut` (`autoscaling.keda.sh/paused-scale-out`).
    pub fn need_to_pause_scale_out(&self) -> bool {
        self.bool_annotation(ANNOTATION_PAUSED_SCALE_OUT)
    }
    /// `NeedToForceActivation` (`autoscaling.keda.sh/force-activation`).
    pub fn need_to_force_activation(&self) -> bool {
        self.bool_annotation(ANNOTATION_FORCE_ACTIVATION)
    }
    /// `GetPausedReplicaCount`: the `paused-replicas` annotation as an int32, `None` when absent.
    /// A value that is not an int32 is an error with Go's `strconv.ParseInt` text.
    pub fn paused_replica_count(&self) -> Result<Option<i32>> {
        match self.annotation(ANNOTATION_PAUSED_REPLICAS) {
            None => Ok(None),
            Some(v) => go::parse_int32(v)
                .map(Some)
                .map_err(|message| Error::Invalid {
                    path: format!("metadata.annotations[{ANNOTATION_PAUSED_REPLICAS}]"),
                    message,
                }),
        }
    }
    /// `IsUsingModifiers`: `advanced.scalingModifiers` is set to anything but the zero value (any of
    /// formula, target, activationTarget or metricType non-empty; a target without a formula counts).
    pub fn is_using_modifiers(&self) -> bool {
        self.modifiers_in_use().is_some()
    }
    /// `advanced.scalingModifiers` when [`is_using_modifiers`](Self::is_using_modifiers).
    pub fn modifiers_in_use(&self) -> Option<&ScalingModifiers> {
        self.spec
            .advanced
            .as_ref()?
            .scaling_modifiers
            .as_ref()
            .filter(|m| !m.is_zero())
    }
    /// `FallbackScalingModifiers`: `fallback.behavior` is `scalingModifiers`.
    pub fn fallback_scaling_modifiers(&self) -> bool {
        self.spec
            .fallback
            .as_ref()
            .is_some_and(|f| f.behavior == Some(FallbackBehavior::ScalingModifiers))
    }
    /// `GetHPAMinReplicas`.
    pub fn hpa_min_replicas(&self) -> i32 {
        self.spec.hpa_min_replicas()
    }
    /// `GetHPAMaxReplicas`.
    pub fn hpa_max_replicas(&self) -> i32 {
        self.spec.hpa_max_replicas()
    }
    /// `ParseGVKR` without the REST mapping: the scale target's group, version and kind with KEDA's
    /// defaults `apps/v1` and `Deployment`, `apiVersion` split like `schema.ParseGroupVersion`; an
    /// unparsable `apiVersion` is an error on `spec.scaleTargetRef.apiVersion` with Go's text.
    pub fn scale_target_gvk(&self) -> Result<ScaleTargetGvk> {
        let target = &self.spec.scale_target_ref;
        let (group, version) = match target.api_version.as_deref().filter(|v| !v.is_empty()) {
            None => ("apps".to_string(), "v1".to_string()),
            Some(v) => go::parse_group_version(v).map_err(|message| Error::Invalid {
                path: "spec.scaleTargetRef.apiVersion".to_string(),
                message,
            })?,
        };
        let kind = target
            .kind
            .as_deref()
            .filter(|k| !k.is_empty())
            .unwrap_or("Deployment")
            .to_string();
        Ok(ScaleTargetGvk {
            group,
            version,
            kind,
        })
    }
    /// The scale target's `group/version.Kind` as KEDA prints it (`GVKString`, see
    /// [`scale_target_gvk`](Self::scale_target_gvk)), or Go's error text.
    pub fn scale_target_gvk_string(&self) -> std::result::Result<String, String> {
        self.scale_target_gvk()
            .map(|g| g.gvk_string())
            .map_err(Error::into_message)
    }
}

/// A resolved `scaleTargetRef` (`GroupVersionKindResource` without the resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleTargetGvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl ScaleTargetGvk {
    /// `GroupVersion().String()`: `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    /// `GVKString()`: `group/version.Kind` (e.g. `apps/v1.Deployment`) — `status.scaleTargetKind`, and the
    /// kind KEDA names in its scaling events.
    pub fn gvk_string(&self) -> String {
        format!("{}/{}.{}", self.group, self.version, self.kind)
    }
}

impl ScalingModifiers {
    /// All fields unset or empty (Go's zero value).
    pub fn is_zero(&self) -> bool {
        let empty = |s: &Option<String>| s.as_deref().is_none_or(str::is_empty);
        empty(&self.formula)
            && empty(&self.target)
            && empty(&self.activation_target)
            && match &self.metric_type {
                None => true,
                Some(MetricTargetType::Other(s)) => s.is_empty(),
                Some(_) => false,
            }
    }
}

impl FallbackBehavior {
    /// The CRD spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackBehavior::Static => "static",
            FallbackBehavior::CurrentReplicas => "currentReplicas",
            FallbackBehavior::CurrentReplicasIfHigher => "currentReplicasIfHigher",
            FallbackBehavior::CurrentReplicasIfLower => "currentReplicasIfLower",
            FallbackBehavior::ScalingModifiers => "scalingModifiers",
        }
    }
}

impl MetricTargetType {
    /// The string KEDA sees (`""` for an explicit empty string).
    pub fn as_str(&self) -> &str {
        match self {
            MetricTargetType::AverageValue => "AverageValue",
            MetricTargetType::Value => "Value",
            MetricTargetType::Utilization => "Utilization",
            MetricTargetType::Other(s) => s,
        }
    }

    /// Why this `metricType` cannot be used on an external-metric trigger, if it cannot: `Utilization` is
    /// refused by KEDA's `GetMetricTargetType`; any other unknown value passes KEDA and is refused by the HPA
    /// API. `AverageValue`, `Value` and an empty string (the default) are fine.
    pub fn external_metric_error(&self) -> Option<String> {
        match self {
            MetricTargetType::AverageValue | MetricTargetType::Value => None,
            MetricTargetType::Other(s) if s.is_empty() => None,
            MetricTargetType::Utilization => Some(
                "error getting scaler metric type: 'Utilization' metric type is unsupported for external \
                 metrics, allowed values are 'Value' or 'AverageValue'"
                    .to_string(),
            ),
            MetricTargetType::Other(s) => Some(format!(
                "Invalid value: {}: must be either Utilization, Value, or AverageValue",
                super::go::quote(s)
            )),
        }
    }
}

/// A plain string in the schema: KEDA's CRD gives `triggers[].metricType` no enum (unknown values are
/// refused by validation with KEDA's message); `scalingModifiers.metricType` adds its enum on the field.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for MetricTargetType {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MetricTargetType".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

impl ScaleTrigger {
    /// `type` is `cpu` or `memory` (a resource metric rather than an external one).
    pub fn is_cpu_or_memory(&self) -> bool {
        self.kind == "cpu" || self.kind == "memory"
    }
    /// `name`, or `""` when unset.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
    /// `useCachedMetrics` (default false).
    pub fn uses_cached_metrics(&self) -> bool {
        self.use_cached_metrics.unwrap_or(false)
    }
}
