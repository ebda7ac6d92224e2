//! The scenario file: what to replay, for how long, on what simulated workload.
//!
//! ```yaml
//! scaledObject: scaledobject.yaml   # path relative to this file, or an inline ScaledObject mapping
//! duration: 15m                      # seconds as a number, or a duration string (s, m, h, d)
//! workload:
//!   initialReplicas: 1               # default: the ScaledObject's minReplicaCount
//!   podStartupSeconds: 0             # a new pod is ready this long after it is created
//!   capacityPerPod: 2.5              # optional: load one ready pod serves; enables load scoring
//!   load: 0                          # optional: trigger index or name whose series is the load
//! metrics:                           # one entry per trigger, by index or name
//!   - trigger: 0
//!     points: [[0, 0], [7, 50], [607, 0]]
//!     # or csv: ../traces/x.csv
//! controller:
//!   hpaSyncPeriod: 15s
//!   tolerance: 0.1
//!   downscaleStabilization: 5m
//! ```
//! Unknown keys are errors (a typo must not silently change a simulation).

use std::path::{Path, PathBuf};

use prescale_core::spec::{self, DocumentContent, KedaObject, ScaledObject, Severity};
use serde_json::{Map, Value};

use crate::duration::{parse_duration_ms, secs_to_ms};
use crate::series::{Sample, Series, parse_sample_str};
use crate::{Error, Result};

/// The longest run a scenario may ask for (scores sample every second of it).
pub const MAX_DURATION_MS: i64 = 400 * 86_400_000;
/// The longest `controller.downscaleStabilization` (the legacy window is scanned at every sync).
pub const MAX_STABILIZATION_MS: i64 = 3_600_000;

/// A trigger named by its index in `spec.triggers` or by its `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerRef {
    Index(usize),
    Name(String),
}

impl std::fmt::Display for TriggerRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TriggerRef::Index(i) => write!(f, "{i}"),
            TriggerRef::Name(n) => write!(f, "{n:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub initial_replicas: Option<i32>,
    pub pod_startup_ms: i64,
    pub capacity_per_pod: Option<f64>,
    pub load: TriggerRef,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricSource {
    pub trigger: TriggerRef,
    pub series: Series,
    /// Where the series came from (`points` or the CSV path), for messages.
    pub origin: String,
}

/// `controller:` — the kube-controller-manager flags the HPA runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Controller {
    pub hpa_sync_period_ms: i64,
    pub tolerance: f64,
    pub downscale_stabilization_ms: i64,
}

