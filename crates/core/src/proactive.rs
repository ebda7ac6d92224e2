//! The proactive policy: scale on a forecast of the metric, never below what KEDA + HPA would do.
//!
//! A ScaledObject opts in with annotations under `prescale.dev/` — KEDA ignores annotations it does not know,
//! so the manifest stays valid for KEDA:
//!
//! | annotation | value | default |
//! |---|---|---|
//! | `prescale.dev/forecast` | `auto`, `holt-winters`, `trend`, `seasonal-naive` (`off`: reactive) | reactive |
//! | `prescale.dev/pod-startup` | how long a new pod takes to become ready (duration) | `60s` |
//! | `prescale.dev/forecast-lead` | how far ahead to look (duration) | pod start-up + one HPA sync (15 s) |
//! | `prescale.dev/forecast-history` | how much history the models keep (duration) | `3d`, or 2 seasons + 1 day |
//! | `prescale.dev/forecast-season` | the season: `1d`, `7d`, any duration, or `none` | `1d` |
//! | `prescale.dev/forecast-quantile` | how often the forecast's upper bound should hold (0.5 – 0.99) | `0.8` |
//! | `prescale.dev/forecast-margin` | extra safety margin on the forecast, percent (`10` or `10%`) | `0` |
//!
//! Per trigger, the value the HPA acts on becomes `max(current, (1 + margin) · peak)`, where `peak` is the
//! highest forecast over `[now, now + lead]` plus the quantile of the model's recent out-of-sample errors. When no forecast can be trusted (too little history, a gap, a
//! level shift), the value is the current one and the [`Decision`] says why. The models themselves live in
//! `prescale-forecast`; this module is the policy: configuration and the decision.

use std::fmt;

use crate::duration::{format_human, parse_duration_ms};
use crate::keda::trigger::{TargetType, TriggerTarget};
use crate::spec::ScaledObject;

pub const ANNOTATION_FORECAST: &str = "prescale.dev/forecast";
pub const ANNOTATION_POD_STARTUP: &str = "prescale.dev/pod-startup";
pub const ANNOTATION_LEAD: &str = "prescale.dev/forecast-lead";
pub const ANNOTATION_HISTORY: &str = "prescale.dev/forecast-history";
pub const ANNOTATION_SEASON: &str = "prescale.dev/forecast-season";
pub const ANNOTATION_MARGIN: &str = "prescale.dev/forecast-margin";
pub const ANNOTATION_QUANTILE: &str = "prescale.dev/forecast-quantile";

/// Every annotation of the policy, for "did you mean" checks.
pub const ANNOTATIONS: [&str; 7] = [
    ANNOTATION_FORECAST,
    ANNOTATION_POD_STARTUP,
    ANNOTATION_LEAD,
    ANNOTATION_HISTORY,
    ANNOTATION_SEASON,
    ANNOTATION_MARGIN,
    ANNOTATION_QUANTILE,
];

/// The Kubernetes HPA controller's default sync period (`--horizontal-pod-autoscaler-sync-period`).
pub const HPA_SYNC_PERIOD_MS: i64 = 15_000;
/// The Kubernetes HPA controller's default tolerance (`--horizontal-pod-autoscaler-tolerance`).
pub const HPA_TOLERANCE: f64 = 0.1;
pub const DEFAULT_POD_STARTUP_MS: i64 = 60_000;
pub const DEFAULT_SEASON_MS: i64 = 86_400_000;
pub const DEFAULT_HISTORY_MS: i64 = 3 * 86_400_000;
pub const DEFAULT_MARGIN_PCT: f64 = 0.0;
pub const DEFAULT_QUANTILE: f64 = 0.8;
/// The longest history a forecaster may keep (memory is bounded by it).
pub const MAX_HISTORY_MS: i64 = 35 * 86_400_000;

