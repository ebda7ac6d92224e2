//! HPA-side scenario tests (several metrics, behavior path details, legacy path and controller flags). Every
//! expected timeline is derived by hand from `kubernetes/kubernetes` `pkg/controller/podautoscaler/horizontal.go`
//! (`reconcileAutoscaler`, `computeReplicasForMetrics`, `stabilizeRecommendation`,
//! `stabilizeRecommendationWithBehaviors`, `convertDesiredReplicasWithRules`,
//! `convertDesiredReplicasWithBehaviorRate`, `calculateScale{Up,Down}Limit*`, `storeScaleEvent`,
//! `tolerancesForHpa`) and `replica_calculator.go` (`Tolerances.isWithin`, `GetExternalPerPodMetricReplicas`),
//! plus `pkg/apis/autoscaling/v2/defaults.go` for the behavior defaults — never from running the simulator.
//!
//! Conventions: HPA syncs every 15 s (unless `controller.hpaSyncPeriod`), KEDA polls every 30 s (defaults);
//! the first sync seeds the recommendation list with the current count. AverageValue proposal:
//! `ratio = usage / (target × status.replicas)`; within `[1 − down, 1 + up]` (inclusive) → status.replicas,
//! else `ceil(usage / target)`. Legacy path = no `behavior`: scale-down window = max over recommendations not
//! *before* now − 5 min; scale-up limit `max(2 × current, 4)`. Behavior path: windows and policy periods
//! count only entries strictly *after* the cutoff; defaults scaleUp Pods 4 / Percent 100 per 15 s (Max),
//! scaleDown Percent 100 / 15 s with the 300 s window.

mod support;

use prescale_sim::Run;
use support::{changes, row_at, run_yaml, so};

fn rescale_messages(run: &Run) -> Vec<(f64, String)> {
    run.summary
        .events
        .iter()
        .filter(|e| e.reason == "SuccessfulRescale")
        .map(|e| (e.t_s, e.message.clone()))
        .collect()
}

/// One prometheus trigger with threshold 10.
const PROM10: &str = "triggers:\n  - type: prometheus\n    metadata:\n      serverAddress: http://prometheus:9090\n      query: q\n      threshold: '10'\n";

/// A ScaledObject spec (min 1) with the given max and behavior block (YAML under `behavior:`, may be empty).
fn spec(max: i32, behavior: &str) -> String {
    let adv = if behavior.is_empty() {
        String::new()
    } else {
        let b: String = behavior.lines().map(|l| format!("      {l}\n")).collect();
        format!("advanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n{b}")
    };
    format!(
        "scaleTargetRef: {{name: api}}\nminReplicaCount: 1\nmaxReplicaCount: {max}\n{adv}{PROM10}"
    )
}

fn scenario(spec: &str, duration: &str, initial: i32, points: &str, extra: &str) -> String {
    format!(
        "{}duration: {duration}\nworkload: {{initialReplicas: {initial}}}\nmetrics:\n  - trigger: 0\n    points: {points}\n{extra}",
        so(spec)
    )
}

const SELECTOR: &str = "(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: app,},MatchExpressions:[]LabelSelectorRequirement{},})";

// ---------------------------------------------------------------------------------------------------------
// 5. Two triggers
// ---------------------------------------------------------------------------------------------------------

