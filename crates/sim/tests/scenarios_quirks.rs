//! Less obvious consequences of the upstream code, derived by hand (never from running the simulator):
//! `kedacore/keda` `pkg/scaling/scale_handler.go` (`checkScalers`, `getScalerState`, `GetScaledObjectMetrics`),
//! `pkg/fallback/fallback.go`, `pkg/scaling/executor/scale_scaledobjects.go`, and `kubernetes/kubernetes`
//! `pkg/controller/podautoscaler/horizontal.go`.
//!
//! Conventions as in `scenarios_keda.rs`: KEDA polls every 30 s, the HPA syncs every 15 s; at one instant the
//! poll runs before the sync; the HPA seeds its recommendations with the current count at its first sync and
//! keeps them (in memory, per HPA) while KEDA scales the target to and from zero.

mod support;

use prescale_sim::Run;
use support::{after_creation, changes, prom, row_at, run_yaml, so};

/// The ScaledObject's events after creation (creation-time `KEDAScalersStarted` / `ScaledObjectReady` are
/// covered by `scenarios_keda.rs` `creation_lifecycle_events`).
fn so_events(run: &Run) -> Vec<(f64, &str)> {
    run.summary
        .events
        .iter()
        .filter(|e| e.object.starts_with("ScaledObject/"))
        .filter(|e| !support::is_creation_event(e))
        .map(|e| (e.t_s, e.reason.as_str()))
        .collect()
}

/// (t, message) of the HPA's `SuccessfulRescale` events.
fn rescales(run: &Run) -> Vec<(f64, String)> {
    run.summary
        .events
        .iter()
        .filter(|e| e.reason == "SuccessfulRescale")
        .map(|e| (e.t_s, e.message.clone()))
        .collect()
}

const ABOVE: &str = "external metric s0-prometheus(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: app,},MatchExpressions:[]LabelSelectorRequirement{},}) above target";

fn cached_fallback_run(use_cache: bool) -> Run {
    let extra = if use_cache {
        "    useCachedMetrics: true\n"
    } else {
        ""
    };
    run_yaml(&format!(
        "{}duration: 4m\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 10], [50, error]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\nminReplicaCount: 1\nmaxReplicaCount: 10\nfallback: {{failureThreshold: 3, replicas: 4}}\n{}",
            prom("10", extra)
        ))
    ))
}

/// Control: without the cache, failures count 1 (poll 60), 2, 3 (syncs 60, 75), 4 (poll 90) > 3 → fallback
/// from poll 90 on; `ScaledObjectFallbackActivated` once (the condition was not True when poll 90 started);
/// sync 90: 40000m / 10000m = 4 → 4 (legacy limit max(2, 4)).
#[test]
fn fallback_without_cache_activates_once() {
    let run = cached_fallback_run(false);
    assert_eq!(changes(&run), vec![(90.0, 4)]);
    assert_eq!(
        so_events(&run),
        vec![
            (60.0, "KEDAScalerFailed"),
            (90.0, "ScaledObjectFallbackActivated")
        ]
    );
}

/// `useCachedMetrics` with fallback: poll 90 stores the record {Metric: fallback value, ScalerError: nil}
/// (`getScalerState` stores the *processed* metrics and error). Sync 90 reads that record and passes it
/// through `GetMetricsWithFallback` with a nil error, which resets health to {0, Happy} and the Fallback
/// condition to False. So poll 120 counts failure 1 again (error, `KEDAScalerFailed`), syncs 120/135 read the
/// cached error (failures 2, 3: HPA errors, 4 kept), poll 150 reaches 4 > 3 and — the condition being False —
/// records `ScaledObjectFallbackActivated` again; and so on every 60 s. Replicas: 4 from sync 90 as in the
/// control.
#[test]
fn fallback_with_cached_metrics_resets_health_every_cycle() {
    let run = cached_fallback_run(true);
    assert_eq!(changes(&run), vec![(90.0, 4)]);
    assert_eq!(
        so_events(&run),
        vec![
            (60.0, "KEDAScalerFailed"),
            (90.0, "ScaledObjectFallbackActivated"),
            (120.0, "KEDAScalerFailed"),
            (150.0, "ScaledObjectFallbackActivated"),
            (180.0, "KEDAScalerFailed"),
            (210.0, "ScaledObjectFallbackActivated"),
        ]
    );
}

