//! Pause and activation annotations: `HasPausedAnnotation`, `NeedToBePausedByAnnotation`,
//! `NeedToPauseScaleIn`, `NeedToPauseScaleOut`, `NeedToForceActivation`, `getBoolAnnotation` and
//! `GetPausedReplicaCount` (`apis/keda/v1alpha1/scaledobject_types.go`), under the names the scale loop
//! uses. They are methods of [`ScaledObject`] (`crate::spec`); these functions only forward to them.

use crate::Result;
use crate::spec::ScaledObject;

/// `getBoolAnnotation` ([`ScaledObject::bool_annotation`]): absent is false; a value that is not a Go
/// bool counts as true.
pub fn bool_annotation(so: &ScaledObject, key: &str) -> bool {
    so.bool_annotation(key)
}

/// `HasPausedAnnotation`: either `paused` or `paused-replicas` is present, whatever its value.
pub fn has_paused_annotation(so: &ScaledObject) -> bool {
    so.has_paused_annotation()
}

/// `NeedToBePausedByAnnotation`: `paused-replicas` present (any value), or `paused` true per
/// [`bool_annotation`].
pub fn need_to_be_paused(so: &ScaledObject) -> bool {
    so.need_to_be_paused_by_annotation()
}

/// `NeedToPauseScaleIn`.
pub fn paused_scale_in(so: &ScaledObject) -> bool {
    so.need_to_pause_scale_in()
}

/// `NeedToPauseScaleOut`.
pub fn paused_scale_out(so: &ScaledObject) -> bool {
    so.need_to_pause_scale_out()
}

/// `NeedToForceActivation`.
pub fn force_activation(so: &ScaledObject) -> bool {
    so.need_to_force_activation()
}

/// `GetPausedReplicaCount` ([`ScaledObject::paused_replica_count`]): `None` when the annotation is
/// absent; otherwise its value parsed like `strconv.ParseInt(v, 10, 32)`, an error with Go's text when
/// it is not an int32.
pub fn paused_replica_count(so: &ScaledObject) -> Result<Option<i32>> {
    so.paused_replica_count()
}
