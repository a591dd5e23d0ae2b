//! Webhook intake storage: the event, its effect on the order and the outbox job it causes
//! are committed in one transaction, before the HTTP answer.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{exceptions, StoreError};
use crate::domain::event::OrderEvent;
use crate::domain::exception::{Category, NewException};
use crate::domain::order_flow::{apply_event, Decision, KnownOrder, OrderStatus};

/// The channel workers LISTEN on; notified (on commit) whenever an outbox job is added.
pub const OUTBOX_CHANNEL: &str = "b1bridge_outbox";

/// One verified delivery, as it came in.
pub struct Delivery<'a> {
    pub webhook_id: &'a str,
    pub webhook_timestamp: DateTime<Utc>,
    /// Request headers (credentials removed) for support and audit.
    pub headers: serde_json::Value,
    pub body: &'a [u8],
}

/// What intake did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeOutcome {
    Accepted {
        event_id: Uuid,
    },
    /// The same `webhook-id` was stored before: nothing is processed twice.
    Duplicate {
        event_id: Uuid,
    },
    /// Kept and filed as a `payload_invalid` exception.
    Invalid {
        event_id: Uuid,
        exception_id: Uuid,
    },
}

/// Stores a usable order event and applies it to its order and the outbox.
pub async fn record_order_event(
    pool: &PgPool,
    d: &Delivery<'_>,
    event: &OrderEvent,
) -> Result<IntakeOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    let event_id = Uuid::now_v7();
    let inserted = insert_event(
        &mut tx,
        event_id,
        d,
        EventColumns {
            envelope: Some(event.envelope.as_str()),
            event_type: Some(event.kind.as_str()),
            increment_id: Some(event.increment_id.as_str()),
            magento_entity_id: event.magento_entity_id,
            outcome: "accepted",
        },
    )
    .await?;
    if !inserted {
        tx.rollback().await?;
        return duplicate(pool, d.webhook_id).await;
    }

    let decision = loop {
        let known = lock_order(&mut tx, event.increment_id.as_str()).await?;
        let decision = apply_event(known, event);
        if known.is_some() {
            break decision;
        }
        // New order: create the row; if another transaction created it meanwhile, decide again
        // against what it wrote.
        let created = sqlx::query(
            "INSERT INTO orders (increment_id, status) VALUES ($1, $2) ON CONFLICT (increment_id) DO NOTHING",
        )
        .bind(event.increment_id.as_str())
        .bind(decision.status.unwrap_or(OrderStatus::Queued).as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if created == 1 {
            break decision;
        }
    };
    apply_decision(&mut tx, event_id, event, &decision).await?;
    sqlx::query("UPDATE webhook_events SET effect = $2 WHERE id = $1")
        .bind(event_id)
        .bind(decision.effect)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(IntakeOutcome::Accepted { event_id })
}

/// Stores a signed event that cannot be used, and files it as a `payload_invalid` exception,
/// so that nothing Magento sent is lost.
pub async fn record_invalid_event(
    pool: &PgPool,
    d: &Delivery<'_>,
    problem: &str,
    increment_id_hint: Option<&str>,
) -> Result<IntakeOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    let event_id = Uuid::now_v7();
    let cols = EventColumns {
        envelope: None,
        event_type: None,
        increment_id: increment_id_hint,
        magento_entity_id: None,
        outcome: "invalid",
    };
    if !insert_event(&mut tx, event_id, d, cols).await? {
        tx.rollback().await?;
        return duplicate(pool, d.webhook_id).await;
    }
    sqlx::query("UPDATE webhook_events SET effect = $2 WHERE id = $1")
        .bind(event_id)
        .bind(problem)
        .execute(&mut *tx)
        .await?;
    let order_label = increment_id_hint
        .map(|i| format!(" for order {i}"))
        .unwrap_or_default();
    let new = NewException {
        category: Category::PayloadInvalid,
        title: format!(
            "Magento event {}{order_label} could not be used",
            d.webhook_id
        ),
        detail: format!(
            "The event was signed correctly but is not a usable order event: {problem}. \
             The raw event is kept (event {event_id}). Check the Magento webhook configuration \
             or extension that sends it; once fixed, Magento's redelivery or the order backfill \
             brings the order in."
        ),
        order_increment_id: increment_id_hint.map(str::to_owned),
        skus: vec![],
        sap_error: None,
        // Every invalid delivery is its own problem: a broken sender shows as many rows.
        dedup_key: format!("payload_invalid|{}", d.webhook_id),
        context: serde_json::json!({ "webhook_id": d.webhook_id, "problem": problem }),
    };
    let exception_id = exceptions::record(&mut tx, &new, Some(event_id)).await?;
    tx.commit().await?;
    Ok(IntakeOutcome::Invalid {
        event_id,
        exception_id,
    })
}

