//! Standard Webhooks v1 (symmetric) verification: HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{raw body}`, compared in constant time against every
//! `v1,` entry of `webhook-signature` and every configured key (rotation).
//! Hand-written because the reference crate fixes the tolerance at five minutes, and the
//! contract makes it configurable (`B1BRIDGE_WEBHOOK_TOLERANCE_SECS`).
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use subtle::ConstantTimeEq;

use crate::config::WebhookKey;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    #[error("webhook-timestamp is not unix seconds")]
    BadTimestamp,
    #[error("webhook-timestamp is {0} s older than the accepted tolerance")]
    TooOld(i64),
    #[error("webhook-timestamp is {0} s in the future beyond the accepted tolerance")]
    InFuture(i64),
    #[error("no signature in webhook-signature matches any configured secret")]
    NoMatch,
}

/// The three Standard Webhooks headers, as received.
pub struct SignedHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Verifies a delivery; returns the signed timestamp (unix seconds).
pub fn verify(
    keys: &[WebhookKey],
    headers: &SignedHeaders<'_>,
    body: &[u8],
    now_unix: i64,
    tolerance: Duration,
) -> Result<i64, SignatureError> {
    let id = headers
        .id
        .filter(|s| !s.is_empty())
        .ok_or(SignatureError::MissingHeader("webhook-id"))?;
    let ts_raw = headers
        .timestamp
        .filter(|s| !s.is_empty())
        .ok_or(SignatureError::MissingHeader("webhook-timestamp"))?;
    let sig_header = headers
        .signature
        .filter(|s| !s.is_empty())
        .ok_or(SignatureError::MissingHeader("webhook-signature"))?;
    let ts: i64 = ts_raw
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let tol = tolerance.as_secs() as i64;
    if now_unix - ts > tol {
        return Err(SignatureError::TooOld(now_unix - ts - tol));
    }
    if ts - now_unix > tol {
        return Err(SignatureError::InFuture(ts - now_unix - tol));
    }

    let provided: Vec<Vec<u8>> = sig_header
        .split_whitespace()
        .filter_map(|token| token.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, b64)| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .filter(|sig| sig.len() == 32)
        .collect();
    for key in keys {
        let expected = mac(key.bytes(), id, ts_raw.trim(), body);
        // Check every candidate without an early exit, so timing says nothing about which matched.
        let mut matched = subtle::Choice::from(0);
        for sig in &provided {
            matched |= expected.as_slice().ct_eq(sig.as_slice());
        }
        if bool::from(matched) {
            return Ok(ts);
        }
    }
    Err(SignatureError::NoMatch)
}

/// Produces the `webhook-signature` value for a delivery (senders, tests, benchmarks, demo).
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let sig = mac(key, id, &timestamp.to_string(), body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(sig)
    )
}

