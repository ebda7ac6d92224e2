//! ho11y's five metric families and their exposition in the Prometheus text format 0.0.4 and in OpenMetrics
//! 1.0.0 (with the `traceid` exemplar on the duration histogram, OpenMetrics only).
//!
//! Hand-written rather than through prometheus-client: that crate encodes OpenMetrics only and has no summary
//! type, and ho11y needs a summary with `_sum`/`_count` only plus the 0.0.4 format. Not exposed: the Go runtime
//! (`go_*`) and process (`process_*`) collectors of ho11y's default registry.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Content type of the text format 0.0.4.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of OpenMetrics 1.0.0.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone)]
struct Exemplar {
    traceid: String,
    value: f64,
    timestamp: f64,
}

#[derive(Debug, Clone)]
struct Histogram {
    /// Upper bounds, without +Inf.
    bounds: Vec<f64>,
    /// Per-bucket (non-cumulative) counts; the last one is +Inf.
    counts: Vec<u64>,
    exemplars: Vec<Option<Exemplar>>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: Vec<f64>) -> Self {
        let n = bounds.len() + 1;
        Histogram {
            bounds,
            counts: vec![0; n],
            exemplars: vec![None; n],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, v: f64, exemplar: Option<&str>) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        if let (Some(traceid), Some(slot)) = (exemplar, self.exemplars.get_mut(i)) {
            *slot = Some(Exemplar {
                traceid: traceid.to_string(),
                value: v,
                timestamp: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0),
            });
        }
        self.sum += v;
        self.count += 1;
    }
}

#[derive(Debug)]
struct Inner {
    total: BTreeMap<u16, u64>,
    randval: f64,
    randhist: Histogram,
    payload: BTreeMap<String, (f64, u64)>,
    duration: Histogram,
}

/// The metric state of one ho11y instance.
#[derive(Debug)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// `LinearBuckets(-2, .5, 10)`.
pub fn randhist_buckets() -> Vec<f64> {
    let mut v = Vec::with_capacity(10);
    let mut x = -2.0;
    for _ in 0..10 {
        v.push(x);
        x += 0.5;
    }
    v
}

/// `ExponentialBuckets(0.0001, 2, 10)`.
pub fn duration_buckets() -> Vec<f64> {
    let mut v = Vec::with_capacity(10);
    let mut x = 0.0001;
    for _ in 0..10 {
        v.push(x);
        x *= 2.0;
    }
    v
}

