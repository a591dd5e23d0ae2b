//! What the reconciliation reads from and writes to Postgres: b1bridge's record of the orders
//! it compares, the SKUs to look at, and its findings (recorded and resolved in one
//! transaction).
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::collections::{BTreeSet, HashMap};

use super::{exceptions, StoreError};
use crate::domain::exception::NewException;
use crate::domain::reconcile::{BridgeOrder, OrderFacts};

/// b1bridge's record of each of `increment_ids` that it has. An exception counts as the
/// flow's when reconciliation did not raise it (its key has another prefix).
pub async fn bridge_orders(
    pool: &PgPool,
    increment_ids: &[String],
) -> Result<HashMap<String, BridgeOrder>, StoreError> {
    let rows: Vec<(String, String, Option<i32>, bool, bool)> = sqlx::query_as(
        "SELECT o.increment_id, o.status, o.sap_doc_entry,
                EXISTS (SELECT 1 FROM exceptions e
                         WHERE e.order_increment_id = o.increment_id
                           AND e.status IN ('open', 'retrying')
                           AND e.dedup_key NOT LIKE 'reconcile|%'),
                EXISTS (SELECT 1 FROM outbox j
                         WHERE j.increment_id = o.increment_id
                           AND j.status IN ('pending', 'running'))
           FROM orders o WHERE o.increment_id = ANY($1)",
    )
    .bind(increment_ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, status, entry, open_exception, in_flight)| {
            (
                id,
                BridgeOrder {
                    status,
                    sap_doc_entry: entry.map(i64::from),
                    open_exception,
                    in_flight,
                },
            )
        })
        .collect())
}

/// The orders of open reconciliation findings: looked at again by every run, even once they
/// have left the window, so a finding fixed late still resolves itself.
pub async fn orders_with_open_findings(pool: &PgPool) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT order_increment_id FROM exceptions
          WHERE dedup_key LIKE 'reconcile|%' AND status IN ('open', 'retrying')
            AND order_increment_id IS NOT NULL
          ORDER BY 1",
    )
    .fetch_all(pool)
    .await?)
}

/// The previous successful reconciliation: when it started (the "since the last check" of
/// the stock check) and the SKU its rotating sample stopped at.
pub async fn previous_run(
    pool: &PgPool,
) -> Result<Option<(DateTime<Utc>, Option<String>)>, StoreError> {
    let row: Option<(Option<DateTime<Utc>>, Option<String>)> = sqlx::query_as(
        "SELECT started_at, figures ->> 'stock_sample_last' FROM runs
          WHERE kind = 'reconcile' AND status = 'succeeded'
          ORDER BY started_at DESC NULLS LAST LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(at, last)| at.map(|at| (at, last))))
}

/// SKUs of the orders that arrived, or whose cancellation arrived, at or after `since`.
pub async fn touched_skus(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<BTreeSet<String>, StoreError> {
    let skus: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT line ->> 'sku' FROM orders o,
                jsonb_array_elements(o.canonical -> 'lines') AS line
          WHERE o.canonical IS NOT NULL
            AND (o.created_at >= $1 OR o.cancel_requested_at >= $1)",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    Ok(skus.into_iter().collect())
}

/// The next `n` SKUs of the rotating sample after `after` (the SKUs the stock sync keeps in
/// Magento, in order), wrapping round to the first ones at the end.
pub async fn sample_skus(
    pool: &PgPool,
    after: Option<&str>,
    n: u32,
) -> Result<Vec<String>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let limit = i64::from(n);
    let mut skus: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT sku FROM stock_pushed WHERE $1::text IS NULL OR sku > $1
          ORDER BY sku LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    if (skus.len() as i64) < limit && after.is_some() {
        let more: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT sku FROM stock_pushed WHERE sku <= $1 ORDER BY sku LIMIT $2",
        )
        .bind(after)
        .bind(limit - skus.len() as i64)
        .fetch_all(pool)
        .await?;
        skus.extend(
            more.into_iter()
                .filter(|s| !skus.contains(s))
                .collect::<Vec<_>>(),
        );
    }
    Ok(skus)
}

