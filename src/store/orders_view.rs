//! The read side of orders for the operators' API: the list, and everything that happened to
//! one order (events received, outbox jobs with their attempts, exceptions).
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::StoreError;
use crate::domain::order_flow::OrderStatus;

/// An order as the list and the detail show it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSummary {
    pub increment_id: String,
    pub status: OrderStatus,
    pub magento_entity_id: Option<i64>,
    pub customer_email: Option<String>,
    pub currency: Option<String>,
    pub grand_total: Option<Decimal>,
    pub sap_doc_entry: Option<i32>,
    pub sap_doc_num: Option<i32>,
    pub magento_created_at: Option<DateTime<Utc>>,
    pub cancel_requested_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Exceptions of this order still `open` or `retrying`.
    pub open_exceptions: i64,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    increment_id: String,
    status: String,
    magento_entity_id: Option<i64>,
    customer_email: Option<String>,
    currency: Option<String>,
    grand_total: Option<Decimal>,
    sap_doc_entry: Option<i32>,
    sap_doc_num: Option<i32>,
    magento_created_at: Option<DateTime<Utc>>,
    cancel_requested_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    open_exceptions: i64,
}

const SELECT_ORDER: &str =
    "SELECT o.increment_id, o.status, o.magento_entity_id, o.customer_email, \
     o.currency, o.grand_total, o.sap_doc_entry, o.sap_doc_num, o.magento_created_at, \
     o.cancel_requested_at, o.created_at, o.updated_at, \
     (SELECT count(*) FROM exceptions e WHERE e.order_increment_id = o.increment_id \
        AND e.status IN ('open', 'retrying')) AS open_exceptions \
     FROM orders o";

impl TryFrom<OrderRow> for OrderSummary {
    type Error = StoreError;

    fn try_from(r: OrderRow) -> Result<Self, StoreError> {
        Ok(OrderSummary {
            status: OrderStatus::parse(&r.status).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "order {} has unknown status '{}'",
                    r.increment_id, r.status
                ))
            })?,
            increment_id: r.increment_id,
            magento_entity_id: r.magento_entity_id,
            customer_email: r.customer_email,
            currency: r.currency,
            grand_total: r.grand_total.map(|d| d.normalize()),
            sap_doc_entry: r.sap_doc_entry,
            sap_doc_num: r.sap_doc_num,
            magento_created_at: r.magento_created_at,
            cancel_requested_at: r.cancel_requested_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            open_exceptions: r.open_exceptions,
        })
    }
}

/// The orders list's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    /// An increment id prefix or an e-mail prefix, case-insensitive.
    pub q: Option<String>,
}

/// A position in the list: the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCursor {
    pub created_at: DateTime<Utc>,
    pub increment_id: String,
}

/// Newest first by `(created_at, increment_id)`, after `after`.
pub async fn list(
    pool: &PgPool,
    filter: &OrderFilter,
    after: Option<&OrderCursor>,
    limit: i64,
) -> Result<Vec<OrderSummary>, StoreError> {
    let pattern = filter.q.as_deref().map(|q| format!("{}%", like_escape(q)));
    let rows: Vec<OrderRow> = sqlx::query_as(&format!(
        "{SELECT_ORDER}
          WHERE ($1::text IS NULL OR o.status = $1)
            AND ($2::text IS NULL OR o.increment_id ILIKE $2 OR lower(o.customer_email) LIKE lower($2))
            AND ($3::timestamptz IS NULL OR (o.created_at, o.increment_id) < ($3, $4))
          ORDER BY o.created_at DESC, o.increment_id DESC
          LIMIT $5"
    ))
    .bind(filter.status.map(OrderStatus::as_str))
    .bind(pattern)
    .bind(after.map(|c| c.created_at))
    .bind(after.map(|c| c.increment_id.as_str()))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// `%`, `_` and `\` in a search are literal characters, not patterns.
fn like_escape(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub async fn get(
    conn: &mut PgConnection,
    increment_id: &str,
) -> Result<Option<OrderSummary>, StoreError> {
    let row: Option<OrderRow> =
        sqlx::query_as(&format!("{SELECT_ORDER} WHERE o.increment_id = $1"))
            .bind(increment_id)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(TryInto::try_into).transpose()
}

/// A webhook delivery as the timeline shows it (the raw body stays in the database).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRecord {
    pub id: Uuid,
    pub webhook_id: String,
    pub event_type: Option<String>,
    pub outcome: String,
    /// What the event did, or why it could not be used.
    pub effect: String,
    pub webhook_timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

const SELECT_EVENT: &str =
    "SELECT id, webhook_id, event_type, outcome, effect, webhook_timestamp, received_at FROM webhook_events";

/// The order's deliveries, oldest first.
pub async fn events(
    conn: &mut PgConnection,
    increment_id: &str,
) -> Result<Vec<EventRecord>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT_EVENT} WHERE increment_id = $1 ORDER BY received_at, id"
    ))
    .bind(increment_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn event(conn: &mut PgConnection, id: Uuid) -> Result<Option<EventRecord>, StoreError> {
    Ok(sqlx::query_as(&format!("{SELECT_EVENT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// An outbox job of the order: how often it was tried and how the last try ended.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub status: String,
    /// Attempts so far.
    pub attempt: i32,
    /// The last failure as the worker recorded it (e.g. the SAP error), if any.
    pub last_error: Option<serde_json::Value>,
    pub run_after: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The order's jobs, oldest first.
pub async fn jobs(
    conn: &mut PgConnection,
    increment_id: &str,
) -> Result<Vec<JobRecord>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, kind, status, attempt, last_error, run_after, created_at, updated_at, finished_at
           FROM outbox WHERE increment_id = $1 ORDER BY id",
    )
    .bind(increment_id)
    .fetch_all(&mut *conn)
    .await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(super::like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
