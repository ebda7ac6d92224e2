//! Leader election on a `coordination.k8s.io/v1` Lease: the [`lease::Elector`](crate::lease::Elector)
//! decides, this loop reads and writes the Lease (optimistic concurrency through its resourceVersion) and
//! publishes "am I the leader" on a `watch` channel. Only the leader runs the controller and the scale loops;
//! every replica serves metrics.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff;
use kube::Client;
use kube::api::{Api, PostParams};
use prescale_core::time::Timestamp;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::timeout;
use tracing::{info, warn};

use crate::clock::{SharedClock, timestamp};
use crate::lease::{Action, ElectionConfig, Elector, LeaseRecord};

fn micro(t: Option<Timestamp>) -> Option<MicroTime> {
    t.and_then(|t| jiff::Timestamp::from_millisecond(t.millis()).ok())
        .map(MicroTime)
}

fn record_of(lease: &Lease) -> LeaseRecord {
    let spec = lease.spec.clone().unwrap_or_default();
    let ts = |t: Option<MicroTime>| t.map(|t| Timestamp::from_millis(t.0.as_millisecond()));
    LeaseRecord {
        holder_identity: spec.holder_identity,
        lease_duration_seconds: spec.lease_duration_seconds.unwrap_or(0),
        acquire_time: ts(spec.acquire_time),
        renew_time: ts(spec.renew_time),
        lease_transitions: spec.lease_transitions.unwrap_or(0),
    }
}

fn lease_of(
    name: &str,
    namespace: &str,
    r: &LeaseRecord,
    resource_version: Option<String>,
) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            resource_version,
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: r.holder_identity.clone(),
            lease_duration_seconds: Some(r.lease_duration_seconds),
            acquire_time: micro(r.acquire_time),
            renew_time: micro(r.renew_time),
            lease_transitions: Some(r.lease_transitions),
            ..LeaseSpec::default()
        }),
    }
}

/// Where the Lease lives.
#[derive(Debug, Clone)]
pub struct LeaseRef {
    pub namespace: String,
    pub name: String,
}

/// Runs the election until `shutdown` turns true, then releases the Lease if held. `leader` follows
/// "this replica leads".
pub async fn run(
    client: Client,
    lease: LeaseRef,
    config: ElectionConfig,
    clock: SharedClock,
    leader: watch::Sender<bool>,
    mut shutdown: watch::Receiver<bool>,
    mut loops_stopped: watch::Receiver<bool>,
) {
    let api: Api<Lease> = Api::namespaced(client, &lease.namespace);
    let identity = config.identity.clone();
    let mut elector = match Elector::new(config) {
        Ok(e) => e,
        Err(e) => {
            warn!(error = %e, "invalid leader election settings; not leading");
            return;
        }
    };
    // Every Lease call is bounded: a hung connection must not keep a stale "leading" alive past the renew
    // deadline (kube's client has no read timeout of its own).
    let call_timeout = elector.config().retry_period.max(Duration::from_secs(1));
    let mut resource_version: Option<String> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let current = match timeout(call_timeout, api.get_opt(&lease.name)).await {
            Ok(Ok(found)) => {
                resource_version = found
                    .as_ref()
                    .and_then(|l| l.metadata.resource_version.clone());
                Ok(found.as_ref().map(record_of))
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {call_timeout:?}")),
        };
        let now = timestamp(clock.now());
        match current {
            Ok(current) => match elector.attempt(current.as_ref(), now) {
                Action::Create(r) => {
                    let l = lease_of(&lease.name, &lease.namespace, &r, None);
                    match timeout(call_timeout, api.create(&PostParams::default(), &l)).await {
                        Ok(Ok(written)) => {
                            resource_version = written.metadata.resource_version;
                            elector.write_succeeded(&r, now);
                        }
                        _ => elector.write_failed(),
                    }
                }
                Action::Update(r) => {
                    let l = lease_of(&lease.name, &lease.namespace, &r, resource_version.clone());
                    match timeout(
                        call_timeout,
                        api.replace(&lease.name, &PostParams::default(), &l),
                    )
                    .await
                    {
                        Ok(Ok(written)) => {
                            resource_version = written.metadata.resource_version;
                            elector.write_succeeded(&r, now);
                        }
                        _ => elector.write_failed(),
                    }
                }
                Action::Wait => {}
            },
            Err(e) => {
                warn!(error = %e, lease = %lease.name, "reading the lease failed");
                elector.write_failed();
            }
        }
        let leading = elector.is_leader(timestamp(clock.now()));
        let changed = leader.send_if_modified(|l| {
            let was = *l;
            *l = leading;
            was != leading
        });
        if changed {
            if leading {
                info!(identity = %identity, lease = %lease.name, "became the leader");
            } else {
                info!(identity = %identity, holder = elector.holder().unwrap_or(""), "not the leader");
            }
        }
        let next = clock.now() + elector.next_attempt_in();
        tokio::select! {
            _ = shutdown.changed() => {}
            () = clock.sleep_until(next) => {}
        }
    }
    // ReleaseOnCancel: step down, wait until every scale loop has stopped, then give the Lease up so another
    // replica takes over without waiting for it to expire.
    leader.send_replace(false);
    while !*loops_stopped.borrow_and_update() {
        if loops_stopped.changed().await.is_err() {
            break;
        }
    }
    if let Some(r) = elector.release(timestamp(clock.now())) {
        let l = lease_of(&lease.name, &lease.namespace, &r, resource_version);
        match timeout(
            call_timeout,
            api.replace(&lease.name, &PostParams::default(), &l),
        )
        .await
        {
            Ok(Ok(_)) => info!(identity = %identity, "released the lease"),
            Ok(Err(e)) => warn!(error = %e, "releasing the lease failed"),
            Err(_) => warn!("releasing the lease timed out"),
        }
    }
}
