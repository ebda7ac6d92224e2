//! `prescale bench --plot DIR`: per trace, the load against each policy's ready capacity (ready pods ×
//! capacityPerPod), as SVG and PNG:
//! - `<trace>.svg|png`: the whole trace, reduced to at most [`BUCKETS`] time buckets (per bucket: the load's
//!   maximum and each policy's minimum capacity, so shortfalls stay visible);
//! - `<trace>-worst.svg|png`: the [`WINDOW_MS`] window in which `keda-hpa` was short of the most pod-seconds,
//!   at full resolution, with every policy.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use prescale_core::proactive::Model;

use crate::bench::{Policy, Report, Trace, TraceReport};
use crate::canvas::{Chart, Format, render};
use crate::{Error, Result};

pub const BUCKETS: usize = 1500;
/// The zoomed window around keda-hpa's worst under-provisioning.
pub const WINDOW_MS: i64 = 2 * 3_600_000;
pub const SIZE: (u32, u32) = (1400, 700);

const LOAD: RGBColor = RGBColor(120, 120, 120);
const KEDA_HPA: RGBColor = RGBColor(214, 39, 40);
/// The proactive policies, in [`Model::ALL`] order.
const PROACTIVE: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
];
const ORACLE: RGBColor = RGBColor(23, 190, 207);

/// A policy's colour: the same in every plot, whichever policies are drawn.
fn colour(policy: Policy) -> RGBColor {
    match policy {
        Policy::KedaHpa => KEDA_HPA,
        Policy::Proactive(m) => {
            let i = Model::ALL.iter().position(|&x| x == m).unwrap_or(0);
            PROACTIVE[i % PROACTIVE.len()]
        }
        Policy::Oracle => ORACLE,
    }
}

type Line = Vec<(f64, f64)>;

/// One chart: the load and each policy's capacity over `[from_ms, to_ms)`.
struct LoadChart {
    title: String,
    unit: &'static str,
    x: (f64, f64),
    y_max: f64,
    load: Line,
    capacity: Vec<(Policy, Line)>,
}

fn unit(span_ms: i64) -> (f64, &'static str) {
    match span_ms {
        d if d <= 3 * 3_600_000 => (60_000.0, "minutes"),
        d if d <= 3 * 86_400_000 => (3_600_000.0, "hours"),
        _ => (86_400_000.0, "days"),
    }
}

/// A step function sampled into buckets of `bucket_ms` over `[from, to)`: per bucket the max (`max = true`) or
/// the min of the values it takes there, drawn as steps.
fn bucketed(
    steps: &[(i64, f64)],
    from: i64,
    to: i64,
    bucket_ms: i64,
    max: bool,
    scale: f64,
) -> Line {
    let mut out = Line::new();
    let mut i = steps.partition_point(|&(t, _)| t <= from).saturating_sub(1);
    let mut b = from;
    while b < to {
        let end = (b + bucket_ms).min(to);
        let mut v: Option<f64> = None;
        while i < steps.len() {
            let (t, x) = steps[i];
            let next = steps.get(i + 1).map_or(i64::MAX, |s| s.0);
            if t >= end {
                break;
            }
            if next > b {
                v = Some(match v {
                    None => x,
                    Some(y) if max => y.max(x),
                    Some(y) => y.min(x),
                });
            }
            if next >= end {
                break;
            }
            i += 1;
        }
        let y = v.unwrap_or(0.0);
        let (x0, x1) = ((b - from) as f64 / scale, (end - from) as f64 / scale);
        out.push((x0, y));
        out.push((x1, y));
        b = end;
    }
    out
}

/// A step function over `[from, to)` exactly, as a step line.
fn exact(steps: &[(i64, f64)], from: i64, to: i64, scale: f64) -> Line {
    let mut out = Line::new();
    let first = steps.partition_point(|&(t, _)| t <= from).saturating_sub(1);
    let mut last: Option<f64> = None;
    for &(t, v) in &steps[first..] {
        if t >= to {
            break;
        }
        let x = (t.max(from) - from) as f64 / scale;
        if let Some(prev) = last {
            out.push((x, prev));
        }
        out.push((x, v));
        last = Some(v);
    }
    if let Some(v) = last {
        out.push(((to - from) as f64 / scale, v));
    }
    out
}

