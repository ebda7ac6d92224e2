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
use tokio::sync::watch;
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
    let mut resource_version: Option<String> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let current = match api.get_opt(&lease.name).await {
            Ok(found) => {
                resource_version = found
                    .as_ref()
                    .and_then(|l| l.metadata.resource_version.clone());
                Ok(found.as_ref().map(record_of))
            }
            Err(e) => Err(e),
        };
        let now = timestamp(clock.now());
        match current {
            Ok(current) => match elector.attempt(current.as_ref(), now) {
                Action::Create(r) => {
                    match api
                        .create(
                            &PostParams::default(),
                            &lease_of(&lease.name, &lease.namespace, &r, None),
                        )
                        .await
                    {
                        Ok(_) => elector.write_succeeded(&r, now),
                        Err(_) => elector.write_failed(),
                    }
                }
                Action::Update(r) => {
                    let l = lease_of(&lease.name, &lease.namespace, &r, resource_version.clone());
                    match api.replace(&lease.name, &PostParams::default(), &l).await {
                        Ok(_) => elector.write_succeeded(&r, now),
                        Err(_) => elector.write_failed(),
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
    // ReleaseOnCancel: step down at once so another replica takes over without waiting for expiry.
    leader.send_replace(false);
    if let Some(r) = elector.release(timestamp(clock.now())) {
        let l = lease_of(&lease.name, &lease.namespace, &r, resource_version);
        match api.replace(&lease.name, &PostParams::default(), &l).await {
            Ok(_) => info!(identity = %identity, "released the lease"),
            Err(e) => warn!(error = %e, "releasing the lease failed"),
        }
    }
}
