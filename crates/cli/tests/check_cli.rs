//! `prescale check` end to end against a canned loopback server (no real Prometheus needed): the KEDA and HPA
//! decisions it prints, the refusals (SigV4, authenticationRef) that send nothing, and its exit codes.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::{self, JoinHandle};

use serde_json::Value;

fn prescale(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prescale"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Answers one request with `status`/`body`; joins to the request line.
fn serve_once(status: u16, body: String) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim_end().is_empty() {
                break;
            }
        }
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        request_line.trim_end().to_string()
    });
    (base, handle)
}

fn vector(v: &str) -> String {
    format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1,"{v}"]}}]}}}}"#
    )
}

fn write_so(dir: &Path, server: &str, extra_spec: &str, extra_meta: &str) -> PathBuf {
    let path = dir.join("so.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef:
    name: web
{extra_spec}  triggers:
    - type: prometheus
      metadata:
        serverAddress: {server}
        query: sum(rate(http_requests_total[1m]))
        threshold: '2'
        activationThreshold: '0.5'
{extra_meta}"
        ),
    )
    .unwrap();
    path
}

fn assert_no_connection(listener: &TcpListener) {
    listener.set_nonblocking(true).unwrap();
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("something connected: {other:?}"),
    }
}

#[test]
fn active_from_zero_keda_activates_and_the_hpa_scales_on() {
    let (base, handle) = serve_once(200, vector("5"));
    let dir = tempfile::tempdir().unwrap();
    let so = write_so(dir.path(), &base, "  minReplicaCount: 0\n", "");
    let out = prescale(&[
        "check",
        "-f",
        so.to_str().unwrap(),
        "--current-replicas",
        "0",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let request = handle.join().unwrap();
    assert!(
        request.starts_with(
            "GET /api/v1/query?query=sum%28rate%28http_requests_total%5B1m%5D%29%29&time="
        ),
        "{request}"
    );
    assert!(
        text.contains(
            "trigger 0 (prometheus) s0-prometheus: query sum(rate(http_requests_total[1m]))"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "  value 5  threshold 2 (AverageValue)  activationThreshold 0.5  active true\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("KEDA: active: would scale apps/v1.Deployment web from 0 to 1\n"),
        "{text}"
    );
    // From 1 replica: 5 per pod against 2, ceil(2.5) = 3.
    assert!(
        text.contains("HPA keda-hpa-web: from 1 replica(s), desired 3 (New size: 3; reason: external metric s0-prometheus(&LabelSelector"),
        "{text}"
    );
    assert!(
        text.contains("  metric s0-prometheus: current 5 target 2 (AverageValue)\n"),
        "{text}"
    );
}

#[test]
fn inactive_with_min_zero_waits_for_the_cooldown() {
    let (base, handle) = serve_once(200, vector("0.5"));
    let dir = tempfile::tempdir().unwrap();
    let so = write_so(
        dir.path(),
        &base,
        "  minReplicaCount: 0\n  cooldownPeriod: 120\n",
        "",
    );
    let out = prescale(&[
        "check",
        "-f",
        so.to_str().unwrap(),
        "--current-replicas",
        "2",
        "--format",
        "json",
    ]);
    handle.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["triggers"][0]["value"], 0.5);
    assert_eq!(json["triggers"][0]["active"], false, "{json}");
    assert_eq!(json["keda"]["active"], false);
    assert_eq!(json["keda"]["scaleTo"], Value::Null);
    assert_eq!(
        json["keda"]["summary"],
        "not active: would scale apps/v1.Deployment web from 2 to 0 once cooldownPeriod (120s) passes without activity"
    );
    // 0.5 / 2 pods = 0.25 per pod against 2: the HPA wants 1, but a fresh HPA's 5-minute downscale
    // stabilization keeps 2.
    assert_eq!(json["hpa"]["desiredReplicas"], 2, "{json}");
    assert_eq!(json["hpa"]["rescale"], false);
    let conditions = json["hpa"]["conditions"].as_array().unwrap();
    assert!(
        conditions
            .iter()
            .any(|c| c["reason"] == "ScaleDownStabilized"),
        "{json}"
    );
}

#[test]
fn a_server_error_fails_with_the_server_s_answer() {
    let (base, handle) = serve_once(
        422,
        r#"{"status":"error","errorType":"422","error":"unexpected token"}"#.to_string(),
    );
    let dir = tempfile::tempdir().unwrap();
    let so = write_so(dir.path(), &base, "", "");
    let out = prescale(&["check", "-f", so.to_str().unwrap()]);
    handle.join().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "  FAILED: prometheus query api returned error. status: 422: 422: unexpected token\n"
        ),
        "{text}"
    );
    assert!(!text.contains("HPA "), "{text}");
}

#[test]
fn the_seed_without_server_address_refuses_sigv4_and_sends_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/seed/scaledobject.yaml"
    ))
    .unwrap();
    let seed = seed.replace(
        "http://keda-sigv4.keda.svc.cluster.local/workspaces/$WORKSPACE",
        &base,
    );
    assert!(seed.contains(&base) && seed.contains("identityOwner: operator"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("so.yaml");
    std::fs::write(&path, seed).unwrap();
    let out = prescale(&["check", "-f", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = json["triggers"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("SigV4 signing is not implemented yet"),
        "{error}"
    );
    assert_eq!(json["hpa"], Value::Null);
    assert_no_connection(&listener);
}

#[test]
fn authentication_refs_are_refused_and_nothing_is_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let so = write_so(
        dir.path(),
        &base,
        "",
        "      authenticationRef:\n        name: prom-creds\n",
    );
    let out = prescale(&["check", "-f", so.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("FAILED: authenticationRef \"prom-creds\": triggers with authentication are not supported by check yet"),
        "{text}"
    );
    assert_no_connection(&listener);
}

#[test]
fn exit_codes_for_invalid_objects_and_usage() {
    let dir = tempfile::tempdir().unwrap();
    let so = write_so(
        dir.path(),
        "http://127.0.0.1:1",
        "  minReplicaCount: 5\n  maxReplicaCount: 2\n",
        "",
    );
    let out = prescale(&["check", "-f", so.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("ERROR"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());

    let missing = dir.path().join("missing.yaml");
    let out = prescale(&["check", "-f", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));

    let out = prescale(&[
        "check",
        "-f",
        so.to_str().unwrap(),
        "--current-replicas",
        "-1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = prescale(&["check"]);
    assert_eq!(out.status.code(), Some(2));
}
