//! Reconcile-level tests: upstream's External-metric end-to-end cases from `horizontal_test.go`, External
//! equivalents of cases that upstream runs with CPU metrics (CPU is not modelled), and the controller-memory
//! behaviours (initial recommendation seed, event history).

use std::collections::BTreeMap;

use prescale_core::Timestamp;
use prescale_core::hpa::api::{PolicyType, ScalingPolicy, ScalingRules, SelectPolicy};
use prescale_core::hpa::{
    Behavior, ConditionStatus, ConditionType, ControllerConfig, Decision, ExternalMetric, HpaSpec,
    HpaState, MetricTarget, Observation, Recommendation, reconcile, reconcile_in_namespace,
};
use prescale_core::quantity::Quantity;

const T0: Timestamp = Timestamp::from_secs(10_000);

fn metric(name: &str, target: MetricTarget) -> ExternalMetric {
    ExternalMetric {
        name: name.to_string(),
        selector: BTreeMap::new(),
        target,
    }
}

fn keda_metric(name: &str, scaled_object: &str, target: MetricTarget) -> ExternalMetric {
    ExternalMetric {
        name: name.to_string(),
        selector: BTreeMap::from([(
            "scaledobject.keda.sh/name".to_string(),
            scaled_object.to_string(),
        )]),
        target,
    }
}

fn hpa(min: i32, max: i32, metrics: Vec<ExternalMetric>, behavior: Option<Behavior>) -> HpaSpec {
    HpaSpec {
        min_replicas: Some(min),
        max_replicas: max,
        metrics,
        behavior,
    }
}

fn obs(now: Timestamp, spec: i32, status: i32, ready: i32) -> Observation {
    Observation {
        now,
        spec_replicas: spec,
        status_replicas: status,
        ready_pods: ready,
    }
}

/// `generateScalingRules`.
fn rules(
    pods: i32,
    pods_period: i32,
    percent: i32,
    percent_period: i32,
    stab: i32,
) -> ScalingRules {
    let mut policies = Vec::new();
    if pods != 0 {
        policies.push(ScalingPolicy {
            kind: PolicyType::Pods,
            value: pods,
            period_seconds: pods_period,
        });
    }
    if percent != 0 {
        policies.push(ScalingPolicy {
            kind: PolicyType::Percent,
            value: percent,
            period_seconds: percent_period,
        });
    }
    ScalingRules {
        stabilization_window_seconds: Some(stab),
        select_policy: Some(SelectPolicy::Max),
        policies: Some(policies),
        tolerance: None,
    }
}

/// Runs one sync with fixed metric answers (one per metric, in order) and checks `fetch` was called once per
/// metric in order.
fn run(
    cfg: &ControllerConfig,
    spec: &HpaSpec,
    state: &mut HpaState,
    o: Observation,
    answers: Vec<Result<Vec<i64>, String>>,
) -> (Decision, Vec<String>) {
    let mut answers = answers.into_iter();
    let mut calls = Vec::new();
    let mut fetch = |m: &ExternalMetric| {
        calls.push(m.name.clone());
        answers
            .next()
            .unwrap_or_else(|| Err("unexpected fetch".to_string()))
    };
    let d = reconcile(cfg, spec, state, &o, &mut fetch);
    (d, calls)
}

fn conds(d: &Decision) -> Vec<(ConditionType, ConditionStatus, &str)> {
    d.conditions
        .iter()
        .map(|c| (c.kind, c.status, c.reason.as_str()))
        .collect()
}

use ConditionStatus::{False, True};
use ConditionType::{AbleToScale, ScalingActive, ScalingLimited};

const EMPTY_SELECTOR: &str = "&LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]LabelSelectorRequirement{},}";

/// `statusOk`: the conditions after a successful scale.
fn status_ok() -> Vec<(ConditionType, ConditionStatus, &'static str)> {
    vec![
        (AbleToScale, True, "SucceededRescale"),
        (ScalingActive, True, "ValidMetricFound"),
        (ScalingLimited, False, "DesiredWithinRange"),
    ]
}

/// Upstream seeds no recommendation in these tests (`recommendations: []timestampedRecommendation{}`).
fn unseeded() -> HpaState {
    HpaState {
        recommendations: Some(vec![]),
        ..HpaState::new()
    }
}

#[test]
fn test_scale_up_cm_external() {
    let spec = hpa(2, 6, vec![metric("qps", MetricTarget::Value(6666))], None);
    let (d, calls) = run(
        &ControllerConfig::default(),
        &spec,
        &mut HpaState::new(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![8600])],
    );
    // 8600/6666 = 1.29 × 3 ready pods = 3.87 → 4.
    assert_eq!(d.desired_replicas, 4);
    assert!(d.rescale);
    assert_eq!(calls, vec!["qps"]);
    assert_eq!(d.metric_values, vec![Some(8600)]);
    assert_eq!(conds(&d), status_ok());
    assert_eq!(
        d.rescale_reason.as_deref(),
        Some(
            format!("New size: 4; reason: external metric qps({EMPTY_SELECTOR}) above target")
                .as_str()
        )
    );
}