impl Default for Controller {
    fn default() -> Self {
        Controller {
            hpa_sync_period_ms: 15_000,
            tolerance: 0.1,
            downscale_stabilization_ms: 300_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The scenario's name for messages (its path, or `<stdin>`).
    pub file: String,
    pub scaled_object: ScaledObject,
    /// `scaledObject` as written: a path, or `inline`.
    pub scaled_object_origin: String,
    pub duration_ms: i64,
    pub workload: Workload,
    pub metrics: Vec<MetricSource>,
    pub controller: Controller,
}

impl Scenario {
    /// The index in `spec.triggers` that `r` names, if any.
    pub fn trigger_index(&self, r: &TriggerRef) -> Option<usize> {
        let triggers = &self.scaled_object.spec.triggers;
        match r {
            TriggerRef::Index(i) => (*i < triggers.len()).then_some(*i),
            TriggerRef::Name(n) => triggers
                .iter()
                .position(|t| t.name.as_deref() == Some(n.as_str())),
        }
    }

    /// The series of the trigger `workload.load` names, if the scenario gives one.
    pub fn load_series(&self) -> Option<&Series> {
        let idx = self.trigger_index(&self.workload.load)?;
        self.metrics
            .iter()
            .find(|m| self.trigger_index(&m.trigger) == Some(idx))
            .map(|m| &m.series)
    }
}

struct Ctx<'a> {
    file: &'a str,
    base: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Scenario {
            file: self.file.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Scenario {
    /// Read and parse a scenario file; relative paths inside it are resolved against its directory.
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::parse(&text, &path.display().to_string(), &base)
    }

    /// Parse scenario text. `file` names it in messages; `base` resolves relative paths.
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<Scenario> {
        let cx = Ctx { file, base };
        let root: Value = serde_saphyr::from_str(text)
            .map_err(|e| cx.err("(yaml)", yaml_message(&e.to_string())))?;
        let root = as_map(&cx, &root, "(top level)")?;
        check_keys(
            &cx,
            root,
            "",
            &[
                "scaledObject",
                "duration",
                "workload",
                "metrics",
                "controller",
            ],
        )?;

        let so_val = root
            .get("scaledObject")
            .ok_or_else(|| cx.err("scaledObject", "required"))?;
        let (scaled_object, scaled_object_origin) = load_scaled_object(&cx, so_val)?;

        let duration_ms = match root.get("duration") {
            Some(v) => duration(&cx, v, "duration")?,
            None => return Err(cx.err("duration", "required")),
        };
        if duration_ms == 0 {
            return Err(cx.err("duration", "must be greater than 0"));
        }
        if duration_ms > MAX_DURATION_MS {
            return Err(cx.err(
                "duration",
                format!(
                    "{} is longer than the {} a run may cover",
                    crate::duration::format_human(duration_ms),
                    crate::duration::format_human(MAX_DURATION_MS)
                ),
            ));
        }

        let mut workload = Workload {
            initial_replicas: None,
            pod_startup_ms: 0,
            capacity_per_pod: None,
            load: TriggerRef::Index(0),
        };
        if let Some(w) = root.get("workload").filter(|v| !v.is_null()) {
            let w = as_map(&cx, w, "workload")?;
            check_keys(
                &cx,
                w,
                "workload",
                &[
                    "initialReplicas",
                    "podStartupSeconds",
                    "capacityPerPod",
                    "load",
                ],
            )?;
            if let Some(v) = w.get("initialReplicas") {
                let n = v
                    .as_i64()
                    .filter(|n| (0..=i64::from(i32::MAX)).contains(n))
                    .ok_or_else(|| {
                        cx.err(
                            "workload.initialReplicas",
                            format!("{v} is not a non-negative integer"),
                        )
                    })?;
                workload.initial_replicas = Some(n as i32);
            }
            if let Some(v) = w.get("podStartupSeconds") {
                workload.pod_startup_ms = duration(&cx, v, "workload.podStartupSeconds")?;
            }
            if let Some(v) = w.get("capacityPerPod") {
                let c = v
                    .as_f64()
                    .filter(|c| c.is_finite() && *c > 0.0)
                    .ok_or_else(|| {
                        cx.err(
                            "workload.capacityPerPod",
                            format!("{v} is not a number greater than 0"),
                        )
                    })?;
                workload.capacity_per_pod = Some(c);
            }
            if let Some(v) = w.get("load") {
                workload.load = trigger_ref(&cx, v, "workload.load")?;
            }
        }

        let mut metrics = Vec::new();
        match root.get("metrics") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    metrics.push(metric_source(&cx, item, &format!("metrics[{i}]"))?);
                }
            }
            Some(other) => {
                return Err(cx.err("metrics", format!("expected a list, got {}", kind(other))));
            }
        }

        let mut controller = Controller::default();
        if let Some(c) = root.get("controller").filter(|v| !v.is_null()) {
            let c = as_map(&cx, c, "controller")?;
            check_keys(
                &cx,
                c,
                "controller",
                &["hpaSyncPeriod", "tolerance", "downscaleStabilization"],
            )?;
            if let Some(v) = c.get("hpaSyncPeriod") {
                controller.hpa_sync_period_ms = duration(&cx, v, "controller.hpaSyncPeriod")?;
                if controller.hpa_sync_period_ms < 1000 {
                    return Err(cx.err(
                        "controller.hpaSyncPeriod",
                        format!(
                            "{}s is shorter than the 1s minimum",
                            crate::duration::format_secs(controller.hpa_sync_period_ms)
                        ),
                    ));
                }
            }
            if let Some(v) = c.get("tolerance") {
                controller.tolerance = v
                    .as_f64()
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .ok_or_else(|| {
                        cx.err(
                            "controller.tolerance",
                            format!("{v} is not a non-negative number"),
                        )
                    })?;
            }
            if let Some(v) = c.get("downscaleStabilization") {
                controller.downscale_stabilization_ms =
                    duration(&cx, v, "controller.downscaleStabilization")?;
                if controller.downscale_stabilization_ms > MAX_STABILIZATION_MS {
                    return Err(cx.err(
                        "controller.downscaleStabilization",
                        format!(
                            "{} is longer than the 1h maximum (the bound the HPA API puts on \
                             stabilizationWindowSeconds)",
                            crate::duration::format_human(controller.downscale_stabilization_ms)
                        ),
                    ));
                }
            }
        }