/// Two triggers, the HPA takes the max (legacy path, min 1, max 20, initial 2). Trigger 0 threshold 10
/// (30, then 70 from t=20); trigger 1 threshold 5 (20).
/// - t=0: s0 30 / 20 = 1.5 → 3; s1 20 / 10 = 2 → 4 → max 4 (limit max(4, 4)) → 4, named after s1.
/// - t=15: s0 30 / 40 = 0.75 → 3; s1 20 / 20 = 1 → 4 → 4.
/// - t=30: s0 70 / 40 = 1.75 → 7; s1 → 4 → 7 (limit 8), named after s0.
/// - t=45: s0 70 / 70 = 1 → 7; s1 20 / 35 → 4 → 7.
#[test]
fn two_triggers_hpa_takes_the_max() {
    let run = run_yaml(&format!(
        "{}duration: 1m\nworkload: {{initialReplicas: 2}}\nmetrics:\n  - trigger: 0\n    points: [[0, 30], [20, 70]]\n  - trigger: 1\n    points: [[0, 20]]\n",
        so(
            "scaleTargetRef: {name: api}\nminReplicaCount: 1\nmaxReplicaCount: 20\ntriggers:\n  - type: prometheus\n    metadata: {serverAddress: 'http://prometheus:9090', query: a, threshold: '10'}\n  - type: prometheus\n    metadata: {serverAddress: 'http://prometheus:9090', query: b, threshold: '5'}\n"
        )
    ));
    assert_eq!(changes(&run), vec![(0.0, 4), (30.0, 7)]);
    assert_eq!(
        rescale_messages(&run),
        vec![
            (
                0.0,
                format!(
                    "New size: 4; reason: external metric s1-prometheus{SELECTOR} above target"
                )
            ),
            (
                30.0,
                format!(
                    "New size: 7; reason: external metric s0-prometheus{SELECTOR} above target"
                )
            ),
        ]
    );
}

fn partial_failure_run(second: &str) -> Run {
    run_yaml(&format!(
        "{}duration: 90s\nworkload: {{initialReplicas: 4}}\nmetrics:\n  - trigger: 0\n    points: [[0, 40], [30, 10], [60, 80]]\n  - trigger: 1\n    points: [[0, 40], [20, {second}]]\n",
        so(
            "scaleTargetRef: {name: api}\nminReplicaCount: 1\nmaxReplicaCount: 20\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 0\ntriggers:\n  - type: prometheus\n    metadata: {serverAddress: 'http://prometheus:9090', query: a, threshold: '10'}\n  - type: prometheus\n    metadata: {serverAddress: 'http://prometheus:9090', query: b, threshold: '10'}\n"
        )
    ))
}

/// Control for the partial failure (behavior path, scaleDown window 0, initial 4): trigger 1 reads 10 from
/// t=20. t=30: both propose 1 → down limit Percent 100 → 0, min 1 → 1. t=60: s0 80 / 10 = 8 → 8; up limit
/// max(1 + 4, 2) = 5 → 5. t=75: s0 80 / 50 = 1.6 → 8; the t=60 event is not after 60 → limit max(9, 10) → 8.
#[test]
fn one_trigger_failing_control() {
    let run = partial_failure_run("10");
    assert_eq!(changes(&run), vec![(30.0, 1), (60.0, 5), (75.0, 8)]);
}

/// hpa.md §1.4 (`computeReplicasForMetrics`): trigger 1 fails from t=20 (no fallback). t=30, 45: s0 proposes
/// 1 < spec 4 while a metric is invalid → −1, no scaling (and status.desiredReplicas keeps 4). t=60: s0 80 / 40
/// = 2 → 8 ≥ 4 → scale-up on the valid subset; up limit max(4 + 4, 8) → 8.
#[test]
fn one_trigger_failing_blocks_scale_down_allows_scale_up() {
    let run = partial_failure_run("error");
    assert_eq!(changes(&run), vec![(60.0, 8)]);
    assert_eq!(row_at(&run, 45).desired, Some(4));
    assert_eq!(
        rescale_messages(&run),
        vec![(
            60.0,
            format!("New size: 8; reason: external metric s0-prometheus{SELECTOR} above target")
        )]
    );
}

// ---------------------------------------------------------------------------------------------------------
// 6. Behavior path details
// ---------------------------------------------------------------------------------------------------------

/// scaleDown `selectPolicy: Disabled` (window 0), initial 5, max 20. t=0: 10 / 50 → 1, Disabled → the down limit
/// is the current count → 5. t=60: 100 / 50 = 2 → 10; up limit max(5 + 4, 10) → 10. t=120: 10 / 100 → 1 →
/// Disabled → 10.
#[test]
fn scale_down_select_policy_disabled() {
    let run = run_yaml(&scenario(
        &spec(
            20,
            "scaleDown:\n  selectPolicy: Disabled\n  stabilizationWindowSeconds: 0\n",
        ),
        "3m",
        5,
        "[[0, 10], [60, 100], [120, 10]]",
        "",
    ));
    assert_eq!(changes(&run), vec![(60.0, 10)]);
    assert_eq!(run.summary.final_replicas, 10);
}

