//! The upstream pure-function test tables of the HPA controller (`horizontal_test.go`) and of the API
//! defaulting (`pkg/apis/autoscaling/v2/defaults_test.go`), with their case names, run against the port.
//!
//! Upstream builds times as `time.Now().Add(-age)` and evaluates a moment later; here `now` is fixed and every
//! age is exact, which gives the same results (an event exactly one period old is outside the period in both).

use prescale_core::Timestamp;
use prescale_core::hpa::api::{PolicyType, ScalingPolicy, ScalingRules, SelectPolicy};
use prescale_core::hpa::rate::{
    ScaleEvent, calculate_scale_down_limit_with_behaviors, calculate_scale_up_limit,
    calculate_scale_up_limit_with_scaling_rules, convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules, get_replicas_change_per_period, store_scale_event,
};
use prescale_core::hpa::rules::{generate_scale_down_rules, generate_scale_up_rules};
use prescale_core::hpa::stabilize::{
    NormalizationArg, Recommendation, stabilize_recommendation,
    stabilize_recommendation_with_behaviors,
};
use prescale_core::hpa::{Behavior, ControllerConfig};

const NOW: Timestamp = Timestamp::from_secs(1_000_000);

/// `generateScalingRules(pods, podsPeriod, percent, percentPeriod, stabilizationWindow)`: SelectPolicy Max, a
/// policy only for a non-zero value.
fn rules(
    pods: i32,
    pods_period: i32,
    percent: i32,
    percent_period: i32,
    stab: i32,
) -> ScalingRules {
    let mut policies = None;
    if pods != 0 {
        policies.get_or_insert_with(Vec::new).push(ScalingPolicy {
            kind: PolicyType::Pods,
            value: pods,
            period_seconds: pods_period,
        });
    }
    if percent != 0 {
        policies.get_or_insert_with(Vec::new).push(ScalingPolicy {
            kind: PolicyType::Percent,
            value: percent,
            period_seconds: percent_period,
        });
    }
    ScalingRules {
        stabilization_window_seconds: Some(stab),
        select_policy: Some(SelectPolicy::Max),
        policies,
        tolerance: None,
    }
}

/// `generateEventsUniformDistribution(raw, period)`: event i at age `period − seg·(i+1) + seg/2` seconds,
/// `seg = period/len`, truncated to whole seconds as `time.Duration(float)` does.
fn events(raw: &[i32], period: i32) -> Vec<ScaleEvent> {
    let seg = f64::from(period) / raw.len() as f64;
    raw.iter()
        .enumerate()
        .map(|(i, &change)| {
            let age = (f64::from(period) - seg * (i as f64 + 1.0) + seg / 2.0) as i64;
            ScaleEvent {
                replica_change: change,
                at: NOW.minus_secs(age),
                outdated: false,
            }
        })
        .collect()
}

fn rec(replicas: i32, age_secs: i64) -> Recommendation {
    Recommendation {
        replicas,
        at: NOW.minus_secs(age_secs),
    }
}

fn ev(change: i32, age_secs: i64) -> ScaleEvent {
    ScaleEvent {
        replica_change: change,
        at: NOW.minus_secs(age_secs),
        outdated: false,
    }
}

const MIN: i64 = 60;

#[test]
fn test_events_uniform_distribution_ages() {
    let ages = |raw: &[i32], p| -> Vec<i64> {
        events(raw, p)
            .iter()
            .map(|e| (NOW.millis() - e.at.millis()) / 1000)
            .collect()
    };
    assert_eq!(ages(&[1, 5, 9], 120), vec![100, 60, 20]);
    assert_eq!(ages(&[8, 12, 9, 11], 120), vec![105, 75, 45, 15]);
    assert_eq!(ages(&[4], 120), vec![60]);
}

#[test]
fn test_calculate_scale_up_limit_with_scaling_rules() {
    let r = ScalingRules {
        stabilization_window_seconds: Some(300),
        select_policy: Some(SelectPolicy::Min),
        policies: Some(vec![
            ScalingPolicy {
                kind: PolicyType::Pods,
                value: 2,
                period_seconds: 60,
            },
            ScalingPolicy {
                kind: PolicyType::Percent,
                value: 50,
                period_seconds: 60,
            },
        ]),
        tolerance: None,
    };
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(1, &[], &[], &r, NOW),
        2
    );
}

#[test]
fn test_calculate_scale_down_limit_with_behaviors() {
    let r = ScalingRules {
        stabilization_window_seconds: Some(300),
        select_policy: Some(SelectPolicy::Min),
        policies: Some(vec![
            ScalingPolicy {
                kind: PolicyType::Pods,
                value: 2,
                period_seconds: 60,
            },
            ScalingPolicy {
                kind: PolicyType::Percent,
                value: 50,
                period_seconds: 60,
            },
        ]),
        tolerance: None,
    };
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(5, &[], &[], &r, NOW),
        3
    );
}

