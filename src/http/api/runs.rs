//! Runs of the periodic jobs: `GET /api/v1/runs` (viewer) lists scheduled and manual runs,
//! newest first; `POST /api/v1/stock/sync`, `POST /api/v1/reconcile` and
//! `POST /api/v1/prices/sync` (operator) start a stock sync, a reconciliation or a price sync
//! run now.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Authorized, Operator, Viewer};
use super::responses as r;
use super::{cursor, page_size, split_page, ApiQuery};
use crate::domain::run::{RunKind, RunStatus, RunTrigger};
use crate::http::{ApiContext, ApiError};
use crate::store::runs::{self, RunCursor, StartError};

/// A run, as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a1b2-0000-7000-8000-000000000001", "kind": "stock_sync",
    "trigger": "schedule", "requested_by": "scheduler", "status": "succeeded",
    "figures": {"full": false, "items_read": 100000, "changed": 1000, "pushed": 1000,
        "rejected": 0, "sap_requests": 200, "magento_requests": 10},
    "error": null, "created_at": "2026-12-03T08:00:00Z", "started_at": "2026-12-03T08:00:00.2Z",
    "finished_at": "2026-12-03T08:00:04Z"}))]
pub struct Run {
    pub id: Uuid,
    pub kind: RunKind,
    pub trigger: RunTrigger,
    /// The token name (API), `scheduler` or `cli`.
    pub requested_by: String,
    pub status: RunStatus,
    /// What the run did; for `stock_sync`: `full`, `dry_run`, `mode`, `items_read`,
    /// `sku_sources`, `changed`, `pushed`, `rejected`, `retired`, `sap_requests`,
    /// `magento_requests`, `web_orders_open`, `duration_ms`, `warnings`; for `status_sync`:
    /// `comments` (`sent`, `already_there`, `rejected`, `unsettled`), `deliveries`
    /// (`cursor_from`, `cursor_to`, `deliveries_read`, `deliveries_ours`, `shipments_sent`,
    /// `shipments_settled`, `shipments_rejected`, `sap_requests`), `duration_ms`; for
    /// `backfill`: `since`, `cursor`, `orders_read`, `orders_ingested`,
    /// `cancellations_applied`, `left_for_next_poll`, `invalid`, `duration_ms`; for `reconcile`:
    /// `since`, `orders_read`, `orders_unreadable`, `checks` (per check: `check`, `checked`,
    /// `found`, `error`), `findings`, `resolved`, `stock_skus`, `stock_sample_last`,
    /// `duration_ms`, `warnings`; for `audit`: the
    /// report (`figures` with the counts, `findings`), as `GET /api/v1/audit` shows it;
    /// for `price_sync`:
    /// `full`, `dry_run`, `items_read`, `prices`, `unpriced`, `changed`, `pushed`,
    /// `rejected`, `held`, `special_prices`, `sap_requests`, `magento_requests`,
    /// `duration_ms`, `warnings`.
    #[schema(value_type = Object)]
    pub figures: serde_json::Value,
    /// Why it failed (`failed` only).
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When a worker began it; null while queued.
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<runs::Run> for Run {
    fn from(r: runs::Run) -> Self {
        Run {
            id: r.id,
            kind: r.kind,
            trigger: r.trigger,
            requested_by: r.requested_by,
            status: r.status,
            figures: r.figures,
            error: r.error,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

/// A page of runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunPage {
    pub items: Vec<Run>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of the runs list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Only runs of this kind.
    pub kind: Option<RunKind>,
    /// Page size: default 50; larger values are clamped to 500; 0 is refused.
    #[param(minimum = 1, maximum = 2147483647)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9]{1,16}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

/// Lists scheduled and manual runs, newest first.
#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", security(("bearer" = [])),
    params(RunQuery),
    responses(
        (status = 200, description = "A page of runs", body = RunPage),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn list_runs(
    _: Authorized<Viewer>,
    State(ctx): State<ApiContext>,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> Result<Json<RunPage>, ApiError> {
    let limit = page_size(q.limit)?;
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => {
            let (created_at, id) = cursor::decode_time_uuid(c)?;
            Some(RunCursor { created_at, id })
        }
    };
    let rows = runs::list(&ctx.pool, q.kind, after.as_ref(), limit + 1).await?;
    let (rows, next_cursor) = split_page(rows, limit, |r| {
        cursor::encode_time_key(r.created_at, &r.id.to_string())
    });
    Ok(Json(RunPage {
        items: rows.into_iter().map(Run::from).collect(),
        next_cursor,
    }))
}

/// A run started.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"run_id": "0193a1b2-0000-7000-8000-000000000001", "status": "queued"}))]
pub struct RunStarted {
    pub run_id: Uuid,
    /// `queued`: a worker process with `MAGENTO_URL` set picks it up (see `GET /api/v1/runs`).
    pub status: RunStatus,
}

/// Starts a stock sync run now (a delta; a full pass when one is due). One stock sync runs
/// at a time across all processes: while one is queued or running this answers `409`
/// (`run_active`, naming the active run).
#[utoipa::path(post, path = "/api/v1/stock/sync", tag = "runs", security(("bearer" = [])),
    responses(
        (status = 202, description = "The run is queued", body = RunStarted),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 409, response = r::RunActive),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn start_stock_sync(
    who: Authorized<Operator>,
    State(ctx): State<ApiContext>,
) -> Result<(StatusCode, Json<RunStarted>), ApiError> {
    start(&ctx, RunKind::StockSync, &who.caller().name, "stock sync").await
}

/// Starts a reconciliation run now: the Magento orders of the `reconcile_window_days` window
/// against SAP B1 (orders, totals, cancellations, payments) and Magento's salable quantities
/// against SAP's stock; findings become exceptions. One reconciliation runs at a time across
/// all processes: while one is queued or running this answers `409` (`run_active`, naming the
/// active run).
#[utoipa::path(post, path = "/api/v1/reconcile", tag = "runs", security(("bearer" = [])),
    responses(
        (status = 202, description = "The run is queued", body = RunStarted),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 409, response = r::RunActive),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn start_reconcile(
    who: Authorized<Operator>,
    State(ctx): State<ApiContext>,
) -> Result<(StatusCode, Json<RunStarted>), ApiError> {
    start(
        &ctx,
        RunKind::Reconcile,
        &who.caller().name,
        "reconciliation",
    )
    .await
}

/// Starts a run of `kind` for the API; `409` while one is active.
pub(super) async fn start(
    ctx: &ApiContext,
    kind: RunKind,
    caller: &str,
    what: &str,
) -> Result<(StatusCode, Json<RunStarted>), ApiError> {
    match runs::start(&ctx.pool, kind, RunTrigger::Api, caller).await {
        Ok(run) => Ok((
            StatusCode::ACCEPTED,
            Json(RunStarted {
                run_id: run.id,
                status: run.status,
            }),
        )),
        Err(StartError::Active { run, .. }) => Err(ApiError::Conflict {
            code: "run_active",
            detail: format!("a {what} run is already queued or running: {run}"),
        }),
        Err(StartError::Store(e)) => Err(e.into()),
    }
}

/// Starts a price sync run now (a delta; a full pass when one is due). One price sync runs
/// at a time across all processes: while one is queued or running this answers `409`
/// (`run_active`, naming the active run). The run's figures (`GET /api/v1/runs`) say what
/// was published, refused by Magento and held by the guard rail.
#[utoipa::path(post, path = "/api/v1/prices/sync", tag = "runs", security(("bearer" = [])),
    responses(
        (status = 202, description = "The run is queued", body = RunStarted),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 409, response = r::RunActive),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn start_price_sync(
    who: Authorized<Operator>,
    State(ctx): State<ApiContext>,
) -> Result<(StatusCode, Json<RunStarted>), ApiError> {
    start(&ctx, RunKind::PriceSync, &who.caller().name, "price sync").await
}
