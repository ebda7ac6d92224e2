//! KEDA's validation, with KEDA's messages, in the order a cluster applies it:
//!
//! 1. the API server: object metadata (name), then the CRD's OpenAPI schema and CEL rule
//!    ([`super::crd::check`]); if this rejects the object, KEDA's webhook never sees it and nothing
//!    further is reported;
//! 2. KEDA's admission webhook (`apis/keda/v1alpha1/*_webhook.go`): every check that does not need
//!    a cluster, and its warnings. KEDA stops at its first error; here every failing check is
//!    reported;
//! 3. what fails later in KEDA's operator, when it builds scalers and the HPA: unknown trigger
//!    types, metric types the scaler or the HPA API rejects, HPA behavior policies the HPA API
//!    rejects, an unparsable `paused-replicas` annotation;
//! 4. across the documents validated together: two ScaledObjects in one namespace targeting the
//!    same workload, or owning the same HPA name (the later document is rejected, as `kubectl
//!    apply` of the same stream would).
//!
//! Not checked: what needs a cluster — existing HPAs (`verifyHpas`), container resource requests
//! of cpu/memory targets (`verifyCPUMemoryScalers`, apart from its scale-to-zero rule), referenced
//! TriggerAuthentications and Secrets; each scaler's own metadata; and, for
//! `scalingModifiers.formula`, expr's type checks and KEDA's trial run (the formula is parsed and
//! its names checked, see [`super::formula`]).

use serde::Serialize;

use super::crd::{self, CrdKind};
use super::finding::{Finding, has_errors};
use super::load::{Document, DocumentContent, KedaObject, ObjectRef};
use super::{
    MetricTargetType, ObjectMeta, ScaleTrigger, ScaledJob, ScaledObject, TriggerAuthenticationSpec,
    go,
};
use super::{PodIdentityProvider, formula};
use crate::{Error, Result};

/// Kubernetes' limit on label values, which KEDA applies to ScaledObject and HPA names.
pub const MAX_LABEL_VALUE_LENGTH: usize = 63;

/// The outcome for one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A KEDA object without errors (it may have warnings).
    Ok,
    /// A KEDA object (or a document meant to be one) with at least one error.
    Error,
    /// Not a `keda.sh/v1alpha1` object.
    Skipped,
}

/// The validation result of one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub object: ObjectRef,
    pub status: Status,
    /// Errors first, then warnings, each in the order found.
    pub findings: Vec<Finding>,
}

/// Validate a set of loaded documents (one report per document, in order). Cross-object rules
/// apply within the set: a ScaledObject conflicts only with ScaledObjects that precede it and are
/// themselves valid.
pub fn validate(docs: &[Document]) -> Vec<Report> {
    let mut accepted: Vec<&ScaledObject> = Vec::new();
    let mut reports = Vec::with_capacity(docs.len());
    for doc in docs {
        let report = match &doc.content {
            DocumentContent::Other(object) => Report {
                object: object.clone(),
                status: Status::Skipped,
                findings: Vec::new(),
            },
            DocumentContent::Error { object, errors } => Report {
                object: object.clone(),
                status: Status::Error,
                findings: sorted(errors.iter().chain(&doc.warnings).cloned().collect()),
            },
            DocumentContent::Keda(obj) => {
                let mut findings = doc.warnings.clone();
                findings.extend(validate_object(obj));
                if let KedaObject::ScaledObject(so) = obj
                    && !has_errors(&findings)
                {
                    let conflicts = check_conflicts(so, &accepted);
                    if conflicts.is_empty() {
                        accepted.retain(|a| !same_object(a, so));
                        accepted.push(so);
                    }
                    findings.extend(conflicts);
                }
                Report {
                    object: obj.object_ref(),
                    status: if has_errors(&findings) {
                        Status::Error
                    } else {
                        Status::Ok
                    },
                    findings: sorted(findings),
                }
            }
        };
        reports.push(report);
    }
    reports
}

fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by_key(|f| f.severity);
    findings
}

/// Every single-object check for one KEDA object (stages 1–3 of the module docs).
pub fn validate_object(obj: &KedaObject) -> Vec<Finding> {
    match obj {
        KedaObject::ScaledObject(so) => validate_scaled_object(so),
        KedaObject::ScaledJob(sj) => validate_scaled_job(sj),
        KedaObject::TriggerAuthentication(ta) => validate_trigger_authentication(
            CrdKind::TriggerAuthentication,
            &ta.metadata,
            &ta.spec,
            obj,
        ),
        KedaObject::ClusterTriggerAuthentication(cta) => validate_trigger_authentication(
            CrdKind::ClusterTriggerAuthentication,
            &cta.metadata,
            &cta.spec,
            obj,
        ),
    }
}

/// API-server checks: metadata and the CRD schema. Empty when the object would be admitted to the
/// webhook.
/// The API server's checks of an object: metadata, then the CRD schema against the object as JSON.
fn api_server_checks(
    kind: CrdKind,
    meta: &ObjectMeta,
    obj: &impl serde::Serialize,
) -> Vec<Finding> {
    let mut out = metadata_findings(kind, meta);
    // Serializing the spec types cannot fail (string keys, no custom serializers).
    out.extend(crd::check(
        kind,
        &serde_json::to_value(obj).unwrap_or(serde_json::Value::Null),
    ));
    out
}

fn validate_trigger_authentication(
    kind: CrdKind,
    meta: &ObjectMeta,
    spec: &TriggerAuthenticationSpec,
    obj: &KedaObject,
) -> Vec<Finding> {
    let mut out = api_server_checks(kind, meta, obj);
    if has_errors(&out) {
        return out;
    }
    if let Err(e) = validate_trigger_authentication_spec(spec) {
        out.push(to_finding(e));
    }
    // Operator: `filePath` is resolved only for ClusterTriggerAuthentication, relative to
    // `--filepath-auth-root-path`, and every ScaledObject using the object fails otherwise.
    if let Some(file_path) = spec.file_path.as_deref().filter(|p| !p.is_empty()) {
        if kind != CrdKind::ClusterTriggerAuthentication {
            out.push(Finding::error(
                "spec.filePath",
                format!(
                    "filePath is only supported for ClusterTriggerAuthentication, got kind: {}",
                    kind.name()
                ),
            ));
        } else if file_path.starts_with('/') || file_path.contains("..") {
            out.push(Finding::error(
                "spec.filePath",
                "filePath must be relative and not contain '..'",
            ));
        }
    }
    out
}

/// All checks of a ScaledJob: API server, webhook (`ValidateTriggers`), operator (trigger types).
pub fn validate_scaled_job(sj: &ScaledJob) -> Vec<Finding> {
    let mut out = api_server_checks(CrdKind::ScaledJob, &sj.metadata, sj);
    if has_errors(&out) {
        return out;
    }
    if let Err(e) = validate_triggers(&sj.spec.triggers) {
        out.push(to_finding(e));
    }
    out.extend(unknown_trigger_types(&sj.spec.triggers));
    out
}

