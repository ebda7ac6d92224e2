//! The HPA's `status.conditions` (`AbleToScale`, `ScalingActive`, `ScalingLimited`) and upstream's
//! `setConditionInList`.

use std::fmt;

use crate::time::Timestamp;

/// `HorizontalPodAutoscalerConditionType` (the three the controller sets for External metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionType {
    AbleToScale,
    ScalingActive,
    ScalingLimited,
}

impl fmt::Display for ConditionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConditionType::AbleToScale => "AbleToScale",
            ConditionType::ScalingActive => "ScalingActive",
            ConditionType::ScalingLimited => "ScalingLimited",
        })
    }
}

/// `v1.ConditionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionStatus {
    True,
    False,
}

impl fmt::Display for ConditionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
        })
    }
}

/// `HorizontalPodAutoscalerCondition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaCondition {
    pub kind: ConditionType,
    pub status: ConditionStatus,
    /// E.g. `ScaleDownStabilized`.
    pub reason: String,
    /// E.g. `recent recommendations were higher than current one, applying the highest recent recommendation`.
    pub message: String,
    /// When `status` last changed (`lastTransitionTime`).
    pub last_transition: Timestamp,
}

/// Port of `setConditionInList`: update the condition of that type in place, or append it; the transition
/// time moves only when the status changes.
pub fn set_condition(
    list: &mut Vec<HpaCondition>,
    kind: ConditionType,
    status: ConditionStatus,
    reason: &str,
    message: String,
    now: Timestamp,
) {
    match list.iter_mut().find(|c| c.kind == kind) {
        Some(existing) => {
            if existing.status != status {
                existing.last_transition = now;
            }
            existing.status = status;
            existing.reason = reason.to_string();
            existing.message = message;
        }
        None => list.push(HpaCondition {
            kind,
            status,
            reason: reason.to_string(),
            message,
            last_transition: now,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_condition_updates_in_place_and_keeps_order() {
        let mut list = Vec::new();
        let t0 = Timestamp::from_secs(0);
        let t1 = Timestamp::from_secs(15);
        let t2 = Timestamp::from_secs(30);
        set_condition(
            &mut list,
            ConditionType::AbleToScale,
            ConditionStatus::True,
            "SucceededGetScale",
            "m".into(),
            t0,
        );
        set_condition(
            &mut list,
            ConditionType::ScalingActive,
            ConditionStatus::True,
            "ValidMetricFound",
            "m".into(),
            t0,
        );
        set_condition(
            &mut list,
            ConditionType::AbleToScale,
            ConditionStatus::True,
            "SucceededRescale",
            "m2".into(),
            t1,
        );
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].reason, "SucceededRescale");
        assert_eq!(
            list[0].last_transition, t0,
            "same status keeps the transition time"
        );
        set_condition(
            &mut list,
            ConditionType::ScalingActive,
            ConditionStatus::False,
            "FailedGetExternalMetric",
            "m3".into(),
            t2,
        );
        assert_eq!(list[1].last_transition, t2);
        assert_eq!(list[1].status, ConditionStatus::False);
    }
}
