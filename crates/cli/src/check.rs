//! `prescale check -f SCALEDOBJECT.yaml`: evaluate each trigger of a ScaledObject once against its server and
//! show what KEDA and the HPA would do with the values.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use prescale_core::hpa::{self, ControllerConfig, HpaState, Observation};
use prescale_core::keda::executor::{ScaleRequest, idle_or_minimum_replica_count, request_scale};
use prescale_core::keda::metric::metric_in_milli;
use prescale_core::keda::object::scale_target_kind;
use prescale_core::keda::{ConditionType, KedaState, TriggerTarget, derive_hpa, trigger_targets};
use prescale_core::quantity::format_milli;
use prescale_core::spec::{self, DocumentContent, KedaObject, ScaleTrigger, ScaledObject, Status};
use prescale_core::time::Timestamp;
use prescale_scalers::prometheus::{metadata, request::rfc3339_seconds};
use prescale_scalers::{Evaluation, build_scaler};
use serde::Serialize;

use crate::Format;

/// Exit code: every trigger evaluated.
pub const EXIT_OK: u8 = 0;
/// Exit code: the ScaledObject is invalid or a trigger failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: usage error or an unreadable file.
pub const EXIT_USAGE: u8 = 2;

/// Metadata keys that select AWS SigV4 signing without an `authenticationRef`.
const AWS_METADATA_KEYS: &[&str] = &[
    "identityOwner",
    "awsAccessKeyID",
    "awsAccessKeyIDFromEnv",
    "awsSecretAccessKeyFromEnv",
];

