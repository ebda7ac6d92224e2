//! KEDA triggers ("scalers"). The Prometheus trigger comes first: its metadata and authentication exactly as
//! KEDA parses them, the query request KEDA sends, the handling of the query API's answer (pure parts), and
//! [`PrometheusScaler`], which sends the request over HTTP. [`Scaler`] is the abstraction over triggers and
//! [`build_scaler`] the registry. SigV4 signing and client certificates (`tls` auth) are not implemented yet.
#![forbid(unsafe_code)]

pub mod error;
pub mod prometheus;
pub mod scaler;

pub use error::{Error, Result};
pub use prometheus::PrometheusScaler;
pub use scaler::{Evaluation, SCALER_TYPES, Scaler, build_scaler};