#[test]
fn test_scale_up_per_pod_cm_external() {
    let spec = hpa(
        2,
        6,
        vec![metric("qps", MetricTarget::AverageValue(2222))],
        None,
    );
    let (d, _) = run(
        &ControllerConfig::default(),
        &spec,
        &mut HpaState::new(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![8600])],
    );
    // ceil(8600/2222) = ceil(3.87) = 4; the status shows the per-pod average ceil(8600/3).
    assert_eq!(d.desired_replicas, 4);
    assert_eq!(d.metric_values, vec![Some(2867)]);
    assert_eq!(conds(&d), status_ok());
}

#[test]
fn test_scale_down_cm_external() {
    let spec = hpa(2, 6, vec![metric("qps", MetricTarget::Value(14400))], None);
    let (d, _) = run(
        &ControllerConfig::default(),
        &spec,
        &mut unseeded(),
        obs(T0, 5, 5, 5),
        vec![Ok(vec![8600])],
    );
    // 8600/14400 = 0.597 × 5 = 2.99 → 3.
    assert_eq!((d.desired_replicas, d.rescale), (3, true));
    assert_eq!(conds(&d), status_ok());
    assert_eq!(
        d.rescale_reason.as_deref(),
        Some("New size: 3; reason: All metrics below target")
    );
}

#[test]
fn test_scale_down_per_pod_cm_external() {
    let spec = hpa(
        2,
        6,
        vec![metric("qps", MetricTarget::AverageValue(3000))],
        None,
    );
    let (d, _) = run(
        &ControllerConfig::default(),
        &spec,
        &mut unseeded(),
        obs(T0, 5, 5, 5),
        vec![Ok(vec![8600])],
    );
    assert_eq!((d.desired_replicas, d.rescale), (3, true));
    assert_eq!(d.metric_values, vec![Some(1720)]);
}

#[test]
fn test_scale_down_to_zero_cm_external() {
    let spec = hpa(0, 6, vec![metric("qps", MetricTarget::Value(14400))], None);
    let (d, _) = run(
        &ControllerConfig::default(),
        &spec,
        &mut unseeded(),
        obs(T0, 5, 5, 5),
        vec![Ok(vec![0])],
    );
    assert_eq!((d.desired_replicas, d.rescale), (0, true));
    assert_eq!(conds(&d), status_ok());
}

/// `TestNoScaleDownOneMetricEmpty` uses a CPU metric (→ 3) plus a failing External metric; here the first
/// metric is an External AverageValue metric that also proposes 3.
#[test]
fn no_scale_down_one_metric_empty() {
    let spec = hpa(
        2,
        6,
        vec![
            metric("load", MetricTarget::AverageValue(1000)),
            metric("qps", MetricTarget::Value(1000)),
        ],
        None,
    );
    let (d, calls) = run(
        &ControllerConfig::default(),
        &spec,
        &mut unseeded(),
        obs(T0, 5, 5, 5),
        vec![Ok(vec![2500]), Err("something went wrong".to_string())],
    );
    assert_eq!(calls, vec!["load", "qps"]);
    assert_eq!((d.desired_replicas, d.rescale), (5, false));
    assert_eq!(d.rescale_reason, None);
    assert_eq!(
        conds(&d),
        vec![
            (AbleToScale, True, "SucceededGetScale"),
            (ScalingActive, False, "FailedGetExternalMetric"),
        ]
    );
    assert_eq!(
        d.conditions[1].message,
        format!(
            "the HPA was unable to compute the replica count: unable to get external metric default/qps/{EMPTY_SELECTOR}: something went wrong"
        )
    );
    assert_eq!(
        d.metric_error.as_deref(),
        Some(
            format!(
                "invalid metrics (1 invalid out of 2), first error is: failed to get qps external metric value: failed to get external metric qps: unable to get external metric default/qps/{EMPTY_SELECTOR}: something went wrong"
            )
            .as_str()
        )
    );
    assert_eq!(d.metric_values, vec![Some(500), None]);
}

/// `TestScaleUpOneMetricEmpty`: CPU (→ 4) plus a failing External metric; the valid metric may scale up.
#[test]
fn scale_up_one_metric_empty() {
    let spec = hpa(
        2,
        6,
        vec![
            metric("load", MetricTarget::AverageValue(1000)),
            metric("qps", MetricTarget::Value(100)),
        ],
        None,
    );
    let (d, calls) = run(
        &ControllerConfig::default(),
        &spec,
        &mut HpaState::new(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![3500]), Err("something went wrong".to_string())],
    );
    assert_eq!(calls, vec!["load", "qps"]);
    assert_eq!((d.desired_replicas, d.rescale), (4, true));
    assert_eq!(conds(&d), status_ok());
    assert!(
        d.metric_error
            .as_deref()
            .is_some_and(|e| e.starts_with("invalid metrics (1 invalid out of 2)"))
    );
}

