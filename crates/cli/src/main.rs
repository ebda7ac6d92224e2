//! The `prescale` binary: one thin module per subcommand, wiring only.
#![forbid(unsafe_code)]

mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Validate(args) => ExitCode::from(validate::run(&args)),
    }
}
