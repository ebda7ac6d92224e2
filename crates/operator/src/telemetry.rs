//! The operator's own observability: a Prometheus registry with KEDA's operator metric names and labels (so
//! dashboards and alerts written for KEDA keep working) plus prescale's own, the `/metrics` router for the
//! metrics port, and the `/healthz` + `/readyz` router for the probe port.
//!
//! KEDA's metrics (`pkg/metricscollector/prommetrics.go`), all under the `keda_` prefix:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `keda_scaler_metrics_value` | gauge | namespace, metric, scaledObject, scaler, triggerIndex, type |
//! | `keda_scaler_metrics_latency_seconds` | gauge | same |
//! | `keda_scaler_active` | gauge | same |
//! | `keda_scaler_detail_errors_total` | counter | same |
//! | `keda_scaled_object_errors_total` | counter | namespace, scaledObject |
//! | `keda_scaled_job_errors_total` | counter | namespace, scaledJob |
//! | `keda_scaled_object_paused` | gauge | namespace, scaledObject |
//! | `keda_internal_scale_loop_latency_seconds` | gauge | namespace, type, resource |
//! | `keda_trigger_registered_total` | gauge | type |
//! | `keda_resource_registered_total` | gauge | type, namespace |
//!
//! `type` is `scaledobject` or `scaledjob`; `scaledObject` holds the scaled resource's name for both (as in
//! KEDA). prescale's own: `prescale_poll_round_seconds` (histogram), `prescale_leader` (gauge),
//! `prescale_external_metrics_requests_total{code}` (counter), `prescale_build_info{version}` (gauge, 1), and
//! for ScaledObjects with the proactive policy (`prescale.dev/forecast`), per trigger (labels namespace,
//! scaledObject, scaler, metric): `prescale_proactive_forecast` (the forecast with its margin; no series
//! while there is none), `prescale_proactive_value` (what the HPA's last read got),
//! `prescale_proactive_forecast_winning` (1 when the forecast is above the current value) and
//! `prescale_proactive_mode{mode}` (1 for the current mode, 0 for the others; mode is one of
//! [`PROACTIVE_MODES`], never free text, so the series stay bounded).

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

/// The content type of the OpenMetrics text exposition (the default answer of `/metrics`).
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of the Prometheus text format 0.0.4 (answered to `Accept: text/plain`).
pub const PROMETHEUS_TEXT_CONTENT_TYPE: &str =
    prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// KEDA's `resource_registered_total` types.
pub const SCALED_OBJECT_RESOURCE: &str = "scaled_object";
pub const SCALED_JOB_RESOURCE: &str = "scaled_job";
pub const TRIGGER_AUTHENTICATION_RESOURCE: &str = "trigger_authentication";
pub const CLUSTER_TRIGGER_AUTHENTICATION_RESOURCE: &str = "cluster_trigger_authentication";

/// Buckets of `prescale_poll_round_seconds` (seconds).
pub const POLL_ROUND_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The values of `prescale_proactive_mode`'s `mode` label.
pub const PROACTIVE_MODES: [&str; 3] = ["forecast", "current", "reactive"];

/// One proactive trigger's series: the label values of the `prescale_proactive_*` metrics
/// (`namespace`, `scaledObject`, `scaler`, `metric`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProactiveSeries {
    pub namespace: String,
    pub scaled_object: String,
    /// The scaler's name as KEDA reports it (e.g. `prometheusScaler`).
    pub scaler: String,
    /// The External metric name (e.g. `s0-prometheus`).
    pub metric: String,
}

impl ProactiveSeries {
    /// The series of trigger `metric` (scaler `scaler`) of the ScaledObject `key`.
    pub fn new(key: &crate::context::ObjectKey, scaler: String, metric: String) -> Self {
        ProactiveSeries {
            namespace: key.namespace.clone(),
            scaled_object: key.name.clone(),
            scaler,
            metric,
        }
    }

