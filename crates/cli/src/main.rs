//! The `prescale` binary: one thin module per subcommand, wiring only.
#![forbid(unsafe_code)]

mod simulate;

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
    /// Replay a metric timeline through KEDA + HPA on a simulated cluster.
    Simulate(simulate::SimulateArgs),
}

/// Output format shared by subcommands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => simulate::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
