//! ScaledObject status conditions (`apis/keda/v1alpha1/condition_types.go`): types, the initial set, and the
//! reasons and messages KEDA writes (executor, fallback, reconciler).
//!
//! KEDA's `Condition` has only `type`, `status`, `reason` and `message` (no `lastTransitionTime`), kept as an
//! ordered list; setting a condition updates it in place or appends it.

use serde::{Deserialize, Serialize};

/// `metav1.ConditionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// `ConditionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConditionType {
    Ready,
    Active,
    Fallback,
    Paused,
    /// Mirrors the HPA's `ScalingActive` (v2.20.2+); set lazily, not part of the initial set.
    #[serde(rename = "HPAActive")]
    HpaActive,
}

impl ConditionStatus {
    /// The Kubernetes spelling (`True`, `False`, `Unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

impl ConditionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionType::Ready => "Ready",
            ConditionType::Active => "Active",
            ConditionType::Fallback => "Fallback",
            ConditionType::Paused => "Paused",
            ConditionType::HpaActive => "HPAActive",
        }
    }
}

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: ConditionType,
    pub status: ConditionStatus,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

// Ready
pub const REASON_READY: &str = "ScaledObjectReady";
pub const MESSAGE_READY: &str = "ScaledObject is defined correctly and is ready for scaling";
pub const REASON_ERROR_GETTING_CURRENT_REPLICAS: &str = "ErrorGettingCurrentReplicas";
pub const REASON_PARTIAL_TRIGGER_ERROR: &str = "PartialTriggerError";
pub const MESSAGE_PARTIAL_TRIGGER_ERROR: &str =
    "Some triggers defined in ScaledObject are not working correctly";
pub const REASON_TRIGGER_ERROR: &str = "TriggerError";
pub const MESSAGE_TRIGGER_ERROR: &str =
    "Triggers defined in ScaledObject are not working correctly";
pub const REASON_CHECK_FAILED: &str = "ScaledObjectCheckFailed";
// Active
pub const REASON_SCALER_ACTIVE: &str = "ScalerActive";
pub const MESSAGE_SCALER_ACTIVE: &str = "Scaling is performed because triggers are active";
pub const MESSAGE_SCALER_ACTIVE_FORCED: &str =
    "Scaling is performed because activation is being forced by annotation";
pub const REASON_SCALER_NOT_ACTIVE: &str = "ScalerNotActive";
pub const MESSAGE_SCALER_NOT_ACTIVE: &str =
    "Scaling is not performed because triggers are not active";
pub const REASON_SCALER_COOLDOWN: &str = "ScalerCooldown";
pub const MESSAGE_SCALER_COOLDOWN: &str = "Scaler cooling down because triggers are not active";
pub const REASON_UNKNOWN_STATE: &str = "UnknownState";
pub const MESSAGE_UNKNOWN_STATE: &str = "ScaledObject check failed";
// Fallback
pub const REASON_FALLBACK_EXISTS: &str = "FallbackExists";
pub const MESSAGE_FALLBACK_EXISTS: &str =
    "At least one trigger is falling back on this scaled object";
pub const REASON_NO_FALLBACK_FOUND: &str = "NoFallbackFound";
pub const MESSAGE_NO_FALLBACK_FOUND: &str = "No fallbacks are active on this scaled object";
// Paused
pub const REASON_PAUSED: &str = "ScaledObjectPaused";
pub const MESSAGE_PAUSED: &str = "ScaledObject is paused";
pub const REASON_UNPAUSED: &str = "ScaledObjectUnpaused";
pub const MESSAGE_UNPAUSED: &str = "pause annotation removed for ScaledObject";
// HPAActive
pub const REASON_HPA_ACTIVE: &str = "HPAActive";
pub const MESSAGE_HPA_ACTIVE: &str = "HPA is actively scaling";
pub const REASON_HPA_SCALING_DISABLED: &str = "ScalingDisabled";
pub const REASON_HPA_METRICS_UNAVAILABLE: &str = "HPAMetricsUnavailable";

/// `Conditions`: an ordered list, at most one entry per type.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Conditions(pub Vec<Condition>);

