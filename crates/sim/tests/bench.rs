//! `prescale bench` on synthetic traces: the oracle is never short, the proactive policies are never
//! under-provisioned longer than keda-hpa and anticipate a daily cycle, output is deterministic, bad traces
//! are refused with the file and line.

use std::io::Write;
use std::path::PathBuf;

use prescale_sim::bench::{self, Policy, Report, Standard, Trace};

const DAY: i64 = 86_400;

fn write_trace(
    dir: &tempfile::TempDir,
    name: &str,
    rows: impl Iterator<Item = (i64, f64)>,
) -> PathBuf {
    let path = dir.path().join(format!("{name}.csv"));
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "timestamp_seconds,value").unwrap();
    for (t, v) in rows {
        writeln!(f, "{t},{v}").unwrap();
    }
    path
}

/// Three days of a daily cycle with a morning ramp, per minute, with deterministic noise.
fn daily(t: i64) -> f64 {
    let h = (t % DAY) as f64 / 3600.0;
    let base = if (8.0..20.0).contains(&h) {
        600.0 + 400.0 * ((h - 8.0) / 12.0 * std::f64::consts::PI).sin()
    } else {
        150.0
    };
    base + ((t / 60 * 7919) % 41) as f64 - 20.0
}

/// Flat, then a flash crowd (10× within 3 minutes) for 20 minutes, per minute.
fn flash(t: i64) -> f64 {
    let m = t / 60;
    match m {
        0..120 => 1000.0,
        120..123 => 1000.0 + 3000.0 * (m - 119) as f64,
        123..143 => 10_000.0,
        _ => 1000.0,
    }
}

fn run(paths: &[PathBuf], threads: usize) -> Report {
    let traces: Vec<Trace> = paths.iter().map(|p| Trace::load(p).unwrap()).collect();
    bench::run(
        &traces,
        &Standard::default(),
        &Policy::all(),
        threads,
        &|_, _, _| {},
    )
    .unwrap()
}

fn result<'a>(r: &'a Report, trace: usize, policy: &str) -> &'a bench::PolicyResult {
    r.traces[trace]
        .results
        .iter()
        .find(|x| x.policy == policy)
        .unwrap_or_else(|| panic!("no {policy}"))
}

#[test]
fn policies_on_synthetic_traces() {
    let dir = tempfile::tempdir().unwrap();
    let paths = vec![
        write_trace(
            &dir,
            "daily",
            (0..3 * DAY).step_by(60).map(|t| (t, daily(t))),
        ),
        write_trace(
            &dir,
            "flash",
            (0..4 * 3600).step_by(60).map(|t| (t, flash(t))),
        ),
    ];
    let r = run(&paths, 2);
    assert_eq!(r.traces.len(), 2);
    assert_eq!(
        r.policies,
        Policy::all()
            .into_iter()
            .map(Policy::name)
            .collect::<Vec<_>>()
    );
    for (i, t) in r.traces.iter().enumerate() {
        // capacityPerPod = peak / 40.
        assert!((t.capacity_per_pod - t.peak / 40.0).abs() < 1e-9);
        let keda = result(&r, i, "keda-hpa");
        let oracle = result(&r, i, "oracle");
        assert_eq!(
            oracle.under_provisioned_s, 0.0,
            "{}: the oracle is never short",
            t.trace
        );
        assert!(oracle.pod_seconds <= keda.pod_seconds * 1.2, "{}", t.trace);
        assert!(
            keda.under_provisioned_s > 0.0,
            "{}: reactive scaling lags",
            t.trace
        );
        for p in t
            .results
            .iter()
            .filter(|p| p.policy.starts_with("proactive-"))
        {
            assert!(
                p.under_provisioned_s <= keda.under_provisioned_s,
                "{}: {} short {} s > keda-hpa {} s",
                t.trace,
                p.policy,
                p.under_provisioned_s,
                keda.under_provisioned_s
            );
            assert_eq!(
                p.pod_seconds_vs_keda_pct.unwrap(),
                100.0 * p.pod_seconds / keda.pod_seconds
            );
        }
        assert!(t.targets.as_ref().is_some_and(|g| g.never_worse_than_keda));
    }
    // On the daily cycle the seasonal models have a season to learn from (days 2 and 3) and halve
    // under-provisioning at a bounded cost.
    let keda = result(&r, 0, "keda-hpa");
    let auto = result(&r, 0, "proactive-auto");
    assert!(
        auto.tau_u <= 0.5 * keda.tau_u,
        "auto {} vs keda {}",
        auto.tau_u,
        keda.tau_u
    );
    assert!(auto.pod_seconds <= 1.25 * keda.pod_seconds);
    assert!(auto.forecast_won_pct.unwrap() > 50.0);
    // Without a day of history the seasonal-only model is reactive all along on the 4-hour trace.
    let sn = result(&r, 1, "proactive-seasonal-naive");
    assert_eq!(sn.reactive_pct, Some(100.0));
    assert_eq!(
        sn.under_provisioned_s,
        result(&r, 1, "keda-hpa").under_provisioned_s
    );
}