    fn with_mode(&self, mode: &str) -> ProactiveModeLabels {
        ProactiveModeLabels {
            namespace: self.namespace.clone(),
            scaled_object: self.scaled_object.clone(),
            scaler: self.scaler.clone(),
            metric: self.metric.clone(),
            mode: mode.to_string(),
        }
    }
}

impl EncodeLabelSet for ProactiveSeries {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
        [
            ("namespace", self.namespace.as_str()),
            ("scaledObject", self.scaled_object.as_str()),
            ("scaler", self.scaler.as_str()),
            ("metric", self.metric.as_str()),
        ]
        .encode(encoder)
    }
}

/// Which kind of scaled resource a series belongs to (KEDA's `type` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    ScaledObject,
    ScaledJob,
}

impl ResourceKind {
    /// The label value: `scaledobject` or `scaledjob`.
    pub fn label(self) -> &'static str {
        match self {
            ResourceKind::ScaledObject => "scaledobject",
            ResourceKind::ScaledJob => "scaledjob",
        }
    }
}

/// One trigger's series: the label values of the `keda_scaler_*` metrics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScalerSeries {
    pub namespace: String,
    /// The ScaledObject's (or ScaledJob's) name.
    pub scaled_object: String,
    /// The scaler's name as KEDA reports it (e.g. `prometheusScaler`).
    pub scaler: String,
    pub trigger_index: usize,
    /// The External metric name (e.g. `s0-prometheus`).
    pub metric: String,
    pub kind: ResourceKind,
}

macro_rules! label_set {
    ($name:ident { $($field:ident => $label:literal),* $(,)? }) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        struct $name {
            $($field: String),*
        }
        impl EncodeLabelSet for $name {
            fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
                [$(($label, self.$field.as_str())),*].encode(encoder)
            }
        }
    };
}

label_set!(ScalerLabels {
    namespace => "namespace",
    metric => "metric",
    scaled_object => "scaledObject",
    scaler => "scaler",
    trigger_index => "triggerIndex",
    kind => "type",
});
label_set!(ScaledObjectLabels { namespace => "namespace", scaled_object => "scaledObject" });
label_set!(ScaledJobLabels { namespace => "namespace", scaled_job => "scaledJob" });
label_set!(LoopLabels { namespace => "namespace", kind => "type", resource => "resource" });
label_set!(TypeLabels { kind => "type" });
label_set!(ResourceLabels { kind => "type", namespace => "namespace" });
label_set!(CodeLabels { code => "code" });
label_set!(ProactiveModeLabels {
    namespace => "namespace",
    scaled_object => "scaledObject",
    scaler => "scaler",
    metric => "metric",
    mode => "mode",
});

label_set!(VersionLabels { version => "version" });

impl From<&ScalerSeries> for ScalerLabels {
    fn from(s: &ScalerSeries) -> Self {
        ScalerLabels {
            namespace: s.namespace.clone(),
            metric: s.metric.clone(),
            scaled_object: s.scaled_object.clone(),
            scaler: s.scaler.clone(),
            trigger_index: s.trigger_index.to_string(),
            kind: s.kind.label().to_string(),
        }
    }
}

type GaugeF = Gauge<f64, AtomicU64>;

#[derive(Debug)]
struct Inner {
    registry: Registry,
    scaler_value: Family<ScalerLabels, GaugeF>,
    scaler_latency: Family<ScalerLabels, GaugeF>,
    scaler_active: Family<ScalerLabels, GaugeF>,
    scaler_errors: Family<ScalerLabels, Counter>,
    scaled_object_errors: Family<ScaledObjectLabels, Counter>,
    scaled_job_errors: Family<ScaledJobLabels, Counter>,
    scaled_object_paused: Family<ScaledObjectLabels, GaugeF>,
    loop_latency: Family<LoopLabels, GaugeF>,
    triggers: Family<TypeLabels, Gauge>,
    resources: Family<ResourceLabels, Gauge>,
    poll_round: Histogram,
    leader: Gauge,
    api_requests: Family<CodeLabels, Counter>,
    proactive_forecast: Family<ProactiveSeries, GaugeF>,
    proactive_value: Family<ProactiveSeries, GaugeF>,
    proactive_winning: Family<ProactiveSeries, Gauge>,
    proactive_mode: Family<ProactiveModeLabels, Gauge>,
    /// Every proactive label set created (for dropping an object's series).
    proactive_series: Mutex<BTreeSet<ProactiveSeries>>,
    /// Every scaler label set created, so the series of a deleted resource can be found (KEDA's
    /// `DeletePartialMatch`).
    scaler_series: Mutex<BTreeSet<ScalerLabels>>,
}

