//! A fake Kubernetes API server for controller tests without a cluster.
//!
//! [`FakeApiServer`] keeps JSON objects in memory and answers the Kubernetes REST API the way
//! kube-apiserver does for what a controller uses: discovery, CRUD, the four patch types,
//! `/status` and `/scale`, label and field selectors, watches with bookmarks and 410 expiry,
//! finalizers, owner-reference garbage collection, and `metav1.Status` errors with the real
//! reasons, codes and messages. Its [`FakeApiServer::router`] is an axum `Router`, usable
//! directly as the service of a `kube::Client` ([`FakeApiServer::client`]), or served over plain
//! HTTP on loopback ([`FakeApiServer::serve_loopback`]) for a client built from a `kube::Config`
//! or another process.
//!
//! # Layout
//!
//! * [`resources`]: the resource registry (built-ins and [`FakeApiServer::register`]).
//! * [`store`]: objects, resourceVersion, create/update/patch rules, defaulting.
//! * [`validate`]: names, labels, HorizontalPodAutoscaler validation.
//! * [`patch`] and [`apply`]: patch types, server-side apply.
//! * [`scale`]: the `/scale` subresource.
//! * [`gc`]: deletion, finalizers, garbage collection, namespaces.
//! * [`selector`]: label and field selectors.
//! * [`watch`]: event history, watchers, watch streams.
//! * [`discovery`]: discovery documents.
//! * [`http`]: routing, request log, fault injection.
//! * [`clock`]: the server clock and a fake one.
//!
//! # Test hooks
//!
//! Direct store access ([`FakeApiServer::get`], [`FakeApiServer::put`], [`FakeApiServer::list`],
//! [`FakeApiServer::delete`] and typed variants), the request log ([`FakeApiServer::requests`]),
//! fault injection ([`FakeApiServer::fail_next`]), [`FakeApiServer::expire_history`] and
//! [`FakeApiServer::close_watches`] (an apiserver restart is both), [`FakeApiServer::restart`].
//!
//! # Not modelled
//!
//! Authentication and authorization (every request is allowed), admission webhooks, CRD
//! schemas (a created CustomResourceDefinition is only stored; use [`FakeApiServer::register`]),
//! conversion between versions (each registered version is its own store unless registered
//! under the same group and plural, in which case objects are shared without conversion), pod
//! graceful termination, protobuf, Table output, `resourceVersionMatch` on lists (lists always
//! read the latest state). events.k8s.io/v1 and core/v1 events are separate stores.

pub mod apply;
pub mod clock;
pub mod discovery;
pub mod gc;
pub mod http;
pub mod patch;
pub mod resources;
pub mod scale;
pub mod selector;
pub mod status;
pub mod store;
pub mod validate;
pub mod watch;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use serde_json::Value;

pub use clock::{Clock, FakeClock, rfc3339, system_clock};
pub use patch::PatchType;
pub use resources::{ResourceDef, ScalePaths};
pub use status::{ApiError, FieldError};
pub use store::Validator;

use gc::{DeleteOpts, Propagation};
use resources::ResKey;
use store::Store;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Events kept for watches that resume from a resourceVersion (older ones expire with 410).
    pub history_limit: usize,
    /// Interval between BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            history_limit: 10_000,
            bookmark_interval: Duration::from_secs(1),
        }
    }
}

