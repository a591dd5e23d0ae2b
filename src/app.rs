//! The running service: built from settings, stopped by a signal. `Application` owns all of
//! it — the HTTP server, the worker pool and the schedulers — so `serve`, `worker` and the
//! tests start exactly the same thing.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{DatabaseSettings, ServeSettings};
use crate::domain::order_flow::JobKind;
use crate::domain::run::RunKind;
use crate::http::api::{self, sap_master_data::SapMasterData};
use crate::http::intake_batcher::IntakeBatcher;
use crate::http::{self, ApiContext};
use crate::magento::MagentoClient;
use crate::sap::SapClient;
use crate::scheduler::retention::BodyRetention;
use crate::scheduler::{self, Schedule};
use crate::store;
use crate::worker::backfill::Backfill;
use crate::worker::pipeline;
use crate::worker::price_sync::ports::PricePublisher;
use crate::worker::price_sync::PriceSync;
use crate::worker::reconcile::Reconcile;
use crate::worker::run_job::RunJob;
use crate::worker::status_sync::StatusSync;
use crate::worker::stock_sync::publisher::StockPublisher;
use crate::worker::stock_sync::StockSync;
use crate::worker::{Handlers, WorkerConfig};

/// Intake batch tasks: a few, so that one batch is written while the next one gathers.
const INTAKE_BATCH_TASKS: usize = 2;
/// Events per intake statement at most.
const INTAKE_MAX_BATCH: usize = 64;

/// The background half of the service: the worker pool (order jobs and runs) and the
/// schedulers.
pub struct Workers {
    /// Shared by every job (one session, one concurrency limit) and the API's master-data
    /// check.
    pub sap: SapClient,
    pub config: WorkerConfig,
    /// Where stock goes; `None` (no `MAGENTO_URL`): this process neither runs nor schedules
    /// stock syncs (logged at start).
    pub magento: Option<Arc<dyn StockPublisher>>,
    /// `B1BRIDGE_STOCK_SYNC_SECS`.
    pub stock_sync_every: Duration,
    /// The Magento REST client of the status run, the order poll, the observer-envelope
    /// re-read, the reconciliation and the go-live audit; `None` (no `MAGENTO_URL`): none of
    /// them here.
    pub magento_client: Option<Arc<MagentoClient>>,
    /// `B1BRIDGE_STATUS_SYNC_SECS`.
    pub status_sync_every: Duration,
    /// `B1BRIDGE_BACKFILL_SECS`.
    pub backfill_every: Duration,
    /// `B1BRIDGE_RECONCILE_SECS`.
    pub reconcile_every: Duration,
    /// Where prices go; `None` (no `MAGENTO_URL`): no price syncs here.
    pub prices: Option<Arc<dyn PricePublisher>>,
    /// `B1BRIDGE_PRICE_SYNC_SECS`.
    pub price_sync_every: Duration,
    /// `B1BRIDGE_WEBHOOK_BODY_RETENTION_DAYS`.
    pub body_retention: BodyRetention,
}

impl Workers {
    /// The workers LISTEN through `database`'s direct URL when it has one.
    fn listening_at(mut self, database: &DatabaseSettings) -> Self {
        self.config.listen_url = database.direct_url.clone();
        self
    }

    /// The handlers of every job kind this process can do.
    pub fn handlers(&self) -> Handlers {
        let mut handlers =
            pipeline::order_handlers_with(self.sap.clone(), self.magento_client.clone());
        if let Some(magento) = &self.magento_client {
            handlers = handlers
                .register(
                    JobKind::StatusSync,
                    RunJob::new(StatusSync::new(self.sap.clone(), magento.clone())),
                )
                .register(
                    JobKind::Backfill,
                    RunJob::new(Backfill::new(magento.clone())),
                )
                .register(
                    JobKind::Reconcile,
                    RunJob::new(Reconcile::new(self.sap.clone(), magento.clone())),
                );
        }
        if let Some(magento) = &self.magento {
            handlers = handlers.register(
                JobKind::StockSync,
                RunJob::new(StockSync::new(self.sap.clone(), magento.clone())),
            );
        }
        if let Some(magento) = &self.magento_client {
            handlers = handlers.register(
                JobKind::Audit,
                RunJob::new(crate::worker::audit::Audit::new(
                    self.sap.clone(),
                    magento.clone(),
                )),
            );
        }
        if let Some(prices) = &self.prices {
            handlers = handlers.register(
                JobKind::PriceSync,
                RunJob::new(PriceSync::new(Arc::new(self.sap.clone()), prices.clone())),
            );
        }
        handlers
    }

