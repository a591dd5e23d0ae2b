//! Storage of the status run and the Magento poll (docs/status-sync.md): their cursors, the
//! claims that make each delivery one Magento shipment and each posted order one comment,
//! and the look-ups from SAP documents back to b1bridge's orders.
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};

use super::StoreError;
use crate::domain::order::Order;
use crate::domain::shipment::ShipmentItem;

/// The status run's cursor: the last SAP delivery (`DocEntry`) it finished.
pub const DELIVERY_CURSOR: &str = "status.delivery_doc_entry";
/// The poll's cursor: the newest Magento `updated_at` it read (UTC, Magento's format).
pub const BACKFILL_CURSOR: &str = "backfill.updated_at";

pub async fn cursor(pool: &PgPool, name: &str) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT value FROM sync_cursors WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?,
    )
}

pub async fn set_cursor(pool: &PgPool, name: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_cursors (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
    )
    .bind(name)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(())
}

/// An order b1bridge posted, as the status run needs it.
#[derive(Debug, Clone)]
pub struct PostedOrder {
    pub increment_id: String,
    pub magento_entity_id: Option<i64>,
    pub doc_num: i64,
    pub order: Option<Order>,
}

#[derive(sqlx::FromRow)]
struct PostedRow {
    increment_id: String,
    magento_entity_id: Option<i64>,
    sap_doc_entry: i32,
    sap_doc_num: i32,
    canonical: Option<serde_json::Value>,
}

impl PostedRow {
    fn into_posted(self) -> Result<(i64, PostedOrder), StoreError> {
        let order = self
            .canonical
            .map(serde_json::from_value::<Order>)
            .transpose()
            .map_err(|e| {
                StoreError::Corrupt(format!("order {}: canonical: {e}", self.increment_id))
            })?;
        Ok((
            i64::from(self.sap_doc_entry),
            PostedOrder {
                increment_id: self.increment_id,
                magento_entity_id: self.magento_entity_id,
                doc_num: i64::from(self.sap_doc_num),
                order,
            },
        ))
    }
}

/// The orders b1bridge posted as these SAP Sales Orders (`DocEntry`), by `DocEntry`. A
/// DocEntry missing from the answer is not b1bridge's order.
pub async fn posted_by_doc_entry(
    pool: &PgPool,
    doc_entries: &[i64],
) -> Result<HashMap<i64, PostedOrder>, StoreError> {
    let entries: Vec<i32> = doc_entries
        .iter()
        .filter_map(|e| i32::try_from(*e).ok())
        .collect();
    let rows: Vec<PostedRow> = sqlx::query_as(
        "SELECT increment_id, magento_entity_id, sap_doc_entry, sap_doc_num, canonical
           FROM orders WHERE sap_doc_entry = ANY($1) AND sap_doc_num IS NOT NULL",
    )
    .bind(&entries)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(PostedRow::into_posted).collect()
}

/// Posted orders whose "posted as DocNum" comment is not done yet, oldest first: never
/// claimed, or claimed (`sending`) before `stale_before` by a run that did not finish.
pub async fn orders_awaiting_comment(
    pool: &PgPool,
    stale_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PostedOrder>, StoreError> {
    let rows: Vec<PostedRow> = sqlx::query_as(
        "SELECT o.increment_id, o.magento_entity_id, o.sap_doc_entry, o.sap_doc_num, o.canonical
           FROM orders o
           LEFT JOIN magento_comments c ON c.increment_id = o.increment_id
          WHERE o.sap_doc_entry IS NOT NULL AND o.sap_doc_num IS NOT NULL
            AND o.magento_entity_id IS NOT NULL
            AND (c.increment_id IS NULL OR (c.state = 'sending' AND c.claimed_at < $1))
          ORDER BY o.sap_doc_entry
          LIMIT $2",
    )
    .bind(stale_before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(PostedRow::into_posted)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|(_, p)| p)
        .collect())
}

