//! Online forecasting for prescale's proactive policy (`prescale_core::proactive`).
//!
//! A [`Forecaster`] takes one observation per poll (`observe`) and answers, at any time, the highest value it
//! expects over the next `lead` ([`Forecaster::forecast`]) — or why it cannot ([`Unavailable`]): too little
//! history, a gap, stale data, a level shift, or a model still calibrating. The policy then serves
//! `max(current, forecast)`, so a missing forecast means "reactive", never "zero".
//!
//! How it works:
//! - Observations fall into slots of `step` (the polling interval); a second observation in one slot raises
//!   the slot to the higher value; missing slots are gaps. The raw history is a ring bounded by the configured
//!   history ([`history::History`]).
//! - Each model ([`models`]) is updated per slot and predicts the next `H = ceil(lead / step)` slots; the
//!   highest of those is its *point* peak.
//! - Every point peak is scored out of sample once its `H` slots have been observed: the residual
//!   `realised − predicted` feeds an exponentially weighted mean absolute error and an online estimate of a
//!   quantile of the residuals (`prescale.dev/forecast-quantile`, default 0.8). The forecast served is
//!   `point + max(0, q)`: an upper bound that holds that often on recent data, whatever the model's bias.
//! - `auto` runs all three models and serves the one with the lowest recent mean absolute error.
//! - A level shift (a run of residuals far outside the model's recent error, all of one sign) makes that model
//!   unavailable until it tracks again; Holt-Winters and trend re-level at once, seasonal-naive waits.
#![forbid(unsafe_code)]

pub mod history;
pub mod models;

use std::collections::VecDeque;
use std::fmt;

use prescale_core::duration::format_human;
use prescale_core::proactive::{Forecast, Model, ProactiveSpec, Slots};

use history::History;
use models::{HoltWinters, NotReady, Predictor, SeasonalNaive, Trend};

/// The damped-trend variants `(alpha, beta)`, slow to fast.
pub const TREND_VARIANTS: [(f64, f64); 3] = [(0.1, 0.02), (0.3, 0.1), (0.6, 0.2)];
/// The Holt-Winters level smoothing variants, slow to fast.
pub const HOLT_WINTERS_ALPHAS: [f64; 3] = [0.05, 0.2, 0.5];
/// Forecasts a model must have had scored before it is served.
pub const MIN_SCORED: u32 = 30;
/// A level shift: this many consecutive scored residuals beyond [`SHIFT_SIGMAS`] × the recent mean absolute
/// error, all of one sign.
pub const SHIFT_RUN: u32 = 8;
pub const SHIFT_SIGMAS: f64 = 4.0;
/// An observation older than this many steps makes the forecast stale.
pub const STALE_STEPS: i64 = 3;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("forecast step must be at least 1 ms, got {0} ms")]
    Step(i64),
    #[error("forecast lead must be positive, got {0} ms")]
    Lead(i64),
    #[error(
        "forecast history {history} holds {slots} slots of {step}; it must hold at least {min} (the model's season, if it uses one, plus the lead)"
    )]
    History {
        history: String,
        step: String,
        slots: i64,
        min: i64,
    },
    #[error("the {0} model needs a season")]
    NoSeason(Model),
    #[error("forecast quantile must be between 0.5 and 0.99, got {0}")]
    Quantile(f64),
}

/// What a forecaster is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub model: Model,
    /// Slot width: the polling interval.
    pub step_ms: i64,
    pub season_ms: Option<i64>,
    pub history_ms: i64,
    pub lead_ms: i64,
    /// The quantile of recent residuals added to the point forecast (0.5 ..= 0.99).
    pub quantile: f64,
}

impl Config {
    pub fn from_spec(spec: &ProactiveSpec, step_ms: i64) -> Config {
        Config {
            model: spec.model,
            step_ms,
            season_ms: spec.season_ms,
            history_ms: spec.history_ms,
            lead_ms: spec.lead_ms,
            quantile: spec.quantile,
        }
    }
}

