//! The Magento order poll (docs/status-sync.md): catches what the webhooks missed, and lets
//! b1bridge work with no webhook at all.
//!
//! Every run reads `GET /V1/orders` by `updated_at` from the cursor minus an overlap (orders
//! saved while the previous poll read have an older stamp than what it saw), oldest first,
//! every page until `total_count` (Magento repeats its last page past the end). An order
//! b1bridge never received is taken in exactly as its webhook would have been — the same
//! envelope parser, the same intake, the same idempotency (the order's increment id; a
//! webhook arriving later finds the order known) — and an informational `missed_webhook`
//! exception says so. A cancellation b1bridge never heard of is applied the same way.
//!
//! Orders changed within the last `grace` are left to the next poll: their webhook may still
//! be on its way (Magento's queue sends it a little later), and they are not missed yet.
use chrono::{DateTime, NaiveDateTime, Utc};
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::handler::JobContext;
use super::run_job::{RunResult, RunTask};
use crate::domain::exception::{Category, NewException};
use crate::magento::envelope::parse_event;
use crate::magento::types::RestOrder;
use crate::magento::{MagentoClient, MagentoError};
use crate::store::intake::{self, Delivery, IntakeOutcome};
use crate::store::runs::Run;
use crate::store::status_sync::{self as store, KnownToPoll};
use crate::store::{exceptions, StoreError};

/// Magento's timestamp format (UTC, no zone).
const MAGENTO_TIME: &str = "%Y-%m-%d %H:%M:%S";

/// The poll with its timings.
#[derive(Clone)]
pub struct Backfill {
    magento: Arc<MagentoClient>,
    /// Orders per `GET /V1/orders` page.
    pub page_size: u32,
    /// How far before the cursor each poll reads again.
    pub overlap: Duration,
    /// How old an order's last change must be before the poll acts on it.
    pub grace: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("{0}")]
    Magento(#[from] MagentoError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BackfillError {
    fn from(e: sqlx::Error) -> Self {
        BackfillError::Store(e.into())
    }
}

/// What a poll did; the run's figures.
#[derive(Debug, Default, Serialize)]
pub struct BackfillFigures {
    /// `updated_at` the poll read from (UTC, Magento's format).
    pub since: String,
    /// The cursor afterwards.
    pub cursor: Option<String>,
    pub orders_read: u64,
    /// Orders b1bridge had never received, taken in now.
    pub orders_ingested: u64,
    /// Cancellations b1bridge had not heard of, applied now.
    pub cancellations_applied: u64,
    /// Orders too recent to call missed; the next poll looks again.
    pub left_for_next_poll: u64,
    /// Orders whose content b1bridge cannot use (filed as `payload_invalid`).
    pub invalid: u64,
    pub duration_ms: u64,
}

impl Backfill {
    pub fn new(magento: Arc<MagentoClient>) -> Self {
        Self {
            magento,
            page_size: 100,
            overlap: Duration::from_secs(600),
            grace: Duration::from_secs(120),
        }
    }

    pub async fn poll(&self, pool: &PgPool) -> (BackfillFigures, Result<(), BackfillError>) {
        let started = Instant::now();
        let mut figures = BackfillFigures::default();
        let result = self.poll_into(pool, &mut figures).await;
        figures.duration_ms = started.elapsed().as_millis() as u64;
        (figures, result)
    }

    async fn poll_into(
        &self,
        pool: &PgPool,
        figures: &mut BackfillFigures,
    ) -> Result<(), BackfillError> {
        let now = Utc::now();
        let cursor = store::cursor(pool, store::BACKFILL_CURSOR)
            .await?
            .and_then(|c| parse_time(&c));
        figures.cursor = cursor.map(format_time);
        // The first poll watches from now on: orders from before b1bridge went live are not
        // imported behind anyone's back (they may be in SAP already, keyed by hand).
        let since =
            cursor.unwrap_or(now) - chrono::Duration::from_std(self.overlap).expect("small");
        figures.since = format_time(since);
        let ripe_before = now - chrono::Duration::from_std(self.grace).expect("small");

        let orders = self
            .magento
            .orders_updated_since(&figures.since, self.page_size)
            .await?;
        figures.orders_read = orders.len() as u64;
        let ids: Vec<String> = orders.iter().map(|o| o.increment_id.clone()).collect();
        let known = store::known_orders(pool, &ids).await?;

        let mut newest = cursor;
        for order in &orders {
            let Some(updated) = order.updated_at.as_deref().and_then(parse_time) else {
                continue;
            };
            if updated > ripe_before {
                figures.left_for_next_poll += 1;
                continue;
            }
            newest = newest.max(Some(updated));
            let Some(event_type) = missed(order, known.get(&order.increment_id)) else {
                continue;
            };
            self.ingest(pool, order, event_type, figures).await?;
        }
        // `newest` is the newest order acted on; an order left for later is newer than it,
        // so the next window (from `newest` minus the overlap) still holds that order.
        if let Some(next) = newest.filter(|n| Some(*n) != cursor) {
            store::set_cursor(pool, store::BACKFILL_CURSOR, &format_time(next)).await?;
            figures.cursor = Some(format_time(next));
        } else if cursor.is_none() {
            // First poll, nothing to act on: start the watch here.
            store::set_cursor(pool, store::BACKFILL_CURSOR, &format_time(ripe_before)).await?;
            figures.cursor = Some(format_time(ripe_before));
        }
        Ok(())
    }

