//! `prescale backtest -f SCALEDOBJECT.yaml --from T1 --to T2 [--step 15s]`: fetch every trigger's history
//! from its server (`query_range`, with the trigger's own authentication, TLS and SigV4, resolved exactly as
//! `prescale check` resolves them) and compare, on that history, the policies of `prescale bench`:
//! `keda-hpa`, each `proactive-<model>` and `oracle`, on the ScaledObject as written.
//!
//! **Time.** `--from`/`--to` are RFC 3339 instants (`2026-11-28T10:00:00Z`, `…+01:00`, fractions allowed) or
//! relative to one reading of the clock (`now`, `-6h`, `now-90m`). The points are the multiples of `--step`
//! in `[from, to]` (the grid of [`RangePlan`]); the replay's t = 0 is the first of them and it lasts one step
//! past the last (each value holds for its bin, as `bench` reads a trace).
//!
//! **Gaps.** A grid point without a sample (a NaN the server answers, which `query_range` leaves out, or a
//! point past the server's lookback, e.g. an idle series) reads what KEDA reads from an empty answer: 0 with
//! the default `ignoreNullValues`, a failed query (KEDA's fallback) with `ignoreNullValues: false`. A trigger
//! whose range has no sample at all is an error naming the trigger and its query.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use prescale_check::sources::{self, AuthConfig};
use prescale_core::keda::trigger_targets;
use prescale_core::proactive;
use prescale_core::spec::ScaledObject;
use prescale_scalers::prometheus::range::{MAX_POINTS_PER_REQUEST, RangePlan};
use prescale_scalers::prometheus::request::{redact_userinfo, rfc3339_seconds};
use prescale_scalers::{PrometheusScaler, Scaler, ScalerContext, TriggerAuth};
use prescale_sim::bench::{self, Case, Policy, Replay, Report, Trace};
use prescale_sim::series::{Sample, Series};
use serde::Serialize;

use crate::Format;
use crate::check::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

