//! `prescale load` against `wrk` (Debian's package) on the same target (issue 6: "prescale load reports rates
//! and percentiles that agree with wrk on the same target within 10 %").
//!
//! The target is `prescale ho11y` with a 20 ms DUMMY downstream, so its latency is the server's own time and
//! not either tool's client overhead. wrk is closed-loop: with C connections it sends about C / 20 ms requests
//! per second and reports that rate and its latency percentiles. `prescale load` then offers that rate open
//! loop; its measured throughput and p50/p90/p99 must be within 10 % of wrk's. At sub-millisecond latencies
//! each tool would mostly measure its own client, which is why the target sleeps (docs/benchmarks.md has
//! the numbers for a target without a downstream).
//!
//! Needs `wrk`: `PRESCALE_WRK_BIN`, else `wrk` on `PATH`. Skipped when missing unless `PRESCALE_REQUIRE_REAL`
//! is set (`.ci/run` installs it and sets that).

mod support {
    pub mod cli;
    pub mod ho11y_process;
    pub mod wrk;
}

use std::process::Command;

use support::cli::json_ok;
use support::ho11y_process::Ho11y;
use support::wrk::{self, Measured};

const SECONDS: u32 = 5;
const TOLERANCE: f64 = 0.10;
/// Each attempt measures both tools afresh; a busy machine can disturb one run's tail.
const ATTEMPTS: usize = 3;

#[test]
fn wrk_units_and_report_are_parsed() {
    assert_eq!(wrk::ms("812.00us"), 0.812);
    assert_eq!(wrk::ms("22.21ms"), 22.21);
    assert_eq!(wrk::ms("1.50s"), 1500.0);
    let m = wrk::parse(
        "  Latency Distribution\n     50%   22.21ms\n     75%   22.66ms\n     90%   23.05ms\n     99%   \
         1.02s\n  2241 requests in 5.01s, 343.59KB read\nRequests/sec:    447.66\nTransfer/sec:     68.64KB\n",
    );
    assert_eq!(
        (m.rate, m.p50, m.p90, m.p99),
        (447.66, 22.21, 23.05, 1020.0)
    );
}

fn run_load(url: &str, rate: f64) -> Measured {
    let out = Command::new(env!("CARGO_BIN_EXE_prescale"))
        .args(["load", url, "--rate", &format!("{rate:.1}")])
        .args(["--duration", &format!("{SECONDS}s"), "--format", "json"])
        .output()
        .unwrap();
    let r = json_ok(&out);
    assert_eq!(r["completed"], r["sent"], "{r}");
    assert_eq!(r["errors"]["connect"], 0, "{r}");
    let l = &r["latency"];
    Measured {
        rate: r["throughput"].as_f64().unwrap(),
        p50: l["p50_ms"].as_f64().unwrap(),
        p90: l["p90_ms"].as_f64().unwrap(),
        p99: l["p99_ms"].as_f64().unwrap(),
    }
}

/// The first field of `load` that is not within [`TOLERANCE`] of `wrk`'s, if any.
fn disagreement(wrk: Measured, load: Measured) -> Option<String> {
    [
        ("rate", wrk.rate, load.rate),
        ("p50", wrk.p50, load.p50),
        ("p90", wrk.p90, load.p90),
        ("p99", wrk.p99, load.p99),
    ]
    .into_iter()
    .find(|(_, w, l)| (l - w).abs() > w * TOLERANCE)
    .map(|(what, w, l)| format!("{what}: prescale load {l:.2}, wrk {w:.2}"))
}

#[test]
fn load_agrees_with_wrk_on_the_same_target() {
    let Some(wrk_bin) = wrk::binary() else {
        assert!(
            std::env::var_os("PRESCALE_REQUIRE_REAL").is_none(),
            "PRESCALE_REQUIRE_REAL is set but wrk is not installed (PRESCALE_WRK_BIN or PATH); run .ci/run"
        );
        eprintln!("skipping: wrk is not installed (apt-get install wrk)");
        return;
    };
    let target = Ho11y::start("wrk-target", &[("DOWNSTREAM0", "DUMMY:0:20ms".to_owned())]);
    let url = target.url();
    // About 500 and 2,000 requests/s.
    for connections in [10, 40] {
        let mut attempts = Vec::new();
        let agreed = (0..ATTEMPTS).any(|_| {
            let w = wrk::run(&wrk_bin, &url, connections, SECONDS);
            let l = run_load(&url, w.rate);
            eprintln!("{connections} connections: wrk {w:?}, prescale load {l:?}");
            let verdict = disagreement(w, l);
            attempts.push(format!("{w:?} vs {l:?}: {verdict:?}"));
            verdict.is_none()
        });
        assert!(
            agreed,
            "{connections} connections: no attempt within {}%:\n{}",
            TOLERANCE * 100.0,
            attempts.join("\n")
        );
    }
}

#[test]
fn disagreement_names_the_field() {
    let w = Measured {
        rate: 500.0,
        p50: 22.0,
        p90: 23.0,
        p99: 24.0,
    };
    assert_eq!(disagreement(w, w), None);
    let slow = Measured { p99: 30.0, ..w };
    assert_eq!(
        disagreement(w, slow).as_deref(),
        Some("p99: prescale load 30.00, wrk 24.00")
    );
    let fewer = Measured { rate: 440.0, ..w };
    assert!(disagreement(w, fewer).unwrap().starts_with("rate"));
}
