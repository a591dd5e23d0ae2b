//! Webhook intake storage: the event, its effect on the order and the outbox job it causes
//! are committed in one transaction, before the HTTP answer.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::intake_batch::{insert_batch, NewOrderRow};
use super::{exceptions, StoreError};
use crate::domain::event::OrderEvent;
use crate::domain::exception::{Category, NewException};
use crate::domain::order_flow::{apply_event, Decision, JobKind, KnownOrder, OrderStatus};

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
///
/// Round trips are what ingest costs. Most events are the first news of their order, so that
/// case is one autocommitted statement ([`record_new_order`]); an event for an order already
/// known takes the locking path: lock the order, insert the event (its `webhook-id` conflict
/// detects a retry), write the order, enqueue and notify, commit.
pub async fn record_order_event(
    pool: &PgPool,
    d: &Delivery<'_>,
    event: &OrderEvent,
) -> Result<IntakeOutcome, StoreError> {
    let event_id = Uuid::now_v7();
    match record_new_order(pool, event_id, d, event).await {
        Ok(true) => return Ok(IntakeOutcome::Accepted { event_id }),
        Ok(false) => return duplicate(pool, d.webhook_id).await,
        Err(e) if is_order_exists(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let mut tx = pool.begin().await?;
    let id = event.increment_id.as_str();
    let mut known = lock_order(&mut tx, id).await?;
    let mut decision = apply_event(known, event);
    let cols = EventColumns {
        envelope: Some(event.envelope.as_str()),
        event_type: Some(event.kind.as_str()),
        increment_id: Some(id),
        magento_entity_id: event.magento_entity_id,
        outcome: "accepted",
        effect: decision.effect,
    };
    if !insert_event(&mut tx, event_id, d, cols).await? {
        tx.rollback().await?;
        return duplicate(pool, d.webhook_id).await;
    }
    while known.is_none() {
        if create_order(&mut tx, event, &decision).await? {
            break;
        }
        // Another transaction created the order meanwhile: decide again against what it wrote.
        known = lock_order(&mut tx, id).await?;
        decision = apply_event(known, event);
        sqlx::query("UPDATE webhook_events SET effect = $2 WHERE id = $1")
            .bind(event_id)
            .bind(decision.effect)
            .execute(&mut *tx)
            .await?;
    }
    if known.is_some() {
        update_order(&mut tx, event, &decision).await?;
    }
    if let Some(kind) = decision.enqueue {
        enqueue(&mut tx, id, kind, event_id).await?;
    }
    tx.commit().await?;
    Ok(IntakeOutcome::Accepted { event_id })
}

/// The fast path: event, order and job in one statement, as [`apply_event`] decides for an
/// order nobody has seen yet — the group-commit statement with a batch of one. `Ok(false)`:
/// the `webhook-id` is stored already (nothing written). Fails with `B1B01` — and writes
/// nothing — when the order exists after all.
async fn record_new_order(
    pool: &PgPool,
    event_id: Uuid,
    d: &Delivery<'_>,
    event: &OrderEvent,
) -> Result<bool, sqlx::Error> {
    let row = NewOrderRow::new(d, event);
    let inserted = insert_batch(pool, &[event_id], std::iter::once(row)).await?;
    Ok(inserted.contains(&event_id))
}

/// The fast path's signal that the order already exists (raised by `b1b_require`).
pub(super) fn is_order_exists(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("B1B01"))
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
        effect: problem,
    };
    if !insert_event(&mut tx, event_id, d, cols).await? {
        tx.rollback().await?;
        return duplicate(pool, d.webhook_id).await;
    }
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

pub(super) struct EventColumns<'a> {
    pub envelope: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub increment_id: Option<&'a str>,
    pub magento_entity_id: Option<i64>,
    pub outcome: &'a str,
    pub effect: &'a str,
}

