//! The proactive policy in the operator (`prescale.dev/forecast`, `prescale_core::proactive`).
//!
//! - **State.** A ScaledObject that opts in gets a [`Policy`] next to its engine state
//!   ([`TrackedState::proactive`]): one [`Forecaster`] per trigger. The leader's scale loop builds it at its
//!   first poll, and builds it again when the policy's annotations, `pollingInterval` or triggers change
//!   ([`PolicyKey`]); it goes with the tracked object (deletion) and with loss of leadership, its
//!   `prescale_proactive_*` series too ([`crate::context::Context::stop_all_loops`]).
//! - **Bootstrap.** A new policy asks each trigger's scaler for its history over `[now − history, now]` at
//!   step = `pollingInterval` ([`prescale_scalers::Scaler::history`]: `query_range` for Prometheus, chunked
//!   by the scaler) and feeds it to the forecaster before the first live observation. A failed fetch is not
//!   fatal: a Warning Event `ProactiveBootstrapFailed`, a log line, and the forecaster starts empty.
//! - **Observe.** Every poll of the loop feeds each trigger's raw result (`None` when the query failed).
//! - **Serve.** The HPA's reads through the external metrics API ([`crate::scale_loop::external_metric`])
//!   get `decide(current, forecast).value`, never below the current value; KEDA's poll (activation) and
//!   `useCachedMetrics` records keep the raw value. A replica that does not lead has no poll history: the
//!   forecast state lives with the leader's loops, and a non-leader serves the reactive (raw) value. The
//!   HPA's reads go to whichever replica the Service picks, so with several replicas some reads are
//!   reactive; `prescale_proactive_mode{mode="reactive"}` on that replica says so.
//! - **Visibility.** `status.proactive` (per trigger: metricName, model, current, forecast, value, winner,
//!   reason, time) is written by the loop, a merge patch of that field only, when the mode, winner, model or
//!   reason kind changes or the value moved by more than [`STATUS_VALUE_CHANGE`] — at most once per
//!   [`STATUS_MIN_INTERVAL_MS`], so a noisy metric flipping the winner cannot make a write storm — and every
//!   [`STATUS_REFRESH_MS`]; Events on mode changes (Normal `ProactiveForecastServing` when the forecast
//!   starts winning — once until the next fallback — and Normal `ProactiveReactive` with the reason when it
//!   falls back); `/metrics` (see [`crate::telemetry`]).
//! - **Bad annotations.** A Warning Event `ProactivePolicyInvalid` naming the annotation (once per change),
//!   and the object runs reactively; its Ready condition is KEDA's, untouched.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prescale_core::keda::KedaEvent;
use prescale_core::keda::trigger::TriggerTarget;
use prescale_core::proactive::{self, Decision, HpaView, Model, ProactiveSpec, Winner};
use prescale_core::spec::ScaleTrigger;
use prescale_core::time::Timestamp;
use prescale_forecast::{Config as ForecastConfig, Forecaster, Unavailable};
use prescale_k8s::{ProactiveStatus, ScaledObject, ScaledObjectStatus};

use crate::context::{ObjectKey, ScalerSet, TrackedState};
use crate::telemetry::{ProactiveSeries, Telemetry};

pub const REASON_INVALID: &str = "ProactivePolicyInvalid";
pub const REASON_BOOTSTRAP_FAILED: &str = "ProactiveBootstrapFailed";
pub const REASON_SERVING: &str = "ProactiveForecastServing";
pub const REASON_REACTIVE: &str = "ProactiveReactive";

/// `status.proactive` is rewritten when a value moved by more than this fraction since the last write.
pub const STATUS_VALUE_CHANGE: f64 = 0.1;
/// ... and at least this often while the policy runs (so `time` stays recent).
pub const STATUS_REFRESH_MS: i64 = 300_000;
/// Changes are written at most this often (values and winners are in `/metrics` at every read).
pub const STATUS_MIN_INTERVAL_MS: i64 = 60_000;

