//! Errors as the real API server reports them: a `meta.k8s.io/v1` `Status` with `reason`, `code`,
//! `message` and `details`, with the real server's wording for each reason.

use serde_json::{Value, json};

use super::resources::ResourceDef;

/// One field problem of an `Invalid` (422) error (`details.causes[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueForbidden`, `FieldValueNotSupported`, …
    pub reason: String,
    /// Dotted field path, e.g. `spec.maxReplicas`.
    pub field: String,
    /// The message after `<field>: `, e.g. `Invalid value: 0: must be greater than 0`.
    pub message: String,
}

impl FieldError {
    /// `Invalid value: <value>: <detail>`.
    pub fn invalid(field: &str, value: &Value, detail: &str) -> Self {
        Self {
            reason: "FieldValueInvalid".into(),
            field: field.into(),
            message: format!("Invalid value: {}: {detail}", render_value(value)),
        }
    }

    /// `Required value` (with an optional detail).
    pub fn required(field: &str, detail: &str) -> Self {
        let message = if detail.is_empty() {
            "Required value".to_string()
        } else {
            format!("Required value: {detail}")
        };
        Self {
            reason: "FieldValueRequired".into(),
            field: field.into(),
            message,
        }
    }

    /// `Forbidden: <detail>`.
    pub fn forbidden(field: &str, detail: &str) -> Self {
        Self {
            reason: "FieldValueForbidden".into(),
            field: field.into(),
            message: format!("Forbidden: {detail}"),
        }
    }

    /// `Unsupported value: <value>: supported values: "a", "b"`.
    pub fn not_supported(field: &str, value: &Value, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        Self {
            reason: "FieldValueNotSupported".into(),
            field: field.into(),
            message: format!(
                "Unsupported value: {}: supported values: {}",
                render_value(value),
                list.join(", ")
            ),
        }
    }
}

/// Go-like rendering of a value in validation messages: strings quoted, numbers bare.
fn render_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// An API error: the `Status` document the server answers with, and its HTTP code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `Status.reason`, e.g. `NotFound`.
    pub reason: String,
    /// `Status.message`.
    pub message: String,
    /// `Status.details` (may be `null`).
    pub details: Value,
}

impl ApiError {
    fn new(code: u16, reason: &str, message: String, details: Value) -> Self {
        Self {
            code,
            reason: reason.into(),
            message,
            details,
        }
    }

    fn details(def: &ResourceDef, name: &str) -> Value {
        let mut d = json!({ "name": name, "kind": def.plural });
        if !def.group.is_empty() {
            d["group"] = json!(def.group);
        }
        d
    }

    /// 404 `<plural>.<group> "<name>" not found`.
    pub fn not_found(def: &ResourceDef, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", def.qualified_plural()),
            Self::details(def, name),
        )
    }

    /// 404 for the namespace of a namespaced request: `namespaces "<ns>" not found`.
    pub fn namespace_not_found(ns: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("namespaces \"{ns}\" not found"),
            json!({ "name": ns, "kind": "namespaces" }),
        )
    }

    /// 404 for a path that names no served resource.
    pub fn no_such_path() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            json!({}),
        )
    }

    /// 409 `<plural>.<group> "<name>" already exists`.
    pub fn already_exists(def: &ResourceDef, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", def.qualified_plural()),
            Self::details(def, name),
        )
    }

    /// 409 resourceVersion mismatch, with the real server's message.
    pub fn conflict(def: &ResourceDef, name: &str) -> Self {
        Self::conflict_msg(
            def,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 `Operation cannot be fulfilled on <plural>.<group> "<name>": <why>`.
    pub fn conflict_msg(def: &ResourceDef, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                def.qualified_plural()
            ),
            Self::details(def, name),
        )
    }

    /// 409 server-side apply conflict (`Apply failed with N conflict(s): …`).
    pub fn apply_conflict(def: &ResourceDef, name: &str, conflicts: &[(String, String)]) -> Self {
        let n = conflicts.len();
        let mut causes = Vec::new();
        let mut parts = Vec::new();
        for (manager, field) in conflicts {
            parts.push(format!("conflict with \"{manager}\": {field}"));
            causes.push(json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with \"{manager}\""),
                "field": field,
            }));
        }
        let mut details = Self::details(def, name);
        details["causes"] = Value::Array(causes);
        let noun = if n == 1 { "conflict" } else { "conflicts" };
        Self::new(
            409,
            "Conflict",
            format!("Apply failed with {n} {noun}: {}", parts.join("\n")),
            details,
        )
    }

    /// 422 `<Kind>.<group> "<name>" is invalid: <field errors>`.
    pub fn invalid(def: &ResourceDef, name: &str, errors: &[FieldError]) -> Self {
        let rendered: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        let joined = if rendered.len() == 1 {
            rendered.join("")
        } else {
            format!("[{}]", rendered.join(", "))
        };
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| json!({ "reason": e.reason, "message": e.message, "field": e.field }))
            .collect();
        let mut details = json!({ "name": name, "kind": def.kind, "causes": causes });
        if !def.group.is_empty() {
            details["group"] = json!(def.group);
        }
        Self::new(
            422,
            "Invalid",
            format!("{} \"{name}\" is invalid: {joined}", def.qualified_kind()),
            details,
        )
    }

    /// 422 without a specific object (e.g. a JSON patch whose `test` failed).
    pub fn unprocessable(message: String) -> Self {
        Self::new(422, "Invalid", message, Value::Null)
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into(), Value::Null)
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message.into(), Value::Null)
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".into(),
            Value::Null,
        )
    }

    /// 410 Expired, as for a watch from a compacted resourceVersion:
    /// `too old resource version: <asked> (<oldest available>)`.
    pub fn expired(asked: u64, oldest: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {asked} ({oldest})"),
            Value::Null,
        )
    }

    /// 410 Expired with a free message (e.g. a stale continue token).
    pub fn expired_msg(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message.into(), Value::Null)
    }

    /// 415 UnsupportedMediaType (e.g. strategic merge patch on a custom resource).
    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {} (got {content_type:?})",
                accepted.join(", ")
            ),
            Value::Null,
        )
    }

    /// Any code, with the reason the real server uses for it (injected faults).
    pub fn from_code(code: u16, message: impl Into<String>) -> Self {
        let reason = match code {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            405 => "MethodNotAllowed",
            409 => "Conflict",
            410 => "Expired",
            415 => "UnsupportedMediaType",
            422 => "Invalid",
            429 => "TooManyRequests",
            500 => "InternalError",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "Unknown",
        };
        Self::new(code, reason, message.into(), Value::Null)
    }

    /// The `Status` document.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if !self.details.is_null() {
            s["details"] = self.details.clone();
        }
        s
    }
}

/// The `Status` of a successful immediate DELETE of a built-in resource.
pub(crate) fn success_deleted(def: &ResourceDef, name: &str, uid: &str) -> Value {
    let mut details = json!({ "name": name, "kind": def.plural, "uid": uid });
    if !def.group.is_empty() {
        details["group"] = json!(def.group);
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}
