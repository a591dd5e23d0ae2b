//! The refund backfill run: Magento's credit memos updated since the last successful run
//! (less an hour's overlap; the last day on the first run), read with `GET /V1/creditmemos`
//! by `updated_at`, so a credit memo whose webhook never arrived is still posted. A credit
//! memo b1bridge already has is left alone; one it did not have is stored and queued like a
//! webhook's, and `missed_webhook` says that the webhook was lost (docs/refunds.md).
use chrono::{DateTime, Duration as Span, Utc};
use futures::future::BoxFuture;
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;

use super::handler::JobContext;
use super::run_job::{RunResult, RunTask};
use crate::domain::run::RunKind;
use crate::magento::refund::refund_from;
use crate::magento::MagentoClient;
use crate::store::refunds;
use crate::store::runs::{self, Run};

/// Credit memos per Magento page.
const PAGE_SIZE: u32 = 100;

pub struct RefundBackfill {
    magento: Arc<MagentoClient>,
}

impl RefundBackfill {
    pub fn new(magento: Arc<MagentoClient>) -> Self {
        Self { magento }
    }

    /// One pass over the credit memos updated since `since`; the figures of the run.
    pub async fn backfill(
        &self,
        pool: &PgPool,
        since: DateTime<Utc>,
    ) -> Result<serde_json::Value, String> {
        let from = since.format("%Y-%m-%d %H:%M:%S").to_string();
        let memos = self
            .magento
            .credit_memos_updated_since(&from, PAGE_SIZE)
            .await
            .map_err(|e| e.to_string())?;
        let (mut found, mut unusable) = (0, Vec::new());
        for memo in &memos {
            let refund = match refund_from(memo, None) {
                Ok(r) => r,
                Err(e) => {
                    unusable.push(e.to_string());
                    continue;
                }
            };
            if refunds::record_backfilled(pool, &refund)
                .await
                .map_err(|e| e.to_string())?
            {
                found += 1;
            }
        }
        Ok(json!({
            "since": from,
            "credit_memos_read": memos.len(),
            "missed_found": found,
            "unusable": unusable,
        }))
    }
}

impl RunTask for RefundBackfill {
    fn run<'a>(&'a self, _run: &'a Run, ctx: &'a JobContext) -> BoxFuture<'a, RunResult> {
        Box::pin(async move {
            let since = match last_success(&ctx.pool).await {
                Ok(Some(at)) => at - Span::hours(1),
                Ok(None) => Utc::now() - Span::days(1),
                Err(e) => {
                    return RunResult {
                        figures: json!({}),
                        error: Some(e),
                    }
                }
            };
            match self.backfill(&ctx.pool, since).await {
                Ok(figures) => RunResult {
                    figures,
                    error: None,
                },
                Err(e) => RunResult {
                    figures: json!({}),
                    error: Some(e),
                },
            }
        })
    }
}

async fn last_success(pool: &PgPool) -> Result<Option<DateTime<Utc>>, String> {
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    runs::last_success(&mut conn, RunKind::RefundBackfill)
        .await
        .map_err(|e| e.to_string())
}
