//! The ScaledObject reconciler (keda.md §2.1–2.2) on the API server: finalizer, label, scale target
//! resolution, the engine's reconcile decision (`prescale_core::keda::reconcile`), the HPA KEDA would
//! create (with KEDA's ownership rules), the scale loop's lifecycle, status and Events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use prescale_core::keda::reconcile::{
    DriverChecks, HpaAction, MESSAGE_ENSURE_HPA_FAILED, ScaleLoopAction, reconcile_failed,
    reconcile_with_checks,
};
use prescale_core::keda::{DerivedHpa, KedaEvent, trigger_targets};
use prescale_core::spec::{
    ANNOTATION_TRANSFER_HPA_OWNERSHIP, ANNOTATION_VALIDATE_HPA_OWNERSHIP, FINALIZER,
    LABEL_SCALED_OBJECT_NAME,
};
use prescale_k8s::{ScaledObject, ScaledObjectStatus};
use prescale_scalers::TriggerAuth;
use serde_json::{Value, json};
use tracing::{debug, info, warn};

use crate::context::{Context, ScalerSet, Tracked, TrackedState, object_key};
use crate::error::{Error, Result, kube_err};
use crate::events::Regarding;
use crate::scale_loop;
use crate::status::write_state;
use crate::target::{Target, scale_replicas};

/// Requeue after a failed reconcile: 10 s, doubling with each consecutive failure up to 5 minutes (a
/// ScaledObject that cannot work is retried, as controller-runtime backs off, without a busy loop; any change
/// to it is reconciled at once through the watch).
pub const ERROR_REQUEUE: Duration = Duration::from_secs(10);
/// The longest retry delay.
pub const MAX_ERROR_REQUEUE: Duration = Duration::from_secs(300);

/// The retry delay after `failures` consecutive failures (1 = the first).
pub fn error_backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(5);
    (ERROR_REQUEUE * 2u32.pow(doublings)).min(MAX_ERROR_REQUEUE)
}

/// The event subject for a ScaledObject.
pub fn regarding(so: &ScaledObject) -> Regarding {
    Regarding {
        api_version: prescale_k8s::API_VERSION.to_string(),
        kind: ScaledObject::KIND.to_string(),
        namespace: so
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        name: so.metadata.name.clone().unwrap_or_default(),
        uid: so.metadata.uid.clone(),
    }
}

fn api_so(ctx: &Context, ns: &str) -> Api<ScaledObject> {
    Api::namespaced(ctx.client.clone(), ns)
}

