//! Evaluating many triggers at once with bounded concurrency: one poll round of a fleet of ScaledObjects.
//!
//! KEDA runs one goroutine per ScaledObject and lets them all hit the metrics server at once; users report
//! slowdowns from roughly 700–1,250 ScaledObjects (keda.md §5). Here a round is a single future that keeps at
//! most `max_in_flight` evaluations running — enough to hide the round-trip latency, few enough not to
//! overload the server or open thousands of sockets — on whatever runtime drives it. Results come back in
//! the order of the input, whatever order they complete in.

use std::time::SystemTime;

use futures_util::stream::{self, StreamExt};

use crate::error::Result;
use crate::scaler::{Evaluation, Scaler};

/// The default number of evaluations in flight in [`evaluate_all`].
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// Evaluates every scaler once as of `now`, at most `max_in_flight` at a time (at least one). Dropping the
/// returned future cancels every evaluation still running.
pub async fn evaluate_all<S>(
    scalers: &[S],
    max_in_flight: usize,
    now: SystemTime,
) -> Vec<Result<Evaluation>>
where
    S: AsRef<dyn Scaler>,
{
    let mut results: Vec<(usize, Result<Evaluation>)> = stream::iter(scalers.iter().enumerate())
        .map(|(i, s)| async move { (i, s.as_ref().evaluate(now).await) })
        .buffer_unordered(max_in_flight.max(1))
        .collect()
        .await;
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