#[test]
fn same_input_same_json_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let paths = vec![
        write_trace(
            &dir,
            "a",
            (0..6 * 3600).step_by(60).map(|t| (t, daily(t * 12))),
        ),
        write_trace(&dir, "b", (0..4 * 3600).step_by(60).map(|t| (t, flash(t)))),
    ];
    let one = serde_json::to_string_pretty(&run(&paths, 1)).unwrap();
    let four = serde_json::to_string_pretty(&run(&paths, 4)).unwrap();
    assert_eq!(one, four);
    assert!(one.contains("\"elastic_speedup\""));
    // Ready-pod timelines are for the plots, not the JSON.
    assert!(!one.contains("ready_steps"));
}

#[test]
fn bad_traces_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let one = write_trace(&dir, "one", [(0, 5.0)].into_iter());
    let e = Trace::load(&one).unwrap_err().to_string();
    assert!(
        e.contains("one.csv") && e.contains("at least 2 rows"),
        "{e}"
    );
    let zeros = write_trace(&dir, "zeros", (0..600).step_by(60).map(|t| (t, 0.0)));
    let traces = vec![Trace::load(&zeros).unwrap()];
    let e = bench::run(
        &traces,
        &Standard::default(),
        &[Policy::KedaHpa],
        1,
        &|_, _, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("zeros.csv") && e.contains("capacityPerPod"),
        "{e}"
    );
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "timestamp_seconds,value\n0,1\n60,x\n").unwrap();
    let e = Trace::load(&path).unwrap_err().to_string();
    assert!(e.contains("bad.csv") && e.contains('3'), "{e}");
}

#[test]
fn policy_names_round_trip() {
    for p in Policy::all() {
        assert_eq!(Policy::parse(&p.name()), Some(p));
    }
    assert_eq!(Policy::parse("proactive-prophet"), None);
}

#[test]
fn the_load_unit_does_not_matter_and_a_never_forecasting_policy_is_not_the_best() {
    let dir = tempfile::tempdir().unwrap();
    let wave = |t: i64, peak: f64| {
        peak * (0.5 + 0.5 * (t as f64 / DAY as f64 * std::f64::consts::TAU).sin())
    };
    // Peak 0.1 gives capacityPerPod 0.0025, which KEDA's milli-unit target could not hold.
    let small = write_trace(
        &dir,
        "small",
        (0..DAY).step_by(60).map(|t| (t, wave(t, 0.1))),
    );
    let big = write_trace(
        &dir,
        "big",
        (0..DAY).step_by(60).map(|t| (t, wave(t, 1800.0))),
    );
    let r = run(&[small, big], 2);
    assert_eq!(r.traces[0].load_scale, 1000.0);
    assert_eq!(r.traces[1].load_scale, 1.0);
    assert!((r.traces[0].capacity_per_pod - 0.0025).abs() < 1e-12);
    for p in ["keda-hpa", "proactive-auto"] {
        let (a, b) = (result(&r, 0, p), result(&r, 1, p));
        assert_eq!(a.pod_seconds, b.pod_seconds, "{p}");
        assert_eq!(a.under_provisioned_s, b.under_provisioned_s, "{p}");
    }
    // The oracle's ceil(load / capacity) may round differently where a load is an exact multiple.
    let (a, b) = (result(&r, 0, "oracle"), result(&r, 1, "oracle"));
    assert!((a.pod_seconds / b.pod_seconds - 1.0).abs() < 1e-3);
    // One day: the seasonal models never forecast, so neither can be the best.
    for t in &r.traces {
        let best = &t.targets.as_ref().unwrap().best;
        assert!(
            best == "proactive-auto" || best == "proactive-trend",
            "{best}"
        );
    }
}