/// Inserts the event; `false` when its `webhook-id` is already stored. A concurrent insert of
/// the same id waits on the unique index and then sees the conflict, so exactly one wins.
pub(super) async fn insert_event(
    conn: &mut PgConnection,
    id: Uuid,
    d: &Delivery<'_>,
    c: EventColumns<'_>,
) -> Result<bool, StoreError> {
    let rows = sqlx::query(
        r#"
        INSERT INTO webhook_events (id, webhook_id, envelope, event_type, increment_id, magento_entity_id,
                                    outcome, effect, webhook_timestamp, headers, body)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
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
    .bind(c.effect)
    .bind(d.webhook_timestamp)
    .bind(&d.headers)
    .bind(d.body)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(rows == 1)
}

pub(super) async fn duplicate(
    pool: &PgPool,
    webhook_id: &str,
) -> Result<IntakeOutcome, StoreError> {
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

/// Creates the order row with everything the decision says; no row when a concurrent
/// transaction created it first.
const INSERT_ORDER: &str = r#"
    INSERT INTO orders (increment_id, status, magento_entity_id, canonical, customer_email, currency,
                        grand_total, magento_created_at, cancel_requested_at)
    VALUES ($1, COALESCE($2, 'queued'), $3, $4, $5, $6, $7, $8, CASE WHEN $9 THEN now() END)
    ON CONFLICT (increment_id) DO NOTHING
"#;

/// Applies a decision to an existing (locked) order.
const UPDATE_ORDER: &str = r#"
    UPDATE orders SET
        status              = COALESCE($2, status),
        magento_entity_id   = COALESCE(magento_entity_id, $3),
        canonical           = COALESCE($4, canonical),
        customer_email      = COALESCE($5, customer_email),
        currency            = COALESCE($6, currency),
        grand_total         = COALESCE($7, grand_total),
        magento_created_at  = COALESCE($8, magento_created_at),
        cancel_requested_at = CASE WHEN $9 THEN COALESCE(cancel_requested_at, now()) ELSE cancel_requested_at END,
        updated_at          = now()
    WHERE increment_id = $1
"#;

async fn create_order(
    conn: &mut PgConnection,
    event: &OrderEvent,
    d: &Decision,
) -> Result<bool, StoreError> {
    Ok(write_order(conn, INSERT_ORDER, event, d).await? == 1)
}

async fn update_order(
    conn: &mut PgConnection,
    event: &OrderEvent,
    d: &Decision,
) -> Result<(), StoreError> {
    let nothing_to_write = !d.store_order
        && d.status.is_none()
        && !d.request_cancel
        && event.magento_entity_id.is_none();
    if !nothing_to_write {
        write_order(conn, UPDATE_ORDER, event, d).await?;
    }
    Ok(())
}

/// Runs [`INSERT_ORDER`] or [`UPDATE_ORDER`], which take the same parameters, in one round trip.
async fn write_order(
    conn: &mut PgConnection,
    sql: &'static str,
    event: &OrderEvent,
    d: &Decision,
) -> Result<u64, StoreError> {
    let order = event.order.as_ref().filter(|_| d.store_order);
    let rows = sqlx::query(sql)
        .bind(event.increment_id.as_str())
        .bind(d.status.map(OrderStatus::as_str))
        .bind(event.magento_entity_id)
        .bind(order.map(|o| serde_json::to_value(o).expect("serialisable")))
        .bind(order.map(|o| o.customer.email.as_str()))
        .bind(order.map(|o| o.currency.as_str()))
        .bind(order.map(|o| o.totals.grand_total))
        .bind(order.map(|o| o.created_at))
        .bind(d.request_cancel)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(rows)
}

/// Adds the job and notifies the workers (delivered on commit) in one statement.
async fn enqueue(
    conn: &mut PgConnection,
    increment_id: &str,
    kind: JobKind,
    event_id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        r#"
        WITH job AS (
            INSERT INTO outbox (increment_id, kind, event_id) VALUES ($1, $2, $3)
            ON CONFLICT (increment_id, kind) WHERE status IN ('pending', 'running', 'parked') DO NOTHING
            RETURNING increment_id
        )
        SELECT pg_notify($4, increment_id) FROM job
        "#,
    )
    .bind(increment_id)
    .bind(kind.as_str())
    .bind(event_id)
    .bind(OUTBOX_CHANNEL)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
