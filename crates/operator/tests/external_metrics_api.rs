//! The external metrics API server over real TLS on loopback: front-proxy authentication, the HPA's read,
//! discovery, errors as Kubernetes `Status`, certificates from files or generated, and a requestheader CA swap.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use prescale_core::time::Timestamp;
use prescale_operator::apiserver::{
    ALLOWED_NAMES_KEY, ApiServer, ApiServerConfig, CLIENT_CA_KEY, ClientAuth, ExternalMetricValue,
    FrontProxyAuth, GROUP_HEADERS_KEY, MetricError, MetricFuture, MetricRequest, MetricSource,
    Readiness, ServingCert, USERNAME_HEADERS_KEY,
};
use prescale_operator::telemetry::Telemetry;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use reqwest::{Certificate, Client, Identity, StatusCode};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const METRIC_PATH: &str = "/apis/external.metrics.k8s.io/v1beta1/namespaces/ho11y/s0-prometheus";
const SELECTOR: &str = "labelSelector=scaledobject.keda.sh%2Fname%3Dho11y-hpa";

fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A test certificate authority.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Ca {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// `(certificate PEM, key PEM)` of a leaf with `cn` and the DNS/IP `names`.
    fn leaf(&self, cn: &str, names: Vec<String>) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// The ConfigMap `kube-system/extension-apiserver-authentication` as kube-apiserver writes it.
fn config_map(ca: &Ca, allowed: &[&str]) -> BTreeMap<String, String> {
    let mut data = BTreeMap::new();
    data.insert(CLIENT_CA_KEY.to_string(), ca.pem());
    data.insert(
        ALLOWED_NAMES_KEY.to_string(),
        serde_json::to_string(allowed).unwrap(),
    );
    data.insert(
        USERNAME_HEADERS_KEY.to_string(),
        r#"["X-Remote-User"]"#.to_string(),
    );
    data.insert(
        GROUP_HEADERS_KEY.to_string(),
        r#"["X-Remote-Group"]"#.to_string(),
    );
    data.insert(
        "requestheader-extra-headers-prefix".to_string(),
        r#"["X-Remote-Extra-"]"#.to_string(),
    );
    data
}

/// A source with one ScaledObject `ho11y/ho11y-hpa` whose `s0-prometheus` is 1.5 and whose `s1-broken` fails;
/// it records what it was asked.
fn source(seen: Arc<Mutex<Vec<MetricRequest>>>) -> Arc<dyn MetricSource> {
    struct Source(Arc<Mutex<Vec<MetricRequest>>>);
    impl MetricSource for Source {
        fn external_metric(&self, request: MetricRequest) -> MetricFuture {
            self.0.lock().unwrap().push(request.clone());
            Box::pin(async move {
                if request.namespace != "ho11y" || request.scaled_object != "ho11y-hpa" {
                    return Err(MetricError::scaled_object_not_found(&request.scaled_object));
                }
                match request.metric.as_str() {
                    "s0-prometheus" => Ok(vec![ExternalMetricValue {
                        metric_name: request.metric.clone(),
                        metric_labels: BTreeMap::new(),
                        value: 1.5,
                        timestamp: Timestamp::from_secs(1_767_225_599),
                    }]),
                    "s1-broken" => Err(MetricError::Internal(
                        "error getting metrics from scaler: connection refused".to_string(),
                    )),
                    m => Err(MetricError::no_matching_metric(m)),
                }
            })
        }
        fn metric_names(&self) -> Vec<String> {
            vec!["s0-prometheus".to_string(), "s1-broken".to_string()]
        }
    }
    Arc::new(Source(seen))
}

struct Running {
    server: ApiServer,
    /// `https://localhost:<port>`
    base: String,
    port: u16,
    cert_pem: String,
    seen: Arc<Mutex<Vec<MetricRequest>>>,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.done.await.unwrap();
    }
}

