//! The operator's /metrics and probe ports over real HTTP on loopback: KEDA's metric names, types and labels as
//! a scraper parses them, series dropped on delete, and /readyz following the readiness flag.

use std::collections::BTreeMap;
use std::time::Duration;

use prescale_operator::telemetry::{
    OPENMETRICS_CONTENT_TYPE, PROMETHEUS_TEXT_CONTENT_TYPE, Readiness, ResourceKind,
    SCALED_OBJECT_RESOURCE, ScalerSeries, Telemetry, health_router, metrics_router, serve_http,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// One parsed sample: name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed exposition: `# TYPE` by family name, and the samples.
#[derive(Debug, Default)]
struct Exposition {
    types: BTreeMap<String, String>,
    samples: Vec<Sample>,
    eof: bool,
}

impl Exposition {
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found = self.find(name, labels);
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
        found[0].value
    }
}

/// Parses `{k="v",...}`, honouring `\\`, `\"` and `\n` escapes; returns the labels and the rest of the line.
fn parse_labels(s: &str) -> (BTreeMap<String, String>, &str) {
    let mut labels = BTreeMap::new();
    let Some(mut rest) = s.strip_prefix('{') else {
        return (labels, s);
    };
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(r) = rest.strip_prefix('}') {
            return (labels, r);
        }
        let (key, r) = rest.split_once("=\"").expect("label key");
        let mut value = String::new();
        let mut chars = r.char_indices();
        let end = loop {
            let (i, c) = chars.next().expect("unterminated label value");
            match c {
                '\\' => match chars.next().expect("escape").1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break i,
                c => value.push(c),
            }
        };
        labels.insert(key.to_string(), value);
        rest = &r[end + 1..];
    }
}

fn parse(text: &str) -> Exposition {
    let mut e = Exposition::default();
    for line in text.lines() {
        if line == "# EOF" {
            e.eof = true;
        } else if let Some(t) = line.strip_prefix("# TYPE ") {
            let (name, kind) = t.split_once(' ').unwrap();
            e.types.insert(name.to_string(), kind.to_string());
        } else if line.starts_with('#') || line.is_empty() {
            continue;
        } else {
            let name_end = line.find(['{', ' ']).unwrap();
            let name = &line[..name_end];
            let (labels, rest) = parse_labels(&line[name_end..]);
            let value = rest.split_whitespace().next().unwrap();
            let value = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap(),
            };
            e.samples.push(Sample {
                name: name.to_string(),
                labels,
                value,
            });
        }
    }
    e
}

struct Server {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(router: axum::Router) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let done = tokio::spawn(serve_http(listener, router, async {
            let _ = rx.await;
        }));
        Server {
            base,
            stop: Some(tx),
            done,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(5), self.done)
            .await
            .expect("the server stops on the shutdown signal")
            .unwrap()
            .unwrap();
    }
}

fn series(so: &str, index: usize, metric: &str) -> ScalerSeries {
    ScalerSeries {
        namespace: "ho11y".to_string(),
        scaled_object: so.to_string(),
        scaler: "prometheusScaler".to_string(),
        trigger_index: index,
        metric: metric.to_string(),
        kind: ResourceKind::ScaledObject,
    }
}

/// reqwest is built without a default crypto provider; even plain-HTTP clients need one installed.
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn scrape(base: &str, accept: Option<&str>) -> (String, String) {
    let c = http_client();
    let mut req = c.get(format!("{base}/metrics"));
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    (ct, r.text().await.unwrap())
}

const SCALER_LABELS: [&str; 6] = [
    "metric",
    "namespace",
    "scaledObject",
    "scaler",
    "triggerIndex",
    "type",
];

