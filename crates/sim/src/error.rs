//! The simulator's one error type.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file named by the scenario (or the scenario itself) could not be read.
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The scenario is not valid; `field` is its path inside the scenario (e.g. `metrics[0].points[2]`).
    #[error("{file}: {field}: {message}")]
    Scenario {
        file: String,
        field: String,
        message: String,
    },
    /// A CSV series could not be parsed.
    #[error("{path}:{line}: {message}")]
    Csv {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The ScaledObject is not valid or not supported by the engine.
    #[error("{file}: scaledObject")]
    Engine {
        file: String,
        source: prescale_core::Error,
    },
    /// An output file or directory (plots) could not be written.
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The plot could not be drawn.
    #[error("cannot draw the plot: {message}")]
    Plot { message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