#[derive(Debug, Args)]
#[command(
    about = "Fetch a ScaledObject's trigger history from its servers and compare keda-hpa, the proactive \
models and the oracle on it",
    long_about = "Fetch a ScaledObject's trigger history from its servers and compare keda-hpa, the proactive \
models and the oracle on it, as `prescale bench` does on traces.\n\n\
The file must hold one keda.sh/v1alpha1 ScaledObject (validated as `prescale validate` does) whose triggers are \
prometheus triggers. Each trigger's query is fetched with GET <serverAddress>/api/v1/query_range over [--from, \
--to] every --step (in requests of at most 11,000 points), with the trigger's authentication, headers, TLS and \
AWS SigV4 exactly as `prescale check` sends its instant query: authenticationRef resolved from the file and \
--secrets, --env, --cluster-object-namespace, and --server-address with the same rules. Nothing is ever sent \
unsigned.\n\n\
The ScaledObject is replayed as written (min/max replicas, pollingInterval, behavior, thresholds, fallback...) \
with one series per trigger, t = 0 at the first point of the range: keda-hpa without any prescale.dev/ \
annotation, proactive-<model> with prescale.dev/forecast: <model> and the ScaledObject's other prescale.dev/ \
annotations, and oracle. A point without a sample reads as KEDA reads an empty answer (0, or a failed query with \
ignoreNullValues: false). The run starts with the pods the load's first value needs. Scores need the load one pod serves: \
--capacity-per-pod, by default the load trigger's threshold.\n\n\
Exit status: 0 on success, 1 when the ScaledObject is invalid, a trigger's history cannot be fetched (the \
message names the trigger, its query and its server) or the replay fails, 2 for a usage error or a file that \
cannot be read or written.",
    after_help = "Examples:\n  prescale backtest -f scaledobject.yaml --from -6h\n  \
prescale backtest -f scaledobject.yaml --from 2026-11-28T10:00:00Z --to 2026-11-28T16:00:00Z --step 30s\n  \
prescale backtest -f so.yaml --from -1d --server-address http://127.0.0.1:9090 --format json --plot plots"
)]
pub struct BacktestArgs {
    /// The ScaledObject manifest (YAML), or `-` for standard input.
    #[arg(short = 'f', long = "filename", value_name = "SCALEDOBJECT.yaml")]
    pub file: PathBuf,
    /// The start of the history: RFC 3339 (`2026-11-28T10:00:00Z`) or relative to now (`-6h`, `now-90m`).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub from: String,
    /// The end of the history: RFC 3339, `now`, or relative to now (`-1h`).
    #[arg(
        long,
        value_name = "TIME",
        default_value = "now",
        allow_hyphen_values = true
    )]
    pub to: String,
    /// The distance between points (a duration: `15s`, `1m`).
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    pub step: String,
    #[command(flatten)]
    pub auth: crate::check::AuthArgs,
    /// The load one ready pod serves (default: the load trigger's threshold).
    #[arg(long, value_name = "VALUE")]
    pub capacity_per_pod: Option<f64>,
    /// The trigger whose history is the load, by index or name (default: the first).
    #[arg(long, value_name = "N|NAME")]
    pub load_trigger: Option<String>,
    /// How long a new pod takes to become ready (default: the prescale.dev/pod-startup annotation, else 60s).
    #[arg(long, value_name = "DURATION")]
    pub pod_startup: Option<String>,
    /// Only these policies (comma-separated: keda-hpa, proactive-<model>, oracle).
    #[arg(long, value_delimiter = ',', value_name = "POLICY")]
    pub policies: Option<Vec<String>>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write plots (SVG and PNG) into this directory.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Worker threads for the replays (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar and no notes on standard error.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A failure: the exit code and the message.
type Failure = (u8, String);

fn usage(msg: impl Into<String>) -> Failure {
    (EXIT_USAGE, msg.into())
}

fn failed(msg: impl Into<String>) -> Failure {
    (EXIT_FAILED, msg.into())
}

/// What was fetched for one trigger (the report's `workload.triggers`).
#[derive(Debug, Serialize)]
pub struct FetchedTrigger {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub metric_name: String,
    pub server_address: String,
    pub query: String,
    pub threshold: f64,
    /// How the range requests are signed, when they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigv4: Option<String>,
    /// Samples the server answered (at most one per grid point).
    pub points: usize,
    /// Grid points without a sample (read as 0, or as a failed query with ignoreNullValues: false).
    pub gaps: u64,
}

/// The report's `workload`: the ScaledObject, the range and what was fetched.
#[derive(Debug, Serialize)]
pub struct Backtest {
    pub scaled_object: String,
    pub file: String,
    /// The range asked for, RFC 3339 (seconds).
    pub from: String,
    pub to: String,
    pub step_s: f64,
    /// The first point of the grid (t = 0 of the replay), unix milliseconds.
    pub first_point_unix_ms: i64,
    /// Grid points in the range.
    pub grid_points: u64,
    pub load_trigger: usize,
    pub capacity_per_pod: f64,
    pub pod_startup_s: f64,
    pub initial_replicas: i32,
    pub triggers: Vec<FetchedTrigger>,
    pub notes: Vec<String>,
}

/// Run the subcommand; returns the process exit code.
pub fn run(args: &BacktestArgs) -> u8 {
    match backtest(args) {
        Ok(()) => EXIT_OK,
        Err((code, msg)) => {
            eprintln!("prescale backtest: {msg}");
            code
        }
    }
}

fn backtest(args: &BacktestArgs) -> Result<(), Failure> {
    let now = SystemTime::now();
    let from = parse_instant(&args.from, now)
        .map_err(|e| usage(format!("--from {:?}: {e}", args.from)))?;
    let to = parse_instant(&args.to, now).map_err(|e| usage(format!("--to {:?}: {e}", args.to)))?;
    if from >= to {
        return Err(usage(format!(
            "--from {} is not before --to {}",
            rfc3339_seconds(from),
            rfc3339_seconds(to)
        )));
    }
    let step_ms = prescale_core::duration::parse_duration_ms(&args.step)
        .map_err(|e| usage(format!("--step {:?}: {e}", args.step)))?;
    if step_ms <= 0 {
        return Err(usage(format!(
            "--step {:?} must be longer than 0",
            args.step
        )));
    }
    let step = Duration::from_millis(step_ms.unsigned_abs());
    if let Some(c) = args.capacity_per_pod
        && !(c.is_finite() && c > 0.0)
    {
        return Err(usage(format!(
            "--capacity-per-pod must be a positive number, got {c}"
        )));
    }
    let policies = policies(args.policies.as_deref())?;
    let plan =
        RangePlan::new(from, to, step, MAX_POINTS_PER_REQUEST).map_err(|e| usage(e.to_string()))?;
    if plan.points == 0 {
        return Err(usage(format!(
            "no multiple of --step {} lies between {} and {}",
            args.step,
            rfc3339_seconds(from),
            rfc3339_seconds(to)
        )));
    }

    let text = crate::check::read(&args.file).map_err(usage)?;
    let so = crate::check::one_scaled_object(&args.file, &text, "backtest")?;
    let targets = trigger_targets(&so).map_err(|e| failed(e.to_string()))?;
    let load = load_trigger(&so, args.load_trigger.as_deref())?;
    let pod_startup_ms = pod_startup_ms(&so, args.pod_startup.as_deref())?;
    let capacity = args.capacity_per_pod.unwrap_or(targets[load].threshold);
    if !(capacity.is_finite() && capacity > 0.0) {
        return Err(failed(format!(
            "the load trigger {load}'s threshold {capacity} cannot be the capacity per pod; give \
             --capacity-per-pod"
        )));
    }

    // Every trigger's scaler, built as `prescale check` builds it.
    let source = crate::check::auth_source(&args.file, &text, &args.auth.secrets, &args.auth.env)?;
    let auth = AuthConfig {
        source: Arc::new(source),
        cluster_object_namespace: args.auth.cluster_object_namespace.clone(),
    };
    let ctx = ScalerContext::new();
    let mut notes = Vec::new();
    let mut scalers = Vec::new();
    for (index, trigger) in so.spec.triggers.iter().enumerate() {
        let who = trigger_name(index, trigger.name.as_deref(), &targets[index].metric_name);
        if trigger.kind != "prometheus" {
            return Err(failed(format!(
                "{who}: type {:?}: backtest fetches the history of prometheus triggers only",
                trigger.kind
            )));
        }
        let resolved = sources::resolve(Some(&auth), &so, trigger)
            .map_err(|e| failed(format!("{who}: {e}")))?;
        let (trigger, resolved) = prescale_check::apply_options(
            index,
            trigger,
            args.auth.server_address.as_deref(),
            resolved,
            &mut notes,
        );
        let scaler = PrometheusScaler::new(
            &ctx,
            index,
            &trigger,
            TriggerAuth {
                params: Some(&resolved.params),
                pod_identity: resolved.pod_identity.as_ref(),
                resolved_env: Some(&resolved.resolved_env),
            },
        )
        .map_err(|e| failed(format!("{who}: {e}")))?;
        scalers.push((who, scaler));
    }
    if !args.quiet {
        for n in &notes {
            eprintln!("note: {n}");
        }
    }

    // Their histories, one trigger after the other.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(format!("cannot start the async runtime: {e}")))?;
    let mut series = Vec::new();
    let mut fetched = Vec::new();
    for (index, (who, scaler)) in scalers.iter().enumerate() {
        let m = scaler.metadata();
        let server = redact_userinfo(&m.server_address).into_owned();
        let what = format!("query {:?} on {server}", m.query);
        let history = runtime
            .block_on(scaler.query_range(from, to, step))
            .map_err(|e| failed(format!("{who}: {what}: {e}")))?;
        if history.is_empty() {
            return Err(failed(format!(
                "{who}: {what} has no sample between {} and {}; check the query and the range",
                rfc3339_seconds(from),
                rfc3339_seconds(to)
            )));
        }
        // Every grid point: its sample, or what KEDA reads from an empty answer (0 with the default
        // ignoreNullValues, a failed query with ignoreNullValues: false).
        let missing = if m.ignore_null_values {
            Sample::Value(0.0)
        } else {
            Sample::Error
        };
        let (s, gaps) = Series::on_grid(
            plan.first_ms,
            plan.step_ms,
            plan.points,
            &history.points,
            missing,
        )
        .map_err(|(i, e)| failed(format!("{who}: {what}: sample {i} of the history: {e}")))?;
        fetched.push(FetchedTrigger {
            index,
            name: so.spec.triggers[index].name.clone(),
            metric_name: targets[index].metric_name.clone(),
            server_address: server,
            query: m.query.clone(),
            threshold: targets[index].threshold,
            sigv4: scaler
                .describe()
                .into_iter()
                .find(|(k, _)| *k == "sigv4")
                .map(|(_, v)| v),
            points: usize::try_from(plan.points - gaps).unwrap_or(usize::MAX),
            gaps,
        });
        series.push(s);
    }

    // The replay.
    let duration_ms = i64::try_from(plan.points)
        .ok()
        .and_then(|n| n.checked_mul(plan.step_ms))
        .ok_or_else(|| usage("the range has too many points"))?;
    let name = so.metadata.name().to_string();
    let file = args.file.display().to_string();
    let load_series = series[load].clone();
    let case = Case::replay(
        &so,
        Replay {
            name: name.clone(),
            file: file.clone(),
            series,
            load,
            capacity_per_pod: capacity,
            pod_startup_ms,
            step_ms: plan.step_ms,
            duration_ms,
        },
    )
    .map_err(|e| failed(e.to_string()))?;
    let initial_replicas = case.scenario.workload.initial_replicas.unwrap_or_default();
    let bar = crate::bench::progress_bar(
        args.quiet,
        duration_ms as f64 / 1000.0 * policies.len() as f64,
    );
    let progress = |_: usize, p: Policy, secs: f64| {
        bar.inc(secs.round() as u64);
        bar.set_message(format!("last: {}", p.name()));
    };
    let threads = crate::bench::threads(args.threads);
    let traces = bench::run_cases(std::slice::from_ref(&case), &policies, threads, &progress)
        .map_err(|e| failed(e.to_string()))?;
    bar.finish_and_clear();
    let report = Report {
        workload: Backtest {
            scaled_object: format!("{}/{}", so.metadata.namespace_or_default(), name),
            file: file.clone(),
            from: rfc3339_seconds(from),
            to: rfc3339_seconds(to),
            step_s: plan.step_ms as f64 / 1000.0,
            first_point_unix_ms: plan.first_ms,
            grid_points: plan.points,
            load_trigger: load,
            capacity_per_pod: capacity,
            pod_startup_s: pod_startup_ms as f64 / 1000.0,
            initial_replicas,
            triggers: fetched,
            notes,
        },
        policies: policies.iter().map(|p| p.name()).collect(),
        traces,
    };

    if let Some(dir) = &args.plot {
        let trace = Trace {
            name,
            path: args.file.clone(),
            series: load_series,
            step_ms: plan.step_ms,
            duration_ms,
        };
        let files = prescale_sim::bench_plot::write_all(dir, &report, std::slice::from_ref(&trace))
            .map_err(|e| {
                (
                    EXIT_USAGE,
                    format!("writing plots into {}: {e}", dir.display()),
                )
            })?;
        if !args.quiet {
            eprintln!("wrote {} plots into {}", files.len(), dir.display());
        }
    }
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)
            .map(|s| s + "\n")
            .map_err(|e| failed(format!("cannot encode JSON: {e}")))?,
        Format::Text => header(&report.workload) + &prescale_sim::bench_table::table(&report),
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| usage(format!("cannot write the report: {e}")))?;
    Ok(())
}

