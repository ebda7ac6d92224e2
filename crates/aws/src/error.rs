//! Errors of the credentials providers.

use std::path::PathBuf;

use crate::SignError;

/// Why no credentials could be obtained. Messages name the link of the chain, the file
/// (with line) or the endpoint involved; they never contain secret values.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CredentialsError {
    /// No link of the default chain was configured, and IMDS (the last resort) gave
    /// nothing. `tried` holds each link with the reason it did not give credentials.
    #[error("no AWS credentials found: {}", join_tried(.tried))]
    NotFound { tried: Vec<(String, String)> },
    /// A link that was configured failed; `link` names it (`environment`,
    /// `profile "dev"`, `web identity`, `container credentials`, `sts assume role …`).
    #[error("{link}: {source}")]
    Link {
        link: String,
        #[source]
        source: Box<CredentialsError>,
    },
    /// Incomplete or unsupported configuration, e.g. a key id without a secret key.
    #[error("{0}")]
    Config(String),
    /// A malformed shared config or credentials file.
    #[error("{}:{line}: {message}", .path.display())]
    ProfileFile {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A file that is configured but cannot be read (token files, profile files).
    #[error("cannot read {what} {}: {message}", .path.display())]
    File {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
    /// The request did not get an HTTP response (connect error, timeout, …).
    #[error("{endpoint}: {message}")]
    Http { endpoint: String, message: String },
    /// A non-success HTTP status without a readable service error.
    #[error("{endpoint}: HTTP {status}: {body}")]
    Status {
        endpoint: String,
        status: u16,
        body: String,
    },
    /// An STS error response (`<Error><Code>…</Code><Message>…</Message></Error>`).
    #[error("STS {action} at {endpoint}: HTTP {status}: {code}: {message}")]
    Sts {
        endpoint: String,
        action: &'static str,
        status: u16,
        code: String,
        message: String,
    },
    /// A success status with a body that is not what the endpoint should return.
    #[error("{endpoint}: invalid response: {message}")]
    InvalidResponse { endpoint: String, message: String },
    /// Signing an STS request failed.
    #[error("signing the request to {endpoint}: {source}")]
    Sign {
        endpoint: String,
        #[source]
        source: Box<SignError>,
    },
}

fn join_tried(tried: &[(String, String)]) -> String {
    tried
        .iter()
        .map(|(link, reason)| format!("{link}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl CredentialsError {
    pub(crate) fn link(link: impl Into<String>, source: CredentialsError) -> Self {
        CredentialsError::Link {
            link: link.into(),
            source: Box::new(source),
        }
    }
}