/// What a policy is built for: any change rebuilds it (and its forecasters).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyKey {
    pub spec: Result<Option<ProactiveSpec>, proactive::AnnotationError>,
    pub step_ms: i64,
    pub triggers: Vec<ScaleTrigger>,
}

impl PolicyKey {
    /// The key of `so` as it is now.
    pub fn of(so: &ScaledObject) -> PolicyKey {
        PolicyKey::of_core(&so.to_core())
    }

    /// The key of an object already converted to the engine's form ([`ScaledObject::to_core`]).
    pub fn of_core(core: &prescale_core::spec::ScaledObject) -> PolicyKey {
        PolicyKey {
            spec: proactive::spec(core),
            step_ms: i64::from(core.spec.polling_interval_secs().max(1)) * 1000,
            triggers: core.spec.triggers.clone(),
        }
    }

    /// Whether the object opted in (with good or bad annotations).
    pub fn opted_in(&self) -> bool {
        !matches!(self.spec, Ok(None))
    }
}

/// A trigger's mode: the forecast wins, the current value wins over an available forecast, or no forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forecast,
    Current,
    Reactive,
}

impl Mode {
    pub fn of(d: &Decision) -> Mode {
        match (d.reactive(), d.winner) {
            (true, _) => Mode::Reactive,
            (false, Winner::Forecast) => Mode::Forecast,
            (false, Winner::Current) => Mode::Current,
        }
    }

    /// The `mode` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Forecast => "forecast",
            Mode::Current => "current",
            Mode::Reactive => "reactive",
        }
    }
}

/// What has been announced by an Event, per trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Announced {
    Nothing,
    Reactive,
    Serving,
}

/// What a status write compares: per trigger (metric, mode, model, kind of reason).
type Signature = Vec<(String, Mode, Option<Model>, &'static str)>;

/// One trigger of a proactive ScaledObject.
#[derive(Debug)]
pub struct TriggerPolicy {
    pub index: usize,
    pub metric_name: String,
    pub scaler: String,
    /// `None` when the policy is invalid or does not apply to this trigger.
    pub forecaster: Option<Forecaster>,
    /// Why the policy does not apply to this trigger (`useCachedMetrics`).
    pub not_applied: Option<&'static str>,
    /// The loop's latest decision, its time, and the kind of its reason.
    pub last: Option<(Decision, Timestamp, &'static str)>,
    announced: Announced,
}

/// A bootstrap to run: the history each trigger's scaler should replay.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub epoch: u64,
    pub start: SystemTime,
    pub end: SystemTime,
    pub step: Duration,
    /// The triggers that have a forecaster (the only ones whose history is asked for).
    pub triggers: Vec<usize>,
}

/// One trigger's replayed history: the points, or why they could not be fetched.
pub type History = Result<Vec<(i64, f64)>, String>;

/// The histories fetched for a [`Bootstrap`]: per trigger index, the points or the error (`None`: the
/// trigger cannot replay its history).
#[derive(Debug)]
pub struct Histories {
    pub epoch: u64,
    pub per_trigger: Vec<(usize, Option<History>)>,
}

/// The proactive policy of one ScaledObject.
#[derive(Debug)]
pub struct Policy {
    pub key: PolicyKey,
    /// The valid policy (`None` when invalid: the object runs reactively).
    pub spec: Option<ProactiveSpec>,
    /// Why the policy cannot run, naming the annotation or setting at fault.
    pub invalid: Option<String>,
    pub triggers: Vec<TriggerPolicy>,
    epoch: u64,
    bootstrapped: bool,
    /// What the status last got (signature, values, time), after a successful write.
    written: Option<(Signature, Vec<f64>, Timestamp)>,
    /// What the pending status write carries.
    pending: Option<(Signature, Vec<f64>, Timestamp)>,
}

fn next_epoch() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static EPOCH: AtomicU64 = AtomicU64::new(1);
    EPOCH.fetch_add(1, Ordering::Relaxed)
}

