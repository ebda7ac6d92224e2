//! A trigger's query over a time range (`GET /api/v1/query_range`), for replaying its history: the plan of
//! requests ([`RangePlan`]) and the reading of each answer, both pure.
//! [`PrometheusScaler::query_range`](super::PrometheusScaler::query_range) sends them with the trigger's
//! authentication, headers, TLS and SigV4 signing.
//!
//! **Grid.** The points are the multiples of `step` since the unix epoch that lie in `[start, end]`: the first
//! is `start` rounded up to a multiple of `step`, the last `end` rounded down. Prometheus evaluates at `start`,
//! `start + step`, … as given, but VictoriaMetrics moves `start` and `end` to multiples of `step` (for its
//! response cache, from 50 points on) and Amazon Managed Service for Prometheus aligns them too; asking for
//! an aligned grid makes every server answer at the same timestamps. `step` must be a whole, positive number
//! of milliseconds (the resolution of Prometheus timestamps).
//!
//! **Chunks.** Prometheus refuses a range query of more than 11,000 steps per series ("exceeded maximum
//! resolution of 11,000 points per timeseries"), so a longer range is sent as consecutive requests of at
//! most [`MAX_POINTS_PER_REQUEST`] points each. Chunk `k + 1` starts one step after chunk `k` ends: both
//! ends of a range query are inclusive, so no timestamp is asked for twice or skipped.
//!
//! **Answers.** A range query answers a matrix: a list of series, each with `[timestamp, "value"]` pairs.
//! - no series: an empty history, not an error (the query matched nothing in the range);
//! - one series: its points, in time order;
//! - more than one series (in one answer, or different label sets in different chunks): an error naming
//!   how many and which, as for the instant query: the trigger needs an aggregated query;
//! - `"NaN"` values are skipped: they become gaps, as a missing sample is. (At a poll KEDA would read NaN
//!   as 0 with `ignoreNullValues`, or fail the poll; whoever replays the history decides.) VictoriaMetrics
//!   never answers NaN for a NaN sample: it drops them and answers the sample before.
//! - `"+Inf"` and `"-Inf"` are errors naming the timestamp: no replica count can be computed from them,
//!   and skipping them would hide a broken query;
//! - native histogram samples are an error, as for the instant query;
//! - error answers (a non-2xx status, `"status":"error"`) are errors quoting Prometheus' `errorType` and
//!   `error`, with the instant query's status checks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::request::{decimal_seconds, rfc3339_seconds};
use super::response::{self, Answer, LISTED_SERIES, NullReason};
use crate::error::{Error, Result};

/// The most points one range request asks for. Prometheus accepts `(end - start) / step <= 11000`, i.e.
/// 11,001 points; one fewer leaves room for rounding on the server side.
pub const MAX_POINTS_PER_REQUEST: usize = 11_000;

/// A trigger's history: `(unix milliseconds, value)` in strictly increasing time order, NaN samples left
/// out. Empty when the query matched no series in the range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RangeSeries {
    pub points: Vec<(i64, f64)>,
}

impl RangeSeries {
    /// Whether the query returned no samples at all.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// The grid of a range query and its split into requests (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangePlan {
    /// The first point, unix milliseconds.
    pub first_ms: i64,
    /// The distance between points, milliseconds (positive).
    pub step_ms: i64,
    /// How many points the grid has (0 when no multiple of `step` lies in the range).
    pub points: u64,
    /// The most points per request (at least 1).
    pub max_points: u64,
}

