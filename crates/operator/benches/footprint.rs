//! Operator footprint benchmark (issue #4 point 5): the real `prescale operator` process (release build) with N
//! Prometheus-triggered ScaledObjects against a fake API server and a real local Prometheus; measures its
//! steady-state RSS, CPU per poll round, poll latency and the API traffic it makes.
//!
//! ```text
//! cargo build --release -p prescale
//! PRESCALE_PROMETHEUS_BIN=/usr/bin/prometheus cargo bench -p prescale-operator --bench footprint
//! cargo bench -p prescale-operator --bench footprint -- --scaled-objects 100 --polling-interval 10 --check
//! ```
//!
//! What it does:
//! 1. starts Prometheus 2.42 (`PRESCALE_PROMETHEUS_BIN`) on loopback and remote-writes one counter per
//!    ScaledObject, `ho11y_total{instance="i-<k>"}`, rising by 1 per second: a minute of history at start,
//!    then one sample per series every 10 s for the whole run, so `rate(...[1m])` is 1 at any query time;
//! 2. serves a `FakeApiServer` over plain HTTP on loopback in this process, with N Deployments (1 ready
//!    replica) and N ScaledObjects spread over `--namespaces` namespaces (one prometheus trigger each,
//!    `rate(ho11y_total{instance="i-<k>"}[1m])`, threshold 1, minReplicaCount 1, `--polling-interval`);
//! 3. writes a kubeconfig for it and spawns `target/release/prescale operator --leader-elect=false` with
//!    `KUBECONFIG` set (the binary next to this bench's directory, `--operator-bin` or `PRESCALE_OPERATOR_BIN`);
//! 4. startup: waits until all N HPAs exist, then until every ScaledObject has been polled once (its status
//!    has `lastActiveTime`);
//! 5. after `--warmup` polling intervals, measures for `--window` polling intervals: VmRSS / RssAnon / Threads
//!    from `/proc/<pid>/status` every second (VmHWM at the end), utime+stime from `/proc/<pid>/stat`, the
//!    operator's `/metrics` every `--scrape-interval` seconds (as a Prometheus would scrape it), and every API
//!    request the operator makes (timestamped here, so each ScaledObject's polls are seen as its
//!    `GET deployments/<name>/scale`).
//!
//! It prints a table and one JSON line (`{"bench":"operator_footprint",...}`). With `--check` it exits 1 when a
//! target is missed: steady-state RSS (the window's maximum VmRSS) under 64 MiB, and every poll inside its
//! interval (no scale loop started more than 1 s late, and every ScaledObject polled at least once in every
//! pollingInterval + 1 s of the window). See docs/benchmarks.md for what each number means.
#![forbid(unsafe_code)]
#[path = "../../scalers/tests/support/servers.rs"]
mod servers;

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prescale_promwire::Series;
use prescale_testkit::apiserver::{Config, FakeApiServer, system_clock};
use prescale_testkit::procstat::{Mem, clock_ticks, median, read_cpu_ticks, read_mem};
use serde_json::{Value, json};
use servers::Server;

const MIB: f64 = 1024.0 * 1024.0;
/// The RSS target.
const RSS_TARGET_MIB: f64 = 64.0;
/// How late a scale loop may start, or how much longer than its interval a gap between polls may be, before
/// the poll counts as not inside its interval (scheduling jitter on a loaded 2-core machine).
const LATE_TOLERANCE: Duration = Duration::from_secs(1);
/// Seconds between remote-written samples.
const SAMPLE_EVERY_S: i64 = 10;

struct Options {
    scaled_objects: usize,
    namespaces: usize,
    polling_interval: u64,
    warmup: u64,
    window: u64,
    scrape_interval: Option<u64>,
    operator_bin: Option<PathBuf>,
    env: Vec<(String, String)>,
    check: bool,
    log_level: String,
    keep_log: Option<PathBuf>,
    startup_timeout: u64,
}

