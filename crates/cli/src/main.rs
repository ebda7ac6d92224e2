//! The `prescale` binary: one thin module per subcommand, wiring only.
#![forbid(unsafe_code)]

mod backtest;
mod bench;
mod check;
mod crd;
mod ho11y;
mod load;
mod operator;
mod sigv4_proxy;
mod simulate;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "prescale",
    version,
    about = "A KEDA-compatible autoscaler for Kubernetes, with a simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Validate(validate::ValidateArgs),
    Check(check::CheckArgs),
    Crd(crd::CrdArgs),
    /// Replay a metric timeline through KEDA + HPA on a simulated cluster.
    Simulate(simulate::SimulateArgs),
    Bench(bench::BenchArgs),
    Backtest(backtest::BacktestArgs),
    #[command(name = "sigv4-proxy")]
    Sigv4Proxy(sigv4_proxy::Sigv4ProxyArgs),
    Operator(operator::OperatorArgs),
    Load(load::LoadArgs),
    Ho11y(ho11y::Ho11yArgs),
}

/// Output format shared by subcommands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// JSON.
    Json,
}

fn main() -> ExitCode {
    // One TLS crypto provider (ring) for every HTTPS client and server in the process.
    prescale_aws::install_crypto_provider();
    match Cli::parse().command {
        Command::Validate(args) => ExitCode::from(validate::run(&args)),
        Command::Check(args) => ExitCode::from(check::run(&args)),
        Command::Crd(args) => ExitCode::from(crd::run(&args)),
        Command::Sigv4Proxy(args) => ExitCode::from(sigv4_proxy::run(&args)),
        Command::Operator(args) => ExitCode::from(operator::run(&args)),
        Command::Ho11y(args) => ExitCode::from(ho11y::run(&args)),
        Command::Backtest(args) => ExitCode::from(backtest::run(&args)),
        Command::Load(args) => load::run(&args).unwrap_or_else(input_failure),
        Command::Bench(args) => bench::run(&args).unwrap_or_else(input_failure),
        Command::Simulate(args) => simulate::run(args).unwrap_or_else(input_failure),
    }
}

/// A failed `simulate`, `bench` or `load`, as for `validate`: a file that cannot be read or written is exit 2,
/// invalid content exit 1.
fn input_failure(e: anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    let file = matches!(
        e.downcast_ref::<prescale_sim::Error>(),
        Some(prescale_sim::Error::Read { .. } | prescale_sim::Error::Write { .. })
    ) || e.downcast_ref::<std::io::Error>().is_some();
    ExitCode::from(if file { 2 } else { 1 })
}

/// Resolves on SIGINT or SIGTERM (the long-running subcommands: operator, sigv4-proxy, ho11y).
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
