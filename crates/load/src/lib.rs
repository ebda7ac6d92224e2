//! prescale-load: the engine of `prescale load`, an open-loop HTTP load generator.
//!
//! Arrivals follow a schedule fixed in advance (request `i` is due at `start + i / rate`, or at the
//! matching point of a replayed trace); each request is sent at its due time whether or not earlier
//! ones have been answered, and its latency is measured from the due time. Time a request spends
//! waiting inside the generator (a late timer, the `concurrency` cap) therefore counts as latency:
//! there is no coordinated omission.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

/// Everything that can go wrong before or while generating load.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("rate {0} is not a positive, finite number of requests per second")]
    Rate(f64),
    #[error("duration {0:?} is not valid: {1}")]
    Duration(String, String),
    #[error("concurrency {0} is not valid: it must be at least 1")]
    Concurrency(usize),
    #[error("speedup {0} is not a positive, finite number")]
    Speedup(f64),
    #[error("URL {url:?} is not valid: {message}")]
    Url { url: String, message: String },
    #[error("profile row {row}: {message}")]
    ProfileRow { row: usize, message: String },
    #[error("profile: {0}")]
    Profile(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("cannot create the latency histogram: {0}")]
    Histogram(String),
}

/// Parse the target URL: absolute, `http` or `https`, with a host.
pub fn parse_url(text: &str) -> Result<reqwest::Url, Error> {
    let bad = |m: String| Error::Url {
        url: text.to_owned(),
        message: m,
    };
    let url = reqwest::Url::parse(text).map_err(|e| bad(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad(format!(
            "scheme {:?} is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host".into()));
    }
    Ok(url)
}

/// A trace's shape: a step function of time (each row's value holds until the next row; the last row
/// holds as long as the interval before it, or one second for a single row).
#[derive(Clone, Debug)]
pub struct Profile {
    /// (start, end, value), seconds from the first row.
    segments: Vec<(f64, f64, f64)>,
    span: f64,
    mean: f64,
}

impl Profile {
    /// Build from (time in seconds, value) rows in time order. Values must be finite and not negative, and
    /// not all zero.
    pub fn new(rows: &[(f64, f64)]) -> Result<Profile, Error> {
        let first = rows
            .first()
            .ok_or_else(|| Error::Profile("the trace has no rows".into()))?;
        for (i, &(t, v)) in rows.iter().enumerate() {
            if !t.is_finite() {
                return Err(Error::ProfileRow {
                    row: i + 1,
                    message: format!("time {t} is not finite"),
                });
            }
            if !v.is_finite() || v < 0.0 {
                return Err(Error::ProfileRow {
                    row: i + 1,
                    message: format!("value {v} is not a finite number >= 0"),
                });
            }
            if i > 0 && t <= rows[i - 1].0 {
                return Err(Error::ProfileRow {
                    row: i + 1,
                    message: format!("time {t} is not after the previous row's {}", rows[i - 1].0),
                });
            }
        }
        let origin = first.0;
        let mut segments = Vec::with_capacity(rows.len());
        for (i, &(t, v)) in rows.iter().enumerate() {
            let start = t - origin;
            let end = match rows.get(i + 1) {
                Some(next) => next.0 - origin,
                None if i > 0 => start + (t - rows[i - 1].0),
                None => start + 1.0,
            };
            segments.push((start, end, v));
        }
        let span = segments.last().map_or(1.0, |s| s.1);
        let area: f64 = segments.iter().map(|&(a, b, v)| (b - a) * v).sum();
        let mean = area / span;
        if !(mean > 0.0 && mean.is_finite()) {
            return Err(Error::Profile(format!(
                "the trace's time-weighted mean is {mean}: it must be positive to be scaled to a rate"
            )));
        }
        Ok(Profile {
            segments,
            span,
            mean,
        })
    }

    /// The trace's length in seconds (its own time, before `speedup`).
    pub fn span_seconds(&self) -> f64 {
        self.span
    }

    /// The time-weighted mean of the trace's values.
    pub fn mean(&self) -> f64 {
        self.mean
    }
}

/// The due times of a run, in seconds from its start, in order. With a profile the trace repeats when the
/// duration is longer than the (sped-up) trace.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// One cycle: (start, end, rate) in wall-clock seconds.
    cycle: Vec<(f64, f64, f64)>,
    cycle_len: f64,
    duration: f64,
    seg: usize,
    offset: f64,
    count_before: f64,
    next: u64,
}

