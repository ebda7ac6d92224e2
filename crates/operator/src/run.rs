//! Running the controllers: the ScaledObject controller (owning HPAs, as KEDA's) runs only while this replica
//! leads; losing the lead stops it and every scale loop before anything else is written.

use std::sync::Arc;

use futures_util::StreamExt;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::Api;
use kube::runtime::PredicateConfig;
use kube::runtime::controller::Controller;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use prescale_k8s::ScaledObject;
use tokio::sync::watch;
use tracing::info;

use crate::context::Context;
use crate::reconciler::{error_policy, reconcile};

/// Runs the ScaledObject controller whenever `leader` is true, until `shutdown` turns true.
pub async fn run_controllers(
    ctx: Arc<Context>,
    mut leader: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        // Wait to lead.
        loop {
            if *shutdown.borrow() {
                return;
            }
            if *leader.borrow_and_update() {
                break;
            }
            tokio::select! {
                r = leader.changed() => if r.is_err() { return },
                _ = shutdown.changed() => {}
            }
        }
        info!("starting the ScaledObject controller");
        // State remembered from an earlier term (or built by the metrics path while another replica led) is
        // stale: start from the objects' status.
        ctx.stop_all_loops().await;
        ctx.forget_all();
        ctx.leading.store(true, std::sync::atomic::Ordering::SeqCst);
        let (sos, hpas): (Api<ScaledObject>, Api<HorizontalPodAutoscaler>) =
            match &ctx.config.watch_namespace {
                Some(ns) => (
                    Api::namespaced(ctx.client.clone(), ns),
                    Api::namespaced(ctx.client.clone(), ns),
                ),
                None => (Api::all(ctx.client.clone()), Api::all(ctx.client.clone())),
            };
        // Reconcile on what KEDA's predicates let through (keda.md §2.1), not on every status write of the
        // scale loops: at a thousand ScaledObjects polling every 30 s that would be a reconcile per poll.
        let (reader, writer) = reflector::store();
        let (hpa_reader, hpa_writer) = reflector::store();
        if let Ok(mut c) = ctx.caches.write() {
            *c = Some(crate::context::Caches {
                scaled_objects: reader.clone(),
                hpas: hpa_reader,
            });
        }
        let trigger = watcher(sos, watcher::Config::default())
            .default_backoff()
            .reflect(writer)
            .applied_objects()
            .predicate_filter(reconcile_relevant, PredicateConfig::default());
        let controller = Controller::for_stream(trigger, reader)
            .owns_stream(hpa_changes(hpas, hpa_writer))
            .with_config(
                kube::runtime::controller::Config::default()
                    .concurrency(ctx.config.max_concurrent_reconciles),
            )
            .run(reconcile, error_policy, ctx.clone())
            .for_each(|_| futures_util::future::ready(()));
        tokio::select! {
            () = controller => {}
            _ = async {
                while *leader.borrow_and_update() {
                    if leader.changed().await.is_err() { break; }
                }
            } => {}
            _ = shutdown.changed() => {}
        }
        info!("stopping the ScaledObject controller and every scale loop");
        if let Ok(mut c) = ctx.caches.write() {
            *c = None;
        }
        ctx.leading
            .store(false, std::sync::atomic::Ordering::SeqCst);
        ctx.stop_all_loops().await;
    }
}

/// What a reconcile depends on: the generation (spec), deletion and finalizers, the labels, the
/// annotations (pause, force-activation, transfer, excluded labels — KEDA watches the pause ones; any
/// annotation change also changes the HPA's annotations), and the Ready condition's status.
pub fn reconcile_relevant(so: &ScaledObject) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    so.metadata.generation.hash(&mut h);
    so.metadata.deletion_timestamp.is_some().hash(&mut h);
    so.metadata.finalizers.hash(&mut h);
    so.metadata.labels.hash(&mut h);
    so.metadata.annotations.hash(&mut h);
    let ready = so
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.status.clone());
    ready.hash(&mut h);
    Some(h.finish())
}