/// One reconcile of `so`.
pub async fn reconcile(so: Arc<ScaledObject>, ctx: Arc<Context>) -> Result<Action> {
    let key = object_key(&so);
    if so.metadata.deletion_timestamp.is_some() {
        return finalize(&so, &ctx).await;
    }
    let so = match ensure_finalizer_and_label(&so, &ctx).await {
        Ok(so) => so,
        // A newer version of the object is on its way through the watch; it will be reconciled.
        Err(e) if e.is_conflict() => {
            debug!(scaledobject = %key, "stale ScaledObject; waiting for the newer version");
            return Ok(Action::await_change());
        }
        Err(e) => return Err(e),
    };
    let tracked = ctx.track(&so).await;
    let mut st = tracked.state.lock().await;
    let core = so.to_core();
    ctx.register(
        &tracked,
        Some(core.spec.triggers.iter().map(|t| t.kind.clone()).collect()),
    );
    let ns = key.namespace.clone();

    // checkTargetResourceIsScalable (skipped by the engine when paused; the paused-replicas write needs it).
    let mut target_error: Option<String> = None;
    let mut current = 0;
    match resolve_target(&ctx, &core).await {
        Ok(target) => match target.get_scale(&ctx.client).await {
            Ok(scale) => {
                current = scale_replicas(&scale);
                st.target = Some(target);
                st.last_replicas = Some(current);
            }
            Err(e) => target_error = Some(e.to_string()),
        },
        Err(e) => target_error = Some(e.to_string()),
    }
    if target_error.is_some() {
        // Never keep scaling a previous target (scaleTargetRef changed to something unusable).
        st.target = None;
    }

    // The scalers, built once per generation (they also give the HPA's metric specs in KEDA).
    let mut hpa_error: Option<String> = None;
    if !core.need_to_be_paused_by_annotation() && target_error.is_none() {
        let set = ensure_scalers(&ctx, &mut st).await;
        hpa_error = set.first_error();
        // The ownership rules are checked until this ScaledObject controls its HPA (KEDA checks them once, at
        // admission); after that a conflict can only come from a newcomer, which is refused on its own.
        if hpa_error.is_none() && !controls_its_hpa(&ctx, &so).await? {
            hpa_error = ownership_conflict(&ctx, &so).await?;
        }
    }

    let mut out = reconcile_with_checks(
        &core,
        &mut st.keda,
        current,
        &DriverChecks {
            target: target_error.as_deref(),
            hpa: hpa_error.as_deref(),
        },
    );

    // Carry the decision out.
    if let Some(n) = out.scale_to
        && let Some(t) = st.target.clone()
    {
        match t.scale_to(&ctx.client, n).await {
            Ok(_) => st.last_replicas = Some(n),
            Err(e) => {
                warn!(scaledobject = %key, error = %e, "scaling to the paused replica count failed")
            }
        }
    }
    let mut hpa_name = so.status.as_ref().and_then(|s| s.hpa_name.clone());
    let mut derived_hpa: Option<DerivedHpa> = None;
    let mut created = false;
    match &out.hpa {
        HpaAction::Ensure(hpa) => match ensure_hpa(&ctx, &so, &core, hpa).await {
            Ok(c) => {
                created = c;
                hpa_name = Some(hpa.name.clone());
                derived_hpa = Some((**hpa).clone());
            }
            Err(e) => {
                reconcile_failed(
                    &mut st.keda,
                    &mut out,
                    MESSAGE_ENSURE_HPA_FAILED,
                    &e.to_string(),
                );
            }
        },
        HpaAction::Delete => {
            if let Err(e) = delete_hpa(&ctx, &so).await {
                reconcile_failed(
                    &mut st.keda,
                    &mut out,
                    "failed to delete HPA",
                    &e.to_string(),
                );
                // Paused all the same: the loop stops below.
                out.scale_loop = ScaleLoopAction::Stop;
            }
        }
        HpaAction::Unchanged => {}
    }
    let generation = so.metadata.generation.unwrap_or(0);
    match out.scale_loop {
        ScaleLoopAction::Run => {
            if created || tracked.loop_generation() != Some(generation) {
                drop(st);
                restart_loop(&ctx, &tracked, generation).await;
                st = tracked.state.lock().await;
            }
        }
        ScaleLoopAction::Stop => {
            drop(st);
            tracked.stop_loop().await;
            st = tracked.state.lock().await;
            st.keda.on_scale_loop_stopped();
        }
        ScaleLoopAction::Unchanged => {}
    }

    // Status.
    let mut status = so.status.clone().unwrap_or_default();
    if target_error.is_none()
        && let Some(t) = &st.target
    {
        let gvk = core.scale_target_gvk().map(|g| g.gvk_string()).ok();
        status.scale_target_kind = gvk;
        status.scale_target_gvkr = Some(t.kind.gvkr());
        if status.original_replica_count.is_none() {
            // The count before anything here scaled it (not a paused-replicas write of this reconcile).
            status.original_replica_count = Some(current);
        }
    }
    if let Some(h) = &derived_hpa {
        status.external_metric_names = Some(h.external_metric_names.clone());
        status.composite_scaler_name = h.composite_scaler_name.clone();
    }
    status.hpa_name = hpa_name;
    let (triggers, auths) = triggers_and_auths_types(&core);
    status.triggers_types = Some(triggers);
    status.authentications_types = auths;
    write_state(&st.keda, &mut status);
    ctx.telemetry.set_paused(
        &key.namespace,
        &key.name,
        st.keda
            .conditions
            .is_true(prescale_core::keda::ConditionType::Paused),
    );
    write_status(&ctx, &mut st, &status, RECONCILER_FIELDS).await?;
    drop(st);
    record_events(&ctx, &so, &out.events).await;
    if let Some(e) = &out.error {
        let failures = tracked
            .failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let delay = error_backoff(failures);
        info!(scaledobject = %key, error = %e, retry_in = ?delay, "reconcile failed");
        return Ok(Action::requeue(delay));
    }
    tracked
        .failures
        .store(0, std::sync::atomic::Ordering::Relaxed);
    debug!(scaledobject = %key, namespace = %ns, "reconciled");
    Ok(Action::await_change())
}

