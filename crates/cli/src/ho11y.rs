//! `prescale ho11y`: ho11y's environment (`HO11Y_*`, `DOWNSTREAM0`..`4`, `DISABLE_OM`, `OTEL_*`), JSON logs, then
//! `prescale_ho11y::serve` until SIGINT or SIGTERM.

use clap::Args;
use prescale_ho11y::{App, Config, LogDest};

/// Exit code: stopped on a signal.
const EXIT_OK: u8 = 0;
/// Exit code: could not start or serve (port taken, …).
const EXIT_FAILED: u8 = 1;
/// Exit code: a bad environment value.
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Args)]
#[command(
    about = "Serve ho11y, the reference architecture's synthetic signal generator (configured by environment)",
    long_about = "Serve a behaviour-compatible ho11y, configured only by ho11y's environment variables: HO11Y_PORT \
(default 8765; empty = any free port), HO11Y_LOG_DEST (stdout, else stderr), HO11Y_INJECT_FAILURE (non-empty: 49 % \
of requests answered 400/403/301/404/501), HO11Y_CUTOFF_TPS (integer: 429 above this rate, measured over 500 ms), \
DOWNSTREAM0..DOWNSTREAM4 (an http URL called with GET, or DUMMY:<size>:<duration> such as DUMMY:187kB:42ms, \
called one after the other), DISABLE_OM (present: /metrics always in text format 0.0.4, else OpenMetrics with \
exemplars when asked for), OTEL_RESOURCE_ATTRIB (service name in the start-up log).\n\nDifferences from ho11y: \
an unreachable URL downstream is logged and answered with 502 instead of exiting the process; bad values stop \
start-up with an error naming the variable; OTEL_EXPORTER_OTLP_ENDPOINT is accepted but traces are not exported; \
no go_*/process_* metrics; JSON logs name their fields message/timestamp/level (INFO) where logrus writes \
msg/time/level (info)."
)]
pub struct Ho11yArgs {}

fn init_logging(dest: LogDest) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .json()
        .flatten_event(true)
        .with_current_span(false);
    match dest {
        LogDest::Stdout => builder.with_writer(std::io::stdout).init(),
        LogDest::Stderr => builder.with_writer(std::io::stderr).init(),
    }
}

/// Run the subcommand; returns the process exit code.
pub fn run(_args: &Ho11yArgs) -> u8 {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("prescale ho11y: {e}");
            return EXIT_USAGE;
        }
    };
    init_logging(config.log_dest);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("prescale ho11y: cannot start the async runtime: {e}");
            return EXIT_FAILED;
        }
    };
    runtime.block_on(async move {
        let port = config.port;
        let app = match App::new(config) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!("{e}");
                return EXIT_FAILED;
            }
        };
        let listener = match prescale_ho11y::bind(port).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("{e}");
                return EXIT_FAILED;
            }
        };
        match prescale_ho11y::serve(listener, app, crate::shutdown_signal()).await {
            Ok(()) => EXIT_OK,
            Err(e) => {
                tracing::error!("{e}");
                EXIT_FAILED
            }
        }
    })
}
