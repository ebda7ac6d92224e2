//! The ScaledObject's status as the API server stores it ↔ the engine's [`KedaState`].
//!
//! The operator keeps one `KedaState` per ScaledObject in memory and writes the fields it owns back to
//! `status` after every reconcile and poll. After a restart or a change of leader the state is rebuilt from
//! `status` ([`restore_state`]), so cooldown (`lastActiveTime`), fallback counts (`health`) and conditions
//! carry over as they do in KEDA, whose scale loop keeps them only in the object's status.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff;
use prescale_core::keda::conditions::{Condition as CoreCondition, Conditions};
use prescale_core::keda::state::{HealthStatus as CoreHealth, KedaState};
use prescale_core::time::Timestamp;
use prescale_k8s::{Condition, HealthStatus, ScaledObject, ScaledObjectStatus, TriggerActivity};

/// `t` as a Kubernetes `metav1.Time` string: RFC 3339 in UTC, whole seconds.
pub fn rfc3339(t: Timestamp) -> String {
    let secs = t.millis().div_euclid(1000);
    match jiff::Timestamp::from_second(secs) {
        Ok(ts) => ts.to_string(),
        Err(_) => jiff::Timestamp::UNIX_EPOCH.to_string(),
    }
}

/// A `metav1.Time` string as an engine timestamp; `None` when it does not parse.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    s.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| Timestamp::from_millis(t.as_millisecond()))
}

/// `metadata.creationTimestamp` as an engine timestamp (the epoch when unset, as for an object not yet
/// stored).
pub fn created_at(meta: &ObjectMeta) -> Timestamp {
    meta.creation_timestamp
        .as_ref()
        .map(|t| Timestamp::from_millis(t.0.as_millisecond()))
        .unwrap_or_default()
}

/// Conditions as the status stores them.
pub fn conditions_to_status(conditions: &Conditions) -> Vec<Condition> {
    conditions
        .0
        .iter()
        .map(|c| Condition {
            type_: c.type_.as_str().to_string(),
            status: c.status.as_str().to_string(),
            reason: Some(c.reason.clone()).filter(|r| !r.is_empty()),
            message: Some(c.message.clone()).filter(|m| !m.is_empty()),
        })
        .collect()
}

/// The engine's conditions from the status; condition types the engine does not know are dropped.
pub fn conditions_from_status(conditions: &[Condition]) -> Conditions {
    let parsed = conditions
        .iter()
        .filter_map(|c| {
            let value = serde_json::json!({
                "type": c.type_,
                "status": c.status,
                "reason": c.reason.clone().unwrap_or_default(),
                "message": c.message.clone().unwrap_or_default(),
            });
            serde_json::from_value::<CoreCondition>(value).ok()
        })
        .collect();
    Conditions(parsed)
}

/// The engine state of `so`, rebuilt from its status.
pub fn restore_state(so: &ScaledObject) -> KedaState {
    let mut state = KedaState::new(created_at(&so.metadata));
    let Some(status) = &so.status else {
        return state;
    };
    if let Some(conditions) = &status.conditions {
        let restored = conditions_from_status(conditions);
        if restored.are_initialized() {
            state.conditions = restored;
        }
    }
    state.last_active_time = status.last_active_time.as_deref().and_then(parse_time);
    if let Some(health) = &status.health {
        for (metric, h) in health {
            let value = serde_json::json!({
                "numberOfFailures": h.number_of_failures.unwrap_or(0),
                "status": h.status.clone().unwrap_or_else(|| "Happy".to_string()),
            });
            if let Ok(core) = serde_json::from_value::<CoreHealth>(value) {
                state.health.insert(metric.clone(), core);
            }
        }
    }
    if let Some(activity) = &status.triggers_activity {
        state.triggers_activity = activity
            .iter()
            .map(|(k, v)| (k.clone(), v.is_active))
            .collect();
    }
    state.paused_replica_count = status.paused_replica_count;
    state
}

/// Writes the fields the engine state owns into `status`: conditions, health, lastActiveTime,
/// triggersActivity, pausedReplicaCount.
pub fn write_state(state: &KedaState, status: &mut ScaledObjectStatus) {
    status.conditions = Some(conditions_to_status(&state.conditions));
    status.health = if state.health.is_empty() {
        None
    } else {
        Some(
            state
                .health
                .iter()
                .map(|(k, h)| {
                    let json = serde_json::to_value(h).unwrap_or_default();
                    let status = json
                        .get("status")
                        .and_then(|s| s.as_str())
                        .map(str::to_string);
                    (
                        k.clone(),
                        HealthStatus {
                            number_of_failures: Some(h.number_of_failures),
                            status,
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        )
    };
    status.last_active_time = state.last_active_time.map(rfc3339);
    status.triggers_activity = if state.triggers_activity.is_empty() {
        None
    } else {
        Some(
            state
                .triggers_activity
                .iter()
                .map(|(k, v)| (k.clone(), TriggerActivity { is_active: *v }))
                .collect(),
        )
    };
    status.paused_replica_count = state.paused_replica_count;
}

#[cfg(test)]
mod tests {
    use super::*;
    use prescale_core::keda::conditions::{ConditionStatus, ConditionType};
    use prescale_core::keda::state::HealthState;

    #[test]
    fn times_round_trip_in_whole_seconds() {
        let t = Timestamp::from_millis(1_764_331_200_750);
        assert_eq!(rfc3339(t), "2025-11-28T12:00:00Z");
        assert_eq!(
            parse_time("2025-11-28T12:00:00Z"),
            Some(Timestamp::from_secs(1_764_331_200))
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn state_survives_a_status_round_trip() {
        let mut state = KedaState::new(Timestamp::from_secs(100));
        state
            .conditions
            .set_active(ConditionStatus::True, "ScalerActive", "m");
        state.set_last_active_time(Timestamp::from_millis(200_500));
        state.health.insert(
            "s0-prometheus".into(),
            CoreHealth {
                number_of_failures: 3,
                status: HealthState::Failing,
            },
        );
        state.triggers_activity.insert("s0-prometheus".into(), true);
        state.paused_replica_count = Some(2);
        let mut status = ScaledObjectStatus::default();
        write_state(&state, &mut status);
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["health"]["s0-prometheus"]["status"], "Failing");
        assert_eq!(json["lastActiveTime"], "1970-01-01T00:03:20Z");
        let so = ScaledObject {
            metadata: ObjectMeta {
                creation_timestamp: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    jiff::Timestamp::from_second(100).unwrap(),
                )),
                ..Default::default()
            },
            spec: serde_json::from_value(serde_json::json!({
                "scaleTargetRef": {"name": "x"}, "triggers": []
            }))
            .unwrap(),
            status: Some(status),
        };
        let restored = restore_state(&so);
        assert_eq!(restored.created_at, Timestamp::from_secs(100));
        assert_eq!(restored.last_active_time, Some(Timestamp::from_secs(200)));
        assert_eq!(restored.health, state.health);
        assert_eq!(restored.triggers_activity, state.triggers_activity);
        assert_eq!(restored.paused_replica_count, Some(2));
        assert_eq!(
            restored.conditions.status(ConditionType::Active),
            ConditionStatus::True
        );
    }
}