async fn start_with(
    cert: ServingCert,
    auth: ClientAuth,
    telemetry: Option<Telemetry>,
    readiness: Option<Readiness>,
) -> Running {
    install_provider();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let cert_pem = cert.cert_pem().to_string();
    let server = ApiServer::new(ApiServerConfig {
        cert,
        auth,
        source: source(seen.clone()),
        telemetry,
        readiness,
    })
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = oneshot::channel::<()>();
    let s = server.clone();
    let done = tokio::spawn(async move {
        s.serve(listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Running {
        server,
        base: format!("https://localhost:{port}"),
        port,
        cert_pem,
        seen,
        stop: Some(tx),
        done,
    }
}

async fn start(auth: ClientAuth) -> Running {
    let cert = ServingCert::generate("prescale-metrics-apiserver", "keda").unwrap();
    start_with(cert, auth, None, None).await
}

/// A client trusting only `server_pem`, presenting `identity` (certificate, key) when given.
fn client(server_pem: &str, identity: Option<&(String, String)>) -> Client {
    install_provider();
    let mut b =
        Client::builder().tls_certs_only([Certificate::from_pem(server_pem.as_bytes()).unwrap()]);
    if let Some((cert, key)) = identity {
        b = b.identity(Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap());
    }
    b.build().unwrap()
}

/// The request the aggregator forwards for the HPA controller.
async fn hpa_get(c: &Client, url: &str) -> Result<reqwest::Response, reqwest::Error> {
    c.get(url)
        .header(
            "X-Remote-User",
            "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
        )
        .header("X-Remote-Group", "system:serviceaccounts")
        .header("X-Remote-Group", "system:authenticated")
        .header("Accept", "application/json")
        .send()
        .await
}

async fn json(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let body = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

fn front_proxy(ca: &Ca, allowed: &[&str]) -> ClientAuth {
    ClientAuth::FrontProxy(FrontProxyAuth::from_config_map(&config_map(ca, allowed)).unwrap())
}

#[tokio::test]
async fn the_hpa_read_through_the_front_proxy_gets_milli_values() {
    let ca = Ca::new("front-proxy-ca");
    let proxy = ca.leaf("front-proxy-client", vec![]);
    let s = start(front_proxy(&ca, &["front-proxy-client"])).await;
    let c = client(&s.cert_pem, Some(&proxy));
    let r = hpa_get(&c, &format!("{}{METRIC_PATH}?{SELECTOR}", s.base))
        .await
        .unwrap();
    // ALPN picked HTTP/2, as with the aggregator.
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.headers()["content-type"], "application/json");
    let (status, body) = json(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "ExternalMetricValueList");
    assert_eq!(body["apiVersion"], "external.metrics.k8s.io/v1beta1");
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["metricName"], "s0-prometheus");
    assert_eq!(items[0]["value"], "1500m");
    assert_eq!(items[0]["timestamp"], "2025-12-31T23:59:59Z");
    let seen = s.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].namespace, "ho11y");
    assert_eq!(seen[0].metric, "s0-prometheus");
    assert_eq!(seen[0].scaled_object, "ho11y-hpa");
    s.stop().await;
}

