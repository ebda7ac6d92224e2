//! ScaledObject helpers KEDA keeps as small functions: `HasValidFallback` (`pkg/fallback/fallback.go`) and
//! the `GVKString` the reconciler records. `IsUsingModifiers`, `FallbackScalingModifiers` and `ParseGVKR`
//! (without the REST mapping) are methods of [`ScaledObject`].

use crate::spec::{ScaledObject, go};

/// `fallback != nil && HasValidFallback(so)`: `failureThreshold >= 0 && replicas >= 0`, and with
/// scalingModifiers in use, `scalingModifiers.target` must parse as an *integer* > 0.
pub fn has_valid_fallback(so: &ScaledObject) -> bool {
    let Some(fb) = so.spec.fallback.as_ref() else {
        return false;
    };
    let modifier_ok = match so.modifiers_in_use() {
        None => true,
        Some(m) => go::parse_int64(m.target.as_deref().unwrap_or("")).is_ok_and(|v| v > 0),
    };
    fb.failure_threshold >= 0 && fb.replicas >= 0 && modifier_ok
}

/// `status.scaleTargetKind` as the reconciler records it (`GVKString`), or `""` when `apiVersion` is
/// malformed (the reconciler would have failed before the scale loop starts).
pub fn scale_target_kind(so: &ScaledObject) -> String {
    so.scale_target_gvk_string().unwrap_or_default()
}