/// A forecasting model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    /// Picks, at each step, the model with the lowest recent out-of-sample error.
    Auto,
    /// Additive Holt-Winters (level, trend, one season).
    HoltWinters,
    /// Short-horizon damped trend (Holt's linear method) on recent observations.
    Trend,
    /// The value one season ago: the baseline.
    SeasonalNaive,
}

impl Model {
    pub const ALL: [Model; 4] = [
        Model::Auto,
        Model::HoltWinters,
        Model::Trend,
        Model::SeasonalNaive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Model::Auto => "auto",
            Model::HoltWinters => "holt-winters",
            Model::Trend => "trend",
            Model::SeasonalNaive => "seasonal-naive",
        }
    }

    pub fn parse(s: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether the model needs a season.
    pub fn seasonal(self) -> bool {
        matches!(self, Model::HoltWinters | Model::SeasonalNaive)
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a forecaster divides time: slots of one polling interval (`step`). [`spec`] checks a policy's history
/// with it, and `prescale-forecast`'s forecaster sizes itself with it, so the two accept the same policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    /// The slots the history holds: `floor(history / step)`, at least 1.
    pub history: i64,
    /// The slots the lead covers: `ceil(lead / step)`, at least 1.
    pub horizon: i64,
    /// The slots of one season, `ceil(season / step)` and at least 2, for a model that uses the season
    /// (`auto`, `holt-winters`, `seasonal-naive`); `None` without a season or for `trend`.
    pub period: Option<i64>,
}

fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1).div_euclid(b)
}

impl Slots {
    /// The slots of a policy polled every `step_ms` (at least 1 ms).
    pub fn new(
        model: Model,
        step_ms: i64,
        history_ms: i64,
        lead_ms: i64,
        season_ms: Option<i64>,
    ) -> Slots {
        let step_ms = step_ms.max(1);
        Slots {
            history: (history_ms / step_ms).max(1),
            horizon: ceil_div(lead_ms, step_ms).max(1),
            period: season_ms
                .filter(|_| model != Model::Trend)
                .map(|s| ceil_div(s, step_ms).max(2)),
        }
    }

    /// The fewest slots the history must hold: one season (when the model uses one) plus the lead.
    pub fn min_history(&self) -> i64 {
        self.period.unwrap_or(0) + self.horizon
    }
}

/// The forecaster's step for `so`: its `pollingInterval` (at least 1 s), in milliseconds.
pub fn step_ms(so: &ScaledObject) -> i64 {
    i64::from(so.spec.polling_interval_secs().max(1)) * 1000
}

/// The policy of one ScaledObject, from its annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct ProactiveSpec {
    pub model: Model,
    pub pod_startup_ms: i64,
    /// How far ahead the forecast looks: `[now, now + lead_ms]`.
    pub lead_ms: i64,
    pub history_ms: i64,
    /// `None`: no season (only the trend model can forecast).
    pub season_ms: Option<i64>,
    /// Safety margin as a fraction (0.1 = 10 %).
    pub margin: f64,
    /// The quantile of recent forecast errors added to the forecast.
    pub quantile: f64,
}

/// Why a trigger with `useCachedMetrics` runs without the policy: the HPA's reads then get KEDA's value cached
/// at the last poll, never a live one, so there is nothing for the forecast to replace.
pub const NOT_WITH_CACHED_METRICS: &str = "useCachedMetrics: the HPA reads KEDA's cached poll value, which the proactive policy does not change";

/// A bad `prescale.dev/` annotation: names the annotation and the value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("metadata.annotations[\"{annotation}\"]: {message}")]
pub struct AnnotationError {
    pub annotation: &'static str,
    pub message: String,
}

fn err(annotation: &'static str, message: String) -> AnnotationError {
    AnnotationError {
        annotation,
        message,
    }
}

fn duration(
    so: &ScaledObject,
    annotation: &'static str,
    min_ms: i64,
) -> Result<Option<i64>, AnnotationError> {
    let Some(raw) = so.metadata.annotations.get(annotation) else {
        return Ok(None);
    };
    let ms = parse_duration_ms(raw).map_err(|m| err(annotation, m))?;
    if ms < min_ms {
        return Err(err(
            annotation,
            format!(
                "{raw:?} is shorter than the minimum {}",
                format_human(min_ms)
            ),
        ));
    }
    Ok(Some(ms))
}