fn options() -> Options {
    let mut o = Options {
        scaled_objects: 1000,
        namespaces: 10,
        polling_interval: 30,
        warmup: 1,
        window: 3,
        scrape_interval: None,
        operator_bin: std::env::var_os("PRESCALE_OPERATOR_BIN").map(PathBuf::from),
        env: Vec::new(),
        check: false,
        log_level: "info".to_string(),
        keep_log: None,
        startup_timeout: 600,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--scaled-objects" | "-n" => {
                o.scaled_objects = value().parse().expect("--scaled-objects N")
            }
            "--namespaces" => o.namespaces = value().parse().expect("--namespaces N"),
            "--polling-interval" => {
                o.polling_interval = value().parse().expect("--polling-interval SECONDS")
            }
            "--warmup" => o.warmup = value().parse().expect("--warmup INTERVALS"),
            "--window" => o.window = value().parse().expect("--window INTERVALS"),
            "--scrape-interval" => {
                o.scrape_interval = Some(value().parse().expect("--scrape-interval SECONDS"))
            }
            "--startup-timeout" => {
                o.startup_timeout = value().parse().expect("--startup-timeout SECONDS")
            }
            "--operator-bin" => o.operator_bin = Some(PathBuf::from(value())),
            "--env" => {
                let kv = value();
                let (k, v) = kv.split_once('=').expect("--env NAME=VALUE");
                o.env.push((k.to_string(), v.to_string()));
            }
            "--check" => o.check = true,
            "--log-level" => o.log_level = value(),
            "--keep-log" => o.keep_log = Some(PathBuf::from(value())),
            "--help" | "-h" => {
                println!(
                    "footprint [--scaled-objects N] [--namespaces N] [--polling-interval S] [--warmup INTERVALS] \
                     [--window INTERVALS] [--scrape-interval S] [--operator-bin PATH] [--env NAME=VALUE]... [--log-level LEVEL] [--keep-log FILE] [--check]"
                );
                std::process::exit(0);
            }
            // cargo bench passes --bench; ignore it and anything else of the harness's.
            _ => {}
        }
    }
    assert!(o.polling_interval >= 1, "--polling-interval must be >= 1");
    assert!(o.window >= 1, "--window must be >= 1");
    assert!(o.namespaces >= 1, "--namespaces must be >= 1");
    o
}