/// How leadership is decided.
#[derive(Debug, Clone)]
pub enum Leadership {
    /// Always lead (`--leader-elect=false`: a single replica).
    Always,
    /// Lead while holding this Lease.
    Lease {
        lease: crate::leader::LeaseRef,
        election: crate::lease::ElectionConfig,
    },
}

/// Runs the operator's Kubernetes side — leader election and, while leading, the controller and scale loops —
/// until `shutdown` turns true; then stops the loops and releases the Lease. Leadership is published on
/// `leader_tx`. Everything but the scale loops runs inside the returned future, so dropping it stops
/// election and controller at once.
pub async fn run_operator(
    ctx: Arc<Context>,
    leadership: Leadership,
    leader_tx: watch::Sender<bool>,
    shutdown: watch::Receiver<bool>,
) {
    let leader_rx = leader_tx.subscribe();
    // The Lease is released only once every scale loop has stopped, so a successor never overlaps them.
    let (loops_stopped_tx, loops_stopped) = watch::channel(false);
    let election = {
        let ctx = ctx.clone();
        let shutdown = shutdown.clone();
        async move {
            match leadership {
                Leadership::Always => {
                    leader_tx.send_replace(true);
                    // Keep the sender alive until shutdown, so the controller never sees it closed.
                    let mut shutdown = shutdown;
                    while !*shutdown.borrow_and_update() {
                        if shutdown.changed().await.is_err() {
                            break;
                        }
                    }
                    leader_tx.send_replace(false);
                }
                Leadership::Lease { lease, election } => {
                    crate::leader::run(
                        ctx.client.clone(),
                        lease,
                        election,
                        ctx.clock.clone(),
                        leader_tx,
                        shutdown,
                        loops_stopped,
                    )
                    .await;
                }
            }
        }
    };
    let controllers = {
        let ctx = ctx.clone();
        async move {
            run_controllers(ctx.clone(), leader_rx, shutdown).await;
            ctx.leading
                .store(false, std::sync::atomic::Ordering::SeqCst);
            ctx.stop_all_loops().await;
            loops_stopped_tx.send_replace(true);
        }
    };
    tokio::join!(election, controllers);
}

/// Feeds the ScaledObject cache the external metrics API reads (every replica, leader or not) until
/// `shutdown`; `readiness` turns ready once the first list has arrived.
pub async fn run_cache(
    ctx: Arc<Context>,
    writer: reflector::store::Writer<ScaledObject>,
    readiness: Option<crate::telemetry::Readiness>,
    mut shutdown: watch::Receiver<bool>,
) {
    let api: Api<ScaledObject> = match &ctx.config.watch_namespace {
        Some(ns) => Api::namespaced(ctx.client.clone(), ns),
        None => Api::all(ctx.client.clone()),
    };
    let reader = writer.as_reader();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .for_each(|_| futures_util::future::ready(()));
    let ready = async {
        if reader.wait_until_ready().await.is_ok()
            && let Some(r) = &readiness
        {
            r.set_ready();
            info!("ScaledObject cache synced");
        }
        std::future::pending::<()>().await;
    };
    // A replica that does not lead forgets the ScaledObjects that left the cache (the leader forgets them
    // when it finalizes them, or when a poll finds them gone).
    let sweep = async {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if ctx.is_leading() {
                continue;
            }
            let keys: Vec<crate::context::ObjectKey> = ctx
                .tracked
                .lock()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            for key in keys {
                let present = reader
                    .get(&reflector::ObjectRef::new(&key.name).within(&key.namespace))
                    .is_some();
                if !present {
                    ctx.forget(&key);
                }
            }
        }
    };
    tokio::select! {
        () = stream => {}
        () = ready => {}
        () = sweep => {}
        _ = shutdown.changed() => {}
    }
}

