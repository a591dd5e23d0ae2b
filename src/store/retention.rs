//! Retention of the kept webhook bodies. Every delivery's raw body is kept so that a person
//! can read exactly what Magento sent while the event still matters; after that it is personal
//! data (names, addresses, e-mails) with no further use, since the order's canonical form, the
//! SAP document and the event row itself (delivery id, type, time, effect) stay. The purge
//! empties the body of an event older than the retention period unless something still
//! needs it:
//! - an open or retrying exception about the event or its order;
//! - its order not finished (`queued`, `parked`, `awaiting_order`, `cancel_queued`), or a job
//!   of the order not done (pending, running or parked);
//! - a refund of the event or of its order not finished (`queued`, `waiting`, `parked`).
//!
//! Such an event is looked at again on a later pass and purged once its work is over.
use sqlx::PgPool;
use std::time::Duration;

use super::StoreError;

/// Empties the bodies of at most `batch` events received more than `keep` ago (on the
/// database's clock) that nothing needs any more (see the module docs); returns how many. Rows another transaction holds are
/// skipped, so purges in several processes never wait on each other or on intake.
pub async fn purge_webhook_bodies(
    pool: &PgPool,
    keep: Duration,
    batch: i64,
) -> Result<u64, StoreError> {
    let purged = sqlx::query(
        r#"
        WITH doomed AS (
            SELECT e.id
              FROM webhook_events e
             WHERE e.received_at < now() - $1 * interval '1 millisecond'
               AND e.body_purged_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM exceptions x
                                WHERE x.event_id = e.id AND x.status IN ('open', 'retrying'))
               AND NOT EXISTS (SELECT 1 FROM refunds r
                                WHERE r.event_id = e.id
                                  AND r.status IN ('queued', 'waiting', 'parked'))
               AND (e.increment_id IS NULL OR (
                    NOT EXISTS (SELECT 1 FROM orders o
                                 WHERE o.increment_id = e.increment_id
                                   AND o.status NOT IN ('posted', 'cancelled'))
                AND NOT EXISTS (SELECT 1 FROM outbox j
                                 WHERE j.increment_id = e.increment_id AND j.status <> 'done')
                AND NOT EXISTS (SELECT 1 FROM exceptions x
                                 WHERE x.order_increment_id = e.increment_id
                                   AND x.status IN ('open', 'retrying'))
                AND NOT EXISTS (SELECT 1 FROM refunds r
                                 WHERE r.order_increment_id = e.increment_id
                                   AND r.status IN ('queued', 'waiting', 'parked'))))
             ORDER BY e.received_at
             LIMIT $2
               FOR UPDATE OF e SKIP LOCKED
        )
        UPDATE webhook_events e
           SET body = NULL, body_purged_at = now()
          FROM doomed
         WHERE e.id = doomed.id
        "#,
    )
    .bind(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX))
    .bind(batch)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(purged)
}