/// Why there is no forecast right now. `Display` is the sentence decisions carry.
#[derive(Debug, Clone, PartialEq)]
pub enum Unavailable {
    /// Not one observation yet.
    NoData,
    /// The model needs more history.
    TooLittleHistory {
        model: Model,
        have_ms: i64,
        need_ms: i64,
    },
    /// The last observation is too old.
    Stale { last_ms: i64, now_ms: i64 },
    /// The values the model would read are all gaps (failed queries).
    Gap { model: Model },
    /// Too few of its forecasts have been checked against what happened.
    Calibrating { model: Model, scored: u32 },
    /// Its recent forecasts missed far and one-sidedly: the series moved to a new level.
    LevelShift { model: Model, at_ms: i64 },
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::NoData => write!(f, "no observations yet"),
            Unavailable::TooLittleHistory {
                model,
                have_ms,
                need_ms,
            } => write!(
                f,
                "too little history for {model}: {} of the {} it needs",
                format_human(*have_ms),
                format_human(*need_ms)
            ),
            Unavailable::Stale { last_ms, now_ms } => write!(
                f,
                "the last observation is {} old",
                format_human((now_ms - last_ms).max(0))
            ),
            Unavailable::Gap { model } => {
                write!(f, "{model} would read only failed queries (a gap)")
            }
            Unavailable::Calibrating { model, scored } => write!(
                f,
                "{model} is calibrating: {scored} of {MIN_SCORED} forecasts checked"
            ),
            Unavailable::LevelShift { model, at_ms } => write!(
                f,
                "level shift at t={}s: {model}'s last {SHIFT_RUN} forecasts missed by more than {SHIFT_SIGMAS}× its recent error",
                at_ms / 1000
            ),
        }
    }
}

/// A served forecast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The highest point prediction over the lead.
    pub point: f64,
    /// `point` plus the configured quantile of recent residuals: what the policy acts on.
    pub upper: f64,
    pub model: Model,
}

impl Prediction {
    /// As the engine's policy takes it.
    pub fn to_forecast(self) -> Forecast {
        Forecast {
            peak: self.upper,
            model: self.model,
        }
    }
}

/// Out-of-sample accuracy of one model.
#[derive(Debug, Clone, Default)]
struct Calibration {
    scored: u32,
    /// Exponentially weighted mean absolute residual.
    mae: f64,
    /// Online estimate of the configured quantile of the residuals.
    q: f64,
    /// Signed run of out-of-band residuals (+ above, − below).
    run: i32,
    run_sum: f64,
}

#[derive(Debug)]
struct Member {
    model: Model,
    predictor: Box<dyn Predictor>,
    cal: Calibration,
    /// Point peaks not scored yet: (slot made at, peak).
    pending: VecDeque<(i64, f64)>,
    /// The latest prediction, made at the last observed slot.
    latest: Result<f64, NotReady>,
    /// Set on a level shift until the model tracks again.
    shifted: Option<i64>,
    in_band: u32,
}

/// One trigger's forecaster.
#[derive(Debug)]
pub struct Forecaster {
    cfg: Config,
    horizon: usize,
    hist: History,
    members: Vec<Member>,
    /// Slot and time of the last observation.
    last: Option<(i64, i64)>,
    /// Scratch for predictions.
    buf: Vec<f64>,
    /// EW smoothing of the calibration, from the history length.
    ew: f64,
}

