//! prescale's pure engine.
//!
//! Everything here is deterministic and free of I/O: no clock, no network, no threads. Drivers (the simulator,
//! later the operator and `check`) feed it explicit inputs, including `now`, and carry out its decisions.
//!
//! - [`spec`]: KEDA `keda.sh/v1alpha1` objects (ScaledObject, ScaledJob, TriggerAuthentication,
//!   ClusterTriggerAuthentication), KEDA's defaults and validation.
//! - [`hpa`]: the Kubernetes HPA controller's decision for External metrics.
//! - [`keda`]: KEDA's scale-loop decisions (activation, cooldown, pause, fallback) and the HPA it derives.
//! - [`proactive`]: the proactive policy (`prescale.dev/` annotations, forecast vs current).
//! - [`quantity`]: Kubernetes quantities in milli-units.
//! - [`duration`]: durations as scenario files and annotations write them.
//! - [`time`]: the engine's notion of time.
#![forbid(unsafe_code)]

pub mod duration;
pub mod error;
pub mod hpa;
pub mod keda;
pub mod proactive;
pub mod quantity;
pub mod spec;
pub mod time;

pub use error::{Error, Result};
pub use time::Timestamp;