fn recovery_run(recover_at: f64) -> Run {
    run_yaml(&format!(
        "{}duration: 150s\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, 20], [50, error], [{recover_at}, 20]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\nminReplicaCount: 0\nmaxReplicaCount: 5\nfallback: {{failureThreshold: 3, replicas: 3}}\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 0\n{}",
            prom("5", "")
        ))
    ))
}

/// Fallback recovery and the `ScaledObjectFallbackDeactivated` event (e2e numbers: target 5, fallback 3,
/// threshold 3; 0 → 1 by KEDA and → 4 by the HPA at t=0; fallback from poll 90, sync 90 → 3).
/// - Recovery at t=100: sync 105 succeeds first → health reset, Fallback condition False; 20 / (5 × 3) →
///   ceil(4) = 4 (up limit: the t=90 scale-down is not after 105 − 15 → start 3 → max(7, 6)). Poll 120 then
///   reads the condition as False → no Deactivated event.
/// - Recovery at t=118: sync 105 is still in fallback (failures 6 → 3). Poll 120 starts with the condition
///   True, succeeds → `ScaledObjectFallbackDeactivated`; sync 120 → 4.
#[test]
fn fallback_deactivated_event_only_when_the_poll_sees_recovery_first() {
    let a = recovery_run(100.0);
    assert_eq!(changes(&a), vec![(0.0, 4), (90.0, 3), (105.0, 4)]);
    assert_eq!(
        so_events(&a),
        vec![
            (0.0, "KEDAScaleTargetActivated"),
            (60.0, "KEDAScalerFailed"),
            (90.0, "ScaledObjectFallbackActivated"),
        ]
    );
    let b = recovery_run(118.0);
    assert_eq!(changes(&b), vec![(0.0, 4), (90.0, 3), (120.0, 4)]);
    assert_eq!(
        so_events(&b),
        vec![
            (0.0, "KEDAScaleTargetActivated"),
            (60.0, "KEDAScalerFailed"),
            (90.0, "ScaledObjectFallbackActivated"),
            (120.0, "ScaledObjectFallbackDeactivated"),
        ]
    );
}

/// The HPA keeps its recommendations while KEDA parks the target at zero (legacy path, min 0, cooldown 45).
/// - t=0: KEDA 0 → 1; sync: seed 1@0, 50 / 10 = 5 → limit max(2, 4) → 4, "above target". t=15: 50 / 40 → 5
///   (limit 8). t=30..90: 50 / 50 = 1 → recommendations of 5 up to 5@90.
/// - Value 0 from 100: syncs 105–135 propose 0, window max 5. KEDA: last active poll 90; t=120: 90 + 45 is not
///   before 120; t=150 → 0 (HPA ScalingDisabled from then on, recommendations kept).
/// - Value 1 from 160: t=180 poll → 1. Sync 180: 1 / 10 → ceil(0.1) = 1, but the legacy window still holds
///   the 5s (cutoff −120) → limit max(2, 4) → 4; the metric proposal equals the current count, so the reason
///   string is empty: "New size: 4; reason: ". Sync 195: proposal 1 < 4 → "All metrics below target", window
///   max 5 → 5. The last 5 is 5@90: still counted at t=390 (cutoff 90, `!Before`), gone at 405 → 1.
#[test]
fn legacy_recommendations_survive_scale_to_zero() {
    let run = run_yaml(&format!(
        "{}duration: 7m\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, 50], [100, 0], [160, 1]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\ncooldownPeriod: 45\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        ))
    ));
    assert_eq!(
        changes(&run),
        vec![
            (0.0, 4),
            (15.0, 5),
            (150.0, 0),
            (180.0, 4),
            (195.0, 5),
            (405.0, 1)
        ]
    );
    assert_eq!(
        rescales(&run),
        vec![
            (0.0, format!("New size: 4; reason: {ABOVE}")),
            (15.0, format!("New size: 5; reason: {ABOVE}")),
            (180.0, "New size: 4; reason: ".to_string()),
            (
                195.0,
                "New size: 5; reason: All metrics below target".to_string()
            ),
            (
                405.0,
                "New size: 1; reason: All metrics below target".to_string()
            ),
        ]
    );
    assert_eq!(
        so_events(&run),
        vec![
            (0.0, "KEDAScaleTargetActivated"),
            (150.0, "KEDAScaleTargetDeactivated"),
            (180.0, "KEDAScaleTargetActivated"),
        ]
    );
}

