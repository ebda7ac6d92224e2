//! `prescale check`'s driver: evaluate each trigger of a ScaledObject once against its server (through
//! `prescale-scalers`) and explain what KEDA and the HPA would do with the values (through the engine in
//! `prescale-core`). The CLI only reads the file, validates it and prints the report.
#![forbid(unsafe_code)]

pub mod sources;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use prescale_core::hpa::{self, ControllerConfig, HpaState, Observation};
use prescale_core::keda::auth::ResolvedAuth;
use prescale_core::keda::executor::{ScaleRequest, idle_or_minimum_replica_count, request_scale};
use prescale_core::keda::metric::metric_in_milli;
use prescale_core::keda::object::scale_target_kind;
use prescale_core::keda::{ConditionType, KedaState, TriggerTarget, derive_hpa, trigger_targets};
use prescale_core::quantity::format_milli;
use prescale_core::spec::{PodIdentityProvider, ScaleTrigger, ScaledObject};
use prescale_core::time::Timestamp;
use prescale_scalers::poll::DEFAULT_MAX_IN_FLIGHT;
use prescale_scalers::prometheus::metadata::{
    self, AWS_AUTH_PARAMS, AWS_METADATA_KEYS, PodIdentity,
};
use prescale_scalers::prometheus::request::{redact_userinfo, rfc3339_seconds, server_host};
use prescale_scalers::{Evaluation, Scaler, ScalerContext, TriggerAuth, evaluate_all};
use serde::Serialize;

/// The crate's one error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The ScaledObject's triggers cannot be turned into targets (e.g. an unsupported type).
    #[error(transparent)]
    Engine(#[from] prescale_core::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Query this server instead of every prometheus trigger's `serverAddress` (drops SigV4 selection).
    pub server_address: Option<String>,
    /// The target's current replica count (default: minReplicaCount, else 1).
    pub current_replicas: Option<i32>,
    /// Resolves `authenticationRef`s; `None` refuses the triggers that have one.
    pub auth: Option<sources::AuthConfig>,
}