/// `error_policy`: log and retry.
pub fn error_policy(so: Arc<ScaledObject>, error: &Error, ctx: Arc<Context>) -> Action {
    let key = object_key(&so);
    let failures = ctx.get(&key).map_or(1, |t| {
        t.failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    });
    let delay = error_backoff(failures);
    warn!(scaledobject = %key, error = %error, retry_in = ?delay, "reconcile error");
    Action::requeue(delay)
}

/// Records events, logging (not failing on) write errors.
pub async fn record_events(ctx: &Context, so: &ScaledObject, events: &[KedaEvent]) {
    let r = regarding(so);
    for e in events {
        if let Err(err) = ctx.recorder.record(&r, e).await {
            warn!(scaledobject = %object_key(so), reason = %e.reason, error = %err, "event not recorded");
        }
    }
}

pub async fn resolve_target(
    ctx: &Context,
    core: &prescale_core::spec::ScaledObject,
) -> Result<Target> {
    let gvk = core
        .scale_target_gvk()
        .map_err(|e| Error::Target(e.into_message()))?;
    let kind = ctx.discovery.resolve(&ctx.client, &gvk).await?;
    Ok(Target {
        kind,
        namespace: core.metadata.namespace_or_default().to_string(),
        name: core.spec.scale_target_ref.name.clone(),
    })
}

/// The scalers of the tracked object's current generation, built (with authentication resolved from the API
/// server) when missing, stale, or incomplete (a trigger that could not be built is retried on every use, so
/// a Secret created later is picked up, as KEDA rebuilds its scalers cache after errors).
pub async fn ensure_scalers(ctx: &Context, st: &mut TrackedState) -> Arc<ScalerSet> {
    let generation = st.object.metadata.generation.unwrap_or(0);
    if let Some(s) = &st.scalers
        && s.generation == generation
        && s.first_error().is_none()
    {
        return s.clone();
    }
    let core = st.object.to_core();
    let targets = trigger_targets(&core);
    let target_object = match &st.target {
        Some(t) => t.get(&ctx.client).await.ok(),
        None => None,
    };
    let snapshot = crate::auth::snapshot(
        &ctx.client,
        &core,
        target_object.as_ref(),
        &ctx.config.namespace,
    )
    .await;
    let auths = crate::auth::resolve_all(&core, &snapshot, &ctx.config.namespace);
    let scalers = core
        .spec
        .triggers
        .iter()
        .zip(auths)
        .enumerate()
        .map(|(i, (trigger, auth))| {
            let auth = auth.map_err(|e| format!("trigger {i}: {e}"))?;
            ctx.scalers
                .build(
                    i,
                    trigger,
                    TriggerAuth {
                        params: Some(&auth.params),
                        pod_identity: auth.pod_identity.as_ref(),
                        resolved_env: Some(&auth.resolved_env),
                    },
                )
                .map(Arc::from)
        })
        .collect();
    let set = Arc::new(ScalerSet {
        generation,
        scalers,
        targets: targets.unwrap_or_default(),
    });
    st.scalers = Some(set.clone());
    set
}

