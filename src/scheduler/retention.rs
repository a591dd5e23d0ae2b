//! The retention purge of kept webhook bodies (`store::retention`), once an hour in every
//! `serve` and `worker` process. It needs no run row or outbox job: a pass is idempotent,
//! and passes in several processes skip each other's rows, so running it everywhere is
//! harmless and needs no election.
use sqlx::PgPool;
use std::future::Future;
use std::time::Duration;

use crate::store::retention;

/// How often a process purges.
const EVERY: Duration = Duration::from_secs(3600);
/// Events per statement: short transactions, so intake and workers never wait behind a purge.
const BATCH: i64 = 500;

/// How long webhook bodies are kept (`B1BRIDGE_WEBHOOK_BODY_RETENTION_DAYS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRetention {
    /// Kept for ever (0 days): no purge runs.
    Forever,
    Days(u32),
}

impl BodyRetention {
    pub const DEFAULT_DAYS: u32 = 90;

    pub fn from_days(days: u32) -> Self {
        if days == 0 {
            BodyRetention::Forever
        } else {
            BodyRetention::Days(days)
        }
    }
}

/// Purges every [`EVERY`] (the first pass at start) until `shutdown` resolves.
pub async fn run(pool: PgPool, keep: BodyRetention, shutdown: impl Future<Output = ()>) {
    let BodyRetention::Days(days) = keep else {
        tracing::info!("webhook bodies are kept for ever (B1BRIDGE_WEBHOOK_BODY_RETENTION_DAYS=0)");
        return;
    };
    tracing::info!(days, "webhook bodies are purged once nothing needs them");
    tokio::pin!(shutdown);
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = ticks.tick() => {}
        }
        match purge_all(&pool, days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, days, "webhook bodies past retention purged"),
            Err(e) => tracing::warn!(error = %e, "cannot purge webhook bodies; trying next hour"),
        }
    }
}

/// One pass: batches until a batch comes back short.
pub async fn purge_all(pool: &PgPool, days: u32) -> Result<u64, crate::store::StoreError> {
    let keep = Duration::from_secs(u64::from(days) * 86_400);
    let mut total = 0;
    loop {
        let n = retention::purge_webhook_bodies(pool, keep, BATCH).await?;
        total += n;
        if n < BATCH as u64 {
            return Ok(total);
        }
    }
}
