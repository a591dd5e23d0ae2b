//! Response framing of Service Layer v1 (OData v3): its content type and `DataServiceVersion`
//! header on every answer (reference §10).
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

pub const SL_CONTENT_TYPE: &str = "application/json;odata=minimalmetadata;charset=utf-8";

/// A JSON answer as the Service Layer frames it.
pub fn sl_json(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SL_CONTENT_TYPE),
    );
    headers.insert("DataServiceVersion", HeaderValue::from_static("3.0"));
    response
}

/// 204 for PATCH, actions and Logout.
pub fn sl_no_content() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
        .headers_mut()
        .insert("DataServiceVersion", HeaderValue::from_static("3.0"));
    response
}

/// A bare text answer (`/$count`).
pub fn sl_text(text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    headers.insert("DataServiceVersion", HeaderValue::from_static("3.0"));
    response
}
