//! Timing corner cases of the simulator's event loop (README "Timing rules": at one instant pods that finished
//! starting become ready first, then KEDA polls, then the HPA syncs; a series value holds from its time).
//! Expected timelines are derived by hand from the upstream algorithms (`kedacore/keda`
//! `pkg/scaling/executor/scale_scaledobjects.go`, `pkg/scaling/scale_handler.go`; `kubernetes/kubernetes`
//! `pkg/controller/podautoscaler/{horizontal,replica_calculator}.go`), never from running the simulator.

mod support;

use prescale_sim::Run;
use support::{changes, prom, row_at, run_yaml, so};

/// A pod that becomes ready exactly at a sync instant is counted by that sync. `metricType: Value` (target
/// 100, ready pods multiply the ratio), pods start in 15 s, behavior path (scaleDown window 0), max 12.
/// - t=0: 100 / 100 = 1 → 2. t=15: 300 → ratio 3 × 2 ready = 6 (up limit max(2 + 4, 4)) → 6; the 4 new pods
///   are ready at t=30.
/// - t=30: they become ready *before* the sync: 200 → 2 × 6 ready = 12 (limit max(6 + 4, 12), the t=15 event
///   is not after 15) → 12. Counted after the sync it would be 2 × 2 = 4, a scale-down.
/// - t=45: 2 × 12 = 24 → max 12.
#[test]
fn pod_ready_exactly_at_sync_instant() {
    let run = run_yaml(&format!(
        "{}duration: 1m\nworkload: {{initialReplicas: 2, podStartupSeconds: 15}}\nmetrics:\n  - trigger: 0\n    points: [[0, 100], [10, 300], [25, 200]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\nminReplicaCount: 1\nmaxReplicaCount: 12\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 0\n{}",
            prom("100", "    metricType: Value\n")
        ))
    ));
    assert_eq!(changes(&run), vec![(15.0, 6), (30.0, 12)]);
    assert_eq!((row_at(&run, 30).replicas, row_at(&run, 30).ready), (12, 6));
    assert_eq!(row_at(&run, 45).ready, 12);
}

fn legacy_one(points: &str) -> Run {
    run_yaml(&format!(
        "{}duration: 1m\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: {points}\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\nminReplicaCount: 1\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        ))
    ))
}

/// A metric point exactly at a sync instant is seen by that sync (the value holds *from* its time): 40 at t=15
/// → 40 / 10 = 4 → 4 at t=15. One millisecond later it is first seen at t=30.
#[test]
fn metric_point_exactly_at_sync_instant() {
    assert_eq!(changes(&legacy_one("[[0, 10], [15, 40]]")), vec![(15.0, 4)]);
    assert_eq!(
        changes(&legacy_one("[[0, 10], [15.001, 40]]")),
        vec![(30.0, 4)]
    );
}

/// A metric point exactly at a poll instant activates at that poll: min 0, initial 0, 5 from t=30 →
/// t=30 poll: 5 > 0 → 0 → 1; the sync right after: 5 / (10 × 1) = 0.5 → ceil(0.5) = 1.
#[test]
fn metric_point_exactly_at_poll_instant() {
    let run = run_yaml(&format!(
        "{}duration: 1m\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0], [30, 5]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        ))
    ));
    assert_eq!(changes(&run), vec![(30.0, 1)]);
    assert!(!row_at(&run, 15).active);
    assert!(row_at(&run, 30).active);
}

fn cooldown_run(cooldown: i64) -> Run {
    run_yaml(&format!(
        "{}duration: 90s\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 5], [20, 0]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\npollingInterval: 15\ncooldownPeriod: {cooldown}\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        ))
    ))
}

/// Cooldown just around a poll (pollingInterval 15, the last active poll is t=15; the HPA keeps 1 meanwhile:
/// proposal 0, legacy window max 1, HPA min 1):
/// - cooldown 44: 15 + 44 = 59 < 60 → 0 at t=60.
/// - cooldown 46: 61 is not before 60; 61 < 75 → 0 at t=75.
///
/// Both hold whatever the sub-second phase of the real clock (lastActiveTime is stored in whole seconds, so
/// it reads 15 either way).
#[test]
fn cooldown_just_around_a_poll() {
    let early = cooldown_run(44);
    assert_eq!(changes(&early), vec![(60.0, 0)]);
    assert_eq!(row_at(&early, 45).replicas, 1);
    assert!(!row_at(&early, 30).active);
    assert_eq!(changes(&cooldown_run(46)), vec![(75.0, 0)]);
}