/// The operator's metrics. Cheap to clone (one `Arc`); every method takes `&self` and is thread-safe.
#[derive(Debug, Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves a plain set behind: still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Telemetry {
    /// A registry with every metric registered (and `prescale_build_info` set).
    pub fn new() -> Telemetry {
        let mut registry = Registry::default();
        let scaler_value = Family::<ScalerLabels, GaugeF>::default();
        let scaler_latency = Family::<ScalerLabels, GaugeF>::default();
        let scaler_active = Family::<ScalerLabels, GaugeF>::default();
        let scaler_errors = Family::<ScalerLabels, Counter>::default();
        let scaled_object_errors = Family::<ScaledObjectLabels, Counter>::default();
        let scaled_job_errors = Family::<ScaledJobLabels, Counter>::default();
        let scaled_object_paused = Family::<ScaledObjectLabels, GaugeF>::default();
        let loop_latency = Family::<LoopLabels, GaugeF>::default();
        let triggers = Family::<TypeLabels, Gauge>::default();
        let resources = Family::<ResourceLabels, Gauge>::default();
        let poll_round = Histogram::new(POLL_ROUND_BUCKETS);
        let leader = Gauge::default();
        let api_requests = Family::<CodeLabels, Counter>::default();
        let build_info = Family::<VersionLabels, Gauge>::default();
        let proactive_forecast = Family::<ProactiveSeries, GaugeF>::default();
        let proactive_value = Family::<ProactiveSeries, GaugeF>::default();
        let proactive_winning = Family::<ProactiveSeries, Gauge>::default();
        let proactive_mode = Family::<ProactiveModeLabels, Gauge>::default();
        build_info
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION").to_string(),
            })
            .set(1);

        registry.register(
            "keda_scaler_metrics_value",
            "The current value for each scaler's metric that would be used by the HPA in computing the target average",
            scaler_value.clone(),
        );
        registry.register(
            "keda_scaler_metrics_latency_seconds",
            "The latency of retrieving current metric from each scaler, in seconds",
            scaler_latency.clone(),
        );
        registry.register(
            "keda_scaler_active",
            "Indicates whether a scaler is active (1), or not (0)",
            scaler_active.clone(),
        );
        // Counters get `_total` appended by the encoder.
        registry.register(
            "keda_scaler_detail_errors",
            "The total number of errors encountered for each scaler",
            scaler_errors.clone(),
        );
        registry.register(
            "keda_scaled_object_errors",
            "The number of errors that have occurred for each ScaledObject",
            scaled_object_errors.clone(),
        );
        registry.register(
            "keda_scaled_job_errors",
            "Number of scaled job errors",
            scaled_job_errors.clone(),
        );
        registry.register(
            "keda_scaled_object_paused",
            "Indicates whether a ScaledObject is paused (1), or not (0)",
            scaled_object_paused.clone(),
        );
        registry.register(
            "keda_internal_scale_loop_latency_seconds",
            "Total deviation (in seconds) between the expected execution time and the actual execution time for the scaling loop",
            loop_latency.clone(),
        );
        // Gauges whose KEDA names end in _total.
        registry.register(
            "keda_trigger_registered_total",
            "Total number of triggers per trigger type registered",
            triggers.clone(),
        );
        registry.register(
            "keda_resource_registered_total",
            "Total number of KEDA custom resources per namespace for each custom resource type (CRD) registered",
            resources.clone(),
        );
        registry.register(
            "prescale_poll_round_seconds",
            "Duration of one poll round of a scaled resource (all its triggers evaluated), in seconds",
            poll_round.clone(),
        );
        registry.register(
            "prescale_leader",
            "Whether this replica holds the leader Lease (1) or not (0)",
            leader.clone(),
        );
        registry.register(
            "prescale_external_metrics_requests",
            "Requests to the external metrics API, by HTTP status code",
            api_requests.clone(),
        );
        registry.register(
            "prescale_proactive_forecast",
            "The proactive policy's forecast (with its margin) of each trigger's metric over the lead time",
            proactive_forecast.clone(),
        );
        registry.register(
            "prescale_proactive_value",
            "The value the HPA got at its last read of each proactive trigger's metric: max(current, forecast)",
            proactive_value.clone(),
        );
        registry.register(
            "prescale_proactive_forecast_winning",
            "Whether the forecast is above the current value (1), or not (0), at the last decision",
            proactive_winning.clone(),
        );
        registry.register(
            "prescale_proactive_mode",
            "The proactive policy's mode per trigger (1 for the current mode): forecast, current or reactive",
            proactive_mode.clone(),
        );
        registry.register(
            "prescale_build_info",
            "Build information of the prescale operator",
            build_info,
        );
        Telemetry {
            inner: Arc::new(Inner {
                registry,
                scaler_value,
                scaler_latency,
                scaler_active,
                scaler_errors,
                scaled_object_errors,
                scaled_job_errors,
                scaled_object_paused,
                loop_latency,
                triggers,
                resources,
                poll_round,
                leader,
                api_requests,
                proactive_forecast,
                proactive_value,
                proactive_winning,
                proactive_mode,
                proactive_series: Mutex::new(BTreeSet::new()),
                scaler_series: Mutex::new(BTreeSet::new()),
            }),
        }
    }

    fn scaler_labels(&self, s: &ScalerSeries) -> ScalerLabels {
        let labels = ScalerLabels::from(s);
        let mut set = lock(&self.inner.scaler_series);
        if !set.contains(&labels) {
            set.insert(labels.clone());
        }
        labels
    }

    /// `keda_scaler_metrics_value`: the trigger's metric value as the HPA sees it.
    pub fn record_scaler_metric(&self, s: &ScalerSeries, value: f64) {
        self.inner
            .scaler_value
            .get_or_create(&self.scaler_labels(s))
            .set(value);
    }

    /// `keda_scaler_active`: 1 when the trigger is active.
    pub fn record_scaler_active(&self, s: &ScalerSeries, active: bool) {
        self.inner
            .scaler_active
            .get_or_create(&self.scaler_labels(s))
            .set(if active { 1.0 } else { 0.0 });
    }

    /// `keda_scaler_metrics_latency_seconds`: how long the trigger's metric read took.
    pub fn record_scaler_latency(&self, s: &ScalerSeries, latency: Duration) {
        self.inner
            .scaler_latency
            .get_or_create(&self.scaler_labels(s))
            .set(latency.as_secs_f64());
    }

    /// A trigger's read outcome, as KEDA's `RecordScalerError`: when `failed`, increments
    /// `keda_scaler_detail_errors_total` and the resource's error counter (`keda_scaled_object_errors_total` or
    /// `keda_scaled_job_errors_total`); otherwise makes sure the trigger's error series exists (at 0).
    pub fn record_scaler_error(&self, s: &ScalerSeries, failed: bool) {
        let errors = self
            .inner
            .scaler_errors
            .get_or_create(&self.scaler_labels(s));
        if failed {
            errors.inc();
            drop(errors);
            match s.kind {
                ResourceKind::ScaledObject => {
                    self.record_scaled_object_error(&s.namespace, &s.scaled_object, true)
                }
                ResourceKind::ScaledJob => {
                    self.record_scaled_job_error(&s.namespace, &s.scaled_object, true)
                }
            }
        }
    }

    /// `keda_scaled_object_errors_total`: incremented when `failed`, created at 0 otherwise.
    pub fn record_scaled_object_error(&self, namespace: &str, name: &str, failed: bool) {
        let c = self
            .inner
            .scaled_object_errors
            .get_or_create(&so_labels(namespace, name));
        if failed {
            c.inc();
        }
    }

    /// `keda_scaled_job_errors_total`: incremented when `failed`, created at 0 otherwise.
    pub fn record_scaled_job_error(&self, namespace: &str, name: &str, failed: bool) {
        let c = self
            .inner
            .scaled_job_errors
            .get_or_create(&ScaledJobLabels {
                namespace: namespace.to_string(),
                scaled_job: name.to_string(),
            });
        if failed {
            c.inc();
        }
    }

    /// `keda_internal_scale_loop_latency_seconds`: how late the resource's poll started against its schedule.
    pub fn record_scale_loop_latency(
        &self,
        kind: ResourceKind,
        namespace: &str,
        name: &str,
        latency: Duration,
    ) {
        self.inner
            .loop_latency
            .get_or_create(&loop_labels(kind, namespace, name))
            .set(latency.as_secs_f64());
    }

    /// `keda_scaled_object_paused`.
    pub fn set_paused(&self, namespace: &str, name: &str, paused: bool) {
        self.inner
            .scaled_object_paused
            .get_or_create(&so_labels(namespace, name))
            .set(if paused { 1.0 } else { 0.0 });
    }

    /// `keda_trigger_registered_total{type}` + 1 (an empty trigger type is ignored, as in KEDA).
    pub fn increment_trigger_total(&self, trigger_type: &str) {
        self.add_trigger_total(trigger_type, 1);
    }

    /// `keda_trigger_registered_total{type}` - 1.
    pub fn decrement_trigger_total(&self, trigger_type: &str) {
        self.add_trigger_total(trigger_type, -1);
    }

    fn add_trigger_total(&self, trigger_type: &str, delta: i64) {
        if !trigger_type.is_empty() {
            self.inner
                .triggers
                .get_or_create(&TypeLabels {
                    kind: trigger_type.to_string(),
                })
                .inc_by(delta);
        }
    }

    /// `keda_resource_registered_total{type, namespace}` + 1; `resource_type` is one of the `*_RESOURCE`
    /// constants; an empty namespace counts as `default` (as in KEDA).
    pub fn increment_resource_total(&self, resource_type: &str, namespace: &str) {
        self.add_resource_total(resource_type, namespace, 1);
    }

    /// `keda_resource_registered_total{type, namespace}` - 1.
    pub fn decrement_resource_total(&self, resource_type: &str, namespace: &str) {
        self.add_resource_total(resource_type, namespace, -1);
    }

    fn add_resource_total(&self, resource_type: &str, namespace: &str, delta: i64) {
        let namespace = if namespace.is_empty() {
            "default"
        } else {
            namespace
        };
        self.inner
            .resources
            .get_or_create(&ResourceLabels {
                kind: resource_type.to_string(),
                namespace: namespace.to_string(),
            })
            .inc_by(delta);
    }

    /// `prescale_poll_round_seconds`: one poll round's duration.
    pub fn observe_poll_round(&self, duration: Duration) {
        self.inner.poll_round.observe(duration.as_secs_f64());
    }

    /// `prescale_leader`.
    pub fn set_leader(&self, leader: bool) {
        self.inner.leader.set(i64::from(leader));
    }

    /// `prescale_external_metrics_requests_total{code}` (the external metrics API server calls it).
    pub fn record_external_metrics_request(&self, code: u16) {
        self.inner
            .api_requests
            .get_or_create(&CodeLabels {
                code: code.to_string(),
            })
            .inc();
    }

    /// Remembers `s` for [`remove_proactive`](Self::remove_proactive).
    fn track_proactive(&self, s: &ProactiveSeries) {
        let mut set = lock(&self.inner.proactive_series);
        if !set.contains(s) {
            set.insert(s.clone());
        }
    }

    /// One proactive decision: `prescale_proactive_forecast` (removed when there is no forecast),
    /// `prescale_proactive_forecast_winning` and `prescale_proactive_mode` (`mode` one of [`PROACTIVE_MODES`]).
    pub fn record_proactive_decision(
        &self,
        s: &ProactiveSeries,
        forecast: Option<f64>,
        winning: bool,
        mode: &str,
    ) {
        self.track_proactive(s);
        match forecast {
            Some(f) => {
                self.inner.proactive_forecast.get_or_create(s).set(f);
            }
            None => {
                self.inner.proactive_forecast.remove(s);
            }
        }
        self.inner
            .proactive_winning
            .get_or_create(s)
            .set(i64::from(winning));
        for m in PROACTIVE_MODES {
            self.inner
                .proactive_mode
                .get_or_create(&s.with_mode(m))
                .set(i64::from(m == mode));
        }
    }

    /// `prescale_proactive_value`: what the HPA's read of a proactive trigger got.
    pub fn record_proactive_value(&self, s: &ProactiveSeries, value: f64) {
        self.track_proactive(s);
        self.inner.proactive_value.get_or_create(s).set(value);
    }

    /// Drops every `prescale_proactive_*` series of a ScaledObject (deleted, or the policy turned off).
    pub fn remove_proactive(&self, namespace: &str, name: &str) {
        let mut set = lock(&self.inner.proactive_series);
        let gone: Vec<ProactiveSeries> = set
            .iter()
            .filter(|l| l.namespace == namespace && l.scaled_object == name)
            .cloned()
            .collect();
        for l in gone {
            self.inner.proactive_forecast.remove(&l);
            self.inner.proactive_value.remove(&l);
            self.inner.proactive_winning.remove(&l);
            for m in PROACTIVE_MODES {
                self.inner.proactive_mode.remove(&l.with_mode(m));
            }
            set.remove(&l);
        }
    }

    /// Drops every series of a deleted ScaledObject: its triggers' `keda_scaler_*` and `prescale_proactive_*`
    /// series, its error counter, paused gauge and scale loop latency.
    pub fn remove_scaled_object(&self, namespace: &str, name: &str) {
        self.remove_scaler_series(ResourceKind::ScaledObject, namespace, name);
        self.remove_proactive(namespace, name);
        let so = so_labels(namespace, name);
        self.inner.scaled_object_errors.remove(&so);
        self.inner.scaled_object_paused.remove(&so);
        self.inner
            .loop_latency
            .remove(&loop_labels(ResourceKind::ScaledObject, namespace, name));
    }

    /// Drops every series of a deleted ScaledJob.
    pub fn remove_scaled_job(&self, namespace: &str, name: &str) {
        self.remove_scaler_series(ResourceKind::ScaledJob, namespace, name);
        self.inner.scaled_job_errors.remove(&ScaledJobLabels {
            namespace: namespace.to_string(),
            scaled_job: name.to_string(),
        });
        self.inner
            .loop_latency
            .remove(&loop_labels(ResourceKind::ScaledJob, namespace, name));
    }

    fn remove_scaler_series(&self, kind: ResourceKind, namespace: &str, name: &str) {
        let mut set = lock(&self.inner.scaler_series);
        let gone: Vec<ScalerLabels> = set
            .iter()
            .filter(|l| {
                l.namespace == namespace && l.scaled_object == name && l.kind == kind.label()
            })
            .cloned()
            .collect();
        for l in gone {
            self.inner.scaler_value.remove(&l);
            self.inner.scaler_latency.remove(&l);
            self.inner.scaler_active.remove(&l);
            self.inner.scaler_errors.remove(&l);
            set.remove(&l);
        }
    }

    /// The OpenMetrics text exposition (ends with `# EOF`).
    pub fn encode_openmetrics(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an encoder error would only come from a label value, and ours are
        // plain strings.
        if prometheus_client::encoding::text::encode(&mut out, &self.inner.registry).is_err() {
            tracing::warn!("encoding the metrics registry failed");
        }
        out
    }

    /// The Prometheus text format 0.0.4 exposition.
    pub fn encode_prometheus_text(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::prometheus_text::encode(&mut out, &self.inner.registry)
            .is_err()
        {
            tracing::warn!("encoding the metrics registry failed");
        }
        out
    }
}

