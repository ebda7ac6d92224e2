//! `prescale crd`, run as a process: all four CRDs, one kind, JSON, errors, a closed pipe.

use std::io::Read;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_prescale");
const COMMITTED: &str = include_str!("../../../deploy/crds/keda.sh_crds.yaml");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run prescale")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8")
}

fn yaml_docs(text: &str) -> Vec<Value> {
    serde_saphyr::from_str_multiple::<Value, Vec<Value>>(text)
        .expect("YAML")
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

fn names(docs: &[Value]) -> Vec<&str> {
    docs.iter()
        .map(|d| d["metadata"]["name"].as_str().expect("name"))
        .collect()
}

#[test]
fn prints_all_four_crds_as_committed() {
    let o = run(&["crd"]);
    assert!(o.status.success(), "{o:?}");
    assert!(o.stderr.is_empty());
    let text = stdout(&o);
    assert!(
        text == COMMITTED,
        "`prescale crd` differs from deploy/crds/keda.sh_crds.yaml: run `cargo run -p prescale -- crd > \
         deploy/crds/keda.sh_crds.yaml` (and copy it to charts/prescale/crds/)"
    );
    let docs = yaml_docs(&text);
    assert_eq!(
        names(&docs),
        [
            "scaledobjects.keda.sh",
            "scaledjobs.keda.sh",
            "triggerauthentications.keda.sh",
            "clustertriggerauthentications.keda.sh"
        ]
    );
    for d in &docs {
        assert_eq!(d["kind"], "CustomResourceDefinition");
        assert_eq!(d["spec"]["group"], "keda.sh");
    }
    // Same bytes on every run.
    assert_eq!(stdout(&run(&["crd", "--format", "yaml"])), text);
}

#[test]
fn one_kind_by_any_name() {
    for (arg, name) in [
        ("ScaledObject", "scaledobjects.keda.sh"),
        ("so", "scaledobjects.keda.sh"),
        ("scaledjobs", "scaledjobs.keda.sh"),
        ("ta", "triggerauthentications.keda.sh"),
        (
            "ClusterTriggerAuthentication",
            "clustertriggerauthentications.keda.sh",
        ),
    ] {
        let o = run(&["crd", "--kind", arg]);
        assert!(o.status.success(), "{arg}: {o:?}");
        let docs = yaml_docs(&stdout(&o));
        assert_eq!(names(&docs), [name], "{arg}");
    }
}

#[test]
fn json_output() {
    let o = run(&["crd", "--format", "json"]);
    assert!(o.status.success(), "{o:?}");
    let list: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().expect("items");
    // The JSON and YAML forms are the same objects.
    assert_eq!(items, &yaml_docs(COMMITTED));

    let o = run(&["crd", "--kind", "sj", "--format", "json"]);
    assert!(o.status.success(), "{o:?}");
    let one: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(one["metadata"]["name"], "scaledjobs.keda.sh");
    assert_eq!(one, items[1]);
}

#[test]
fn unknown_kind_or_format_is_a_usage_error() {
    let o = run(&["crd", "--kind", "Deployment"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown kind \"Deployment\""), "{err}");
    assert!(err.contains("ScaledObject, ScaledJob"), "{err}");

    let o = run(&["crd", "--format", "toml"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = Command::new(BIN)
        .arg("crd")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut head = [0u8; 64];
    out.read_exact(&mut head).expect("read");
    assert!(head.starts_with(b"---\napiVersion: apiextensions.k8s.io/v1\n"));
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
}
