//! Watches: the event history (a bounded window, like the watch cache over etcd's compaction),
//! open watchers, and the newline-delimited JSON stream a watch request answers with.
//!
//! * Every write appends an event (`ADDED`/`MODIFIED`/`DELETED`, with the object before and after)
//!   to the history and hands it to each open watcher of that resource.
//! * Selectors are applied to both states, as the real server does: an object that starts
//!   matching arrives as `ADDED`, one that stops matching as `DELETED`.
//! * `resourceVersion=N`: the history after N, then live events. If N is older than the retained
//!   window (the history holds at most `history_limit` events, and
//!   [`crate::apiserver::FakeApiServer::expire_history`] drops it all), the stream is one `ERROR`
//!   event carrying a 410 `Expired` Status (`too old resource version: N (M)`) and ends, so
//!   clients relist.
//! * `resourceVersion` unset or `"0"`: synthetic `ADDED` events for the current state, then live
//!   events. `sendInitialEvents=true` (streaming lists) does the same and then sends a `BOOKMARK`
//!   annotated `k8s.io/initial-events-end: "true"`.
//! * `allowWatchBookmarks=true`: a `BOOKMARK` every bookmark interval, carrying the current
//!   resourceVersion, sent only when every earlier event has been delivered to that watcher.
//! * `timeoutSeconds`: the stream ends after that long; closing all watches
//!   ([`crate::apiserver::FakeApiServer::close_watches`]) ends every stream at once.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use futures_util::Stream;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Inner;
use super::resources::ResKey;
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One recorded write.
#[derive(Debug, Clone)]
pub(crate) struct HistEvent {
    pub(crate) rv: u64,
    pub(crate) key: ResKey,
    pub(crate) ty: EventType,
    pub(crate) obj: Value,
    pub(crate) old: Option<Value>,
}

/// What a watcher wants to see.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    pub(crate) key: ResKey,
    pub(crate) namespace: Option<String>,
    pub(crate) labels: LabelSelector,
    pub(crate) fields: FieldSelector,
}

impl Filter {
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        if let Some(ns) = &self.namespace
            && obj.pointer("/metadata/namespace").and_then(Value::as_str) != Some(ns.as_str())
        {
            return false;
        }
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    /// The event this watcher sees for a write, if any.
    fn translate(&self, ev: &HistEvent) -> Option<Value> {
        if ev.key != self.key {
            return None;
        }
        let now = self.matches(&ev.obj);
        let ty = match ev.ty {
            EventType::Added => now.then_some("ADDED"),
            EventType::Deleted => now.then_some("DELETED"),
            EventType::Modified => {
                let before = ev.old.as_ref().is_some_and(|o| self.matches(o));
                match (before, now) {
                    (true, true) => Some("MODIFIED"),
                    (false, true) => Some("ADDED"),
                    (true, false) => Some("DELETED"),
                    (false, false) => None,
                }
            }
        }?;
        Some(json!({ "type": ty, "object": ev.obj }))
    }
}

struct Watcher {
    filter: Filter,
    tx: mpsc::UnboundedSender<Value>,
}

/// History and open watchers.
pub(crate) struct Hub {
    history: VecDeque<HistEvent>,
    limit: usize,
    /// Events at or below this resourceVersion are gone.
    compacted: u64,
    watchers: Vec<Watcher>,
}

/// How a watch starts.
pub(crate) enum Start {
    /// ADDED for the current state (`resourceVersion` unset or "0", or `sendInitialEvents`).
    Current,
    /// History after this resourceVersion.
    After(u64),
}