fn so_labels(namespace: &str, name: &str) -> ScaledObjectLabels {
    ScaledObjectLabels {
        namespace: namespace.to_string(),
        scaled_object: name.to_string(),
    }
}

fn loop_labels(kind: ResourceKind, namespace: &str, name: &str) -> LoopLabels {
    LoopLabels {
        namespace: namespace.to_string(),
        kind: kind.label().to_string(),
        resource: name.to_string(),
    }
}

/// Whether the scrape asked for the Prometheus text format rather than OpenMetrics: an `Accept` naming
/// `text/plain` and not `application/openmetrics-text`.
fn wants_prometheus_text(headers: &HeaderMap) -> bool {
    let accept: String = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    accept.contains("text/plain") && !accept.contains("application/openmetrics-text")
}

async fn metrics(State(t): State<Telemetry>, headers: HeaderMap) -> Response {
    let (body, content_type) = if wants_prometheus_text(&headers) {
        (t.encode_prometheus_text(), PROMETHEUS_TEXT_CONTENT_TYPE)
    } else {
        (t.encode_openmetrics(), OPENMETRICS_CONTENT_TYPE)
    };
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// The metrics port: `GET /metrics` (OpenMetrics; Prometheus text 0.0.4 for `Accept: text/plain`).
pub fn metrics_router(telemetry: Telemetry) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(telemetry)
}