/// For `--server-address`: a trigger that signs with SigV4 keeps signing when the new address is an Amazon
/// Managed Service for Prometheus workspace; otherwise (a local Prometheus, a sigv4-proxy) its AWS settings are
/// removed so that the plain server is queried unsigned. Returns what was removed (names, never values).
fn drop_sigv4_unless_amp(
    index: usize,
    url: &str,
    trigger: &mut ScaleTrigger,
    auth: &mut ResolvedAuth,
) -> Vec<String> {
    if server_host(url).is_some_and(|h| prescale_aws::aps_region_from_host(&h).is_some()) {
        return Vec::new();
    }
    let pod_identity = auth.pod_identity.as_ref().map(PodIdentity::from_spec);
    let signs = metadata::parse_trigger(&metadata::TriggerInput {
        trigger_index: index,
        metadata: &trigger.metadata,
        auth_params: &auth.params,
        resolved_env: &auth.resolved_env,
        pod_identity,
        metric_type: trigger.metric_type.as_ref(),
    })
    .is_ok_and(|m| m.auth.aws.is_some() || !m.auth.aws_settings_without_credentials.is_empty());
    if !signs {
        return Vec::new();
    }
    let mut dropped: Vec<String> = AWS_METADATA_KEYS
        .iter()
        .filter(|k| trigger.metadata.remove(**k).is_some())
        .map(|k| format!("metadata {k}"))
        .collect();
    dropped.extend(
        AWS_AUTH_PARAMS
            .iter()
            .filter(|k| auth.params.remove(**k).is_some())
            .map(|k| format!("authentication parameter {k}")),
    );
    if auth.pod_identity.as_ref().is_some_and(|p| {
        matches!(
            p.provider,
            PodIdentityProvider::Aws | PodIdentityProvider::AwsEks
        )
    }) {
        auth.pod_identity = None;
        dropped.push("podIdentity aws".to_string());
    }
    dropped
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerReport {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub metric_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub target_type: &'static str,
    pub threshold: f64,
    pub activation_threshold: f64,
    /// How queries are signed (`service aps, region …, credentials: …`), when they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigv4: Option<String>,
    pub value: Option<f64>,
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KedaReport {
    pub active: bool,
    /// The replica count KEDA would write now, if any.
    pub scale_to: Option<i32>,
    pub summary: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionReport {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricReport {
    pub name: String,
    /// The usage the HPA computed (per pod for AverageValue), as a quantity.
    pub current: Option<String>,
    pub target: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaReport {
    pub name: String,
    pub current_replicas: i32,
    pub desired_replicas: i32,
    pub rescale: bool,
    pub reason: Option<String>,
    pub metrics: Vec<MetricReport>,
    pub conditions: Vec<ConditionReport>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub namespace: String,
    pub name: String,
    /// The evaluation instant, as sent in the queries' `time` parameter.
    pub time: String,
    pub current_replicas: i32,
    pub notes: Vec<String>,
    pub triggers: Vec<TriggerReport>,
    pub keda: Option<KedaReport>,
    pub hpa: Option<HpaReport>,
}

/// Evaluate every trigger once at `now`, then (if all evaluated) KEDA's activation step and one HPA sync.
/// Returns the report and whether every trigger evaluated. Runs on the caller's tokio runtime.
pub async fn check(
    so: &ScaledObject,
    opts: &CheckOptions,
    now: SystemTime,
) -> Result<(CheckReport, bool)> {
    let targets = trigger_targets(so)?;
    let current = opts
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
    let ctx = ScalerContext::new();
    // Build every trigger first, then evaluate them together: a slow server delays the check by its own
    // timeout, not by the sum of all of them.
    let mut scalers = Vec::new();
    let mut built = Vec::new();
    for (trigger, target) in so.spec.triggers.iter().zip(&targets) {
        let auth = sources::resolve(opts.auth.as_ref(), so, trigger);
        let (tr, scaler) = prepare_trigger(
            &ctx,
            trigger,
            target,
            opts.server_address.as_deref(),
            auth,
            &mut report.notes,
        );
        report.triggers.push(tr);
        if let Some(scaler) = scaler {
            built.push(report.triggers.len() - 1);
            scalers.push(scaler);
        }
    }
    let mut evaluations: Vec<Option<Evaluation>> = vec![None; report.triggers.len()];
    let results = evaluate_all(&scalers, DEFAULT_MAX_IN_FLIGHT, now).await;
    for (i, result) in built.into_iter().zip(results) {
        let tr = &mut report.triggers[i];
        match result {
            Ok(eval) => {
                tr.value = Some(eval.value);
                tr.active = Some(eval.active);
                evaluations[i] = Some(eval);
            }
            Err(e) => tr.error = Some(e.to_string()),
        }
    }
    let all: Option<Vec<Evaluation>> = evaluations.into_iter().collect();
    if let Some(evals) = &all {
        engine(so, &targets, evals, now, current, &mut report);
    }
    Ok((report, all.is_some()))
}

/// What a trigger's queries are sent with, from its resolved authentication: the trigger with the
/// `server_address` override applied (for prometheus triggers; SigV4 settings are dropped unless the new
/// address is an Amazon Managed Service for Prometheus workspace) and the authentication left to use. Adds to
/// `notes` where auth parameters came from and what the override changed. `prescale check` queries with these
/// and `prescale backtest` fetches its ranges with the same.
pub fn apply_options(
    index: usize,
    trigger: &ScaleTrigger,
    server_address: Option<&str>,
    mut auth: ResolvedAuth,
    notes: &mut Vec<String>,
) -> (ScaleTrigger, ResolvedAuth) {
    let mut trigger = trigger.clone();
    if !auth.sources.is_empty() {
        let from: Vec<String> = auth
            .sources
            .iter()
            .map(|s| format!("{} from {}", s.parameter, s.origin))
            .collect();
        notes.push(format!(
            "trigger {index}: auth parameters {}",
            from.join(", ")
        ));
    }
    if let (Some(url), "prometheus") = (server_address, trigger.kind.as_str()) {
        let old = trigger
            .metadata
            .insert("serverAddress".to_string(), url.to_string());
        let shown = redact_userinfo(url);
        let mut note = format!(
            "trigger {index}: serverAddress {} replaced by {shown}",
            old.as_deref().map_or("(unset)".into(), redact_userinfo)
        );
        let dropped = drop_sigv4_unless_amp(index, url, &mut trigger, &mut auth);
        if !dropped.is_empty() {
            note.push_str(&format!(
                "; AWS SigV4 signing ({}) dropped: {shown} is not an Amazon Managed Service for Prometheus \
                 workspace, so it is queried as a plain, unsigned server",
                dropped.join(", ")
            ));
        }
        notes.push(note);
    }
    (trigger, auth)
}

/// Resolves one trigger's authentication, applies the `--server-address` override and builds its scaler; the
/// report carries the error when any step fails.
fn prepare_trigger(
    ctx: &ScalerContext,
    trigger: &ScaleTrigger,
    target: &TriggerTarget,
    server_address: Option<&str>,
    auth: std::result::Result<ResolvedAuth, String>,
    notes: &mut Vec<String>,
) -> (TriggerReport, Option<Box<dyn Scaler>>) {
    let index = target.index;
    let mut tr = TriggerReport {
        index,
        name: target.name.clone(),
        kind: trigger.kind.clone(),
        metric_name: target.metric_name.clone(),
        server_address: trigger
            .metadata
            .get("serverAddress")
            .map(|a| redact_userinfo(a).into_owned()),
        query: trigger.metadata.get("query").cloned(),
        target_type: target.target_type.as_str(),
        threshold: target.threshold,
        activation_threshold: target.activation_threshold,
        sigv4: None,
        value: None,
        active: None,
        error: None,
    };
    let auth = match auth {
        Ok(auth) => auth,
        Err(e) => {
            tr.error = Some(e);
            return (tr, None);
        }
    };
    let (trigger, auth) = apply_options(index, trigger, server_address, auth, notes);
    // The address queried: `--server-address` when apply_options put it in.
    tr.server_address = trigger
        .metadata
        .get("serverAddress")
        .map(|a| redact_userinfo(a).into_owned());
    let scaler_auth = TriggerAuth {
        params: Some(&auth.params),
        pod_identity: auth.pod_identity.as_ref(),
        resolved_env: Some(&auth.resolved_env),
    };
    match ctx.build(index, &trigger, scaler_auth) {
        Ok(scaler) => {
            tr.sigv4 = scaler
                .describe()
                .into_iter()
                .find(|(k, _)| *k == "sigv4")
                .map(|(_, v)| v);
            (tr, Some(scaler))
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
    if let Err(e) = hpa::validate_spec(&derived.name, &derived.spec) {
        report.notes.push(format!(
            "HPA not computed: the API server would reject HorizontalPodAutoscaler {}: {e}",
            derived.name
        ));
        return;
    }
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

/// The report as text, one line per finding.
pub fn render_text(so: &ScaledObject, r: &CheckReport) -> String {
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
        if let Some(sig) = &t.sigv4 {
            out.push_str(&format!("  signed with AWS SigV4: {sig}\n"));
        }
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
