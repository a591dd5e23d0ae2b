//! `GET /api/v1/orders`, `GET /api/v1/orders/{increment_id}`, `POST …/{increment_id}/retry`.
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Authorized, Operator, Viewer};
use super::exceptions::Exception;
use super::responses as r;
use super::{cursor, page_size, split_page, ActionNote, ApiQuery};
use crate::domain::order_flow::{JobKind, OrderStatus};
use crate::http::{ApiContext, ApiError};
use crate::store::audit::{self, AuditRecord, Target};
use crate::store::orders_view::{
    self, EventRecord, JobRecord, OrderCursor, OrderFilter, OrderSummary,
};
use crate::store::{exceptions, retry, StoreError};

/// An order in the flow.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"increment_id": "000000013", "status": "posted", "magento_entity_id": 13,
    "customer_email": "roni_cost@example.com", "currency": "USD", "grand_total": "396.87",
    "sap_doc_entry": 512, "sap_doc_num": 1024, "magento_created_at": "2026-11-26T10:00:00Z",
    "cancel_requested_at": null, "created_at": "2026-11-26T10:00:01Z",
    "updated_at": "2026-11-26T10:00:03Z", "open_exceptions": 0}))]
pub struct Order {
    pub increment_id: String,
    pub status: OrderStatus,
    pub magento_entity_id: Option<i64>,
    pub customer_email: Option<String>,
    pub currency: Option<String>,
    /// Exact decimal, as a string (never a float).
    #[schema(value_type = Option<String>)]
    pub grand_total: Option<Decimal>,
    /// SAP `DocEntry` of the Sales Order, once posted.
    pub sap_doc_entry: Option<i32>,
    /// SAP `DocNum` of the Sales Order, once posted.
    pub sap_doc_num: Option<i32>,
    pub magento_created_at: Option<DateTime<Utc>>,
    pub cancel_requested_at: Option<DateTime<Utc>>,
    /// When b1bridge first heard of the order.
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Exceptions of this order that are `open` or `retrying`.
    pub open_exceptions: i64,
}

impl From<OrderSummary> for Order {
    fn from(o: OrderSummary) -> Self {
        Order {
            increment_id: o.increment_id,
            status: o.status,
            magento_entity_id: o.magento_entity_id,
            customer_email: o.customer_email,
            currency: o.currency,
            grand_total: o.grand_total,
            sap_doc_entry: o.sap_doc_entry,
            sap_doc_num: o.sap_doc_num,
            magento_created_at: o.magento_created_at,
            cancel_requested_at: o.cancel_requested_at,
            created_at: o.created_at,
            updated_at: o.updated_at,
            open_exceptions: o.open_exceptions,
        }
    }
}

/// A Magento webhook delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    pub id: Uuid,
    /// The Standard Webhooks `webhook-id`.
    pub webhook_id: String,
    /// `order.placed`, `order.updated`, `order.cancelled`; null when unusable.
    pub event_type: Option<String>,
    pub outcome: EventOutcome,
    /// What the event did, or why it could not be used.
    pub effect: String,
    pub webhook_timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    Accepted,
    /// Kept, and filed as a `payload_invalid` exception.
    Invalid,
}

impl TryFrom<EventRecord> for Event {
    type Error = StoreError;

    fn try_from(e: EventRecord) -> Result<Self, StoreError> {
        let outcome = match e.outcome.as_str() {
            "accepted" => EventOutcome::Accepted,
            "invalid" => EventOutcome::Invalid,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "event {} has unknown outcome '{other}'",
                    e.id
                )))
            }
        };
        Ok(Event {
            id: e.id,
            webhook_id: e.webhook_id,
            event_type: e.event_type,
            outcome,
            effect: e.effect,
            webhook_timestamp: e.webhook_timestamp,
            received_at: e.received_at,
        })
    }
}

