//! What the order pipeline keeps about SAP documents beyond the Sales Order itself: the draft
//! an approval procedure made of an order (followed by re-queued post jobs), and the orders
//! whose post jobs are about to run (so one SAP look-up serves many of them).
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use uuid::Uuid;

use super::StoreError;
use crate::domain::posting::SapDocument;

/// Records the draft SAP made of the order, in the caller's transaction.
pub async fn record_draft(
    conn: &mut PgConnection,
    increment_id: &str,
    draft: SapDocument,
) -> Result<(), StoreError> {
    let entry = i32::try_from(draft.doc_entry)
        .map_err(|_| StoreError::Corrupt(format!("draft DocEntry {}", draft.doc_entry)))?;
    let num = i32::try_from(draft.doc_num)
        .map_err(|_| StoreError::Corrupt(format!("draft DocNum {}", draft.doc_num)))?;
    sqlx::query(
        "UPDATE orders SET sap_draft_entry = $2, sap_draft_num = $3, updated_at = now()
          WHERE increment_id = $1",
    )
    .bind(increment_id)
    .bind(entry)
    .bind(num)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Queues the next check of an order awaiting approval: a post job that runs after `delay`
/// (it records the order once approved, never adds it again). Called in the transaction that
/// finishes the current post job, whose row no longer counts as open.
pub async fn queue_approval_check(
    conn: &mut PgConnection,
    increment_id: &str,
    event_id: Option<Uuid>,
    delay: Duration,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (increment_id, kind, event_id, run_after)
         VALUES ($1, 'post_order', $2, now() + make_interval(secs => $3))",
    )
    .bind(increment_id)
    .bind(event_id)
    .bind(delay.as_secs_f64())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An order whose post job is queued or running for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpcomingPost {
    pub increment_id: String,
    pub store_id: Option<i64>,
}

/// Up to `limit` orders whose post job is on its first attempt (running, then queued soonest
/// first): the orders a batched look-up covers in one SAP request. The jobs are picked through
/// the queue's own indexes before their orders are read, so the cost does not grow with the
/// queue.
pub async fn upcoming_posts(pool: &PgPool, limit: i64) -> Result<Vec<UpcomingPost>, StoreError> {
    let rows: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT n.increment_id, (o.canonical ->> 'store_id')::bigint
           FROM ((SELECT j.increment_id, j.run_after, j.id, 0 AS running_first
                      FROM outbox j
                     WHERE j.status = 'running' AND j.kind = 'post_order' AND j.attempt = 1
                     LIMIT $1)
                 UNION ALL
                 (SELECT j.increment_id, j.run_after, j.id, 1
                    FROM outbox j
                   WHERE j.status = 'pending' AND j.kind = 'post_order' AND j.attempt = 0
                     AND j.run_after <= now() + interval '1 minute'
                   ORDER BY j.run_after, j.id
                   LIMIT $1)) n
           JOIN orders o ON o.increment_id = n.increment_id
          WHERE o.canonical IS NOT NULL AND o.sap_doc_entry IS NULL AND o.sap_draft_entry IS NULL
          ORDER BY n.running_first, n.run_after, n.id
          LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(increment_id, store_id)| UpcomingPost {
            increment_id,
            store_id,
        })
        .collect())
}
