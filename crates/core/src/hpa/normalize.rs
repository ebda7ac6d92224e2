//! From the metrics' proposal to the replica count the HPA writes: `normalizeDesiredReplicas` (legacy path,
//! no `behavior`) and `normalizeDesiredReplicasWithBehaviors` (`horizontal.go`), including the `AbleToScale`
//! and `ScalingLimited` conditions they set.

use super::api::Behavior;
use super::conditions::{ConditionStatus, ConditionType, HpaCondition, set_condition};
use super::rate::{
    ScaleEvent, convert_desired_replicas_with_behavior_rate, convert_desired_replicas_with_rules,
};
use super::stabilize::{
    NormalizationArg, Recommendation, stabilize_recommendation,
    stabilize_recommendation_with_behaviors,
};
use super::{ControllerConfig, rules};
use crate::time::Timestamp;

fn set_stabilization_condition(
    conditions: &mut Vec<HpaCondition>,
    stabilized: i32,
    prenormalized: i32,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    if stabilized != prenormalized {
        set_condition(
            conditions,
            ConditionType::AbleToScale,
            ConditionStatus::True,
            reason,
            message.to_string(),
            now,
        );
    } else {
        set_condition(
            conditions,
            ConditionType::AbleToScale,
            ConditionStatus::True,
            "ReadyForNewScale",
            "recommended size matches current size".to_string(),
            now,
        );
    }
}

fn set_limited_condition(
    conditions: &mut Vec<HpaCondition>,
    desired: i32,
    stabilized: i32,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    let status = if desired == stabilized {
        ConditionStatus::False
    } else {
        ConditionStatus::True
    };
    set_condition(
        conditions,
        ConditionType::ScalingLimited,
        status,
        reason,
        message.to_string(),
        now,
    );
}

/// Port of `normalizeDesiredReplicas` (legacy path): max over the downscale-stabilization window, then the
/// `[min, min(max, max(factor × current, 4))]` clamp.
#[allow(clippy::too_many_arguments)]
pub fn normalize_desired_replicas(
    cfg: &ControllerConfig,
    recommendations: &mut Vec<Recommendation>,
    conditions: &mut Vec<HpaCondition>,
    now: Timestamp,
    current_replicas: i32,
    prenormalized: i32,
    min_replicas: i32,
    max_replicas: i32,
) -> i32 {
    let stabilized = stabilize_recommendation(
        recommendations,
        now,
        cfg.downscale_stabilization_ms,
        prenormalized,
    );
    set_stabilization_condition(
        conditions,
        stabilized,
        prenormalized,
        "ScaleDownStabilized",
        "recent recommendations were higher than current one, applying the highest recent recommendation",
        now,
    );
    let n = convert_desired_replicas_with_rules(
        current_replicas,
        stabilized,
        min_replicas,
        max_replicas,
        cfg.scale_up_limit_factor,
        cfg.scale_up_limit_minimum,
    );
    set_limited_condition(conditions, n.replicas, stabilized, n.reason, n.message, now);
    n.replicas
}

/// The controller state the behavior path reads and writes.
#[derive(Debug)]
pub struct BehaviorHistory<'a> {
    pub recommendations: &'a mut Vec<Recommendation>,
    pub scale_up_events: &'a [ScaleEvent],
    pub scale_down_events: &'a [ScaleEvent],
}

/// Port of `normalizeDesiredReplicasWithBehaviors`: default the behavior and fill in the scale-down window
/// (`maybeInitScaleDownStabilizationWindow`), stabilize, then apply the rate policies and bounds.
#[allow(clippy::too_many_arguments)]
pub fn normalize_desired_replicas_with_behaviors(
    cfg: &ControllerConfig,
    behavior: &Behavior,
    history: BehaviorHistory<'_>,
    conditions: &mut Vec<HpaCondition>,
    now: Timestamp,
    current_replicas: i32,
    prenormalized: i32,
    min_replicas: i32,
    max_replicas: i32,
) -> i32 {
    let effective = rules::effective_behavior(behavior, cfg);
    let scale_up = effective
        .scale_up
        .unwrap_or_else(rules::default_scale_up_rules);
    let scale_down = effective
        .scale_down
        .unwrap_or_else(rules::default_scale_down_rules);
    let mut arg = NormalizationArg {
        scale_up: &scale_up,
        scale_down: &scale_down,
        min_replicas,
        max_replicas,
        current_replicas,
        desired_replicas: prenormalized,
    };
    let s = stabilize_recommendation_with_behaviors(history.recommendations, now, &arg);
    arg.desired_replicas = s.replicas;
    set_stabilization_condition(
        conditions,
        s.replicas,
        prenormalized,
        s.reason,
        s.message,
        now,
    );
    let n = convert_desired_replicas_with_behavior_rate(
        &arg,
        history.scale_up_events,
        history.scale_down_events,
        now,
    );
    set_limited_condition(conditions, n.replicas, s.replicas, n.reason, n.message, now);
    n.replicas
}