/// scaleUp `stabilizationWindowSeconds: 60`: the HPA scales up only to the minimum of the recommendations
/// strictly newer than now − 60 s. Initial 1; value 10, 30 from t=10, 50 from t=40.
/// - Recommendations: seed 1@0, 1@0, 3@15, 3@30, 5@45, 5@60, 5@75, 5@90 (unstabilized proposals).
/// - t=15..45: the up window still holds a 1@0 → stay 1.
/// - t=60: after 0: 3@15, 3@30, 5@45 → min 3 → 3 (up limit max(1 + 4, 2) = 5).
/// - t=75: after 15: 3@30 → 3. t=90: after 30: all 5 → 5 (limit max(3 + 4, 6), the t=60 event is not after 75).
#[test]
fn scale_up_stabilization_window_takes_window_minimum() {
    let run = run_yaml(&scenario(
        &spec(20, "scaleUp:\n  stabilizationWindowSeconds: 60\n"),
        "2m",
        1,
        "[[0, 10], [10, 30], [40, 50]]",
        "",
    ));
    assert_eq!(changes(&run), vec![(60.0, 3), (90.0, 5)]);
    assert_eq!(row_at(&run, 45).desired, Some(1));
}

/// scaleUp `selectPolicy: Min` over Pods 4 / 60 s and Percent 50 / 60 s; initial 2, max 20, the value asks for
/// 20 throughout. Limit = min(start + 4, ceil(start × 1.5)), start = current − pods added in (now − 60, now].
/// - t=0: start 2 → min(6, 3) = 3. t=15..45: start 3 − 1 = 2 → 3 (no change).
/// - t=60: the t=0 event is not after 0 → start 3 → min(7, 5) = 5. t=120: start 5 → min(9, 8) = 8.
/// - t=180: 8 → min(12, 12) = 12. t=240: 12 → min(16, 18) = 16. t=300: 16 → min(20, 24) = 20 = desired.
#[test]
fn percent_policy_with_select_policy_min() {
    let run = run_yaml(&scenario(
        &spec(
            20,
            "scaleUp:\n  selectPolicy: Min\n  policies:\n  - {type: Pods, value: 4, periodSeconds: 60}\n  - {type: Percent, value: 50, periodSeconds: 60}\n",
        ),
        "330s",
        2,
        "[[0, 200]]",
        "",
    ));
    assert_eq!(
        changes(&run),
        vec![
            (0.0, 3),
            (60.0, 5),
            (120.0, 8),
            (180.0, 12),
            (240.0, 16),
            (300.0, 20)
        ]
    );
}

fn tolerance_run(behavior: &str) -> Run {
    run_yaml(&scenario(
        &spec(20, behavior),
        "100s",
        2,
        "[[0, 28], [20, 32], [50, 24], [80, 16]]",
        "",
    ))
}

