//! The discrete-event driver: replays a [`Scenario`] through KEDA's scale loop and the HPA controller on a
//! simulated [`Cluster`].
//!
//! Timing rules:
//! - KEDA polls at t = 0, pollingInterval, 2·pollingInterval, …; the HPA syncs at t = 0, hpaSyncPeriod, ….
//! - At one instant, pods that finish starting become ready first, then KEDA polls, then the HPA syncs.
//! - The HPA reads each metric live at its sync, through KEDA's external-metrics path (with
//!   `useCachedMetrics`, the value of KEDA's last poll); every read counts towards fallback.
//! - `status.replicas` follows `spec.replicas` at once; the initial pods are ready at t = 0; a new pod is ready
//!   `podStartupSeconds` after it was created; scale-down removes not-ready pods first, then the newest.
//! - The run covers [0, duration): nothing happens at t = duration.

use prescale_core::Timestamp;
use prescale_core::hpa::{self, ControllerConfig, ExternalMetric, HpaState, Observation};
use prescale_core::keda::conditions::{ConditionStatus, ConditionType};
use prescale_core::keda::events::{self, KedaEvent, scale_loop_started};
use prescale_core::keda::hpa_spec::DerivedHpa;
use prescale_core::keda::reconcile::{HpaAction, ScaleLoopAction, reconcile as keda_reconcile};
use prescale_core::keda::scale_loop::{self, PollInput};
use prescale_core::keda::state::KedaState;
use prescale_core::keda::trigger::{TriggerTarget, trigger_targets};
use prescale_core::proactive::{self, HpaView, ProactiveSpec, Winner};
use prescale_forecast::{Config as ForecastConfig, Forecaster};
use serde::Serialize;

use crate::cluster::Cluster;
use crate::scenario::{Scenario, TriggerRef};
use crate::score::{Scores, integrate, score};
use crate::series::{Cursor, Sample, Series};
use crate::{Error, Result};

/// The most KEDA polls + HPA syncs one run may take (about a minute of work at the measured ~1M ticks/s):
/// a guard against scenarios that would run for hours, such as a 1 ms sync period over a year.
pub const MAX_TICKS: i64 = 50_000_000;

/// One line of the timeline: the state after everything that happened at `t_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub t_ms: i64,
    pub replicas: i32,
    pub ready: i32,
    /// The HPA's `status.desiredReplicas` after its last sync (none while no HPA exists).
    pub desired: Option<i32>,
    /// KEDA's `Active` condition after its last poll.
    pub active: bool,
    /// Each trigger's query value at `t_ms`; `None` while the query fails.
    pub metrics: Vec<Option<f64>>,
}

/// What the proactive policy did over a run (`prescale.dev/forecast`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProactiveSummary {
    /// The model; with an invalid policy, the `prescale.dev/forecast` value as written.
    pub model: String,
    /// Why the policy cannot run (a bad `prescale.dev/` annotation, or a history the pollingInterval's slots
    /// cannot fill): the operator then runs the ScaledObject reactively, and so does the replay. `None` for a
    /// valid policy; then `lead_s`, `quantile` and `margin_pct` are set, otherwise they are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_s: Option<f64>,
    /// The quantile of recent forecast errors added as the band.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantile: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin_pct: Option<f64>,
    /// HPA metric reads answered with the forecast, because it was above the current value.
    pub forecast_won: u64,
    /// Reads where a forecast existed but the current value was at or above it.
    pub current_won: u64,
    /// Reads without a forecast (reactive fallback).
    pub reactive: u64,
    /// Triggers the policy does not apply to, with the reason (`useCachedMetrics`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_applied: Vec<String>,
    /// The first reason the policy was reactive, and the last decision's reason.
    pub first_reactive_reason: Option<String>,
    pub last_reason: Option<String>,
}

impl ProactiveSummary {
    /// Every HPA read the policy answered (at least 1, to divide by).
    pub fn reads(&self) -> u64 {
        (self.forecast_won + self.current_won + self.reactive).max(1)
    }
}

