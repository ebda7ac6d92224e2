//! Several metrics: `computeReplicasForMetrics`, `computeReplicasForMetric` and
//! `computeStatusForExternalMetric` (`horizontal.go`), with upstream's names and error texts.
//!
//! The proposal is the maximum over the metrics that could be computed. If every metric failed, or some failed
//! and the valid ones would scale *down*, the HPA does nothing this round; scaling up on the valid subset is
//! allowed.

use std::collections::BTreeMap;

use super::conditions::{ConditionStatus, ConditionType, HpaCondition, set_condition};
use super::replicas::{
    Proposal, Tolerances, external_metric_replicas, external_per_pod_metric_replicas,
};
use super::{ExternalMetric, MetricTarget};
use crate::time::Timestamp;

/// `metav1.LabelSelector.String()` (what `%+v` prints for a `*LabelSelector`) for a selector with only
/// `matchLabels`: keys sorted, each printed as `key: value,`.
pub fn label_selector_string(match_labels: &BTreeMap<String, String>) -> String {
    let mut s = String::from("&LabelSelector{MatchLabels:map[string]string{");
    for (k, v) in match_labels {
        s.push_str(k);
        s.push_str(": ");
        s.push_str(v);
        s.push(',');
    }
    s.push_str("},MatchExpressions:[]LabelSelectorRequirement{},}");
    s
}

/// The metric name upstream uses in conditions and events: `external metric <name>(<selector>)`.
pub fn metric_description(metric: &ExternalMetric) -> String {
    format!(
        "external metric {}({})",
        metric.name,
        label_selector_string(&metric.selector)
    )
}

/// What the replica calculator needs to know about the scale target.
#[derive(Debug, Clone, Copy)]
pub struct ScaleSnapshot<'a> {
    /// The HPA's namespace (appears in error messages).
    pub namespace: &'a str,
    /// `scale.spec.replicas`.
    pub spec_replicas: i32,
    /// `scale.status.replicas`.
    pub status_replicas: i32,
    /// Running and Ready pods matching the target's selector.
    pub ready_pods: i32,
    /// Pods matching the target's selector (0 makes a `Value` metric outside the tolerance fail).
    pub listed_pods: i32,
    pub tolerances: Tolerances,
}

/// A metric that could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricFailure {
    /// The error `computeReplicasForMetric` returns.
    pub error: String,
    /// The `ScalingActive=False` condition it proposes: reason and message.
    pub reason: &'static str,
    pub message: String,
    /// The Warning event upstream records for it (`getUnableComputeReplicaCountCondition`): the calculator's
    /// error, whose reason is `reason`.
    pub event_message: String,
}

/// Ports of `computeReplicasForMetric` + `computeStatusForExternalMetric` + the replica calculator for one
/// External metric. Calls `fetch` exactly once. Returns the proposal and the metric's description.
pub fn compute_replicas_for_metric(
    metric: &ExternalMetric,
    scale: &ScaleSnapshot<'_>,
    fetch: &mut dyn FnMut(&ExternalMetric) -> Result<Vec<i64>, String>,
) -> Result<(Proposal, String), MetricFailure> {
    let fail = |calc_error: String, status_error: String| MetricFailure {
        error: format!(
            "failed to get {} external metric value: {status_error}",
            metric.name
        ),
        reason: "FailedGetExternalMetric",
        message: format!("the HPA was unable to compute the replica count: {calc_error}"),
        event_message: calc_error,
    };
    let fetched = fetch(metric).map_err(|e| {
        format!(
            "unable to get external metric {}/{}/{}: {e}",
            scale.namespace,
            metric.name,
            label_selector_string(&metric.selector)
        )
    });
    match metric.target {
        MetricTarget::AverageValue(target) => match fetched {
            Ok(samples) => Ok((
                external_per_pod_metric_replicas(
                    scale.status_replicas,
                    target,
                    &samples,
                    scale.tolerances,
                ),
                metric_description(metric),
            )),
            Err(calc) => {
                let status = format!("failed to get {} external metric: {calc}", metric.name);
                Err(fail(calc, status))
            }
        },
        MetricTarget::Value(target) => {
            let result = fetched.and_then(|samples| {
                external_metric_replicas(
                    scale.spec_replicas,
                    scale.ready_pods,
                    scale.listed_pods,
                    target,
                    &samples,
                    scale.tolerances,
                )
            });
            match result {
                Ok(p) => Ok((p, metric_description(metric))),
                Err(calc) => {
                    let status = format!("failed to get external metric {}: {calc}", metric.name);
                    Err(fail(calc, status))
                }
            }
        }
    }
}

