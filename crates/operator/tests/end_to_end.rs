//! The whole path of the reference architecture through prescale, without a cluster: a real Prometheus 2.42
//! holding `ho11y_total`, the seed ScaledObject (pointed at it) on the fake API server, the real operator
//! (controller, scale loop, Prometheus scaler), and the external metrics API over real TLS answering the
//! HPA controller's request through an authenticated front proxy.

#[path = "../../scalers/tests/support/servers.rs"]
mod servers;
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kube::runtime::reflector::Store;
use prescale_k8s::ScaledObject;
use prescale_operator::apiserver::{
    ALLOWED_NAMES_KEY, ApiServer, ApiServerConfig, CLIENT_CA_KEY, ClientAuth, FrontProxyAuth,
    GROUP_HEADERS_KEY, ServingCert, USERNAME_HEADERS_KEY,
};
use prescale_operator::clock::SystemClock;
use prescale_operator::context::{Context, OperatorConfig};
use prescale_operator::metrics_source::OperatorMetrics;
use prescale_operator::run::{Leadership, run_cache, run_operator};
use prescale_scalers::ScalerContext;
use prescale_testkit::apiserver::FakeApiServer;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use reqwest::{Certificate, Identity};
use serde_json::{Value, json};
use servers::{Server, ho11y_total};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The operator (leading alone) and its ScaledObject cache, running on a fake API server.
struct Operator {
    ctx: Arc<Context>,
    store: Store<ScaledObject>,
    /// Turns true at [`stop`](Self::stop).
    shutdown: watch::Receiver<bool>,
    shutdown_tx: watch::Sender<bool>,
    operator: JoinHandle<()>,
    cache: JoinHandle<()>,
}

/// Starts the operator and its cache on `api` with the default configuration and the system clock.
fn start_operator(api: &FakeApiServer) -> Operator {
    let ctx = Context::new(
        api.client(),
        OperatorConfig::default(),
        Arc::new(SystemClock),
        Arc::new(ScalerContext::new()),
    );
    let (shutdown_tx, shutdown) = watch::channel(false);
    let (leader_tx, _) = watch::channel(false);
    let operator = tokio::spawn(run_operator(
        ctx.clone(),
        Leadership::Always,
        leader_tx,
        shutdown.clone(),
    ));
    let (store, writer) = kube::runtime::reflector::store();
    let cache = tokio::spawn(run_cache(ctx.clone(), writer, None, shutdown.clone()));
    Operator {
        ctx,
        store,
        shutdown,
        shutdown_tx,
        operator,
        cache,
    }
}

impl Operator {
    /// Signals shutdown and waits for the operator and the cache to end.
    async fn stop(self) {
        self.shutdown_tx.send(true).unwrap();
        self.operator.await.unwrap();
        self.cache.await.unwrap();
    }
}

