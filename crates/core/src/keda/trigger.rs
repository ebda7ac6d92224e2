//! What the engine needs from each trigger: its External metric name, target type, threshold and activation
//! threshold. Ports the parts of the Prometheus scaler's construction that shape scaling decisions
//! (`NewPrometheusScaler`, `parsePrometheusMetadata`, `GetMetricSpecForScaling` in
//! `pkg/scalers/prometheus_scaler.go`; `GetMetricTargetType` in `pkg/scalers/scaler.go`; the typed-config
//! rules of `pkg/scalers/scalersconfig/typed_config.go`).
//!
//! Only `prometheus` triggers are supported for now; any other type is an error naming the type and the
//! trigger index. Connection parameters (`serverAddress`, `query`, auth, …) are the query side's business
//! and are not read here.

use crate::hpa::MetricTarget;
use crate::spec::{MetricTargetType, ScaleTrigger, ScaledObject};
use crate::{Error, Result};

use super::metric::{metric_in_milli, quantity_approx_f64};
use super::naming::metric_name;

/// The trigger types the engine can evaluate.
pub const SUPPORTED_TRIGGER_TYPES: &[&str] = &["prometheus"];

/// The HPA target type of an External metric (`v2.MetricTargetType` without `Utilization`, which
/// `GetMetricTargetType` rejects for external metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetType {
    /// `AverageValue` (the default): the HPA divides the metric by the number of pods.
    AverageValue,
    /// `Value`: the HPA compares the metric itself with the target.
    Value,
}

impl TargetType {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::AverageValue => "AverageValue",
            TargetType::Value => "Value",
        }
    }
}

/// One trigger as the scale loop sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerTarget {
    /// Position in `spec.triggers`.
    pub index: usize,
    /// `triggers[].name`, when set and non-empty.
    pub name: Option<String>,
    /// `triggers[].type`, e.g. `prometheus`.
    pub trigger_type: String,
    /// The External metric name, e.g. `s0-prometheus`.
    pub metric_name: String,
    pub target_type: TargetType,
    /// `threshold` metadata.
    pub threshold: f64,
    /// `activationThreshold` metadata (default 0); the trigger is active iff value > it.
    pub activation_threshold: f64,
    /// `triggers[].useCachedMetrics`.
    pub use_cached_metrics: bool,
}

impl TriggerTarget {
    /// The HPA target in milli-units: `GetMetricTargetMili(targetType, threshold)`.
    pub fn target_milli(&self) -> i64 {
        metric_in_milli(self.threshold)
    }

    /// The HPA's `MetricTarget` for this trigger's External metric.
    pub fn metric_target(&self) -> MetricTarget {
        match self.target_type {
            TargetType::AverageValue => MetricTarget::AverageValue(self.target_milli()),
            TargetType::Value => MetricTarget::Value(self.target_milli()),
        }
    }

    /// `AsApproximateFloat64()` of the target quantity — the fallback's normalisation value.
    pub fn target_approx_f64(&self) -> f64 {
        quantity_approx_f64(self.threshold)
    }

    /// Whether a raw query value activates this trigger: `value > activationThreshold`, strictly.
    pub fn is_active_value(&self, value: f64) -> bool {
        value > self.activation_threshold
    }

    /// The name KEDA uses for this trigger in logs, events and operator metrics: `triggers[].name`, or the Go
    /// type name of the scaler (`prometheusScaler`).
    pub fn scaler_name(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("{}Scaler", self.trigger_type),
        }
    }
}

/// `GetMetricTargetType`: unset means `AverageValue`; `Utilization` is an error for external metrics, and any
/// other unknown value is refused by the HPA API ([`MetricTargetType::external_metric_error`]).
pub fn metric_target_type(
    metric_type: Option<&MetricTargetType>,
    path: &str,
) -> Result<TargetType> {
    match metric_type {
        Some(MetricTargetType::Value) => Ok(TargetType::Value),
        Some(mt) => match mt.external_metric_error() {
            Some(message) => Err(Error::Invalid {
                path: path.to_string(),
                message,
            }),
            None => Ok(TargetType::AverageValue),
        },
        None => Ok(TargetType::AverageValue),
    }
}

/// A metadata value as the typed config reads it: trimmed, and an empty string counts as absent
/// (`configParamValue`).
pub fn metadata_value<'a>(trigger: &'a ScaleTrigger, key: &str) -> Option<&'a str> {
    trigger
        .metadata
        .get(key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

/// Parse a float parameter the way the typed config does (`json.Unmarshal` into a `float64`): the text must
/// be one JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`) within the `float64` range.
pub fn parse_json_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if i != b.len() {
        return None;
    }
    // Go's ParseFloat reports out-of-range values (±Inf) as an error.
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn float_param(trigger: &ScaleTrigger, index: usize, key: &str) -> Result<Option<f64>> {
    match metadata_value(trigger, key) {
        None => Ok(None),
        Some(v) => parse_json_number(v).map(Some).ok_or_else(|| Error::Invalid {
            path: format!("spec.triggers[{index}].metadata.{key}"),
            message: format!(
                "unable to set param {key:?} value {v:?}: not a number (expected a JSON number such as \
                 100, 100.5 or 1e3)"
            ),
        }),
    }
}

/// Build the [`TriggerTarget`] of trigger `index`.
pub fn trigger_target(index: usize, trigger: &ScaleTrigger) -> Result<TriggerTarget> {
    if !SUPPORTED_TRIGGER_TYPES.contains(&trigger.kind.as_str()) {
        return Err(Error::Invalid {
            path: format!("spec.triggers[{index}].type"),
            message: format!(
                "trigger type {:?} is not supported yet (supported: {})",
                trigger.kind,
                SUPPORTED_TRIGGER_TYPES.join(", ")
            ),
        });
    }
    // NewPrometheusScaler checks the metric type before it parses the metadata.
    let target_type = metric_target_type(
        trigger.metric_type.as_ref(),
        &format!("spec.triggers[{index}].metricType"),
    )?;
    let threshold = float_param(trigger, index, "threshold")?.ok_or_else(|| Error::Invalid {
        path: format!("spec.triggers[{index}].metadata.threshold"),
        message: "missing required parameter \"threshold\" in [triggerMetadata]".to_string(),
    })?;
    let activation_threshold = float_param(trigger, index, "activationThreshold")?.unwrap_or(0.0);
    Ok(TriggerTarget {
        index,
        name: trigger.name.clone().filter(|n| !n.is_empty()),
        trigger_type: trigger.kind.clone(),
        metric_name: metric_name(index, &trigger.kind),
        target_type,
        threshold,
        activation_threshold,
        use_cached_metrics: trigger.use_cached_metrics.unwrap_or(false),
    })
}

/// The [`TriggerTarget`]s of every trigger of `so`, in `spec.triggers` order. The first invalid trigger is
/// the error.
pub fn trigger_targets(so: &ScaledObject) -> Result<Vec<TriggerTarget>> {
    so.spec
        .triggers
        .iter()
        .enumerate()
        .map(|(i, t)| trigger_target(i, t))
        .collect()
}
