//! Metric timelines: step functions of time, where a value holds from its time until the next point.

use std::path::Path;

use crate::{Error, Result};

/// What a query for a trigger returns at some instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sample {
    Value(f64),
    /// The trigger's query fails from this point until the next one.
    Error,
}

/// A step function over time (milliseconds from the scenario start).
///
/// Before its first point a series reads 0: an empty query result, which KEDA's Prometheus scaler reads as 0
/// under its default `ignoreNullValues: true`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    times: Vec<i64>,
    samples: Vec<Sample>,
}

impl Series {
    /// Build from points sorted by strictly increasing time; an error carries the index of the offending point.
    pub fn new(points: Vec<(i64, Sample)>) -> std::result::Result<Series, (usize, String)> {
        let mut times = Vec::with_capacity(points.len());
        let mut samples = Vec::with_capacity(points.len());
        for (i, (t, s)) in points.into_iter().enumerate() {
            if t < 0 {
                return Err((i, format!("time {} is negative", t as f64 / 1000.0)));
            }
            if let Some(&prev) = times.last()
                && t <= prev
            {
                return Err((
                    i,
                    format!(
                        "time {} is not after the previous point's time {}; points must be in increasing time order",
                        t as f64 / 1000.0,
                        prev as f64 / 1000.0
                    ),
                ));
            }
            if let Sample::Value(v) = s
                && !v.is_finite()
            {
                return Err((i, format!("value {v} is not a finite number")));
            }
            times.push(t);
            samples.push(s);
        }
        Ok(Series { times, samples })
    }

    /// The series on a regular grid of `points` times `first_ms + k * step_ms`, shifted to start at 0: each grid
    /// time takes its sample from `samples` (unix ms, value), or `missing` where there is none (samples off
    /// the grid are not used). Also returns how many grid times were missing.
    pub fn on_grid(
        first_ms: i64,
        step_ms: i64,
        points: u64,
        samples: &[(i64, f64)],
        missing: Sample,
    ) -> std::result::Result<(Series, u64), (usize, String)> {
        let by_time: std::collections::BTreeMap<i64, f64> = samples.iter().copied().collect();
        let mut gaps = 0u64;
        let mut grid = Vec::new();
        for k in 0..i64::try_from(points).unwrap_or(i64::MAX) {
            let t = first_ms + k * step_ms;
            let sample = match by_time.get(&t) {
                Some(&v) => Sample::Value(v),
                None => {
                    gaps += 1;
                    missing
                }
            };
            grid.push((t - first_ms, sample));
        }
        Ok((Series::new(grid)?, gaps))
    }

    /// Every value multiplied by `k` (error periods stay errors).
    pub fn scaled(&self, k: f64) -> Series {
        Series {
            times: self.times.clone(),
            samples: self
                .samples
                .iter()
                .map(|s| match s {
                    Sample::Value(v) => Sample::Value(v * k),
                    Sample::Error => Sample::Error,
                })
                .collect(),
        }
    }

    /// A series that reads `v` forever.
    pub fn constant(v: f64) -> Series {
        Series {
            times: vec![0],
            samples: vec![Sample::Value(v)],
        }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The times at which the value changes (every point).
    pub fn times(&self) -> &[i64] {
        &self.times
    }

    /// Every point, in time order.
    pub fn points(&self) -> impl Iterator<Item = (i64, Sample)> + '_ {
        self.times.iter().copied().zip(self.samples.iter().copied())
    }

    /// The value the series holds at each of its points: a failed sample holds the last value (0 before the
    /// first one).
    pub fn held_steps(&self) -> Vec<(i64, f64)> {
        self.held().collect()
    }

    /// [`Series::held_steps`] from t = 0: with a leading `(0, 0)` when the first point is later, since the
    /// series reads 0 before it.
    pub fn held_steps_from_zero(&self) -> Vec<(i64, f64)> {
        let mut out = Vec::with_capacity(self.len() + 1);
        if self.times.first().is_none_or(|&t| t > 0) {
            out.push((0, 0.0));
        }
        out.extend(self.held());
        out
    }

