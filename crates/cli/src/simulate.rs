//! `prescale simulate SCENARIO.yaml`: replay a metric timeline through KEDA + HPA on a simulated cluster.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use prescale_sim::{Options, Scenario, report, simulate};

use crate::Format;

#[derive(clap::Args, Debug)]
#[command(after_long_help = "\
Timing rules: KEDA polls at t = 0, pollingInterval, 2*pollingInterval, ...; the HPA syncs at t = 0,
hpaSyncPeriod, ...; at one instant pods that finished starting become ready first, then KEDA polls, then the
HPA syncs. The HPA reads each metric live at its sync (with useCachedMetrics, KEDA's last poll). status.replicas
follows spec.replicas at once; initial pods are ready at t = 0; new pods are ready podStartupSeconds after
creation; scale-down removes not-ready pods first, then the newest.

Exit status: 0 on success, 1 when the scenario or its ScaledObject is invalid, 2 on usage errors or an
unreadable file.")]
pub struct SimulateArgs {
    /// The scenario file (YAML), or `-` for standard input (relative paths then resolve against the
    /// current directory).
    pub scenario: PathBuf,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the timeline as CSV (t,replicas,ready,desired,active,metric[,metric1,...]) to this file.
    #[arg(long, value_name = "FILE.csv")]
    pub timeline: Option<PathBuf>,
    /// Draw the run (trigger values, replicas, ready pods, HPA desired, demand) as an SVG or PNG file
    /// (1200×760), chosen by the file name's extension (.svg or .png).
    #[arg(long, value_name = "FILE.svg|FILE.png", value_parser = plot_path)]
    pub plot: Option<PathBuf>,
    /// Benchmark: run the simulation this many times (no timeline) and report the median wall time.
    #[arg(
        long,
        value_name = "RUNS",
        value_parser = clap::value_parser!(u32).range(1..=1000),
        conflicts_with_all = ["timeline", "plot", "format"]
    )]
    pub bench: Option<u32>,
}

/// `--plot`: refuse an unknown extension before simulating (a usage error).
fn plot_path(arg: &str) -> std::result::Result<PathBuf, String> {
    let path = PathBuf::from(arg);
    match prescale_sim::canvas::Format::of_path(&path) {
        Ok(_) => Ok(path),
        Err(prescale_sim::Error::Plot { message }) => Err(message),
        Err(e) => Err(e.to_string()),
    }
}

fn load(path: &Path) -> Result<Scenario> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("reading the scenario from stdin")?;
        let cwd = std::env::current_dir().unwrap_or_default();
        Ok(Scenario::parse(&text, "<stdin>", &cwd)?)
    } else {
        Ok(Scenario::load(path)?)
    }
}

pub fn run(args: SimulateArgs) -> Result<ExitCode> {
    let scenario = load(&args.scenario)?;
    if let Some(n) = args.bench {
        return bench(&scenario, n);
    }
    let run = simulate(
        &scenario,
        Options {
            timeline: args.timeline.is_some() || args.plot.is_some(),
        },
    )?;
    if let Some(path) = &args.timeline {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut w = std::io::BufWriter::new(file);
        report::write_timeline(&run, &mut w)
            .and_then(|()| w.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.plot {
        let format = prescale_sim::canvas::Format::of_path(path)?;
        let bytes = prescale_sim::plot::render(&run, &scenario, format)?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let text = match args.format {
        Format::Text => report::human(&run),
        Format::Json => report::json(&run).context("cannot serialize the summary as JSON")?,
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn bench(scenario: &Scenario, runs: u32) -> Result<ExitCode> {
    let mut times = Vec::with_capacity(runs as usize);
    let mut syncs = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let run = simulate(scenario, Options::default())?;
        times.push(start.elapsed().as_secs_f64());
        syncs = run.summary.hpa_syncs + run.summary.keda_polls;
        std::hint::black_box(&run);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{}: {} simulated, {} KEDA polls + HPA syncs; {} runs: median {:.3}s, min {:.3}s, max {:.3}s ({:.0} ticks/s)",
        scenario.file,
        prescale_sim::duration::format_human(scenario.duration_ms),
        syncs,
        runs,
        median,
        times[0],
        times[times.len() - 1],
        syncs as f64 / median
    );
    Ok(ExitCode::SUCCESS)
}
