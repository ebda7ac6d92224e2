//! Scenario tests: timelines derived by hand from KEDA's and the HPA's documented algorithms
//! (`../shared/reference/keda.md` §2, `hpa.md` §1), replayed through the simulator. Each test states the derivation.

mod support;

use prescale_sim::Run;
use support::{changes, row_at, run_yaml, so};

const PROM: &str = "serverAddress: http://prometheus:9090\n      query: q";

/// The reference walkthrough (examples/seed): threshold 1, 1..10 replicas, legacy HPA path.
/// t=105: rate 1.125 / (1 × 1 pod) = 1.125 > 1.1 → ceil(1.125) = 2 → "New size: 2".
/// The last recommendation of 2 is made at t=375 (1.125 / 2 pods → ceil(1.125) = 2); legacy stabilization keeps
/// recommendations at or after now − 300 s, so t=675 still sees it and t=690 does not → 1 at t=690.
#[test]
fn seed_walkthrough_scales_to_two_and_back() {
    let run = run_yaml(&format!(
        "{}duration: 15m\nworkload: {{initialReplicas: 1, capacityPerPod: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0], [75, 0.375], [90, 0.75], [105, 1.125], [120, 1.5], [375, 1.125], [390, 0.75], [405, 0.375], [420, 0]]\n",
        so(
            "scaleTargetRef: {name: downstream0}\npollingInterval: 30\ncooldownPeriod: 300\nfallback: {failureThreshold: 3, replicas: 2}\nminReplicaCount: 1\nmaxReplicaCount: 10\ntriggers:\n  - type: prometheus\n    metadata:\n      serverAddress: http://keda-sigv4/workspaces/$WORKSPACE\n      threshold: '1'\n      query: rate(ho11y_total[1m])\n"
        )
    ));
    assert_eq!(changes(&run), vec![(105.0, 2), (690.0, 1)]);
    let s = &run.summary;
    assert_eq!(
        (s.scale_actions, s.max_replicas, s.final_replicas),
        (2, 2, 1)
    );
    let rescales: Vec<&str> = s
        .events
        .iter()
        .filter(|e| e.reason == "SuccessfulRescale")
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        rescales,
        vec![
            "New size: 2; reason: external metric s0-prometheus(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: app,},MatchExpressions:[]LabelSelectorRequirement{},}) above target",
            "New size: 1; reason: All metrics below target",
        ]
    );
    assert_eq!(row_at(&run, 675).replicas, 2);
    assert_eq!(row_at(&run, 120).metrics, vec![Some(1.5)]);
    // pod-seconds: 1 pod for 105 s, 2 for 585 s, 1 for 210 s.
    assert_eq!(s.pod_seconds, 105.0 + 2.0 * 585.0 + 210.0);
}

/// Activation from zero and cooldown back to zero (min 0, activationThreshold 5, cooldown 60 s).
/// t=0..30: value 0 → inactive, HPA ScalingDisabled at 0 replicas. t=60 poll: 20 > 5 → KEDA scales 0 → 1;
/// the HPA syncs right after: 20 / (10 × 1) → ceil(2) = 2 (legacy limit max(2, 4)). t=90 is the last active poll
/// (value 20). From t=100 the value is 3 ≤ 5: inactive; KEDA scales to 0 once lastActiveTime + 60 s is *before*
/// the poll time: 150 is not before 150, so t=180.
#[test]
fn activation_from_zero_and_cooldown_to_zero() {
    let run = run_yaml(&format!(
        "{}duration: 5m\nmetrics:\n  - trigger: 0\n    points: [[0, 0], [40, 20], [100, 3], [200, 0]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\npollingInterval: 30\ncooldownPeriod: 60\nminReplicaCount: 0\nmaxReplicaCount: 5\ntriggers:\n  - type: prometheus\n    metadata:\n      {PROM}\n      threshold: '10'\n      activationThreshold: '5'\n"
        ))
    ));
    assert_eq!(changes(&run), vec![(60.0, 2), (180.0, 0)]);
    assert_eq!(
        run.summary.scale_actions, 3,
        "0→1 by KEDA, 1→2 by the HPA, 2→0 by KEDA"
    );
    assert!(!row_at(&run, 30).active);
    assert!(row_at(&run, 60).active);
    assert!(!row_at(&run, 150).active);
    let reasons: Vec<&str> = run
        .summary
        .events
        .iter()
        .map(|e| e.reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        vec![
            "KEDAScalersStarted",
            "KEDAScalersStarted",
            "ScaledObjectReady",
            "KEDAScaleTargetActivated",
            "SuccessfulRescale",
            "KEDAScaleTargetDeactivated"
        ]
    );
}

