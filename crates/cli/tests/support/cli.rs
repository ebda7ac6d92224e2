//! Running the built `prescale` binary from the CLI integration tests. Each test file uses some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The repository root (the shipped examples are relative to it).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `prescale args…` run in the repository root: (exit code, stdout, stderr).
pub fn prescale(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_prescale"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run prescale");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `prescale` with a controlled AWS environment: no inherited `AWS_*`, `home` as HOME, no instance metadata,
/// plus `vars`.
pub fn aws_isolated(home: &Path, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prescale"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// The JSON on stdout of a run that must have exited 0 (stdout and stderr shown otherwise).
pub fn json_ok(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// A Secret `amp-keys` with AWS keys and the TriggerAuthentication `amp-keys` that reads them, in `namespace`.
pub fn amp_keys_yaml(namespace: &str, akid: &str, secret: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Secret
metadata: {{name: amp-keys, namespace: {namespace}}}
stringData:
  id: {akid}
  secret: {secret}
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {{name: amp-keys, namespace: {namespace}}}
spec:
  secretTargetRef:
    - {{parameter: awsAccessKeyID, name: amp-keys, key: id}}
    - {{parameter: awsSecretAccessKey, name: amp-keys, key: secret}}
"#
    )
}
