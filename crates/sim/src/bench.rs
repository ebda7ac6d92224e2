//! `prescale bench`: every policy on every trace, with one standard workload per trace, scored side by side.
//!
//! Policies:
//! - `keda-hpa`: the exact reactive replay of KEDA + the HPA ([`crate::run::simulate`]);
//! - `proactive-<model>`: the same replay with the ScaledObject opted into the proactive policy
//!   (`prescale.dev/forecast: <model>`), for each forecasting model;
//! - `oracle`: knows the future ([`crate::oracle`]).
//!
//! The standard workload (all overridable): `capacityPerPod = peak / 40`, trigger threshold = capacityPerPod,
//! minReplicaCount 1, maxReplicaCount 100, pollingInterval 30 s, pods ready 60 s after creation, an HPA
//! without `behavior` (what KEDA creates by default: 5-minute scale-down stabilization), and every run starts
//! with the pods the first point's load needs. Output is a pure function of the inputs: the same traces give
//! byte-identical JSON.
//!
//! The comparison itself runs on a [`Case`]: a replay scenario and what each policy changes in it. `bench`
//! builds one per trace with the standard workload ([`Case::standard`], [`run`]); `prescale backtest` builds
//! one from a user's ScaledObject and its triggers' history fetched from the server ([`run_cases`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use prescale_core::keda::trigger_targets;
use prescale_core::proactive::{self, Model};
use prescale_core::spec::ScaledObject;
use serde::Serialize;

use crate::oracle::{self, OracleConfig};
use crate::run::{Options, check_proactive, simulate};
use crate::scenario::{Controller, MetricSource, Scenario, TriggerRef, Workload};
use crate::score::replicas_for;
use crate::series::{Sample, Series};
use crate::{Error, Result};

/// A policy `bench` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Policy {
    KedaHpa,
    Proactive(Model),
    Oracle,
}

impl Policy {
    /// Every policy, in report order.
    pub fn all() -> Vec<Policy> {
        let mut v = vec![Policy::KedaHpa];
        v.extend(Model::ALL.into_iter().map(Policy::Proactive));
        v.push(Policy::Oracle);
        v
    }

    pub fn name(self) -> String {
        match self {
            Policy::KedaHpa => "keda-hpa".into(),
            Policy::Proactive(m) => format!("proactive-{m}"),
            Policy::Oracle => "oracle".into(),
        }
    }

    pub fn parse(s: &str) -> Option<Policy> {
        Policy::all().into_iter().find(|p| p.name() == s)
    }
}

