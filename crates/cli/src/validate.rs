//! `prescale validate`: check KEDA manifests the way a cluster with KEDA would.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Args;
use prescale_core::spec::{self, Finding, Report, Status};
use serde::Serialize;

use crate::Format;

/// Exit code: every object is valid (warnings allowed).
pub const EXIT_OK: u8 = 0;
/// Exit code: at least one object has an error (including YAML and type errors).
pub const EXIT_INVALID: u8 = 1;
/// Exit code: usage error or an unreadable file.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Args)]
#[command(
    about = "Validate KEDA manifests (ScaledObject, ScaledJob, TriggerAuthentication, ClusterTriggerAuthentication)",
    long_about = "Validate KEDA keda.sh/v1alpha1 manifests as a cluster running KEDA 2.20 would: the CRD schema \
(required fields, enums, minimums, the minReplicaCount <= maxReplicaCount rule), KEDA's admission webhook \
(names, replica bounds, fallback, triggers, scalingModifiers, its warnings), the checks that fail later in \
KEDA's operator (unknown trigger types, metric types, HPA behavior policies), and conflicts between the \
ScaledObjects validated together (same workload or same HPA name in a namespace). Fields the CRD would \
prune are reported as warnings. Other Kubernetes objects in the input are skipped; list documents \
(kind: List, as `kubectl get -o yaml` prints) are checked item by item.\n\n\
Output, one line per finding:\n  OK kind/namespace/name\n  ERROR kind/namespace/name: path: message\n  \
WARNING kind/namespace/name: path: message\n  SKIP kind/namespace/name (not a keda.sh/v1alpha1 object)\n\
(namespace `default` when unset; an object with only warnings is still valid). With --format json: an \
array of {file, document, item?, line, kind, namespace, name, status: ok|error|skipped, \
findings: [{severity, path, message}]}, one entry per document.\n\n\
Exit status: 0 when no object has an error, 1 when any has (YAML and type errors included), 2 for a usage \
error or an unreadable file.",
    after_help = "Examples:\n  prescale validate scaledobject.yaml\n  kubectl kustomize . | prescale validate -\n  \
prescale validate --format json manifests/*.yaml"
)]
pub struct ValidateArgs {
    /// Manifest files (multi-document YAML); `-` reads standard input. Standard input when none.
    #[arg(value_name = "FILE|-")]
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// One entry of the JSON output.
#[derive(Debug, Serialize)]
struct JsonEntry<'a> {
    file: &'a str,
    /// 0-based position of the document in its file.
    document: usize,
    /// Position in `items` when the document is a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<usize>,
    /// 1-based line where the document starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    kind: Option<&'a str>,
    namespace: &'a str,
    name: Option<&'a str>,
    status: Status,
    findings: &'a [Finding],
}

struct Input {
    label: String,
    text: String,
}

fn read_inputs(files: &[PathBuf]) -> Result<Vec<Input>, String> {
    let stdin_only = [PathBuf::from("-")];
    let files = if files.is_empty() {
        &stdin_only[..]
    } else {
        files
    };
    let mut inputs = Vec::with_capacity(files.len());
    for f in files {
        if f.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            inputs.push(Input {
                label: "-".to_string(),
                text,
            });
        } else {
            let bytes =
                std::fs::read(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("cannot read {}: not valid UTF-8", f.display()))?;
            inputs.push(Input {
                label: f.display().to_string(),
                text,
            });
        }
    }
    Ok(inputs)
}

/// Keep every finding on one line: KEDA joins some messages with `\n` (joined here with `: `),
/// and expr's formula errors end with a source snippet (lines starting ` | `, dropped here; the
/// JSON output keeps the full message).
fn one_line(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with(" | "))
        .collect::<Vec<_>>()
        .join(": ")
}

fn text_lines(report: &Report, file: &str, document: usize) -> Vec<String> {
    let who = report.object.display_name();
    match report.status {
        // A document without a kind (Helm values, a bare list) has no name to show: say where it is.
        Status::Skipped if report.object.kind.as_deref().is_none_or(str::is_empty) => {
            vec![format!(
                "SKIP {file} document {document} (not a Kubernetes object)"
            )]
        }
        Status::Skipped => vec![format!("SKIP {who} (not a keda.sh/v1alpha1 object)")],
        _ => {
            let mut lines: Vec<String> = report
                .findings
                .iter()
                .map(|f| {
                    let sev = f.severity.to_string();
                    if f.path.is_empty() {
                        format!("{sev} {who}: {}", one_line(&f.message))
                    } else {
                        format!("{sev} {who}: {}: {}", f.path, one_line(&f.message))
                    }
                })
                .collect();
            if report.status == Status::Ok {
                lines.insert(0, format!("OK {who}"));
            }
            lines
        }
    }
}

/// Run the subcommand; returns the process exit code.
pub fn run(args: &ValidateArgs) -> u8 {
    let inputs = match read_inputs(&args.files) {
        Ok(i) => i,
        Err(msg) => {
            eprintln!("prescale validate: {msg}");
            return EXIT_USAGE;
        }
    };
    // Load every file, then validate all documents together (cross-object checks span files).
    let mut origin = Vec::new();
    let mut docs = Vec::new();
    for (fi, input) in inputs.iter().enumerate() {
        for doc in spec::load(&input.text) {
            origin.push((fi, doc.index, doc.item, doc.line));
            docs.push(doc);
        }
    }
    let reports = spec::validate(&docs);
    let invalid = reports.iter().any(|r| r.status == Status::Error);

    let mut out = String::new();
    match args.format {
        Format::Text => {
            for (r, &(fi, index, _, _)) in reports.iter().zip(&origin) {
                for line in text_lines(r, &inputs[fi].label, index) {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
        Format::Json => {
            let entries: Vec<JsonEntry<'_>> = reports
                .iter()
                .zip(&origin)
                .map(|(r, &(fi, index, item, line))| JsonEntry {
                    file: &inputs[fi].label,
                    document: index,
                    item,
                    line,
                    kind: r.object.kind.as_deref(),
                    namespace: r.object.namespace_or_default(),
                    name: r.object.name.as_deref(),
                    status: r.status,
                    findings: &r.findings,
                })
                .collect();
            match serde_json::to_string_pretty(&entries) {
                Ok(s) => {
                    out.push_str(&s);
                    out.push('\n');
                }
                Err(e) => {
                    eprintln!("prescale validate: cannot encode JSON: {e}");
                    return EXIT_INVALID;
                }
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    if invalid { EXIT_INVALID } else { EXIT_OK }
}
