//! Reading the answer of `GET /api/v1/query` into the trigger's one number (`ExecutePromQuery` in KEDA's
//! `pkg/scalers/prometheus_scaler.go`), as a pure function of the HTTP status and body.
//!
//! KEDA's contract is kept where it is sound: one sample's value; an empty result, an empty value list,
//! NaN and ±Inf are "null" (0 with `ignoreNullValues`, which defaults to true, otherwise an error with
//! KEDA's message); more than one series is an error. Where KEDA silently reads a wrong number, panics or
//! rejects a valid answer, this module differs on purpose:
//!
//! | answer | KEDA | here |
//! |---|---|---|
//! | non-2xx | error with the status only, body discarded | error with the status and Prometheus' `errorType`/`error`, or an excerpt of a non-Prometheus body |
//! | 2xx with `"status":"error"` | no data, so empty, so 0 | error with the server's text |
//! | 2xx without `data` (e.g. `{}`) | empty, so 0 | error: not a query API answer (see below) |
//! | `resultType: scalar` | JSON decoding error | its value |
//! | `resultType: matrix` | `value` missing, so 0 | error: a range vector came back, use an instant query |
//! | `resultType: string` | JSON decoding error | error naming the string |
//! | value `null` | −1, no error | error |
//! | value not a string | panic | error |
//! | more than one series | error naming the query | error naming how many series and the first label sets |
//!
//! `{}` with HTTP 200 is the one row of KEDA's `testPromQueryResult` whose outcome changes. Prometheus and
//! VictoriaMetrics always send `data` on success, so a 2xx object with neither `data` nor `"status":"error"`
//! comes from something else answering at that URL (a wrong `serverAddress` path, a proxy or gateway page);
//! reading it as 0 would hide that misconfiguration behind a plausible metric, the same failure mode as
//! KEDA's `status:error` bug. Missing `status` and missing `resultType` are still accepted (as success and
//! as `vector`), because KEDA's table bodies such as `{"data":{"result":[]}}` omit them and no server is
//! known to send a different shape without them.

use std::fmt;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// What the query API answered, before `ignoreNullValues` is applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer {
    /// A finite value.
    Value(f64),
    /// One of KEDA's "null" cases.
    Null(NullReason),
}

/// Why an answer has no usable value. `Display` gives KEDA's error text for the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullReason {
    /// `result` was an empty vector.
    EmptyResult,
    /// The single sample's `value` was missing or `[]`.
    EmptyValue,
    /// The value was `"NaN"`.
    NaN,
    /// The value was `"+Inf"`.
    PosInf,
    /// The value was `"-Inf"`.
    NegInf,
}

impl NullReason {
    /// Whether KEDA counts this as an empty upstream response (`keda_scaler_empty_upstream_responses_total`):
    /// an empty result or value list, not NaN or ±Inf.
    pub fn is_empty_upstream(self) -> bool {
        matches!(self, Self::EmptyResult | Self::EmptyValue)
    }
}

impl fmt::Display for NullReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EmptyResult => {
                "prometheus metrics 'prometheus' target may be lost, the result is empty"
            }
            Self::EmptyValue => {
                "prometheus metrics 'prometheus' target may be lost, the value list is empty"
            }
            Self::NaN => "prometheus query returns NaN",
            Self::PosInf => "prometheus query returns +Inf",
            Self::NegInf => "prometheus query returns -Inf",
        })
    }
}

impl Answer {
    /// Applies `ignoreNullValues`: a null answer is 0 when ignored, otherwise [`Error::Null`].
    pub fn resolve(self, ignore_null_values: bool) -> Result<f64> {
        match self {
            Self::Value(v) => Ok(v),
            Self::Null(_) if ignore_null_values => Ok(0.0),
            Self::Null(reason) => Err(Error::Null(reason)),
        }
    }
}

/// Interprets an HTTP status and body of `/api/v1/query` with `ignoreNullValues` (KEDA's default is true).
pub fn interpret(status: u16, body: &[u8], ignore_null_values: bool) -> Result<f64> {
    answer(status, body)?.resolve(ignore_null_values)
}

/// How many series a multi-series error lists by their labels.
pub(crate) const LISTED_SERIES: usize = 3;
/// How many characters of a non-Prometheus body an error quotes.
const BODY_EXCERPT_CHARS: usize = 200;

