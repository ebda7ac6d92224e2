//! The crate's one error type.

/// Errors of trigger configuration and evaluation. Each names the parameter, value or server answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Trigger metadata or authentication parameters KEDA would reject.
    #[error("{0}")]
    Config(String),
    /// The server answered, but not with a usable value.
    #[error("{0}")]
    Response(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
