//! The demo's live one-line summary, read from the same store queries as `/metrics`.
use sqlx::PgPool;

use crate::store::metrics;
use crate::store::StoreError;

/// What the line shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    pub orders_by_status: Vec<(String, i64)>,
    pub open_exceptions_by_category: Vec<(String, i64)>,
    pub jobs_waiting: i64,
    pub stock_syncs_succeeded: i64,
    /// Shipments sent to Magento from SAP deliveries.
    pub shipments_sent: i64,
    /// Magento credit memos posted as SAP A/R credit memos.
    pub refunds_posted: i64,
}

impl Summary {
    pub async fn read(pool: &PgPool) -> Result<Self, StoreError> {
        let snapshot = metrics::snapshot(pool).await?;
        let (stock_syncs_succeeded, shipments_sent): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM runs WHERE kind = 'stock_sync' AND status = 'succeeded'),
                    (SELECT count(*) FROM magento_shipments WHERE state = 'sent')",
        )
        .fetch_one(pool)
        .await?;
        let refunds_posted = snapshot
            .refunds_by_status
            .iter()
            .filter(|(s, _)| s == "posted")
            .map(|(_, n)| n)
            .sum();
        let waiting = |status: &str| {
            snapshot
                .jobs_by_status
                .iter()
                .filter(|(s, _)| s == status)
                .map(|(_, n)| n)
                .sum::<i64>()
        };
        Ok(Self {
            orders_by_status: snapshot.orders_by_status,
            open_exceptions_by_category: snapshot.open_exceptions_by_category,
            jobs_waiting: waiting("pending") + waiting("running"),
            stock_syncs_succeeded,
            shipments_sent,
            refunds_posted,
        })
    }

    /// E.g. `orders 14: 9 posted, 2 queued · open exceptions 2: unknown_sku 1, … · jobs
    /// waiting 2 · stock syncs 3 · shipments 1 · refunds 1`.
    pub fn line(&self) -> String {
        let list = |pairs: &[(String, i64)]| {
            pairs
                .iter()
                .map(|(label, n)| format!("{n} {label}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let total = |pairs: &[(String, i64)]| pairs.iter().map(|(_, n)| n).sum::<i64>();
        format!(
            "orders {}: {} · open exceptions {}: {} · jobs waiting {} · stock syncs {} · \
             shipments {} · refunds {}",
            total(&self.orders_by_status),
            list(&self.orders_by_status),
            total(&self.open_exceptions_by_category),
            list(&self.open_exceptions_by_category),
            self.jobs_waiting,
            self.stock_syncs_succeeded,
            self.shipments_sent,
            self.refunds_posted,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_and_names_every_group() {
        let s = Summary {
            orders_by_status: vec![("posted".into(), 9), ("queued".into(), 2)],
            open_exceptions_by_category: vec![("unknown_sku".into(), 1)],
            jobs_waiting: 2,
            stock_syncs_succeeded: 3,
            shipments_sent: 1,
            refunds_posted: 1,
        };
        assert_eq!(
            s.line(),
            "orders 11: 9 posted, 2 queued · open exceptions 1: 1 unknown_sku · jobs waiting 2 \
             · stock syncs 3 · shipments 1 · refunds 1"
        );
    }
}
