//! The external metrics API's values: KEDA's `GetScaledObjectMetrics` served from this process's scalers and
//! engine state. Every replica serves: the ScaledObject comes from a watch-fed cache (not from the
//! controller, which only the leader runs), its scalers are built on first use, and fallback counts are
//! shared with the scale loop when this replica leads.

use std::sync::Arc;

use kube::runtime::reflector::{ObjectRef, Store};
use prescale_k8s::ScaledObject;

use crate::apiserver::{ExternalMetricValue, MetricError, MetricFuture, MetricSource};
use crate::clock::timestamp;
use crate::context::{Context, ObjectKey};
use crate::external_metrics::MetricRequest;
use crate::scale_loop::external_metric;

/// The operator's [`MetricSource`].
#[derive(Clone)]
pub struct OperatorMetrics {
    ctx: Arc<Context>,
    cache: Store<ScaledObject>,
}

impl OperatorMetrics {
    /// Values for ScaledObjects found in `cache`.
    pub fn new(ctx: Arc<Context>, cache: Store<ScaledObject>) -> Self {
        OperatorMetrics { ctx, cache }
    }
}

impl MetricSource for OperatorMetrics {
    fn external_metric(&self, request: MetricRequest) -> MetricFuture {
        let this = self.clone();
        Box::pin(async move {
            let so = this
                .cache
                .get(&ObjectRef::new(&request.scaled_object).within(&request.namespace))
                .ok_or_else(|| MetricError::scaled_object_not_found(&request.scaled_object))?;
            let key = ObjectKey {
                namespace: request.namespace.clone(),
                name: request.scaled_object.clone(),
            };
            let tracked = match this.ctx.get(&key) {
                Some(t) => {
                    // The cache may be ahead of what the loop saw (a new generation): take the newer.
                    let mut st = t.state.lock().await;
                    // Only a newer spec replaces what the loop holds (a same-generation copy from the cache may
                    // carry an older status).
                    if so.metadata.generation > st.object.metadata.generation {
                        st.object = so.clone();
                    }
                    drop(st);
                    t
                }
                None => this.ctx.track(&so).await,
            };
            {
                let mut st = tracked.state.lock().await;
                if st.target.is_none()
                    && let Ok(t) = crate::reconciler::resolve_target(&this.ctx, &so.to_core()).await
                {
                    st.target = Some(t);
                }
            }
            let now = timestamp(this.ctx.clock.now());
            match external_metric(&this.ctx, &tracked, &request.metric).await {
                Ok(values) => Ok(values
                    .into_iter()
                    .map(|milli| ExternalMetricValue {
                        metric_name: request.metric.clone(),
                        metric_labels: Default::default(),
                        value: milli as f64 / 1000.0,
                        timestamp: now,
                    })
                    .collect()),
                Err(e) if e.starts_with("no matching metrics found") => {
                    Err(MetricError::NotFound(e))
                }
                Err(e) => Err(MetricError::Internal(e)),
            }
        })
    }
}