/// The release `prescale` binary: `--operator-bin`, `PRESCALE_OPERATOR_BIN`, else `<target>/release/prescale`
/// found from this bench executable (`<target>/release/deps/footprint-*`), `CARGO_TARGET_DIR` or the workspace.
fn operator_binary(o: &Options) -> PathBuf {
    if let Some(p) = &o.operator_bin {
        assert!(p.is_file(), "--operator-bin {}: not a file", p.display());
        return p.clone();
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe()
        && let Some(release) = exe.parent().and_then(Path::parent)
    {
        candidates.push(release.join("prescale"));
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("release/prescale"));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/prescale"));
    for c in &candidates {
        if c.is_file() {
            return c.clone();
        }
    }
    eprintln!(
        "error: the release prescale binary was not found (looked at {}).\n\
         Build it first: cargo build --release -p prescale   (same CARGO_TARGET_DIR as this bench),\n\
         or name it with --operator-bin PATH / PRESCALE_OPERATOR_BIN.",
        candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::process::exit(2);
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// `ho11y_total{job="ho11y", instance="i-<k>"}` samples at `times` (ms): value = seconds since `t0_ms`, so the
/// counter rises by exactly 1 per second.
fn counter(k: usize, t0_ms: i64, times: &[i64]) -> Series {
    let samples: Vec<(i64, f64)> = times
        .iter()
        .map(|&t| (t, (t - t0_ms) as f64 / 1000.0))
        .collect();
    Series::new(
        &[
            ("__name__", "ho11y_total"),
            ("job", "ho11y"),
            ("instance", &format!("i-{k}")),
        ],
        &samples,
    )
}

fn write_all(prometheus: &Server, n: usize, t0_ms: i64, times: &[i64]) {
    let series: Vec<Series> = (0..n).map(|k| counter(k, t0_ms, times)).collect();
    for chunk in series.chunks(500) {
        let (status, body) = prometheus.remote_write(chunk);
        assert_eq!(status, 204, "remote write: {body}");
    }
}

fn namespace_of(k: usize, o: &Options) -> String {
    format!("bench-{}", k % o.namespaces)
}

fn create_objects(api: &FakeApiServer, o: &Options, prometheus: &str) {
    for ns in std::iter::once("keda".to_string())
        .chain((0..o.namespaces.min(o.scaled_objects.max(1))).map(|i| format!("bench-{i}")))
    {
        api.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
            .unwrap();
    }
    for k in 0..o.scaled_objects {
        let ns = namespace_of(k, o);
        let app = format!("app-{k}");
        api.put(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app, "namespace": ns},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": app}},
                "template": {"metadata": {"labels": {"app": app}},
                             "spec": {"containers": [{"name": "app", "image": "ho11y"}]}}
            },
            "status": {"replicas": 1, "readyReplicas": 1}
        }))
        .unwrap();
        api.put(json!({
            "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": format!("so-{k}"), "namespace": ns},
            "spec": {
                "scaleTargetRef": {"name": app},
                "pollingInterval": o.polling_interval,
                "minReplicaCount": 1,
                "maxReplicaCount": 10,
                "triggers": [{"type": "prometheus", "metadata": {
                    "serverAddress": prometheus,
                    "query": format!("rate(ho11y_total{{instance=\"i-{k}\"}}[1m])"),
                    "threshold": "1"
                }}]
            }
        }))
        .unwrap();
    }
}

/// The operator child, killed on drop (also when the bench panics).
struct Operator {
    child: Child,
    log: PathBuf,
}

impl Operator {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "prescale operator exited with {status}; its log:\n{}",
                self.log_tail()
            );
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One sample of the Prometheus text exposition: name, labels, value.
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = s;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim_matches(|c: char| c == ',' || c.is_whitespace());
        let after = &rest[eq + 1..];
        let Some(body) = after.strip_prefix('"') else {
            break;
        };
        let mut value = String::new();
        let mut chars = body.char_indices();
        let mut end = body.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, e)) = chars.next() {
                        value.push(match e {
                            'n' => '\n',
                            other => other,
                        });
                    }
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        out.insert(key.to_string(), value);
        rest = &body[end..];
    }
    out
}

fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (name, labels, rest) = match line.find('{') {
            Some(open) if line[..open].find(' ').is_none() => {
                let Some(close) = line.rfind('}') else {
                    continue;
                };
                (
                    &line[..open],
                    parse_labels(&line[open + 1..close]),
                    &line[close + 1..],
                )
            }
            _ => match line.split_once(' ') {
                Some((n, r)) => (n, BTreeMap::new(), r),
                None => continue,
            },
        };
        let Some(value) = rest
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
        else {
            continue;
        };
        out.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    out
}

/// What one scrape of the operator's `/metrics` says.
#[derive(Debug, Clone, Default)]
struct Scrape {
    /// `prescale_poll_round_seconds`: (le, cumulative count), sum, count.
    buckets: Vec<(f64, f64)>,
    sum: f64,
    count: f64,
    /// `keda_internal_scale_loop_latency_seconds`: the largest value.
    max_lateness: f64,
    /// `keda_scaler_metrics_value`: each ScaledObject's value.
    values: Vec<f64>,
    /// `keda_scaler_detail_errors_total`: summed.
    errors: f64,
    /// Bytes of the answer.
    bytes: usize,
}