impl Metrics {
    pub fn new() -> Self {
        Metrics {
            inner: Mutex::new(Inner {
                total: BTreeMap::new(),
                randval: 0.0,
                randhist: Histogram::new(randhist_buckets()),
                payload: BTreeMap::new(),
                duration: Histogram::new(duration_buckets()),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere while counting; the counts stay usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `ho11y_total{http_status_code}` += 1.
    pub fn count_status(&self, code: u16) {
        *self.lock().total.entry(code).or_insert(0) += 1;
    }

    /// Sets `ho11y_randval` and observes `ho11y_randhist`.
    pub fn random(&self, gauge: f64, hist: f64) {
        let mut g = self.lock();
        g.randval = gauge;
        g.randhist.observe(hist, None);
    }

    /// One downstream call: payload summary (labelled with the raw value) and duration histogram with exemplar.
    pub fn downstream(&self, raw: &str, bytes: u64, seconds: f64, traceid: &str) {
        let mut g = self.lock();
        let e = g.payload.entry(raw.to_string()).or_insert((0.0, 0));
        e.0 += bytes as f64;
        e.1 += 1;
        g.duration.observe(seconds, Some(traceid));
    }

    /// The current `ho11y_total` counts by status code.
    pub fn totals(&self) -> BTreeMap<u16, u64> {
        self.lock().total.clone()
    }

    /// Renders all families, sorted by name as client_golang does.
    pub fn render(&self, open_metrics: bool) -> String {
        let g = self.lock();
        let mut out = String::with_capacity(4096);
        histogram(
            &mut out,
            open_metrics,
            "ho11y_downstream_duration_seconds",
            "Duration taken for invoking a downstream.",
            &g.duration,
        );
        family_header(
            &mut out,
            "ho11y_downstream_payload_bytes",
            "HTTP body size received from a downstream.",
            "summary",
        );
        for (label, (sum, count)) in &g.payload {
            let l = escape(label);
            let _ = writeln!(
                out,
                "ho11y_downstream_payload_bytes_sum{{downstream=\"{l}\"}} {}",
                float(*sum, open_metrics)
            );
            let _ = writeln!(
                out,
                "ho11y_downstream_payload_bytes_count{{downstream=\"{l}\"}} {count}"
            );
        }
        histogram(
            &mut out,
            open_metrics,
            "ho11y_randhist",
            "A histogram of normally distributed random numbers.",
            &g.randhist,
        );
        family_header(&mut out, "ho11y_randval", "A random value.", "gauge");
        let _ = writeln!(out, "ho11y_randval {}", float(g.randval, open_metrics));
        // A counter family is named without `_total` in OpenMetrics, with it in 0.0.4.
        let name = if open_metrics { "ho11y" } else { "ho11y_total" };
        family_header(&mut out, name, "Total ho11y invokes.", "counter");
        for (code, n) in &g.total {
            let v = if open_metrics {
                format!("{n}.0")
            } else {
                n.to_string()
            };
            let _ = writeln!(out, "ho11y_total{{http_status_code=\"{code}\"}} {v}");
        }
        if open_metrics {
            out.push_str("# EOF\n");
        }
        out
    }
}

fn family_header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram(out: &mut String, om: bool, name: &str, help: &str, h: &Histogram) {
    family_header(out, name, help, "histogram");
    let mut cumulative = 0u64;
    for (i, n) in h.counts.iter().enumerate() {
        cumulative += n;
        let le = match h.bounds.get(i) {
            Some(b) => float(*b, om),
            None => "+Inf".to_string(),
        };
        let _ = write!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        if om && let Some(Some(e)) = h.exemplars.get(i) {
            let _ = write!(
                out,
                " # {{traceid=\"{}\"}} {} {:.3}",
                escape(&e.traceid),
                float(e.value, true),
                e.timestamp
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{name}_sum {}", float(h.sum, om));
    let _ = writeln!(out, "{name}_count {}", h.count);
}

/// Shortest round-trip float; OpenMetrics spells integral values with `.0` as client_golang does.
fn float(v: f64, om: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let s = format!("{v}");
    if om && !s.contains(['.', 'e']) {
        format!("{s}.0")
    } else {
        s
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_match_ho11y() {
        let d: Vec<String> = duration_buckets()
            .iter()
            .map(|b| float(*b, false))
            .collect();
        assert_eq!(
            d,
            [
                "0.0001", "0.0002", "0.0004", "0.0008", "0.0016", "0.0032", "0.0064", "0.0128",
                "0.0256", "0.0512"
            ]
        );
        let r: Vec<String> = randhist_buckets().iter().map(|b| float(*b, true)).collect();
        assert_eq!(
            r,
            [
                "-2.0", "-1.5", "-1.0", "-0.5", "0.0", "0.5", "1.0", "1.5", "2.0", "2.5"
            ]
        );
    }

    #[test]
    fn exposition_in_both_formats() {
        let m = Metrics::new();
        m.count_status(200);
        m.count_status(200);
        m.count_status(404);
        m.downstream(
            "DUMMY:187kB:42ms",
            191_488,
            0.042,
            "1-5f000000-0123456789abcdef01234567",
        );
        let text = m.render(false);
        assert!(text.contains("# TYPE ho11y_total counter\n"), "{text}");
        assert!(
            text.contains("ho11y_total{http_status_code=\"200\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("ho11y_total{http_status_code=\"404\"} 1\n"),
            "{text}"
        );
        assert!(text.contains(
            "ho11y_downstream_payload_bytes_sum{downstream=\"DUMMY:187kB:42ms\"} 191488\n"
        ));
        assert!(
            text.contains("ho11y_downstream_duration_seconds_bucket{le=\"0.0256\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("ho11y_downstream_duration_seconds_bucket{le=\"0.0512\"} 1\n"),
            "{text}"
        );
        assert!(!text.contains("# EOF") && !text.contains("traceid"));
        let om = m.render(true);
        assert!(om.contains("# TYPE ho11y counter\n"), "{om}");
        assert!(
            om.contains("ho11y_total{http_status_code=\"200\"} 2.0\n"),
            "{om}"
        );
        assert!(
            om.contains("ho11y_downstream_duration_seconds_bucket{le=\"0.0512\"} 1 # {traceid=\"1-5f000000-0123456789abcdef01234567\"} 0.042 "),
            "{om}"
        );
        assert!(om.ends_with("# EOF\n"));
    }
}