/// The ScaledObject's proactive policy: `Ok(None)` when it has not opted in (no `prescale.dev/forecast`, or
/// `off`); an error names the annotation and the value at fault. Other `prescale.dev/` annotations without
/// `prescale.dev/forecast` are ignored here (validation warns about them).
pub fn spec(so: &ScaledObject) -> Result<Option<ProactiveSpec>, AnnotationError> {
    let Some(raw) = so.metadata.annotations.get(ANNOTATION_FORECAST) else {
        return Ok(None);
    };
    let raw = raw.trim();
    if raw == "off" || raw == "none" || raw == "false" {
        return Ok(None);
    }
    let model = Model::parse(raw).ok_or_else(|| {
        err(
            ANNOTATION_FORECAST,
            format!(
                "unknown model {raw:?}; use one of auto, holt-winters, trend, seasonal-naive, or off"
            ),
        )
    })?;
    let pod_startup_ms = duration(so, ANNOTATION_POD_STARTUP, 0)?.unwrap_or(DEFAULT_POD_STARTUP_MS);
    let lead_ms =
        duration(so, ANNOTATION_LEAD, 1000)?.unwrap_or(pod_startup_ms + HPA_SYNC_PERIOD_MS);
    let season_ms = match so.metadata.annotations.get(ANNOTATION_SEASON) {
        Some(s) if s.trim() == "none" => None,
        Some(_) => duration(so, ANNOTATION_SEASON, 60_000)?,
        None => Some(DEFAULT_SEASON_MS),
    };
    if model.seasonal() && season_ms.is_none() {
        return Err(err(
            ANNOTATION_SEASON,
            format!("\"none\", but the {model} model needs a season (e.g. 1d)"),
        ));
    }
    let default_history = season_ms.map_or(DEFAULT_HISTORY_MS, |s| {
        DEFAULT_HISTORY_MS.max(2 * s + 86_400_000)
    });
    let history_ms = duration(so, ANNOTATION_HISTORY, 60_000)?.unwrap_or(default_history);
    if history_ms > MAX_HISTORY_MS {
        return Err(err(
            ANNOTATION_HISTORY,
            format!(
                "{} is longer than the maximum {}",
                format_human(history_ms),
                format_human(MAX_HISTORY_MS)
            ),
        ));
    }
    // Counted in polls, as the forecaster counts: a history of whole seasons may still be a poll short.
    let step = step_ms(so);
    let slots = Slots::new(model, step, history_ms, lead_ms, season_ms);
    if slots.history < slots.min_history() {
        let lead = format!(
            "the lead ({}, {} polls)",
            format_human(lead_ms),
            slots.horizon
        );
        let need = match (slots.period, season_ms) {
            (Some(p), Some(season)) => {
                format!(
                    "one season ({}, {p} polls) plus {lead}",
                    format_human(season)
                )
            }
            _ => lead,
        };
        return Err(err(
            ANNOTATION_HISTORY,
            format!(
                "{} holds {} polls of {} (pollingInterval), fewer than the {} the {model} model needs: {need}",
                format_human(history_ms),
                slots.history,
                format_human(step),
                slots.min_history(),
            ),
        ));
    }
    let margin = match so.metadata.annotations.get(ANNOTATION_MARGIN) {
        None => DEFAULT_MARGIN_PCT,
        Some(raw) => {
            let t = raw.trim();
            let t = t.strip_suffix('%').unwrap_or(t).trim();
            match t.parse::<f64>() {
                Ok(p) if p.is_finite() && (0.0..=1000.0).contains(&p) => p,
                _ => {
                    return Err(err(
                        ANNOTATION_MARGIN,
                        format!(
                            "{raw:?} is not a percentage between 0 and 1000 (e.g. \"10\" or \"10%\")"
                        ),
                    ));
                }
            }
        }
    } / 100.0;
    let quantile = match so.metadata.annotations.get(ANNOTATION_QUANTILE) {
        None => DEFAULT_QUANTILE,
        Some(raw) => match raw.trim().parse::<f64>() {
            Ok(q) if (0.5..=0.99).contains(&q) => q,
            _ => {
                return Err(err(
                    ANNOTATION_QUANTILE,
                    format!("{raw:?} is not a number between 0.5 and 0.99 (e.g. \"0.8\")"),
                ));
            }
        },
    };
    Ok(Some(ProactiveSpec {
        model,
        pod_startup_ms,
        lead_ms,
        history_ms,
        season_ms,
        margin,
        quantile,
    }))
}