#[test]
fn all_metrics_failing_blocks_scaling_and_keeps_other_conditions() {
    let spec = hpa(
        1,
        10,
        vec![metric("qps", MetricTarget::AverageValue(1000))],
        None,
    );
    let cfg = ControllerConfig::default();
    let mut state = HpaState::new();
    let (d, _) = run(
        &cfg,
        &spec,
        &mut state,
        obs(T0, 3, 3, 3),
        vec![Ok(vec![9000])],
    );
    assert_eq!(d.desired_replicas, 6, "legacy limit max(2×3, 4)");
    assert_eq!(d.conditions[2].reason, "ScaleUpLimit");
    let (d, _) = run(
        &cfg,
        &spec,
        &mut state,
        obs(T0.plus_secs(15), 6, 6, 6),
        vec![Err("boom".to_string())],
    );
    assert_eq!((d.desired_replicas, d.rescale), (6, false));
    // AbleToScale and ScalingLimited keep their previous reasons; only ScalingActive changes.
    assert_eq!(
        conds(&d),
        vec![
            (AbleToScale, True, "SucceededGetScale"),
            (ScalingActive, False, "FailedGetExternalMetric"),
            (ScalingLimited, True, "ScaleUpLimit"),
        ]
    );
    assert_eq!(d.conditions[1].last_transition, T0.plus_secs(15));
    assert_eq!(d.conditions[2].last_transition, T0);
}

/// `TestUpscaleCap` and `TestUpscaleCapGreaterThanMaxReplicas` (newer, behavior form): scale-up rules
/// (0,0,700,60,0) allow ceil(3 × 8) = 24. Upstream drives them with CPU; here an External metric proposes 60.
#[test]
fn upscale_cap() {
    let up = Behavior {
        scale_up: Some(rules(0, 0, 700, 60, 0)),
        scale_down: None,
    };
    let m = vec![metric("qps", MetricTarget::AverageValue(100))];
    let cfg = ControllerConfig::default();
    let spec = hpa(1, 100, m.clone(), Some(up.clone()));
    let (d, _) = run(
        &cfg,
        &spec,
        &mut HpaState::new(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![6000])],
    );
    assert_eq!((d.desired_replicas, d.rescale), (24, true));
    assert_eq!(
        conds(&d),
        vec![
            (AbleToScale, True, "SucceededRescale"),
            (ScalingActive, True, "ValidMetricFound"),
            (ScalingLimited, True, "ScaleUpLimit"),
        ]
    );
    let spec = hpa(1, 20, m, Some(up));
    let (d, _) = run(
        &cfg,
        &spec,
        &mut HpaState::new(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![6000])],
    );
    assert_eq!(d.desired_replicas, 20);
    assert_eq!(d.conditions[2].reason, "TooManyReplicas");
    assert_eq!(d.conditions[2].status, True);
}

/// The older, legacy form of `TestUpscaleCap` (no behavior): upstream expects 24 because its test binary sets
/// `scaleUpLimitFactor = 8`; production uses 2, which gives max(2 × 3, 4) = 6.
#[test]
fn upscale_cap_legacy() {
    let spec = hpa(
        1,
        100,
        vec![metric("qps", MetricTarget::AverageValue(100))],
        None,
    );
    let (d, _) = run(
        &ControllerConfig::default(),
        &spec,
        &mut HpaState::new(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![6000])],
    );
    assert_eq!(d.desired_replicas, 6);
    assert_eq!(d.conditions[2].reason, "ScaleUpLimit");
    let factor8 = ControllerConfig {
        scale_up_limit_factor: 8.0,
        ..ControllerConfig::default()
    };
    let (d, _) = run(
        &factor8,
        &spec,
        &mut HpaState::new(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![6000])],
    );
    assert_eq!(d.desired_replicas, 24);
    // Max below the limit: TooManyReplicas.
    let spec = hpa(1, 20, spec.metrics.clone(), None);
    let (d, _) = run(
        &factor8,
        &spec,
        &mut HpaState::new(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![6000])],
    );
    assert_eq!(d.desired_replicas, 20);
    assert_eq!(d.conditions[2].reason, "TooManyReplicas");
}

