//! The operator's clock. The engine takes `now` as a parameter; the operator owns the clock that supplies it
//! and the sleeps between polls. [`SystemClock`] is the wall clock; [`ManualClock`] is advanced by a test, so
//! scenario tests can run minutes of cooldown in no time while HTTP (scalers, the API server) keeps using
//! real time for its own timeouts.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prescale_core::time::Timestamp;
use tokio::sync::watch;

/// A boxed `Send` future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Where the operator gets `now` and how it waits.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
    /// A future that completes once `now() >= deadline`.
    fn sleep_until(&self, deadline: SystemTime) -> BoxFuture<()>;
}

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;

/// The engine's timestamp (milliseconds since the Unix epoch) for `t`.
pub fn timestamp(t: SystemTime) -> Timestamp {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp::from_millis(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        Err(e) => {
            Timestamp::from_millis(-i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX))
        }
    }
}

/// The wall clock, with tokio's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn sleep_until(&self, deadline: SystemTime) -> BoxFuture<()> {
        let wait = deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that moves only when told to. Sleepers wake when [`advance`](Self::advance) or
/// [`set`](Self::set) passes their deadline.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<watch::Sender<SystemTime>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: SystemTime) -> Self {
        ManualClock {
            now: Arc::new(watch::Sender::new(start)),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.now.send_modify(|t| *t += d);
    }

    /// Sets the clock to `t` (never backwards: an earlier `t` is ignored).
    pub fn set(&self, t: SystemTime) {
        self.now.send_if_modified(|now| {
            if t > *now {
                *now = t;
                true
            } else {
                false
            }
        });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.borrow()
    }
    fn sleep_until(&self, deadline: SystemTime) -> BoxFuture<()> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            loop {
                if *rx.borrow_and_update() >= deadline {
                    return;
                }
                if rx.changed().await.is_err() {
                    // The clock is gone: nothing will ever wake this sleeper.
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_sleepers_wake_when_the_deadline_is_passed() {
        let start = UNIX_EPOCH + Duration::from_secs(1_000);
        let clock = ManualClock::new(start);
        let sleeper = tokio::spawn(clock.sleep_until(start + Duration::from_secs(30)));
        clock.advance(Duration::from_secs(29));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woken")
            .expect("task");
        assert_eq!(timestamp(clock.now()), Timestamp::from_secs(1_030));
    }

    #[test]
    fn set_never_goes_backwards() {
        let start = UNIX_EPOCH + Duration::from_secs(10);
        let clock = ManualClock::new(start);
        clock.set(UNIX_EPOCH);
        assert_eq!(clock.now(), start);
    }
}