fn bounds_run(initial: i32, min: i32, max: i32, value: f64) -> Run {
    run_yaml(&format!(
        "{}duration: 330s\nworkload: {{initialReplicas: {initial}}}\nmetrics:\n  - trigger: 0\n    points: [[0, {value}]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\nminReplicaCount: {min}\nmaxReplicaCount: {max}\n{}",
            prom("10", "")
        ))
    ))
}

/// Out-of-bounds counts (`reconcileAutoscaler`):
/// - initial 8 > max 5: sync 0 → 5 "Current number of replicas above Spec.MaxReplicas", without metrics or
///   stabilization — but the seed recommendation 8@0 stays: from t=15 the proposal 10 / 50 → 1 is lifted to 8
///   and capped at max 5; at t=315 (cutoff 15) the seed is gone → 1.
/// - initial 1 < min 3 with an active trigger (30): KEDA leaves it (active, replicas > 0); sync 0 → 3 "Current
///   number of replicas below Spec.MinReplicas"; then 30 / 30 = 1 → 3.
/// - initial 1 < min 3 and inactive (0): KEDA's `idle == nil && current < min` branch sets 3 at poll 0 (logged,
///   no event); the HPA then holds 3 (proposal 0, min 3).
#[test]
fn replicas_outside_hpa_bounds() {
    let above = bounds_run(8, 1, 5, 10.0);
    assert_eq!(changes(&above), vec![(0.0, 5), (315.0, 1)]);
    assert_eq!(
        rescales(&above),
        vec![
            (
                0.0,
                "New size: 5; reason: Current number of replicas above Spec.MaxReplicas"
                    .to_string()
            ),
            (
                315.0,
                "New size: 1; reason: All metrics below target".to_string()
            ),
        ]
    );
    let below = bounds_run(1, 3, 10, 30.0);
    assert_eq!(changes(&below), vec![(0.0, 3)]);
    assert_eq!(
        rescales(&below),
        vec![(
            0.0,
            "New size: 3; reason: Current number of replicas below Spec.MinReplicas".to_string()
        )]
    );
    let keda = bounds_run(1, 3, 10, 0.0);
    assert_eq!(changes(&keda), vec![(0.0, 3)]);
    assert!(
        after_creation(&keda).is_empty(),
        "{:?}",
        keda.summary.events
    );
    assert_eq!(keda.summary.scale_actions, 1);
}

/// A scaleDown Percent policy truncates (`int32(start × (1 − p/100))`): Percent 50 / 60 s from 5 → int32(2.5) =
/// 2 at t=0 (the proposal is 1). t=15..45: start 5 (3 removed within 60 s) → 2. t=60: start 2 → 1.
#[test]
fn scale_down_percent_policy_truncates() {
    let run = run_yaml(&format!(
        "{}duration: 90s\nworkload: {{initialReplicas: 5}}\nmetrics:\n  - trigger: 0\n    points: [[0, 10]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\nminReplicaCount: 1\nmaxReplicaCount: 10\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 0\n        policies: [{{type: Percent, value: 50, periodSeconds: 60}}]\n{}",
            prom("10", "")
        ))
    ));
    assert_eq!(changes(&run), vec![(0.0, 2), (60.0, 1)]);
}

