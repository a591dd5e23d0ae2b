//! The exception queue: `GET /api/v1/exceptions`, `GET …/{id}` and the actions
//! `POST …/{id}/retry`, `…/resolve`, `…/ignore`.
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Authorized, Operator, Viewer};
use super::orders::{nothing_to_retry, AuditEntry, Event, Job, Order};
use super::responses as r;
use super::{cursor, page_size, split_page, ActionNote, ApiQuery, ReasonNote};
use crate::domain::exception::{Category, Impact, OwnerTeam, SapErrorInfo};
use crate::domain::exception_flow::{ExceptionAction, ExceptionStatus};
use crate::http::{ApiContext, ApiError};
use crate::store::audit::{self, Target};
use crate::store::exceptions::{
    self, ActionOutcome, ExceptionCursor, ExceptionFilter, StoredException,
};
use crate::store::{orders_view, StoreError};

/// An exception, as contract §3 fixes it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f6e-5f1e-7c4a-9d7e-3b1f2a4c5d6e", "category": "unknown_sku",
    "owner_team": "merchandising", "impact": "blocks_fulfilment", "status": "open",
    "title": "SKU 'MH01-S-Gray' on order 000000013 has no SAP B1 item",
    "detail": "SAP B1 has no item MH01-S-Gray. Create the item in SAP or map the SKU under /api/v1/mappings/skus, then retry.",
    "order_increment_id": "000000013", "skus": ["MH01-S-Gray"],
    "sap_error": {"code": -10, "message": "Invalid item code 'MH01-S-Gray'"}, "occurrences": 1,
    "first_seen_at": "2026-11-26T10:00:02Z", "last_seen_at": "2026-11-26T10:00:02Z",
    "resolved_at": null, "resolved_by": null, "note": null}))]
pub struct Exception {
    pub id: Uuid,
    pub category: Category,
    pub owner_team: OwnerTeam,
    pub impact: Impact,
    pub status: ExceptionStatus,
    /// Names the order and SKU.
    pub title: String,
    /// What happened and what to do.
    pub detail: String,
    pub order_increment_id: Option<String>,
    pub skus: Vec<String>,
    /// The SAP error behind it, where there is one.
    pub sap_error: Option<SapErrorInfo>,
    /// How often the same problem for the same order occurred.
    pub occurrences: i32,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// When it was resolved or ignored.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Token name of who resolved or ignored it (`b1bridge` when resolved automatically).
    pub resolved_by: Option<String>,
    /// The last note given with an action.
    pub note: Option<String>,
}

impl From<StoredException> for Exception {
    fn from(x: StoredException) -> Self {
        Exception {
            id: x.id,
            category: x.category,
            owner_team: x.owner_team,
            impact: x.impact,
            status: x.status,
            title: x.title,
            detail: x.detail,
            order_increment_id: x.order_increment_id,
            skus: x.skus,
            sap_error: x.sap_error,
            occurrences: x.occurrences,
            first_seen_at: x.first_seen_at,
            last_seen_at: x.last_seen_at,
            resolved_at: x.resolved_at,
            resolved_by: x.resolved_by,
            note: x.note,
        }
    }
}

/// One exception with its full context.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionDetail {
    pub exception: Exception,
    /// The same problem for the same order shares this key (and so one row).
    pub dedup_key: String,
    /// Facts recorded with the problem (what failed, with which values).
    pub context: serde_json::Value,
    /// The webhook delivery that raised it, if one did.
    pub event: Option<Event>,
    /// The order it concerns, if any.
    pub order: Option<Order>,
    /// The order's jobs and their attempts.
    pub jobs: Vec<Job>,
    /// Actions taken on this exception, oldest first.
    pub audit: Vec<AuditEntry>,
}