/// An event as `kubectl get events` would show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub t_s: f64,
    /// `ScaledObject/<name>` or `HorizontalPodAutoscaler/<name>`.
    pub object: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub message: String,
}

/// A status condition at the end of the run, as `kubectl describe` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionReport {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub scaled_object: String,
    pub scale_target: String,
    pub hpa: Option<String>,
    pub duration_s: f64,
    pub polling_interval_s: f64,
    pub hpa_sync_period_s: f64,
    pub keda_polls: u64,
    pub hpa_syncs: u64,
    pub initial_replicas: i32,
    pub final_replicas: i32,
    pub max_replicas: i32,
    pub min_replicas: i32,
    /// Writes of a changed `spec.replicas` (by KEDA or the HPA).
    pub scale_actions: u64,
    /// Every change of `spec.replicas`: `[t_s, replicas]`.
    pub replica_changes: Vec<(f64, i32)>,
    pub pod_seconds: f64,
    pub ready_pod_seconds: f64,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proactive: Option<ProactiveSummary>,
    pub events: Vec<Event>,
    /// The ScaledObject's `status.conditions` at the end of the run.
    pub scaled_object_conditions: Vec<ConditionReport>,
    /// The HPA's `status.conditions` at the end of the run (empty while no HPA exists).
    pub hpa_conditions: Vec<ConditionReport>,
}

#[derive(Debug, Clone)]
pub struct Run {
    pub summary: Summary,
    /// Ready pods over time: `(t_ms, ready)` at every change, from t = 0.
    pub ready_steps: Vec<(i64, i32)>,
    /// Present when requested.
    pub rows: Option<Vec<Row>>,
    /// Number of triggers (timeline metric columns).
    pub triggers: usize,
}

/// Options of one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Keep every timeline row (costs memory proportional to the run length).
    pub timeline: bool,
}

fn engine_err(sc: &Scenario, source: prescale_core::Error) -> Error {
    Error::Engine {
        file: sc.file.clone(),
        source,
    }
}

fn scenario_err(sc: &Scenario, field: &str, message: String) -> Error {
    Error::Scenario {
        file: sc.file.clone(),
        field: field.into(),
        message,
    }
}

/// Resolve a trigger reference against the ScaledObject's triggers, or say why it names none.
fn resolve_trigger(sc: &Scenario, r: &TriggerRef, field: &str) -> Result<usize> {
    if let Some(i) = sc.trigger_index(r) {
        return Ok(i);
    }
    let triggers = &sc.scaled_object.spec.triggers;
    let message = match r {
        TriggerRef::Index(i) => {
            format!(
                "trigger index {i} is out of range: the ScaledObject has {} trigger(s)",
                triggers.len()
            )
        }
        TriggerRef::Name(n) => {
            let names: Vec<String> = triggers.iter().filter_map(|t| t.name.clone()).collect();
            let names = if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            };
            format!("no trigger named {n:?} (named triggers: {names})")
        }
    };
    Err(scenario_err(sc, field, message))
}

/// The per-trigger series, in trigger order.
fn series_by_trigger(sc: &Scenario) -> Result<Vec<&Series>> {
    let n = sc.scaled_object.spec.triggers.len();
    let mut out: Vec<Option<&Series>> = vec![None; n];
    for (k, m) in sc.metrics.iter().enumerate() {
        let i = resolve_trigger(sc, &m.trigger, &format!("metrics[{k}].trigger"))?;
        if out[i].is_some() {
            return Err(scenario_err(
                sc,
                &format!("metrics[{k}].trigger"),
                format!("trigger {i} already has a series"),
            ));
        }
        out[i] = Some(&m.series);
    }
    out.into_iter()
        .enumerate()
        .map(|(i, s)| {
            s.ok_or_else(|| {
                scenario_err(
                    sc,
                    "metrics",
                    format!("no series for trigger {i}; add an entry with trigger: {i}"),
                )
            })
        })
        .collect()
}