impl Schedule {
    /// The schedule of `config` (which is validated first).
    pub fn new(config: &Config) -> Result<Schedule, Error> {
        config.validate()?;
        let duration = config.duration.as_secs_f64();
        let (cycle, cycle_len) = match &config.profile {
            None => (vec![(0.0, duration, config.rate)], duration),
            Some(p) => {
                let k = config.rate / p.mean;
                let s = config.speedup;
                // A cycle shorter than this would make the schedule spin on floating-point steps.
                if p.span / s < 1e-3 {
                    return Err(Error::Profile(format!(
                        "speedup {s} compresses the profile's {} s into less than a millisecond",
                        p.span
                    )));
                }
                (
                    p.segments
                        .iter()
                        .map(|&(a, b, v)| (a / s, b / s, v * k))
                        .collect(),
                    p.span / s,
                )
            }
        };
        Ok(Schedule {
            cycle,
            cycle_len,
            duration,
            seg: 0,
            offset: 0.0,
            count_before: 0.0,
            next: 0,
        })
    }
}

impl Iterator for Schedule {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        loop {
            let &(a, b, r) = self.cycle.get(self.seg)?;
            let (a, b) = (a + self.offset, b + self.offset);
            if a >= self.duration {
                return None;
            }
            let i = self.next as f64;
            if r > 0.0 && i < self.count_before + r * (b - a) {
                let t = a + (i - self.count_before) / r;
                if t >= self.duration {
                    return None;
                }
                self.next += 1;
                return Some(t);
            }
            self.count_before += r * (b - a);
            self.seg += 1;
            if self.seg == self.cycle.len() {
                self.seg = 0;
                self.offset += self.cycle_len;
            }
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    pub url: reqwest::Url,
    /// Requests per second (the mean rate when a profile is given).
    pub rate: f64,
    pub duration: Duration,
    /// At most this many requests in flight; requests that cannot start on time wait, and their latency
    /// still counts from their due time.
    pub concurrency: Option<usize>,
    pub profile: Option<Profile>,
    /// Trace seconds per wall-clock second when replaying a profile.
    pub speedup: f64,
    /// Per-request timeout (connect, send and read the whole body).
    pub timeout: Duration,
}

impl Config {
    /// A constant-rate run with no concurrency cap and a 30 s timeout.
    pub fn new(url: reqwest::Url, rate: f64, duration: Duration) -> Config {
        Config {
            url,
            rate,
            duration,
            concurrency: None,
            profile: None,
            speedup: 1.0,
            timeout: Duration::from_secs(30),
        }
    }

    /// Check the numbers.
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(Error::Rate(self.rate));
        }
        if self.duration.is_zero() {
            return Err(Error::Duration(
                format!("{:?}", self.duration),
                "it must be positive".into(),
            ));
        }
        if let Some(c) = self.concurrency
            && c == 0
        {
            return Err(Error::Concurrency(c));
        }
        if !(self.speedup.is_finite() && self.speedup > 0.0) {
            return Err(Error::Speedup(self.speedup));
        }
        Ok(())
    }
}

/// Counters updated while the run goes on (for a progress display).
#[derive(Debug, Default)]
pub struct Live {
    pub sent: AtomicU64,
    pub completed: AtomicU64,
    pub errors: AtomicU64,
}

/// Requests that got no HTTP response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    /// The connection could not be established.
    pub connect: u64,
    /// No complete response within the timeout.
    pub timeout: u64,
    /// Anything else (connection reset, malformed response, …).
    pub other: u64,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.other
    }
}