/// `fallback.replicas: 0` does not block scale-to-zero (`RequestScale`'s first inactive case needs
/// `Fallback.Replicas != 0`), and a fallback that later kicks in counts as active, so it scales the target
/// back from zero. failureThreshold 10, min 0, initial 2, the query always fails.
/// - Poll 0: failure 1, inactive with error, no lastActiveTime: creation 0 + initialCooldownPeriod 15 is not
///   before 0 → cooldown.
///   Syncs 0, 15: failures 2, 3 → HPA errors (seed 2@0 kept, nothing else recorded). Poll 30: failure 4, 15 < 30 → 0.
/// - At 0 replicas the HPA is ScalingDisabled and reads no metric: only polls count, 5 (t=60) … 10 (t=210).
/// - Poll 240: 11 > 10 → fallback (value 0 × 10), active → 0 → 1. Sync 240: proposal ceil(0) = 0 < 1 ("All
///   metrics below target"), but the legacy window still holds the seed 2@0 → 2. t=315: the seed is before the
///   cutoff 15 → max 0 → HPA min 1.
#[test]
fn fallback_replicas_zero_allows_scale_to_zero_then_reactivates() {
    let run = run_yaml(&format!(
        "{}duration: 330s\nworkload: {{initialReplicas: 2}}\nmetrics:\n  - trigger: 0\n    points: [[0, error]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\ninitialCooldownPeriod: 15\nminReplicaCount: 0\nmaxReplicaCount: 10\nfallback: {{failureThreshold: 10, replicas: 0}}\n{}",
            prom("10", "")
        ))
    ));
    assert_eq!(changes(&run), vec![(30.0, 0), (240.0, 2), (315.0, 1)]);
    let mut want = vec![
        (0.0, "KEDAScalerFailed"),
        (30.0, "KEDAScalerFailed"),
        (30.0, "KEDAScaleTargetDeactivated"),
    ];
    for t in [60.0, 90.0, 120.0, 150.0, 180.0, 210.0] {
        want.push((t, "KEDAScalerFailed"));
    }
    want.push((240.0, "ScaledObjectFallbackActivated"));
    want.push((240.0, "KEDAScaleTargetActivated"));
    assert_eq!(so_events(&run), want);
    assert_eq!(
        rescales(&run),
        vec![
            (
                240.0,
                "New size: 2; reason: All metrics below target".to_string()
            ),
            (
                315.0,
                "New size: 1; reason: All metrics below target".to_string()
            ),
        ]
    );
}

/// `Value`-type fallback needs ready pods: with the target at zero, `doFallback` finds 0 ready pods and fails
/// ("error performing fallback"), so fallback never activates and the target stays at 0. Meanwhile
/// `IncrementFailure` keeps setting the Fallback condition True (failures > 0), so from the second poll
/// `checkScalers` sees "condition True, fallback not active" and records `ScaledObjectFallbackDeactivated`
/// after each poll's `KEDAScalerFailed`.
#[test]
fn value_fallback_cannot_activate_from_zero() {
    let run = run_yaml(&format!(
        "{}duration: 90s\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, error]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\nminReplicaCount: 0\nmaxReplicaCount: 10\nfallback: {{failureThreshold: 0, replicas: 3}}\n{}",
            prom("10", "    metricType: Value\n")
        ))
    ));
    assert_eq!(changes(&run), vec![]);
    assert_eq!(
        so_events(&run),
        vec![
            (0.0, "KEDAScalerFailed"),
            (30.0, "KEDAScalerFailed"),
            (30.0, "ScaledObjectFallbackDeactivated"),
            (60.0, "KEDAScalerFailed"),
            (60.0, "ScaledObjectFallbackDeactivated"),
        ]
    );
}

/// `lastActiveTime` is not refreshed while some trigger errors (`RequestScale`: active with replicas > 0 and
/// `isError` → Ready Unknown PartialTriggerError, no LastActiveTime). min 0, cooldown 60, initial 1; trigger 0
/// is 5 until t=100, trigger 1 fails during [20, 100). Last *clean* active poll: t=0. Poll 120 is inactive
/// without errors: 0 + 60 < 120 → 0 at once (with the refresh it would wait until 90 + 60 < 180).
/// The HPA meanwhile: s0 proposes ceil(0.5) = 1 = spec, so the failing s1 does not block anything.
#[test]
fn partial_trigger_error_does_not_refresh_last_active_time() {
    let run = run_yaml(&format!(
        "{}duration: 200s\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 5], [100, 0]]\n  - trigger: 1\n    points: [[0, 0], [20, error], [100, 0]]\n",
        so(
            "scaleTargetRef: {name: worker}\npollingInterval: 30\ncooldownPeriod: 60\nminReplicaCount: 0\nmaxReplicaCount: 10\ntriggers:\n  - type: prometheus\n    metadata: {serverAddress: 'http://prometheus:9090', query: a, threshold: '10'}\n  - type: prometheus\n    metadata: {serverAddress: 'http://prometheus:9090', query: b, threshold: '10'}\n"
        )
    ));
    assert_eq!(changes(&run), vec![(120.0, 0)]);
    assert_eq!(
        so_events(&run),
        vec![
            (30.0, "KEDAScalerFailed"),
            (60.0, "KEDAScalerFailed"),
            (90.0, "KEDAScalerFailed"),
            (120.0, "KEDAScaleTargetDeactivated"),
        ]
    );
}