/// An outbox job (posting or cancelling the order in SAP) and how its attempts went.
#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub status: JobStatus,
    /// Attempts made so far.
    pub attempt: i32,
    /// How the last failed attempt ended, as the worker recorded it (e.g. the SAP error
    /// code and message); null when no attempt failed.
    pub last_error: Option<serde_json::Value>,
    pub run_after: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a worker (possibly until `run_after`, after a transient failure).
    Pending,
    /// A worker holds it now.
    Running,
    /// Finished.
    Done,
    /// Stopped by an exception until someone retries.
    Parked,
}

impl TryFrom<JobRecord> for Job {
    type Error = StoreError;

    fn try_from(j: JobRecord) -> Result<Self, StoreError> {
        let corrupt = |what: &str, v: &str| {
            StoreError::Corrupt(format!("job {} has unknown {what} '{v}'", j.id))
        };
        let status = match j.status.as_str() {
            "pending" => JobStatus::Pending,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "parked" => JobStatus::Parked,
            other => return Err(corrupt("status", other)),
        };
        Ok(Job {
            kind: JobKind::parse(&j.kind).ok_or_else(|| corrupt("kind", &j.kind))?,
            status,
            id: j.id,
            attempt: j.attempt,
            last_error: j.last_error,
            run_after: j.run_after,
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        })
    }
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The token name, or `b1bridge` for automatic changes.
    pub actor: String,
    /// `retry`, `resolve`, `ignore`, `auto_resolve`, `upsert`, `delete`, `replace`, …
    pub action: String,
    pub note: Option<String>,
}

impl From<AuditRecord> for AuditEntry {
    fn from(a: AuditRecord) -> Self {
        AuditEntry {
            at: a.at,
            actor: a.actor,
            action: a.action,
            note: a.note,
        }
    }
}

/// What happened to an order, in time order.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub kind: TimelineKind,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    EventReceived,
    JobQueued,
    JobFinished,
    ExceptionRaised,
    ExceptionClosed,
    OperatorAction,
    /// A Magento credit memo of the order arrived.
    RefundReceived,
    /// Its SAP A/R credit memo was recorded, or its un-invoiced Sales Order was reduced or
    /// closed instead.
    RefundPosted,
    /// The outgoing payment paying its credit memo back was recorded.
    RefundPaid,
}

/// A refund of the order: a Magento credit memo and the SAP A/R credit memo it became.
#[derive(Debug, Serialize, ToSchema)]
pub struct Refund {
    /// The credit memo's increment id (its SAP `NumAtCard`).
    pub credit_memo_id: String,
    /// `queued`, `waiting` (no A/R invoice in SAP yet), `posted`, `order_closed` or
    /// `order_reduced` (the un-invoiced Sales Order was closed or reduced instead), or `parked`.
    pub status: String,
    /// Exact decimal, as a string (never a float).
    #[schema(value_type = String)]
    pub grand_total: Decimal,
    pub currency: Option<String>,
    pub sap_doc_entry: Option<i32>,
    pub sap_doc_num: Option<i32>,
    pub received_at: DateTime<Utc>,
    pub posted_at: Option<DateTime<Utc>>,
    /// When the refund last changed (for `order_closed`/`order_reduced`: when that was done).
    pub updated_at: DateTime<Utc>,
    /// The outgoing payment (`VendorPayments`) that paid the credit memo back, if one was
    /// made (`refunds.outgoing_payment`).
    pub payment_doc_num: Option<i32>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// One order with everything that happened to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetail {
    pub order: Order,
    /// Events, jobs, exceptions and operator actions merged, oldest first.
    pub timeline: Vec<TimelineEntry>,
    pub events: Vec<Event>,
    /// Attempts at SAP: one job per kind of work, with its attempt count and last outcome.
    pub jobs: Vec<Job>,
    pub exceptions: Vec<Exception>,
    pub audit: Vec<AuditEntry>,
    /// The order's refunds (Magento credit memos), oldest first.
    pub refunds: Vec<Refund>,
}

