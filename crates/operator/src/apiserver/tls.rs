//! The serving certificate (from `--cert-dir` or generated), the rustls server configuration, and the subject
//! common name of a client certificate (what `requestheader-allowed-names` is matched against).

use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};

use super::Error;

/// The file names read from `--cert-dir`, as KEDA's metrics server and cert-manager Secrets name them.
pub const CERT_FILE: &str = "tls.crt";
pub const KEY_FILE: &str = "tls.key";

/// The ring provider: the only one compiled in (no process default is needed by the server).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificate chain and private key the HTTPS server presents. `Debug` shows no key material.
#[derive(Clone)]
pub struct ServingCert {
    key: Arc<CertifiedKey>,
    cert_pem: String,
    generated: bool,
}

impl fmt::Debug for ServingCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServingCert")
            .field("certificates", &self.key.cert.len())
            .field("generated", &self.generated)
            .finish_non_exhaustive()
    }
}

/// The DNS names a generated certificate is valid for: the Service's short and qualified names, plus
/// `localhost` and `127.0.0.1` for port-forwards and local runs.
pub fn service_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        service.to_string(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
        "localhost".to_string(),
        "127.0.0.1".to_string(),
    ]
}

impl ServingCert {
    /// A chain and key from PEM text. `cert_origin`/`key_origin` name where they came from (a file path) in
    /// errors; errors never include the key's content.
    pub fn from_pem(
        cert_pem: &str,
        key_pem: &str,
        cert_origin: &Path,
        key_origin: &Path,
    ) -> Result<ServingCert, Error> {
        let bad = |path: &Path, reason: &str| Error::CertFile {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|_| bad(cert_origin, "malformed PEM certificate"))?;
        if chain.is_empty() {
            return Err(bad(
                cert_origin,
                "no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            ));
        }
        // The pem error of a key can quote a line of the file: map it to a fixed message.
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| {
            bad(
                key_origin,
                "no PEM private key (expected -----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)",
            )
        })?;
        let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => bad(
                key_origin,
                &format!(
                    "the private key does not match the certificate in {}",
                    cert_origin.display()
                ),
            ),
            _ => bad(key_origin, "unsupported or malformed private key"),
        })?;
        Ok(ServingCert {
            key: Arc::new(certified),
            cert_pem: cert_pem.to_string(),
            generated: false,
        })
    }

    /// `<dir>/tls.crt` and `<dir>/tls.key`; when both are absent, a self-signed certificate for
    /// [`service_names`] (generated in memory, nothing is written). Exactly one of them present is an error.
    pub fn load_or_generate(
        dir: &Path,
        service: &str,
        namespace: &str,
    ) -> Result<ServingCert, Error> {
        let cert_path = dir.join(CERT_FILE);
        let key_path = dir.join(KEY_FILE);
        let cert = read_optional(&cert_path)?;
        let key = read_optional(&key_path)?;
        match (cert, key) {
            (Some(cert), Some(key)) => ServingCert::from_pem(&cert, &key, &cert_path, &key_path),
            (None, None) => ServingCert::generate(service, namespace),
            (Some(_), None) => Err(missing_pair(&key_path, &cert_path)),
            (None, Some(_)) => Err(missing_pair(&cert_path, &key_path)),
        }
    }

    /// A self-signed certificate for [`service_names`]`(service, namespace)`.
    pub fn generate(service: &str, namespace: &str) -> Result<ServingCert, Error> {
        let names = service_names(service, namespace);
        let gen_err = |e: rcgen::Error| Error::GenerateCert {
            names: names.clone(),
            reason: e.to_string(),
        };
        let mut params = rcgen::CertificateParams::new(names.clone()).map_err(gen_err)?;
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("{service}.{namespace}.svc"),
        );
        let key_pair = rcgen::KeyPair::generate().map_err(gen_err)?;
        let cert = params.self_signed(&key_pair).map_err(gen_err)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
        let certified = CertifiedKey::from_der(vec![cert.der().clone()], key_der, &provider())
            .map_err(|e| Error::GenerateCert {
                names: names.clone(),
                reason: e.to_string(),
            })?;
        Ok(ServingCert {
            key: Arc::new(certified),
            cert_pem: cert.pem(),
            generated: true,
        })
    }

    /// The certificate chain as PEM (for an APIService `caBundle` when generated, or for clients in tests).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Whether the certificate was generated at start rather than read from files.
    pub fn is_generated(&self) -> bool {
        self.generated
    }
}

fn missing_pair(missing: &Path, present: &Path) -> Error {
    Error::CertFile {
        path: missing.to_path_buf(),
        reason: format!(
            "missing while {} exists (both files are needed, or neither for a generated certificate)",
            present.display()
        ),
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::CertFile {
                path: PathBuf::from(path),
                reason: "not UTF-8 PEM text".to_string(),
            }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::CertFile {
            path: PathBuf::from(path),
            reason: e.to_string(),
        }),
    }
}

