//! Scaling-quality scores (`../shared/reference/scoring.md` §2, §5): the SPEC RG elasticity metrics with
//! demand d_t = ceil(load_t / capacityPerPod) and supply s_t = ready pods.
//!
//! Sampling: every second of the run, t = 0, 1, …, T−1 s, each sample standing for the second that follows
//! (scoring.md §5 "sampled at 1 s"); Δt = 1 s. Conventions where the formulas leave a gap:
//! - where d_t = 0 the relative terms divide by max(d_t, 1), so idle periods with pods count as
//!   over-provisioning relative to one pod instead of dividing by zero;
//! - while the load series is in an `error` period, the load holds its last numeric value (the traffic did not
//!   stop because the query failed).

use serde::Serialize;

use crate::series::{Sample, Series};

/// A step function given by its change points `(t_ms, value)`, sorted by time, starting at t = 0.
pub type Steps = [(i64, i32)];

/// The scores of one run. Percentages are in [0, 100] (θ can exceed 100).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// Seconds in which demand exceeded ready pods.
    pub under_provisioned_s: f64,
    /// Seconds in which ready pods exceeded demand.
    pub over_provisioned_s: f64,
    /// θ_U: under-provisioning accuracy, %.
    pub theta_u: f64,
    /// θ_O: over-provisioning accuracy, %.
    pub theta_o: f64,
    /// τ_U: under-provisioning timeshare, %.
    pub tau_u: f64,
    /// τ_O: over-provisioning timeshare, %.
    pub tau_o: f64,
    /// υ: instability, % of time supply and demand move in different directions.
    pub instability: f64,
    /// Σ d_t·Δt: pod-seconds an oracle with instant, exact scaling would use.
    pub demand_pod_seconds: f64,
    /// Σ min(load_t, capacityPerPod·s_t) / Σ load_t: the share of the load the ready pods could serve, %.
    pub served_load_pct: f64,
}

/// Integral of a step function over [0, end_ms), in value-seconds.
pub fn integrate(steps: &Steps, end_ms: i64) -> f64 {
    let mut total: i128 = 0;
    for (i, &(t, v)) in steps.iter().enumerate() {
        if t >= end_ms {
            break;
        }
        let next = steps.get(i + 1).map_or(end_ms, |&(n, _)| n.min(end_ms));
        total += i128::from(v) * i128::from(next - t);
    }
    total as f64 / 1000.0
}

/// Score a run of `duration_ms` given the ready-pod steps and the load series.
pub fn score(ready: &Steps, load: &Series, capacity_per_pod: f64, duration_ms: i64) -> Scores {
    let n = (duration_ms / 1000).max(1);
    let mut ready_idx = 0usize;
    let mut load_cursor = load.cursor();
    let mut last_load = 0.0f64;
    let (mut under_s, mut over_s) = (0u64, 0u64);
    let (mut theta_u, mut theta_o) = (0.0f64, 0.0f64);
    let mut unstable = 0u64;
    let mut demand_total = 0.0f64;
    let (mut load_total, mut served_total) = (0.0f64, 0.0f64);
    let mut prev: Option<(i64, i64)> = None;
    for k in 0..n {
        let t = k * 1000;
        while ready_idx + 1 < ready.len() && ready[ready_idx + 1].0 <= t {
            ready_idx += 1;
        }
        let s = i64::from(ready.get(ready_idx).map_or(0, |&(_, v)| v));
        let l = match load_cursor.at(t) {
            Sample::Value(v) => {
                last_load = v.max(0.0);
                last_load
            }
            Sample::Error => last_load,
        };
        let d = demand(l, capacity_per_pod) as i64;
        let denom = d.max(1) as f64;
        if d > s {
            under_s += 1;
            theta_u += (d - s) as f64 / denom;
        } else if s > d {
            over_s += 1;
            theta_o += (s - d) as f64 / denom;
        }
        demand_total += d as f64;
        load_total += l;
        served_total += l.min(s as f64 * capacity_per_pod);
        if let Some((ps, pd)) = prev
            && ((s - ps).signum() - (d - pd).signum()).abs().min(1) == 1
        {
            unstable += 1;
        }
        prev = Some((s, d));
    }
    let t = n as f64;
    Scores {
        under_provisioned_s: under_s as f64,
        over_provisioned_s: over_s as f64,
        theta_u: 100.0 * theta_u / t,
        theta_o: 100.0 * theta_o / t,
        tau_u: 100.0 * under_s as f64 / t,
        tau_o: 100.0 * over_s as f64 / t,
        instability: if n > 1 {
            100.0 * unstable as f64 / (t - 1.0)
        } else {
            0.0
        },
        demand_pod_seconds: demand_total,
        served_load_pct: if load_total > 0.0 {
            100.0 * served_total / load_total
        } else {
            100.0
        },
    }
}

