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
        let trigger = watcher(sos, watcher::Config::default())
            .default_backoff()
            .reflect(writer)
            .applied_objects()
            .predicate_filter(reconcile_relevant, PredicateConfig::default());
        let controller = Controller::for_stream(trigger, reader)
            .owns(hpas, watcher::Config::default())
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
            ctx.stop_all_loops().await;
        }
    };
    tokio::join!(election, controllers);
}