struct RulesCase {
    name: &'static str,
    up_events: Vec<ScaleEvent>,
    down_events: Vec<ScaleEvent>,
    min: i32,
    max: i32,
    up: Option<ScalingRules>,
    down: Option<ScalingRules>,
    current: i32,
    desired: i32,
    expected: i32,
    condition: &'static str,
}

fn case(
    name: &'static str,
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
    expected: i32,
    condition: &'static str,
) -> RulesCase {
    RulesCase {
        name,
        up_events: vec![],
        down_events: vec![],
        min,
        max,
        up: None,
        down: None,
        current,
        desired,
        expected,
        condition,
    }
}

impl RulesCase {
    fn up(mut self, r: ScalingRules) -> Self {
        self.up = Some(r);
        self
    }
    fn down(mut self, r: ScalingRules) -> Self {
        self.down = Some(r);
        self
    }
    fn up_events(mut self, e: Vec<ScaleEvent>) -> Self {
        self.up_events = e;
        self
    }
    fn down_events(mut self, e: Vec<ScaleEvent>) -> Self {
        self.down_events = e;
        self
    }
}

#[test]
fn test_scaling_with_rules() {
    let cases = vec![
        case("prenormalized desired replicas within range", 5, 7, 3, 8, 7, "DesiredWithinRange"),
        case("prenormalized desired replicas < minReplicas", 3, 1, 2, 8, 2, "TooFewReplicas"),
        case(
            "prenormalized desired replicas within range when minReplicas is 0",
            1,
            0,
            0,
            10,
            0,
            "DesiredWithinRange",
        ),
        case(
            "maxReplicas is the limit because maxReplicas < scaleUpLimit",
            20,
            1000,
            1,
            10,
            10,
            "TooManyReplicas",
        ),
        case(
            "desired replica count is more than the maximum replica count",
            100,
            1000,
            100,
            150,
            150,
            "TooManyReplicas",
        ),
        case(
            "scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies",
            3,
            1000,
            1,
            2000,
            4,
            "ScaleUpLimit",
        )
        .up(rules(0, 0, 1, 60, 0)),
        case("scaleUp with default behavior", 10, 50, 1, 1000, 20, "ScaleUpLimit"),
        case(
            "scaleUp with pods policy larger than percent policy",
            10,
            500,
            1,
            1000,
            110,
            "ScaleUpLimit",
        )
        .up(rules(100, 60, 100, 60, 0)),
        case(
            "scaleUp with percent policy larger than pods policy",
            10,
            500,
            1,
            1000,
            20,
            "ScaleUpLimit",
        )
        .up(rules(2, 60, 100, 60, 0)),
        case(
            "scaleUp with spec MaxReplicas limitation with large pod policy",
            10,
            50,
            1,
            1000,
            50,
            "DesiredWithinRange",
        )
        .up(rules(100, 60, 0, 0, 0)),
        case(
            "scaleUp with spec MaxReplicas limitation with large percent policy",
            10,
            50,
            1,
            1000,
            50,
            "DesiredWithinRange",
        )
        .up(rules(10000, 60, 0, 0, 0)),
        case("scaleUp with pod policy limitation", 10, 50, 1, 1000, 40, "ScaleUpLimit")
            .up(rules(30, 60, 0, 0, 0)),
        case("scaleUp with percent policy limitation", 10, 50, 1, 1000, 30, "ScaleUpLimit")
            .up(rules(0, 0, 200, 60, 0)),
        case(
            "scaleDown with percent policy larger than pod policy",
            100,
            2,
            1,
            1000,
            80,
            "ScaleDownLimit",
        )
        .down(rules(20, 60, 1, 60, 300)),
        case(
            "scaleDown with pod policy larger than percent policy",
            100,
            2,
            1,
            1000,
            98,
            "ScaleDownLimit",
        )
        .down(rules(2, 60, 1, 60, 300)),
        case(
            "scaleDown with spec MinReplicas limitation with large pod policy",
            10,
            0,
            1,
            1000,
            1,
            "TooFewReplicas",
        )
        .down(rules(100, 60, 0, 0, 300)),
        case(
            "scaleDown with spec MinReplicas limitation with large percent policy",
            10,
            2,
            5,
            1000,
            5,
            "TooFewReplicas",
        )
        .down(rules(0, 0, 100, 60, 300)),
        case("scaleDown with pod policy limitation", 10, 2, 1, 1000, 5, "ScaleDownLimit")
            .down(rules(5, 60, 0, 0, 300)),
        case(
            "scaleDown with percent policy limitation",
            10,
            5,
            1,
            1000,
            5,
            "DesiredWithinRange",
        )
        .down(rules(0, 0, 50, 60, 300)),
        case(
            "scaleUp with spec MaxReplicas limitation with large pod policy and events",
            100,
            500,
            1,
            200,
            200,
            "TooManyReplicas",
        )
        .up_events(events(&[1, 5, 9], 120))
        .up(rules(300, 60, 0, 0, 0)),
        case(
            "scaleUp with spec MaxReplicas limitation with large percent policy and events",
            100,
            500,
            1,
            200,
            200,
            "TooManyReplicas",
        )
        .up_events(events(&[1, 5, 9], 120))
        .up(rules(0, 0, 10000, 60, 0)),
        // 120 s ago there were 100 − 15 replicas; 85 + 5 < 100, so no scale-up at all.
        case(
            "scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events",
            100,
            500,
            1,
            1000,
            100,
            "ScaleUpLimit",
        )
        .up_events(events(&[1, 5, 9], 120))
        .up(rules(5, 120, 0, 0, 0)),
        case(
            "scaleUp with pod policy and previous scale up events",
            100,
            500,
            1,
            1000,
            235,
            "ScaleUpLimit",
        )
        .up_events(events(&[1, 5, 9], 120))
        .up(rules(150, 120, 0, 0, 0)),
        case(
            "scaleUp with percent policy and previous scale up events",
            100,
            500,
            1,
            1000,
            255,
            "ScaleUpLimit",
        )
        .up_events(events(&[1, 5, 9], 120))
        .up(rules(0, 0, 200, 120, 0)),
        case(
            "scaleUp with percent policy and previous scale up and down events",
            6,
            24,
            1,
            1000,
            16,
            "ScaleUpLimit",
        )
        .up_events(events(&[4], 120))
        .down_events(events(&[2], 120))
        .up(rules(0, 0, 300, 300, 0)),
        case(
            "scaleDown with default policy and previous events",
            10,
            5,
            1,
            1000,
            5,
            "DesiredWithinRange",
        )
        .down_events(events(&[1, 5, 9], 120)),
        case(
            "scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events",
            100,
            0,
            1,
            1000,
            1,
            "TooFewReplicas",
        )
        .down_events(events(&[1, 5, 9], 120))
        .down(rules(115, 120, 0, 0, 300)),
        case(
            "scaleDown with spec MinReplicas limitation with large pod policy and previous events",
            100,
            0,
            5,
            1000,
            5,
            "TooFewReplicas",
        )
        .down_events(events(&[1, 5, 9], 120))
        .down(rules(130, 120, 0, 0, 300)),
        case(
            "scaleDown with spec MinReplicas limitation with large percent policy and previous events",
            100,
            2,
            5,
            1000,
            5,
            "TooFewReplicas",
        )
        .down_events(events(&[1, 5, 9], 120))
        .down(rules(0, 0, 100, 120, 300)),
        case(
            "scaleDown with pod policy limitation and previous events",
            100,
            2,
            1,
            1000,
            100,
            "ScaleDownLimit",
        )
        .down_events(events(&[1, 5, 9], 120))
        .down(rules(5, 120, 0, 0, 300)),
        case(
            "scaleDown with percent policy limitation and previous events",
            100,
            0,
            1,
            1000,
            56,
            "ScaleDownLimit",
        )
        .down_events(events(&[2, 4, 6], 120))
        .down(rules(0, 0, 50, 120, 300)),
        case(
            "scaleDown with percent policy and previous scale up and down events",
            10,
            1,
            1,
            1000,
            6,
            "ScaleDownLimit",
        )
        .up_events(events(&[2], 120))
        .down_events(events(&[4], 120))
        .down(rules(0, 0, 50, 180, 0)),
        // (100 + 30) − 10% = 117 > 100: keep 100.
        case(
            "scaleDown with previous events preventing further scale down",
            100,
            0,
            1,
            1000,
            100,
            "ScaleDownLimit",
        )
        .down_events(events(&[10, 10, 10], 120))
        .down(rules(0, 0, 10, 120, 300)),
        // (10 + 30) − 1000% = −360 < 5: the metric's 5 stands.
        case(
            "scaleDown with with previous events still allowing more scale down",
            10,
            5,
            1,
            1000,
            5,
            "DesiredWithinRange",
        )
        .down_events(events(&[10, 10, 10], 120))
        .down(rules(0, 0, 1000, 120, 300)),
        case(
            "check 'outdated' flag for events for one behavior for up",
            100,
            200,
            1,
            1000,
            200,
            "DesiredWithinRange",
        )
        .up_events(events(&[8, 12, 9, 11], 120))
        .up(rules(1000, 60, 0, 0, 0)),
        case(
            "check that events were not marked 'outdated' for two different policies in the behavior for up",
            100,
            200,
            1,
            1000,
            200,
            "DesiredWithinRange",
        )
        .up_events(events(&[8, 12, 9, 11], 120))
        .up(rules(1000, 120, 100, 60, 0)),
        case(
            "check that events were marked 'outdated' for two different policies in the behavior for up",
            100,
            200,
            1,
            1000,
            200,
            "DesiredWithinRange",
        )
        .up_events(events(&[8, 12, 9, 11], 120))
        .up(rules(1000, 30, 100, 60, 0)),
        case(
            "check 'outdated' flag for events for one behavior for down",
            100,
            5,
            1,
            1000,
            5,
            "DesiredWithinRange",
        )
        .down_events(events(&[8, 12, 9, 11], 120))
        .down(rules(1000, 60, 0, 0, 300)),
        case(
            "check that events were not marked 'outdated' for two different policies in the behavior for down",
            100,
            5,
            1,
            1000,
            5,
            "DesiredWithinRange",
        )
        .down_events(events(&[8, 12, 9, 11], 120))
        .down(rules(1000, 120, 100, 60, 300)),
        case(
            "check that events were marked 'outdated' for two different policies in the behavior for down",
            100,
            5,
            1,
            1000,
            5,
            "DesiredWithinRange",
        )
        .down_events(events(&[8, 12, 9, 11], 120))
        .down(rules(1000, 30, 100, 60, 300)),
    ];
    assert_eq!(cases.len(), 40, "every row of the upstream table");
    for tc in cases {
        let up = generate_scale_up_rules(tc.up.as_ref());
        let down = generate_scale_down_rules(tc.down.as_ref());
        let arg = NormalizationArg {
            scale_up: &up,
            scale_down: &down,
            min_replicas: tc.min,
            max_replicas: tc.max,
            current_replicas: tc.current,
            desired_replicas: tc.desired,
        };
        let got =
            convert_desired_replicas_with_behavior_rate(&arg, &tc.up_events, &tc.down_events, NOW);
        assert_eq!(got.replicas, tc.expected, "{}: replicas", tc.name);
        assert_eq!(got.reason, tc.condition, "{}: condition", tc.name);
    }
}

