//! Time in the engine is a parameter: drivers own the clock and pass `now` in.

use std::fmt;

/// An instant, in milliseconds since an epoch chosen by the driver (the simulator uses the scenario start,
/// the operator uses the Unix epoch). Kubernetes compares times with `Before`/`After`, which map to `<`/`>` here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }
    pub const fn from_secs(s: i64) -> Self {
        Timestamp(s * 1000)
    }
    pub const fn millis(self) -> i64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
    /// `self + secs` (saturating).
    pub const fn plus_secs(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs.saturating_mul(1000)))
    }
    /// `self - secs` (saturating).
    pub const fn minus_secs(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_sub(secs.saturating_mul(1000)))
    }
    pub const fn plus_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }
    /// Kubernetes `t.Before(u)`.
    pub fn before(self, other: Timestamp) -> bool {
        self.0 < other.0
    }
    /// Kubernetes `t.After(u)`.
    pub fn after(self, other: Timestamp) -> bool {
        self.0 > other.0
    }
    /// Truncate to whole seconds, as `metav1.Time` does when it is serialized (RFC 3339, no fraction).
    pub fn truncate_to_secs(self) -> Self {
        Timestamp(self.0.div_euclid(1000) * 1000)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 1000 == 0 {
            write!(f, "{}s", self.0 / 1000)
        } else {
            write!(f, "{}s", self.0 as f64 / 1000.0)
        }
    }
}
