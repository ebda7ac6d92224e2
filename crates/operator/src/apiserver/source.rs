//! Where metric values come from: the [`MetricSource`] the scale loops implement, its values and errors.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use prescale_core::keda::metric::metric_in_milli;
use prescale_core::quantity::format_milli;
use prescale_core::time::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use crate::external_metrics::{GROUP_VERSION, MetricRequest, status};

/// One value of an `ExternalMetricValueList`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalMetricValue {
    /// The metric name (normally the requested one, e.g. `s0-prometheus`).
    pub metric_name: String,
    pub metric_labels: BTreeMap<String, String>,
    /// The value; served as a milli-Quantity as KEDA does (`GenerateMetricInMili`: three decimals, NaN, ±Inf
    /// and negative values as 0).
    pub value: f64,
    /// When the value was read, Unix epoch milliseconds; served as RFC 3339 (whole seconds).
    pub timestamp: Timestamp,
}

/// Why a metric cannot be read; each maps to a Kubernetes `Status` with its HTTP code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    /// 404 `NotFound`: no such ScaledObject, or it has no such metric.
    #[error("{0}")]
    NotFound(String),
    /// 400 `BadRequest`.
    #[error("{0}")]
    BadRequest(String),
    /// 503 `ServiceUnavailable`: not ready yet (caches not synced, no value read yet).
    #[error("{0}")]
    Unavailable(String),
    /// 500 `InternalError`: the scaler failed (with its error, as KEDA reports it).
    #[error("{0}")]
    Internal(String),
}

impl MetricError {
    /// Kubernetes' wording for a missing object: `scaledobjects.keda.sh "<name>" not found`.
    pub fn scaled_object_not_found(name: &str) -> MetricError {
        MetricError::NotFound(format!("scaledobjects.keda.sh {name:?} not found"))
    }

    /// KEDA's wording when no trigger of the ScaledObject produces the metric.
    pub fn no_matching_metric(metric: &str) -> MetricError {
        MetricError::NotFound(format!("no matching metrics found for {metric}"))
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            MetricError::NotFound(_) => 404,
            MetricError::BadRequest(_) => 400,
            MetricError::Unavailable(_) => 503,
            MetricError::Internal(_) => 500,
        }
    }

    /// The `Status` reason.
    pub fn reason(&self) -> &'static str {
        match self {
            MetricError::NotFound(_) => "NotFound",
            MetricError::BadRequest(_) => "BadRequest",
            MetricError::Unavailable(_) => "ServiceUnavailable",
            MetricError::Internal(_) => "InternalError",
        }
    }

    /// The `Status` document.
    pub fn status(&self) -> Value {
        status(self.code(), self.reason(), &self.to_string())
    }
}

/// The future of one metric read.
pub type MetricFuture =
    Pin<Box<dyn Future<Output = Result<Vec<ExternalMetricValue>, MetricError>> + Send + 'static>>;

/// The values behind the API, implemented by the operator's scale loops. `request.scaled_object` is the
/// selector's `scaledobject.keda.sh/name` (requests without it are answered before reaching the source, with
/// KEDA's `scaledObject name is not specified`).
pub trait MetricSource: Send + Sync + 'static {
    /// The current value(s) of `request.metric` of ScaledObject `request.namespace/request.scaled_object`.
    fn external_metric(&self, request: MetricRequest) -> MetricFuture;

    /// Metric names listed in the `APIResourceList` (the HPA does not read it; empty is valid).
    fn metric_names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A closure is a source (handy in tests and for small adapters).
impl<F> MetricSource for F
where
    F: Fn(MetricRequest) -> MetricFuture + Send + Sync + 'static,
{
    fn external_metric(&self, request: MetricRequest) -> MetricFuture {
        self(request)
    }
}

pub use crate::status::rfc3339;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Item<'a> {
    metric_name: &'a str,
    metric_labels: &'a BTreeMap<String, String>,
    timestamp: String,
    value: String,
}

/// The `ExternalMetricValueList` of `values` (the same document as
/// [`crate::external_metrics::value_list`] for one value).
pub fn value_list_document(values: &[ExternalMetricValue]) -> Value {
    let items: Vec<Item<'_>> = values
        .iter()
        .map(|v| Item {
            metric_name: &v.metric_name,
            metric_labels: &v.metric_labels,
            timestamp: rfc3339(v.timestamp),
            value: format_milli(metric_in_milli(v.value)),
        })
        .collect();
    json!({
        "kind": "ExternalMetricValueList",
        "apiVersion": GROUP_VERSION,
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::external_metrics::value_list;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(Timestamp::from_millis(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(Timestamp::from_millis(951_782_400_999)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(Timestamp::from_secs(1_767_225_599)),
            "2025-12-31T23:59:59Z"
        );
        assert_eq!(rfc3339(Timestamp::from_secs(-1)), "1969-12-31T23:59:59Z");
        assert_eq!(
            rfc3339(Timestamp::from_secs(4_107_542_400)),
            "2100-03-01T00:00:00Z"
        );
    }

    #[test]
    fn one_value_is_the_external_metrics_document() {
        let v = ExternalMetricValue {
            metric_name: "s0-prometheus".to_string(),
            metric_labels: BTreeMap::new(),
            value: 1.5,
            timestamp: Timestamp::from_secs(1_767_225_599),
        };
        assert_eq!(
            value_list_document(std::slice::from_ref(&v)),
            value_list("s0-prometheus", 1.5, "2025-12-31T23:59:59Z")
        );
    }

    #[test]
    fn errors_map_to_statuses() {
        let e = MetricError::scaled_object_not_found("so");
        assert_eq!(e.status()["code"], 404);
        assert_eq!(
            e.status()["message"],
            "scaledobjects.keda.sh \"so\" not found"
        );
        assert_eq!(
            MetricError::Internal("x".into()).status()["reason"],
            "InternalError"
        );
        assert_eq!(MetricError::Unavailable("x".into()).code(), 503);
    }
}
