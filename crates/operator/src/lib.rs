//! `prescale operator`: the Kubernetes driver of the engine (issue #4).
//!
//! - [`reconciler`]: the ScaledObject controller (finalizer, label, scale target, the engine's reconcile,
//!   the HPA with KEDA's ownership rules, status, Events);
//! - [`scale_loop`]: one loop per ScaledObject driving the engine's poll, and the HPA's metric reads;
//! - [`auth`]: TriggerAuthentication resolution from the API server; [`target`]: scale targets through
//!   discovery and `/scale`; [`status`]: engine state ↔ `status`; [`events`]: Events;
//! - [`external_metrics`]: the `external.metrics.k8s.io/v1beta1` documents; [`lease`]: leader election
//!   decisions on a `coordination.k8s.io` Lease;
//! - [`clock`]: the operator's clock (wall clock, or a manual one for tests).
#![forbid(unsafe_code)]

pub mod auth;
pub mod clock;
pub mod context;
pub mod error;
pub mod events;
pub mod external_metrics;
pub mod leader;
pub mod lease;
pub mod reconciler;
pub mod run;
pub mod scale_loop;
pub mod status;
pub mod target;

pub use error::{Error, Result};
