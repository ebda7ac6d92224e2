//! Leader-election scenarios: several electors sharing one simulated Lease with `resourceVersion` conflicts.

use std::time::Duration;

use prescale_core::time::Timestamp;
use prescale_operator::lease::{Action, ElectionConfig, Elector, Error, LeaseRecord};

/// A Lease object in a fake API server: updates based on a stale read conflict.
#[derive(Default)]
struct Store {
    record: Option<LeaseRecord>,
    version: u64,
    /// Identities whose writes fail (API server unreachable from them).
    failing: Vec<String>,
}

impl Store {
    fn read(&self) -> (Option<LeaseRecord>, u64) {
        (self.record.clone(), self.version)
    }

    fn write(&mut self, who: &str, record: &LeaseRecord, create: bool, read_version: u64) -> bool {
        if self.failing.iter().any(|f| f == who) {
            return false;
        }
        if create != self.record.is_none() || read_version != self.version {
            return false;
        }
        self.record = Some(record.clone());
        self.version += 1;
        true
    }
}

fn t(secs: i64) -> Timestamp {
    Timestamp::from_secs(secs)
}

fn elector(id: &str) -> Elector {
    Elector::new(ElectionConfig::new(id)).unwrap()
}

/// Read, decide, write, report. Returns the action taken.
fn step(e: &mut Elector, store: &mut Store, now: Timestamp) -> Action {
    let (current, version) = store.read();
    let action = e.attempt(current.as_ref(), now);
    perform(e, store, &action, version, now);
    action
}

fn perform(e: &mut Elector, store: &mut Store, action: &Action, version: u64, now: Timestamp) {
    let id = e.config().identity.clone();
    let (record, create) = match action {
        Action::Create(r) => (r, true),
        Action::Update(r) => (r, false),
        Action::Wait => return,
    };
    if store.write(&id, record, create, version) {
        e.write_succeeded(record, now);
    } else {
        e.write_failed();
    }
}

fn lease(store: &Store) -> &LeaseRecord {
    store.record.as_ref().unwrap()
}

#[test]
fn first_candidate_creates_the_lease_and_leads() {
    let mut store = Store::default();
    let mut a = elector("a");
    assert!(matches!(
        step(&mut a, &mut store, t(100)),
        Action::Create(_)
    ));
    assert!(a.is_leader(t(100)));
    assert_eq!(a.holder(), Some("a"));
    let l = lease(&store);
    assert_eq!(l.holder(), Some("a"));
    assert_eq!(l.lease_duration_seconds, 15);
    assert_eq!((l.acquire_time, l.renew_time), (Some(t(100)), Some(t(100))));
    assert_eq!(l.lease_transitions, 0);
    assert_eq!(a.next_attempt_in(), Duration::from_secs(2));
}

#[test]
fn simultaneous_creates_conflict_and_the_loser_follows() {
    let mut store = Store::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    let (read_a, va) = store.read();
    let (read_b, vb) = store.read();
    let act_a = a.attempt(read_a.as_ref(), t(0));
    let act_b = b.attempt(read_b.as_ref(), t(0));
    perform(&mut a, &mut store, &act_a, va, t(0));
    perform(&mut b, &mut store, &act_b, vb, t(0));
    assert!(a.is_leader(t(0)));
    assert!(!b.is_leader(t(0)));
    assert_eq!(lease(&store).holder(), Some("a"));
    assert_eq!(step(&mut b, &mut store, t(1)), Action::Wait);
    assert_eq!(b.holder(), Some("a"));
}

#[test]
fn second_follows_while_the_leader_renews() {
    let mut store = Store::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    step(&mut a, &mut store, t(0));
    for now in (1..60).step_by(2) {
        assert!(matches!(
            step(&mut a, &mut store, t(now)),
            Action::Update(_)
        ));
        assert_eq!(step(&mut b, &mut store, t(now)), Action::Wait);
        assert!(a.is_leader(t(now)));
        assert!(!b.is_leader(t(now)));
    }
    let l = lease(&store);
    assert_eq!(l.acquire_time, Some(t(0)), "renewals keep acquireTime");
    assert_eq!(l.renew_time, Some(t(59)));
    assert_eq!(l.lease_transitions, 0);
}

#[test]
fn takeover_waits_lease_duration_from_the_observed_change() {
    let mut store = Store::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    step(&mut a, &mut store, t(0));
    step(&mut a, &mut store, t(10)); // last renew: renewTime 10
    // b first reads the lease 4 s later, so it observed the change at 14, not 10.
    assert_eq!(step(&mut b, &mut store, t(14)), Action::Wait);
    // Remote renewTime + 15 = 25 has passed, but b's observation + 15 = 29 has not.
    assert_eq!(step(&mut b, &mut store, t(25)), Action::Wait);
    assert_eq!(step(&mut b, &mut store, t(28)), Action::Wait);
    assert_eq!(
        step(&mut b, &mut store, t(28).plus_millis(999)),
        Action::Wait
    );
    let Action::Update(taken) = step(&mut b, &mut store, t(29)) else {
        panic!("b should take over at 29");
    };
    assert!(b.is_leader(t(29)));
    assert_eq!(taken.holder(), Some("b"));
    assert_eq!(taken.lease_transitions, 1, "transitions incremented");
    assert_eq!(taken.acquire_time, Some(t(29)), "acquireTime reset");
    assert_eq!(taken.renew_time, Some(t(29)));
    assert_eq!(lease(&store), &taken);
    // The old leader, on reading the new record, knows it has lost.
    assert_eq!(step(&mut a, &mut store, t(30)), Action::Wait);
    assert!(!a.is_leader(t(30)));
    assert_eq!(a.holder(), Some("b"));
}