/// Where and how the operator serves.
#[derive(Debug, Clone)]
pub struct Servers {
    /// `/metrics` (plain HTTP), e.g. `:8080`.
    pub metrics_address: String,
    /// `/healthz`, `/readyz` (plain HTTP), e.g. `:8081`.
    pub health_address: String,
    /// The external metrics API (TLS), e.g. `:6443`.
    pub api_address: String,
    /// `tls.crt` / `tls.key` for the external metrics API; generated when absent.
    pub cert_dir: std::path::PathBuf,
    /// The Service name the generated certificate is made for.
    pub service_name: String,
    /// The ConfigMap with the front-proxy CA (`namespace`, `name`); `None` accepts unauthenticated callers.
    pub client_ca: Option<(String, String)>,
}

/// How often the front-proxy CA ConfigMap is read again (CA rotation without a restart).
const CLIENT_CA_REFRESH: std::time::Duration = std::time::Duration::from_secs(300);

async fn client_auth(
    ctx: &Context,
    (ns, name): &(String, String),
) -> Result<crate::apiserver::ClientAuth, String> {
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    let cm = api
        .get(name)
        .await
        .map_err(|e| format!("reading ConfigMap {ns}/{name} (--client-ca-configmap): {e}"))?;
    let data = cm.data.unwrap_or_default();
    crate::apiserver::FrontProxyAuth::from_config_map(&data)
        .map(crate::apiserver::ClientAuth::FrontProxy)
        .map_err(|e| format!("ConfigMap {ns}/{name}: {e}"))
}