fn millis(t: SystemTime) -> i64 {
    crate::clock::timestamp(t).millis()
}

impl Policy {
    /// The policy of an object that opted in with `spec` (or an invalid annotation: why).
    fn new(key: PolicyKey, spec: Result<ProactiveSpec, String>, set: &ScalerSet) -> Policy {
        // The configuration is checked by building a forecaster, which the first trigger that forecasts
        // then gets; the others get one each from the same configuration.
        let (spec, invalid, mut first) = match spec {
            Ok(spec) => match Forecaster::new(ForecastConfig::from_spec(&spec, key.step_ms)) {
                Ok(f) => (Some(spec), None, Some(f)),
                Err(e) => (
                    None,
                    Some(format!(
                        "the proactive policy cannot run with pollingInterval {}: {e}",
                        prescale_core::duration::format_human(key.step_ms)
                    )),
                    None,
                ),
            },
            Err(e) => (None, Some(e), None),
        };
        let triggers = set
            .targets
            .iter()
            .map(|t| TriggerPolicy {
                index: t.index,
                metric_name: t.metric_name.clone(),
                scaler: t.scaler_name(),
                forecaster: spec
                    .as_ref()
                    .filter(|_| !t.use_cached_metrics)
                    .and_then(|s| {
                        first.take().or_else(|| {
                            Forecaster::new(ForecastConfig::from_spec(s, key.step_ms)).ok()
                        })
                    }),
                not_applied: t
                    .use_cached_metrics
                    .then_some(proactive::NOT_WITH_CACHED_METRICS),
                last: None,
                announced: Announced::Nothing,
            })
            .collect();
        Policy {
            key,
            spec,
            invalid,
            triggers,
            epoch: next_epoch(),
            bootstrapped: false,
            written: None,
            pending: None,
        }
    }

    /// The value the HPA gets for trigger `index` whose current value is `current`, with the decision
    /// (`None`: the trigger has no forecaster, the raw value is served).
    ///
    /// With `hpa` (the trigger's target and the workload's replica count), a winning forecast that the HPA
    /// would ignore as within its tolerance is raised just past it ([`proactive::decide_for_hpa`]).
    pub fn serve(
        &self,
        index: usize,
        current: f64,
        now_ms: i64,
        hpa: Option<&HpaView>,
    ) -> Option<Decision> {
        let spec = self.spec.as_ref()?;
        let f = self
            .triggers
            .iter()
            .find(|t| t.index == index)?
            .forecaster
            .as_ref()?;
        Some(decide(spec, f, current, now_ms, hpa).0)
    }
}

/// The decision for one trigger from its forecaster's forecast at `now_ms` (with `hpa`:
/// [`proactive::decide_for_hpa`]), and the kind of its reason: what the HPA's reads are served
/// ([`Policy::serve`]) and what the loop records ([`observe`]).
fn decide(
    spec: &ProactiveSpec,
    f: &Forecaster,
    current: f64,
    now_ms: i64,
    hpa: Option<&HpaView>,
) -> (Decision, &'static str) {
    let (forecast, kind) = match f.forecast(now_ms) {
        Ok(p) => (Ok(p.to_forecast()), "forecast"),
        Err(u) => (Err(u.to_string()), why_kind(&u)),
    };
    let decision = match hpa {
        Some(hpa) => proactive::decide_for_hpa(spec, current, forecast, hpa),
        None => proactive::decide(spec, current, forecast),
    };
    (decision, kind)
}

/// The kind of a reason, for the status write's change check.
fn why_kind(u: &Unavailable) -> &'static str {
    match u {
        Unavailable::NoData => "no-data",
        Unavailable::TooLittleHistory { .. } => "too-little-history",
        Unavailable::Stale { .. } => "stale",
        Unavailable::Gap { .. } => "gap",
        Unavailable::Calibrating { .. } => "calibrating",
        Unavailable::LevelShift { .. } => "level-shift",
    }
}

