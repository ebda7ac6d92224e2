//! Scenario-test support: the real operator (reconciler, scale loops, leader election) against the fake API
//! server of `prescale-testkit`, with a manual clock for the operator's schedule (polls, cooldown, the Lease)
//! and the API server's timestamps. Scalers are the real ones (metadata and authentication are parsed and
//! checked as in production) with their query answered from a script, so a test says what the metric is.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::apps::v1::Deployment;
use kube::Client;
use prescale_core::keda::trigger::TargetType;
use prescale_core::spec::ScaleTrigger;
use prescale_operator::clock::{Clock, ManualClock};
use prescale_operator::context::{Context, OperatorConfig, ScalerFactory};
use prescale_operator::leader::LeaseRef;
use prescale_operator::lease::ElectionConfig;
use prescale_operator::run::{Leadership, run_operator};
use prescale_scalers::{
    BoxFuture, Error as ScalerError, Evaluation, Scaler, ScalerContext, TriggerAuth,
};
use prescale_testkit::apiserver::FakeApiServer;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// 2026-01-01T00:00:00Z.
pub const START: u64 = 1_767_225_600;

/// What trigger `i` answers: a value or an error message.
#[derive(Clone, Default)]
pub struct Script {
    values: Arc<Mutex<BTreeMap<usize, Result<f64, String>>>>,
    calls: Arc<Mutex<usize>>,
    /// The authentication parameters and resolved env each trigger's scaler was last built with.
    auth: Arc<Mutex<BTreeMap<usize, AuthSeen>>>,
    /// What trigger `i`'s history replay answers (unset: the trigger cannot replay its history).
    history: Arc<Mutex<BTreeMap<usize, ScriptedHistory>>>,
    /// The history requests: (trigger, start, end, step), in unix milliseconds.
    history_calls: Arc<Mutex<Vec<HistoryCall>>>,
    /// Run while a history is fetched (e.g. to let the clock move as a slow `query_range` would).
    on_history: Arc<Mutex<Option<HistoryHook>>>,
}

/// What runs while a history is fetched.
pub type HistoryHook = Arc<dyn Fn() + Send + Sync>;

/// A scripted history: the points, or the error the replay fails with.
pub type ScriptedHistory = Result<Vec<(i64, f64)>, String>;
/// One history request: (trigger, start, end, step) in unix milliseconds.
pub type HistoryCall = (usize, i64, i64, i64);

/// (auth params, resolved env) of one build.
pub type AuthSeen = (BTreeMap<String, String>, BTreeMap<String, String>);

impl Script {
    pub fn set(&self, trigger: usize, value: f64) {
        self.values.lock().unwrap().insert(trigger, Ok(value));
    }
    pub fn fail(&self, trigger: usize, message: &str) {
        self.values
            .lock()
            .unwrap()
            .insert(trigger, Err(message.to_string()));
    }
    /// Trigger `trigger`'s history: a fetch answers the scripted points that lie in the asked range (`start`
    /// to `end`, both included; the step is not applied), or fails with the scripted error.
    pub fn set_history(&self, trigger: usize, history: ScriptedHistory) {
        self.history.lock().unwrap().insert(trigger, history);
    }
    /// Runs `hook` at every history fetch, before it answers.
    pub fn on_history(&self, hook: HistoryHook) {
        *self.on_history.lock().unwrap() = Some(hook);
    }
    pub fn history_calls(&self) -> Vec<HistoryCall> {
        self.history_calls.lock().unwrap().clone()
    }
    pub fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }
    /// (auth params, resolved env) of trigger `i`'s last build.
    pub fn auth(&self, trigger: usize) -> Option<AuthSeen> {
        self.auth.lock().unwrap().get(&trigger).cloned()
    }
}

/// The real scaler registry, with evaluation answered from a [`Script`].
pub struct ScriptedFactory {
    pub real: ScalerContext,
    pub script: Script,
}