/// Claims an order's comment. `false`: another run holds a fresh claim, or it is done.
pub async fn claim_comment(
    pool: &PgPool,
    increment_id: &str,
    doc_num: i64,
    stale_before: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let claimed = sqlx::query(
        "INSERT INTO magento_comments (increment_id, doc_num, state) VALUES ($1, $2, 'sending')
         ON CONFLICT (increment_id) DO UPDATE SET claimed_at = now()
          WHERE magento_comments.state = 'sending' AND magento_comments.claimed_at < $3",
    )
    .bind(increment_id)
    .bind(doc_num as i32)
    .bind(stale_before)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

/// Settles a claimed comment: `sent`, or `rejected` with Magento's words.
pub async fn finish_comment(
    pool: &PgPool,
    increment_id: &str,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE magento_comments
            SET state = CASE WHEN $2::text IS NULL THEN 'sent' ELSE 'rejected' END,
                error = $2, finished_at = now()
          WHERE increment_id = $1",
    )
    .bind(increment_id)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives a claim back (Magento unavailable): the next run tries again.
pub async fn release_comment(pool: &PgPool, increment_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM magento_comments WHERE increment_id = $1 AND state = 'sending'")
        .bind(increment_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// A delivery's shipment for one order, as claimed.
#[derive(Debug, Clone)]
pub struct ShipmentClaim {
    pub delivery_doc_entry: i64,
    pub delivery_doc_num: i64,
    pub increment_id: String,
    pub magento_order_id: i64,
    pub items: Vec<ShipmentItem>,
    pub tracking_number: Option<String>,
}

/// Where a delivery's shipment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipmentState {
    /// Claimed just now by this run: send it.
    Claimed,
    /// Claimed earlier by a run that did not finish: settle it from Magento's shipped
    /// quantities before anything is sent.
    Unsettled,
    /// A fresh claim of another run.
    Busy,
    /// Sent or rejected already: nothing to do.
    Done,
}

/// Claims the shipment of `claim` unless it is done or freshly held by another run.
pub async fn claim_shipment(
    pool: &PgPool,
    claim: &ShipmentClaim,
    stale_before: DateTime<Utc>,
) -> Result<ShipmentState, StoreError> {
    let items = serde_json::to_value(&claim.items).expect("items serialise");
    let inserted = sqlx::query(
        "INSERT INTO magento_shipments (delivery_doc_entry, increment_id, delivery_doc_num,
                                        magento_order_id, items, tracking_number, state)
         VALUES ($1, $2, $3, $4, $5, $6, 'sending')
         ON CONFLICT (delivery_doc_entry, increment_id) DO NOTHING",
    )
    .bind(claim.delivery_doc_entry as i32)
    .bind(&claim.increment_id)
    .bind(claim.delivery_doc_num as i32)
    .bind(claim.magento_order_id)
    .bind(&items)
    .bind(&claim.tracking_number)
    .execute(pool)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(ShipmentState::Claimed);
    }
    let retaken = sqlx::query(
        "UPDATE magento_shipments SET claimed_at = now()
          WHERE delivery_doc_entry = $1 AND increment_id = $2
            AND state = 'sending' AND claimed_at < $3",
    )
    .bind(claim.delivery_doc_entry as i32)
    .bind(&claim.increment_id)
    .bind(stale_before)
    .execute(pool)
    .await?
    .rows_affected();
    if retaken == 1 {
        return Ok(ShipmentState::Unsettled);
    }
    let state: String = sqlx::query_scalar(
        "SELECT state FROM magento_shipments WHERE delivery_doc_entry = $1 AND increment_id = $2",
    )
    .bind(claim.delivery_doc_entry as i32)
    .bind(&claim.increment_id)
    .fetch_one(pool)
    .await?;
    Ok(if state == "sending" {
        ShipmentState::Busy
    } else {
        ShipmentState::Done
    })
}