    fn held(&self) -> impl Iterator<Item = (i64, f64)> + '_ {
        self.points().scan(0.0, |last, (t, s)| {
            if let Sample::Value(v) = s {
                *last = v;
            }
            Some((t, *last))
        })
    }

    /// Random access: the sample at `t` (binary search).
    pub fn at(&self, t: i64) -> Sample {
        match self.times.partition_point(|&x| x <= t) {
            0 => Sample::Value(0.0),
            i => self.samples[i - 1],
        }
    }

    /// A cursor for reading the series at non-decreasing times in amortised O(1).
    pub fn cursor(&self) -> Cursor<'_> {
        Cursor {
            series: self,
            next: 0,
        }
    }

    /// Read a CSV file with header `timestamp_seconds,value`, rebased so that its first row is t = 0.
    /// A value of `error` makes the query fail from that row's time.
    pub fn from_csv_file(path: &Path) -> Result<Series> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_csv_str(&text).map_err(|(line, message)| Error::Csv {
            path: path.to_path_buf(),
            line,
            message,
        })
    }

    /// Parse CSV text (see [`Series::from_csv_file`]); errors carry the 1-based line number.
    pub fn from_csv_str(text: &str) -> std::result::Result<Series, (usize, String)> {
        // A UTF-8 byte-order mark (spreadsheet exports) is not part of the header.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate();
        let (header_line, header) = loop {
            match lines.next() {
                Some((_, l)) if l.trim().is_empty() => continue,
                Some((i, l)) => break (i + 1, l),
                None => {
                    return Err((
                        1,
                        "empty file: expected the header timestamp_seconds,value".into(),
                    ));
                }
            }
        };
        let cols: Vec<&str> = header.split(',').map(str::trim).collect();
        if cols != ["timestamp_seconds", "value"] {
            return Err((
                header_line,
                format!("header is {header:?}, expected timestamp_seconds,value"),
            ));
        }
        let mut points = Vec::new();
        let mut origin: Option<f64> = None;
        let mut line_of = Vec::new();
        for (i, line) in lines {
            let lineno = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let (ts, val) = line
                .split_once(',')
                .ok_or_else(|| (lineno, format!("expected two columns, got {line:?}")))?;
            let ts_text = ts.trim();
            let ts: f64 = ts_text
                .parse()
                .ok()
                .filter(|t: &f64| t.is_finite())
                .ok_or_else(|| {
                    (
                        lineno,
                        format!("timestamp {ts_text:?} is not a finite number"),
                    )
                })?;
            let sample = parse_sample_str(val.trim()).map_err(|m| (lineno, m))?;
            let o = *origin.get_or_insert(ts);
            let t = if ts < o {
                return Err((
                    lineno,
                    format!(
                        "timestamp {ts_text} is before the first row's timestamp {o}; rows must be in time order"
                    ),
                ));
            } else {
                crate::duration::secs_to_ms(ts - o)
                    .map_err(|e| (lineno, format!("timestamp {ts_text}: {e}")))?
            };
            points.push((t, sample));
            line_of.push(lineno);
        }
        if points.is_empty() {
            return Err((header_line, "no data rows after the header".into()));
        }
        Series::new(points).map_err(|(i, m)| (line_of[i], m))
    }
}

/// Parse a sample written as text: a number, or `error`.
pub fn parse_sample_str(s: &str) -> std::result::Result<Sample, String> {
    if s.eq_ignore_ascii_case("error") {
        return Ok(Sample::Error);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Sample::Value(v)),
        _ => Err(format!(
            "value {s:?} is neither a finite number nor \"error\""
        )),
    }
}

/// Sequential reader over a [`Series`].
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    series: &'a Series,
    next: usize,
}

