//! The `prescale` binary: one thin module per subcommand, wiring only.
#![forbid(unsafe_code)]

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "prescale",
    version,
    about = "A KEDA-compatible autoscaler for Kubernetes, with a simulator"
)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
}