/// KEDA's admission rules on HPA ownership, enforced here because prescale runs without a webhook: another
/// HPA already scaling the same workload (unless it is owned by this ScaledObject, opted out with
/// `validations.keda.sh/hpa-ownership: "false"`, or named in `advanced.horizontalPodAutoscalerConfig.name`
/// with `scaledobject.keda.sh/transfer-hpa-ownership: "true"`), and another ScaledObject on the same
/// workload (the older one keeps it).
async fn ownership_conflict(ctx: &Context, so: &ScaledObject) -> Result<Option<String>> {
    let core = so.to_core();
    let ns = core.metadata.namespace_or_default().to_string();
    let Ok(gvk) = core.scale_target_gvk() else {
        return Ok(None);
    };
    let gvk_string = gvk.gvk_string();
    let target_name = &core.spec.scale_target_ref.name;
    let (hpa_items, so_items) = namespace_objects(ctx, &ns).await?;
    let custom_name = core
        .spec
        .advanced
        .as_ref()
        .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
        .and_then(|h| h.name.clone())
        .filter(|n| !n.is_empty());
    for hpa in hpa_items {
        let annotations = hpa.metadata.annotations.clone().unwrap_or_default();
        if annotations
            .get(ANNOTATION_VALIDATE_HPA_OWNERSHIP)
            .map(String::as_str)
            == Some("false")
        {
            continue;
        }
        let Some(spec) = &hpa.spec else { continue };
        let r = &spec.scale_target_ref;
        let hpa_gvk = {
            let (g, v) = match r.api_version.as_deref().unwrap_or("").split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), r.api_version.clone().unwrap_or_default()),
            };
            format!("{g}/{v}.{}", r.kind)
        };
        if hpa_gvk != gvk_string || &r.name != target_name {
            continue;
        }
        let owned =
            hpa.metadata.owner_references.iter().flatten().any(|o| {
                o.kind == ScaledObject::KIND && Some(&o.name) == core.metadata.name.as_ref()
            });
        if owned {
            continue;
        }
        let hpa_name = hpa.metadata.name.clone().unwrap_or_default();
        if core.bool_annotation(ANNOTATION_TRANSFER_HPA_OWNERSHIP) {
            if custom_name.as_deref() == Some(hpa_name.as_str()) {
                info!(hpa = %hpa_name, scaledobject = %core.metadata.name(), "HPA ownership being transferred");
                continue;
            }
            return Ok(Some(format!(
                "the existing hpa '{hpa_name}' for workload '{target_name}' of type '{gvk_string}' must be \
                 specified by name in advanced settings to enable ownership transfer"
            )));
        }
        return Ok(Some(format!(
            "the workload '{target_name}' of type '{gvk_string}' is already managed by the hpa '{hpa_name}'"
        )));
    }
    // Another ScaledObject on the same workload: the one created first keeps it.
    let me = (
        so.metadata.creation_timestamp.as_ref().map(|t| t.0),
        so.metadata.name.clone(),
    );
    for other in so_items {
        if other.metadata.uid == so.metadata.uid || other.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let same = other.spec.scale_target_ref.name == *target_name
            && target_gvk_string(&other.spec.scale_target_ref).as_deref() == Some(&gvk_string);
        let them = (
            other.metadata.creation_timestamp.as_ref().map(|t| t.0),
            other.metadata.name.clone(),
        );
        if same && them < me {
            return Ok(Some(format!(
                "the workload '{target_name}' of type '{gvk_string}' is already managed by the ScaledObject '{}'",
                other.metadata.name.as_deref().unwrap_or_default()
            )));
        }
    }
    Ok(None)
}

/// The HPAs and ScaledObjects of `ns`: from the controller's watch caches once they have synced (a thousand
/// new ScaledObjects in one namespace would otherwise make a million-object LIST storm at start), else listed.
async fn namespace_objects(
    ctx: &Context,
    ns: &str,
) -> Result<(Vec<Arc<HorizontalPodAutoscaler>>, Vec<Arc<ScaledObject>>)> {
    let caches = ctx.caches.read().ok().and_then(|c| c.clone());
    if let Some(c) = caches {
        let synced = tokio::time::timeout(Duration::from_secs(10), async {
            c.hpas.wait_until_ready().await.is_ok()
                && c.scaled_objects.wait_until_ready().await.is_ok()
        })
        .await
        .unwrap_or(false);
        if synced {
            let in_ns = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
                m.namespace.as_deref() == Some(ns)
            };
            let hpas = c
                .hpas
                .state()
                .into_iter()
                .filter(|h| in_ns(&h.metadata))
                .collect();
            let sos = c
                .scaled_objects
                .state()
                .into_iter()
                .filter(|s| in_ns(&s.metadata))
                .collect();
            return Ok((hpas, sos));
        }
    }
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(ctx.client.clone(), ns);
    let hpa_list = hpas
        .list(&ListParams::default())
        .await
        .map_err(kube_err(format!("listing HPAs in {ns}")))?;
    let so_list = api_so(ctx, ns)
        .list(&ListParams::default())
        .await
        .map_err(kube_err(format!("listing ScaledObjects in {ns}")))?;
    Ok((
        hpa_list.items.into_iter().map(Arc::new).collect(),
        so_list.items.into_iter().map(Arc::new).collect(),
    ))
}