impl Conditions {
    /// `GetInitializedConditions`: Ready, Active and Fallback `Unknown`, Paused `False`, without reasons.
    pub fn initialized() -> Conditions {
        let c = |type_, status| Condition {
            type_,
            status,
            reason: String::new(),
            message: String::new(),
        };
        Conditions(vec![
            c(ConditionType::Ready, ConditionStatus::Unknown),
            c(ConditionType::Active, ConditionStatus::Unknown),
            c(ConditionType::Fallback, ConditionStatus::Unknown),
            c(ConditionType::Paused, ConditionStatus::False),
        ])
    }

    /// `AreInitialized`: Ready, Active, Fallback and Paused are all present.
    pub fn are_initialized(&self) -> bool {
        [
            ConditionType::Ready,
            ConditionType::Active,
            ConditionType::Fallback,
            ConditionType::Paused,
        ]
        .iter()
        .all(|t| self.get(*t).is_some())
    }

    /// `SetCondition`: update in place, or append.
    pub fn set(
        &mut self,
        type_: ConditionType,
        status: ConditionStatus,
        reason: &str,
        message: &str,
    ) {
        if let Some(c) = self.0.iter_mut().find(|c| c.type_ == type_) {
            c.status = status;
            c.reason = reason.to_string();
            c.message = message.to_string();
        } else {
            self.0.push(Condition {
                type_,
                status,
                reason: reason.to_string(),
                message: message.to_string(),
            });
        }
    }

    /// Apply every condition of `other` with [`Conditions::set`] (how `handleResult` merges the executor's
    /// result into the status).
    pub fn merge_from(&mut self, other: &Conditions) {
        for c in &other.0 {
            self.set(c.type_, c.status, &c.reason, &c.message);
        }
    }

    pub fn get(&self, type_: ConditionType) -> Option<&Condition> {
        self.0.iter().find(|c| c.type_ == type_)
    }

    /// The status of `type_`; a missing condition reads as `Unknown` (`Condition.IsUnknown` of nil).
    pub fn status(&self, type_: ConditionType) -> ConditionStatus {
        self.get(type_)
            .map_or(ConditionStatus::Unknown, |c| c.status)
    }

    pub fn is_true(&self, type_: ConditionType) -> bool {
        self.status(type_) == ConditionStatus::True
    }

    pub fn set_ready(&mut self, status: ConditionStatus, reason: &str, message: &str) {
        self.set(ConditionType::Ready, status, reason, message);
    }
    pub fn set_active(&mut self, status: ConditionStatus, reason: &str, message: &str) {
        self.set(ConditionType::Active, status, reason, message);
    }
    pub fn set_fallback(&mut self, status: ConditionStatus, reason: &str, message: &str) {
        self.set(ConditionType::Fallback, status, reason, message);
    }
    pub fn set_paused(&mut self, status: ConditionStatus, reason: &str, message: &str) {
        self.set(ConditionType::Paused, status, reason, message);
    }
    pub fn set_hpa_active(&mut self, status: ConditionStatus, reason: &str, message: &str) {
        self.set(ConditionType::HpaActive, status, reason, message);
    }
}

/// The HPA's `ScalingActive` condition, as the executor reads it from the HPA status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaScalingActive {
    pub status: ConditionStatus,
    pub reason: String,
    pub message: String,
}

/// `getHPAHealth`: the `HPAActive` condition mirrored from the HPA's `ScalingActive` condition, or `None`
/// when the HPA cannot be observed (no HPA, or no `ScalingActive` condition yet) — then `HPAActive` is left
/// untouched.
pub fn hpa_health(scaling_active: Option<&HpaScalingActive>) -> Option<Condition> {
    let c = scaling_active?;
    let (status, reason, message) = if c.status == ConditionStatus::True {
        (
            ConditionStatus::True,
            REASON_HPA_ACTIVE.to_string(),
            MESSAGE_HPA_ACTIVE.to_string(),
        )
    } else if c.reason == "ScalingDisabled" {
        (
            ConditionStatus::True,
            REASON_HPA_SCALING_DISABLED.to_string(),
            c.message.clone(),
        )
    } else {
        let reason = if c.reason.is_empty() {
            REASON_HPA_METRICS_UNAVAILABLE.to_string()
        } else {
            c.reason.clone()
        };
        (
            ConditionStatus::False,
            reason,
            format!("HPA is not actively scaling: {}", c.message),
        )
    };
    Some(Condition {
        type_: ConditionType::HpaActive,
        status,
        reason,
        message,
    })
}
