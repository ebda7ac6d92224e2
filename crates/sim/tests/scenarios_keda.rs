//! KEDA-side scenario tests (idle replicas, pause annotations, forced activation, cached metrics, trigger
//! errors, fallback behaviours). Every expected timeline is derived by hand from the upstream Go source —
//! `kedacore/keda` `pkg/scaling/executor/scale_scaledobjects.go` (`RequestScale`, `scaleToZeroOrIdle`,
//! `scaleFromZeroOrIdle`), `pkg/scaling/scale_handler.go` (`checkScalers`, `getScalerState`,
//! `GetScaledObjectMetrics`), `pkg/fallback/fallback.go` (`GetMetricsWithFallback`, `doFallback`),
//! `controllers/keda/hpa.go` (`newHPAForScaledObject`) and `kubernetes/kubernetes`
//! `pkg/controller/podautoscaler/{horizontal,replica_calculator}.go` — never from running the simulator.
//!
//! Conventions of the derivations: KEDA polls at 0, P, 2P, …; the HPA syncs every 15 s; at one instant pods
//! become ready, then KEDA polls, then the HPA syncs. The HPA's first sync seeds its recommendation list
//! with the current replica count (`recordInitialRecommendation`). "AverageValue" proposals are
//! `ratio = usage / (target × status.replicas)`, kept within [0.9, 1.1] (inclusive), else
//! `ceil(usage / target)`. The HPA's `minReplicas` is `max(minReplicaCount, 1)`.

mod support;

use prescale_sim::Run;
use support::{changes, prom, row_at, run_yaml, so_annotated};

/// (t, reason) of every ScaledObject event (KEDA's), in order. The HPA's events are checked separately: upstream
/// also records HPA Warning events on metric errors, which the simulator does not model (see
/// `scenarios_hpa.rs`, `hpa_warning_events_on_metric_errors`).
/// The ScaledObject's events after creation (the creation-time `KEDAScalersStarted` / `ScaledObjectReady`
/// events are checked by `creation_lifecycle_events`).
fn events(run: &Run) -> Vec<(f64, &str)> {
    run.summary
        .events
        .iter()
        .filter(|e| e.object.starts_with("ScaledObject/"))
        .filter(|e| !support::is_creation_event(e))
        .map(|e| (e.t_s, e.reason.as_str()))
        .collect()
}

/// Times of the HPA's `SuccessfulRescale` events.
fn rescales(run: &Run) -> Vec<f64> {
    run.summary
        .events
        .iter()
        .filter(|e| e.reason == "SuccessfulRescale")
        .map(|e| e.t_s)
        .collect()
}

