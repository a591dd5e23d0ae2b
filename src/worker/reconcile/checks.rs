//! The reconciliation's checks, run in this order. Each is a small [`Check`]: the order-based
//! ones ask their pure rule in `domain::reconcile` about the snapshot; the stock check reads
//! what it compares first. Adding a check is one module here and one line in [`all`].
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use std::collections::BTreeSet;

use super::{Ports, ReconcileError, ReconcileFigures, Snapshot};
use crate::domain::ids::ItemCode;
use crate::domain::reconcile::refunds::RefundFacts;
use crate::domain::reconcile::stock::{expected_salable, SkuFacts};
use crate::domain::reconcile::{self, CheckOutcome};
use crate::domain::stock::{StockMode, StockRoutes, WarehouseQty};
use crate::magento::MagentoError;
use crate::sap::{ReferenceSearch, REFERENCES_PER_READ};
use crate::store::{reconcile as store, stock as stock_store};

/// One comparison of the two systems.
pub trait Check: Send + Sync {
    /// Its name in the run's figures and in its findings' keys.
    fn name(&self) -> &'static str;
    /// Looks at its subjects; may note what it did in `figures`.
    fn run<'a>(
        &'a self,
        snapshot: &'a Snapshot,
        ports: &'a Ports<'a>,
        figures: &'a mut ReconcileFigures,
    ) -> BoxFuture<'a, Result<CheckOutcome, ReconcileError>>;
}

/// Every check, in the order they run.
pub fn all() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(Orders),
        Box::new(Totals),
        Box::new(Cancellations),
        Box::new(Payments),
        Box::new(Refunds),
        Box::new(Stock),
    ]
}

pub struct Orders;
impl Check for Orders {
    fn name(&self) -> &'static str {
        reconcile::orders::CHECK
    }
    fn run<'a>(
        &'a self,
        s: &'a Snapshot,
        _: &'a Ports<'a>,
        _: &'a mut ReconcileFigures,
    ) -> BoxFuture<'a, Result<CheckOutcome, ReconcileError>> {
        Box::pin(async move { Ok(reconcile::orders::check(&s.orders)) })
    }
}

pub struct Totals;
impl Check for Totals {
    fn name(&self) -> &'static str {
        reconcile::totals::CHECK
    }
    fn run<'a>(
        &'a self,
        s: &'a Snapshot,
        _: &'a Ports<'a>,
        _: &'a mut ReconcileFigures,
    ) -> BoxFuture<'a, Result<CheckOutcome, ReconcileError>> {
        Box::pin(async move {
            Ok(reconcile::totals::check(
                &s.orders,
                s.settings.total_tolerance,
            ))
        })
    }
}

pub struct Cancellations;
impl Check for Cancellations {
    fn name(&self) -> &'static str {
        reconcile::cancellations::CHECK
    }
    fn run<'a>(
        &'a self,
        s: &'a Snapshot,
        _: &'a Ports<'a>,
        _: &'a mut ReconcileFigures,
    ) -> BoxFuture<'a, Result<CheckOutcome, ReconcileError>> {
        Box::pin(async move { Ok(reconcile::cancellations::check(&s.orders)) })
    }
}

pub struct Payments;
impl Check for Payments {
    fn name(&self) -> &'static str {
        reconcile::payments::CHECK
    }
    fn run<'a>(
        &'a self,
        s: &'a Snapshot,
        _: &'a Ports<'a>,
        _: &'a mut ReconcileFigures,
    ) -> BoxFuture<'a, Result<CheckOutcome, ReconcileError>> {
        Box::pin(async move {
            Ok(reconcile::payments::check(
                &s.orders,
                s.now,
                s.settings.payment_link_days,
            ))
        })
    }
}

/// Refunds still without an SAP A/R credit memo `refunds.reconcile_after_days` after the
/// credit memo was made. SAP is asked by reference (batched) for the due ones b1bridge has
/// not recorded, so a credit memo keyed by a person counts too.
pub struct Refunds;
impl Check for Refunds {
    fn name(&self) -> &'static str {
        reconcile::refunds::CHECK
    }
    fn run<'a>(
        &'a self,
        s: &'a Snapshot,
        p: &'a Ports<'a>,
        figures: &'a mut ReconcileFigures,
    ) -> BoxFuture<'a, Result<CheckOutcome, ReconcileError>> {
        Box::pin(refunds(s, p, figures))
    }
}

