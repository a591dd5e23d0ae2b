//! Group commit for intake: the first events of several new orders, written by one
//! autocommitted statement. Postgres' cost per event is mostly per statement and per commit,
//! so a batch shares it; every event is still committed before its delivery is answered.
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use super::intake::{is_order_exists, Delivery, IntakeOutcome, OUTBOX_CHANNEL};
use super::StoreError;
use crate::domain::event::OrderEvent;
use crate::domain::order_flow::{apply_event, JobKind, OrderStatus};

/// A verified, parsed delivery that owns its data, so that it can wait for a batch.
pub struct QueuedEvent {
    pub webhook_id: String,
    pub webhook_timestamp: DateTime<Utc>,
    pub headers: serde_json::Value,
    pub body: Bytes,
    pub event: OrderEvent,
}

impl QueuedEvent {
    /// The delivery as the one-by-one path takes it.
    pub fn delivery(&self) -> Delivery<'_> {
        Delivery {
            webhook_id: &self.webhook_id,
            webhook_timestamp: self.webhook_timestamp,
            headers: self.headers.clone(),
            body: &self.body,
        }
    }
}

/// One new-order event as the batch statement takes it: borrowed from a queued event or from
/// a delivery on the one-by-one path, which uses the same statement for a single event.
pub(super) struct NewOrderRow<'q> {
    pub webhook_id: &'q str,
    pub webhook_timestamp: DateTime<Utc>,
    pub headers: &'q serde_json::Value,
    pub body: &'q [u8],
    pub event: &'q OrderEvent,
}

impl<'q> NewOrderRow<'q> {
    pub fn new(d: &'q Delivery<'q>, event: &'q OrderEvent) -> Self {
        Self {
            webhook_id: d.webhook_id,
            webhook_timestamp: d.webhook_timestamp,
            headers: &d.headers,
            body: d.body,
            event,
        }
    }
}

impl QueuedEvent {
    fn row(&self) -> NewOrderRow<'_> {
        NewOrderRow {
            webhook_id: &self.webhook_id,
            webhook_timestamp: self.webhook_timestamp,
            headers: &self.headers,
            body: &self.body,
            event: &self.event,
        }
    }
}

/// Records a batch of events, each as [`apply_event`] decides for an order nobody has seen,
/// in one statement; the outcomes are in the batch's order. A `webhook-id` repeated in the
/// batch is stored once and its repeats answer `Duplicate`, as one by one.
///
/// `Ok(None)`: nothing was written, because an order of the batch exists already or two
/// events of the batch name the same order; record them one by one
/// ([`super::intake::record_order_event`]).
pub async fn record_new_orders(
    pool: &PgPool,
    batch: &[&QueuedEvent],
) -> Result<Option<Vec<IntakeOutcome>>, StoreError> {
    // The first event of each webhook-id is written; the rest repeat it.
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    let mut leaders = Vec::new();
    for (i, q) in batch.iter().enumerate() {
        first_of.entry(q.webhook_id.as_str()).or_insert_with(|| {
            leaders.push(i);
            i
        });
    }
    let mut orders = HashSet::new();
    if !leaders
        .iter()
        .all(|&i| orders.insert(batch[i].event.increment_id.as_str()))
    {
        return Ok(None);
    }
    // One order of locking for every batch makes deadlocks between batches unlikely.
    leaders.sort_by_key(|&i| batch[i].event.increment_id.as_str());
    let ids: Vec<Uuid> = leaders.iter().map(|_| Uuid::now_v7()).collect();
    let rows = leaders.iter().map(|&i| batch[i].row());
    let inserted = match insert_batch(pool, &ids, rows).await {
        Ok(inserted) => inserted,
        Err(e) if is_order_exists(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut event_ids: HashMap<&str, (Uuid, bool)> = HashMap::new();
    let mut stored_before = Vec::new();
    for (&i, id) in leaders.iter().zip(&ids) {
        let webhook_id = batch[i].webhook_id.as_str();
        if inserted.contains(id) {
            event_ids.insert(webhook_id, (*id, true));
        } else {
            stored_before.push(webhook_id);
        }
    }
    if !stored_before.is_empty() {
        let rows: Vec<(String, Uuid)> =
            sqlx::query_as("SELECT webhook_id, id FROM webhook_events WHERE webhook_id = ANY($1)")
                .bind(&stored_before)
                .fetch_all(pool)
                .await?;
        let found: HashMap<String, Uuid> = rows.into_iter().collect();
        for webhook_id in stored_before {
            let id = found.get(webhook_id).ok_or_else(|| {
                StoreError::Corrupt(format!("event {webhook_id} conflicted but is not stored"))
            })?;
            event_ids.insert(webhook_id, (*id, false));
        }
    }
    let outcomes = batch
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let (event_id, accepted) = event_ids[q.webhook_id.as_str()];
            if accepted && first_of[q.webhook_id.as_str()] == i {
                IntakeOutcome::Accepted { event_id }
            } else {
                IntakeOutcome::Duplicate { event_id }
            }
        })
        .collect();
    Ok(Some(outcomes))
}