/// Cooldown boundary exactly at a poll: cooldown 45, last active poll t=15, so the check at t=60 compares
/// `lastActiveTime + 45` with `now` at the nominal instant 60. The simulator evaluates it on its idealized clock
/// (poll instants on whole seconds, zero latency): 60 is not before 60 → it scales at t=75.
///
/// Upstream, `lastActiveTime` goes through the status patch and is read back from the informer cache, and
/// `metav1.Time` serializes as RFC 3339 *whole seconds* (`k8s.io/apimachinery` `pkg/apis/meta/v1/time.go`
/// `MarshalJSON`), while `time.Now()` in the later `scaleToZeroOrIdle` check
/// (`kedacore/keda` `pkg/scaling/executor/scale_scaledobjects.go`:
/// `LastActiveTime.Add(cooldownPeriod).Before(time.Now())`) keeps its sub-second part and every poll runs a
/// little after its nominal instant (the loop's timer only fires after the full interval). So at the boundary
/// poll the check reads `floor(15 + f) + 45 < 60 + f'`, which is true unless the activating poll was stamped on
/// an exact whole second and the later check ran no later within its second — practically always true: KEDA
/// scales at t=60. With the defaults (pollingInterval 30, cooldownPeriod 300) this puts every simulated
/// scale-to-zero one polling interval late. (`scenarios.rs` `activation_from_zero_and_cooldown_to_zero` pins
/// the simulator's current convention.)
///
/// The simulator keeps the literal rule on its idealized clock (README, "Ties"), as `hpa.md` §1.7 prescribes
/// for the HPA's windows; this test pins that choice so a change to it is deliberate.
#[test]
fn cooldown_tie_at_a_poll_follows_the_literal_rule() {
    assert_eq!(changes(&cooldown_run(45)), vec![(75.0, 0)]);
}

fn initial_cooldown_run(initial_cooldown: &str) -> Run {
    run_yaml(&format!(
        "{}duration: 3m\nworkload: {{initialReplicas: 3}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\npollingInterval: 30\n{initial_cooldown}minReplicaCount: 0\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        ))
    ))
}

/// `initialCooldownPeriod` (used while `lastActiveTime` is nil) counts from `metadata.creationTimestamp`
/// (`scaleToZeroOrIdle`: `CreationTimestamp.Add(initialCooldownPeriod).Before(time.Now())`). Upstream the
/// ScaledObject necessarily exists before its first poll — the API server stamps `creationTimestamp`
/// (whole seconds, truncated down) on create, and only then does the reconciler create the HPA and start the
/// scale loop, whose first `checkScalers` runs at once (`pkg/scaling/scale_handler.go` `startScaleLoop`). So
/// with the default `initialCooldownPeriod: 0` an idle target (min 0, value 0, 3 replicas) is scaled to zero
/// by the very first poll (t=0), and with 120 s by the poll at t=120. The simulator puts the creation exactly
/// at the first poll instant (`KedaState::new(0)`), where `0 + 0` is not before `0`, and scales one poll late
/// (t=30, resp. t=150 — the latter pinned by `scenarios.rs` `initial_cooldown_delays_first_scale_in`).
///
/// The simulator keeps the literal rule with the creation at t = 0 (README, "Ties"); this test pins it.
#[test]
fn initial_cooldown_tie_follows_the_literal_rule() {
    assert_eq!(changes(&initial_cooldown_run("")), vec![(30.0, 0)]);
    assert_eq!(
        changes(&initial_cooldown_run("initialCooldownPeriod: 120\n")),
        vec![(150.0, 0)]
    );
}

/// The unambiguous side of the initial cooldown: with `initialCooldownPeriod: 100` the creation + 100 s falls
/// between polls (t=90 no, t=120 yes) under any sub-second placement of the creation before the first poll.
#[test]
fn initial_cooldown_between_polls() {
    assert_eq!(
        changes(&initial_cooldown_run("initialCooldownPeriod: 100\n")),
        vec![(120.0, 0)]
    );
}

/// `pollingInterval: 7` (not a multiple of the 15 s sync): polls at 0, 7, 14, …, 63; syncs at 0, 15, …, 60.
/// min 0, cooldown 10, value 20 during [10, 50).
/// - t=0: HPA ScalingDisabled at 0 (seeds the recommendation 0). t=14 poll: 20 > 0 → 0 → 1.
/// - t=15 sync: 20 / (10 × 1) = 2 → 2 (limit 4). t=30, 45: 20 / 20 = 1 → 2. t=60: 0 → legacy window max 2.
/// - Last active poll t=49; t=56: 59 is not before 56; t=63: 59 < 63 → 0.
#[test]
fn polling_interval_not_multiple_of_sync_period() {
    let run = run_yaml(&format!(
        "{}duration: 70s\nworkload: {{initialReplicas: 0}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0], [10, 20], [50, 0]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\npollingInterval: 7\ncooldownPeriod: 10\nminReplicaCount: 0\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        ))
    ));
    assert_eq!(changes(&run), vec![(14.0, 1), (15.0, 2), (63.0, 0)]);
    assert_eq!((run.summary.keda_polls, run.summary.hpa_syncs), (10, 5));
    let times: Vec<i64> = run
        .rows
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.t_ms / 1000)
        .collect();
    assert_eq!(
        times,
        vec![0, 7, 14, 15, 21, 28, 30, 35, 42, 45, 49, 56, 60, 63]
    );
}