fn trigger_name(index: usize, name: Option<&str>, metric: &str) -> String {
    match name {
        Some(n) => format!("trigger {index} {n:?} ({metric})"),
        None => format!("trigger {index} ({metric})"),
    }
}

/// The text report's first lines: what was fetched.
fn header(w: &Backtest) -> String {
    let mut s = format!(
        "backtest of ScaledObject {} ({}) from {} to {} every {} s: {} points from {}\n",
        w.scaled_object,
        w.file,
        w.from,
        w.to,
        w.step_s,
        w.grid_points,
        rfc3339_seconds(unix_ms(w.first_point_unix_ms)),
    );
    for n in &w.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    for t in &w.triggers {
        s.push_str(&format!(
            "{}: query {} at {}{}: {} samples, {} without\n",
            trigger_name(t.index, t.name.as_deref(), &t.metric_name),
            t.query,
            t.server_address,
            t.sigv4
                .as_deref()
                .map(|v| format!(" (signed with AWS SigV4: {v})"))
                .unwrap_or_default(),
            t.points,
            t.gaps
        ));
    }
    s.push_str(&format!(
        "load: trigger {}, capacityPerPod {}, pods ready {} s after creation, starting with {} pod(s)\n\n",
        w.load_trigger, w.capacity_per_pod, w.pod_startup_s, w.initial_replicas
    ));
    s
}