/// A forecast a model produced: the highest value it expects over `[now, now + lead]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    pub peak: f64,
    /// The model that produced it (for `auto`, the one it chose).
    pub model: Model,
}

/// Which value the HPA acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Winner {
    /// The current metric value (as KEDA would serve it).
    Current,
    /// The forecast (with its margin).
    Forecast,
}

impl Winner {
    pub fn as_str(self) -> &'static str {
        match self {
            Winner::Current => "current",
            Winner::Forecast => "forecast",
        }
    }
}

/// One decision of the policy, for one trigger: the value served and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// What the HPA acts on: never below `current`.
    pub value: f64,
    pub current: f64,
    /// The forecast with its margin applied, when there is one.
    pub forecast: Option<f64>,
    pub model: Option<Model>,
    pub winner: Winner,
    /// One sentence: which value won and why, or why there is no forecast.
    pub reason: String,
}

impl Decision {
    /// Whether the policy is running without a forecast (reactive fallback).
    pub fn reactive(&self) -> bool {
        self.forecast.is_none()
    }
}

/// Short, stable decimal rendering (for reasons and `status.proactive`): at most 3 decimals, no trailing
/// zeros, never `-0`.
pub fn decimal(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The policy's decision: `max(current, (1 + margin) · forecast.peak)`, or `current` with the reason there is
/// no forecast (`forecast` is `Err(reason)`).
pub fn decide(spec: &ProactiveSpec, current: f64, forecast: Result<Forecast, String>) -> Decision {
    match forecast {
        Err(why) => Decision {
            value: current,
            current,
            forecast: None,
            model: None,
            winner: Winner::Current,
            reason: format!("reactive: {why}"),
        },
        Ok(f) if !(f.peak * (1.0 + spec.margin)).is_finite() => Decision {
            value: current,
            current,
            forecast: None,
            model: Some(f.model),
            winner: Winner::Current,
            reason: format!("reactive: the {} forecast is not a finite number", f.model),
        },
        Ok(f) => {
            let with_margin = (f.peak * (1.0 + spec.margin)).max(0.0);
            let lead = format_human(spec.lead_ms);
            if with_margin > current {
                Decision {
                    value: with_margin,
                    current,
                    forecast: Some(with_margin),
                    model: Some(f.model),
                    winner: Winner::Forecast,
                    reason: format!(
                        "{} forecast peak {} in the next {lead} (+{}% margin: {}) is above the current {}",
                        f.model,
                        decimal(f.peak),
                        decimal(spec.margin * 100.0),
                        decimal(with_margin),
                        decimal(current)
                    ),
                }
            } else {
                Decision {
                    value: current,
                    current,
                    forecast: Some(with_margin),
                    model: Some(f.model),
                    winner: Winner::Current,
                    reason: format!(
                        "current {} is at or above the {} forecast peak {} in the next {lead} (with margin {})",
                        decimal(current),
                        f.model,
                        decimal(f.peak),
                        decimal(with_margin)
                    ),
                }
            }
        }
    }
}

/// What the HPA will do with a value: its target and tolerance, and the replicas it scales from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HpaView {
    /// The metric's target as the HPA has it (milli-rounded): per pod for `AverageValue` (KEDA's default), in
    /// total for `Value`.
    pub threshold: f64,
    /// `true` for `AverageValue` targets, `false` for `Value`.
    pub average_value: bool,
    /// The HPA's current replica count (`spec.replicas` of the target).
    pub replicas: i32,
    /// The HPA controller's tolerance (`--horizontal-pod-autoscaler-tolerance`, 0.1 by default).
    pub tolerance: f64,
}