/// Interprets an HTTP status and body of `/api/v1/query`, leaving the null cases to the caller.
pub fn answer(status: u16, body: &[u8]) -> Result<Answer> {
    let data = success_data(status, body)?;
    let result = data.get("result").ok_or_else(|| {
        Error::Response(format!(
            "prometheus query api returned data without \"result\" (keys: {})",
            keys(&data)
        ))
    })?;
    match data.get("resultType") {
        // KEDA decodes `result` as a vector without looking at resultType; its test bodies omit it.
        None => vector(result),
        Some(Value::String(t)) => match t.as_str() {
            "vector" => vector(result),
            "scalar" => sample_pair(result, "scalar result"),
            "matrix" => Err(Error::Response(format!(
                "prometheus query returned a range vector (resultType matrix, {}); the trigger needs an \
                 instant vector or a scalar: apply a function such as rate(...) or sum_over_time(...) to \
                 the range selector",
                series_count(result)
            ))),
            "string" => Err(Error::Response(format!(
                "prometheus query returned a string ({}), not a number",
                match result {
                    Value::Array(pair) => pair.get(1).map_or_else(|| describe(result), describe),
                    _ => describe(result),
                }
            ))),
            other => Err(Error::Response(format!(
                "prometheus query returned an unknown resultType {other:?}; expected vector or scalar"
            ))),
        },
        Some(other) => Err(Error::Response(format!(
            "prometheus query api returned resultType {}, not a string",
            describe(other)
        ))),
    }
}

/// The `data` object of a successful query API answer (instant or range): the HTTP status and the
/// envelope's `status` are checked, and failures become [`Error::Api`] with Prometheus' own text.
pub(crate) fn success_data(status: u16, body: &[u8]) -> Result<Map<String, Value>> {
    if !(200..=299).contains(&status) {
        return Err(api_error(status, body));
    }
    let envelope: Value = serde_json::from_slice(body).map_err(|e| {
        Error::Response(format!(
            "prometheus query api returned a body that is not JSON ({e}): {:?}",
            excerpt(body)
        ))
    })?;
    let Value::Object(mut envelope) = envelope else {
        return Err(Error::Response(format!(
            "prometheus query api returned {}, not a JSON object",
            describe(&envelope)
        )));
    };
    match envelope.get("status") {
        None => {}
        Some(Value::String(s)) if s == "success" => {}
        Some(Value::String(s)) if s == "error" => {
            return Err(Error::Api {
                status,
                error_type: string_field(&envelope, "errorType"),
                message: string_field(&envelope, "error")
                    .or_else(|| Some("\"status\":\"error\" with no error text".to_owned())),
                body_excerpt: None,
            });
        }
        Some(other) => {
            return Err(Error::Response(format!(
                "prometheus query api returned an unknown status {}; expected \"success\" or \"error\"",
                describe(other)
            )));
        }
    }
    match envelope.remove("data") {
        Some(Value::Object(data)) => Ok(data),
        Some(other) => Err(Error::Response(format!(
            "prometheus query api returned data {}, not an object with resultType and result",
            describe(&other)
        ))),
        None => Err(Error::Response(format!(
            "prometheus query api returned a JSON object without \"data\" (keys: {}); is serverAddress the \
             Prometheus API root?",
            keys(&envelope)
        ))),
    }
}

/// The error for a non-2xx status: Prometheus' `errorType`/`error` when the body is its JSON error
/// envelope, otherwise the start of the body.
fn api_error(status: u16, body: &[u8]) -> Error {
    if let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(body) {
        let error_type = string_field(&envelope, "errorType");
        let message = string_field(&envelope, "error");
        if error_type.is_some() || message.is_some() {
            return Error::Api {
                status,
                error_type,
                message,
                body_excerpt: None,
            };
        }
    }
    let body_excerpt = excerpt(body);
    Error::Api {
        status,
        error_type: None,
        message: None,
        body_excerpt: (!body_excerpt.is_empty()).then_some(body_excerpt),
    }
}

/// An instant vector: exactly one sample, or empty.
fn vector(result: &Value) -> Result<Answer> {
    let Value::Array(samples) = result else {
        return Err(Error::Response(format!(
            "prometheus query returned a vector whose result is {}, not a list of samples",
            describe(result)
        )));
    };
    match samples.as_slice() {
        [] => Ok(Answer::Null(NullReason::EmptyResult)),
        [sample] => vector_sample(sample),
        many => {
            let mut listed: Vec<String> = many.iter().take(LISTED_SERIES).map(label_set).collect();
            if many.len() > LISTED_SERIES {
                listed.push(format!("and {} more", many.len() - LISTED_SERIES));
            }
            Err(Error::Response(format!(
                "prometheus query returned {} series, but the trigger needs exactly one (aggregate the \
                 query, e.g. with sum(...)): {}",
                many.len(),
                listed.join(", ")
            )))
        }
    }
}

