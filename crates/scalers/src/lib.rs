//! KEDA triggers ("scalers"). The Prometheus trigger comes first: its metadata and authentication exactly as
//! KEDA parses them, the query request KEDA sends, the handling of the query API's answer (pure parts), and
//! [`PrometheusScaler`], which sends the request over HTTP(S). [`Scaler`] is the async abstraction over
//! triggers and [`ScalerContext`] the registry and owner of the shared HTTP clients ([`http`]). SigV4 signing
//! is not implemented yet.
#![forbid(unsafe_code)]

pub mod error;
pub mod http;
pub mod poll;
pub mod prometheus;
pub mod scaler;

pub use error::{Error, Result};
pub use poll::evaluate_all;
pub use prometheus::PrometheusScaler;
pub use scaler::{BoxFuture, Evaluation, SCALER_TYPES, Scaler, ScalerContext, TriggerAuth};