fn seed_run(behavior: bool) -> Run {
    let adv = if behavior {
        "advanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleUp:\n        stabilizationWindowSeconds: 0\n"
    } else {
        ""
    };
    run_yaml(&format!(
        "{}duration: 330s\nworkload: {{initialReplicas: 5}}\nmetrics:\n  - trigger: 0\n    points: [[0, 10]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\nminReplicaCount: 1\nmaxReplicaCount: 10\n{adv}{}",
            prom("10", "")
        ))
    ))
}

/// The first sync's seed recommendation (5@0, `recordInitialRecommendation`) holds a scale-down for one window
/// (`TestScaleDownStabilizeInitialSize`); the proposal is 10 / 50 → 1 from t=0.
/// - Behavior path (any `behavior`; scaleDown window defaults to the 300 s flag): only recommendations strictly
///   *after* now − 300 count, so at t=300 the seed is out → 1 (default policy Percent 100 allows it).
/// - Legacy path: a recommendation *at* the cutoff still counts (`!Before`), so t=300 holds 5 and t=315 → 1.
#[test]
fn seed_recommendation_window_boundary_behavior_vs_legacy() {
    assert_eq!(changes(&seed_run(true)), vec![(300.0, 1)]);
    assert_eq!(changes(&seed_run(false)), vec![(315.0, 1)]);
}

/// Activation decides 0 ↔ 1 only, and wins over the scaling value: activationThreshold 50, value 30, target 10,
/// min 0, initial 2, initialCooldownPeriod 15. Sync 0: 30 / 20 = 1.5 → 3. The SO is never active (30 ≤ 50) and
/// has no lastActiveTime: poll 0 is in the initial cooldown, poll 30 scales 3 → 0 although the HPA wants 3;
/// the HPA is then ScalingDisabled and KEDA never reactivates.
#[test]
fn activation_threshold_wins_over_scaling_value() {
    let run = run_yaml(&format!(
        "{}duration: 90s\nworkload: {{initialReplicas: 2}}\nmetrics:\n  - trigger: 0\n    points: [[0, 30]]\n",
        so(
            "scaleTargetRef: {name: worker}\npollingInterval: 30\ninitialCooldownPeriod: 15\nminReplicaCount: 0\nmaxReplicaCount: 10\ntriggers:\n  - type: prometheus\n    metadata:\n      serverAddress: http://prometheus:9090\n      query: q\n      threshold: '10'\n      activationThreshold: '50'\n"
        )
    ));
    assert_eq!(changes(&run), vec![(0.0, 3), (30.0, 0)]);
    assert_eq!(so_events(&run), vec![(30.0, "KEDAScaleTargetDeactivated")]);
}

/// `idleReplicaCount: 1` with `minReplicaCount: 3` flaps (docs; kedacore/keda#2314): every inactive poll after
/// the initial cooldown (15 s) scales 3 → idle 1 (`idle != nil && current > idle`), and the sync at the same instant
/// puts it back to the HPA's minReplicas 3 ("Current number of replicas below Spec.MinReplicas"). Polls 30, 60,
/// 90 → two writes each; the timeline rows (state after each instant) always show 3.
#[test]
fn idle_replicas_above_zero_flaps_with_hpa_min() {
    let run = run_yaml(&format!(
        "{}duration: 100s\nworkload: {{initialReplicas: 3}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\ninitialCooldownPeriod: 15\nidleReplicaCount: 1\nminReplicaCount: 3\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        ))
    ));
    assert_eq!(changes(&run), vec![]);
    assert_eq!(run.summary.scale_actions, 6);
    let all: Vec<(f64, &str)> = after_creation(&run)
        .iter()
        .map(|e| (e.t_s, e.reason.as_str()))
        .collect();
    let mut want = Vec::new();
    for t in [30.0, 60.0, 90.0] {
        want.push((t, "KEDAScaleTargetDeactivated"));
        want.push((t, "SuccessfulRescale"));
    }
    assert_eq!(all, want);
    assert_eq!(
        after_creation(&run)[0].message,
        "Deactivated apps/v1.Deployment test/worker from 3 to 1"
    );
    assert_eq!(
        after_creation(&run)[1].message,
        "New size: 3; reason: Current number of replicas below Spec.MinReplicas"
    );
    assert_eq!(run.summary.pod_seconds, 300.0);
}

