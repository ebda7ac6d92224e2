//! What the ScaledObject reconciler decides, as far as it shapes scaling: `Reconcile`,
//! `reconcileScaledObject`, `handlePause`, `scaleTargetToPausedCount`, `syncPausedReplicaCountStatus`
//! (`controllers/keda/scaledobject_controller.go`), with `CheckReplicaCountBoundsAreValid`
//! (`apis/keda/v1alpha1/scaledobject_types.go`) and `ValidateTriggers` (`scaletriggers_types.go`).
//!
//! It initialises the conditions, handles the pause annotations (Paused condition and events, stopping the
//! scale loop, deleting the HPA, scaling to `paused-replicas`), validates, derives the HPA, and sets Ready.
//! Not modelled: finalizers and `restoreToOriginalReplicaCount`, the `/scale` discovery, ownership checks and
//! the admission webhook.

use crate::Error;
use crate::spec::ScaledObject;
use crate::spec::validate::{self, check_replica_count_bounds_are_valid};

use super::conditions::{
    ConditionStatus, ConditionType, Conditions, MESSAGE_NO_FALLBACK_FOUND, MESSAGE_PAUSED,
    MESSAGE_READY, MESSAGE_UNKNOWN_STATE, MESSAGE_UNPAUSED, REASON_CHECK_FAILED,
    REASON_NO_FALLBACK_FOUND, REASON_PAUSED, REASON_READY, REASON_UNKNOWN_STATE, REASON_UNPAUSED,
};
use super::events::{
    KedaEvent, MESSAGE_SCALED_OBJECT_READY, REASON_SCALED_OBJECT_CHECK_FAILED,
    REASON_SCALED_OBJECT_PAUSED, REASON_SCALED_OBJECT_READY, REASON_SCALED_OBJECT_UNPAUSED,
};
use super::hpa_spec::{DerivedHpa, derive_hpa};
use super::object::has_valid_fallback;
use super::state::KedaState;

/// `message.ScaleTargetErrMsg`.
pub const MESSAGE_SCALE_TARGET_ERROR: &str =
    "ScaledObject doesn't have correct scaleTargetRef specification";

/// What happens to the HPA.
#[derive(Debug, Clone, PartialEq)]
pub enum HpaAction {
    /// Create or update it to this.
    Ensure(Box<DerivedHpa>),
    /// Delete it (paused).
    Delete,
    /// Leave it as it is (the reconcile failed before reaching it).
    Unchanged,
}

/// What happens to the scale loop (polls and HPA metric requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleLoopAction {
    /// Keep or start it; KEDA restarts it when the HPA is created or the generation changed.
    Run,
    /// Stop it (paused); the metric records are dropped.
    Stop,
    /// Leave it as it is.
    Unchanged,
}

/// The result of one reconcile.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconcileOutcome {
    /// A `/scale` write to `paused-replicas`.
    pub scale_to: Option<i32>,
    pub hpa: HpaAction,
    pub scale_loop: ScaleLoopAction,
    pub events: Vec<KedaEvent>,
    /// `"<msg>: <err>"` when the reconcile failed (then Ready is False `ScaledObjectCheckFailed`).
    pub error: Option<String>,
}

/// `CheckReplicaCountBoundsAreValid` ([`check_replica_count_bounds_are_valid`]) as the reconciler reports
/// it: KEDA's message, without a field path.
pub fn check_replica_count_bounds(so: &ScaledObject) -> Result<(), String> {
    check_replica_count_bounds_are_valid(so).map_err(Error::into_message)
}

/// `ValidateTriggers` ([`validate::validate_triggers`]) on the ScaledObject's triggers, as the reconciler
/// reports it: KEDA's message, without a field path.
pub fn validate_triggers(so: &ScaledObject) -> Result<(), String> {
    validate::validate_triggers(&so.spec.triggers).map_err(Error::into_message)
}

