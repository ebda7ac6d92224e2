//! The oracle policy: it knows the future. At every instant `t` it has asked for enough pods to serve the
//! highest demand in `[t, t + podStartup]`, so the pods it starts are ready before the load they are for, and
//! it lets pods go the moment no demand in that window needs them. No autoscaler can do better on the same
//! simulated cluster; it is the yardstick for the cost side (`pod_seconds`).
//!
//! It runs on the same [`Cluster`] as the KEDA + HPA replay (same start-up delay, same scale-down order), with
//! demand `d = ceil(load / capacityPerPod)` clamped to `[min, max]`.

use crate::cluster::Cluster;
use crate::score::{Scores, integrate, replicas_for, score};
use crate::series::Series;

/// The outcome of an oracle run.
#[derive(Debug, Clone)]
pub struct OracleRun {
    pub ready_steps: Vec<(i64, i32)>,
    pub replica_steps: Vec<(i64, i32)>,
    pub scale_actions: u64,
    pub pod_seconds: f64,
    pub scores: Scores,
}

/// What the oracle asks for.
#[derive(Debug, Clone, Copy)]
pub struct OracleConfig {
    pub capacity_per_pod: f64,
    pub pod_startup_ms: i64,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub duration_ms: i64,
}

/// Demand of each change point of the load, from t = 0 (a failed sample holds the previous load).
fn demand_points(load: &Series, capacity: f64, min: i32, max: i32) -> Vec<(i64, i32)> {
    load.held_steps_from_zero()
        .into_iter()
        .map(|(t, v)| (t, replicas_for(v, capacity, min, max)))
        .collect()
}

/// Run the oracle over `[0, duration)`.
pub fn run(load: &Series, cfg: &OracleConfig) -> OracleRun {
    let points = demand_points(
        load,
        cfg.capacity_per_pod,
        cfg.min_replicas,
        cfg.max_replicas,
    );
    let s = cfg.pod_startup_ms.max(0);
    // The wanted count changes only where a demand change enters the look-ahead window (c − S) or leaves the
    // present (c).
    let mut times: Vec<i64> = points
        .iter()
        .flat_map(|&(c, _)| [(c - s).max(0), c])
        .filter(|&t| t < cfg.duration_ms)
        .collect();
    times.push(0);
    times.sort_unstable();
    times.dedup();
    // Highest demand over [t, t + S]: the points whose interval [c_i, c_{i+1}) meets the window.
    let want = |t: i64| -> i32 {
        let first = points.partition_point(|&(c, _)| c <= t).saturating_sub(1);
        let last = points.partition_point(|&(c, _)| c <= t + s);
        points[first..last]
            .iter()
            .map(|&(_, d)| d)
            .max()
            .unwrap_or(cfg.min_replicas)
    };
    let initial = want(0);
    let mut cluster = Cluster::new(initial, s);
    let mut ready_steps = vec![(0, initial)];
    let mut replica_steps = vec![(0, initial)];
    let mut actions = 0u64;
    let note = |steps: &mut Vec<(i64, i32)>, t: i64, v: i32| {
        if steps.last().is_none_or(|&(_, last)| last != v) {
            steps.push((t, v));
        }
    };
    let mut i = 0;
    loop {
        let next_decision = times.get(i).copied().unwrap_or(i64::MAX);
        let next_ready = cluster.next_ready_time().unwrap_or(i64::MAX);
        let t = next_decision.min(next_ready);
        if t >= cfg.duration_ms {
            break;
        }
        if cluster.advance(t) {
            note(&mut ready_steps, t, cluster.ready());
        }
        if t == next_decision {
            i += 1;
            if cluster.scale(t, want(t)) {
                actions += 1;
                note(&mut replica_steps, t, cluster.replicas());
                cluster.advance(t);
                note(&mut ready_steps, t, cluster.ready());
            }
        }
    }
    let scores = score(&ready_steps, load, cfg.capacity_per_pod, cfg.duration_ms);
    OracleRun {
        pod_seconds: integrate(&replica_steps, cfg.duration_ms),
        ready_steps,
        replica_steps,
        scale_actions: actions,
        scores,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::Sample;

    fn cfg(duration_ms: i64) -> OracleConfig {
        OracleConfig {
            capacity_per_pod: 10.0,
            pod_startup_ms: 60_000,
            min_replicas: 1,
            max_replicas: 100,
            duration_ms,
        }
    }

    #[test]
    fn pods_are_ready_before_the_load_and_leave_after_it() {
        // 10 → 50 at 10 min, back to 10 at 20 min.
        let load = Series::new(vec![
            (0, Sample::Value(10.0)),
            (600_000, Sample::Value(50.0)),
            (1_200_000, Sample::Value(10.0)),
        ])
        .unwrap();
        let r = run(&load, &cfg(1_800_000));
        // Asked for 5 at 9:00, ready at 10:00; back to 1 at 20:00.
        assert_eq!(r.replica_steps, vec![(0, 1), (540_000, 5), (1_200_000, 1)]);
        assert_eq!(r.ready_steps, vec![(0, 1), (600_000, 5), (1_200_000, 1)]);
        assert_eq!(r.scores.under_provisioned_s, 0.0);
        assert_eq!(r.scores.over_provisioned_s, 0.0);
        assert_eq!(r.scale_actions, 2);
        // 1 pod × 30 min + 4 more × 11 min.
        assert_eq!(r.pod_seconds, 1800.0 + 4.0 * 660.0);
    }

    #[test]
    fn bounds_apply() {
        let load = Series::constant(5000.0);
        let r = run(&load, &cfg(120_000));
        assert_eq!(r.ready_steps, vec![(0, 100)]);
        assert!(r.scores.under_provisioned_s > 0.0);
        let idle = run(&Series::constant(0.0), &cfg(120_000));
        assert_eq!(idle.ready_steps, vec![(0, 1)]);
    }
}
