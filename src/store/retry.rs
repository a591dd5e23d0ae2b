//! Re-queueing an order that is parked behind an exception: its parked jobs go back to
//! pending, the order shows it is queued again and its blocking exceptions show `retrying`,
//! all in the caller's transaction.
use sqlx::{PgConnection, PgPool};

use super::audit::{self, NewAuditEntry, Target};
use super::{exceptions, outbox, StoreError};
use crate::domain::order_flow::{status_after_requeue, OrderStatus};

/// What a re-queue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    Requeued {
        jobs: u64,
        status: OrderStatus,
    },
    /// No job of the order is parked: there is nothing to run again.
    NothingParked,
    OrderNotFound,
}

/// Re-queues `increment_id`'s parked jobs inside the caller's transaction.
pub async fn requeue_order(
    conn: &mut PgConnection,
    increment_id: &str,
) -> Result<Requeue, StoreError> {
    let cancel_requested: Option<bool> = sqlx::query_scalar(
        "SELECT cancel_requested_at IS NOT NULL FROM orders WHERE increment_id = $1 FOR UPDATE",
    )
    .bind(increment_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(cancel_requested) = cancel_requested else {
        return Ok(Requeue::OrderNotFound);
    };
    let jobs = outbox::requeue_parked(conn, increment_id).await?;
    if jobs == 0 {
        return Ok(Requeue::NothingParked);
    }
    let status = status_after_requeue(cancel_requested);
    sqlx::query("UPDATE orders SET status = $2, updated_at = now() WHERE increment_id = $1")
        .bind(increment_id)
        .bind(status.as_str())
        .execute(&mut *conn)
        .await?;
    exceptions::mark_retrying_for_order(conn, increment_id).await?;
    Ok(Requeue::Requeued { jobs, status })
}

/// `POST /orders/{id}/retry`: re-queues and records who did it, in one transaction.
pub async fn retry_order(
    pool: &PgPool,
    increment_id: &str,
    actor: &str,
    note: Option<&str>,
) -> Result<Requeue, StoreError> {
    let mut tx = pool.begin().await?;
    let outcome = requeue_order(&mut tx, increment_id).await?;
    if matches!(outcome, Requeue::Requeued { .. }) {
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor,
                action: "retry",
                target: Target::Order,
                target_id: increment_id,
                note,
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(outcome)
}
