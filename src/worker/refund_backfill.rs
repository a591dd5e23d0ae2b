//! The credit-memo half of the Magento poll ([`super::backfill`]): credit memos updated in
//! the poll's window, read with `GET /V1/creditmemos` by `updated_at` (every page), so a
//! credit memo whose `creditmemo.created` webhook never arrived is still posted. One
//! b1bridge already has is left alone; one it did not have is stored and queued like a
//! webhook's, and `missed_webhook` says so (docs/refunds.md). Like orders, credit memos
//! changed within the poll's grace are left to the next poll: their webhook may be on its way.
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::PgPool;

use crate::magento::refund::refund_from;
use crate::magento::{MagentoClient, MagentoError};
use crate::store::{refunds, StoreError};

/// What the credit-memo query of one poll did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CreditMemoFigures {
    pub credit_memos_read: u64,
    /// Credit memos b1bridge had never received, taken in now.
    pub credit_memos_ingested: u64,
    /// Too recent to call missed; the next poll looks again.
    pub credit_memos_left_for_next_poll: u64,
    /// Credit memos that cannot be read (named in the log).
    pub credit_memos_invalid: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CreditMemoPollError {
    #[error("{0}")]
    Magento(#[from] MagentoError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

/// Reads the credit memos updated since `since` (Magento's format) and takes in those
/// changed before `ripe_before` that b1bridge does not have.
pub async fn poll_credit_memos(
    magento: &MagentoClient,
    pool: &PgPool,
    since: &str,
    ripe_before: DateTime<Utc>,
    page_size: u32,
) -> Result<CreditMemoFigures, CreditMemoPollError> {
    let memos = magento.credit_memos_updated_since(since, page_size).await?;
    let mut figures = CreditMemoFigures {
        credit_memos_read: memos.len() as u64,
        ..CreditMemoFigures::default()
    };
    for memo in &memos {
        let changed = memo
            .updated_at
            .as_deref()
            .or(memo.created_at.as_deref())
            .and_then(|t| NaiveDateTime::parse_from_str(t.trim(), "%Y-%m-%d %H:%M:%S").ok())
            .map(|t| t.and_utc());
        if changed.is_some_and(|t| t > ripe_before) {
            figures.credit_memos_left_for_next_poll += 1;
            continue;
        }
        let refund = match refund_from(memo, None) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(problem = %e, "credit memo from the poll cannot be used");
                figures.credit_memos_invalid += 1;
                continue;
            }
        };
        if refunds::record_backfilled(pool, &refund).await? {
            tracing::info!(
                credit_memo = %refund.credit_memo_id,
                "credit memo found by the poll: its webhook was missed"
            );
            figures.credit_memos_ingested += 1;
        }
    }
    Ok(figures)
}