struct StabCase {
    name: &'static str,
    recs: Vec<Recommendation>,
    current: i32,
    desired: i32,
    expected: i32,
    expected_recs: Option<Vec<i32>>,
    up_window: i32,
    down_window: i32,
}

#[test]
fn test_normalize_desired_replicas_with_behavior() {
    let cases = vec![
        StabCase {
            name: "empty recommendations for scaling down",
            recs: vec![],
            current: 100,
            desired: 5,
            expected: 5,
            expected_recs: Some(vec![5]),
            up_window: 0,
            down_window: 0,
        },
        StabCase {
            name: "simple scale down stabilization",
            recs: vec![rec(4, 2 * MIN), rec(5, MIN)],
            current: 100,
            desired: 3,
            expected: 5,
            expected_recs: Some(vec![4, 5, 3]),
            up_window: 0,
            down_window: 180,
        },
        StabCase {
            name: "simple scale up stabilization",
            recs: vec![rec(4, 2 * MIN), rec(5, MIN)],
            current: 1,
            desired: 7,
            expected: 4,
            expected_recs: Some(vec![4, 5, 7]),
            up_window: 300,
            down_window: 0,
        },
        StabCase {
            name: "no scale down stabilization",
            recs: vec![rec(1, 2 * MIN), rec(2, MIN)],
            current: 100,
            desired: 3,
            expected: 3,
            expected_recs: Some(vec![1, 2, 3]),
            up_window: 300,
            down_window: 0,
        },
        StabCase {
            name: "no scale up stabilization",
            recs: vec![rec(4, 2 * MIN), rec(5, MIN)],
            current: 1,
            desired: 3,
            expected: 3,
            expected_recs: Some(vec![4, 5, 3]),
            up_window: 0,
            down_window: 300,
        },
        StabCase {
            name: "no scale down stabilization, reuse recommendation element",
            recs: vec![rec(10, 10 * MIN), rec(9, 9 * MIN)],
            current: 100,
            desired: 3,
            expected: 3,
            expected_recs: Some(vec![10, 3]),
            up_window: 0,
            down_window: 0,
        },
        StabCase {
            name: "no scale up stabilization, reuse recommendation element",
            recs: vec![rec(10, 10 * MIN), rec(9, 9 * MIN)],
            current: 1,
            desired: 100,
            expected: 100,
            expected_recs: Some(vec![10, 100]),
            up_window: 0,
            down_window: 0,
        },
        StabCase {
            name: "scale down stabilization, reuse one of obsolete recommendation element",
            recs: vec![
                rec(10, 10 * MIN),
                rec(4, MIN),
                rec(5, 2 * MIN),
                rec(9, 9 * MIN),
            ],
            current: 100,
            desired: 3,
            expected: 5,
            expected_recs: Some(vec![10, 4, 5, 3]),
            up_window: 0,
            down_window: 180,
        },
        StabCase {
            name: "scale up stabilization, reuse one of obsolete recommendation element",
            recs: vec![
                rec(10, 100 * MIN),
                rec(6, MIN),
                rec(5, 2 * MIN),
                rec(9, 3 * MIN),
            ],
            current: 1,
            desired: 100,
            expected: 5,
            expected_recs: Some(vec![100, 6, 5, 9]),
            up_window: 300,
            down_window: 0,
        },
        StabCase {
            name: "scale up and down stabilization, do not scale up when prenormalized rec goes down",
            recs: vec![rec(2, 100 * MIN), rec(3, 3 * MIN)],
            current: 2,
            desired: 1,
            expected: 2,
            expected_recs: None,
            up_window: 300,
            down_window: 300,
        },
        StabCase {
            name: "scale up and down stabilization, do not scale down when prenormalized rec goes up",
            recs: vec![rec(2, 100 * MIN), rec(1, 3 * MIN)],
            current: 2,
            desired: 3,
            expected: 2,
            expected_recs: None,
            up_window: 300,
            down_window: 300,
        },
    ];
    for mut tc in cases {
        let up = ScalingRules {
            stabilization_window_seconds: Some(tc.up_window),
            ..Default::default()
        };
        let down = ScalingRules {
            stabilization_window_seconds: Some(tc.down_window),
            ..Default::default()
        };
        let arg = NormalizationArg {
            scale_up: &up,
            scale_down: &down,
            min_replicas: 0,
            max_replicas: 0,
            current_replicas: tc.current,
            desired_replicas: tc.desired,
        };
        let got = stabilize_recommendation_with_behaviors(&mut tc.recs, NOW, &arg);
        assert_eq!(got.replicas, tc.expected, "{}", tc.name);
        if let Some(expected) = tc.expected_recs {
            let stored: Vec<i32> = tc.recs.iter().map(|r| r.replicas).collect();
            assert_eq!(stored, expected, "{}: stored recommendations", tc.name);
        }
    }
}

