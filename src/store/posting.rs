//! The order row as the order pipeline sees it: what a post or cancel job reads before it
//! calls SAP, and the writes that record what SAP did. The writes take the caller's
//! connection: they commit in the transaction that marks the job done, or not at all.
use sqlx::{PgConnection, PgPool};

use super::StoreError;
use crate::domain::order::Order;
use crate::domain::order_flow::OrderStatus;
use crate::domain::posting::SapDocument;

/// What a job needs to know about its order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderForSap {
    /// The canonical order; `None` while only a cancellation has arrived.
    pub order: Option<Order>,
    pub cancel_requested: bool,
    /// Set once the order was posted (or found in SAP by a cancel).
    pub sap_document: Option<SapDocument>,
}

#[derive(sqlx::FromRow)]
struct Row {
    canonical: Option<serde_json::Value>,
    cancel_requested: bool,
    sap_doc_entry: Option<i32>,
    sap_doc_num: Option<i32>,
}

/// Reads the order of a job; `None` if there is no such order.
pub async fn load(pool: &PgPool, increment_id: &str) -> Result<Option<OrderForSap>, StoreError> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT canonical, cancel_requested_at IS NOT NULL AS cancel_requested,
                sap_doc_entry, sap_doc_num
           FROM orders WHERE increment_id = $1",
    )
    .bind(increment_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let order = row
        .canonical
        .map(serde_json::from_value::<Order>)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("order {increment_id}: canonical: {e}")))?;
    let sap_document = match (row.sap_doc_entry, row.sap_doc_num) {
        (Some(doc_entry), Some(doc_num)) => Some(SapDocument {
            doc_entry: doc_entry.into(),
            doc_num: doc_num.into(),
        }),
        _ => None,
    };
    Ok(Some(OrderForSap {
        order,
        cancel_requested: row.cancel_requested,
        sap_document,
    }))
}

/// Replaces the order's content with a fresher read of the same order (an observer event's
/// order re-read through Magento's REST API before it is posted).
pub async fn refresh_order(pool: &PgPool, order: &Order) -> Result<(), StoreError> {
    let canonical = serde_json::to_value(order)
        .map_err(|e| StoreError::Corrupt(format!("order {}: {e}", order.increment_id)))?;
    sqlx::query("UPDATE orders SET canonical = $2, updated_at = now() WHERE increment_id = $1")
        .bind(order.increment_id.as_str())
        .bind(canonical)
        .execute(pool)
        .await?;
    Ok(())
}

/// Records the Sales Order an order became. The status is `posted`, or `cancel_queued` when a
/// cancellation arrived while it was being posted (its job runs next).
pub async fn record_posted(
    conn: &mut PgConnection,
    increment_id: &str,
    document: SapDocument,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE orders
            SET sap_doc_entry = $2, sap_doc_num = $3, updated_at = now(),
                status = CASE WHEN cancel_requested_at IS NULL THEN $4 ELSE $5 END
          WHERE increment_id = $1",
    )
    .bind(increment_id)
    .bind(column(document.doc_entry, "DocEntry")?)
    .bind(column(document.doc_num, "DocNum")?)
    .bind(OrderStatus::Posted.as_str())
    .bind(OrderStatus::CancelQueued.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records that the order is cancelled, in SAP (`document`, if the cancel found one that the
/// order row did not know yet) or before it ever reached SAP.
pub async fn record_cancelled(
    conn: &mut PgConnection,
    increment_id: &str,
    document: Option<SapDocument>,
) -> Result<(), StoreError> {
    let entry = document
        .map(|d| column(d.doc_entry, "DocEntry"))
        .transpose()?;
    let num = document.map(|d| column(d.doc_num, "DocNum")).transpose()?;
    sqlx::query(
        "UPDATE orders
            SET status = $2, updated_at = now(),
                sap_doc_entry = COALESCE($3, sap_doc_entry),
                sap_doc_num = COALESCE($4, sap_doc_num)
          WHERE increment_id = $1",
    )
    .bind(increment_id)
    .bind(OrderStatus::Cancelled.as_str())
    .bind(entry)
    .bind(num)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// SAP's document numbers are Int32 (reference §3); the columns are `integer`.
fn column(value: i64, what: &str) -> Result<i32, StoreError> {
    i32::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("SAP {what} {value} does not fit an Int32")))
}

/// Holds the order of a parked job until an operator acts (the order handlers' part of
/// parking, in the transaction that parks the job).
pub async fn hold(conn: &mut PgConnection, increment_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET status = $2, updated_at = now() WHERE increment_id = $1")
        .bind(increment_id)
        .bind(OrderStatus::Parked.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