/// All checks of a ScaledObject on its own (stages 1–3 of the module docs).
pub fn validate_scaled_object(so: &ScaledObject) -> Vec<Finding> {
    let out = api_server_checks(CrdKind::ScaledObject, &so.metadata, so);
    if has_errors(&out) {
        return out;
    }
    let mut errors = Vec::new();
    // Admission webhook (`validateWorkload`).
    errors.extend(verify_name(so).err());
    errors.extend(check_replica_count_bounds_are_valid(so).err());
    errors.extend(check_fallback_valid(so).err());
    errors.extend(validate_triggers(&so.spec.triggers).err());
    errors.extend(so.scale_target_gvk().err());
    if so.is_using_modifiers() {
        errors.extend(validate_scaling_modifiers(so).err());
    }
    if so.fallback_scaling_modifiers()
        && so
            .spec
            .advanced
            .as_ref()
            .and_then(|a| a.scaling_modifiers.as_ref())
            .and_then(|m| m.formula.as_deref())
            .is_none_or(str::is_empty)
    {
        errors.push(Error::Invalid {
            path: "spec.fallback.behavior".into(),
            message:
                "scalingModifiers fallback behavior requires scalingModifiers.formula to be defined"
                    .into(),
        });
    }
    errors.extend(check_scale_to_zero_with_resource_triggers(so).err());
    let mut out: Vec<Finding> = errors.into_iter().map(to_finding).collect();
    if out.is_empty() {
        out.extend(webhook_warnings(so));
    }
    // Operator (scaler build, HPA creation, reconcile).
    out.extend(unknown_trigger_types(&so.spec.triggers));
    out.extend(trigger_metric_type_findings(so));
    out.extend(hpa_behavior_findings(so));
    if let Err(e) = so.paused_replica_count() {
        let mut f = to_finding(e);
        f.message = format!("failed to parse paused replica count: {}", f.message);
        out.push(f);
    }
    out.extend(proactive_findings(so));
    out
}

/// prescale's own `prescale.dev/` annotations (the proactive policy). KEDA ignores them, so problems are
/// warnings: prescale then runs the object reactively, as KEDA would.
fn proactive_findings(so: &ScaledObject) -> Vec<Finding> {
    use crate::proactive;
    let mut out = Vec::new();
    for key in so.metadata.annotations.keys() {
        if key.starts_with("prescale.dev/") && !proactive::ANNOTATIONS.contains(&key.as_str()) {
            out.push(Finding::warning(
                format!("metadata.annotations[\"{key}\"]"),
                format!(
                    "unknown prescale annotation; known: {}",
                    proactive::ANNOTATIONS.join(", ")
                ),
            ));
        }
    }
    match proactive::spec(so) {
        Ok(Some(_)) => {
            for (i, t) in so.spec.triggers.iter().enumerate() {
                if t.uses_cached_metrics() {
                    out.push(Finding::warning(
                        format!("spec.triggers[{i}].useCachedMetrics"),
                        format!(
                            "{}; this trigger is served reactively",
                            proactive::NOT_WITH_CACHED_METRICS
                        ),
                    ));
                }
            }
        }
        Ok(None) => {}
        Err(e) => out.push(Finding::warning(
            format!("metadata.annotations[\"{}\"]", e.annotation),
            format!(
                "{}; prescale runs this ScaledObject reactively (as KEDA would) until it is fixed",
                e.message
            ),
        )),
    }
    out
}

fn to_finding(e: Error) -> Finding {
    match e {
        Error::Invalid { path, message } => Finding::error(path, message),
        other => Finding::error("", other.to_string()),
    }
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Metadata (API server)

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && alnum(b[0])
        && alnum(b[b.len() - 1])
        && b.iter().all(|&c| alnum(c) || c == b'-')
}

fn is_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(is_dns1123_label)
}

