//! The operator's errors.

/// Everything that can go wrong in the operator's drivers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API server request failed.
    #[error("{action}: {source}")]
    Kube {
        action: String,
        #[source]
        source: kube::Error,
    },
    /// The scale target could not be resolved or read (the message is KEDA's condition text).
    #[error("{0}")]
    Target(String),
    /// A trigger's authentication could not be resolved.
    #[error("{0}")]
    Auth(String),
    /// A configuration value is invalid (names the flag or field).
    #[error("{0}")]
    Config(String),
    /// An object from the API server could not be (de)serialized.
    #[error("{what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// A short label for metrics and logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube { .. } => "kube",
            Error::Target(_) => "target",
            Error::Auth(_) => "auth",
            Error::Config(_) => "config",
            Error::Json { .. } => "json",
        }
    }

    /// Whether this is the API server's 409 Conflict (a stale resourceVersion).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Kube { source: kube::Error::Api(s), .. } if s.code == 409)
    }

    /// Whether this is the API server's 404 NotFound.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Kube { source: kube::Error::Api(s), .. } if s.code == 404)
    }
}

/// `Result` with the operator's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps a kube error with what was being done.
pub fn kube_err(action: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
    let action = action.into();
    move |source| Error::Kube { action, source }
}
