//! The Prometheus trigger (`pkg/scalers/prometheus_scaler.go` in KEDA).

pub mod metadata;
pub mod request;
pub mod response;