struct Sim<'a> {
    sc: &'a Scenario,
    targets: Vec<TriggerTarget>,
    hpa: Option<DerivedHpa>,
    cfg: ControllerConfig,
    keda: KedaState,
    hpa_state: HpaState,
    cluster: Cluster,
    cursors: Vec<Cursor<'a>>,
    loop_running: bool,
    desired: Option<i32>,
    active: bool,
    ready_steps: Vec<(i64, i32)>,
    replica_steps: Vec<(i64, i32)>,
    events: Vec<Event>,
    scale_actions: u64,
    keda_polls: u64,
    hpa_syncs: u64,
    proactive: Option<Proactive>,
}

/// The proactive policy's per-run state: one forecaster per trigger (none when the policy is invalid).
struct Proactive {
    /// `None` when the policy is invalid: every trigger is served its current value.
    spec: Option<ProactiveSpec>,
    /// Per trigger; `None` where the policy does not apply.
    forecasters: Vec<Option<Forecaster>>,
    summary: ProactiveSummary,
}

impl Proactive {
    /// The value the HPA acts on for trigger `i` at `t`, given the current query result.
    fn serve(&mut self, i: usize, t: i64, current: f64, hpa: &HpaView) -> f64 {
        let (Some(spec), Some(f)) = (
            self.spec.as_ref(),
            self.forecasters.get(i).and_then(Option::as_ref),
        ) else {
            return current;
        };
        let forecast = f
            .forecast(t)
            .map(|p| p.to_forecast())
            .map_err(|e| e.to_string());
        let d = proactive::decide_for_hpa(spec, current, forecast, hpa);
        match (d.winner, d.reactive()) {
            (_, true) => {
                self.summary.reactive += 1;
                if self.summary.first_reactive_reason.is_none() {
                    self.summary.first_reactive_reason = Some(d.reason.clone());
                }
            }
            (Winner::Forecast, false) => self.summary.forecast_won += 1,
            (Winner::Current, false) => self.summary.current_won += 1,
        }
        self.summary.last_reason = Some(d.reason);
        d.value
    }
}

fn read(cursor: &mut Cursor<'_>, t: i64) -> Option<f64> {
    match cursor.at(t) {
        Sample::Value(v) => Some(v),
        Sample::Error => None,
    }
}

fn query_error(i: usize, t: i64) -> String {
    format!(
        "simulated query failure (trigger {i}, t={}s)",
        crate::duration::format_secs(t)
    )
}