fn cached_7s(use_cache: bool) -> Run {
    let extra = if use_cache {
        "    useCachedMetrics: true\n"
    } else {
        ""
    };
    run_yaml(&format!(
        "{}duration: 1m\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 10], [13, 40], [29, 80]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\npollingInterval: 7\nminReplicaCount: 1\nmaxReplicaCount: 20\n{}",
            prom("10", extra)
        ))
    ))
}

/// `pollingInterval: 7` with `useCachedMetrics`: each sync sees the latest poll at or before it — sync 15 ←
/// poll 14 (40) → 4; sync 30 ← poll 28 (40) → 40 / 40 = 1 → 4; sync 45 ← poll 42 (80) → 2 → 8. Live reads
/// instead: sync 30 sees 80 → 8 at t=30.
#[test]
fn polling_interval_7s_with_cached_metrics() {
    assert_eq!(changes(&cached_7s(true)), vec![(15.0, 4), (45.0, 8)]);
    assert_eq!(changes(&cached_7s(false)), vec![(15.0, 4), (30.0, 8)]);
}

/// `controller: {hpaSyncPeriod: 7.5s, downscaleStabilization: 22.5s}` on the legacy path. Upstream keeps the
/// flag as a `time.Duration` and `stabilizeRecommendation` uses `cutoff := time.Now().Add(-a.downscaleStabilisationWindow)`
/// at full precision (`kubernetes/kubernetes` `pkg/controller/podautoscaler/horizontal.go`; only the behavior
/// path's `maybeInitScaleDownStabilizationWindow` truncates to whole seconds).
/// Syncs at 0, 7.5, 15, 22.5, …; value 40 until t=20, then 10; initial 1.
/// - t=0: 40 / 10 → 4 (limit 4). t=7.5, 15: 40 / 40 → recommendations 4@7.5, 4@15.
/// - From t=22.5 the proposal is 1. t=37.5: cutoff 15 → 4@15 is not before it → 4. t=45: cutoff 22.5 → 1.
///   (A 22 s window would drop 4@15 at t=37.5, cutoff 15.5, and scale down one sync early.)
#[test]
fn sub_second_downscale_stabilization_legacy() {
    let run = run_yaml(&format!(
        "{}duration: 60s\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 40], [20, 10]]\ncontroller: {{hpaSyncPeriod: 7.5s, downscaleStabilization: 22.5s}}\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\nminReplicaCount: 1\nmaxReplicaCount: 10\n{}",
            prom("10", "")
        ))
    ));
    let c = changes(&run);
    assert_eq!(c, vec![(0.0, 4), (45.0, 1)]);
}

/// A pod that becomes ready exactly at a poll instant is counted by that poll. The poll's readiness only
/// matters for a `Value`-type fallback (`doFallback` divides by the ready pods), and the HPA only sees the
/// poll's value with `useCachedMetrics` — so: Value target 10, fallback {failureThreshold: 0, replicas: 6},
/// `useCachedMetrics`, pods start in 30 s, scaleDown window 0, initial 2; the query fails from t=50.
/// - Poll 60: failure 1 > 0 → fallback 6 / 2 ready = 3 → 30000m (record, error nil). Sync 60 reads the record:
///   `GetMetricsWithFallback` with a nil error resets health; ratio 3 × 2 ready = 6 (up limit max(2 + 4, 4)).
///   Sync 75: same → 6. The 4 new pods are ready at t=90.
/// - t=90: the pods become ready *before* the poll: fallback 6 / 6 = 1 → 10000m; sync 90: ratio 1 → 6.
///   (Counted after the poll, the record would be 30000m and the sync, seeing 6 ready pods, would ask for 18.)
/// - Events: the health reset by each cached read puts the Fallback condition back to False, so polls 60, 90
///   and 120 each record `ScaledObjectFallbackActivated`.
#[test]
fn pod_ready_exactly_at_poll_instant_value_fallback_cached() {
    let run = run_yaml(&format!(
        "{}duration: 150s\nworkload: {{initialReplicas: 2, podStartupSeconds: 30}}\nmetrics:\n  - trigger: 0\n    points: [[0, 10], [50, error]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\npollingInterval: 30\nminReplicaCount: 1\nmaxReplicaCount: 20\nfallback: {{failureThreshold: 0, replicas: 6}}\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 0\n{}",
            prom("10", "    metricType: Value\n    useCachedMetrics: true\n")
        ))
    ));
    assert_eq!(changes(&run), vec![(60.0, 6)]);
    assert_eq!(row_at(&run, 90).ready, 6);
    let so_events: Vec<(f64, &str)> = run
        .summary
        .events
        .iter()
        .filter(|e| e.object.starts_with("ScaledObject/"))
        .filter(|e| !support::is_creation_event(e))
        .map(|e| (e.t_s, e.reason.as_str()))
        .collect();
    assert_eq!(
        so_events,
        vec![
            (60.0, "ScaledObjectFallbackActivated"),
            (90.0, "ScaledObjectFallbackActivated"),
            (120.0, "ScaledObjectFallbackActivated"),
        ]
    );
}
