//! The status run (docs/status-sync.md): what happened to b1bridge's orders in SAP B1 goes
//! back to Magento. A run is a list of [`StatusStep`]s, each with its own cursor and figures:
//!
//! - **comments**: every posted order gets one Magento comment naming its SAP `DocNum`, sent
//!   with the order's current status (Magento nulls the status otherwise);
//! - **deliveries**: SAP `DeliveryNotes` after the cursor (`DocEntry`, paged), whose lines
//!   copy one of b1bridge's Sales Orders (`BaseType` 17, `BaseEntry`), become
//!   `POST /V1/order/{id}/ship` with the delivered items, quantities and tracking.
//!
//! Another step (A/R invoices, say) is added with [`StatusSync::with_step`]. Every SAP request
//! goes through the process's SAP client and its concurrency limit.
//!
//! Each shipment and comment is claimed in Postgres before Magento is called, so it is sent
//! once across processes and restarts; a claim left by a run that died is settled by reading
//! the order back from Magento (its shipped quantities, its comments), never by sending again
//! blindly.
use chrono::Utc;
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::handler::JobContext;
use super::run_job::{RunResult, RunTask};
use crate::domain::exception::NewException;
use crate::domain::shipment::{self, DeliveredLine};
use crate::magento::types::{OrderComment, RestOrder, ShipItem, ShipRequest, ShipTrack};
use crate::magento::{MagentoClient, MagentoError};
use crate::sap::types::DeliveryNote;
use crate::sap::{Filter, SapClient, SapError};
use crate::store::runs::Run;
use crate::store::status_sync::{self as store, ShipmentClaim, ShipmentState};
use crate::store::{exceptions, StoreError};

/// Why a step stopped before its work was done. The cursor stays before what is left.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("SAP B1: {0}")]
    Sap(#[from] SapError),
    #[error("{0}")]
    Magento(#[from] MagentoError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Busy(String),
}

impl From<sqlx::Error> for StatusError {
    fn from(e: sqlx::Error) -> Self {
        StatusError::Store(e.into())
    }
}

/// One part of the status run.
pub trait StatusStep: Send + Sync + 'static {
    /// The key of its figures in the run's figures.
    fn name(&self) -> &'static str;
    /// Does the step's work; answers its figures, and why it stopped if it did.
    fn run<'a>(&'a self, pool: &'a PgPool) -> BoxFuture<'a, (serde_json::Value, Option<String>)>;
}

/// How long a claim is honoured before another run settles it: far longer than one Magento
/// call with its retries, so a live run is never second-guessed.
const STALE_CLAIM: Duration = Duration::from_secs(600);
/// Comments per run at most (a first run on a database full of posted orders catches up
/// over several runs instead of holding Magento for one long one).
const COMMENTS_PER_RUN: i64 = 200;

/// The status run with its steps.
#[derive(Clone)]
pub struct StatusSync {
    steps: Vec<Arc<dyn StatusStep>>,
}

impl StatusSync {
    /// The comments and deliveries steps.
    pub fn new(sap: SapClient, magento: Arc<MagentoClient>) -> Self {
        Self::with_stale_claims_after(sap, magento, STALE_CLAIM)
    }

    /// The same, settling claims older than `stale` (tests shorten it).
    pub fn with_stale_claims_after(
        sap: SapClient,
        magento: Arc<MagentoClient>,
        stale: Duration,
    ) -> Self {
        Self {
            steps: vec![
                Arc::new(Comments {
                    magento: magento.clone(),
                    stale,
                }),
                Arc::new(Deliveries {
                    sap,
                    magento,
                    stale,
                }),
            ],
        }
    }

    pub fn with_step(mut self, step: Arc<dyn StatusStep>) -> Self {
        self.steps.push(step);
        self
    }

