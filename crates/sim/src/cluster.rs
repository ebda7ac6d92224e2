//! The simulated workload: a Deployment's `spec.replicas`, its pods, and their readiness.
//!
//! Rules: `status.replicas` follows `spec.replicas` at once; the initial pods are ready at t = 0; a new pod
//! becomes ready `podStartupSeconds` after it was created; scale-down removes not-ready pods first, then the
//! newest. With one start-up delay for every pod, the not-ready pods are always the newest ones, so removing
//! the newest pods first is exactly that rule.

use std::collections::VecDeque;

/// Pods are kept as groups of pods created at the same instant (they share a ready time), so memory and time
/// are bounded by the number of scale-ups, not by the replica count (which may be up to 2^31 − 1).
#[derive(Debug, Clone)]
pub struct Cluster {
    startup_ms: i64,
    /// `(ready_at, count)` per group, oldest first; `ready_at` is non-decreasing.
    groups: VecDeque<(i64, u64)>,
    /// Pods in all groups.
    total: u64,
    /// Groups before this index are ready (as of the last [`Cluster::advance`]).
    first_unready: usize,
    /// Pods in the ready groups.
    ready: u64,
}

fn to_i32(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Cluster {
    /// `initial` pods, all ready at t = 0.
    pub fn new(initial: i32, startup_ms: i64) -> Cluster {
        let n = u64::try_from(initial).unwrap_or(0);
        let mut groups = VecDeque::new();
        if n > 0 {
            groups.push_back((0, n));
        }
        Cluster {
            startup_ms,
            first_unready: groups.len(),
            groups,
            total: n,
            ready: n,
        }
    }

    /// `spec.replicas` (= `status.replicas`).
    pub fn replicas(&self) -> i32 {
        to_i32(self.total)
    }

    /// Ready pods as of the last [`Cluster::advance`].
    pub fn ready(&self) -> i32 {
        to_i32(self.ready)
    }

    /// Mark pods whose start-up completed at or before `now` as ready. Returns whether the count changed.
    pub fn advance(&mut self, now: i64) -> bool {
        let before = self.ready;
        while let Some(&(at, n)) = self.groups.get(self.first_unready) {
            if at > now {
                break;
            }
            self.ready += n;
            self.first_unready += 1;
        }
        self.ready != before
    }

    /// When the next not-ready pod becomes ready.
    pub fn next_ready_time(&self) -> Option<i64> {
        self.groups.get(self.first_unready).map(|&(at, _)| at)
    }

    /// Set `spec.replicas` at `now` (a negative count is the caller's error and is treated as 0). Returns whether
    /// it changed.
    pub fn scale(&mut self, now: i64, replicas: i32) -> bool {
        let target = u64::try_from(replicas).unwrap_or(0);
        let current = self.total;
        if target > current {
            let at = now.saturating_add(self.startup_ms);
            // A not-ready group created at the same instant absorbs the new pods.
            let last_unready = self.first_unready < self.groups.len();
            match self.groups.back_mut() {
                Some((last_at, n)) if *last_at == at && last_unready => *n += target - current,
                _ => self.groups.push_back((at, target - current)),
            }
        } else {
            // Remove the newest pods first: with one start-up delay for every pod, they are the not-ready ones.
            let mut remove = current - target;
            while remove > 0 {
                let last_is_ready = self.groups.len() <= self.first_unready;
                let Some((_, n)) = self.groups.back_mut() else {
                    break;
                };
                let take = remove.min(*n);
                *n -= take;
                remove -= take;
                if last_is_ready {
                    self.ready -= take;
                }
                if *n == 0 {
                    self.groups.pop_back();
                    self.first_unready = self.first_unready.min(self.groups.len());
                }
            }
        }
        self.total = target;
        self.advance(now);
        target != current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_pods_become_ready_after_startup() {
        let mut c = Cluster::new(1, 30_000);
        assert_eq!((c.replicas(), c.ready()), (1, 1));
        assert!(c.scale(10_000, 3));
        assert_eq!((c.replicas(), c.ready()), (3, 1));
        assert_eq!(c.next_ready_time(), Some(40_000));
        assert!(!c.advance(39_999));
        assert!(c.advance(40_000));
        assert_eq!(c.ready(), 3);
        assert_eq!(c.next_ready_time(), None);
    }

    #[test]
    fn scale_down_removes_not_ready_first() {
        let mut c = Cluster::new(2, 60_000);
        c.scale(0, 4); // two starting pods
        c.scale(10_000, 3); // removes one starting pod
        assert_eq!((c.replicas(), c.ready()), (3, 2));
        c.scale(20_000, 1); // removes the other starting pod and one ready pod
        assert_eq!((c.replicas(), c.ready()), (1, 1));
        c.scale(30_000, 0);
        assert_eq!((c.replicas(), c.ready()), (0, 0));
    }

    #[test]
    fn huge_replica_counts_cost_nothing() {
        let mut c = Cluster::new(i32::MAX, 0);
        assert_eq!((c.replicas(), c.ready()), (i32::MAX, i32::MAX));
        c.scale(1_000, 1);
        assert_eq!((c.replicas(), c.ready()), (1, 1));
        c.scale(2_000, i32::MAX);
        assert_eq!((c.replicas(), c.ready()), (i32::MAX, i32::MAX));
        assert!(c.groups.len() <= 2);
    }

    #[test]
    fn partial_removal_of_a_ready_group() {
        let mut c = Cluster::new(5, 10_000);
        c.scale(0, 8); // 3 starting
        c.scale(1_000, 4); // removes the 3 starting and 1 ready
        assert_eq!((c.replicas(), c.ready()), (4, 4));
        c.scale(2_000, 6);
        assert!(!c.advance(11_999));
        assert!(c.advance(12_000));
        assert_eq!(c.ready(), 6);
    }

    #[test]
    fn zero_startup_is_ready_at_once() {
        let mut c = Cluster::new(0, 0);
        c.scale(5_000, 2);
        assert_eq!(c.ready(), 2);
    }
}