    /// The periodic runs this process schedules.
    pub fn schedules(&self) -> Vec<Schedule> {
        let mut schedules = Vec::new();
        if self.magento.is_some() {
            schedules.push(Schedule {
                kind: RunKind::StockSync,
                every: self.stock_sync_every,
            });
        } else {
            tracing::info!(
                "no MAGENTO_URL: stock sync runs are neither scheduled nor executed here"
            );
        }
        if self.magento_client.is_some() {
            schedules.push(Schedule {
                kind: RunKind::StatusSync,
                every: self.status_sync_every,
            });
            schedules.push(Schedule {
                kind: RunKind::Backfill,
                every: self.backfill_every,
            });
            schedules.push(Schedule {
                kind: RunKind::Reconcile,
                every: self.reconcile_every,
            });
        } else {
            tracing::info!(
                "no MAGENTO_URL: no shipments or comments go back to Magento, no order poll, no reconciliation"
            );
        }
        if self.prices.is_some() {
            schedules.push(Schedule {
                kind: RunKind::PriceSync,
                every: self.price_sync_every,
            });
        }
        schedules
    }
}

struct Http {
    listener: TcpListener,
    router: axum::Router,
}

pub struct Application {
    http: Option<Http>,
    pool: sqlx::PgPool,
    workers: Option<(Workers, sqlx::PgPool)>,
    /// The API's own SAP client when no workers run (logged out at stop).
    api_sap: Option<SapClient>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
}

impl Application {
    /// The HTTP service without SAP: admin changes are stored without checking their codes
    /// against SAP B1 master data (the worker reports a bad code as an exception later).
    pub async fn build(settings: ServeSettings) -> Result<Self, AppError> {
        Self::build_with_sap(settings, None).await
    }

    /// The HTTP service; with `sap`, every mapping and settings change is checked against SAP
    /// B1 master data through it. No workers.
    pub async fn build_with_sap(
        settings: ServeSettings,
        sap: Option<SapClient>,
    ) -> Result<Self, AppError> {
        Self::build_service(settings, None, sap).await
    }

    /// `serve`: HTTP and, with `workers`, the worker pool and the schedulers. The API checks
    /// admin changes with the workers' SAP client (one session, one limiter), else with
    /// `api_sap` if given.
    pub async fn build_service(
        settings: ServeSettings,
        workers: Option<Workers>,
        api_sap: Option<SapClient>,
    ) -> Result<Self, AppError> {
        let pool = open_pool(&settings.database, settings.migrate).await?;
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| AppError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        let check_sap = workers.as_ref().map(|w| w.sap.clone()).or(api_sap.clone());
        let ctx = ApiContext {
            pool: pool.clone(),
            webhook: Arc::new(settings.webhook),
            api_tokens: Arc::new(settings.api_tokens),
            master_data: check_sap.map(|sap| {
                Arc::new(SapMasterData::new(sap)) as Arc<dyn api::master_data::MasterDataCheck>
            }),
            intake: IntakeBatcher::start(pool.clone(), INTAKE_BATCH_TASKS, INTAKE_MAX_BATCH),
        };
        // The workers get their own connections: the HTTP server closes its pool when it
        // stops, while jobs may still be finishing, and intake must never wait for a
        // connection that a busy worker holds.
        let workers = match workers {
            Some(w) => Some((
                w.listening_at(&settings.database),
                store::connect_lazy(&settings.database)?,
            )),
            None => None,
        };
        Ok(Self {
            http: Some(Http {
                listener,
                router: http::router(ctx),
            }),
            pool,
            api_sap: if workers.is_none() { api_sap } else { None },
            workers,
        })
    }

