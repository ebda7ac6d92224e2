//! Pause and activation annotations: `HasPausedAnnotation`, `NeedToBePausedByAnnotation`,
//! `NeedToPauseScaleIn`, `NeedToPauseScaleOut`, `NeedToForceActivation`, `getBoolAnnotation` and
//! `GetPausedReplicaCount` (`apis/keda/v1alpha1/scaledobject_types.go`).

use crate::spec::{
    ANNOTATION_FORCE_ACTIVATION, ANNOTATION_PAUSED, ANNOTATION_PAUSED_REPLICAS,
    ANNOTATION_PAUSED_SCALE_IN, ANNOTATION_PAUSED_SCALE_OUT, ScaledObject,
};
use crate::{Error, Result};

/// How the `paused` / `paused-replicas` annotations pause a ScaledObject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseMode {
    /// Not paused.
    None,
    /// `autoscaling.keda.sh/paused` is true: frozen at the current replica count.
    Paused,
    /// `autoscaling.keda.sh/paused-replicas: N`: the target is set to N and frozen.
    PausedAtReplicas(i32),
}

/// Go's `strconv.ParseBool`.
pub fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `getBoolAnnotation`: absent is false; a value that is not a Go bool counts as true.
pub fn bool_annotation(so: &ScaledObject, key: &str) -> bool {
    match so.metadata.annotations.get(key) {
        None => false,
        Some(v) => go_parse_bool(v).unwrap_or(true),
    }
}

/// `HasPausedAnnotation`: either `paused` or `paused-replicas` is present, whatever its value.
pub fn has_paused_annotation(so: &ScaledObject) -> bool {
    so.metadata.annotations.contains_key(ANNOTATION_PAUSED)
        || so
            .metadata
            .annotations
            .contains_key(ANNOTATION_PAUSED_REPLICAS)
}

/// `NeedToBePausedByAnnotation`: `paused-replicas` present (any value), or `paused` true per
/// [`bool_annotation`].
pub fn need_to_be_paused(so: &ScaledObject) -> bool {
    so.metadata
        .annotations
        .contains_key(ANNOTATION_PAUSED_REPLICAS)
        || bool_annotation(so, ANNOTATION_PAUSED)
}

/// `NeedToPauseScaleIn`.
pub fn paused_scale_in(so: &ScaledObject) -> bool {
    bool_annotation(so, ANNOTATION_PAUSED_SCALE_IN)
}

/// `NeedToPauseScaleOut`.
pub fn paused_scale_out(so: &ScaledObject) -> bool {
    bool_annotation(so, ANNOTATION_PAUSED_SCALE_OUT)
}

/// `NeedToForceActivation`.
pub fn force_activation(so: &ScaledObject) -> bool {
    bool_annotation(so, ANNOTATION_FORCE_ACTIVATION)
}

/// `GetPausedReplicaCount`: `None` when the annotation is absent; its value parsed like
/// `strconv.ParseInt(v, 10, 32)` (optional sign, decimal digits, no spaces) otherwise.
pub fn paused_replica_count(so: &ScaledObject) -> Result<Option<i32>> {
    let Some(v) = so.metadata.annotations.get(ANNOTATION_PAUSED_REPLICAS) else {
        return Ok(None);
    };
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    let parsed = if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        v.parse::<i32>().ok()
    } else {
        None
    };
    parsed.map(Some).ok_or_else(|| Error::Invalid {
        path: format!("metadata.annotations[{ANNOTATION_PAUSED_REPLICAS}]"),
        message: format!("invalid paused replica count {v:?}: expected a 32-bit integer"),
    })
}

/// The [`PauseMode`] the annotations ask for. A `paused-replicas` value that is not an integer is an error
/// naming the value (the reconciler fails with it).
pub fn pause_mode(so: &ScaledObject) -> Result<PauseMode> {
    if let Some(n) = paused_replica_count(so)? {
        return Ok(PauseMode::PausedAtReplicas(n));
    }
    if bool_annotation(so, ANNOTATION_PAUSED) {
        return Ok(PauseMode::Paused);
    }
    Ok(PauseMode::None)
}

impl PauseMode {
    /// [`pause_mode`] as a constructor.
    pub fn from_scaled_object(so: &ScaledObject) -> Result<PauseMode> {
        pause_mode(so)
    }
    /// Whether the scale loop and the HPA are stopped.
    pub fn is_paused(self) -> bool {
        !matches!(self, PauseMode::None)
    }
}
