//! The three forecasting models, each updated online, one slot at a time.
//!
//! A model sees slot `k`'s value (or a gap) through [`Predictor::update`] and then predicts slots
//! `k+1 ..= k+h` through [`Predictor::predict`]. It keeps O(season) state at most; the raw history is shared
//! ([`History`]).

use crate::history::History;

/// Why a model cannot predict right now.
#[derive(Debug, Clone, PartialEq)]
pub enum NotReady {
    /// It needs `need` slots of history and has `have`.
    History { have: usize, need: usize },
    /// The values it would read are all gaps.
    Gap,
}

pub trait Predictor: std::fmt::Debug + Send {
    /// Slot `k` was observed (`None`: a gap). `hist` already holds slot `k`.
    fn update(&mut self, k: i64, y: Option<f64>, hist: &History);
    /// Predictions for slots `k+1 ..= k+out.len()`, where `k` is the last slot updated.
    fn predict(&self, k: i64, hist: &History, out: &mut [f64]) -> Result<(), NotReady>;
    /// Shift the model's level by `delta` after a detected level shift; false if the model cannot.
    fn relevel(&mut self, delta: f64) -> bool;
    /// Bytes of model state.
    fn memory_bytes(&self) -> usize;
}

/// The value one season ago: `ŷ(k+h) = y(k+h−P)`.
#[derive(Debug, Clone)]
pub struct SeasonalNaive {
    period: i64,
}

impl SeasonalNaive {
    pub fn new(period_slots: usize) -> SeasonalNaive {
        SeasonalNaive {
            period: period_slots.max(1) as i64,
        }
    }
}

impl Predictor for SeasonalNaive {
    fn update(&mut self, _k: i64, _y: Option<f64>, _hist: &History) {}

    fn predict(&self, k: i64, hist: &History, out: &mut [f64]) -> Result<(), NotReady> {
        let need = self.period as usize;
        if hist.len() < need {
            return Err(NotReady::History {
                have: hist.len(),
                need,
            });
        }
        let mut any = false;
        for (i, o) in out.iter_mut().enumerate() {
            let past = k + 1 + i as i64 - self.period;
            // A gap one season ago predicts nothing for that slot (NaN, dropped from the peak); only when every
            // slot of the window was a gap is there no forecast.
            *o = match hist.get(past) {
                Some(v) => {
                    any = true;
                    v
                }
                None => f64::NAN,
            };
        }
        if !any {
            return Err(NotReady::Gap);
        }
        Ok(())
    }

    fn relevel(&mut self, _delta: f64) -> bool {
        false
    }

    fn memory_bytes(&self) -> usize {
        0
    }
}

/// Holt's linear method with a damped trend: `ŷ(k+h) = L + (φ + … + φ^h)·T`.
#[derive(Debug, Clone)]
pub struct Trend {
    alpha: f64,
    beta: f64,
    phi: f64,
    level: f64,
    trend: f64,
    /// Consecutive observed slots since the last reset.
    seen: usize,
    /// Consecutive gap slots.
    gap: usize,
}

impl Trend {
    /// Observations needed before it predicts.
    pub const WARMUP: usize = 4;
    /// A gap longer than this many slots resets it.
    pub const MAX_GAP: usize = 4;

    pub fn new() -> Trend {
        Trend::with(0.5, 0.2)
    }

    /// Level smoothing `alpha` and trend smoothing `beta`, both in (0, 1].
    pub fn with(alpha: f64, beta: f64) -> Trend {
        Trend {
            alpha,
            beta,
            phi: 0.9,
            level: 0.0,
            trend: 0.0,
            seen: 0,
            gap: 0,
        }
    }
}

impl Default for Trend {
    fn default() -> Self {
        Trend::new()
    }
}

impl Predictor for Trend {
    fn update(&mut self, _k: i64, y: Option<f64>, _hist: &History) {
        let Some(y) = y else {
            self.gap += 1;
            if self.gap > Self::MAX_GAP {
                self.seen = 0;
            }
            // Through a short gap the damped trend carries the level on.
            self.level += self.phi * self.trend;
            self.trend *= self.phi;
            return;
        };
        self.gap = 0;
        if self.seen == 0 {
            self.level = y;
            self.trend = 0.0;
        } else {
            let prev = self.level;
            self.level = self.alpha * y + (1.0 - self.alpha) * (prev + self.phi * self.trend);
            self.trend =
                self.beta * (self.level - prev) + (1.0 - self.beta) * self.phi * self.trend;
        }
        self.seen += 1;
    }

    fn predict(&self, _k: i64, _hist: &History, out: &mut [f64]) -> Result<(), NotReady> {
        if self.seen < Self::WARMUP {
            return Err(NotReady::History {
                have: self.seen,
                need: Self::WARMUP,
            });
        }
        let mut damp = 0.0;
        let mut p = 1.0;
        for o in out.iter_mut() {
            p *= self.phi;
            damp += p;
            *o = self.level + damp * self.trend;
        }
        Ok(())
    }

    fn relevel(&mut self, delta: f64) -> bool {
        self.level += delta;
        true
    }

    fn memory_bytes(&self) -> usize {
        0
    }
}

