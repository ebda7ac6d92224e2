//! The scale executor for ScaledObjects: `RequestScale`, `scaleFromZeroOrIdle`, `scaleToZeroOrIdle`,
//! `handlePaused`, `getIdleOrMinimumReplicaCount` (`pkg/scaling/executor/scale_scaledobjects.go`),
//! `getTriggersActivity` (`scale_executor.go`) and the status merge of `handleResult`
//! (`pkg/scaling/scale_handler.go`).
//!
//! KEDA only moves a target between 0 (or `idleReplicaCount`) and `minReplicaCount`/1; the HPA owns 1..N.

use std::collections::BTreeMap;

use crate::spec::ScaledObject;
use crate::time::Timestamp;

use super::conditions::{
    ConditionStatus, Conditions, MESSAGE_PARTIAL_TRIGGER_ERROR, MESSAGE_PAUSED, MESSAGE_READY,
    MESSAGE_SCALER_ACTIVE, MESSAGE_SCALER_ACTIVE_FORCED, MESSAGE_SCALER_COOLDOWN,
    MESSAGE_SCALER_NOT_ACTIVE, MESSAGE_TRIGGER_ERROR, REASON_PARTIAL_TRIGGER_ERROR, REASON_PAUSED,
    REASON_READY, REASON_SCALER_ACTIVE, REASON_SCALER_COOLDOWN, REASON_SCALER_NOT_ACTIVE,
    REASON_TRIGGER_ERROR,
};
use super::events::{KedaEvent, REASON_SCALE_TARGET_ACTIVATED, REASON_SCALE_TARGET_DEACTIVATED};
use super::object::scale_target_kind;
use super::state::KedaState;

/// The inputs of one `RequestScale` call.
#[derive(Debug, Clone, Copy)]
pub struct ScaleRequest<'a> {
    pub now: Timestamp,
    /// The target's `spec.replicas` (`GetCurrentReplicas`; also what `/scale` reports before the write).
    pub current_replicas: i32,
    pub is_active: bool,
    pub is_error: bool,
    /// The metric names of the active triggers (`ScaleExecutorOptions.ActiveTriggers`), named in the
    /// activation event.
    pub active_triggers: &'a [String],
    /// `status.externalMetricNames`: the keys of `triggersActivity`.
    pub external_metric_names: &'a [String],
}

/// `ScaleResult`, plus the `/scale` write and the events the executor made.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScaleResult {
    /// The conditions the executor set (merged into the status by [`handle_result`]).
    pub conditions: Conditions,
    /// `lastActiveTime` to record (already truncated to whole seconds).
    pub last_active_time: Option<Timestamp>,
    /// The full `triggersActivity` map for the status.
    pub triggers_activity: BTreeMap<String, bool>,
    /// The replica count written to the target's `/scale`, if any.
    pub scale_to: Option<i32>,
    pub events: Vec<KedaEvent>,
}

/// `RequestScale` for a ScaledObject whose status is `state`.
pub fn request_scale(so: &ScaledObject, state: &KedaState, req: &ScaleRequest<'_>) -> ScaleResult {
    let mut result = ScaleResult::default();
    result
        .conditions
        .set_ready(ConditionStatus::True, REASON_READY, MESSAGE_READY);
    result.triggers_activity = req
        .external_metric_names
        .iter()
        .map(|n| (n.clone(), req.active_triggers.contains(n)))
        .collect();

    // handlePaused
    if so.need_to_be_paused_by_annotation() {
        result
            .conditions
            .set_paused(ConditionStatus::True, REASON_PAUSED, MESSAGE_PAUSED);
        return result;
    }

    let spec = &so.spec;
    let current = req.current_replicas;
    let min = spec.min_replicas();
    let forced = so.need_to_force_activation();

    if req.is_active || forced {
        let message = if forced {
            MESSAGE_SCALER_ACTIVE_FORCED
        } else {
            MESSAGE_SCALER_ACTIVE
        };
        result
            .conditions
            .set_active(ConditionStatus::True, REASON_SCALER_ACTIVE, message);
        if (spec.idle_replica_count.is_some() && current < min) || current == 0 {
            scale_from_zero_or_idle(so, req, forced, &mut result);
        } else if req.is_error {
            result.conditions.set_ready(
                ConditionStatus::Unknown,
                REASON_PARTIAL_TRIGGER_ERROR,
                MESSAGE_PARTIAL_TRIGGER_ERROR,
            );
        } else {
            result.last_active_time = Some(req.now.truncate_to_secs());
        }
    } else {
        result.conditions.set_active(
            ConditionStatus::False,
            REASON_SCALER_NOT_ACTIVE,
            MESSAGE_SCALER_NOT_ACTIVE,
        );
        let fallback = spec.fallback.as_ref();
        if req.is_error && fallback.is_some_and(|f| f.replicas != 0) {
            // The HPA applies the fallback value; scaling to zero here would disable it.
        } else if req.is_error && fallback.is_none() {
            result.conditions.set_ready(
                ConditionStatus::False,
                REASON_TRIGGER_ERROR,
                MESSAGE_TRIGGER_ERROR,
            );
        } else if spec.idle_replica_count.is_some_and(|idle| current > idle)
            || (current > 0 && min == 0)
        {
            scale_to_zero_or_idle(so, state, req, &mut result);
        } else if spec.idle_replica_count.is_none() && current < min {
            result.scale_to = Some(min);
        }
    }
    result
}