#[tokio::test]
async fn keda_metrics_are_scraped_with_their_names_types_and_labels() {
    let t = Telemetry::new();
    let s0 = series("ho11y-hpa", 0, "s0-prometheus");
    t.record_scaler_metric(&s0, 1.5);
    t.record_scaler_active(&s0, true);
    t.record_scaler_latency(&s0, Duration::from_millis(250));
    t.record_scaler_error(&s0, true);
    t.record_scaler_error(&s0, true);
    t.record_scaler_error(&s0, false);
    t.record_scaled_object_error("ho11y", "ho11y-hpa", true);
    t.record_scale_loop_latency(
        ResourceKind::ScaledObject,
        "ho11y",
        "ho11y-hpa",
        Duration::from_millis(20),
    );
    t.set_paused("ho11y", "ho11y-hpa", false);
    t.increment_trigger_total("prometheus");
    t.increment_trigger_total("prometheus");
    t.decrement_trigger_total("prometheus");
    t.increment_trigger_total("");
    t.increment_resource_total(SCALED_OBJECT_RESOURCE, "ho11y");
    t.increment_resource_total(SCALED_OBJECT_RESOURCE, "");
    t.observe_poll_round(Duration::from_millis(30));
    t.observe_poll_round(Duration::from_secs(3));
    t.set_leader(true);
    t.record_scaled_job_error("ho11y", "job", false);
    t.record_external_metrics_request(200);

    let srv = Server::start(metrics_router(t.clone())).await;
    let (ct, text) = scrape(&srv.base, None).await;
    assert_eq!(ct, OPENMETRICS_CONTENT_TYPE);
    let e = parse(&text);
    assert!(e.eof, "OpenMetrics ends with # EOF:\n{text}");

    let types = [
        ("keda_scaler_metrics_value", "gauge"),
        ("keda_scaler_metrics_latency_seconds", "gauge"),
        ("keda_scaler_active", "gauge"),
        ("keda_scaler_detail_errors", "counter"),
        ("keda_scaled_object_errors", "counter"),
        ("keda_scaled_job_errors", "counter"),
        ("keda_scaled_object_paused", "gauge"),
        ("keda_internal_scale_loop_latency_seconds", "gauge"),
        ("keda_trigger_registered_total", "gauge"),
        ("keda_resource_registered_total", "gauge"),
        ("prescale_poll_round_seconds", "histogram"),
        ("prescale_leader", "gauge"),
        ("prescale_external_metrics_requests", "counter"),
        ("prescale_build_info", "gauge"),
    ];
    for (name, kind) in types {
        assert_eq!(
            e.types.get(name).map(String::as_str),
            Some(kind),
            "{name}:\n{text}"
        );
    }

    let so = [
        ("namespace", "ho11y"),
        ("scaledObject", "ho11y-hpa"),
        ("scaler", "prometheusScaler"),
        ("triggerIndex", "0"),
        ("metric", "s0-prometheus"),
        ("type", "scaledobject"),
    ];
    let value = e.find("keda_scaler_metrics_value", &so);
    assert_eq!(value.len(), 1);
    // Exactly KEDA's label set.
    assert_eq!(
        value[0]
            .labels
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        SCALER_LABELS
    );
    assert_eq!(value[0].value, 1.5);
    assert_eq!(e.value("keda_scaler_active", &so), 1.0);
    assert_eq!(e.value("keda_scaler_metrics_latency_seconds", &so), 0.25);
    assert_eq!(e.value("keda_scaler_detail_errors_total", &so), 2.0);
    // Two scaler errors plus one of the ScaledObject itself.
    let so_labels = [("namespace", "ho11y"), ("scaledObject", "ho11y-hpa")];
    assert_eq!(e.value("keda_scaled_object_errors_total", &so_labels), 3.0);
    assert_eq!(e.value("keda_scaled_object_paused", &so_labels), 0.0);
    let loop_latency = e.find(
        "keda_internal_scale_loop_latency_seconds",
        &[
            ("namespace", "ho11y"),
            ("type", "scaledobject"),
            ("resource", "ho11y-hpa"),
        ],
    );
    assert_eq!(loop_latency.len(), 1);
    assert_eq!(loop_latency[0].value, 0.02);
    assert_eq!(
        e.value("keda_trigger_registered_total", &[("type", "prometheus")]),
        1.0
    );
    assert_eq!(e.find("keda_trigger_registered_total", &[]).len(), 1);
    assert_eq!(
        e.value(
            "keda_resource_registered_total",
            &[("type", "scaled_object"), ("namespace", "default")]
        ),
        1.0
    );
    assert_eq!(e.value("prescale_leader", &[]), 1.0);
    // Created at 0 without an error, as KEDA initialises its error counters.
    assert_eq!(
        e.value(
            "keda_scaled_job_errors_total",
            &[("namespace", "ho11y"), ("scaledJob", "job")]
        ),
        0.0
    );
    assert_eq!(
        e.value(
            "prescale_external_metrics_requests_total",
            &[("code", "200")]
        ),
        1.0
    );
    assert_eq!(e.value("prescale_build_info", &[]), 1.0);
    assert_eq!(e.value("prescale_poll_round_seconds_count", &[]), 2.0);
    assert!((e.value("prescale_poll_round_seconds_sum", &[]) - 3.03).abs() < 1e-9);
    assert_eq!(
        e.value("prescale_poll_round_seconds_bucket", &[("le", "0.025")]),
        0.0
    );
    assert_eq!(
        e.value("prescale_poll_round_seconds_bucket", &[("le", "0.05")]),
        1.0
    );
    assert_eq!(
        e.value("prescale_poll_round_seconds_bucket", &[("le", "5.0")]),
        2.0
    );
    assert_eq!(
        e.value("prescale_poll_round_seconds_bucket", &[("le", "+Inf")]),
        2.0
    );

    // The Prometheus text format on request: no EOF, counters typed under their _total name.
    let (ct, text) = scrape(&srv.base, Some("text/plain;version=0.0.4;q=1,*/*;q=0.1")).await;
    assert_eq!(ct, PROMETHEUS_TEXT_CONTENT_TYPE);
    let p = parse(&text);
    assert!(!p.eof);
    assert_eq!(
        p.types
            .get("keda_scaler_detail_errors_total")
            .map(String::as_str),
        Some("counter"),
        "{text}"
    );
    assert_eq!(p.value("keda_scaler_detail_errors_total", &so), 2.0);
    // What Prometheus sends prefers OpenMetrics.
    let (ct, _) = scrape(
        &srv.base,
        Some("application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2"),
    )
    .await;
    assert_eq!(ct, OPENMETRICS_CONTENT_TYPE);
    srv.stop().await;
}