impl HpaView {
    /// The HPA's view of `target` (its threshold, milli-rounded as the HPA gets it, and its target type) at
    /// `replicas`, with the controller's `tolerance`.
    pub fn for_target(target: &TriggerTarget, replicas: i32, tolerance: f64) -> HpaView {
        HpaView {
            threshold: target.target_milli() as f64 / 1000.0,
            average_value: target.target_type == TargetType::AverageValue,
            replicas,
            tolerance,
        }
    }

    /// The value at which the HPA's usage ratio is exactly 1 (no change).
    fn neutral(&self) -> f64 {
        if self.average_value {
            self.threshold * f64::from(self.replicas)
        } else {
            self.threshold
        }
    }
}

/// [`decide`], then make sure the HPA acts on a winning forecast.
///
/// The HPA ignores a usage ratio within its tolerance (10 %): a forecast that needs one more pod than the
/// current count — ratio in (1, 1 + tolerance] — would change nothing, and on a slow ramp the workload would
/// stay short by up to 10 % until the current value itself crossed the tolerance. When the forecast wins and
/// needs more pods than the HPA has, the value served is raised to the smallest value the HPA acts on
/// (just above `1 + tolerance`), and the decision says so. The current value, a losing forecast and scale
/// down are never touched: the result is still never below `current`.
pub fn decide_for_hpa(
    spec: &ProactiveSpec,
    current: f64,
    forecast: Result<Forecast, String>,
    hpa: &HpaView,
) -> Decision {
    let mut d = decide(spec, current, forecast);
    if d.winner != Winner::Forecast
        || hpa.replicas < 1
        || hpa.threshold.is_nan()
        || hpa.threshold <= 0.0
    {
        return d;
    }
    let neutral = hpa.neutral();
    let ratio = d.value / neutral;
    if ratio > 1.0 && ratio <= 1.0 + hpa.tolerance {
        // Just above the tolerance, with room for the milli-unit rounding of the external metrics API.
        let raised = neutral * (1.0 + hpa.tolerance) * 1.001 + 0.001;
        d.reason = format!(
            "{}; raised to {} so the HPA acts (a ratio of {} is within its tolerance {})",
            d.reason,
            decimal(raised),
            decimal(ratio),
            decimal(hpa.tolerance)
        );
        d.value = raised;
        d.forecast = Some(raised);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ScaledObject;

    fn so(annotations: &[(&str, &str)]) -> ScaledObject {
        let mut so: ScaledObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": "x", "namespace": "ns"},
            "spec": {"scaleTargetRef": {"name": "web"}, "triggers": [
                {"type": "prometheus", "metadata": {"serverAddress": "http://p:9090", "query": "q", "threshold": "1"}}
            ]}
        }))
        .unwrap();
        for (k, v) in annotations {
            so.metadata
                .annotations
                .insert((*k).to_string(), (*v).to_string());
        }
        so
    }

    #[test]
    fn not_opted_in_is_none() {
        assert_eq!(spec(&so(&[])), Ok(None));
        assert_eq!(spec(&so(&[(ANNOTATION_FORECAST, "off")])), Ok(None));
        assert_eq!(spec(&so(&[(ANNOTATION_MARGIN, "5")])), Ok(None));
    }

    #[test]
    fn defaults() {
        let s = spec(&so(&[(ANNOTATION_FORECAST, "auto")]))
            .unwrap()
            .unwrap();
        assert_eq!(s.model, Model::Auto);
        assert_eq!(s.pod_startup_ms, 60_000);
        assert_eq!(s.lead_ms, 75_000);
        assert_eq!(s.season_ms, Some(86_400_000));
        assert_eq!(s.history_ms, 3 * 86_400_000);
        assert_eq!(s.margin, 0.0);
        assert_eq!(s.quantile, 0.8);
    }

    #[test]
    fn overrides() {
        let s = spec(&so(&[
            (ANNOTATION_FORECAST, "holt-winters"),
            (ANNOTATION_POD_STARTUP, "2m"),
            (ANNOTATION_SEASON, "7d"),
            (ANNOTATION_MARGIN, "25%"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(s.lead_ms, 135_000);
        assert_eq!(s.season_ms, Some(7 * 86_400_000));
        // Two weekly seasons + a day.
        assert_eq!(s.history_ms, 15 * 86_400_000);
        assert!((s.margin - 0.25).abs() < 1e-12);
        let s = spec(&so(&[
            (ANNOTATION_FORECAST, "trend"),
            (ANNOTATION_SEASON, "none"),
            (ANNOTATION_LEAD, "90s"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((s.season_ms, s.lead_ms), (None, 90_000));
    }

    #[test]
    fn errors_name_the_annotation_and_value() {
        let e = spec(&so(&[(ANNOTATION_FORECAST, "prophet")])).unwrap_err();
        assert_eq!(e.annotation, ANNOTATION_FORECAST);
        assert!(e.to_string().contains("\"prophet\""), "{e}");
        let e = spec(&so(&[
            (ANNOTATION_FORECAST, "auto"),
            (ANNOTATION_LEAD, "soon"),
        ]))
        .unwrap_err();
        assert_eq!(e.annotation, ANNOTATION_LEAD);
        assert!(e.to_string().contains("soon"), "{e}");
        let e = spec(&so(&[
            (ANNOTATION_FORECAST, "seasonal-naive"),
            (ANNOTATION_SEASON, "none"),
        ]))
        .unwrap_err();
        assert_eq!(e.annotation, ANNOTATION_SEASON);
        let e = spec(&so(&[
            (ANNOTATION_FORECAST, "holt-winters"),
            (ANNOTATION_HISTORY, "12h"),
        ]))
        .unwrap_err();
        assert_eq!(e.annotation, ANNOTATION_HISTORY);
        let e = spec(&so(&[
            (ANNOTATION_FORECAST, "auto"),
            (ANNOTATION_MARGIN, "-5"),
        ]))
        .unwrap_err();
        assert_eq!(e.annotation, ANNOTATION_MARGIN);
        let e = spec(&so(&[
            (ANNOTATION_FORECAST, "auto"),
            (ANNOTATION_HISTORY, "90d"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("maximum"), "{e}");
    }

    /// The history is counted in polls of the pollingInterval (30 s by default), as the forecaster counts it:
    /// `auto` with a 1-day season and a 75 s lead needs 2880 + 3 polls, so 86475 s (= 1 d + 75 s, but only
    /// 2882 whole polls) is too short and 86490 s is enough.
    #[test]
    fn history_is_counted_in_polls() {
        let with = |history: &str, poll: Option<i32>| {
            let mut so = so(&[(ANNOTATION_FORECAST, "auto"), (ANNOTATION_HISTORY, history)]);
            so.spec.polling_interval = poll;
            spec(&so)
        };
        let e = with("86475s", None).unwrap_err();
        assert_eq!(e.annotation, ANNOTATION_HISTORY);
        assert_eq!(
            e.message,
            "1d1m15s holds 2882 polls of 30s (pollingInterval), fewer than the 2883 the auto model needs: one \
             season (1d, 2880 polls) plus the lead (1m15s, 3 polls)"
        );
        assert_eq!(
            with("86490s", None).unwrap().unwrap().history_ms,
            86_490_000
        );
        // Every 15 s: 5765 polls, one season (5760) plus the lead (5).
        assert!(with("86475s", Some(15)).unwrap().is_some());
        assert!(with("86474s", Some(15)).is_err());
        let s = Slots::new(Model::Auto, 30_000, 86_475_000, 75_000, Some(86_400_000));
        assert_eq!((s.history, s.horizon, s.period), (2882, 3, Some(2880)));
        assert_eq!(s.min_history(), 2883);
    }

    /// The trend model uses no season: only the lead must fit in its history.
    #[test]
    fn trend_history_needs_only_the_lead() {
        let trend = |history: &str, lead: &str| {
            spec(&so(&[
                (ANNOTATION_FORECAST, "trend"),
                (ANNOTATION_HISTORY, history),
                (ANNOTATION_LEAD, lead),
            ]))
        };
        assert!(trend("1h", "75s").unwrap().is_some());
        assert!(trend("10m", "10m").unwrap().is_some());
        let e = trend("9m59s", "10m").unwrap_err();
        assert_eq!(
            e.to_string(),
            "metadata.annotations[\"prescale.dev/forecast-history\"]: 9m59s holds 19 polls of 30s (pollingInterval), \
             fewer than the 20 the trend model needs: the lead (10m, 20 polls)"
        );
    }

    #[test]
    fn decision_is_never_below_current() {
        let s = spec(&so(&[
            (ANNOTATION_FORECAST, "trend"),
            (ANNOTATION_MARGIN, "10"),
        ]))
        .unwrap()
        .unwrap();
        let up = decide(
            &s,
            10.0,
            Ok(Forecast {
                peak: 20.0,
                model: Model::Trend,
            }),
        );
        assert_eq!(up.winner, Winner::Forecast);
        assert!((up.value - 22.0).abs() < 1e-9);
        assert!(
            up.reason.contains("trend forecast peak 20"),
            "{}",
            up.reason
        );
        let down = decide(
            &s,
            10.0,
            Ok(Forecast {
                peak: 3.0,
                model: Model::Trend,
            }),
        );
        assert_eq!((down.winner, down.value), (Winner::Current, 10.0));
        let none = decide(&s, 7.0, Err("too little history".into()));
        assert!(none.reactive());
        assert_eq!(none.value, 7.0);
        assert_eq!(none.reason, "reactive: too little history");
        // Within the HPA's tolerance: 10 pods at threshold 10, forecast 104 (ratio 1.04) → raised past 1.1.
        let hpa = HpaView {
            threshold: 10.0,
            average_value: true,
            replicas: 10,
            tolerance: 0.1,
        };
        let f = |peak| {
            Ok(Forecast {
                peak,
                model: Model::Trend,
            })
        };
        let s0 = ProactiveSpec {
            margin: 0.0,
            ..s.clone()
        };
        let raised = decide_for_hpa(&s0, 100.0, f(104.0), &hpa);
        assert!(raised.value > 110.0 && raised.value < 110.2, "{raised:?}");
        assert!(
            raised.reason.contains("so the HPA acts"),
            "{}",
            raised.reason
        );
        // Beyond the tolerance, or losing, or no more pods needed: untouched.
        assert_eq!(decide_for_hpa(&s0, 100.0, f(130.0), &hpa).value, 130.0);
        assert_eq!(decide_for_hpa(&s0, 100.0, f(90.0), &hpa).value, 100.0);
        assert_eq!(decide_for_hpa(&s0, 80.0, f(95.0), &hpa).value, 95.0);
        // A Value target: the neutral value is the threshold itself.
        let value = HpaView {
            average_value: false,
            threshold: 50.0,
            ..hpa
        };
        assert!(decide_for_hpa(&s0, 40.0, f(52.0), &value).value > 55.0);
        let huge = decide(&s, 3.0, f(f64::MAX));
        assert_eq!((huge.value, huge.winner), (3.0, Winner::Current));
        assert!(huge.reactive() && huge.reason.contains("not a finite number"));
        let negative = decide(
            &s,
            0.0,
            Ok(Forecast {
                peak: -5.0,
                model: Model::Trend,
            }),
        );
        assert_eq!(negative.value, 0.0);
    }
}