/// Per-behavior tolerance (KEP-4951, `HPAConfigurableTolerance`, beta and on by default since 1.35). All three
/// runs have `scaleDown.stabilizationWindowSeconds: 0`; values 28, 32 (t=20), 24 (t=50), 16 (t=80); initial 2.
/// - Flag tolerance 0.1 both ways: t=0: 1.4 → 3. t=15: 28 / 30 and t=30: 32 / 30 within. t=60: 24 / 30 = 0.8
///   → ceil(2.4) = 3 (no change). t=90: 16 / 30 → 2.
/// - scaleUp tolerance 0.5: t=0: 1.4 ≤ 1.5 → 2. t=30: 1.6 → 4. t=45: 0.8 < 0.9 → ceil(3.2) = 4. t=60: 0.6 →
///   ceil(2.4) = 3. t=75: 24 / 30 → 3. t=90: 16 / 30 → 2.
/// - both 0.5: as above until t=60: 24 / 40 = 0.6 ≥ 0.5 → within → 4; t=90: 0.4 → 2.
#[test]
fn per_behavior_tolerance() {
    let base = "scaleDown:\n  stabilizationWindowSeconds: 0\n";
    assert_eq!(changes(&tolerance_run(base)), vec![(0.0, 3), (90.0, 2)]);
    assert_eq!(
        changes(&tolerance_run(&format!(
            "{base}scaleUp:\n  tolerance: 0.5\n"
        ))),
        vec![(30.0, 4), (60.0, 3), (90.0, 2)]
    );
    assert_eq!(
        changes(&tolerance_run(
            "scaleDown:\n  stabilizationWindowSeconds: 0\n  tolerance: 0.5\nscaleUp:\n  tolerance: 0.5\n"
        )),
        vec![(30.0, 4), (90.0, 2)]
    );
}

/// scaleDown policy Pods 1 / 60 s (window 0), initial 5, the value asks for 1. Down limit = start − 1 with
/// start = current + pods removed in (now − 60, now]: t=0 → 4; t=15..45: start 5 → 4 (no change);
/// t=60 → 3; t=120 → 2; t=180 → 1.
#[test]
fn scale_down_pods_policy_one_per_minute() {
    let run = run_yaml(&scenario(
        &spec(
            20,
            "scaleDown:\n  stabilizationWindowSeconds: 0\n  policies:\n  - {type: Pods, value: 1, periodSeconds: 60}\n",
        ),
        "4m",
        5,
        "[[0, 10]]",
        "",
    ));
    assert_eq!(
        changes(&run),
        vec![(0.0, 4), (60.0, 3), (120.0, 2), (180.0, 1)]
    );
    assert_eq!(row_at(&run, 45).replicas, 4);
}

/// Tolerance bounds are inclusive (`Tolerances.isWithin`: `1 − down ≤ r ≤ 1 + up`). Upper: 22 / (10 × 2) = 1.1
/// → within → 2; 23 from t=20: 1.15 → ceil(2.3) = 3 at t=30 (legacy). Lower (behavior, window 0, initial 10):
/// 90 / 100 = 0.9 → within → 10; 89 from t=20: 0.89 → ceil(8.9) = 9 at t=30.
#[test]
fn tolerance_bounds_are_inclusive() {
    let up = run_yaml(&scenario(&spec(20, ""), "1m", 2, "[[0, 22], [20, 23]]", ""));
    assert_eq!(changes(&up), vec![(30.0, 3)]);
    let down = run_yaml(&scenario(
        &spec(20, "scaleDown:\n  stabilizationWindowSeconds: 0\n"),
        "1m",
        10,
        "[[0, 90], [20, 89]]",
        "",
    ));
    assert_eq!(changes(&down), vec![(30.0, 9)]);
}

// ---------------------------------------------------------------------------------------------------------
// 8. Legacy path
// ---------------------------------------------------------------------------------------------------------

/// Legacy 5-minute max-of-window hold: initial 1, value 40 then 10 from t=100. t=0: 4 (limit max(2, 4)).
/// Recommendations of 4 are made up to t=90 (40 / 40 = 1 → status.replicas 4). From t=105 the proposal is 1,
/// but a recommendation *at* the cutoff still counts (`!Before`): t=390 (cutoff 90) still 4; t=405 → 1.
#[test]
fn legacy_five_minute_hold() {
    let run = run_yaml(&scenario(
        &spec(10, ""),
        "7m",
        1,
        "[[0, 40], [100, 10]]",
        "",
    ));
    assert_eq!(changes(&run), vec![(0.0, 4), (405.0, 1)]);
    assert_eq!(row_at(&run, 390).replicas, 4);
}