/// Additive Holt-Winters with a damped trend and one season of `P` slots:
/// `ŷ(k+h) = L + (φ + … + φ^h)·T + S[(k+h) mod P]`.
///
/// Initialised from the first full season in the history (level = its mean, seasonal = deviations from it,
/// trend 0); then updated at every slot. Through a gap the level follows the trend and the season is kept.
#[derive(Debug, Clone)]
pub struct HoltWinters {
    period: usize,
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
    level: f64,
    trend: f64,
    season: Vec<f64>,
    ready: bool,
    /// The last failed start: its slot, the observed slots of its season, and [`History::filled_gaps`] then.
    failed: Option<(i64, usize, u64)>,
}

impl HoltWinters {
    pub fn new(period_slots: usize) -> HoltWinters {
        HoltWinters::with(period_slots, 0.3)
    }

    /// Level smoothing `alpha` in (0, 1].
    pub fn with(period_slots: usize, alpha: f64) -> HoltWinters {
        HoltWinters {
            period: period_slots.max(2),
            alpha,
            beta: 0.02,
            gamma: 0.2,
            phi: 0.95,
            level: 0.0,
            trend: 0.0,
            season: Vec::new(),
            ready: false,
            failed: None,
        }
    }

    fn slot(&self, k: i64) -> usize {
        k.rem_euclid(self.period as i64) as usize
    }

    /// Whether a start at `k` is certain to fail as the last one did: since then, the season's observed slots
    /// grew by at most one per slot and one per gap filled, and that is still short of half the season.
    fn bound_to_fail(&self, k: i64, hist: &History) -> bool {
        let Some((at, observed, filled)) = self.failed else {
            return false;
        };
        if k <= at {
            return false;
        }
        let most = (observed as u64)
            .saturating_add((k - at) as u64)
            .saturating_add(hist.filled_gaps().saturating_sub(filled));
        most.saturating_mul(2) < self.period as u64
    }

    fn initialise(&mut self, k: i64, hist: &History) -> bool {
        let from = k + 1 - self.period as i64;
        let observed = || (from..=k).filter_map(|j| hist.get(j).map(|v| (j, v)));
        let n = observed().count();
        // At least half the season observed, or the seasonal shape is mostly guesswork.
        if n * 2 < self.period {
            self.failed = Some((k, n, hist.filled_gaps()));
            return false;
        }
        let mean = observed().map(|(_, v)| v).sum::<f64>() / n as f64;
        self.season = vec![0.0; self.period];
        for (j, v) in observed() {
            let s = self.slot(j);
            self.season[s] = v - mean;
        }
        self.level = mean;
        self.trend = 0.0;
        self.ready = true;
        self.failed = None;
        true
    }
}

impl Predictor for HoltWinters {
    fn update(&mut self, k: i64, y: Option<f64>, hist: &History) {
        if !self.ready {
            // Not retried (reading a whole season) while it cannot succeed yet.
            if hist.len() >= self.period && !self.bound_to_fail(k, hist) {
                self.initialise(k, hist);
            }
            return;
        }
        let s = self.slot(k);
        let Some(y) = y else {
            self.level += self.phi * self.trend;
            self.trend *= self.phi;
            return;
        };
        let prev = self.level;
        let season = self.season[s];
        self.level =
            self.alpha * (y - season) + (1.0 - self.alpha) * (prev + self.phi * self.trend);
        self.trend = self.beta * (self.level - prev) + (1.0 - self.beta) * self.phi * self.trend;
        self.season[s] = self.gamma * (y - self.level) + (1.0 - self.gamma) * season;
    }

    fn predict(&self, k: i64, hist: &History, out: &mut [f64]) -> Result<(), NotReady> {
        if !self.ready {
            // With a season of history but no start, the last season was mostly gaps.
            return Err(if hist.len() >= self.period {
                NotReady::Gap
            } else {
                NotReady::History {
                    have: hist.len(),
                    need: self.period,
                }
            });
        }
        let mut damp = 0.0;
        let mut p = 1.0;
        for (i, o) in out.iter_mut().enumerate() {
            p *= self.phi;
            damp += p;
            *o = self.level + damp * self.trend + self.season[self.slot(k + 1 + i as i64)];
        }
        Ok(())
    }

    fn relevel(&mut self, delta: f64) -> bool {
        if self.ready {
            self.level += delta;
        }
        self.ready
    }

