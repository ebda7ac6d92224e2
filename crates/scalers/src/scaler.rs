//! The `Scaler` abstraction: one trigger of a ScaledObject, able to report its External metric's name and
//! target and to evaluate its current value. [`build_scaler`] is the registry from trigger type to scaler.

use std::collections::BTreeMap;
use std::time::SystemTime;

use prescale_core::keda::trigger::TargetType;
use prescale_core::spec::ScaleTrigger;

use crate::error::{Error, Result};
use crate::prometheus::PrometheusScaler;

/// One evaluation of a trigger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// The trigger's value (the query result for Prometheus).
    pub value: f64,
    /// `value > activationThreshold`, strictly.
    pub active: bool,
}

/// A trigger that can be evaluated. Implementations own whatever connection state they need; `evaluate` is a
/// plain (blocking) call so that any driver — a thread, a blocking task of an async runtime — can call it.
pub trait Scaler: Send + Sync {
    /// The External metric name, `s<index>-<type>`.
    fn metric_name(&self) -> String;
    /// The HPA target type of the metric (`AverageValue` or `Value`).
    fn target_type(&self) -> TargetType;
    /// The HPA target value (`threshold`).
    fn target_value(&self) -> f64;
    /// `activationThreshold`: the trigger is active when the value is strictly greater.
    fn activation_threshold(&self) -> f64;
    /// Human-readable facts about what the scaler queries (for Prometheus: `serverAddress`, `query`).
    fn describe(&self) -> Vec<(&'static str, String)>;
    /// Queries the source once, as of `now`.
    fn evaluate(&self, now: SystemTime) -> Result<Evaluation>;
}

/// The trigger types [`build_scaler`] knows.
pub const SCALER_TYPES: &[&str] = &["prometheus"];

/// Builds the scaler for trigger `index`. `auth_params` are the resolved TriggerAuthentication parameters and
/// `pod_identity` its provider name, if any. Any type other than [`SCALER_TYPES`] is an error naming it.
pub fn build_scaler(
    index: usize,
    trigger: &ScaleTrigger,
    auth_params: &BTreeMap<String, String>,
    pod_identity: Option<&str>,
) -> Result<Box<dyn Scaler>> {
    match trigger.kind.as_str() {
        "prometheus" => Ok(Box::new(PrometheusScaler::new(
            index,
            trigger,
            auth_params,
            pod_identity,
        )?)),
        other => Err(Error::Config(format!(
            "trigger {index}: no scaler for trigger type {other:?} (supported: {})",
            SCALER_TYPES.join(", ")
        ))),
    }
}
