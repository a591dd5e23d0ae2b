//! The Magento boundary's one error type, grouped by what the caller should do next.
use super::message::MagentoMessage;

/// Every way a Magento REST call can fail.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MagentoError {
    /// 401/403: the token is wrong, revoked, or lacks the ACL resource. Retrying will not help
    /// until `MAGENTO_TOKEN` or the integration's permissions change.
    #[error("Magento refused the token (HTTP {status}): {message}")]
    Auth { status: u16, message: String },
    /// 404: the order, product, credit memo or stock item does not exist (in this store).
    #[error("Magento: not found ({endpoint}): {message}")]
    NotFound { endpoint: String, message: String },
    /// Another 4xx: Magento refused the request as sent (validation, state). `message` is
    /// rendered; `detail` keeps the template and parameters.
    #[error("Magento rejected {endpoint} (HTTP {status}): {message}")]
    Rejected {
        endpoint: String,
        status: u16,
        message: String,
        detail: Box<MagentoMessage>,
    },
    /// Magento or its network is unavailable (5xx, 429, timeout, connection refused) and the
    /// retries are used up; for writes, nothing says the request was applied.
    #[error("Magento unavailable ({endpoint}){}: {reason}", status_suffix(*status))]
    Unavailable {
        endpoint: String,
        status: Option<u16>,
        reason: String,
    },
    /// A write that is not idempotent (a shipment, a comment) was sent and its answer was
    /// lost (timeout, reset, a 5xx other than 503): Magento may have applied it. Read back
    /// before sending it again.
    #[error("Magento may have applied {endpoint}; its answer was lost: {reason}")]
    Ambiguous { endpoint: String, reason: String },
    /// A 2xx answer whose body is not what the endpoint documents.
    #[error("Magento answered {endpoint} with an unexpected body: {reason}")]
    Decode { endpoint: String, reason: String },
    /// The settings do not fit (URL, TLS): retrying will not help until a setting changes.
    #[error("Magento client configuration: {0}")]
    Config(String),
}

fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

impl MagentoError {
    /// The same request may be sent again later without risk of doing anything twice.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// The HTTP status Magento answered, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Auth { status, .. } | Self::Rejected { status, .. } => Some(*status),
            Self::NotFound { .. } => Some(404),
            Self::Unavailable { status, .. } => *status,
            _ => None,
        }
    }
}
