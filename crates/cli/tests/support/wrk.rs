//! Running `wrk` (Debian's package) and reading its report, for the load-generator comparison test and the
//! ho11y throughput benchmark.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `PRESCALE_WRK_BIN`, else `wrk` on `PATH`.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PRESCALE_WRK_BIN") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("wrk"))
        .find(|p| p.is_file())
}

/// A rate in requests per second and latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub rate: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

/// wrk's durations: a number with one of its units (us, ms, s, m, h).
pub fn ms(text: &str) -> f64 {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or_else(|| panic!("no unit in wrk duration {text:?}"));
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .unwrap_or_else(|_| panic!("bad number in wrk duration {text:?}"));
    let factor = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        other => panic!("unknown wrk unit {other:?} in {text:?}"),
    };
    number * factor
}

/// The `Requests/sec` line and the `--latency` distribution of wrk's report.
pub fn parse(report: &str) -> Measured {
    let mut rate = None;
    let mut percentile = std::collections::BTreeMap::new();
    for line in report.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", r] => rate = r.parse::<f64>().ok(),
            [p, v] if p.ends_with('%') => {
                percentile.insert(p.to_string(), ms(v));
            }
            _ => {}
        }
    }
    let get = |p: &str| {
        *percentile
            .get(p)
            .unwrap_or_else(|| panic!("no {p} line in wrk's report:\n{report}"))
    };
    Measured {
        rate: rate.unwrap_or_else(|| panic!("no Requests/sec in wrk's report:\n{report}")),
        p50: get("50%"),
        p90: get("90%"),
        p99: get("99%"),
    }
}

/// `wrk -t1 -c<connections> -d<seconds>s --latency url`; panics when wrk fails or saw errors or non-2xx
/// answers.
pub fn run(wrk: &Path, url: &str, connections: u32, seconds: u32) -> Measured {
    let out = Command::new(wrk)
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["--latency", url])
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", wrk.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {stdout}");
    assert!(
        !stdout.contains("Non-2xx") && !stdout.contains("Socket errors"),
        "wrk saw errors: {stdout}"
    );
    parse(&stdout)
}
