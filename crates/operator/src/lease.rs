//! Leader election on a `coordination.k8s.io/v1` Lease, as a pure state machine.
//!
//! This reproduces the decisions of client-go's `tools/leaderelection` (`tryAcquireOrRenew`, the renew
//! deadline, `ReleaseOnCancel`) without any I/O, clock or async: the driver reads the Lease, hands it to
//! [`Elector::attempt`] with its local `now`, performs the returned [`Action`] against the API server
//! (optimistic concurrency on `resourceVersion`), and reports the outcome with
//! [`Elector::write_succeeded`] or [`Elector::write_failed`]. It then sleeps
//! [`Elector::next_attempt_in`] (plus its own jitter) and repeats.
//!
//! Expiry is judged, as in client-go, on the *local* time at which this elector last saw the record change
//! (`observed_at`), never on the remote `renewTime`, so a candidate whose clock is skewed against the
//! leader's does not steal a live lease: a lease is valid while `observed_at + leaseDurationSeconds > now`.

use std::time::Duration;

use prescale_core::time::Timestamp;

/// client-go's `JitterFactor`: `renew_deadline` must exceed `retry_period * JITTER_FACTOR`.
pub const JITTER_FACTOR: f64 = 1.2;

/// The election-relevant part of a Lease's spec.
///
/// An absent holder (`None`) and an empty one (`Some("")`, what a release writes) both mean "nobody holds it".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaseRecord {
    pub holder_identity: Option<String>,
    pub lease_duration_seconds: i32,
    pub acquire_time: Option<Timestamp>,
    pub renew_time: Option<Timestamp>,
    pub lease_transitions: i32,
}

impl LeaseRecord {
    /// The holder, with `""` read as no holder.
    pub fn holder(&self) -> Option<&str> {
        self.holder_identity.as_deref().filter(|h| !h.is_empty())
    }
}

/// Why an [`ElectionConfig`] is rejected; each message names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("identity must not be empty")]
    EmptyIdentity,
    #[error("{0} must be greater than zero")]
    NotPositive(&'static str),
    #[error("lease_duration must be greater than renew_deadline")]
    LeaseDurationNotAboveRenewDeadline,
    #[error("renew_deadline must be greater than retry_period * {JITTER_FACTOR}")]
    RenewDeadlineNotAboveRetryPeriod,
    #[error("lease_duration must fit in i32 seconds")]
    LeaseDurationTooLong,
}

/// Timing and identity of one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionConfig {
    pub identity: String,
    /// How long a non-leader waits, after it last saw the record change, before it may take over.
    pub lease_duration: Duration,
    /// How long a leader keeps leading without a successful renew.
    pub renew_deadline: Duration,
    /// The pause between attempts.
    pub retry_period: Duration,
}