/// The event message of a scale from zero/idle.
pub fn activation_message(
    so: &ScaledObject,
    from: i32,
    to: i32,
    active_triggers: &[String],
    forced: bool,
) -> String {
    let kind = scale_target_kind(so);
    let ns = so.metadata.namespace_or_default();
    let name = &so.spec.scale_target_ref.name;
    if forced {
        format!(
            "Scaled {kind} {ns}/{name} from {from} to {to}, caused by forced activation annotation"
        )
    } else {
        format!(
            "Scaled {kind} {ns}/{name} from {from} to {to}, triggered by {}",
            active_triggers.join(";")
        )
    }
}

/// `scaleFromZeroOrIdle`: unless scale-out is paused, set the target to `minReplicaCount` (or 1), record
/// the activation event and `lastActiveTime`.
fn scale_from_zero_or_idle(
    so: &ScaledObject,
    req: &ScaleRequest<'_>,
    forced: bool,
    result: &mut ScaleResult,
) {
    if so.need_to_pause_scale_out() {
        return;
    }
    // `minReplicaCount` when > 0, else 1: the same rule as `GetHPAMinReplicas`.
    let replicas = so.spec.hpa_min_replicas();
    result.scale_to = Some(replicas);
    result.events.push(KedaEvent::normal(
        REASON_SCALE_TARGET_ACTIVATED,
        activation_message(
            so,
            req.current_replicas,
            replicas,
            req.active_triggers,
            forced,
        ),
    ));
    result.last_active_time = Some(req.now.truncate_to_secs());
}

/// Whether the cooldown has elapsed at `now`: with no `lastActiveTime`,
/// `creationTimestamp + initialCooldownPeriod` is before `now`; otherwise
/// `lastActiveTime + cooldownPeriod` is before `now` (both strict, Go `Before`).
pub fn cooldown_elapsed(so: &ScaledObject, state: &KedaState, now: Timestamp) -> bool {
    match state.last_active_time {
        None => {
            let initial = i64::from(so.spec.initial_cooldown_period_secs());
            state.created_at.plus_secs(initial).before(now)
        }
        Some(last) => {
            let cooldown = i64::from(so.spec.cooldown_period_secs());
            last.plus_secs(cooldown).before(now)
        }
    }
}

/// `getIdleOrMinimumReplicaCount`: `idleReplicaCount`, else `minReplicaCount`, else 0.
pub fn idle_or_minimum_replica_count(so: &ScaledObject) -> i32 {
    so.spec
        .idle_replica_count
        .or(so.spec.min_replica_count)
        .unwrap_or(0)
}

/// `scaleToZeroOrIdle`: unless scale-in is paused, once the cooldown has elapsed set the target to idle/min
/// and record the deactivation event; otherwise `Active=False(ScalerCooldown)`.
fn scale_to_zero_or_idle(
    so: &ScaledObject,
    state: &KedaState,
    req: &ScaleRequest<'_>,
    result: &mut ScaleResult,
) {
    if so.need_to_pause_scale_in() {
        return;
    }
    if cooldown_elapsed(so, state, req.now) {
        let to = idle_or_minimum_replica_count(so);
        result.scale_to = Some(to);
        result.events.push(KedaEvent::normal(
            REASON_SCALE_TARGET_DEACTIVATED,
            format!(
                "Deactivated {} {}/{} from {} to {}",
                scale_target_kind(so),
                so.metadata.namespace_or_default(),
                so.spec.scale_target_ref.name,
                req.current_replicas,
                to
            ),
        ));
        result.conditions.set_active(
            ConditionStatus::False,
            REASON_SCALER_NOT_ACTIVE,
            MESSAGE_SCALER_NOT_ACTIVE,
        );
    } else {
        result.conditions.set_active(
            ConditionStatus::False,
            REASON_SCALER_COOLDOWN,
            MESSAGE_SCALER_COOLDOWN,
        );
    }
}

/// `handleResult`: merge the executor's conditions into the status, record `lastActiveTime`, and replace
/// `triggersActivity`.
pub fn handle_result(state: &mut KedaState, result: &ScaleResult) {
    state.conditions.merge_from(&result.conditions);
    if let Some(t) = result.last_active_time {
        state.last_active_time = Some(t);
    }
    state.triggers_activity = result.triggers_activity.clone();
}