struct ScriptedScaler {
    real: Box<dyn Scaler>,
    index: usize,
    script: Script,
}

impl Scaler for ScriptedScaler {
    fn kind(&self) -> &'static str {
        self.real.kind()
    }
    fn metric_name(&self) -> String {
        self.real.metric_name()
    }
    fn target_type(&self) -> TargetType {
        self.real.target_type()
    }
    fn target_value(&self) -> f64 {
        self.real.target_value()
    }
    fn activation_threshold(&self) -> f64 {
        self.real.activation_threshold()
    }
    fn describe(&self) -> Vec<(&'static str, String)> {
        self.real.describe()
    }
    fn evaluate(&self, _now: SystemTime) -> BoxFuture<'_, prescale_scalers::Result<Evaluation>> {
        *self.script.calls.lock().unwrap() += 1;
        let v = self
            .script
            .values
            .lock()
            .unwrap()
            .get(&self.index)
            .cloned()
            .unwrap_or(Ok(0.0));
        let threshold = self.real.activation_threshold();
        Box::pin(async move {
            match v {
                Ok(value) => Ok(Evaluation {
                    value,
                    active: value > threshold,
                }),
                Err(m) => Err(ScalerError::Config(m)),
            }
        })
    }
    fn history(
        &self,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
    ) -> Option<prescale_scalers::HistoryFuture<'_>> {
        let ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
        let scripted = self
            .script
            .history
            .lock()
            .unwrap()
            .get(&self.index)
            .cloned()?;
        self.script.history_calls.lock().unwrap().push((
            self.index,
            ms(start),
            ms(end),
            step.as_millis() as i64,
        ));
        let (from, to) = (ms(start), ms(end));
        let hook = self.script.on_history.lock().unwrap().clone();
        Some(Box::pin(async move {
            if let Some(hook) = hook {
                hook();
            }
            scripted
                .map(|points| {
                    points
                        .into_iter()
                        .filter(|(t, _)| *t >= from && *t <= to)
                        .collect()
                })
                .map_err(ScalerError::Config)
        }))
    }
}

impl ScalerFactory for ScriptedFactory {
    fn build(
        &self,
        index: usize,
        trigger: &ScaleTrigger,
        auth: TriggerAuth<'_>,
    ) -> Result<Box<dyn Scaler>, String> {
        self.script.auth.lock().unwrap().insert(
            index,
            (
                auth.params.cloned().unwrap_or_default(),
                auth.resolved_env.cloned().unwrap_or_default(),
            ),
        );
        let real = self
            .real
            .build(index, trigger, auth)
            .map_err(|e| e.to_string())?;
        Ok(Box::new(ScriptedScaler {
            real,
            index,
            script: self.script.clone(),
        }))
    }
}

/// One scenario's world.
pub struct World {
    pub api: FakeApiServer,
    pub clock: ManualClock,
    pub script: Script,
    /// When set, `status.proactive` is dropped from every ScaledObject status patch before the API server
    /// sees it, as a CRD without the field (KEDA's own) prunes it.
    pub prune_proactive: Arc<std::sync::atomic::AtomicBool>,
    /// The ScaledObject status patches that carried a non-null `status.proactive` (counted while pruning).
    pub proactive_patches: Arc<Mutex<usize>>,
}