/// The start of the window of `WINDOW_MS` in which keda-hpa was short of the most pod-seconds.
fn worst_window(report: &TraceReport, load: &[(i64, f64)], duration_ms: i64) -> Option<i64> {
    let keda = report.results.iter().find(|r| r.kind == Policy::KedaHpa)?;
    let cap = report.capacity_per_pod;
    // Shortfall (pods · ms) per load interval, against the ready count at the interval's start and at each
    // change of the ready count inside it.
    let mut events: Vec<(i64, f64)> = Vec::new();
    let ready = &keda.ready_steps;
    let mut j = 0usize;
    for (i, &(t, l)) in load.iter().enumerate() {
        let end = load
            .get(i + 1)
            .map_or(duration_ms, |x| x.0)
            .min(duration_ms);
        let d = crate::score::demand(l, cap);
        let mut s = t;
        while s < end {
            while j + 1 < ready.len() && ready[j + 1].0 <= s {
                j += 1;
            }
            let r = f64::from(ready.get(j).map_or(0, |x| x.1));
            let next = ready.get(j + 1).map_or(end, |x| x.0.min(end));
            let next = next.max(s + 1);
            let short = (d - r).max(0.0) * (next - s) as f64;
            if short > 0.0 {
                events.push((s, short));
            }
            s = next;
        }
    }
    if events.is_empty() {
        return None;
    }
    // Sliding window over event starts.
    let (mut best, mut best_at, mut sum, mut lo) = (0.0f64, events[0].0, 0.0f64, 0usize);
    for hi in 0..events.len() {
        sum += events[hi].1;
        while events[hi].0 - events[lo].0 >= WINDOW_MS {
            sum -= events[lo].1;
            lo += 1;
        }
        if sum > best {
            best = sum;
            best_at = events[lo].0;
        }
    }
    // Centre the shortfall in the window where the trace allows.
    let start = (best_at - WINDOW_MS / 4).clamp(0, (duration_ms - WINDOW_MS).max(0));
    Some(start)
}

fn chart(
    report: &TraceReport,
    trace: &Trace,
    load: &[(i64, f64)],
    from: i64,
    to: i64,
    zoom: bool,
) -> LoadChart {
    let span = to - from;
    let (scale, unit) = unit(span);
    // Whole minutes per bucket, so the caption reads well; the zoom draws every change exactly.
    let bucket = ((span / BUCKETS as i64).max(1) + 59_999) / 60_000 * 60_000;
    let load_line = if zoom {
        exact(load, from, to, scale)
    } else {
        bucketed(load, from, to, bucket, true, scale)
    };
    let cap = report.capacity_per_pod;
    let mut capacity = Vec::new();
    for r in &report.results {
        let steps: Vec<(i64, f64)> = r
            .ready_steps
            .iter()
            .map(|&(t, n)| (t, f64::from(n) * cap))
            .collect();
        let line = if zoom {
            exact(&steps, from, to, scale)
        } else {
            bucketed(&steps, from, to, bucket, false, scale)
        };
        capacity.push((r.kind, line));
    }
    let y_max = load_line
        .iter()
        .map(|p| p.1)
        .chain(capacity.iter().flat_map(|c| c.1.iter().map(|p| p.1)))
        .fold(1.0, f64::max)
        * 1.08;
    let title = if zoom {
        format!(
            "{}: keda-hpa's worst {} of under-provisioning, from t = {:.1} h (load per {} s bin vs ready pods × capacityPerPod)",
            trace.name,
            crate::duration::format_human(WINDOW_MS),
            from as f64 / 3_600_000.0,
            trace.step_ms / 1000
        )
    } else {
        format!(
            "{}: load vs ready capacity per policy (per bucket of {}: load max, capacity min)",
            trace.name,
            crate::duration::format_human(bucket)
        )
    };
    LoadChart {
        title,
        unit,
        x: (0.0, span as f64 / scale),
        y_max,
        load: load_line,
        capacity,
    }
}

