//! One HPA sync: `reconcileAutoscaler` (`horizontal.go`), and the controller memory it reads and writes.

use super::conditions::{ConditionStatus, ConditionType, HpaCondition, set_condition};
use super::metrics::{ScaleSnapshot, compute_replicas_for_metrics};
use super::normalize::{
    BehaviorHistory, normalize_desired_replicas, normalize_desired_replicas_with_behaviors,
};
use super::rate::{ScaleEvent, store_scale_event};
use super::replicas::tolerances_for_hpa;
use super::stabilize::Recommendation;
use super::{ControllerConfig, ExternalMetric, HpaSpec, rules};
use crate::time::Timestamp;

/// What the HPA controller remembers about one HPA between syncs, plus the HPA's `status.conditions`.
///
/// Upstream keeps the first three in memory (lost on controller restart) and the conditions on the HPA
/// object. Every list is bounded by the windows and policy periods (old entries are overwritten), never by
/// elapsed time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HpaState {
    /// Unstabilized recommendations (`recommendations[key]`). `None` until the first sync seeds it with the
    /// current replica count (`recordInitialRecommendation`); `Some(vec![])` skips the seed.
    pub recommendations: Option<Vec<Recommendation>>,
    /// `scaleUpEvents[key]`.
    pub scale_up_events: Vec<ScaleEvent>,
    /// `scaleDownEvents[key]`.
    pub scale_down_events: Vec<ScaleEvent>,
    /// `status.conditions` as of the last sync.
    pub conditions: Vec<HpaCondition>,
}

impl HpaState {
    /// A controller that has never seen this HPA.
    pub fn new() -> Self {
        HpaState::default()
    }

    /// Port of `storeScaleEvent`: the driver calls it after its scale write (from `prev` to `new` replicas)
    /// succeeded. A no-op on the legacy path (`behavior == nil`).
    pub fn record_scale(&mut self, spec: &HpaSpec, now: Timestamp, prev: i32, new: i32) {
        let behavior = spec.behavior.as_ref().map(rules::default_behavior);
        store_scale_event(
            behavior.as_ref(),
            &mut self.scale_up_events,
            &mut self.scale_down_events,
            now,
            prev,
            new,
        );
    }

    /// The failure branch of upstream's rescale: the driver calls it when writing `decision.desired_replicas`
    /// to the scale subresource failed with `error`. `decision` (a rescale) becomes what upstream records
    /// instead of a success: the `SuccessfulRescale` event turns into Warning `FailedRescale` ("New size: N;
    /// reason: R; error: E"), `AbleToScale` becomes False `FailedUpdateScale`, no scale event is stored, and
    /// `status.desiredReplicas` keeps its previous value (`decided` is cleared, as for a sync that stopped).
    pub fn record_scale_failure(&mut self, decision: &mut Decision, error: &str, now: Timestamp) {
        if !decision.rescale {
            return;
        }
        for e in decision
            .events
            .iter_mut()
            .filter(|e| e.reason == "SuccessfulRescale")
        {
            e.kind = EventKind::Warning;
            e.reason = "FailedRescale".to_string();
            e.message = format!("{}; error: {error}", e.message);
        }
        set_condition(
            &mut decision.conditions,
            ConditionType::AbleToScale,
            ConditionStatus::False,
            "FailedUpdateScale",
            format!("the HPA controller was unable to update the target scale: {error}"),
            now,
        );
        self.conditions = decision.conditions.clone();
        decision.decided = false;
    }
}

/// What one sync observes of the scale target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub now: Timestamp,
    /// `scale.spec.replicas`: the HPA's "current replicas".
    pub spec_replicas: i32,
    /// `scale.status.replicas`: pods that exist; divides `AverageValue` metrics.
    pub status_replicas: i32,
    /// Running and Ready pods; multiplies `Value` metrics.
    pub ready_pods: i32,
}

/// `v1.EventTypeNormal` / `v1.EventTypeWarning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Normal,
    Warning,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Normal => "Normal",
            EventKind::Warning => "Warning",
        }
    }
}

