//! HTTP clients shared by the scalers.
//!
//! A `reqwest::Client` owns a connection pool, so building one per poll (or per trigger) would open a new TCP
//! and TLS connection for every query. [`HttpClients`] keeps one client per distinct TLS configuration
//! ([`TlsConfig`]: extra CA, client certificate, `unsafeSsl`); every trigger with the same configuration —
//! typically all triggers pointing at one Prometheus — shares it and its keep-alive connections. Timeouts are
//! per request (each trigger has its own `timeout`), so they are not part of the key.
//!
//! TLS is rustls with the `ring` provider only, installed as the process default on first use by
//! `prescale_aws::install_crypto_provider` (reqwest built without a provider feature needs one; aws-lc-rs is
//! deliberately not compiled in). Server certificates are
//! checked against the platform's roots, plus the trigger's `ca` when given, as Go's `crypto/tls` does for KEDA.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use reqwest::{Certificate, Client, Identity};

use crate::error::{Error, Result};

/// The TLS side of a client: what distinguishes one shared client from another.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsConfig {
    /// Skip server certificate verification (`unsafeSsl`).
    pub insecure_skip_verify: bool,
    /// Extra trusted roots, PEM (`ca`), added to the platform's.
    pub ca_pem: Option<String>,
    /// Client certificate chain and private key, PEM (`cert` and `key` of the `tls` auth mode).
    pub client_cert: Option<(String, String)>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "<pem>"))
            .field(
                "client_cert",
                &self.client_cert.as_ref().map(|_| "<cert and key>"),
            )
            .finish()
    }
}

/// One HTTP client per distinct [`TlsConfig`], shared by every scaler built from the same
/// [`crate::ScalerContext`]. Cheap to clone.
#[derive(Clone, Default)]
pub struct HttpClients {
    clients: Arc<Mutex<HashMap<TlsConfig, Client>>>,
}

impl fmt::Debug for HttpClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClients")
            .field("clients", &self.len())
            .finish()
    }
}

impl HttpClients {
    pub fn new() -> Self {
        Self::default()
    }

    /// The shared client for `tls`, built on first use. `what` names the trigger for errors (bad PEM).
    pub fn client(&self, tls: &TlsConfig, what: &str) -> Result<Client> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = clients.get(tls) {
            return Ok(c.clone());
        }
        let client = build(tls, what)?;
        clients.insert(tls.clone(), client.clone());
        Ok(client)
    }

    /// How many distinct clients exist (one per TLS configuration seen).
    pub fn len(&self) -> usize {
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn build(tls: &TlsConfig, what: &str) -> Result<Client> {
    prescale_aws::install_crypto_provider();
    let mut b = Client::builder()
        .user_agent(concat!("prescale/", env!("CARGO_PKG_VERSION")))
        // KEDA's transports do not follow redirects for queries either way; a redirect from a metrics
        // endpoint is a misconfiguration worth seeing as a status.
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(tls.insecure_skip_verify);
    if let Some(ca) = &tls.ca_pem {
        let certs = Certificate::from_pem_bundle(ca.as_bytes())
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Error::Config(format!(
                    "{what}: ca: not a PEM certificate (expected -----BEGIN CERTIFICATE-----)"
                ))
            })?;
        b = b.tls_certs_merge(certs);
    }
    if let Some((cert, key)) = &tls.client_cert {
        if !cert.contains("-----BEGIN CERTIFICATE-----") {
            return Err(Error::Config(format!(
                "{what}: cert: not a PEM certificate (expected -----BEGIN CERTIFICATE-----)"
            )));
        }
        if !key.contains("PRIVATE KEY-----") {
            return Err(Error::Config(format!(
                "{what}: key: not a PEM private key (expected -----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC \
                 PRIVATE KEY)"
            )));
        }
        let mut pem = String::with_capacity(cert.len() + key.len() + 1);
        pem.push_str(cert);
        if !cert.ends_with('\n') {
            pem.push('\n');
        }
        pem.push_str(key);
        let identity = Identity::from_pem(pem.as_bytes()).map_err(|e| {
            Error::Config(format!(
                "{what}: cert/key: cannot use the client certificate: {}",
                crate::error::chain(&e)
            ))
        })?;
        b = b.identity(identity);
    }
    b.build().map_err(|e| {
        Error::Config(format!(
            "{what}: cannot build the HTTP client: {}",
            crate::error::chain(&e)
        ))
    })
}