/// `getHPANameOnEnsure`: the HPA named in `status.hpaName`, else the one KEDA would name now (`keda-hpa-<so>`
/// or `advanced.horizontalPodAutoscalerConfig.name`).
fn hpa_name_on_ensure(so: &ScaledObject) -> String {
    so.status
        .as_ref()
        .and_then(|s| s.hpa_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| so.to_core().hpa_name())
}

/// Whether the HPA this ScaledObject would ensure exists with it as its controller (owner uid).
async fn controls_its_hpa(ctx: &Context, so: &ScaledObject) -> Result<bool> {
    let core = so.to_core();
    let ns = core.metadata.namespace_or_default().to_string();
    let name = hpa_name_on_ensure(so);
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(ctx.client.clone(), &ns);
    let found = api
        .get_opt(&name)
        .await
        .map_err(kube_err(format!("reading HPA {ns}/{name}")))?;
    Ok(found.is_some_and(|h| {
        h.metadata
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.controller == Some(true) && Some(&o.uid) == so.metadata.uid.as_ref())
    }))
}

/// `ensureHPAForScaledObjectExists`: create, rename (delete + create) or update the HPA. Returns whether a
/// new HPA was created.
async fn ensure_hpa(
    ctx: &Context,
    so: &ScaledObject,
    core: &prescale_core::spec::ScaledObject,
    derived: &DerivedHpa,
) -> Result<bool> {
    let ns = core.metadata.namespace_or_default().to_string();
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(ctx.client.clone(), &ns);
    let manifest = derived.to_manifest(core);
    let wanted: HorizontalPodAutoscaler =
        serde_json::from_value(manifest.clone()).map_err(|e| Error::Json {
            what: format!(
                "the HPA {} derived for {ns}/{}",
                derived.name,
                core.metadata.name()
            ),
            source: e,
        })?;
    let name_on_ensure = hpa_name_on_ensure(so);
    let found = api
        .get_opt(&name_on_ensure)
        .await
        .map_err(kube_err(format!("reading HPA {ns}/{name_on_ensure}")))?;
    let found = match found {
        Some(f) => f,
        None => match create_hpa(&api, &wanted, &ns).await {
            Ok(()) => {
                info!(hpa = %derived.name, namespace = %ns, "created HPA");
                return Ok(true);
            }
            // It exists under the new name (a rename whose status write was lost, or a race): update it.
            Err(e) if e.is_conflict() => api
                .get(&derived.name)
                .await
                .map_err(kube_err(format!("reading HPA {ns}/{}", derived.name)))?,
            Err(e) => return Err(e),
        },
    };
    if found.metadata.name.as_deref() != Some(derived.name.as_str()) {
        api.delete(&name_on_ensure, &DeleteParams::default())
            .await
            .map_err(kube_err(format!(
                "deleting renamed HPA {ns}/{name_on_ensure}"
            )))?;
        create_hpa(&api, &wanted, &ns).await?;
        info!(old = %name_on_ensure, hpa = %derived.name, namespace = %ns, "renamed HPA");
        return Ok(true);
    }
    if hpa_needs_update(&manifest, &found) {
        let mut update = wanted.clone();
        update.metadata.resource_version = found.metadata.resource_version.clone();
        api.replace(&derived.name, &PostParams::default(), &update)
            .await
            .map_err(kube_err(format!("updating HPA {ns}/{}", derived.name)))?;
        info!(hpa = %derived.name, namespace = %ns, "updated HPA");
    }
    Ok(false)
}

async fn create_hpa(
    api: &Api<HorizontalPodAutoscaler>,
    hpa: &HorizontalPodAutoscaler,
    ns: &str,
) -> Result<()> {
    api.create(&PostParams::default(), hpa)
        .await
        .map_err(kube_err(format!(
            "creating HPA {ns}/{}",
            hpa.metadata.name.as_deref().unwrap_or_default()
        )))?;
    Ok(())
}

