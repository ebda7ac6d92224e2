//! A throwaway PKI and a loopback HTTPS server for TLS tests: a CA, a server certificate for `127.0.0.1` and
//! `localhost`, and a client certificate, all generated at test time (rcgen); a server thread speaking
//! HTTP/1.1 over rustls that optionally requires a client certificate signed by the CA.
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::thread;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

/// PEM material of a test PKI.
pub struct Pki {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

impl Pki {
    pub fn new() -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "prescale test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf = |names: Vec<String>| {
            let key = KeyPair::generate().unwrap();
            let cert = CertificateParams::new(names)
                .unwrap()
                .signed_by(&key, &ca)
                .unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert_pem, server_key_pem) =
            leaf(vec!["127.0.0.1".to_string(), "localhost".to_string()]);
        let (client_cert_pem, client_key_pem) = leaf(vec!["prescale-client".to_string()]);
        Pki {
            ca_pem: ca.pem(),
            server_cert_pem,
            server_key_pem,
            client_cert_pem,
            client_key_pem,
        }
    }
}

/// What the HTTPS server saw of one request.
#[derive(Debug)]
pub struct Seen {
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    /// Whether the client presented a certificate.
    pub client_cert: bool,
}

/// Serves HTTPS on a loopback port: each connection gets `body` with status 200. With `require_client_cert`,
/// the handshake fails unless the client presents a certificate signed by the PKI's CA. Returns the base URL
/// (`https://127.0.0.1:<port>`) and a channel of what each completed request looked like.
pub fn serve_https(
    pki: &Pki,
    require_client_cert: bool,
    body: &'static str,
) -> (String, Receiver<Seen>) {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(pki.server_cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let config = if require_client_cert {
        let mut roots = RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(pki.ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        builder
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs, key)
            .unwrap()
    } else {
        builder
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap()
    };
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    let (tx, rx) = channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let conn = ServerConnection::new(config.clone()).unwrap();
            let tls = StreamOwned::new(conn, stream);
            let tx = tx.clone();
            thread::spawn(move || {
                let mut reader = BufReader::new(tls);
                let mut request_line = String::new();
                // A failed handshake (no or a bad client certificate, an untrusted server) ends here.
                if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
                    return;
                }
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    let line = line.trim_end_matches(['\r', '\n']);
                    if line.is_empty() {
                        break;
                    }
                    if let Some((n, v)) = line.split_once(':') {
                        headers.push((n.to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                let mut tls = reader.into_inner();
                let client_cert = tls.conn.peer_certificates().is_some_and(|c| !c.is_empty());
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
                let _ = tx.send(Seen {
                    request_line: request_line.trim_end().to_string(),
                    headers,
                    client_cert,
                });
            });
        }
    });
    (base, rx)
}