impl World {
    pub fn new() -> World {
        let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(START));
        let c = clock.clone();
        let api =
            FakeApiServer::new(Arc::new(move || c.now()) as prescale_testkit::apiserver::Clock);
        World {
            api,
            clock,
            script: Script::default(),
            prune_proactive: Arc::default(),
            proactive_patches: Arc::default(),
        }
    }

    pub fn client(&self) -> Client {
        self.api.client()
    }

    /// Creates (or replaces) any object given as JSON.
    pub fn put(&self, v: Value) -> Value {
        self.api.put(v).expect("stored")
    }

    /// Updates a ScaledObject through the API (PUT): generation and resourceVersion as the API server
    /// assigns them.
    pub async fn update(&self, so: Value) {
        let ns = so["metadata"]["namespace"].as_str().unwrap().to_string();
        let name = so["metadata"]["name"].as_str().unwrap().to_string();
        let typed: prescale_k8s::ScaledObject = serde_json::from_value(so).unwrap();
        kube::Api::<prescale_k8s::ScaledObject>::namespaced(self.client(), &ns)
            .replace(&name, &Default::default(), &typed)
            .await
            .unwrap();
    }

    pub fn namespace(&self, name: &str) {
        self.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}));
    }

    /// A Deployment with `replicas` (all ready) and one container with `env`.
    pub fn deployment(&self, ns: &str, name: &str, replicas: i32, container: Value) {
        self.put(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}
            },
            "status": {"replicas": replicas, "readyReplicas": replicas}
        }));
    }

    pub fn replicas(&self, ns: &str, name: &str) -> Option<i32> {
        self.api
            .get_typed::<Deployment>(Some(ns), name)
            .and_then(|d| d.spec.and_then(|s| s.replicas))
    }

    /// Sets a Deployment's replicas as the HPA or a user would (and marks them ready).
    pub fn set_replicas(&self, ns: &str, name: &str, replicas: i32) {
        let mut d = self
            .api
            .get("apps", "deployments", Some(ns), name)
            .expect("deployment");
        d["spec"]["replicas"] = json!(replicas);
        d["status"] = json!({"replicas": replicas, "readyReplicas": replicas});
        self.put(d);
    }

    pub fn scaled_object(&self, ns: &str, name: &str) -> Option<Value> {
        self.api.get("keda.sh", "scaledobjects", Some(ns), name)
    }

    pub fn hpa(&self, ns: &str, name: &str) -> Option<Value> {
        self.api
            .get("autoscaling", "horizontalpodautoscalers", Some(ns), name)
    }

    /// The condition `type` of a ScaledObject: (status, reason, message).
    pub fn condition(&self, ns: &str, name: &str, type_: &str) -> Option<(String, String, String)> {
        let so = self.scaled_object(ns, name)?;
        let c = so["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == type_)?
            .clone();
        Some((
            c["status"].as_str().unwrap_or("").to_string(),
            c["reason"].as_str().unwrap_or("").to_string(),
            c["message"].as_str().unwrap_or("").to_string(),
        ))
    }

    /// Events about `name` in `ns`, as (type, reason, message), oldest first.
    pub fn events(&self, ns: &str, name: &str) -> Vec<(String, String, String)> {
        let mut evs: Vec<Value> = self
            .api
            .list("", "events", Some(ns))
            .into_iter()
            .filter(|e| e["involvedObject"]["name"] == name)
            .collect();
        evs.sort_by_key(|e| {
            e["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|r| r.parse::<u64>().ok())
        });
        evs.iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap_or("").to_string(),
                    e["reason"].as_str().unwrap_or("").to_string(),
                    e["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    pub fn event_reasons(&self, ns: &str, name: &str) -> Vec<String> {
        self.events(ns, name).into_iter().map(|e| e.1).collect()
    }

    /// Waits (real time) until `cond` holds; panics with `what` after 10 s.
    pub async fn wait(&self, what: &str, mut cond: impl FnMut(&World) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if cond(self) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("timed out waiting for: {what}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Moves the operator's clock forward in `step`s up to `total`, letting the loops run in between.
    pub async fn advance(&self, total: Duration, step: Duration) {
        let mut done = Duration::ZERO;
        while done < total {
            let d = step.min(total - done);
            self.clock.advance(d);
            done += d;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Starts an operator on this world.
    pub fn start(&self, identity: &str, leadership: Leadership) -> Operator {
        let config = OperatorConfig {
            namespace: "keda".to_string(),
            identity: identity.to_string(),
            ..OperatorConfig::default()
        };
        // Each operator's requests carry its identity as User-Agent, so the request log tells who wrote.
        let id = identity.to_string();
        let (prune, patches) = (self.prune_proactive.clone(), self.proactive_patches.clone());
        let router = self.api.router().layer(axum::middleware::map_request(
            move |mut req: axum::http::Request<axum::body::Body>| {
                let id = id.clone();
                let (prune, patches) = (prune.clone(), patches.clone());
                async move {
                    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
                        req.headers_mut().insert(axum::http::header::USER_AGENT, v);
                    }
                    let path = req.uri().path();
                    if prune.load(std::sync::atomic::Ordering::SeqCst)
                        && req.method() == axum::http::Method::PATCH
                        && path.contains("/scaledobjects/")
                        && path.ends_with("/status")
                    {
                        req = prune_proactive(req, &patches).await;
                    }
                    req
                }
            },
        ));
        let ctx = Context::new(
            Client::new(router, "default"),
            config,
            Arc::new(self.clock.clone()),
            Arc::new(ScriptedFactory {
                real: ScalerContext::with_aws_env(prescale_aws::AwsEnv::from_vars(
                    [
                        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                        (
                            "AWS_SECRET_ACCESS_KEY",
                            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                        ),
                    ]
                    .map(|(k, v)| (k.to_string(), v.to_string())),
                )),
                script: self.script.clone(),
            }),
        );
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (leader_tx, leader) = watch::channel(false);
        let task = tokio::spawn(run_operator(
            ctx.clone(),
            leadership,
            leader_tx,
            shutdown_rx,
        ));
        Operator {
            ctx,
            shutdown,
            leader,
            task,
        }
    }

    /// An operator that always leads.
    pub fn start_single(&self) -> Operator {
        self.start("op-0", Leadership::Always)
    }

    /// An operator electing itself on the Lease `keda/prescale-operator`.
    pub fn start_elected(&self, identity: &str) -> Operator {
        let mut election = ElectionConfig::new(identity);
        election.lease_duration = Duration::from_secs(15);
        election.renew_deadline = Duration::from_secs(10);
        election.retry_period = Duration::from_secs(2);
        self.start(
            identity,
            Leadership::Lease {
                lease: LeaseRef {
                    namespace: "keda".to_string(),
                    name: "prescale-operator".to_string(),
                },
                election,
            },
        )
    }
}

/// `req` (a status merge patch) without `status.proactive`; counts the patches that carried a value.
async fn prune_proactive(
    req: axum::http::Request<axum::body::Body>,
    patches: &Mutex<usize>,
) -> axum::http::Request<axum::body::Body> {
    let (mut parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("a patch body");
    let mut patch: Value = serde_json::from_slice(&bytes).expect("a JSON patch");
    let carried = patch
        .get_mut("status")
        .and_then(Value::as_object_mut)
        .and_then(|s| s.remove("proactive"));
    if carried.is_some_and(|p| !p.is_null()) {
        *patches.lock().unwrap() += 1;
    }
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    axum::http::Request::from_parts(
        parts,
        axum::body::Body::from(serde_json::to_vec(&patch).expect("JSON")),
    )
}

/// A running operator.
pub struct Operator {
    pub ctx: Arc<Context>,
    pub shutdown: watch::Sender<bool>,
    pub leader: watch::Receiver<bool>,
    pub task: JoinHandle<()>,
}

impl Operator {
    /// Graceful stop (loops stopped, Lease released).
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }

    /// A crash: every task of this operator ends at once, nothing is released.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
        let all: Vec<_> = self.ctx.tracked.lock().unwrap().values().cloned().collect();
        for t in all {
            if let Some(h) = t.scale_loop.lock().unwrap().take() {
                h.task.abort();
            }
        }
    }

    pub fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }
}

/// The seed ScaledObject of the reference architecture, in namespace `ho11y`.
pub fn seed_scaled_object() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/seed/scaledobject.yaml"
    ))
    .expect("seed");
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).expect("yaml");
    docs.into_iter().next().expect("one document")
}