fn front_proxy_pki() -> (ClientAuth, String, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "front-proxy-ca");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "front-proxy-client");
    let cert = leaf.signed_by(&key, &ca).unwrap();
    // The ConfigMap kube-apiserver publishes in kube-system/extension-apiserver-authentication.
    let data = BTreeMap::from([
        (CLIENT_CA_KEY.to_string(), ca.pem()),
        (
            ALLOWED_NAMES_KEY.to_string(),
            r#"["front-proxy-client"]"#.to_string(),
        ),
        (
            USERNAME_HEADERS_KEY.to_string(),
            r#"["X-Remote-User"]"#.to_string(),
        ),
        (
            GROUP_HEADERS_KEY.to_string(),
            r#"["X-Remote-Group"]"#.to_string(),
        ),
    ]);
    let auth = ClientAuth::FrontProxy(FrontProxyAuth::from_config_map(&data).unwrap());
    (auth, cert.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_to_the_hpa_through_the_operator_and_the_external_metrics_api() {
    prescale_aws::install_crypto_provider();
    // Prometheus with ho11y_total rising 1.5/s up to now (blocking setup off the async workers).
    let Some(prom) = tokio::task::spawn_blocking(|| {
        let prom = Server::prometheus()?;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let (code, body) = prom.remote_write(&[ho11y_total("i-0", now_ms, 22.5)]);
        assert!(code / 100 == 2, "remote write: {code} {body}");
        prom.flush();
        Some(prom)
    })
    .await
    .unwrap() else {
        return;
    };

    let api = FakeApiServer::new(Arc::new(SystemTime::now) as prescale_testkit::apiserver::Clock);
    api.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ho11y"}}))
        .unwrap();
    api.put(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "downstream0", "namespace": "ho11y"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "downstream0"}},
                 "template": {"metadata": {"labels": {"app": "downstream0"}},
                              "spec": {"containers": [{"name": "ho11y", "image": "ho11y"}]}}},
        "status": {"replicas": 1, "readyReplicas": 1}
    }))
    .unwrap();
    // The seed ScaledObject, on the local Prometheus instead of AMP (SigV4 has its own end-to-end test:
    // crates/cli/tests/check_sigv4.rs).
    let mut so: Value = support::seed_scaled_object();
    let meta = &mut so["spec"]["triggers"][0]["metadata"];
    meta["serverAddress"] = json!(prom.base);
    meta["query"] = json!(r#"rate(ho11y_total{instance="i-0"}[1m])"#);
    meta.as_object_mut().unwrap().remove("awsRegion");
    meta.as_object_mut().unwrap().remove("identityOwner");
    api.put(so).unwrap();

    let op = start_operator(&api);

    let (auth, proxy_cert, proxy_key) = front_proxy_pki();
    let cert = ServingCert::generate("prescale-metrics-apiserver", "keda").unwrap();
    let server_pem = cert.cert_pem().to_string();
    let server = ApiServer::new(ApiServerConfig {
        cert,
        auth,
        source: Arc::new(OperatorMetrics::new(op.ctx.clone(), op.store.clone())),
        telemetry: Some(op.ctx.telemetry.clone()),
        readiness: None,
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let serving = {
        let server = server.clone();
        let mut stop = op.shutdown.clone();
        tokio::spawn(async move {
            server
                .serve(listener, async move {
                    let _ = stop.changed().await;
                })
                .await
        })
    };

    // The HPA KEDA would create appears.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while api
        .get(
            "autoscaling",
            "horizontalpodautoscalers",
            Some("ho11y"),
            "keda-hpa-ho11y-hpa",
        )
        .is_none()
    {
        assert!(tokio::time::Instant::now() < deadline, "no HPA");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The HPA controller's request, as the aggregator forwards it.
    let client = reqwest::Client::builder()
        .tls_certs_only([Certificate::from_pem(server_pem.as_bytes()).unwrap()])
        .identity(Identity::from_pem(format!("{proxy_cert}{proxy_key}").as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!(
        "https://localhost:{port}/apis/external.metrics.k8s.io/v1beta1/namespaces/ho11y/s0-prometheus\
         ?labelSelector=scaledobject.keda.sh%2Fname%3Dho11y-hpa"
    );
    let mut body = Value::Null;
    while tokio::time::Instant::now() < deadline {
        let r = client
            .get(&url)
            .header(
                "X-Remote-User",
                "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
            )
            .header("X-Remote-Group", "system:authenticated")
            .send()
            .await
            .unwrap();
        let status = r.status();
        body = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        if status.is_success() {
            break;
        }
        // The cache may not have the ScaledObject yet.
        assert_eq!(status.as_u16(), 404, "{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(body["kind"], "ExternalMetricValueList", "{body}");
    assert_eq!(body["items"][0]["metricName"], "s0-prometheus");
    // rate(ho11y_total[1m]) over a counter rising 22.5 every 15 s: 1.5/s, as a milli-quantity.
    assert_eq!(body["items"][0]["value"], "1500m", "{body}");

    // The scale loop polled Prometheus too: the ScaledObject is Ready and Active, its status as KEDA writes it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let so = api
            .get("keda.sh", "scaledobjects", Some("ho11y"), "ho11y-hpa")
            .unwrap();
        let conds = so["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let status_of = |t: &str| {
            conds
                .iter()
                .find(|c| c["type"] == t)
                .map(|c| c["status"].clone())
        };
        if status_of("Ready") == Some(json!("True")) && status_of("Active") == Some(json!("True")) {
            assert_eq!(
                so["status"]["triggersActivity"]["s0-prometheus"]["isActive"],
                true
            );
            assert!(so["status"]["lastActiveTime"].is_string());
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not active: {so}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    op.stop().await;
    serving.await.unwrap().unwrap();
    tokio::task::spawn_blocking(move || drop(prom))
        .await
        .unwrap();
}

/// The proactive policy on a real Prometheus holding an hour of a ramp: the leader's loop bootstraps the
/// forecaster with `query_range`, and the value served to the HPA (through the metric source behind the
/// external metrics API) comes from the forecast, above the current query result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proactive_object_bootstraps_from_prometheus_and_serves_the_forecast() {
    use prescale_operator::apiserver::MetricSource;
    use prescale_operator::external_metrics::MetricRequest;
    prescale_aws::install_crypto_provider();
    // queue_depth: one sample every 15 s over the last hour, +1 per sample, ending now at 250.
    let Some((prom, now_ms)) = tokio::task::spawn_blocking(|| {
        let prom = Server::prometheus()?;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let samples: Vec<(i64, f64)> = (0..=240)
            .map(|k| (now_ms - (240 - k) * 15_000, 10.0 + k as f64))
            .collect();
        let series = prescale_promwire::Series::new(
            &[("__name__", "queue_depth"), ("instance", "i-1")],
            &samples,
        );
        let (code, body) = prom.remote_write(&[series]);
        assert!(code / 100 == 2, "remote write: {code} {body}");
        prom.flush();
        Some((prom, now_ms))
    })
    .await
    .unwrap() else {
        return;
    };
    let api = FakeApiServer::new(Arc::new(SystemTime::now) as prescale_testkit::apiserver::Clock);
    api.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}))
        .unwrap();
    api.put(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "web"}]}}},
        "status": {"replicas": 1, "readyReplicas": 1}
    }))
    .unwrap();
    api.put(json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": "so", "namespace": "shop", "annotations": {
            "prescale.dev/forecast": "trend",
            "prescale.dev/forecast-season": "none",
            "prescale.dev/forecast-history": "1h",
        }},
        "spec": {
            "scaleTargetRef": {"name": "web"},
            "pollingInterval": 30,
            "triggers": [{"type": "prometheus", "metadata": {
                "serverAddress": prom.base, "query": r#"queue_depth{instance="i-1"}"#, "threshold": "10"
            }}]
        }
    }))
    .unwrap();
    let op = start_operator(&api);
    // The first poll bootstraps and decides: the status says the forecast won.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        let so = api
            .get("keda.sh", "scaledobjects", Some("shop"), "so")
            .unwrap();
        let p = so["status"]["proactive"][0].clone();
        if p["winner"].is_string() {
            break p;
        }
        assert!(tokio::time::Instant::now() < deadline, "no decision: {so}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status["winner"], "forecast", "{status}");
    // The newest sample may not be visible yet to the first poll: the current value is 249 or 250.
    let current: f64 = status["current"].as_str().unwrap().parse().unwrap();
    assert!((249.0..=250.0).contains(&current), "{status}");
    let source = OperatorMetrics::new(op.ctx.clone(), op.store.clone());
    let request = MetricRequest {
        namespace: "shop".into(),
        metric: "s0-prometheus".into(),
        scaled_object: "so".into(),
        selector: [("scaledobject.keda.sh/name".to_string(), "so".to_string())].into(),
    };
    let mut answer = source.external_metric(request.clone()).await;
    while answer.is_err() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer = source.external_metric(request.clone()).await;
    }
    let values = answer.expect("a value");
    // +1 per 15 s: over the 75 s lead the ramp reaches ~255; the served value is the forecast, above the
    // current query result (at most 250).
    assert!(
        values[0].value > 251.0 && values[0].value < 280.0,
        "{} (history ending {now_ms})",
        values[0].value
    );
    op.stop().await;
    tokio::task::spawn_blocking(move || drop(prom))
        .await
        .unwrap();
}
