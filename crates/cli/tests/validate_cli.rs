//! `prescale validate`, run as a process: output lines, JSON, exit codes 0/1/2.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_prescale");
const SEED: &str = include_str!("../../core/tests/data/scaledobject.yaml");

const POLLING_WARNING: &str = "PollingInterval is configured but is not relevant. PollingInterval is only relevant when minReplicaCount = 0, idleReplicaCount is set, or useCachedMetrics is enabled";
const COOLDOWN_WARNING: &str = "CooldownPeriod is configured but is not relevant. CooldownPeriod is only relevant when minReplicaCount = 0 or idleReplicaCount is set";

/// A file in a per-test temporary directory (removed when dropped).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("prescale-validate-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run prescale");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    child.wait_with_output().expect("wait for prescale")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const INVALID: &str = "apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: bad
  namespace: apps
spec:
  scaleTargetRef: {name: web}
  pollingInterval: 0
  triggers:
  - type: prometheus
    metadata: {serverAddress: http://prom:9090, query: up, threshold: '1'}
";

#[test]
fn seed_is_ok_with_warnings() {
    let dir = TempDir::new("seed");
    let f = dir.file("so.yaml", SEED);
    let o = run(&["validate", f.to_str().expect("path")], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "OK ScaledObject/ho11y/ho11y-hpa\nWARNING ScaledObject/ho11y/ho11y-hpa: spec.pollingInterval: {POLLING_WARNING}\nWARNING ScaledObject/ho11y/ho11y-hpa: spec.cooldownPeriod: {COOLDOWN_WARNING}\n"
        )
    );
}

#[test]
fn errors_skips_and_exit_code_one() {
    let input = format!(
        "{INVALID}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\n---\n---\napiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata: {{name: ta}}\nspec: {{podIdentity: {{provider: aws}}, extra: 1}}\n"
    );
    let o = run(&["validate", "-"], Some(&input));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "ERROR ScaledObject/apps/bad: spec.pollingInterval: Invalid value: 0: spec.pollingInterval in body should be greater than or equal to 1\n\
SKIP Deployment/default/web (not a keda.sh/v1alpha1 object)\n\
OK TriggerAuthentication/default/ta\n\
WARNING TriggerAuthentication/default/ta: spec.extra: unknown field \"spec.extra\"\n"
    );
}

#[test]
fn stdin_is_the_default_input() {
    let o = run(&["validate"], Some(SEED));
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("OK ScaledObject/ho11y/ho11y-hpa\n"));
}

#[test]
fn type_and_yaml_errors_fail() {
    let o = run(
        &["validate"],
        Some(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: t}\nspec:\n  scaleTargetRef: {name: a}\n  triggers: [{type: prometheus, metadata: {threshold: 1}}]\n",
        ),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "ERROR ScaledObject/default/t: spec.triggers[0].metadata.threshold: invalid type: integer `1`, expected a string\n"
    );
    let o = run(&["validate"], Some("kind: [oops\n"));
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.starts_with("ERROR ?/default/?: invalid YAML: "),
        "{out}"
    );
}

#[test]
fn multi_line_keda_messages_stay_on_one_line() {
    let o = run(
        &["validate"],
        Some(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: m}\nspec:\n  scaleTargetRef: {name: a}\n  advanced: {scalingModifiers: {formula: t}}\n  triggers: [{type: kafka, name: t, metadata: {}}]\n",
        ),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "ERROR ScaledObject/default/m: spec.advanced.scalingModifiers.target: error validating formula in ScalingModifiers: formula is given but target is empty\n"
    );
}

#[test]
fn formula_errors_drop_the_snippet_in_text_output() {
    let o = run(
        &["validate"],
        Some(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: f}\nspec:\n  scaleTargetRef: {name: a}\n  advanced: {scalingModifiers: {formula: 'a + b', target: '2'}}\n  triggers: [{type: kafka, name: a, metadata: {}}]\n",
        ),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "ERROR ScaledObject/default/f: spec.advanced.scalingModifiers.formula: error validating formula in ScalingModifiers: unknown name b (1:11)\n"
    );
}

#[test]
fn cross_file_conflicts() {
    let dir = TempDir::new("cross");
    let a = dir.file(
        "a.yaml",
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: a}\nspec: {scaleTargetRef: {name: web}, triggers: [{type: cron, metadata: {}}]}\n",
    );
    let b = dir.file(
        "b.yaml",
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: b}\nspec: {scaleTargetRef: {name: web}, triggers: [{type: cron, metadata: {}}]}\n",
    );
    let o = run(
        &["validate", a.to_str().expect("a"), b.to_str().expect("b")],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "OK ScaledObject/default/a\nERROR ScaledObject/default/b: spec.scaleTargetRef.name: the workload 'web' of type 'apps/v1.Deployment' is already managed by the ScaledObject 'a'\n"
    );
}

#[test]
fn json_output() {
    let dir = TempDir::new("json");
    let f = dir.file("all.yaml", &format!("{SEED}\n{INVALID}---\nkind: Secret\n"));
    let path = f.to_str().expect("path");
    let o = run(&["validate", "--format", "json", path], None);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    let expected = serde_json::json!([
        {
            "file": path, "document": 0, "line": 2, "kind": "ScaledObject", "namespace": "ho11y",
            "name": "ho11y-hpa", "status": "ok",
            "findings": [
                {"severity": "warning", "path": "spec.pollingInterval", "message": POLLING_WARNING},
                {"severity": "warning", "path": "spec.cooldownPeriod", "message": COOLDOWN_WARNING}
            ]
        },
        {
            "file": path, "document": 1, "line": 31, "kind": "ScaledObject", "namespace": "apps",
            "name": "bad", "status": "error",
            "findings": [
                {"severity": "error", "path": "spec.pollingInterval",
                 "message": "Invalid value: 0: spec.pollingInterval in body should be greater than or equal to 1"}
            ]
        },
        {
            "file": path, "document": 2, "line": 43, "kind": "Secret", "namespace": "default",
            "name": null, "status": "skipped", "findings": []
        }
    ]);
    assert_eq!(v, expected, "{}", stdout(&o));
}

#[test]
fn unreadable_file_is_a_usage_error() {
    let o = run(&["validate", "/nonexistent/prescale/so.yaml"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/prescale/so.yaml"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn usage_errors_exit_two() {
    let o = run(&["validate", "--format", "xml", "-"], Some(""));
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["validate", "--no-such-flag"], Some(""));
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help_explains_the_command() {
    let o = run(&["validate", "--help"], None);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for needle in [
        "OK kind/namespace/name",
        "ERROR kind/namespace/name: path: message",
        "SKIP kind/namespace/name (not a keda.sh/v1alpha1 object)",
        "--format",
        "Exit status: 0",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    let o = run(&["--help"], None);
    assert!(stdout(&o).contains("validate"));
}

#[test]
fn empty_input_is_fine() {
    let o = run(&["validate", "-"], Some(""));
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "");
}

#[test]
fn documents_that_are_not_kubernetes_objects_are_skipped_by_position() {
    let o = run(
        &["validate", "-"],
        Some(
            "operator:\n  name: keda-operator\n---\nkind: Service\napiVersion: v1\nmetadata: {name: s}\n",
        ),
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "SKIP - document 0 (not a Kubernetes object)\nSKIP Service/default/s (not a keda.sh/v1alpha1 object)\n"
    );
}