/// `controller.downscaleStabilization: 1m` shortens the same hold: the last 4 is at t=90, so t=150 (cutoff 90)
/// holds and t=165 → 1.
#[test]
fn legacy_downscale_stabilization_override() {
    let run = run_yaml(&scenario(
        &spec(10, ""),
        "4m",
        1,
        "[[0, 40], [100, 10]]",
        "controller: {downscaleStabilization: 1m}\n",
    ));
    assert_eq!(changes(&run), vec![(0.0, 4), (165.0, 1)]);
    assert_eq!(row_at(&run, 150).replicas, 4);
}

/// Legacy scale-up limit `max(2 × current, 4)` over several syncs: initial 1, max 100, the value asks for 100.
/// 1 → 4 → 8 → 16 → 32 → 64 → 100 (max 100 < 128).
#[test]
fn legacy_scale_up_limit_doubles() {
    let run = run_yaml(&scenario(&spec(100, ""), "90s", 1, "[[0, 1000]]", ""));
    assert_eq!(
        changes(&run),
        vec![
            (0.0, 4),
            (15.0, 8),
            (30.0, 16),
            (45.0, 32),
            (60.0, 64),
            (75.0, 100)
        ]
    );
}

/// `controller.hpaSyncPeriod: 30s`: the same doubling happens every 30 s.
#[test]
fn hpa_sync_period_30s() {
    let run = run_yaml(&scenario(
        &spec(100, ""),
        "3m",
        1,
        "[[0, 1000]]",
        "controller: {hpaSyncPeriod: 30s}\n",
    ));
    assert_eq!(
        changes(&run),
        vec![
            (0.0, 4),
            (30.0, 8),
            (60.0, 16),
            (90.0, 32),
            (120.0, 64),
            (150.0, 100)
        ]
    );
    assert_eq!(run.summary.hpa_syncs, 6);
    assert!(
        run.rows
            .as_ref()
            .unwrap()
            .iter()
            .all(|r| r.t_ms % 30_000 == 0)
    );
}

/// `controller.tolerance: 0`: 21 / (10 × 2) = 1.05 is outside [1, 1] → ceil(2.1) = 3 at t=0; then 21 / 30 = 0.7
/// → 3. With the default 0.1 it is within and nothing happens.
#[test]
fn legacy_tolerance_zero_override() {
    let zero = run_yaml(&scenario(
        &spec(10, ""),
        "1m",
        2,
        "[[0, 21]]",
        "controller: {tolerance: 0}\n",
    ));
    assert_eq!(changes(&zero), vec![(0.0, 3)]);
    let default = run_yaml(&scenario(&spec(10, ""), "1m", 2, "[[0, 21]]", ""));
    assert_eq!(changes(&default), vec![]);
}

/// The HPA's Warning events on metric errors. Upstream, in the partial-failure scenario above
/// (`one_trigger_failing_blocks_scale_down_allows_scale_up`), every sync from t=30 fails to read s1:
/// `computeStatusForExternalMetric` calls `getUnableComputeReplicaCountCondition(hpa, "FailedGetExternalMetric",
/// err)`, which records `eventRecorder.Event(hpa, Warning, "FailedGetExternalMetric", err)`; when
/// `computeReplicasForMetrics` returns −1 (t=30, 45) `reconcileAutoscaler` also records Warning
/// `FailedComputeMetricsReplicas` (`kubernetes/kubernetes` `pkg/controller/podautoscaler/horizontal.go`).
/// The simulator records only `SuccessfulRescale` for the HPA.
#[test]
fn hpa_warning_events_on_metric_errors() {
    let run = partial_failure_run("error");
    let hpa: Vec<(f64, &str)> = run
        .summary
        .events
        .iter()
        .filter(|e| e.object.starts_with("HorizontalPodAutoscaler/"))
        .map(|e| (e.t_s, e.reason.as_str()))
        .collect();
    assert_eq!(
        hpa,
        vec![
            (30.0, "FailedGetExternalMetric"),
            (30.0, "FailedComputeMetricsReplicas"),
            (45.0, "FailedGetExternalMetric"),
            (45.0, "FailedComputeMetricsReplicas"),
            (60.0, "FailedGetExternalMetric"),
            (60.0, "SuccessfulRescale"),
            (75.0, "FailedGetExternalMetric"),
        ]
    );
}