/// Policies by name (`--policies a,b`): deduplicated, in report order; an unknown name is an error listing the
/// known ones.
pub fn parse_policies(names: &[String]) -> std::result::Result<Vec<Policy>, String> {
    let mut out = Vec::new();
    for n in names {
        let p = Policy::parse(n.trim()).ok_or_else(|| {
            let known: Vec<String> = Policy::all().into_iter().map(Policy::name).collect();
            format!(
                "--policies: unknown policy {n:?}; known: {}",
                known.join(", ")
            )
        })?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// The standard workload, with its overrides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standard {
    /// capacityPerPod = peak / this, when `capacity_per_pod` is not given.
    pub peak_divisor: f64,
    pub capacity_per_pod: Option<f64>,
    /// The trigger's threshold; default: the capacity per pod.
    pub threshold: Option<f64>,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub polling_interval_s: i32,
    pub pod_startup_s: f64,
    /// `prescale.dev/forecast-margin` for the proactive policies (percent); default: the policy's default.
    pub margin_pct: Option<f64>,
    /// `prescale.dev/forecast-quantile`; default: the policy's default.
    pub quantile: Option<f64>,
    /// `prescale.dev/forecast-lead`; default: pod start-up + one HPA sync.
    pub lead_s: Option<f64>,
    /// `prescale.dev/forecast-season` (`none` or a duration); default `1d`.
    pub season: Option<String>,
}

impl Default for Standard {
    fn default() -> Self {
        Standard {
            peak_divisor: 40.0,
            capacity_per_pod: None,
            threshold: None,
            min_replicas: 1,
            max_replicas: 100,
            polling_interval_s: 30,
            pod_startup_s: 60.0,
            margin_pct: None,
            quantile: None,
            lead_s: None,
            season: None,
        }
    }
}

/// A trace: request counts per bin, as in `../shared/traces` (`timestamp_seconds,value`).
#[derive(Debug, Clone)]
pub struct Trace {
    pub name: String,
    pub path: PathBuf,
    pub series: Series,
    /// Bin width: the median spacing of the points.
    pub step_ms: i64,
    /// Covers every bin: last point + one bin.
    pub duration_ms: i64,
}

impl Trace {
    pub fn load(path: &Path) -> Result<Trace> {
        let series = Series::from_csv_file(path)?;
        let times = series.times();
        if times.len() < 2 {
            return Err(Error::Csv {
                path: path.to_path_buf(),
                line: 1,
                message: format!("a trace needs at least 2 rows, found {}", times.len()),
            });
        }
        let mut gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable();
        let step_ms = gaps[gaps.len() / 2];
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(Trace {
            name,
            path: path.to_path_buf(),
            duration_ms: times[times.len() - 1] + step_ms,
            series,
            step_ms,
        })
    }

    /// The highest value (errors count as nothing).
    pub fn peak(&self) -> f64 {
        peak(&self.series)
    }
}

/// One policy's numbers on one trace (scoring.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyResult {
    /// The policy's name (`Policy::name`).
    pub policy: String,
    /// The policy itself (not in the JSON, which has its name).
    #[serde(skip)]
    pub kind: Policy,
    pub pod_seconds: f64,
    pub under_provisioned_s: f64,
    pub theta_u: f64,
    pub theta_o: f64,
    pub tau_u: f64,
    pub tau_o: f64,
    pub instability: f64,
    pub scale_actions: u64,
    pub served_load_pct: f64,
    /// Elastic speedup against `keda-hpa` (geometric mean of the five metric ratios; > 1 beats it).
    pub elastic_speedup: Option<f64>,
    /// pod_seconds as a percentage of keda-hpa's and of the oracle's.
    pub pod_seconds_vs_keda_pct: Option<f64>,
    pub pod_seconds_vs_oracle_pct: Option<f64>,
    /// tau_u as a percentage of keda-hpa's.
    pub tau_u_vs_keda_pct: Option<f64>,
    /// Proactive policies: HPA reads answered with the forecast, with the current value, and without a
    /// forecast (reactive), as percentages of all reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast_won_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reactive_pct: Option<f64>,
    /// Ready pods over time (for plots; not in the JSON).
    #[serde(skip)]
    pub ready_steps: Vec<(i64, i32)>,
}

/// Whether the targets hold for the best proactive policy on a trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Targets {
    /// The proactive policy that meets the most of the three targets below (ties: the lowest tau_u), among
    /// those whose forecast won at least once.
    pub best: String,
    /// tau_u ≤ 50 % of keda-hpa's.
    pub tau_u_halved: bool,
    /// pod_seconds ≤ 110 % of keda-hpa's.
    pub pod_seconds_within_110pct_of_keda: bool,
    /// pod_seconds ≤ 125 % of the oracle's.
    pub pod_seconds_within_125pct_of_oracle: bool,
    /// No proactive policy is under-provisioned longer than keda-hpa.
    pub never_worse_than_keda: bool,
}

/// Everything `bench` found on one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceReport {
    pub trace: String,
    pub file: String,
    pub rows: usize,
    pub step_s: f64,
    pub duration_s: f64,
    pub peak: f64,
    pub capacity_per_pod: f64,
    pub threshold: f64,
    /// The replay ran on the load × this ([`load_scale`]); absent when 1.
    #[serde(skip_serializing_if = "is_one")]
    pub load_scale: f64,
    pub results: Vec<PolicyResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Targets>,
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

/// The whole run. `W` describes the workload: [`Standard`] for `bench`; `backtest` describes what it fetched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report<W = Standard> {
    pub workload: W,
    pub policies: Vec<String>,
    pub traces: Vec<TraceReport>,
}

/// The highest value of a series (errors count as nothing).
pub fn peak(series: &Series) -> f64 {
    series
        .points()
        .filter_map(|(_, s)| match s {
            Sample::Value(v) => Some(v),
            Sample::Error => None,
        })
        .fold(0.0, f64::max)
}