impl Forecaster {
    pub fn new(cfg: Config) -> Result<Forecaster, Error> {
        if cfg.step_ms < 1 {
            return Err(Error::Step(cfg.step_ms));
        }
        if cfg.lead_ms < 1 {
            return Err(Error::Lead(cfg.lead_ms));
        }
        if !(0.5..=0.99).contains(&cfg.quantile) {
            return Err(Error::Quantile(cfg.quantile));
        }
        // The same arithmetic `proactive::spec` checks the history with, so a valid policy always runs.
        let s = Slots::new(
            cfg.model,
            cfg.step_ms,
            cfg.history_ms,
            cfg.lead_ms,
            cfg.season_ms,
        );
        let (slots, horizon, period, min) = (s.history, s.horizon, s.period, s.min_history());
        if slots < min {
            return Err(Error::History {
                history: format_human(cfg.history_ms),
                step: format_human(cfg.step_ms),
                slots,
                min,
            });
        }
        let models: Vec<Model> = match cfg.model {
            Model::Auto if period.is_some() => {
                vec![Model::HoltWinters, Model::Trend, Model::SeasonalNaive]
            }
            Model::Auto => vec![Model::Trend],
            m => vec![m],
        };
        let mut members = Vec::new();
        for model in models {
            // Smoothing is chosen online: each model runs as a few variants from slow to fast, and the one with
            // the lowest recent error serves (as `auto` chooses between models). Slow variants suit noisy,
            // steady traffic (a smooth forecast costs fewer pods); fast ones follow ramps and flash crowds.
            let variants: Vec<Box<dyn Predictor>> = match (model, period) {
                (Model::Trend, _) => TREND_VARIANTS
                    .iter()
                    .map(|&(a, b)| Box::new(Trend::with(a, b)) as Box<dyn Predictor>)
                    .collect(),
                (Model::HoltWinters, Some(p)) => HOLT_WINTERS_ALPHAS
                    .iter()
                    .map(|&a| Box::new(HoltWinters::with(p as usize, a)) as Box<dyn Predictor>)
                    .collect(),
                (Model::SeasonalNaive, Some(p)) => vec![Box::new(SeasonalNaive::new(p as usize))],
                (m, _) => return Err(Error::NoSeason(m)),
            };
            for predictor in variants {
                members.push(Member {
                    model,
                    predictor,
                    cal: Calibration::default(),
                    pending: VecDeque::new(),
                    latest: Err(NotReady::History { have: 0, need: 1 }),
                    shifted: None,
                    in_band: 0,
                });
            }
        }
        // The calibration remembers about a day of forecasts (or the history, if shorter).
        let window = (86_400_000 / cfg.step_ms).min(slots).max(10) as f64;
        Ok(Forecaster {
            horizon: horizon as usize,
            hist: History::new(slots as usize),
            members,
            last: None,
            buf: vec![0.0; horizon as usize],
            ew: 2.0 / (window + 1.0),
            cfg,
        })
    }

    /// One observation at `t_ms` (`None`: the query failed). Times must not go backwards; an observation
    /// older than the last one is ignored.
    pub fn observe(&mut self, t_ms: i64, value: Option<f64>) {
        let k = t_ms.div_euclid(self.cfg.step_ms);
        let value = value.filter(|v| v.is_finite());
        match self.last {
            Some((last_k, _)) if k < last_k => return,
            Some((last_k, _)) if k == last_k => {
                if let Some(v) = value {
                    self.hist.raise(k, v);
                }
                self.last = Some((k, t_ms));
                return;
            }
            Some((last_k, _)) => {
                let missing = k - last_k - 1;
                if missing >= self.hist.capacity() as i64 {
                    // A gap longer than the history: nothing remembered is still useful.
                    self.reset();
                } else {
                    for g in last_k + 1..k {
                        self.step(g, None);
                    }
                }
            }
            None => {}
        }
        self.step(k, value);
        self.last = Some((k, t_ms));
    }

    /// Forget everything: a forecaster as `new` made it (the configuration was valid then, so it still is).
    fn reset(&mut self) {
        if let Ok(fresh) = Forecaster::new(self.cfg.clone()) {
            *self = fresh;
        }
    }

    fn step(&mut self, k: i64, y: Option<f64>) {
        self.hist.push(k, y);
        let h = self.horizon as i64;
        let ew = self.ew;
        // The window that completes at `k`, [k+1-h, k], is the one every member scores (one forecast each,
        // made at k-h): its maximum is read once per step, not once per member.
        let mut window: Option<Option<f64>> = None;
        for m in &mut self.members {
            // Score the forecasts whose window [j+1, j+h] is now complete.
            while let Some(&(j, peak)) = m.pending.front() {
                if j + h > k {
                    break;
                }
                m.pending.pop_front();
                let real = if j + h == k {
                    *window.get_or_insert_with(|| self.hist.max(k + 1 - h, k))
                } else {
                    self.hist.max(j + 1, j + h)
                };
                if let Some(real) = real {
                    score(m, real - peak, ew, self.cfg.quantile, k, self.cfg.step_ms);
                }
            }
            m.predictor.update(k, y, &self.hist);
            m.latest = m
                .predictor
                .predict(k, &self.hist, &mut self.buf)
                .and_then(|()| {
                    self.buf
                        .iter()
                        .copied()
                        .filter(|v| v.is_finite())
                        .reduce(f64::max)
                        .ok_or(NotReady::Gap)
                });
            if let Ok(peak) = m.latest {
                m.pending.push_back((k, peak));
            }
        }
    }

