//! KEDA's scale-loop decisions (`pkg/scaling`, `pkg/fallback`, `controllers/keda/hpa.go`): activation,
//! cooldown, idle/min replicas, pause annotations, fallback, metric naming, and the HPA KEDA derives from a
//! ScaledObject. See `../shared/reference/keda.md` §2.
//!
//! Everything is a pure function of its inputs: `now` is a parameter, query results are supplied by the
//! driver, and what KEDA keeps between polls lives in [`state::KedaState`].
//!
//! - [`auth`] — resolving a trigger's `authenticationRef` (TriggerAuthentication, Secrets, ConfigMaps, env).
//! - [`naming`], [`metric`] — metric names and milli-quantities.
//! - [`trigger`] — what the engine reads from each trigger (`prometheus` only, for now).
//! - [`hpa_spec`] — the HPA KEDA creates.
//! - [`conditions`], [`events`], [`state`] — status conditions, events, memory (the pause annotations are
//!   methods of `spec::ScaledObject`).
//! - [`fallback`] — `GetMetricsWithFallback`.
//! - [`executor`] — `RequestScale`.
//! - [`scale_loop`] — one poll, and one HPA metrics request.
//! - [`reconcile`](mod@reconcile) — the reconciler: pause handling, validation, the HPA, Ready.

pub mod auth;
pub mod conditions;
pub mod events;
pub mod executor;
pub mod fallback;
pub mod hpa_spec;
pub mod metric;
pub mod naming;
pub mod object;
pub mod reconcile;
pub mod scale_loop;
pub mod state;
pub mod trigger;

pub use conditions::{Condition, ConditionStatus, ConditionType, Conditions};
pub use events::{EventType, KedaEvent};
pub use fallback::{FallbackOutcome, metric_with_fallback};
pub use hpa_spec::{DerivedHpa, derive_hpa};
pub use reconcile::{HpaAction, ReconcileOutcome, ScaleLoopAction, reconcile};
pub use scale_loop::{PollInput, PollOutcome, hpa_metric, poll};
pub use state::{HealthState, HealthStatus, KedaState, MetricRecord};
pub use trigger::{TargetType, TriggerTarget, trigger_targets};