/// Settles a claimed shipment: `sent` (with Magento's shipment id when known) or `rejected`.
pub async fn finish_shipment(
    pool: &PgPool,
    delivery_doc_entry: i64,
    increment_id: &str,
    outcome: Result<Option<i64>, &str>,
) -> Result<(), StoreError> {
    let (state, shipment_id, error) = match outcome {
        Ok(id) => ("sent", id, None),
        Err(e) => ("rejected", None, Some(e)),
    };
    sqlx::query(
        "UPDATE magento_shipments
            SET state = $3, magento_shipment_id = $4, error = $5, finished_at = now()
          WHERE delivery_doc_entry = $1 AND increment_id = $2",
    )
    .bind(delivery_doc_entry as i32)
    .bind(increment_id)
    .bind(state)
    .bind(shipment_id)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives a shipment claim back (Magento unavailable): the next run tries again.
pub async fn release_shipment(
    pool: &PgPool,
    delivery_doc_entry: i64,
    increment_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM magento_shipments
          WHERE delivery_doc_entry = $1 AND increment_id = $2 AND state = 'sending'",
    )
    .bind(delivery_doc_entry as i32)
    .bind(increment_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// What b1bridge recorded as shipped for an order by other deliveries, per Magento item.
pub async fn sent_for_order(
    pool: &PgPool,
    increment_id: &str,
    except_delivery: i64,
) -> Result<BTreeMap<i64, Decimal>, StoreError> {
    let rows: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT items FROM magento_shipments
          WHERE increment_id = $1 AND state = 'sent' AND delivery_doc_entry <> $2",
    )
    .bind(increment_id)
    .bind(except_delivery as i32)
    .fetch_all(pool)
    .await?;
    let mut sent = BTreeMap::new();
    for items in rows {
        let items: Vec<ShipmentItem> = serde_json::from_value(items)
            .map_err(|e| StoreError::Corrupt(format!("shipment items of {increment_id}: {e}")))?;
        for i in items {
            *sent.entry(i.order_item_id).or_insert(Decimal::ZERO) += i.qty;
        }
    }
    Ok(sent)
}

/// A shipment sent to Magento, as the order's page shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ShipmentSent {
    pub delivery_doc_num: i32,
    pub tracking_number: Option<String>,
    pub magento_shipment_id: Option<i64>,
    pub finished_at: DateTime<Utc>,
}

/// The order's shipments that reached Magento, oldest first (a refused one is an exception).
pub async fn shipments_sent(
    conn: &mut sqlx::PgConnection,
    increment_id: &str,
) -> Result<Vec<ShipmentSent>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT delivery_doc_num, tracking_number, magento_shipment_id, finished_at
           FROM magento_shipments
          WHERE increment_id = $1 AND state = 'sent' AND finished_at IS NOT NULL
          ORDER BY finished_at, delivery_doc_entry",
    )
    .bind(increment_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// What b1bridge knows of an order the poll found, `None` when nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownToPoll {
    pub has_order: bool,
    pub cancel_requested: bool,
}

pub async fn known_orders(
    pool: &PgPool,
    increment_ids: &[String],
) -> Result<HashMap<String, KnownToPoll>, StoreError> {
    let rows: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT increment_id, canonical IS NOT NULL, cancel_requested_at IS NOT NULL
           FROM orders WHERE increment_id = ANY($1)",
    )
    .bind(increment_ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, has_order, cancel_requested)| {
            (
                id,
                KnownToPoll {
                    has_order,
                    cancel_requested,
                },
            )
        })
        .collect())
}

/// Whether any event of the order came in the Adobe Commerce observer envelope, whose order
/// is Magento's model data and must be re-read through REST before it is mapped.
pub async fn came_by_observer(pool: &PgPool, increment_id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM webhook_events
                         WHERE increment_id = $1 AND outcome = 'accepted'
                           AND envelope = 'adobe_observer')",
    )
    .bind(increment_id)
    .fetch_one(pool)
    .await?)
}
