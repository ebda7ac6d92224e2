//! The Prometheus trigger's request and response code against real servers: Prometheus 2.42 and
//! VictoriaMetrics 1.79, fed through remote write 1.0 by `prescale-promwire` and queried over real HTTP.
//!
//! The binaries come from `PRESCALE_PROMETHEUS_BIN` and `PRESCALE_VICTORIA_METRICS_BIN` (`.ci/run` extracts them
//! from the Debian packages). Without them a test prints why and passes, unless `PRESCALE_REQUIRE_REAL` is set
//! (CI sets it), in which case it fails.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prescale_promwire::{REQUIRED_HEADERS, Series, encode_write_request};
use prescale_scalers::Error;
use prescale_scalers::prometheus::{request, response};
use serde_json::Value;
use tempfile::TempDir;

const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long written samples may take to become visible to queries after [`Server::flush`].
const VISIBLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A server process on a free loopback port with its own temporary data directory, killed on drop.
struct Server {
    name: &'static str,
    child: Child,
    base: String,
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

    fn prometheus() -> Option<Self> {
        let bin = Self::binary("PRESCALE_PROMETHEUS_BIN")?;
        Some(Self::start("prometheus", &bin, None, |dir, addr| {
            let config = dir.join("prometheus.yml");
            std::fs::write(
                &config,
                "global: {scrape_interval: 15s}\nscrape_configs: []\n",
            )
            .unwrap();
            vec![
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address={addr}"),
                "--web.enable-remote-write-receiver".to_owned(),
            ]
        }))
    }

