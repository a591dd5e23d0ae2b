//! Sending prices to Magento in batches of `price_batch_size`. Magento saves the valid rows
//! of a request and answers the refused ones (`{message, parameters}`, no row index): a row
//! whose SKU a refusal names is refused, becomes a `price_rejected` exception with
//! Magento's message, and is remembered as refused; the others are remembered as pushed —
//! right after each call, so a run stopped midway loses nothing it did. A refusal that
//! names no SKU of the request cannot be placed: no row of that request counts as pushed
//! (Magento's price writes are idempotent, so the next run sends them again) and the
//! refusal is raised once.
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use super::ports::{PriceCall, PricePublisher, PushError};
use crate::domain::exception::{Category, NewException};
use crate::domain::prices::Outcome;
use crate::magento::types::{BasePrice, PriceRowError, SpecialPrice, TierPrice, TierPriceType};
use crate::store::prices::{forget, record, PriceKind, Remembered, Window};

/// The customer group tier prices are published for: every customer, as SAP's volume
/// discounts for all Business Partners are.
pub const ALL_GROUPS: &str = "ALL GROUPS";
use crate::store::{exceptions, StoreError};

/// Why a run stopped pushing.
#[derive(Debug, thiserror::Error)]
pub enum PushStopped {
    #[error(transparent)]
    Magento(PushError),
    #[error("cannot record what was pushed: {0}")]
    Store(#[from] StoreError),
}

/// One price to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub sku: String,
    pub store_id: i64,
    pub kind: PriceKind,
    pub price: Decimal,
    /// Special prices: `price_from`, `price_to`.
    pub window: Option<Window>,
    /// Tier prices: from this quantity on (`store_id` is then the website); 0 otherwise.
    pub quantity: Decimal,
    /// What the shop sold at before (for the exception's text).
    pub previous: Option<Decimal>,
}

