//! The `ScaleTrigger` of a prometheus trigger for tests. (`#[path]` module.)
#![allow(dead_code)]
use prescale_core::spec::ScaleTrigger;

/// A `prometheus` trigger with metadata `pairs` and nothing else set; extend its `metadata` as needed.
pub fn prometheus_trigger(pairs: &[(&str, &str)]) -> ScaleTrigger {
    ScaleTrigger {
        kind: "prometheus".to_string(),
        name: None,
        use_cached_metrics: None,
        metadata: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        authentication_ref: None,
        metric_type: None,
    }
}