    fn victoria_metrics() -> Option<Self> {
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

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Remote-writes `series` with the four required headers; returns the status and body.
    fn remote_write(&self, series: &[Series]) -> (u16, String) {
        let mut req = client()
            .post(format!("{}/api/v1/write", self.base))
            .header("User-Agent", "prescale-tests/0.1.0");
        for (name, value) in REQUIRED_HEADERS {
            req = req.header(name, value);
        }
        let resp = req.body(encode_write_request(series)).send().unwrap();
        (resp.status().as_u16(), resp.text().unwrap())
    }

    /// The trigger's path: `request::build`, a GET with its headers, `response::interpret`.
    fn trigger_query(&self, query: &str, at: SystemTime) -> Result<f64, Error> {
        let built = request::build(&self.base, query, at, None, &[], &[]);
        let mut req = client().get(&built.url);
        for (name, value) in &built.headers {
            req = req.header(name, value);
        }
        let resp = req.send().unwrap();
        let status = resp.status().as_u16();
        let body = resp.bytes().unwrap();
        response::interpret(status, &body, false)
    }

    /// The same instant query fetched independently (HTML form encoding, spaces as `+`, `time` as unix seconds),
    /// returned as the raw JSON `data`.
    fn raw_query(&self, query: &str, at: SystemTime) -> Value {
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
    fn flush(&self) {
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
    fn wait_visible(&self, series: usize, at: SystemTime) {
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

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// `ho11y_total{job="ho11y", instance}`: 6 samples 15 s apart ending at `end_ms`, rising by `step` per sample.
fn ho11y_total(instance: &str, end_ms: i64, step: f64) -> Series {
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

/// What differs between the two servers.
struct Expect {
    /// `resultType` of `scalar(...)`: Prometheus answers a scalar, VictoriaMetrics a label-less vector.
    scalar_result_type: &'static str,
    /// Status and `errorType` of a PromQL syntax error.
    syntax_error: (u16, &'static str),
    /// A fragment of the server's syntax error text.
    syntax_error_text: &'static str,
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "{what}: {actual}, expected {expected}"
    );
}

fn scenario(server: &Server, expect: &Expect) {
    let name = server.name;
    // Whole seconds: the trigger's `time` parameter has no fraction, and the newest sample must not lie after
    // it. Samples are now-ish, as Prometheus rejects samples about an hour old for a new series. A few seconds
    // back, because VictoriaMetrics 1.79 leaves the newest sample out of an instant query whose `time` is the
    // current second (it answered 50 instead of 60 here; `nocache=1` or one second later gives 60).
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5;
    let at = UNIX_EPOCH + Duration::from_secs(secs);
    let end_ms = i64::try_from(secs).unwrap() * 1000;

    let (status, body) = server.remote_write(&[ho11y_total("a:8765", end_ms, 10.0)]);
    assert_eq!((status, body.as_str()), (204, ""), "{name}: remote write");
    server.wait_visible(1, at);

    // One series: the trigger reads the same number the server reports, and it is the counter's slope.
    let q = "rate(ho11y_total[1m])";
    let ours = server.trigger_query(q, at).unwrap();
    let raw = server.raw_query(q, at);
    let raw_value: f64 = raw["result"][0]["value"][1]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: {q} gave {raw}"))
        .parse()
        .unwrap();
    assert_eq!(raw["result"].as_array().unwrap().len(), 1, "{name}: {raw}");
    assert_eq!(ours, raw_value, "{name}: {q}: trigger vs raw {raw}");
    assert_close(ours, 10.0 / 15.0, &format!("{name}: {q}"));

    let q = "sum(rate(ho11y_total[1m]))";
    assert_close(server.trigger_query(q, at).unwrap(), 10.0 / 15.0, name);

    let q = "scalar(sum(ho11y_total))";
    assert_eq!(
        server.raw_query(q, at)["resultType"],
        expect.scalar_result_type,
        "{name}: {q}"
    );
    assert_eq!(server.trigger_query(q, at).unwrap(), 60.0, "{name}: {q}");

    // A second series (another instance): a bare selector now returns two series, which the trigger refuses;
    // aggregating still works.
    let (status, body) = server.remote_write(&[ho11y_total("b:8765", end_ms, 20.0)]);
    assert_eq!((status, body.as_str()), (204, ""), "{name}: second write");
    server.wait_visible(2, at);
    match server.trigger_query("ho11y_total", at) {
        Err(Error::Response(msg)) => assert!(
            msg.starts_with(
                "prometheus query returned 2 series, but the trigger needs exactly one"
            ) && msg.contains("a:8765")
                && msg.contains("b:8765"),
            "{name}: {msg}"
        ),
        other => panic!("{name}: ho11y_total with two series gave {other:?}"),
    }
    let q = "sum(rate(ho11y_total[1m]))";
    assert_close(server.trigger_query(q, at).unwrap(), 30.0 / 15.0, name);
    assert_eq!(
        server
            .trigger_query("scalar(sum(ho11y_total))", at)
            .unwrap(),
        60.0 + 120.0,
        "{name}"
    );

    // A PromQL syntax error comes back as the server's error, status and text included.
    match server.trigger_query("sum(rate(ho11y_total[1m])", at) {
        Err(Error::Api {
            status,
            error_type,
            message,
            body_excerpt: None,
        }) => {
            assert_eq!(
                (status, error_type.as_deref()),
                (expect.syntax_error.0, Some(expect.syntax_error.1)),
                "{name}: {message:?}"
            );
            let message = message.unwrap();
            assert!(
                message.contains(expect.syntax_error_text),
                "{name}: {message}"
            );
        }
        other => panic!("{name}: syntax error gave {other:?}"),
    }
}

#[test]
fn prometheus_2_42_remote_write_and_trigger_queries() {
    let Some(server) = Server::prometheus() else {
        return;
    };
    scenario(
        &server,
        &Expect {
            scalar_result_type: "scalar",
            syntax_error: (400, "bad_data"),
            syntax_error_text: "parse error",
        },
    );
}

#[test]
fn victoria_metrics_1_79_remote_write_and_trigger_queries() {
    let Some(server) = Server::victoria_metrics() else {
        return;
    };
    scenario(
        &server,
        &Expect {
            scalar_result_type: "vector",
            syntax_error: (422, "422"),
            syntax_error_text: "unexpected token",
        },
    );
}