impl Hub {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            history: VecDeque::new(),
            limit: limit.max(1),
            compacted: 0,
            watchers: Vec::new(),
        }
    }

    /// Records a write and delivers it to the watchers (dropping those whose stream is gone).
    pub(crate) fn emit(&mut self, ev: HistEvent) {
        self.watchers.retain(|w| match w.filter.translate(&ev) {
            Some(e) => w.tx.send(e).is_ok(),
            None => !w.tx.is_closed(),
        });
        self.history.push_back(ev);
        while self.history.len() > self.limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
    }

    /// Forgets all history up to `current` (the latest resourceVersion).
    pub(crate) fn expire(&mut self, current: u64) {
        self.history.clear();
        self.compacted = current;
    }

    /// Ends every open watch.
    pub(crate) fn close_all(&mut self) {
        self.watchers.clear();
    }

    /// Number of watches still open.
    pub(crate) fn open(&mut self) -> usize {
        self.watchers.retain(|w| !w.tx.is_closed());
        self.watchers.len()
    }

    /// Registers a watcher: the events it gets first (from history, or the given current
    /// objects), and the receiver of live events. A start before the retained window yields
    /// only an ERROR event and no receiver.
    pub(crate) fn start(
        &mut self,
        filter: Filter,
        start: Start,
        current: Vec<Value>,
    ) -> (Vec<Value>, Option<mpsc::UnboundedReceiver<Value>>) {
        let initial = match start {
            Start::Current => current
                .into_iter()
                .filter(|o| filter.matches(o))
                .map(|o| json!({ "type": "ADDED", "object": o }))
                .collect(),
            Start::After(rv) => {
                if rv < self.compacted {
                    let status = ApiError::expired(rv, self.compacted + 1).to_status();
                    return (vec![json!({ "type": "ERROR", "object": status })], None);
                }
                self.history
                    .iter()
                    .filter(|e| e.rv > rv)
                    .filter_map(|e| filter.translate(e))
                    .collect()
            }
        };
        let (tx, rx) = mpsc::unbounded_channel();
        self.watchers.push(Watcher { filter, tx });
        (initial, Some(rx))
    }
}

/// Per-stream options.
pub(crate) struct StreamOpts {
    pub(crate) bookmarks: bool,
    pub(crate) interval: Duration,
    pub(crate) timeout: Option<Duration>,
    /// Send the initial-events-end bookmark after the initial events, at this resourceVersion.
    pub(crate) initial_end: Option<u64>,
    pub(crate) api_version: String,
    pub(crate) kind: String,
    /// Transform objects to PartialObjectMetadata.
    pub(crate) meta_only: bool,
}

struct StreamState {
    inner: Arc<Inner>,
    pending: VecDeque<Value>,
    rx: Option<mpsc::UnboundedReceiver<Value>>,
    opts: StreamOpts,
    deadline: Option<Instant>,
    next_bookmark: Instant,
}

fn bookmark(opts: &StreamOpts, rv: u64, initial_end: bool) -> Value {
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        meta["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    json!({
        "type": "BOOKMARK",
        "object": { "apiVersion": opts.api_version, "kind": opts.kind, "metadata": meta },
    })
}

fn line(mut ev: Value, meta_only: bool) -> Bytes {
    if meta_only
        && ev
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "ERROR" && t != "BOOKMARK")
        && let Some(obj) = ev.get_mut("object")
    {
        *obj = super::http::partial_metadata(obj);
    }
    let mut bytes = serde_json::to_vec(&ev).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// The body stream of a watch response.
pub(crate) fn stream(
    inner: Arc<Inner>,
    initial: Vec<Value>,
    rx: Option<mpsc::UnboundedReceiver<Value>>,
    opts: StreamOpts,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let now = Instant::now();
    let mut pending: VecDeque<Value> = initial.into();
    if let Some(rv) = opts.initial_end {
        pending.push_back(bookmark(&opts, rv, true));
    }
    let state = StreamState {
        inner,
        pending,
        rx,
        deadline: opts.timeout.map(|t| now + t),
        next_bookmark: now + opts.interval,
        opts,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if let Some(ev) = st.pending.pop_front() {
            let meta_only = st.opts.meta_only;
            return Some((Ok(line(ev, meta_only)), st));
        }
        loop {
            let rx = st.rx.as_mut()?;
            let far = Instant::now() + Duration::from_secs(86_400 * 365);
            let deadline = st.deadline.unwrap_or(far);
            let tick = if st.opts.bookmarks {
                st.next_bookmark
            } else {
                far
            };
            tokio::select! {
                ev = rx.recv() => {
                    let ev = ev?;
                    let meta_only = st.opts.meta_only;
                    return Some((Ok(line(ev, meta_only)), st));
                }
                _ = tokio::time::sleep_until(deadline) => return None,
                _ = tokio::time::sleep_until(tick) => {
                    st.next_bookmark = Instant::now() + st.opts.interval;
                    // Only when everything earlier has been delivered, so the bookmark never
                    // skips an event this watcher has not seen.
                    let rv = {
                        let store = st.inner.store.lock().unwrap_or_else(PoisonError::into_inner);
                        rx.is_empty().then_some(store.rv)
                    };
                    if let Some(rv) = rv {
                        let b = bookmark(&st.opts, rv, false);
                        return Some((Ok(line(b, false)), st));
                    }
                }
            }
        }
    })
}