    /// The highest value expected over `[now, now + lead]`, or why there is none.
    pub fn forecast(&self, now_ms: i64) -> Result<Prediction, Unavailable> {
        let Some((_, last_t)) = self.last else {
            return Err(Unavailable::NoData);
        };
        if now_ms - last_t > STALE_STEPS * self.cfg.step_ms {
            return Err(Unavailable::Stale {
                last_ms: last_t,
                now_ms,
            });
        }
        let mut best: Option<(f64, Prediction)> = None;
        let mut why: Option<Unavailable> = None;
        for m in &self.members {
            match self.member_prediction(m) {
                Ok(p) => {
                    if best.as_ref().is_none_or(|(mae, _)| m.cal.mae < *mae) {
                        best = Some((m.cal.mae, p));
                    }
                }
                Err(e) => {
                    // With several models, report the reason of the first (the preferred) one.
                    why.get_or_insert(e);
                }
            }
        }
        match best {
            Some((_, p)) => Ok(p),
            None => Err(why.unwrap_or(Unavailable::NoData)),
        }
    }

    fn member_prediction(&self, m: &Member) -> Result<Prediction, Unavailable> {
        if let Some(at) = m.shifted {
            return Err(Unavailable::LevelShift {
                model: m.model,
                at_ms: at,
            });
        }
        let point = match &m.latest {
            Ok(p) => *p,
            Err(NotReady::Gap) => return Err(Unavailable::Gap { model: m.model }),
            Err(NotReady::History { have, need }) => {
                let step = self.cfg.step_ms;
                return Err(Unavailable::TooLittleHistory {
                    model: m.model,
                    have_ms: (*have as i64) * step,
                    need_ms: (*need as i64) * step,
                });
            }
        };
        if m.cal.scored < MIN_SCORED {
            return Err(Unavailable::Calibrating {
                model: m.model,
                scored: m.cal.scored,
            });
        }
        Ok(Prediction {
            point,
            upper: point + m.cal.q.max(0.0),
            model: m.model,
        })
    }

    /// Bytes held: the history ring, model state and pending forecasts.
    pub fn memory_bytes(&self) -> usize {
        self.hist.memory_bytes()
            + self
                .members
                .iter()
                .map(|m| m.predictor.memory_bytes() + m.pending.capacity() * 16)
                .sum::<usize>()
    }
}

/// Feed one out-of-sample residual `r = realised − predicted` into a model's calibration.
fn score(m: &mut Member, r: f64, ew: f64, quantile: f64, k: i64, step_ms: i64) {
    let c = &mut m.cal;
    let scale = c.mae;
    c.scored = c.scored.saturating_add(1);
    if c.scored == 1 {
        c.mae = r.abs();
        c.q = r.max(0.0);
    } else {
        c.mae += ew * (r.abs() - c.mae);
        // Stochastic-approximation quantile: up by τ·η when r is above q, down by (1−τ)·η otherwise, so it
        // settles where a fraction τ of residuals fall at or below it; η scales with the recent error.
        let eta = 0.05 * c.mae;
        c.q += eta * (quantile - if r <= c.q { 1.0 } else { 0.0 });
    }
    // Level shifts, judged against the error before this residual.
    let band = SHIFT_SIGMAS * scale;
    if c.scored > MIN_SCORED && scale > 0.0 && r.abs() > band {
        let sign = if r > 0.0 { 1 } else { -1 };
        if c.run.signum() == sign {
            c.run += sign;
            c.run_sum += r;
        } else {
            c.run = sign;
            c.run_sum = r;
        }
        m.in_band = 0;
        if c.run.unsigned_abs() >= SHIFT_RUN && m.shifted.is_none() {
            let delta = c.run_sum / f64::from(c.run.unsigned_abs());
            let at = k * step_ms;
            // Holt-Winters and trend move to the new level at once (their pending forecasts were made at the old
            // one); every model stays unavailable until SHIFT_RUN forecasts in a row fall within its band again.
            if m.predictor.relevel(delta) {
                m.pending.clear();
            }
            m.shifted = Some(at);
            c.run = 0;
            c.run_sum = 0.0;
        }
    } else {
        c.run = 0;
        c.run_sum = 0.0;
        m.in_band += 1;
        if m.in_band >= SHIFT_RUN {
            m.shifted = None;
        }
    }
}

#[cfg(test)]
mod tests;
