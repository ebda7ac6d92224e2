//! `prescale check` end to end against a canned loopback server (no real Prometheus needed): the KEDA and HPA
//! decisions it prints, authentication from Secrets/ConfigMaps/TriggerAuthentications (`--secrets`, `--env`),
//! the refusals (SigV4, unresolvable authenticationRef) that send nothing, and its exit codes.

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

/// Runs the binary with no AWS credentials reachable: no `AWS_*` variables, an empty home, no instance
/// metadata service.
fn prescale_without_aws(args: &[&str], home: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prescale"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
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

/// Answers one request with `status`/`body`; joins to the request line and header lines, one per line.
fn serve_once(status: u16, body: String) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request = String::new();
        reader.read_line(&mut request).unwrap();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim_end().is_empty() {
                break;
            }
            request.push_str(&line);
        }
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        request.replace("\r\n", "\n").trim_end().to_string()
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
fn the_seed_without_aws_credentials_names_what_was_tried_and_sends_nothing() {
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
    let out = prescale_without_aws(
        &["check", "-f", path.to_str().unwrap(), "--format", "json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = json["triggers"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "trigger 0: AWS SigV4: no AWS credentials found: environment: AWS_ACCESS_KEY_ID not set"
        ),
        "{error}"
    );
    assert!(error.contains("the query is not sent unsigned"), "{error}");
    assert_eq!(
        json["triggers"][0]["sigv4"].as_str().unwrap(),
        "service aps, region us-east-1, credentials: default chain"
    );
    assert_eq!(json["hpa"], Value::Null);
    assert_no_connection(&listener);
}

const TOKEN: &str = "tok-9f8e7d6c5b4a";
/// base64(TOKEN)
const TOKEN_B64: &str = "dG9rLTlmOGU3ZDZjNWI0YQ==";

/// The value of header `name` (case-insensitive) in a request head from [`serve_once`].
fn header<'a>(request: &'a str, name: &str) -> Option<&'a str> {
    request.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const AUTH_REF: &str =
    "        authModes: bearer\n      authenticationRef:\n        name: prom-creds\n";

fn bearer_secrets(key: &str) -> String {
    format!(
        "apiVersion: v1
kind: Secret
metadata:
  name: prom-secret
  namespace: shop
type: Opaque
data:
  {key}: {TOKEN_B64}
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: prom-creds
  namespace: shop
spec:
  secretTargetRef:
    - parameter: bearerToken
      name: prom-secret
      key: token
"
    )
}

#[test]
fn a_bearer_token_from_a_secret_reaches_the_server_and_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = write_file(dir.path(), "secrets.yaml", &bearer_secrets("token"));
    for format in ["text", "json"] {
        let (base, handle) = serve_once(200, vector("5"));
        let so = write_so(dir.path(), &base, "", AUTH_REF);
        let out = prescale(&[
            "check",
            "-f",
            so.to_str().unwrap(),
            "--secrets",
            secrets.to_str().unwrap(),
            "--format",
            format,
        ]);
        let (text, err) = (stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(0), "{format}: {text}{err}");
        let request = handle.join().unwrap();
        assert_eq!(
            header(&request, "authorization"),
            Some(format!("Bearer {TOKEN}").as_str()),
            "{request}"
        );
        assert!(!text.contains(TOKEN) && !err.contains(TOKEN), "{text}{err}");
        assert!(
            text.contains(
                "trigger 0: auth parameters bearerToken from Secret shop/prom-secret key token"
            ),
            "{text}"
        );
    }
}