    /// `worker`: the worker pool and the schedulers; no API, and with `metrics_listen` only
    /// `/metrics`, `/healthz` and `/readyz` there (its jobs, SAP latency and concurrency are
    /// this process's own, invisible to a `serve` elsewhere).
    pub async fn build_workers(
        database: &DatabaseSettings,
        migrate: bool,
        workers: Workers,
        metrics_listen: Option<SocketAddr>,
    ) -> Result<Self, AppError> {
        let pool = open_pool(database, migrate).await?;
        let http = match metrics_listen {
            Some(addr) => Some(Http {
                listener: TcpListener::bind(addr)
                    .await
                    .map_err(|source| AppError::Bind { addr, source })?,
                router: http::probes_router(pool.clone()),
            }),
            None => None,
        };
        Ok(Self {
            http,
            workers: Some((workers.listening_at(database), pool.clone())),
            pool,
            api_sap: None,
        })
    }

    /// The bound address (tests bind port 0).
    pub fn address(&self) -> SocketAddr {
        self.listening().expect("this application serves HTTP")
    }

    /// The bound address, if this application serves HTTP.
    pub fn listening(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|h| {
            h.listener
                .local_addr()
                .expect("a bound listener has an address")
        })
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    /// Runs until `shutdown` resolves: HTTP finishes in-flight requests, the pool stops
    /// claiming and lets jobs in flight finish, the schedulers stop, SAP is logged out.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let stop = CancellationToken::new();
        tokio::spawn({
            let stop = stop.clone();
            async move {
                shutdown.await;
                stop.cancel();
            }
        });
        let background = self
            .workers
            .map(|(workers, pool)| tokio::spawn(run_workers(pool, workers, stop.clone())));
        let served = match self.http {
            Some(h) => {
                let served = axum::serve(h.listener, h.router)
                    .with_graceful_shutdown(stop.clone().cancelled_owned())
                    .await;
                stop.cancel();
                served
            }
            None => {
                stop.cancelled().await;
                Ok(())
            }
        };
        if let Some(task) = background {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the worker task ended abnormally");
            }
        }
        if let Some(sap) = self.api_sap {
            if let Err(e) = sap.logout().await {
                tracing::warn!(error = %e, "SAP logout failed; the session will time out");
            }
        }
        self.pool.close().await;
        served?;
        Ok(())
    }
}

async fn open_pool(database: &DatabaseSettings, migrate: bool) -> Result<sqlx::PgPool, AppError> {
    Ok(if migrate {
        let session = store::connect_session(database).await?;
        store::migrate(&session).await?;
        session.close().await;
        store::connect(database).await?
    } else {
        store::connect_lazy(database)?
    })
}

/// The worker pool and the schedulers, until `stop`; the pool logs out of SAP when it ends.
async fn run_workers(pool: sqlx::PgPool, workers: Workers, stop: CancellationToken) {
    let schedules = workers.schedules();
    let handlers = workers.handlers();
    let scheduler = tokio::spawn(scheduler::run(
        pool.clone(),
        schedules,
        stop.clone().cancelled_owned(),
    ));
    let purge = tokio::spawn(scheduler::retention::run(
        pool.clone(),
        workers.body_retention,
        stop.clone().cancelled_owned(),
    ));
    pipeline::run_with(
        pool.clone(),
        workers.sap,
        handlers,
        workers.config,
        stop.cancelled_owned(),
    )
    .await;
    let _ = scheduler.await;
    let _ = purge.await;
    pool.close().await;
}

/// Resolves on SIGTERM (orchestrators) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
