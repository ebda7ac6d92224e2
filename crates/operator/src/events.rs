//! Kubernetes Events for the ScaledObjects, as KEDA's event recorder writes them: `core/v1` Events with the
//! engine's reasons and messages, source component `keda-operator` (so existing dashboards and alerts that
//! select KEDA's events keep matching), and repeated events folded into one object with a growing `count`,
//! as client-go's correlator does.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use prescale_core::keda::KedaEvent;
use serde_json::json;

use crate::clock::SharedClock;
use crate::error::{Result, kube_err};

/// The `source.component` of every event.
pub const COMPONENT: &str = "keda-operator";
/// Folded events remembered at most (then the memory starts over).
const MAX_REMEMBERED: usize = 4096;

/// The object an event is about.
#[derive(Debug, Clone)]
pub struct Regarding {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: Option<String>,
}

type Key = (String, String, String, String, String);

/// Writes events, folding repeats.
pub struct Recorder {
    client: Client,
    clock: SharedClock,
    host: String,
    seen: Mutex<HashMap<Key, (String, i32)>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("host", &self.host)
            .finish()
    }
}

impl Recorder {
    /// A recorder writing with `client`; `host` is the pod name (`source.host`).
    pub fn new(client: Client, clock: SharedClock, host: impl Into<String>) -> Self {
        Recorder {
            client,
            clock,
            host: host.into(),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records `event` about `regarding`.
    pub async fn record(&self, regarding: &Regarding, event: &KedaEvent) -> Result<()> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &regarding.namespace);
        let now = Time(
            jiff::Timestamp::try_from(self.clock.now()).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        );
        let key: Key = (
            regarding.namespace.clone(),
            regarding.name.clone(),
            event.type_.as_str().to_string(),
            event.reason.clone(),
            event.message.clone(),
        );
        let previous = self.seen.lock().ok().and_then(|m| m.get(&key).cloned());
        if let Some((name, count)) = previous {
            let patch = json!({"count": count + 1, "lastTimestamp": now});
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    if let Ok(mut m) = self.seen.lock() {
                        m.insert(key, (name, count + 1));
                    }
                    return Ok(());
                }
                // The event expired (the API server deletes events after an hour): write a new one.
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(kube_err(format!("updating Event {name}"))(e)),
            }
        }
        let millis = now.0.as_millisecond();
        let name = format!(
            "{}.{:x}",
            regarding.name,
            millis.unsigned_abs() * 1000 + seq()
        );
        let ev = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(regarding.namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some(regarding.api_version.clone()),
                kind: Some(regarding.kind.clone()),
                name: Some(regarding.name.clone()),
                namespace: Some(regarding.namespace.clone()),
                uid: regarding.uid.clone(),
                ..ObjectReference::default()
            },
            reason: Some(event.reason.clone()),
            message: Some(event.message.clone()),
            type_: Some(event.type_.as_str().to_string()),
            count: Some(1),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            source: Some(EventSource {
                component: Some(COMPONENT.to_string()),
                host: Some(self.host.clone()),
            }),
            reporting_component: Some(COMPONENT.to_string()),
            reporting_instance: Some(self.host.clone()),
            ..Event::default()
        };
        api.create(&PostParams::default(), &ev)
            .await
            .map_err(kube_err(format!(
                "creating Event {} for {}/{}",
                event.reason, regarding.namespace, regarding.name
            )))?;
        if let Ok(mut m) = self.seen.lock() {
            if m.len() >= MAX_REMEMBERED {
                m.clear();
            }
            m.insert(key, (name, 1));
        }
        Ok(())
    }
}

/// A per-process sequence number, so two events in one millisecond get different names.
fn seq() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    SEQ.fetch_add(1, Ordering::Relaxed) % 1000
}
