//! The Kubernetes HPA controller's decision for External metrics, ported exactly from
//! `pkg/controller/podautoscaler` (`horizontal.go`, `replica_calculator.go`) and the API defaulting in
//! `pkg/apis/autoscaling/v2/defaults.go`. See `../shared/reference/hpa.md` §1.
//!
//! The public entry point is [`reconcile()`] (one sync of one HPA) with its [`HpaState`]; the upstream
//! functions it is built from are public in their modules so that they can be tested one by one:
//!
//! - [`rules`] — `behavior` defaulting (`GenerateHPAScale{Up,Down}Rules`, `maybeInitScaleDownStabilizationWindow`);
//! - [`replicas`] — the replica calculator and tolerances;
//! - [`metrics`] — the maximum over several metrics, and the no-scale-down-while-a-metric-fails rule;
//! - [`stabilize`] — stabilization windows (legacy and behavior);
//! - [`rate`] — rate limits, policies and the scale-event history;
//! - [`normalize`] — the two normalization paths with their conditions;
//! - [`conditions`] — `status.conditions`;
//! - [`arith`] — Go's integer and float conversion semantics.

pub mod api;
pub mod arith;
pub mod conditions;
pub mod metrics;
pub mod normalize;
pub mod rate;
pub mod reconcile;
pub mod replicas;
pub mod rules;
pub mod stabilize;

use std::collections::BTreeMap;

pub use api::{Behavior, PolicyType, ScalingPolicy, ScalingRules, SelectPolicy};
pub use conditions::{ConditionStatus, ConditionType, HpaCondition};
pub use rate::ScaleEvent;
pub use reconcile::{
    Decision, EventKind, HpaEvent, HpaState, Observation, reconcile, reconcile_in_namespace,
};
pub use stabilize::Recommendation;

/// kube-controller-manager flags that shape the HPA's decision. (`--horizontal-pod-autoscaler-sync-period`
/// is not one of them: it only says when [`reconcile()`] runs, which is the driver's business.)
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerConfig {
    /// `--horizontal-pod-autoscaler-tolerance` (default 0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-downscale-stabilization`, milliseconds (default 5m).
    pub downscale_stabilization_ms: i64,
    /// The `HPAConfigurableTolerance` feature gate (beta and on by default since 1.35).
    pub configurable_tolerance: bool,
    /// `scaleUpLimitFactor` (2.0 in production; upstream's tests set 8).
    pub scale_up_limit_factor: f64,
    /// `scaleUpLimitMinimum` (4.0).
    pub scale_up_limit_minimum: f64,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            tolerance: 0.1,
            downscale_stabilization_ms: 300_000,
            configurable_tolerance: true,
            scale_up_limit_factor: 2.0,
            scale_up_limit_minimum: 4.0,
        }
    }
}

/// The target of an External metric, in milli-units (`Quantity.MilliValue()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricTarget {
    /// `target.type: AverageValue` — usage is divided by `status.replicas`.
    AverageValue(i64),
    /// `target.type: Value` — the ratio is multiplied by the number of ready pods.
    Value(i64),
}

/// One `type: External` entry of an HPA's `spec.metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalMetric {
    /// `external.metric.name`, e.g. `s0-prometheus`.
    pub name: String,
    /// `external.metric.selector.matchLabels`.
    pub selector: BTreeMap<String, String>,
    pub target: MetricTarget,
}

/// The parts of an `autoscaling/v2` HorizontalPodAutoscaler spec the decision depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    /// `spec.minReplicas` (`None` means 1).
    pub min_replicas: Option<i32>,
    pub max_replicas: i32,
    pub metrics: Vec<ExternalMetric>,
    /// `None` selects the legacy path (no `behavior` object at all).
    pub behavior: Option<Behavior>,
}

/// The API server's validation of the parts of an HPA spec the engine models (`ValidateHorizontalPodAutoscaler`
/// in `pkg/apis/autoscaling/validation`): `minReplicas` ≥ 1 when set (the engine does not model the
/// `HPAScaleToZero` gate), `maxReplicas` ≥ 1 and ≥ `minReplicas`, and External targets that are positive.
/// The error reads as the API server's rejection of the HPA named `name`.
pub fn validate_spec(name: &str, spec: &HpaSpec) -> Result<(), String> {
    let mut errs = Vec::new();
    let min = spec.min_replicas.unwrap_or(1);
    if min < 1 {
        errs.push(format!(
            "spec.minReplicas: Invalid value: {min}: must be greater than or equal to 1"
        ));
    }
    if spec.max_replicas < 1 {
        errs.push(format!(
            "spec.maxReplicas: Invalid value: {}: must be greater than 0",
            spec.max_replicas
        ));
    } else if spec.max_replicas < min {
        errs.push(format!(
            "spec.maxReplicas: Invalid value: {}: must be greater than or equal to `minReplicas`",
            spec.max_replicas
        ));
    }
    for (i, m) in spec.metrics.iter().enumerate() {
        let (field, milli) = match m.target {
            MetricTarget::AverageValue(v) => ("averageValue", v),
            MetricTarget::Value(v) => ("value", v),
        };
        if milli <= 0 {
            errs.push(format!(
                "spec.metrics[{i}].external.target.{field}: Invalid value: \"{}\": must be positive",
                crate::quantity::format_milli(milli)
            ));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "HorizontalPodAutoscaler.autoscaling \"{name}\" is invalid: {}",
            errs.join(", ")
        ))
    }
}
