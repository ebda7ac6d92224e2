//! KEDA triggers ("scalers"). The Prometheus trigger comes first: its metadata and authentication exactly as
//! KEDA parses them, the query request KEDA sends, and the handling of the query API's answer. The parts here
//! are pure (no I/O); the HTTP client, SigV4 signing and the `Scaler` trait come with the next increment.
#![forbid(unsafe_code)]

pub mod error;
pub mod prometheus;

pub use error::{Error, Result};
