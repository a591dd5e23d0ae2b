//! The price sync's memory (docs/price-sync.md): per SKU, store and kind, the last price
//! offered to Magento, what became of it (pushed, refused by Magento, held by the guard
//! rail), and the last price Magento accepted.
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

use super::StoreError;
use crate::domain::prices::{LastPrice, Outcome};

/// What is offered: a base price, a special price, a tier price (for `ALL GROUPS` from a
/// quantity on), the removal of a special or tier price, or a product's status
/// (sellability: 1 enabled, 2 disabled, kept as the "price").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriceKind {
    Base,
    Special,
    SpecialDelete,
    Tier,
    TierDelete,
    Status,
}

impl PriceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceKind::Base => "base",
            PriceKind::Special => "special",
            PriceKind::SpecialDelete => "special_delete",
            PriceKind::Tier => "tier",
            PriceKind::TierDelete => "tier_delete",
            PriceKind::Status => "status",
        }
    }

    /// The memory a row of this kind lives in: a removal is remembered with the special
    /// price it removes.
    fn stored(self) -> &'static str {
        match self {
            PriceKind::SpecialDelete => PriceKind::Special.as_str(),
            PriceKind::TierDelete => PriceKind::Tier.as_str(),
            other => other.as_str(),
        }
    }
}

/// A special price's window, `Y-m-d H:i:s` both ends.
pub type Window = (String, String);

/// Everything remembered, keyed by (SKU, store); product status by SKU (store 0, the
/// admin scope).
#[derive(Debug, Default)]
pub struct PriceMemory {
    pub base: HashMap<(String, i64), LastPrice>,
    pub special: HashMap<(String, i64), (LastPrice, Option<Window>)>,
    pub status: HashMap<String, LastPrice>,
    /// Tier prices by (SKU, website, quantity).
    pub tier: HashMap<(String, i64, Decimal), LastPrice>,
}

#[derive(sqlx::FromRow)]
struct Row {
    sku: String,
    store_id: i64,
    kind: String,
    offered: Decimal,
    price_from: Option<String>,
    price_to: Option<String>,
    outcome: String,
    published: Option<Decimal>,
    quantity: Decimal,
}

/// Loads the memory, streamed so the rows are never all in memory twice.
pub async fn load(pool: &PgPool) -> Result<PriceMemory, StoreError> {
    use futures::TryStreamExt;
    let mut memory = PriceMemory::default();
    let mut rows = sqlx::query_as::<_, Row>(
        "SELECT sku, store_id, kind, offered, price_from, price_to, outcome, published,
                quantity
           FROM price_pushed",
    )
    .fetch(pool);
    while let Some(r) = rows.try_next().await? {
        let outcome = Outcome::parse(&r.outcome)
            .ok_or_else(|| StoreError::Corrupt(format!("price_pushed outcome {}", r.outcome)))?;
        let last = LastPrice {
            offered: r.offered,
            outcome,
            published: r.published,
        };
        match r.kind.as_str() {
            "special" => {
                let window = r.price_from.zip(r.price_to);
                memory.special.insert((r.sku, r.store_id), (last, window));
            }
            "status" => {
                memory.status.insert(r.sku, last);
            }
            "tier" => {
                memory
                    .tier
                    .insert((r.sku, r.store_id, r.quantity.normalize()), last);
            }
            _ => {
                memory.base.insert((r.sku, r.store_id), last);
            }
        }
    }
    Ok(memory)
}

/// One row to remember.
#[derive(Debug, Clone)]
pub struct Remembered<'a> {
    pub sku: &'a str,
    pub store_id: i64,
    pub kind: PriceKind,
    pub offered: Decimal,
    pub window: Option<&'a Window>,
    /// Tier prices: from this quantity on; 0 for the other kinds.
    pub quantity: Decimal,
    pub outcome: Outcome,
}

/// Remembers a batch in one statement. A pushed row becomes the published price; a refused
/// or held one keeps the published price it had.
pub async fn record(
    conn: &mut PgConnection,
    run: Uuid,
    rows: &[Remembered<'_>],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = rows.iter().map(|r| r.sku).collect();
    let stores: Vec<i64> = rows.iter().map(|r| r.store_id).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.stored()).collect();
    let offered: Vec<Decimal> = rows.iter().map(|r| r.offered).collect();
    let froms: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.window.map(|w| w.0.as_str()))
        .collect();
    let tos: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.window.map(|w| w.1.as_str()))
        .collect();
    let outcomes: Vec<&str> = rows.iter().map(|r| r.outcome.as_str()).collect();
    let quantities: Vec<Decimal> = rows.iter().map(|r| r.quantity).collect();
    sqlx::query(
        "INSERT INTO price_pushed (sku, store_id, kind, offered, price_from, price_to, outcome,
                                   published, run_id, quantity)
         SELECT s, st, k, o, f, t, oc, CASE WHEN oc = 'pushed' THEN o END, $8::uuid, q
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::numeric[], $5::text[],
                       $6::text[], $7::text[], $9::numeric[]) AS u(s, st, k, o, f, t, oc, q)
         ON CONFLICT (sku, store_id, kind, quantity) DO UPDATE
            SET offered = excluded.offered, price_from = excluded.price_from,
                price_to = excluded.price_to, outcome = excluded.outcome,
                published = CASE WHEN excluded.outcome = 'pushed' THEN excluded.offered
                                 ELSE price_pushed.published END,
                run_id = excluded.run_id, updated_at = now()",
    )
    .bind(&skus)
    .bind(&stores)
    .bind(&kinds)
    .bind(&offered)
    .bind(&froms)
    .bind(&tos)
    .bind(&outcomes)
    .bind(run)
    .bind(&quantities)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets special prices Magento has deleted: the row of that SKU, store and window only,
/// so a newer window offered in the meantime stays remembered.
pub async fn forget_special(
    conn: &mut PgConnection,
    rows: &[Remembered<'_>],
) -> Result<(), StoreError> {
    let skus: Vec<&str> = rows.iter().map(|r| r.sku).collect();
    let stores: Vec<i64> = rows.iter().map(|r| r.store_id).collect();
    let froms: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.window.map(|w| w.0.as_str()))
        .collect();
    let tos: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.window.map(|w| w.1.as_str()))
        .collect();
    sqlx::query(
        "DELETE FROM price_pushed p
          USING unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS u(s, st, f, t)
          WHERE p.kind = 'special' AND p.sku = u.s AND p.store_id = u.st
            AND p.price_from = u.f AND p.price_to = u.t",
    )
    .bind(&skus)
    .bind(&stores)
    .bind(&froms)
    .bind(&tos)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets tier prices Magento has deleted.
pub async fn forget_tiers(
    conn: &mut PgConnection,
    rows: &[Remembered<'_>],
) -> Result<(), StoreError> {
    let skus: Vec<&str> = rows.iter().map(|r| r.sku).collect();
    let websites: Vec<i64> = rows.iter().map(|r| r.store_id).collect();
    let quantities: Vec<Decimal> = rows.iter().map(|r| r.quantity).collect();
    sqlx::query(
        "DELETE FROM price_pushed p
          USING unnest($1::text[], $2::bigint[], $3::numeric[]) AS u(s, w, q)
          WHERE p.kind = 'tier' AND p.sku = u.s AND p.store_id = u.w AND p.quantity = u.q",
    )
    .bind(&skus)
    .bind(&websites)
    .bind(&quantities)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