fn mac(key: &[u8], id: &str, ts: &str, body: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(id.as_bytes());
    m.update(b".");
    m.update(ts.as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const V1_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const V1_TS: i64 = 1614265330;
    const V1_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const V1_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    const V2_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const V2_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const V2_TS: i64 = 1649367553;
    const V2_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const V2_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn keys(secrets: &[&str]) -> Vec<WebhookKey> {
        secrets
            .iter()
            .map(|s| WebhookKey::parse(s).unwrap())
            .collect()
    }

    fn check(
        secrets: &[&str],
        id: &str,
        ts: i64,
        body: &[u8],
        sig: &str,
        now: i64,
    ) -> Result<i64, SignatureError> {
        let ts_s = ts.to_string();
        let h = SignedHeaders {
            id: Some(id),
            timestamp: Some(&ts_s),
            signature: Some(sig),
        };
        verify(&keys(secrets), &h, body, now, Duration::from_secs(300))
    }

    #[test]
    fn official_vectors_sign_and_verify() {
        let k1 = WebhookKey::parse(V1_SECRET).unwrap();
        assert_eq!(sign(k1.bytes(), V1_ID, V1_TS, V1_BODY), V1_SIG);
        let k2 = WebhookKey::parse(V2_SECRET).unwrap();
        assert_eq!(sign(k2.bytes(), V2_ID, V2_TS, V2_BODY), V2_SIG);
        assert_eq!(
            check(&[V1_SECRET], V1_ID, V1_TS, V1_BODY, V1_SIG, V1_TS),
            Ok(V1_TS)
        );
        assert_eq!(
            check(&[V2_SECRET], V2_ID, V2_TS, V2_BODY, V2_SIG, V2_TS),
            Ok(V2_TS)
        );
    }

    #[test]
    fn the_official_negative_signature_is_rejected() {
        let bad = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
        assert_eq!(
            check(&[V1_SECRET], V1_ID, V1_TS, V1_BODY, bad, V1_TS),
            Err(SignatureError::NoMatch)
        );
        let not_matching = "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=";
        assert_eq!(
            check(&[V2_SECRET], V2_ID, V2_TS, V2_BODY, not_matching, V2_TS),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn one_valid_signature_among_several_is_enough() {
        let header = format!(
            "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q= {V2_SIG} v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE="
        );
        assert!(check(&[V2_SECRET], V2_ID, V2_TS, V2_BODY, &header, V2_TS).is_ok());
        // Other schemes (v1a = asymmetric) are ignored, not errors.
        let header = format!("v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== {V2_SIG}");
        assert!(check(&[V2_SECRET], V2_ID, V2_TS, V2_BODY, &header, V2_TS).is_ok());
    }

    #[test]
    fn partial_and_empty_signatures_are_rejected() {
        for sig in [
            "v1,",
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3",
            "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
            "v2,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        ] {
            assert_eq!(
                check(&[V2_SECRET], V2_ID, V2_TS, V2_BODY, sig, V2_TS),
                Err(SignatureError::NoMatch),
                "{sig}"
            );
        }
    }

    #[test]
    fn rotation_accepts_any_configured_secret() {
        assert!(check(
            &[V1_SECRET, V2_SECRET],
            V2_ID,
            V2_TS,
            V2_BODY,
            V2_SIG,
            V2_TS
        )
        .is_ok());
        assert!(check(
            &[V2_SECRET, V1_SECRET],
            V1_ID,
            V1_TS,
            V1_BODY,
            V1_SIG,
            V1_TS
        )
        .is_ok());
        assert_eq!(
            check(&[V1_SECRET], V2_ID, V2_TS, V2_BODY, V2_SIG, V2_TS),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_rejected_at_the_tolerance_edge() {
        assert!(check(&[V1_SECRET], V1_ID, V1_TS, V1_BODY, V1_SIG, V1_TS + 300).is_ok());
        assert_eq!(
            check(&[V1_SECRET], V1_ID, V1_TS, V1_BODY, V1_SIG, V1_TS + 301),
            Err(SignatureError::TooOld(1))
        );
        assert!(check(&[V1_SECRET], V1_ID, V1_TS, V1_BODY, V1_SIG, V1_TS - 300).is_ok());
        assert_eq!(
            check(&[V1_SECRET], V1_ID, V1_TS, V1_BODY, V1_SIG, V1_TS - 301),
            Err(SignatureError::InFuture(1))
        );
    }

    #[test]
    fn tampered_body_id_or_timestamp_fail() {
        assert_eq!(
            check(
                &[V1_SECRET],
                V1_ID,
                V1_TS,
                br#"{"test": 2432232315}"#,
                V1_SIG,
                V1_TS
            ),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            check(&[V1_SECRET], "msg_other", V1_TS, V1_BODY, V1_SIG, V1_TS),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            check(&[V1_SECRET], V1_ID, V1_TS + 1, V1_BODY, V1_SIG, V1_TS),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn missing_headers_are_named() {
        let k = keys(&[V1_SECRET]);
        let ts = V1_TS.to_string();
        let cases = [
            (
                SignedHeaders {
                    id: None,
                    timestamp: Some(&ts),
                    signature: Some(V1_SIG),
                },
                "webhook-id",
            ),
            (
                SignedHeaders {
                    id: Some(V1_ID),
                    timestamp: None,
                    signature: Some(V1_SIG),
                },
                "webhook-timestamp",
            ),
            (
                SignedHeaders {
                    id: Some(V1_ID),
                    timestamp: Some(&ts),
                    signature: None,
                },
                "webhook-signature",
            ),
        ];
        for (h, name) in cases {
            assert_eq!(
                verify(&k, &h, V1_BODY, V1_TS, Duration::from_secs(300)),
                Err(SignatureError::MissingHeader(name))
            );
        }
        let h = SignedHeaders {
            id: Some(V1_ID),
            timestamp: Some("soon"),
            signature: Some(V1_SIG),
        };
        assert_eq!(
            verify(&k, &h, V1_BODY, V1_TS, Duration::from_secs(300)),
            Err(SignatureError::BadTimestamp)
        );
    }
}
