//! `--plot FILE.svg|FILE.png`: the run as a picture. Top panel: each trigger's query value with the first
//! trigger's threshold × ready pods (what the ready pods absorb at target). Bottom panel: spec replicas, ready
//! pods, the HPA's desired count and, with `capacityPerPod`, the demand.
//!
//! Long runs are reduced to at most [`MAX_POINTS`] time buckets, keeping each bucket's maximum, so peaks stay
//! visible and the file stays small.
//!
//! Drawing goes through [`canvas`](crate::canvas): the run's chart is a [`Chart`] written once against a
//! backend-generic drawing area, rendered as SVG or PNG by the output file's extension.

use plotters::coord::Shift;
use plotters::prelude::*;

use prescale_core::keda::trigger::trigger_targets;

use crate::canvas::{self, Chart, Format};
use crate::run::{Row, Run};
use crate::scenario::Scenario;
use crate::score::demand;
use crate::series::Series;
use crate::{Error, Result};

/// Time buckets drawn at most per series.
pub const MAX_POINTS: usize = 2000;

/// Size of the run's picture: SVG user units or PNG pixels.
pub const SIZE: (u32, u32) = (1200, 760);

/// Colours: replicas, ready, desired, demand / metric series.
const REPLICAS: RGBColor = RGBColor(31, 119, 180);
const READY: RGBColor = RGBColor(44, 160, 44);
const DESIRED: RGBColor = RGBColor(255, 127, 14);
const DEMAND: RGBColor = RGBColor(214, 39, 40);
const METRICS: [RGBColor; 4] = [
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// One drawn step series: (t in the chosen unit, value).
type Line = Vec<(f64, f64)>;

fn unit(duration_ms: i64) -> (f64, &'static str) {
    match duration_ms {
        d if d <= 2 * 3_600_000 => (60_000.0, "minutes"),
        d if d <= 3 * 86_400_000 => (3_600_000.0, "hours"),
        _ => (86_400_000.0, "days"),
    }
}

/// Reduce `(t_ms, value)` points to ≤ MAX_POINTS buckets (bucket maximum), as a step line ending at the
/// run's end.
fn reduce(points: impl Iterator<Item = (i64, f64)>, duration_ms: i64, scale: f64) -> Line {
    let bucket_ms = (duration_ms / MAX_POINTS as i64).max(1);
    let mut out: Line = Vec::new();
    let mut cur: Option<(i64, f64)> = None;
    let mut last: Option<f64> = None;
    // Non-finite values (an infinite demand from a tiny capacityPerPod) cannot be drawn.
    for (t, v) in points.filter(|p| p.1.is_finite()) {
        let b = t / bucket_ms;
        match cur {
            Some((cb, cv)) if cb == b => cur = Some((cb, cv.max(v))),
            Some((cb, cv)) => {
                push_step(&mut out, &mut last, (cb * bucket_ms) as f64 / scale, cv);
                cur = Some((b, v));
            }
            None => cur = Some((b, v)),
        }
    }
    if let Some((cb, cv)) = cur {
        push_step(&mut out, &mut last, (cb * bucket_ms) as f64 / scale, cv);
    }
    if let Some(v) = last {
        out.push((duration_ms as f64 / scale, v));
    }
    out
}

fn series(rows: &[Row], duration_ms: i64, scale: f64, f: impl Fn(&Row) -> Option<f64>) -> Line {
    reduce(
        rows.iter().filter_map(|r| f(r).map(|v| (r.t_ms, v))),
        duration_ms,
        scale,
    )
}

/// Append a step to `out` at time `t` (a horizontal segment from the previous value, then the rise).
fn push_step(out: &mut Line, last: &mut Option<f64>, t: f64, v: f64) {
    if *last == Some(v) {
        return;
    }
    if let Some(prev) = *last {
        out.push((t, prev));
    }
    out.push((t, v));
    *last = Some(v);
}

/// Demand steps from the load series: ceil(load / capacity), holding the last value through error periods.
fn demand_points(load: &Series, capacity: f64) -> Vec<(i64, f64)> {
    load.held_steps()
        .into_iter()
        .map(|(t, v)| (t, demand(v, capacity)))
        .collect()
}

/// Render the run of `scenario` (which must have kept its timeline) as an SVG document.
pub fn svg(run: &Run, scenario: &Scenario) -> Result<String> {
    let bytes = render(run, scenario, Format::Svg)?;
    String::from_utf8(bytes).map_err(|e| Error::Plot {
        message: format!("the SVG backend wrote invalid UTF-8: {e}"),
    })
}

/// Render the run of `scenario` (which must have kept its timeline) in `format`, as the file's bytes.
pub fn render(run: &Run, scenario: &Scenario, format: Format) -> Result<Vec<u8>> {
    canvas::render_bytes(&RunChart::new(run, scenario)?, format, SIZE)
}

/// Draw the run of `scenario` into `path`: SVG or PNG by its extension (see [`Format::of_path`]).
pub fn write(path: &std::path::Path, run: &Run, scenario: &Scenario) -> Result<()> {
    canvas::render(path, SIZE, &RunChart::new(run, scenario)?)
}

/// The run's two panels, prepared (reduced step lines and axis ranges) and ready to draw on any backend.
pub struct RunChart {
    title: String,
    unit_name: &'static str,
    x_max: f64,
    metric_lines: Vec<Line>,
    capacity: Option<Line>,
    replicas: Line,
    ready: Line,
    desired: Line,
    demand: Option<Line>,
    top_max: f64,
    bottom_max: f64,
}

impl RunChart {
    /// Prepare the chart of `run`; fails when the run kept no timeline.
    pub fn new(run: &Run, scenario: &Scenario) -> Result<Self> {
        let title = format!("prescale simulate: {}", run.summary.scaled_object);
        let threshold = trigger_targets(&scenario.scaled_object)
            .ok()
            .and_then(|t| t.first().map(|t| t.threshold));
        let rows = run.rows.as_deref().ok_or_else(|| Error::Plot {
            message: "the run has no timeline".to_string(),
        })?;
        let duration_ms = (run.summary.duration_s * 1000.0).round() as i64;
        let (scale, unit_name) = unit(duration_ms);
        let x_max = duration_ms as f64 / scale;

        let metric_lines: Vec<Line> = (0..run.triggers)
            .map(|i| {
                series(rows, duration_ms, scale, |r| {
                    r.metrics.get(i).copied().flatten()
                })
            })
            .collect();
        let capacity =
            threshold.map(|th| series(rows, duration_ms, scale, |r| Some(th * f64::from(r.ready))));
        let replicas = series(rows, duration_ms, scale, |r| Some(f64::from(r.replicas)));
        let ready = series(rows, duration_ms, scale, |r| Some(f64::from(r.ready)));
        let desired = series(rows, duration_ms, scale, |r| r.desired.map(f64::from));
        let demand = match (scenario.workload.capacity_per_pod, scenario.load_series()) {
            (Some(cap), Some(load)) => Some(reduce(
                demand_points(load, cap).into_iter(),
                duration_ms,
                scale,
            )),
            _ => None,
        };

        // Lines hold finite values only (see `reduce`); the margin must not overflow to infinity either.
        let ymax = |lines: &[&Line]| {
            lines
                .iter()
                .flat_map(|l| l.iter().map(|p| p.1))
                .fold(1.0f64, f64::max)
                .min(f64::MAX / 2.0)
                * 1.08
        };
        let mut top_lines: Vec<&Line> = metric_lines.iter().collect();
        if let Some(c) = &capacity {
            top_lines.push(c);
        }
        let top_max = ymax(&top_lines);
        let mut bottom_lines = vec![&replicas, &ready, &desired];
        if let Some(d) = &demand {
            bottom_lines.push(d);
        }
        let bottom_max = ymax(&bottom_lines);
        Ok(Self {
            title,
            unit_name,
            x_max,
            metric_lines,
            capacity,
            replicas,
            ready,
            desired,
            demand,
            top_max,
            bottom_max,
        })
    }
}

impl Chart for RunChart {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let root = area.titled(&self.title, ("sans-serif", 20)).map_err(err)?;
        let (upper, lower) = root.split_vertically(340);

        let mut top = ChartBuilder::on(&upper)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .caption("trigger values", ("sans-serif", 15))
            .build_cartesian_2d(0.0..self.x_max, 0.0..self.top_max)
            .map_err(err)?;
        top.configure_mesh()
            .x_desc(self.unit_name)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for (i, l) in self.metric_lines.iter().enumerate() {
            let c = METRICS[i % METRICS.len()];
            let label = if i == 0 {
                "metric (trigger 0)".to_string()
            } else {
                format!("metric{i} (trigger {i})")
            };
            top.draw_series(LineSeries::new(l.iter().copied(), c.stroke_width(1)))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
        if let Some(c) = &self.capacity {
            top.draw_series(LineSeries::new(
                c.iter().copied(),
                DEMAND.mix(0.6).stroke_width(1),
            ))
            .map_err(err)?
            .label("threshold × ready pods")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], DEMAND.stroke_width(2)));
        }
        top.configure_series_labels()
            .border_style(BLACK.mix(0.3))
            .background_style(WHITE.mix(0.9))
            .draw()
            .map_err(err)?;

        let mut bottom = ChartBuilder::on(&lower)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(70)
            .caption("pods", ("sans-serif", 15))
            .build_cartesian_2d(0.0..self.x_max, 0.0..self.bottom_max)
            .map_err(err)?;
        bottom
            .configure_mesh()
            .x_desc(self.unit_name)
            .y_desc("pods")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        let mut draw =
            |l: &Line, c: RGBColor, w: u32, label: &str| -> std::result::Result<(), String> {
                // Wide lines are drawn translucent, as a band the thinner lines run over.
                let style = if w > 2 {
                    c.mix(0.3).stroke_width(w)
                } else {
                    c.stroke_width(w)
                };
                bottom
                    .draw_series(LineSeries::new(l.iter().copied(), style))
                    .map_err(err)?
                    .label(label.to_string())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                    });
                Ok(())
            };
        if let Some(d) = &self.demand {
            draw(d, DEMAND, 6, "demand = ceil(load / capacityPerPod)")?;
        }
        draw(&self.desired, DESIRED, 1, "HPA desired")?;
        draw(&self.replicas, REPLICAS, 2, "spec.replicas")?;
        draw(&self.ready, READY, 1, "ready pods")?;
        bottom
            .configure_series_labels()
            .border_style(BLACK.mix(0.3))
            .background_style(WHITE.mix(0.9))
            .draw()
            .map_err(err)?;
        Ok(())
    }
}
