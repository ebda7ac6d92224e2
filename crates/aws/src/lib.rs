//! AWS support for prescale: SigV4 request signing (for Amazon Managed Service for
//! Prometheus, service `aps`, and for STS) and a small, cached credentials chain.
//!
//! The chain is written by hand on top of `reqwest` instead of using `aws-config`, which
//! would pull in the STS SDK, the smithy runtime and `aws-lc-sys`. Each link is one or two
//! plain HTTP calls whose endpoints can be overridden through the standard AWS environment
//! variables, which is how the tests point them at loopback fakes.
//!
//! The process environment is never read behind the caller's back: every function takes
//! an [`AwsEnv`] value, built from the real process with [`AwsEnv::from_process`] or from
//! a map in tests with [`AwsEnv::from_vars`].
//!
//! TLS: the workspace builds reqwest with rustls and only the `ring` provider
//! (`rustls-no-provider`), so a process must install a default crypto provider before it
//! builds any `reqwest::Client` (reqwest panics otherwise): call [`install_crypto_provider`]
//! at start-up, or build clients with [`http_client`].

#![forbid(unsafe_code)]

mod chain;
mod creds;
mod env;
mod error;
mod host;
mod http_util;
mod profile;
mod provider;
mod sign;
mod sts;
mod time;
mod xml;

pub use creds::{Credentials, Secret};
pub use env::AwsEnv;
pub use error::CredentialsError;
pub use host::{aps_region_from_host, service_and_region_from_host};
pub use http_util::error_chain;
pub use provider::{CredentialsProvider, REFRESH_BEFORE_EXPIRY, SESSION_NAME};
pub use sign::{SignError, percent_encode, percent_encode_into, sign};
pub use time::parse_rfc3339;

/// Installs rustls' `ring` provider as the process-wide default, unless a provider is
/// installed already (idempotent). The workspace builds reqwest with `rustls-no-provider`,
/// and then **building any `reqwest::Client` panics until a process default provider is
/// installed**: call this once at program start (and in tests before building a client).
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either way a provider is installed after this.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A `reqwest::Client` for AWS endpoints (installs the crypto provider first, see
/// [`install_crypto_provider`]): 5 s connect timeout, no redirects (STS and the metadata
/// endpoints never redirect, and following one would resend credentials elsewhere).
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}
