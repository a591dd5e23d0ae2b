//! Postgres storage. All SQL lives here; functions that must commit together take a
//! `&mut PgConnection` from the caller's transaction.
pub mod audit;
pub mod daily_report;
pub mod day_series;
pub mod documents;
pub mod exceptions;
pub mod intake;
pub mod intake_batch;
pub mod mappings;
pub mod metrics;
pub mod orders_view;
pub mod outbox;
pub mod posting;
pub mod prices;
pub mod reconcile;
pub mod refunds;
pub mod retention;
pub mod retry;
pub mod runs;
pub mod settings;
pub mod status_sync;
pub mod stock;
pub mod tokens;
pub mod ui_sessions;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;

use crate::config::DatabaseSettings;

/// Storage failures, split by what the caller should do about them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Postgres cannot be reached or has no connection to spare: retry later (HTTP 503).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            // 57P01 admin shutdown, 57P03 cannot connect now, 08xxx connection exceptions.
            sqlx::Error::Database(db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c == "57P01" || c == "57P03") =>
            {
                StoreError::Unavailable(e)
            }
            _ => StoreError::Database(e),
        }
    }
}

impl StoreError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// A lazily connecting pool: the service starts (and answers 503) while Postgres is down,
/// and recovers by itself when it is back.
pub fn connect_lazy(settings: &DatabaseSettings) -> Result<PgPool, StoreError> {
    let options =
        PgConnectOptions::from_str(settings.url.expose_secret()).map_err(StoreError::Database)?;
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_lazy_with(options))
}

/// Connects now, failing if Postgres is unreachable (used by `migrate` and start-up).
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, StoreError> {
    let pool = connect_lazy(settings)?;
    sqlx::query("SELECT 1").execute(&pool).await?;
    Ok(pool)
}

/// One connection to `session_url` (Postgres itself when `DATABASE_URL` is a transaction-mode
/// pooler): migrations hold a session advisory lock, which such a pooler cannot carry.
pub async fn connect_session(settings: &DatabaseSettings) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(settings.session_url().expose_secret())
        .map_err(StoreError::Database)?;
    Ok(PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await?)
}

pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}

/// Begins a transaction whose commit does not wait for its WAL to reach disk
/// (`synchronous_commit = off` for this transaction only, sent with its `BEGIN` in one round
/// trip). It saves a disk flush per commit, about 0.7 ms here, on a worker's path.
///
/// Only for writes whose loss is repaired by the next attempt of the same job, never for
/// anything acknowledged to the outside (intake's 2xx, an operator's action), nor for a claim,
/// whose attempt number fences later writes. What it risks (PostgreSQL manual, "Asynchronous
/// Commit"): if *Postgres* crashes (a crash of b1bridge is harmless), the last such commits,
/// at most about three `wal_writer_delay`s old (600 ms by default), are lost, and the database
/// is as if they had rolled back, never half-written. WAL is flushed in order, so any later
/// durable commit (the next claim, say) makes every earlier one durable too. See
/// docs/sap-exactly-once.md for why a lost posting record is repaired.
pub async fn begin_recoverable(
    pool: &PgPool,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    pool.begin_with("BEGIN; SET LOCAL synchronous_commit = off")
        .await
}

/// `readyz`: can we run a query right now?
pub async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
