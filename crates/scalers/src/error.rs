//! The crate's one error type.

use std::fmt::Write as _;

use crate::prometheus::response::NullReason;

/// Errors of trigger configuration and evaluation. Each names the parameter, value or server answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Trigger metadata or authentication parameters KEDA would reject.
    #[error("{0}")]
    Config(String),
    /// The server answered, but not with a usable value.
    #[error("{0}")]
    Response(String),
    /// The query API reported a failure: a non-2xx HTTP status, or `"status":"error"` in a 2xx answer.
    /// Carries Prometheus' `errorType` / `error` when the body had them, otherwise an excerpt of the body.
    #[error("prometheus query api returned error. status: {status}{}", api_detail(.error_type, .message, .body_excerpt))]
    Api {
        /// The HTTP status code.
        status: u16,
        /// Prometheus' `errorType` (`bad_data`, `execution`, …; VictoriaMetrics puts a number here).
        error_type: Option<String>,
        /// Prometheus' `error` text.
        message: Option<String>,
        /// The start of a body that carried neither, for proxies' HTML or plain-text pages.
        body_excerpt: Option<String>,
    },
    /// The answer was empty, NaN or infinite and `ignoreNullValues` is off. KEDA's "null" cases; callers can
    /// match [`NullReason::is_empty_upstream`] to count empty upstream responses the way KEDA does.
    #[error("{0}")]
    Null(NullReason),
    /// AWS SigV4 was selected but no credentials could be obtained; nothing was sent.
    #[error("{0}")]
    Credentials(String),
    /// The request could not be sent or its answer not read (connection refused, timeout, …).
    #[error("{0}")]
    Transport(String),
    /// One request of a range query fetched in several (see
    /// [`PrometheusScaler::query_range`](crate::PrometheusScaler::query_range)) failed: which one, of how
    /// many, its window (RFC 3339 and unix seconds), and the request's own error.
    #[error("range chunk {index} of {count} ({window}): {source}")]
    RangeChunk {
        /// The chunk, counting from 1.
        index: u64,
        /// How many chunks the range has.
        count: u64,
        /// The chunk's first and last points, `start..end`.
        window: String,
        /// The request's error.
        source: Box<Error>,
    },
}

fn api_detail(
    error_type: &Option<String>,
    message: &Option<String>,
    body_excerpt: &Option<String>,
) -> String {
    let mut out = String::new();
    match (error_type.as_deref(), message.as_deref()) {
        (Some(t), Some(m)) => {
            let _ = write!(out, ": {t}: {m}");
        }
        (None, Some(m)) => {
            let _ = write!(out, ": {m}");
        }
        (Some(t), None) => {
            let _ = write!(out, ": {t}");
        }
        (None, None) => {}
    }
    if let Some(body) = body_excerpt {
        let _ = write!(out, " (body: {body:?})");
    }
    out
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) use prescale_aws::error_chain as chain;