/// What the policies are compared on: the `keda-hpa` replay, and what the other policies change in it.
///
/// - `keda-hpa` replays [`Case::scenario`] as it is; its ScaledObject should carry no `prescale.dev/`
///   annotation;
/// - `proactive-<model>` replays it with [`Case::proactive_annotations`] and `prescale.dev/forecast: <model>`
///   added to the ScaledObject;
/// - `oracle` serves the scenario's load (`workload.load`) with its capacity per pod and pod start-up, between
///   the executor's minimum (`minReplicaCount`, default 0) and the HPA's maximum (`maxReplicaCount`, default
///   100), over the scenario's duration.
///
/// `bench` builds one per trace ([`Case::standard`]); `prescale backtest` builds one from a ScaledObject and
/// its triggers' fetched history.
#[derive(Debug, Clone)]
pub struct Case {
    /// The report's `trace`.
    pub name: String,
    /// The report's `file`.
    pub file: String,
    /// The `keda-hpa` replay. `workload.capacityPerPod` must be set and `workload.load` must name a trigger
    /// with a series: the scores need both.
    pub scenario: Scenario,
    /// What each proactive policy adds to the ScaledObject's annotations besides `prescale.dev/forecast`.
    pub proactive_annotations: BTreeMap<String, String>,
    /// The load's bin width (report and plots).
    pub step_ms: i64,
    /// The load trigger's threshold (report), in the trace's units.
    pub threshold: f64,
    /// The replay runs on the load × this (a power of ten, 1 unless the threshold is below 1): see
    /// [`load_scale`]. Reported numbers are in the trace's own units.
    pub load_scale: f64,
}

/// KEDA gives the HPA its target as a milli-quantity, so a threshold below 1 loses precision (0.0025 becomes
/// 0.003) and one below 0.0005 becomes 0, which the API server refuses. The scores do not depend on the load's
/// unit, so `bench` replays a small-scale trace in a unit 10^k times smaller: the smallest power of ten that
/// brings `threshold` to at least 1.
pub fn load_scale(threshold: f64) -> f64 {
    let mut k = 1.0;
    while threshold * k < 1.0 && k < 1e12 {
        k *= 10.0;
    }
    k
}

impl Case {
    /// `bench`'s case: the standard workload `w` on `trace`.
    pub fn standard(trace: &Trace, w: &Standard) -> Result<Case> {
        let peak = trace.peak();
        let capacity = w.capacity_per_pod.unwrap_or(peak / w.peak_divisor);
        if !(capacity.is_finite() && capacity > 0.0) {
            return Err(Error::Csv {
                path: trace.path.clone(),
                line: 1,
                message: format!(
                    "capacityPerPod {capacity} (peak {peak} / {}) is not a positive number; the trace is all zeros \
                     or --capacity-per-pod is wrong",
                    w.peak_divisor
                ),
            });
        }
        let threshold = w.threshold.unwrap_or(capacity);
        let scale = load_scale(threshold.min(capacity));
        let threshold_u = threshold;
        let (capacity, threshold) = (capacity * scale, threshold * scale);
        let mut annotations = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            annotations.insert(k.to_string(), v);
        };
        put(
            proactive::ANNOTATION_POD_STARTUP,
            format!("{}s", w.pod_startup_s),
        );
        if let Some(m) = w.margin_pct {
            put(proactive::ANNOTATION_MARGIN, format!("{m}"));
        }
        if let Some(q) = w.quantile {
            put(proactive::ANNOTATION_QUANTILE, format!("{q}"));
        }
        if let Some(l) = w.lead_s {
            put(proactive::ANNOTATION_LEAD, format!("{l}s"));
        }
        if let Some(s) = &w.season {
            put(proactive::ANNOTATION_SEASON, s.clone());
        }
        let so: ScaledObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {"name": trace.name, "namespace": "bench"},
            "spec": {
                "scaleTargetRef": {"name": "web"},
                "minReplicaCount": w.min_replicas,
                "maxReplicaCount": w.max_replicas,
                "pollingInterval": w.polling_interval_s,
                "triggers": [{
                    "type": "prometheus",
                    "metadata": {
                        "serverAddress": "http://prometheus.bench.invalid:9090",
                        "query": "sum(rate(requests_total[1m]))",
                        "threshold": format!("{threshold}"),
                    }
                }]
            }
        }))
        .map_err(|e| Error::Scenario {
            file: trace.name.clone(),
            field: "workload".into(),
            message: e.to_string(),
        })?;
        let first = match trace.series.at(0) {
            Sample::Value(v) => v * scale,
            Sample::Error => 0.0,
        };
        let initial = replicas_for(first, capacity, w.min_replicas, w.max_replicas);
        let scenario = Scenario {
            file: trace.path.display().to_string(),
            scaled_object: so,
            scaled_object_origin: "bench".into(),
            duration_ms: trace.duration_ms,
            workload: Workload {
                initial_replicas: Some(initial),
                pod_startup_ms: (w.pod_startup_s * 1000.0).round() as i64,
                capacity_per_pod: Some(capacity),
                load: TriggerRef::Index(0),
            },
            metrics: vec![MetricSource {
                trigger: TriggerRef::Index(0),
                series: if scale == 1.0 {
                    trace.series.clone()
                } else {
                    trace.series.scaled(scale)
                },
                origin: trace.path.display().to_string(),
            }],
            controller: Controller::default(),
        };
        Ok(Case {
            name: trace.name.clone(),
            file: trace
                .path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            scenario,
            proactive_annotations: annotations,
            step_ms: trace.step_ms,
            threshold: threshold_u,
            load_scale: scale,
        })
    }

    fn err(&self, field: &str, message: String) -> Error {
        Error::Scenario {
            file: self.name.clone(),
            field: field.into(),
            message,
        }
    }

    /// The load: the series of the trigger `workload.load` names.
    pub fn load(&self) -> Result<&Series> {
        self.scenario.load_series().ok_or_else(|| {
            self.err(
                "workload.load",
                format!(
                    "trigger {} has no series; the load is needed for the scores",
                    self.scenario.workload.load
                ),
            )
        })
    }

    /// `workload.capacityPerPod`, which must be a positive number.
    pub fn capacity_per_pod(&self) -> Result<f64> {
        match self.scenario.workload.capacity_per_pod {
            Some(c) if c.is_finite() && c > 0.0 => Ok(c),
            other => Err(self.err(
                "workload.capacityPerPod",
                format!(
                    "{} is not a positive number; the scores need the load one pod serves",
                    other.map_or("(unset)".to_string(), |c| c.to_string())
                ),
            )),
        }
    }

    /// The scenario `policy` replays (the oracle runs on the `keda-hpa` one's load).
    pub fn scenario_for(&self, policy: Policy) -> Scenario {
        let mut sc = self.scenario.clone();
        if let Policy::Proactive(m) = policy {
            let annotations = &mut sc.scaled_object.metadata.annotations;
            annotations.extend(
                self.proactive_annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            annotations.insert(proactive::ANNOTATION_FORECAST.to_string(), m.to_string());
        }
        sc
    }
}