type Failure = (&'static str, String);

fn reconcile_scaled_object(
    so: &ScaledObject,
    state: &mut KedaState,
    conditions: &mut Conditions,
    current_replicas: i32,
    checks: &DriverChecks<'_>,
    out: &mut ReconcileOutcome,
) -> Result<&'static str, Failure> {
    let paused_in_status = conditions.is_true(ConditionType::Paused);
    if so.need_to_be_paused_by_annotation() {
        // handlePause
        if !paused_in_status {
            conditions.set_paused(ConditionStatus::True, REASON_PAUSED, MESSAGE_PAUSED);
            out.events.push(KedaEvent::normal(
                REASON_SCALED_OBJECT_PAUSED,
                MESSAGE_PAUSED,
            ));
        }
        out.scale_loop = ScaleLoopAction::Stop;
        state.on_scale_loop_stopped();
        out.hpa = HpaAction::Delete;
        let count = so.paused_replica_count().map_err(|e| {
            (
                "failed to scale target to paused replica count",
                format!("failed to parse paused replica count: {}", e.into_message()),
            )
        })?;
        if let Some(c) = count
            && c != current_replicas
        {
            out.scale_to = Some(c);
        }
        state.paused_replica_count = count;
        conditions.set_paused(ConditionStatus::True, REASON_PAUSED, MESSAGE_PAUSED);
        return Ok(MESSAGE_PAUSED);
    }
    if so.need_to_pause_scale_in() || so.need_to_pause_scale_out() {
        conditions.set_paused(ConditionStatus::True, REASON_PAUSED, MESSAGE_PAUSED);
        if !paused_in_status {
            out.events.push(KedaEvent::normal(
                REASON_SCALED_OBJECT_PAUSED,
                MESSAGE_PAUSED,
            ));
        }
    } else if paused_in_status {
        conditions.set_paused(ConditionStatus::False, REASON_UNPAUSED, MESSAGE_UNPAUSED);
        out.events.push(KedaEvent::normal(
            REASON_SCALED_OBJECT_UNPAUSED,
            MESSAGE_UNPAUSED,
        ));
        state.paused_replica_count = None;
    }

    if so.spec.scale_target_ref.name.is_empty() {
        return Err((
            MESSAGE_SCALE_TARGET_ERROR,
            "ScaledObject.spec.scaleTargetRef.name is missing".to_string(),
        ));
    }
    so.scale_target_gvk()
        .map_err(|e| (MESSAGE_SCALE_TARGET_ERROR, e.into_message()))?;
    // checkTargetResourceIsScalable: the driver resolved the target and read its /scale.
    if let Some(e) = checks.target {
        return Err((MESSAGE_SCALE_TARGET_ERROR, e.to_string()));
    }
    check_replica_count_bounds(so).map_err(|e| {
        (
            "ScaledObject doesn't have correct Idle/Min/Max Replica Counts specification",
            e,
        )
    })?;
    validate_triggers(so).map_err(|e| {
        (
            "ScaledObject doesn't have correct triggers specification",
            e,
        )
    })?;
    // KEDA's "ensure HPA" fails both when it cannot build the HPA and when the API server rejects it (e.g. a
    // threshold of 0 gives a target the API server refuses): either way the ScaledObject never scales.
    // `GetScalersCache` (KEDA builds the scalers to get the HPA's metric specs), and ownership conflicts.
    if let Some(e) = checks.hpa {
        return Err((MESSAGE_ENSURE_HPA_FAILED, e.to_string()));
    }
    let hpa = derive_hpa(so)
        .map_err(|e| e.into_message())
        .and_then(|hpa| crate::hpa::validate_spec(&hpa.name, &hpa.spec).map(|()| hpa))
        .map_err(|e| (MESSAGE_ENSURE_HPA_FAILED, e))?;
    state.prune_health(&hpa.external_metric_names);
    out.hpa = HpaAction::Ensure(Box::new(hpa));
    out.scale_loop = ScaleLoopAction::Run;
    Ok(MESSAGE_READY)
}

/// One reconcile of `so` whose target currently has `current_replicas`, updating the status in `state`.
pub fn reconcile(
    so: &ScaledObject,
    state: &mut KedaState,
    current_replicas: i32,
) -> ReconcileOutcome {
    reconcile_with_checks(so, state, current_replicas, &DriverChecks::default())
}