#[test]
fn test_normalize_desired_replicas() {
    // Legacy stabilizeRecommendation with --horizontal-pod-autoscaler-downscale-stabilization=5m.
    let cases: Vec<(&str, Vec<Recommendation>, i32, i32, usize)> = vec![
        ("empty log", vec![], 5, 5, 1),
        ("stabilize", vec![rec(4, 2 * MIN), rec(5, MIN)], 3, 5, 3),
        ("no stabilize", vec![rec(1, 2 * MIN), rec(2, MIN)], 3, 3, 3),
        (
            "no stabilize - old recommendations",
            vec![rec(10, 10 * MIN), rec(9, 9 * MIN)],
            3,
            3,
            2,
        ),
        (
            "stabilize - old recommendations",
            vec![
                rec(10, 10 * MIN),
                rec(4, MIN),
                rec(5, 2 * MIN),
                rec(9, 9 * MIN),
            ],
            3,
            5,
            4,
        ),
    ];
    for (name, mut recs, desired, expected, log_len) in cases {
        let got = stabilize_recommendation(&mut recs, NOW, 300_000, desired);
        assert_eq!(got, expected, "{name}");
        assert_eq!(recs.len(), log_len, "{name}: log length");
    }
}

#[test]
fn legacy_stabilization_includes_a_recommendation_exactly_at_the_cutoff() {
    // `!Before(cutoff)`: a recommendation exactly 300 s old still counts on the legacy path …
    let mut recs = vec![rec(9, 300)];
    assert_eq!(stabilize_recommendation(&mut recs, NOW, 300_000, 3), 9);
    // … but not on the behavior path (`After(cutoff)`).
    let mut recs = vec![rec(9, 300)];
    let up = ScalingRules {
        stabilization_window_seconds: Some(0),
        ..Default::default()
    };
    let down = ScalingRules {
        stabilization_window_seconds: Some(300),
        ..Default::default()
    };
    let arg = NormalizationArg {
        scale_up: &up,
        scale_down: &down,
        min_replicas: 1,
        max_replicas: 10,
        current_replicas: 9,
        desired_replicas: 3,
    };
    assert_eq!(
        stabilize_recommendation_with_behaviors(&mut recs, NOW, &arg).replicas,
        3
    );
}