/// How [`Case::replay`] builds a case from a ScaledObject and its triggers' history.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// The report's `trace` (the ScaledObject's name).
    pub name: String,
    /// The report's `file`, and the scenario's name in messages.
    pub file: String,
    /// One series per trigger, in `spec.triggers` order, on a common time origin (t = 0 at the first
    /// instant of the range).
    pub series: Vec<Series>,
    /// The trigger whose series is the load.
    pub load: usize,
    /// The load one ready pod serves.
    pub capacity_per_pod: f64,
    /// How long a new pod takes to become ready on the simulated cluster.
    pub pod_startup_ms: i64,
    /// The series' bin width.
    pub step_ms: i64,
    /// The replay's length.
    pub duration_ms: i64,
}

/// Whether `key` is one of prescale's own annotations (`prescale.dev/…`).
fn is_prescale_annotation(key: &str) -> bool {
    key.starts_with("prescale.dev/")
}

impl Case {
    /// A case from a user's ScaledObject, as given (its replica bounds, pollingInterval, behavior, triggers,
    /// fallback…), replayed on `r.series`:
    /// - `keda-hpa` runs the ScaledObject without any `prescale.dev/` annotation;
    /// - each `proactive-<model>` runs it with `prescale.dev/forecast: <model>` and the user's other
    ///   `prescale.dev/` annotations; `prescale.dev/pod-startup` is the simulated cluster's start-up when the
    ///   ScaledObject does not set it;
    /// - the run starts with the pods the load's first value needs (`ceil(load / capacityPerPod)`), within
    ///   the executor's minimum and the HPA's maximum, as `bench` does.
    ///
    /// Errors name what is wrong: a series count other than the trigger count, a load trigger that does not
    /// exist, a capacity or a duration that is not positive.
    pub fn replay(so: &ScaledObject, r: Replay) -> Result<Case> {
        let err = |field: &str, message: String| Error::Scenario {
            file: r.file.clone(),
            field: field.into(),
            message,
        };
        let triggers = so.spec.triggers.len();
        if r.series.len() != triggers {
            return Err(err(
                "metrics",
                format!(
                    "{} series for {triggers} trigger(s); every trigger needs one",
                    r.series.len()
                ),
            ));
        }
        if r.load >= triggers {
            return Err(err(
                "workload.load",
                format!("trigger {} does not exist ({triggers} trigger(s))", r.load),
            ));
        }
        if !(r.capacity_per_pod.is_finite() && r.capacity_per_pod > 0.0) {
            return Err(err(
                "workload.capacityPerPod",
                format!("{} is not a positive number", r.capacity_per_pod),
            ));
        }
        if r.duration_ms <= 0 || r.step_ms <= 0 || r.pod_startup_ms < 0 {
            return Err(err(
                "duration",
                format!(
                    "duration {} ms, step {} ms and pod start-up {} ms must be positive",
                    r.duration_ms, r.step_ms, r.pod_startup_ms
                ),
            ));
        }
        let threshold = trigger_targets(so)
            .map_err(|source| Error::Engine {
                file: r.file.clone(),
                source,
            })?
            .get(r.load)
            .map_or(0.0, |t| t.threshold);
        let mut reactive = so.clone();
        reactive
            .metadata
            .annotations
            .retain(|k, _| !is_prescale_annotation(k));
        let mut proactive_annotations: BTreeMap<String, String> = so
            .metadata
            .annotations
            .iter()
            .filter(|(k, _)| is_prescale_annotation(k) && *k != proactive::ANNOTATION_FORECAST)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        proactive_annotations
            .entry(proactive::ANNOTATION_POD_STARTUP.to_string())
            .or_insert_with(|| format!("{}s", crate::duration::format_secs(r.pod_startup_ms)));
        let spec = &so.spec;
        let first = match r.series[r.load].at(0) {
            Sample::Value(v) => v,
            Sample::Error => 0.0,
        };
        // The pods a run starts with: what the load's first value needs.
        let initial = replicas_for(
            first,
            r.capacity_per_pod,
            spec.min_replicas(),
            spec.hpa_max_replicas(),
        );
        let scenario = Scenario {
            file: r.file.clone(),
            scaled_object: reactive,
            scaled_object_origin: r.file.clone(),
            duration_ms: r.duration_ms,
            workload: Workload {
                initial_replicas: Some(initial),
                pod_startup_ms: r.pod_startup_ms,
                capacity_per_pod: Some(r.capacity_per_pod),
                load: TriggerRef::Index(r.load),
            },
            metrics: r
                .series
                .into_iter()
                .enumerate()
                .map(|(i, series)| MetricSource {
                    trigger: TriggerRef::Index(i),
                    series,
                    origin: format!("trigger {i}"),
                })
                .collect(),
            controller: Controller::default(),
        };
        Ok(Case {
            name: r.name,
            file: r.file,
            scenario,
            proactive_annotations,
            step_ms: r.step_ms,
            threshold,
            load_scale: 1.0,
        })
    }
}