/// One request of a [`RangePlan`]: the points `start_ms`, `start_ms + step`, …, `end_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl RangePlan {
    /// The grid of `[start, end]` with `step`, in requests of at most `max_points` points.
    ///
    /// Errors name the offending value: `start` after `end`, a `step` that is zero or not whole
    /// milliseconds, `max_points` zero, or instants beyond ±292 million years.
    pub fn new(
        start: SystemTime,
        end: SystemTime,
        step: Duration,
        max_points: usize,
    ) -> Result<Self> {
        let step_ns = step.as_nanos();
        if step_ns == 0 || !step_ns.is_multiple_of(1_000_000) {
            return Err(Error::Config(format!(
                "query_range: step {step:?} is not a positive whole number of milliseconds"
            )));
        }
        if max_points == 0 {
            return Err(Error::Config(
                "query_range: at most 0 points per request; it must be at least 1".to_owned(),
            ));
        }
        let (start_ns, end_ns) = (unix_nanos(start), unix_nanos(end));
        if start_ns > end_ns {
            return Err(Error::Config(format!(
                "query_range: start {} is after end {}",
                describe_instant(start_ns),
                describe_instant(end_ns)
            )));
        }
        let step_ns = i128::try_from(step_ns).unwrap_or(i128::MAX);
        let step_ms = i64::try_from(step_ns / 1_000_000)
            .map_err(|_| Error::Config(format!("query_range: step {step:?} is too large")))?;
        let first_index =
            start_ns.div_euclid(step_ns) + i128::from(start_ns.rem_euclid(step_ns) != 0);
        let last_index = end_ns.div_euclid(step_ns);
        let to_ms = |index: i128, which: &str, ns: i128| {
            index
                .checked_mul(i128::from(step_ms))
                .and_then(|ms| i64::try_from(ms).ok())
                .ok_or_else(|| {
                    Error::Config(format!(
                        "query_range: {which} {} is out of range",
                        describe_instant(ns)
                    ))
                })
        };
        let first_ms = to_ms(first_index, "start", start_ns)?;
        to_ms(last_index, "end", end_ns)?;
        let points = if last_index < first_index {
            0
        } else {
            u64::try_from(last_index - first_index + 1).map_err(|_| {
                Error::Config(format!(
                    "query_range: {} to {} has too many points of {step:?}",
                    describe_instant(start_ns),
                    describe_instant(end_ns)
                ))
            })?
        };
        Ok(RangePlan {
            first_ms,
            step_ms,
            points,
            max_points: u64::try_from(max_points).unwrap_or(u64::MAX),
        })
    }

    /// How many requests [`chunks`](Self::chunks) yields.
    pub fn chunk_count(&self) -> u64 {
        self.points.div_ceil(self.max_points)
    }

    /// The requests, in time order. Every point is in exactly one of them.
    pub fn chunks(&self) -> impl Iterator<Item = Chunk> + '_ {
        (0..self.chunk_count()).map(move |k| {
            let from = k * self.max_points;
            let to = (from + self.max_points).min(self.points) - 1;
            // Within i64: the last point was checked to fit in `new`.
            let at = |index: u64| {
                i64::try_from(index)
                    .ok()
                    .and_then(|i| i.checked_mul(self.step_ms))
                    .and_then(|offset| self.first_ms.checked_add(offset))
                    .unwrap_or(i64::MAX)
            };
            Chunk {
                start_ms: at(from),
                end_ms: at(to),
            }
        })
    }
}

impl Chunk {
    /// `start..end` for an error message, each in RFC 3339 and unix seconds.
    pub fn window(&self) -> String {
        format!(
            "{}..{}",
            describe_ms(self.start_ms),
            describe_ms(self.end_ms)
        )
    }
}

/// `t` as signed nanoseconds since the unix epoch.
fn unix_nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).unwrap_or(i128::MAX),
        Err(e) => -i128::try_from(e.duration().as_nanos()).unwrap_or(i128::MAX),
    }
}

fn describe_instant(ns: i128) -> String {
    let secs = i64::try_from(ns.div_euclid(1_000_000_000)).unwrap_or(if ns < 0 {
        i64::MIN
    } else {
        i64::MAX
    });
    let t = if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    };
    match t {
        Some(t) => rfc3339_seconds(t),
        None => format!("{secs} s since 1970"),
    }
}

/// The timestamp of a point for an error message: RFC 3339 and unix seconds.
fn describe_ms(ms: i64) -> String {
    format!(
        "{} ({})",
        describe_instant(i128::from(ms) * 1_000_000),
        decimal_seconds(ms)
    )
}

/// One answer's series with its labels, for checking that every chunk returned the same one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub labels: Map<String, Value>,
    pub points: Vec<(i64, f64)>,
}