/// `TestScaleDownStabilizeInitialSize` (CPU upstream): a fresh controller seeds the current count, so 5 stays
/// 5 for one downscale-stabilization window although the metric wants 3.
#[test]
fn scale_down_stabilize_initial_size() {
    let spec = hpa(
        2,
        6,
        vec![metric("qps", MetricTarget::AverageValue(1000))],
        None,
    );
    let cfg = ControllerConfig::default();
    let mut state = HpaState::new();
    let (d, _) = run(
        &cfg,
        &spec,
        &mut state,
        obs(T0, 5, 5, 5),
        vec![Ok(vec![2500])],
    );
    assert_eq!((d.desired_replicas, d.rescale), (5, false));
    assert_eq!(
        conds(&d),
        vec![
            (AbleToScale, True, "ScaleDownStabilized"),
            (ScalingActive, True, "ValidMetricFound"),
            (ScalingLimited, False, "DesiredWithinRange"),
        ]
    );
    assert_eq!(
        state.recommendations,
        Some(vec![
            Recommendation {
                replicas: 5,
                at: T0
            },
            Recommendation {
                replicas: 3,
                at: T0
            },
        ])
    );
    // Every 15 s: still 5 up to and including T0 + 300 s (the legacy window includes its cutoff) …
    for k in 1..=20 {
        let (d, _) = run(
            &cfg,
            &spec,
            &mut state,
            obs(T0.plus_secs(15 * k), 5, 5, 5),
            vec![Ok(vec![2500])],
        );
        assert_eq!(d.desired_replicas, 5, "at +{}s", 15 * k);
    }
    // … and the seed ages out after that.
    let (d, _) = run(
        &cfg,
        &spec,
        &mut state,
        obs(T0.plus_secs(315), 5, 5, 5),
        vec![Ok(vec![2500])],
    );
    assert_eq!((d.desired_replicas, d.rescale), (3, true));
    // The list stays bounded by the window: 5 + 20 + 1 recommendations were made, 22 are kept.
    assert_eq!(state.recommendations.as_ref().map(Vec::len), Some(22));
}

#[test]
fn initial_seed_with_behavior_blocks_scale_down_for_the_default_window() {
    let spec = hpa(
        1,
        10,
        vec![metric("qps", MetricTarget::AverageValue(1000))],
        Some(Behavior::default()),
    );
    let cfg = ControllerConfig::default();
    let mut state = HpaState::new();
    for k in 0..20 {
        let (d, _) = run(
            &cfg,
            &spec,
            &mut state,
            obs(T0.plus_secs(15 * k), 5, 5, 5),
            vec![Ok(vec![1000])],
        );
        assert_eq!(d.desired_replicas, 5, "at +{}s", 15 * k);
        assert_eq!(d.conditions[0].reason, "ScaleDownStabilized");
    }
    // At exactly +300 s the seed is at the cutoff, which the behavior path excludes (`After`).
    let (d, _) = run(
        &cfg,
        &spec,
        &mut state,
        obs(T0.plus_secs(300), 5, 5, 5),
        vec![Ok(vec![1000])],
    );
    assert_eq!((d.desired_replicas, d.rescale), (1, true));
    assert_eq!(d.conditions[2].reason, "DesiredWithinRange");
}

#[test]
fn scaling_disabled_at_zero_replicas_does_not_fetch() {
    let spec = hpa(
        1,
        10,
        vec![metric("qps", MetricTarget::AverageValue(1000))],
        None,
    );
    let mut state = HpaState::new();
    let (d, calls) = run(
        &ControllerConfig::default(),
        &spec,
        &mut state,
        obs(T0, 0, 0, 0),
        vec![],
    );
    assert!(calls.is_empty());
    assert_eq!((d.desired_replicas, d.rescale), (0, false));
    assert_eq!(
        conds(&d),
        vec![
            (AbleToScale, True, "SucceededGetScale"),
            (ScalingActive, False, "ScalingDisabled"),
        ]
    );
    assert_eq!(
        d.conditions[1].message,
        "scaling is disabled since the replica count of the target is zero"
    );
    assert_eq!(d.metric_values, vec![None]);
    // The seed is recorded even so.
    assert_eq!(
        state.recommendations,
        Some(vec![Recommendation {
            replicas: 0,
            at: T0
        }])
    );
}

#[test]
fn scale_from_zero_when_min_replicas_is_zero() {
    let spec = hpa(0, 10, vec![metric("qps", MetricTarget::Value(1000))], None);
    let (d, calls) = run(
        &ControllerConfig::default(),
        &spec,
        &mut HpaState::new(),
        obs(T0, 0, 0, 0),
        vec![Ok(vec![2500])],
    );
    assert_eq!(calls, vec!["qps"]);
    // ceil(2.5) = 3, no tolerance, no pods needed; legacy limit max(2 × 0, 4) = 4.
    assert_eq!((d.desired_replicas, d.rescale), (3, true));
}

