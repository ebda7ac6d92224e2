//! The replica calculator for External metrics (`replica_calculator.go`): tolerances, the `AverageValue`
//! path (`GetExternalPerPodMetricReplicas`) and the `Value` path (`GetExternalMetricReplicas` with
//! `getUsageRatioReplicaCount`).
//!
//! All values are milli-units. Float operations are done in the same order as upstream so that results are
//! bit-identical; overflow follows Go (see [`super::arith`]).

use super::arith::{go_ceil_to_i32, go_f64_to_i32};
use super::{ControllerConfig, HpaSpec};

/// `Tolerances`: how far the usage ratio may stray from 1.0 before the HPA acts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    pub scale_down: f64,
    pub scale_up: f64,
}

impl Tolerances {
    /// The same tolerance in both directions.
    pub fn uniform(t: f64) -> Tolerances {
        Tolerances {
            scale_down: t,
            scale_up: t,
        }
    }

    /// `Tolerances.isWithin`: `(1 − down) ≤ ratio ≤ (1 + up)`, both bounds inclusive; false for NaN.
    pub fn is_within(&self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }
}

/// Port of `tolerancesForHpa`: the controller flag, overridden per direction by
/// `behavior.scale{Up,Down}.tolerance` when the `HPAConfigurableTolerance` gate is on and a behavior exists.
pub fn tolerances_for_hpa(cfg: &ControllerConfig, spec: &HpaSpec) -> Tolerances {
    let mut t = Tolerances::uniform(cfg.tolerance);
    let Some(behavior) = spec.behavior.as_ref() else {
        return t;
    };
    if !cfg.configurable_tolerance {
        return t;
    }
    if let Some(q) = behavior
        .scale_down
        .as_ref()
        .and_then(|r| r.tolerance.as_ref())
    {
        t.scale_down = q.as_f64();
    }
    if let Some(q) = behavior
        .scale_up
        .as_ref()
        .and_then(|r| r.tolerance.as_ref())
    {
        t.scale_up = q.as_f64();
    }
    t
}

/// A replica proposal and the usage the HPA reports in `status.currentMetrics` for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    pub replicas: i32,
    /// For `AverageValue` the per-pod usage (`current.averageValue`), for `Value` the total (`current.value`).
    pub usage: i64,
}

/// The sum of the samples as `GetExternalPerPodMetricReplicas` forms it: a running int64 sum that becomes
/// `MaxInt64` as soon as it goes negative (meant to catch overflow, so a negative sample does it too).
pub fn per_pod_usage_sum(samples: &[i64]) -> i64 {
    let mut usage: i64 = 0;
    for &v in samples {
        usage = usage.wrapping_add(v);
        if usage < 0 {
            return i64::MAX;
        }
    }
    usage
}

/// The sum of the samples as `GetExternalMetricReplicas` forms it: capped at `MaxInt64` before a positive
/// sample would overflow; negative samples are simply added (wrapping, as Go does).
pub fn value_usage_sum(samples: &[i64]) -> i64 {
    let mut usage: i64 = 0;
    for &v in samples {
        if v > 0 && usage > i64::MAX - v {
            return i64::MAX;
        }
        usage = usage.wrapping_add(v);
    }
    usage
}

/// Port of `getPerPodUsage`: the per-pod usage for the status, `MaxInt64` when the total is (about) MaxInt64,
/// 0 when there are no pods.
pub fn per_pod_usage(usage: i64, status_replicas: i32) -> i64 {
    if usage as f64 >= i64::MAX as f64 {
        return i64::MAX;
    }
    if status_replicas == 0 {
        return 0;
    }
    // In range: usage < 2^63 and status_replicas >= 1 (it is never negative in a real scale subresource).
    (usage as f64 / f64::from(status_replicas)).ceil() as i64
}

/// Port of `GetExternalPerPodMetricReplicas` (target type `AverageValue`), after the metric was fetched:
/// `ratio = usage / (target × statusReplicas)`; outside the tolerance the proposal is `ceil(usage / target)`,
/// independent of how many pods are ready.
pub fn external_per_pod_metric_replicas(
    status_replicas: i32,
    target_per_pod: i64,
    samples: &[i64],
    tolerances: Tolerances,
) -> Proposal {
    let usage = per_pod_usage_sum(samples);
    let mut replicas = status_replicas;
    let usage_ratio = usage as f64 / (target_per_pod as f64 * f64::from(replicas));
    if !tolerances.is_within(usage_ratio) {
        let result = (usage as f64 / target_per_pod as f64).ceil();
        replicas = if result > f64::from(i32::MAX) {
            i32::MAX
        } else {
            go_f64_to_i32(result)
        };
    }
    Proposal {
        replicas,
        usage: per_pod_usage(usage, status_replicas),
    }
}

/// Error text of `getReadyPodsCount` when the selector matches no pods, as wrapped by
/// `getUsageRatioReplicaCount`.
pub const NO_PODS_ERROR: &str =
    "unable to calculate ready pods: no pods returned by selector while calculating replica count";

/// Port of `getUsageRatioReplicaCount`. With pods running, the tolerance is checked first (before pods are
/// listed); otherwise the proposal is `ceil(ratio × readyPods)`, capped at MaxInt32. At zero replicas it is
/// `ceil(ratio)`, with no tolerance. `listed_pods` is the number of pods the selector matches (0 is an error).
pub fn usage_ratio_replica_count(
    current_replicas: i32,
    ready_pods: i32,
    listed_pods: i32,
    usage_ratio: f64,
    tolerances: Tolerances,
) -> Result<i32, String> {
    if current_replicas != 0 {
        if tolerances.is_within(usage_ratio) {
            return Ok(current_replicas);
        }
        if listed_pods <= 0 {
            return Err(NO_PODS_ERROR.to_string());
        }
        let f = usage_ratio * f64::from(ready_pods);
        if f > f64::from(i32::MAX) {
            Ok(i32::MAX)
        } else {
            Ok(go_ceil_to_i32(f))
        }
    } else {
        Ok(go_ceil_to_i32(usage_ratio))
    }
}

/// Port of `GetExternalMetricReplicas` (target type `Value`), after the metric was fetched:
/// `ratio = usage / target`, then [`usage_ratio_replica_count`] with `current = spec.replicas`.
pub fn external_metric_replicas(
    spec_replicas: i32,
    ready_pods: i32,
    listed_pods: i32,
    target: i64,
    samples: &[i64],
    tolerances: Tolerances,
) -> Result<Proposal, String> {
    let usage = value_usage_sum(samples);
    let usage_ratio = usage as f64 / target as f64;
    let replicas = usage_ratio_replica_count(
        spec_replicas,
        ready_pods,
        listed_pods,
        usage_ratio,
        tolerances,
    )?;
    Ok(Proposal { replicas, usage })
}
