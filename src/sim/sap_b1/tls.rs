//! HTTPS for the simulator: real Service Layers listen on TLS (port 50000), usually with a
//! certificate from a private CA, and a client has to be tested against that.
use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The certificate chain and private key the simulator presents. Checked when built (the
/// key must match the certificate), so a simulator never starts with an identity it cannot use.
#[derive(Clone)]
pub struct TlsIdentity {
    config: Arc<ServerConfig>,
}

/// Why a certificate chain or key was refused; names the file or the part, never key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TLS identity: {0}")]
pub struct InvalidTlsIdentity(String);

impl TlsIdentity {
    /// `cert_chain_pem`: the server certificate first, then any intermediates.
    /// `key_pem`: its private key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, InvalidTlsIdentity> {
        let chain = CertificateDer::pem_slice_iter(cert_chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| InvalidTlsIdentity(format!("unreadable certificate PEM: {e}")))?;
        if chain.is_empty() {
            return Err(InvalidTlsIdentity(
                "the certificate PEM holds no certificate".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| InvalidTlsIdentity(format!("unreadable private key PEM: {e}")))?;
        // The ring provider explicitly: the one reqwest uses, and no process-wide default needed.
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| InvalidTlsIdentity(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| InvalidTlsIdentity(format!("certificate and key refused: {e}")))?;
        // The reference does not say that the Service Layer's Apache offers HTTP/2, so the
        // simulator offers HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// Reads both PEM files; errors name the file that failed.
    pub fn from_pem_files(cert_chain: &Path, key: &Path) -> Result<Self, InvalidTlsIdentity> {
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|e| InvalidTlsIdentity(format!("cannot read {}: {e}", path.display())))
        };
        Self::from_pem(&read(cert_chain)?, &read(key)?)
    }

    pub(super) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.config))
    }
}

/// Never prints the key.
impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsIdentity { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed() -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn a_certificate_with_its_own_key_is_accepted() {
        let (cert, key) = self_signed();
        assert!(TlsIdentity::from_pem(cert.as_bytes(), key.as_bytes()).is_ok());
    }

    #[test]
    fn a_key_that_does_not_belong_to_the_certificate_is_refused() {
        let (cert, _) = self_signed();
        let (_, other_key) = self_signed();
        let e = TlsIdentity::from_pem(cert.as_bytes(), other_key.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("certificate and key refused"), "{e}");
    }

    #[test]
    fn non_pem_input_and_missing_files_are_refused_by_name() {
        let (cert, key) = self_signed();
        let e = TlsIdentity::from_pem(b"not a certificate", key.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("no certificate"), "{e}");
        let e = TlsIdentity::from_pem(cert.as_bytes(), b"not a key").unwrap_err();
        assert!(e.to_string().contains("private key"), "{e}");
        let missing = Path::new("/nonexistent/sim-cert.pem");
        let e = TlsIdentity::from_pem_files(missing, missing).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/sim-cert.pem"), "{e}");
    }
}
