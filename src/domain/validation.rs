//! Field-level validation errors, so that the settings and mappings endpoints can tell an
//! operator exactly which field to fix instead of rejecting the whole body.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One refused field: its name (dotted path in the JSON body) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
