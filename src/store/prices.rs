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
    /// Tier prices only: NULL for the other kinds saves decoding 0 on every row.
    quantity: Option<Decimal>,
}

/// Loads the memory, streamed so the rows are never all in memory twice.
pub async fn load(pool: &PgPool) -> Result<PriceMemory, StoreError> {
    use futures::TryStreamExt;
    let mut memory = PriceMemory::default();
    let mut rows = sqlx::query_as::<_, Row>(
        "SELECT sku, store_id, kind, offered, price_from, price_to, outcome, published,
                CASE WHEN kind = 'tier' THEN quantity END AS quantity
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
                let quantity = r.quantity.unwrap_or_default().normalize();
                memory.tier.insert((r.sku, r.store_id, quantity), last);
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

/// Rows as the column arrays a statement unnests.
struct Columns<'a> {
    skus: Vec<&'a str>,
    stores: Vec<i64>,
    kinds: Vec<&'static str>,
    offered: Vec<Decimal>,
    froms: Vec<Option<&'a str>>,
    tos: Vec<Option<&'a str>>,
    outcomes: Vec<&'static str>,
    quantities: Vec<Decimal>,
}

impl<'a> Columns<'a> {
    fn of(rows: &[Remembered<'a>]) -> Self {
        Self {
            skus: rows.iter().map(|r| r.sku).collect(),
            stores: rows.iter().map(|r| r.store_id).collect(),
            kinds: rows.iter().map(|r| r.kind.stored()).collect(),
            offered: rows.iter().map(|r| r.offered).collect(),
            froms: rows
                .iter()
                .map(|r| r.window.map(|w| w.0.as_str()))
                .collect(),
            tos: rows
                .iter()
                .map(|r| r.window.map(|w| w.1.as_str()))
                .collect(),
            outcomes: rows.iter().map(|r| r.outcome.as_str()).collect(),
            quantities: rows.iter().map(|r| r.quantity).collect(),
        }
    }
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
    let c = Columns::of(rows);
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
    .bind(&c.skus)
    .bind(&c.stores)
    .bind(&c.kinds)
    .bind(&c.offered)
    .bind(&c.froms)
    .bind(&c.tos)
    .bind(&c.outcomes)
    .bind(run)
    .bind(&c.quantities)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets prices Magento has deleted: the remembered row of the same SKU, store (website
/// for tier prices), kind, quantity and window only, so a newer window of a special price
/// offered in the meantime stays remembered.
pub async fn forget(conn: &mut PgConnection, rows: &[Remembered<'_>]) -> Result<(), StoreError> {
    let c = Columns::of(rows);
    sqlx::query(
        "DELETE FROM price_pushed p
          USING unnest($1::text[], $2::bigint[], $3::text[], $4::numeric[], $5::text[],
                       $6::text[]) AS u(s, st, k, q, f, t)
          WHERE p.sku = u.s AND p.store_id = u.st AND p.kind = u.k AND p.quantity = u.q
            AND p.price_from IS NOT DISTINCT FROM u.f AND p.price_to IS NOT DISTINCT FROM u.t",
    )
    .bind(&c.skus)
    .bind(&c.stores)
    .bind(&c.kinds)
    .bind(&c.quantities)
    .bind(&c.froms)
    .bind(&c.tos)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
