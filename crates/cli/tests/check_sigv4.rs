//! `prescale check` with AWS SigV4 against a loopback AMP-like server (`prescale-testkit`, whose verifier is a
//! SigV4 implementation independent of the `aws-sigv4` crate prescale signs with) that forwards accepted
//! queries to a real Prometheus 2.42 holding `ho11y_total`:
//! - direct: the ScaledObject's trigger signs with keys from a TriggerAuthentication (`--secrets`) or with the
//!   operator chain (`identityOwner: operator` and `AWS_*` in the environment);
//! - through `prescale sigv4-proxy`: the seed ScaledObject, pointed at the proxy with `--server-address`, sends
//!   plain queries that the proxy signs.
//!
//! Needs `PRESCALE_PROMETHEUS_BIN` (see `crates/scalers/tests/support/servers.rs`).

#[path = "../../scalers/tests/support/servers.rs"]
mod servers;
mod support {
    pub mod cli;
}

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prescale_testkit::amp::{AmpConfig, AmpServer};
use serde_json::Value;
use servers::{Server, client, ho11y_total};
use support::cli::{amp_keys_yaml, aws_isolated, json_ok};

const AKID: &str = "AKIDCHECKSIGV4";
const SECRET: &str = "check/sigv4+secret";
const REGION: &str = "eu-central-1";
const WS: &str = "ws-5eed0000-0001";

/// Prometheus with one `ho11y_total` series rising by 10 every 15 s, behind a verifying AMP-like server.
fn setup() -> Option<(Server, AmpServer)> {
    let prometheus = Server::prometheus()?;
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1;
    let end_ms = i64::try_from(secs).unwrap() * 1000;
    let (status, body) = prometheus.remote_write(&[ho11y_total("a:8765", end_ms, 10.0)]);
    assert_eq!((status, body.as_str()), (204, ""), "remote write");
    prometheus.wait_visible(1, UNIX_EPOCH + Duration::from_secs(secs));
    let amp = AmpServer::start_blocking(
        AmpConfig::new(REGION, WS)
            .with_key(AKID, SECRET)
            .with_backend(prometheus.base.clone()),
    )
    .unwrap();
    Some((prometheus, amp))
}

/// The value Prometheus itself gives for the trigger's query at the evaluation instant of `report`.
fn prometheus_value(prometheus: &Server, report: &Value) -> f64 {
    let params = form_urlencoded::Serializer::new(String::new())
        .append_pair("query", "rate(ho11y_total[1m])")
        .append_pair("time", report["time"].as_str().unwrap())
        .finish();
    let resp = client()
        .get(format!("{}/api/v1/query?{params}", prometheus.base))
        .send()
        .unwrap();
    let json: Value = serde_json::from_slice(&resp.bytes().unwrap()).unwrap();
    json["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn scaled_object(server_address: &str, extra_metadata: &str, auth_ref: &str) -> String {
    format!(
        r#"apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: ho11y-hpa
  namespace: ho11y
spec:
  scaleTargetRef:
    name: downstream0
  minReplicaCount: 1
  maxReplicaCount: 10
  triggers:
    - type: prometheus
      metadata:
        serverAddress: {server_address}
        awsRegion: {REGION}
        threshold: '1'
        query: rate(ho11y_total[1m]){extra_metadata}{auth_ref}
"#
    )
}

#[test]
fn keys_from_a_trigger_authentication_sign_the_query_directly() {
    let Some((prometheus, amp)) = setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let so = dir.path().join("so.yaml");
    std::fs::write(
        &so,
        scaled_object(
            &amp.workspace_url(),
            "",
            "\n      authenticationRef:\n        name: amp-keys",
        ),
    )
    .unwrap();
    let secrets = dir.path().join("secrets.yaml");
    std::fs::write(&secrets, amp_keys_yaml("ho11y", AKID, SECRET)).unwrap();
    let out = aws_isolated(dir.path(), &[])
        .arg("check")
        .arg("-f")
        .arg(&so)
        .arg("--secrets")
        .arg(&secrets)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json = json_ok(&out);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(SECRET));
    let trigger = &json["triggers"][0];
    assert_eq!(
        trigger["value"].as_f64().unwrap(),
        prometheus_value(&prometheus, &json),
        "{json}"
    );
    assert!(
        trigger["sigv4"]
            .as_str()
            .unwrap()
            .starts_with("service aps, region eu-central-1")
    );
    assert_eq!(amp.accepted().len(), 1, "{:?}", amp.rejected());
    assert!(amp.rejected().is_empty());
    assert_eq!(json["hpa"]["desiredReplicas"], 1, "{json}");
}