/// Milli conversion (`pkg/scalers/scaler.go` `quantityFromFloat64` = `resource.MustParse(fmt.Sprintf("%.3f", v))`
/// for both the target and the served value): threshold 0.0625 (exact in binary) prints as "0.062" (an exact
/// tie, rounded half to even) → 62m; the value 0.125 → 125m. Sync 0: 125 / 62 = 2.016 → ceil → 3 (limit 4).
/// With the target kept at 62.5m or rounded up to 63m the answer would be 2.
#[test]
fn milli_rounding_of_target_and_value() {
    let run = run_yaml(&format!(
        "{}duration: 30s\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0.125]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\nminReplicaCount: 1\nmaxReplicaCount: 10\n{}",
            prom("0.0625", "")
        ))
    ));
    assert_eq!(changes(&run), vec![(0.0, 3)]);
}

/// A `Value` metric right after activation from zero with slow pods: KEDA 0 → 1 at t=0; the new pod is ready
/// at t=30. Syncs 0 and 15: ratio 300 / 100 = 3 is outside the tolerance, ready pods 0 → ceil(3 × 0) = 0 → the
/// legacy window (seed 1@0) and HPA min keep 1. Sync 30: the pod became ready first → 3 × 1 = 3 (limit 4).
#[test]
fn value_metric_with_no_ready_pods_after_activation() {
    let run = run_yaml(&format!(
        "{}duration: 45s\nworkload: {{initialReplicas: 0, podStartupSeconds: 30}}\nmetrics:\n  - trigger: 0\n    points: [[0, 300]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
            prom("100", "    metricType: Value\n")
        ))
    ));
    assert_eq!(changes(&run), vec![(0.0, 1), (30.0, 3)]);
    assert_eq!((row_at(&run, 15).replicas, row_at(&run, 15).ready), (1, 0));
    assert_eq!(row_at(&run, 30).ready, 1);
}

/// scaleDown `selectPolicy: Min` over Pods 2 / 60 s and Percent 50 / 60 s (window 0): the *larger* floor wins
/// (`TestCalculateScaleDownLimitWithBehaviors`: 5 → max(5 − 2, int32(2.5)) = 3). Initial 5, proposal 1.
/// t=0 → 3; t=15..45: start 3 + 2 = 5 → 3; t=60: start 3 → max(1, int32(1.5) = 1) = 1.
#[test]
fn scale_down_select_policy_min() {
    let run = run_yaml(&format!(
        "{}duration: 90s\nworkload: {{initialReplicas: 5}}\nmetrics:\n  - trigger: 0\n    points: [[0, 10]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\nminReplicaCount: 1\nmaxReplicaCount: 10\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 0\n        selectPolicy: Min\n        policies:\n        - {{type: Pods, value: 2, periodSeconds: 60}}\n        - {{type: Percent, value: 50, periodSeconds: 60}}\n{}",
            prom("10", "")
        ))
    ));
    assert_eq!(changes(&run), vec![(0.0, 3), (60.0, 1)]);
}

fn idle_between_run(value: f64) -> Run {
    run_yaml(&format!(
        "{}duration: 60s\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, {value}]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\ninitialCooldownPeriod: 15\nidleReplicaCount: 0\nminReplicaCount: 3\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        ))
    ))
}

