//! Kubernetes events KEDA records from the scale loop, with KEDA's reasons (`pkg/eventreason`) and messages
//! (`pkg/common/message`, `pkg/scaling/executor`).

use serde::{Deserialize, Serialize};

/// `corev1.EventTypeNormal` / `EventTypeWarning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// One event on the ScaledObject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KedaEvent {
    #[serde(rename = "type")]
    pub type_: EventType,
    pub reason: String,
    pub message: String,
}

impl KedaEvent {
    pub fn normal(reason: &str, message: impl Into<String>) -> KedaEvent {
        KedaEvent {
            type_: EventType::Normal,
            reason: reason.to_string(),
            message: message.into(),
        }
    }
    pub fn warning(reason: &str, message: impl Into<String>) -> KedaEvent {
        KedaEvent {
            type_: EventType::Warning,
            reason: reason.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for KedaEvent {
    /// The `FakeRecorder` form upstream tests compare: `<type> <reason> <message>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.type_.as_str(),
            self.reason,
            self.message
        )
    }
}

pub const REASON_SCALE_TARGET_ACTIVATED: &str = "KEDAScaleTargetActivated";
pub const REASON_SCALE_TARGET_DEACTIVATED: &str = "KEDAScaleTargetDeactivated";
pub const REASON_SCALE_TARGET_ACTIVATION_FAILED: &str = "KEDAScaleTargetActivationFailed";
pub const REASON_SCALE_TARGET_DEACTIVATION_FAILED: &str = "KEDAScaleTargetDeactivationFailed";
pub const REASON_SCALER_FAILED: &str = "KEDAScalerFailed";
pub const REASON_FALLBACK_ACTIVATED: &str = "ScaledObjectFallbackActivated";
pub const REASON_FALLBACK_DEACTIVATED: &str = "ScaledObjectFallbackDeactivated";
pub const REASON_SCALED_OBJECT_READY: &str = "ScaledObjectReady";
pub const REASON_SCALED_OBJECT_CHECK_FAILED: &str = "ScaledObjectCheckFailed";
pub const REASON_SCALED_OBJECT_PAUSED: &str = "ScaledObjectPaused";
pub const REASON_SCALED_OBJECT_UNPAUSED: &str = "ScaledObjectUnpaused";

pub const MESSAGE_FALLBACK_ACTIVATED: &str = "ScaledObject fallback is active";
pub const MESSAGE_FALLBACK_DEACTIVATED: &str = "ScaledObject fallback is no longer active";
pub const MESSAGE_SCALED_OBJECT_READY: &str = "ScaledObject is ready for scaling";

/// `eventreason.KEDAScalersStarted`.
pub const REASON_SCALERS_STARTED: &str = "KEDAScalersStarted";
/// `message.ScalerStartMsg`.
pub const MESSAGE_SCALER_START: &str = "Started scalers watch";

/// The events of starting a ScaledObject's scale loop: `Scaler <type> is built` for each trigger as the scalers
/// cache is built (`message.ScalerIsBuiltMsg`), then `Started scalers watch` (`HandleScalableObject`), both
/// `KEDAScalersStarted`, in the order KEDA's e2e test `tests/internals/events` expects them.
pub fn scale_loop_started(so: &crate::spec::ScaledObject) -> Vec<KedaEvent> {
    let mut events: Vec<KedaEvent> = so
        .spec
        .triggers
        .iter()
        .map(|t| {
            KedaEvent::normal(
                REASON_SCALERS_STARTED,
                format!("Scaler {} is built", t.kind),
            )
        })
        .collect();
    events.push(KedaEvent::normal(
        REASON_SCALERS_STARTED,
        MESSAGE_SCALER_START,
    ));
    events
}
