//! `prescale check -f SCALEDOBJECT.yaml`: evaluate each trigger of a ScaledObject once against its server and
//! show what KEDA and the HPA would do with the values.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use clap::Args;
use prescale_check::sources::{self, AuthConfig, ManifestSource};
use prescale_check::{CheckOptions, check, render_text};
use prescale_core::spec::{self, DocumentContent, KedaObject, ScaledObject, Status};

use crate::Format;

/// Exit code: every trigger evaluated.
pub const EXIT_OK: u8 = 0;
/// Exit code: the ScaledObject is invalid or a trigger failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: usage error or an unreadable file.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Args)]
#[command(
    about = "Evaluate a ScaledObject's triggers once against their servers and show what KEDA and the HPA would do",
    long_about = "Evaluate a ScaledObject's triggers once against their servers and show what KEDA and the HPA \
would do.\n\nThe file must hold one keda.sh/v1alpha1 ScaledObject; it is validated first (as `prescale validate` \
does). Each trigger is queried once, now: for Prometheus, GET <serverAddress>/api/v1/query with the trigger's \
query, custom headers, bearer/basic/custom auth, TLS (unsafeSsl; ca and tls client certificates with authModes) and, when the trigger selects it as KEDA does (podIdentity provider aws, awsRoleArn, AWS keys or identityOwner: operator), an AWS SigV4 signature for Amazon Managed Service for Prometheus with credentials from the trigger or from this process (AWS_* variables, ~/.aws, web identity, container credentials, IMDSv2). Unlike KEDA, nothing is ever sent unsigned: AWS settings without credentials, an aps-workspaces address without AWS settings, and credentials that do not resolve fail the trigger, naming what was tried. Then, from --current-replicas, KEDA's activation \
step (scale from zero, or to zero after cooldownPeriod) and one sync of a fresh HPA with the evaluated values \
(default controller settings: tolerance 0.1, 5m downscale stabilization).\n\nA trigger's authenticationRef is resolved \
as KEDA does, from the TriggerAuthentications, ClusterTriggerAuthentications, Secrets and ConfigMaps in the \
ScaledObject's file and in the --secrets files: secretTargetRef, configMapTargetRef, env (from the --env pairs, \
standing in for the scale target's container env) and podIdentity. Objects without metadata.namespace are in \
`default`, as kubectl apply places them; ClusterTriggerAuthentications read Secrets and ConfigMaps from \
--cluster-object-namespace. Unlike KEDA, which carries on with an empty value, a missing TriggerAuthentication, \
Secret, ConfigMap, key or env variable fails the trigger, naming it. Secret values are never printed.\n\n\
Not supported yet: hashiCorpVault, azureKeyVault, gcpSecretManager, awsSecretManager, \
boundServiceAccountToken, filePath and oauth2 in TriggerAuthentications (the trigger fails, naming the field), \
podIdentity identityOwner workload, scalingModifiers (the HPA step is skipped) and trigger types other than prometheus.\n\n\
Exit status: 0 when every trigger evaluated, 1 when the ScaledObject is invalid or a trigger failed (the \
server's answer is printed), 2 for a usage error or an unreadable file.",
    after_help = "Examples:\n  prescale check -f scaledobject.yaml\n  \
prescale check -f examples/seed/scaledobject.yaml --server-address http://127.0.0.1:9090 --current-replicas 1\n  \
prescale check -f scaledobject.yaml --format json\n  \
prescale check -f scaledobject.yaml --secrets auth.yaml --env PROM_USER=alice"
)]
pub struct CheckArgs {
    /// The ScaledObject manifest (YAML), or `-` for standard input.
    #[arg(short = 'f', long = "filename", value_name = "SCALEDOBJECT.yaml")]
    pub file: PathBuf,
    /// The target's current replica count (default: minReplicaCount, else 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    pub current_replicas: Option<i32>,
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Where the triggers' servers and credentials come from (`check` and `backtest`).
#[derive(Args, Debug)]
pub struct AuthArgs {
    /// Query this server instead of every prometheus trigger's `serverAddress`. A trigger that signs with AWS
    /// SigV4 keeps signing when URL is an aps-workspaces address; otherwise its AWS settings are dropped and
    /// URL (a local Prometheus, a sigv4-proxy) is queried unsigned.
    #[arg(long, value_name = "URL")]
    pub server_address: Option<String>,
    /// A multi-document YAML file with Secrets, ConfigMaps, TriggerAuthentications and
    /// ClusterTriggerAuthentications for the triggers' authenticationRef (repeatable). Other objects are
    /// ignored.
    #[arg(long = "secrets", value_name = "FILE")]
    pub secrets: Vec<PathBuf>,
    /// A variable of the scale target's container env, for TriggerAuthentication `env` entries and
    /// `...FromEnv` trigger metadata (repeatable; every container gets all of them).
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = sources::parse_env_pair)]
    pub env: Vec<(String, String)>,
    /// Where ClusterTriggerAuthentications' Secrets and ConfigMaps live (KEDA's
    /// KEDA_CLUSTER_OBJECT_NAMESPACE, by default the operator's namespace).
    #[arg(long, value_name = "NS", default_value = sources::DEFAULT_CLUSTER_OBJECT_NAMESPACE)]
    pub cluster_object_namespace: String,
}