struct StoreCase {
    name: &'static str,
    prev: Vec<ScaleEvent>,
    new: Vec<(i32, bool)>,
    rules: Option<ScalingRules>,
    expected_change: i32,
}

#[test]
fn test_store_scale_events() {
    let cases = vec![
        StoreCase {
            name: "empty entries with default behavior",
            prev: vec![],
            new: vec![],
            rules: None,
            expected_change: 0,
        },
        StoreCase {
            name: "empty entries with two-policy-behavior",
            prev: vec![],
            new: vec![(5, false)],
            rules: Some(rules(10, 60, 100, 60, 0)),
            expected_change: 0,
        },
        StoreCase {
            name: "one outdated entry to be kept untouched without behavior",
            prev: vec![ev(7, 61)],
            new: vec![(7, false)],
            rules: None,
            expected_change: 0,
        },
        StoreCase {
            name: "one outdated entry to be replaced with behavior",
            prev: vec![ev(7, 61)],
            new: vec![(5, false)],
            rules: Some(rules(10, 60, 100, 60, 0)),
            expected_change: 0,
        },
        StoreCase {
            name: "one actual entry to be not touched with behavior",
            prev: vec![ev(7, 58)],
            new: vec![(7, false), (5, false)],
            rules: Some(rules(10, 60, 100, 60, 0)),
            expected_change: 7,
        },
        StoreCase {
            name: "two entries, one of them to be replaced",
            prev: vec![ev(7, 61), ev(6, 59)],
            new: vec![(5, false), (6, false)],
            rules: Some(rules(10, 60, 0, 0, 0)),
            expected_change: 6,
        },
        StoreCase {
            name: "replace one entry, use policies with different periods",
            prev: vec![ev(8, 29), ev(6, 59), ev(7, 61), ev(9, 61)],
            new: vec![(8, false), (6, false), (7, true), (5, false)],
            rules: Some(rules(10, 60, 100, 30, 0)),
            expected_change: 14,
        },
        StoreCase {
            name: "two entries, both actual",
            prev: vec![ev(7, 58), ev(6, 59)],
            new: vec![(7, false), (6, false), (5, false)],
            rules: Some(rules(10, 120, 100, 30, 0)),
            expected_change: 13,
        },
    ];
    for tc in cases {
        let show = |events: &[ScaleEvent]| -> Vec<(i32, bool)> {
            events
                .iter()
                .map(|e| (e.replica_change, e.outdated))
                .collect()
        };
        // Scale up: 10 → 15.
        let behavior_up = tc.rules.clone().map(|r| Behavior {
            scale_up: Some(r),
            scale_down: None,
        });
        let mut up = tc.prev.clone();
        let mut down = vec![];
        assert_eq!(
            get_replicas_change_per_period(60, &up, NOW),
            tc.expected_change,
            "{}",
            tc.name
        );
        store_scale_event(behavior_up.as_ref(), &mut up, &mut down, NOW, 10, 15);
        assert_eq!(show(&up), tc.new, "{}: up", tc.name);
        assert!(
            down.is_empty(),
            "{}: nothing stored in the other direction",
            tc.name
        );
        // Scale down: 10 → 5.
        let behavior_down = tc.rules.clone().map(|r| Behavior {
            scale_up: None,
            scale_down: Some(r),
        });
        let mut up = vec![];
        let mut down = tc.prev.clone();
        assert_eq!(
            get_replicas_change_per_period(60, &down, NOW),
            tc.expected_change,
            "{}",
            tc.name
        );
        store_scale_event(behavior_down.as_ref(), &mut up, &mut down, NOW, 10, 5);
        assert_eq!(show(&down), tc.new, "{}: down", tc.name);
        assert!(
            up.is_empty(),
            "{}: nothing stored in the other direction",
            tc.name
        );
    }
}

