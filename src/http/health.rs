//! Liveness and readiness, for load balancers and orchestrators.
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use sqlx::PgPool;

use super::ApiError;
use crate::store;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// Liveness: the process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: Postgres answers, so events can be committed.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready to accept events", body = Health),
        (status = 503, description = "The database is unreachable", body = super::error::Problem, content_type = "application/problem+json")
    ))]
pub async fn readyz(State(pool): State<PgPool>) -> Result<Json<Health>, ApiError> {
    store::ping(&pool).await?;
    Ok(Json(Health { status: "ok" }))
}