/// What [`prepare`] found: Events to record and a bootstrap to run (outside the state lock).
#[derive(Debug, Default)]
pub struct Prepared {
    pub events: Vec<KedaEvent>,
    pub bootstrap: Option<Bootstrap>,
    /// The policy was turned off: its series and status field go.
    pub turned_off: bool,
}

/// At the start of a poll: the policy of the object as it is now, (re)built when its key changed.
pub fn prepare(st: &mut TrackedState, set: &ScalerSet, now: SystemTime) -> Prepared {
    let key = PolicyKey::of(&st.object);
    let mut out = Prepared::default();
    let spec = match &key.spec {
        Ok(Some(spec)) => Ok(spec.clone()),
        Ok(None) => {
            out.turned_off = st.proactive.take().is_some();
            return out;
        }
        Err(e) => Err(e.to_string()),
    };
    let rebuild = st.proactive.as_ref().is_none_or(|p| {
        p.key != key
            || p.triggers.len() != set.targets.len()
            || p.triggers
                .iter()
                .zip(&set.targets)
                .any(|(a, b)| a.metric_name != b.metric_name)
    });
    if rebuild {
        let policy = Policy::new(key, spec, set);
        if let Some(why) = &policy.invalid {
            out.events.push(KedaEvent::warning(
                REASON_INVALID,
                format!("{why}; scaling reactively"),
            ));
        }
        st.proactive = Some(policy);
    }
    if let Some(p) = st.proactive.as_mut()
        && let Some(spec) = &p.spec
        && !p.bootstrapped
    {
        // Marked done when `observe` consumes the histories: a poll dropped while fetching (the loop stopped
        // for a new generation) asks again at the next poll.
        let history = Duration::from_millis(spec.history_ms.unsigned_abs());
        out.bootstrap = Some(Bootstrap {
            epoch: p.epoch,
            start: now.checked_sub(history).unwrap_or(UNIX_EPOCH),
            end: now,
            step: Duration::from_millis(p.key.step_ms.unsigned_abs()),
            triggers: p
                .triggers
                .iter()
                .filter(|t| t.forecaster.is_some())
                .map(|t| t.index)
                .collect(),
        });
    }
    out
}

/// Fetches the history of `b`'s triggers (outside the state lock), one trigger after the other. A trigger
/// whose scaler could not be built is left out: the poll reports that error, the bootstrap does not again.
pub async fn fetch_histories(set: &ScalerSet, b: &Bootstrap) -> Histories {
    let mut per_trigger = Vec::new();
    for &index in &b.triggers {
        let Some(Ok(s)) = set.scalers.get(index) else {
            continue;
        };
        let r = match s.history(b.start, b.end, b.step) {
            Some(f) => Some(f.await.map_err(|e| e.to_string())),
            None => None,
        };
        per_trigger.push((index, r));
    }
    Histories {
        epoch: b.epoch,
        per_trigger,
    }
}