async fn refunds(
    s: &Snapshot,
    p: &Ports<'_>,
    figures: &mut ReconcileFigures,
) -> Result<CheckOutcome, ReconcileError> {
    let days = s.settings.refunds.reconcile_after_days;
    let due = s.now - chrono::Duration::days(i64::from(days));
    let rows = store::refunds_to_check(p.pool).await?;
    let mut facts: Vec<RefundFacts> = Vec::with_capacity(rows.len());
    let mut asked: Vec<(usize, String)> = Vec::new();
    for row in rows {
        let created_at = row.refund.created_at.unwrap_or(row.received_at);
        if row.sap_document.is_none() && created_at <= due {
            match s
                .settings
                .num_at_card_format
                .render_parts(&row.refund.credit_memo_id, row.refund.store_id)
            {
                Ok(reference) => asked.push((facts.len(), reference)),
                Err(e) => figures.warnings.push(format!(
                    "credit memo {} not looked up in SAP B1: {e}",
                    row.refund.credit_memo_id
                )),
            }
        }
        facts.push(RefundFacts {
            credit_memo_id: row.refund.credit_memo_id.clone(),
            magento_entity_id: row.refund.magento_entity_id,
            order_increment_id: row.order_increment_id,
            status: row.status,
            created_at,
            currency: row.refund.currency.map(|c| c.as_str().to_owned()),
            grand_total: row.refund.grand_total,
            sap_credit_note: row.sap_document,
        });
    }
    for chunk in asked.chunks(REFERENCES_PER_READ) {
        let references: Vec<String> = chunk.iter().map(|(_, r)| r.clone()).collect();
        let found = p
            .sap
            .find_by_references(ReferenceSearch::CreditNotes, &references, None)
            .await?;
        for (index, reference) in chunk {
            if let Some(d) = found
                .iter()
                .find(|d| d.num_at_card.as_deref() == Some(reference.as_str()))
            {
                facts[*index].sap_credit_note = Some((d.doc_entry.0, d.doc_num));
            }
        }
    }
    Ok(reconcile::refunds::check(&facts, s.now, days))
}

/// Magento's salable quantity against SAP's stock, for the next SKUs of a rotating sample
/// (`reconcile_stock_sample` per run, over the SKUs the stock sync keeps in Magento) and every
/// SKU of an order or cancellation received since the previous successful run started.
pub struct Stock;
impl Check for Stock {
    fn name(&self) -> &'static str {
        reconcile::stock::CHECK
    }
    fn run<'a>(
        &'a self,
        s: &'a Snapshot,
        p: &'a Ports<'a>,
        figures: &'a mut ReconcileFigures,
    ) -> BoxFuture<'a, Result<CheckOutcome, ReconcileError>> {
        Box::pin(stock(s, p, figures))
    }
}

async fn stock(
    s: &Snapshot,
    p: &Ports<'_>,
    figures: &mut ReconcileFigures,
) -> Result<CheckOutcome, ReconcileError> {
    let routes = match StockRoutes::from_mappings(&s.mappings.warehouses, s.settings.stock_mode) {
        Ok((routes, _)) => routes,
        Err(e) => {
            figures.warnings.push(format!("stock not compared: {e}"));
            return Ok(CheckOutcome::default());
        }
    };
    let previous = store::previous_run(p.pool).await?;
    let touched_since = previous.as_ref().map_or(s.since, |(at, _)| *at);
    let sample_after = previous.and_then(|(_, last)| last);
    let sample = store::sample_skus(
        p.pool,
        sample_after.as_deref(),
        s.settings.reconcile_stock_sample,
    )
    .await?;
    figures.stock_sample_last = sample.last().cloned().or(sample_after);
    let mut skus: BTreeSet<String> = store::touched_skus(p.pool, touched_since).await?;
    skus.extend(sample);

    // SKU → SAP item: the `skus` mapping, else the same code (as orders are posted).
    let item_of = |sku: &str| {
        s.mappings
            .skus
            .get(sku)
            .map(|m| m.item_code.as_str().to_owned())
            .unwrap_or_else(|| sku.to_owned())
    };
    let codes: Vec<ItemCode> = skus
        .iter()
        .filter_map(|sku| ItemCode::parse(item_of(sku)).ok())
        .collect();
    let items = p.sap.items_by_code(&codes).await?;
    let unposted = stock_store::unposted_by_sku(p.pool).await?;
    let mut facts = Vec::new();
    for sku in &skus {
        let code = item_of(sku);
        // Items SAP does not know, or keeps no stock of, are not the stock sync's.
        let Some(item) = items
            .iter()
            .find(|i| i.item_code == code && i.inventory_item)
        else {
            continue;
        };
        let rows: Vec<WarehouseQty> = item
            .warehouses
            .iter()
            .map(|w| WarehouseQty {
                warehouse: w.warehouse_code.clone(),
                in_stock: w.in_stock,
                committed: w.committed,
            })
            .collect();
        let expected = expected_salable(
            &rows,
            &routes,
            s.settings.safety_stock,
            unposted.get(sku).copied().unwrap_or_default(),
        );
        let salable = match magento_salable(p, sku, s).await {
            Ok(q) => q,
            Err(MagentoError::NotFound { .. }) => {
                figures.warnings.push(format!(
                    "stock of '{sku}' not compared: Magento has no such SKU"
                ));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        facts.push(SkuFacts {
            sku: sku.clone(),
            item_code: code,
            expected,
            magento_salable: salable,
        });
    }
    figures.stock_skus = facts.len() as u64;
    Ok(reconcile::stock::check(&facts))
}

/// What Magento can sell now: MSI's salable quantity of the configured stock, or the legacy
/// stock item's quantity (Magento deducts orders from it when they are placed).
async fn magento_salable(p: &Ports<'_>, sku: &str, s: &Snapshot) -> Result<Decimal, MagentoError> {
    match s.settings.stock_mode {
        StockMode::Msi => {
            p.magento
                .salable_quantity(sku, s.settings.magento_stock_id)
                .await
        }
        StockMode::Legacy => Ok(p.magento.stock_item(sku).await?.qty),
    }
}
