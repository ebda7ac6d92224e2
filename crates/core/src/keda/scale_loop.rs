//! One KEDA poll and one HPA metrics request: `checkScalers`, `getScaledObjectState`, `getScalerState` and
//! `GetScaledObjectMetrics` (`pkg/scaling/scale_handler.go`), with the Prometheus scaler's
//! `GetMetricsAndActivity` (`pkg/scalers/prometheus_scaler.go`) on top of the query results the driver
//! supplies.
//!
//! Not modelled: push scalers, the scaler rebuild-and-retry on error (the driver's `results` are the final
//! outcome of a trigger's query), `ScaledJob`s, and scalingModifiers formulas (a ScaledObject that uses
//! scalingModifiers gets [`modifiers_not_supported`]).

use std::collections::BTreeMap;

use crate::Error;
use crate::spec::{ScaleTrigger, ScaledObject};
use crate::time::Timestamp;

use super::conditions::{ConditionStatus, ConditionType};
use super::events::{
    MESSAGE_FALLBACK_ACTIVATED, MESSAGE_FALLBACK_DEACTIVATED, REASON_FALLBACK_ACTIVATED,
    REASON_FALLBACK_DEACTIVATED, REASON_SCALER_FAILED,
};
use super::executor::{ScaleRequest, handle_result, request_scale};
use super::fallback::metric_milli_with_fallback;
use super::metric::{metric_in_milli, milli_approx_f64};
use super::state::{KedaState, MetricRecord};
use super::trigger::TriggerTarget;

pub use super::events::{EventType, KedaEvent};

/// Why the engine cannot scale a ScaledObject that uses scalingModifiers.
pub const MODIFIERS_NOT_EVALUATED: &str = "scalingModifiers formulas are not evaluated yet";

/// [`MODIFIERS_NOT_EVALUATED`] on `spec.advanced.scalingModifiers`: as text, the error of a poll or metrics
/// request on a ScaledObject that uses scalingModifiers; drivers that refuse such an object up front (the
/// simulator) report this error.
pub fn modifiers_not_supported() -> Error {
    Error::Invalid {
        path: "spec.advanced.scalingModifiers".to_string(),
        message: MODIFIERS_NOT_EVALUATED.to_string(),
    }
}

/// The inputs of one poll.
#[derive(Debug, Clone, Copy)]
pub struct PollInput<'a> {
    pub now: Timestamp,
    /// The scale target's `spec.replicas`.
    pub current_replicas: i32,
    /// Running and Ready pods matching the target's selector (used by `Value`-type fallback).
    pub ready_pods: i32,
    /// `results[i]`: trigger i's query result — the raw value, or the error message.
    pub results: &'a [Result<f64, String>],
}

/// What one poll decided.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PollOutcome {
    /// Whether the ScaledObject is active (any trigger active, fallback counting as active).
    pub is_active: bool,
    /// Whether any trigger errored (after fallback).
    pub is_error: bool,
    /// The `/scale` write the executor made.
    pub scale_to: Option<i32>,
    /// Events recorded during the poll, in order.
    pub events: Vec<KedaEvent>,
    /// Per target (same order as `targets`): the metric value KEDA reports for it (after fallback,
    /// `keda_scaler_metrics_value`), or `None` on error.
    pub trigger_values: Vec<Option<f64>>,
    /// The metric names of the active triggers.
    pub active_triggers: Vec<String>,
    /// Whether any trigger is served by its fallback value.
    pub fallback_active: bool,
    /// Set when the poll could not run at all (the scale handler logs the error and skips `RequestScale`).
    pub error: Option<String>,
}

