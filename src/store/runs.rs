//! Runs of the periodic jobs: started (with the outbox job that executes them) in one
//! transaction, one active run per kind across all processes (a unique index), listed newest
//! first for `GET /api/v1/runs`.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use uuid::Uuid;

use super::{outbox, StoreError};
use crate::domain::run::{RunKind, RunStatus, RunTrigger};

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: Uuid,
    pub kind: RunKind,
    pub trigger: RunTrigger,
    pub requested_by: String,
    pub status: RunStatus,
    pub figures: serde_json::Value,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: Uuid,
    kind: String,
    trigger: String,
    requested_by: String,
    status: String,
    figures: serde_json::Value,
    error: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

const SELECT_RUN: &str = "SELECT id, kind, trigger, requested_by, status, figures, error, \
                          created_at, started_at, finished_at FROM runs";

impl TryFrom<RunRow> for Run {
    type Error = StoreError;

    fn try_from(r: RunRow) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str, v: &str| StoreError::Corrupt(format!("run {}: {what} '{v}'", r.id));
        Ok(Run {
            kind: RunKind::parse(&r.kind).ok_or_else(|| corrupt("kind", &r.kind))?,
            trigger: RunTrigger::parse(&r.trigger).ok_or_else(|| corrupt("trigger", &r.trigger))?,
            status: RunStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            id: r.id,
            requested_by: r.requested_by,
            figures: r.figures,
            error: r.error,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        })
    }
}

/// Why a run was not started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A run of the kind is queued or running (in this process or another).
    #[error("a {kind} run is already active: {run}", kind = kind.as_str())]
    Active { kind: RunKind, run: Uuid },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts a run now: the run row and the job that executes it, in one transaction. Fails with
/// [`StartError::Active`] while another run of the kind is queued or running.
pub async fn start(
    pool: &PgPool,
    kind: RunKind,
    trigger: RunTrigger,
    requested_by: &str,
) -> Result<Run, StartError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    let run = insert(&mut tx, kind, trigger, requested_by).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(run)
}

/// What the scheduler's tick found.
#[derive(Debug)]
pub enum Due {
    Started(Run),
    /// Due, but a run of the kind is still active: this interval's run is skipped.
    Skipped {
        active: Uuid,
    },
    /// A run (of any trigger, in any process) started less than an interval ago.
    NotDue,
}

/// Starts a scheduled run when the last run of the kind started at least `every` ago (on the
/// database's clock, which all processes share). Schedulers of several processes are
/// serialised by an advisory lock on the kind, so one interval gets one run.
pub async fn start_if_due(
    pool: &PgPool,
    kind: RunKind,
    every: Duration,
) -> Result<Due, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('b1bridge.runs.' || $1))")
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await?;
    let due: bool = sqlx::query_scalar(
        "SELECT coalesce(max(created_at) <= now() - $2 * interval '1 millisecond', true)
           FROM runs WHERE kind = $1",
    )
    .bind(kind.as_str())
    .bind(i64::try_from(every.as_millis()).unwrap_or(i64::MAX))
    .fetch_one(&mut *tx)
    .await?;
    if !due {
        return Ok(Due::NotDue);
    }
    match insert(&mut tx, kind, RunTrigger::Schedule, "scheduler").await {
        Ok(run) => {
            tx.commit().await?;
            Ok(Due::Started(run))
        }
        Err(StartError::Active { run, .. }) => Ok(Due::Skipped { active: run }),
        Err(StartError::Store(e)) => Err(e),
    }
}

async fn insert(
    conn: &mut PgConnection,
    kind: RunKind,
    trigger: RunTrigger,
    requested_by: &str,
) -> Result<Run, StartError> {
    let id = Uuid::new_v4();
    // ON CONFLICT on the partial unique index: the active run wins, nothing is written.
    let row: Option<RunRow> = sqlx::query_as(
        "WITH ins AS (
            INSERT INTO runs (id, kind, trigger, requested_by) VALUES ($1, $2, $3, $4)
            ON CONFLICT (kind) WHERE status IN ('queued', 'running') DO NOTHING
            RETURNING *
         ) SELECT id, kind, trigger, requested_by, status, figures, error, created_at,
                  started_at, finished_at FROM ins",
    )
    .bind(id)
    .bind(kind.as_str())
    .bind(trigger.as_str())
    .bind(requested_by)
    .fetch_optional(&mut *conn)
    .await
    .map_err(StoreError::from)?;
    let Some(row) = row else {
        let active: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM runs WHERE kind = $1 AND status IN ('queued', 'running')",
        )
        .bind(kind.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(StoreError::from)?;
        return Err(StartError::Active {
            kind,
            // It may have finished in between; the caller only reports it.
            run: active.unwrap_or(id),
        });
    };
    outbox::enqueue_other(conn, &id.to_string(), kind.job_kind()).await?;
    Ok(row.try_into()?)
}

/// Marks a run as running (again, when a worker takes over a run whose worker died) and
/// returns it; `None` if there is no such run or it has already finished.
pub async fn begin(pool: &PgPool, id: Uuid) -> Result<Option<Run>, StoreError> {
    let row: Option<RunRow> = sqlx::query_as(
        "UPDATE runs SET status = 'running', started_at = coalesce(started_at, now())
          WHERE id = $1 AND status IN ('queued', 'running')
         RETURNING id, kind, trigger, requested_by, status, figures, error, created_at,
                   started_at, finished_at",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(TryInto::try_into).transpose()
}

/// Records how a run ended, in the caller's transaction (the one that completes its job).
pub async fn finish(
    conn: &mut PgConnection,
    id: Uuid,
    status: RunStatus,
    figures: &serde_json::Value,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE runs SET status = $2, figures = $3, error = $4, finished_at = now()
          WHERE id = $1 AND status IN ('queued', 'running')",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(figures)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Run>, StoreError> {
    let row: Option<RunRow> = sqlx::query_as(&format!("{SELECT_RUN} WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(TryInto::try_into).transpose()
}

/// A position in the list: the last row of the previous page.
#[derive(Debug, Clone)]
pub struct RunCursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

/// Runs newest first, optionally of one kind.
pub async fn list(
    pool: &PgPool,
    kind: Option<RunKind>,
    after: Option<&RunCursor>,
    limit: i64,
) -> Result<Vec<Run>, StoreError> {
    let rows: Vec<RunRow> = sqlx::query_as(&format!(
        "{SELECT_RUN}
          WHERE ($1::text IS NULL OR kind = $1)
            AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
          ORDER BY created_at DESC, id DESC
          LIMIT $4"
    ))
    .bind(kind.map(RunKind::as_str))
    .bind(after.map(|c| c.created_at))
    .bind(after.map(|c| c.id))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// When the last successful run of `kind` finished (its data's freshness).
pub async fn last_success(
    conn: &mut PgConnection,
    kind: RunKind,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT max(finished_at) FROM runs WHERE kind = $1 AND status = 'succeeded'",
    )
    .bind(kind.as_str())
    .fetch_one(&mut *conn)
    .await?)
}

/// When the last successful run of `kind` whose figures say `"full": true` started.
pub async fn last_full_success(
    pool: &PgPool,
    kind: RunKind,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT max(started_at) FROM runs
          WHERE kind = $1 AND status = 'succeeded' AND (figures ->> 'full')::boolean",
    )
    .bind(kind.as_str())
    .fetch_one(pool)
    .await?)
}