#[test]
fn test_convert_desired_replicas_with_rules() {
    // Production scaleUpLimitFactor = 2 (upstream's test init() sets 8).
    let cfg = ControllerConfig::default();
    let cases: Vec<(&str, i32, i32, i32, i32, i32, &str)> = vec![
        (
            "prenormalized desired replicas within range",
            5,
            7,
            3,
            8,
            7,
            "DesiredWithinRange",
        ),
        (
            "prenormalized desired replicas < minReplicas",
            3,
            1,
            2,
            8,
            2,
            "TooFewReplicas",
        ),
        (
            "prenormalized desired zeroed replicas within range",
            1,
            0,
            0,
            10,
            0,
            "DesiredWithinRange",
        ),
        (
            "maxReplicas is the limit because maxReplicas < scaleUpLimit",
            20,
            1000,
            1,
            10,
            10,
            "TooManyReplicas",
        ),
        // calculateScaleUpLimit(3) = max(2 × 3, 4) = 6 in production (24 with the test's factor 8, below).
        (
            "scaleUpLimit is the limit because scaleUpLimit < maxReplicas",
            3,
            1000,
            1,
            2000,
            6,
            "ScaleUpLimit",
        ),
    ];
    for (name, current, desired, min, max, expected, condition) in cases {
        let got = convert_desired_replicas_with_rules(
            current,
            desired,
            min,
            max,
            cfg.scale_up_limit_factor,
            cfg.scale_up_limit_minimum,
        );
        assert_eq!(got.replicas, expected, "{name}");
        assert_eq!(got.reason, condition, "{name}");
    }
    // The upstream expectation, computed with the factor its test binary uses.
    let got = convert_desired_replicas_with_rules(3, 1000, 1, 2000, 8.0, 4.0);
    assert_eq!((got.replicas, got.reason), (24, "ScaleUpLimit"));
    assert_eq!(calculate_scale_up_limit(3, 8.0, 4.0), 24);
    assert_eq!(calculate_scale_up_limit(3, 2.0, 4.0), 6);
    assert_eq!(calculate_scale_up_limit(1, 2.0, 4.0), 4);
    assert_eq!(calculate_scale_up_limit(0, 2.0, 4.0), 4);
}