impl Sim<'_> {
    fn so_object(&self) -> String {
        format!("ScaledObject/{}", self.sc.scaled_object.metadata.name())
    }

    fn keda_events(&mut self, t: i64, events: Vec<KedaEvent>) {
        for e in events {
            self.events.push(Event {
                t_s: t as f64 / 1000.0,
                object: self.so_object(),
                kind: e.type_.as_str().to_string(),
                reason: e.reason,
                message: e.message,
            });
        }
    }

    /// Write `spec.replicas` through the `/scale` subresource. A negative count is rejected as the API server
    /// rejects it; the error is returned for the writer's failure event.
    fn set_replicas(&mut self, t: i64, n: i32) -> std::result::Result<bool, String> {
        if n < 0 {
            return Err(format!(
                "Scale.autoscaling \"{}\" is invalid: spec.replicas: Invalid value: {n}: must be greater than or equal to 0",
                self.sc.scaled_object.spec.scale_target_ref.name
            ));
        }
        if !self.cluster.scale(t, n) {
            return Ok(false);
        }
        self.scale_actions += 1;
        self.replica_steps.push((t, n));
        Ok(true)
    }

    fn note_ready(&mut self, t: i64) {
        let r = self.cluster.ready();
        if self.ready_steps.last().is_none_or(|&(_, last)| last != r) {
            self.ready_steps.push((t, r));
        }
    }

    fn poll(&mut self, t: i64) {
        self.keda_polls += 1;
        let results: Vec<std::result::Result<f64, String>> = self
            .cursors
            .iter_mut()
            .enumerate()
            .map(|(i, c)| read(c, t).ok_or_else(|| query_error(i, t)))
            .collect();
        let input = PollInput {
            now: Timestamp::from_millis(t),
            current_replicas: self.cluster.replicas(),
            ready_pods: self.cluster.ready(),
            results: &results,
        };
        if let Some(p) = self.proactive.as_mut() {
            for (f, r) in p.forecasters.iter_mut().zip(&results) {
                if let Some(f) = f {
                    f.observe(t, r.as_ref().ok().copied());
                }
            }
        }
        let outcome = scale_loop::poll(
            &self.sc.scaled_object,
            &self.targets,
            &mut self.keda,
            &input,
        );
        // The `active` column is KEDA's Active condition (True also under force-activation).
        self.active = self.keda.conditions.status(ConditionType::Active) == ConditionStatus::True;
        self.keda_events(t, outcome.events);
        if let Some(n) = outcome.scale_to {
            // The executor only writes minReplicaCount, idleReplicaCount or 1, which validation keeps >= 0, so
            // this write cannot be refused; if it were, KEDA's event names the direction.
            let activating = self.active;
            if let Err(err) = self.set_replicas(t, n) {
                let reason = if activating {
                    events::REASON_SCALE_TARGET_ACTIVATION_FAILED
                } else {
                    events::REASON_SCALE_TARGET_DEACTIVATION_FAILED
                };
                self.keda_events(t, vec![KedaEvent::warning(reason, err)]);
            }
            self.note_ready(t);
        }
    }

    fn sync(&mut self, t: i64) {
        let Some(hpa) = &self.hpa else { return };
        self.hpa_syncs += 1;
        let now = Timestamp::from_millis(t);
        let (spec_replicas, ready) = (self.cluster.replicas(), self.cluster.ready());
        let obs = Observation {
            now,
            spec_replicas,
            status_replicas: spec_replicas,
            ready_pods: ready,
        };
        let so = &self.sc.scaled_object;
        let targets = &self.targets;
        let keda = &mut self.keda;
        let cursors = &mut self.cursors;
        let proactive = &mut self.proactive;
        let tolerance = self.cfg.tolerance;
        let mut fetch = |m: &ExternalMetric| {
            scale_loop::hpa_metric(so, targets, keda, &m.name, spec_replicas, ready, &mut |i| {
                let current = cursors
                    .get_mut(i)
                    .and_then(|c| read(c, t))
                    .ok_or_else(|| query_error(i, t))?;
                // The proactive policy answers the HPA's read: never below the current value.
                Ok(match (proactive.as_mut(), targets.get(i)) {
                    (Some(p), Some(target)) => {
                        let hpa = HpaView::for_target(target, spec_replicas, tolerance);
                        p.serve(i, t, current, &hpa)
                    }
                    _ => current,
                })
            })
        };
        let namespace = so.metadata.namespace_or_default();
        let mut decision = hpa::reconcile_in_namespace(
            namespace,
            &self.cfg,
            &hpa.spec,
            &mut self.hpa_state,
            &obs,
            &mut fetch,
        );
        let object = format!("HorizontalPodAutoscaler/{}", hpa.name);
        if decision.rescale {
            let (prev, new) = (decision.current_replicas, decision.desired_replicas);
            let spec = hpa.spec.clone();
            match self.set_replicas(t, new) {
                Ok(_) => self.hpa_state.record_scale(&spec, now, prev, new),
                Err(err) => self
                    .hpa_state
                    .record_scale_failure(&mut decision, &err, now),
            }
            self.note_ready(t);
        }
        if decision.decided {
            self.desired = Some(decision.desired_replicas);
        }
        for e in decision.events {
            self.events.push(Event {
                t_s: t as f64 / 1000.0,
                object: object.clone(),
                kind: e.kind.as_str().to_string(),
                reason: e.reason,
                message: e.message,
            });
        }
    }

    fn row(&mut self, t: i64) -> Row {
        Row {
            t_ms: t,
            replicas: self.cluster.replicas(),
            ready: self.cluster.ready(),
            desired: self.desired,
            active: self.active,
            metrics: self.cursors.iter_mut().map(|c| read(c, t)).collect(),
        }
    }
}