#[test]
fn leader_whose_writes_fail_steps_down_after_renew_deadline_before_expiry() {
    let mut store = Store::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    step(&mut a, &mut store, t(0));
    step(&mut b, &mut store, t(0));
    store.failing.push("a".into());
    for now in (2..=8).step_by(2) {
        step(&mut a, &mut store, t(now));
        assert!(a.is_leader(t(now)), "still within renew_deadline at {now}");
    }
    assert!(a.is_leader(t(10).plus_millis(-1)));
    assert!(
        !a.is_leader(t(10)),
        "renew_deadline (10 s) since last renew"
    );
    step(&mut a, &mut store, t(10));
    assert!(!a.is_leader(t(12)));
    // The lease has not expired: b, which observed it at 0, still waits until 15.
    assert_eq!(step(&mut b, &mut store, t(12)), Action::Wait);
    assert!(matches!(step(&mut b, &mut store, t(15)), Action::Update(_)));
    assert!(b.is_leader(t(15)));
}

#[test]
fn follower_with_a_clock_ahead_does_not_steal_a_live_lease() {
    let mut store = Store::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    const SKEW: i64 = 3600; // b's clock runs an hour ahead of a's
    step(&mut a, &mut store, t(0));
    for now in (2..100).step_by(2) {
        step(&mut a, &mut store, t(now));
        // By the remote renewTime the lease looks long expired to b; by its own observations it is live.
        let lease_renew = lease(&store).renew_time.unwrap();
        assert!(lease_renew.plus_secs(15).before(t(now + SKEW)));
        assert_eq!(step(&mut b, &mut store, t(now + SKEW)), Action::Wait);
    }
    assert!(a.is_leader(t(99)));
    assert_eq!(lease(&store).holder(), Some("a"));
}

#[test]
fn release_lets_another_take_over_at_once() {
    let mut store = Store::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    step(&mut a, &mut store, t(0));
    step(&mut a, &mut store, t(2));
    assert_eq!(step(&mut b, &mut store, t(3)), Action::Wait);
    assert_eq!(b.release(t(3)), None, "a follower has nothing to release");
    let released = a.release(t(4)).unwrap();
    assert_eq!(released.holder(), None);
    assert_eq!(released.holder_identity.as_deref(), Some(""));
    assert_eq!(released.lease_duration_seconds, 1);
    assert_eq!(released.lease_transitions, 0);
    let version = store.version;
    perform(&mut a, &mut store, &Action::Update(released), version, t(4));
    assert!(!a.is_leader(t(4)));
    assert_eq!(a.release(t(4)), None);
    // b takes over on its next attempt, long before the 15 s lease would have run out.
    let Action::Update(taken) = step(&mut b, &mut store, t(5)) else {
        panic!("b should take over a released lease");
    };
    assert_eq!(taken.holder(), Some("b"));
    assert_eq!(taken.lease_transitions, 1);
    assert!(b.is_leader(t(5)));
}

#[test]
fn restarted_holder_renews_keeping_acquire_time_and_transitions() {
    let mut store = Store {
        record: Some(LeaseRecord {
            holder_identity: Some("a".into()),
            lease_duration_seconds: 15,
            acquire_time: Some(t(50)),
            renew_time: Some(t(90)),
            lease_transitions: 7,
        }),
        version: 3,
        failing: vec![],
    };
    let mut a = elector("a");
    let Action::Update(renewed) = step(&mut a, &mut store, t(95)) else {
        panic!("our own lease is renewed at once");
    };
    assert_eq!(renewed.acquire_time, Some(t(50)));
    assert_eq!(renewed.lease_transitions, 7);
    assert_eq!(renewed.renew_time, Some(t(95)));
    assert!(a.is_leader(t(95)));
    // Whereas a stranger restarting into the same store must wait.
    let mut c = elector("c");
    assert_eq!(step(&mut c, &mut store, t(96)), Action::Wait);
}

#[test]
fn config_validation_names_the_field() {
    let ok = ElectionConfig::new("a");
    assert_eq!(ok.validate(), Ok(()));
    let with = |f: fn(&mut ElectionConfig)| {
        let mut c = ElectionConfig::new("a");
        f(&mut c);
        Elector::new(c).unwrap_err()
    };
    let msg = |f: fn(&mut ElectionConfig)| with(f).to_string();
    assert_eq!(with(|c| c.identity.clear()), Error::EmptyIdentity);
    assert!(
        msg(|c| c.lease_duration = Duration::ZERO)
            .contains("lease_duration must be greater than zero")
    );
    assert!(
        msg(|c| c.renew_deadline = Duration::ZERO)
            .contains("renew_deadline must be greater than zero")
    );
    assert!(
        msg(|c| c.retry_period = Duration::ZERO).contains("retry_period must be greater than zero")
    );
    assert_eq!(
        msg(|c| c.lease_duration = Duration::from_secs(10)),
        "lease_duration must be greater than renew_deadline"
    );
    // 10 s is not > 1.2 × 9 s = 10.8 s, though it is > 9 s.
    assert!(
        msg(|c| c.retry_period = Duration::from_secs(9))
            .starts_with("renew_deadline must be greater than retry_period")
    );
    // Just above the jitter bound passes: 1.2 × 8 s = 9.6 s < 10 s.
    let mut c = ElectionConfig::new("a");
    c.retry_period = Duration::from_secs(8);
    assert_eq!(c.validate(), Ok(()));
}
