//! The Prometheus trigger (`pkg/scalers/prometheus_scaler.go` in KEDA), as pure parts:
//! - [`metadata`]: trigger metadata and authentication parameters, parsed and checked as KEDA does;
//! - [`request`]: the instant query KEDA sends, encoded so SigV4 canonicalization leaves it unchanged;
//! - [`response`]: the query API's answer, including the cases KEDA gets wrong (scalar, matrix, error bodies);
//! - [`range`]: the trigger's query over a time range (`query_range`, for backtests), planned in chunks;
//! - [`PrometheusScaler`]: the three over HTTP (async `reqwest`, clients shared per TLS configuration), and
//!   [`PrometheusScaler::query_range`] for the trigger's history.

pub mod metadata;
pub mod range;
pub mod request;
pub mod response;
mod scaler;

pub use range::RangeSeries;
pub use scaler::PrometheusScaler;