/// Why a ScaledObject that opted in cannot run the proactive policy.
enum InvalidPolicy {
    /// A bad `prescale.dev/` annotation.
    Annotation(proactive::AnnotationError),
    /// The annotations are valid but the forecaster refuses them with this pollingInterval.
    Forecaster(prescale_forecast::Error),
}

impl InvalidPolicy {
    /// The scenario error (for callers that require a valid policy, such as `bench`).
    fn error(&self, sc: &Scenario) -> Error {
        match self {
            InvalidPolicy::Annotation(e) => scenario_err(
                sc,
                &format!("scaledObject.metadata.annotations[\"{}\"]", e.annotation),
                e.message.clone(),
            ),
            InvalidPolicy::Forecaster(e) => scenario_err(
                sc,
                "scaledObject.metadata.annotations",
                format!("the proactive policy cannot run: {e}"),
            ),
        }
    }

    /// The reason the operator reports (`ProactivePolicyInvalid`) when it runs the ScaledObject reactively.
    fn reason(&self, poll_ms: i64) -> String {
        match self {
            InvalidPolicy::Annotation(e) => e.to_string(),
            InvalidPolicy::Forecaster(e) => format!(
                "the proactive policy cannot run with pollingInterval {}: {e}",
                crate::duration::format_human(poll_ms)
            ),
        }
    }
}

/// The ScaledObject's proactive policy as the operator builds it: `Ok(None)` when it has not opted in.
fn policy(sc: &Scenario, poll_ms: i64) -> Result<Option<ProactiveSpec>, InvalidPolicy> {
    let Some(spec) = proactive::spec(&sc.scaled_object).map_err(InvalidPolicy::Annotation)? else {
        return Ok(None);
    };
    Forecaster::new(ForecastConfig::from_spec(&spec, poll_ms))
        .map_err(InvalidPolicy::Forecaster)?;
    Ok(Some(spec))
}

/// The scenario's polling interval in milliseconds (at least 1 s): KEDA's poll period, and the
/// forecaster's step.
fn poll_ms(sc: &Scenario) -> i64 {
    proactive::step_ms(&sc.scaled_object)
}

/// An error naming the annotation (or the pollingInterval) at fault when the scenario's ScaledObject opted
/// into the proactive policy with one that cannot run. [`simulate`] runs such a ScaledObject reactively, as
/// the operator does; callers that set the policy's parameters themselves (`prescale bench`) call this first.
pub fn check_proactive(sc: &Scenario) -> Result<()> {
    policy(sc, poll_ms(sc)).map(|_| ()).map_err(|e| e.error(sc))
}

/// The proactive policy from the ScaledObject's `prescale.dev/` annotations, if it opted in. An invalid
/// policy runs reactively with the reason in the summary, as the operator runs it.
fn proactive_state(sc: &Scenario, poll_ms: i64, triggers: usize) -> Option<Proactive> {
    let spec = match policy(sc, poll_ms) {
        Ok(Some(spec)) => spec,
        Ok(None) => return None,
        Err(invalid) => {
            let model = sc
                .scaled_object
                .metadata
                .annotations
                .get(proactive::ANNOTATION_FORECAST)
                .map(|m| m.trim().to_string())
                .unwrap_or_default();
            return Some(Proactive {
                spec: None,
                forecasters: (0..triggers).map(|_| None).collect(),
                summary: ProactiveSummary {
                    model,
                    invalid: Some(invalid.reason(poll_ms)),
                    lead_s: None,
                    quantile: None,
                    margin_pct: None,
                    forecast_won: 0,
                    current_won: 0,
                    reactive: 0,
                    not_applied: Vec::new(),
                    first_reactive_reason: None,
                    last_reason: None,
                },
            });
        }
    };
    let cfg = ForecastConfig::from_spec(&spec, poll_ms);
    let mut forecasters = Vec::with_capacity(triggers);
    let mut not_applied = Vec::new();
    for (i, trigger) in sc
        .scaled_object
        .spec
        .triggers
        .iter()
        .enumerate()
        .take(triggers)
    {
        if trigger.uses_cached_metrics() {
            not_applied.push(format!(
                "trigger {i}: {}",
                proactive::NOT_WITH_CACHED_METRICS
            ));
            forecasters.push(None);
            continue;
        }
        // `policy` built this configuration's forecaster already.
        forecasters.push(Forecaster::new(cfg.clone()).ok());
    }
    let summary = ProactiveSummary {
        model: spec.model.to_string(),
        invalid: None,
        lead_s: Some(spec.lead_ms as f64 / 1000.0),
        quantile: Some(spec.quantile),
        margin_pct: Some(spec.margin * 100.0),
        forecast_won: 0,
        current_won: 0,
        reactive: 0,
        not_applied,
        first_reactive_reason: None,
        last_reason: None,
    };
    Some(Proactive {
        spec: Some(spec),
        forecasters,
        summary,
    })
}

