//! `prescale operator`: the Kubernetes driver of the engine (issue #4).
//!
//! - [`reconciler`]: the ScaledObject controller (finalizer, label, scale target, the engine's reconcile,
//!   the HPA with KEDA's ownership rules, status, Events);
//! - [`scale_loop`]: one loop per ScaledObject driving the engine's poll, and the HPA's metric reads;
//! - [`auth`]: TriggerAuthentication resolution from the API server; [`target`]: scale targets through
//!   discovery and `/scale`; [`status`]: engine state ↔ `status`; [`events`]: Events;
//! - [`apiserver`]: the `external.metrics.k8s.io` aggregated API server (TLS, front-proxy authentication),
//!   built on the pure documents of [`external_metrics`];
//! - [`metrics_source`]: the values behind it (KEDA's `GetScaledObjectMetrics`), on every replica;
//! - [`proactive`]: the proactive policy (`prescale.dev/forecast`): forecasters next to the engine state,
//!   bootstrapped from the triggers' history, serving `max(current, forecast)` to the HPA;
//! - [`telemetry`]: `/metrics` with KEDA's metric names, `/healthz`, `/readyz`;
//! - [`leader`] and [`lease`]: leader election on a `coordination.k8s.io` Lease (the loop and the pure
//!   decisions); [`run`]: wiring it all;
//! - [`clock`]: the operator's clock (wall clock, or a manual one for tests).
#![forbid(unsafe_code)]

pub mod apiserver;
pub mod auth;
pub mod clock;
pub mod context;
pub mod error;
pub mod events;
pub mod external_metrics;
pub mod leader;
pub mod lease;
pub mod metrics_source;
pub mod proactive;
pub mod reconciler;
pub mod run;
pub mod scale_loop;
pub mod status;
pub mod target;
pub mod telemetry;

pub use error::{Error, Result};
