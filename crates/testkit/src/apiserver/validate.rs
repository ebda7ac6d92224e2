//! Validation the real server does before storing: object names (DNS-1123 subdomain, DNS label
//! for namespaces), label keys and values, annotation keys, and the autoscaling/v2
//! HorizontalPodAutoscaler rules an autoscaler operator can break (replica bounds, metric and
//! target shapes, behavior policies). Failures become 422 `Invalid` with field causes.
//!
//! Not modelled: the rest of the built-in schemas (pod templates, container fields, …) and CRD
//! OpenAPI schemas. Tests can add their own checks with
//! [`crate::apiserver::FakeApiServer::set_validator`].

use serde_json::Value;

use super::resources::Resource;
use super::status::FieldError;

fn is_dns_label_part(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && s.as_bytes().last().is_some_and(u8::is_ascii_alphanumeric)
}

/// RFC 1123 label: lowercase alphanumerics and `-`, at most 63, alphanumeric at both ends.
pub(crate) fn is_dns_label(s: &str) -> bool {
    is_dns_label_part(s, 63)
}

/// RFC 1123 subdomain: dot-separated labels, at most 253 characters.
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(|p| is_dns_label_part(p, 253))
}

fn is_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && s.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && s.as_bytes().last().is_some_and(u8::is_ascii_alphanumeric)
}

/// Label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters
/// of alphanumerics, `-`, `_`, `.` with alphanumeric ends.
pub(crate) fn is_qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_name_part(name),
        None => is_name_part(s),
    }
}

/// Label value: empty, or a name part (at most 63 characters).
pub(crate) fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_name_part(s)
}

/// Metadata checks shared by all resources.
pub(crate) fn metadata(res: &Resource, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        let ok = if res.def.plural == "namespaces" && res.def.group.is_empty() {
            is_dns_label(name)
        } else {
            is_dns_subdomain(name)
        };
        if !ok {
            errs.push(FieldError::invalid(
                "metadata.name",
                &Value::String(name.into()),
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            ));
        }
    }
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if !is_qualified_name(k) {
                errs.push(FieldError::invalid(
                    "metadata.labels",
                    &Value::String(k.clone()),
                    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                ));
            }
            match v.as_str() {
                Some(s) if is_label_value(s) => {}
                _ => errs.push(FieldError::invalid(
                    "metadata.labels",
                    v,
                    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                )),
            }
        }
    }
    if let Some(ann) = obj
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (k, v) in ann {
            if !is_qualified_name(k) {
                errs.push(FieldError::invalid(
                    "metadata.annotations",
                    &Value::String(k.clone()),
                    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                ));
            }
            if !v.is_string() {
                errs.push(FieldError::invalid(
                    &format!("metadata.annotations[{k}]"),
                    v,
                    "must be a string",
                ));
            }
        }
    }
    errs
}

/// Kind-specific checks of built-in resources.
pub(crate) fn kind_specific(res: &Resource, obj: &Value) -> Vec<FieldError> {
    if !res.builtin {
        return Vec::new();
    }
    match (res.def.group.as_str(), res.def.plural.as_str()) {
        ("autoscaling", "horizontalpodautoscalers") => hpa(obj),
        ("apps", "deployments" | "statefulsets" | "replicasets") => {
            let mut errs = Vec::new();
            if let Some(r) = obj.pointer("/spec/replicas")
                && r.as_i64().is_none_or(|n| n < 0)
            {
                errs.push(FieldError::invalid(
                    "spec.replicas",
                    r,
                    "must be greater than or equal to 0",
                ));
            }
            errs
        }
        _ => Vec::new(),
    }
}

fn hpa(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    for f in ["kind", "name"] {
        if spec
            .pointer(&format!("/scaleTargetRef/{f}"))
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            errs.push(FieldError::required(
                &format!("spec.scaleTargetRef.{f}"),
                "",
            ));
        }
    }
    let max = spec.get("maxReplicas");
    let min = spec.get("minReplicas");
    match max.and_then(Value::as_i64) {
        Some(m) if m >= 1 => {
            if let Some(lo) = min.and_then(Value::as_i64)
                && m < lo
            {
                errs.push(FieldError::invalid(
                    "spec.maxReplicas",
                    max.unwrap_or(&Value::Null),
                    "must be greater than or equal to `minReplicas`",
                ));
            }
        }
        _ => errs.push(FieldError::invalid(
            "spec.maxReplicas",
            max.unwrap_or(&Value::Null),
            "must be greater than 0",
        )),
    }
    if let Some(m) = min
        && m.as_i64().is_none_or(|n| n < 1)
    {
        errs.push(FieldError::invalid(
            "spec.minReplicas",
            m,
            "must be greater than or equal to 1",
        ));
    }
    if let Some(metrics) = spec.get("metrics").and_then(Value::as_array) {
        for (i, m) in metrics.iter().enumerate() {
            hpa_metric(&format!("spec.metrics[{i}]"), m, &mut errs);
        }
    }
    for dir in ["scaleUp", "scaleDown"] {
        if let Some(rules) = spec.pointer(&format!("/behavior/{dir}")) {
            hpa_rules(&format!("spec.behavior.{dir}"), rules, &mut errs);
        }
    }
    errs
}