/// Replay the scenario.
pub fn simulate(sc: &Scenario, opts: Options) -> Result<Run> {
    let so = &sc.scaled_object;
    let series = series_by_trigger(sc)?;
    let load_idx = resolve_trigger(sc, &sc.workload.load, "workload.load")?;
    if so.is_using_modifiers() {
        return Err(engine_err(sc, scale_loop::modifiers_not_supported()));
    }
    let targets = trigger_targets(so).map_err(|e| engine_err(sc, e))?;
    let poll_ms = poll_ms(sc);
    let proactive = proactive_state(sc, poll_ms, series.len());
    let initial = sc
        .workload
        .initial_replicas
        .unwrap_or_else(|| so.spec.min_replicas());

    // The ScaledObject is created at t = 0: KEDA's first reconcile decides whether there is an HPA and a scale
    // loop (not while paused), scales to `paused-replicas`, and sets the Ready and Paused conditions.
    let mut keda = KedaState::new(Timestamp::from_millis(0));
    let start = keda_reconcile(so, &mut keda, initial);
    if let Some(err) = start.error {
        return Err(engine_err(
            sc,
            prescale_core::Error::Invalid {
                path: "spec".into(),
                message: err,
            },
        ));
    }
    let hpa = match start.hpa {
        HpaAction::Ensure(h) => Some(*h),
        HpaAction::Delete | HpaAction::Unchanged => None,
    };
    let loop_running = start.scale_loop == ScaleLoopAction::Run;
    let cfg = ControllerConfig {
        tolerance: sc.controller.tolerance,
        downscale_stabilization_ms: sc.controller.downscale_stabilization_ms,
        ..ControllerConfig::default()
    };
    let mut sim = Sim {
        sc,
        targets,
        hpa,
        cfg,
        keda,
        hpa_state: HpaState::new(),
        cluster: Cluster::new(initial, sc.workload.pod_startup_ms),
        cursors: series.iter().map(|s| s.cursor()).collect(),
        loop_running,
        desired: None,
        active: false,
        ready_steps: vec![(0, initial)],
        replica_steps: vec![(0, initial)],
        events: Vec::new(),
        scale_actions: 0,
        keda_polls: 0,
        hpa_syncs: 0,
        proactive,
    };
    let mut start_events = Vec::new();
    if loop_running {
        start_events.extend(scale_loop_started(so));
    }
    start_events.extend(start.events);
    sim.keda_events(0, start_events);
    if let Some(n) = start.scale_to
        && let Err(err) = sim.set_replicas(0, n)
    {
        // `scaleTargetToPausedCount` failed: the reconcile reports it on the ScaledObject.
        sim.keda_events(
            0,
            vec![KedaEvent::warning(
                events::REASON_SCALED_OBJECT_CHECK_FAILED,
                format!("failed to scale target to paused replica count: {err}"),
            )],
        );
    }
    sim.note_ready(0);

    let sync_ms = sc.controller.hpa_sync_period_ms.max(1);
    let ticks = sc.duration_ms / poll_ms + sc.duration_ms / sync_ms;
    if ticks > MAX_TICKS {
        return Err(scenario_err(
            sc,
            "duration",
            format!(
                "{} with KEDA polls every {}s and HPA syncs every {}s is {ticks} ticks, more than the {MAX_TICKS} a run \
                 may take; shorten the duration or lengthen the periods",
                crate::duration::format_human(sc.duration_ms),
                crate::duration::format_secs(poll_ms),
                crate::duration::format_secs(sync_ms),
            ),
        ));
    }
    let mut next_poll = if sim.loop_running { 0 } else { i64::MAX };
    let mut next_sync = if sim.hpa.is_some() { 0 } else { i64::MAX };
    let mut rows = opts.timeline.then(Vec::new);
    let mut t = 0i64;
    while t < sc.duration_ms {
        if sim.cluster.advance(t) {
            sim.note_ready(t);
        }
        if t == next_poll {
            sim.poll(t);
            next_poll += poll_ms;
        }
        if t == next_sync {
            sim.sync(t);
            next_sync += sync_ms;
        }
        if let Some(rows) = rows.as_mut() {
            let r = sim.row(t);
            rows.push(r);
        }
        t = next_poll
            .min(next_sync)
            .min(sim.cluster.next_ready_time().unwrap_or(i64::MAX));
    }

    let replicas_seen = sim.replica_steps.iter().map(|&(_, r)| r);
    let max_replicas = replicas_seen.clone().max().unwrap_or(initial);
    let min_replicas = replicas_seen.min().unwrap_or(initial);
    let scores = sc
        .workload
        .capacity_per_pod
        .map(|cap| score(&sim.ready_steps, series[load_idx], cap, sc.duration_ms));
    let summary = Summary {
        scaled_object: format!(
            "{}/{}",
            so.metadata.namespace_or_default(),
            so.metadata.name()
        ),
        scale_target: format!(
            "{}/{}",
            // Validation has accepted the target reference, so its kind resolves (an empty one is a Deployment).
            so.scale_target_gvk().map(|g| g.kind).unwrap_or_default(),
            so.spec.scale_target_ref.name
        ),
        hpa: sim.hpa.as_ref().map(|h| h.name.clone()),
        duration_s: sc.duration_ms as f64 / 1000.0,
        polling_interval_s: poll_ms as f64 / 1000.0,
        hpa_sync_period_s: sync_ms as f64 / 1000.0,
        keda_polls: sim.keda_polls,
        hpa_syncs: sim.hpa_syncs,
        initial_replicas: initial,
        final_replicas: sim.cluster.replicas(),
        max_replicas,
        min_replicas,
        scale_actions: sim.scale_actions,
        replica_changes: sim
            .replica_steps
            .iter()
            .skip(1)
            .map(|&(t, r)| (t as f64 / 1000.0, r))
            .collect(),
        pod_seconds: integrate(&sim.replica_steps, sc.duration_ms),
        ready_pod_seconds: integrate(&sim.ready_steps, sc.duration_ms),
        scores,
        proactive: sim.proactive.as_ref().map(|p| p.summary.clone()),
        events: sim.events,
        scaled_object_conditions: sim
            .keda
            .conditions
            .0
            .iter()
            .map(|c| ConditionReport {
                kind: c.type_.as_str().to_string(),
                status: c.status.as_str().to_string(),
                reason: c.reason.clone(),
                message: c.message.clone(),
            })
            .collect(),
        hpa_conditions: sim
            .hpa_state
            .conditions
            .iter()
            .map(|c| ConditionReport {
                kind: c.kind.to_string(),
                status: c.status.to_string(),
                reason: c.reason.clone(),
                message: c.message.clone(),
            })
            .collect(),
    };
    Ok(Run {
        summary,
        ready_steps: sim.ready_steps,
        rows,
        triggers: series.len(),
    })
}
