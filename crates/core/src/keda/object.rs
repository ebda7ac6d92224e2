//! ScaledObject helpers KEDA keeps as small functions: `HasValidFallback` (`pkg/fallback/fallback.go`),
//! `ParseGVKR` / `GVKString` (`apis/keda/v1alpha1/gvkr.go`, `gvkr_types.go`). `IsUsingModifiers` and
//! `FallbackScalingModifiers` are methods of [`ScaledObject`].

use crate::spec::ScaledObject;
use crate::{Error, Result};

/// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits only.
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// `fallback != nil && HasValidFallback(so)`: `failureThreshold >= 0 && replicas >= 0`, and with
/// scalingModifiers in use, `scalingModifiers.target` must parse as an *integer* > 0.
pub fn has_valid_fallback(so: &ScaledObject) -> bool {
    let Some(fb) = so.spec.fallback.as_ref() else {
        return false;
    };
    let modifier_ok = match so.modifiers_in_use() {
        None => true,
        Some(m) => go_parse_int(m.target.as_deref().unwrap_or("")).is_some_and(|v| v > 0),
    };
    fb.failure_threshold >= 0 && fb.replicas >= 0 && modifier_ok
}

/// A resolved `scaleTargetRef` (`GroupVersionKindResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleTargetGvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl ScaleTargetGvk {
    /// `GroupVersion().String()`: `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    /// `GVKString()`: `group/version.Kind` (e.g. `apps/v1.Deployment`) — `status.scaleTargetKind`, and the
    /// kind KEDA names in its scaling events.
    pub fn gvk_string(&self) -> String {
        format!("{}/{}.{}", self.group, self.version, self.kind)
    }
}

/// `ParseGVKR` without the REST mapping: `apiVersion` defaults to `apps/v1`, `kind` to `Deployment`;
/// `apiVersion` is split like `schema.ParseGroupVersion`.
pub fn scale_target_gvk(so: &ScaledObject) -> Result<ScaleTargetGvk> {
    let r = &so.spec.scale_target_ref;
    let (group, version) = match r.api_version.as_deref().unwrap_or("") {
        "" => ("apps".to_string(), "v1".to_string()),
        "/" => (String::new(), String::new()),
        av => {
            let mut parts = av.split('/');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(v), None, _) => (String::new(), v.to_string()),
                (Some(g), Some(v), None) => (g.to_string(), v.to_string()),
                _ => {
                    return Err(Error::Invalid {
                        path: "spec.scaleTargetRef.apiVersion".to_string(),
                        message: format!("unexpected GroupVersion string: {av}"),
                    });
                }
            }
        }
    };
    let kind = match r.kind.as_deref().unwrap_or("") {
        "" => "Deployment".to_string(),
        k => k.to_string(),
    };
    Ok(ScaleTargetGvk {
        group,
        version,
        kind,
    })
}

/// `status.scaleTargetKind` as the reconciler records it (`GVKString`), or `""` when `apiVersion` is
/// malformed (the reconciler would have failed before the scale loop starts).
pub fn scale_target_kind(so: &ScaledObject) -> String {
    scale_target_gvk(so)
        .map(|g| g.gvk_string())
        .unwrap_or_default()
}