/// Run one policy on one case.
pub fn run_policy(case: &Case, policy: Policy) -> Result<PolicyResult> {
    let capacity = case.capacity_per_pod()?;
    let (scores, pod_seconds, actions, ready, proactive) = match policy {
        Policy::Oracle => {
            let sc = &case.scenario;
            let spec = &sc.scaled_object.spec;
            let r = oracle::run(
                case.load()?,
                &OracleConfig {
                    capacity_per_pod: capacity,
                    pod_startup_ms: sc.workload.pod_startup_ms,
                    min_replicas: spec.min_replicas(),
                    max_replicas: spec.hpa_max_replicas(),
                    duration_ms: sc.duration_ms,
                },
            );
            (
                r.scores,
                r.pod_seconds,
                r.scale_actions,
                r.ready_steps,
                None,
            )
        }
        _ => {
            let sc = case.scenario_for(policy);
            // The proactive policies' parameters come from `bench`'s options (or the backtested
            // ScaledObject): one the policy cannot run with is an error here, not a reactive replay.
            check_proactive(&sc)?;
            let run = simulate(&sc, Options::default())?;
            let s = run.summary;
            let scores = s.scores.ok_or_else(|| {
                case.err(
                    "workload.capacityPerPod",
                    "no scores without a capacity per pod".into(),
                )
            })?;
            (
                scores,
                s.pod_seconds,
                s.scale_actions,
                run.ready_steps,
                s.proactive,
            )
        }
    };
    let reads = proactive.as_ref().map(|p| p.reads() as f64);
    Ok(PolicyResult {
        policy: policy.name(),
        kind: policy,
        pod_seconds,
        under_provisioned_s: scores.under_provisioned_s,
        theta_u: scores.theta_u,
        theta_o: scores.theta_o,
        tau_u: scores.tau_u,
        tau_o: scores.tau_o,
        instability: scores.instability,
        scale_actions: actions,
        served_load_pct: scores.served_load_pct,
        elastic_speedup: None,
        pod_seconds_vs_keda_pct: None,
        pod_seconds_vs_oracle_pct: None,
        tau_u_vs_keda_pct: None,
        forecast_won_pct: proactive
            .as_ref()
            .zip(reads)
            .map(|(p, n)| 100.0 * p.forecast_won as f64 / n),
        reactive_pct: proactive
            .as_ref()
            .zip(reads)
            .map(|(p, n)| 100.0 * p.reactive as f64 / n),
        ready_steps: ready,
    })
}

