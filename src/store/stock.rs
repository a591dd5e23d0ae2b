//! The stock sync's memory: what was last sent to Magento per SKU and source (only what Magento
//! accepted counts as pushed), and the facts about b1bridge's own orders that the quantity
//! rules need (which SAP orders are web orders; what is received but not yet in SAP).
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

use super::StoreError;
use crate::domain::order::Order;
use crate::domain::stock::Pushed;

/// Everything last sent, by SKU: `(source index, pushed)` with the sources interned, so that
/// 100,000 SKUs × a few sources stay a few megabytes.
#[derive(Debug, Default)]
pub struct PushedState {
    pub sources: Vec<String>,
    pub by_sku: HashMap<String, Vec<(u16, Pushed)>>,
}

impl PushedState {
    pub fn source_index(&mut self, source: &str) -> u16 {
        match self.sources.iter().position(|s| s == source) {
            Some(i) => i as u16,
            None => {
                self.sources.push(source.to_owned());
                (self.sources.len() - 1) as u16
            }
        }
    }

    pub fn get(&self, sku: &str, source: u16) -> Option<&Pushed> {
        self.by_sku
            .get(sku)?
            .iter()
            .find(|(s, _)| *s == source)
            .map(|(_, p)| p)
    }
}

#[derive(sqlx::FromRow)]
struct PushedRow {
    sku: String,
    source_code: String,
    quantity: Decimal,
    in_stock: bool,
    outcome: String,
}

/// Loads what was last sent (streamed, so the rows are never all in memory twice).
pub async fn load_pushed(pool: &PgPool) -> Result<PushedState, StoreError> {
    use futures::TryStreamExt;
    let mut state = PushedState::default();
    let mut rows = sqlx::query_as::<_, PushedRow>(
        "SELECT sku, source_code, quantity, in_stock, outcome FROM stock_pushed",
    )
    .fetch(pool);
    while let Some(r) = rows.try_next().await? {
        let source = state.source_index(&r.source_code);
        state.by_sku.entry(r.sku).or_default().push((
            source,
            Pushed {
                quantity: r.quantity,
                in_stock: r.in_stock,
                rejected: r.outcome == "rejected",
            },
        ));
    }
    Ok(state)
}

/// One row to remember.
#[derive(Debug, Clone)]
pub struct PushedEntry<'a> {
    pub sku: &'a str,
    pub source_code: &'a str,
    pub quantity: Decimal,
    pub in_stock: bool,
    pub rejected: bool,
}

/// Remembers rows Magento accepted (or refused), in one statement per batch.
pub async fn record_pushed(
    conn: &mut PgConnection,
    run: Uuid,
    entries: &[PushedEntry<'_>],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = entries.iter().map(|e| e.sku).collect();
    let sources: Vec<&str> = entries.iter().map(|e| e.source_code).collect();
    let quantities: Vec<Decimal> = entries.iter().map(|e| e.quantity).collect();
    let in_stock: Vec<bool> = entries.iter().map(|e| e.in_stock).collect();
    let outcomes: Vec<&str> = entries
        .iter()
        .map(|e| if e.rejected { "rejected" } else { "pushed" })
        .collect();
    sqlx::query(
        "INSERT INTO stock_pushed (sku, source_code, quantity, in_stock, outcome, run_id)
         SELECT *, $6::uuid FROM unnest($1::text[], $2::text[], $3::numeric[], $4::bool[], $5::text[])
         ON CONFLICT (sku, source_code) DO UPDATE
            SET quantity = excluded.quantity, in_stock = excluded.in_stock,
                outcome = excluded.outcome, run_id = excluded.run_id, updated_at = now()",
    )
    .bind(&skus)
    .bind(&sources)
    .bind(&quantities)
    .bind(&in_stock)
    .bind(&outcomes)
    .bind(run)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Among `doc_entries` (open SAP Sales Orders), the ones b1bridge posted: web orders.
pub async fn web_orders_among(pool: &PgPool, doc_entries: &[i64]) -> Result<Vec<i64>, StoreError> {
    let entries: Vec<i32> = doc_entries
        .iter()
        .filter_map(|e| i32::try_from(*e).ok())
        .collect();
    let rows: Vec<i32> =
        sqlx::query_scalar("SELECT sap_doc_entry FROM orders WHERE sap_doc_entry = ANY($1)")
            .bind(&entries)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(i64::from).collect())
}

/// Whether b1bridge has any order in SAP that is not cancelled (when it has none, no SAP
/// order can be a web order and the read of open orders is skipped).
pub async fn has_posted_orders(pool: &PgPool) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM orders
                         WHERE sap_doc_entry IS NOT NULL AND status <> 'cancelled')",
    )
    .fetch_one(pool)
    .await?)
}

/// What b1bridge has received but not yet posted to SAP, by SKU (orders queued or parked).
pub async fn unposted_by_sku(pool: &PgPool) -> Result<HashMap<String, Decimal>, StoreError> {
    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT increment_id, canonical FROM orders
          WHERE status IN ('queued', 'parked') AND canonical IS NOT NULL",
    )
    .fetch_all(pool)
    .await?;
    let mut out: HashMap<String, Decimal> = HashMap::new();
    for (id, canonical) in rows {
        let order: Order = serde_json::from_value(canonical)
            .map_err(|e| StoreError::Corrupt(format!("order {id}: canonical: {e}")))?;
        for line in &order.lines {
            *out.entry(line.sku.as_str().to_owned()).or_default() += line.qty;
        }
    }
    Ok(out)
}