/// A page of exceptions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionPage {
    pub items: Vec<Exception>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of the exception queue.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExceptionQuery {
    pub status: Option<ExceptionStatus>,
    pub category: Option<Category>,
    /// Owner team.
    pub team: Option<OwnerTeam>,
    pub impact: Option<Impact>,
    /// Magento increment id.
    pub order: Option<String>,
    /// Exceptions naming this SKU.
    pub sku: Option<String>,
    /// Page size: default 50; larger values are clamped to 500; 0 is refused.
    #[param(minimum = 1, maximum = 2147483647)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9]{1,16}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

/// The exception queue, newest first, with filters. Paging is stable while new exceptions
/// arrive: they sort before the pages already fetched.
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "exceptions", security(("bearer" = [])),
    params(ExceptionQuery),
    responses(
        (status = 200, description = "A page of exceptions", body = ExceptionPage),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn list_exceptions(
    _: Authorized<Viewer>,
    State(ctx): State<ApiContext>,
    ApiQuery(q): ApiQuery<ExceptionQuery>,
) -> Result<Json<ExceptionPage>, ApiError> {
    let limit = page_size(q.limit)?;
    let after = q
        .cursor
        .as_deref()
        .map(cursor::decode_time_uuid)
        .transpose()?
        .map(|(first_seen_at, id)| ExceptionCursor { first_seen_at, id });
    let filter = ExceptionFilter {
        status: q.status,
        category: q.category,
        team: q.team,
        impact: q.impact,
        order: q.order,
        sku: q.sku,
    };
    let rows = exceptions::list(&ctx.pool, &filter, after, limit + 1).await?;
    let (rows, next_cursor) = split_page(rows, limit, |x| {
        cursor::encode_time_key(x.first_seen_at, &x.id.to_string())
    });
    Ok(Json(ExceptionPage {
        items: rows.into_iter().map(Exception::from).collect(),
        next_cursor,
    }))
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(format!("no exception {raw}")))
}

/// One exception with its context: the event that raised it, the order and its jobs, and
/// the audit trail.
#[utoipa::path(get, path = "/api/v1/exceptions/{id}", tag = "exceptions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Exception id")),
    responses(
        (status = 200, description = "The exception", body = ExceptionDetail),
        (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn get_exception(
    _: Authorized<Viewer>,
    State(ctx): State<ApiContext>,
    Path(id): Path<String>,
) -> Result<Json<ExceptionDetail>, ApiError> {
    let id = parse_id(&id)?;
    let mut conn = ctx.pool.acquire().await.map_err(StoreError::from)?;
    let x = exceptions::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no exception {id}")))?;
    let event = match x.event_id {
        Some(event_id) => orders_view::event(&mut conn, event_id)
            .await?
            .map(Event::try_from)
            .transpose()?,
        None => None,
    };
    let (order, jobs) = match &x.order_increment_id {
        Some(inc) => (
            orders_view::get(&mut conn, inc).await?.map(Order::from),
            orders_view::jobs(&mut conn, inc)
                .await?
                .into_iter()
                .map(Job::try_from)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => (None, vec![]),
    };
    let audit = audit::for_target(&mut conn, Target::Exception, &id.to_string())
        .await?
        .into_iter()
        .map(AuditEntry::from)
        .collect();
    Ok(Json(ExceptionDetail {
        dedup_key: x.dedup_key.clone(),
        context: x.context.clone(),
        exception: x.into(),
        event,
        order,
        jobs,
        audit,
    }))
}

async fn act(
    ctx: &ApiContext,
    raw_id: &str,
    action: ExceptionAction,
    actor: &str,
    note: Option<&str>,
) -> Result<Json<Exception>, ApiError> {
    let id = parse_id(raw_id)?;
    match exceptions::act(&ctx.pool, id, action, actor, note).await? {
        ActionOutcome::Done(x) => {
            tracing::info!(exception = %id, action = action.as_str(), token = actor, "exception action");
            Ok(Json((*x).into()))
        }
        ActionOutcome::NotFound => Err(ApiError::NotFound(format!("no exception {id}"))),
        ActionOutcome::Refused(refused) => Err(ApiError::Conflict {
            code: "illegal_transition",
            detail: refused.to_string(),
        }),
        ActionOutcome::NothingToRetry { order } => Err(match order {
            Some(order) => nothing_to_retry(&order),
            None => ApiError::Conflict {
                code: "nothing_to_retry",
                detail: "the exception concerns no order; there is no job to retry".into(),
            },
        }),
    }
}

/// Re-queues the order's parked job (e.g. after a mapping was fixed). The exception becomes
/// `retrying`: resolved automatically when the job succeeds, `open` again (one more
/// occurrence) when the problem recurs.
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/retry", tag = "exceptions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Exception id")),
    request_body(content = ActionNote, description = "Optional note for the audit log"),
    responses(
        (status = 200, description = "Now `retrying`", body = Exception),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 409, response = r::Conflict),
        (status = 422, response = r::ValidationFailed),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn retry_exception(
    who: Authorized<Operator>,
    State(ctx): State<ApiContext>,
    Path(id): Path<String>,
    body: ActionNote,
) -> Result<Json<Exception>, ApiError> {
    act(
        &ctx,
        &id,
        ExceptionAction::Retry,
        &who.caller().name,
        body.text(),
    )
    .await
}

/// Marks the exception resolved (the problem was fixed outside b1bridge). Needs a note.
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/resolve", tag = "exceptions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Exception id")),
    request_body(content = ReasonNote, description = "Why it is resolved (required)"),
    responses(
        (status = 200, description = "Now `resolved`", body = Exception),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 409, response = r::Conflict),
        (status = 422, response = r::ValidationFailed),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn resolve_exception(
    who: Authorized<Operator>,
    State(ctx): State<ApiContext>,
    Path(id): Path<String>,
    body: ActionNote,
) -> Result<Json<Exception>, ApiError> {
    let note = body.required()?;
    act(
        &ctx,
        &id,
        ExceptionAction::Resolve,
        &who.caller().name,
        Some(note),
    )
    .await
}

/// Ignores an open exception deliberately. Needs a note.
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/ignore", tag = "exceptions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Exception id")),
    request_body(content = ReasonNote, description = "Why it is ignored (required)"),
    responses(
        (status = 200, description = "Now `ignored`", body = Exception),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 409, response = r::Conflict),
        (status = 422, response = r::ValidationFailed),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn ignore_exception(
    who: Authorized<Operator>,
    State(ctx): State<ApiContext>,
    Path(id): Path<String>,
    body: ActionNote,
) -> Result<Json<Exception>, ApiError> {
    let note = body.required()?;
    act(
        &ctx,
        &id,
        ExceptionAction::Ignore,
        &who.caller().name,
        Some(note),
    )
    .await
}
