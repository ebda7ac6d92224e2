//! The `external.metrics.k8s.io/v1beta1` API as the HPA and the aggregation layer use it, as pure functions: the
//! discovery documents, the request path and label selector, the `ExternalMetricValueList` answer and
//! Kubernetes `Status` errors. The server (TLS, front-proxy authentication) and the evaluation behind an answer
//! (KEDA's `GetScaledObjectMetrics`: cached records, fallback) are separate.
//!
//! The HPA asks `GET /apis/external.metrics.k8s.io/v1beta1/namespaces/<ns>/<metric>?labelSelector=
//! scaledobject.keda.sh%2Fname%3D<so>` on every sync; KEDA requires the `scaledobject.keda.sh/name` label in the
//! selector (`scaledObject name is not specified` otherwise) and answers one item whose value is the metric in
//! milli-units (`GenerateMetricInMili`).

use std::collections::BTreeMap;

use prescale_core::keda::metric::metric_in_milli;
use prescale_core::quantity::format_milli;
use serde::Serialize;
use serde_json::{Value, json};

/// The API group.
pub const GROUP: &str = "external.metrics.k8s.io";
/// The served version.
pub const VERSION: &str = "v1beta1";
/// `group/version`.
pub const GROUP_VERSION: &str = "external.metrics.k8s.io/v1beta1";
/// The label the HPA KEDA creates puts in its metric selector.
pub const SCALED_OBJECT_LABEL: &str = "scaledobject.keda.sh/name";

/// One External metric read: which ScaledObject's which metric, in which namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricRequest {
    pub namespace: String,
    pub metric: String,
    /// The `scaledobject.keda.sh/name` of the selector.
    pub scaled_object: String,
    /// The whole selector, as a map.
    pub selector: BTreeMap<String, String>,
}

/// Why a request cannot be answered; each maps to a Kubernetes `Status`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Not a path of this API.
    #[error("the server could not find the requested resource")]
    NotFound,
    /// The label selector is not a list of `key=value` pairs.
    #[error("invalid labelSelector {selector:?}: {reason}")]
    BadSelector { selector: String, reason: String },
    /// The selector names no ScaledObject (KEDA's message).
    #[error("scaledObject name is not specified")]
    NoScaledObject,
}

impl RequestError {
    /// The `Status` document for this error.
    pub fn status(&self) -> Value {
        match self {
            RequestError::NotFound => status(404, "NotFound", &self.to_string()),
            RequestError::BadSelector { .. } => status(400, "BadRequest", &self.to_string()),
            // KEDA's metrics server returns its provider error as an internal error.
            RequestError::NoScaledObject => status(500, "InternalError", &self.to_string()),
        }
    }
}

/// A Kubernetes `Status` failure document (`metav1.Status`).
pub fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}

/// Decodes the `%XX` escapes of a path segment (a `+` is a plus in a path). `None` for a malformed escape or a
/// result that is not UTF-8.
fn decode_path_segment(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Parses an equality-based label selector (`k=v`, `k==v`, comma-separated) into a map, as
/// `labels.ConvertSelectorToLabelsMap` does; set-based and inequality requirements are refused.
pub fn parse_selector(selector: &str) -> Result<BTreeMap<String, String>, RequestError> {
    let bad = |reason: &str| RequestError::BadSelector {
        selector: selector.to_string(),
        reason: reason.to_string(),
    };
    let mut out = BTreeMap::new();
    for part in selector.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.contains("!=") {
            return Err(bad("only key=value requirements are supported"));
        }
        let (k, v) = part
            .split_once("==")
            .or_else(|| part.split_once('='))
            .ok_or_else(|| bad("only key=value requirements are supported"))?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            return Err(bad("empty label key"));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// Parses `path` (without the query) and the raw query string of a metric read: [`RequestError::NotFound`] for
/// a path that is not `/apis/external.metrics.k8s.io/v1beta1/namespaces/<ns>/<metric>`, KEDA's error when the
/// selector names no ScaledObject.
pub fn parse_request(path: &str, query: Option<&str>) -> Result<MetricRequest, RequestError> {
    let rest = path
        .strip_prefix("/apis/external.metrics.k8s.io/v1beta1/namespaces/")
        .ok_or(RequestError::NotFound)?;
    let mut parts = rest.split('/');
    let (Some(ns), Some(metric), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(RequestError::NotFound);
    };
    let ns = decode_path_segment(ns).ok_or(RequestError::NotFound)?;
    let metric = decode_path_segment(metric).ok_or(RequestError::NotFound)?;
    if ns.is_empty() || metric.is_empty() {
        return Err(RequestError::NotFound);
    }
    // The query string is form-encoded (`+` is a space), as Go's url.ParseQuery reads it; the last
    // labelSelector wins.
    let raw_selector = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == "labelSelector")
        .map(|(_, v)| v.into_owned())
        .last()
        .unwrap_or_default();
    let selector = parse_selector(&raw_selector)?;
    let scaled_object = selector
        .get(SCALED_OBJECT_LABEL)
        .filter(|s| !s.is_empty())
        .cloned()
        .ok_or(RequestError::NoScaledObject)?;
    Ok(MetricRequest {
        namespace: ns,
        metric,
        scaled_object,
        selector,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Item<'a> {
    metric_name: &'a str,
    metric_labels: BTreeMap<String, String>,
    timestamp: &'a str,
    value: String,
}

/// The answer to a metric read: one item named `metric` whose value is `value` as KEDA reports it
/// (`GenerateMetricInMili`: three decimals, NaN/±Inf/negative as 0), at `timestamp` (RFC 3339).
pub fn value_list(metric: &str, value: f64, timestamp: &str) -> Value {
    let item = Item {
        metric_name: metric,
        metric_labels: BTreeMap::new(),
        timestamp,
        value: format_milli(metric_in_milli(value)),
    };
    json!({
        "kind": "ExternalMetricValueList",
        "apiVersion": GROUP_VERSION,
        "metadata": {},
        "items": [item],
    })
}

/// `GET /apis/external.metrics.k8s.io/v1beta1`: the resource list. Each metric name served is listed as a
/// namespaced resource of kind `ExternalMetricValueList` with verb `get` (an empty list is valid: the HPA does
/// not consult it).
pub fn resource_list(metric_names: &[String]) -> Value {
    let resources: Vec<Value> = metric_names
        .iter()
        .map(|m| {
            json!({
                "name": m,
                "singularName": "",
                "namespaced": true,
                "kind": "ExternalMetricValueList",
                "verbs": ["get"],
            })
        })
        .collect();
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": GROUP_VERSION,
        "resources": resources,
    })
}

/// `GET /apis/external.metrics.k8s.io`: the group document.
pub fn api_group() -> Value {
    let version = json!({"groupVersion": GROUP_VERSION, "version": VERSION});
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": GROUP,
        "versions": [version.clone()],
        "preferredVersion": version,
    })
}

/// `GET /apis`: the group list this server contributes.
pub fn api_group_list() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [api_group()],
    })
}