#[derive(Debug)]
struct Resolver(Arc<CertifiedKey>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// A verifier for client certificates signed by one of `roots` that also lets clients without a certificate
/// in (kubelet probes, and callers rejected later by the HTTP layer with 401).
pub(crate) fn client_verifier(
    roots: &[CertificateDer<'static>],
) -> Result<Arc<dyn ClientCertVerifier>, Error> {
    let mut store = RootCertStore::empty();
    for c in roots {
        store.add(c.clone()).map_err(|e| Error::FrontProxyConfig {
            key: super::auth::CLIENT_CA_KEY.to_string(),
            reason: format!("not a usable CA certificate: {e}"),
        })?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider())
        .allow_unauthenticated()
        .build()
        .map_err(|e| Error::FrontProxyConfig {
            key: super::auth::CLIENT_CA_KEY.to_string(),
            reason: e.to_string(),
        })
}

/// The server configuration: the serving certificate, the client verifier (none in insecure mode), ALPN h2 and
/// HTTP/1.1 (the aggregator proxies with either).
pub(crate) fn server_config(
    cert: &ServingCert,
    verifier: Option<Arc<dyn ClientCertVerifier>>,
) -> Result<Arc<ServerConfig>, Error> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?;
    let builder = match verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(Resolver(cert.key.clone())));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// One DER TLV at the start of `input`: `(tag, content, rest)`. Only definite lengths up to 4 bytes.
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(n)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    let (content, rest) = rest.split_at_checked(len)?;
    Some((tag, content, rest))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
/// id-at-commonName, 2.5.4.3.
const COMMON_NAME_OID: &[u8] = &[0x55, 0x04, 0x03];

/// The subject common name of a DER certificate, as Go's `Subject.CommonName` reads it (the last CN
/// attribute); `None` when the certificate is malformed or has no CN.
pub fn subject_common_name(cert_der: &[u8]) -> Option<String> {
    let (tag, cert, _) = der_tlv(cert_der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, tbs, _) = der_tlv(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let mut rest = tbs;
    // version [0] EXPLICIT, optional.
    let (tag, _, after) = der_tlv(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    // serialNumber, signature, issuer, validity; then subject.
    for _ in 0..4 {
        rest = der_tlv(rest)?.2;
    }
    let (tag, mut rdns, _) = der_tlv(rest)?;
    if tag != SEQUENCE {
        return None;
    }
    let mut cn = None;
    while !rdns.is_empty() {
        let (tag, mut set, after) = der_tlv(rdns)?;
        rdns = after;
        if tag != SET {
            return None;
        }
        while !set.is_empty() {
            let (tag, attr, after) = der_tlv(set)?;
            set = after;
            if tag != SEQUENCE {
                return None;
            }
            let (tag, oid, value) = der_tlv(attr)?;
            if tag == OID && oid == COMMON_NAME_OID {
                let (vtag, v, _) = der_tlv(value)?;
                cn = Some(directory_string(vtag, v)?);
            }
        }
    }
    cn
}

fn directory_string(tag: u8, v: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, PrintableString, IA5String, T61String (read as UTF-8, as Go does for ASCII content)
        0x0c | 0x13 | 0x16 | 0x14 => String::from_utf8(v.to_vec()).ok(),
        // BMPString: UTF-16 big-endian.
        0x1e => {
            if !v.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = v
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_with_cn(cn: Option<&str>) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(vec!["x.example".to_string()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "system:masters");
        if let Some(cn) = cn {
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, cn);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn common_name_is_read_from_the_subject() {
        assert_eq!(
            subject_common_name(&cert_with_cn(Some("front-proxy-client"))).as_deref(),
            Some("front-proxy-client")
        );
        assert_eq!(subject_common_name(&cert_with_cn(None)), None);
    }

    #[test]
    fn malformed_der_gives_no_name() {
        let der = cert_with_cn(Some("aggregator"));
        for cut in [0, 1, 2, 10, der.len() / 2, der.len() - 1] {
            // A truncated certificate never panics; its outer length no longer fits.
            assert_eq!(subject_common_name(&der[..cut]), None, "cut at {cut}");
        }
        assert_eq!(subject_common_name(b"not der at all"), None);
    }

    #[test]
    fn generated_certificate_names_the_service() {
        let c = ServingCert::generate("prescale-metrics-apiserver", "keda").unwrap();
        assert!(c.is_generated());
        let der = CertificateDer::from_pem_slice(c.cert_pem().as_bytes()).unwrap();
        assert_eq!(
            subject_common_name(&der).as_deref(),
            Some("prescale-metrics-apiserver.keda.svc")
        );
        assert!(!format!("{c:?}").contains("PRIVATE"));
    }
}
