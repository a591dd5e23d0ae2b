//! The Service Layer v1 error: `{"error":{"code":<number>,"message":{"lang":"en-us","value":…}}}`
//! (reference §2). Every refusal of the simulator, including its control endpoints, has this
//! shape so that one parser reads them all.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::responses::sl_json;

/// A refusal as SAP would send it: HTTP status, B1 error code and message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status}: ({code}) {message}")]
pub struct ServiceLayerError {
    pub status: StatusCode,
    pub code: i64,
    pub message: String,
}

impl ServiceLayerError {
    pub fn new(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with the generic business code -10; the text carries B1's own message number.
    pub fn business(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, -10, message)
    }

    /// 404 -2028, SAP's "not found".
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            -2028,
            "No matching records found (ODBC -2028)",
        )
    }

    /// 404 -2028 for a path segment that names nothing. The reference quotes "Resource not
    /// found for the property: …" (GUIDE p.89); the wording for an unknown segment was not
    /// found, so we follow the same pattern.
    pub fn unknown_segment(segment: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            -2028,
            format!("Resource not found for the segment '{segment}'"),
        )
    }

    /// 400 -1000 for a malformed query or body. -1000 is SAP's code for an invalid query
    /// (GUIDE p.49); the exact texts for our cases were not found and are ours.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, -1000, message)
    }

    /// 401 code 301 (GUIDE p.15).
    pub fn invalid_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            301,
            "Invalid session or session already timeout.",
        )
    }

    /// 400 -2039, the injected "lock" (GUIDE p.176 text; 400 as public integrations report it
    /// outside ETag use, where 412 would apply).
    pub fn modified_by_another_user() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            -2039,
            "Another user or another operation modified data; to continue, open the window again (ODBC -2039)",
        )
    }

    /// 400 -5006, e.g. `DELETE /Orders(n)` (GUIDE p.26).
    pub fn action_not_supported() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            -5006,
            "The requested action is not supported for this object.",
        )
    }

    /// 405 for an operation the real Service Layer has but the simulator does not implement:
    /// failing loudly beats pretending.
    pub fn not_simulated(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            -1000,
            format!("The SAP B1 simulator does not implement {what}"),
        )
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": {"lang": "en-us", "value": self.message}}})
    }
}

impl IntoResponse for ServiceLayerError {
    fn into_response(self) -> Response {
        sl_json(self.status, &self.body())
    }
}
