//! The running service: built from settings, bound to its port, stopped by a signal.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

use crate::config::ServeSettings;
use crate::http::api::{self, sap_master_data::SapMasterData};
use crate::http::intake_batcher::IntakeBatcher;
use crate::http::{self, ApiContext};
use crate::sap::SapClient;
use crate::store;

/// Intake batch tasks: a few, so that one batch is written while the next one gathers.
const INTAKE_BATCH_TASKS: usize = 2;
/// Events per intake statement at most.
const INTAKE_MAX_BATCH: usize = 64;

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    pool: sqlx::PgPool,
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
    /// The service without SAP: admin changes are stored without checking their codes
    /// against SAP B1 master data (the worker reports a bad code as an exception later).
    pub async fn build(settings: ServeSettings) -> Result<Self, AppError> {
        Self::build_with_sap(settings, None).await
    }

    /// The service; with `sap`, every mapping and settings change is checked against SAP B1
    /// master data through it. Pass the workers' client, so the checks share their session
    /// and concurrency limit.
    pub async fn build_with_sap(
        settings: ServeSettings,
        sap: Option<SapClient>,
    ) -> Result<Self, AppError> {
        let pool = if settings.migrate {
            let pool = store::connect(&settings.database).await?;
            store::migrate(&pool).await?;
            pool
        } else {
            store::connect_lazy(&settings.database)?
        };
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| AppError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        let ctx = ApiContext {
            pool: pool.clone(),
            webhook: Arc::new(settings.webhook),
            api_tokens: Arc::new(settings.api_tokens),
            master_data: sap.map(|sap| {
                Arc::new(SapMasterData::new(sap)) as Arc<dyn api::master_data::MasterDataCheck>
            }),
            intake: IntakeBatcher::start(pool.clone(), INTAKE_BATCH_TASKS, INTAKE_MAX_BATCH),
        };
        Ok(Self {
            listener,
            router: http::router(ctx),
            pool,
        })
    }

    /// The bound address (tests bind port 0).
    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests before returning.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await?;
        self.pool.close().await;
        Ok(())
    }
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