/// After a poll's evaluation: feed the bootstrap histories (when they belong to the current policy), observe
/// every trigger's result, decide per trigger, record the telemetry, and return the Events of mode changes.
pub fn observe(
    telemetry: &Telemetry,
    key: &ObjectKey,
    st: &mut TrackedState,
    histories: Option<Histories>,
    results: &[Result<f64, String>],
    now: SystemTime,
) -> Vec<KedaEvent> {
    let mut events = Vec::new();
    let targets: Vec<TriggerTarget> = st
        .scalers
        .as_ref()
        .map(|s| s.targets.clone())
        .unwrap_or_default();
    let last_replicas = st.last_replicas;
    let Some(p) = st.proactive.as_mut() else {
        return events;
    };
    let now_ms = millis(now);
    if let Some(h) = histories.filter(|h| h.epoch == p.epoch) {
        p.bootstrapped = true;
        for (index, r) in h.per_trigger {
            let Some(t) = p.triggers.iter_mut().find(|t| t.index == index) else {
                continue;
            };
            let Some(f) = t.forecaster.as_mut() else {
                continue;
            };
            match r {
                None => {}
                Some(Ok(points)) => {
                    let n = points.len();
                    // Only what lies before this poll: its own observation comes next.
                    for (t_ms, v) in points.into_iter().filter(|(t_ms, _)| *t_ms <= now_ms) {
                        f.observe(t_ms, Some(v));
                    }
                    tracing::info!(scaledobject = %key, metric = %t.metric_name, points = n,
                        "proactive policy: history bootstrapped");
                }
                Some(Err(e)) => {
                    tracing::warn!(scaledobject = %key, metric = %t.metric_name, error = %e,
                        "proactive policy: history not fetched; the forecaster starts empty");
                    events.push(KedaEvent::warning(
                        REASON_BOOTSTRAP_FAILED,
                        format!(
                            "{}: the history could not be fetched, the forecaster starts empty: {e}",
                            t.metric_name
                        ),
                    ));
                }
            }
        }
    }
    let at = Timestamp::from_millis(now_ms);
    for t in &mut p.triggers {
        let current = results.get(t.index).and_then(|r| r.as_ref().ok()).copied();
        if let Some(f) = t.forecaster.as_mut() {
            f.observe(now_ms, current);
        }
        let Some(current) = current else {
            // A failed query: no decision (the status keeps the last one; KEDA's fallback handles the read).
            continue;
        };
        // The same view of the HPA as its reads get (the status shows what they are served).
        let hpa = targets
            .iter()
            .find(|x| x.index == t.index)
            .zip(last_replicas)
            .map(|(x, replicas)| HpaView::for_target(x, replicas, proactive::HPA_TOLERANCE));
        let (decision, kind) = match (&p.spec, &t.forecaster) {
            (Some(spec), Some(f)) => decide(spec, f, current, now_ms, hpa.as_ref()),
            _ => (
                Decision {
                    value: current,
                    current,
                    forecast: None,
                    model: None,
                    winner: Winner::Current,
                    reason: format!(
                        "reactive: {}",
                        t.not_applied
                            .or(p.invalid.as_deref())
                            .unwrap_or("no forecaster")
                    ),
                },
                "invalid",
            ),
        };
        let mode = Mode::of(&decision);
        telemetry.record_proactive_decision(
            &ProactiveSeries::new(key, t.scaler.clone(), t.metric_name.clone()),
            decision.forecast,
            mode == Mode::Forecast,
            mode.as_str(),
        );
        if p.invalid.is_none() {
            match (mode, t.announced) {
                (Mode::Reactive, a) if a != Announced::Reactive => {
                    t.announced = Announced::Reactive;
                    events.push(KedaEvent::normal(
                        REASON_REACTIVE,
                        format!("{}: {}", t.metric_name, decision.reason),
                    ));
                }
                (Mode::Forecast, a) if a != Announced::Serving => {
                    t.announced = Announced::Serving;
                    events.push(KedaEvent::normal(
                        REASON_SERVING,
                        format!(
                            "{}: the HPA gets the {} forecast: {}",
                            t.metric_name,
                            decision.model.map_or("", Model::as_str),
                            decision.reason
                        ),
                    ));
                }
                _ => {}
            }
        }
        t.last = Some((decision, at, kind));
    }
    events
}