fn hpa_metric(path: &str, m: &Value, errs: &mut Vec<FieldError>) {
    const TYPES: [&str; 5] = [
        "ContainerResource",
        "External",
        "Object",
        "Pods",
        "Resource",
    ];
    let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
    let section = match ty {
        "External" => "external",
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        "" => {
            errs.push(FieldError::required(
                &format!("{path}.type"),
                "must specify a metric source type",
            ));
            return;
        }
        _ => {
            errs.push(FieldError::not_supported(
                &format!("{path}.type"),
                m.get("type").unwrap_or(&Value::Null),
                &TYPES,
            ));
            return;
        }
    };
    let Some(src) = m.get(section).filter(|v| v.is_object()) else {
        errs.push(FieldError::required(
            &format!("{path}.{section}"),
            "must populate information for the given metric source",
        ));
        return;
    };
    let tpath = format!("{path}.{section}.target");
    let target = src.get("target").cloned().unwrap_or(Value::Null);
    let tt = target.get("type").and_then(Value::as_str).unwrap_or("");
    let (field, allowed) = match tt {
        "Utilization" => (
            "averageUtilization",
            section == "resource" || section == "containerResource",
        ),
        "Value" => ("value", section == "external" || section == "object"),
        "AverageValue" => ("averageValue", true),
        _ => {
            errs.push(FieldError::not_supported(
                &format!("{tpath}.type"),
                target.get("type").unwrap_or(&Value::Null),
                &["AverageValue", "Utilization", "Value"],
            ));
            return;
        }
    };
    if !allowed {
        errs.push(FieldError::invalid(
            &format!("{tpath}.type"),
            &Value::String(tt.into()),
            "is not supported for this metric source type",
        ));
    }
    match target.get(field) {
        None | Some(Value::Null) => errs.push(FieldError::required(
            &format!("{tpath}.{field}"),
            &format!("must be set for target type {tt}"),
        )),
        Some(v) => {
            let positive = match v {
                Value::Number(n) => n.as_f64().is_some_and(|x| x > 0.0),
                Value::String(s) => quantity_positive(s),
                _ => false,
            };
            if !positive {
                errs.push(FieldError::invalid(
                    &format!("{tpath}.{field}"),
                    v,
                    "must be positive",
                ));
            }
        }
    }
    let name_ptr = match section {
        "resource" | "containerResource" => "/name",
        _ => "/metric/name",
    };
    if src
        .pointer(name_ptr)
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        let f = if name_ptr == "/name" {
            "name"
        } else {
            "metric.name"
        };
        errs.push(FieldError::required(
            &format!("{path}.{section}.{f}"),
            "must specify a metric name",
        ));
    }
}

/// Whether a quantity string is a valid positive number (`1500m`, `2`, `0.5`, `1Ki`, `3e2`).
fn quantity_positive(s: &str) -> bool {
    let digits_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(digits_end);
    let suffix_ok = matches!(
        suffix,
        "" | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
            | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
    ) || (suffix.starts_with(['e', 'E']) && suffix[1..].parse::<i32>().is_ok());
    suffix_ok && num.parse::<f64>().is_ok_and(|x| x > 0.0)
}

fn hpa_rules(path: &str, rules: &Value, errs: &mut Vec<FieldError>) {
    if let Some(w) = rules.get("stabilizationWindowSeconds")
        && w.as_i64().is_none_or(|n| !(0..=3600).contains(&n))
    {
        let detail = if w.as_i64().is_some_and(|n| n < 0) {
            "must be greater than or equal to zero"
        } else {
            "must be less than or equal to 3600"
        };
        errs.push(FieldError::invalid(
            &format!("{path}.stabilizationWindowSeconds"),
            w,
            detail,
        ));
    }
    if let Some(sp) = rules.get("selectPolicy")
        && !matches!(sp.as_str(), Some("Max" | "Min" | "Disabled"))
    {
        errs.push(FieldError::not_supported(
            &format!("{path}.selectPolicy"),
            sp,
            &["Disabled", "Max", "Min"],
        ));
    }
    if let Some(policies) = rules.get("policies").and_then(Value::as_array) {
        for (i, p) in policies.iter().enumerate() {
            let pp = format!("{path}.policies[{i}]");
            let ty = p.get("type").unwrap_or(&Value::Null);
            if !matches!(ty.as_str(), Some("Pods" | "Percent")) {
                errs.push(FieldError::not_supported(
                    &format!("{pp}.type"),
                    ty,
                    &["Percent", "Pods"],
                ));
            }
            let v = p.get("value").unwrap_or(&Value::Null);
            if v.as_i64().is_none_or(|n| n <= 0) {
                errs.push(FieldError::invalid(
                    &format!("{pp}.value"),
                    v,
                    "must be greater than zero",
                ));
            }
            let ps = p.get("periodSeconds").unwrap_or(&Value::Null);
            match ps.as_i64() {
                Some(n) if n > 1800 => errs.push(FieldError::invalid(
                    &format!("{pp}.periodSeconds"),
                    ps,
                    "must be less than or equal to 1800",
                )),
                Some(n) if n > 0 => {}
                _ => errs.push(FieldError::invalid(
                    &format!("{pp}.periodSeconds"),
                    ps,
                    "must be greater than zero",
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_dns_subdomain("a.b-c.d"));
        assert!(!is_dns_subdomain("A"));
        assert!(!is_dns_subdomain("-a"));
        assert!(!is_dns_label("a.b"));
        assert!(is_qualified_name("app.kubernetes.io/name"));
        assert!(is_qualified_name("Some_Key.x"));
        assert!(!is_qualified_name("a/b/c"));
        assert!(is_label_value(""));
        assert!(!is_label_value("a b"));
    }

    #[test]
    fn quantities() {
        for q in ["1", "1500m", "0.5", "2Ki", "3e2"] {
            assert!(quantity_positive(q), "{q}");
        }
        for q in ["0", "-1", "abc", "1x", ""] {
            assert!(!quantity_positive(q), "{q}");
        }
    }
}
