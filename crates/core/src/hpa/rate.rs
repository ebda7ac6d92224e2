//! Rate limits: the legacy `convertDesiredReplicasWithRules` (`max(factor × current, 4)`), the behavior
//! policies (`convertDesiredReplicasWithBehaviorRate`, `calculateScaleUpLimitWithScalingRules`,
//! `calculateScaleDownLimitWithBehaviors`, `getReplicasChangePerPeriod`) and the scale-event history
//! (`storeScaleEvent`, `markScaleEventsOutdated`) — `horizontal.go`.

use super::api::{Behavior, PolicyType, ScalingRules, SelectPolicy};
use super::arith::{go_ceil_to_i32, go_f64_to_i32};
use super::stabilize::{NormalizationArg, Normalized};
use crate::time::Timestamp;

/// `timestampedScaleEvent`: a successful scale write. `replica_change` is the absolute change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    pub replica_change: i32,
    pub at: Timestamp,
    /// Older than the longest policy period when the last event was stored; the slot may be reused.
    pub outdated: bool,
}

/// Port of `getReplicasChangePerPeriod`: the sum of the changes strictly newer than `now − period`.
pub fn get_replicas_change_per_period(
    period_seconds: i32,
    events: &[ScaleEvent],
    now: Timestamp,
) -> i32 {
    let cutoff = now.minus_secs(i64::from(period_seconds));
    events
        .iter()
        .filter(|e| e.at.after(cutoff))
        .fold(0i32, |acc, e| acc.wrapping_add(e.replica_change))
}

/// Port of `calculateScaleUpLimit` (legacy): `int32(max(factor × current, minimum))`.
pub fn calculate_scale_up_limit(current_replicas: i32, factor: f64, minimum: f64) -> i32 {
    go_f64_to_i32((factor * f64::from(current_replicas)).max(minimum))
}

const DESIRED_WITHIN_RANGE: Normalized = Normalized {
    replicas: 0,
    reason: "DesiredWithinRange",
    message: "the desired count is within the acceptable range",
};
const SCALE_UP_LIMIT_MESSAGE: &str =
    "the desired replica count is increasing faster than the maximum scale rate";
const TOO_MANY_MESSAGE: &str = "the desired replica count is more than the maximum replica count";
const SCALE_DOWN_LIMIT_MESSAGE: &str =
    "the desired replica count is decreasing faster than the maximum scale rate";
const TOO_FEW_MESSAGE: &str = "the desired replica count is less than the minimum replica count";

fn within_range(replicas: i32) -> Normalized {
    Normalized {
        replicas,
        ..DESIRED_WITHIN_RANGE
    }
}

/// Port of `convertDesiredReplicasWithRules` (legacy path): clamp to `[min, min(max, scaleUpLimit)]`.
pub fn convert_desired_replicas_with_rules(
    current_replicas: i32,
    desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
    scale_up_limit_factor: f64,
    scale_up_limit_minimum: f64,
) -> Normalized {
    let scale_up_limit = calculate_scale_up_limit(
        current_replicas,
        scale_up_limit_factor,
        scale_up_limit_minimum,
    );
    let (maximum_allowed, reason, message) = if max_replicas > scale_up_limit {
        (scale_up_limit, "ScaleUpLimit", SCALE_UP_LIMIT_MESSAGE)
    } else {
        (max_replicas, "TooManyReplicas", TOO_MANY_MESSAGE)
    };
    if desired_replicas < min_replicas {
        Normalized {
            replicas: min_replicas,
            reason: "TooFewReplicas",
            message: TOO_FEW_MESSAGE,
        }
    } else if desired_replicas > maximum_allowed {
        Normalized {
            replicas: maximum_allowed,
            reason,
            message,
        }
    } else {
        within_range(desired_replicas)
    }
}

fn select_policy(rules: &ScalingRules) -> SelectPolicy {
    rules.select_policy.unwrap_or(SelectPolicy::Max)
}

fn policies(rules: &ScalingRules) -> &[super::api::ScalingPolicy] {
    rules.policies.as_deref().unwrap_or(&[])
}