/// `TestScaleRCImmediately`: outside [min, max] the HPA goes straight to the bound, without metrics.
#[test]
fn out_of_range_goes_to_the_bound_without_fetching() {
    let spec = hpa(
        2,
        5,
        vec![metric("qps", MetricTarget::AverageValue(1000))],
        None,
    );
    let cfg = ControllerConfig::default();
    let (d, calls) = run(&cfg, &spec, &mut HpaState::new(), obs(T0, 6, 6, 6), vec![]);
    assert!(calls.is_empty());
    assert_eq!((d.desired_replicas, d.rescale), (5, true));
    assert_eq!(
        d.rescale_reason.as_deref(),
        Some("New size: 5; reason: Current number of replicas above Spec.MaxReplicas")
    );
    assert_eq!(conds(&d), vec![(AbleToScale, True, "SucceededRescale")]);
    let (d, calls) = run(&cfg, &spec, &mut HpaState::new(), obs(T0, 1, 1, 1), vec![]);
    assert!(calls.is_empty());
    assert_eq!((d.desired_replicas, d.rescale), (2, true));
    assert_eq!(
        d.rescale_reason.as_deref(),
        Some("New size: 2; reason: Current number of replicas below Spec.MinReplicas")
    );
}

/// A `Value` target multiplies by *ready* pods: while new pods start, the same load proposes a scale-down,
/// which an `AverageValue` target (divided by status.replicas, independent of readiness) does not.
#[test]
fn value_target_uses_ready_pods_slow_start_spurious_scale_down() {
    let cfg = ControllerConfig::default();
    // 4 pods exist, 1 is ready; total load 9000m.
    let o = obs(T0, 4, 4, 1);
    let value = hpa(1, 10, vec![metric("qps", MetricTarget::Value(6000))], None);
    let (d, _) = run(&cfg, &value, &mut unseeded(), o, vec![Ok(vec![9000])]);
    // 9000/6000 = 1.5 × 1 ready = 2 < 4: a scale-down proposal …
    assert_eq!((d.desired_replicas, d.rescale), (2, true));
    // … which the stabilization window normally hides.
    let mut state = unseeded();
    state.recommendations = Some(vec![Recommendation {
        replicas: 4,
        at: T0.minus_secs(60),
    }]);
    let (d, _) = run(&cfg, &value, &mut state, o, vec![Ok(vec![9000])]);
    assert_eq!((d.desired_replicas, d.rescale), (4, false));
    assert_eq!(d.conditions[0].reason, "ScaleDownStabilized");
    // AverageValue: 9000 / (1500 × 4) = 1.5 → ceil(9000/1500) = 6, a scale-up.
    let avg = hpa(
        1,
        10,
        vec![metric("qps", MetricTarget::AverageValue(1500))],
        None,
    );
    let (d, _) = run(&cfg, &avg, &mut unseeded(), o, vec![Ok(vec![9000])]);
    assert_eq!((d.desired_replicas, d.rescale), (6, true));
}

#[test]
fn value_target_without_pods_fails_the_metric() {
    let spec = hpa(1, 10, vec![metric("qps", MetricTarget::Value(1000))], None);
    let (d, _) = run(
        &ControllerConfig::default(),
        &spec,
        &mut HpaState::new(),
        obs(T0, 1, 0, 0),
        vec![Ok(vec![5000])],
    );
    assert!(!d.rescale);
    assert_eq!(d.conditions[1].reason, "FailedGetExternalMetric");
    assert_eq!(
        d.conditions[1].message,
        "the HPA was unable to compute the replica count: unable to calculate ready pods: no pods returned by selector while calculating replica count"
    );
}

#[test]
fn keda_style_messages() {
    let spec = hpa(
        1,
        10,
        vec![keda_metric(
            "s0-prometheus",
            "ho11y-hpa",
            MetricTarget::AverageValue(100_000),
        )],
        None,
    );
    let cfg = ControllerConfig::default();
    let (d, _) = run(
        &cfg,
        &spec,
        &mut unseeded(),
        obs(T0, 1, 1, 1),
        vec![Ok(vec![150_000])],
    );
    assert_eq!(
        d.rescale_reason.as_deref(),
        Some(
            "New size: 2; reason: external metric s0-prometheus(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: ho11y-hpa,},MatchExpressions:[]LabelSelectorRequirement{},}) above target"
        )
    );
    assert_eq!(
        d.conditions[1].message,
        "the HPA was able to successfully calculate a replica count from external metric s0-prometheus(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: ho11y-hpa,},MatchExpressions:[]LabelSelectorRequirement{},})"
    );
    assert_eq!(
        d.conditions[0].message,
        "the HPA controller was able to update the target scale to 2"
    );
    let (d, _) = run(
        &cfg,
        &spec,
        &mut unseeded(),
        obs(T0, 2, 2, 2),
        vec![Ok(vec![50_000])],
    );
    assert_eq!(
        d.rescale_reason.as_deref(),
        Some("New size: 1; reason: All metrics below target")
    );
    // The namespace appears in metric errors.
    let mut state = HpaState::new();
    let mut fetch = |_: &ExternalMetric| Err::<Vec<i64>, String>("no data".to_string());
    let d = reconcile_in_namespace(
        "shop",
        &cfg,
        &spec,
        &mut state,
        &obs(T0, 2, 2, 2),
        &mut fetch,
    );
    assert!(
        d.conditions[1]
            .message
            .contains("unable to get external metric shop/s0-prometheus/&LabelSelector{"),
        "{}",
        d.conditions[1].message
    );
}