/// Reads one answer of `query_range` for `query` (named in errors): its series, or `None` for none.
pub(crate) fn series(status: u16, body: &[u8], query: &str) -> Result<Option<Series>> {
    let data = response::success_data(status, body)?;
    let result = data.get("result").ok_or_else(|| {
        Error::Response(format!(
            "prometheus range query {query:?}: the answer's data has no \"result\" (keys: {})",
            response::keys(&data)
        ))
    })?;
    match data.get("resultType") {
        Some(Value::String(t)) if t == "matrix" => {}
        Some(other) => {
            return Err(Error::Response(format!(
                "prometheus range query {query:?} returned resultType {}; a range query answers a matrix",
                response::describe(other)
            )));
        }
        None => {
            return Err(Error::Response(format!(
                "prometheus range query {query:?}: the answer's data has no resultType; a range query \
                 answers a matrix"
            )));
        }
    }
    let Value::Array(list) = result else {
        return Err(Error::Response(format!(
            "prometheus range query {query:?} returned a matrix whose result is {}, not a list of series",
            response::describe(result)
        )));
    };
    match list.as_slice() {
        [] => Ok(None),
        [one] => one_series(one, query).map(Some),
        many => {
            let labels: Vec<String> = many.iter().map(labels_of).collect();
            Err(multi_series(query, &labels))
        }
    }
}

/// The multi-series error, listing the first few label sets.
fn multi_series(query: &str, labels: &[String]) -> Error {
    let mut listed: Vec<String> = labels.iter().take(LISTED_SERIES).cloned().collect();
    if labels.len() > LISTED_SERIES {
        listed.push(format!("and {} more", labels.len() - LISTED_SERIES));
    }
    Error::Response(format!(
        "prometheus range query {query:?} returned {} series, but the trigger needs exactly one (aggregate \
         the query, e.g. with sum(...)): {}",
        labels.len(),
        listed.join(", ")
    ))
}

fn labels_of(series: &Value) -> String {
    match series {
        Value::Object(s) => response::label_set_of(s),
        other => response::describe(other),
    }
}

fn one_series(series: &Value, query: &str) -> Result<Series> {
    let Value::Object(series) = series else {
        return Err(Error::Response(format!(
            "prometheus range query {query:?} returned a series {}, not an object with metric and values",
            response::describe(series)
        )));
    };
    if series.contains_key("histograms") {
        return Err(Error::Response(format!(
            "prometheus range query {query:?} returned native histogram samples for {}, not floats; use a \
             function such as histogram_quantile(...) or histogram_count(...)",
            response::label_set_of(series)
        )));
    }
    let labels = match series.get("metric") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(labels)) => labels.clone(),
        Some(other) => {
            return Err(Error::Response(format!(
                "prometheus range query {query:?} returned series labels {}, not an object",
                response::describe(other)
            )));
        }
    };
    let values = match series.get("values") {
        // Prometheus leaves `values` out of a series that has none.
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(values)) => values.as_slice(),
        Some(other) => {
            return Err(Error::Response(format!(
                "prometheus range query {query:?} returned values {}, not a list of [timestamp, \"value\"] \
                 pairs",
                response::describe(other)
            )));
        }
    };
    let mut points = Vec::with_capacity(values.len());
    let mut previous: Option<i64> = None;
    for pair in values {
        let (ms, value) = sample(pair, query)?;
        if let Some(before) = previous
            && ms <= before
        {
            return Err(Error::Response(format!(
                "prometheus range query {query:?} returned the sample at {} after the one at {}; a series' \
                 samples are in increasing time order",
                describe_ms(ms),
                describe_ms(before)
            )));
        }
        previous = Some(ms);
        if let Some(v) = value {
            points.push((ms, v));
        }
    }
    Ok(Series { labels, points })
}

/// A `[timestamp, "value"]` pair: unix milliseconds, and the value or `None` for NaN.
fn sample(pair: &Value, query: &str) -> Result<(i64, Option<f64>)> {
    let (ts, value) = match pair {
        Value::Array(items) if items.len() == 2 => (&items[0], &items[1]),
        other => {
            return Err(Error::Response(format!(
                "prometheus range query {query:?} returned the sample {}, not a [timestamp, \"value\"] pair",
                response::describe(other)
            )));
        }
    };
    let ms = match ts.as_f64().map(|secs| (secs * 1000.0).round()) {
        // Within ±2^53: every millisecond is exact in an f64 and converts to i64 as is.
        Some(ms) if ms.abs() <= 9_007_199_254_740_992.0 => ms as i64,
        _ => {
            return Err(Error::Response(format!(
                "prometheus range query {query:?} returned the timestamp {}, not unix seconds",
                response::describe(ts)
            )));
        }
    };
    let answer = response::parse_value(value).map_err(|e| match e {
        Error::Response(msg) => Error::Response(format!(
            "{msg} (range query {query:?}, sample at {})",
            describe_ms(ms)
        )),
        other => other,
    })?;
    match answer {
        Answer::Value(v) => Ok((ms, Some(v))),
        Answer::Null(NullReason::NaN) => Ok((ms, None)),
        Answer::Null(reason) => Err(Error::Response(format!(
            "prometheus range query {query:?} returned {} at {}; an infinite value has no replica count \
             (check the query for a division by zero)",
            match reason {
                NullReason::NegInf => "-Inf",
                _ => "+Inf",
            },
            describe_ms(ms)
        ))),
    }
}

