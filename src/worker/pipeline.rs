//! The order pipeline as a process runs it: the post and cancel handlers sharing one SAP
//! client and one item-master cache, and a pool that logs out of SAP when it stops.
use sqlx::PgPool;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::cancel_order::CancelOrder;
use super::config::WorkerConfig;
use super::handler::Handlers;
use super::item_cache::ItemCache;
use super::order_job::OrderJob;
use super::pool::{PoolStopped, WorkerPool};
use super::post_order::PostOrder;
use super::post_refund::PostRefund;
use crate::domain::order_flow::JobKind;
use crate::magento::MagentoClient;
use crate::sap::SapClient;

/// The post and cancel handlers and the refunds' handler, sharing `sap` (one session, one
/// concurrency limit); the order handlers share one item-master cache.
pub fn order_handlers(sap: SapClient) -> Handlers {
    order_handlers_with(sap, None)
}

/// The post and cancel handlers; with `magento`, orders that came in the Adobe Commerce
/// observer envelope are re-read through Magento's REST API before they are mapped.
pub fn order_handlers_with(sap: SapClient, magento: Option<Arc<MagentoClient>>) -> Handlers {
    Handlers::new()
        .register(
            JobKind::PostOrder,
            OrderJob::new(PostOrder::new(sap.clone(), ItemCache::new()).with_order_source(magento)),
        )
        .register(
            JobKind::CancelOrder,
            OrderJob::new(CancelOrder::new(sap.clone())),
        )
        .register(JobKind::PostRefund, PostRefund::new(sap))
}

/// The worker settings for a pipeline talking to SAP with at most `sap_concurrency` requests
/// at once. Three times as many jobs run as SAP slots exist, so that while some jobs are
/// between SAP calls (in Postgres, or waiting for the pool's next claim) others keep every slot
/// busy; the client's limiter still bounds SAP (README, "Benchmark" of the order pipeline).
/// Expired leases are looked for at least once per lease, so a crashed worker's jobs wait
/// about one lease, not a lease plus a long reaper interval.
pub fn worker_config(sap_concurrency: usize, lease: Duration) -> WorkerConfig {
    let default = WorkerConfig::default();
    WorkerConfig {
        concurrency: sap_concurrency.max(1) * 3,
        lease,
        reaper_interval: default.reaper_interval.min(lease),
        ..default
    }
}

/// Runs the order pipeline until `shutdown` resolves, then logs out of SAP so the session
/// does not hold a licence until it times out.
pub async fn run(
    pool: PgPool,
    sap: SapClient,
    config: WorkerConfig,
    shutdown: impl Future<Output = ()>,
) -> PoolStopped {
    run_with(pool, sap.clone(), order_handlers(sap), config, shutdown).await
}

/// Runs a pool with `handlers` (the order handlers and any others this process has, sharing
/// `sap`) until `shutdown` resolves, then logs out of SAP.
pub async fn run_with(
    pool: PgPool,
    sap: SapClient,
    handlers: Handlers,
    config: WorkerConfig,
    shutdown: impl Future<Output = ()>,
) -> PoolStopped {
    if let Err(e) = sap.ensure_session().await {
        // Not fatal: intake goes on, and jobs retry until SAP lets us in.
        tracing::error!(error = %e, "cannot log in to SAP B1 Service Layer at start");
    }
    let stopped = WorkerPool::new(pool, handlers, config).run(shutdown).await;
    match sap.logout().await {
        Ok(()) => tracing::info!("logged out of SAP B1 Service Layer"),
        Err(e) => tracing::warn!(error = %e, "SAP logout failed; the session will time out"),
    }
    stopped
}
