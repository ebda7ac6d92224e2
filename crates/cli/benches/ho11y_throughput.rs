//! `prescale ho11y` throughput benchmark (issue 6 point 4): the release `prescale ho11y` process without
//! downstreams, loaded by the release `prescale load` on the same machine; `wrk` (Debian's package) as a second
//! opinion when it is installed.
//!
//! ```text
//! cargo bench -p prescale --bench ho11y_throughput
//! cargo bench -p prescale --bench ho11y_throughput -- --rate 20000 --seconds 20 --runs 5 --check
//! ```
//!
//! What it does:
//! 1. starts `prescale ho11y` on a free loopback port, JSON logs to a pipe this process drains (as a container
//!    runtime would), and warms it up with 3 s of load;
//! 2. `--runs` times: `prescale load URL --rate R --duration S --concurrency C --format json`, reading ho11y's utime+stime and
//!    VmRSS from `/proc` before and after, and the load generator's CPU time while it runs;
//! 3. with wrk: `wrk -t1 -c<--wrk-connections> -d<S>s --latency` the same number of times. wrk is closed-loop,
//!    so its requests/s is the most this server answers to that many connections, and its latencies are those
//!    of a saturated server: a capacity figure, not the same measurement as the open-loop run at R.
//!
//! `--concurrency` (default 64, as many as wrk's connections; 0 = no cap) bounds the requests in flight, hence
//! the connections. The latency still counts from each request's due time. Without a cap, any stall makes the
//! generator open new connections, which costs both processes CPU on these 2 cores (docs/benchmarks.md).
//!
//! It prints one row per run, the medians, and one JSON line (`{"bench":"ho11y_throughput",...}`). With
//! `--check` it exits 1 unless the median throughput is at least 99 % of R with every request answered 200.
#![forbid(unsafe_code)]
#[path = "../tests/support/ho11y_process.rs"]
mod ho11y_process;
#[path = "../tests/support/wrk.rs"]
mod wrk;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ho11y_process::Ho11y;
use prescale_testkit::procstat::{clock_ticks, median, read_cpu_ticks, read_mem};
use serde_json::{Value, json};

const MIB: f64 = 1024.0 * 1024.0;

struct Options {
    rate: f64,
    seconds: u32,
    runs: usize,
    wrk_connections: u32,
    /// `prescale load --concurrency`; 0 = no cap.
    concurrency: u32,
    check: bool,
}

fn options() -> Options {
    let mut o = Options {
        rate: 20_000.0,
        seconds: 20,
        runs: 5,
        wrk_connections: 64,
        concurrency: 64,
        check: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--rate" => o.rate = value().parse().expect("--rate REQUESTS_PER_SECOND"),
            "--seconds" => o.seconds = value().parse().expect("--seconds N"),
            "--runs" => o.runs = value().parse().expect("--runs N"),
            "--wrk-connections" => {
                o.wrk_connections = value().parse().expect("--wrk-connections N")
            }
            "--concurrency" => {
                o.concurrency = value().parse().expect("--concurrency N (0 = no cap)")
            }
            "--check" => o.check = true,
            "--help" | "-h" => {
                println!(
                    "ho11y_throughput [--rate R] [--seconds S] [--runs N] [--wrk-connections C] [--concurrency C, 0 = no cap] [--check]"
                );
                std::process::exit(0);
            }
            // `cargo bench` passes --bench; anything else is a mistake.
            "--bench" => {}
            other => panic!("unknown option {other:?} (see --help)"),
        }
    }
    assert!(
        o.rate > 0.0 && o.seconds > 0 && o.runs > 0,
        "rate, seconds and runs must be positive"
    );
    o
}

