//! The crate's one error type.

/// Errors of the pure engine. Every variant names the field or value that caused it.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// A Kubernetes quantity string could not be parsed.
    #[error("invalid quantity {value:?}: {reason}")]
    Quantity { value: String, reason: String },
    /// A value is not valid for the field at `path`.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Error {
    /// The message without the field path for [`Error::Invalid`] (what KEDA's Go error says, e.g. in a
    /// reconcile message); the whole text for the other variants.
    pub fn into_message(self) -> String {
        match self {
            Error::Invalid { message, .. } => message,
            other => other.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