/// Whether the operator is ready (caches synced), shared between the code that knows and `/readyz`. Starts
/// not ready. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Readiness {
    /// `None` when ready, else why not.
    not_ready: Arc<Mutex<Option<String>>>,
}

impl Readiness {
    /// Not ready, with `reason`.
    pub fn new(reason: impl Into<String>) -> Readiness {
        Readiness {
            not_ready: Arc::new(Mutex::new(Some(reason.into()))),
        }
    }

    pub fn set_ready(&self) {
        *lock(&self.not_ready) = None;
    }

    pub fn set_not_ready(&self, reason: impl Into<String>) {
        *lock(&self.not_ready) = Some(reason.into());
    }

    pub fn is_ready(&self) -> bool {
        lock(&self.not_ready).is_none()
    }

    /// `Ok` when ready, else the reason.
    pub fn check(&self) -> Result<(), String> {
        match &*lock(&self.not_ready) {
            None => Ok(()),
            Some(reason) => Err(reason.clone()),
        }
    }
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness::new("caches not synced")
    }
}

/// `/readyz`: 200 `ok` when ready, else 503 with the reason.
pub(crate) fn readyz_response(readiness: Option<&Readiness>) -> Response {
    match readiness.map(Readiness::check) {
        None | Some(Ok(())) => (StatusCode::OK, "ok").into_response(),
        Some(Err(reason)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}"),
        )
            .into_response(),
    }
}

async fn readyz(State(r): State<Readiness>) -> Response {
    readyz_response(Some(&r))
}

async fn healthz() -> &'static str {
    "ok"
}

/// The probe port: `GET /healthz` and `/livez` (200 while the process serves), `GET /readyz` (200 when
/// `readiness` is set, 503 with the reason otherwise).
pub fn health_router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/livez", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(readiness)
}

/// Serves `router` over plain HTTP/1.1 on `listener` until `shutdown` completes, then lets in-flight
/// requests finish.
pub async fn serve_http<F>(
    listener: TcpListener,
    router: Router,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