/// The steps of KEDA's reconcile that a driver performs against the cluster before calling
/// [`reconcile_with_checks`]; `Some(error)` when the step failed.
#[derive(Debug, Clone, Copy, Default)]
pub struct DriverChecks<'a> {
    /// `checkTargetResourceIsScalable`: the REST mapping of the target and a read of its `/scale`. Applied
    /// after the pause handling and the `scaleTargetRef` checks, before the replica bounds; fails the
    /// reconcile with `ScaledObject doesn't have correct scaleTargetRef specification: <error>`.
    pub target: Option<&'a str>,
    /// A failure the driver met on the way to the HPA: building the triggers' scalers (`GetScalersCache`,
    /// for the HPA's metric specs), or an HPA ownership conflict (KEDA's admission webhook rules, which a
    /// cluster without the webhook must enforce here). Applied at the "ensure HPA" step; fails it with
    /// `failed to ensure HPA is correctly created for ScaledObject: <error>`.
    pub hpa: Option<&'a str>,
}

/// `msg` of a failed "ensure HPA" step.
pub const MESSAGE_ENSURE_HPA_FAILED: &str =
    "failed to ensure HPA is correctly created for ScaledObject";

/// [`reconcile`] for a driver that performs the cluster-facing steps itself ([`DriverChecks`]), each applied
/// where KEDA applies it.
pub fn reconcile_with_checks(
    so: &ScaledObject,
    state: &mut KedaState,
    current_replicas: i32,
    checks: &DriverChecks<'_>,
) -> ReconcileOutcome {
    let mut out = ReconcileOutcome {
        scale_to: None,
        hpa: HpaAction::Unchanged,
        scale_loop: ScaleLoopAction::Unchanged,
        events: Vec::new(),
        error: None,
    };
    if !state.conditions.are_initialized() {
        state.conditions = Conditions::initialized();
    }
    let mut conditions = state.conditions.clone();
    match reconcile_scaled_object(
        so,
        state,
        &mut conditions,
        current_replicas,
        checks,
        &mut out,
    ) {
        Err((msg, err)) => {
            let full = format!("{msg}: {err}");
            conditions.set_ready(ConditionStatus::False, REASON_CHECK_FAILED, &full);
            conditions.set_active(
                ConditionStatus::Unknown,
                REASON_UNKNOWN_STATE,
                MESSAGE_UNKNOWN_STATE,
            );
            out.events.push(KedaEvent::warning(
                REASON_SCALED_OBJECT_CHECK_FAILED,
                full.clone(),
            ));
            out.error = Some(full);
        }
        Ok(msg) => {
            if conditions.status(ConditionType::Ready) != ConditionStatus::True {
                out.events.push(KedaEvent::normal(
                    REASON_SCALED_OBJECT_READY,
                    MESSAGE_SCALED_OBJECT_READY,
                ));
            }
            conditions.set_ready(ConditionStatus::True, REASON_READY, msg);
        }
    }
    if !has_valid_fallback(so) {
        conditions.set_fallback(
            ConditionStatus::False,
            REASON_NO_FALLBACK_FOUND,
            MESSAGE_NO_FALLBACK_FOUND,
        );
    }
    state.conditions = conditions;
    out
}

/// A step the driver performs after a successful [`reconcile`] failed (the API server refused the HPA write,
/// say): the reconcile's error branch, as KEDA takes it when `ensureHPAForScaledObjectExists` returns an
/// error — Ready False `ScaledObjectCheckFailed` with `"<msg>: <err>"`, Active Unknown, a Warning event
/// instead of the Ready event, and no scale loop (re)start.
pub fn reconcile_failed(state: &mut KedaState, out: &mut ReconcileOutcome, msg: &str, err: &str) {
    let full = format!("{msg}: {err}");
    out.events
        .retain(|e| e.reason != REASON_SCALED_OBJECT_READY);
    out.events.push(KedaEvent::warning(
        REASON_SCALED_OBJECT_CHECK_FAILED,
        full.clone(),
    ));
    state
        .conditions
        .set_ready(ConditionStatus::False, REASON_CHECK_FAILED, &full);
    state.conditions.set_active(
        ConditionStatus::Unknown,
        REASON_UNKNOWN_STATE,
        MESSAGE_UNKNOWN_STATE,
    );
    out.scale_loop = ScaleLoopAction::Unchanged;
    out.error = Some(full);
}