/// A page of orders, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<Order>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of the orders list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// An increment id prefix, or an e-mail (prefix), case-insensitive.
    pub q: Option<String>,
    /// Page size: default 50; larger values are clamped to 500; 0 is refused.
    #[param(minimum = 1, maximum = 2147483647)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,16}_[^\\x00]*$")]
    pub cursor: Option<String>,
}

/// What a retry did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"increment_id": "000000013", "status": "queued", "jobs_requeued": 1}))]
pub struct RetryResult {
    pub increment_id: String,
    /// The order's status afterwards (`queued`, or `cancel_queued` when a cancellation is pending).
    pub status: OrderStatus,
    pub jobs_requeued: u64,
}

/// Lists the orders in the flow, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])),
    params(OrderQuery),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn list_orders(
    _: Authorized<Viewer>,
    State(ctx): State<ApiContext>,
    ApiQuery(q): ApiQuery<OrderQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    let limit = page_size(q.limit)?;
    let after = q
        .cursor
        .as_deref()
        .map(cursor::decode_time_key)
        .transpose()?
        .map(|(created_at, increment_id)| OrderCursor {
            created_at,
            increment_id,
        });
    let filter = OrderFilter {
        status: q.status,
        q: q.q.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    let rows = orders_view::list(&ctx.pool, &filter, after.as_ref(), limit + 1).await?;
    let (rows, next_cursor) = split_page(rows, limit, |o| {
        cursor::encode_time_key(o.created_at, &o.increment_id)
    });
    Ok(Json(OrderPage {
        items: rows.into_iter().map(Order::from).collect(),
        next_cursor,
    }))
}

/// One order: its state, SAP `DocEntry`/`DocNum`, events, attempts, exceptions and a timeline.
#[utoipa::path(get, path = "/api/v1/orders/{increment_id}", tag = "orders", security(("bearer" = [])),
    params(("increment_id" = String, Path, description = "Magento increment id", example = "000000013")),
    responses(
        (status = 200, description = "The order", body = OrderDetail),
        (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn get_order(
    _: Authorized<Viewer>,
    State(ctx): State<ApiContext>,
    Path(increment_id): Path<String>,
) -> Result<Json<OrderDetail>, ApiError> {
    let mut conn = ctx.pool.acquire().await.map_err(StoreError::from)?;
    let order = orders_view::get(&mut conn, &increment_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no order {increment_id}")))?;
    let events = orders_view::events(&mut conn, &increment_id)
        .await?
        .into_iter()
        .map(Event::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let jobs = orders_view::jobs(&mut conn, &increment_id)
        .await?
        .into_iter()
        .map(Job::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let exceptions: Vec<Exception> = exceptions::for_order(&mut conn, &increment_id)
        .await?
        .into_iter()
        .map(Exception::from)
        .collect();
    let audit: Vec<AuditEntry> = audit::for_target(&mut conn, Target::Order, &increment_id)
        .await?
        .into_iter()
        .map(AuditEntry::from)
        .collect();
    let refunds: Vec<Refund> = crate::store::refunds::for_order(&mut conn, &increment_id)
        .await?
        .into_iter()
        .map(|r| Refund {
            credit_memo_id: r.credit_memo_id,
            status: r.status,
            grand_total: r.grand_total,
            currency: r.currency,
            sap_doc_entry: r.sap_doc_entry,
            sap_doc_num: r.sap_doc_num,
            received_at: r.created_at,
            posted_at: r.posted_at,
            updated_at: r.updated_at,
            payment_doc_num: r.payment_doc_num,
            paid_at: r.paid_at,
        })
        .collect();
    let mut timeline = timeline(&events, &jobs, &exceptions, &audit);
    timeline.extend(refund_entries(&refunds));
    timeline.sort_by_key(|e| e.at);
    Ok(Json(OrderDetail {
        timeline,
        order: order.into(),
        events,
        jobs,
        exceptions,
        audit,
        refunds,
    }))
}

/// Re-queues an order that is parked behind an exception (e.g. after a mapping was fixed).
/// Its blocking exceptions become `retrying`; they resolve when the job succeeds.
#[utoipa::path(post, path = "/api/v1/orders/{increment_id}/retry", tag = "orders", security(("bearer" = [])),
    params(("increment_id" = String, Path, description = "Magento increment id", example = "000000013")),
    request_body(content = ActionNote, description = "Optional note for the audit log"),
    responses(
        (status = 200, description = "Re-queued", body = RetryResult),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 409, response = r::Conflict),
        (status = 422, response = r::ValidationFailed),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn retry_order(
    who: Authorized<Operator>,
    State(ctx): State<ApiContext>,
    Path(increment_id): Path<String>,
    body: ActionNote,
) -> Result<Json<RetryResult>, ApiError> {
    let outcome =
        retry::retry_order(&ctx.pool, &increment_id, &who.caller().name, body.text()).await?;
    match outcome {
        retry::Requeue::Requeued { jobs, status } => Ok(Json(RetryResult {
            increment_id,
            status,
            jobs_requeued: jobs,
        })),
        retry::Requeue::NothingParked => Err(nothing_to_retry(&increment_id)),
        retry::Requeue::OrderNotFound => {
            Err(ApiError::NotFound(format!("no order {increment_id}")))
        }
    }
}

pub(super) fn nothing_to_retry(increment_id: &str) -> ApiError {
    ApiError::Conflict {
        code: "nothing_to_retry",
        detail: format!("no job of order {increment_id} is parked; there is nothing to retry"),
    }
}

/// A refund's arrival and, once done, its posting.
fn refund_entries(refunds: &[Refund]) -> Vec<TimelineEntry> {
    let mut t = Vec::new();
    for r in refunds {
        t.push(TimelineEntry {
            at: r.received_at,
            kind: TimelineKind::RefundReceived,
            summary: format!(
                "credit memo {} received: {} {}",
                r.credit_memo_id,
                r.grand_total,
                r.currency.as_deref().unwrap_or("")
            )
            .trim_end()
            .to_owned(),
        });
        if let (Some(at), Some(num)) = (r.posted_at, r.sap_doc_num) {
            t.push(TimelineEntry {
                at,
                kind: TimelineKind::RefundPosted,
                summary: format!(
                    "credit memo {} posted as SAP A/R credit memo {num}",
                    r.credit_memo_id
                ),
            });
        }
        let settled = match r.status.as_str() {
            "order_closed" => Some("closed"),
            "order_reduced" => Some("reduced by the refunded quantities"),
            _ => None,
        };
        if let Some(how) = settled {
            t.push(TimelineEntry {
                at: r.updated_at,
                kind: TimelineKind::RefundPosted,
                summary: format!(
                    "credit memo {}: the un-invoiced SAP Sales Order was {how} instead of credited",
                    r.credit_memo_id
                ),
            });
        }
        if let (Some(at), Some(num)) = (r.paid_at, r.payment_doc_num) {
            t.push(TimelineEntry {
                at,
                kind: TimelineKind::RefundPaid,
                summary: format!(
                    "credit memo {} paid back by SAP outgoing payment {num}",
                    r.credit_memo_id
                ),
            });
        }
    }
    t
}

/// Merges what happened into one list, oldest first (ties keep the order below).
fn timeline(
    events: &[Event],
    jobs: &[Job],
    exceptions: &[Exception],
    audit: &[AuditEntry],
) -> Vec<TimelineEntry> {
    let mut t = vec![];
    for e in events {
        t.push(TimelineEntry {
            at: e.received_at,
            kind: TimelineKind::EventReceived,
            summary: format!(
                "{} received: {}",
                e.event_type.as_deref().unwrap_or("unusable event"),
                e.effect
            ),
        });
    }
    for j in jobs {
        t.push(TimelineEntry {
            at: j.created_at,
            kind: TimelineKind::JobQueued,
            summary: format!("{} job queued", j.kind.as_str()),
        });
        if let Some(at) = j.finished_at {
            t.push(TimelineEntry {
                at,
                kind: TimelineKind::JobFinished,
                summary: format!(
                    "{} job finished after {} attempt(s)",
                    j.kind.as_str(),
                    j.attempt
                ),
            });
        }
    }
    for x in exceptions {
        t.push(TimelineEntry {
            at: x.first_seen_at,
            kind: TimelineKind::ExceptionRaised,
            summary: format!(
                "{} ({} occurrence(s)): {}",
                x.category.as_str(),
                x.occurrences,
                x.title
            ),
        });
        if let (Some(at), Some(by)) = (x.resolved_at, &x.resolved_by) {
            t.push(TimelineEntry {
                at,
                kind: TimelineKind::ExceptionClosed,
                summary: format!("{} {} by {by}", x.category.as_str(), x.status.as_str()),
            });
        }
    }
    for a in audit {
        t.push(TimelineEntry {
            at: a.at,
            kind: TimelineKind::OperatorAction,
            summary: match &a.note {
                Some(note) => format!("{} by {}: {note}", a.action, a.actor),
                None => format!("{} by {}", a.action, a.actor),
            },
        });
    }
    t.sort_by_key(|e| e.at);
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_timeline_merges_everything_oldest_first() {
        let at = |s: i64| Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap();
        let events = vec![Event {
            id: Uuid::nil(),
            webhook_id: "msg_1".into(),
            event_type: Some("order.placed".into()),
            outcome: EventOutcome::Accepted,
            effect: "order queued for posting".into(),
            webhook_timestamp: at(0),
            received_at: at(0),
        }];
        let jobs = vec![Job {
            id: 1,
            kind: JobKind::PostOrder,
            status: JobStatus::Done,
            attempt: 2,
            last_error: None,
            run_after: at(0),
            created_at: at(0),
            updated_at: at(9),
            finished_at: Some(at(9)),
        }];
        let audit = vec![AuditEntry {
            at: at(5),
            actor: "anna".into(),
            action: "retry".into(),
            note: Some("mapped".into()),
        }];
        let t = timeline(&events, &jobs, &[], &audit);
        let kinds: Vec<TimelineKind> = t.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                TimelineKind::EventReceived,
                TimelineKind::JobQueued,
                TimelineKind::OperatorAction,
                TimelineKind::JobFinished
            ]
        );
        assert_eq!(t[2].summary, "retry by anna: mapped");
        assert_eq!(t[3].summary, "post_order job finished after 2 attempt(s)");
    }

    #[test]
    fn a_refund_shows_its_credit_memo_its_payment_or_the_order_it_reduced() {
        let at = |s: i64| Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap();
        let refund = |id: &str, status: &str| Refund {
            credit_memo_id: id.into(),
            status: status.into(),
            grand_total: Decimal::from(5),
            currency: Some("USD".into()),
            sap_doc_entry: None,
            sap_doc_num: None,
            received_at: at(0),
            posted_at: None,
            updated_at: at(3),
            payment_doc_num: None,
            paid_at: None,
        };
        let paid = Refund {
            sap_doc_entry: Some(4),
            sap_doc_num: Some(104),
            posted_at: Some(at(1)),
            payment_doc_num: Some(7),
            paid_at: Some(at(2)),
            ..refund("CM1", "posted")
        };
        let t = refund_entries(&[paid, refund("CM2", "order_reduced")]);
        let kinds: Vec<TimelineKind> = t.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                TimelineKind::RefundReceived,
                TimelineKind::RefundPosted,
                TimelineKind::RefundPaid,
                TimelineKind::RefundReceived,
                TimelineKind::RefundPosted
            ]
        );
        assert_eq!(
            t[2].summary,
            "credit memo CM1 paid back by SAP outgoing payment 7"
        );
        assert!(
            t[4].summary.contains("Sales Order was reduced"),
            "{}",
            t[4].summary
        );
    }
}
