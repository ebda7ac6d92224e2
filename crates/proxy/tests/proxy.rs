//! `prescale sigv4-proxy` end to end on loopback: a client that cannot sign → the proxy → the AMP-like server of
//! `prescale-testkit`, whose SigV4 verifier is independent of the `aws-sigv4` crate the proxy signs with.

use std::time::Duration;

use prescale_aws::{AwsEnv, Credentials, CredentialsProvider, Secret};
use prescale_proxy::{DEFAULT_MAX_BODY_BYTES, ProxyConfig, serve, signing_scope};
use prescale_testkit::amp::{AmpConfig, AmpServer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const AKID: &str = "AKIDPROXYTEST";
const SECRET: &str = "proxy/secret+key";
const REGION: &str = "us-west-2";
const WS: &str = "ws-12345678-abcd";
const ANSWER: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.5"]}]}}"#;

fn config(host: Option<String>, credentials: CredentialsProvider) -> ProxyConfig {
    prescale_aws::install_crypto_provider();
    ProxyConfig {
        service: Some("aps".to_string()),
        region: Some(REGION.to_string()),
        default_region: None,
        host,
        sign_host: None,
        upstream_scheme: "http".to_string(),
        strip: Vec::new(),
        custom_headers: Vec::new(),
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        credentials,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

fn keys() -> CredentialsProvider {
    CredentialsProvider::fixed(Credentials::new_static(AKID, SECRET, "test"))
}

/// A running proxy: its base URL; stops when dropped.
struct Running {
    base: String,
    _stop: oneshot::Sender<()>,
}

async fn start(cfg: ProxyConfig) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(serve(
        listener,
        prescale_proxy::Proxy::new(cfg).unwrap(),
        async {
            let _ = rx.await;
        },
    ));
    Running { base, _stop: tx }
}

async fn amp() -> AmpServer {
    AmpServer::start(
        AmpConfig::new(REGION, WS)
            .with_key(AKID, SECRET)
            .with_query_answer(ANSWER),
    )
    .await
    .unwrap()
}

fn client() -> reqwest::Client {
    prescale_aws::install_crypto_provider();
    reqwest::Client::new()
}

/// `GET <proxy><path>`: the status and the body.
async fn get(proxy: &Running, path: &str) -> (u16, String) {
    let resp = client()
        .get(format!("{}{path}", proxy.base))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// The query every test sends unless it is about the query.
const QUERY_UP: &str = "/api/v1/query?query=up";

fn upstream_host(server: &AmpServer) -> String {
    server.url().trim_start_matches("http://").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keda_style_query_is_signed_and_verified() {
    let server = amp().await;
    let proxy = start(config(Some(upstream_host(&server)), keys())).await;
    // What KEDA sends through the proxy: Go's url.QueryEscape, spaces as '+', '+' as %2B.
    let url = format!(
        "{}/workspaces/{WS}/api/v1/query?query=sum%28rate%28ho11y_total%5B1m%5D%29%29+%2B+0&time=2024-01-18T12%3A34%3A56Z",
        proxy.base
    );
    let resp = client().get(&url).send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!((status, body.as_str()), (200, ANSWER));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    let verified = r
        .verification
        .as_ref()
        .expect("the AMP-like server verified the signature");
    assert_eq!(verified.access_key_id, AKID);
    assert_eq!(
        r.query.as_deref(),
        Some(
            "query=sum%28rate%28ho11y_total%5B1m%5D%29%29%20%2B%200&time=2024-01-18T12%3A34%3A56Z"
        )
    );
    assert!(verified.signed_headers.contains(&"host".to_string()));
    assert!(verified.signed_headers.contains(&"x-amz-date".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_write_body_is_covered_by_the_signature() {
    let server = amp().await;
    let proxy = start(config(Some(upstream_host(&server)), keys())).await;
    let body = vec![0xffu8, 0x00, 0x10, 0x42, b'+', b' '];
    let resp = client()
        .post(format!(
            "{}/workspaces/{WS}/api/v1/remote_write",
            proxy.base
        ))
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{:?}", server.rejected());
    let reqs = server.accepted();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].body, body);
    // The client's headers arrive (unsigned, as aws-sigv4-proxy sends them).
    assert_eq!(reqs[0].header("content-encoding"), Some("snappy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_credentials_send_a_signed_token() {
    let server = AmpServer::start(
        AmpConfig::new(REGION, WS)
            .with_session_key(AKID, SECRET, "session-token/abc=")
            .with_query_answer(ANSWER),
    )
    .await
    .unwrap();
    let mut creds = Credentials::new_static(AKID, SECRET, "test");
    creds.session_token = Some(Secret::new("session-token/abc="));
    let proxy = start(config(
        Some(upstream_host(&server)),
        CredentialsProvider::fixed(creds),
    ))
    .await;
    let (status, text) = get(&proxy, &format!("/workspaces/{WS}{QUERY_UP}")).await;
    assert_eq!(status, 200, "{text} {:?}", server.rejected());
    let v = server.accepted()[0].verification.clone().unwrap();
    assert!(
        v.signed_headers
            .contains(&"x-amz-security-token".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_host_is_sent_and_signed() {
    let server = amp().await;
    let mut cfg = config(Some(upstream_host(&server)), keys());
    cfg.sign_host = Some(format!("aps-workspaces.{REGION}.amazonaws.com"));
    let proxy = start(cfg).await;
    let (status, text) = get(&proxy, &format!("/workspaces/{WS}{QUERY_UP}")).await;
    assert_eq!(status, 200, "{text} {:?}", server.rejected());
    assert_eq!(
        server.accepted()[0].header("host"),
        Some(format!("aps-workspaces.{REGION}.amazonaws.com").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_keys_are_refused_by_the_server_and_passed_through() {
    let server = amp().await;
    let other = CredentialsProvider::fixed(Credentials::new_static(AKID, "not-the-secret", "test"));
    let proxy = start(config(Some(upstream_host(&server)), other)).await;
    let (status, text) = get(&proxy, &format!("/workspaces/{WS}{QUERY_UP}")).await;
    assert_eq!(status, 403);
    assert!(text.contains("signature"), "{text}");
    assert_eq!(server.rejected().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_nothing_is_forwarded() {
    let server = amp().await;
    // An empty environment with the instance metadata service off: the default chain has nothing.
    let env = AwsEnv::from_vars([("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string())])
        .with_home(std::env::temp_dir().join("prescale-proxy-test-no-home"));
    let chain = CredentialsProvider::default_chain(env, prescale_aws::http_client().unwrap());
    let proxy = start(config(Some(upstream_host(&server)), chain)).await;
    let (status, text) = get(&proxy, &format!("/workspaces/{WS}{QUERY_UP}")).await;
    assert_eq!(status, 502);
    assert!(text.starts_with("unable to proxy request - "), "{text}");
    assert!(
        text.contains("AWS_ACCESS_KEY_ID"),
        "names what was tried: {text}"
    );
    assert!(
        server.requests().is_empty(),
        "an unsigned request reached the server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_is_a_502_with_the_reason() {
    // A port with nothing listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let proxy = start(config(Some(format!("127.0.0.1:{port}")), keys())).await;
    let (status, text) = get(&proxy, QUERY_UP).await;
    assert_eq!(status, 502);
    assert!(text.starts_with("unable to proxy request - "), "{text}");
    assert!(text.to_lowercase().contains("connect"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_answered_locally() {
    let proxy = start(config(Some("127.0.0.1:1".to_string()), keys())).await;
    assert_eq!(get(&proxy, "/healthz").await, (200, "ok\n".to_string()));
}

#[test]
fn service_and_region_come_from_flags_or_the_host() {
    let mut cfg = config(None, keys());
    cfg.service = None;
    cfg.region = None;
    assert_eq!(
        signing_scope(&cfg, "aps-workspaces.eu-west-1.amazonaws.com").unwrap(),
        ("aps".to_string(), "eu-west-1".to_string())
    );
    let err = signing_scope(&cfg, "prometheus.example.com").unwrap_err();
    assert!(err.contains("--name"), "{err}");
    cfg.service = Some("aps".to_string());
    assert_eq!(
        signing_scope(&cfg, "prometheus.example.com").unwrap(),
        ("aps".to_string(), "us-east-1".to_string())
    );
    cfg.default_region = Some("ap-south-1".to_string());
    assert_eq!(
        signing_scope(&cfg, "prometheus.example.com").unwrap().1,
        "ap-south-1"
    );
    cfg.region = Some("sa-east-1".to_string());
    assert_eq!(
        signing_scope(&cfg, "aps-workspaces.eu-west-1.amazonaws.com").unwrap(),
        ("aps".to_string(), "sa-east-1".to_string())
    );
}

#[test]
fn listen_addresses_in_aws_sigv4_proxy_spelling() {
    use prescale_proxy::listen_address;
    assert_eq!(listen_address(":8080").unwrap().to_string(), "0.0.0.0:8080");
    assert_eq!(listen_address("8005").unwrap().to_string(), "0.0.0.0:8005");
    assert_eq!(
        listen_address("127.0.0.1:9").unwrap().to_string(),
        "127.0.0.1:9"
    );
    assert_eq!(listen_address("[::1]:80").unwrap().to_string(), "[::1]:80");
    assert_eq!(
        listen_address("localhost:80").unwrap_err(),
        "--port \"localhost:80\": expected a listen address such as :8080 or 127.0.0.1:8080"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_host_the_request_s_host_header_picks_the_upstream() {
    let server = amp().await;
    let proxy = start(config(None, keys())).await;
    // The compliance pattern: a client sends Host: <upstream> to the proxy's address.
    let resp = client()
        .get(format!("{}/workspaces/{WS}{QUERY_UP}", proxy.base))
        .header("Host", upstream_host(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{:?}", server.rejected());
    assert_eq!(server.accepted().len(), 1);
}

#[test]
fn a_fixed_host_without_a_signing_scope_is_refused_at_start() {
    let mut cfg = config(Some("prometheus.example.com".to_string()), keys());
    cfg.service = None;
    cfg.region = None;
    let err = prescale_proxy::Proxy::new(cfg).err().unwrap();
    assert!(
        err.starts_with("--host prometheus.example.com: unable to determine service from host"),
        "{err}"
    );
    let proxy = prescale_proxy::Proxy::new(config(
        Some("aps-workspaces.eu-west-1.amazonaws.com".into()),
        keys(),
    ))
    .unwrap();
    let t = proxy.fixed_target().unwrap();
    assert_eq!((t.service.as_str(), t.region.as_str()), ("aps", REGION));
}
