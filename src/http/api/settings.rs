//! `GET /api/v1/settings` and `PUT /api/v1/settings`: the business settings document.
use axum::extract::State;
use axum::Json;

use super::auth::{Admin, Authorized, Viewer};
use super::master_data::unknown_codes;
use super::responses as r;
use super::ApiJson;
use crate::domain::master_data::refs_of_settings;
use crate::domain::settings::Settings;
use crate::http::{ApiContext, ApiError};
use crate::store::settings;

/// The settings in force (the defaults until an admin sets them).
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings in force", body = Settings),
        (status = 401, response = r::Unauthorized),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn get_settings(
    _: Authorized<Viewer>,
    State(ctx): State<ApiContext>,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(settings::current(&ctx.pool).await?.settings))
}

/// Replaces the settings. Fields left out take their defaults. Every invalid field is
/// reported at once; codes are checked against SAP B1 when SAP is configured.
#[utoipa::path(put, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])),
    request_body(content = Settings),
    responses(
        (status = 200, description = "The stored settings", body = Settings),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 422, response = r::ValidationFailed),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn put_settings(
    who: Authorized<Admin>,
    State(ctx): State<ApiContext>,
    ApiJson(new): ApiJson<Settings>,
) -> Result<Json<Settings>, ApiError> {
    new.validate().map_err(ApiError::Validation)?;
    let unknown = unknown_codes(ctx.master_data.as_deref(), &refs_of_settings(&new)).await;
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    let stored = settings::replace(&ctx.pool, &new, &who.caller().name).await?;
    tracing::info!(token = %who.caller().name, "settings replaced");
    Ok(Json(stored.settings))
}
