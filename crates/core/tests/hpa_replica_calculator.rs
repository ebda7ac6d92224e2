//! Upstream `replica_calculator_test.go` rows for External metrics, and the tolerance rows of the other
//! calculators expressed as External `Value` metrics with the same usage ratio and ready-pod count.

use prescale_core::hpa::replicas::{
    NO_PODS_ERROR, Proposal, Tolerances, external_metric_replicas,
    external_per_pod_metric_replicas, per_pod_usage, per_pod_usage_sum, tolerances_for_hpa,
    usage_ratio_replica_count, value_usage_sum,
};
use prescale_core::hpa::{Behavior, ControllerConfig, HpaSpec, ScalingRules};
use prescale_core::quantity::Quantity;

/// (name, current, ready pods, levels, target, tolerances, expected replicas, expected usage).
type ValueRow = (&'static str, i32, i32, Vec<i64>, i64, Tolerances, i32, i64);
/// (name, status replicas, levels, target per pod, tolerances, expected replicas, expected usage).
type PerPodRow = (&'static str, i32, Vec<i64>, i64, Tolerances, i32, i64);

/// `defaultTestingTolerance`.
const DEFAULT: Tolerances = Tolerances {
    scale_down: 0.1,
    scale_up: 0.1,
};

/// `GetExternalMetricReplicas` (target type Value): (name, current, ready pods, levels, target, tolerances,
/// expected replicas, expected usage). Without readiness given, every pod is ready.
#[test]
fn test_get_external_metric_replicas() {
    let half = i64::MAX / 2 + 1;
    let cases: Vec<ValueRow> = vec![
        // readiness [false, true, false]: 8600/4400 = 1.95 × 1 ready pod.
        (
            "scale down, ignores unready pods",
            3,
            1,
            vec![8600],
            4400,
            DEFAULT,
            2,
            8600,
        ),
        ("scale down", 5, 5, vec![8600], 14334, DEFAULT, 3, 8600),
        ("within tolerance", 3, 3, vec![8600], 8888, DEFAULT, 3, 8600),
        (
            "outside 1% up-tolerance",
            3,
            3,
            vec![8900],
            8800,
            Tolerances {
                scale_down: 0.1,
                scale_up: 0.01,
            },
            4,
            8900,
        ),
        (
            "usage overflow is capped",
            3,
            3,
            vec![half, half],
            i64::MAX,
            DEFAULT,
            3,
            i64::MAX,
        ),
        (
            "TestScaleUpCMExternal (classic)",
            1,
            1,
            vec![8600],
            4400,
            DEFAULT,
            2,
            8600,
        ),
    ];
    for (name, current, ready, levels, target, tol, replicas, usage) in cases {
        let got = external_metric_replicas(current, ready, current, target, &levels, tol).unwrap();
        assert_eq!(got, Proposal { replicas, usage }, "{name}");
    }
}

/// `GetExternalPerPodMetricReplicas` (target type AverageValue): (name, status replicas, levels, target per
/// pod, tolerances, expected replicas, expected per-pod usage).
#[test]
fn test_get_external_per_pod_metric_replicas() {
    let cases: Vec<PerPodRow> = vec![
        (
            "replica count overflow is capped at MaxInt32",
            1,
            vec![i64::MAX],
            1,
            DEFAULT,
            i32::MAX,
            i64::MAX,
        ),
        (
            "huge target",
            1,
            vec![i64::MAX],
            i64::MAX,
            DEFAULT,
            1,
            i64::MAX,
        ),
        ("zero status replicas", 0, vec![20000], 5000, DEFAULT, 4, 0),
        (
            "zero status replicas and metric",
            0,
            vec![0],
            5000,
            DEFAULT,
            0,
            0,
        ),
        ("scale up", 3, vec![8600], 2150, DEFAULT, 4, 2867),
        ("scale down", 5, vec![8600], 2867, DEFAULT, 3, 1720),
        ("within tolerance", 3, vec![8600], 2900, DEFAULT, 3, 2867),
        (
            "outside 1% up-tolerance",
            3,
            vec![8600],
            2800,
            Tolerances {
                scale_down: 0.1,
                scale_up: 0.01,
            },
            4,
            2867,
        ),
    ];
    for (name, status, levels, target, tol, replicas, usage) in cases {
        let got = external_per_pod_metric_replicas(status, target, &levels, tol);
        assert_eq!(got, Proposal { replicas, usage }, "{name}");
    }
}

/// Tolerance rows of `GetResourceReplicas` and `GetMetricReplicas` (CPU and Pods metrics are not modelled).
/// Both reduce to `ceil(ratio × readyPods)` with all 3 pods ready, so each row is run through the External
/// Value path with a usage/target pair that yields the same float ratio:
/// - resource: `utilization = int32(Σusage·100 / Σrequests)`, ratio = utilization / target%;
/// - pods metric: ratio = `(Σusage / n) / target` with integer average.
#[test]
fn tolerance_rows_of_the_other_calculators() {
    let cases: Vec<(&str, i64, i64, Tolerances, i32)> = vec![
        // 909/1010/1111 over 900/1000/1100 → 101% of a 100% target.
        (
            "resource: zero tolerance",
            101,
            100,
            Tolerances {
                scale_down: 0.0,
                scale_up: 0.0,
            },
            4,
        ),
        // 1890/1910/1900 → 190%.
        (
            "resource: scale-up tolerance 2.0",
            190,
            100,
            Tolerances {
                scale_down: 0.1,
                scale_up: 2.0,
            },
            3,
        ),
        // 1100/1080/1090 → 109%.
        (
            "resource: up 0.08, down 2.0",
            109,
            100,
            Tolerances {
                scale_down: 2.0,
                scale_up: 0.08,
            },
            4,
        ),
        // 660/640/650 → 65%.
        (
            "resource: scale-down tolerance 0.36",
            65,
            100,
            Tolerances {
                scale_down: 0.36,
                scale_up: 0.1,
            },
            3,
        ),
        (
            "resource: scale-down tolerance 0.34",
            65,
            100,
            Tolerances {
                scale_down: 0.34,
                scale_up: 0.1,
            },
            2,
        ),
        // 20000/21000/21000 → average 20666 over a 20000 target.
        ("pods metric: default tolerance", 20666, 20000, DEFAULT, 3),
        (
            "pods metric: scale-up tolerance 0.01",
            20666,
            20000,
            Tolerances {
                scale_down: 0.1,
                scale_up: 0.01,
            },
            4,
        ),
    ];
    for (name, usage, target, tol, expected) in cases {
        let got = external_metric_replicas(3, 3, 3, target, &[usage], tol).unwrap();
        assert_eq!(got.replicas, expected, "{name}");
    }
}

#[test]
fn tolerance_bounds_are_inclusive() {
    let t = DEFAULT;
    assert!(t.is_within(0.9));
    assert!(t.is_within(1.1));
    assert!(!t.is_within(1.1000000000000003));
    assert!(!t.is_within(0.8999999999999999));
    assert!(!t.is_within(f64::NAN));
    // Exactly at the upper bound: no scale-up (11/10 = 1.1 = 1 + 0.1 in floating point).
    assert_eq!(
        external_metric_replicas(10, 10, 10, 10_000, &[11_000], t)
            .unwrap()
            .replicas,
        10
    );
    assert_eq!(
        external_per_pod_metric_replicas(10, 1000, &[11_000], t).replicas,
        10
    );
    assert_eq!(
        external_per_pod_metric_replicas(10, 1000, &[11_001], t).replicas,
        12
    );
}

#[test]
fn value_target_multiplies_by_ready_pods_and_checks_tolerance_before_listing_pods() {
    // 4 replicas, 1 ready: ratio 2 × 1 = 2 — a spurious scale-down proposal while pods start.
    let got = external_metric_replicas(4, 1, 4, 1000, &[2000], DEFAULT).unwrap();
    assert_eq!(got.replicas, 2);
    // No pods listed: an error, but only when the ratio is outside the tolerance.
    assert_eq!(
        external_metric_replicas(4, 0, 0, 1000, &[3000], DEFAULT).unwrap_err(),
        NO_PODS_ERROR
    );
    assert_eq!(
        external_metric_replicas(4, 0, 0, 1000, &[1000], DEFAULT)
            .unwrap()
            .replicas,
        4
    );
    // Pods listed but none ready: 0.
    assert_eq!(
        external_metric_replicas(4, 0, 4, 1000, &[3000], DEFAULT)
            .unwrap()
            .replicas,
        0
    );
    // From zero: ceil(ratio), no tolerance, no pods needed.
    assert_eq!(usage_ratio_replica_count(0, 0, 0, 0.05, DEFAULT), Ok(1));
    assert_eq!(usage_ratio_replica_count(0, 0, 0, 0.0, DEFAULT), Ok(0));
    assert_eq!(usage_ratio_replica_count(0, 0, 0, 1.05, DEFAULT), Ok(2));
    // ceil(ratio) beyond int32 at zero replicas is not capped: Go's int32() gives MinInt32 on amd64.
    assert_eq!(
        usage_ratio_replica_count(0, 0, 0, 1e10, DEFAULT),
        Ok(i32::MIN)
    );
    // With pods it is capped.
    assert_eq!(
        usage_ratio_replica_count(1, 1, 1, 1e10, DEFAULT),
        Ok(i32::MAX)
    );
}

#[test]
fn usage_sums_follow_upstream_overflow_rules() {
    // AverageValue: a negative running sum means overflow → MaxInt64 (so does a negative sample).
    assert_eq!(per_pod_usage_sum(&[i64::MAX, 1]), i64::MAX);
    assert_eq!(per_pod_usage_sum(&[5, -10, 100]), i64::MAX);
    assert_eq!(per_pod_usage_sum(&[1, 2, 3]), 6);
    assert_eq!(per_pod_usage_sum(&[]), 0);
    // Value: capped before a positive sample overflows; negative samples are added.
    assert_eq!(value_usage_sum(&[i64::MAX - 1, 5]), i64::MAX);
    assert_eq!(value_usage_sum(&[5, -10]), -5);
    // Per-pod status usage.
    assert_eq!(per_pod_usage(8600, 3), 2867);
    assert_eq!(per_pod_usage(8600, 0), 0);
    assert_eq!(
        per_pod_usage(i64::MAX - 100, 0),
        i64::MAX,
        "checked before the zero test"
    );
}

#[test]
fn tolerances_for_hpa_reads_behavior_only_with_gate_and_behavior() {
    let rules_with = |t: &str| ScalingRules {
        tolerance: Some(Quantity::parse(t).unwrap()),
        ..Default::default()
    };
    let mut spec = HpaSpec {
        min_replicas: Some(1),
        max_replicas: 10,
        metrics: vec![],
        behavior: None,
    };
    let cfg = ControllerConfig::default();
    assert_eq!(tolerances_for_hpa(&cfg, &spec), DEFAULT);
    spec.behavior = Some(Behavior {
        scale_up: Some(rules_with("0.01")),
        scale_down: Some(rules_with("0.5")),
    });
    assert_eq!(
        tolerances_for_hpa(&cfg, &spec),
        Tolerances {
            scale_down: 0.5,
            scale_up: 0.01
        }
    );
    spec.behavior = Some(Behavior {
        scale_up: None,
        scale_down: Some(rules_with("50m")),
    });
    assert_eq!(
        tolerances_for_hpa(&cfg, &spec),
        Tolerances {
            scale_down: 0.05,
            scale_up: 0.1
        }
    );
    let gate_off = ControllerConfig {
        configurable_tolerance: false,
        ..ControllerConfig::default()
    };
    assert_eq!(tolerances_for_hpa(&gate_off, &spec), DEFAULT);
}