        Ok(Scenario {
            file: file.to_string(),
            scaled_object,
            scaled_object_origin,
            duration_ms,
            workload,
            metrics,
            controller,
        })
    }
}

/// The YAML parser's message, with a hint when a document is too large for it (its node budget guards against
/// YAML bombs; a long series belongs in a CSV file).
fn yaml_message(m: &str) -> String {
    if m.contains("budget") {
        format!(
            "{m} (the scenario is too large to parse; put long series in a CSV file with `csv:`)"
        )
    } else {
        m.to_string()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn as_map<'v>(cx: &Ctx<'_>, v: &'v Value, field: &str) -> Result<&'v Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| cx.err(field, format!("expected a mapping, got {}", kind(v))))
}

fn check_keys(cx: &Ctx<'_>, m: &Map<String, Value>, prefix: &str, allowed: &[&str]) -> Result<()> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            let field = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            return Err(cx.err(
                field,
                format!("unknown field (expected one of: {})", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

fn duration(cx: &Ctx<'_>, v: &Value, field: &str) -> Result<i64> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| cx.err(field, format!("{n} is not a number")))
            .and_then(|s| secs_to_ms(s).map_err(|m| cx.err(field, m))),
        Value::String(s) => parse_duration_ms(s).map_err(|m| cx.err(field, m)),
        other => Err(cx.err(
            field,
            format!(
                "expected seconds or a duration string such as 15m, got {}",
                kind(other)
            ),
        )),
    }
}

fn trigger_ref(cx: &Ctx<'_>, v: &Value, field: &str) -> Result<TriggerRef> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map(|i| TriggerRef::Index(i as usize))
            .ok_or_else(|| cx.err(field, format!("{n} is not a trigger index (0, 1, ...)"))),
        Value::String(s) if !s.is_empty() => Ok(TriggerRef::Name(s.clone())),
        other => Err(cx.err(
            field,
            format!("expected a trigger index or name, got {}", kind(other)),
        )),
    }
}