fn unix_ms(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

/// `--load-trigger`: an index or a trigger's name; default the first trigger.
fn load_trigger(so: &ScaledObject, arg: Option<&str>) -> Result<usize, Failure> {
    let triggers = &so.spec.triggers;
    let Some(arg) = arg else { return Ok(0) };
    if let Some(i) = triggers.iter().position(|t| t.name.as_deref() == Some(arg)) {
        return Ok(i);
    }
    match arg.parse::<usize>() {
        Ok(i) if i < triggers.len() => Ok(i),
        _ => {
            let names: Vec<String> = triggers
                .iter()
                .enumerate()
                .map(|(i, t)| match &t.name {
                    Some(n) => format!("{i} ({n})"),
                    None => i.to_string(),
                })
                .collect();
            Err(usage(format!(
                "--load-trigger {arg:?} names no trigger; the ScaledObject has {}",
                names.join(", ")
            )))
        }
    }
}

/// `--pod-startup`, else the `prescale.dev/pod-startup` annotation, else 60 s.
fn pod_startup_ms(so: &ScaledObject, arg: Option<&str>) -> Result<i64, Failure> {
    if let Some(a) = arg {
        return prescale_core::duration::parse_duration_ms(a)
            .map_err(|e| usage(format!("--pod-startup {a:?}: {e}")));
    }
    match so
        .metadata
        .annotations
        .get(proactive::ANNOTATION_POD_STARTUP)
    {
        Some(v) => prescale_core::duration::parse_duration_ms(v).map_err(|e| {
            failed(format!(
                "metadata.annotations[{:?}] {v:?}: {e}",
                proactive::ANNOTATION_POD_STARTUP
            ))
        }),
        None => Ok(proactive::DEFAULT_POD_STARTUP_MS),
    }
}

fn policies(names: Option<&[String]>) -> Result<Vec<Policy>, Failure> {
    match names {
        None => Ok(Policy::all()),
        Some(names) => bench::parse_policies(names).map_err(usage),
    }
}

/// `--from`/`--to`: `now`, `-DURATION` or `now-DURATION` (before `now`), or an RFC 3339 instant.
pub fn parse_instant(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    let ago = t
        .strip_prefix("now-")
        .or_else(|| t.strip_prefix("NOW-"))
        .or_else(|| t.strip_prefix('-'));
    if let Some(d) = ago {
        let ms = prescale_core::duration::parse_duration_ms(d)?;
        return now
            .checked_sub(Duration::from_millis(ms.unsigned_abs()))
            .ok_or_else(|| format!("{d} before now is out of range"));
    }
    if t.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && t.len() >= 10
        && t.as_bytes()[4] == b'-'
    {
        return prescale_aws::parse_rfc3339(t);
    }
    Err(
        "expected an RFC 3339 time (2026-11-28T10:00:00Z), now, or a duration before now (-6h, now-90m)"
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(secs: i64) -> SystemTime {
        unix_ms(secs * 1000)
    }

    #[test]
    fn rfc3339_instants() {
        let cases = [
            ("1970-01-01T00:00:00Z", unix(0)),
            ("2026-11-28T10:00:00Z", unix(1_795_860_000)),
            ("2026-11-28t10:00:00z", unix(1_795_860_000)),
            ("2026-11-28 10:00:00Z", unix(1_795_860_000)),
            ("2026-11-28T11:30:00+01:30", unix(1_795_860_000)),
            ("2026-11-28T05:00:00-05:00", unix(1_795_860_000)),
            ("2024-02-29T23:59:59Z", unix(1_709_251_199)),
            ("2000-03-01T00:00:00Z", unix(951_868_800)),
            ("1969-12-31T23:00:00Z", unix(-3_600)),
            (
                "2026-11-28T10:00:00.25Z",
                unix(1_795_860_000) + Duration::from_millis(250),
            ),
            (
                "2026-11-28T10:00:00.000000001Z",
                unix(1_795_860_000) + Duration::from_nanos(1),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(prescale_aws::parse_rfc3339(text), Ok(expected), "{text}");
            assert_eq!(parse_instant(text, unix(0)), Ok(expected), "{text}");
        }
    }

    #[test]
    fn relative_instants_count_back_from_one_now() {
        let now = unix(1_795_860_000);
        assert_eq!(parse_instant("now", now), Ok(now));
        assert_eq!(parse_instant(" NOW ", now), Ok(now));
        assert_eq!(
            parse_instant("-6h", now),
            Ok(unix(1_795_860_000 - 6 * 3600))
        );
        assert_eq!(
            parse_instant("now-90m", now),
            Ok(unix(1_795_860_000 - 5400))
        );
        assert_eq!(parse_instant("-1h30m", now), Ok(unix(1_795_860_000 - 5400)));
        assert_eq!(parse_instant("-1d", now), Ok(unix(1_795_860_000 - 86_400)));
        assert_eq!(
            parse_instant("-0.5s", now),
            Ok(now - Duration::from_millis(500))
        );
        for bad in ["", "yesterday", "6h", "+6h", "now+1h", "1795860000"] {
            let err = parse_instant(bad, now).unwrap_err();
            assert!(
                err.starts_with("expected an RFC 3339 time"),
                "{bad:?}: {err}"
            );
        }
        let err = parse_instant("-6x", now).unwrap_err();
        assert!(err.contains("unknown unit \"x\""), "{err}");
        let err = parse_instant("-", now).unwrap_err();
        assert!(err.contains("empty duration"), "{err}");
    }

    #[test]
    fn load_trigger_by_name_or_index() {
        let so: ScaledObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {"name": "a"},
            "spec": {
                "scaleTargetRef": {"name": "web"},
                "triggers": [
                    {"type": "prometheus", "name": "rps", "metadata": {}},
                    {"type": "prometheus", "metadata": {}},
                ]
            }
        }))
        .unwrap();
        assert_eq!(load_trigger(&so, None), Ok(0));
        assert_eq!(load_trigger(&so, Some("rps")), Ok(0));
        assert_eq!(load_trigger(&so, Some("1")), Ok(1));
        let (code, msg) = load_trigger(&so, Some("2")).unwrap_err();
        assert_eq!(code, EXIT_USAGE);
        assert_eq!(
            msg,
            "--load-trigger \"2\" names no trigger; the ScaledObject has 0 (rps), 1"
        );
    }
}