    fn memory_bytes(&self) -> usize {
        self.season.capacity() * std::mem::size_of::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(p: &mut dyn Predictor, hist: &mut History, ys: &[Option<f64>]) -> i64 {
        let start = hist.end().unwrap_or(0);
        for (i, y) in ys.iter().enumerate() {
            let k = start + i as i64;
            hist.push(k, *y);
            p.update(k, *y, hist);
        }
        start + ys.len() as i64 - 1
    }

    #[test]
    fn seasonal_naive_repeats_the_last_season() {
        let mut h = History::new(100);
        let mut m = SeasonalNaive::new(4);
        let mut out = [0.0; 3];
        assert_eq!(
            m.predict(0, &h, &mut out),
            Err(NotReady::History { have: 0, need: 4 })
        );
        let k = feed(&mut m, &mut h, &[1., 2., 3., 4., 1.5].map(Some));
        m.predict(k, &h, &mut out).unwrap();
        assert_eq!(out, [2., 3., 4.]);
    }

    #[test]
    fn trend_extrapolates_a_ramp_and_damps() {
        let mut h = History::new(100);
        let mut m = Trend::new();
        let ys: Vec<Option<f64>> = (0..40).map(|i| Some(10.0 + 2.0 * i as f64)).collect();
        let k = feed(&mut m, &mut h, &ys);
        let mut out = [0.0; 3];
        m.predict(k, &h, &mut out).unwrap();
        // Last value 88; the next ones are about 90, 92, 94 (less, for the damping).
        assert!(out[0] > 88.5 && out[0] < 90.5, "{out:?}");
        assert!(out[2] > out[1] && out[1] > out[0], "{out:?}");
        assert!(out[2] < 94.0, "{out:?}");
    }

    #[test]
    fn trend_resets_after_a_long_gap() {
        let mut h = History::new(100);
        let mut m = Trend::new();
        let mut ys = vec![Some(5.0); 10];
        ys.extend(vec![None; Trend::MAX_GAP + 1]);
        let k = feed(&mut m, &mut h, &ys);
        let mut out = [0.0; 2];
        assert!(matches!(
            m.predict(k, &h, &mut out),
            Err(NotReady::History { .. })
        ));
    }

    #[test]
    fn holt_winters_learns_a_season() {
        let period = 24;
        let mut h = History::new(1000);
        let mut m = HoltWinters::new(period);
        let wave = |i: usize| {
            100.0 + 50.0 * ((i % period) as f64 / period as f64 * std::f64::consts::TAU).sin()
        };
        let ys: Vec<Option<f64>> = (0..period * 10).map(|i| Some(wave(i))).collect();
        let k = feed(&mut m, &mut h, &ys);
        let mut out = [0.0; 6];
        m.predict(k, &h, &mut out).unwrap();
        for (i, o) in out.iter().enumerate() {
            let want = wave(period * 10 + i);
            assert!((o - want).abs() < 3.0, "h={} got {o} want {want}", i + 1);
        }
    }

    #[test]
    fn holt_winters_needs_a_season_first() {
        let mut h = History::new(1000);
        let mut m = HoltWinters::new(10);
        let k = feed(&mut m, &mut h, &[Some(1.0); 9]);
        let mut out = [0.0; 2];
        assert_eq!(
            m.predict(k, &h, &mut out),
            Err(NotReady::History { have: 9, need: 10 })
        );
        let k = feed(&mut m, &mut h, &[Some(1.0)]);
        m.predict(k, &h, &mut out).unwrap();
        assert!((out[0] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn holt_winters_with_a_season_of_mostly_gaps_reports_the_gap() {
        let mut h = History::new(1000);
        let mut m = HoltWinters::new(10);
        let mut ys = vec![Some(1.0); 4];
        ys.extend([None; 6]);
        let k = feed(&mut m, &mut h, &ys);
        let mut out = [0.0; 2];
        assert_eq!(m.predict(k, &h, &mut out), Err(NotReady::Gap));
    }

    /// A Holt-Winters model whose first season was mostly gaps starts at the first slot whose season is half
    /// observed, as if it retried at every slot: after 10 gaps (period 10), values from slot 10 give 5
    /// observed slots at slot 14, and not before.
    #[test]
    fn holt_winters_starts_at_the_first_half_observed_season() {
        let mut h = History::new(20);
        let mut m = HoltWinters::new(10);
        let mut out = [0.0; 1];
        let mut k = feed(&mut m, &mut h, &[None; 10]);
        for v in 1..=5 {
            assert_eq!(m.predict(k, &h, &mut out), Err(NotReady::Gap), "slot {k}");
            k = feed(&mut m, &mut h, &[Some(f64::from(v))]);
        }
        assert_eq!(k, 14);
        m.predict(k, &h, &mut out).unwrap();
        // Level: the mean of 1..=5; the season of slot 15 (a gap) is 0.
        assert!((out[0] - 3.0).abs() < 1e-9, "{out:?}");
    }

    /// Gaps filled after a failed start (a second observation in the slot, `History::raise`) count at the
    /// next slot: four filled gaps and one new value are half of a season of 10.
    #[test]
    fn holt_winters_counts_gaps_filled_since_its_last_try() {
        let mut h = History::new(20);
        let mut m = HoltWinters::new(10);
        let mut out = [0.0; 1];
        let k = feed(&mut m, &mut h, &[None; 10]);
        assert_eq!(m.predict(k, &h, &mut out), Err(NotReady::Gap));
        for j in 6..=9 {
            h.raise(j, 2.0);
        }
        assert_eq!(h.filled_gaps(), 4);
        let k = feed(&mut m, &mut h, &[Some(2.0)]);
        assert_eq!(k, 10);
        m.predict(k, &h, &mut out).unwrap();
        assert!((out[0] - 2.0).abs() < 1e-9, "{out:?}");
    }
}