/// What recording a run's findings did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Findings recorded (new rows or one more occurrence of an open one).
    pub findings: u64,
    /// Open findings whose subject was found in order, resolved.
    pub resolved: u64,
}

/// Records `findings` (an open one with the same key gets one more occurrence), resolves
/// the open findings among `in_order`, and keeps each order's totals as both systems showed
/// them (for the daily report), in one transaction.
pub async fn record(
    pool: &PgPool,
    findings: &[NewException],
    in_order: &[String],
    orders: &[OrderFacts],
) -> Result<Recorded, StoreError> {
    let mut tx = pool.begin().await?;
    let mut ids = Vec::with_capacity(orders.len());
    let (mut created, mut states, mut currencies) = (Vec::new(), Vec::new(), Vec::new());
    let (mut magento, mut sap, mut doc_nums) = (Vec::new(), Vec::new(), Vec::new());
    for o in orders {
        let doc = o.the_sap_order();
        ids.push(o.increment_id.clone());
        created.push(o.created_at);
        states.push(o.magento_state.clone());
        currencies.push(o.currency.clone());
        magento.push(o.grand_total);
        sap.push(doc.map(|d| d.totals_in_document_currency().0));
        doc_nums.push(doc.and_then(|d| i32::try_from(d.doc_num).ok()));
    }
    sqlx::query(
        "INSERT INTO reconciled_totals (increment_id, magento_created_at, magento_state, currency,
                                        magento_grand_total, sap_doc_total, sap_doc_num)
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[],
                              $5::numeric[], $6::numeric[], $7::int[])
         ON CONFLICT (increment_id) DO UPDATE
            SET magento_created_at = excluded.magento_created_at,
                magento_state = excluded.magento_state, currency = excluded.currency,
                magento_grand_total = excluded.magento_grand_total,
                sap_doc_total = excluded.sap_doc_total, sap_doc_num = excluded.sap_doc_num,
                checked_at = now()",
    )
    .bind(&ids)
    .bind(&created)
    .bind(&states)
    .bind(&currencies)
    .bind(&magento)
    .bind(&sap)
    .bind(&doc_nums)
    .execute(&mut *tx)
    .await?;
    for f in findings {
        exceptions::record(&mut tx, f, None).await?;
    }
    let resolved = exceptions::resolve_fixed(
        &mut tx,
        in_order,
        "reconciliation found the difference fixed",
    )
    .await?;
    tx.commit().await?;
    Ok(Recorded {
        findings: findings.len() as u64,
        resolved,
    })
}

/// A refund the refunds check looks at: the canonical credit memo, b1bridge's status, when
/// it arrived, and the SAP credit memo b1bridge recorded for it.
pub struct RefundRow {
    pub refund: crate::domain::refund::Refund,
    pub order_increment_id: Option<String>,
    pub status: String,
    pub received_at: DateTime<Utc>,
    pub sap_document: Option<(i64, i64)>,
}

/// The refunds not settled yet (no credit memo recorded, the order not closed or reduced
/// instead) and those of open refund findings (looked at again so a fixed one resolves).
pub async fn refunds_to_check(pool: &PgPool) -> Result<Vec<RefundRow>, StoreError> {
    type Row = (
        serde_json::Value,
        Option<String>,
        String,
        DateTime<Utc>,
        Option<i32>,
        Option<i32>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.canonical, r.order_increment_id, r.status, r.created_at,
                r.sap_doc_entry, r.sap_doc_num
           FROM refunds r
          WHERE r.status NOT IN ('posted', 'order_closed', 'order_reduced')
             OR EXISTS (SELECT 1 FROM exceptions e
                         WHERE e.dedup_key LIKE 'reconcile|refunds|%|creditmemo:' || r.magento_entity_id
                           AND e.status IN ('open', 'retrying'))
          ORDER BY r.magento_entity_id",
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (canonical, order, status, received_at, entry, num) in rows {
        let refund = serde_json::from_value(canonical)
            .map_err(|e| StoreError::Corrupt(format!("refund canonical: {e}")))?;
        out.push(RefundRow {
            refund,
            order_increment_id: order,
            status,
            received_at,
            sap_document: entry.map(|e| (i64::from(e), i64::from(num.unwrap_or_default()))),
        });
    }
    Ok(out)
}