fn policy(kind: PolicyType, value: i32, period_seconds: i32) -> ScalingPolicy {
    ScalingPolicy {
        kind,
        value,
        period_seconds,
    }
}

/// The rules upstream's defaults test builds: a policy whenever its value or period is non-zero.
fn spec_rules(
    pods: (i32, i32),
    percent: (i32, i32),
    stab: Option<i32>,
    select: Option<SelectPolicy>,
) -> ScalingRules {
    let mut policies = None;
    if pods != (0, 0) {
        policies
            .get_or_insert_with(Vec::new)
            .push(policy(PolicyType::Pods, pods.0, pods.1));
    }
    if percent != (0, 0) {
        policies.get_or_insert_with(Vec::new).push(policy(
            PolicyType::Percent,
            percent.0,
            percent.1,
        ));
    }
    ScalingRules {
        stabilization_window_seconds: stab,
        select_policy: select,
        policies,
        tolerance: None,
    }
}

/// (name, rules given, expected policies, expected stabilization window, expected select policy).
type DownRulesRow = (
    &'static str,
    ScalingRules,
    Vec<ScalingPolicy>,
    Option<i32>,
    SelectPolicy,
);
type UpRulesRow = (
    &'static str,
    ScalingRules,
    Vec<ScalingPolicy>,
    i32,
    SelectPolicy,
);

#[test]
fn test_generate_scale_down_rules() {
    use PolicyType::{Percent, Pods};
    use SelectPolicy::{Max, Min};
    let cases: Vec<DownRulesRow> = vec![
        (
            "Default values",
            spec_rules((0, 0), (0, 0), None, None),
            vec![policy(Percent, 100, 15)],
            None,
            Max,
        ),
        (
            "All parameters are specified",
            spec_rules((1, 2), (3, 4), Some(25), Some(Max)),
            vec![policy(Pods, 1, 2), policy(Percent, 3, 4)],
            Some(25),
            Max,
        ),
        (
            "Percent policy is specified",
            spec_rules((0, 0), (1, 2), None, Some(Min)),
            vec![policy(Percent, 1, 2)],
            None,
            Min,
        ),
        (
            "Pods policy is specified",
            spec_rules((3, 4), (0, 0), None, None),
            vec![policy(Pods, 3, 4)],
            None,
            Max,
        ),
    ];
    for (name, input, policies, stab, select) in cases {
        let down = generate_scale_down_rules(Some(&input));
        assert_eq!(down.policies, Some(policies), "{name}");
        assert_eq!(down.stabilization_window_seconds, stab, "{name}");
        assert_eq!(down.select_policy, Some(select), "{name}");
    }
}

