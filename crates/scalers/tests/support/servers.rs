//! Real Prometheus and VictoriaMetrics servers for tests: started on a free loopback port with a temporary
//! data directory, fed through remote write 1.0 (`prescale-promwire`), killed on drop. Shared by
//! `crates/scalers/tests/real_servers.rs` and `crates/cli/tests/check_real.rs` (`#[path]` module).
//!
//! The binaries come from `PRESCALE_PROMETHEUS_BIN` and `PRESCALE_VICTORIA_METRICS_BIN`. Without them
//! [`Server::prometheus`] prints why and returns `None`, unless `PRESCALE_REQUIRE_REAL` is set (CI sets it),
//! in which case it panics.
#![allow(dead_code)]
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prescale_core::spec::ScaleTrigger;
use prescale_promwire::{REQUIRED_HEADERS, Series, encode_write_request};
use prescale_scalers::{Error, ScalerContext, TriggerAuth};
use serde_json::Value;
use tempfile::TempDir;

const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long written samples may take to become visible to queries after [`Server::flush`].
const VISIBLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A server process on a free loopback port with its own temporary data directory, killed on drop.
pub struct Server {
    pub name: &'static str,
    child: Child,
    pub base: String,
    dir: TempDir,
    /// A path that makes ingested samples searchable at once, for servers that buffer them.
    flush_path: Option<&'static str>,
}

impl Server {
    /// The binary named by `env`, or `None` (with the reason printed) when it is not available and real
    /// servers are not required.
    fn binary(env: &str) -> Option<PathBuf> {
        let reason = match std::env::var_os(env) {
            None => format!("{env} is not set"),
            Some(path) if Path::new(&path).is_file() => return Some(PathBuf::from(path)),
            Some(path) => format!("{env}={} is not a file", Path::new(&path).display()),
        };
        assert!(
            std::env::var_os("PRESCALE_REQUIRE_REAL").is_none(),
            "PRESCALE_REQUIRE_REAL is set but {reason}; run .ci/run or see README"
        );
        eprintln!("skipping: {reason} (.ci/run sets it; see README)");
        None
    }

    pub fn prometheus() -> Option<Self> {
        Self::prometheus_with_config("global: {scrape_interval: 15s}\nscrape_configs: []\n")
    }

    /// Prometheus with `config` as its `prometheus.yml` (e.g. scrape jobs), remote-write receiver on.
    pub fn prometheus_with_config(config_yaml: &str) -> Option<Self> {
        let bin = Self::binary("PRESCALE_PROMETHEUS_BIN")?;
        Some(Self::start("prometheus", &bin, None, |dir, addr| {
            let config = dir.join("prometheus.yml");
            std::fs::write(&config, config_yaml).unwrap();
            vec![
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address={addr}"),
                "--web.enable-remote-write-receiver".to_owned(),
            ]
        }))
    }

    pub fn victoria_metrics() -> Option<Self> {
        let bin = Self::binary("PRESCALE_VICTORIA_METRICS_BIN")?;
        // VictoriaMetrics 1.79 makes new series searchable only after several seconds (about 9 s here)
        // unless its in-memory buffers are flushed.
        let flush = Some("/internal/force_flush");
        Some(Self::start("victoria-metrics", &bin, flush, |dir, addr| {
            vec![
                format!("-storageDataPath={}", dir.join("data").display()),
                format!("-httpListenAddr={addr}"),
                // The default 30s hides the newest samples from instant queries at "now".
                "-search.latencyOffset=0s".to_owned(),
            ]
        }))
    }

