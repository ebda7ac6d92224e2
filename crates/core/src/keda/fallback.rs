//! Fallback: `GetMetricsWithFallback`, `doFallback`, `HasValidFallback` and the health/condition bookkeeping
//! of `ScaledObjectHandler` (`pkg/fallback/fallback.go`).
//!
//! Applied to every metric read: each poll and each HPA metrics request (and reads served from the metric
//! cache), so failures are counted once per *call*.

use crate::spec::{FallbackBehavior, MetricTargetType, ScaledObject};

use super::conditions::{
    ConditionStatus, MESSAGE_FALLBACK_EXISTS, MESSAGE_NO_FALLBACK_FOUND, REASON_FALLBACK_EXISTS,
    REASON_NO_FALLBACK_FOUND,
};
use super::metric::metric_in_milli;
use super::object::has_valid_fallback;
use super::state::{HealthState, HealthStatus, KedaState};
use super::trigger::{TargetType, TriggerTarget};

/// The error `GetMetricsWithFallback` returns when `doFallback` cannot compute a value (a `Value` target with
/// no ready pods).
pub const ERROR_PERFORMING_FALLBACK: &str = "error performing fallback";

/// What a metric read yields after fallback processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackOutcome {
    /// The metric's milli-value (the scaler's, or the fallback value), or the error the caller sees.
    pub value_milli: Result<i64, String>,
    /// Whether the value is a fallback value (failures > failureThreshold).
    pub fallback_active: bool,
}

/// `GetMetricsWithFallback` for one trigger, with the scaler's raw result (`Ok(value)` is converted with
/// `GenerateMetricInMili`).
pub fn metric_with_fallback(
    so: &ScaledObject,
    state: &mut KedaState,
    target: &TriggerTarget,
    result: Result<f64, String>,
    current_replicas: i32,
    ready_pods: i32,
) -> FallbackOutcome {
    metric_milli_with_fallback(
        so,
        state,
        target,
        result.map(metric_in_milli),
        current_replicas,
        ready_pods,
    )
}

/// `GetMetricsWithFallback` for one trigger whose metric is already a milli-value (the poll converts the raw
/// value; the HPA path may read a cached record).
///
/// - success: with a valid fallback configured, `health[metric] = {0, Happy}`; the value passes through;
/// - error without a valid fallback: the error passes through and the status is untouched;
/// - error with one: `numberOfFailures += 1`, `Failing`; once failures > `failureThreshold` (strictly) the
///   fallback value replaces the error.
///
/// The `Fallback` condition is recomputed whenever health changes.
pub fn metric_milli_with_fallback(
    so: &ScaledObject,
    state: &mut KedaState,
    target: &TriggerTarget,
    result: Result<i64, String>,
    current_replicas: i32,
    ready_pods: i32,
) -> FallbackOutcome {
    let configured = has_valid_fallback(so);
    let metric_name = target.metric_name.as_str();
    let err = match result {
        Ok(v) => {
            if configured {
                state
                    .health
                    .insert(metric_name.to_string(), HealthStatus::happy());
                update_fallback_condition(so, state);
            }
            return FallbackOutcome {
                value_milli: Ok(v),
                fallback_active: false,
            };
        }
        Err(e) => e,
    };
    let passthrough = |e: String| FallbackOutcome {
        value_milli: Err(e),
        fallback_active: false,
    };
    let Some(fb) = so.spec.fallback.as_ref().filter(|_| configured) else {
        return passthrough(err);
    };

    // IncrementFailure
    let entry = state
        .health
        .entry(metric_name.to_string())
        .or_insert(HealthStatus {
            number_of_failures: 0,
            status: HealthState::Failing,
        });
    entry.number_of_failures = entry.number_of_failures.saturating_add(1);
    entry.status = HealthState::Failing;
    let failures = entry.number_of_failures;
    update_fallback_condition(so, state);

    if failures <= fb.failure_threshold {
        return passthrough(err);
    }
    if fb.behavior == Some(FallbackBehavior::ScalingModifiers) {
        // A `-1` placeholder the formula engine reads as nil (`resource.NewQuantity(-1)`).
        return FallbackOutcome {
            value_milli: Ok(-1000),
            fallback_active: false,
        };
    }
    match do_fallback(so, target, current_replicas, ready_pods) {
        Some(v) => FallbackOutcome {
            value_milli: Ok(v),
            fallback_active: true,
        },
        None => passthrough(ERROR_PERFORMING_FALLBACK.to_string()),
    }
}

/// The replica count the fallback aims at, by `fallback.behavior` (`doFallback`). `static` (and unset)
/// ignores the current replicas.
pub fn fallback_replicas(
    behavior: Option<FallbackBehavior>,
    fallback_replicas: i32,
    current: i32,
) -> f64 {
    let fr = i64::from(fallback_replicas);
    let cur = i64::from(current);
    match behavior {
        Some(FallbackBehavior::CurrentReplicas) => cur as f64,
        Some(FallbackBehavior::CurrentReplicasIfHigher) => cur.max(fr) as f64,
        Some(FallbackBehavior::CurrentReplicasIfLower) => cur.min(fr) as f64,
        _ => fr as f64,
    }
}

/// `doFallback`: the fallback metric, `int64(normalisation × 1000 × replicas)` milli, where `normalisation`
/// is the target quantity (`AsApproximateFloat64`) — or the scalingModifiers target — and `replicas` is
/// divided (as a float) by the ready pods for a `Value` target. `None` when a `Value` target has no ready
/// pods.
pub fn do_fallback(
    so: &ScaledObject,
    target: &TriggerTarget,
    current_replicas: i32,
    ready_pods: i32,
) -> Option<i64> {
    let fb = so.spec.fallback.as_ref()?;
    let mut replicas = fallback_replicas(fb.behavior, fb.replicas, current_replicas);
    let mods = so.modifiers_in_use();
    let is_value = match mods {
        None => target.target_type == TargetType::Value,
        Some(m) => m.metric_type == Some(MetricTargetType::Value),
    };
    if is_value {
        if ready_pods == 0 {
            return None;
        }
        replicas /= f64::from(ready_pods);
    }
    let normalisation = match mods {
        None => target.target_approx_f64(),
        Some(m) => m
            .target
            .as_deref()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(0.0),
    };
    Some((normalisation * 1000.0 * replicas) as i64)
}

/// `updateStatus`'s condition part: with a valid fallback, `Fallback` is True (`FallbackExists`) iff some
/// health entry is Failing with more than `failureThreshold` failures, else False (`NoFallbackFound`).
pub fn update_fallback_condition(so: &ScaledObject, state: &mut KedaState) {
    let Some(fb) = so.spec.fallback.as_ref().filter(|_| has_valid_fallback(so)) else {
        return;
    };
    let exceeded = state
        .health
        .values()
        .any(|h| h.status == HealthState::Failing && h.number_of_failures > fb.failure_threshold);
    if exceeded {
        state.conditions.set_fallback(
            ConditionStatus::True,
            REASON_FALLBACK_EXISTS,
            MESSAGE_FALLBACK_EXISTS,
        );
    } else {
        state.conditions.set_fallback(
            ConditionStatus::False,
            REASON_NO_FALLBACK_FOUND,
            MESSAGE_NO_FALLBACK_FOUND,
        );
    }
}
