//! What the operator's tasks share: the API client, the clock, the scaler factory, discovery, the event
//! recorder, and one [`Tracked`] entry per ScaledObject holding the engine state, the built scalers and the
//! scale loop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::Client;
use prescale_core::keda::KedaState;
use prescale_core::keda::trigger::TriggerTarget;
use prescale_core::spec::ScaleTrigger;
use prescale_scalers::{Scaler, ScalerContext, TriggerAuth};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::SharedClock;
use crate::events::Recorder;
use crate::target::{Discovery, Target};
use crate::telemetry::Telemetry;

/// Builds a scaler for one trigger: the scaler registry. [`ScalerContext`] is the real one; tests may wrap it
/// to add trigger types of their own.
pub trait ScalerFactory: Send + Sync + 'static {
    /// The scaler for trigger `index`, or an error naming what is wrong with it.
    fn build(
        &self,
        index: usize,
        trigger: &ScaleTrigger,
        auth: TriggerAuth<'_>,
    ) -> Result<Box<dyn Scaler>, String>;
}

impl ScalerFactory for ScalerContext {
    fn build(
        &self,
        index: usize,
        trigger: &ScaleTrigger,
        auth: TriggerAuth<'_>,
    ) -> Result<Box<dyn Scaler>, String> {
        ScalerContext::build(self, index, trigger, auth).map_err(|e| e.to_string())
    }
}

/// The operator's settings (from the command line).
#[derive(Debug, Clone)]
pub struct OperatorConfig {
    /// The operator's own namespace: ClusterTriggerAuthentication objects and the Lease live here.
    pub namespace: String,
    /// Only ScaledObjects in this namespace (`None`: all).
    pub watch_namespace: Option<String>,
    /// This replica's identity (pod name): Lease holder and event source host.
    pub identity: String,
    /// Evaluations in flight at most per poll of one ScaledObject.
    pub max_in_flight: usize,
    /// Reconciles running at once (KEDA's `KEDA_SCALEDOBJECT_CTRL_MAX_RECONCILES`, default 5).
    pub max_concurrent_reconciles: u16,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        OperatorConfig {
            namespace: "keda".to_string(),
            watch_namespace: None,
            identity: "prescale".to_string(),
            max_in_flight: prescale_scalers::poll::DEFAULT_MAX_IN_FLIGHT,
            max_concurrent_reconciles: 5,
        }
    }
}

/// `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The scalers of one ScaledObject generation.
pub struct ScalerSet {
    /// `metadata.generation` they were built for.
    pub generation: i64,
    /// Per trigger, in order: the scaler, or why it could not be built.
    pub scalers: Vec<Result<Arc<dyn Scaler>, String>>,
    /// The engine's view of each trigger (metric name, target, activation threshold).
    pub targets: Vec<TriggerTarget>,
}

impl ScalerSet {
    /// The first build error, as `trigger <i>: <error>`.
    pub fn first_error(&self) -> Option<String> {
        self.scalers.iter().enumerate().find_map(|(i, s)| {
            s.as_ref().err().map(|e| {
                if e.starts_with("trigger ") {
                    e.clone()
                } else {
                    format!("trigger {i}: {e}")
                }
            })
        })
    }
}

impl std::fmt::Debug for ScalerSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScalerSet")
            .field("generation", &self.generation)
            .field("triggers", &self.targets.len())
            .finish()
    }
}

/// One ScaledObject's live state.
#[derive(Debug)]
pub struct TrackedState {
    /// The latest object seen.
    pub object: Arc<prescale_k8s::ScaledObject>,
    /// The engine's state.
    pub keda: KedaState,
    /// The scalers for the object's generation.
    pub scalers: Option<Arc<ScalerSet>>,
    /// The resolved scale target.
    pub target: Option<Target>,
    /// The target's replicas at the last read.
    pub last_replicas: Option<i32>,
    /// The status as this replica last wrote it (or found it when it started tracking the object): what the
    /// next write is compared with, so that an older copy of the object seen later cannot hide a change.
    pub written: Option<prescale_k8s::ScaledObjectStatus>,
    /// The proactive policy (`prescale.dev/forecast`) with its forecasters, built by the leader's loop.
    pub proactive: Option<crate::proactive::Policy>,
}

/// A running scale loop.
#[derive(Debug)]
pub struct LoopHandle {
    /// The generation the loop was started for.
    pub generation: i64,
    pub stop: watch::Sender<bool>,
    pub task: JoinHandle<()>,
}

/// One tracked ScaledObject.
#[derive(Debug)]
pub struct Tracked {
    pub key: ObjectKey,
    pub state: tokio::sync::Mutex<TrackedState>,
    pub scale_loop: Mutex<Option<LoopHandle>>,
    /// The trigger types counted in `keda_trigger_registered_total` for this object (`None`: not counted).
    pub registered: Mutex<Option<Vec<String>>>,
    /// Consecutive failed reconciles (for the retry backoff).
    pub failures: std::sync::atomic::AtomicU32,
}

impl Tracked {
    /// Stops the scale loop, if one runs, and waits for it to finish its current poll.
    pub async fn stop_loop(&self) {
        let handle = self.scale_loop.lock().ok().and_then(|mut l| l.take());
        if let Some(h) = handle {
            let _ = h.stop.send(true);
            let _ = h.task.await;
        }
    }

    /// The generation the running loop was started for.
    pub fn loop_generation(&self) -> Option<i64> {
        self.scale_loop
            .lock()
            .ok()
            .and_then(|l| l.as_ref().map(|h| h.generation))
    }
}