/// Concatenates the answers of a plan's chunks into one history.
#[derive(Debug, Default)]
pub(crate) struct Stitcher {
    labels: Option<Map<String, Value>>,
    points: Vec<(i64, f64)>,
}

impl Stitcher {
    /// Appends one chunk's answer. A series with other labels than an earlier chunk's is the multi-series
    /// error; a point not after the last one kept (which a server keeping to the requested grid never
    /// sends) is dropped, so timestamps stay strictly increasing.
    pub(crate) fn push(&mut self, series: Option<Series>, query: &str) -> Result<()> {
        let Some(series) = series else {
            return Ok(());
        };
        match &self.labels {
            Some(labels) if *labels != series.labels => {
                return Err(multi_series(
                    query,
                    &[
                        response::label_set_of(&labels_object(labels)),
                        response::label_set_of(&labels_object(&series.labels)),
                    ],
                ));
            }
            Some(_) => {}
            None => self.labels = Some(series.labels),
        }
        let last = self.points.last().map(|&(t, _)| t);
        self.points.extend(
            series
                .points
                .into_iter()
                .filter(|&(t, _)| last.is_none_or(|last| t > last)),
        );
        Ok(())
    }

    pub(crate) fn finish(self) -> RangeSeries {
        RangeSeries {
            points: self.points,
        }
    }
}