#[tokio::test]
async fn deleting_a_scaled_object_drops_its_series_only() {
    let t = Telemetry::new();
    let a0 = series("a", 0, "s0-prometheus");
    let a1 = series("a", 1, "s1-cron");
    let b0 = series("b", 0, "s0-prometheus");
    for s in [&a0, &a1, &b0] {
        t.record_scaler_metric(s, 2.0);
        t.record_scaler_active(s, false);
        t.record_scaler_latency(s, Duration::from_millis(5));
        t.record_scaler_error(s, true);
    }
    t.set_paused("ho11y", "a", true);
    t.set_paused("ho11y", "b", false);
    t.record_scale_loop_latency(ResourceKind::ScaledObject, "ho11y", "a", Duration::ZERO);
    // A ScaledJob of the same name is another resource.
    let job = ScalerSeries {
        kind: ResourceKind::ScaledJob,
        ..series("a", 0, "s0-prometheus")
    };
    t.record_scaler_metric(&job, 7.0);

    let srv = Server::start(metrics_router(t.clone())).await;
    let before = parse(&scrape(&srv.base, None).await.1);
    let a = [("scaledObject", "a"), ("type", "scaledobject")];
    assert_eq!(before.find("keda_scaler_metrics_value", &a).len(), 2);

    t.remove_scaled_object("ho11y", "a");
    let after = parse(&scrape(&srv.base, None).await.1);
    for name in [
        "keda_scaler_metrics_value",
        "keda_scaler_active",
        "keda_scaler_metrics_latency_seconds",
        "keda_scaler_detail_errors_total",
    ] {
        assert!(after.find(name, &a).is_empty(), "{name} of a is gone");
        assert_eq!(
            after.find(name, &[("scaledObject", "b")]).len(),
            1,
            "{name} of b stays"
        );
    }
    let so_a = [("namespace", "ho11y"), ("scaledObject", "a")];
    assert!(
        after
            .find("keda_scaled_object_errors_total", &so_a)
            .is_empty()
    );
    assert!(after.find("keda_scaled_object_paused", &so_a).is_empty());
    assert!(
        after
            .find(
                "keda_internal_scale_loop_latency_seconds",
                &[("resource", "a")]
            )
            .is_empty()
    );
    assert_eq!(
        after.value("keda_scaled_object_paused", &[("scaledObject", "b")]),
        0.0
    );
    assert_eq!(
        after.value(
            "keda_scaler_metrics_value",
            &[("scaledObject", "a"), ("type", "scaledjob")]
        ),
        7.0
    );

    // Recreated later, its series start again.
    t.record_scaler_metric(&a0, 3.0);
    let again = parse(&scrape(&srv.base, None).await.1);
    assert_eq!(again.find("keda_scaler_metrics_value", &a).len(), 1);
    srv.stop().await;
}

#[tokio::test]
async fn readyz_follows_the_readiness_flag_and_healthz_always_answers() {
    let readiness = Readiness::default();
    let srv = Server::start(health_router(readiness.clone())).await;
    let c = http_client();
    let get = |path: &str| c.get(format!("{}{path}", srv.base)).send();

    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/livez").await.unwrap().status(), 200);
    let r = get("/readyz").await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.text().await.unwrap(), "not ready: caches not synced");

    readiness.set_ready();
    assert!(readiness.is_ready());
    let r = get("/readyz").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");

    readiness.set_not_ready("lost the watch on scaledobjects");
    let r = get("/readyz").await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("lost the watch"));
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/metrics").await.unwrap().status(), 404);
    srv.stop().await;
}