/// One `prescale load` run: its JSON report and the load generator's own CPU seconds (read until it exits).
fn load(url: &str, rate: f64, seconds: u32, concurrency: u32) -> (Value, f64) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prescale"));
    cmd.args(["load", url, "--rate", &rate.to_string()]).args([
        "--duration",
        &format!("{seconds}s"),
        "--format",
        "json",
        "--quiet",
    ]);
    if concurrency > 0 {
        cmd.args(["--concurrency", &concurrency.to_string()]);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawning prescale load");
    let pid = child.id();
    let mut ticks = 0;
    loop {
        if let Some(t) = read_cpu_ticks(pid) {
            ticks = ticks.max(t);
        }
        if child
            .try_wait()
            .expect("waiting for prescale load")
            .is_some()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("prescale load output");
    assert!(out.status.success(), "prescale load failed");
    let report: Value = serde_json::from_slice(&out.stdout).expect("prescale load JSON");
    (report, ticks as f64 / clock_ticks())
}

fn main() {
    let o = options();
    let ticks_per_second = clock_ticks();
    let ho11y = Ho11y::start("bench", &[]);
    let pid = ho11y.pid();
    let url = ho11y.url();
    let cap = match o.concurrency {
        0 => "not capped".to_string(),
        c => format!("capped at {c}"),
    };
    println!(
        "prescale ho11y (pid {pid}) at {url}; prescale load at {} req/s for {} s, {} runs, concurrency {cap}",
        o.rate, o.seconds, o.runs
    );
    let _ = load(&url, o.rate, 3, o.concurrency); // warm-up

    println!(
        "| run | throughput req/s | non-200 + errors | p50 ms | p90 ms | p99 ms | max ms | ho11y CPU cores | load CPU cores | ho11y RSS MiB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut cols: [Vec<f64>; 9] = Default::default();
    let mut all_ok = true;
    for run in 1..=o.runs {
        let cpu0 = read_cpu_ticks(pid).expect("/proc/<pid>/stat of ho11y");
        let started = Instant::now();
        let (r, load_cpu) = load(&url, o.rate, o.seconds, o.concurrency);
        let wall = started.elapsed().as_secs_f64();
        let cpu1 = read_cpu_ticks(pid).expect("/proc/<pid>/stat of ho11y");
        let mem = read_mem(pid).expect("/proc/<pid>/status of ho11y");
        let sent = r["sent"].as_f64().unwrap_or(0.0);
        let ok = r["status_codes"]["200"].as_f64().unwrap_or(0.0);
        all_ok &= ok == sent;
        let l = &r["latency"];
        let row = [
            r["throughput"].as_f64().unwrap_or(f64::NAN),
            sent - ok,
            l["p50_ms"].as_f64().unwrap_or(f64::NAN),
            l["p90_ms"].as_f64().unwrap_or(f64::NAN),
            l["p99_ms"].as_f64().unwrap_or(f64::NAN),
            l["max_ms"].as_f64().unwrap_or(f64::NAN),
            (cpu1 - cpu0) as f64 / ticks_per_second / wall,
            load_cpu / wall,
            mem.rss as f64 / MIB,
        ];
        println!(
            "| {run} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} | {:.1} |",
            row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8]
        );
        for (col, v) in cols.iter_mut().zip(row) {
            col.push(v);
        }
    }
    let m: Vec<f64> = cols.iter_mut().map(|c| median(c)).collect();
    println!(
        "| **median** | **{:.0}** | {:.0} | {:.2} | {:.2} | **{:.2}** | {:.1} | {:.2} | {:.2} | **{:.1}** |",
        m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
    );
    let hwm = read_mem(pid).map_or(f64::NAN, |m| m.hwm as f64 / MIB);
    println!("ho11y peak RSS (VmHWM): {hwm:.1} MiB");

    let mut wrk_json = Value::Null;
    match wrk::binary() {
        Some(bin) => {
            let (mut rates, mut p50s, mut p99s) = (Vec::new(), Vec::new(), Vec::new());
            for run in 1..=o.runs {
                let w = wrk::run(&bin, &url, o.wrk_connections, o.seconds);
                let (rate, p50, p99) = (w.rate, w.p50, w.p99);
                println!(
                    "wrk -t1 -c{} run {run}: {rate:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms",
                    o.wrk_connections
                );
                rates.push(rate);
                p50s.push(p50);
                p99s.push(p99);
            }
            let (rate, p50, p99) = (median(&mut rates), median(&mut p50s), median(&mut p99s));
            println!(
                "wrk -t1 -c{} (closed loop, saturating) median: {rate:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms",
                o.wrk_connections
            );
            wrk_json = json!({"connections": o.wrk_connections, "rate": rate, "p50_ms": p50, "p99_ms": p99});
        }
        None => println!("wrk not installed (apt-get install wrk): no second opinion"),
    }

    let met = m[0] >= 0.99 * o.rate && all_ok;
    println!(
        "target: at least {:.0} req/s answered, all 200: {}",
        0.99 * o.rate,
        if met { "met" } else { "NOT met" }
    );
    println!(
        "{}",
        json!({
            "bench": "ho11y_throughput",
            "rate": o.rate,
            "seconds": o.seconds,
            "runs": o.runs,
            "concurrency": o.concurrency,
            "median": {
                "throughput": m[0], "not_200": m[1], "p50_ms": m[2], "p90_ms": m[3], "p99_ms": m[4],
                "max_ms": m[5], "ho11y_cpu_cores": m[6], "load_cpu_cores": m[7], "ho11y_rss_mib": m[8],
            },
            "ho11y_peak_rss_mib": hwm,
            "wrk": wrk_json,
            "target_met": met,
        })
    );
    if o.check && !met {
        std::process::exit(1);
    }
}