pub(crate) fn read(file: &Path) -> Result<String, String> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(text);
    }
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("cannot read {}: not valid UTF-8", file.display()))
}

/// Run the subcommand; returns the process exit code.
pub fn run(args: &CheckArgs) -> u8 {
    let text = match read(&args.file) {
        Ok(t) => t,
        Err(msg) => {
            eprintln!("prescale check: {msg}");
            return EXIT_USAGE;
        }
    };
    let so = match one_scaled_object(&args.file, &text, "check") {
        Ok(so) => so,
        Err((code, msg)) => {
            eprintln!("prescale check: {msg}");
            return code;
        }
    };
    let source = match manifest_source(args, &text) {
        Ok(s) => s,
        Err((code, msg)) => {
            eprintln!("prescale check: {msg}");
            return code;
        }
    };
    let opts = CheckOptions {
        server_address: args.auth.server_address.clone(),
        current_replicas: args.current_replicas,
        auth: Some(AuthConfig {
            source: Arc::new(source),
            cluster_object_namespace: args.auth.cluster_object_namespace.clone(),
        }),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("prescale check: cannot start the async runtime: {e}");
            return EXIT_FAILED;
        }
    };
    let (report, all_ok) = match runtime.block_on(check(&so, &opts, SystemTime::now())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("prescale check: {e}");
            return EXIT_FAILED;
        }
    };

    let out = match args.format {
        Format::Text => render_text(&so, &report),
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("prescale check: cannot encode JSON: {e}");
                return EXIT_FAILED;
            }
        },
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    if all_ok { EXIT_OK } else { EXIT_FAILED }
}

/// The auth objects of the ScaledObject's file and the `--secrets` files, and the `--env` pairs. An unreadable
/// file is a usage error, an unusable object a failure.
fn manifest_source(args: &CheckArgs, so_text: &str) -> Result<ManifestSource, (u8, String)> {
    auth_source(&args.file, so_text, &args.auth.secrets, &args.auth.env)
}

/// The one ScaledObject of `file`, valid as KEDA would require: invalid objects are exit 1 with every error
/// finding, no ScaledObject exit 1, several exit 2 (`command` takes one).
pub(crate) fn one_scaled_object(
    file: &Path,
    text: &str,
    command: &str,
) -> Result<ScaledObject, (u8, String)> {
    let docs = spec::load(text);
    let reports = spec::validate(&docs);
    let mut errors = Vec::new();
    for r in reports.iter().filter(|r| r.status == Status::Error) {
        let who = r.object.display_name();
        for f in &r.findings {
            errors.push(format!("{} {who}: {}: {}", f.severity, f.path, f.message));
        }
    }
    if !errors.is_empty() {
        return Err((EXIT_FAILED, errors.join("\n")));
    }
    let mut objects = docs.into_iter().filter_map(|d| match d.content {
        DocumentContent::Keda(KedaObject::ScaledObject(so)) => Some(so),
        _ => None,
    });
    match (objects.next(), objects.count()) {
        (Some(so), 0) => Ok(so),
        (None, _) => Err((
            EXIT_FAILED,
            format!("{} holds no ScaledObject", file.display()),
        )),
        (Some(_), more) => Err((
            EXIT_USAGE,
            format!(
                "{} holds {} ScaledObjects; {command} takes one",
                file.display(),
                more + 1
            ),
        )),
    }
}

/// [`manifest_source`] from its parts (`prescale backtest` resolves its triggers' auth the same way).
pub(crate) fn auth_source(
    so_file: &Path,
    so_text: &str,
    secrets: &[PathBuf],
    env: &[(String, String)],
) -> Result<ManifestSource, (u8, String)> {
    let mut source = ManifestSource::new();
    source
        .add_manifests(&so_file.display().to_string(), so_text)
        .map_err(|e| (EXIT_FAILED, e.to_string()))?;
    for file in secrets {
        // The ScaledObject's file again: its objects are already in.
        if file == so_file {
            continue;
        }
        let text = read(file).map_err(|e| (EXIT_USAGE, e))?;
        source
            .add_manifests(&file.display().to_string(), &text)
            .map_err(|e| (EXIT_FAILED, e.to_string()))?;
    }
    source.set_env(env.iter().cloned().collect::<BTreeMap<_, _>>());
    Ok(source)
}