fn messages(run: &Run, reason: &str) -> Vec<String> {
    run.summary
        .events
        .iter()
        .filter(|e| e.reason == reason)
        .map(|e| e.message.clone())
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// 1. idleReplicaCount
// ---------------------------------------------------------------------------------------------------------

/// `idleReplicaCount: 0`, `minReplicaCount: 2` (HPA min 2, legacy path), cooldown 45 s, threshold 10, the
/// target starts at 0 replicas.
/// - t=0, 30: value 0 → inactive; idle set and current 0 = idle, min ≠ 0 → "no change". HPA: current 0,
///   minReplicas 2 ≠ 0 → ScalingDisabled.
/// - t=60 poll: 15 > 0 → active; `idle != nil && current 0 < min 2` → `scaleFromZeroOrIdle` sets
///   replicas = min = 2 (not 1); lastActiveTime = 60. t=60 sync: 15 / (10 × 2) = 0.75 → ceil(1.5) = 2 = current.
/// - t=90 poll: active, current 2 > 0 → lastActiveTime = 90. From t=100 the value is 0. HPA t=105: ceil(0) = 0,
///   legacy stabilization keeps the window max 2 (and min 2 anyway).
/// - t=120: inactive, current 2 > idle 0 → `scaleToZeroOrIdle`: 90 + 45 = 135 is not before 120 →
///   ScalerCooldown. t=150: 135 < 150 → replicas = idle = 0. HPA afterwards: ScalingDisabled.
///   (The cooldown is deliberately not a multiple of the polling interval: see
///   `scenarios_timing.rs` `cooldown_boundary_exactly_at_poll_upstream_in_practice`.)
#[test]
fn idle_replicas_zero_with_min_two() {
    let run = run_yaml(&format!(
        "{}duration: 4m\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0], [40, 15], [100, 0]]\n",
        so_annotated(
            "",
            &format!(
                "scaleTargetRef: {{name: worker}}\npollingInterval: 30\ncooldownPeriod: 45\nidleReplicaCount: 0\nminReplicaCount: 2\nmaxReplicaCount: 10\n{}",
                prom("10", "")
            )
        )
    ));
    assert_eq!(changes(&run), vec![(60.0, 2), (150.0, 0)]);
    assert_eq!(
        events(&run),
        vec![
            (60.0, "KEDAScaleTargetActivated"),
            (150.0, "KEDAScaleTargetDeactivated")
        ]
    );
    assert_eq!(
        messages(&run, "KEDAScaleTargetActivated"),
        vec!["Scaled apps/v1.Deployment test/worker from 0 to 2, triggered by s0-prometheus"]
    );
    assert_eq!(
        messages(&run, "KEDAScaleTargetDeactivated"),
        vec!["Deactivated apps/v1.Deployment test/worker from 2 to 0"]
    );
    assert!(!row_at(&run, 30).active);
    assert!(row_at(&run, 60).active);
    assert!(!row_at(&run, 120).active);
    assert_eq!(row_at(&run, 120).replicas, 2);
    assert_eq!(run.summary.scale_actions, 2);
    // status.desiredReplicas: 0 while ScalingDisabled, 2 once the HPA computes.
    assert_eq!(row_at(&run, 0).desired, Some(0));
    assert_eq!(row_at(&run, 60).desired, Some(2));
    assert_eq!(row_at(&run, 195).desired, Some(0));
}

// ---------------------------------------------------------------------------------------------------------
// 2. Pause annotations
// ---------------------------------------------------------------------------------------------------------

/// `autoscaling.keda.sh/paused-replicas: "3"`: the reconciler (`handlePause`) stops the scale loop, deletes
/// (never creates) the HPA and scales the target to 3 — whatever the metric does. Initial 1 → 3 at t=0, then
/// nothing: no poll, no sync.
#[test]
fn paused_replicas_forces_three() {
    let run = run_yaml(&format!(
        "{}duration: 5m\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 500], [60, 0], [120, 1000]]\n",
        so_annotated(
            "autoscaling.keda.sh/paused-replicas: '3'",
            &format!(
                "scaleTargetRef: {{name: worker}}\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
                prom("10", "")
            )
        )
    ));
    assert_eq!(changes(&run), vec![(0.0, 3)]);
    let s = &run.summary;
    assert_eq!(s.hpa, None);
    assert_eq!((s.keda_polls, s.hpa_syncs), (0, 0));
    assert_eq!(
        (s.final_replicas, s.max_replicas, s.scale_actions),
        (3, 3, 1)
    );
}

/// `autoscaling.keda.sh/paused: "true"`: scale loop stopped, no HPA, replicas stay at the initial 4 although the
/// metric would ask for 10 and later for 0 (min 0).
#[test]
fn paused_true_stays_at_initial() {
    let run = run_yaml(&format!(
        "{}duration: 5m\nworkload: {{initialReplicas: 4}}\nmetrics:\n  - trigger: 0\n    points: [[0, 500], [60, 0]]\n",
        so_annotated(
            "autoscaling.keda.sh/paused: 'true'",
            &format!(
                "scaleTargetRef: {{name: worker}}\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
                prom("10", "")
            )
        )
    ));
    assert_eq!(changes(&run), vec![]);
    let s = &run.summary;
    assert_eq!(s.hpa, None);
    assert_eq!((s.keda_polls, s.hpa_syncs, s.scale_actions), (0, 0, 0));
    assert_eq!(s.final_replicas, 4);
}

const SCALE_IN_SPEC: &str = "scaleTargetRef: {name: worker}\npollingInterval: 30\ncooldownPeriod: 45\nminReplicaCount: 0\nmaxReplicaCount: 10\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 0\n";
const SCALE_IN_REST: &str = "duration: 5m\nworkload: {initialReplicas: 4}\nmetrics:\n  - trigger: 0\n    points: [[0, 20], [60, 80], [120, 0]]\n";

/// Control for `paused_scale_in_blocks_hpa_and_keda_scale_in`: the same ScaledObject without the annotation
/// (behavior path: scaleDown window 0, default policies; scaleUp defaults Pods 4 / Percent 100 per 15 s).
/// - t=0: 20 / (10 × 4) = 0.5 → ceil(2) = 2; down limit Percent 100 → 0, min 1 → 2.
/// - t=60: 80 / 20 = 4 → 8; up limit max(2 + 4, ceil(2 × 2)) = 6 → 6 (the t=0 scale-down event is not after
///   60 − 15). t=75: 80 / 60 → 8; the t=60 event is not after 75 − 15 → limit max(10, 12) → 8.
/// - t=90 last active poll. t=120 sync: 0 → 0 → min 1 → 1. KEDA (cooldown 45) t=120: 135 is not before 120;
///   t=150: scale to 0.
#[test]
fn paused_scale_in_control_without_annotation() {
    let run = run_yaml(&format!(
        "{}{SCALE_IN_REST}",
        so_annotated("", &format!("{SCALE_IN_SPEC}{}", prom("10", "")))
    ));
    assert_eq!(
        changes(&run),
        vec![(0.0, 2), (60.0, 6), (75.0, 8), (120.0, 1), (150.0, 0)]
    );
}

/// `autoscaling.keda.sh/paused-scale-in: "true"` (controllers/keda/hpa.go overlays
/// `behavior.scaleDown.selectPolicy: Disabled` on the user's behavior; the executor's `scaleToZeroOrIdle`
/// returns early). Same inputs as the control:
/// - t=0: proposal 2 < 4, but `calculateScaleDownLimitWithBehaviors` returns current for Disabled → 4 stays.
/// - t=60: 80 / 40 = 2 → 8; no events yet → up limit max(4 + 4, 8) = 8 → 8. t=75: 80 / 80 = 1 → 8.
/// - t=120 on: proposal 0 (→ HPA min 1) blocked by Disabled; KEDA inactive with current 8 > 0 and min 0 →
///   `scaleToZeroOrIdle` → paused scale-in → nothing. Stays 8.
#[test]
fn paused_scale_in_blocks_hpa_and_keda_scale_in() {
    let run = run_yaml(&format!(
        "{}{SCALE_IN_REST}",
        so_annotated(
            "autoscaling.keda.sh/paused-scale-in: 'true'",
            &format!("{SCALE_IN_SPEC}{}", prom("10", ""))
        )
    ));
    assert_eq!(changes(&run), vec![(60.0, 8)]);
    assert!(run.summary.hpa.is_some(), "scale-in pause keeps the HPA");
    assert!(!row_at(&run, 270).active);
    assert_eq!(row_at(&run, 270).replicas, 8);
    assert!(
        !events(&run)
            .iter()
            .any(|(_, r)| *r == "KEDAScaleTargetDeactivated")
    );
}

/// `autoscaling.keda.sh/paused-scale-out: "true"` with no user behavior: KEDA creates the HPA with
/// `behavior: {scaleUp: {selectPolicy: Disabled}}`, so the HPA takes the *behavior* path with API defaults
/// (scaleDown window nil → the controller's 300 s). Initial 2, min 0, cooldown 45.
/// - t=0: 100 / 20 = 5 → 10; up window 0 → 10; Disabled → up limit = current → 2.
/// - t=60: 5 / 20 = 0.25 → ceil(0.5) = 1, but the 300 s down window holds max 10 → 2.
/// - KEDA: last active poll t=90 (value 5 > 0); t=120: 135 is not before 120 → cooldown; t=150 → 0
///   (scale-in is not paused).
/// - t=200 the value is 50: t=210 poll active with current 0 → `scaleFromZeroOrIdle` → paused scale-out →
///   no scaling. Active True, replicas stay 0.
#[test]
fn paused_scale_out_blocks_hpa_and_keda_scale_out() {
    let run = run_yaml(&format!(
        "{}duration: 5m\nworkload: {{initialReplicas: 2}}\nmetrics:\n  - trigger: 0\n    points: [[0, 100], [60, 5], [120, 0], [200, 50]]\n",
        so_annotated(
            "autoscaling.keda.sh/paused-scale-out: 'true'",
            &format!(
                "scaleTargetRef: {{name: worker}}\npollingInterval: 30\ncooldownPeriod: 45\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
                prom("10", "")
            )
        )
    ));
    assert_eq!(changes(&run), vec![(150.0, 0)]);
    // The unidirectional pause sets Paused=True and records ScaledObjectPaused at the first reconcile
    // (`reconcileScaledObject`, `NeedToPauseScaleIn() || NeedToPauseScaleOut()`).
    assert_eq!(
        events(&run),
        vec![
            (0.0, "ScaledObjectPaused"),
            (150.0, "KEDAScaleTargetDeactivated")
        ]
    );
    assert!(row_at(&run, 210).active);
    assert_eq!(row_at(&run, 270).replicas, 0);
}

// ---------------------------------------------------------------------------------------------------------
// 3. Forced activation
// ---------------------------------------------------------------------------------------------------------

/// `autoscaling.keda.sh/force-activation: "true"`, min 0, the metric is always 0, cooldown 0.
/// - t=0 poll: not active, but `NeedToForceActivation` → Active True; current 0 → `scaleFromZeroOrIdle` →
///   1, event "…from 0 to 1, caused by forced activation annotation"; lastActiveTime = 0.
/// - t=0 sync: current 1, ceil(0) = 0, legacy window max (seed 1) → 1, HPA min 1 anyway.
/// - Every later poll: forced active with current 1 > 0 → lastActiveTime = now; never scales to zero.
#[test]
fn force_activation_from_zero() {
    let run = force_activation_run();
    assert_eq!(changes(&run), vec![(0.0, 1)]);
    assert_eq!(events(&run), vec![(0.0, "KEDAScaleTargetActivated")]);
    assert_eq!(
        messages(&run, "KEDAScaleTargetActivated"),
        vec![
            "Scaled apps/v1.Deployment test/worker from 0 to 1, caused by forced activation annotation"
        ]
    );
    for t in [0, 30, 60, 90, 120, 150] {
        assert_eq!(row_at(&run, t).replicas, 1);
    }
}

/// The timeline's `active` column is documented as "KEDA's `Active` condition after its last poll"
/// (crates/sim/src/run.rs `Row::active`). Under forced activation upstream sets that condition True at every
/// poll although no trigger is active: `kedacore/keda` `pkg/scaling/executor/scale_scaledobjects.go`
/// `RequestScale`: `if isActive || scaledObject.NeedToForceActivation() { … SetActiveCondition(True,
/// "ScalerActive", "Scaling is performed because activation is being forced by annotation") }`, and
/// `handleResult` writes it to the status. The simulator fills the column from the poll's trigger activity
/// (`outcome.is_active`), so it shows 0.
#[test]
fn force_activation_active_column_is_true() {
    let run = force_activation_run();
    for t in [0, 30, 60, 90, 120, 150] {
        assert!(row_at(&run, t).active, "forced Active at t={t}");
    }
}

fn force_activation_run() -> Run {
    run_yaml(&format!(
        "{}duration: 3m\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0]]\n",
        so_annotated(
            "autoscaling.keda.sh/force-activation: 'true'",
            &format!(
                "scaleTargetRef: {{name: worker}}\ncooldownPeriod: 0\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
                prom("10", "")
            )
        )
    ))
}

// ---------------------------------------------------------------------------------------------------------
// 4. useCachedMetrics
// ---------------------------------------------------------------------------------------------------------

fn cached_run(use_cache: bool) -> Run {
    let extra = if use_cache {
        "    useCachedMetrics: true\n"
    } else {
        ""
    };
    run_yaml(&format!(
        "{}duration: 90s\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 10], [5, 40], [35, 80]]\n",
        so_annotated(
            "",
            &format!(
                "scaleTargetRef: {{name: worker}}\npollingInterval: 30\nminReplicaCount: 1\nmaxReplicaCount: 20\n{}",
                prom("10", extra)
            )
        )
    ))
}

/// `useCachedMetrics: true` (legacy path, threshold 10, poll 30 s): `GetScaledObjectMetrics` serves the record
/// stored by the last poll. Polls see 10 (t=0), 40 (t=30), 80 (t=60).
/// - t=0, 15: cached 10 → ratio 1 → 1. t=30: cached 40 → 4 (limit max(2, 4) = 4).
/// - t=45: cached 40 / (10 × 4) = 1 → 4 (the live value is already 80). t=60: cached 80 / 40 = 2 → 8
///   (limit max(8, 4)).
#[test]
fn use_cached_metrics_hpa_sees_last_poll() {
    let run = cached_run(true);
    assert_eq!(changes(&run), vec![(30.0, 4), (60.0, 8)]);
    assert_eq!(
        row_at(&run, 45).metrics,
        vec![Some(80.0)],
        "the timeline shows the live value"
    );
}

/// Control: without the cache every sync queries live. t=15: 40 → 4; t=30: 40 / 40 = 1; t=45: 80 / 40 = 2 → 8.
#[test]
fn use_cached_metrics_control_live_reads() {
    let run = cached_run(false);
    assert_eq!(changes(&run), vec![(15.0, 4), (45.0, 8)]);
}

// ---------------------------------------------------------------------------------------------------------
// 5. KEDA: an erroring trigger without fallback blocks scale-to-zero
// ---------------------------------------------------------------------------------------------------------

fn two_trigger_zero_run(second: &str) -> Run {
    run_yaml(&format!(
        "{}duration: 3m\nworkload: {{initialReplicas: 2}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0]]\n  - trigger: 1\n    points: {second}\n",
        so_annotated(
            "",
            "scaleTargetRef: {name: worker}\npollingInterval: 30\ninitialCooldownPeriod: 15\nminReplicaCount: 0\nmaxReplicaCount: 10\ntriggers:\n  - type: prometheus\n    metadata: {serverAddress: 'http://prometheus:9090', query: a, threshold: '10'}\n  - type: prometheus\n    metadata: {serverAddress: 'http://prometheus:9090', query: b, threshold: '10'}\n"
        )
    ))
}

/// Control: both triggers read 0 → inactive, no error. No lastActiveTime, so `initialCooldownPeriod` (15 s,
/// deliberately not a multiple of the polling interval — see `scenarios_timing.rs`
/// `initial_cooldown_counts_from_creation_before_first_poll`) applies: t=0: creation + 15 is not before 0 →
/// cooldown; t=30 → 0.
#[test]
fn trigger_error_control_scales_to_zero() {
    let run = two_trigger_zero_run("[[0, 0]]");
    assert_eq!(changes(&run), vec![(30.0, 0)]);
}

/// Trigger 1 fails until t=100, no fallback: each poll is inactive with `isError` → `RequestScale` takes the
/// `isError && Fallback == nil` branch (Ready False TriggerError) instead of scaling to zero; every failing poll
/// records a Warning `KEDAScalerFailed` (`getScalerState`). The HPA: trigger 0 proposes ceil(0) = 0 < 2 while
/// trigger 1 is invalid → `computeReplicasForMetrics` returns −1 → no scaling. Trigger 1 reads 0 from t=100:
/// t=120 poll: inactive, no error, lastActiveTime still nil → creation + 15 < 120 → 0.
#[test]
fn trigger_error_without_fallback_blocks_scale_to_zero() {
    let run = two_trigger_zero_run("[[0, error], [100, 0]]");
    assert_eq!(changes(&run), vec![(120.0, 0)]);
    assert_eq!(
        events(&run),
        vec![
            (0.0, "KEDAScalerFailed"),
            (30.0, "KEDAScalerFailed"),
            (60.0, "KEDAScalerFailed"),
            (90.0, "KEDAScalerFailed"),
            (120.0, "KEDAScaleTargetDeactivated"),
        ]
    );
    assert_eq!(row_at(&run, 90).replicas, 2);
    assert_eq!(row_at(&run, 90).metrics, vec![Some(0.0), None]);
}

// ---------------------------------------------------------------------------------------------------------
// 7. Fallback behaviours
// ---------------------------------------------------------------------------------------------------------

/// KEDA's e2e numbers: min 0, max 5, target 5, fallback replicas 3, failureThreshold 3; the HPA's scale-down
/// window is 0 so the fallback value shows at once. The query fails from t=50.
fn fallback_run(behavior: &str, pre_outage: f64) -> Run {
    run_yaml(&format!(
        "{}duration: 2m\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, {pre_outage}], [50, error]]\n",
        so_annotated(
            "",
            &format!(
                "scaleTargetRef: {{name: worker}}\npollingInterval: 30\nminReplicaCount: 0\nmaxReplicaCount: 5\nfallback: {{failureThreshold: 3, replicas: 3, behavior: {behavior}}}\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 0\n{}",
                prom("5", "")
            )
        )
    ))
}

/// Fallback behaviours, before-outage value 20 (→ 4 replicas) and 5 (→ 1 replica).
/// - t=0 poll: active, current 0 → KEDA 0 → 1. t=0 sync: value 20: 20 / (5 × 1) = 4 → 4 (up limit
///   max(1 + 4, 2) = 5); value 5: ratio 1 → 1.
/// - Failures (poll and every HPA request): poll 60 → 1, sync 60 → 2, sync 75 → 3 (errors: no scaling),
///   poll 90 → 4 > 3 → fallback. Sync 90: fallback value = 5 × 1000 × R milli with
///   R = static: 3; currentReplicas: current; IfHigher: max(current, 3); IfLower: min(current, 3);
///   HPA: ceil(5R / 5) = R (or current when R = current, ratio 1).
/// - current 4: static 3, currentReplicas 4, IfHigher 4, IfLower 3.
/// - current 1: static 3, currentReplicas 1, IfHigher 3, IfLower 1.
#[test]
fn fallback_behaviors_e2e_numbers() {
    type Case = (&'static str, f64, Vec<(f64, i32)>);
    let cases: [Case; 8] = [
        ("static", 20.0, vec![(0.0, 4), (90.0, 3)]),
        ("currentReplicas", 20.0, vec![(0.0, 4)]),
        ("currentReplicasIfHigher", 20.0, vec![(0.0, 4)]),
        ("currentReplicasIfLower", 20.0, vec![(0.0, 4), (90.0, 3)]),
        ("static", 5.0, vec![(0.0, 1), (90.0, 3)]),
        ("currentReplicas", 5.0, vec![(0.0, 1)]),
        ("currentReplicasIfHigher", 5.0, vec![(0.0, 1), (90.0, 3)]),
        ("currentReplicasIfLower", 5.0, vec![(0.0, 1)]),
    ];
    for (behavior, pre, want) in cases {
        let run = fallback_run(behavior, pre);
        assert_eq!(changes(&run), want, "behavior {behavior}, value {pre}");
        assert_eq!(row_at(&run, 105).replicas, want.last().unwrap().1);
    }
}

/// The event sequence of the static case: KEDA activates at 0 and the HPA rescales 1 → 4; the failing poll at
/// 60 records `KEDAScalerFailed` (`getScalerState`: the error survives fallback processing); poll 90 turns
/// fallback on — `checkScalers` read the Fallback condition as not True before the poll →
/// `ScaledObjectFallbackActivated`, and no `KEDAScalerFailed` since the fallback swallowed the error — and the
/// sync at 90 rescales 4 → 3.
#[test]
fn fallback_static_events() {
    let run = fallback_run("static", 20.0);
    assert_eq!(
        events(&run),
        vec![
            (0.0, "KEDAScaleTargetActivated"),
            (60.0, "KEDAScalerFailed"),
            (90.0, "ScaledObjectFallbackActivated"),
        ]
    );
    assert_eq!(rescales(&run), vec![0.0, 90.0]);
    assert!(row_at(&run, 90).active);
    assert_eq!(row_at(&run, 90).desired, Some(3));
}

/// `failureThreshold: 0`: the first failure already exceeds it. Poll 60: failures 1 > 0 → fallback active
/// (static 3); sync 60: 15000m / (5000m × 4) = 0.75 → 3.
#[test]
fn fallback_failure_threshold_zero() {
    let run = run_yaml(&format!(
        "{}duration: 2m\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, 20], [50, error]]\n",
        so_annotated(
            "",
            &format!(
                "scaleTargetRef: {{name: worker}}\npollingInterval: 30\nminReplicaCount: 0\nmaxReplicaCount: 5\nfallback: {{failureThreshold: 0, replicas: 3}}\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 0\n{}",
                prom("5", "")
            )
        )
    ));
    assert_eq!(changes(&run), vec![(0.0, 4), (60.0, 3)]);
    assert_eq!(
        events(&run),
        vec![
            (0.0, "KEDAScaleTargetActivated"),
            (60.0, "ScaledObjectFallbackActivated"),
        ]
    );
    assert_eq!(rescales(&run), vec![0.0, 60.0]);
}

/// Fallback with `metricType: Value` (target 10): `doFallback` divides the fallback replicas by the *ready*
/// pods, `value = int64(10 × 1000 × 10 / ready)` milli, and the HPA's Value path multiplies the ratio by the
/// ready pods again. failureThreshold 0, fallback 10, pods take 60 s to start, scaleUp policy Pods 2 / 15 s,
/// scaleDown window 0. Before the outage the value equals the target (ratio 1 → stay at 2).
/// - t=60: fallback, ready 2: 50000m → ratio 5 → ceil(5 × 2) = 10; up limit 2 + 2 → 4.
/// - t=75: spec 4, ready 2 → still ratio 5 → 10; the t=60 event is not after 75 − 15 → limit 4 + 2 → 6.
///   (Dividing by spec replicas instead would give 2.5 × 2 = 5.)
/// - t=90 → 8, t=105 → 10. t=120: ready 4 → 25000m → 2.5 × 4 = 10. t=135: ready 6 → int64(16666.67) =
///   16666m → 1.6666 × 6 = 9.9996 → 10. t=150: ready 8 → 12500m → 10. t=165: ready 10 → ratio 1 → 10.
#[test]
fn fallback_value_metric_divides_by_ready_pods() {
    let run = run_yaml(&format!(
        "{}duration: 3m\nworkload: {{initialReplicas: 2, podStartupSeconds: 60}}\nmetrics:\n  - trigger: 0\n    points: [[0, 10], [50, error]]\n",
        so_annotated(
            "",
            &format!(
                "scaleTargetRef: {{name: worker}}\npollingInterval: 30\nminReplicaCount: 1\nmaxReplicaCount: 20\nfallback: {{failureThreshold: 0, replicas: 10}}\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleUp:\n        policies: [{{type: Pods, value: 2, periodSeconds: 15}}]\n      scaleDown:\n        stabilizationWindowSeconds: 0\n{}",
                prom("10", "    metricType: Value\n")
            )
        )
    ));
    assert_eq!(
        changes(&run),
        vec![(60.0, 4), (75.0, 6), (90.0, 8), (105.0, 10)]
    );
    assert_eq!(
        (row_at(&run, 105).replicas, row_at(&run, 105).ready),
        (10, 2)
    );
    assert_eq!(row_at(&run, 165).ready, 10);
    assert_eq!(run.summary.final_replicas, 10);
}

/// KEDA's lifecycle events at creation. Upstream, the first reconcile of a new ScaledObject starts the scale
/// loop — `HandleScalableObject` records Normal `KEDAScalersStarted` "Started scalers watch"
/// (`pkg/scaling/scale_handler.go`) — and, the Ready condition having been initialized to Unknown, records
/// Normal `ScaledObjectReady` "ScaledObject is ready for scaling" (`controllers/keda/scaledobject_controller.go`
/// `Reconcile`: `if wasReady.IsFalse() || wasReady.IsUnknown() { Emit(…ScaledObjectReady…) }`). A paused
/// ScaledObject records `ScaledObjectPaused` "ScaledObject is paused" (`handlePause`) and then, since
/// `handlePause` succeeds, `ScaledObjectReady` as well.
#[test]
fn creation_lifecycle_events() {
    let reasons_at_zero = |run: &Run| -> Vec<String> {
        let mut r: Vec<String> = run
            .summary
            .events
            .iter()
            .filter(|e| e.t_s == 0.0 && e.object.starts_with("ScaledObject/"))
            .map(|e| e.reason.clone())
            .collect();
        r.sort();
        r
    };
    let active = force_activation_run();
    assert_eq!(
        reasons_at_zero(&active),
        vec![
            "KEDAScaleTargetActivated",
            "KEDAScalersStarted",
            "KEDAScalersStarted",
            "ScaledObjectReady"
        ]
    );
    let paused = run_yaml(&format!(
        "{}duration: 1m\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0]]\n",
        so_annotated(
            "autoscaling.keda.sh/paused: 'true'",
            &format!(
                "scaleTargetRef: {{name: worker}}\nminReplicaCount: 0\n{}",
                prom("10", "")
            )
        )
    ));
    // `handlePause` returns its message without error, so `Reconcile` also records ScaledObjectReady (Ready was
    // Unknown): `controllers/keda/scaledobject_controller.go` at 8b4f083ca.
    assert_eq!(
        reasons_at_zero(&paused),
        vec!["ScaledObjectPaused", "ScaledObjectReady"]
    );
}
