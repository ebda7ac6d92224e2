//! `ScaledJob` (`keda.sh/v1alpha1`), field for field as KEDA 2.20's CRD
//! (`config/crd/bases/keda.sh_scaledjobs.yaml`), with KEDA's defaults as methods.

use serde::{Deserialize, Serialize};

use super::{ANNOTATION_PAUSED, DEFAULT_POLLING_INTERVAL, ObjectMeta, ScaleTrigger, go};

/// KEDA's default `successfulJobsHistoryLimit` and `failedJobsHistoryLimit`
/// (`pkg/scaling/executor/scale_jobs.go`).
pub const DEFAULT_JOBS_HISTORY_LIMIT: i32 = 100;
/// `defaultScaledJobMaxReplicaCount`.
pub const DEFAULT_SCALED_JOB_MAX_REPLICA_COUNT: i64 = 100;
/// `defaultScaledJobMinReplicaCount`.
pub const DEFAULT_SCALED_JOB_MIN_REPLICA_COUNT: i64 = 0;

/// A complete `ScaledJob` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledJob {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: ScaledJobSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScaledJobSpec {
    /// A `batch/v1` `JobSpec`, kept as JSON (checked against the CRD schema by validation).
    #[cfg_attr(feature = "schema", schemars(extend("type" = "object", "x-kubernetes-preserve-unknown-fields" = true)))]
    pub job_target_ref: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub polling_interval: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub successful_jobs_history_limit: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub failed_jobs_history_limit: Option<i32>,
    /// Deprecated in favour of `rollout.strategy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_strategy: Option<RolloutStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_source_container_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub min_replica_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub max_replica_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_strategy: Option<ScalingStrategy>,
    /// The CRD prunes `metricType` from ScaledJob triggers, so it is always unset after loading.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub triggers: Vec<ScaleTrigger>,
}

/// `rollout.strategy` / `rolloutStrategy`. Unset behaves as `immediate` (jobs of the previous
/// version are deleted on update).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum RolloutStrategy {
    Gradual,
    #[default]
    Immediate,
}

/// `rollout.propagationPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum PropagationPolicy {
    /// KEDA's default (`background` deletion).
    #[default]
    Background,
    Foreground,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RolloutStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<PropagationPolicy>,
}

/// `scalingStrategy.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ScalingStrategyKind {
    #[default]
    Default,
    Custom,
    Accurate,
    Eager,
}

/// `scalingStrategy.multipleScalersCalculation` (default `max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum MultipleScalersCalculation {
    Min,
    Avg,
    Sum,
    #[default]
    Max,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScalingStrategy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<ScalingStrategyKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_scaling_queue_length_deduction: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_scaling_running_job_percentage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_pod_conditions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_scalers_calculation: Option<MultipleScalersCalculation>,
}

impl ScaledJobSpec {
    /// `pollingInterval` with KEDA's default (30 s).
    pub fn polling_interval_secs(&self) -> i32 {
        self.polling_interval.unwrap_or(DEFAULT_POLLING_INTERVAL)
    }
    /// `successfulJobsHistoryLimit` with KEDA's default (100).
    pub fn successful_jobs_history_limit(&self) -> i32 {
        self.successful_jobs_history_limit
            .unwrap_or(DEFAULT_JOBS_HISTORY_LIMIT)
    }
    /// `failedJobsHistoryLimit` with KEDA's default (100).
    pub fn failed_jobs_history_limit(&self) -> i32 {
        self.failed_jobs_history_limit
            .unwrap_or(DEFAULT_JOBS_HISTORY_LIMIT)
    }
    /// The effective rollout strategy as the ScaledJob controller picks it: the deprecated
    /// `rolloutStrategy` when set, else `rollout.strategy`, else `immediate`.
    pub fn effective_rollout_strategy(&self) -> RolloutStrategy {
        self.rollout_strategy
            .or_else(|| self.rollout.as_ref().and_then(|r| r.strategy))
            .unwrap_or_default()
    }
    /// `scalingStrategy.strategy` (default `default`).
    pub fn scaling_strategy_kind(&self) -> ScalingStrategyKind {
        self.scaling_strategy
            .as_ref()
            .and_then(|s| s.strategy)
            .unwrap_or_default()
    }
    /// `scalingStrategy.multipleScalersCalculation` (default `max`).
    pub fn multiple_scalers_calculation(&self) -> MultipleScalersCalculation {
        self.scaling_strategy
            .as_ref()
            .and_then(|s| s.multiple_scalers_calculation)
            .unwrap_or_default()
    }
}

impl ScaledJob {
    /// KEDA's `ScaledJob.MinReplicaCount()`: `minReplicaCount` (default 0), capped at `maxReplicaCount`.
    pub fn min_replica_count(&self) -> i64 {
        match (self.spec.min_replica_count, self.spec.max_replica_count) {
            (Some(min), Some(max)) if min > max => i64::from(max),
            (Some(min), _) => i64::from(min),
            (None, _) => DEFAULT_SCALED_JOB_MIN_REPLICA_COUNT,
        }
    }
    /// KEDA's `ScaledJob.MaxReplicaCount()`: `maxReplicaCount − minReplicaCount` (default 100).
    pub fn max_replica_count(&self) -> i64 {
        match (self.spec.min_replica_count, self.spec.max_replica_count) {
            (Some(min), Some(max)) if min > max => i64::from(max),
            (_, Some(max)) => i64::from(max) - self.min_replica_count(),
            (_, None) => DEFAULT_SCALED_JOB_MAX_REPLICA_COUNT,
        }
    }
    /// `NeedToBePausedByAnnotation`: only `autoscaling.keda.sh/paused` counts for ScaledJobs; any
    /// value that is not a Go boolean counts as true.
    pub fn need_to_be_paused_by_annotation(&self) -> bool {
        self.metadata
            .annotations
            .get(ANNOTATION_PAUSED)
            .is_some_and(|v| go::parse_bool(v).unwrap_or(true))
    }
}