fn scrape(base: &str) -> Option<Scrape> {
    let resp = servers::client()
        .get(format!("{base}/metrics"))
        .header("Accept", "text/plain")
        .send()
        .ok()?;
    let text = resp.text().ok()?;
    let mut s = Scrape {
        bytes: text.len(),
        ..Scrape::default()
    };
    for sample in parse_exposition(&text) {
        match sample.name.as_str() {
            "prescale_poll_round_seconds_bucket" => {
                let le = match sample.labels.get("le").map(String::as_str) {
                    Some("+Inf") => f64::INFINITY,
                    Some(v) => v.parse().unwrap_or(f64::NAN),
                    None => continue,
                };
                s.buckets.push((le, sample.value));
            }
            "prescale_poll_round_seconds_sum" => s.sum = sample.value,
            "prescale_poll_round_seconds_count" => s.count = sample.value,
            "keda_internal_scale_loop_latency_seconds" => {
                s.max_lateness = s.max_lateness.max(sample.value)
            }
            "keda_scaler_metrics_value" => s.values.push(sample.value),
            "keda_scaler_detail_errors_total" => s.errors += sample.value,
            _ => {}
        }
    }
    s.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(s)
}

/// The quantile `q` of the histogram difference `end - start`, as the upper bound of the bucket it falls in (the
/// buckets are coarse, 5 ms at the low end: interpolating inside one would invent precision); `q = 1` gives the
/// bucket of the largest observation.
fn quantile(start: &Scrape, end: &Scrape, q: f64) -> f64 {
    let before: HashMap<u64, f64> = start
        .buckets
        .iter()
        .map(|(le, c)| (le.to_bits(), *c))
        .collect();
    let buckets: Vec<(f64, f64)> = end
        .buckets
        .iter()
        .map(|(le, c)| (*le, c - before.get(&le.to_bits()).copied().unwrap_or(0.0)))
        .collect();
    let total = buckets.last().map_or(0.0, |b| b.1);
    if total <= 0.0 {
        return f64::NAN;
    }
    let rank = q * total;
    buckets
        .iter()
        .find(|(_, count)| *count >= rank && *count > 0.0)
        .map_or(f64::NAN, |(le, _)| *le)
}

/// Arrival times of the operator's requests at the fake API server: (when, method, path).
type Arrivals = Arc<Mutex<Vec<(Instant, String, String)>>>;