impl Chart for LoadChart {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let mut c = ChartBuilder::on(area)
            .margin(14)
            .caption(&self.title, ("sans-serif", 17))
            .x_label_area_size(36)
            .y_label_area_size(80)
            .build_cartesian_2d(self.x.0..self.x.1, 0.0..self.y_max)
            .map_err(err)?;
        c.configure_mesh()
            .x_desc(self.unit)
            .y_desc("requests per bin")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        c.draw_series(AreaSeries::new(
            self.load.iter().copied(),
            0.0,
            LOAD.mix(0.25),
        ))
        .map_err(err)?
        .label("load")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], LOAD.mix(0.4).filled()));
        for &(policy, ref line) in &self.capacity {
            let colour = colour(policy);
            let width = if policy == Policy::KedaHpa { 2 } else { 1 };
            c.draw_series(LineSeries::new(
                line.iter().copied(),
                colour.stroke_width(width),
            ))
            .map_err(err)?
            .label(policy.name())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK.mix(0.3))
            .background_style(WHITE.mix(0.9))
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

/// A file name from a trace name: letters, digits, `-`, `_`, `.` only.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Write every chart of the report into `dir` (created if missing); returns the files written.
pub fn write_all<W>(dir: &Path, report: &Report<W>, traces: &[Trace]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (r, trace) in report.traces.iter().zip(traces) {
        let load = trace.series.held_steps_from_zero();
        let stem = file_stem(&r.trace);
        let mut charts = vec![(
            stem.clone(),
            chart(r, trace, &load, 0, trace.duration_ms, false),
        )];
        if let Some(from) = worst_window(r, &load, trace.duration_ms) {
            let to = (from + WINDOW_MS).min(trace.duration_ms);
            charts.push((
                format!("{stem}-worst"),
                chart(r, trace, &load, from, to, true),
            ));
        }
        for (name, c) in charts {
            for format in [Format::Svg, Format::Png] {
                let path = dir.join(format!("{name}.{}", format.extension()));
                render(&path, SIZE, &c)?;
                written.push(path);
            }
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_maxima_or_minima() {
        let steps = [(0, 1.0), (500, 5.0), (1500, 2.0)];
        let max = bucketed(&steps, 0, 2000, 1000, true, 1000.0);
        assert_eq!(max, vec![(0.0, 5.0), (1.0, 5.0), (1.0, 5.0), (2.0, 5.0)]);
        let min = bucketed(&steps, 0, 2000, 1000, false, 1000.0);
        assert_eq!(min, vec![(0.0, 1.0), (1.0, 1.0), (1.0, 2.0), (2.0, 2.0)]);
    }

    #[test]
    fn exact_steps_start_and_end_at_the_window() {
        let steps = [(0, 1.0), (500, 5.0), (1500, 2.0)];
        let l = exact(&steps, 600, 1600, 1000.0);
        assert_eq!(l, vec![(0.0, 5.0), (0.9, 5.0), (0.9, 2.0), (1.0, 2.0)]);
    }

    /// Each policy has its own colour whichever policies are drawn: without keda-hpa, the first proactive
    /// policy is not drawn in keda-hpa's red; with all of them, the colours are the palette's, in order.
    #[test]
    fn colours_follow_the_policy_not_its_position() {
        let all: Vec<RGBColor> = Policy::all().into_iter().map(colour).collect();
        let mut expected = vec![KEDA_HPA];
        expected.extend(PROACTIVE);
        expected.push(ORACLE);
        assert_eq!(all, expected);
        for p in Policy::all() {
            if p != Policy::KedaHpa {
                assert_ne!(colour(p), KEDA_HPA, "{p:?}");
            }
        }
        let distinct: std::collections::BTreeSet<(u8, u8, u8)> =
            all.iter().map(|c| (c.0, c.1, c.2)).collect();
        assert_eq!(distinct.len(), all.len());
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("a b/c"), "a_b_c");
    }
}