/// `updateHPAIfNeeded`: the metric count differs, the behavior differs, the wanted spec is not contained in
/// the found one (`DeepDerivative`: fields the API server defaulted are ignored), or the wanted labels,
/// annotations or owner references are not all there.
fn hpa_needs_update(wanted: &Value, found: &HorizontalPodAutoscaler) -> bool {
    let found = serde_json::to_value(found).unwrap_or_default();
    let metrics = |v: &Value| {
        v.pointer("/spec/metrics")
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    metrics(wanted) != metrics(&found)
        || wanted.pointer("/spec/behavior") != found.pointer("/spec/behavior")
        || !derivative(
            wanted.get("spec").unwrap_or(&Value::Null),
            found.get("spec").unwrap_or(&Value::Null),
        )
        || !derivative(
            wanted.pointer("/metadata/labels").unwrap_or(&Value::Null),
            found.pointer("/metadata/labels").unwrap_or(&Value::Null),
        )
        || !derivative(
            wanted
                .pointer("/metadata/annotations")
                .unwrap_or(&Value::Null),
            found
                .pointer("/metadata/annotations")
                .unwrap_or(&Value::Null),
        )
        || !derivative(
            wanted
                .pointer("/metadata/ownerReferences")
                .unwrap_or(&Value::Null),
            found
                .pointer("/metadata/ownerReferences")
                .unwrap_or(&Value::Null),
        )
}

/// `equality.Semantic.DeepDerivative(a, b)`: every field set in `a` equals the one in `b`; unset (null)
/// fields of `a` match anything; arrays compare element-wise over `a`'s length (extra elements of `b` are
/// ignored, as in Kubernetes).
pub fn derivative(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, _) => true,
        (Value::Object(x), Value::Object(y)) => x.iter().all(|(k, v)| match y.get(k) {
            Some(w) => derivative(v, w),
            None => v.is_null() || v.as_object().is_some_and(|o| o.is_empty()),
        }),
        (Value::Array(x), Value::Array(y)) => {
            x.len() <= y.len() && x.iter().zip(y).all(|(v, w)| derivative(v, w))
        }
        (Value::String(x), Value::String(y)) => x == y || quantities_equal(x, y),
        _ => a == b,
    }
}

/// Two quantity strings with the same milli-value (`1500m` = `1.5`), as the semantic comparison does.
fn quantities_equal(a: &str, b: &str) -> bool {
    use prescale_core::quantity::Quantity;
    match (Quantity::parse(a), Quantity::parse(b)) {
        (Ok(x), Ok(y)) => x.milli_value() == y.milli_value(),
        _ => false,
    }
}

async fn delete_hpa(ctx: &Context, so: &ScaledObject) -> Result<()> {
    let core = so.to_core();
    let ns = core.metadata.namespace_or_default().to_string();
    let name = hpa_name_on_ensure(so);
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(ctx.client.clone(), &ns);
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => {
            info!(hpa = %name, namespace = %ns, "deleted HPA (paused)");
            Ok(())
        }
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(kube_err(format!("deleting HPA {ns}/{name}"))(e)),
    }
}

/// `status.triggersTypes` (distinct trigger types, in order) and `status.authenticationsTypes` (distinct
/// authentication names, in order), comma-separated.
pub fn triggers_and_auths_types(
    core: &prescale_core::spec::ScaledObject,
) -> (String, Option<String>) {
    let mut types: Vec<&str> = Vec::new();
    let mut auths: Vec<&str> = Vec::new();
    for t in &core.spec.triggers {
        if !types.contains(&t.kind.as_str()) {
            types.push(&t.kind);
        }
        if let Some(a) = &t.authentication_ref
            && !auths.contains(&a.name.as_str())
        {
            auths.push(&a.name);
        }
    }
    let auths = (!auths.is_empty()).then(|| auths.join(","));
    (types.join(","), auths)
}

/// Every status field the reconciler writes.
pub const RECONCILER_FIELDS: &[&str] = &[
    "scaleTargetKind",
    "scaleTargetGVKR",
    "originalReplicaCount",
    "lastActiveTime",
    "externalMetricNames",
    "compositeScalerName",
    "hpaName",
    "pausedReplicaCount",
    "conditions",
    "health",
    "triggersTypes",
    "authenticationsTypes",
    "triggersActivity",
];

