//! Magento's error body, `{"message", "parameters"}` (placeholders unfilled: the client
//! renders them), plus `errors[]` for validation failures. Every refusal of the simulator,
//! its control endpoints included, has this shape.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("HTTP {status}: {message} {parameters}")]
pub struct MagentoSimError {
    pub status: StatusCode,
    pub message: String,
    pub parameters: Value,
    pub errors: Vec<(String, Value)>,
}

impl MagentoSimError {
    pub fn new(status: StatusCode, message: impl Into<String>, parameters: Value) -> Self {
        Self {
            status,
            message: message.into(),
            parameters,
            errors: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>, parameters: Value) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, parameters)
    }

    /// 400 "Validation Failed" with the individual problems in `errors[]`, as MSI answers.
    pub fn validation(errors: Vec<(String, Value)>) -> Self {
        Self {
            errors,
            ..Self::bad_request("Validation Failed", Value::Null)
        }
    }

    /// Magento's wording for a product that does not exist (404).
    pub fn no_product() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "The product that was requested doesn't exist. Verify the product and try again.",
            Value::Null,
        )
    }

    /// Magento's wording for an order id that does not exist (404).
    pub fn no_order() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "The entity that was requested doesn't exist. Verify the entity and try again.",
            Value::Null,
        )
    }

    /// 401 as the web API answers a missing or wrong token (a named placeholder).
    pub fn unauthorized(resource: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "The consumer isn't authorized to access %resources.",
            json!({ "resources": resource }),
        )
    }

    /// A required field missing from a request body (named placeholder).
    pub fn required(field: &str) -> Self {
        Self::bad_request(
            "\"%fieldName\" is required. Enter and try again.",
            json!({ "fieldName": field }),
        )
    }

    /// A body Magento's deserialiser cannot read.
    pub fn malformed(detail: impl std::fmt::Display) -> Self {
        Self::bad_request("Decoding error: %1", json!([detail.to_string()]))
    }
}

impl IntoResponse for MagentoSimError {
    fn into_response(self) -> Response {
        let mut body = json!({ "message": self.message });
        if !self.parameters.is_null() {
            body["parameters"] = self.parameters;
        }
        if !self.errors.is_empty() {
            body["errors"] = Value::Array(
                self.errors
                    .into_iter()
                    .map(|(m, p)| json!({"message": m, "parameters": p}))
                    .collect(),
            );
        }
        (self.status, Json(body)).into_response()
    }
}