fn main() {
    let o = options();
    prescale_aws::install_crypto_provider();
    let bin = operator_binary(&o);
    let interval = Duration::from_secs(o.polling_interval);
    let scrape_every = Duration::from_secs(
        o.scrape_interval
            .unwrap_or_else(|| (o.polling_interval / 2).clamp(1, 15)),
    );
    let n = o.scaled_objects;
    println!(
        "operator footprint: {n} ScaledObjects in {} namespaces, pollingInterval {}s, warm-up {} + window {} intervals, \
         /metrics scraped every {}s; operator {}",
        o.namespaces.min(n.max(1)),
        o.polling_interval,
        o.warmup,
        o.window,
        scrape_every.as_secs(),
        bin.display()
    );

    // Prometheus with a minute of history per series, then a sample every 10 s from a writer thread.
    let prometheus = Server::prometheus()
        .expect("the footprint benchmark needs PRESCALE_PROMETHEUS_BIN (see docs/benchmarks.md)");
    let now = now_ms() / 1000 * 1000;
    let t0_ms = now - 70_000;
    let history: Vec<i64> = (0..=7).map(|i| t0_ms + i * SAMPLE_EVERY_S * 1000).collect();
    write_all(&prometheus, n, t0_ms, &history);
    let mut last_written = *history.last().unwrap();
    if n > 0 {
        let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(last_written).unwrap());
        prometheus.wait_visible(n, at);
        for k in [0, n - 1] {
            let q = format!("rate(ho11y_total{{instance=\"i-{k}\"}}[1m])");
            let data = prometheus.raw_query(&q, SystemTime::now());
            let v: f64 = data["result"][0]["value"][1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{q} returned no value: {data}"));
            assert!((v - 1.0).abs() < 1e-6, "{q} = {v}, expected 1");
        }
    }

    // The fake API server (a real kube-apiserver sends watch bookmarks about once a minute).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let api = FakeApiServer::with_config(
        system_clock(),
        Config {
            bookmark_interval: Duration::from_secs(60),
            ..Config::default()
        },
    );
    create_objects(&api, &o, &prometheus.base);
    let arrivals: Arrivals = Arc::default();
    let router = {
        let arrivals = arrivals.clone();
        api.router().layer(axum::middleware::map_request(
            move |req: axum::http::Request<axum::body::Body>| {
                let arrivals = arrivals.clone();
                async move {
                    arrivals.lock().unwrap().push((
                        Instant::now(),
                        req.method().to_string(),
                        req.uri().path().to_string(),
                    ));
                    req
                }
            },
        ))
    };
    let api_base = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        format!("http://{addr}")
    });

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {api_base}\n\
             users:\n- name: bench\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    \
             user: bench\n    namespace: default\ncurrent-context: fake\n"
        ),
    )
    .unwrap();
    let metrics_base = format!("http://127.0.0.1:{}", free_port());
    let log = dir.path().join("operator.log");
    let mut cmd = Command::new(&bin);
    cmd.arg("operator")
        .arg("--leader-elect=false")
        .arg("--namespace=keda")
        .arg(format!(
            "--metrics-bind-address={}",
            metrics_base.trim_start_matches("http://")
        ))
        .arg(format!(
            "--health-probe-bind-address=127.0.0.1:{}",
            free_port()
        ))
        .arg(format!(
            "--metrics-server-bind-address=127.0.0.1:{}",
            free_port()
        ))
        .arg(format!("--cert-dir={}", dir.path().join("certs").display()))
        .arg("--insecure-skip-front-proxy-auth")
        .arg("--log-format=json")
        .arg(format!("--log-level={}", o.log_level))
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    for (k, v) in &o.env {
        cmd.env(k, v);
    }

    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        // Keeps every counter current: one sample per series every 10 s, at wall-clock time.
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let now = now_ms();
                if now - last_written >= SAMPLE_EVERY_S * 1000 {
                    write_all(&prometheus, n, t0_ms, &[now]);
                    last_written = now;
                }
            }
        });
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            measure(
                &o,
                &api,
                &arrivals,
                &metrics_base,
                &mut cmd,
                log.clone(),
                interval,
                scrape_every,
            )
        }));
        stop.store(true, Ordering::Relaxed);
        match result {
            Ok(met) => {
                if o.check && !met {
                    eprintln!("footprint: a target was missed (--check)");
                    std::process::exit(1);
                }
            }
            Err(p) => std::panic::resume_unwind(p),
        }
    });
    drop(rt);
}