impl Cursor<'_> {
    /// The sample at `t`. Calls must use non-decreasing `t`.
    pub fn at(&mut self, t: i64) -> Sample {
        let times = &self.series.times;
        while self.next < times.len() && times[self.next] <= t {
            self.next += 1;
        }
        match self.next {
            0 => Sample::Value(0.0),
            i => self.series.samples[i - 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_grid_fills_and_counts_what_is_missing() {
        // Grid 1000, 1010, 1020, 1030; 1015 is off the grid and is not used.
        let samples = [(1000, 1.0), (1015, 9.0), (1030, 4.0)];
        let (s, gaps) = Series::on_grid(1000, 10, 4, &samples, Sample::Error).unwrap();
        assert_eq!(gaps, 2);
        assert_eq!(s.times, [0, 10, 20, 30]);
        assert_eq!(
            s.samples,
            [
                Sample::Value(1.0),
                Sample::Error,
                Sample::Error,
                Sample::Value(4.0)
            ]
        );
    }

    fn s(points: &[(i64, Sample)]) -> Series {
        Series::new(points.to_vec()).unwrap()
    }

    #[test]
    fn held_steps_hold_the_last_value_through_errors() {
        let x = s(&[
            (5, Sample::Error),
            (10, Sample::Value(3.0)),
            (20, Sample::Error),
            (30, Sample::Value(1.0)),
        ]);
        assert_eq!(x.held_steps(), [(5, 0.0), (10, 3.0), (20, 3.0), (30, 1.0)]);
        assert_eq!(
            x.held_steps_from_zero(),
            [(0, 0.0), (5, 0.0), (10, 3.0), (20, 3.0), (30, 1.0)]
        );
        // A series that starts at 0 gets no extra point.
        let y = s(&[(0, Sample::Value(2.0)), (10, Sample::Error)]);
        assert_eq!(y.held_steps_from_zero(), [(0, 2.0), (10, 2.0)]);
        assert_eq!(y.held_steps_from_zero(), y.held_steps());
    }

    #[test]
    fn step_function_holds_until_next_point() {
        let x = s(&[
            (0, Sample::Value(0.0)),
            (7000, Sample::Value(50.0)),
            (607_000, Sample::Value(0.0)),
        ]);
        assert_eq!(x.at(0), Sample::Value(0.0));
        assert_eq!(x.at(6999), Sample::Value(0.0));
        assert_eq!(x.at(7000), Sample::Value(50.0));
        assert_eq!(x.at(606_999), Sample::Value(50.0));
        assert_eq!(x.at(607_000), Sample::Value(0.0));
        let mut c = x.cursor();
        assert_eq!(c.at(0), Sample::Value(0.0));
        assert_eq!(c.at(7000), Sample::Value(50.0));
        assert_eq!(c.at(10_000_000), Sample::Value(0.0));
    }

    #[test]
    fn before_first_point_reads_zero() {
        let x = s(&[(5000, Sample::Error)]);
        assert_eq!(x.at(4999), Sample::Value(0.0));
        assert_eq!(x.at(5000), Sample::Error);
    }

    #[test]
    fn rejects_unordered_points() {
        let e = Series::new(vec![(5, Sample::Value(1.0)), (5, Sample::Value(2.0))]).unwrap_err();
        assert_eq!(e.0, 1);
        assert!(e.1.contains("increasing"), "{}", e.1);
    }

    #[test]
    fn csv_is_rebased_and_errors_name_the_line() {
        let x = Series::from_csv_str(
            "timestamp_seconds,value\n804571200,42\n804571260,61\n804571320,error\n",
        )
        .unwrap();
        assert_eq!(x.times(), &[0, 60_000, 120_000]);
        assert_eq!(x.at(60_000), Sample::Value(61.0));
        assert_eq!(x.at(120_000), Sample::Error);
        let e = Series::from_csv_str("timestamp_seconds,value\n0,1\n60,abc\n").unwrap_err();
        assert_eq!(e.0, 3);
        assert!(e.1.contains("\"abc\""));
        let e = Series::from_csv_str("t,v\n0,1\n").unwrap_err();
        assert_eq!(e.0, 1);
        let e = Series::from_csv_str("\n\nt,v\n").unwrap_err();
        assert_eq!(e.0, 3, "the header's own line");
        let x = Series::from_csv_str("\u{feff}timestamp_seconds,value\n0,1\n").unwrap();
        assert_eq!(x.len(), 1, "a byte-order mark is ignored");
        let e = Series::from_csv_str("timestamp_seconds,value\nnan,5\n").unwrap_err();
        assert!(e.1.contains("\"nan\" is not a finite number"), "{}", e.1);
        let e = Series::from_csv_str("timestamp_seconds,value\n0,5\n1e16,5\n").unwrap_err();
        assert!(
            e.1.starts_with("timestamp 1e16: ") && e.1.contains("too large"),
            "{}",
            e.1
        );
        let e = Series::from_csv_str("timestamp_seconds,value\n60,1\n0,1\n").unwrap_err();
        assert_eq!(e.0, 3);
    }
}
