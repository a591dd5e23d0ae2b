//! The HTTP edge's one error type. Every error leaves as RFC 9457 `application/problem+json`
//! with a stable `code` that scripts can branch on.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::access::Role;
use crate::store::StoreError;

fn names(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:b1bridge:problem:signature_invalid",
    "title": "Webhook signature invalid",
    "status": 401,
    "detail": "no signature in webhook-signature matches any configured secret",
    "code": "signature_invalid"
}))]
pub struct Problem {
    /// `urn:b1bridge:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    /// Field-level errors for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The stored event, where the request was kept although it failed (422).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<uuid::Uuid>,
}

pub use crate::domain::validation::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    SignatureInvalid(String),
    #[error("the body exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// A body in a media type the endpoint does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{detail}")]
    Unprocessable {
        detail: String,
        event_id: Option<uuid::Uuid>,
    },
    #[error("{0}")]
    NotFound(String),
    /// Missing, unknown or revoked bearer token.
    #[error("{0}")]
    Unauthorized(String),
    #[error("this needs the {} role; the token has {}", required.as_str(), actual.as_str())]
    Forbidden { required: Role, actual: Role },
    /// The current state does not allow the action; `code` says which rule.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// A body that parses but holds invalid values.
    #[error("the request body has invalid fields")]
    Validation(Vec<FieldError>),
    /// Invalid query parameters (filters, paging).
    #[error("invalid query parameters: {}", names(.0))]
    InvalidParams(Vec<FieldError>),
    #[error("the database is unavailable; retry later")]
    Unavailable,
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::SignatureInvalid(_) => (
                StatusCode::UNAUTHORIZED,
                "signature_invalid",
                "Webhook signature invalid",
            ),
            ApiError::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            ApiError::BadRequest(_) => {
                (StatusCode::BAD_REQUEST, "bad_request", "Malformed request")
            }
            ApiError::Unprocessable { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "payload_invalid",
                "Event is not a usable order event",
            ),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            ApiError::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
            ),
            ApiError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden", "Role too low"),
            ApiError::Conflict { code, .. } => (
                StatusCode::CONFLICT,
                code,
                "Not allowed in the current state",
            ),
            ApiError::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Invalid fields",
            ),
            ApiError::InvalidParams(_) => (
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "Invalid query parameter",
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "Service unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.parts();
        let event_id = match self {
            ApiError::Unprocessable { event_id, .. } => *event_id,
            _ => None,
        };
        let errors = match self {
            ApiError::Validation(errors) | ApiError::InvalidParams(errors) => errors.clone(),
            _ => vec![],
        };
        Problem {
            type_uri: format!("urn:b1bridge:problem:{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            // Internal details go to the log, not to the caller.
            detail: self.to_string(),
            code: code.to_owned(),
            errors,
            event_id,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            ApiError::Unavailable
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(problem)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, ApiError::Unauthorized(_)) {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        res
    }
}
