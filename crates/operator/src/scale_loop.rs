//! One scale loop per ScaledObject (keda.md §2.4): poll at once, then every `pollingInterval` (the timer
//! starts before the poll, so the period is max(pollingInterval, poll duration)). A poll evaluates every
//! trigger concurrently, reads the target's `/scale`, runs the engine's `poll` (activation, cooldown,
//! fallback, conditions, events), writes `/scale` when the engine asks, then the status and Events.
//!
//! The HPA's external-metric reads ([`external_metric`]) use the same scalers and the same engine state, so
//! fallback counting and `useCachedMetrics` records are shared with the loop, as in KEDA's operator.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use prescale_core::keda::conditions::{ConditionStatus, REASON_ERROR_GETTING_CURRENT_REPLICAS};
use prescale_core::keda::{PollInput, hpa_metric, poll};
use prescale_core::proactive::{HPA_TOLERANCE, HpaView};
use prescale_scalers::{Evaluation, Scaler};
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::clock::timestamp;
use crate::context::{Context, LoopHandle, ScalerSet, Tracked};
use crate::proactive::{self, PolicyKey};
use crate::reconciler::{
    LOOP_AND_PROACTIVE_FIELDS, LOOP_FIELDS, ensure_scalers, record_events, write_status,
};
use crate::status::write_state;
use crate::target::{ready_pods, scale_replicas};
use crate::telemetry::{ResourceKind, ScalerSeries};

/// Starts the loop of `tracked` for `generation`.
pub fn spawn(ctx: Arc<Context>, tracked: Arc<Tracked>, generation: i64) -> LoopHandle {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut scheduled = ctx.clock.now();
        loop {
            if !ctx.is_leading() {
                // Only the leader polls and scales; a loop that outlived its controller ends here.
                return;
            }
            let started = ctx.clock.now();
            ctx.telemetry.record_scale_loop_latency(
                ResourceKind::ScaledObject,
                &tracked.key.namespace,
                &tracked.key.name,
                started.duration_since(scheduled).unwrap_or(Duration::ZERO),
            );
            let interval = {
                let st = tracked.state.lock().await;
                st.object.spec.polling_interval_secs().max(1)
            };
            tokio::select! {
                biased;
                _ = stopped.changed() => return,
                keep = poll_once(&ctx, &tracked) => if !keep {
                    // The ScaledObject is gone without this replica seeing its deletion: forget it.
                    ctx.forget(&tracked.key);
                    ctx.telemetry.remove_scaled_object(&tracked.key.namespace, &tracked.key.name);
                    return;
                }
            }
            let next = started + Duration::from_secs(u64::try_from(interval).unwrap_or(1));
            scheduled = next;
            tokio::select! {
                biased;
                _ = stopped.changed() => return,
                () = ctx.clock.sleep_until(next) => {}
            }
        }
    });
    LoopHandle {
        generation,
        stop,
        task,
    }
}

/// One trigger's evaluation: the value or the error, and how long it took.
pub type Timed = (Result<f64, String>, Duration);

/// Evaluates every scaler (those that could not be built report their error), concurrently.
pub async fn evaluate(set: &ScalerSet, now: SystemTime, max_in_flight: usize) -> Vec<Timed> {
    use futures_util::stream::{self, StreamExt};
    // Boxed with an explicit type: a closure returning `async` blocks that borrow `set` trips the
    // higher-ranked `Send` check of `tokio::spawn`.
    type Eval<'a> =
        std::pin::Pin<Box<dyn std::future::Future<Output = (usize, Timed)> + Send + 'a>>;
    let futures: Vec<Eval<'_>> = set
        .scalers
        .iter()
        .enumerate()
        .map(|(i, s)| -> Eval<'_> {
            Box::pin(async move {
                let started = std::time::Instant::now();
                let r = match s {
                    Ok(s) => evaluate_one(s.as_ref(), now).await,
                    Err(e) => Err(e.clone()),
                };
                (i, (r, started.elapsed()))
            })
        })
        .collect();
    let mut results: Vec<(usize, Timed)> = stream::iter(futures)
        .buffer_unordered(max_in_flight.max(1))
        .collect()
        .await;
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// One evaluation; on an error the call is retried once at once, as KEDA retries a failed scaler call.
async fn evaluate_one(s: &dyn Scaler, now: SystemTime) -> Result<f64, String> {
    match s.evaluate(now).await {
        Ok(Evaluation { value, .. }) => Ok(value),
        Err(_) => s
            .evaluate(now)
            .await
            .map(|e| e.value)
            .map_err(|e| e.to_string()),
    }
}