fn vector_sample(sample: &Value) -> Result<Answer> {
    let Value::Object(sample) = sample else {
        return Err(Error::Response(format!(
            "prometheus query returned a vector sample {}, not an object with metric and value",
            describe(sample)
        )));
    };
    match sample.get("value") {
        // KEDA: a missing or empty value list is null.
        None | Some(Value::Null) if sample.contains_key("histogram") => {
            Err(Error::Response(format!(
                "prometheus query returned a native histogram sample for {}, not a float; use a function \
             such as histogram_quantile(...) or histogram_count(...)",
                label_set_of(sample)
            )))
        }
        None => Ok(Answer::Null(NullReason::EmptyValue)),
        Some(Value::Array(pair)) if pair.is_empty() => Ok(Answer::Null(NullReason::EmptyValue)),
        Some(pair) => sample_pair(pair, "vector sample value"),
    }
}

/// A `[timestamp, "value"]` pair. The timestamp is not checked (KEDA ignores it; its tests send `"1"`).
fn sample_pair(pair: &Value, what: &str) -> Result<Answer> {
    let Value::Array(items) = pair else {
        return Err(Error::Response(format!(
            "prometheus query returned a {what} {}, not a [timestamp, \"value\"] pair",
            describe(pair)
        )));
    };
    match items.as_slice() {
        [] => Ok(Answer::Null(NullReason::EmptyValue)),
        [_] => Err(Error::Response(format!(
            "prometheus query didn't return enough values: the {what} {} has no value after the timestamp",
            describe(pair)
        ))),
        [_, value] => parse_value(value),
        _ => Err(Error::Response(format!(
            "prometheus query returned a {what} with {} elements, not a [timestamp, \"value\"] pair: {}",
            items.len(),
            describe(pair)
        ))),
    }
}

/// A sample value: Prometheus encodes it as a string (`"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`).
pub(crate) fn parse_value(value: &Value) -> Result<Answer> {
    let Value::String(text) = value else {
        return Err(Error::Response(format!(
            "prometheus query returned the value {}, but values are strings such as \"1.5\"",
            describe(value)
        )));
    };
    let v: f64 = text.parse().map_err(|_| {
        Error::Response(format!(
            "prometheus query returned the value {text:?}, which is not a number"
        ))
    })?;
    if v.is_infinite() {
        let spelled = text.trim_start_matches(['+', '-']).to_ascii_lowercase();
        if spelled != "inf" && spelled != "infinity" {
            // Like Go's ParseFloat (a range error in KEDA): "1e400" is not Prometheus' "+Inf".
            return Err(Error::Response(format!(
                "prometheus query returned the value {text:?}, which is out of range for a float"
            )));
        }
    }
    Ok(if v.is_nan() {
        Answer::Null(NullReason::NaN)
    } else if v == f64::INFINITY {
        Answer::Null(NullReason::PosInf)
    } else if v == f64::NEG_INFINITY {
        Answer::Null(NullReason::NegInf)
    } else {
        Answer::Value(v)
    })
}

fn series_count(result: &Value) -> String {
    match result {
        Value::Array(series) if series.len() == 1 => "1 series".to_owned(),
        Value::Array(series) => format!("{} series", series.len()),
        other => describe(other),
    }
}

/// A series' labels in PromQL selector form, e.g. `{job="ho11y", code="200"}`.
fn label_set(sample: &Value) -> String {
    match sample {
        Value::Object(sample) => label_set_of(sample),
        other => describe(other),
    }
}

pub(crate) fn label_set_of(sample: &Map<String, Value>) -> String {
    match sample.get("metric") {
        None => "{}".to_owned(),
        Some(Value::Object(labels)) => {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}={s:?}"),
                    other => format!("{k}={}", compact(other)),
                })
                .collect();
            truncate(&format!("{{{}}}", pairs.join(", ")), BODY_EXCERPT_CHARS)
        }
        Some(other) => describe(other),
    }
}

pub(crate) fn string_field(object: &Map<String, Value>, key: &str) -> Option<String> {
    match object.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(compact(other)),
    }
}

pub(crate) fn keys(object: &Map<String, Value>) -> String {
    if object.is_empty() {
        "none".to_owned()
    } else {
        truncate(
            &object
                .keys()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            BODY_EXCERPT_CHARS,
        )
    }
}

/// A JSON value for an error message: its kind, and itself when short.
pub(crate) fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".to_owned(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    format!("{kind} {}", compact(value))
}

fn compact(value: &Value) -> String {
    truncate(&value.to_string(), BODY_EXCERPT_CHARS)
}

/// The start of a body as text: lossy UTF-8, whitespace runs collapsed, at most [`BODY_EXCERPT_CHARS`].
fn excerpt(body: &[u8]) -> String {
    let head = body.get(..4 * BODY_EXCERPT_CHARS).unwrap_or(body);
    let text = String::from_utf8_lossy(head);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = truncate(&collapsed, BODY_EXCERPT_CHARS);
    if head.len() < body.len() && !out.ends_with('…') {
        out.push('…');
    }
    out
}

fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().nth(max_chars).is_some() {
        let mut cut: String = s.chars().take(max_chars).collect();
        cut.push('…');
        cut
    } else {
        s.to_owned()
    }
}