#[test]
fn a_cluster_trigger_authentication_reads_the_cluster_object_namespace_and_the_env() {
    let (base, handle) = serve_once(200, vector("1"));
    let dir = tempfile::tempdir().unwrap();
    // The ClusterTriggerAuthentication lives in the ScaledObject's file.
    let so = write_so(
        dir.path(),
        &base,
        "",
        "        authModes: basic\n      authenticationRef:\n        name: shared-prom\n        kind: ClusterTriggerAuthentication\n",
    );
    let mut text = std::fs::read_to_string(&so).unwrap();
    text.push_str(
        "---
apiVersion: keda.sh/v1alpha1
kind: ClusterTriggerAuthentication
metadata:
  name: shared-prom
spec:
  env:
    - {parameter: username, name: PROM_USER}
  secretTargetRef:
    - {parameter: password, name: prom-basic, key: password}
",
    );
    std::fs::write(&so, text).unwrap();
    let secrets = write_file(
        dir.path(),
        "secrets.yaml",
        "apiVersion: v1
kind: Secret
metadata: {name: prom-basic, namespace: ops}
stringData: {password: pw}
---
apiVersion: v1
kind: Secret
metadata: {name: prom-basic, namespace: keda}
stringData: {password: wrong}
",
    );
    let out = prescale(&[
        "check",
        "-f",
        so.to_str().unwrap(),
        "--secrets",
        secrets.to_str().unwrap(),
        "--env",
        "PROM_USER=alice",
        "--env",
        "UNUSED=x=y",
        "--cluster-object-namespace",
        "ops",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let request = handle.join().unwrap();
    // base64("alice:pw")
    assert_eq!(
        header(&request, "authorization"),
        Some("Basic YWxpY2U6cHc="),
        "{request}"
    );
    assert!(
        text.contains("password from Secret ops/prom-basic key password, username from env PROM_USER of the first container"),
        "{text}"
    );
}

#[test]
fn a_missing_secret_key_fails_the_trigger_naming_it_and_sends_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let so = write_so(dir.path(), &base, "", AUTH_REF);
    let secrets = write_file(dir.path(), "secrets.yaml", &bearer_secrets("tokn"));
    let out = prescale(&[
        "check",
        "-f",
        so.to_str().unwrap(),
        "--secrets",
        secrets.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("  FAILED: TriggerAuthentication shop/prom-creds: spec.secretTargetRef[0]: parameter \"bearerToken\": key \"token\" in Secret shop/prom-secret not found\n"),
        "{text}"
    );
    assert!(!text.contains(TOKEN) && !stderr(&out).contains(TOKEN));
    assert!(!text.contains("HPA "), "{text}");
    assert_no_connection(&listener);
}

#[test]
fn unresolvable_or_unsupported_authentication_refs_send_nothing() {
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
        text.contains("  FAILED: TriggerAuthentication shop/prom-creds not found\n"),
        "{text}"
    );

    // In `default` (no metadata.namespace), not in the ScaledObject's namespace.
    let secrets = write_file(
        dir.path(),
        "vault.yaml",
        "apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {name: prom-creds}
spec: {}
",
    );
    let out = prescale(&[
        "check",
        "-f",
        so.to_str().unwrap(),
        "--secrets",
        secrets.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("FAILED: TriggerAuthentication shop/prom-creds: not in the manifests, which hold a TriggerAuthentication \"prom-creds\" in namespace default"),
        "{}",
        stdout(&out)
    );

    let secrets = write_file(
        dir.path(),
        "vault.yaml",
        "apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {name: prom-creds, namespace: shop}
spec:
  hashiCorpVault:
    address: http://vault:8200
    authentication: token
    secrets: [{parameter: bearerToken, path: secret/prom, key: token}]
",
    );
    let out = prescale(&[
        "check",
        "-f",
        so.to_str().unwrap(),
        "--secrets",
        secrets.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("FAILED: TriggerAuthentication shop/prom-creds: spec.hashiCorpVault is not supported by prescale yet\n"),
        "{}",
        stdout(&out)
    );
    assert_no_connection(&listener);
}

#[test]
fn bad_auth_inputs_are_usage_errors_or_failures() {
    let dir = tempfile::tempdir().unwrap();
    let so = write_so(dir.path(), "http://127.0.0.1:1", "", AUTH_REF);
    let so = so.to_str().unwrap();
    // --env without '='.
    let out = prescale(&["check", "-f", so, "--env", "PROM_USER"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("expected NAME=VALUE"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    // An unreadable --secrets file.
    let missing = dir.path().join("missing.yaml");
    let out = prescale(&["check", "-f", so, "--secrets", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    // A Secret whose data is not base64: the key is named, the value is not printed.
    let bad = write_file(
        dir.path(),
        "bad.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: shop}}\ndata:\n  token: {TOKEN}\n"
        ),
    );
    let out = prescale(&["check", "-f", so, "--secrets", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("bad.yaml: document 1: Secret shop/s: data.token: invalid base64"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");
    // The same object twice.
    let twice = write_file(dir.path(), "twice.yaml", &bearer_secrets("token"));
    let again = write_file(dir.path(), "again.yaml", &bearer_secrets("token"));
    let out = prescale(&[
        "check",
        "-f",
        so,
        "--secrets",
        twice.to_str().unwrap(),
        "--secrets",
        again.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Secret shop/prom-secret is defined twice"),
        "{}",
        stderr(&out)
    );
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

#[test]
fn credentials_in_the_server_address_are_never_printed() {
    // Nothing listens on port 1: the trigger fails, and neither the report nor the error shows the password.
    let yaml = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: so, namespace: default}\n\
spec:\n  scaleTargetRef: {name: app}\n  triggers:\n    - type: prometheus\n      metadata:\n        \
serverAddress: http://alice:pw-7c1e9@127.0.0.1:1\n        query: up\n        threshold: '1'\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("so.yaml");
    std::fs::write(&path, yaml).unwrap();
    for format in ["json", "text"] {
        let out = prescale(&["check", "-f", path.to_str().unwrap(), "--format", format]);
        assert_eq!(out.status.code(), Some(1));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(all.contains("http://***@127.0.0.1:1"), "{all}");
        assert!(!all.contains("pw-7c1e9") && !all.contains("alice"), "{all}");
    }
}

#[test]
fn triggers_are_evaluated_together_not_one_after_another() {
    // Two servers that accept and never answer, each trigger with a 2 s timeout: evaluated in turn the check
    // would take at least 4 s; together it takes about 2 s.
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    let trigger = |l: &TcpListener| {
        format!(
            "    - type: prometheus\n      metadata:\n        serverAddress: http://{}\n        query: up\n        \
             threshold: '1'\n        timeout: 2s\n",
            l.local_addr().unwrap()
        )
    };
    let yaml = format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {{name: so, namespace: default}}\n\
spec:\n  scaleTargetRef: {{name: app}}\n  triggers:\n{}{}",
        trigger(&a),
        trigger(&b)
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("so.yaml");
    std::fs::write(&path, yaml).unwrap();
    let start = std::time::Instant::now();
    let out = prescale(&["check", "-f", path.to_str().unwrap(), "--format", "json"]);
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    for i in 0..2 {
        let error = json["triggers"][i]["error"].as_str().unwrap();
        assert!(
            error.contains("timed out") || error.contains("timeout"),
            "{error}"
        );
    }
    assert!(
        took < std::time::Duration::from_millis(3500),
        "took {took:?}"
    );
    drop((a, b));
}
