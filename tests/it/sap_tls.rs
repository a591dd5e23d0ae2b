//! The SAP client against the simulator over HTTPS with a certificate from a private CA, as
//! most Service Layer installations run: trusted through `SAP_B1_CA_CERT`, refused without it
//! (or with another CA) with an error that says what to do, and lost responses still lost.
use b1bridge::config::SapSettings;
use b1bridge::sap::{SapClient, SapError};
use b1bridge::sim::sap_b1::{spawn, Faults, SapSimConfig, SapSimHandle, TlsIdentity};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::sap_client::new_order;

/// A private certificate authority, made fresh for each test.
struct PrivateCa {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl PrivateCa {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self {
            pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `127.0.0.1` and `localhost`, signed by this CA.
    fn server_identity(&self) -> TlsIdentity {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "SAP B1 Service Layer");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        TlsIdentity::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
            .expect("a valid identity")
    }
}

/// The CA's PEM in a file, as `SAP_B1_CA_CERT` names it; removed when dropped.
struct PemFile(PathBuf);

impl PemFile {
    fn of(ca: &PrivateCa) -> Self {
        let path = std::env::temp_dir().join(format!("b1bridge-ca-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, &ca.pem).unwrap();
        Self(path)
    }
}

impl Drop for PemFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn https_sim(ca: &PrivateCa) -> SapSimHandle {
    let sim = spawn(SapSimConfig {
        tls: Some(ca.server_identity()),
        ..SapSimConfig::default()
    })
    .await
    .expect("simulator starts");
    assert!(
        sim.base_url().starts_with("https://127.0.0.1:"),
        "{}",
        sim.base_url()
    );
    sim
}

fn client(sim: &SapSimHandle, ca_cert: Option<&Path>) -> SapClient {
    let mut settings = SapSettings::from_raw(
        Some(&sim.base_url()),
        Some("SBODEMOGB"),
        Some("manager"),
        Some(&SecretString::from("1234")),
        ca_cert,
        None,
    )
    .expect("valid settings");
    settings.request_timeout = Duration::from_secs(10);
    SapClient::new(&settings).expect("client builds")
}

/// A refused certificate: a configuration error that names the certificate and the variable
/// to set, neither a login refusal nor "may have been applied", and nothing reached SAP.
async fn assert_certificate_refused(sim: &SapSimHandle, sap: &SapClient) {
    let e = sap.ensure_session().await.unwrap_err();
    assert!(matches!(e, SapError::Config(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("certificate") && text.contains("SAP_B1_CA_CERT"),
        "{text}"
    );
    let e = sap
        .create_order(&new_order("000000300", "MH01-S-Gray"))
        .await
        .unwrap_err();
    assert!(matches!(e, SapError::Config(_)), "{e:?}");
    assert!(!e.may_have_been_applied() && !e.is_retryable());
    assert_eq!(sim.stats().requests, 0);
    assert!(sim.orders().is_empty());
}

#[tokio::test]
async fn a_client_trusting_the_private_ca_logs_in_and_round_trips_an_order_over_https() {
    let ca = PrivateCa::new("Example IT Root CA");
    let sim = https_sim(&ca).await;
    let ca_file = PemFile::of(&ca);
    let sap = client(&sim, Some(&ca_file.0));

    sap.ensure_session().await.unwrap();
    let created = sap
        .create_order(&new_order("000000200", "MH01-S-Gray"))
        .await
        .unwrap();
    let read = sap.get_order(created.doc_entry).await.unwrap().unwrap();
    assert_eq!(read.num_at_card.as_deref(), Some("000000200"));
    assert_eq!(read.doc_total, created.doc_total);
    assert_eq!(sim.stats().logins, 1);
    assert_eq!(sim.orders_by_num_at_card("000000200"), 1);
}

#[tokio::test]
async fn a_client_without_the_private_ca_refuses_the_certificate_and_is_told_to_set_sap_b1_ca_cert()
{
    let ca = PrivateCa::new("Example IT Root CA");
    let sim = https_sim(&ca).await;
    assert_certificate_refused(&sim, &client(&sim, None)).await;
}

#[tokio::test]
async fn a_client_trusting_a_different_ca_refuses_the_certificate_the_same_way() {
    let ca = PrivateCa::new("Example IT Root CA");
    let sim = https_sim(&ca).await;
    let other_ca_file = PemFile::of(&PrivateCa::new("Someone Else's Root CA"));
    assert_certificate_refused(&sim, &client(&sim, Some(&other_ca_file.0))).await;
}

#[tokio::test]
async fn a_lost_response_over_https_drops_the_connection_and_the_create_is_ambiguous() {
    let ca = PrivateCa::new("Example IT Root CA");
    let sim = https_sim(&ca).await;
    let ca_file = PemFile::of(&ca);
    let sap = client(&sim, Some(&ca_file.0));
    sap.ensure_session().await.unwrap();
    sim.set_faults(Faults {
        lost_response_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    let e = sap
        .create_order(&new_order("000000201", "MH01-S-Gray"))
        .await
        .unwrap_err();
    assert!(matches!(e, SapError::Ambiguous { .. }), "{e:?}");
    assert_eq!(sim.stats().injected.lost_responses, 1);
    sim.set_faults(Faults::default()).unwrap();
    let found = sap.find_orders_by_num_at_card("000000201").await.unwrap();
    assert_eq!(found.len(), 1);
}
