//! Poll-round benchmark: how long a round of N Prometheus triggers takes against a real local server, and how
//! much CPU prescale spends per evaluation beyond the round trip.
//!
//! ```text
//! PRESCALE_PROMETHEUS_BIN=/usr/bin/prometheus cargo bench -p prescale-scalers --bench poll
//! cargo bench -p prescale-scalers --bench poll -- --triggers 1000 --rounds 7 --in-flight 1,16,64,256
//! ```
//!
//! It starts Prometheus 2.42 (`PRESCALE_PROMETHEUS_BIN`; `PRESCALE_VICTORIA_METRICS_BIN` adds a
//! VictoriaMetrics run) on loopback, remote-writes one `ho11y_total` series per trigger, builds N scalers on
//! one `ScalerContext` (so they share one HTTP client) each querying `rate(ho11y_total{instance="i-<k>"}[1m])`,
//! and runs rounds of `evaluate_all` with each in-flight bound. Per setting it prints the median and worst round
//! wall time and prescale's own CPU per evaluation (all of this process's threads, from
//! `/proc/self/task/*/schedstat`; the server is another process, so its CPU is not counted). A first part
//! times the pure request building and answer reading without I/O.
#![forbid(unsafe_code)]
#[path = "../tests/support/servers.rs"]
mod servers;
#[path = "../tests/support/trigger.rs"]
mod trigger;

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prescale_core::spec::ScaleTrigger;
use prescale_scalers::prometheus::{request, response};
use prescale_scalers::{Scaler, ScalerContext, TriggerAuth, evaluate_all};
use servers::{Server, ho11y_total};
use trigger::prometheus_trigger;

struct Options {
    triggers: usize,
    rounds: usize,
    in_flight: Vec<usize>,
}

fn options() -> Options {
    let mut o = Options {
        triggers: 1000,
        rounds: 7,
        in_flight: vec![1, 16, 64, 256],
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--triggers" => o.triggers = value().parse().expect("--triggers N"),
            "--rounds" => o.rounds = value().parse().expect("--rounds N"),
            "--in-flight" => {
                o.in_flight = value()
                    .split(',')
                    .map(|v| v.parse().expect("--in-flight N,N,..."))
                    .collect()
            }
            // cargo bench passes --bench; ignore it and anything else of the harness's.
            _ => {}
        }
    }
    o
}

/// CPU time consumed so far by every thread of this process, from the kernel's scheduler statistics.
fn process_cpu() -> Duration {
    let mut total = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat"))
                && let Some(ns) = s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
            {
                total += ns;
            }
        }
    }
    Duration::from_nanos(total)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn pure_parts() {
    const BODY: &[u8] = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"i-1","job":"ho11y"},"value":[1705581296,"0.6666666666666666"]}]}}"#;
    let at = UNIX_EPOCH + Duration::from_secs(1_705_581_296);
    let n = 200_000u32;
    let mut samples = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        for i in 0..n {
            let req = request::build(
                black_box("http://127.0.0.1:9090"),
                black_box("rate(ho11y_total{instance=\"i-1\"}[1m])"),
                at,
                None,
                &[],
            );
            black_box(req);
            let v = response::interpret(200, black_box(BODY), true).unwrap();
            black_box(v + f64::from(i));
        }
        samples.push(start.elapsed() / n);
    }
    println!(
        "pure parts (request::build + response::interpret, no I/O): median {:?} per evaluation",
        median(&mut samples)
    );
}

fn trigger(base: &str, k: usize) -> ScaleTrigger {
    prometheus_trigger(&[
        ("serverAddress", base),
        (
            "query",
            &format!("rate(ho11y_total{{instance=\"i-{k}\"}}[1m])"),
        ),
        ("threshold", "1"),
        ("ignoreNullValues", "false"),
        ("timeout", "10s"),
    ])
}

fn run_server(server: &Server, o: &Options) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5;
    let at = UNIX_EPOCH + Duration::from_secs(secs);
    let end_ms = i64::try_from(secs).unwrap() * 1000;
    let series: Vec<_> = (0..o.triggers)
        .map(|k| ho11y_total(&format!("i-{k}"), end_ms, 10.0))
        .collect();
    for chunk in series.chunks(500) {
        let (status, body) = server.remote_write(chunk);
        assert_eq!(status, 204, "remote write: {body}");
    }
    server.wait_visible(o.triggers, at);

    let ctx = ScalerContext::new();
    let scalers: Vec<Box<dyn Scaler>> = (0..o.triggers)
        .map(|k| {
            ctx.build(k, &trigger(&server.base, k), TriggerAuth::default())
                .unwrap()
        })
        .collect();
    assert_eq!(ctx.http().len(), 1, "all triggers share one client");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{}: {} triggers, {} rounds per setting (+1 warm-up), 2 worker threads",
        server.name, o.triggers, o.rounds
    );
    for &limit in &o.in_flight {
        let mut walls = Vec::new();
        let mut cpus = Vec::new();
        for round in 0..=o.rounds {
            let cpu0 = process_cpu();
            let start = Instant::now();
            let results = rt.block_on(evaluate_all(&scalers, limit, at));
            let wall = start.elapsed();
            let cpu = process_cpu().saturating_sub(cpu0);
            let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
            assert!(
                errors.is_empty(),
                "{} errors, first: {}",
                errors.len(),
                errors[0]
            );
            for r in &results {
                let v = r.as_ref().unwrap().value;
                assert!((v - 10.0 / 15.0).abs() < 1e-9, "unexpected value {v}");
            }
            if round > 0 {
                walls.push(wall);
                cpus.push(cpu / u32::try_from(o.triggers).unwrap());
            }
        }
        let worst = *walls.iter().max().unwrap();
        println!(
            "  in flight {limit:>4}: round median {:>9.1?}, worst {:>9.1?}; prescale CPU per evaluation median {:>7.1?}",
            median(&mut walls),
            worst,
            median(&mut cpus)
        );
    }
}

fn main() {
    let o = options();
    prescale_aws::install_crypto_provider();
    pure_parts();
    let prometheus = Server::prometheus()
        .expect("the poll benchmark needs PRESCALE_PROMETHEUS_BIN (see README)");
    run_server(&prometheus, &o);
    drop(prometheus);
    if std::env::var_os("PRESCALE_VICTORIA_METRICS_BIN").is_some()
        && let Some(vm) = Server::victoria_metrics()
    {
        run_server(&vm, &o);
    }
}
