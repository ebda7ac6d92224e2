//! `prescale bench` end to end: the built binary on a shipped trace (the small Alibaba one, so the debug
//! build stays quick).

mod support {
    pub mod cli;
}

use support::cli::prescale;

const TRACE: &str = "examples/traces/alibaba_ms2021_6d9c26b9_1min.csv";

#[test]
fn table_lists_every_policy_and_the_targets() {
    let (code, out, err) = prescale(&["bench", "--traces", TRACE]);
    assert_eq!(code, 0, "{err}");
    // Not a terminal: no progress bar.
    assert_eq!(err, "");
    for p in [
        "keda-hpa",
        "proactive-auto",
        "proactive-holt-winters",
        "proactive-trend",
        "proactive-seasonal-naive",
        "oracle",
    ] {
        assert!(out.contains(&format!("\n  {p} ")), "{p}: {out}");
    }
    assert!(
        out.contains("alibaba_ms2021_6d9c26b9_1min (711 rows of 60 s"),
        "{out}"
    );
    assert!(out.contains("  targets (proactive-"), "{out}");
}

#[test]
fn json_is_byte_identical_whatever_the_threads_and_plots_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let plots_arg = plots.to_str().unwrap();
    let (code, one, err) = prescale(&[
        "bench",
        "--traces",
        TRACE,
        "--format",
        "json",
        "--threads",
        "1",
        "--plot",
        plots_arg,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, two, err) = prescale(&[
        "bench",
        "--traces",
        TRACE,
        "--format",
        "json",
        "--threads",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(one, two);
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    let t = &v["traces"][0];
    assert_eq!(t["trace"], "alibaba_ms2021_6d9c26b9_1min");
    assert_eq!(t["results"].as_array().unwrap().len(), 6);
    let oracle = &t["results"][5];
    assert_eq!(oracle["policy"], "oracle");
    assert_eq!(oracle["under_provisioned_s"], 0.0);
    assert_eq!(v["workload"]["peak_divisor"], 40.0);
    let mut files: Vec<String> = std::fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "alibaba_ms2021_6d9c26b9_1min-worst.png",
            "alibaba_ms2021_6d9c26b9_1min-worst.svg",
            "alibaba_ms2021_6d9c26b9_1min.png",
            "alibaba_ms2021_6d9c26b9_1min.svg",
        ]
    );
    let png = std::fs::read(plots.join("alibaba_ms2021_6d9c26b9_1min.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let svg =
        std::fs::read_to_string(plots.join("alibaba_ms2021_6d9c26b9_1min-worst.svg")).unwrap();
    assert!(svg.contains("keda-hpa") && svg.contains("oracle"), "legend");
}

#[test]
fn markdown_has_the_tables_and_links_the_plots() {
    let (code, out, err) = prescale(&[
        "bench",
        "--traces",
        TRACE,
        "--format",
        "markdown",
        "--policies",
        "keda-hpa,oracle",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("| policy | pod_seconds |"), "{out}");
    assert!(out.contains("\n| keda-hpa | 486255 | 100.0% |"), "{out}");
    assert!(
        !out.contains("proactive-"),
        "only the policies asked for: {out}"
    );
    assert!(!out.contains("!["), "no plots without --plot: {out}");
}

#[test]
fn bad_options_and_files_are_named() {
    let (code, _, err) = prescale(&["bench", "--traces", TRACE, "--policies", "keda-hpa,prophet"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("unknown policy \"prophet\"") && err.contains("proactive-auto"),
        "{err}"
    );
    let (code, _, err) = prescale(&["bench", "--traces", "no/such/dir"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no/such/dir"), "{err}");
    let (code, _, err) = prescale(&["bench", "--traces", TRACE, "--peak-divisor", "0"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--peak-divisor"), "{err}");
    let (code, _, err) = prescale(&["bench", "--traces", TRACE, "--quantile", "0.2"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("prescale.dev/forecast-quantile") && err.contains("0.2"),
        "{err}"
    );
    // A plot directory that cannot be created (a regular file is in the way) is a file error: exit 2.
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let plots = blocker.join("plots");
    let plots_arg = plots.to_str().unwrap();
    let (code, _, err) = prescale(&[
        "bench",
        "--traces",
        TRACE,
        "--policies",
        "keda-hpa",
        "--plot",
        plots_arg,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(plots_arg), "{err}");
}
