//! Less obvious consequences of the upstream code, derived by hand (never from running the simulator):
//! `kedacore/keda` `pkg/scaling/scale_handler.go` (`checkScalers`, `getScalerState`, `GetScaledObjectMetrics`),
//! `pkg/fallback/fallback.go`, `pkg/scaling/executor/scale_scaledobjects.go`, and `kubernetes/kubernetes`
//! `pkg/controller/podautoscaler/horizontal.go`.
//!
//! Conventions as in `scenarios_keda.rs`: KEDA polls every 30 s, the HPA syncs every 15 s; at one instant the
//! poll runs before the sync; the HPA seeds its recommendations with the current count at its first sync and
//! keeps them (in memory, per HPA) while KEDA scales the target to and from zero.

use std::path::Path;

use prescale_sim::{Options, Run, Scenario, simulate};

fn run_yaml(yaml: &str) -> Run {
    let sc = Scenario::parse(yaml, "test.yaml", Path::new("."))
        .unwrap_or_else(|e| panic!("scenario: {e}"));
    simulate(&sc, Options { timeline: true }).unwrap_or_else(|e| panic!("simulate: {e}"))
}

/// (t in seconds, new spec.replicas) at every change, starting from the initial replica count.
fn changes(run: &Run) -> Vec<(f64, i32)> {
    let rows = run.rows.as_ref().expect("timeline");
    let mut out = Vec::new();
    let mut last = run.summary.initial_replicas;
    for r in rows {
        if r.replicas != last {
            out.push((r.t_ms as f64 / 1000.0, r.replicas));
            last = r.replicas;
        }
    }
    out
}

/// (t, reason) of the ScaledObject's (KEDA's) events.
fn so_events(run: &Run) -> Vec<(f64, &str)> {
    run.summary
        .events
        .iter()
        .filter(|e| e.object.starts_with("ScaledObject/"))
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

fn so(spec: &str) -> String {
    let body: String = spec.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "scaledObject:\n  apiVersion: keda.sh/v1alpha1\n  kind: ScaledObject\n  metadata: {{name: app, namespace: test}}\n  spec:\n{body}"
    )
}

fn prom(threshold: &str, extra: &str) -> String {
    format!(
        "triggers:\n  - type: prometheus\n{extra}    metadata:\n      serverAddress: http://prometheus:9090\n      query: q\n      threshold: '{threshold}'\n"
    )
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

/// The HPA keeps its recommendations while KEDA parks the target at zero (legacy path, min 0, cooldown 30).
/// - t=0: KEDA 0 → 1; sync: seed 1@0, 50 / 10 = 5 → limit max(2, 4) → 4, "above target". t=15: 50 / 40 → 5
///   (limit 8). t=30..90: 50 / 50 = 1 → recommendations of 5 up to 5@90.
/// - Value 0 from 100: syncs 105–135 propose 0, window max 5. KEDA: last active poll 90; t=120 cooldown;
///   t=150 → 0 (HPA ScalingDisabled from then on, recommendations kept).
/// - Value 1 from 160: t=180 poll → 1. Sync 180: 1 / 10 → ceil(0.1) = 1, but the legacy window still holds
///   the 5s (cutoff −120) → limit max(2, 4) → 4; the metric proposal equals the current count, so the reason
///   string is empty: "New size: 4; reason: ". Sync 195: proposal 1 < 4 → "All metrics below target", window
///   max 5 → 5. The last 5 is 5@90: still counted at t=390 (cutoff 90, `!Before`), gone at 405 → 1.
#[test]
fn legacy_recommendations_survive_scale_to_zero() {
    let run = run_yaml(&format!(
        "{}duration: 7m\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, 50], [100, 0], [160, 1]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\ncooldownPeriod: 30\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
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
    assert!(keda.summary.events.is_empty(), "{:?}", keda.summary.events);
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
/// - Poll 0: failure 1, inactive with error, no lastActiveTime: creation 0 + 0 is not before 0 → cooldown.
///   Syncs 0, 15: failures 2, 3 → HPA errors (seed 2@0 kept, nothing else recorded). Poll 30: failure 4 → 0.
/// - At 0 replicas the HPA is ScalingDisabled and reads no metric: only polls count, 5 (t=60) … 10 (t=210).
/// - Poll 240: 11 > 10 → fallback (value 0 × 10), active → 0 → 1. Sync 240: proposal ceil(0) = 0 < 1 ("All
///   metrics below target"), but the legacy window still holds the seed 2@0 → 2. t=315: the seed is before the
///   cutoff 15 → max 0 → HPA min 1.
#[test]
fn fallback_replicas_zero_allows_scale_to_zero_then_reactivates() {
    let run = run_yaml(&format!(
        "{}duration: 330s\nworkload: {{initialReplicas: 2}}\nmetrics:\n  - trigger: 0\n    points: [[0, error]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\nminReplicaCount: 0\nmaxReplicaCount: 10\nfallback: {{failureThreshold: 10, replicas: 0}}\n{}",
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