/// One HTTP request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `POST`, …
    pub method: String,
    /// URL path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// Status code answered (200 for a watch that started).
    pub status: u16,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`
    /// (empty for discovery and unknown paths).
    pub verb: String,
    /// `<plural>` or `<plural>/<subresource>` (empty for discovery).
    pub resource: String,
    /// Namespace in the path.
    pub namespace: Option<String>,
    /// Object name in the path.
    pub name: Option<String>,
    /// `fieldManager` query parameter.
    pub field_manager: Option<String>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
}

impl RequestRecord {
    /// Whether the request asked to change something (create, update, patch, delete).
    pub fn is_write(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        )
    }
}

#[derive(Debug)]
struct Fault {
    verb: String,
    resource: String,
    code: u16,
    remaining: usize,
}

pub(crate) struct Inner {
    pub(crate) store: Mutex<Store>,
    log: Mutex<Vec<RequestRecord>>,
    faults: Mutex<Vec<Fault>>,
    pub(crate) config: Config,
}

impl Inner {
    pub(crate) fn record(&self, r: RequestRecord) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(r);
    }

    /// Consumes one matching injected fault, returning its status code.
    pub(crate) fn take_fault(&self, verb: &str, resource: &str) -> Option<u16> {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let i = faults.iter().position(|f| {
            (f.verb == "*" || f.verb == verb) && (f.resource == "*" || f.resource == resource)
        })?;
        let code = faults[i].code;
        faults[i].remaining -= 1;
        if faults[i].remaining == 0 {
            faults.remove(i);
        }
        Some(code)
    }
}

/// The fake API server. Clones share the same state.
#[derive(Clone)]
pub struct FakeApiServer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApiServer")
            .field("config", &self.inner.config)
            .finish()
    }
}

/// The group and plural of a kube resource type.
fn key_of<K: kube::Resource<DynamicType = ()>>() -> (String, String) {
    (K::group(&()).into_owned(), K::plural(&()).into_owned())
}

impl FakeApiServer {
    /// A server with the built-in resources, namespaces `default`, `kube-system`, `kube-public`
    /// and `kube-node-lease`, and default settings.
    pub fn new(clock: impl Into<Clock>) -> Self {
        Self::with_config(clock, Config::default())
    }

    /// A server with explicit settings.
    pub fn with_config(clock: impl Into<Clock>, config: Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                store: Mutex::new(Store::new(clock.into(), config.history_limit)),
                log: Mutex::new(Vec::new()),
                faults: Mutex::new(Vec::new()),
                config,
            }),
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The axum router serving the API (a `tower::Service` a `kube::Client` can use).
    pub fn router(&self) -> Router {
        Router::new()
            .fallback(http::handle)
            .with_state(self.inner.clone())
    }

    /// An in-process `kube::Client` on this server, default namespace `default`.
    pub fn client(&self) -> kube::Client {
        kube::Client::new(self.router(), "default")
    }

    /// Serves the API over plain HTTP on `127.0.0.1` (a free port) until the runtime stops;
    /// returns the base URL, e.g. `http://127.0.0.1:41234`. Needs a tokio runtime.
    pub async fn serve_loopback(&self) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let router = self.router();
        tokio::spawn(async move {
            // Ends with the runtime; an accept error ends serving.
            let _ = axum::serve(listener, router).await;
        });
        Ok(format!("http://{addr}"))
    }

    /// Adds (or replaces) a served resource; it appears in discovery at once.
    pub fn register(&self, def: ResourceDef) {
        self.store().registry.insert(def, false);
    }

    /// Adds a validation for a resource (group, plural), run on create and update after the
    /// built-in checks; its field errors make the write a 422.
    pub fn set_validator(&self, group: &str, plural: &str, validator: Validator) {
        self.store().validators.insert(
            ResKey {
                group: group.into(),
                plural: plural.into(),
            },
            validator,
        );
    }

    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.store().rv
    }

    /// Reads an object straight from the store (`ns` ignored for cluster-scoped resources).
    pub fn get(&self, group: &str, plural: &str, ns: Option<&str>, name: &str) -> Option<Value> {
        let store = self.store();
        let res = store.registry.by_key(&ResKey {
            group: group.into(),
            plural: plural.into(),
        })?;
        store.lookup(&res, ns, name).cloned()
    }

    /// Typed [`Self::get`].
    pub fn get_typed<K>(&self, ns: Option<&str>, name: &str) -> Option<K>
    where
        K: kube::Resource<DynamicType = ()> + serde::de::DeserializeOwned,
    {
        let (g, p) = key_of::<K>();
        serde_json::from_value(self.get(&g, &p, ns, name)?).ok()
    }

    /// Lists objects straight from the store (all namespaces when `ns` is `None`).
    pub fn list(&self, group: &str, plural: &str, ns: Option<&str>) -> Vec<Value> {
        self.store().list_all(
            &ResKey {
                group: group.into(),
                plural: plural.into(),
            },
            ns,
        )
    }

    /// Typed [`Self::list`] (objects that do not deserialize are skipped).
    pub fn list_typed<K>(&self, ns: Option<&str>) -> Vec<K>
    where
        K: kube::Resource<DynamicType = ()> + serde::de::DeserializeOwned,
    {
        let (g, p) = key_of::<K>();
        self.list(&g, &p, ns)
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect()
    }

    /// Stores an object as given, by its `apiVersion` and `kind` (create or replace; no
    /// resourceVersion precondition, no status-subresource rule, no validation, no namespace
    /// check; namespaced objects without a namespace go to `default`). Fills uid,
    /// creationTimestamp and generation when missing, bumps the resourceVersion and emits the
    /// watch event. Returns the stored object.
    pub fn put(&self, obj: Value) -> Result<Value, ApiError> {
        self.store().put(obj)
    }

    /// Typed [`Self::put`].
    pub fn put_typed<K>(&self, obj: &K) -> Result<K, ApiError>
    where
        K: kube::Resource<DynamicType = ()> + serde::Serialize + serde::de::DeserializeOwned,
    {
        let mut v = serde_json::to_value(obj).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let Some(o) = v.as_object_mut() else {
            return Err(ApiError::bad_request(
                "put_typed: the object does not serialize to a JSON object",
            ));
        };
        o.insert(
            "apiVersion".into(),
            Value::String(K::api_version(&()).into_owned()),
        );
        o.insert("kind".into(), Value::String(K::kind(&()).into_owned()));
        let stored = self.put(v)?;
        serde_json::from_value(stored).map_err(|e| ApiError::bad_request(e.to_string()))
    }

    /// Deletes an object with the API's semantics (finalizers, background garbage
    /// collection). Returns the object as it is after the call (with `deletionTimestamp` when
    /// finalizers hold it, or as last stored when removed).
    pub fn delete(
        &self,
        group: &str,
        plural: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let mut store = self.store();
        let res = store
            .registry
            .by_key(&ResKey {
                group: group.into(),
                plural: plural.into(),
            })
            .ok_or_else(ApiError::no_such_path)?;
        let old = store.get(&res, ns, name)?;
        let d = store.delete_obj(&res, old.clone(), Propagation::Background);
        Ok(if d.gone { old } else { d.body })
    }

    /// Deletes an object with explicit propagation (`"Background"`, `"Foreground"`, `"Orphan"`).
    pub fn delete_with(
        &self,
        group: &str,
        plural: &str,
        ns: Option<&str>,
        name: &str,
        propagation: &str,
    ) -> Result<(), ApiError> {
        let mut store = self.store();
        let res = store
            .registry
            .by_key(&ResKey {
                group: group.into(),
                plural: plural.into(),
            })
            .ok_or_else(ApiError::no_such_path)?;
        let opts = DeleteOpts {
            propagation: Propagation::parse(propagation)?,
            ..DeleteOpts::default()
        };
        store.delete(&res, ns, name, &opts).map(|_| ())
    }

    /// Deletes every object that has owner references none of which exists any more (what
    /// the real garbage collector eventually does for dangling references). Returns how many
    /// deletions it started.
    pub fn collect_garbage(&self) -> usize {
        self.store().collect_garbage()
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Writes (create, update, patch, delete) so far.
    pub fn writes(&self) -> Vec<RequestRecord> {
        self.requests()
            .into_iter()
            .filter(RequestRecord::is_write)
            .collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Makes the next `times` HTTP requests with this verb (`get`, `list`, `watch`, `create`,
    /// `update`, `patch`, `delete`, `deletecollection` or `*`) on this resource (`<plural>`,
    /// `<plural>/<subresource>` or `*`; a bare plural does not match its subresources) fail with
    /// `status_code` and a Status of the matching reason. Faults are consumed in the order given.
    pub fn fail_next(&self, verb: &str, resource: &str, status_code: u16, times: usize) {
        if times == 0 {
            return;
        }
        self.inner
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Fault {
                verb: verb.into(),
                resource: resource.into(),
                code: status_code,
                remaining: times,
            });
    }

    /// Forgets the watch history: a watch resuming from any resourceVersion handed out so far
    /// gets a 410 Expired. The global resourceVersion moves on by one (as etcd's revision does
    /// with unrelated writes), so a list made afterwards gives a resourceVersion a watch can
    /// start from. Open watches continue.
    pub fn expire_history(&self) {
        let mut store = self.store();
        store.rv += 1;
        let rv = store.rv;
        store.hub.expire(rv);
    }

    /// Ends every open watch stream (clients see the stream close and re-watch).
    pub fn close_watches(&self) {
        self.store().hub.close_all();
    }

    /// Both: what clients see of an API server restart with compacted storage.
    pub fn restart(&self) {
        self.expire_history();
        self.close_watches();
    }

    /// Number of watch streams open (a stream counts until the server notices its client left).
    pub fn open_watches(&self) -> usize {
        self.store().hub.open()
    }

    /// Polls `cond` every 10 ms until it holds or `timeout` passes; returns whether it held.
    pub async fn wait_until(&self, timeout: Duration, mut cond: impl FnMut(&Self) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if cond(self) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
