//! `prescale load`: an open-loop HTTP load generator (the engine is prescale-load).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use prescale_load::{Config, Live, Profile, Report};
use prescale_sim::series::{Sample, Series};

use crate::Format;

fn positive(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a positive number")),
    }
}

#[derive(clap::Args, Debug)]
#[command(
    about = "Send HTTP GET requests at a fixed (open-loop) rate and report throughput and latency",
    after_long_help = "\
Open loop: request i is due at start + i / RATE (or at the matching point of --profile) and is sent at that \
time whether or not earlier requests have been answered. Latency runs from the request's due time to the end \
of its response body, so time spent waiting inside the generator counts (no coordinated omission). With \
--concurrency C at most C requests are in flight: a request that cannot start on time waits for a free slot, \
and its latency still counts from its due time (the summary shows the largest start lag).

--profile replays a trace's shape (CSV with the header timestamp_seconds,value; each value holds until the \
next row): the rate follows the trace scaled so that its time-weighted mean equals --rate, with the trace's \
time divided by --speedup; the trace repeats if --duration is longer.

Exit status: 0 when the run finished and at least one response arrived (whatever its status code), 1 when no \
request got a response or the profile is invalid, 2 for a usage error (bad URL, rate, duration, ...) or an \
unreadable profile.",
    after_help = "Examples:\n  prescale load http://127.0.0.1:8765/ --rate 500 --duration 30s\n  \
prescale load http://127.0.0.1:8765/ --rate 200 --duration 10m --profile examples/traces/x.csv --speedup 60"
)]
pub struct LoadArgs {
    /// The target (http or https); every request is a GET.
    #[arg(value_name = "URL", value_parser = prescale_load::parse_url)]
    pub url: reqwest::Url,
    /// Requests per second (the mean rate with --profile).
    #[arg(long, value_name = "R", value_parser = positive)]
    pub rate: f64,
    /// How long to send: seconds, or numbers with units ms, s, m, h, d (`90s`, `1h30m`).
    #[arg(long, value_name = "D", value_parser = prescale_core::duration::parse_positive)]
    pub duration: Duration,
    /// At most C requests in flight, hence at most C connections (default: no limit). Requests that cannot
    /// start on time still count their latency from their due time. Without a limit, a stall makes the
    /// generator open new connections, which on a small machine can lengthen the stall.
    #[arg(long, value_name = "C", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,
    /// Replay this trace's shape (CSV: timestamp_seconds,value), scaled to a mean of --rate.
    #[arg(long, value_name = "TRACE.csv")]
    pub profile: Option<PathBuf>,
    /// Trace seconds per second of the run (with --profile).
    #[arg(long, value_name = "X", default_value = "1", value_parser = positive, requires = "profile")]
    pub speedup: f64,
    /// Per-request timeout (connect, send, whole response).
    #[arg(long, value_name = "D", default_value = "30s", value_parser = prescale_core::duration::parse_positive)]
    pub timeout: Duration,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// No progress bar (it is also off when standard error is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
}

/// The `--profile` trace; an unreadable file stays a `prescale_sim::Error::Read` (exit 2).
fn read_profile(path: &std::path::Path) -> Result<Profile> {
    let series = Series::from_csv_file(path)?;
    let mut rows = Vec::with_capacity(series.len());
    for (i, (t_ms, sample)) in series.points().enumerate() {
        match sample {
            Sample::Value(v) => rows.push((t_ms as f64 / 1000.0, v)),
            Sample::Error => {
                bail!(
                    "{}: data row {}: `error` is not a rate",
                    path.display(),
                    i + 1
                );
            }
        }
    }
    Profile::new(&rows).with_context(|| format!("profile {}", path.display()))
}

/// Run the subcommand. An unreadable profile is exit 2 (main's `input_failure`), other errors exit 1; a run in
/// which no request completed exits 1.
pub fn run(args: &LoadArgs) -> Result<ExitCode> {
    let mut config = Config::new(args.url.clone(), args.rate, args.duration);
    config.concurrency = args.concurrency.map(|c| c as usize);
    config.speedup = args.speedup;
    config.timeout = args.timeout;
    if let Some(path) = &args.profile {
        config.profile = Some(read_profile(path)?);
    }
    let report = generate(&config, args.quiet)?;
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&report).context("serialising the report")?,
        Format::Text => text(&report, &config),
    };
    println!("{out}");
    Ok(ExitCode::from(if report.completed == 0 { 1 } else { 0 }))
}

fn generate(config: &Config, quiet: bool) -> Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let live = Arc::new(Live::default());
    let stop = Arc::new(AtomicBool::new(false));
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let total_ms = u64::try_from(config.duration.as_millis()).unwrap_or(u64::MAX);
        let bar = ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {elapsed}/{duration} {msg}") {
            bar.set_style(style);
        }
        bar
    });
    let ticker = bar.clone().map(|bar| {
        let live = Arc::clone(&live);
        let stop = Arc::clone(&stop);
        let started = std::time::Instant::now();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                bar.set_position(ms);
                bar.set_message(format!(
                    "sent {} completed {} errors {}",
                    live.sent.load(Ordering::Relaxed),
                    live.completed.load(Ordering::Relaxed),
                    live.errors.load(Ordering::Relaxed)
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        })
    });
    let result = runtime.block_on(prescale_load::run(config, Arc::clone(&live)));
    stop.store(true, Ordering::Relaxed);
    if let Some(t) = ticker {
        let _ = t.join();
    }
    let report = result.context("load")?;
    if report.sent == 0 {
        bail!("no request was due within the duration (rate too low for it?)");
    }
    Ok(report)
}

fn text(r: &Report, config: &Config) -> String {
    let mut s = String::new();
    let shape = match &config.profile {
        Some(_) => format!(" (profile, speedup {})", config.speedup),
        None => String::new(),
    };
    s += &format!(
        "target      {} at {} req/s for {} s{shape}\n",
        r.url, r.target_rate, r.duration_seconds
    );
    s += &format!(
        "sent        {} ({:.1} req/s offered)\n",
        r.sent, r.offered_rate
    );
    s += &format!(
        "completed   {} in {:.3} s: {:.1} req/s\n",
        r.completed, r.elapsed_seconds, r.throughput
    );
    s += &format!(
        "errors      {} (connect {}, timeout {}, other {})\n",
        r.errors.total(),
        r.errors.connect,
        r.errors.timeout,
        r.errors.other
    );
    let codes: Vec<String> = r
        .status_codes
        .iter()
        .map(|(c, n)| format!("{c}: {n}"))
        .collect();
    s += &format!(
        "status      {}\n",
        if codes.is_empty() {
            "-".to_owned()
        } else {
            codes.join(", ")
        }
    );
    match &r.latency {
        Some(l) => {
            s += &format!(
                "latency     p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms (from each request's due time)\n",
                l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
            )
        }
        None => s += "latency     - (no response)\n",
    }
    s += &format!("start lag   max {:.2} ms", r.max_start_lag_ms);
    s
}