/// An event the HPA controller records on the HPA during a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaEvent {
    pub kind: EventKind,
    /// `FailedGetExternalMetric`, `FailedComputeMetricsReplicas` or `SuccessfulRescale`.
    pub reason: String,
    pub message: String,
}

/// The outcome of one sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `status.currentReplicas` (= `scale.spec.replicas`).
    pub current_replicas: i32,
    /// `status.desiredReplicas`: the new size when `rescale`, else `current_replicas`.
    pub desired_replicas: i32,
    /// Whether the HPA writes `desired_replicas` to the scale subresource.
    pub rescale: bool,
    /// Upstream's `SuccessfulRescale` event message when `rescale`, e.g.
    /// `New size: 1; reason: All metrics below target`.
    pub rescale_reason: Option<String>,
    /// `status.conditions` after this sync, assuming the scale write (if any) succeeds.
    pub conditions: Vec<HpaCondition>,
    /// Per `spec.metrics` entry: the usage (milli) upstream reports in `status.currentMetrics` — the per-pod
    /// average for `AverageValue`, the total for `Value` — if the metric was read and computed.
    pub metric_values: Vec<Option<i64>>,
    /// The error `computeReplicasForMetrics` returned when any metric failed:
    /// `invalid metrics (<n> invalid out of <m>), first error is: ...`.
    pub metric_error: Option<String>,
    /// False when the sync stopped before deciding (every metric failed, or one failed while the others
    /// proposed a scale-down): upstream then leaves `status.desiredReplicas` as it was, and `desired_replicas`
    /// here only repeats the current count.
    pub decided: bool,
    /// The events of this sync, in the order upstream records them: a Warning `FailedGetExternalMetric` per
    /// failed metric, Warning `FailedComputeMetricsReplicas` when the sync stops on them, Normal
    /// `SuccessfulRescale` (assuming the scale write succeeds).
    pub events: Vec<HpaEvent>,
}

/// One HPA sync (`reconcileAutoscaler`), for an HPA in the `default` namespace. See
/// [`reconcile_in_namespace`].
pub fn reconcile(
    cfg: &ControllerConfig,
    spec: &HpaSpec,
    state: &mut HpaState,
    obs: &Observation,
    fetch: &mut dyn FnMut(&ExternalMetric) -> Result<Vec<i64>, String>,
) -> Decision {
    reconcile_in_namespace("default", cfg, spec, state, obs, fetch)
}

