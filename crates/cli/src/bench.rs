//! `prescale bench`: every policy (keda-hpa, the proactive models, oracle) on every trace, scored side by side.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use prescale_sim::bench::{self, Policy, Standard, Trace};
use prescale_sim::bench_table;

/// Output formats of `bench`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFormat {
    Text,
    Json,
    /// Markdown tables (what docs/benchmarks.md holds), with links to the plots of `--plot`.
    Markdown,
}

#[derive(clap::Args, Debug)]
#[command(
    about = "Score keda-hpa, the proactive models and the oracle side by side on request-rate traces",
    after_long_help = "\
Policies: keda-hpa (the exact KEDA + HPA replay), proactive-<model> for each forecasting model (auto,
holt-winters, trend, seasonal-naive: the ScaledObject opted in with prescale.dev/forecast), and oracle (knows
the future: enough ready pods for the highest demand in [t, t + pod start-up]).

The standard workload per trace: capacityPerPod = peak / 40, threshold = capacityPerPod, minReplicaCount 1,
maxReplicaCount 100, pollingInterval 30 s, pods ready 60 s after creation, an HPA without behavior (KEDA's
default), starting with the pods the first bin needs. Scores follow the SPEC RG elasticity metrics: demand =
ceil(load / capacityPerPod), supply = ready pods, sampled every second.

Exit status: 0 on success (whether or not the targets hold), 1 on invalid traces or options, 2 when a file
cannot be read or written."
)]
pub struct BenchArgs {
    /// A directory of traces (`*.csv` with the header timestamp_seconds,value), or one CSV file. May be given
    /// several times.
    #[arg(long, value_name = "DIR|FILE.csv", default_value = "examples/traces")]
    pub traces: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BenchFormat::Text)]
    pub format: BenchFormat,
    /// Write plots (SVG and PNG) into this directory.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Only these policies (comma-separated names, see below).
    #[arg(long, value_delimiter = ',', value_name = "POLICY")]
    pub policies: Option<Vec<String>>,
    /// capacityPerPod = peak / DIVISOR.
    #[arg(long, default_value_t = 40.0, value_name = "DIVISOR")]
    pub peak_divisor: f64,
    /// A fixed capacity per pod instead of peak / divisor.
    #[arg(long, value_name = "VALUE")]
    pub capacity_per_pod: Option<f64>,
    /// The trigger's threshold (default: the capacity per pod).
    #[arg(long, value_name = "VALUE")]
    pub threshold: Option<f64>,
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub min_replicas: i32,
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_replicas: i32,
    /// KEDA's pollingInterval, seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub polling_interval: i32,
    /// Seconds from a pod's creation to its readiness.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub pod_startup: f64,
    /// The proactive policies' safety margin, percent (prescale.dev/forecast-margin).
    #[arg(long, value_name = "PERCENT")]
    pub margin: Option<f64>,
    /// The proactive policies' error quantile, 0.5 to 0.99 (prescale.dev/forecast-quantile).
    #[arg(long, value_name = "Q")]
    pub quantile: Option<f64>,
    /// The proactive policies' look-ahead, seconds (default: pod start-up + one HPA sync).
    #[arg(long, value_name = "SECONDS")]
    pub lead: Option<f64>,
    /// The proactive policies' season (`none` or a duration such as 1d or 7d).
    #[arg(long, value_name = "SEASON")]
    pub season: Option<String>,
    /// Worker threads (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

fn trace_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("reading {}", p.display()))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading the directory {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "csv"))
                .collect();
            if found.is_empty() {
                bail!("{} contains no *.csv trace", p.display());
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

fn standard(args: &BenchArgs) -> Result<Standard> {
    let positive = |name: &str, v: f64| -> Result<()> {
        if !(v.is_finite() && v > 0.0) {
            bail!("--{name} must be a positive number, got {v}");
        }
        Ok(())
    };
    positive("peak-divisor", args.peak_divisor)?;
    if let Some(c) = args.capacity_per_pod {
        positive("capacity-per-pod", c)?;
    }
    if let Some(t) = args.threshold {
        positive("threshold", t)?;
    }
    if args.min_replicas < 1 || args.max_replicas < args.min_replicas {
        bail!(
            "--min-replicas {} and --max-replicas {} must satisfy 1 <= min <= max",
            args.min_replicas,
            args.max_replicas
        );
    }
    if args.polling_interval < 1 {
        bail!(
            "--polling-interval must be at least 1 second, got {}",
            args.polling_interval
        );
    }
    if !(args.pod_startup.is_finite() && args.pod_startup >= 0.0) {
        bail!(
            "--pod-startup must be a non-negative number of seconds, got {}",
            args.pod_startup
        );
    }
    Ok(Standard {
        peak_divisor: args.peak_divisor,
        capacity_per_pod: args.capacity_per_pod,
        threshold: args.threshold,
        min_replicas: args.min_replicas,
        max_replicas: args.max_replicas,
        polling_interval_s: args.polling_interval,
        pod_startup_s: args.pod_startup,
        margin_pct: args.margin,
        quantile: args.quantile,
        lead_s: args.lead,
        season: args.season.clone(),
    })
}

fn policies(args: &BenchArgs) -> Result<Vec<Policy>> {
    match &args.policies {
        None => Ok(Policy::all()),
        Some(names) => Ok(bench::parse_policies(names).map_err(anyhow::Error::msg)?),
    }
}

/// A bar over `total` seconds of simulated time on stderr; hidden with `--quiet` or when stderr is not a
/// terminal (`bench` and `backtest`).
pub(crate) fn progress_bar(quiet: bool, total: f64) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::with_draw_target(Some(total.round() as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {percent}% simulated time ({msg})",
    ) {
        b.set_style(style);
    }
    b
}

/// `--threads`, or as many as the machine has.
pub(crate) fn threads(option: Option<usize>) -> usize {
    option.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

pub fn run(args: &BenchArgs) -> Result<ExitCode> {
    let w = standard(args)?;
    let policies = policies(args)?;
    let files = trace_files(&args.traces)?;
    let mut traces = Vec::new();
    for f in &files {
        traces.push(Trace::load(f)?);
    }
    let total: f64 = traces
        .iter()
        .map(|t| t.duration_ms as f64 / 1000.0)
        .sum::<f64>()
        * policies.len() as f64;
    let bar = progress_bar(args.quiet, total);
    let finished = Mutex::new(0usize);
    let units = traces.len() * policies.len();
    let progress = |t: usize, p: Policy, secs: f64| {
        bar.inc(secs.round() as u64);
        if let Ok(mut n) = finished.lock() {
            *n += 1;
            bar.set_message(format!(
                "{}/{units} runs, last: {} on {}",
                *n,
                p.name(),
                traces[t].name
            ));
        }
    };
    let threads = threads(args.threads);
    let report = bench::run(&traces, &w, &policies, threads, &progress)?;
    bar.finish_and_clear();
    if let Some(dir) = &args.plot {
        let files = prescale_sim::bench_plot::write_all(dir, &report, &traces)
            .with_context(|| format!("writing plots into {}", dir.display()))?;
        if !args.quiet {
            eprintln!("wrote {} plots into {}", files.len(), dir.display());
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        BenchFormat::Json => {
            let json = serde_json::to_string_pretty(&report)?;
            writeln!(out, "{json}")?;
        }
        BenchFormat::Text => write!(out, "{}", bench_table::table(&report))?,
        BenchFormat::Markdown => write!(
            out,
            "{}",
            bench_table::markdown(&report, args.plot.as_deref())
        )?,
    }
    Ok(ExitCode::SUCCESS)
}