impl Offer {
    /// The offer as the memory keeps it, with what became of it.
    pub fn remembered(&self, outcome: Outcome) -> Remembered<'_> {
        Remembered {
            sku: &self.sku,
            store_id: self.store_id,
            kind: self.kind,
            offered: self.price,
            window: self.window.as_ref(),
            quantity: self.quantity,
            outcome,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct PushFigures {
    pub magento_requests: u64,
    /// Base and special prices Magento accepted.
    pub pushed: u64,
    pub rejected: u64,
    /// Special prices removed from Magento.
    pub deleted: u64,
    /// Tier prices Magento accepted, and tier prices removed.
    pub tiers: u64,
    pub tiers_deleted: u64,
    /// Product statuses set (sellability).
    pub statuses: u64,
}

/// The order queues are flushed in: a special price removed after the ones offered.
const KINDS: [PriceKind; 6] = [
    PriceKind::Base,
    PriceKind::Special,
    PriceKind::SpecialDelete,
    PriceKind::Tier,
    PriceKind::TierDelete,
    PriceKind::Status,
];

pub struct Pusher<'a> {
    pub publisher: &'a dyn PricePublisher,
    pub pool: &'a PgPool,
    pub run: Uuid,
    pub batch_size: usize,
    /// One queue per kind, in the order of [`KINDS`].
    pub queues: [Vec<Offer>; 6],
    pub figures: PushFigures,
}

fn slot(kind: PriceKind) -> usize {
    KINDS.iter().position(|k| *k == kind).unwrap_or_default()
}

impl Pusher<'_> {
    pub async fn add(&mut self, offer: Offer) -> Result<(), PushStopped> {
        let kind = offer.kind;
        let queue = &mut self.queues[slot(kind)];
        queue.push(offer);
        if queue.len() >= self.batch_size {
            self.flush_kind(kind).await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self) -> Result<(), PushStopped> {
        for kind in KINDS {
            self.flush_kind(kind).await?;
        }
        Ok(())
    }

    async fn flush_kind(&mut self, kind: PriceKind) -> Result<(), PushStopped> {
        let batch = std::mem::take(&mut self.queues[slot(kind)]);
        if batch.is_empty() {
            return Ok(());
        }
        // A request refused as a whole (4xx) is split in halves until the culprit is alone.
        let mut todo: Vec<&[Offer]> = vec![&batch];
        while let Some(part) = todo.pop() {
            // A status is one request per product.
            self.figures.magento_requests += if kind == PriceKind::Status {
                part.len() as u64
            } else {
                1
            };
            match self.send(kind, part).await {
                Ok(errors) => self.settle(part, &errors).await?,
                Err(PushError::Rejected(message)) if part.len() == 1 => {
                    let error = PriceRowError {
                        message,
                        parameters: vec![],
                    };
                    self.refuse(&part[..1], &[(&part[0], &error)]).await?;
                }
                Err(PushError::Rejected(_)) => {
                    let (a, b) = part.split_at(part.len() / 2);
                    todo.push(b);
                    todo.push(a);
                }
                Err(e @ PushError::Unavailable(_)) => return Err(PushStopped::Magento(e)),
            }
        }
        Ok(())
    }

    async fn send(&self, kind: PriceKind, part: &[Offer]) -> Result<Vec<PriceRowError>, PushError> {
        let special = || -> Vec<SpecialPrice> {
            part.iter()
                .map(|o| {
                    let (from, to) = o.window.clone().unwrap_or_default();
                    SpecialPrice {
                        sku: o.sku.clone(),
                        price: o.price,
                        store_id: o.store_id,
                        price_from: from,
                        price_to: to,
                    }
                })
                .collect()
        };
        match kind {
            PriceKind::Base => {
                let rows: Vec<BasePrice> = part
                    .iter()
                    .map(|o| BasePrice {
                        sku: o.sku.clone(),
                        price: o.price,
                        store_id: o.store_id,
                    })
                    .collect();
                self.publisher.publish(PriceCall::Base(&rows)).await
            }
            PriceKind::Special => self.publisher.publish(PriceCall::Special(&special())).await,
            PriceKind::Tier | PriceKind::TierDelete => {
                let rows: Vec<TierPrice> = part
                    .iter()
                    .map(|o| TierPrice {
                        sku: o.sku.clone(),
                        price: o.price,
                        price_type: TierPriceType::Fixed,
                        website_id: o.store_id,
                        customer_group: ALL_GROUPS.into(),
                        quantity: o.quantity,
                    })
                    .collect();
                let call = if kind == PriceKind::Tier {
                    PriceCall::Tier(&rows)
                } else {
                    PriceCall::DeleteTier(&rows)
                };
                self.publisher.publish(call).await
            }
            PriceKind::SpecialDelete => {
                self.publisher
                    .publish(PriceCall::DeleteSpecial(&special()))
                    .await
            }
            PriceKind::Status => {
                // One product per request: a refusal names its SKU like a price row's.
                let mut errors = Vec::new();
                for o in part {
                    let call = PriceCall::Status {
                        sku: &o.sku,
                        status: o.price.to_i64().unwrap_or(2),
                    };
                    match self.publisher.publish(call).await {
                        Ok(rows) => errors.extend(rows),
                        Err(PushError::Rejected(message)) => errors.push(PriceRowError {
                            message,
                            parameters: vec![serde_json::json!(o.sku)],
                        }),
                        Err(e) => return Err(e),
                    }
                }
                Ok(errors)
            }
        }
    }

    /// Places Magento's per-row errors on the rows they name and remembers the outcome.
    async fn settle(&mut self, part: &[Offer], errors: &[PriceRowError]) -> Result<(), StoreError> {
        if errors.is_empty() {
            return self.remember(part, Outcome::Pushed).await;
        }
        let mut refused: Vec<(&Offer, &PriceRowError)> = Vec::new();
        let mut unplaced: Vec<&PriceRowError> = Vec::new();
        for error in errors {
            let named: Vec<&Offer> = part.iter().filter(|o| error.names_sku(&o.sku)).collect();
            if named.is_empty() {
                unplaced.push(error);
            }
            refused.extend(named.into_iter().map(|o| (o, error)));
        }
        if !unplaced.is_empty() {
            self.raise_unplaced(part, &unplaced).await?;
            // Still remember the rows that were refused by name: their exception is raised.
            let refused_rows: Vec<Offer> = refused.iter().map(|(o, _)| (*o).clone()).collect();
            return self.refuse(&refused_rows, &refused).await;
        }
        let accepted: Vec<Offer> = part
            .iter()
            .filter(|o| !refused.iter().any(|(r, _)| r.sku == o.sku))
            .cloned()
            .collect();
        self.remember(&accepted, Outcome::Pushed).await?;
        let refused_rows: Vec<Offer> = {
            let mut rows: Vec<Offer> = refused.iter().map(|(o, _)| (*o).clone()).collect();
            rows.dedup();
            rows
        };
        self.refuse(&refused_rows, &refused).await
    }

    async fn remember(&mut self, rows: &[Offer], outcome: Outcome) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let entries: Vec<Remembered<'_>> = rows.iter().map(|o| o.remembered(outcome)).collect();
        let mut conn = self.pool.acquire().await?;
        let kind = rows[0].kind;
        let removal = matches!(kind, PriceKind::SpecialDelete | PriceKind::TierDelete);
        if removal && outcome == Outcome::Pushed {
            forget(&mut conn, &entries).await?;
        } else {
            record(&mut conn, self.run, &entries).await?;
        }
        if outcome == Outcome::Pushed {
            let n = rows.len() as u64;
            match kind {
                PriceKind::SpecialDelete => self.figures.deleted += n,
                PriceKind::Tier => self.figures.tiers += n,
                PriceKind::TierDelete => self.figures.tiers_deleted += n,
                PriceKind::Status => self.figures.statuses += n,
                PriceKind::Base | PriceKind::Special => self.figures.pushed += n,
            }
        }
        Ok(())
    }