/// The result of [`compute_replicas_for_metrics`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsOutcome {
    /// The maximum proposal, or −1 when the HPA must not act on it.
    pub replicas: i32,
    /// Description of the metric that gave `replicas` (empty on −1).
    pub metric: String,
    /// Per metric: the usage reported in `status.currentMetrics`, if the metric could be computed.
    pub usages: Vec<Option<i64>>,
    /// `invalid metrics (<n> invalid out of <m>), first error is: <error>` when any metric failed.
    pub error: Option<String>,
    /// Warning events recorded while computing, in order: one `(reason, message)` per failed metric.
    pub warnings: Vec<(&'static str, String)>,
}

/// Port of `computeReplicasForMetrics`: evaluates every metric in order (one `fetch` each), keeps the maximum
/// proposal, and sets `ScalingActive` the way upstream does. Returns −1 when all metrics failed, or when some
/// failed and the rest would scale below `spec_replicas`.
///
/// With no metrics at all upstream also returns −1 but without an error (and sets a condition with an empty
/// type, which is not reproduced); the caller then proceeds as if the proposal were 0.
pub fn compute_replicas_for_metrics(
    metrics: &[ExternalMetric],
    scale: &ScaleSnapshot<'_>,
    fetch: &mut dyn FnMut(&ExternalMetric) -> Result<Vec<i64>, String>,
    conditions: &mut Vec<HpaCondition>,
    now: Timestamp,
) -> MetricsOutcome {
    let mut replicas: i32 = 0;
    let mut metric = String::new();
    let mut usages = vec![None; metrics.len()];
    let mut invalid = 0usize;
    let mut first_failure: Option<MetricFailure> = None;
    let mut warnings = Vec::new();

    for (i, spec) in metrics.iter().enumerate() {
        match compute_replicas_for_metric(spec, scale, fetch) {
            Err(failure) => {
                warnings.push((failure.reason, failure.event_message.clone()));
                if invalid == 0 {
                    first_failure = Some(failure);
                }
                invalid += 1;
            }
            Ok((proposal, name)) => {
                usages[i] = Some(proposal.usage);
                if replicas == 0 || proposal.replicas > replicas {
                    replicas = proposal.replicas;
                    metric = name;
                }
            }
        }
    }

    let error = first_failure.as_ref().map(|f| {
        format!(
            "invalid metrics ({invalid} invalid out of {}), first error is: {}",
            metrics.len(),
            f.error
        )
    });

    if invalid >= metrics.len() || (invalid > 0 && replicas < scale.spec_replicas) {
        if let Some(f) = first_failure {
            set_condition(
                conditions,
                ConditionType::ScalingActive,
                ConditionStatus::False,
                f.reason,
                f.message,
                now,
            );
        }
        return MetricsOutcome {
            replicas: -1,
            metric: String::new(),
            usages,
            error,
            warnings,
        };
    }
    set_condition(
        conditions,
        ConditionType::ScalingActive,
        ConditionStatus::True,
        "ValidMetricFound",
        format!("the HPA was able to successfully calculate a replica count from {metric}"),
        now,
    );
    MetricsOutcome {
        replicas,
        metric,
        usages,
        error,
        warnings,
    }
}