    /// Takes the order in as the webhook of `event_type` would have brought it.
    async fn ingest(
        &self,
        pool: &PgPool,
        order: &RestOrder,
        event_type: &'static str,
        figures: &mut BackfillFigures,
    ) -> Result<(), BackfillError> {
        let updated = order.updated_at.clone().unwrap_or_default();
        let body = serde_json::to_vec(&json!({
            "type": event_type,
            "timestamp": updated,
            "data": {"order": order.raw},
        }))
        .expect("JSON serialises");
        // One id per order, change and kind: a poll reading the same change again (the
        // overlap) is a duplicate delivery and does nothing.
        let webhook_id = format!(
            "magento-poll:{}:{}:{event_type}",
            order.entity_id,
            updated.replace(' ', "T")
        );
        let delivery = Delivery {
            webhook_id: &webhook_id,
            webhook_timestamp: Utc::now(),
            headers: json!({"source": "b1bridge magento poll"}),
            body: &body,
        };
        let event = match parse_event(&body) {
            Ok(event) => event,
            Err((problem, hint)) => {
                let outcome = intake::record_invalid_event(
                    pool,
                    &delivery,
                    &problem.to_string(),
                    hint.as_deref(),
                )
                .await?;
                if matches!(outcome, IntakeOutcome::Invalid { .. }) {
                    figures.invalid += 1;
                }
                return Ok(());
            }
        };
        let outcome = intake::record_order_event(pool, &delivery, &event).await?;
        let IntakeOutcome::Accepted { event_id } = outcome else {
            return Ok(());
        };
        let cancellation = event.is_cancellation();
        if cancellation {
            figures.cancellations_applied += 1;
        } else {
            figures.orders_ingested += 1;
        }
        let exception = missed_webhook(&order.increment_id, cancellation, &updated, &webhook_id);
        let mut conn = pool.acquire().await?;
        exceptions::record(&mut conn, &exception, Some(event_id)).await?;
        tracing::info!(order = %order.increment_id, event_type, "missed webhook taken in from the Magento poll");
        Ok(())
    }
}

/// What b1bridge missed of an order, as the event type that would have told it: the order
/// itself (never received, or only its cancellation was), or its cancellation.
fn missed(order: &RestOrder, known: Option<&KnownToPoll>) -> Option<&'static str> {
    let canceled = order.state.as_deref() == Some("canceled");
    match known {
        None => Some("order.placed"),
        Some(k) if !k.has_order => Some("order.placed"),
        Some(k) if canceled && !k.cancel_requested => Some("order.cancelled"),
        Some(_) => None,
    }
}

fn missed_webhook(
    increment_id: &str,
    cancellation: bool,
    updated_at: &str,
    webhook_id: &str,
) -> NewException {
    let what = if cancellation {
        "the cancellation of"
    } else {
        "the placement of"
    };
    NewException {
        category: Category::MissedWebhook,
        title: format!(
            "No webhook arrived for {what} order {increment_id}; the Magento poll found it"
        ),
        detail: format!(
            "The Magento order poll found {what} order {increment_id} (changed {updated_at} UTC) \
             without its webhook and took it in as if the webhook had arrived; nothing is lost. \
             If this happens often, check the webhook sender in Magento (its queue and the \
             consumer that sends it, the URL and the secret). Resolve this exception once \
             seen."
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: Vec::new(),
        sap_error: None,
        dedup_key: format!(
            "{}|{increment_id}|{}",
            Category::MissedWebhook.as_str(),
            if cancellation { "cancel" } else { "order" }
        ),
        context: json!({"updated_at": updated_at, "webhook_id": webhook_id}),
    }
}

fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(raw.trim(), MAGENTO_TIME)
        .ok()
        .map(|t| t.and_utc())
}

fn format_time(t: DateTime<Utc>) -> String {
    t.format(MAGENTO_TIME).to_string()
}

impl RunTask for Backfill {
    fn run<'a>(&'a self, _run: &'a Run, ctx: &'a JobContext) -> BoxFuture<'a, RunResult> {
        Box::pin(async move {
            let (figures, result) = self.poll(&ctx.pool).await;
            RunResult {
                figures: serde_json::to_value(&figures).unwrap_or_default(),
                error: result.err().map(|e| e.to_string()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(state: &str) -> RestOrder {
        serde_json::from_value(json!({"entity_id": 1, "increment_id": "1", "state": state}))
            .unwrap()
    }

    #[test]
    fn what_was_missed() {
        let placed = KnownToPoll {
            has_order: true,
            cancel_requested: false,
        };
        let only_cancel = KnownToPoll {
            has_order: false,
            cancel_requested: true,
        };
        let cancelled = KnownToPoll {
            has_order: true,
            cancel_requested: true,
        };
        assert_eq!(missed(&order("new"), None), Some("order.placed"));
        assert_eq!(missed(&order("new"), Some(&placed)), None);
        assert_eq!(
            missed(&order("canceled"), Some(&placed)),
            Some("order.cancelled")
        );
        assert_eq!(missed(&order("canceled"), Some(&cancelled)), None);
        assert_eq!(
            missed(&order("canceled"), Some(&only_cancel)),
            Some("order.placed")
        );
    }

    #[test]
    fn magento_times_round_trip_as_utc() {
        let t = parse_time("2024-01-02 03:04:05").unwrap();
        assert_eq!(format_time(t), "2024-01-02 03:04:05");
        assert_eq!(parse_time("2024-01-02T03:04:05Z"), None);
    }
}