/// One poll of `tracked`. Returns `false` when the ScaledObject no longer exists (its status write got a
/// 404), so the loop should end.
pub async fn poll_once(ctx: &Arc<Context>, tracked: &Arc<Tracked>) -> bool {
    let key = tracked.key.clone();
    let (set, target, prepared) = {
        let mut st = tracked.state.lock().await;
        let set = ensure_scalers(ctx, &mut st).await;
        // The end of a bootstrap's history range: the poll's own time is read after the bootstrap.
        let prepared = proactive::prepare(&mut st, &set, ctx.clock.now());
        (set, st.target.clone(), prepared)
    };
    if prepared.turned_off {
        ctx.telemetry.remove_proactive(&key.namespace, &key.name);
    }
    // A new proactive policy replays the triggers' history before the first live observation.
    let histories = match &prepared.bootstrap {
        Some(b) => Some(proactive::fetch_histories(&set, b).await),
        None => None,
    };
    // The poll's time (queries, KEDA's poll state, lastActiveTime): after the scalers were built and the
    // history fetched, not late by them.
    let now = ctx.clock.now();
    let round = std::time::Instant::now();
    let timed = evaluate(&set, now, ctx.config.max_in_flight).await;
    ctx.telemetry.observe_poll_round(round.elapsed());
    let results: Vec<Result<f64, String>> = timed.iter().map(|(r, _)| r.clone()).collect();
    // The forecasters observe the raw results (activation keeps them too).
    let mut proactive_events = prepared.events;
    let so_now = {
        let mut st = tracked.state.lock().await;
        proactive_events.extend(proactive::observe(
            &ctx.telemetry,
            &key,
            &mut st,
            histories,
            &results,
            now,
        ));
        st.object.clone()
    };
    if !proactive_events.is_empty() && ctx.is_leading() {
        record_events(ctx, &so_now, &proactive_events).await;
    }

    // The target's current replicas.
    let current = read_current(ctx, target.as_ref(), needs_ready_pods(&so_now, &set)).await;

    let mut st = tracked.state.lock().await;
    let object = st.object.clone();
    let core = object.to_core();
    let (current_replicas, ready, scale) = match current {
        Ok(c) => c,
        Err(e) => {
            warn!(scaledobject = %key, error = %e, "cannot read the scale target's replicas");
            st.keda.conditions.set_ready(
                ConditionStatus::False,
                REASON_ERROR_GETTING_CURRENT_REPLICAS,
                &e,
            );
            let mut status = object.status.clone().unwrap_or_default();
            write_state(&st.keda, &mut status);
            if !ctx.is_leading() {
                return true;
            }
            match write_status(ctx, &mut st, &status, LOOP_FIELDS).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => return false,
                Err(e) => warn!(scaledobject = %key, error = %e, "status not written"),
            }
            return true;
        }
    };
    st.last_replicas = Some(current_replicas);
    if results.iter().any(Result::is_err) {
        // `ClearScalersCache`: after a poll with errors the scalers (and their authentication) are rebuilt.
        st.scalers = None;
    }
    let outcome = poll(
        &core,
        &set.targets,
        &mut st.keda,
        &PollInput {
            now: timestamp(now),
            current_replicas,
            ready_pods: ready,
            results: &results,
        },
    );
    if let Some(e) = &outcome.error {
        warn!(scaledobject = %key, error = %e, "poll failed");
    }
    record_telemetry(ctx, &key, &set, &timed, &outcome);
    let mut events = outcome.events.clone();
    if !ctx.is_leading() {
        // Leadership was lost during the poll: nothing is written.
        return true;
    }
    if let Some(n) = outcome.scale_to
        && let Some(t) = &target
    {
        match t.scale_to_from(&ctx.client, Some(scale), n).await {
            Ok(before) => {
                st.last_replicas = Some(n);
                debug!(scaledobject = %key, from = before, to = n, "scaled");
            }
            Err(e) => {
                // The executor's failure events, with KEDA's texts.
                use prescale_core::keda::events::{
                    REASON_SCALE_TARGET_ACTIVATED, REASON_SCALE_TARGET_ACTIVATION_FAILED,
                    REASON_SCALE_TARGET_DEACTIVATED, REASON_SCALE_TARGET_DEACTIVATION_FAILED,
                };
                warn!(scaledobject = %key, replicas = n, error = %e, "scaling failed");
                events.retain(|ev| {
                    ev.reason != REASON_SCALE_TARGET_ACTIVATED
                        && ev.reason != REASON_SCALE_TARGET_DEACTIVATED
                });
                let kind = object
                    .status
                    .as_ref()
                    .and_then(|s| s.scale_target_kind.clone())
                    .unwrap_or_default();
                let target_name = &core.spec.scale_target_ref.name;
                let ns = core.metadata.namespace_or_default();
                events.push(if n < current_replicas {
                    prescale_core::keda::KedaEvent::warning(
                        REASON_SCALE_TARGET_DEACTIVATION_FAILED,
                        format!("Failed to deactivate {kind} {ns}/{target_name} from {current_replicas} to {n}"),
                    )
                } else {
                    prescale_core::keda::KedaEvent::warning(
                        REASON_SCALE_TARGET_ACTIVATION_FAILED,
                        format!("Failed to scale {kind} {ns}/{target_name} from {current_replicas} to {n}"),
                    )
                });
            }
        }
    }
    let mut status = object.status.clone().unwrap_or_default();
    write_state(&st.keda, &mut status);
    proactive::fill_status(&mut st, &mut status, now);
    match write_status(ctx, &mut st, &status, LOOP_AND_PROACTIVE_FIELDS).await {
        Ok(()) => proactive::status_written(&mut st),
        Err(e) if e.is_not_found() => return false,
        Err(e) => warn!(scaledobject = %key, error = %e, "status not written"),
    }
    drop(st);
    record_events(ctx, &object, &events).await;
    true
}