    /// Runs every step (one failing does not stop the others): the figures by step, and
    /// the reasons of the steps that stopped.
    pub async fn sync(&self, pool: &PgPool) -> (serde_json::Value, Option<String>) {
        let started = Instant::now();
        let mut figures = serde_json::Map::new();
        let mut errors = Vec::new();
        for step in &self.steps {
            let (f, error) = step.run(pool).await;
            figures.insert(step.name().to_owned(), f);
            if let Some(e) = error {
                errors.push(format!("{}: {e}", step.name()));
            }
        }
        figures.insert(
            "duration_ms".into(),
            (started.elapsed().as_millis() as u64).into(),
        );
        let error = (!errors.is_empty()).then(|| errors.join("; "));
        (serde_json::Value::Object(figures), error)
    }
}

impl RunTask for StatusSync {
    fn run<'a>(&'a self, _run: &'a Run, ctx: &'a JobContext) -> BoxFuture<'a, RunResult> {
        Box::pin(async move {
            let (figures, error) = self.sync(&ctx.pool).await;
            RunResult { figures, error }
        })
    }
}

/// Magento refused what was sent (as opposed to being unreachable): recorded, not retried.
fn is_refusal(e: &MagentoError) -> bool {
    matches!(
        e,
        MagentoError::Rejected { .. } | MagentoError::NotFound { .. }
    )
}

async fn file(pool: &PgPool, exception: &NewException) -> Result<(), StatusError> {
    let mut conn = pool.acquire().await?;
    exceptions::record(&mut conn, exception, None).await?;
    Ok(())
}

fn stale_before(stale: Duration) -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::from_std(stale).unwrap_or(chrono::Duration::MAX)
}

// ---- comments --------------------------------------------------------------------------------

struct Comments {
    magento: Arc<MagentoClient>,
    stale: Duration,
}

#[derive(Debug, Default, Serialize)]
struct CommentFigures {
    sent: u64,
    /// Found on the order already (a run that died after sending it).
    already_there: u64,
    rejected: u64,
    /// Sent, but the answer was lost; settled by the next run that reads the order.
    unsettled: u64,
}

impl StatusStep for Comments {
    fn name(&self) -> &'static str {
        "comments"
    }

    fn run<'a>(&'a self, pool: &'a PgPool) -> BoxFuture<'a, (serde_json::Value, Option<String>)> {
        Box::pin(async move {
            let mut figures = CommentFigures::default();
            let result = self.comment_all(pool, &mut figures).await;
            (
                serde_json::to_value(&figures).unwrap_or_default(),
                result.err().map(|e| e.to_string()),
            )
        })
    }
}

fn has_comment(order: &RestOrder, text: &str) -> bool {
    order
        .raw
        .get("status_histories")
        .and_then(|h| h.as_array())
        .is_some_and(|h| {
            h.iter()
                .any(|c| c.get("comment").and_then(|c| c.as_str()) == Some(text))
        })
}

