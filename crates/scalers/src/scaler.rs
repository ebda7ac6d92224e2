//! The `Scaler` abstraction: one trigger of a ScaledObject, able to report its External metric's name and
//! target and to evaluate its current value. [`ScalerContext`] is the registry from trigger type to scaler and
//! owns what scalers share (HTTP clients).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use prescale_core::keda::trigger::TargetType;
use prescale_core::spec::{AuthPodIdentity, ScaleTrigger};

use crate::aws::AwsContext;
use crate::error::{Error, Result};
use crate::http::HttpClients;
use crate::prometheus::PrometheusScaler;

/// A boxed, `Send` future: what [`Scaler::evaluate`] returns (object-safe async without a macro crate).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A trigger's history as [`Scaler::history`] returns it: `(unix milliseconds, value)` points.
pub type HistoryFuture<'a> = BoxFuture<'a, Result<Vec<(i64, f64)>>>;

/// One evaluation of a trigger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// The trigger's value (the query result for Prometheus).
    pub value: f64,
    /// `value > activationThreshold`, strictly.
    pub active: bool,
}

/// A trigger that can be evaluated.
///
/// `evaluate` is async: it runs on the caller's tokio runtime, and many evaluations can be in flight at once
/// on one thread. **Cancellation** is by dropping the future (e.g. `tokio::time::timeout` or a `select!` on a
/// shutdown signal): the request is aborted and its connection closed; nothing is left running. Every
/// evaluation is also bounded by the trigger's own timeout.
pub trait Scaler: Send + Sync {
    /// The trigger type (`prometheus`).
    fn kind(&self) -> &'static str;
    /// The External metric name, `s<index>-<type>`.
    fn metric_name(&self) -> String;
    /// The HPA target type of the metric (`AverageValue` or `Value`).
    fn target_type(&self) -> TargetType;
    /// The HPA target value (`threshold`).
    fn target_value(&self) -> f64;
    /// `activationThreshold`: the trigger is active when the value is strictly greater.
    fn activation_threshold(&self) -> f64;
    /// Human-readable facts about what the scaler queries (for Prometheus: `serverAddress`, `query`, the
    /// authentication in use — never a secret).
    fn describe(&self) -> Vec<(&'static str, String)>;
    /// Queries the source once, as of `now`.
    fn evaluate(&self, now: SystemTime) -> BoxFuture<'_, Result<Evaluation>>;
    /// The trigger's history over `[start, end]` every `step`: `(unix milliseconds, value)` in increasing
    /// time order, gaps left out (for bootstrapping a forecaster). `None` when the trigger type cannot
    /// replay its history (the default).
    fn history(
        &self,
        _start: SystemTime,
        _end: SystemTime,
        _step: Duration,
    ) -> Option<HistoryFuture<'_>> {
        None
    }
}

/// A trigger's resolved authentication: what KEDA's `ResolveAuthRefAndPodIdentity` gives a scaler.
#[derive(Debug, Clone, Copy, Default)]
pub struct TriggerAuth<'a> {
    /// Parameters from the TriggerAuthentication (`secretTargetRef`, `env`, `configMapTargetRef`).
    pub params: Option<&'a BTreeMap<String, String>>,
    /// The TriggerAuthentication's `podIdentity`, if any.
    pub pod_identity: Option<&'a AuthPodIdentity>,
    /// The scale target's container environment (for metadata keys ending in `FromEnv`).
    pub resolved_env: Option<&'a BTreeMap<String, String>>,
}

/// The trigger types [`ScalerContext::build`] knows.
pub const SCALER_TYPES: &[&str] = &["prometheus"];

/// What scalers share: HTTP clients (one per TLS configuration, so one per server in practice) and, for
/// SigV4, AWS credential providers (one per role/credentials configuration, so STS is asked once for all the
/// triggers that assume one role). Build one per process (or per operator) and every scaler from it. Cheap to
/// clone.
#[derive(Debug, Clone, Default)]
pub struct ScalerContext {
    http: HttpClients,
    aws: AwsContext,
}

impl ScalerContext {
    /// A context whose AWS credentials come from this process's environment (`AWS_*` variables, `~/.aws`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A context whose AWS credential chain reads `env` instead of the process environment (tests, or a
    /// driver that resolves the environment itself).
    pub fn with_aws_env(env: prescale_aws::AwsEnv) -> Self {
        ScalerContext {
            http: HttpClients::default(),
            aws: AwsContext::new(env),
        }
    }

    /// The shared HTTP clients.
    pub fn http(&self) -> &HttpClients {
        &self.http
    }

    /// The shared AWS credential providers.
    pub fn aws(&self) -> &AwsContext {
        &self.aws
    }

    /// Builds the scaler for trigger `index`: the registry by trigger type. Any type other than
    /// [`SCALER_TYPES`] is an error naming it.
    pub fn build(
        &self,
        index: usize,
        trigger: &ScaleTrigger,
        auth: TriggerAuth<'_>,
    ) -> Result<Box<dyn Scaler>> {
        match trigger.kind.as_str() {
            "prometheus" => Ok(Box::new(PrometheusScaler::new(self, index, trigger, auth)?)),
            other => Err(Error::Config(format!(
                "trigger {index}: no scaler for trigger type {other:?} (supported: {})",
                SCALER_TYPES.join(", ")
            ))),
        }
    }
}