/// `GetScaledObjectMetrics` for one metric of `tracked`: the values the HPA gets (milli-units), after
/// `useCachedMetrics` records and fallback. Live evaluations happen outside the state lock.
pub async fn external_metric(
    ctx: &Arc<Context>,
    tracked: &Arc<Tracked>,
    metric: &str,
) -> Result<Vec<i64>, String> {
    let (set, target, needed) = {
        let mut st = tracked.state.lock().await;
        let set = ensure_scalers(ctx, &mut st).await;
        let wanted = metric.to_lowercase();
        let needed: Vec<usize> = set
            .targets
            .iter()
            .filter(|t| t.metric_name.to_lowercase() == wanted)
            .filter(|t| {
                !(t.use_cached_metrics && st.keda.metric_records.contains_key(&t.metric_name))
            })
            .map(|t| t.index)
            .collect();
        (set, st.target.clone(), needed)
    };
    let now = ctx.clock.now();
    let mut live = std::collections::BTreeMap::new();
    for i in needed {
        let r = match set.scalers.get(i) {
            Some(Ok(s)) => evaluate_one(s.as_ref(), now).await,
            Some(Err(e)) => Err(e.clone()),
            None => Err(format!("no trigger {i}")),
        };
        live.insert(i, r);
    }
    // The current count matters only to a fallback that reads it (non-static behaviors, Value targets);
    // when it cannot be read then, the request fails (the HPA keeps its count), as KEDA's fallback does.
    let so_now = tracked.state.lock().await.object.clone();
    let (current, ready) = if needs_current(&so_now, &set) {
        let r = read_current(ctx, target.as_ref(), needs_ready_pods(&so_now, &set)).await?;
        (r.0, r.1)
    } else {
        (0, 0)
    };
    let mut guard = tracked.state.lock().await;
    let st = &mut *guard;
    let object = st.object.clone();
    let core = object.to_core();
    let health_before = st.keda.health.clone();
    let fallback_before = st.keda.conditions.clone();
    // The proactive policy answers the HPA's read with max(current, forecast), when this replica holds the
    // forecasters (the leader's loop) for the object as it is now; otherwise the raw value.
    let policy_key = PolicyKey::of_core(&core);
    let now_ms = timestamp(now).millis();
    let mut served: Vec<(usize, f64, Option<prescale_core::proactive::Decision>)> = Vec::new();
    // (A block: the policy's forecasters are not `Sync`, so no reference to them may live across an await.)
    let (result, has_policy) = {
        let policy = st.proactive.as_ref().filter(|p| p.key == policy_key);
        let last_replicas = st.last_replicas;
        let result = hpa_metric(
            &core,
            &set.targets,
            &mut st.keda,
            metric,
            current,
            ready,
            &mut |i| {
                let raw = live
                    .get(&i)
                    .cloned()
                    .unwrap_or_else(|| Err(format!("trigger {i} was not evaluated")))?;
                if !policy_key.opted_in() {
                    return Ok(raw);
                }
                // The HPA's view for its tolerance: the trigger's target and the replica count the loop
                // last read from /scale (at most one pollingInterval old).
                let hpa = set
                    .targets
                    .iter()
                    .find(|t| t.index == i)
                    .zip(last_replicas)
                    .map(|(t, replicas)| HpaView::for_target(t, replicas, HPA_TOLERANCE));
                let decision = policy.and_then(|p| p.serve(i, raw, now_ms, hpa.as_ref()));
                let value = decision.as_ref().map_or(raw, |d| d.value);
                served.push((i, value, decision));
                Ok(value)
            },
        );
        (result, policy.is_some())
    };
    record_served(ctx, tracked, &set, has_policy, served);
    // Fallback counts are persisted by the leader only; a replica that does not lead keeps its own counts
    // in memory and writes nothing.
    if ctx.is_leading()
        && (st.keda.health != health_before || st.keda.conditions != fallback_before)
    {
        let mut status = object.status.clone().unwrap_or_default();
        write_state(&st.keda, &mut status);
        if let Err(e) = write_status(ctx, st, &status, LOOP_FIELDS).await {
            warn!(scaledobject = %tracked.key, error = %e, "status not written");
        }
    }
    result
}