/// idle 0, min 3 and a target at 1 (between idle and min):
/// - active (30): `idle != nil && current 1 < min 3` → KEDA's `scaleFromZeroOrIdle` sets 3 at poll 0 (event
///   "from 1 to 3"), before the HPA would; the sync then sees 3 (30 / 30 = 1).
/// - inactive (0): `idle != nil && current 1 > idle 0` → `scaleToZeroOrIdle`, but poll 0 is in the initial
///   cooldown (15 s); sync 0 lifts 1 → HPA min 3 ("below Spec.MinReplicas"); poll 30 → idle 0 (lastActiveTime nil,
///   0 + 15 < 30).
#[test]
fn idle_target_between_idle_and_min() {
    let active = idle_between_run(30.0);
    assert_eq!(changes(&active), vec![(0.0, 3)]);
    assert_eq!(so_events(&active), vec![(0.0, "KEDAScaleTargetActivated")]);
    assert_eq!(
        after_creation(&active)[0].message,
        "Scaled apps/v1.Deployment test/worker from 1 to 3, triggered by s0-prometheus"
    );
    assert!(rescales(&active).is_empty());

    let inactive = idle_between_run(0.0);
    assert_eq!(changes(&inactive), vec![(0.0, 3), (30.0, 0)]);
    assert_eq!(
        rescales(&inactive),
        vec![(
            0.0,
            "New size: 3; reason: Current number of replicas below Spec.MinReplicas".to_string()
        )]
    );
    assert_eq!(
        so_events(&inactive),
        vec![(30.0, "KEDAScaleTargetDeactivated")]
    );
}

fn pause_run(annotation: &str) -> Run {
    run_yaml(&format!(
        "{}duration: 60s\nworkload: {{initialReplicas: 2}}\nmetrics:\n  - trigger: 0\n    points: [[0, 100]]\n",
        format!(
            "scaleTargetRef: {{name: worker}}\nminReplicaCount: 1\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        )
        .lines()
        .fold(
            format!(
                "scaledObject:\n  apiVersion: keda.sh/v1alpha1\n  kind: ScaledObject\n  metadata: {{name: app, namespace: test, annotations: {{{annotation}}}}}\n  spec:\n"
            ),
            |acc, l| format!("{acc}    {l}\n")
        )
    ))
}

/// Pause annotation values (`getBoolAnnotation`: `strconv.ParseBool`, anything unparsable counts as true;
/// `NeedToBePausedByAnnotation`: paused-replicas present → paused whatever its value).
/// - `paused: "false"` → not paused: 100 / 20 = 5 → 10 wanted, legacy limit 4 at t=0, 8 at 15, 10 at 30.
/// - `paused: "yes"` → paused at 2, no HPA.
/// - `paused-replicas: "0"` → 0 at t=0.
/// - `paused: "false"` with `paused-replicas: "5"` → paused-replicas wins → 5.
#[test]
fn pause_annotation_values() {
    let unpaused = pause_run("autoscaling.keda.sh/paused: 'false'");
    assert_eq!(changes(&unpaused), vec![(0.0, 4), (15.0, 8), (30.0, 10)]);
    let yes = pause_run("autoscaling.keda.sh/paused: 'yes'");
    assert_eq!(changes(&yes), vec![]);
    assert_eq!(yes.summary.hpa, None);
    let zero = pause_run("autoscaling.keda.sh/paused-replicas: '0'");
    assert_eq!(changes(&zero), vec![(0.0, 0)]);
    let both =
        pause_run("autoscaling.keda.sh/paused: 'false', autoscaling.keda.sh/paused-replicas: '5'");
    assert_eq!(changes(&both), vec![(0.0, 5)]);
}

fn bounds_behavior_run(initial: i32, min: i32, max: i32, value: f64, rules: &str) -> Run {
    run_yaml(&format!(
        "{}duration: 250s\nworkload: {{initialReplicas: {initial}}}\nmetrics:\n  - trigger: 0\n    points: [[0, {value}]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\nminReplicaCount: {min}\nmaxReplicaCount: {max}\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n{rules}{}",
            prom("10", "")
        ))
    ))
}