/// The statement: events (a stored `webhook-id` is skipped), their orders, their jobs and one
/// notification. `b1b_require` aborts it when an inserted event's order exists already.
/// Returns the ids of the inserted events.
pub(super) async fn insert_batch<'q>(
    pool: &PgPool,
    ids: &[Uuid],
    rows: impl Iterator<Item = NewOrderRow<'q>>,
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let mut c = Columns::default();
    for row in rows {
        c.push(row);
    }
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        r#"
        WITH r AS (
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[],
                                 $7::text[], $8::timestamptz[], $9::jsonb[], $10::bytea[], $11::text[],
                                 $12::jsonb[], $13::text[], $14::text[], $15::numeric[],
                                 $16::timestamptz[], $17::bool[], $18::text[])
                AS r(id, webhook_id, envelope, event_type, increment_id, magento_entity_id, effect,
                     webhook_timestamp, headers, body, status, canonical, customer_email, currency,
                     grand_total, magento_created_at, request_cancel, job_kind)
        ), ev AS (
            INSERT INTO webhook_events (id, webhook_id, envelope, event_type, increment_id, magento_entity_id,
                                        outcome, effect, webhook_timestamp, headers, body)
            SELECT id, webhook_id, envelope, event_type, increment_id, magento_entity_id,
                   'accepted', effect, webhook_timestamp, headers, body
              FROM r
            ON CONFLICT (webhook_id) DO NOTHING
            RETURNING id
        ), o AS (
            INSERT INTO orders (increment_id, status, magento_entity_id, canonical, customer_email, currency,
                                grand_total, magento_created_at, cancel_requested_at)
            SELECT r.increment_id, r.status, r.magento_entity_id, r.canonical, r.customer_email, r.currency,
                   r.grand_total, r.magento_created_at, CASE WHEN r.request_cancel THEN now() END
              FROM ev JOIN r USING (id)
            ON CONFLICT (increment_id) DO NOTHING
            RETURNING increment_id
        ), job AS (
            INSERT INTO outbox (increment_id, kind, event_id)
            SELECT r.increment_id, r.job_kind, r.id FROM o JOIN r USING (increment_id)
             WHERE r.job_kind IS NOT NULL
            RETURNING increment_id
        )
        SELECT id FROM ev
         WHERE b1b_require((SELECT count(*) FROM ev) = (SELECT count(*) FROM o), 'order exists')
           AND (SELECT count(*) FROM (SELECT pg_notify($19, min(increment_id)) FROM job
                                       HAVING count(*) > 0) AS notified) >= 0
        "#,
    )
    .bind(ids)
    .bind(&c.webhook_id)
    .bind(&c.envelope)
    .bind(&c.event_type)
    .bind(&c.increment_id)
    .bind(&c.magento_entity_id)
    .bind(&c.effect)
    .bind(&c.webhook_timestamp)
    .bind(&c.headers)
    .bind(&c.body)
    .bind(&c.status)
    .bind(&c.canonical)
    .bind(&c.customer_email)
    .bind(&c.currency)
    .bind(&c.grand_total)
    .bind(&c.magento_created_at)
    .bind(&c.request_cancel)
    .bind(&c.job_kind)
    .bind(OUTBOX_CHANNEL)
    .fetch_all(pool)
    .await?;
    Ok(inserted.into_iter().collect())
}

/// The batch as one array per column (what `unnest` takes).
#[derive(Default)]
struct Columns<'q> {
    webhook_id: Vec<&'q str>,
    envelope: Vec<&'static str>,
    event_type: Vec<&'static str>,
    increment_id: Vec<&'q str>,
    magento_entity_id: Vec<Option<i64>>,
    effect: Vec<&'static str>,
    webhook_timestamp: Vec<DateTime<Utc>>,
    headers: Vec<&'q serde_json::Value>,
    body: Vec<&'q [u8]>,
    status: Vec<&'static str>,
    canonical: Vec<Option<serde_json::Value>>,
    customer_email: Vec<Option<&'q str>>,
    currency: Vec<Option<&'q str>>,
    grand_total: Vec<Option<Decimal>>,
    magento_created_at: Vec<Option<DateTime<Utc>>>,
    request_cancel: Vec<bool>,
    job_kind: Vec<Option<&'static str>>,
}

impl<'q> Columns<'q> {
    fn push(&mut self, q: NewOrderRow<'q>) {
        let event = q.event;
        let decision = apply_event(None, event);
        let order = event.order.as_ref().filter(|_| decision.store_order);
        self.webhook_id.push(q.webhook_id);
        self.envelope.push(event.envelope.as_str());
        self.event_type.push(event.kind.as_str());
        self.increment_id.push(event.increment_id.as_str());
        self.magento_entity_id.push(event.magento_entity_id);
        self.effect.push(decision.effect);
        self.webhook_timestamp.push(q.webhook_timestamp);
        self.headers.push(q.headers);
        self.body.push(q.body);
        self.status
            .push(decision.status.unwrap_or(OrderStatus::Queued).as_str());
        self.canonical
            .push(order.map(|o| serde_json::to_value(o).expect("serialisable")));
        self.customer_email
            .push(order.map(|o| o.customer.email.as_str()));
        self.currency.push(order.map(|o| o.currency.as_str()));
        self.grand_total.push(order.map(|o| o.totals.grand_total));
        self.magento_created_at.push(order.map(|o| o.created_at));
        self.request_cancel.push(decision.request_cancel);
        self.job_kind.push(decision.enqueue.map(JobKind::as_str));
    }
}
