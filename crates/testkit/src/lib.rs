#![forbid(unsafe_code)]
//! Test helpers for prescale, used as a dev-dependency: an independent SigV4 verifier and an
//! AMP-like server for the AWS integration, and a fake Kubernetes API server ([`apiserver`]) for
//! the operator.
//!
//! # What is independent of what
//!
//! prescale signs its requests to Amazon Managed Service for Prometheus (AMP) with the official
//! `aws-sigv4` crate. This crate checks those signatures **without** it: [`sigv4`] is a SigV4
//! verifier written from the published algorithm, depending only on `hmac` and `sha2`, and it
//! shares no code, types or canonicalisation logic with `aws-sigv4` or any AWS SDK. Its own
//! correctness is pinned by the AWS signing test suite (the `v4/` header-signing cases, copied
//! under `tests/data/sigv4/`), not by agreement with the signer under test. So when an
//! integration test sees [`amp::AmpServer`] accept a request prescale signed, two independent
//! implementations agree on it.
//!
//! [`sigv4::sign`] also exists, built on the verifier's own canonicalisation; it is for tests of
//! this crate and for tests that need to play a client, never for proving prescale right.
//!
//! # AWS behaviours modelled
//!
//! * Canonical request: double URI encoding of the path and `.`/`..`/`//` normalisation (all
//!   services but S3; both switchable), query parameters percent-decoded and re-encoded with the
//!   RFC 3986 unreserved set and sorted, `+` read as a literal plus (`%2B`; see [`sigv4`] for
//!   why, and for the `aws-sigv4` form-decoding difference), header values trimmed with inner
//!   space runs collapsed and repeats comma-joined, payload hash of the body or the
//!   `x-amz-content-sha256` value (`UNSIGNED-PAYLOAD` included).
//! * Checks and refusals with AWS's wording: missing `Authorization` ("Missing Authentication
//!   Token"), unknown access key and bad or missing session token ("The security token included
//!   in the request is invalid."), credential scope date, region, service and terminator, clock
//!   skew (5 minutes by default; "Signature expired: …"), `host` and `x-amz-date` must be signed,
//!   `x-amz-content-sha256` must match the body, and signature mismatch ("The request signature
//!   we calculated does not match the signature you provided. …", with the canonical request and
//!   string to sign, as AWS's JSON services return them).
//! * AMP's data plane ([`amp`]): `/workspaces/<ws>/api/v1/query|query_range|…|remote_write`,
//!   service name `aps`, 403 JSON `{"message": …}` with `x-amzn-ErrorType` on refusal, 404 for an
//!   unknown workspace, forwarding to a real Prometheus behind it.
//!
//! Not modelled: presigned URLs, the `Date` header instead of `x-amz-date`, SigV4a, chunked
//! (streaming) payload signatures, IAM authorisation of actions, AMP quotas and throttling.

pub mod amp;
pub mod apiserver;
pub mod procstat;
pub mod sigv4;

/// Installs rustls' `ring` provider as the process default (the workspace builds reqwest without a provider
/// of its own). Idempotent; call before building a `reqwest` client in a test.
pub fn ensure_crypto_provider() {
    // Err means a default is installed already: keep it.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