/// The status fields the scale loop and the HPA's metric reads write (the engine state they change).
pub const LOOP_FIELDS: &[&str] = &["conditions", "health", "lastActiveTime", "triggersActivity"];

/// The loop's fields and `proactive` (prescale's own), for the poll's write, which sets `proactive` (see
/// `proactive::fill_status`): for an object without a policy, never written one, the field stays empty and
/// adds nothing to the patch. The other loop writes take the status as last read from the watch, whose
/// `proactive` may be older than the one written, so they leave the field out.
pub const LOOP_AND_PROACTIVE_FIELDS: &[&str] = &[
    "conditions",
    "health",
    "lastActiveTime",
    "triggersActivity",
    "proactive",
];

/// A merge patch of `fields` of `status`, each one present (a cleared field as `null`, so the patch removes
/// it); other fields are left to their writer.
pub fn status_patch(status: &ScaledObjectStatus, fields: &[&str]) -> Value {
    let full = serde_json::to_value(status).unwrap_or_else(|_| json!({}));
    let patch: serde_json::Map<String, Value> = fields
        .iter()
        .map(|k| {
            (
                (*k).to_string(),
                full.get(*k).cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    json!({ "status": patch })
}

/// Writes `fields` of `status` into the tracked object's status when they differ from what was last
/// written; updates `st.object` and `st.written` from the API server's answer.
pub async fn write_status(
    ctx: &Context,
    st: &mut TrackedState,
    status: &ScaledObjectStatus,
    fields: &[&str],
) -> Result<()> {
    let last = st.written.clone().unwrap_or_default();
    let patch = status_patch(status, fields);
    if status_patch(&last, fields) == patch {
        return Ok(());
    }
    let key = object_key(&st.object);
    let updated = api_so(ctx, &key.namespace)
        .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(kube_err(format!(
            "updating the status of ScaledObject {key}"
        )))?;
    st.written = updated.status.clone();
    st.object = Arc::new(updated);
    Ok(())
}

/// Adds `finalizer.keda.sh` and the `scaledobject.keda.sh/name` label when missing (one merge patch,
/// guarded by the resourceVersion). Returns the object as stored.
async fn ensure_finalizer_and_label(
    so: &Arc<ScaledObject>,
    ctx: &Context,
) -> Result<Arc<ScaledObject>> {
    let key = object_key(so);
    let finalizers = so.metadata.finalizers.clone().unwrap_or_default();
    let labels = so.metadata.labels.clone().unwrap_or_default();
    let has_finalizer = finalizers.iter().any(|f| f == FINALIZER);
    let has_label = labels.get(LABEL_SCALED_OBJECT_NAME) == Some(&key.name);
    if has_finalizer && has_label {
        return Ok(so.clone());
    }
    let mut new_finalizers = finalizers;
    if !has_finalizer {
        new_finalizers.push(FINALIZER.to_string());
    }
    let patch = json!({
        "metadata": {
            "resourceVersion": so.metadata.resource_version,
            "finalizers": new_finalizers,
            "labels": BTreeMap::from([(LABEL_SCALED_OBJECT_NAME, key.name.as_str())]),
        }
    });
    let updated = api_so(ctx, &key.namespace)
        .patch(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(kube_err(format!(
            "adding the finalizer and label to ScaledObject {key}"
        )))?;
    Ok(Arc::new(updated))
}

/// `finalizeScaledObject`: stop the scale loop, restore the original replica count when asked, remove the
/// finalizer. The HPA goes with the ScaledObject through its owner reference.
async fn finalize(so: &Arc<ScaledObject>, ctx: &Arc<Context>) -> Result<Action> {
    let key = object_key(so);
    let finalizers = so.metadata.finalizers.clone().unwrap_or_default();
    if !finalizers.iter().any(|f| f == FINALIZER) {
        if let Some(t) = ctx.get(&key) {
            t.stop_loop().await;
        }
        ctx.forget(&key);
        ctx.telemetry
            .remove_scaled_object(&key.namespace, &key.name);
        return Ok(Action::await_change());
    }
    if let Some(t) = ctx.get(&key) {
        t.stop_loop().await;
    }
    let core = so.to_core();
    let restore = core
        .spec
        .advanced
        .as_ref()
        .and_then(|a| a.restore_to_original_replica_count)
        .unwrap_or(false);
    // KEDA restores only when the scaling was initialised (status.scaleTargetGVKR set), and a failed
    // restore is logged, never allowed to block the deletion.
    let initialised = so
        .status
        .as_ref()
        .is_some_and(|s| s.scale_target_gvkr.is_some());
    if restore
        && initialised
        && let Some(original) = so.status.as_ref().and_then(|s| s.original_replica_count)
    {
        match resolve_target(ctx, &core).await {
            Ok(target) => match target.scale_to(&ctx.client, original).await {
                Ok(_) => {
                    info!(scaledobject = %key, replicas = original, "restored the original replica count")
                }
                Err(e) => {
                    warn!(scaledobject = %key, error = %e, "failed to restore the original replica count")
                }
            },
            Err(e) => {
                warn!(scaledobject = %key, error = %e, "cannot restore the original replica count")
            }
        }
    }
    let remaining: Vec<String> = finalizers.into_iter().filter(|f| f != FINALIZER).collect();
    let patch = json!({
        "metadata": {"resourceVersion": so.metadata.resource_version, "finalizers": remaining}
    });
    match api_so(ctx, &key.namespace)
        .patch(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => {
            return Err(kube_err(format!(
                "removing the finalizer of ScaledObject {key}"
            ))(e));
        }
    }
    ctx.forget(&key);
    ctx.telemetry
        .remove_scaled_object(&key.namespace, &key.name);
    info!(scaledobject = %key, "finalized");
    // KEDA's finalizer ends with this Warning event (`ScaledObjectDeleted`, "ScaledObject was deleted").
    record_events(
        ctx,
        so,
        &[KedaEvent::warning(
            "ScaledObjectDeleted",
            "ScaledObject was deleted",
        )],
    )
    .await;
    Ok(Action::await_change())
}

/// (Re)starts the scale loop of `tracked` for `generation`.
pub async fn restart_loop(ctx: &Arc<Context>, tracked: &Arc<Tracked>, generation: i64) {
    tracked.stop_loop().await;
    if !ctx.is_leading() {
        // The controller is being stopped (leadership lost): no new loop.
        return;
    }
    tracked.state.lock().await.keda.on_scale_loop_stopped();
    let handle = scale_loop::spawn(ctx.clone(), tracked.clone(), generation);
    if let Ok(mut l) = tracked.scale_loop.lock() {
        *l = Some(handle);
    }
}

/// `group/version.Kind` of a `scaleTargetRef` with KEDA's defaults (`apps/v1`, `Deployment`), without building
/// the whole core object; `None` when `apiVersion` does not parse.
fn target_gvk_string(r: &prescale_core::spec::ScaleTarget) -> Option<String> {
    let (group, version) = match r.api_version.as_deref().filter(|v| !v.is_empty()) {
        None => ("apps".to_string(), "v1".to_string()),
        Some(v) => prescale_core::spec::go::parse_group_version(v).ok()?,
    };
    let kind = r
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .unwrap_or("Deployment");
    Some(format!("{group}/{version}.{kind}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_ten_seconds_to_five_minutes() {
        let delays: Vec<u64> = (1..=8).map(|n| error_backoff(n).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn derivative_ignores_what_the_api_server_filled_in() {
        let wanted = json!({"minReplicas": 1, "metrics": [{"target": {"averageValue": "1500m"}}]});
        let found = json!({"minReplicas": 1, "maxReplicas": 100,
                           "metrics": [{"target": {"averageValue": "1.5", "type": "AverageValue"}}]});
        assert!(derivative(&wanted, &found));
        let changed = json!({"minReplicas": 2});
        assert!(!derivative(&changed, &found));
        // Fewer elements wanted than found is a derivative (the metric count is compared separately).
        assert!(derivative(&json!([1]), &json!([1, 2])));
        assert!(!derivative(&json!([1, 2]), &json!([1])));
    }
}