/// One HPA sync (`reconcileAutoscaler`). `namespace` only appears in error messages.
///
/// `fetch` is called exactly when and as often as upstream queries the external metrics API: once per metric,
/// in order, unless scaling is disabled (0 replicas with `minReplicas != 0`) or the current count is outside
/// `[min, max]`. It returns the samples in milli-units, or the metrics client's error message.
///
/// Differences from upstream that a driver should know:
/// - The scale write is assumed to succeed (`AbleToScale=True SucceededRescale`); the driver calls
///   [`HpaState::record_scale`] once it did.
/// - On a metrics failure upstream leaves `status.desiredReplicas` at its previous value; here
///   `desired_replicas` is the current count (and `rescale` is false either way).
/// - The pods a `Value` metric needs are modelled by `obs.ready_pods` (ready) and `obs.status_replicas`
///   (listed: 0 means "no pods returned by selector").
/// - At 0 replicas with `minReplicas == 0` metrics are computed (scale from zero), as before the newer
///   `ScaledToZero`-condition logic of the alpha `HPAScaleToZero` gate.
pub fn reconcile_in_namespace(
    namespace: &str,
    cfg: &ControllerConfig,
    spec: &HpaSpec,
    state: &mut HpaState,
    obs: &Observation,
    fetch: &mut dyn FnMut(&ExternalMetric) -> Result<Vec<i64>, String>,
) -> Decision {
    let now = obs.now;
    let current = obs.spec_replicas;
    let mut conditions = std::mem::take(&mut state.conditions);
    set_condition(
        &mut conditions,
        ConditionType::AbleToScale,
        ConditionStatus::True,
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale".to_string(),
        now,
    );
    // recordInitialRecommendation
    let recommendations = state.recommendations.get_or_insert_with(|| {
        vec![Recommendation {
            replicas: current,
            at: now,
        }]
    });

    let min_replicas = spec.min_replicas.unwrap_or(1);
    let mut metric_values = vec![None; spec.metrics.len()];
    let mut metric_error = None;
    let mut events: Vec<HpaEvent> = Vec::new();
    let mut desired: i32 = 0;
    let mut rescale_reason = String::new();
    let mut rescale = true;

    if current == 0 && min_replicas != 0 {
        desired = 0;
        rescale = false;
        set_condition(
            &mut conditions,
            ConditionType::ScalingActive,
            ConditionStatus::False,
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero".to_string(),
            now,
        );
    } else if current > spec.max_replicas {
        rescale_reason = "Current number of replicas above Spec.MaxReplicas".to_string();
        desired = spec.max_replicas;
    } else if current < min_replicas {
        rescale_reason = "Current number of replicas below Spec.MinReplicas".to_string();
        desired = min_replicas;
    } else {
        let scale = ScaleSnapshot {
            namespace,
            spec_replicas: current,
            status_replicas: obs.status_replicas,
            ready_pods: obs.ready_pods,
            listed_pods: obs.status_replicas,
            tolerances: tolerances_for_hpa(cfg, spec),
        };
        let outcome =
            compute_replicas_for_metrics(&spec.metrics, &scale, fetch, &mut conditions, now);
        metric_values = outcome.usages;
        metric_error = outcome.error;
        events.extend(
            outcome
                .warnings
                .into_iter()
                .map(|(reason, message)| HpaEvent {
                    kind: EventKind::Warning,
                    reason: reason.to_string(),
                    message,
                }),
        );
        if outcome.replicas == -1
            && let Some(err) = &metric_error
        {
            events.push(HpaEvent {
                kind: EventKind::Warning,
                reason: "FailedComputeMetricsReplicas".to_string(),
                message: err.clone(),
            });
            state.conditions = conditions.clone();
            return Decision {
                current_replicas: current,
                desired_replicas: current,
                rescale: false,
                rescale_reason: None,
                conditions,
                metric_values,
                metric_error,
                decided: false,
                events,
            };
        }
        let mut rescale_metric = "";
        if outcome.replicas > desired {
            desired = outcome.replicas;
            rescale_metric = &outcome.metric;
        }
        if desired > current {
            rescale_reason = format!("{rescale_metric} above target");
        }
        if desired < current {
            rescale_reason = "All metrics below target".to_string();
        }
        desired = match spec.behavior.as_ref() {
            None => normalize_desired_replicas(
                cfg,
                recommendations,
                &mut conditions,
                now,
                current,
                desired,
                min_replicas,
                spec.max_replicas,
            ),
            Some(behavior) => normalize_desired_replicas_with_behaviors(
                cfg,
                behavior,
                BehaviorHistory {
                    recommendations,
                    scale_up_events: &state.scale_up_events,
                    scale_down_events: &state.scale_down_events,
                },
                &mut conditions,
                now,
                current,
                desired,
                min_replicas,
                spec.max_replicas,
            ),
        };
        rescale = desired != current;
    }

    let reason = if rescale {
        set_condition(
            &mut conditions,
            ConditionType::AbleToScale,
            ConditionStatus::True,
            "SucceededRescale",
            format!("the HPA controller was able to update the target scale to {desired}"),
            now,
        );
        let message = format!("New size: {desired}; reason: {rescale_reason}");
        events.push(HpaEvent {
            kind: EventKind::Normal,
            reason: "SuccessfulRescale".to_string(),
            message: message.clone(),
        });
        Some(message)
    } else {
        desired = current;
        None
    };
    state.conditions = conditions.clone();
    Decision {
        current_replicas: current,
        desired_replicas: desired,
        rescale,
        rescale_reason: reason,
        conditions,
        metric_values,
        metric_error,
        decided: true,
        events,
    }
}