#[test]
fn per_behavior_tolerance_applies_with_gate_and_behavior() {
    let m = vec![metric("qps", MetricTarget::AverageValue(1000))];
    let tight_up = Behavior {
        scale_up: Some(ScalingRules {
            tolerance: Some(Quantity::parse("0.01").unwrap()),
            ..Default::default()
        }),
        scale_down: None,
    };
    let o = obs(T0, 3, 3, 3);
    let load = || vec![Ok(vec![3060])]; // ratio 1.02
    let cfg = ControllerConfig::default();
    let (d, _) = run(
        &cfg,
        &hpa(1, 10, m.clone(), None),
        &mut HpaState::new(),
        o,
        load(),
    );
    assert_eq!(d.desired_replicas, 3, "within the 10% flag tolerance");
    let (d, _) = run(
        &cfg,
        &hpa(1, 10, m.clone(), Some(tight_up.clone())),
        &mut HpaState::new(),
        o,
        load(),
    );
    assert_eq!(d.desired_replicas, 4, "outside the 1% scale-up tolerance");
    let gate_off = ControllerConfig {
        configurable_tolerance: false,
        ..ControllerConfig::default()
    };
    let (d, _) = run(
        &gate_off,
        &hpa(1, 10, m, Some(tight_up)),
        &mut HpaState::new(),
        o,
        load(),
    );
    assert_eq!(d.desired_replicas, 3, "gate off: flag tolerance");
}

/// Default behavior, 15 s syncs, a load that wants 100 pods: +4 or +100% per 15 s period.
#[test]
fn default_behavior_scale_up_rate_with_recorded_events() {
    let spec = hpa(
        1,
        100,
        vec![metric("qps", MetricTarget::AverageValue(1000))],
        Some(Behavior::default()),
    );
    let cfg = ControllerConfig::default();
    let mut state = HpaState::new();
    let mut replicas = 1;
    let mut seen = vec![replicas];
    for k in 0..8 {
        let now = T0.plus_secs(15 * k);
        let (d, _) = run(
            &cfg,
            &spec,
            &mut state,
            obs(now, replicas, replicas, replicas),
            vec![Ok(vec![100_000])],
        );
        if d.rescale {
            state.record_scale(&spec, now, replicas, d.desired_replicas);
            replicas = d.desired_replicas;
        }
        seen.push(replicas);
    }
    assert_eq!(seen, vec![1, 5, 10, 20, 40, 80, 100, 100, 100]);
    // Events 15 s old fall out of the 15 s period; the list is reused, not grown.
    assert!(
        state.scale_up_events.len() <= 2,
        "{:?}",
        state.scale_up_events
    );
}

/// With a 60 s period the events recorded inside the period count against the next scale-up.
#[test]
fn recorded_events_limit_the_next_scale_up_within_the_period() {
    let up = Behavior {
        scale_up: Some(rules(4, 60, 0, 0, 0)),
        scale_down: None,
    };
    let spec = hpa(
        1,
        100,
        vec![metric("qps", MetricTarget::AverageValue(1000))],
        Some(up),
    );
    let cfg = ControllerConfig::default();
    let mut state = HpaState::new();
    let mut replicas = 2;
    let mut seen = vec![];
    for k in 0..6 {
        let now = T0.plus_secs(15 * k);
        let (d, _) = run(
            &cfg,
            &spec,
            &mut state,
            obs(now, replicas, replicas, replicas),
            vec![Ok(vec![50_000])],
        );
        if d.rescale {
            state.record_scale(&spec, now, replicas, d.desired_replicas);
            replicas = d.desired_replicas;
        }
        seen.push(replicas);
    }
    // +4 at T0, then nothing until the event is 60 s old (excluded at exactly 60 s).
    assert_eq!(seen, vec![6, 6, 6, 6, 10, 10]);
}

#[test]
fn record_scale_is_a_no_op_on_the_legacy_path() {
    let spec = hpa(
        1,
        10,
        vec![metric("qps", MetricTarget::AverageValue(1000))],
        None,
    );
    let mut state = HpaState::new();
    state.record_scale(&spec, T0, 1, 5);
    state.record_scale(&spec, T0, 5, 1);
    assert!(state.scale_up_events.is_empty() && state.scale_down_events.is_empty());
    let spec = hpa(1, 10, spec.metrics, Some(Behavior::default()));
    state.record_scale(&spec, T0, 1, 5);
    state.record_scale(&spec, T0, 5, 2);
    assert_eq!(state.scale_up_events.len(), 1);
    assert_eq!(state.scale_up_events[0].replica_change, 4);
    assert_eq!(state.scale_down_events[0].replica_change, 3);
}