impl Comments {
    async fn comment_all(
        &self,
        pool: &PgPool,
        figures: &mut CommentFigures,
    ) -> Result<(), StatusError> {
        let stale = stale_before(self.stale);
        for order in store::orders_awaiting_comment(pool, stale, COMMENTS_PER_RUN).await? {
            let Some(entity_id) = order.magento_entity_id else {
                continue;
            };
            let id = order.increment_id.as_str();
            if !store::claim_comment(pool, id, order.doc_num, stale).await? {
                continue;
            }
            let text = shipment::posted_comment(order.doc_num);
            // The current status is sent with the comment (Magento sets the status to
            // whatever the comment carries), and the read also shows a comment already there.
            let current = match self.magento.order(entity_id).await {
                Ok(current) => current,
                Err(e) if is_refusal(&e) => {
                    self.refused(pool, id, order.doc_num, &e.to_string(), figures)
                        .await?;
                    continue;
                }
                Err(e) => {
                    store::release_comment(pool, id).await?;
                    return Err(e.into());
                }
            };
            if has_comment(&current, &text) {
                store::finish_comment(pool, id, None).await?;
                figures.already_there += 1;
                continue;
            }
            let Some(status) = current.status.clone() else {
                // Any status sent would be invented; Magento's admin must set one first.
                let why = "the order has no status in Magento, and a comment must carry the \
                           current one (Magento would overwrite the status with it)";
                self.refused(pool, id, order.doc_num, why, figures).await?;
                continue;
            };
            let comment = OrderComment {
                comment: text,
                status,
                is_customer_notified: false,
                is_visible_on_front: false,
            };
            match self.magento.add_order_comment(entity_id, &comment).await {
                Ok(_) => {
                    store::finish_comment(pool, id, None).await?;
                    figures.sent += 1;
                }
                Err(MagentoError::Ambiguous { .. }) => figures.unsettled += 1,
                Err(e) if is_refusal(&e) => {
                    self.refused(pool, id, order.doc_num, &e.to_string(), figures)
                        .await?;
                }
                Err(e) => {
                    store::release_comment(pool, id).await?;
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    async fn refused(
        &self,
        pool: &PgPool,
        increment_id: &str,
        doc_num: i64,
        why: &str,
        figures: &mut CommentFigures,
    ) -> Result<(), StatusError> {
        store::finish_comment(pool, increment_id, Some(why)).await?;
        file(
            pool,
            &shipment::comment_rejected(increment_id, doc_num, why),
        )
        .await?;
        figures.rejected += 1;
        Ok(())
    }
}

// ---- deliveries ------------------------------------------------------------------------------

struct Deliveries {
    sap: SapClient,
    magento: Arc<MagentoClient>,
    stale: Duration,
}

#[derive(Debug, Default, Serialize)]
struct DeliveryFigures {
    /// The `DocEntry` after which this run read.
    cursor_from: i64,
    /// The last `DocEntry` it finished.
    cursor_to: i64,
    deliveries_read: u64,
    /// Deliveries (per order) of b1bridge's orders.
    deliveries_ours: u64,
    shipments_sent: u64,
    /// Found shipped in Magento already (a run that died after sending).
    shipments_settled: u64,
    shipments_rejected: u64,
    sap_requests: u64,
}

impl StatusStep for Deliveries {
    fn name(&self) -> &'static str {
        "deliveries"
    }

    fn run<'a>(&'a self, pool: &'a PgPool) -> BoxFuture<'a, (serde_json::Value, Option<String>)> {
        Box::pin(async move {
            let mut figures = DeliveryFigures::default();
            let result = self.ship_all(pool, &mut figures).await;
            (
                serde_json::to_value(&figures).unwrap_or_default(),
                result.err().map(|e| e.to_string()),
            )
        })
    }
}

impl Deliveries {
    async fn ship_all(
        &self,
        pool: &PgPool,
        figures: &mut DeliveryFigures,
    ) -> Result<(), StatusError> {
        let from: i64 = store::cursor(pool, store::DELIVERY_CURSOR)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        figures.cursor_from = from;
        figures.cursor_to = from;
        // Read once per run, as the other runs read theirs: a change applies to the next run.
        let notify = crate::store::settings::current(pool)
            .await?
            .settings
            .notify_customer_on_shipment;
        // SAP cannot filter on document lines (reference: lambdas are refused), so read every
        // delivery after the cursor and match lines here. DocEntry only grows, so a delivery
        // added later always lands after the cursor.
        let filter = Filter::greater_than("DocEntry", from);
        figures.sap_requests += 1;
        let mut page = self.sap.list_delivery_notes(Some(&filter)).await?;
        loop {
            for delivery in &page.items {
                figures.deliveries_read += 1;
                if !delivery.cancelled {
                    self.ship_delivery(pool, delivery, notify, figures).await?;
                }
                store::set_cursor(
                    pool,
                    store::DELIVERY_CURSOR,
                    &delivery.doc_entry.0.to_string(),
                )
                .await?;
                figures.cursor_to = delivery.doc_entry.0;
            }
            let Some(next) = page.next else { break };
            figures.sap_requests += 1;
            page = self.sap.next_page(&next).await?;
        }
        Ok(())
    }

    /// Ships, for each of b1bridge's orders the delivery copies, what it delivered.
    async fn ship_delivery(
        &self,
        pool: &PgPool,
        delivery: &DeliveryNote,
        notify: bool,
        figures: &mut DeliveryFigures,
    ) -> Result<(), StatusError> {
        let mut by_order: BTreeMap<i64, Vec<DeliveredLine>> = BTreeMap::new();
        for line in &delivery.lines {
            if let Some((entry, base_line)) = line.base_order_line() {
                by_order.entry(entry.0).or_default().push(DeliveredLine {
                    base_line,
                    quantity: line.quantity,
                });
            }
        }
        if by_order.is_empty() {
            return Ok(());
        }
        let entries: Vec<i64> = by_order.keys().copied().collect();
        let ours = store::posted_by_doc_entry(pool, &entries).await?;
        for (entry, lines) in by_order {
            let Some(posted) = ours.get(&entry) else {
                continue;
            };
            figures.deliveries_ours += 1;
            let id = posted.increment_id.as_str();
            let (Some(order), Some(magento_order_id)) = (&posted.order, posted.magento_entity_id)
            else {
                tracing::warn!(
                    order = id,
                    "posted order without its Magento id; not shipped"
                );
                continue;
            };
            let items = match shipment::plan(order, &lines) {
                Ok(items) if items.is_empty() => continue,
                Ok(items) => items,
                Err(problem) => {
                    let e = shipment::shipment_unplannable(id, delivery.doc_num, &problem);
                    file(pool, &e).await?;
                    figures.shipments_rejected += 1;
                    continue;
                }
            };
            let claim = ShipmentClaim {
                delivery_doc_entry: delivery.doc_entry.0,
                delivery_doc_num: delivery.doc_num,
                increment_id: id.to_owned(),
                magento_order_id,
                items,
                tracking_number: delivery.tracking_number.clone(),
            };
            match store::claim_shipment(pool, &claim, stale_before(self.stale)).await? {
                ShipmentState::Done => continue,
                ShipmentState::Busy => {
                    return Err(StatusError::Busy(format!(
                        "another run is shipping SAP delivery {} of order {id}",
                        delivery.doc_num
                    )))
                }
                ShipmentState::Unsettled => {
                    if self.settled(pool, &claim).await? {
                        store::finish_shipment(pool, claim.delivery_doc_entry, id, Ok(None))
                            .await?;
                        figures.shipments_settled += 1;
                        continue;
                    }
                }
                ShipmentState::Claimed => {}
            }
            self.send(pool, order, &claim, notify, figures).await?;
        }
        Ok(())
    }

    async fn send(
        &self,
        pool: &PgPool,
        order: &crate::domain::order::Order,
        claim: &ShipmentClaim,
        notify: bool,
        figures: &mut DeliveryFigures,
    ) -> Result<(), StatusError> {
        let id = claim.increment_id.as_str();
        let request = ShipRequest {
            items: claim
                .items
                .iter()
                .map(|i| ShipItem {
                    order_item_id: i.order_item_id,
                    qty: i.qty,
                })
                .collect(),
            tracks: shipment::tracking(order, claim.tracking_number.as_deref())
                .map(|t| ShipTrack {
                    track_number: t.number,
                    title: t.title,
                    carrier_code: t.carrier_code,
                })
                .into_iter()
                .collect(),
            // The setting `notify_customer_on_shipment` (default off: the shop's own shipping
            // e-mails, if it sends any, stay the only ones).
            notify,
            comment: None,
            source_code: None,
        };
        match self.magento.ship(claim.magento_order_id, &request).await {
            Ok(shipment_id) => {
                store::finish_shipment(pool, claim.delivery_doc_entry, id, Ok(Some(shipment_id)))
                    .await?;
                figures.shipments_sent += 1;
                Ok(())
            }
            Err(MagentoError::Ambiguous { reason, .. }) => {
                // Magento may have shipped: read back before anything else.
                if self.settled(pool, claim).await? {
                    store::finish_shipment(pool, claim.delivery_doc_entry, id, Ok(None)).await?;
                    figures.shipments_sent += 1;
                    return Ok(());
                }
                // Not shipped as far as Magento shows; the claim stays until it is stale, so
                // the next run after that settles it again. Stop here: the cursor stays.
                Err(StatusError::Busy(format!(
                    "the shipment of SAP delivery {} for order {id} may not have reached \
                     Magento ({reason}); it is checked again later",
                    claim.delivery_doc_num
                )))
            }
            Err(e) if is_refusal(&e) => {
                let message = e.to_string();
                store::finish_shipment(pool, claim.delivery_doc_entry, id, Err(&message)).await?;
                let exception = shipment::shipment_rejected(
                    id,
                    claim.delivery_doc_num,
                    claim.tracking_number.as_deref(),
                    &claim.items,
                    &message,
                );
                file(pool, &exception).await?;
                figures.shipments_rejected += 1;
                Ok(())
            }
            Err(e) => {
                store::release_shipment(pool, claim.delivery_doc_entry, id).await?;
                Err(e.into())
            }
        }
    }

    /// Whether Magento shows the claimed shipment applied already: its shipped quantities
    /// cover what b1bridge sent for the order before plus this delivery.
    async fn settled(&self, pool: &PgPool, claim: &ShipmentClaim) -> Result<bool, StatusError> {
        let order = self.magento.order(claim.magento_order_id).await?;
        let shipped = shipped_quantities(&order);
        let before =
            store::sent_for_order(pool, &claim.increment_id, claim.delivery_doc_entry).await?;
        Ok(shipment::already_shipped(&claim.items, &shipped, &before))
    }
}

/// `qty_shipped` per order item, as Magento reports it.
fn shipped_quantities(order: &RestOrder) -> BTreeMap<i64, Decimal> {
    let mut shipped = BTreeMap::new();
    for item in order
        .raw
        .get("items")
        .and_then(|i| i.as_array())
        .into_iter()
        .flatten()
    {
        let id = item
            .get("item_id")
            .and_then(|v| crate::magento::lenient::id_from_value(v).ok());
        let qty = item
            .get("qty_shipped")
            .and_then(|v| match v {
                serde_json::Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
                serde_json::Value::String(s) => s.trim().parse::<Decimal>().ok(),
                _ => None,
            })
            .unwrap_or_default();
        if let Some(id) = id {
            shipped.insert(id, qty);
        }
    }
    shipped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::shipment::ShipmentItem;

    #[test]
    fn shipped_quantities_read_numbers_and_strings() {
        let order: RestOrder = serde_json::from_value(serde_json::json!({
            "entity_id": 1, "increment_id": "1",
            "items": [{"item_id": 16, "qty_shipped": 1}, {"item_id": "18", "qty_shipped": "2.0000"}]
        }))
        .unwrap();
        let s = shipped_quantities(&order);
        assert_eq!(s[&16], Decimal::ONE);
        assert_eq!(s[&18], Decimal::TWO);
    }

    #[test]
    fn a_comment_already_on_the_order_is_found() {
        let order: RestOrder = serde_json::from_value(serde_json::json!({
            "entity_id": 1, "increment_id": "1",
            "status_histories": [{"comment": shipment::posted_comment(7)}]
        }))
        .unwrap();
        assert!(has_comment(&order, &shipment::posted_comment(7)));
        assert!(!has_comment(&order, &shipment::posted_comment(8)));
    }

    #[test]
    fn shipment_items_serialise_with_string_quantities() {
        let i = ShipmentItem {
            order_item_id: 3,
            qty: Decimal::ONE,
        };
        assert_eq!(
            serde_json::to_value(&i).unwrap(),
            serde_json::json!({"order_item_id": 3, "qty": "1"})
        );
    }
}
