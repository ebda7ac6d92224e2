//! `prescale crd`: print KEDA's CustomResourceDefinitions as prescale serves them.

use std::io::Write;

use clap::{Args, ValueEnum};
use prescale_k8s::crd::{self, CrdKind};

/// Output format of `prescale crd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CrdFormat {
    /// Multi-document YAML (`kubectl apply -f -`).
    Yaml,
    /// JSON: the CRD with `--kind`, else a `v1` `List` of all four.
    Json,
}

#[derive(Debug, Args)]
#[command(
    about = "Print the keda.sh/v1alpha1 CRDs (ScaledObject, ScaledJob, TriggerAuthentication, ClusterTriggerAuthentication)",
    long_about = "Print KEDA's four keda.sh/v1alpha1 CustomResourceDefinitions, with schemas generated from \
prescale's types: KEDA 2.20's names, short names, scope, printer columns, status subresource, defaults, \
constraints and the ScaledObject minReplicaCount <= maxReplicaCount rule. The output is the same on every \
run; deploy/crds/keda.sh_crds.yaml and the Helm chart's crds/ hold it.",
    after_help = "Examples:\n  prescale crd | kubectl apply --server-side -f -\n  \
prescale crd --kind ScaledObject\n  prescale crd --format json > crds.json"
)]
pub struct CrdArgs {
    /// Only this kind's CRD (kind, plural or short name, any case: ScaledObject, scaledjobs, ta, ...).
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<CrdKind>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CrdFormat::Yaml)]
    pub format: CrdFormat,
}

/// A kind from its name, plural, singular or short name (case-insensitive).
fn parse_kind(s: &str) -> Result<CrdKind, String> {
    crd::kind_from_name(s).ok_or_else(|| {
        let kinds: Vec<&str> = CrdKind::ALL.into_iter().map(CrdKind::name).collect();
        format!("unknown kind {s:?}; one of {}", kinds.join(", "))
    })
}

/// The text `prescale crd` prints.
pub fn render(args: &CrdArgs) -> String {
    match (args.format, args.kind) {
        (CrdFormat::Yaml, None) => crd::crds_yaml(),
        (CrdFormat::Yaml, Some(kind)) => crd::crd_yaml(kind),
        (CrdFormat::Json, kind) => {
            let value = match kind {
                Some(kind) => crd::crd_json(kind),
                None => serde_json::json!({
                    "apiVersion": "v1",
                    "kind": "List",
                    "items": CrdKind::ALL.into_iter().map(crd::crd_json).collect::<Vec<_>>(),
                }),
            };
            let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
            text.push('\n');
            text
        }
    }
}

/// Print the CRDs; exit 0, or 1 when standard output cannot be written (a closed pipe is not an error).
pub fn run(args: &CrdArgs) -> u8 {
    let text = render(args);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: writing the CRDs: {e}");
            1
        }
    }
}
