//! The operators' API (`/api/v1`, contract §3): one file per resource, plus the pieces they
//! share — the bearer-token extractor, problem+json body and query extractors, and cursors.
pub mod audit;
pub mod auth;
pub mod exceptions;
pub mod mappings;
pub mod master_data;
pub mod orders;
pub mod reports;
pub mod responses;
pub mod runs;
pub mod sap_master_data;
pub mod settings;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::FieldError;
use super::ApiError;

/// Default and largest page sizes (contract §3).
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;
/// The largest `limit` accepted (and clamped to [`MAX_LIMIT`]): the OpenAPI document declares
/// `limit` an int32 of at least 1, so anything beyond int32 is refused like 0 is, and a
/// generated client's type can always hold what the server accepts.
pub const LIMIT_CEILING: u32 = i32::MAX as u32;

/// The page size asked for, defaulted and clamped; 0 and values beyond int32 are refused.
pub fn page_size(limit: Option<u32>) -> Result<i64, ApiError> {
    match limit {
        Some(0) => Err(ApiError::InvalidParams(vec![FieldError::new(
            "limit",
            "must be at least 1",
        )])),
        Some(n) if n > LIMIT_CEILING => Err(ApiError::InvalidParams(vec![FieldError::new(
            "limit",
            format!("must be at most {LIMIT_CEILING} (pages hold at most {MAX_LIMIT})"),
        )])),
        Some(n) => Ok(i64::from(n.min(MAX_LIMIT))),
        None => Ok(i64::from(DEFAULT_LIMIT)),
    }
}

/// Paging cursors. Clients pass back `next_cursor` unchanged, but its syntax is published as
/// a `pattern` on each list's `cursor` parameter in the OpenAPI document, and every string matching it is a valid position (the
/// page after that sort key), so the spec and the server agree on what a cursor is. A time
/// cursor is `<microseconds since 1970>_<key>`; a mapping cursor is the last key itself. NUL
/// is the one character refused: Postgres text cannot hold it.
pub mod cursor {
    use super::*;

    pub fn invalid() -> ApiError {
        ApiError::InvalidParams(vec![FieldError::new(
            "cursor",
            "is not a cursor of this endpoint (pass `next_cursor` back unchanged)",
        )])
    }

    /// A `(timestamp, key)` position; microseconds, as Postgres stores them.
    pub fn encode_time_key(at: DateTime<Utc>, key: &str) -> String {
        format!("{}_{key}", at.timestamp_micros())
    }

    pub fn decode_time_key(cursor: &str) -> Result<(DateTime<Utc>, String), ApiError> {
        let (micros, key) = cursor.split_once('_').ok_or_else(invalid)?;
        // At most 16 digits (until the year 2286): what TIME_KEY_PATTERN allows.
        if micros.is_empty() || micros.len() > 16 || !micros.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let at = micros
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(invalid)?;
        Ok((at, decode_key(key)?))
    }

    /// A `(timestamp, uuid)` position.
    pub fn decode_time_uuid(cursor: &str) -> Result<(DateTime<Utc>, uuid::Uuid), ApiError> {
        let (at, key) = decode_time_key(cursor)?;
        // The hyphenated form only, as TIME_UUID_PATTERN says (`parse_str` takes others too).
        if key.len() != 36 {
            return Err(invalid());
        }
        let id = uuid::Uuid::parse_str(&key).map_err(|_| invalid())?;
        Ok((at, id))
    }

    pub fn encode_key(key: &str) -> String {
        key.to_owned()
    }

    pub fn decode_key(cursor: &str) -> Result<String, ApiError> {
        if cursor.contains('\0') {
            return Err(invalid());
        }
        Ok(cursor.to_owned())
    }
}

/// Splits one extra fetched row off: `limit + 1` rows are read, so a next page exists
/// exactly when the extra row came back.
pub fn split_page<T>(
    mut rows: Vec<T>,
    limit: i64,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(cursor_of);
        (rows, next)
    } else {
        (rows, None)
    }
}

/// The body of the exception and order actions.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "SKU mapped to MH01-S-GRY in SAP; retrying"}))]
pub struct ActionNote {
    /// Why; stored with the exception and in the audit log. Required to resolve or ignore.
    #[serde(default)]
    pub note: Option<String>,
}

/// The body of resolve and ignore, as the OpenAPI document shows it: the same object as
/// [`ActionNote`] (one extractor reads both), but `note` is required and not blank.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Posted by hand in SAP as DocNum 1024"}))]
#[allow(dead_code)] // Exists for its OpenAPI schema; requests are read as ActionNote.
pub struct ReasonNote {
    /// Why; stored with the exception and in the audit log. Blank means only spaces, tabs,
    /// form feeds and line breaks.
    #[schema(pattern = "[^\\t\\n\\x0C\\r ]")]
    pub note: String,
}

impl ActionNote {
    /// The note, trimmed; `None` when absent or blank. Blank is ASCII whitespace only, the
    /// set [`ReasonNote`]'s published pattern names, so the spec and the server agree on it.
    pub fn text(&self) -> Option<&str> {
        self.note
            .as_deref()
            .map(|n| n.trim_matches(|c: char| c.is_ascii_whitespace()))
            .filter(|n| !n.is_empty())
    }

    /// Resolving and ignoring must say why, or the next person on duty cannot tell.
    pub fn required(&self) -> Result<&str, ApiError> {
        self.text().ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "note",
                "is required: say why (it is kept in the audit log)",
            )])
        })
    }
}

/// The note is optional for a retry, so an empty body is allowed and means no note.
impl<S: Send + Sync> FromRequest<S> for ActionNote {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let bytes =
            axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), state)
                .await
                .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ActionNote::default());
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        ApiJson::<ActionNote>::from_request(req, state)
            .await
            .map(|ApiJson(note)| note)
    }
}

/// A JSON body whose errors are problem+json: syntax → 400, a field of the wrong type or
/// missing → 422 naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"));
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        if !is_json {
            return Err(ApiError::BadRequest(
                "the body must be JSON (Content-Type: application/json)".into(),
            ));
        }
        if crate::http::guard::has_nul_escape(&bytes) {
            return Err(ApiError::Validation(vec![FieldError::new(
                "body",
                "text may not contain NUL (\\u0000): it cannot be stored",
            )]));
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(&mut de) {
            Ok(value) => Ok(ApiJson(value)),
            Err(e) if e.inner().is_data() => {
                Err(ApiError::Validation(vec![field_error(e.path(), e.inner())]))
            }
            Err(e) => Err(ApiError::BadRequest(format!(
                "the body is not valid JSON: {}",
                e.inner()
            ))),
        }
    }
}

fn field_error(path: &serde_path_to_error::Path, e: &impl std::fmt::Display) -> FieldError {
    let field = path.to_string();
    FieldError::new(
        if field == "." { "body".into() } else { field },
        e.to_string(),
    )
}

/// Query parameters whose errors are a 400 problem+json naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let mut fe = field_error(e.path(), e.inner());
                if fe.field == "body" {
                    fe.field = "query".into();
                }
                ApiError::InvalidParams(vec![fe])
            })
    }
}