#[tokio::test]
async fn without_a_client_certificate_only_the_probes_answer() {
    let ca = Ca::new("front-proxy-ca");
    let s = start(front_proxy(&ca, &[])).await;
    let c = client(&s.cert_pem, None);
    for probe in ["/healthz", "/livez", "/readyz"] {
        let r = c.get(format!("{}{probe}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{probe}");
    }
    let (status, body) = json(
        hpa_get(&c, &format!("{}{METRIC_PATH}?{SELECTOR}", s.base))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "Unauthorized");
    assert_eq!(body["message"], "Unauthorized");
    assert_eq!(body["code"], 401);
    // Discovery needs authentication too.
    let r = hpa_get(
        &c,
        &format!("{}/apis/external.metrics.k8s.io/v1beta1", s.base),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(s.seen.lock().unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_rejected() {
    let ca = Ca::new("front-proxy-ca");
    let other = Ca::new("front-proxy-ca");
    let impostor = other.leaf("front-proxy-client", vec![]);
    let s = start(front_proxy(&ca, &["front-proxy-client"])).await;
    let c = client(&s.cert_pem, Some(&impostor));
    let r = hpa_get(&c, &format!("{}{METRIC_PATH}?{SELECTOR}", s.base)).await;
    // The handshake verifier refuses the chain (a TLS alert); were it let through, the request would be 401.
    match r {
        Err(_) => {}
        Ok(r) => assert_eq!(r.status(), StatusCode::UNAUTHORIZED),
    }
    assert!(s.seen.lock().unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn a_proxy_not_in_allowed_names_is_forbidden_and_a_missing_user_unauthorized() {
    let ca = Ca::new("front-proxy-ca");
    let stranger = ca.leaf("some-other-client", vec![]);
    let proxy = ca.leaf("front-proxy-client", vec![]);
    let s = start(front_proxy(&ca, &["front-proxy-client", "aggregator"])).await;
    let url = format!("{}{METRIC_PATH}?{SELECTOR}", s.base);
    let (status, body) = json(
        hpa_get(&client(&s.cert_pem, Some(&stranger)), &url)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["reason"], "Forbidden");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("some-other-client"),
        "{body}"
    );
    // The right proxy, but no X-Remote-User.
    let r = client(&s.cert_pem, Some(&proxy))
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(s.seen.lock().unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn insecure_mode_serves_without_a_certificate() {
    let s = start(ClientAuth::Insecure).await;
    let c = client(&s.cert_pem, None);
    let (status, body) = json(
        c.get(format!("{}{METRIC_PATH}?{SELECTOR}", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["value"], "1500m");
    // HTTP/1.1 is served too (ALPN offers both).
    let h1 = Client::builder()
        .tls_certs_only([Certificate::from_pem(s.cert_pem.as_bytes()).unwrap()])
        .http1_only()
        .build()
        .unwrap();
    let r = h1
        .get(format!("{}{METRIC_PATH}?{SELECTOR}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_11);
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn discovery_and_openapi_documents() {
    let ca = Ca::new("front-proxy-ca");
    let proxy = ca.leaf("front-proxy-client", vec![]);
    let s = start(front_proxy(&ca, &[])).await;
    let c = client(&s.cert_pem, Some(&proxy));
    let get = |path: &str| {
        let url = format!("{}{path}", s.base);
        let c = c.clone();
        async move {
            // The aggregator's availability check: its own identity, system:masters.
            let r = c
                .get(url)
                .header("X-Remote-User", "system:kube-aggregator")
                .header("X-Remote-Group", "system:masters")
                .send()
                .await
                .unwrap();
            json(r).await
        }
    };
    let (status, apis) = get("/apis").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(apis["kind"], "APIGroupList");
    assert_eq!(apis["groups"][0]["name"], "external.metrics.k8s.io");
    let (status, group) = get("/apis/external.metrics.k8s.io").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(group["kind"], "APIGroup");
    assert_eq!(
        group["preferredVersion"]["groupVersion"],
        "external.metrics.k8s.io/v1beta1"
    );
    let (status, list) = get("/apis/external.metrics.k8s.io/v1beta1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["kind"], "APIResourceList");
    let names: Vec<&str> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["s0-prometheus", "s1-broken"]);
    let (status, v2) = get("/openapi/v2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v2["swagger"], "2.0");
    assert!(v2["paths"].is_object());
    let (status, v3) = get("/openapi/v3").await;
    assert_eq!(status, StatusCode::OK);
    assert!(v3["paths"].as_object().unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn errors_are_kubernetes_statuses() {
    let ca = Ca::new("front-proxy-ca");
    let proxy = ca.leaf("front-proxy-client", vec![]);
    let s = start(front_proxy(&ca, &[])).await;
    let c = client(&s.cert_pem, Some(&proxy));
    let base = format!("{}/apis/external.metrics.k8s.io/v1beta1/namespaces", s.base);
    let cases: Vec<(String, u16, &str, &str)> = vec![
        (
            format!("{base}/ho11y/s0-prometheus?labelSelector=scaledobject.keda.sh%2Fname%3Dnope"),
            404,
            "NotFound",
            "scaledobjects.keda.sh \"nope\" not found",
        ),
        (
            format!("{base}/ho11y/s9-unknown?{SELECTOR}"),
            404,
            "NotFound",
            "no matching metrics found for s9-unknown",
        ),
        (
            format!("{base}/ho11y/s1-broken?{SELECTOR}"),
            500,
            "InternalError",
            "error getting metrics from scaler: connection refused",
        ),
        (
            format!(
                "{base}/ho11y/s0-prometheus?labelSelector=scaledobject.keda.sh%2Fname+in+%28a%29"
            ),
            400,
            "BadRequest",
            "invalid labelSelector",
        ),
        (
            format!("{base}/ho11y/s0-prometheus?labelSelector=app%3Dx"),
            500,
            "InternalError",
            "scaledObject name is not specified",
        ),
        (
            format!("{}/apis/custom.metrics.k8s.io/v1beta1", s.base),
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
        (
            format!("{base}/ho11y"),
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
    ];
    for (url, code, reason, message) in cases {
        let (status, body) = json(hpa_get(&c, &url).await.unwrap()).await;
        assert_eq!(status.as_u16(), code, "{url}: {body}");
        assert_eq!(body["kind"], "Status", "{url}");
        assert_eq!(body["status"], "Failure", "{url}");
        assert_eq!(body["code"], code, "{url}");
        assert_eq!(body["reason"], reason, "{url}");
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "{url}: {body}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn the_serving_certificate_comes_from_files_or_is_generated() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    // Empty directory: generated for the Service names.
    let generated =
        ServingCert::load_or_generate(dir.path(), "prescale-metrics-apiserver", "keda").unwrap();
    assert!(generated.is_generated());

    // Files from a CA, for the Service's DNS name (as cert-manager would issue them).
    let ca = Ca::new("serving-ca");
    let svc = "prescale-metrics-apiserver.keda.svc";
    let (cert, key) = ca.leaf(svc, vec![svc.to_string()]);
    std::fs::write(dir.path().join("tls.crt"), &cert).unwrap();
    std::fs::write(dir.path().join("tls.key"), &key).unwrap();
    let from_files =
        ServingCert::load_or_generate(dir.path(), "prescale-metrics-apiserver", "keda").unwrap();
    assert!(!from_files.is_generated());
    let s = start_with(from_files, ClientAuth::Insecure, None, None).await;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], s.port));
    let c = Client::builder()
        .tls_certs_only([Certificate::from_pem(ca.pem().as_bytes()).unwrap()])
        .resolve(svc, addr)
        .build()
        .unwrap();
    let r = c
        .get(format!("https://{svc}:{}{METRIC_PATH}?{SELECTOR}", s.port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A client trusting the generated certificate instead does not trust this server.
    let wrong = client(generated.cert_pem(), None)
        .get(format!("{}/healthz", s.base))
        .send()
        .await;
    assert!(wrong.is_err());
    s.stop().await;

    // The generated certificate is what a client verifies against (its PEM is the trust anchor).
    let s = start_with(generated.clone(), ClientAuth::Insecure, None, None).await;
    assert_eq!(s.cert_pem, generated.cert_pem());
    let r = client(generated.cert_pem(), None)
        .get(format!("https://127.0.0.1:{}/healthz", s.port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await;
}

#[test]
fn unusable_certificate_files_are_named_without_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("serving-ca");
    let (cert, key) = ca.leaf("x", vec!["x".to_string()]);
    let crt_path = dir.path().join("tls.crt");
    let key_path = dir.path().join("tls.key");
    let load = || ServingCert::load_or_generate(dir.path(), "svc", "ns");

    // Only the certificate: the missing key is named.
    std::fs::write(&crt_path, &cert).unwrap();
    let e = load().unwrap_err().to_string();
    assert!(e.contains("tls.key") && e.contains("missing"), "{e}");

    // A key file that is not PEM.
    std::fs::write(&key_path, "-----BEGIN NONSENSE-----\nc2VjcmV0\n").unwrap();
    let e = load().unwrap_err().to_string();
    assert!(e.contains(&key_path.display().to_string()), "{e}");
    assert!(!e.contains("c2VjcmV0"), "{e}");

    // A key of another certificate.
    let (_, other_key) = ca.leaf("y", vec!["y".to_string()]);
    std::fs::write(&key_path, &other_key).unwrap();
    let e = load().unwrap_err().to_string();
    assert!(e.contains("does not match"), "{e}");
    let body: String = other_key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!e.contains(&body[..20]), "{e}");

    // A certificate file that is not PEM.
    std::fs::write(&crt_path, "hello").unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let e = load().unwrap_err().to_string();
    assert!(e.contains(&crt_path.display().to_string()), "{e}");

    // Both fine.
    std::fs::write(&crt_path, &cert).unwrap();
    assert!(!load().unwrap().is_generated());
}

#[tokio::test]
async fn a_requestheader_ca_swap_takes_effect_without_restart() {
    let old_ca = Ca::new("front-proxy-ca-1");
    let new_ca = Ca::new("front-proxy-ca-2");
    let old_proxy = old_ca.leaf("front-proxy-client", vec![]);
    let new_proxy = new_ca.leaf("front-proxy-client", vec![]);
    let s = start(front_proxy(&old_ca, &["front-proxy-client"])).await;
    let url = format!("{}{METRIC_PATH}?{SELECTOR}", s.base);
    let old_client = client(&s.cert_pem, Some(&old_proxy));
    let new_client = client(&s.cert_pem, Some(&new_proxy));
    assert_eq!(
        hpa_get(&old_client, &url).await.unwrap().status(),
        StatusCode::OK
    );
    let rejected = |r: Result<reqwest::Response, reqwest::Error>| match r {
        Err(_) => true,
        Ok(r) => r.status() == StatusCode::UNAUTHORIZED,
    };
    assert!(rejected(hpa_get(&new_client, &url).await));

    // The ConfigMap changes: the new CA is in force for new and open connections alike.
    s.server
        .set_client_auth(front_proxy(&new_ca, &["front-proxy-client"]))
        .unwrap();
    let fresh_new_client = client(&s.cert_pem, Some(&new_proxy));
    assert_eq!(
        hpa_get(&fresh_new_client, &url).await.unwrap().status(),
        StatusCode::OK
    );
    // `old_client` still holds its HTTP/2 connection, verified against the old CA at its handshake: the
    // per-request check against the current CA refuses it.
    let r = hpa_get(&old_client, &url).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // And a new connection with the old CA's certificate fails its handshake (or would be 401).
    let fresh_old_client = client(&s.cert_pem, Some(&old_proxy));
    assert!(rejected(hpa_get(&fresh_old_client, &url).await));

    // A swap to an unusable configuration is refused and leaves the current one in force.
    let bad = FrontProxyAuth::new("not pem", vec![], &[], &[], &[]);
    assert!(bad.is_err());
    assert_eq!(
        hpa_get(&fresh_new_client, &url).await.unwrap().status(),
        StatusCode::OK
    );
    s.stop().await;
}

#[tokio::test]
async fn requests_are_counted_and_readyz_follows_readiness() {
    let ca = Ca::new("front-proxy-ca");
    let proxy = ca.leaf("front-proxy-client", vec![]);
    let telemetry = Telemetry::new();
    let readiness = Readiness::new("caches not synced");
    let cert = ServingCert::generate("prescale-metrics-apiserver", "keda").unwrap();
    let s = start_with(
        cert,
        front_proxy(&ca, &[]),
        Some(telemetry.clone()),
        Some(readiness.clone()),
    )
    .await;
    let anonymous = client(&s.cert_pem, None);
    let r = anonymous
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text().await.unwrap().contains("caches not synced"));
    readiness.set_ready();
    let r = anonymous
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let url = format!("{}{METRIC_PATH}?{SELECTOR}", s.base);
    let c = client(&s.cert_pem, Some(&proxy));
    for _ in 0..2 {
        assert_eq!(hpa_get(&c, &url).await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        hpa_get(&anonymous, &url).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let text = telemetry.encode_openmetrics();
    assert!(
        text.contains("prescale_external_metrics_requests_total{code=\"200\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("prescale_external_metrics_requests_total{code=\"401\"} 1\n"),
        "{text}"
    );
    // Probes are not API requests.
    assert!(!text.contains("code=\"503\""), "{text}");
    s.stop().await;
}