    fn start(
        name: &'static str,
        bin: &Path,
        flush_path: Option<&'static str>,
        args: impl FnOnce(&Path, &str) -> Vec<String>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // A port the kernel just handed out and released; another process taking it in between would show
        // up as a readiness failure with the server's log.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let log = File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(bin)
            .args(args(dir.path(), &addr))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", bin.display()));
        let mut server = Self {
            name,
            child,
            base: format!("http://{addr}"),
            dir,
            flush_path,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let client = client();
        let start = Instant::now();
        let deadline = start + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "{} exited with {status} before it was ready:\n{}",
                    self.name,
                    self.log()
                );
            }
            let ready = client
                .get(format!("{}/-/ready", self.base))
                .send()
                .is_ok_and(|r| r.status().is_success());
            if ready {
                eprintln!(
                    "{} ready at {} after {:?}",
                    self.name,
                    self.base,
                    start.elapsed()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready at {} after {READY_TIMEOUT:?}:\n{}",
                self.name,
                self.base,
                self.log()
            );
            sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Remote-writes `series` with the four required headers; returns the status and body.
    pub fn remote_write(&self, series: &[Series]) -> (u16, String) {
        let mut req = client()
            .post(format!("{}/api/v1/write", self.base))
            .header("User-Agent", "prescale-tests/0.1.0");
        for (name, value) in REQUIRED_HEADERS {
            req = req.header(name, value);
        }
        let resp = req.body(encode_write_request(series)).send().unwrap();
        (resp.status().as_u16(), resp.text().unwrap())
    }

    /// The trigger's path: a `PrometheusScaler` (`ignoreNullValues: false`) evaluated once at `at`.
    pub fn trigger_query(&self, query: &str, at: SystemTime) -> Result<f64, Error> {
        let trigger = ScaleTrigger {
            kind: "prometheus".to_string(),
            name: None,
            use_cached_metrics: None,
            metadata: [
                ("serverAddress", self.base.as_str()),
                ("query", query),
                ("threshold", "1"),
                ("ignoreNullValues", "false"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            authentication_ref: None,
            metric_type: None,
        };
        let scaler = ScalerContext::new().build(0, &trigger, TriggerAuth::default())?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(scaler.evaluate(at)).map(|e| e.value)
    }

    /// The same instant query fetched independently (HTML form encoding, spaces as `+`, `time` as unix seconds),
    /// returned as the raw JSON `data`.
    pub fn raw_query(&self, query: &str, at: SystemTime) -> Value {
        let secs = at.duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
        let params = form_urlencoded::Serializer::new(String::new())
            .append_pair("query", query)
            .append_pair("time", &secs)
            .finish();
        let resp = client()
            .get(format!("{}/api/v1/query?{params}", self.base))
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        let json: Value = serde_json::from_slice(&resp.bytes().unwrap()).unwrap();
        assert_eq!(status, 200, "{}: {query} gave {json}", self.name);
        json["data"].clone()
    }

    /// Makes what was written searchable (a no-op for Prometheus).
    pub fn flush(&self) {
        if let Some(path) = self.flush_path {
            let resp = client().get(format!("{}{path}", self.base)).send().unwrap();
            assert!(
                resp.status().is_success(),
                "{}: {path}: {resp:?}",
                self.name
            );
        }
    }

    /// Waits until `count(ho11y_total)` at `at` is `series`, so every written sample is queryable.
    pub fn wait_visible(&self, series: usize, at: SystemTime) {
        self.flush();
        let start = Instant::now();
        let deadline = start + VISIBLE_TIMEOUT;
        loop {
            let data = self.raw_query("count(ho11y_total)", at);
            if data["result"][0]["value"][1] == Value::String(series.to_string()) {
                eprintln!(
                    "{}: {series} series visible after {:?}",
                    self.name,
                    start.elapsed()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {series} series not visible after {VISIBLE_TIMEOUT:?}: {data}",
                self.name
            );
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::blocking::Client {
    prescale_aws::install_crypto_provider();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// `ho11y_total{job="ho11y", instance}`: 6 samples 15 s apart ending at `end_ms`, rising by `step` per sample.
pub fn ho11y_total(instance: &str, end_ms: i64, step: f64) -> Series {
    let samples: Vec<(i64, f64)> = (0..6)
        .map(|i| (end_ms - (5 - i) * 15_000, step * (i + 1) as f64))
        .collect();
    Series::new(
        &[
            ("__name__", "ho11y_total"),
            ("job", "ho11y"),
            ("instance", instance),
        ],
        &samples,
    )
}
pub fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "{what}: {actual}, expected {expected}"
    );
}
