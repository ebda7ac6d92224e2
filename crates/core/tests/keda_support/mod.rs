//! Shared helpers for the `keda_*` integration tests.
#![allow(dead_code)]

use prescale_core::keda::{KedaState, TriggerTarget, trigger_targets};
use prescale_core::spec::ScaledObject;
use prescale_core::time::Timestamp;
use serde_json::{Value, json};

/// RFC 7386 merge patch of `patch` into `base` (`null` removes a key).
pub fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// A Prometheus trigger with the given threshold (and nothing else optional).
pub fn prom(threshold: &str) -> Value {
    json!({
        "type": "prometheus",
        "metadata": {
            "serverAddress": "http://prometheus:9090",
            "query": "sum(rate(http_requests_total[2m]))",
            "threshold": threshold,
        }
    })
}

/// `my-so` in `ns`, targeting Deployment `app`, one Prometheus trigger (threshold 10), patched by `patch`.
pub fn so_json(patch: Value) -> Value {
    let mut v = json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "my-so", "namespace": "ns"},
        "spec": {
            "scaleTargetRef": {"name": "app"},
            "triggers": [prom("10")],
        }
    });
    merge(&mut v, &patch);
    v
}

pub fn so(patch: Value) -> ScaledObject {
    let v = so_json(patch);
    match serde_json::from_value(v.clone()) {
        Ok(so) => so,
        Err(e) => panic!("test ScaledObject does not parse: {e}\n{v:#}"),
    }
}

pub fn targets(so: &ScaledObject) -> Vec<TriggerTarget> {
    match trigger_targets(so) {
        Ok(t) => t,
        Err(e) => panic!("trigger targets: {e}"),
    }
}

pub fn secs(s: i64) -> Timestamp {
    Timestamp::from_secs(s)
}

pub fn ms(m: i64) -> Timestamp {
    Timestamp::from_millis(m)
}

/// A state created at t = 0.
pub fn state0() -> KedaState {
    KedaState::new(secs(0))
}