/// Sets `status.proactive` for the loop's status write: the entries when due (see the module documentation),
/// none without a policy (a field written under an earlier policy is removed), otherwise the field as last
/// written, so that the write, which compares with what it last wrote, sends no change.
pub fn fill_status(st: &mut TrackedState, status: &mut ScaledObjectStatus, now: SystemTime) {
    let Some(p) = st.proactive.as_mut() else {
        status.proactive = None;
        return;
    };
    // Unless due, the field stays as written (the patch then carries no change).
    status.proactive = st.written.as_ref().and_then(|w| w.proactive.clone());
    let decided: Vec<&TriggerPolicy> = p.triggers.iter().filter(|t| t.last.is_some()).collect();
    if decided.is_empty() {
        return;
    }
    let mut sig: Signature = Vec::new();
    let mut values = Vec::new();
    let mut entries = Vec::new();
    for t in decided {
        let Some((d, at, kind)) = &t.last else {
            continue;
        };
        sig.push((t.metric_name.clone(), Mode::of(d), d.model, kind));
        values.push(d.value);
        entries.push(ProactiveStatus {
            metric_name: t.metric_name.clone(),
            model: d.model.map(|m| m.as_str().to_string()),
            current: proactive::decimal(d.current),
            forecast: d.forecast.map(proactive::decimal),
            value: proactive::decimal(d.value),
            winner: d.winner.as_str().to_string(),
            reason: d.reason.clone(),
            time: crate::status::rfc3339(*at),
        });
    }
    let now_ms = millis(now);
    if !status_due(p.written.as_ref(), &sig, &values, now_ms) {
        // Not due: the field as the server has it (nothing to send when it has none — a CRD that prunes the
        // field, such as KEDA's own, returns none after every write).
        return;
    }
    status.proactive = Some(entries);
    p.pending = Some((sig, values, Timestamp::from_millis(now_ms)));
}

/// Whether `status.proactive` is due for a write, from what this policy last wrote (`written`: signature,
/// values, time) alone — not from what the server returned, which has no field when the CRD prunes it.
fn status_due(
    written: Option<&(Signature, Vec<f64>, Timestamp)>,
    sig: &Signature,
    values: &[f64],
    now_ms: i64,
) -> bool {
    let Some((wsig, wvalues, wat)) = written else {
        return true;
    };
    let elapsed = now_ms - wat.millis();
    let changed = wsig != sig
        || wvalues
            .iter()
            .zip(values)
            .any(|(a, b)| (a - b).abs() > STATUS_VALUE_CHANGE * a.abs().max(b.abs()));
    elapsed >= STATUS_REFRESH_MS || (changed && elapsed >= STATUS_MIN_INTERVAL_MS)
}

/// After the status write succeeded: what it carried is what the status has.
pub fn status_written(st: &mut TrackedState) {
    if let Some(p) = st.proactive.as_mut()
        && let Some(pending) = p.pending.take()
    {
        p.written = Some(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(mode: Mode) -> Signature {
        vec![(
            "s0-prometheus".to_string(),
            mode,
            Some(Model::Trend),
            "forecast",
        )]
    }

    #[test]
    fn a_status_write_is_due_after_a_change_and_the_minimum_interval_or_at_the_refresh() {
        let written = (sig(Mode::Forecast), vec![10.0], Timestamp::from_millis(0));
        // Nothing written yet: due.
        assert!(status_due(None, &sig(Mode::Forecast), &[10.0], 0));
        // Unchanged: only the refresh makes it due.
        assert!(!status_due(
            Some(&written),
            &sig(Mode::Forecast),
            &[10.5],
            60_000
        ));
        assert!(!status_due(
            Some(&written),
            &sig(Mode::Forecast),
            &[10.5],
            STATUS_REFRESH_MS - 1
        ));
        assert!(status_due(
            Some(&written),
            &sig(Mode::Forecast),
            &[10.5],
            STATUS_REFRESH_MS
        ));
        // A change (mode, or a value by more than 10 %): due once the minimum interval has passed.
        for (s, v) in [(sig(Mode::Current), 10.0), (sig(Mode::Forecast), 12.0)] {
            assert!(!status_due(
                Some(&written),
                &s,
                &[v],
                STATUS_MIN_INTERVAL_MS - 1
            ));
            assert!(status_due(Some(&written), &s, &[v], STATUS_MIN_INTERVAL_MS));
        }
    }
}