/// `{"metric": labels}`, the shape [`response::label_set_of`] reads.
fn labels_object(labels: &Map<String, Value>) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("metric".to_owned(), Value::Object(labels.clone()));
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn chunks(plan: &RangePlan) -> Vec<(i64, i64)> {
        plan.chunks().map(|c| (c.start_ms, c.end_ms)).collect()
    }

    #[test]
    fn plan_aligns_the_grid_to_multiples_of_step_within_the_range() {
        let step = Duration::from_secs(15);
        // 100.001 s .. 160 s: the first multiple of 15 s at or after the start is 105 s, the last 150 s.
        let plan = RangePlan::new(t(100_001), t(160_000), step, 11_000).unwrap();
        assert_eq!(plan.first_ms, 105_000);
        assert_eq!(plan.points, 4);
        assert_eq!(chunks(&plan), vec![(105_000, 150_000)]);
        // Ends on the grid are included.
        let plan = RangePlan::new(t(105_000), t(150_000), step, 11_000).unwrap();
        assert_eq!((plan.first_ms, plan.points), (105_000, 4));
        // start == end on the grid: one point; off the grid: none, and no request.
        let plan = RangePlan::new(t(105_000), t(105_000), step, 11_000).unwrap();
        assert_eq!(chunks(&plan), vec![(105_000, 105_000)]);
        let plan = RangePlan::new(t(106_000), t(119_999), step, 11_000).unwrap();
        assert_eq!(plan.points, 0);
        assert!(chunks(&plan).is_empty());
    }

    #[test]
    fn plan_handles_instants_before_1970_and_sub_millisecond_parts() {
        let step = Duration::from_secs(10);
        let start = UNIX_EPOCH - Duration::from_millis(25_000);
        let end = UNIX_EPOCH + Duration::from_nanos(10_000_000_001);
        let plan = RangePlan::new(start, end, step, 100).unwrap();
        assert_eq!(chunks(&plan), vec![(-20_000, 10_000)]);
        assert_eq!(plan.points, 4);
        // A start a nanosecond after a grid point rounds up to the next one.
        let plan =
            RangePlan::new(UNIX_EPOCH + Duration::from_nanos(1), t(20_000), step, 100).unwrap();
        assert_eq!(plan.first_ms, 10_000);
    }

    #[test]
    fn chunks_cover_every_point_once_and_respect_the_limit() {
        for (points, max) in [
            (1u64, 1usize),
            (7, 3),
            (9, 3),
            (10, 3),
            (22_001, 11_000),
            (11_000, 11_000),
        ] {
            let step_ms = 15_000i64;
            let first = 1_705_581_000_000i64; // a multiple of 15 s
            let last = first + (i64::try_from(points).unwrap() - 1) * step_ms;
            let plan = RangePlan::new(
                t(u64::try_from(first).unwrap()),
                t(u64::try_from(last).unwrap() + 14_999),
                Duration::from_millis(15_000),
                max,
            )
            .unwrap();
            assert_eq!(plan.points, points);
            let cs = chunks(&plan);
            let mut covered = Vec::new();
            for (i, &(s, e)) in cs.iter().enumerate() {
                assert!(e >= s);
                let n = (e - s) / step_ms + 1;
                assert!(
                    n <= i64::try_from(max).unwrap(),
                    "{points}/{max}: chunk {i} has {n}"
                );
                // Prometheus' own limit.
                assert!((e - s) / step_ms <= 11_000);
                if i > 0 {
                    assert_eq!(s, cs[i - 1].1 + step_ms, "{points}/{max}: border {i}");
                }
                covered.extend((0..n).map(|k| s + k * step_ms));
            }
            let expected: Vec<i64> = (0..i64::try_from(points).unwrap())
                .map(|k| first + k * step_ms)
                .collect();
            assert_eq!(covered, expected, "{points}/{max}");
            assert_eq!(
                cs.len(),
                usize::try_from(points.div_ceil(max as u64)).unwrap()
            );
        }
    }

    #[test]
    fn plan_rejects_bad_arguments_naming_them() {
        let err = RangePlan::new(t(2_000), t(1_000), Duration::from_secs(1), 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "query_range: start 1970-01-01T00:00:02Z is after end 1970-01-01T00:00:01Z"
        );
        for step in [
            Duration::ZERO,
            Duration::from_micros(1500),
            Duration::from_nanos(1),
        ] {
            let err = RangePlan::new(t(0), t(1_000), step, 10).unwrap_err();
            assert!(
                err.to_string().contains(&format!(
                    "step {step:?} is not a positive whole number of milliseconds"
                )),
                "{err}"
            );
        }
        let err = RangePlan::new(t(0), t(1_000), Duration::from_secs(1), 0).unwrap_err();
        assert!(err.to_string().contains("at most 0 points"), "{err}");
        let huge = UNIX_EPOCH + Duration::from_secs(u64::MAX / 2);
        assert!(matches!(
            RangePlan::new(t(0), huge, Duration::from_millis(1), 10),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn range_url_encodes_like_the_instant_query_and_keeps_the_extra_parameters() {
        use crate::prometheus::request::{QueryUrl, RangeQueryUrl};
        let params = vec![
            ("dedup".to_owned(), "true".to_owned()),
            ("a b".to_owned(), "x+y&z".to_owned()),
        ];
        let q = "sum(rate(ho11y_total{job=\"ho11y\"}[1m])) + 1";
        let range = RangeQueryUrl::new(
            "https://aps.example/workspaces/ws-1",
            q,
            Some("team-a"),
            &params,
        );
        let url = range.window(1_705_581_285_000, 1_705_581_300_500, 15_250);
        assert_eq!(
            url,
            "https://aps.example/workspaces/ws-1/api/v1/query_range?query=sum%28rate%28ho11y_total%7Bjob%3D%22ho11y\
             %22%7D%5B1m%5D%29%29%20%2B%201&start=1705581285&end=1705581300.5&step=15.25&namespace=team-a\
             &dedup=true&a%20b=x%2By%26z"
        );
        // The query and the extra parameters are exactly the instant query's.
        let instant = QueryUrl::new(
            "https://aps.example/workspaces/ws-1",
            q,
            Some("team-a"),
            &params,
        )
        .at(UNIX_EPOCH);
        let after = |u: &str, key: &str| {
            u.split_once(key)
                .unwrap()
                .1
                .split('&')
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(after(&url, "query="), after(&instant, "query="));
        assert!(
            instant.ends_with("&namespace=team-a&dedup=true&a%20b=x%2By%26z"),
            "{instant}"
        );
        // No namespace, no parameters: nothing after step.
        let bare = RangeQueryUrl::new("http://p:9090", "up", None, &[]).window(0, 60_000, 60_000);
        assert_eq!(
            bare,
            "http://p:9090/api/v1/query_range?query=up&start=0&end=60&step=60"
        );
    }

    #[test]
    fn decimal_seconds_trims_the_fraction() {
        use crate::prometheus::request::decimal_seconds;
        let cases = [
            (0, "0"),
            (15_000, "15"),
            (1_500, "1.5"),
            (250, "0.25"),
            (1, "0.001"),
            (1_705_581_296_789, "1705581296.789"),
            (-250, "-0.25"),
            (-15_000, "-15"),
            (i64::MIN, "-9223372036854775.808"),
        ];
        for (ms, text) in cases {
            assert_eq!(decimal_seconds(ms), text, "{ms}");
        }
    }

    /// One answer read and joined as `query_range` does with each chunk's.
    fn interpret(status: u16, body: &[u8], query: &str) -> Result<RangeSeries> {
        let mut joined = Stitcher::default();
        joined.push(series(status, body, query)?, query)?;
        Ok(joined.finish())
    }

    fn matrix(series: &str) -> String {
        format!(r#"{{"status":"success","data":{{"resultType":"matrix","result":[{series}]}}}}"#)
    }

    #[test]
    fn one_series_reads_timestamps_as_milliseconds_and_values_as_floats() {
        let body = matrix(
            r#"{"metric":{"job":"a"},"values":[[1705581296,"1"],[1705581296.5,"2.25"],[1705581297.125,"-3e2"]]}"#,
        );
        let s = interpret(200, body.as_bytes(), "q").unwrap();
        assert_eq!(
            s.points,
            vec![
                (1_705_581_296_000, 1.0),
                (1_705_581_296_500, 2.25),
                (1_705_581_297_125, -300.0)
            ]
        );
    }

    #[test]
    fn no_series_is_an_empty_history() {
        let s = interpret(200, matrix("").as_bytes(), "q").unwrap();
        assert!(s.is_empty());
        // A series without values (Prometheus omits an empty list) is empty too.
        let s = interpret(200, matrix(r#"{"metric":{}}"#).as_bytes(), "q").unwrap();
        assert!(s.is_empty());
    }

    #[test]
    fn nan_is_a_gap_and_infinities_are_errors_naming_the_timestamp() {
        let body = matrix(r#"{"metric":{},"values":[[10,"1"],[25,"NaN"],[40,"3"]]}"#);
        assert_eq!(
            interpret(200, body.as_bytes(), "q").unwrap().points,
            vec![(10_000, 1.0), (40_000, 3.0)]
        );
        for (text, shown) in [("+Inf", "+Inf"), ("-Inf", "-Inf")] {
            let body = matrix(&format!(
                r#"{{"metric":{{}},"values":[[10,"1"],[1705581296.5,"{text}"]]}}"#
            ));
            let err = interpret(200, body.as_bytes(), "sum(a)/sum(b)").unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "prometheus range query \"sum(a)/sum(b)\" returned {shown} at 2024-01-18T12:34:56Z \
                     (1705581296.5); an infinite value has no replica count (check the query for a \
                     division by zero)"
                )
            );
        }
    }

    #[test]
    fn several_series_are_the_multi_series_error() {
        let body = matrix(
            r#"{"metric":{"instance":"a:1"},"values":[[1,"1"]]},{"metric":{"instance":"b:1"},"values":[[1,"2"]]}"#,
        );
        let err = interpret(200, body.as_bytes(), "up").unwrap_err();
        assert_eq!(
            err.to_string(),
            "prometheus range query \"up\" returned 2 series, but the trigger needs exactly one (aggregate \
             the query, e.g. with sum(...)): {instance=\"a:1\"}, {instance=\"b:1\"}"
        );
        let five: Vec<String> = (0..5)
            .map(|i| format!(r#"{{"metric":{{"i":"{i}"}},"values":[]}}"#))
            .collect();
        let err = interpret(200, matrix(&five.join(",")).as_bytes(), "up").unwrap_err();
        assert!(err.to_string().contains("returned 5 series"), "{err}");
        assert!(err.to_string().ends_with("{i=\"2\"}, and 2 more"), "{err}");
    }

    #[test]
    fn error_answers_quote_the_server() {
        let body = r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"}"#;
        match interpret(400, body.as_bytes(), "sum(").unwrap_err() {
            Error::Api {
                status: 400,
                error_type: Some(t),
                message: Some(m),
                body_excerpt: None,
            } => {
                assert_eq!(t, "bad_data");
                assert_eq!(m, "1:5: parse error: unclosed left parenthesis");
            }
            other => panic!("{other:?}"),
        }
        // "status":"error" with 200, and a non-Prometheus body with a 502.
        let err = interpret(
            200,
            br#"{"status":"error","errorType":"execution","error":"boom"}"#,
            "q",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "prometheus query api returned error. status: 200: execution: boom"
        );
        let err = interpret(502, b"<html>Bad Gateway</html>", "q").unwrap_err();
        assert!(err.to_string().contains("status: 502"), "{err}");
        assert!(err.to_string().contains("Bad Gateway"), "{err}");
    }

    #[test]
    fn other_result_types_and_malformed_answers_are_errors() {
        let cases: [(&str, &str); 9] = [
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
                "returned resultType a string \"vector\"; a range query answers a matrix",
            ),
            (
                r#"{"status":"success","data":{"result":[]}}"#,
                "has no resultType",
            ),
            (
                r#"{"status":"success","data":{"resultType":"matrix"}}"#,
                "has no \"result\"",
            ),
            (
                r#"{"status":"success","data":{"resultType":"matrix","result":{}}}"#,
                "whose result is an object {}, not a list of series",
            ),
            (
                &matrix(r#"{"metric":{},"values":[[1,2]]}"#),
                "returned the value a number 2, but values are strings",
            ),
            (
                &matrix(r#"{"metric":{},"values":[[1,"x"]]}"#),
                "\"x\", which is not a number (range query \"q\", sample at 1970-01-01T00:00:01Z (1))",
            ),
            (
                &matrix(r#"{"metric":{},"values":[["1","2"]]}"#),
                "returned the timestamp a string \"1\", not unix seconds",
            ),
            (
                &matrix(r#"{"metric":{},"values":[[2,"1"],[1,"1"]]}"#),
                "returned the sample at 1970-01-01T00:00:01Z (1) after the one at 1970-01-01T00:00:02Z (2)",
            ),
            (
                &matrix(r#"{"metric":{"le":"1"},"histograms":[[1,{"count":"1"}]]}"#),
                "returned native histogram samples for {le=\"1\"}",
            ),
        ];
        for (body, expected) in cases {
            let err = interpret(200, body.as_bytes(), "q").unwrap_err();
            assert!(matches!(err, Error::Response(_)), "{body}: {err:?}");
            assert!(err.to_string().contains(expected), "{body}: {err}");
        }
    }

    fn one(labels: &str, points: &[(i64, f64)]) -> Option<Series> {
        let Value::Object(labels) = serde_json::from_str(labels).unwrap() else {
            panic!()
        };
        Some(Series {
            labels,
            points: points.to_vec(),
        })
    }

    #[test]
    fn stitching_concatenates_skips_empty_chunks_and_drops_overlap() {
        let mut s = Stitcher::default();
        s.push(None, "q").unwrap();
        s.push(one(r#"{"job":"a"}"#, &[(1, 1.0), (2, 2.0)]), "q")
            .unwrap();
        s.push(None, "q").unwrap();
        // A repeated timestamp at the border is kept once (the first answer's).
        s.push(one(r#"{"job":"a"}"#, &[(2, 9.0), (3, 3.0)]), "q")
            .unwrap();
        assert_eq!(s.finish().points, vec![(1, 1.0), (2, 2.0), (3, 3.0)]);
    }

    #[test]
    fn stitching_refuses_a_different_series_in_a_later_chunk() {
        let mut s = Stitcher::default();
        s.push(one(r#"{"pod":"a"}"#, &[(1, 1.0)]), "q").unwrap();
        let err = s.push(one(r#"{"pod":"b"}"#, &[(2, 1.0)]), "q").unwrap_err();
        assert_eq!(
            err.to_string(),
            "prometheus range query \"q\" returned 2 series, but the trigger needs exactly one (aggregate \
             the query, e.g. with sum(...)): {pod=\"a\"}, {pod=\"b\"}"
        );
    }
}