#[test]
fn scale_down_with_behavior_policy_and_window() {
    // Scale down at most 1 pod per 60 s, 60 s window.
    let behavior = Behavior {
        scale_up: None,
        scale_down: Some(rules(1, 60, 0, 0, 60)),
    };
    let spec = hpa(
        1,
        10,
        vec![metric("qps", MetricTarget::AverageValue(1000))],
        Some(behavior),
    );
    let cfg = ControllerConfig::default();
    let mut state = unseeded();
    let mut replicas = 8;
    let mut seen = vec![];
    for k in 0..12 {
        let now = T0.plus_secs(15 * k);
        let (d, _) = run(
            &cfg,
            &spec,
            &mut state,
            obs(now, replicas, replicas, replicas),
            vec![Ok(vec![1000])],
        );
        if d.rescale {
            state.record_scale(&spec, now, replicas, d.desired_replicas);
            replicas = d.desired_replicas;
        }
        seen.push(replicas);
    }
    // No higher recommendation in the window, so the policy alone paces it: −1, then wait for the event to
    // be 60 s old (4 syncs later), and so on.
    assert_eq!(seen, vec![7, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5]);
    // Events at +0, +60 and +120 s: the +0 one is exactly 60 s old when +60 is stored (not outdated, so
    // appended) and outdated when +120 is stored (its slot is reused).
    let at: Vec<i64> = state
        .scale_down_events
        .iter()
        .map(|e| e.at.millis())
        .collect();
    assert_eq!(
        at,
        vec![T0.plus_secs(120).millis(), T0.plus_secs(60).millis()]
    );
}

#[test]
fn same_inputs_give_same_outputs() {
    let spec = hpa(
        1,
        20,
        vec![
            metric("a", MetricTarget::AverageValue(1000)),
            metric("b", MetricTarget::Value(5000)),
        ],
        Some(Behavior::default()),
    );
    let cfg = ControllerConfig::default();
    let mut s1 = HpaState::new();
    let mut s2 = HpaState::new();
    for k in 0..10 {
        let o = obs(T0.plus_secs(15 * k), 4, 4, 3);
        let answers = || vec![Ok(vec![1000 * (k + 1)]), Ok(vec![7000])];
        let (d1, _) = run(&cfg, &spec, &mut s1, o, answers());
        let (d2, _) = run(&cfg, &spec, &mut s2, o, answers());
        assert_eq!(d1, d2);
        assert_eq!(s1, s2);
    }
}

#[test]
fn test_tolerance_cm_external() {
    let spec = hpa(2, 6, vec![metric("qps", MetricTarget::Value(8666))], None);
    let (d, _) = run(
        &ControllerConfig::default(),
        &spec,
        &mut HpaState::new(),
        obs(T0, 4, 4, 4),
        vec![Ok(vec![8600])],
    );
    assert_eq!((d.desired_replicas, d.rescale), (4, false));
    assert_eq!(
        conds(&d),
        vec![
            (AbleToScale, True, "ReadyForNewScale"),
            (ScalingActive, True, "ValidMetricFound"),
            (ScalingLimited, False, "DesiredWithinRange"),
        ]
    );
}

#[test]
fn test_tolerance_per_pod_cm_external() {
    let spec = hpa(
        2,
        6,
        vec![metric("qps", MetricTarget::AverageValue(2200))],
        None,
    );
    let (d, _) = run(
        &ControllerConfig::default(),
        &spec,
        &mut HpaState::new(),
        obs(T0, 4, 4, 4),
        vec![Ok(vec![8600])],
    );
    assert_eq!((d.desired_replicas, d.rescale), (4, false));
    assert_eq!(d.conditions[0].reason, "ReadyForNewScale");
    assert_eq!(d.metric_values, vec![Some(2150)]);
}

/// `TestZeroReplicas`, `TestTooFewReplicas`, `TestTooManyReplicas`: upstream configures a CPU target, but no
/// metric is read in these paths, so an External metric stands in unchanged.
#[test]
fn test_zero_too_few_too_many_replicas() {
    let m = vec![metric("qps", MetricTarget::AverageValue(1000))];
    let cfg = ControllerConfig::default();
    let (d, calls) = run(
        &cfg,
        &hpa(3, 5, m.clone(), None),
        &mut HpaState::new(),
        obs(T0, 0, 0, 0),
        vec![],
    );
    assert!(calls.is_empty());
    assert_eq!((d.desired_replicas, d.rescale), (0, false));
    assert_eq!(
        conds(&d),
        vec![
            (AbleToScale, True, "SucceededGetScale"),
            (ScalingActive, False, "ScalingDisabled"),
        ]
    );
    let (d, calls) = run(
        &cfg,
        &hpa(3, 5, m.clone(), None),
        &mut HpaState::new(),
        obs(T0, 2, 2, 2),
        vec![],
    );
    assert!(calls.is_empty());
    assert_eq!((d.desired_replicas, d.rescale), (3, true));
    assert_eq!(conds(&d), vec![(AbleToScale, True, "SucceededRescale")]);
    let (d, calls) = run(
        &cfg,
        &hpa(3, 5, m, None),
        &mut HpaState::new(),
        obs(T0, 10, 10, 10),
        vec![],
    );
    assert!(calls.is_empty());
    assert_eq!((d.desired_replicas, d.rescale), (5, true));
    assert_eq!(conds(&d), vec![(AbleToScale, True, "SucceededRescale")]);
}