/// Runs the operator through startup, warm-up and the window; prints the results; returns whether the targets
/// were met.
#[allow(clippy::too_many_arguments)]
fn measure(
    o: &Options,
    api: &FakeApiServer,
    arrivals: &Arrivals,
    metrics_base: &str,
    cmd: &mut Command,
    log: PathBuf,
    interval: Duration,
    scrape_every: Duration,
) -> bool {
    let n = o.scaled_objects;
    let ticks = clock_ticks();
    let started = Instant::now();
    let mut op = Operator {
        child: cmd.spawn().expect("cannot start prescale operator"),
        log,
    };
    let pid = op.pid();

    // Startup: every HPA, then every ScaledObject polled once.
    let deadline = started + Duration::from_secs(o.startup_timeout);
    let wait = |op: &mut Operator, what: &str, cond: &dyn Fn() -> usize| -> Duration {
        loop {
            op.assert_running();
            let have = cond();
            if have >= n {
                return started.elapsed();
            }
            assert!(
                Instant::now() < deadline,
                "startup: {have}/{n} {what} after {:?}; operator log:\n{}",
                started.elapsed(),
                op.log_tail()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    };
    // Serving first (so N = 0 measures a started operator too), then every HPA, then every poll.
    loop {
        op.assert_running();
        if scrape(metrics_base).is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the operator's /metrics did not answer; its log:\n{}",
            op.log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let hpas_at = wait(&mut op, "HPAs", &|| {
        api.list("autoscaling", "horizontalpodautoscalers", None)
            .len()
    });
    let polled_at = wait(&mut op, "ScaledObjects polled", &|| {
        api.list("keda.sh", "scaledobjects", None)
            .iter()
            .filter(|so| so["status"]["lastActiveTime"].is_string())
            .count()
    });
    let startup_mem = read_mem(pid).unwrap_or_default();
    println!(
        "startup: {n} HPAs after {:.1}s, every ScaledObject polled after {:.1}s (RSS then {:.1} MiB)",
        hpas_at.as_secs_f64(),
        polled_at.as_secs_f64(),
        startup_mem.rss as f64 / MIB
    );

    // Warm-up.
    let warm_end = Instant::now() + interval * u32::try_from(o.warmup).unwrap();
    while Instant::now() < warm_end {
        op.assert_running();
        std::thread::sleep(Duration::from_millis(500));
    }

    // The window.
    api.clear_requests();
    arrivals.lock().unwrap().clear();
    let first = scrape(metrics_base).expect("operator /metrics");
    let window_start = Instant::now();
    let cpu0 = read_cpu_ticks(pid).expect("/proc/<pid>/stat");
    let window = interval * u32::try_from(o.window).unwrap();
    let window_end = window_start + window;
    let mut mems: Vec<Mem> = Vec::new();
    let mut max_lateness: f64 = first.max_lateness;
    let mut scrape_bytes = first.bytes;
    let mut next_sample = window_start;
    let mut next_scrape = window_start + scrape_every;
    loop {
        let now = Instant::now();
        if now >= window_end {
            break;
        }
        if now >= next_sample {
            op.assert_running();
            if let Some(m) = read_mem(pid) {
                mems.push(m);
            }
            next_sample += Duration::from_secs(1);
        }
        if now >= next_scrape {
            if let Some(s) = scrape(metrics_base) {
                max_lateness = max_lateness.max(s.max_lateness);
                scrape_bytes = s.bytes;
            }
            next_scrape += scrape_every;
        }
        let next = next_sample.min(next_scrape).min(window_end);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let cpu1 = read_cpu_ticks(pid).expect("/proc/<pid>/stat");
    let elapsed = window_start.elapsed();
    let last = scrape(metrics_base).expect("operator /metrics");
    max_lateness = max_lateness.max(last.max_lateness);
    let end_mem = read_mem(pid).unwrap_or_default();
    let requests = api.requests();
    let arrivals: Vec<(Instant, String, String)> = arrivals.lock().unwrap().clone();
    let log_text = op.log_text();
    if let Some(keep) = &o.keep_log {
        std::fs::write(keep, &log_text)
            .unwrap_or_else(|e| panic!("--keep-log {}: {e}", keep.display()));
    }
    drop(op);

    // CPU.
    let cpu_s = (cpu1.saturating_sub(cpu0)) as f64 / ticks;
    let rounds = elapsed.as_secs_f64() / interval.as_secs_f64();
    let cpu_per_round = cpu_s / rounds;
    let cpu_pct = cpu_s / elapsed.as_secs_f64() * 100.0;

    // Memory.
    let mut rss: Vec<f64> = mems.iter().map(|m| m.rss as f64 / MIB).collect();
    let mut anon: Vec<f64> = mems.iter().map(|m| m.anon as f64 / MIB).collect();
    let mut file: Vec<f64> = mems.iter().map(|m| m.file as f64 / MIB).collect();
    let rss_max = rss.iter().copied().fold(0.0, f64::max);
    let rss_median = median(&mut rss);
    let anon_median = median(&mut anon);
    let file_median = median(&mut file);
    let threads = mems.iter().map(|m| m.threads).max().unwrap_or(0);
    let hwm = end_mem.hwm as f64 / MIB;

    // Polls, as seen at the API server: each loop's GET of its Deployment's /scale.
    let mut polls: HashMap<&str, Vec<f64>> = HashMap::new();
    for (at, method, path) in &arrivals {
        if method == "GET" && path.ends_with("/scale") && path.contains("/deployments/") {
            let t = at.saturating_duration_since(window_start).as_secs_f64();
            if t <= elapsed.as_secs_f64() {
                polls.entry(path.as_str()).or_default().push(t);
            }
        }
    }
    let poll_count: usize = polls.values().map(Vec::len).sum();
    let mut periods = Vec::new();
    let mut max_gap: f64 = if n > 0 && polls.len() < n {
        elapsed.as_secs_f64()
    } else {
        0.0
    };
    let limit = (interval + LATE_TOLERANCE).as_secs_f64();
    let mut late_objects = n.saturating_sub(polls.len());
    for times in polls.values_mut() {
        times.sort_by(f64::total_cmp);
        let mut points = vec![0.0];
        points.extend(times.iter().copied());
        points.push(elapsed.as_secs_f64());
        let gap = points.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
        max_gap = max_gap.max(gap);
        if gap > limit {
            late_objects += 1;
        }
        periods.extend(times.windows(2).map(|w| w[1] - w[0]));
    }
    let period_median = median(&mut periods);
    let period_max = periods.iter().copied().fold(f64::NAN, f64::max);

    // Poll latency (trigger evaluations of one ScaledObject's poll) from the operator's histogram.
    let evals = last.count - first.count;
    let eval_mean = if evals > 0.0 {
        (last.sum - first.sum) / evals
    } else {
        f64::NAN
    };
    let p50 = quantile(&first, &last, 0.5);
    let p99 = quantile(&first, &last, 0.99);
    let pmax = quantile(&first, &last, 1.0);
    let values_ok = last
        .values
        .iter()
        .filter(|v| (*v - 1.0).abs() < 0.05)
        .count();
    let scaler_errors = last.errors - first.errors;

    // API traffic by verb and resource.
    let mut by_verb: BTreeMap<String, usize> = BTreeMap::new();
    for r in &requests {
        let verb = if r.verb.is_empty() {
            "discovery"
        } else {
            &r.verb
        };
        *by_verb
            .entry(format!("{verb} {}", r.resource).trim_end().to_string())
            .or_default() += 1;
    }
    let secs = elapsed.as_secs_f64();
    let api_rps = requests.len() as f64 / secs;
    let warning_lines: Vec<&str> = log_text
        .lines()
        .filter(|l| l.contains("\"level\":\"WARN\"") || l.contains("\"level\":\"ERROR\""))
        .collect();
    let warnings = warning_lines.len();

    let rss_ok = rss_max < RSS_TARGET_MIB;
    let rounds_ok =
        max_lateness < LATE_TOLERANCE.as_secs_f64() && late_objects == 0 && (n == 0 || evals > 0.0);
    let ms = |s: f64| s * 1000.0;
    println!("window: {secs:.1}s = {rounds:.2} polling intervals");
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| RSS steady state, median (max) | {rss_median:.1} MiB ({rss_max:.1} MiB) — target < {RSS_TARGET_MIB} MiB: {} |",
        if rss_ok { "met" } else { "MISSED" }
    );
    println!("| RssAnon / RssFile, median | {anon_median:.1} / {file_median:.1} MiB |");
    println!(
        "| VmHWM (peak since start) | {hwm:.1} MiB (at end of startup: RSS {:.1} MiB) |",
        startup_mem.rss as f64 / MIB
    );
    println!("| threads | {threads} |");
    println!(
        "| CPU per poll round (one pollingInterval) | {cpu_per_round:.3} s ({cpu_pct:.2} % of one core) |"
    );
    println!(
        "| CPU per ScaledObject poll | {:.0} µs |",
        if poll_count > 0 {
            cpu_s / poll_count as f64 * 1e6
        } else {
            f64::NAN
        }
    );
    println!(
        "| poll latency (trigger evaluation) mean / p50 / p99 / max | {:.2} / ≤{} / ≤{} / ≤{} ms ({evals} polls) |",
        ms(eval_mean),
        ms(p50),
        ms(p99),
        ms(pmax)
    );
    println!(
        "| per-ScaledObject poll period at the API server, median / max | {period_median:.2} / {period_max:.2} s |"
    );
    println!(
        "| longest stretch without a poll, any ScaledObject | {max_gap:.2} s (limit {limit:.0} s; {late_objects} late) |"
    );
    println!(
        "| max scale loop lateness (keda_internal_scale_loop_latency_seconds) | {:.3} s — every round inside its interval: {} |",
        max_lateness,
        if rounds_ok { "met" } else { "MISSED" }
    );
    println!(
        "| startup: all HPAs / all polled | {:.1} / {:.1} s |",
        hpas_at.as_secs_f64(),
        polled_at.as_secs_f64()
    );
    println!("| API requests | {api_rps:.1}/s |");
    for (k, c) in &by_verb {
        println!("|   {k} | {:.2}/s |", *c as f64 / secs);
    }
    println!("| scaler values = 1 / errors in window | {values_ok}/{n} / {scaler_errors} |");
    println!("| /metrics size | {} KiB |", scrape_bytes / 1024);
    println!("| operator log warnings+errors (whole run) | {warnings} |");
    for l in warning_lines.iter().take(3) {
        println!("  e.g. {}", l.chars().take(400).collect::<String>());
    }

    let line = json!({
        "bench": "operator_footprint",
        "scaled_objects": n,
        "namespaces": o.namespaces,
        "polling_interval_s": o.polling_interval,
        "window_s": round3(secs),
        "env": o.env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        "startup_hpas_s": round3(hpas_at.as_secs_f64()),
        "startup_polled_s": round3(polled_at.as_secs_f64()),
        "rss_mib_median": round3(rss_median),
        "rss_mib_max": round3(rss_max),
        "rss_anon_mib_median": round3(anon_median),
        "rss_file_mib_median": round3(file_median),
        "hwm_mib": round3(hwm),
        "startup_rss_mib": round3(startup_mem.rss as f64 / MIB),
        "threads": threads,
        "cpu_s_per_round": round3(cpu_per_round),
        "cpu_pct": round3(cpu_pct),
        "polls": poll_count,
        "eval_mean_ms": round3(ms(eval_mean)),
        "eval_p50_ms": round3(ms(p50)),
        "eval_p99_ms": round3(ms(p99)),
        "period_median_s": round3(period_median),
        "period_max_s": round3(period_max),
        "max_gap_s": round3(max_gap),
        "late_scaled_objects": late_objects,
        "max_lateness_s": round3(max_lateness),
        "api_rps": round3(api_rps),
        "api_by_verb": by_verb.iter().map(|(k, c)| (k.clone(), round3(*c as f64 / secs))).collect::<serde_json::Map<_, _>>(),
        "scaler_values_ok": values_ok,
        "scaler_errors": scaler_errors,
        "metrics_bytes": scrape_bytes,
        "log_warnings": warnings,
        "rss_target_met": rss_ok,
        "rounds_target_met": rounds_ok,
    });
    println!("{line}");
    let _ = std::io::stdout().flush();
    rss_ok && rounds_ok
}

fn round3(v: f64) -> Value {
    if v.is_finite() {
        json!((v * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}
