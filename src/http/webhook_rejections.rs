//! Webhook deliveries refused, counted by reason for `/metrics`
//! (`b1bridge_webhooks_rejected_total{reason}`). Refusals before the signature is verified
//! store nothing, so the database cannot count them: these are this process's counters, as
//! Prometheus counters are (they restart at zero with the process; `rate()` copes).
use std::sync::atomic::{AtomicU64, Ordering};

use crate::magento::signature::SignatureError;

/// Why a delivery was refused. The first four store nothing; the signed-but-unusable ones are
/// kept as `payload_invalid` (contract §2) and counted here too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `webhook-id`, `webhook-timestamp` or `webhook-signature` absent.
    SignatureMissing,
    /// No signature matches: forged, truncated or altered bodies, floods of guesses.
    SignatureMismatch,
    /// Timestamp not unix seconds, or outside the tolerance: replays of old deliveries.
    TimestampRejected,
    /// Body over the limit (read no further than the limit).
    TooLarge,
    /// Signed, but not `application/json`.
    WrongContentType,
    /// Signed, but not JSON (or nested beyond the parser's depth limit); kept.
    NotJson,
    /// Signed JSON that is no usable order event; kept.
    Unusable,
    /// The database could not commit; the sender retries.
    DatabaseUnavailable,
}

const ALL: [Reason; 8] = [
    Reason::SignatureMissing,
    Reason::SignatureMismatch,
    Reason::TimestampRejected,
    Reason::TooLarge,
    Reason::WrongContentType,
    Reason::NotJson,
    Reason::Unusable,
    Reason::DatabaseUnavailable,
];

static COUNTS: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SignatureMissing => "signature_missing",
            Reason::SignatureMismatch => "signature_mismatch",
            Reason::TimestampRejected => "timestamp_rejected",
            Reason::TooLarge => "too_large",
            Reason::WrongContentType => "wrong_content_type",
            Reason::NotJson => "not_json",
            Reason::Unusable => "unusable",
            Reason::DatabaseUnavailable => "database_unavailable",
        }
    }

    pub fn of_signature(e: &SignatureError) -> Self {
        match e {
            SignatureError::MissingHeader(_) => Reason::SignatureMissing,
            SignatureError::BadTimestamp
            | SignatureError::TooOld(_)
            | SignatureError::InFuture(_) => Reason::TimestampRejected,
            SignatureError::NoMatch => Reason::SignatureMismatch,
        }
    }

    fn index(self) -> usize {
        ALL.iter()
            .position(|r| *r == self)
            .expect("every reason is listed")
    }
}

pub fn count(reason: Reason) {
    COUNTS[reason.index()].fetch_add(1, Ordering::Relaxed);
}

/// Every reason with its count (zeros included, so a dashboard sees the series from the start).
pub fn snapshot() -> Vec<(&'static str, u64)> {
    ALL.iter()
        .map(|r| (r.as_str(), COUNTS[r.index()].load(Ordering::Relaxed)))
        .collect()
}