/// Metrics are floored at this many percent before ratios, so a perfect (0) metric does not divide by zero.
pub const RATIO_FLOOR: f64 = 0.01;

fn ratio(base: f64, x: f64) -> f64 {
    (base.max(RATIO_FLOOR)) / (x.max(RATIO_FLOOR))
}

fn pct(x: f64, of: f64) -> Option<f64> {
    (of > 0.0).then(|| 100.0 * x / of)
}

/// Fill the comparisons against keda-hpa and the oracle, and check the targets.
fn compare(results: &mut [PolicyResult]) -> Option<Targets> {
    let keda = results.iter().find(|r| r.kind == Policy::KedaHpa).cloned();
    let oracle = results.iter().find(|r| r.kind == Policy::Oracle).cloned();
    for r in results.iter_mut() {
        if let Some(k) = &keda {
            let m = [
                ratio(k.theta_u, r.theta_u),
                ratio(k.theta_o, r.theta_o),
                ratio(k.tau_u, r.tau_u),
                ratio(k.tau_o, r.tau_o),
                ratio(k.instability, r.instability),
            ];
            r.elastic_speedup = Some((m.iter().map(|x| x.ln()).sum::<f64>() / 5.0).exp());
            r.pod_seconds_vs_keda_pct = pct(r.pod_seconds, k.pod_seconds);
            r.tau_u_vs_keda_pct =
                pct(r.tau_u, k.tau_u).or(Some(if r.tau_u > 0.0 { f64::INFINITY } else { 100.0 }));
        }
        if let Some(o) = &oracle {
            r.pod_seconds_vs_oracle_pct = pct(r.pod_seconds, o.pod_seconds);
        }
    }
    let keda = keda?;
    let proactive: Vec<&PolicyResult> = results
        .iter()
        .filter(|r| matches!(r.kind, Policy::Proactive(_)))
        .collect();
    if proactive.is_empty() {
        return None;
    }
    let halved = |r: &PolicyResult| r.tau_u <= 0.5 * keda.tau_u;
    let within_keda = |r: &PolicyResult| r.pod_seconds <= 1.10 * keda.pod_seconds;
    let within_oracle = |r: &PolicyResult| {
        oracle
            .as_ref()
            .is_none_or(|o| r.pod_seconds <= 1.25 * o.pod_seconds)
    };
    // The best proactive policy meets the most targets; among equals, the one under-provisioned least.
    let met = |r: &PolicyResult| {
        usize::from(halved(r)) + usize::from(within_keda(r)) + usize::from(within_oracle(r))
    };
    // A proactive policy whose forecast never won (a seasonal model without a season of history) is
    // keda-hpa under another name: it is the best only when every proactive policy is.
    let forecasting: Vec<&PolicyResult> = proactive
        .iter()
        .copied()
        .filter(|r| r.forecast_won_pct.is_some_and(|p| p > 0.0))
        .collect();
    let candidates = if forecasting.is_empty() {
        &proactive
    } else {
        &forecasting
    };
    let best = candidates.iter().copied().min_by(|a, b| {
        met(b)
            .cmp(&met(a))
            .then(a.tau_u.total_cmp(&b.tau_u))
            .then(a.pod_seconds.total_cmp(&b.pod_seconds))
    })?;
    Some(Targets {
        best: best.policy.clone(),
        tau_u_halved: halved(best),
        pod_seconds_within_110pct_of_keda: within_keda(best),
        pod_seconds_within_125pct_of_oracle: within_oracle(best),
        never_worse_than_keda: proactive
            .iter()
            .all(|r| r.under_provisioned_s <= keda.under_provisioned_s),
    })
}

/// A unit of work finished: `(trace index, policy, simulated seconds)`.
pub type Progress<'a> = &'a (dyn Fn(usize, Policy, f64) + Sync);