/// initialCooldownPeriod: before any activity, scale-in to zero waits until creation + 120 s is before the poll
/// time: not at 120, at 150.
#[test]
fn initial_cooldown_delays_first_scale_in() {
    let run = run_yaml(&format!(
        "{}duration: 4m\nworkload: {{initialReplicas: 3}}\nmetrics:\n  - trigger: 0\n    points: [[0, 0]]\n",
        so(&format!(
            "scaleTargetRef: {{name: worker}}\ninitialCooldownPeriod: 120\nminReplicaCount: 0\ntriggers:\n  - type: prometheus\n    metadata:\n      {PROM}\n      threshold: '10'\n"
        ))
    ));
    assert_eq!(changes(&run), vec![(150.0, 0)]);
}

/// Fallback counts every call: the poll *and* each HPA metric request. The query fails from t=50.
/// t=60 poll → 1 failure, t=60 sync → 2, t=75 sync → 3 (not > 3), t=90 poll → 4 > 3: fallback active;
/// t=90 sync → 5: fallback value 4 × 10 = 40 → ceil(40 / 10) = 4 (legacy limit max(2, 4) = 4) → 4 at t=90.
#[test]
fn fallback_counts_poll_and_hpa_requests() {
    let run = run_yaml(&format!(
        "{}duration: 3m\nworkload: {{initialReplicas: 1}}\nmetrics:\n  - trigger: 0\n    points: [[0, 10], [50, error]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\nminReplicaCount: 1\nmaxReplicaCount: 10\nfallback: {{failureThreshold: 3, replicas: 4}}\ntriggers:\n  - type: prometheus\n    metadata:\n      {PROM}\n      threshold: '10'\n"
        ))
    ));
    assert_eq!(changes(&run), vec![(90.0, 4)]);
    assert_eq!(
        row_at(&run, 60).metrics,
        vec![None],
        "the metric column is empty while the query fails"
    );
    assert!(
        row_at(&run, 90).active,
        "a trigger in fallback counts as active"
    );
}

/// A `Value` target multiplies the ratio by *ready* pods. Pods take 60 s to start; the value jumps to 300 at
/// t=30 and settles at 200 at t=40; target 100.
/// Behavior path with scaleDown.stabilizationWindowSeconds 0 (scaleUp defaults: +4 pods or +100 % per 15 s):
/// t=30: 3 × 2 ready = 6, limit max(2+4, 4) = 6 → 6. t=45: 2 × 2 ready = 4 < 6 and no down window → 4
/// (the not-ready pods go first). t=90: the two pods from t=30 are ready: 2 × 4 = 8 → 8.
#[test]
fn value_target_with_slow_pods_behavior_path() {
    let run = run_yaml(&format!(
        "{}duration: 100s\nworkload: {{initialReplicas: 2, podStartupSeconds: 60}}\nmetrics:\n  - trigger: 0\n    points: [[0, 100], [30, 300], [40, 200]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\nminReplicaCount: 1\nmaxReplicaCount: 20\nadvanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        stabilizationWindowSeconds: 0\ntriggers:\n  - type: prometheus\n    metricType: Value\n    metadata:\n      {PROM}\n      threshold: '100'\n"
        ))
    ));
    assert_eq!(changes(&run), vec![(30.0, 6), (45.0, 4), (90.0, 8)]);
    assert_eq!((row_at(&run, 45).replicas, row_at(&run, 45).ready), (4, 2));
    assert_eq!(row_at(&run, 90).ready, 4);
}

/// The same on the legacy path. t=30: 3 × 2 ready = 6, but the legacy scale-up limit is max(2 × 2, 4) = 4 → 4.
/// Legacy stabilization stores the *unlimited* recommendation (6), so at t=45 the proposal 2 × 2 ready = 4 is
/// lifted to the window's maximum 6 (limit max(2 × 4, 4) = 8) → 6. t=90: the pods from t=30 are ready:
/// 2 × 4 = 8 ≤ max(2 × 6, 4) → 8.
#[test]
fn value_target_with_slow_pods_legacy_path() {
    let run = run_yaml(&format!(
        "{}duration: 100s\nworkload: {{initialReplicas: 2, podStartupSeconds: 60}}\nmetrics:\n  - trigger: 0\n    points: [[0, 100], [30, 300], [40, 200]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\nminReplicaCount: 1\nmaxReplicaCount: 20\ntriggers:\n  - type: prometheus\n    metricType: Value\n    metadata:\n      {PROM}\n      threshold: '100'\n"
        ))
    ));
    assert_eq!(changes(&run), vec![(30.0, 4), (45.0, 6), (90.0, 8)]);
    assert_eq!((row_at(&run, 45).replicas, row_at(&run, 45).ready), (6, 2));
}

