//! keda.md §1.1 and §4.8: the pause/activation annotation helpers and `GetHPAMinReplicas` /
//! `GetHPAMaxReplicas`.

mod keda_support;

use keda_support::so;
use prescale_core::spec::ScaledObject;
use prescale_core::spec::go::parse_bool as go_parse_bool;
use serde_json::{Value, json};

fn annotated(a: Value) -> ScaledObject {
    so(json!({"metadata": {"annotations": a}}))
}

const PAUSED: &str = "autoscaling.keda.sh/paused";
const PAUSED_REPLICAS: &str = "autoscaling.keda.sh/paused-replicas";

#[test]
fn has_paused_annotation_if_either_is_present() {
    assert!(!annotated(json!({})).has_paused_annotation());
    assert!(annotated(json!({PAUSED: "false"})).has_paused_annotation());
    assert!(annotated(json!({PAUSED_REPLICAS: "x"})).has_paused_annotation());
    assert!(annotated(json!({PAUSED: "true", PAUSED_REPLICAS: "1"})).has_paused_annotation());
}

#[test]
fn need_to_be_paused_by_annotation() {
    assert!(annotated(json!({PAUSED: "true"})).need_to_be_paused_by_annotation());
    assert!(!annotated(json!({PAUSED: "false"})).need_to_be_paused_by_annotation());
    assert!(annotated(json!({PAUSED: "invalid"})).need_to_be_paused_by_annotation());
    assert!(!annotated(json!({})).need_to_be_paused_by_annotation());
    // paused-replicas present → paused, whatever `paused` says and even if it is not a number.
    assert!(
        annotated(json!({PAUSED: "false", PAUSED_REPLICAS: "5"})).need_to_be_paused_by_annotation()
    );
    assert!(annotated(json!({PAUSED_REPLICAS: "not-a-number"})).need_to_be_paused_by_annotation());
}

#[test]
fn get_paused_replica_count() {
    assert_eq!(annotated(json!({})).paused_replica_count().unwrap(), None);
    assert_eq!(
        annotated(json!({PAUSED: "true"}))
            .paused_replica_count()
            .unwrap(),
        None
    );
    assert_eq!(
        annotated(json!({PAUSED_REPLICAS: "5"}))
            .paused_replica_count()
            .unwrap(),
        Some(5)
    );
    assert_eq!(
        annotated(json!({PAUSED_REPLICAS: "0"}))
            .paused_replica_count()
            .unwrap(),
        Some(0)
    );
    // strconv.ParseInt(v, 10, 32): a sign is fine, spaces and overflow are not.
    assert_eq!(
        annotated(json!({PAUSED_REPLICAS: "+3"}))
            .paused_replica_count()
            .unwrap(),
        Some(3)
    );
    for bad in ["not-a-number", " 5", "5 ", "", "2147483648", "1.0", "0x5"] {
        let e = annotated(json!({PAUSED_REPLICAS: bad}))
            .paused_replica_count()
            .unwrap_err();
        let s = e.to_string();
        assert!(s.contains(&format!("{bad:?}")), "{bad:?}: {s}");
        assert!(s.contains(PAUSED_REPLICAS), "{s}");
    }
}

#[test]
fn bool_annotations_follow_go_parse_bool() {
    for t in ["1", "t", "T", "TRUE", "true", "True"] {
        assert_eq!(go_parse_bool(t), Some(true), "{t}");
    }
    for f in ["0", "f", "F", "FALSE", "false", "False"] {
        assert_eq!(go_parse_bool(f), Some(false), "{f}");
    }
    for other in ["yes", "no", "tRUE", " true", ""] {
        assert_eq!(go_parse_bool(other), None, "{other}");
    }
    let key = "autoscaling.keda.sh/paused-scale-in";
    assert!(!annotated(json!({})).bool_annotation(key));
    assert!(annotated(json!({key: ""})).bool_annotation(key));
    assert!(!annotated(json!({key: "0"})).bool_annotation(key));
}

#[test]
fn unidirectional_pause_and_force_activation() {
    let so = annotated(json!({
        "autoscaling.keda.sh/paused-scale-in": "true",
        "autoscaling.keda.sh/paused-scale-out": "false",
        "autoscaling.keda.sh/force-activation": "oops",
    }));
    assert!(so.need_to_pause_scale_in());
    assert!(!so.need_to_pause_scale_out());
    assert!(so.need_to_force_activation());
    assert!(!so.need_to_be_paused_by_annotation());
    let plain = annotated(json!({}));
    assert!(
        !plain.need_to_pause_scale_in()
            && !plain.need_to_pause_scale_out()
            && !plain.need_to_force_activation()
    );
}

#[test]
fn hpa_min_max_replicas() {
    let case = |min: Option<i32>, max: Option<i32>| {
        let mut spec = json!({});
        if let Some(m) = min {
            spec["minReplicaCount"] = json!(m);
        }
        if let Some(m) = max {
            spec["maxReplicaCount"] = json!(m);
        }
        let so = so(json!({ "spec": spec }));
        (so.hpa_min_replicas(), so.hpa_max_replicas())
    };
    assert_eq!(case(None, None), (1, 100));
    assert_eq!(case(Some(5), None), (5, 100));
    assert_eq!(case(None, Some(10)), (1, 10));
    assert_eq!(case(Some(5), Some(10)), (5, 10));
    assert_eq!(case(Some(0), None), (1, 100));
}