/// The pods a load needs: d = ceil(load / capacity), a negative load counting as 0. Infinite for an
/// infinite load; the scores convert it with `as i64`, which saturates.
pub(crate) fn demand(load: f64, capacity: f64) -> f64 {
    (load.max(0.0) / capacity).ceil()
}

/// The pods `load` needs ([`demand`]) within `[min, max]` (an infinite demand is `max`; bounds the wrong way
/// round: `min` wins): what a `bench` run starts with, and what the oracle asks for.
pub fn replicas_for(load: f64, capacity: f64, min: i32, max: i32) -> i32 {
    (demand(load, capacity).min(f64::from(max)) as i32).clamp(min, max.max(min))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_for_a_load_are_its_demand_within_the_bounds() {
        assert_eq!(replicas_for(0.0, 10.0, 2, 40), 2);
        assert_eq!(replicas_for(373.5, 10.0, 2, 40), 38);
        assert_eq!(replicas_for(1e12, 10.0, 2, 40), 40);
        assert_eq!(replicas_for(f64::INFINITY, 10.0, 2, 40), 40);
        assert_eq!(replicas_for(1e300, 1e-300, 0, i32::MAX), i32::MAX);
        assert_eq!(replicas_for(-5.0, 10.0, 0, 40), 0);
        // Bounds the wrong way round do not panic: the minimum wins.
        assert_eq!(replicas_for(5.0, 10.0, 3, 1), 3);
    }

    #[test]
    fn integrates_steps() {
        assert_eq!(integrate(&[(0, 1), (10_000, 3), (20_000, 0)], 30_000), 40.0);
        assert_eq!(integrate(&[(0, 2)], 1_500), 3.0);
        assert_eq!(integrate(&[(0, 2), (5_000, 4)], 2_000), 4.0);
    }

    #[test]
    fn perfect_supply_scores_zero() {
        // load 5 with capacity 2.5 → demand 2; supply 2 throughout.
        let load = Series::constant(5.0);
        let s = score(&[(0, 2)], &load, 2.5, 100_000);
        assert_eq!(s.under_provisioned_s, 0.0);
        assert_eq!(s.theta_u, 0.0);
        assert_eq!(s.theta_o, 0.0);
        assert_eq!(s.tau_u, 0.0);
        assert_eq!(s.instability, 0.0);
        assert_eq!(s.demand_pod_seconds, 200.0);
        assert_eq!(s.served_load_pct, 100.0);
    }

    #[test]
    fn lagging_supply_is_under_provisioned_and_unstable() {
        // Demand jumps 1 → 3 at 10 s; supply follows at 40 s. T = 100 s.
        let load =
            Series::new(vec![(0, Sample::Value(1.0)), (10_000, Sample::Value(3.0))]).unwrap();
        let s = score(&[(0, 1), (40_000, 3)], &load, 1.0, 100_000);
        assert_eq!(s.under_provisioned_s, 30.0);
        assert_eq!(s.tau_u, 30.0);
        // (3-1)/3 for 30 s → 20 s-equivalents → 20 %.
        assert!((s.theta_u - 20.0).abs() < 1e-9, "{}", s.theta_u);
        assert_eq!(s.theta_o, 0.0);
        // Two samples where only one side moved (t = 10 s and t = 40 s), over T − Δt = 99 s.
        assert!(
            (s.instability - 200.0 / 99.0).abs() < 1e-9,
            "{}",
            s.instability
        );
        // Served: 10 s × 1 + 30 s × 1 (of 3) + 60 s × 3 = 220 of 280.
        assert!((s.served_load_pct - 100.0 * 220.0 / 280.0).abs() < 1e-9);
    }

    #[test]
    fn idle_pods_count_against_one() {
        let load = Series::constant(0.0);
        let s = score(&[(0, 2)], &load, 1.0, 10_000);
        assert_eq!(s.tau_o, 100.0);
        assert_eq!(s.theta_o, 200.0);
    }

    #[test]
    fn error_periods_hold_the_last_load() {
        let load = Series::new(vec![(0, Sample::Value(4.0)), (5_000, Sample::Error)]).unwrap();
        let s = score(&[(0, 2)], &load, 1.0, 10_000);
        assert_eq!(s.under_provisioned_s, 10.0);
    }
}