impl ElectionConfig {
    /// client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry period.
    pub fn new(identity: impl Into<String>) -> Self {
        ElectionConfig {
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// All durations positive, `lease_duration > renew_deadline > retry_period * 1.2`, identity non-empty.
    pub fn validate(&self) -> Result<(), Error> {
        if self.identity.is_empty() {
            return Err(Error::EmptyIdentity);
        }
        for (name, d) in [
            ("lease_duration", self.lease_duration),
            ("renew_deadline", self.renew_deadline),
            ("retry_period", self.retry_period),
        ] {
            if d.is_zero() {
                return Err(Error::NotPositive(name));
            }
        }
        if self.lease_duration <= self.renew_deadline {
            return Err(Error::LeaseDurationNotAboveRenewDeadline);
        }
        if self.renew_deadline.as_secs_f64() <= self.retry_period.as_secs_f64() * JITTER_FACTOR {
            return Err(Error::RenewDeadlineNotAboveRetryPeriod);
        }
        if i32::try_from(self.lease_duration.as_secs()).is_err() {
            return Err(Error::LeaseDurationTooLong);
        }
        Ok(())
    }

    /// `leaseDurationSeconds` as written to the Lease (whole seconds, truncated like client-go).
    fn lease_duration_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

/// What the driver must do after an [`Elector::attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// No Lease exists: create it with this spec.
    Create(LeaseRecord),
    /// Update the Lease (with the `resourceVersion` of the read just handed in) to this spec.
    Update(LeaseRecord),
    /// Someone else holds a live lease: write nothing.
    Wait,
}

/// One candidate's view of the election.
#[derive(Debug, Clone)]
pub struct Elector {
    config: ElectionConfig,
    /// The record last seen (read or successfully written) and the local time it was first seen as such.
    observed: Option<(LeaseRecord, Timestamp)>,
    /// Local time of our last successful create/update that made us holder.
    last_renew: Option<Timestamp>,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Elector {
    pub fn new(config: ElectionConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Elector {
            config,
            observed: None,
            last_renew: None,
        })
    }

    pub fn config(&self) -> &ElectionConfig {
        &self.config
    }

    /// The record last observed and the local time it was observed at.
    pub fn observed(&self) -> Option<(&LeaseRecord, Timestamp)> {
        self.observed.as_ref().map(|(r, t)| (r, *t))
    }

    /// Whether the observed record names us as holder (client-go's `IsLeader`, without the deadline).
    fn observed_self(&self) -> bool {
        self.holder() == Some(self.config.identity.as_str())
    }

    /// Given the Lease as just read (`None` = NotFound) at local time `now`, what to write.
    pub fn attempt(&mut self, current: Option<&LeaseRecord>, now: Timestamp) -> Action {
        let Some(current) = current else {
            return Action::Create(LeaseRecord {
                holder_identity: Some(self.config.identity.clone()),
                lease_duration_seconds: self.config.lease_duration_seconds(),
                acquire_time: Some(now),
                renew_time: Some(now),
                lease_transitions: 0,
            });
        };
        if self.observed.as_ref().is_none_or(|(r, _)| r != current) {
            self.observed = Some((current.clone(), now));
        }
        let ours = self.observed_self();
        if !ours {
            // Leadership, if we had it, is gone: the record names someone else (or nobody).
            self.last_renew = None;
            if current.holder().is_some() && self.lease_valid(now) {
                return Action::Wait;
            }
        }
        let (acquire_time, lease_transitions) = if ours {
            (current.acquire_time, current.lease_transitions)
        } else {
            (Some(now), current.lease_transitions.saturating_add(1))
        };
        Action::Update(LeaseRecord {
            holder_identity: Some(self.config.identity.clone()),
            lease_duration_seconds: self.config.lease_duration_seconds(),
            acquire_time,
            renew_time: Some(now),
            lease_transitions,
        })
    }

    /// `observed_at + leaseDurationSeconds > now` on the observed record.
    fn lease_valid(&self, now: Timestamp) -> bool {
        self.observed
            .as_ref()
            .is_some_and(|(r, at)| at.plus_secs(i64::from(r.lease_duration_seconds)).after(now))
    }

    /// The write of the last [`Action`] (or of [`Elector::release`]) succeeded at `now`.
    pub fn write_succeeded(&mut self, written: &LeaseRecord, now: Timestamp) {
        self.observed = Some((written.clone(), now));
        self.last_renew = self.observed_self().then_some(now);
    }

    /// The write failed (conflict on a stale read, or any API error). Nothing is learned; a leader keeps
    /// leading until `renew_deadline` has passed since its last successful renew.
    pub fn write_failed(&mut self) {}

    /// Whether we lead at `now`: we hold the observed record and renewed less than `renew_deadline` ago.
    pub fn is_leader(&self, now: Timestamp) -> bool {
        self.observed_self()
            && self
                .last_renew
                .is_some_and(|t| t.plus_millis(millis(self.config.renew_deadline)).after(now))
    }

    /// The observed leader, if any.
    pub fn holder(&self) -> Option<&str> {
        self.observed.as_ref().and_then(|(r, _)| r.holder())
    }

    /// The record to write on shutdown (`ReleaseOnCancel`) if the observed record names us: empty holder,
    /// `leaseDurationSeconds` 1, times `now`, transitions kept. `None` if there is nothing to release.
    pub fn release(&self, now: Timestamp) -> Option<LeaseRecord> {
        if !self.observed_self() {
            return None;
        }
        let (record, _) = self.observed.as_ref()?;
        Some(LeaseRecord {
            holder_identity: Some(String::new()),
            lease_duration_seconds: 1,
            acquire_time: Some(now),
            renew_time: Some(now),
            lease_transitions: record.lease_transitions,
        })
    }

    /// The pause before the next attempt (the driver adds jitter).
    pub fn next_attempt_in(&self) -> Duration {
        self.config.retry_period
    }
}