/// A clamp to maxReplicas / minReplicas skips the rate policies, but the successful write still goes through
/// `storeScaleEvent(hpa.Spec.Behavior, …)`, so it counts against the policy periods afterwards.
/// - initial 8 > max 5, scaleDown Pods 1 / 60 s (window 0), proposal 1: t=0 → 5 (down event 3@0); t=15: start
///   5 + 3 = 8 → limit 7, capped at the current 5; t=60: start 5 → 4; then 3, 2, 1 each minute.
/// - initial 1 < min 3, scaleUp Pods 1 / 60 s, value 50: t=0 → 3 (up event 2@0); t=15: 50 / 30 → 5, but
///   start 3 − 2 = 1 → limit 2, raised to the current 3; t=60 → 4; t=120 → 5.
#[test]
fn bound_clamps_count_as_scale_events() {
    let down = bounds_behavior_run(
        8,
        1,
        5,
        10.0,
        "      scaleDown:\n        stabilizationWindowSeconds: 0\n        policies: [{type: Pods, value: 1, periodSeconds: 60}]\n",
    );
    assert_eq!(
        changes(&down),
        vec![(0.0, 5), (60.0, 4), (120.0, 3), (180.0, 2), (240.0, 1)]
    );
    let up = bounds_behavior_run(
        1,
        3,
        10,
        50.0,
        "      scaleUp:\n        policies: [{type: Pods, value: 1, periodSeconds: 60}]\n",
    );
    assert_eq!(changes(&up), vec![(0.0, 3), (60.0, 4), (120.0, 5)]);
}

/// Activation from zero wins over a failing trigger: `RequestScale`'s active branch checks
/// `currentReplicas == 0` before `isError`. min 0, initial 0; trigger 0 reads 20, trigger 1 fails throughout.
/// Poll 0: `KEDAScalerFailed` (trigger 1, recorded while collecting the state), then active with current 0 →
/// 0 → 1, "triggered by s0-prometheus" (only the active trigger's metric). Sync 0: s0 20 / 10 = 2 → 2 ≥ spec 1
/// although s1 is invalid → scale-up allowed (legacy limit 4) → 2.
#[test]
fn activation_from_zero_with_a_failing_trigger() {
    let run = run_yaml(&format!(
        "{}duration: 20s\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, 20]]\n  - trigger: 1\n    points: [[0, error]]\n",
        so(
            "scaleTargetRef: {name: worker}\nminReplicaCount: 0\nmaxReplicaCount: 10\ntriggers:\n  - type: prometheus\n    metadata: {serverAddress: 'http://prometheus:9090', query: a, threshold: '10'}\n  - type: prometheus\n    metadata: {serverAddress: 'http://prometheus:9090', query: b, threshold: '10'}\n"
        )
    ));
    assert_eq!(changes(&run), vec![(0.0, 2)]);
    assert_eq!(
        so_events(&run),
        vec![(0.0, "KEDAScalerFailed"), (0.0, "KEDAScaleTargetActivated")]
    );
    let activated = run
        .summary
        .events
        .iter()
        .find(|e| e.reason == "KEDAScaleTargetActivated")
        .unwrap();
    assert_eq!(
        activated.message,
        "Scaled apps/v1.Deployment test/worker from 0 to 1, triggered by s0-prometheus"
    );
    assert_eq!(run.summary.scale_actions, 2);
}

/// Both `paused-scale-in` and `paused-scale-out`: the HPA gets `selectPolicy: Disabled` both ways and KEDA
/// neither scales to nor from zero. Initial 3, min 0, value 100 (HPA wants 10 → up limit = current) then 0 from
/// t=60 (HPA wants 1 → down limit = current; KEDA inactive → scale-in paused). Stays 3.
#[test]
fn paused_scale_in_and_out_together() {
    let run = run_yaml(&format!(
        "{}duration: 3m\nworkload: {{initialReplicas: 3}}\nmetrics:\n  - trigger: 0\n    points: [[0, 100], [60, 0]]\n",
        format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\ncooldownPeriod: 0\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        )
        .lines()
        .fold(
            "scaledObject:\n  apiVersion: keda.sh/v1alpha1\n  kind: ScaledObject\n  metadata: {name: app, namespace: test, annotations: {autoscaling.keda.sh/paused-scale-in: 'true', autoscaling.keda.sh/paused-scale-out: 'true'}}\n  spec:\n".to_string(),
            |acc, l| format!("{acc}    {l}\n")
        )
    ));
    assert_eq!(changes(&run), vec![]);
    assert_eq!(run.summary.scale_actions, 0);
    assert!(run.summary.hpa.is_some());
}
