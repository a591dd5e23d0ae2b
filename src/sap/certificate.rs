//! Turns TLS's refusal of the Service Layer's certificate into a configuration error that
//! says what to change. Nothing was sent when it happens (the handshake failed), so it is
//! never ambiguous, and a retry cannot help until someone changes a setting or the certificate.
use std::error::Error;

use super::error::SapError;

/// The configuration error for a refused certificate, if `e` is one (looked up in its causes).
pub(crate) fn refused_certificate(e: &(dyn Error + 'static)) -> Option<SapError> {
    let mut cause = Some(e);
    while let Some(current) = cause {
        if let Some(tls) = rustls_error(current).filter(|t| is_certificate_refusal(t)) {
            return Some(SapError::Config(explain(tls)));
        }
        cause = current.source();
    }
    None
}

/// The connector hands the rustls error on inside `io::Error`s (nested twice, today), whose
/// `source()` skips their payload; look inside each of them.
fn rustls_error<'a>(mut e: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    loop {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        e = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

fn is_certificate_refusal(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
    )
}

/// What went wrong and what to change, in the integrator's terms.
fn explain(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let advice = match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            "it is not signed by a CA this client trusts; if the Service Layer uses a private \
             CA, put that CA's certificate (PEM) in the file named by SAP_B1_CA_CERT \
             (verification cannot be switched off)"
        }
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => "it is not issued for the host in SAP_B1_URL; use a host name the certificate names",
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => {
            "it is outside its validity period; SAP's certificate must be renewed (or this \
             machine's clock is wrong)"
        }
        _ => {
            "if the Service Layer uses a private CA, put that CA's certificate (PEM) in the \
             file named by SAP_B1_CA_CERT"
        }
    };
    format!("the Service Layer's TLS certificate was refused ({e}): {advice}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError as C;

    /// As hyper-rustls and hyper-util hand it on: an `io::Error` inside an `io::Error`.
    fn wrapped(e: rustls::Error) -> std::io::Error {
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        std::io::Error::other(inner)
    }

    #[test]
    fn an_unknown_issuer_inside_io_errors_asks_for_the_ca_in_sap_b1_ca_cert() {
        let io = wrapped(rustls::Error::InvalidCertificate(C::UnknownIssuer));
        let e = refused_certificate(&io).expect("recognised");
        assert_eq!(e.kind(), "config");
        let text = e.to_string();
        assert!(
            text.contains("certificate") && text.contains("SAP_B1_CA_CERT"),
            "{text}"
        );
    }

    #[test]
    fn a_wrong_host_name_points_at_sap_b1_url() {
        let io = wrapped(rustls::Error::InvalidCertificate(C::NotValidForName));
        let text = refused_certificate(&io).unwrap().to_string();
        assert!(text.contains("SAP_B1_URL"), "{text}");
    }

    #[test]
    fn other_tls_and_io_failures_are_not_certificate_refusals() {
        let alert = wrapped(rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure,
        ));
        assert!(refused_certificate(&alert).is_none());
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(refused_certificate(&reset).is_none());
    }
}
