//! The go-live audit over the API: `POST /api/v1/audit` (admin) starts an audit run, which a
//! worker process with `MAGENTO_URL` executes (the audit reads SAP B1 and Magento through the
//! workers' clients, never from this edge); `GET /api/v1/audit` (viewer) reads the latest one
//! with its findings. Every run is also listed by `GET /api/v1/runs?kind=audit`.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Admin, Authorized, Viewer};
use super::responses as r;
use super::runs::{Run, RunStarted};
use crate::domain::audit::AuditReport;
use crate::domain::run::{RunKind, RunStatus};
use crate::http::{ApiContext, ApiError};
use crate::store::runs;

/// The latest audit run and, once it has succeeded, its report.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub run: Run,
    /// Null while the run is queued or running, or when it failed (`run.error` says why).
    pub report: Option<AuditReport>,
    /// Whether no finding is blocking; null without a report.
    pub ready: Option<bool>,
}

/// Starts the go-live audit now. It reads SAP B1 and Magento and dry-runs the last 20
/// Magento orders through `OrdersService_Preview`; it writes nothing to either system. One
/// audit runs at a time: while one is queued or running this answers `409` (`run_active`).
#[utoipa::path(post, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    responses(
        (status = 202, description = "The audit run is queued; read it with `GET /api/v1/audit`", body = RunStarted),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 409, response = r::RunActive),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn start_audit(
    who: Authorized<Admin>,
    State(ctx): State<ApiContext>,
) -> Result<(StatusCode, Json<RunStarted>), ApiError> {
    super::runs::start(&ctx, RunKind::Audit, &who.caller().name, "go-live audit").await
}

/// The latest go-live audit: its run and, when it succeeded, the findings (blocking first),
/// each with what it means and how to fix it. `404` until an audit has been started.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    responses(
        (status = 200, description = "The latest audit run and its report", body = AuditView),
        (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn latest_audit(
    _: Authorized<Viewer>,
    State(ctx): State<ApiContext>,
) -> Result<Json<AuditView>, ApiError> {
    let latest = runs::list(&ctx.pool, Some(RunKind::Audit), None, 1).await?;
    let Some(run) = latest.into_iter().next() else {
        return Err(ApiError::NotFound(
            "no audit has been run yet: start one with POST /api/v1/audit".into(),
        ));
    };
    let report = (run.status == RunStatus::Succeeded)
        .then(|| serde_json::from_value::<AuditReport>(run.figures.clone()).ok())
        .flatten();
    Ok(Json(AuditView {
        ready: report.as_ref().map(|r| !r.has_blocking()),
        report,
        run: run.into(),
    }))
}