/// Everything `prescale operator` runs: the ScaledObject cache and the three servers on every replica,
/// leader election and (while leading) the controller and scale loops. Returns when `shutdown` turns
/// true and everything stopped, or at once with an error when a server cannot start.
pub async fn run_all(
    ctx: Arc<Context>,
    leadership: Leadership,
    servers: Servers,
    shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    use crate::apiserver::{ApiServer, ApiServerConfig, ClientAuth, ServingCert, bind};
    use crate::telemetry::{Readiness, health_router, metrics_router, serve_http};

    let readiness = Readiness::new("the ScaledObject cache has not synced yet");
    let cert = ServingCert::load_or_generate(
        &servers.cert_dir,
        &servers.service_name,
        &ctx.config.namespace,
    )
    .map_err(|e| format!("external metrics API certificate: {e}"))?;
    let auth = match &servers.client_ca {
        Some(cm) => client_auth(&ctx, cm).await?,
        None => ClientAuth::Insecure,
    };
    let (store, writer) = reflector::store();
    let api = ApiServer::new(ApiServerConfig {
        cert,
        auth,
        source: Arc::new(crate::metrics_source::OperatorMetrics::new(
            ctx.clone(),
            store,
        )),
        telemetry: Some(ctx.telemetry.clone()),
        readiness: Some(readiness.clone()),
    })
    .map_err(|e| format!("external metrics API: {e}"))?;
    let api_listener = bind(&servers.api_address)
        .await
        .map_err(|e| format!("--metrics-server-bind-address: {e}"))?;
    let metrics_listener = bind(&servers.metrics_address)
        .await
        .map_err(|e| format!("--metrics-bind-address: {e}"))?;
    let health_listener = bind(&servers.health_address)
        .await
        .map_err(|e| format!("--health-probe-bind-address: {e}"))?;
    let stopped = |mut s: watch::Receiver<bool>| async move {
        while !*s.borrow_and_update() {
            if s.changed().await.is_err() {
                break;
            }
        }
    };
    let (leader_tx, leader_rx) = watch::channel(false);
    let telemetry = ctx.telemetry.clone();
    let leader_gauge = {
        let mut rx = leader_rx.clone();
        let shutdown = shutdown.clone();
        async move {
            loop {
                telemetry.set_leader(*rx.borrow_and_update());
                tokio::select! {
                    r = rx.changed() => if r.is_err() { break },
                    () = stopped(shutdown.clone()) => break,
                }
            }
        }
    };
    let ca_refresh = {
        let ctx = ctx.clone();
        let api = api.clone();
        let client_ca = servers.client_ca.clone();
        let shutdown = shutdown.clone();
        async move {
            let Some(cm) = client_ca else { return };
            loop {
                tokio::select! {
                    () = tokio::time::sleep(CLIENT_CA_REFRESH) => {}
                    () = stopped(shutdown.clone()) => return,
                }
                match client_auth(&ctx, &cm).await {
                    Ok(auth) => {
                        if let Err(e) = api.set_client_auth(auth) {
                            tracing::warn!(error = %e, "front-proxy CA not updated");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "front-proxy CA not re-read"),
                }
            }
        }
    };
    let api_server = {
        let api = api.clone();
        let shutdown = shutdown.clone();
        async move {
            if let Err(e) = api.serve(api_listener, stopped(shutdown)).await {
                tracing::error!(error = %e, "external metrics API stopped");
            }
        }
    };
    let metrics_server = serve_http(
        metrics_listener,
        metrics_router(ctx.telemetry.clone()),
        stopped(shutdown.clone()),
    );
    let health_server = serve_http(
        health_listener,
        health_router(readiness.clone()),
        stopped(shutdown.clone()),
    );
    info!(
        api = %servers.api_address,
        metrics = %servers.metrics_address,
        health = %servers.health_address,
        front_proxy_auth = servers.client_ca.is_some(),
        "serving"
    );
    let (_, _, _, metrics, health, _, _) = tokio::join!(
        run_cache(ctx.clone(), writer, Some(readiness), shutdown.clone()),
        run_operator(ctx.clone(), leadership, leader_tx, shutdown.clone()),
        api_server,
        metrics_server,
        health_server,
        leader_gauge,
        ca_refresh,
    );
    metrics.map_err(|e| format!("metrics server: {e}"))?;
    health.map_err(|e| format!("health server: {e}"))?;
    Ok(())
}

/// The owned HPAs' changes that matter to their ScaledObject — labels, annotations, owner references, spec
/// (as KEDA's controller filters them) — and every deletion; not the HPA controller's status updates every
/// 15 s.
fn hpa_changes(
    hpas: Api<HorizontalPodAutoscaler>,
    cache: reflector::store::Writer<HorizontalPodAutoscaler>,
) -> impl futures_util::Stream<Item = Result<HorizontalPodAutoscaler, watcher::Error>> + Send + 'static
{
    use std::collections::HashMap;
    use std::hash::{Hash, Hasher};
    let mut seen: HashMap<(Option<String>, Option<String>), u64> = HashMap::new();
    watcher(hpas, watcher::Config::default())
        .default_backoff()
        .reflect(cache)
        .filter_map(move |event| {
            let out = match event {
                Ok(watcher::Event::Apply(h) | watcher::Event::InitApply(h)) => {
                    let key = (h.metadata.namespace.clone(), h.metadata.name.clone());
                    let mut hasher = std::collections::hash_map::DefaultHasher::new();
                    h.metadata.labels.hash(&mut hasher);
                    h.metadata.annotations.hash(&mut hasher);
                    serde_json::to_string(&h.metadata.owner_references)
                        .unwrap_or_default()
                        .hash(&mut hasher);
                    serde_json::to_string(&h.spec)
                        .unwrap_or_default()
                        .hash(&mut hasher);
                    let hash = hasher.finish();
                    (seen.insert(key, hash) != Some(hash)).then_some(Ok(h))
                }
                Ok(watcher::Event::Delete(h)) => {
                    seen.remove(&(h.metadata.namespace.clone(), h.metadata.name.clone()));
                    Some(Ok(h))
                }
                Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
                Err(e) => Some(Err(e)),
            };
            futures_util::future::ready(out)
        })
}