/// Port of `calculateScaleUpLimitWithScalingRules`: for each policy, the replica count at the start of its
/// period (`current − added + deleted`) plus the policy's allowance (Pods: `+value`, Percent:
/// `ceil(start × (1 + value/100))`); `Max` picks the largest, `Min` the smallest, `Disabled` returns
/// `current`.
pub fn calculate_scale_up_limit_with_scaling_rules(
    current_replicas: i32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: Timestamp,
) -> i32 {
    let select = select_policy(rules);
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match select {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => (i32::MAX, i32::min),
        SelectPolicy::Max => (i32::MIN, i32::max),
    };
    for policy in policies(rules) {
        let added = get_replicas_change_per_period(policy.period_seconds, scale_up_events, now);
        let deleted = get_replicas_change_per_period(policy.period_seconds, scale_down_events, now);
        let period_start = current_replicas.wrapping_sub(added).wrapping_add(deleted);
        let proposed = match policy.kind {
            PolicyType::Pods => period_start.wrapping_add(policy.value),
            PolicyType::Percent => {
                go_ceil_to_i32(f64::from(period_start) * (1.0 + f64::from(policy.value) / 100.0))
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// Port of `calculateScaleDownLimitWithBehaviors`: for each policy, the period-start count minus the policy's
/// allowance (Pods: `−value`, Percent: `int32(start × (1 − value/100))`, truncated); `Max` ("most change")
/// picks the smallest floor, `Min` the largest, `Disabled` returns `current`.
pub fn calculate_scale_down_limit_with_behaviors(
    current_replicas: i32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: Timestamp,
) -> i32 {
    let select = select_policy(rules);
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match select {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => (i32::MIN, i32::max),
        SelectPolicy::Max => (i32::MAX, i32::min),
    };
    for policy in policies(rules) {
        let added = get_replicas_change_per_period(policy.period_seconds, scale_up_events, now);
        let deleted = get_replicas_change_per_period(policy.period_seconds, scale_down_events, now);
        let period_start = current_replicas.wrapping_sub(added).wrapping_add(deleted);
        let proposed = match policy.kind {
            PolicyType::Pods => period_start.wrapping_sub(policy.value),
            PolicyType::Percent => {
                go_f64_to_i32(f64::from(period_start) * (1.0 - f64::from(policy.value) / 100.0))
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// Port of `convertDesiredReplicasWithBehaviorRate`: apply the policy limits in the direction of the change,
/// never reversing it, and the `[min, max]` bounds.
pub fn convert_desired_replicas_with_behavior_rate(
    arg: &NormalizationArg<'_>,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    now: Timestamp,
) -> Normalized {
    let desired = arg.desired_replicas;
    let current = arg.current_replicas;
    if desired > current {
        let mut limit = calculate_scale_up_limit_with_scaling_rules(
            current,
            scale_up_events,
            scale_down_events,
            arg.scale_up,
            now,
        );
        if limit < current {
            // Don't scale up further until the scale-up events age out.
            limit = current;
        }
        let (maximum_allowed, reason, message) = if arg.max_replicas > limit {
            (limit, "ScaleUpLimit", SCALE_UP_LIMIT_MESSAGE)
        } else {
            (arg.max_replicas, "TooManyReplicas", TOO_MANY_MESSAGE)
        };
        if desired > maximum_allowed {
            return Normalized {
                replicas: maximum_allowed,
                reason,
                message,
            };
        }
    } else if desired < current {
        let mut limit = calculate_scale_down_limit_with_behaviors(
            current,
            scale_up_events,
            scale_down_events,
            arg.scale_down,
            now,
        );
        if limit > current {
            // Don't scale down further until the scale-down events age out.
            limit = current;
        }
        let (minimum_allowed, reason, message) = if arg.min_replicas < limit {
            (limit, "ScaleDownLimit", SCALE_DOWN_LIMIT_MESSAGE)
        } else {
            (arg.min_replicas, "TooFewReplicas", TOO_FEW_MESSAGE)
        };
        if desired < minimum_allowed {
            return Normalized {
                replicas: minimum_allowed,
                reason,
                message,
            };
        }
    }
    within_range(desired)
}

/// Port of `getLongestPolicyPeriod`.
pub fn longest_policy_period(rules: Option<&ScalingRules>) -> i32 {
    rules
        .map(policies)
        .unwrap_or(&[])
        .iter()
        .map(|p| p.period_seconds)
        .fold(0, i32::max)
}

/// Port of `markScaleEventsOutdated`: flag every event older than `now − longest period`.
pub fn mark_scale_events_outdated(
    events: &mut [ScaleEvent],
    longest_policy_period: i32,
    now: Timestamp,
) {
    let cutoff = now.minus_secs(i64::from(longest_policy_period));
    for e in events.iter_mut() {
        if e.at.before(cutoff) {
            e.outdated = true;
        }
    }
}

/// Port of `storeScaleEvent`, called after a successful scale write. Without a behavior nothing is stored.
/// Otherwise the change goes to the up or down list (`new > prev` is up, anything else down); the last
/// outdated slot is reused, else the event is appended. `behavior` must be the defaulted behavior.
pub fn store_scale_event(
    behavior: Option<&Behavior>,
    scale_up_events: &mut Vec<ScaleEvent>,
    scale_down_events: &mut Vec<ScaleEvent>,
    now: Timestamp,
    prev_replicas: i32,
    new_replicas: i32,
) {
    let Some(behavior) = behavior else {
        return;
    };
    let (events, rules, change) = if new_replicas > prev_replicas {
        (
            scale_up_events,
            behavior.scale_up.as_ref(),
            new_replicas.wrapping_sub(prev_replicas),
        )
    } else {
        (
            scale_down_events,
            behavior.scale_down.as_ref(),
            prev_replicas.wrapping_sub(new_replicas),
        )
    };
    mark_scale_events_outdated(events, longest_policy_period(rules), now);
    let new_event = ScaleEvent {
        replica_change: change,
        at: now,
        outdated: false,
    };
    match events.iter().rposition(|e| e.outdated) {
        Some(i) => events[i] = new_event,
        None => events.push(new_event),
    }
}
