//! The simulated workload: a Deployment's `spec.replicas`, its pods, and their readiness.
//!
//! Rules: `status.replicas` follows `spec.replicas` at once; the initial pods are ready at t = 0; a new pod
//! becomes ready `podStartupSeconds` after it was created; scale-down removes not-ready pods first, then the
//! newest. With one start-up delay for every pod, the not-ready pods are always the newest ones, so removing
//! the newest pods first is exactly that rule.

use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct Cluster {
    startup_ms: i64,
    /// Ready time of each pod, oldest pod first (non-decreasing).
    ready_at: VecDeque<i64>,
    /// How many of the oldest pods are ready as of the last [`Cluster::advance`].
    ready: usize,
}

impl Cluster {
    /// `initial` pods, all ready at t = 0.
    pub fn new(initial: i32, startup_ms: i64) -> Cluster {
        let n = usize::try_from(initial).unwrap_or(0);
        Cluster {
            startup_ms,
            ready_at: std::iter::repeat_n(0, n).collect(),
            ready: n,
        }
    }

    /// `spec.replicas` (= `status.replicas`).
    pub fn replicas(&self) -> i32 {
        i32::try_from(self.ready_at.len()).unwrap_or(i32::MAX)
    }

    /// Ready pods as of the last [`Cluster::advance`].
    pub fn ready(&self) -> i32 {
        i32::try_from(self.ready).unwrap_or(i32::MAX)
    }

    /// Mark pods whose start-up completed at or before `now` as ready. Returns whether the count changed.
    pub fn advance(&mut self, now: i64) -> bool {
        let before = self.ready;
        while self.ready < self.ready_at.len() && self.ready_at[self.ready] <= now {
            self.ready += 1;
        }
        self.ready != before
    }

    /// When the next not-ready pod becomes ready.
    pub fn next_ready_time(&self) -> Option<i64> {
        self.ready_at.get(self.ready).copied()
    }

    /// Set `spec.replicas` at `now`. Returns whether it changed.
    pub fn scale(&mut self, now: i64, replicas: i32) -> bool {
        let target = usize::try_from(replicas).unwrap_or(0);
        let current = self.ready_at.len();
        if target > current {
            let at = now.saturating_add(self.startup_ms);
            self.ready_at
                .extend(std::iter::repeat_n(at, target - current));
        } else {
            self.ready_at.truncate(target);
            self.ready = self.ready.min(target);
        }
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
    fn zero_startup_is_ready_at_once() {
        let mut c = Cluster::new(0, 0);
        c.scale(5_000, 2);
        assert_eq!(c.ready(), 2);
    }
}