struct EventColumns<'a> {
    envelope: Option<&'a str>,
    event_type: Option<&'a str>,
    increment_id: Option<&'a str>,
    magento_entity_id: Option<i64>,
    outcome: &'a str,
}

/// Inserts the event; `false` when its `webhook-id` is already stored. A concurrent insert of
/// the same id waits on the unique index and then sees the conflict, so exactly one wins.
async fn insert_event(
    conn: &mut PgConnection,
    id: Uuid,
    d: &Delivery<'_>,
    c: EventColumns<'_>,
) -> Result<bool, StoreError> {
    let rows = sqlx::query(
        r#"
        INSERT INTO webhook_events (id, webhook_id, envelope, event_type, increment_id, magento_entity_id,
                                    outcome, effect, webhook_timestamp, headers, body)
        VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $9, $10)
        ON CONFLICT (webhook_id) DO NOTHING
        "#,
    )
    .bind(id)
    .bind(d.webhook_id)
    .bind(c.envelope)
    .bind(c.event_type)
    .bind(c.increment_id)
    .bind(c.magento_entity_id)
    .bind(c.outcome)
    .bind(d.webhook_timestamp)
    .bind(&d.headers)
    .bind(d.body)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(rows == 1)
}

async fn duplicate(pool: &PgPool, webhook_id: &str) -> Result<IntakeOutcome, StoreError> {
    let event_id: Uuid = sqlx::query_scalar("SELECT id FROM webhook_events WHERE webhook_id = $1")
        .bind(webhook_id)
        .fetch_one(pool)
        .await?;
    Ok(IntakeOutcome::Duplicate { event_id })
}

async fn lock_order(
    conn: &mut PgConnection,
    increment_id: &str,
) -> Result<Option<KnownOrder>, StoreError> {
    let row: Option<(String, bool, bool)> = sqlx::query_as(
        "SELECT status, canonical IS NOT NULL, cancel_requested_at IS NOT NULL
           FROM orders WHERE increment_id = $1 FOR UPDATE",
    )
    .bind(increment_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(status, has_order, cancel_requested)| {
        let status = OrderStatus::parse(&status).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "order {increment_id} has unknown status '{status}'"
            ))
        })?;
        Ok(KnownOrder {
            status,
            has_order,
            cancel_requested,
        })
    })
    .transpose()
}

async fn apply_decision(
    conn: &mut PgConnection,
    event_id: Uuid,
    event: &OrderEvent,
    d: &Decision,
) -> Result<(), StoreError> {
    let id = event.increment_id.as_str();
    if d.store_order {
        let order = event
            .order
            .as_ref()
            .expect("decision stores an order only when the event has one");
        sqlx::query(
            r#"
            UPDATE orders SET canonical = $2, magento_entity_id = $3, customer_email = $4, currency = $5,
                              grand_total = $6, magento_created_at = $7, updated_at = now()
             WHERE increment_id = $1
            "#,
        )
        .bind(id)
        .bind(serde_json::to_value(order).expect("serialisable"))
        .bind(order.magento_entity_id)
        .bind(&order.customer.email)
        .bind(order.currency.as_str())
        .bind(order.totals.grand_total)
        .bind(order.created_at)
        .execute(&mut *conn)
        .await?;
    } else if let Some(entity_id) = event.magento_entity_id {
        sqlx::query("UPDATE orders SET magento_entity_id = COALESCE(magento_entity_id, $2) WHERE increment_id = $1")
            .bind(id)
            .bind(entity_id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(status) = d.status {
        sqlx::query("UPDATE orders SET status = $2, updated_at = now() WHERE increment_id = $1")
            .bind(id)
            .bind(status.as_str())
            .execute(&mut *conn)
            .await?;
    }
    if d.request_cancel {
        sqlx::query(
            "UPDATE orders SET cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now()
              WHERE increment_id = $1",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(kind) = d.enqueue {
        sqlx::query(
            r#"
            INSERT INTO outbox (increment_id, kind, event_id) VALUES ($1, $2, $3)
            ON CONFLICT (increment_id, kind) WHERE status IN ('pending', 'running', 'parked') DO NOTHING
            "#,
        )
        .bind(id)
        .bind(kind.as_str())
        .bind(event_id)
        .execute(&mut *conn)
        .await?;
        // Delivered on commit: workers wake at once instead of waiting for their poll.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(OUTBOX_CHANNEL)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