/// `metadata.name` is required and must be a DNS-1123 subdomain (as for every custom resource);
/// `metadata.namespace`, when set, must be a DNS-1123 label.
fn metadata_findings(kind: CrdKind, meta: &ObjectMeta) -> Vec<Finding> {
    let mut out = Vec::new();
    let name = meta.name();
    if name.is_empty() {
        if meta.generate_name.as_deref().is_none_or(str::is_empty) {
            out.push(Finding::error(
                "metadata.name",
                "Required value: name or generateName is required",
            ));
        }
    } else {
        if name.len() > 253 {
            out.push(Finding::error(
                "metadata.name",
                format!(
                    "Invalid value: {}: must be no more than 253 characters",
                    go::quote(name)
                ),
            ));
        }
        if !is_dns1123_subdomain(name) {
            out.push(Finding::error(
                "metadata.name",
                format!(
                    "Invalid value: {}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '{DNS1123_SUBDOMAIN_FMT}')",
                    go::quote(name)
                ),
            ));
        }
    }
    if kind.namespaced()
        && let Some(ns) = meta.namespace.as_deref().filter(|n| !n.is_empty())
    {
        if ns.len() > 63 {
            out.push(Finding::error(
                "metadata.namespace",
                format!(
                    "Invalid value: {}: must be no more than 63 characters",
                    go::quote(ns)
                ),
            ));
        }
        if !is_dns1123_label(ns) {
            out.push(Finding::error(
                "metadata.namespace",
                format!(
                    "Invalid value: {}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '{DNS1123_LABEL_FMT}')",
                    go::quote(ns)
                ),
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Webhook: ScaledObject

/// `verifyName`: the ScaledObject name and its HPA name are label values (at most 63 bytes).
pub fn verify_name(so: &ScaledObject) -> Result<()> {
    let name = so.metadata.name();
    if name.len() > MAX_LABEL_VALUE_LENGTH {
        return Err(invalid(
            "metadata.name",
            format!(
                "scaledobject name {} is {} characters long; must be no more than {} characters because it is used as the {} label value",
                go::quote(name),
                name.len(),
                MAX_LABEL_VALUE_LENGTH,
                go::quote(super::LABEL_SCALED_OBJECT_NAME)
            ),
        ));
    }
    let hpa_name = so.hpa_name();
    if hpa_name.len() > MAX_LABEL_VALUE_LENGTH {
        return Err(invalid(
            hpa_name_path(so),
            format!(
                "HPA name {} derived from scaledobject is {} characters long; must be no more than {} characters; set spec.advanced.horizontalPodAutoscalerConfig.name to a shorter name or shorten the scaledobject name",
                go::quote(&hpa_name),
                hpa_name.len(),
                MAX_LABEL_VALUE_LENGTH
            ),
        ));
    }
    Ok(())
}

/// Where the HPA name comes from: the custom name, or the ScaledObject name.
fn hpa_name_path(so: &ScaledObject) -> &'static str {
    let custom = so
        .spec
        .advanced
        .as_ref()
        .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
        .and_then(|h| h.name.as_deref())
        .is_some_and(|n| !n.is_empty());
    if custom {
        "spec.advanced.horizontalPodAutoscalerConfig.name"
    } else {
        "metadata.name"
    }
}

/// `CheckReplicaCountBoundsAreValid`. The minimum compared is `GetHPAMinReplicas` when
/// `minReplicaCount` is set (so an explicit 0 counts as 1) and 0 when unset.
pub fn check_replica_count_bounds_are_valid(so: &ScaledObject) -> Result<()> {
    let min = if so.spec.min_replica_count.is_some() {
        so.hpa_min_replicas()
    } else {
        0
    };
    let max = so.hpa_max_replicas();
    if min > max {
        return Err(invalid(
            "spec.minReplicaCount",
            format!("MinReplicaCount={min} must be less than MaxReplicaCount={max}"),
        ));
    }
    if let Some(idle) = so.spec.idle_replica_count
        && idle >= min
    {
        return Err(invalid(
            "spec.idleReplicaCount",
            format!("IdleReplicaCount={idle} must be less than MinReplicaCount={min}"),
        ));
    }
    Ok(())
}

/// `CheckFallbackValid`: non-negative threshold and replicas; unless scalingModifiers are used, at
/// least one trigger that is not cpu/memory.
pub fn check_fallback_valid(so: &ScaledObject) -> Result<()> {
    let Some(fallback) = &so.spec.fallback else {
        return Ok(());
    };
    if fallback.failure_threshold < 0 || fallback.replicas < 0 {
        return Err(invalid(
            "spec.fallback",
            format!(
                "FailureThreshold={} & Replicas={} must both be greater than or equal to 0",
                fallback.failure_threshold, fallback.replicas
            ),
        ));
    }
    if !so.is_using_modifiers() && so.spec.triggers.iter().all(ScaleTrigger::is_cpu_or_memory) {
        return Err(invalid(
            "spec.fallback",
            "at least one trigger (that is not cpu or memory) has to have the `AverageValue` type for the fallback to be enabled",
        ));
    }
    Ok(())
}

/// `ValidateTriggers` (ScaledObject and ScaledJob): at least one trigger; `useCachedMetrics` not on
/// cpu, memory or cron; non-empty names unique.
pub fn validate_triggers(triggers: &[ScaleTrigger]) -> Result<()> {
    if triggers.is_empty() {
        return Err(invalid(
            "spec.triggers",
            "no triggers defined in the ScaledObject/ScaledJob",
        ));
    }
    let mut names = std::collections::HashSet::new();
    for (i, t) in triggers.iter().enumerate() {
        if t.uses_cached_metrics() && matches!(t.kind.as_str(), "cpu" | "memory" | "cron") {
            return Err(invalid(
                format!("spec.triggers[{i}].useCachedMetrics"),
                format!(
                    "property \"useCachedMetrics\" is not supported for {} scaler",
                    go::quote(&t.kind)
                ),
            ));
        }
        let name = t.name();
        if !name.is_empty() && !names.insert(name) {
            return Err(invalid(
                format!("spec.triggers[{i}].name"),
                format!(
                    "triggerName {} is defined multiple times in the ScaledObject/ScaledJob, but it must be unique",
                    go::quote(name)
                ),
            ));
        }
    }
    Ok(())
}

/// `ValidateAndCompileScalingModifiers` for a ScaledObject that uses scalingModifiers: a formula
/// is required, so is a target, the formula must be a valid expression over the names of the
/// non-cpu/memory triggers, and the target must be a float > 0 with a metric type other than
/// `Utilization`. Messages joined with a newline are KEDA's `errors.Join`.
pub fn validate_scaling_modifiers(so: &ScaledObject) -> Result<()> {
    let sm = so
        .spec
        .advanced
        .as_ref()
        .and_then(|a| a.scaling_modifiers.clone())
        .unwrap_or_default();
    let base = "spec.advanced.scalingModifiers";
    let formula_text = sm.formula.as_deref().unwrap_or("");
    if formula_text.is_empty() {
        return Err(invalid(
            format!("{base}.formula"),
            "error ScalingModifiers.Formula is mandatory",
        ));
    }
    let target = sm.target.as_deref().unwrap_or("");
    if target.is_empty() {
        return Err(invalid(
            format!("{base}.target"),
            "error validating formula in ScalingModifiers\nformula is given but target is empty",
        ));
    }
    let names: Vec<&str> = so
        .spec
        .triggers
        .iter()
        .filter(|t| !t.is_cpu_or_memory() && !t.name().is_empty())
        .map(ScaleTrigger::name)
        .collect();
    if let Err(e) = formula::check(formula_text, &names) {
        return Err(invalid(
            format!("{base}.formula"),
            format!("error validating formula in ScalingModifiers\n{e}"),
        ));
    }
    match go::parse_float64(target) {
        Err(e) => {
            return Err(invalid(
                format!("{base}.target"),
                format!(
                    "error validating target in ScalingModifiers\nerror converting target for scalingModifiers (string->float) to valid target: {e}"
                ),
            ));
        }
        // `num <= 0.0` (NaN passes, as in Go).
        Ok(v) if v <= 0.0 => {
            return Err(invalid(
                format!("{base}.target"),
                "error validating target in ScalingModifiers\nerror converting target for scalingModifiers (string->float) to valid target: %!w(<nil>)",
            ));
        }
        Ok(_) => {}
    }
    if sm.metric_type == Some(MetricTargetType::Utilization) {
        return Err(invalid(
            format!("{base}.metricType"),
            "error validating target in ScalingModifiers\nerror trigger type is Utilization, but it needs to be AverageValue or Value for external metrics",
        ));
    }
    Ok(())
}

/// `verifyCPUMemoryScalers`, the part that needs no cluster: a Deployment or StatefulSet scaled
/// only by cpu/memory triggers cannot scale to zero, so `minReplicaCount` must be > 0. (KEDA first
/// checks the containers' resource requests, which needs the workload.)
pub fn check_scale_to_zero_with_resource_triggers(so: &ScaledObject) -> Result<()> {
    let triggers = &so.spec.triggers;
    if triggers.is_empty() || !triggers.iter().all(ScaleTrigger::is_cpu_or_memory) {
        return Ok(());
    }
    let gvk = so.scale_target_gvk_string().unwrap_or_default();
    if gvk != "apps/v1.Deployment" && gvk != "apps/v1.StatefulSet" {
        return Ok(());
    }
    if so.spec.min_replica_count.unwrap_or(0) == 0 {
        return Err(invalid(
            "spec.minReplicaCount",
            "scaledobject has only cpu/memory triggers AND minReplica is 0 (scale to zero doesn't work in this case)",
        ));
    }
    Ok(())
}

/// The webhook's warnings: `pollingInterval` / `cooldownPeriod` set although they have no effect
/// (`minReplicaCount > 0`, no `idleReplicaCount`, and for the polling interval no
/// `useCachedMetrics` trigger).
pub fn webhook_warnings(so: &ScaledObject) -> Vec<Finding> {
    let mut out = Vec::new();
    let min = so.spec.min_replica_count.unwrap_or(0);
    let idle_disabled = so.spec.idle_replica_count.is_none();
    let cached = so
        .spec
        .triggers
        .iter()
        .any(ScaleTrigger::uses_cached_metrics);
    if so.spec.polling_interval.is_some() && min > 0 && idle_disabled && !cached {
        out.push(Finding::warning(
            "spec.pollingInterval",
            "PollingInterval is configured but is not relevant. PollingInterval is only relevant when minReplicaCount = 0, idleReplicaCount is set, or useCachedMetrics is enabled",
        ));
    }
    if so.spec.cooldown_period.is_some() && min > 0 && idle_disabled {
        out.push(Finding::warning(
            "spec.cooldownPeriod",
            "CooldownPeriod is configured but is not relevant. CooldownPeriod is only relevant when minReplicaCount = 0 or idleReplicaCount is set",
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Webhook: TriggerAuthentication / ClusterTriggerAuthentication

/// `validateSpec` of the TriggerAuthentication webhook. As in KEDA, a pod identity provider
/// other than `azure-workload` or `aws` ends the checks (oauth2 is then not checked).
pub fn validate_trigger_authentication_spec(spec: &TriggerAuthenticationSpec) -> Result<()> {
    if let Some(pi) = &spec.pod_identity {
        let set_empty = |v: &Option<String>| v.as_deref() == Some("");
        let non_empty = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        match pi.provider {
            PodIdentityProvider::AzureWorkload => {
                if set_empty(&pi.identity_id) {
                    return Err(invalid(
                        "spec.podIdentity.identityId",
                        "identityId of PodIdentity should not be empty. If it's set, identityId has to be different than \"\"",
                    ));
                }
                if non_empty(&pi.identity_authority_host) {
                    if !non_empty(&pi.identity_tenant_id) {
                        return Err(invalid(
                            "spec.podIdentity.identityTenantId",
                            "identityTenantID of PodIdentity should not be nil or empty when identityAuthorityHost of PodIdentity is set",
                        ));
                    }
                } else if set_empty(&pi.identity_tenant_id) {
                    return Err(invalid(
                        "spec.podIdentity.identityTenantId",
                        "identityTenantId of PodIdentity should not be empty. If it's set, identityTenantId has to be different than \"\"",
                    ));
                }
            }
            PodIdentityProvider::Aws => {
                if non_empty(&pi.role_arn) && pi.is_workload_identity_owner() {
                    return Err(invalid(
                        "spec.podIdentity.roleArn",
                        "roleArn of PodIdentity can't be set if KEDA isn't identityOwner",
                    ));
                }
                if non_empty(&pi.external_id) && !non_empty(&pi.role_arn) {
                    return Err(invalid(
                        "spec.podIdentity.externalID",
                        "externalID of PodIdentity requires roleArn to be set",
                    ));
                }
            }
            _ => return Ok(()),
        }
    }
    if let Some(oauth2) = &spec.oauth2 {
        // The CRD defaults `type` to clientCredentials, its only allowed value.
        if oauth2.client_id.is_empty() {
            return Err(invalid(
                "spec.oauth2.clientId",
                "oauth2.clientId is required when oauth2 is configured",
            ));
        }
        if oauth2.token_url.is_empty() {
            return Err(invalid(
                "spec.oauth2.tokenUrl",
                "oauth2.tokenUrl is required when oauth2 is configured",
            ));
        }
        if !is_http_url_with_host(&oauth2.token_url) {
            return Err(invalid(
                "spec.oauth2.tokenUrl",
                "oauth2.tokenUrl must be a valid http or https URL",
            ));
        }
    }
    Ok(())
}

/// Go's `url.Parse(u)` succeeding with scheme `http`/`https` and a non-empty host.
fn is_http_url_with_host(u: &str) -> bool {
    if u.bytes().any(|b| b < 0x20 || b == 0x7f || b == b' ') {
        return false;
    }
    let Some((scheme, rest)) = u.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(h, _)| h),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    !host.is_empty()
}

// ---------------------------------------------------------------------------------------------
// Operator

/// The trigger types KEDA 2.20 can build (`pkg/scaling/scalers_builder.go`).
pub const SCALER_TYPES: &[&str] = &[
    "activemq",
    "apache-kafka",
    "arangodb",
    "artemis-queue",
    "aws-cloudwatch",
    "aws-dynamodb",
    "aws-dynamodb-streams",
    "aws-kinesis-stream",
    "aws-sqs-queue",
    "azure-app-insights",
    "azure-blob",
    "azure-data-explorer",
    "azure-eventhub",
    "azure-log-analytics",
    "azure-monitor",
    "azure-pipelines",
    "azure-queue",
    "azure-servicebus",
    "beanstalkd",
    "cassandra",
    "clickhouse",
    "couchdb",
    "cpu",
    "cron",
    "datadog",
    "dynatrace",
    "elastic-forecast",
    "elasticsearch",
    "etcd",
    "external",
    "external-mock",
    "external-push",
    "forgejo-runner",
    "gcp-cloudtasks",
    "gcp-pubsub",
    "gcp-spanner",
    "gcp-stackdriver",
    "gcp-storage",
    "github-runner",
    "graphite",
    "huawei-cloudeye",
    "ibmmq",
    "influxdb",
    "kafka",
    "kubernetes-resource",
    "kubernetes-workload",
    "liiklus",
    "loki",
    "memory",
    "metrics-api",
    "mongodb",
    "mssql",
    "mysql",
    "nats-jetstream",
    "new-relic",
    "nsq",
    "opensearch",
    "openstack-metric",
    "openstack-swift",
    "postgresql",
    "predictkube",
    "prometheus",
    "pulsar",
    "rabbitmq",
    "redis",
    "redis-cluster",
    "redis-cluster-streams",
    "redis-sentinel",
    "redis-sentinel-streams",
    "redis-streams",
    "selenium-grid",
    "solace-direct-messaging",
    "solace-event-queue",
    "solarwinds",
    "solr",
    "splunk",
    "splunk-observability",
    "sumologic",
    "temporal",
];

fn unknown_trigger_types(triggers: &[ScaleTrigger]) -> Vec<Finding> {
    triggers
        .iter()
        .enumerate()
        .filter(|(_, t)| !SCALER_TYPES.contains(&t.kind.as_str()))
        .map(|(i, t)| {
            Finding::error(
                format!("spec.triggers[{i}].type"),
                format!("no scaler found for type: {}", t.kind),
            )
        })
        .collect()
}

/// `metricType` as the scalers and the HPA API take it: cpu/memory accept `Utilization` and
/// `AverageValue` (and need one of them); external scalers reject `Utilization`; any other value
/// is rejected by the HPA API.
fn trigger_metric_type_findings(so: &ScaledObject) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, t) in so.spec.triggers.iter().enumerate() {
        let path = format!("spec.triggers[{i}].metricType");
        let mt = t.metric_type.as_ref().map_or("", MetricTargetType::as_str);
        if t.is_cpu_or_memory() {
            if mt != "Utilization" && mt != "AverageValue" {
                out.push(Finding::error(
                    path,
                    format!(
                        "error parsing {} metadata: unknown metric type: {mt}, allowed values are 'Utilization' or 'AverageValue'",
                        t.kind
                    ),
                ));
            }
        } else if let Some(message) = t
            .metric_type
            .as_ref()
            .and_then(MetricTargetType::external_metric_error)
        {
            out.push(Finding::error(path, message));
        }
    }
    out
}

/// The HPA API's rules for behavior policies (`validateScalingPolicy`); the stabilization window
/// bounds are already in KEDA's CRD.
fn hpa_behavior_findings(so: &ScaledObject) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(behavior) = so.spec.hpa_behavior() else {
        return out;
    };
    let base = "spec.advanced.horizontalPodAutoscalerConfig.behavior";
    for (dir, rules) in [
        ("scaleUp", &behavior.scale_up),
        ("scaleDown", &behavior.scale_down),
    ] {
        let Some(rules) = rules else { continue };
        for (i, p) in rules.policies.iter().flatten().enumerate() {
            let path = format!("{base}.{dir}.policies[{i}]");
            if p.value <= 0 {
                out.push(Finding::error(
                    format!("{path}.value"),
                    format!("Invalid value: {}: must be greater than zero", p.value),
                ));
            }
            if p.period_seconds <= 0 {
                out.push(Finding::error(
                    format!("{path}.periodSeconds"),
                    format!(
                        "Invalid value: {}: must be greater than zero",
                        p.period_seconds
                    ),
                ));
            }
            if p.period_seconds > 1800 {
                out.push(Finding::error(
                    format!("{path}.periodSeconds"),
                    format!(
                        "Invalid value: {}: must be less than or equal to 1800",
                        p.period_seconds
                    ),
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Across objects

fn same_object(a: &ScaledObject, b: &ScaledObject) -> bool {
    a.metadata.namespace_or_default() == b.metadata.namespace_or_default()
        && a.metadata.name() == b.metadata.name()
}

/// `verifyScaledObjects` against the ScaledObjects already accepted: the same workload (GVK and
/// name) or the same HPA name in the same namespace is rejected.
pub fn check_conflicts(so: &ScaledObject, existing: &[&ScaledObject]) -> Vec<Finding> {
    let mut out = Vec::new();
    let ns = so.metadata.namespace_or_default();
    let Ok(gvk) = so.scale_target_gvk_string() else {
        return out;
    };
    let target = &so.spec.scale_target_ref.name;
    let hpa = so.hpa_name();
    for other in existing {
        if other.metadata.namespace_or_default() != ns
            || other.metadata.name() == so.metadata.name()
        {
            continue;
        }
        if other.scale_target_gvk_string().as_deref() == Ok(gvk.as_str())
            && &other.spec.scale_target_ref.name == target
        {
            out.push(Finding::error(
                "spec.scaleTargetRef.name",
                format!(
                    "the workload '{target}' of type '{gvk}' is already managed by the ScaledObject '{}'",
                    other.metadata.name()
                ),
            ));
        }
        if other.hpa_name() == hpa {
            out.push(Finding::error(
                hpa_name_path(so),
                format!(
                    "the HPA '{hpa}' is already managed by the ScaledObject '{}'",
                    other.metadata.name()
                ),
            ));
        }
    }
    out
}