#[test]
fn identity_owner_operator_signs_with_the_process_credentials() {
    let Some((prometheus, amp)) = setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let so = dir.path().join("so.yaml");
    std::fs::write(
        &so,
        scaled_object(
            &amp.workspace_url(),
            "\n        identityOwner: operator",
            "",
        ),
    )
    .unwrap();
    let out = aws_isolated(
        dir.path(),
        &[
            ("AWS_ACCESS_KEY_ID", AKID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
        ],
    )
    .arg("check")
    .arg("-f")
    .arg(&so)
    .args(["--format", "json"])
    .output()
    .unwrap();
    let json = json_ok(&out);
    assert_eq!(
        json["triggers"][0]["value"].as_f64().unwrap(),
        prometheus_value(&prometheus, &json)
    );
    assert_eq!(amp.accepted().len(), 1, "{:?}", amp.rejected());

    // Wrong keys: the server refuses, check says so and exits 1.
    let out = aws_isolated(
        dir.path(),
        &[
            ("AWS_ACCESS_KEY_ID", AKID),
            ("AWS_SECRET_ACCESS_KEY", "wrong"),
        ],
    )
    .arg("check")
    .arg("-f")
    .arg(&so)
    .args(["--format", "json"])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = json["triggers"][0]["error"].as_str().unwrap();
    assert!(error.contains("status: 403"), "{error}");
    assert_eq!(amp.rejected().len(), 1);
}

/// A running `prescale sigv4-proxy`, killed on drop.
struct Proxy {
    child: Child,
    base: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_proxy(home: &Path, amp: &AmpServer) -> Proxy {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let upstream = amp.url().trim_start_matches("http://").to_string();
    let child = aws_isolated(
        home,
        &[
            ("AWS_ACCESS_KEY_ID", AKID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
        ],
    )
    .args(["sigv4-proxy", "--name", "aps", "--region", REGION])
    .args(["--host", &upstream, "--upstream-url-scheme", "http"])
    .args(["--port", &format!("127.0.0.1:{port}")])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let proxy = Proxy { child, base };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if client()
            .get(format!("{}/healthz", proxy.base))
            .send()
            .is_ok_and(|r| r.status().as_u16() == 200)
        {
            return proxy;
        }
        assert!(
            Instant::now() < deadline,
            "sigv4-proxy did not become healthy"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_seed_through_sigv4_proxy_is_signed_by_the_proxy() {
    let Some((prometheus, amp)) = setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let proxy = start_proxy(dir.path(), &amp);
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/seed/scaledobject.yaml"
    );
    // check itself has no AWS credentials: every signature comes from the proxy.
    let out = aws_isolated(dir.path(), &[])
        .args(["check", "-f", seed])
        .args([
            "--server-address",
            &format!("{}/workspaces/{WS}", proxy.base),
        ])
        .args(["--current-replicas", "1", "--format", "json"])
        .output()
        .unwrap();
    let json = json_ok(&out);
    let trigger = &json["triggers"][0];
    let value = trigger["value"].as_f64().unwrap();
    assert_eq!(value, prometheus_value(&prometheus, &json), "{json}");
    assert!(value > 0.0);
    assert_eq!(
        trigger["sigv4"],
        Value::Null,
        "check sends plain queries to the proxy"
    );
    let accepted = amp.accepted();
    assert_eq!(accepted.len(), 1, "{:?}", amp.rejected());
    assert_eq!(accepted[0].path, format!("/workspaces/{WS}/api/v1/query"));
    assert_eq!(
        accepted[0].verification.as_ref().unwrap().access_key_id,
        AKID
    );
    drop(proxy);
}