/// Same input → byte-identical output (JSON summary and timeline).
#[test]
fn output_is_deterministic() {
    let yaml = format!(
        "{}duration: 1h\nworkload: {{podStartupSeconds: 17, capacityPerPod: 10}}\nmetrics:\n  - trigger: 0\n    points: [[0, 5], [600, 80], [1200, error], [1500, 30], [2400, 0]]\n",
        so(&format!(
            "scaleTargetRef: {{name: api}}\nmaxReplicaCount: 12\nfallback: {{failureThreshold: 2, replicas: 3}}\ntriggers:\n  - type: prometheus\n    metadata:\n      {PROM}\n      threshold: '10'\n"
        ))
    );
    let render = |run: &Run| {
        let mut csv = Vec::new();
        prescale_sim::report::write_timeline(run, &mut csv).unwrap();
        (prescale_sim::report::json(run).unwrap(), csv)
    };
    let a = render(&run_yaml(&yaml));
    let b = render(&run_yaml(&yaml));
    assert_eq!(a, b);
    assert!(a.0.contains("\"theta_u\""));
}

/// Replica counts near i32::MAX cost no memory (pods are kept in groups), and the HPA's int32 arithmetic wraps
/// as upstream's does: the legacy limit max(2 × 1073741824, 4) overflows to −2147483648, and the API server
/// rejects that write, so the HPA records FailedRescale and the count stays at 1073741824.
#[test]
fn huge_counts_and_int32_overflow_fail_the_write_like_the_api_server() {
    let run = run_yaml(&format!(
        "{}duration: 15m\nmetrics:\n  - trigger: 0\n    points: [[0, 0], [7, 1e10]]\n",
        so(&format!(
            "scaleTargetRef: {{name: w}}\nminReplicaCount: 1\nmaxReplicaCount: 2147483647\ntriggers:\n  - type: prometheus\n    metadata:\n      {PROM}\n      threshold: '1'\n"
        ))
    ));
    let s = &run.summary;
    assert_eq!((s.min_replicas, s.max_replicas), (1, 1_073_741_824));
    let failed: Vec<&str> = s
        .events
        .iter()
        .filter(|e| e.reason == "FailedRescale")
        .map(|e| e.message.as_str())
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed[0].starts_with("New size: -2147483648; reason: external metric s0-prometheus(")
            && failed[0].ends_with(
                "; error: Scale.autoscaling \"w\" is invalid: spec.replicas: Invalid value: -2147483648: must be greater than or equal to 0"
            ),
        "{}",
        failed[0]
    );
    // Upstream's failure branch: AbleToScale False FailedUpdateScale, and status.desiredReplicas never shows
    // the rejected count.
    let able = s
        .hpa_conditions
        .iter()
        .find(|c| c.kind == "AbleToScale")
        .unwrap();
    assert_eq!(
        (able.status.as_str(), able.reason.as_str()),
        ("False", "FailedUpdateScale"),
        "{able:?}"
    );
    assert!(
        able.message.starts_with(
            "the HPA controller was unable to update the target scale: Scale.autoscaling"
        ),
        "{}",
        able.message
    );
    assert!(
        run.rows
            .as_ref()
            .unwrap()
            .iter()
            .all(|r| r.desired.is_none_or(|d| d >= 0)),
        "a rejected desired count reached the timeline"
    );
}

/// A threshold of 0 gives the HPA a target of 0, which the API server rejects ("must be positive"): KEDA cannot
/// create the HPA, so the simulator refuses the scenario with that reason instead of scaling to max.
#[test]
fn zero_threshold_is_rejected_like_the_api_server_rejects_the_hpa() {
    let yaml = format!(
        "{}duration: 5m\nmetrics:\n  - trigger: 0\n    points: [[0, 1]]\n",
        so(&format!(
            "scaleTargetRef: {{name: w}}\ntriggers:\n  - type: prometheus\n    metadata:\n      {PROM}\n      threshold: '0'\n"
        ))
    );
    let sc = prescale_sim::Scenario::parse(&yaml, "t.yaml", std::path::Path::new(".")).unwrap();
    let err = prescale_sim::simulate(&sc, prescale_sim::Options::default()).unwrap_err();
    let msg = anyhow_like(&err);
    assert!(
        msg.contains("HorizontalPodAutoscaler.autoscaling \"keda-hpa-app\" is invalid: spec.metrics[0].external.target.averageValue: Invalid value: \"0\": must be positive"),
        "{msg}"
    );
}

/// The error with its sources, as the CLI prints it.
fn anyhow_like(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(&format!(": {c}"));
        src = c.source();
    }
    s
}