/// External equivalents of `TestMinReplicas`, `TestMinReplicasDesiredZero`, `TestZeroMinReplicasDesiredZero`
/// and `TestMaxReplicas` (CPU upstream): the proposal is clamped to the bounds with the same conditions.
#[test]
fn min_and_max_replicas_clamp() {
    let m = vec![metric("qps", MetricTarget::AverageValue(1000))];
    let cfg = ControllerConfig::default();
    let limited = |d: &Decision| (d.conditions[2].status, d.conditions[2].reason.clone());
    // TestMinReplicas: proposal 1 < min 2.
    let (d, _) = run(
        &cfg,
        &hpa(2, 5, m.clone(), None),
        &mut unseeded(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![900])],
    );
    assert_eq!(d.desired_replicas, 2);
    assert_eq!(limited(&d), (True, "TooFewReplicas".to_string()));
    // TestMinReplicasDesiredZero: proposal 0 < min 2.
    let (d, _) = run(
        &cfg,
        &hpa(2, 5, m.clone(), None),
        &mut unseeded(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![0])],
    );
    assert_eq!(d.desired_replicas, 2);
    assert_eq!(limited(&d), (True, "TooFewReplicas".to_string()));
    // TestZeroMinReplicasDesiredZero: min 0 allows 0.
    let (d, _) = run(
        &cfg,
        &hpa(0, 5, m.clone(), None),
        &mut unseeded(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![0])],
    );
    assert_eq!(d.desired_replicas, 0);
    assert_eq!(limited(&d), (False, "DesiredWithinRange".to_string()));
    // TestMaxReplicas: proposal 19 > max 5 (< the legacy limit 6).
    let (d, _) = run(
        &cfg,
        &hpa(2, 5, m, None),
        &mut unseeded(),
        obs(T0, 3, 3, 3),
        vec![Ok(vec![18_500])],
    );
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(limited(&d), (True, "TooManyReplicas".to_string()));
}

// Not ported (they exercise CPU/Resource, Pods or Object metrics, pod readiness/start-time rules or the
// controller's API plumbing, none of which an External-metric HPA uses): TestScaleUp, TestScaleUpContainer,
// TestScaleUpUnreadyLessScale, TestScaleUpHotCpuLessScale, TestScaleUpUnreadyNoScale,
// TestScaleUpHotCpuNoScale, TestScaleUpIgnoresFailedPods, TestScaleUpIgnoresDeletionPods,
// TestScaleUpDeployment, TestScaleUpReplicaSet, TestScaleUpCM, TestScaleUpCMUnreadyAndHotCpuNoLessScale,
// TestScaleUpCMUnreadyandCpuHot, TestScaleUpHotCpuNoScaleWouldScaleDown, TestScaleUpCMObject,
// TestScaleUpFromZeroCMObject, TestScaleUpFromZeroIgnoresToleranceCMObject, TestScaleUpPerPodCMObject,
// TestScaleUpOneMetricInvalid, TestScaleUpFromZeroOneMetricInvalid, TestScaleUpBothMetricsEmpty,
// TestScaleDown, TestScaleDownContainerResource, TestScaleDownWithScalingRules, TestScaleDownCM,
// TestScaleDownCMObject, TestScaleDownToZeroCMObject, TestScaleDownPerPodCMObject,
// TestScaleDownIncludeUnreadyPods, TestScaleDownOneMetricInvalid, TestScaleDownIgnoreHotCpuPods,
// TestScaleDownIgnoresUnreadyPods, TestScaleDownIgnoresFailedPods, TestScaleDownIgnoresDeletionPods,
// TestTolerance, TestToleranceCM, TestToleranceCMObject, TestTolerancePerPodCMObject,
// TestSuperfluousMetrics, TestMissingMetrics, TestEmptyMetrics, TestEmptyCPURequest, TestEventCreated,
// TestEventNotCreated, TestMissingReports, TestConditionInvalidSelector*, TestConditionFailedGet*,
// TestConditionFailedUpdateScale, TestNoBackoffUpscaleCM*, TestStabilizeDownscale (CPU form of the
// stabilization tests above), TestComputedToleranceAlgImplementation, TestAvoidUnnecessaryUpdates,
// TestMultipleHPAs, TestHPARescaleWithSuccessfulConflictRetry, TestReconciliationDuration*.
