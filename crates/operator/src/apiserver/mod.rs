//! The external metrics API server: `external.metrics.k8s.io/v1beta1` as an aggregated API server, over TLS
//! with front-proxy authentication. The documents and request parsing are [`crate::external_metrics`]; the
//! values come from a [`MetricSource`] (the scale loops).
//!
//! Served paths (all `GET`):
//! - `/healthz`, `/livez`, `/readyz`: unauthenticated probes (`/readyz` follows the [`Readiness`] given, if any);
//! - `/apis`, `/apis/external.metrics.k8s.io`, `/apis/external.metrics.k8s.io/v1beta1`: discovery (the last
//!   is what the aggregator's availability check reads, with the front-proxy identity `system:kube-aggregator`;
//!   it must answer 2xx for the APIService to be Available);
//! - `/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}?labelSelector=...`: the HPA's read;
//! - `/openapi/v2` (a minimal Swagger 2.0 document with no paths) and `/openapi/v3` (a discovery document with no
//!   group versions): the aggregator downloads both for every APIService; it skips a 404 too, but an answer it
//!   cannot parse as Swagger is an error in its logs, so these are valid and empty.
//!
//! Everything but the probes needs authentication ([`ClientAuth`]); failures are Kubernetes `Status` documents
//! (401 `Unauthorized`, 403 `Forbidden`, 404 `NotFound`, 400 `BadRequest`, 500 `InternalError`, 503).
//!
//! Starting it:
//! ```no_run
//! # async fn run(source: std::sync::Arc<dyn prescale_operator::apiserver::MetricSource>,
//! #              cm: std::collections::BTreeMap<String, String>) -> Result<(), prescale_operator::apiserver::Error> {
//! use prescale_operator::apiserver::*;
//! let cert = ServingCert::load_or_generate("/certs".as_ref(), "prescale-metrics-apiserver", "keda")?;
//! let server = ApiServer::new(ApiServerConfig {
//!     cert,
//!     auth: ClientAuth::FrontProxy(FrontProxyAuth::from_config_map(&cm)?),
//!     source,
//!     telemetry: None,
//!     readiness: None,
//! })?;
//! let listener = bind(":6443").await?;
//! // On a ConfigMap update: server.set_client_auth(ClientAuth::FrontProxy(FrontProxyAuth::from_config_map(&new)?))?;
//! server.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

mod auth;
mod server;
mod source;
mod tls;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

pub use auth::{
    ALLOWED_NAMES_KEY, CLIENT_CA_KEY, ClientAuth, EXTRA_HEADERS_PREFIX_KEY, FrontProxyAuth,
    GROUP_HEADERS_KEY, USERNAME_HEADERS_KEY, User,
};
pub use server::{ApiServer, ApiServerConfig, TlsPeer};
pub use source::{
    ExternalMetricValue, MetricError, MetricFuture, MetricSource, rfc3339, value_list_document,
};
pub use tls::{CERT_FILE, KEY_FILE, ServingCert, service_names, subject_common_name};

pub use crate::external_metrics::MetricRequest;
pub use crate::telemetry::Readiness;

/// Errors of the API server's set-up (certificates, front-proxy configuration, listening).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `--cert-dir` file cannot be used (never includes key material).
    #[error("{}: {reason}", path.display())]
    CertFile { path: PathBuf, reason: String },
    /// Generating the self-signed certificate failed.
    #[error("cannot generate a serving certificate for {names:?}: {reason}")]
    GenerateCert { names: Vec<String>, reason: String },
    /// A key of the requestheader configuration (ConfigMap `extension-apiserver-authentication`) is unusable.
    #[error("front-proxy authentication: {key}: {reason}")]
    FrontProxyConfig { key: String, reason: String },
    /// The TLS configuration cannot be built.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// A bind address (`--metrics-server-bind-address` style) is not `host:port` / `:port`.
    #[error("bind address {address:?}: {reason}")]
    BindAddress { address: String, reason: String },
    /// The address cannot be listened on.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// Parses a Go-style bind address: `:8080` (all IPv4 interfaces), `0.0.0.0:8080`, `127.0.0.1:8080`,
/// `[::]:8080`, `localhost:8080`.
pub fn parse_bind_address(address: &str) -> Result<SocketAddr, Error> {
    let bad = |reason: &str| Error::BindAddress {
        address: address.to_string(),
        reason: reason.to_string(),
    };
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| bad("expected host:port or :port"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port is not a number from 0 to 65535"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip = match host {
        "" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        h => h
            .parse()
            .map_err(|_| bad("the host is not an IP address (or empty, or localhost)"))?,
    };
    Ok(SocketAddr::new(ip, port))
}

/// Binds a TCP listener on a Go-style address (see [`parse_bind_address`]).
pub async fn bind(address: &str) -> Result<tokio::net::TcpListener, Error> {
    let addr = parse_bind_address(address)?;
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Listen {
            address: addr,
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_addresses() {
        assert_eq!(
            parse_bind_address(":6443").unwrap(),
            "0.0.0.0:6443".parse().unwrap()
        );
        assert_eq!(
            parse_bind_address("[::]:8080").unwrap(),
            "[::]:8080".parse().unwrap()
        );
        assert_eq!(
            parse_bind_address("localhost:0").unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        for bad in ["8080", ":http", "example.com:80", ":70000"] {
            let e = parse_bind_address(bad).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }
}
