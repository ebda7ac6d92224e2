//! keda.md §1.1 and §4.8: the pause/activation annotation helpers and `GetHPAMinReplicas` /
//! `GetHPAMaxReplicas`.

mod keda_support;

use keda_support::so;
use prescale_core::keda::hpa_spec::{hpa_max_replicas, hpa_min_replicas};
use prescale_core::keda::pause::{
    bool_annotation, force_activation, has_paused_annotation, need_to_be_paused,
    paused_replica_count, paused_scale_in, paused_scale_out,
};
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
    assert!(!has_paused_annotation(&annotated(json!({}))));
    assert!(has_paused_annotation(&annotated(json!({PAUSED: "false"}))));
    assert!(has_paused_annotation(&annotated(
        json!({PAUSED_REPLICAS: "x"})
    )));
    assert!(has_paused_annotation(&annotated(
        json!({PAUSED: "true", PAUSED_REPLICAS: "1"})
    )));
}

#[test]
fn need_to_be_paused_by_annotation() {
    assert!(need_to_be_paused(&annotated(json!({PAUSED: "true"}))));
    assert!(!need_to_be_paused(&annotated(json!({PAUSED: "false"}))));
    assert!(need_to_be_paused(&annotated(json!({PAUSED: "invalid"}))));
    assert!(!need_to_be_paused(&annotated(json!({}))));
    // paused-replicas present → paused, whatever `paused` says and even if it is not a number.
    assert!(need_to_be_paused(&annotated(
        json!({PAUSED: "false", PAUSED_REPLICAS: "5"})
    )));
    assert!(need_to_be_paused(&annotated(
        json!({PAUSED_REPLICAS: "not-a-number"})
    )));
}

#[test]
fn get_paused_replica_count() {
    assert_eq!(paused_replica_count(&annotated(json!({}))).unwrap(), None);
    assert_eq!(
        paused_replica_count(&annotated(json!({PAUSED: "true"}))).unwrap(),
        None
    );
    assert_eq!(
        paused_replica_count(&annotated(json!({PAUSED_REPLICAS: "5"}))).unwrap(),
        Some(5)
    );
    assert_eq!(
        paused_replica_count(&annotated(json!({PAUSED_REPLICAS: "0"}))).unwrap(),
        Some(0)
    );
    // strconv.ParseInt(v, 10, 32): a sign is fine, spaces and overflow are not.
    assert_eq!(
        paused_replica_count(&annotated(json!({PAUSED_REPLICAS: "+3"}))).unwrap(),
        Some(3)
    );
    for bad in ["not-a-number", " 5", "5 ", "", "2147483648", "1.0", "0x5"] {
        let e = paused_replica_count(&annotated(json!({PAUSED_REPLICAS: bad}))).unwrap_err();
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
    assert!(!bool_annotation(&annotated(json!({})), key));
    assert!(bool_annotation(&annotated(json!({key: ""})), key));
    assert!(!bool_annotation(&annotated(json!({key: "0"})), key));
}

#[test]
fn unidirectional_pause_and_force_activation() {
    let so = annotated(json!({
        "autoscaling.keda.sh/paused-scale-in": "true",
        "autoscaling.keda.sh/paused-scale-out": "false",
        "autoscaling.keda.sh/force-activation": "oops",
    }));
    assert!(paused_scale_in(&so));
    assert!(!paused_scale_out(&so));
    assert!(force_activation(&so));
    assert!(!need_to_be_paused(&so));
    let plain = annotated(json!({}));
    assert!(!paused_scale_in(&plain) && !paused_scale_out(&plain) && !force_activation(&plain));
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
        (hpa_min_replicas(&so), hpa_max_replicas(&so))
    };
    assert_eq!(case(None, None), (1, 100));
    assert_eq!(case(Some(5), None), (5, 100));
    assert_eq!(case(None, Some(10)), (1, 10));
    assert_eq!(case(Some(5), Some(10)), (5, 10));
    assert_eq!(case(Some(0), None), (1, 100));
}
