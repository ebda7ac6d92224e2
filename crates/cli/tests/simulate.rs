//! `prescale simulate` end to end: the built binary on the shipped examples.

mod support {
    pub mod cli;
}

use support::cli::{prescale, repo};

#[test]
fn seed_example_scales_one_to_two() {
    let (code, out, err) = prescale(&["simulate", "examples/seed/scenario.yaml"]);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        out.contains("ScaledObject ho11y/ho11y-hpa → Deployment/downstream0"),
        "{out}"
    );
    assert!(
        out.contains("New size: 2; reason: external metric s0-prometheus("),
        "{out}"
    );
    assert!(
        out.contains("replicas over time: 1 → 2 at 105s → 1 at 690s\n"),
        "{out}"
    );
    assert!(
        out.contains("replicas: 1 at start, 1 at end, between 1 and 2; 2 scale action(s)"),
        "{out}"
    );
}

#[test]
fn json_summary_and_timeline() {
    let dir = std::env::temp_dir().join(format!("prescale-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("timeline.csv");
    let (code, out, err) = prescale(&[
        "simulate",
        "examples/seed/scenario.yaml",
        "--format",
        "json",
        "--timeline",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "stderr: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["duration_s"], 900.0);
    assert_eq!(v["scale_actions"], 2);
    assert_eq!(v["max_replicas"], 2);
    for key in [
        "pod_seconds",
        "ready_pod_seconds",
        "under_provisioned_s",
        "theta_u",
        "theta_o",
        "tau_u",
        "tau_o",
        "instability",
    ] {
        assert!(
            v.get(key).is_some_and(serde_json::Value::is_number),
            "missing {key} in {out}"
        );
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,replicas,ready,desired,active,metric"));
    assert_eq!(lines.next(), Some("0,1,1,1,0,0"));
    assert!(text.lines().any(|l| l == "105,2,2,2,1,1.125"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_scenarios_name_the_field_and_exit_nonzero() {
    let dir = std::env::temp_dir().join(format!("prescale-sim-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.yaml");
    std::fs::write(&f, "scaledObject: missing.yaml\nduration: 5x\n").unwrap();
    let (code, _, err) = prescale(&["simulate", f.to_str().unwrap()]);
    assert_eq!(
        code, 2,
        "a file the scenario names cannot be read: exit 2, as for an unreadable argument"
    );
    assert!(
        err.contains("missing.yaml") && err.contains("No such file"),
        "{err}"
    );
    assert_eq!(
        err.matches("No such file").count(),
        1,
        "the cause is printed once: {err}"
    );
    std::fs::write(&f, "scaledObject: {}\nduraton: 5m\n").unwrap();
    let (code, _, err) = prescale(&["simulate", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("duraton") && err.contains("unknown field"),
        "{err}"
    );
    let seed = repo().join("examples/seed/scaledobject.yaml");
    for (extra, needle) in [
        (
            "duration: 1000d\n",
            "duration: 1000d is longer than the 400d a run may cover",
        ),
        (
            "duration: 1h\ncontroller: {hpaSyncPeriod: 0.001}\n",
            "controller.hpaSyncPeriod: 0.001s is shorter than the 1s minimum",
        ),
        (
            "duration: 1h\ncontroller: {downscaleStabilization: 2h}\n",
            "controller.downscaleStabilization: 2h is longer than the 1h maximum",
        ),
    ] {
        std::fs::write(
            &f,
            format!(
                "scaledObject: {}\n{extra}metrics: [{{trigger: 0, points: [[0, 1]]}}]\n",
                seed.display()
            ),
        )
        .unwrap();
        let (code, _, err) = prescale(&["simulate", f.to_str().unwrap()]);
        assert_eq!(code, 1, "{extra}");
        assert!(err.contains(needle), "{err}");
    }
    // Within every per-field limit, but 34,560,000 polls + 34,560,000 syncs: refused up front, not run for a minute.
    std::fs::write(
        &f,
        "scaledObject:\n  apiVersion: keda.sh/v1alpha1\n  kind: ScaledObject\n  metadata: {name: x}\n  spec:\n    scaleTargetRef: {name: w}\n    pollingInterval: 1\n    triggers: [{type: prometheus, metadata: {serverAddress: 'http://p', query: q, threshold: '1'}}]\nduration: 400d\ncontroller: {hpaSyncPeriod: 1s}\nmetrics: [{trigger: 0, points: [[0, 1]]}]\n",
    )
    .unwrap();
    let (code, _, err) = prescale(&["simulate", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("69120000 ticks"), "{err}");
    let (code, _, _) = prescale(&["simulate"]);
    assert_eq!(code, 2, "usage errors exit 2");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn trace_examples_run() {
    // (scenario, maxReplicaCount, minReplicaCount): every shipped trace scenario runs, scales, stays in bounds.
    for (f, max, min) in [
        ("examples/traces/alibaba.yaml", 15, 0),
        ("examples/traces/azure-functions.yaml", 30, 1),
        ("examples/traces/nasa.yaml", 20, 1),
        ("examples/traces/worldcup.yaml", 60, 2),
    ] {
        let (code, out, err) = prescale(&["simulate", f, "--format", "json"]);
        assert_eq!(code, 0, "{f}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(
            v["scale_actions"].as_u64().unwrap() > 10,
            "{f}: {}",
            v["scale_actions"]
        );
        assert!(v["max_replicas"].as_i64().unwrap() <= max, "{f}");
        assert!(v["min_replicas"].as_i64().unwrap() >= min, "{f}");
        assert!(v["under_provisioned_s"].is_number(), "{f}");
    }
}

#[test]
fn invalid_scaled_objects_are_rejected_with_kedas_message() {
    let dir = std::env::temp_dir().join(format!("prescale-sim-invalid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("s.yaml");
    std::fs::write(
        &f,
        "scaledObject:\n  apiVersion: keda.sh/v1alpha1\n  kind: ScaledObject\n  metadata: {name: x}\n  spec:\n    scaleTargetRef: {name: w}\n    minReplicaCount: 2\n    idleReplicaCount: 2\n    triggers:\n      - type: prometheus\n        metadata: {serverAddress: 'http://p', query: q, threshold: '1'}\nduration: 1m\nmetrics: [{trigger: 0, points: [[0, 1]]}]\n",
    )
    .unwrap();
    let (code, _, err) = prescale(&["simulate", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("IdleReplicaCount=2 must be less than MinReplicaCount=2"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn plot_writes_an_svg_with_every_series() {
    let dir = std::env::temp_dir().join(format!("prescale-sim-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("run.svg");
    let (code, _, err) = prescale(&[
        "simulate",
        "examples/seed/scenario.yaml",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..text.len().min(200)]);
    for label in [
        "metric (trigger 0)",
        "threshold × ready pods",
        "spec.replicas",
        "ready pods",
        "HPA desired",
        "demand = ceil(load / capacityPerPod)",
        "minutes",
    ] {
        assert!(text.contains(label), "missing {label:?}");
    }
    assert!(text.trim_end().ends_with("</svg>"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn plot_writes_a_png_and_refuses_other_extensions() {
    let dir = std::env::temp_dir().join(format!("prescale-sim-plot-png-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("run.png");
    let (code, out, err) = prescale(&[
        "simulate",
        "examples/seed/scenario.yaml",
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("replicas over time: 1 → 2 at 105s"), "{out}");
    let bytes = std::fs::read(&png).unwrap();
    // PNG signature, then the IHDR chunk: big-endian width and height, bit depth 8, colour type 2 (RGB).
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    assert_eq!((be(16), be(20)), (1200, 760));
    assert_eq!((bytes[24], bytes[25]), (8, 2));
    assert!(bytes.len() > 10_000, "{} bytes", bytes.len());

    // Any other extension is a usage error, reported before simulating and without writing a file.
    let gif = dir.join("run.gif");
    let (code, _, err) = prescale(&[
        "simulate",
        "examples/seed/scenario.yaml",
        "--plot",
        gif.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(gif.to_str().unwrap()), "{err}");
    assert!(err.contains(".svg or .png"), "{err}");
    assert!(!gif.exists());
    std::fs::remove_dir_all(&dir).ok();
}
