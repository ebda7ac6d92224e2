//! What KEDA remembers about one ScaledObject between polls: the status fields the scale loop reads and
//! writes (`lastActiveTime`, `health`, `conditions`, `triggersActivity`, `pausedReplicaCount`) and the
//! operator's in-memory metric records for `useCachedMetrics` (`pkg/scaling/cache/metricscache`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

use super::conditions::Conditions;

/// `HealthStatusType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HealthState {
    Happy,
    Failing,
}

/// `HealthStatus`: one entry of `status.health`, keyed by metric name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthStatus {
    pub number_of_failures: i32,
    pub status: HealthState,
}

impl HealthStatus {
    pub fn happy() -> HealthStatus {
        HealthStatus {
            number_of_failures: 0,
            status: HealthState::Happy,
        }
    }
}

/// `MetricsRecord`: what the last poll saw for a `useCachedMetrics` trigger — the metric after fallback
/// (milli-value) or the error, and the activity (fallback counts as active).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricRecord {
    pub is_active: bool,
    /// The metric value (`record.Metric`, milli; a trigger has one metric) or the scaler error
    /// (`record.ScalerError`).
    pub value: Result<i64, String>,
}

/// Per-ScaledObject memory of the scale loop.
#[derive(Debug, Clone, PartialEq)]
pub struct KedaState {
    /// `metadata.creationTimestamp` (whole seconds, as the API server stores it).
    pub created_at: Timestamp,
    /// `status.lastActiveTime`, truncated to whole seconds like a serialized `metav1.Time`.
    pub last_active_time: Option<Timestamp>,
    /// `status.health` by metric name.
    pub health: BTreeMap<String, HealthStatus>,
    /// `status.conditions`.
    pub conditions: Conditions,
    /// `status.triggersActivity`: metric name → isActive.
    pub triggers_activity: BTreeMap<String, bool>,
    /// `status.pausedReplicaCount`.
    pub paused_replica_count: Option<i32>,
    /// The operator's metric records for `useCachedMetrics` triggers, by metric name (replaced after each
    /// poll that produced any record; dropped when the scale loop stops).
    pub metric_records: BTreeMap<String, MetricRecord>,
}

impl KedaState {
    /// The state of a ScaledObject created at `created_at` (truncated to whole seconds), with the reconciler's
    /// initial conditions (`GetInitializedConditions`) and nothing else.
    pub fn new(created_at: Timestamp) -> Self {
        KedaState {
            created_at: created_at.truncate_to_secs(),
            last_active_time: None,
            health: BTreeMap::new(),
            conditions: Conditions::initialized(),
            triggers_activity: BTreeMap::new(),
            paused_replica_count: None,
            metric_records: BTreeMap::new(),
        }
    }

    /// Record `lastActiveTime = now` as the status round trip stores it (whole seconds).
    pub fn set_last_active_time(&mut self, now: Timestamp) {
        self.last_active_time = Some(now.truncate_to_secs());
    }

    /// `updateHealthStatus` (`controllers/keda/hpa.go`): when the HPA is (re)derived, keep only the health
    /// entries of the current external metric names.
    pub fn prune_health(&mut self, external_metric_names: &[String]) {
        self.health
            .retain(|name, _| external_metric_names.iter().any(|n| n == name));
    }

    /// The scale loop stopped (ScaledObject deleted, paused, or its loop restarted on a generation change):
    /// the operator drops the metric records.
    pub fn on_scale_loop_stopped(&mut self) {
        self.metric_records.clear();
    }
}