/// One KEDA poll at `input.now` (`checkScalers` for a ScaledObject): evaluate every trigger with fallback,
/// decide activity, run the executor, and write the status and metric records into `state`.
pub fn poll(
    so: &ScaledObject,
    targets: &[TriggerTarget],
    state: &mut KedaState,
    input: &PollInput<'_>,
) -> PollOutcome {
    let mut out = PollOutcome::default();
    if so.is_using_modifiers() {
        out.is_error = true;
        out.error = Some(modifiers_not_supported().to_string());
        return out;
    }
    let fallback_before = state.conditions.status(ConditionType::Fallback);
    let mut records = BTreeMap::new();

    // getScaledObjectState / getScalerState
    for t in targets {
        let raw = input
            .results
            .get(t.index)
            .cloned()
            .unwrap_or_else(|| Err(format!("no query result for trigger {}", t.index)));
        let (value, metric_active) = match raw {
            Ok(v) => (Ok(metric_in_milli(v)), t.is_active_value(v)),
            Err(e) => (Err(e), false),
        };
        let fo = metric_milli_with_fallback(
            so,
            state,
            t,
            value,
            input.current_replicas,
            input.ready_pods,
        );
        let active_or_fallback = fo.fallback_active || metric_active;
        out.fallback_active |= fo.fallback_active;
        if t.use_cached_metrics {
            records.insert(
                t.metric_name.clone(),
                MetricRecord {
                    is_active: active_or_fallback,
                    value: fo.value_milli.clone(),
                },
            );
        }
        match fo.value_milli {
            Err(e) => {
                out.is_error = true;
                out.events.push(KedaEvent::warning(REASON_SCALER_FAILED, e));
                out.trigger_values.push(None);
            }
            Ok(v) => {
                if active_or_fallback {
                    out.is_active = true;
                    out.active_triggers.push(t.metric_name.clone());
                }
                out.trigger_values.push(Some(milli_approx_f64(v)));
            }
        }
    }
    // With only cpu/memory triggers (never for the triggers supported here) the object is always active.
    if so.spec.triggers.iter().all(ScaleTrigger::is_cpu_or_memory) && !out.is_error {
        out.is_active = true;
    }

    // checkScalers
    if out.fallback_active && fallback_before != ConditionStatus::True {
        out.events.push(KedaEvent::normal(
            REASON_FALLBACK_ACTIVATED,
            MESSAGE_FALLBACK_ACTIVATED,
        ));
    } else if !out.fallback_active && fallback_before == ConditionStatus::True {
        out.events.push(KedaEvent::normal(
            REASON_FALLBACK_DEACTIVATED,
            MESSAGE_FALLBACK_DEACTIVATED,
        ));
    }
    let external_metric_names: Vec<String> =
        targets.iter().map(|t| t.metric_name.clone()).collect();
    let result = request_scale(
        so,
        state,
        &ScaleRequest {
            now: input.now,
            current_replicas: input.current_replicas,
            is_active: out.is_active,
            is_error: out.is_error,
            active_triggers: &out.active_triggers,
            external_metric_names: &external_metric_names,
        },
    );
    handle_result(state, &result);
    out.scale_to = result.scale_to;
    out.events.extend(result.events);
    if !records.is_empty() {
        state.metric_records = records;
    }
    out
}

/// `GetScaledObjectMetrics` for one metric name: what the HPA gets from `external.metrics.k8s.io` (the driver
/// supplies the live query results of that moment).
///
/// Every trigger whose metric name matches (case-insensitively, `strings.EqualFold`) is read: from its
/// cached record when it has `useCachedMetrics` and the last poll stored one, otherwise from `live(index)`;
/// then fallback is applied (counting a failure per call). Any error while no fallback is active gives
/// `metric:<name> encountered error`; no match gives `no matching metrics found for <name>`.
pub fn hpa_metric(
    so: &ScaledObject,
    targets: &[TriggerTarget],
    state: &mut KedaState,
    metric_name: &str,
    current_replicas: i32,
    ready_pods: i32,
    live: &mut dyn FnMut(usize) -> Result<f64, String>,
) -> Result<Vec<i64>, String> {
    if so.is_using_modifiers() {
        return Err(modifiers_not_supported().to_string());
    }
    let wanted = metric_name.to_lowercase();
    let mut values = Vec::new();
    let mut any_error = false;
    let mut any_fallback = false;
    for t in targets
        .iter()
        .filter(|t| t.metric_name.to_lowercase() == wanted)
    {
        let cached = if t.use_cached_metrics {
            state
                .metric_records
                .get(&t.metric_name)
                .map(|r| r.value.clone())
        } else {
            None
        };
        let value = match cached {
            Some(v) => v,
            None => live(t.index).map(metric_in_milli),
        };
        let fo = metric_milli_with_fallback(so, state, t, value, current_replicas, ready_pods);
        any_fallback |= fo.fallback_active;
        match fo.value_milli {
            Ok(v) => values.push(v),
            Err(_) => any_error = true,
        }
    }
    if !any_fallback && any_error {
        return Err(format!("metric:{metric_name} encountered error"));
    }
    if values.is_empty() {
        return Err(format!("no matching metrics found for {metric_name}"));
    }
    Ok(values)
}