/// Latency percentiles in milliseconds, from each request's due time to the end of its response body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// The outcome of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub url: String,
    pub target_rate: f64,
    pub duration_seconds: f64,
    /// From the start to the end of the duration or the last response or error, whichever is later.
    pub elapsed_seconds: f64,
    pub sent: u64,
    /// Requests answered with a complete HTTP response (any status).
    pub completed: u64,
    pub errors: ErrorCounts,
    /// Completed requests by HTTP status code.
    pub status_codes: BTreeMap<u16, u64>,
    /// Requests sent per second of the configured duration.
    pub offered_rate: f64,
    /// Completed requests per second of elapsed time.
    pub throughput: f64,
    /// None when no request completed.
    pub latency: Option<Latency>,
    /// How late the generator started its most delayed request (timer slack, concurrency cap).
    pub max_start_lag_ms: f64,
}

struct Shared {
    hist: Mutex<Histogram<u64>>,
    statuses: Mutex<BTreeMap<u16, u64>>,
    connect: AtomicU64,
    timeout: AtomicU64,
    other: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Run the load; `live` is updated as requests are sent and finish.
pub async fn run(config: &Config, live: Arc<Live>) -> Result<Report, Error> {
    let schedule = Schedule::new(config)?;
    prescale_aws::install_crypto_provider();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(config.timeout)
        .tcp_nodelay(true)
        .build()
        .map_err(Error::Client)?;
    let hist = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)
        .map_err(|e| Error::Histogram(e.to_string()))?;
    let shared = Arc::new(Shared {
        hist: Mutex::new(hist),
        statuses: Mutex::new(BTreeMap::new()),
        connect: AtomicU64::new(0),
        timeout: AtomicU64::new(0),
        other: AtomicU64::new(0),
    });
    let cap = config.concurrency.map(|c| Arc::new(Semaphore::new(c)));
    // Every request task holds a clone of `done_tx`; `recv` returns None once all have finished.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let mut max_lag = Duration::ZERO;
    let start = Instant::now();
    for due in schedule {
        let due_at = start + Duration::from_secs_f64(due);
        if due_at > Instant::now() {
            tokio::time::sleep_until(due_at).await;
        }
        let permit = match &cap {
            Some(s) => match Arc::clone(s).acquire_owned().await {
                Ok(p) => Some(p),
                Err(_) => break, // never closed
            },
            None => None,
        };
        max_lag = max_lag.max(Instant::now().saturating_duration_since(due_at));
        live.sent.fetch_add(1, Ordering::Relaxed);
        let request = client.get(config.url.clone());
        let shared = Arc::clone(&shared);
        let live = Arc::clone(&live);
        let done = done_tx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _done = done;
            let outcome = match request.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    resp.bytes().await.map(|_| status)
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok(status) => {
                    let micros = u64::try_from(due_at.elapsed().as_micros()).unwrap_or(u64::MAX);
                    lock(&shared.hist).saturating_record(micros.max(1));
                    *lock(&shared.statuses).entry(status).or_insert(0) += 1;
                    live.completed.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    let counter = if e.is_timeout() {
                        &shared.timeout
                    } else if e.is_connect() {
                        &shared.connect
                    } else {
                        &shared.other
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    live.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    // The run lasts at least its duration (the last request may be due well before its end), then until
    // every request has been answered or failed.
    tokio::time::sleep_until(start + config.duration).await;
    drop(done_tx);
    while done_rx.recv().await.is_some() {}
    let elapsed = start.elapsed().as_secs_f64();

    let sent = live.sent.load(Ordering::Relaxed);
    let status_codes = lock(&shared.statuses).clone();
    let completed: u64 = status_codes.values().sum();
    let hist = lock(&shared.hist);
    let ms = |us: u64| us as f64 / 1000.0;
    let latency = (!hist.is_empty()).then(|| Latency {
        p50_ms: ms(hist.value_at_quantile(0.5)),
        p90_ms: ms(hist.value_at_quantile(0.9)),
        p99_ms: ms(hist.value_at_quantile(0.99)),
        max_ms: ms(hist.max()),
        mean_ms: hist.mean() / 1000.0,
    });
    let duration = config.duration.as_secs_f64();
    Ok(Report {
        url: config.url.to_string(),
        target_rate: config.rate,
        duration_seconds: duration,
        elapsed_seconds: elapsed,
        sent,
        completed,
        errors: ErrorCounts {
            connect: shared.connect.load(Ordering::Relaxed),
            timeout: shared.timeout.load(Ordering::Relaxed),
            other: shared.other.load(Ordering::Relaxed),
        },
        status_codes,
        offered_rate: sent as f64 / duration,
        throughput: if elapsed > 0.0 {
            completed as f64 / elapsed
        } else {
            0.0
        },
        latency,
        max_start_lag_ms: max_lag.as_secs_f64() * 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rate: f64, secs: f64) -> Config {
        Config::new(
            parse_url("http://127.0.0.1:1/").unwrap(),
            rate,
            Duration::from_secs_f64(secs),
        )
    }

    #[test]
    fn constant_schedule_is_i_over_rate() {
        let due: Vec<f64> = Schedule::new(&config(4.0, 1.0)).unwrap().collect();
        assert_eq!(due.len(), 4);
        for (i, t) in due.iter().enumerate() {
            assert!((t - i as f64 / 4.0).abs() < 1e-9, "{due:?}");
        }
        assert_eq!(Schedule::new(&config(500.0, 2.0)).unwrap().count(), 1000);
    }

    #[test]
    fn profile_scales_to_the_mean_and_compresses_time() {
        // Two rows 60 s apart: value 1 then 2 (mean 1.5); at speedup 60 the trace lasts 2 s.
        let mut c = config(150.0, 2.0);
        c.profile = Some(Profile::new(&[(0.0, 1.0), (60.0, 2.0)]).unwrap());
        c.speedup = 60.0;
        let due: Vec<f64> = Schedule::new(&c).unwrap().collect();
        let first = due.iter().filter(|&&t| t < 1.0).count();
        let second = due.len() - first;
        assert_eq!((first, second), (100, 200));
        assert!(due.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_speedup_that_leaves_no_cycle_is_refused() {
        let mut c = config(10.0, 1.0);
        c.profile = Some(Profile::new(&[(0.0, 1.0), (60.0, 2.0)]).unwrap());
        c.speedup = 1e300;
        let err = Schedule::new(&c).unwrap_err().to_string();
        assert!(
            err.contains("speedup") && err.contains("less than a millisecond"),
            "{err}"
        );
    }

    #[test]
    fn profile_repeats_past_its_end() {
        let mut c = config(10.0, 4.0);
        c.profile = Some(Profile::new(&[(100.0, 0.0), (101.0, 3.0)]).unwrap());
        // Cycle of 2 s: 0 rps then 20 rps.
        let due: Vec<f64> = Schedule::new(&c).unwrap().collect();
        assert_eq!(due.len(), 40);
        assert!(due.iter().all(|&t| (1.0..2.0).contains(&t) || t >= 3.0));
    }

    #[test]
    fn bad_inputs_name_the_value() {
        assert!(
            parse_url("ftp://x/")
                .unwrap_err()
                .to_string()
                .contains("ftp")
        );
        assert!(parse_url("not a url").is_err());
        assert!(matches!(config(0.0, 1.0).validate(), Err(Error::Rate(_))));
        assert!(matches!(
            config(f64::NAN, 1.0).validate(),
            Err(Error::Rate(_))
        ));
        assert!(Profile::new(&[]).is_err());
        assert!(Profile::new(&[(0.0, 0.0)]).is_err());
        assert!(
            Profile::new(&[(1.0, 1.0), (1.0, 2.0)])
                .unwrap_err()
                .to_string()
                .contains("row 2")
        );
        assert!(Profile::new(&[(0.0, -1.0)]).is_err());
    }
}
