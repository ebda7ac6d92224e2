//! The simulator: a deterministic discrete-event replay of KEDA + the HPA on a simulated cluster, driving the
//! exact engine of `prescale-core`, with the scores of `../shared/reference/scoring.md`.
#![forbid(unsafe_code)]

pub mod bench;
pub mod bench_plot;
pub mod bench_table;
pub mod canvas;
pub mod cluster;
pub mod duration;
pub mod error;
pub mod oracle;
pub mod plot;
pub mod report;
pub mod run;
pub mod scenario;
pub mod score;
pub mod series;

pub use error::{Error, Result};
pub use run::{Options, Run, simulate};
pub use scenario::Scenario;