/// The telemetry of the values a proactive object's HPA read got: `prescale_proactive_value`, and on a
/// replica without the forecasters (not leading) the reactive mode.
fn record_served(
    ctx: &Context,
    tracked: &Tracked,
    set: &ScalerSet,
    has_policy: bool,
    served: Vec<(usize, f64, Option<prescale_core::proactive::Decision>)>,
) {
    for (i, value, decision) in served {
        let Some(t) = set.targets.iter().find(|t| t.index == i) else {
            continue;
        };
        let series = crate::telemetry::ProactiveSeries::new(
            &tracked.key,
            t.scaler_name(),
            t.metric_name.clone(),
        );
        ctx.telemetry.record_proactive_value(&series, value);
        if decision.is_none() {
            debug!(scaledobject = %tracked.key, metric = %t.metric_name, has_policy,
                "proactive policy: serving the current value (the forecasters live with the leader's scale loop)");
            if !has_policy {
                ctx.telemetry.record_proactive_decision(
                    &series,
                    None,
                    false,
                    proactive::Mode::Reactive.as_str(),
                );
            }
        }
    }
}

/// The operator metrics of one poll, with KEDA's names and labels.
fn record_telemetry(
    ctx: &Context,
    key: &crate::context::ObjectKey,
    set: &ScalerSet,
    timed: &[Timed],
    outcome: &prescale_core::keda::PollOutcome,
) {
    let t = &ctx.telemetry;
    for (pos, target) in set.targets.iter().enumerate() {
        let series = ScalerSeries {
            namespace: key.namespace.clone(),
            scaled_object: key.name.clone(),
            scaler: target.scaler_name(),
            trigger_index: target.index,
            metric: target.metric_name.clone(),
            kind: ResourceKind::ScaledObject,
        };
        if let Some((result, latency)) = timed.get(target.index) {
            t.record_scaler_latency(&series, *latency);
            t.record_scaler_error(&series, result.is_err());
        }
        if let Some(Some(v)) = outcome.trigger_values.get(pos) {
            t.record_scaler_metric(&series, *v);
        }
        t.record_scaler_active(
            &series,
            outcome.active_triggers.contains(&target.metric_name),
        );
    }
    t.record_scaled_object_error(
        &key.namespace,
        &key.name,
        outcome.is_error || outcome.error.is_some(),
    );
}

/// Whether a fallback may divide by ready pods (a `Value` target with fallback configured).
fn needs_ready_pods(so: &prescale_k8s::ScaledObject, set: &ScalerSet) -> bool {
    so.spec.fallback.is_some()
        && set
            .targets
            .iter()
            .any(|t| t.target_type == prescale_core::keda::TargetType::Value)
}

/// Whether the HPA's metric read needs the target's current count (fallback behaviors other than static).
fn needs_current(so: &prescale_k8s::ScaledObject, set: &ScalerSet) -> bool {
    use prescale_core::spec::FallbackBehavior;
    so.spec
        .fallback
        .as_ref()
        .is_some_and(|f| !matches!(f.behavior.unwrap_or_default(), FallbackBehavior::Static))
        || needs_ready_pods(so, set)
}

/// The target's `/scale` (spec replicas) and ready pods; the target object itself is read only when ready
/// pods matter, else the Scale's `status.replicas` stands for them.
async fn read_current(
    ctx: &Context,
    target: Option<&crate::target::Target>,
    with_ready_pods: bool,
) -> Result<(i32, i32, k8s_openapi::api::autoscaling::v1::Scale), String> {
    let t = target.ok_or_else(|| "the scale target is not resolved yet".to_string())?;
    let scale = t.get_scale(&ctx.client).await.map_err(|e| e.to_string())?;
    let object = if with_ready_pods {
        t.get(&ctx.client).await.ok()
    } else {
        None
    };
    Ok((
        scale_replicas(&scale),
        ready_pods(object.as_ref(), &scale),
        scale,
    ))
}