    /// Remembers refused rows and raises one exception per SKU with Magento's message(s).
    async fn refuse(
        &mut self,
        rows: &[Offer],
        errors: &[(&Offer, &PriceRowError)],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let entries: Vec<Remembered<'_>> = rows
            .iter()
            .map(|o| o.remembered(Outcome::Rejected))
            .collect();
        record(&mut tx, self.run, &entries).await?;
        for offer in rows {
            let messages: Vec<String> = errors
                .iter()
                .filter(|(o, _)| o.sku == offer.sku)
                .map(|(_, e)| e.render())
                .collect();
            let message = messages.join("; ");
            tracing::warn!(sku = %offer.sku, store = offer.store_id, %message, "Magento refused a price");
            exceptions::record(&mut tx, &refused_exception(offer, &message, self.run), None)
                .await?;
        }
        tx.commit().await?;
        self.figures.rejected += rows.len() as u64;
        Ok(())
    }

    async fn raise_unplaced(
        &mut self,
        part: &[Offer],
        errors: &[&PriceRowError],
    ) -> Result<(), StoreError> {
        let message = errors
            .iter()
            .map(|e| e.render())
            .collect::<Vec<_>>()
            .join("; ");
        tracing::warn!(rows = part.len(), %message, "Magento refused price rows it did not name");
        let new = NewException {
            category: Category::PriceRejected,
            title: "Magento refused price rows without naming their SKU".into(),
            detail: format!(
                "The price sync sent {} prices in one request and Magento refused some without \
                 naming which: {message}. None of them is recorded as published, so the next \
                 run sends them again.",
                part.len()
            ),
            order_increment_id: None,
            skus: part.iter().take(20).map(|o| o.sku.clone()).collect(),
            sap_error: None,
            dedup_key: format!("price_rejected:unplaced:{message}"),
            context: serde_json::json!({"magento_message": message, "run": self.run, "rows": part.len()}),
        };
        let mut conn = self.pool.acquire().await?;
        exceptions::record(&mut conn, &new, None).await?;
        Ok(())
    }
}

fn kind_label(kind: PriceKind) -> &'static str {
    match kind {
        PriceKind::Base => "price",
        PriceKind::Special => "special price",
        PriceKind::SpecialDelete => "removal of the special price",
        PriceKind::Tier => "tier price",
        PriceKind::TierDelete => "removal of the tier price",
        PriceKind::Status => "status (1 enabled, 2 disabled)",
    }
}

/// The exception for a SKU whose price Magento refused: one per SKU however often it recurs.
fn refused_exception(offer: &Offer, message: &str, run: Uuid) -> NewException {
    let sku = &offer.sku;
    let what = kind_label(offer.kind);
    NewException {
        category: Category::PriceRejected,
        title: format!("Magento refused the {what} of SKU '{sku}'"),
        detail: format!(
            "The price sync sent {what} {} for SKU '{sku}' (store {}) and Magento refused it: \
             {message}. The shop keeps its old {what}. Usually the SKU does not exist in \
             Magento or cannot carry this price (a configurable or dynamic bundle): create it, \
             or map the Magento SKU to its SAP item under /api/v1/mappings/skus. The sync \
             offers it again when the price changes and on the next full pass.",
            offer.price.normalize(),
            offer.store_id
        ),
        order_increment_id: None,
        skus: vec![sku.clone()],
        sap_error: None,
        dedup_key: NewException::dedup_key_for(
            Category::PriceRejected,
            None,
            std::slice::from_ref(sku),
        ),
        context: serde_json::json!({
            "sku": sku,
            "store_id": offer.store_id,
            "kind": offer.kind.as_str(),
            "price": offer.price,
            "previous": offer.previous,
            "window": offer.window,
            "magento_message": message,
            "run": run,
        }),
    }
}

/// The exception for a price the guard rail held.
pub fn held_exception(offer: &Offer, why: &str, run: Uuid) -> NewException {
    let sku = &offer.sku;
    let what = kind_label(offer.kind);
    let previous = offer
        .previous
        .map(|p| p.normalize().to_string())
        .unwrap_or_else(|| "none".into());
    NewException {
        category: Category::PriceRejected,
        title: format!("The {what} of SKU '{sku}' was held: {why}"),
        detail: format!(
            "SAP gives {what} {} for SKU '{sku}' (store {}); the shop sells at {previous}. \
             {why}, so it was not published: a wrong factor or a typo in SAP must not reach \
             the shop. If the change is wrong, correct it in SAP. If it is intended, publish \
             it with `b1bridge prices sync --release-held` (or raise \
             price_max_change_percent).",
            offer.price.normalize(),
            offer.store_id
        ),
        order_increment_id: None,
        skus: vec![sku.clone()],
        sap_error: None,
        // Held and refused are different problems of the same SKU: one exception each.
        dedup_key: format!("price_held:{sku}"),
        context: serde_json::json!({
            "sku": sku,
            "store_id": offer.store_id,
            "kind": offer.kind.as_str(),
            "price": offer.price,
            "previous": offer.previous,
            "held": why,
            "run": run,
        }),
    }
}