/// Run every policy on every trace with the standard workload `w`, on up to `threads` threads. Results do
/// not depend on the thread count.
pub fn run(
    traces: &[Trace],
    w: &Standard,
    policies: &[Policy],
    threads: usize,
    progress: Progress<'_>,
) -> Result<Report> {
    let cases = traces
        .iter()
        .map(|t| Case::standard(t, w))
        .collect::<Result<Vec<_>>>()?;
    Ok(Report {
        workload: w.clone(),
        policies: policies.iter().map(|p| p.name()).collect(),
        traces: run_cases(&cases, policies, threads, progress)?,
    })
}

/// Run every policy on every case, on up to `threads` threads: one report per case, in order. Results do
/// not depend on the thread count.
pub fn run_cases(
    cases: &[Case],
    policies: &[Policy],
    threads: usize,
    progress: Progress<'_>,
) -> Result<Vec<TraceReport>> {
    let units: Vec<(usize, Policy)> = (0..cases.len())
        .flat_map(|t| policies.iter().map(move |&p| (t, p)))
        .collect();
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Result<PolicyResult>>>> =
        Mutex::new(units.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1).min(units.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(t, p)) = units.get(i) else { break };
                    let r = run_policy(&cases[t], p);
                    progress(t, p, cases[t].scenario.duration_ms as f64 / 1000.0);
                    if let Ok(mut d) = done.lock() {
                        d[i] = Some(r);
                    }
                }
            });
        }
    });
    let done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut per_case: Vec<Vec<PolicyResult>> = cases.iter().map(|_| Vec::new()).collect();
    for ((t, _), r) in units.iter().zip(done) {
        match r {
            Some(r) => per_case[*t].push(r?),
            None => {
                return Err(Error::Scenario {
                    file: cases[*t].name.clone(),
                    field: "bench".into(),
                    message: "a worker thread stopped before finishing its run".into(),
                });
            }
        }
    }
    let mut reports = Vec::new();
    for (case, mut results) in cases.iter().zip(per_case) {
        let targets = compare(&mut results);
        let load = case.load()?;
        reports.push(TraceReport {
            trace: case.name.clone(),
            file: case.file.clone(),
            rows: load.len(),
            step_s: case.step_ms as f64 / 1000.0,
            duration_s: case.scenario.duration_ms as f64 / 1000.0,
            peak: peak(load) / case.load_scale,
            capacity_per_pod: case.capacity_per_pod()? / case.load_scale,
            threshold: case.threshold,
            load_scale: case.load_scale,
            results,
            targets,
        });
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn so(annotations: &[(&str, &str)], min: i32, max: i32) -> ScaledObject {
        let annotations: serde_json::Map<String, serde_json::Value> = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect();
        serde_json::from_value(serde_json::json!({
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {"name": "shop", "namespace": "web", "annotations": annotations},
            "spec": {
                "scaleTargetRef": {"name": "shop"},
                "minReplicaCount": min,
                "maxReplicaCount": max,
                "pollingInterval": 15,
                "triggers": [
                    {"type": "prometheus", "name": "rps",
                     "metadata": {"serverAddress": "http://p:9090", "query": "sum(rps)", "threshold": "10"}},
                    {"type": "prometheus",
                     "metadata": {"serverAddress": "http://p:9090", "query": "sum(queue)", "threshold": "7"}},
                ]
            }
        }))
        .unwrap()
    }

    fn series(points: &[(i64, f64)]) -> Series {
        Series::new(points.iter().map(|&(t, v)| (t, Sample::Value(v))).collect()).unwrap()
    }

    fn replay(series: Vec<Series>) -> Replay {
        Replay {
            name: "shop".into(),
            file: "so.yaml".into(),
            series,
            load: 0,
            capacity_per_pod: 10.0,
            pod_startup_ms: 30_000,
            step_ms: 15_000,
            duration_ms: 600_000,
        }
    }

    fn annotations(sc: &Scenario) -> Vec<(&str, &str)> {
        sc.scaled_object
            .metadata
            .annotations
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn replay_runs_keda_hpa_without_prescale_annotations_and_proactive_with_the_users() {
        let user = so(
            &[
                ("prescale.dev/forecast", "trend"),
                ("prescale.dev/forecast-margin", "10"),
                ("example.com/team", "shop"),
            ],
            1,
            10,
        );
        let two = vec![Series::constant(5.0), Series::constant(1.0)];
        let case = Case::replay(&user, replay(two.clone())).unwrap();
        assert_eq!(
            annotations(&case.scenario_for(Policy::KedaHpa)),
            [("example.com/team", "shop")]
        );
        assert_eq!(
            annotations(&case.scenario_for(Policy::Proactive(Model::Auto))),
            [
                ("example.com/team", "shop"),
                ("prescale.dev/forecast", "auto"),
                ("prescale.dev/forecast-margin", "10"),
                // Not set by the user: the simulated cluster's start-up.
                ("prescale.dev/pod-startup", "30s"),
            ]
        );
        // The user's own start-up estimate is the policy's, whatever the cluster's.
        let user = so(&[("prescale.dev/pod-startup", "90s")], 1, 10);
        let case = Case::replay(&user, replay(two)).unwrap();
        assert_eq!(
            annotations(&case.scenario_for(Policy::Proactive(Model::Trend))),
            [
                ("prescale.dev/forecast", "trend"),
                ("prescale.dev/pod-startup", "90s"),
            ]
        );
        assert_eq!(case.scenario.workload.pod_startup_ms, 30_000);
        assert!(annotations(&case.scenario).is_empty());
    }

    #[test]
    fn replay_errors_name_what_is_wrong() {
        let user = so(&[], 1, 10);
        let err = |r: Replay| Case::replay(&user, r).unwrap_err().to_string();
        assert_eq!(
            err(replay(vec![Series::constant(1.0)])),
            "so.yaml: metrics: 1 series for 2 trigger(s); every trigger needs one"
        );
        let two = vec![Series::constant(1.0), Series::constant(1.0)];
        assert_eq!(
            err(Replay {
                load: 2,
                ..replay(two.clone())
            }),
            "so.yaml: workload.load: trigger 2 does not exist (2 trigger(s))"
        );
        assert_eq!(
            err(Replay {
                capacity_per_pod: 0.0,
                ..replay(two.clone())
            }),
            "so.yaml: workload.capacityPerPod: 0 is not a positive number"
        );
        assert!(
            err(Replay {
                duration_ms: 0,
                ..replay(two)
            })
            .starts_with("so.yaml: duration: duration 0 ms")
        );
    }

    #[test]
    fn replay_uses_the_scaled_objects_bounds_the_load_trigger_and_holds_values_over_gaps() {
        // minReplicaCount 0, maxReplicaCount 5; the load (trigger 1, threshold 7) is 0 for two minutes, 42
        // (6 pods' worth at capacity 7, capped at 5) from 120 s with no sample at 135 s and 150 s, then 0.
        let user = so(&[], 0, 5);
        let load = series(&[(0, 0.0), (120_000, 42.0), (165_000, 42.0), (300_000, 0.0)]);
        let case = Case::replay(
            &user,
            Replay {
                load: 1,
                capacity_per_pod: 7.0,
                ..replay(vec![Series::constant(3.0), load])
            },
        )
        .unwrap();
        assert_eq!(case.scenario.workload.initial_replicas, Some(0));
        assert_eq!(case.threshold, 7.0);
        // A gap holds the previous value.
        assert_eq!(case.load().unwrap().at(150_000), Sample::Value(42.0));
        let reports = run_cases(
            std::slice::from_ref(&case),
            &[Policy::KedaHpa, Policy::Oracle],
            2,
            &|_, _, _| {},
        )
        .unwrap();
        let r = &reports[0];
        assert_eq!(
            (r.trace.as_str(), r.file.as_str(), r.rows, r.peak),
            ("shop", "so.yaml", 4, 42.0)
        );
        assert_eq!(
            (r.step_s, r.duration_s, r.capacity_per_pod),
            (15.0, 600.0, 7.0)
        );
        let oracle = &r.results[1];
        // The oracle: no pod while there is no load (minReplicaCount 0), never more than 5.
        assert_eq!(oracle.ready_steps[0], (0, 0));
        assert_eq!(oracle.ready_steps.iter().map(|s| s.1).max(), Some(5));
        // keda-hpa is exactly the simulator on the case's scenario.
        let run = simulate(&case.scenario, Options::default()).unwrap();
        let keda = &r.results[0];
        assert_eq!(keda.ready_steps, run.ready_steps);
        assert_eq!(keda.pod_seconds, run.summary.pod_seconds);
        assert!(keda.ready_steps.iter().all(|s| s.1 <= 5));
        assert!(keda.under_provisioned_s > 0.0);
    }
}