fn metric_source(cx: &Ctx<'_>, v: &Value, field: &str) -> Result<MetricSource> {
    let m = as_map(cx, v, field)?;
    check_keys(cx, m, field, &["trigger", "points", "csv"])?;
    let trigger = match m.get("trigger") {
        Some(t) => trigger_ref(cx, t, &format!("{field}.trigger"))?,
        None => return Err(cx.err(format!("{field}.trigger"), "required")),
    };
    match (m.get("points"), m.get("csv")) {
        (Some(_), Some(_)) => Err(cx.err(field, "give either points or csv, not both")),
        (None, None) => Err(cx.err(field, "one of points or csv is required")),
        (Some(p), None) => {
            let items = p.as_array().ok_or_else(|| {
                cx.err(
                    format!("{field}.points"),
                    format!("expected a list, got {}", kind(p)),
                )
            })?;
            let mut points = Vec::with_capacity(items.len());
            for (i, it) in items.iter().enumerate() {
                let pf = format!("{field}.points[{i}]");
                let pair = it
                    .as_array()
                    .filter(|a| a.len() == 2)
                    .ok_or_else(|| cx.err(&pf, format!("expected [time, value], got {it}")))?;
                let t = pair[0].as_f64().ok_or_else(|| {
                    cx.err(&pf, format!("time {} is not a number of seconds", pair[0]))
                })?;
                let t = secs_to_ms(t).map_err(|e| cx.err(&pf, e))?;
                let s = match &pair[1] {
                    Value::Number(n) => n
                        .as_f64()
                        .map(Sample::Value)
                        .ok_or_else(|| cx.err(&pf, format!("value {n} is not a number")))?,
                    Value::String(s) => parse_sample_str(s).map_err(|e| cx.err(&pf, e))?,
                    other => {
                        return Err(cx.err(
                            &pf,
                            format!("value must be a number or \"error\", got {}", kind(other)),
                        ));
                    }
                };
                points.push((t, s));
            }
            if points.is_empty() {
                return Err(cx.err(format!("{field}.points"), "must not be empty"));
            }
            let series =
                Series::new(points).map_err(|(i, m)| cx.err(format!("{field}.points[{i}]"), m))?;
            Ok(MetricSource {
                trigger,
                series,
                origin: "points".into(),
            })
        }
        (None, Some(c)) => {
            let rel = c.as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
                cx.err(
                    format!("{field}.csv"),
                    format!("expected a file path, got {}", kind(c)),
                )
            })?;
            let path = resolve(cx.base, rel);
            let series = Series::from_csv_file(&path)?;
            Ok(MetricSource {
                trigger,
                series,
                origin: rel.to_string(),
            })
        }
    }
}

fn resolve(base: &Path, rel: &str) -> PathBuf {
    let p = Path::new(rel);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// `scaledObject:` is a path (the file may hold several documents; exactly one must be a ScaledObject) or an
/// inline mapping. Either way it is loaded and validated as KEDA would (`prescale validate`): a ScaledObject
/// KEDA would reject is an error here too, with KEDA's message.
fn load_scaled_object(cx: &Ctx<'_>, v: &Value) -> Result<(ScaledObject, String)> {
    let (docs, origin, shown) = match v {
        Value::String(rel) if rel.trim().is_empty() => {
            return Err(cx.err(
                "scaledObject",
                "expected a file path or a ScaledObject mapping, got an empty string",
            ));
        }
        Value::String(rel) => {
            let path = resolve(cx.base, rel);
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            (spec::load(&text), rel.clone(), path.display().to_string())
        }
        Value::Object(_) => (
            vec![spec::load_value(v.clone())],
            "inline".to_string(),
            "inline".to_string(),
        ),
        other => {
            return Err(cx.err(
                "scaledObject",
                format!(
                    "expected a file path or a ScaledObject mapping, got {}",
                    kind(other)
                ),
            ));
        }
    };
    let candidates: Vec<usize> = docs
        .iter()
        .enumerate()
        .filter(|(_, d)| match &d.content {
            DocumentContent::Keda(KedaObject::ScaledObject(_)) => true,
            DocumentContent::Error { object, .. } => object.kind.as_deref() == Some("ScaledObject"),
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    let idx = match candidates.as_slice() {
        [i] => *i,
        [] => return Err(cx.err("scaledObject", format!("{shown} contains no ScaledObject"))),
        many => {
            return Err(cx.err(
                "scaledObject",
                format!(
                    "{shown} contains {} ScaledObjects; put the one to simulate in its own file or inline",
                    many.len()
                ),
            ));
        }
    };
    let report = spec::validate(&docs[idx..=idx]).remove(0);
    let errors: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| {
            if f.path.is_empty() {
                f.message.clone()
            } else {
                format!("{}: {}", f.path, f.message)
            }
        })
        .collect();
    if !errors.is_empty() {
        return Err(cx.err(
            format!("scaledObject ({shown})"),
            format!(
                "{} is not valid: {}",
                report.object.display_name(),
                errors.join("; ")
            ),
        ));
    }
    match &docs[idx].content {
        DocumentContent::Keda(KedaObject::ScaledObject(so)) => Ok((so.clone(), origin)),
        _ => Err(cx.err(
            "scaledObject",
            format!("{shown}: the ScaledObject could not be read"),
        )),
    }
}
