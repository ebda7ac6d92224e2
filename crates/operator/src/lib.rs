//! The Kubernetes driver of the engine (issue #4), built in increments. So far its pure parts, with no
//! Kubernetes client yet:
//! - [`external_metrics`]: the `external.metrics.k8s.io/v1beta1` documents prescale serves to the HPA;
//! - [`lease`]: leader election decisions on a `coordination.k8s.io` Lease.
#![forbid(unsafe_code)]

pub mod apiserver;
pub mod external_metrics;
pub mod lease;
pub mod telemetry;
