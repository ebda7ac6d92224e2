//! KEDA triggers ("scalers"). The Prometheus trigger comes first: its metadata and authentication exactly as
//! KEDA parses them, the query request KEDA sends, the handling of the query API's answer (pure parts), and
//! [`PrometheusScaler`], which sends the request over HTTP(S), signed with AWS SigV4 for Amazon Managed
//! Service for Prometheus when the trigger asks for it. [`Scaler`] is the async abstraction over triggers and
//! [`ScalerContext`] the registry and owner of what scalers share: HTTP clients ([`http`]) and AWS credential
//! providers ([`aws`]).
#![forbid(unsafe_code)]

pub mod aws;
pub mod error;
pub mod http;
pub mod poll;
pub mod prometheus;
pub mod scaler;

pub use error::{Error, Result};
pub use poll::evaluate_all;
pub use prometheus::PrometheusScaler;
pub use scaler::{
    BoxFuture, Evaluation, HistoryFuture, SCALER_TYPES, Scaler, ScalerContext, TriggerAuth,
};
