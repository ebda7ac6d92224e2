//! Metric naming: `GenerateMetricNameWithIndex`, `RemoveIndexFromMetricName` (`pkg/scalers/scaler.go`) and
//! `NormalizeString` (`pkg/util/normalize_string.go`).

use crate::{Error, Result};

/// `kedav1alpha1.CompositeMetricName`: the single External metric the HPA gets when scalingModifiers are used.
pub const COMPOSITE_METRIC_NAME: &str = "composite-metric";

/// `kedautil.NormalizeString`: every `/ . : % ( )` becomes `-`.
pub fn normalize_string(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '/' | '.' | ':' | '%' | '(' | ')' => '-',
            c => c,
        })
        .collect()
}

/// `GenerateMetricNameWithIndex`: `s<index>-<name>`.
pub fn metric_name_with_index(trigger_index: usize, name: &str) -> String {
    format!("s{trigger_index}-{name}")
}

/// The External metric name a trigger gets: `GenerateMetricNameWithIndex(index, NormalizeString(type))`,
/// e.g. `s0-prometheus`. (The Prometheus scaler ignores any `metricName` metadata.)
pub fn metric_name(trigger_index: usize, trigger_type: &str) -> String {
    metric_name_with_index(trigger_index, &normalize_string(trigger_type))
}

/// `RemoveIndexFromMetricName`: strips the exact `s<index>-` prefix. The name is split at its first `-`;
/// the part before it must be exactly `s<index>`.
pub fn remove_index_from_metric_name(trigger_index: usize, metric_name: &str) -> Result<String> {
    let invalid = |message: &str| Error::Invalid {
        path: format!("metric name {metric_name:?}"),
        message: message.to_string(),
    };
    let (prefix, rest) = metric_name
        .split_once('-')
        .ok_or_else(|| invalid("metric name without index prefix"))?;
    if prefix != format!("s{trigger_index}") {
        return Err(invalid(&format!(
            "metric name contains incorrect index prefix (expected \"s{trigger_index}-\")"
        )));
    }
    Ok(rest.to_string())
}