#[test]
fn test_generate_scale_up_rules() {
    use PolicyType::{Percent, Pods};
    use SelectPolicy::{Max, Min};
    let cases: Vec<UpRulesRow> = vec![
        (
            "Default values",
            spec_rules((0, 0), (0, 0), None, None),
            vec![policy(Pods, 4, 15), policy(Percent, 100, 15)],
            0,
            Max,
        ),
        (
            "All parameters are specified",
            spec_rules((1, 2), (3, 4), Some(25), Some(Max)),
            vec![policy(Pods, 1, 2), policy(Percent, 3, 4)],
            25,
            Max,
        ),
        (
            "Pod policy is specified",
            spec_rules((1, 2), (0, 0), None, Some(Min)),
            vec![policy(Pods, 1, 2)],
            0,
            Min,
        ),
        (
            "Percent policy is specified",
            spec_rules((0, 0), (7, 10), None, None),
            vec![policy(Percent, 7, 10)],
            0,
            Max,
        ),
        (
            "Pod policy and stabilization window are specified",
            spec_rules((4, 2), (0, 0), Some(25), None),
            vec![policy(Pods, 4, 2)],
            25,
            Max,
        ),
        (
            "Percent policy and stabilization window are specified",
            spec_rules((0, 0), (7, 60), Some(25), None),
            vec![policy(Percent, 7, 60)],
            25,
            Max,
        ),
    ];
    for (name, input, policies, stab, select) in cases {
        let up = generate_scale_up_rules(Some(&input));
        assert_eq!(up.policies, Some(policies), "{name}");
        assert_eq!(up.stabilization_window_seconds, Some(stab), "{name}");
        assert_eq!(up.select_policy, Some(select), "{name}");
    }
    // No rules at all (GenerateHPAScaleUpRules(nil)) gives the defaults too.
    assert_eq!(
        generate_scale_up_rules(None),
        prescale_core::hpa::rules::default_scale_up_rules()
    );
    // A set but empty policy list replaces the default list (copyHPAScalingRules checks `!= nil`).
    let empty = ScalingRules {
        policies: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(generate_scale_up_rules(Some(&empty)).policies, Some(vec![]));
}

#[test]
fn select_policy_disabled_and_empty_policies_block_scaling_in_that_direction() {
    let disabled = ScalingRules {
        select_policy: Some(SelectPolicy::Disabled),
        ..rules(100, 15, 0, 0, 0)
    };
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(5, &[], &[], &disabled, NOW),
        5
    );
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(5, &[], &[], &disabled, NOW),
        5
    );
    let up = generate_scale_up_rules(Some(&disabled));
    let down = generate_scale_down_rules(Some(&disabled));
    let arg = NormalizationArg {
        scale_up: &up,
        scale_down: &down,
        min_replicas: 1,
        max_replicas: 100,
        current_replicas: 5,
        desired_replicas: 50,
    };
    let got = convert_desired_replicas_with_behavior_rate(&arg, &[], &[], NOW);
    assert_eq!((got.replicas, got.reason), (5, "ScaleUpLimit"));
    // No policies: Max starts from MinInt32 and stays there; clamped to current.
    let empty = ScalingRules {
        policies: Some(vec![]),
        ..rules(0, 0, 0, 0, 0)
    };
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(5, &[], &[], &empty, NOW),
        i32::MIN
    );
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(5, &[], &[], &empty, NOW),
        i32::MAX
    );
}

#[test]
fn policy_arithmetic_follows_go_int32_and_float_conversion() {
    // Percent up rounds up: 3 × 1.01 = 3.03 → 4.
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(3, &[], &[], &rules(0, 0, 1, 60, 0), NOW),
        4
    );
    // Percent down truncates: 5 × 0.5 = 2.5 → 2; 7 × 0.9 = 6.3 → 6.
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(5, &[], &[], &rules(0, 0, 50, 60, 0), NOW),
        2
    );
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(7, &[], &[], &rules(0, 0, 10, 60, 0), NOW),
        6
    );
    // A Percent policy whose result exceeds int32 becomes MinInt32 on amd64: no scale-up from it.
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(
            1000,
            &[],
            &[],
            &rules(0, 0, i32::MAX, 15, 0),
            NOW
        ),
        i32::MIN
    );
    // Pods policies wrap around.
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(
            10,
            &[],
            &[],
            &rules(i32::MAX, 15, 0, 0, 0),
            NOW
        ),
        10i32.wrapping_add(i32::MAX)
    );
}

#[test]
fn policy_periods_exclude_an_event_exactly_one_period_old() {
    // getReplicasChangePerPeriod uses `After(now − period)`.
    assert_eq!(
        get_replicas_change_per_period(60, &[ev(5, 60), ev(3, 59)], NOW),
        3
    );
    assert_eq!(get_replicas_change_per_period(15, &[ev(4, 15)], NOW), 0);
    // markScaleEventsOutdated uses `Before(now − longest)`: exactly the longest period old is not outdated,
    // so storing appends instead of reusing the slot.
    let behavior = Behavior {
        scale_up: Some(rules(4, 15, 0, 0, 0)),
        scale_down: None,
    };
    let mut up = vec![ev(4, 15)];
    store_scale_event(Some(&behavior), &mut up, &mut vec![], NOW, 8, 12);
    assert_eq!(up.len(), 2);
    assert!(!up[0].outdated);
    let mut up = vec![ev(4, 16)];
    store_scale_event(Some(&behavior), &mut up, &mut vec![], NOW, 8, 12);
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].at, NOW);
}