/// Everything the operator's tasks share.
pub struct Context {
    pub client: Client,
    pub config: OperatorConfig,
    pub clock: SharedClock,
    pub scalers: Arc<dyn ScalerFactory>,
    pub discovery: Discovery,
    pub recorder: Recorder,
    pub telemetry: Telemetry,
    pub tracked: Mutex<HashMap<ObjectKey, Arc<Tracked>>>,
    /// Whether this replica currently runs the controller (leads). Only then does it write.
    pub leading: std::sync::atomic::AtomicBool,
    /// The controller's watch caches while it runs (for checks across objects without listing).
    pub caches: std::sync::RwLock<Option<Caches>>,
}

/// The controller's watch caches.
#[derive(Clone)]
pub struct Caches {
    pub scaled_objects: kube::runtime::reflector::Store<prescale_k8s::ScaledObject>,
    pub hpas:
        kube::runtime::reflector::Store<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context for `client`.
    pub fn new(
        client: Client,
        config: OperatorConfig,
        clock: SharedClock,
        scalers: Arc<dyn ScalerFactory>,
    ) -> Arc<Self> {
        let recorder = Recorder::new(client.clone(), clock.clone(), config.identity.clone());
        Arc::new(Context {
            client,
            config,
            clock,
            scalers,
            discovery: Discovery::default(),
            recorder,
            telemetry: Telemetry::new(),
            tracked: Mutex::new(HashMap::new()),
            leading: std::sync::atomic::AtomicBool::new(false),
            caches: std::sync::RwLock::new(None),
        })
    }

    /// The tracked entry of `so`, created from its status when new; the object is refreshed.
    pub async fn track(&self, so: &Arc<prescale_k8s::ScaledObject>) -> Arc<Tracked> {
        let key = object_key(so);
        let existing = self.tracked.lock().ok().and_then(|m| m.get(&key).cloned());
        let replaced = existing.clone();
        if let Some(t) = existing {
            let mut st = t.state.lock().await;
            if st.object.metadata.uid == so.metadata.uid {
                st.object = so.clone();
                drop(st);
                return t;
            }
            // The same name, another object (deleted and created again): nothing of the old one carries over.
            drop(st);
            t.stop_loop().await;
            self.register(&t, None);
        }
        let t = Arc::new(Tracked {
            key: key.clone(),
            state: tokio::sync::Mutex::new(TrackedState {
                object: so.clone(),
                keda: crate::status::restore_state(so),
                scalers: None,
                target: None,
                last_replicas: None,
                written: so.status.clone(),
                proactive: None,
            }),
            scale_loop: Mutex::new(None),
            registered: Mutex::new(None),
            failures: std::sync::atomic::AtomicU32::new(0),
        });
        let Ok(mut m) = self.tracked.lock() else {
            return t;
        };
        // Another task may have tracked the object meanwhile: keep its entry unless it is the one replaced.
        match m.get(&key) {
            Some(current) if !replaced.as_ref().is_some_and(|r| Arc::ptr_eq(r, current)) => {
                current.clone()
            }
            _ => {
                m.insert(key, t.clone());
                t
            }
        }
    }

    /// Whether this replica leads (runs the controller and may write).
    pub fn is_leading(&self) -> bool {
        self.leading.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The tracked entry of `key`, if any.
    pub fn get(&self, key: &ObjectKey) -> Option<Arc<Tracked>> {
        self.tracked.lock().ok().and_then(|m| m.get(key).cloned())
    }

    /// Forgets `key` (after its loop was stopped), and its registration in the operator metrics.
    pub fn forget(&self, key: &ObjectKey) {
        let removed = self.tracked.lock().ok().and_then(|mut m| m.remove(key));
        if let Some(t) = removed {
            self.register(&t, None);
        }
    }

    /// `keda_resource_registered_total` / `keda_trigger_registered_total`: counts `tracked` with these trigger
    /// types (`None`: not at all), undoing what was counted before.
    pub fn register(&self, tracked: &Tracked, types: Option<Vec<String>>) {
        let Ok(mut registered) = tracked.registered.lock() else {
            return;
        };
        if *registered == types {
            return;
        }
        let t = &self.telemetry;
        let resource = crate::telemetry::SCALED_OBJECT_RESOURCE;
        if let Some(old) = registered.take() {
            old.iter().for_each(|k| t.decrement_trigger_total(k));
            t.decrement_resource_total(resource, &tracked.key.namespace);
        }
        if let Some(new) = &types {
            new.iter().for_each(|k| t.increment_trigger_total(k));
            t.increment_resource_total(resource, &tracked.key.namespace);
        }
        *registered = types;
    }

    /// Forgets every tracked ScaledObject (their loops must be stopped). A replica that starts leading begins
    /// from the objects' status, as KEDA's operator does, never from what it remembered while another led.
    pub fn forget_all(&self) {
        let all: Vec<Arc<Tracked>> = self
            .tracked
            .lock()
            .map(|mut m| m.drain().map(|(_, t)| t).collect())
            .unwrap_or_default();
        for t in all {
            self.register(&t, None);
        }
    }

    /// Stops every scale loop (leadership lost, shutdown), and drops every proactive policy with its
    /// `prescale_proactive_*` series: the forecasters live with the leader's loops, and a replica that does not
    /// lead serves the raw value (mode reactive), never a forecast frozen when it stopped polling.
    pub async fn stop_all_loops(&self) {
        let all: Vec<Arc<Tracked>> = self
            .tracked
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        for t in all {
            t.stop_loop().await;
            let dropped = t.state.lock().await.proactive.take().is_some();
            if dropped {
                self.telemetry
                    .remove_proactive(&t.key.namespace, &t.key.name);
            }
        }
    }
}

/// The key of a ScaledObject.
pub fn object_key(so: &prescale_k8s::ScaledObject) -> ObjectKey {
    ObjectKey {
        namespace: so
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string()),
        name: so.metadata.name.clone().unwrap_or_default(),
    }
}
