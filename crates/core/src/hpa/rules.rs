//! API-server defaulting of `spec.behavior` (`pkg/apis/autoscaling/v2/defaults.go`) and the controller's
//! `maybeInitScaleDownStabilizationWindow`.
//!
//! Defaulting only happens when a `behavior` object exists: an HPA without one keeps `behavior == nil` and takes
//! the legacy path.

use super::ControllerConfig;
use super::api::{Behavior, PolicyType, ScalingPolicy, ScalingRules, SelectPolicy};

/// `defaultHPAScaleUpRules`: no stabilization, `Max` of +4 pods and +100% per 15 s.
pub fn default_scale_up_rules() -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: Some(0),
        select_policy: Some(SelectPolicy::Max),
        policies: Some(vec![
            ScalingPolicy {
                kind: PolicyType::Pods,
                value: 4,
                period_seconds: 15,
            },
            ScalingPolicy {
                kind: PolicyType::Percent,
                value: 100,
                period_seconds: 15,
            },
        ]),
        tolerance: None,
    }
}

/// `defaultHPAScaleDownRules`: `Max` of −100% per 15 s; the stabilization window stays unset (the controller
/// fills in `--horizontal-pod-autoscaler-downscale-stabilization`).
pub fn default_scale_down_rules() -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: None,
        select_policy: Some(SelectPolicy::Max),
        policies: Some(vec![ScalingPolicy {
            kind: PolicyType::Percent,
            value: 100,
            period_seconds: 15,
        }]),
        tolerance: None,
    }
}

/// Port of `copyHPAScalingRules`: every field set in `from` replaces the default (a set but empty policy list
/// replaces the default list too).
fn copy_scaling_rules(from: Option<&ScalingRules>, mut to: ScalingRules) -> ScalingRules {
    let Some(from) = from else {
        return to;
    };
    if from.select_policy.is_some() {
        to.select_policy = from.select_policy;
    }
    if from.stabilization_window_seconds.is_some() {
        to.stabilization_window_seconds = from.stabilization_window_seconds;
    }
    if from.policies.is_some() {
        to.policies.clone_from(&from.policies);
    }
    if from.tolerance.is_some() {
        to.tolerance.clone_from(&from.tolerance);
    }
    to
}

/// Port of `GenerateHPAScaleUpRules`.
pub fn generate_scale_up_rules(from: Option<&ScalingRules>) -> ScalingRules {
    copy_scaling_rules(from, default_scale_up_rules())
}

/// Port of `GenerateHPAScaleDownRules`.
pub fn generate_scale_down_rules(from: Option<&ScalingRules>) -> ScalingRules {
    copy_scaling_rules(from, default_scale_down_rules())
}

/// Port of `SetDefaults_HorizontalPodAutoscalerBehavior` for an HPA that has a `behavior`: both directions
/// become fully populated rule sets.
pub fn default_behavior(behavior: &Behavior) -> Behavior {
    Behavior {
        scale_up: Some(generate_scale_up_rules(behavior.scale_up.as_ref())),
        scale_down: Some(generate_scale_down_rules(behavior.scale_down.as_ref())),
    }
}

/// Port of `maybeInitScaleDownStabilizationWindow`: an unset scale-down window takes the controller flag
/// (`int32(downscaleStabilisationWindow.Seconds())`).
pub fn maybe_init_scale_down_stabilization_window(behavior: &mut Behavior, cfg: &ControllerConfig) {
    if let Some(down) = behavior.scale_down.as_mut()
        && down.stabilization_window_seconds.is_none()
    {
        // `time.Duration.Seconds()` is a float; `int32(...)` truncates it.
        let secs = super::arith::go_f64_to_i32(cfg.downscale_stabilization_ms as f64 / 1000.0);
        down.stabilization_window_seconds = Some(secs);
    }
}

/// The behavior the controller actually applies: defaulted, with the scale-down window filled in.
pub fn effective_behavior(behavior: &Behavior, cfg: &ControllerConfig) -> Behavior {
    let mut b = default_behavior(behavior);
    maybe_init_scale_down_stabilization_window(&mut b, cfg);
    b
}