#[derive(Debug, Args)]
#[command(
    about = "Evaluate a ScaledObject's triggers once against their servers and show what KEDA and the HPA would do",
    long_about = "Evaluate a ScaledObject's triggers once against their servers and show what KEDA and the HPA \
would do.\n\nThe file must hold one keda.sh/v1alpha1 ScaledObject; it is validated first (as `prescale validate` \
does). Each trigger is queried once, now: for Prometheus, GET <serverAddress>/api/v1/query with the trigger's \
query, custom headers and bearer/basic/custom auth metadata. Then, from --current-replicas, KEDA's activation \
step (scale from zero, or to zero after cooldownPeriod) and one sync of a fresh HPA with the evaluated values \
(default controller settings: tolerance 0.1, 5m downscale stabilization).\n\nNot supported yet: triggers with an \
authenticationRef, AWS SigV4 signing (a trigger selecting it is refused; nothing is sent unsigned), tls auth, \
https server addresses, scalingModifiers (the HPA step is skipped) and trigger types other than prometheus.\n\n\
Exit status: 0 when every trigger evaluated, 1 when the ScaledObject is invalid or a trigger failed (the \
server's answer is printed), 2 for a usage error or an unreadable file.",
    after_help = "Examples:\n  prescale check -f scaledobject.yaml\n  \
prescale check -f examples/seed/scaledobject.yaml --server-address http://127.0.0.1:9090 --current-replicas 1\n  \
prescale check -f scaledobject.yaml --format json"
)]
pub struct CheckArgs {
    /// The ScaledObject manifest (YAML), or `-` for standard input.
    #[arg(short = 'f', long = "filename", value_name = "SCALEDOBJECT.yaml")]
    pub file: PathBuf,
    /// Query this server instead of every prometheus trigger's `serverAddress`. A trigger that selected
    /// AWS SigV4 signing is then queried unsigned (the address is taken to be a plain server).
    #[arg(long, value_name = "URL")]
    pub server_address: Option<String>,
    /// The target's current replica count (default: minReplicaCount, else 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    pub current_replicas: Option<i32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TriggerReport {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    metric_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    target_type: &'static str,
    threshold: f64,
    activation_threshold: f64,
    value: Option<f64>,
    active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct KedaReport {
    active: bool,
    /// The replica count KEDA would write now, if any.
    scale_to: Option<i32>,
    summary: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConditionReport {
    #[serde(rename = "type")]
    kind: String,
    status: String,
    reason: String,
    message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricReport {
    name: String,
    /// The usage the HPA computed (per pod for AverageValue), as a quantity.
    current: Option<String>,
    target: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HpaReport {
    name: String,
    current_replicas: i32,
    desired_replicas: i32,
    rescale: bool,
    reason: Option<String>,
    metrics: Vec<MetricReport>,
    conditions: Vec<ConditionReport>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckReport {
    namespace: String,
    name: String,
    /// The evaluation instant, as sent in the queries' `time` parameter.
    time: String,
    current_replicas: i32,
    notes: Vec<String>,
    triggers: Vec<TriggerReport>,
    keda: Option<KedaReport>,
    hpa: Option<HpaReport>,
}

fn read(file: &PathBuf) -> Result<String, String> {
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
    let docs = spec::load(&text);
    let reports = spec::validate(&docs);
    let mut invalid = false;
    for r in reports.iter().filter(|r| r.status == Status::Error) {
        invalid = true;
        let who = r.object.display_name();
        for f in &r.findings {
            eprintln!("{} {who}: {}: {}", f.severity, f.path, f.message);
        }
    }
    if invalid {
        return EXIT_FAILED;
    }
    let objects: Vec<&ScaledObject> = docs
        .iter()
        .filter_map(|d| match &d.content {
            DocumentContent::Keda(KedaObject::ScaledObject(so)) => Some(so),
            _ => None,
        })
        .collect();
    let so = match objects.as_slice() {
        [so] => *so,
        [] => {
            eprintln!(
                "prescale check: {} holds no ScaledObject",
                args.file.display()
            );
            return EXIT_FAILED;
        }
        many => {
            eprintln!(
                "prescale check: {} holds {} ScaledObjects; check takes one",
                args.file.display(),
                many.len()
            );
            return EXIT_USAGE;
        }
    };
    let targets = match trigger_targets(so) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("prescale check: {e}");
            return EXIT_FAILED;
        }
    };

    let now = SystemTime::now();
    let current = args
        .current_replicas
        .unwrap_or_else(|| so.spec.min_replica_count.unwrap_or(1));
    let mut report = CheckReport {
        namespace: so.metadata.namespace_or_default().to_string(),
        name: so.metadata.name().to_string(),
        time: rfc3339_seconds(now),
        current_replicas: current,
        notes: Vec::new(),
        triggers: Vec::new(),
        keda: None,
        hpa: None,
    };
    let mut evaluations = Vec::new();
    for (trigger, target) in so.spec.triggers.iter().zip(&targets) {
        let (tr, eval) = check_trigger(trigger, target, args, now, &mut report.notes);
        report.triggers.push(tr);
        evaluations.push(eval);
    }
    let all: Option<Vec<Evaluation>> = evaluations.into_iter().collect();
    if let Some(evals) = &all {
        engine(so, &targets, evals, now, current, &mut report);
    }

    let out = match args.format {
        Format::Text => text_output(so, &report),
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
    if all.is_some() { EXIT_OK } else { EXIT_FAILED }
}

/// Evaluates one trigger (after the `--server-address` override).
fn check_trigger(
    trigger: &ScaleTrigger,
    target: &TriggerTarget,
    args: &CheckArgs,
    now: SystemTime,
    notes: &mut Vec<String>,
) -> (TriggerReport, Option<Evaluation>) {
    let index = target.index;
    let mut trigger = trigger.clone();
    if let (Some(url), "prometheus") = (&args.server_address, trigger.kind.as_str()) {
        let sigv4 = metadata::parse(index, &trigger.metadata, &BTreeMap::new(), None)
            .is_ok_and(|m| m.auth.aws.is_some());
        let old = trigger
            .metadata
            .insert("serverAddress".to_string(), url.clone());
        let mut note = format!(
            "trigger {index}: serverAddress {} replaced by {url}",
            old.as_deref().unwrap_or("(unset)")
        );
        if sigv4 {
            let dropped: Vec<String> = AWS_METADATA_KEYS
                .iter()
                .filter_map(|k| trigger.metadata.remove(*k).map(|v| format!("{k}: {v}")))
                .collect();
            note.push_str(&format!(
                "; AWS SigV4 signing ({}) dropped: {url} is queried as a plain, unsigned server",
                dropped.join(", ")
            ));
        }
        notes.push(note);
    }
    let mut tr = TriggerReport {
        index,
        name: target.name.clone(),
        kind: trigger.kind.clone(),
        metric_name: target.metric_name.clone(),
        server_address: trigger.metadata.get("serverAddress").cloned(),
        query: trigger.metadata.get("query").cloned(),
        target_type: target.target_type.as_str(),
        threshold: target.threshold,
        activation_threshold: target.activation_threshold,
        value: None,
        active: None,
        error: None,
    };
    if let Some(auth) = &trigger.authentication_ref {
        tr.error = Some(format!(
            "authenticationRef {:?}: triggers with authentication are not supported by check yet",
            auth.name
        ));
        return (tr, None);
    }
    let result = build_scaler(index, &trigger, &BTreeMap::new(), None)
        .and_then(|scaler| scaler.evaluate(now));
    match result {
        Ok(eval) => {
            tr.value = Some(eval.value);
            tr.active = Some(eval.active);
            (tr, Some(eval))
        }
        Err(e) => {
            tr.error = Some(e.to_string());
            (tr, None)
        }
    }
}

/// KEDA's activation step and one HPA sync from `current` replicas.
fn engine(
    so: &ScaledObject,
    targets: &[TriggerTarget],
    evals: &[Evaluation],
    now: SystemTime,
    current: i32,
    report: &mut CheckReport,
) {
    let millis = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let now_ts = Timestamp::from_millis(millis);
    let is_active = evals.iter().any(|e| e.active);
    let active_triggers: Vec<String> = targets
        .iter()
        .zip(evals)
        .filter(|(_, e)| e.active)
        .map(|(t, _)| t.metric_name.clone())
        .collect();
    let names: Vec<String> = targets.iter().map(|t| t.metric_name.clone()).collect();
    // A ScaledObject that exists since long ago and was last active now: scale-to-zero waits a full cooldown.
    let mut state = KedaState::new(now_ts.minus_secs(86_400));
    state.last_active_time = Some(now_ts.truncate_to_secs());
    let result = request_scale(
        so,
        &state,
        &ScaleRequest {
            now: now_ts,
            current_replicas: current,
            is_active,
            is_error: false,
            active_triggers: &active_triggers,
            external_metric_names: &names,
        },
    );
    let target = format!(
        "{} {}",
        scale_target_kind(so),
        so.spec.scale_target_ref.name
    );
    let cooldown = result
        .conditions
        .get(ConditionType::Active)
        .is_some_and(|c| c.reason == "ScalerCooldown");
    let summary = match (is_active, result.scale_to) {
        (true, Some(to)) => format!("active: would scale {target} from {current} to {to}"),
        (true, None) => format!("active: leaves {target} at {current} to the HPA"),
        (false, Some(to)) => format!("not active: would scale {target} from {current} to {to}"),
        (false, None) if cooldown => format!(
            "not active: would scale {target} from {current} to {} once cooldownPeriod ({}s) passes without activity",
            idle_or_minimum_replica_count(so),
            so.spec.cooldown_period_secs()
        ),
        (false, None) => format!("not active: leaves {target} at {current}"),
    };
    report.keda = Some(KedaReport {
        active: is_active,
        scale_to: result.scale_to,
        summary,
    });

    let derived = match derive_hpa(so) {
        Ok(d) => d,
        Err(e) => {
            report.notes.push(format!("HPA not computed: {e}"));
            return;
        }
    };
    if derived.composite_scaler_name.is_some() {
        report
            .notes
            .push("HPA not computed: scalingModifiers are not supported by check yet".to_string());
        return;
    }
    let replicas = result.scale_to.unwrap_or(current);
    let milli: BTreeMap<&str, i64> = targets
        .iter()
        .zip(evals)
        .map(|(t, e)| (t.metric_name.as_str(), metric_in_milli(e.value)))
        .collect();
    let mut fetch = |m: &hpa::ExternalMetric| -> Result<Vec<i64>, String> {
        milli
            .get(m.name.as_str())
            .map(|v| vec![*v])
            .ok_or_else(|| format!("no value for {}", m.name))
    };
    let decision = hpa::reconcile(
        &ControllerConfig::default(),
        &derived.spec,
        &mut HpaState::new(),
        &Observation {
            now: now_ts,
            spec_replicas: replicas,
            status_replicas: replicas,
            ready_pods: replicas,
        },
        &mut fetch,
    );
    report.hpa = Some(HpaReport {
        name: derived.name.clone(),
        current_replicas: decision.current_replicas,
        desired_replicas: decision.desired_replicas,
        rescale: decision.rescale,
        reason: decision.rescale_reason.clone(),
        metrics: derived
            .spec
            .metrics
            .iter()
            .enumerate()
            .map(|(i, m)| MetricReport {
                name: m.name.clone(),
                current: decision
                    .metric_values
                    .get(i)
                    .copied()
                    .flatten()
                    .map(format_milli),
                target: match m.target {
                    hpa::MetricTarget::AverageValue(t) => {
                        format!("{} (AverageValue)", format_milli(t))
                    }
                    hpa::MetricTarget::Value(t) => format!("{} (Value)", format_milli(t)),
                },
            })
            .collect(),
        conditions: decision
            .conditions
            .iter()
            .map(|c| ConditionReport {
                kind: c.kind.to_string(),
                status: c.status.to_string(),
                reason: c.reason.clone(),
                message: c.message.clone(),
            })
            .collect(),
    });
}

fn text_output(so: &ScaledObject, r: &CheckReport) -> String {
    let mut out = format!(
        "ScaledObject {}/{} ({} {}), evaluated at {}, from {} replica(s)\n",
        r.namespace,
        r.name,
        scale_target_kind(so),
        so.spec.scale_target_ref.name,
        r.time,
        r.current_replicas
    );
    for n in &r.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    for t in &r.triggers {
        let name = t
            .name
            .as_deref()
            .map(|n| format!(" {n:?}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "trigger {}{name} ({}) {}: query {} at {}\n",
            t.index,
            t.kind,
            t.metric_name,
            t.query.as_deref().unwrap_or("-"),
            t.server_address.as_deref().unwrap_or("-"),
        ));
        match (&t.error, t.value, t.active) {
            (Some(e), _, _) => out.push_str(&format!("  FAILED: {e}\n")),
            (None, Some(v), Some(a)) => out.push_str(&format!(
                "  value {v}  threshold {} ({})  activationThreshold {}  active {a}\n",
                t.threshold, t.target_type, t.activation_threshold
            )),
            _ => {}
        }
    }
    if let Some(k) = &r.keda {
        out.push_str(&format!("KEDA: {}\n", k.summary));
    }
    if let Some(h) = &r.hpa {
        out.push_str(&format!(
            "HPA {}: from {} replica(s), desired {}{}\n",
            h.name,
            h.current_replicas,
            h.desired_replicas,
            match &h.reason {
                Some(reason) => format!(" ({reason})"),
                None => " (no rescale)".to_string(),
            }
        ));
        for m in &h.metrics {
            out.push_str(&format!(
                "  metric {}: current {} target {}\n",
                m.name,
                m.current.as_deref().unwrap_or("<unknown>"),
                m.target
            ));
        }
        for c in &h.conditions {
            out.push_str(&format!(
                "  {}={} {}: {}\n",
                c.kind, c.status, c.reason, c.message
            ));
        }
    }
    out
}
