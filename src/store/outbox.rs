//! The outbox as a job queue. A worker claims jobs in one statement, committed before it
//! calls SAP; the claim gives it a lease (`locked_until`) and a fencing token (`attempt`), and
//! every write that finishes a job is fenced on both, so a worker that lost its lease cannot
//! overwrite the result of the worker that took over.
//!
//! Every job has an opaque subject (an order job's is its order's increment id; a scheduled
//! run's is the run). Per-subject order: a job is claimable only when every earlier job (lower
//! id) of its subject is `done`. Intake enqueues under the order's row lock, so ids follow
//! commit order per order.
//! One exception, so a parked post never blocks a cancellation for ever: a parked `post_order`
//! job with a later `cancel_order` job of the same order is superseded — closed as `done` with
//! `superseded_by` — by the next claim. The cancel handler then finds the order never posted
//! (or looks it up in SAP, if the post's outcome was ambiguous) and an operator's retry can no
//! longer post an order that Magento has cancelled.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use uuid::Uuid;

use super::intake::OUTBOX_CHANNEL;
use super::StoreError;
use crate::domain::order_flow::JobKind;

/// A job this worker now holds: it may call SAP for it until the lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: i64,
    /// What the job is about, opaque to the queue: the order's increment id for order jobs,
    /// the run's id for scheduled runs. Jobs of one subject run one at a time, in id order.
    pub subject: String,
    pub kind: JobKind,
    /// The fencing token: every write that finishes the job must present it.
    pub attempt: i32,
    /// The event that caused the job.
    pub event_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Attempts in the current retry round (1 on the first run and after an operator's retry);
    /// the retry budget counts these, not `attempt`.
    pub retry_attempt: u32,
    /// How long the current retry round had lasted when the job was claimed.
    pub retry_age: Duration,
}

/// Why a finishing write was refused.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    /// The worker no longer holds the job: its lease expired and the job was re-queued or
    /// claimed again. Its result is discarded (the transaction must be rolled back).
    #[error("job {job} attempt {attempt} no longer holds its lease; the result is rejected")]
    Fenced { job: i64, attempt: i32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for FinishError {
    fn from(e: sqlx::Error) -> Self {
        FinishError::Store(e.into())
    }
}

/// The claim (see [`claim`]; binds: worker id, lease in milliseconds, kinds, how many). Public
/// so that a test can `EXPLAIN` it: what it reads must not grow with the finished jobs the
/// outbox keeps (the partial index `outbox_pending_idx` sees to that).
pub const CLAIM_SQL: &str = r#"
        WITH superseded AS (
            UPDATE outbox p
               SET status = 'done', superseded_by = c.id, finished_at = now(), updated_at = now()
              FROM outbox c
             WHERE p.id IN (SELECT pp.id FROM outbox pp
                             WHERE pp.kind = 'post_order' AND pp.status = 'parked'
                               AND EXISTS (SELECT 1 FROM outbox cc
                                            WHERE cc.increment_id = pp.increment_id
                                              AND cc.kind = 'cancel_order' AND cc.status = 'pending'
                                              AND cc.id > pp.id)
                               FOR UPDATE SKIP LOCKED)
               AND c.increment_id = p.increment_id AND c.kind = 'cancel_order'
               AND c.status = 'pending' AND c.id > p.id
            RETURNING p.id
        ),
        ready AS (
            SELECT j.id
              FROM outbox j
             WHERE j.status = 'pending'
               AND j.run_after <= now()
               AND j.kind = ANY($3)
               AND NOT EXISTS (SELECT 1 FROM outbox e
                                WHERE e.subject = j.subject
                                  AND e.id < j.id
                                  AND e.status <> 'done'
                                  AND e.id NOT IN (SELECT id FROM superseded))
             ORDER BY j.id
             LIMIT $4
               FOR UPDATE OF j SKIP LOCKED
        )
        UPDATE outbox j
           SET status = 'running',
               attempt = j.attempt + 1,
               locked_until = now() + $2 * interval '1 millisecond',
               locked_by = $1,
               updated_at = now()
          FROM ready
         WHERE j.id = ready.id
        RETURNING j.id, j.subject, j.kind, j.attempt, j.event_id, j.created_at,
                  j.attempt - j.retry_from_attempt AS retry_attempt,
                  (extract(epoch FROM now() - j.retry_since) * 1000)::bigint AS retry_age_ms,
                  (SELECT count(*) FROM superseded) AS superseded
        "#;

/// Claims up to `n` ready jobs of the given kinds for `worker_id`, leased for `lease`. Jobs
/// locked by a concurrent claimer are skipped, never waited for.
///
/// One statement, so one round trip and one commit: it first closes the parked posts that a
/// queued cancellation made pointless (see the module docs; rows another transaction holds,
/// such as an operator's retry or a concurrent claimer, are skipped: either that transaction
/// re-queues the post, and the cancel waits behind it as usual, or a later claim supersedes
/// it). All parts of a statement see one snapshot, so the ready jobs' check counts the posts
/// closed by this very statement as done, and the cancellation is claimed at once.
pub async fn claim(
    pool: &PgPool,
    worker_id: &str,
    kinds: &[JobKind],
    n: usize,
    lease: Duration,
) -> Result<Vec<ClaimedJob>, StoreError> {
    if n == 0 || kinds.is_empty() {
        return Ok(vec![]);
    }
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let rows: Vec<ClaimRow> = sqlx::query_as(CLAIM_SQL)
        .bind(worker_id)
        .bind(millis(lease))
        .bind(&kinds)
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?;
    // A superseded post's cancellation is ready in the same statement, so a claim that
    // superseded anything returns at least that job (when this pool does cancellations).
    if let Some(superseded) = rows.first().map(|r| r.superseded).filter(|n| *n > 0) {
        tracing::info!(superseded, "parked post jobs superseded by cancellations");
    }
    let mut jobs = rows
        .into_iter()
        .map(ClaimRow::into_job)
        .collect::<Result<Vec<_>, _>>()?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// Queues a job about a subject that is not an order (a run), in the caller's transaction,
/// and wakes the workers on commit. Returns the job's id.
pub async fn enqueue_other(
    conn: &mut PgConnection,
    subject: &str,
    kind: JobKind,
) -> Result<i64, StoreError> {
    let id: i64 =
        sqlx::query_scalar("INSERT INTO outbox (other_subject, kind) VALUES ($1, $2) RETURNING id")
            .bind(subject)
            .bind(kind.as_str())
            .fetch_one(&mut *conn)
            .await?;
    notify(conn, subject).await?;
    Ok(id)
}

/// Extends the lease of a job that is still running; `false` when the worker no longer holds
/// it (the lease expired and the job was reaped or claimed by someone else).
pub async fn renew(
    pool: &PgPool,
    id: i64,
    attempt: i32,
    lease: Duration,
) -> Result<bool, StoreError> {
    let rows = sqlx::query(
        "UPDATE outbox SET locked_until = now() + $3 * interval '1 millisecond'
          WHERE id = $1 AND attempt = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(attempt)
    .bind(millis(lease))
    .execute(pool)
    .await?
    .rows_affected();
    Ok(rows == 1)
}

/// Marks the job done. Runs in the caller's transaction, so a handler's own writes (the SAP
/// DocEntry, the order's new status) commit together with it, or not at all when fenced.
/// Wakes the workers when a later job of the same subject is waiting for this one.
pub async fn complete(conn: &mut PgConnection, id: i64, attempt: i32) -> Result<(), FinishError> {
    let row: Option<(String, bool)> = sqlx::query_as(
        r#"
        WITH finished AS (
            UPDATE outbox
               SET status = 'done', finished_at = now(), locked_until = NULL, updated_at = now()
             WHERE id = $1 AND attempt = $2 AND status = 'running'
            RETURNING subject
        )
        SELECT f.subject,
               EXISTS (SELECT 1 FROM outbox n
                        WHERE n.subject = f.subject AND n.id > $1 AND n.status = 'pending')
          FROM finished f
        "#,
    )
    .bind(id)
    .bind(attempt)
    .fetch_optional(&mut *conn)
    .await?;
    let (subject, successor_waits) = row.ok_or(FinishError::Fenced { job: id, attempt })?;
    if successor_waits {
        notify(conn, &subject).await?;
    }
    Ok(())
}

/// Puts the job back in the queue to run again after `delay` (measured on the database's
/// clock, the one clock all workers share), keeping `error` as its last error.
pub async fn retry_later(
    conn: &mut PgConnection,
    id: i64,
    attempt: i32,
    delay: Duration,
    error: &serde_json::Value,
) -> Result<(), FinishError> {
    let rows = sqlx::query(
        r#"
        UPDATE outbox
           SET status = 'pending', run_after = now() + $3 * interval '1 millisecond',
               last_error = $4, locked_until = NULL, locked_by = NULL, updated_at = now()
         WHERE id = $1 AND attempt = $2 AND status = 'running'
        "#,
    )
    .bind(id)
    .bind(attempt)
    .bind(millis(delay))
    .bind(error)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    fenced(rows, id, attempt)
}

/// Parks the job: it waits for an operator. What that means for the job's subject (an order
/// held, an exception filed) is the handler's part, recorded in the same transaction.
pub async fn park(
    conn: &mut PgConnection,
    id: i64,
    attempt: i32,
    error: &serde_json::Value,
) -> Result<(), FinishError> {
    let rows = sqlx::query(
        r#"
        UPDATE outbox
           SET status = 'parked', last_error = $3, locked_until = NULL, locked_by = NULL,
               updated_at = now()
         WHERE id = $1 AND attempt = $2 AND status = 'running'
        "#,
    )
    .bind(id)
    .bind(attempt)
    .bind(error)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    fenced(rows, id, attempt)
}

/// Returns running jobs whose lease expired to the queue, to run at once. `attempt` stays, so
/// the worker that lost the lease is rejected by the fence if it ever reports back. Wakes the
/// workers when anything was reaped.
pub async fn reap_expired(pool: &PgPool) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let reaped: Vec<(i64, String)> = sqlx::query_as(
        r#"
        UPDATE outbox
           SET status = 'pending', run_after = now(), locked_until = NULL, locked_by = NULL,
               last_error = jsonb_build_object('kind', 'lease_expired', 'worker', locked_by,
                                               'attempt', attempt),
               updated_at = now()
         WHERE status = 'running' AND locked_until < now()
        RETURNING id, subject
        "#,
    )
    .fetch_all(&mut *tx)
    .await?;
    for (id, subject) in &reaped {
        tracing::warn!(job = id, subject = %subject, "lease expired; job returned to the queue");
    }
    if let Some((_, subject)) = reaped.first() {
        notify(&mut tx, subject).await?;
    }
    tx.commit().await?;
    Ok(reaped.len() as u64)
}

/// Re-queues the parked jobs of an order, to run at once with a fresh retry budget (the API's
/// retry action). Runs in the caller's transaction, which also sets the order's status and
/// records the action; returns how many jobs were re-queued (0: nothing was parked).
pub async fn requeue_parked(
    conn: &mut PgConnection,
    increment_id: &str,
) -> Result<u64, StoreError> {
    let rows = sqlx::query(
        r#"
        UPDATE outbox
           SET status = 'pending', run_after = now(), retry_from_attempt = attempt,
               retry_since = now(), locked_until = NULL, locked_by = NULL, updated_at = now()
         WHERE increment_id = $1 AND status = 'parked'
        "#,
    )
    .bind(increment_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if rows > 0 {
        notify(conn, increment_id).await?;
    }
    Ok(rows)
}

/// How long until the next pending job of these kinds becomes due, if one is waiting for its
/// backoff: lets an idle worker sleep exactly that long instead of a whole poll interval.
pub async fn next_due(pool: &PgPool, kinds: &[JobKind]) -> Result<Option<Duration>, StoreError> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let ms: Option<i64> = sqlx::query_scalar(
        r#"
        SELECT ceil(extract(epoch FROM min(run_after) - now()) * 1000)::bigint
          FROM outbox
         WHERE status = 'pending' AND kind = ANY($1) AND run_after > now()
        "#,
    )
    .bind(&kinds)
    .fetch_one(pool)
    .await?;
    Ok(ms.map(|ms| Duration::from_millis(ms.max(0) as u64)))
}

/// Delivered on commit: workers wake at once instead of waiting for their poll.
/// Wakes the workers (on commit) for a job just queued about `subject`.
pub async fn notify_subject(conn: &mut PgConnection, subject: &str) -> Result<(), StoreError> {
    notify(conn, subject).await
}

async fn notify(conn: &mut PgConnection, subject: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(OUTBOX_CHANNEL)
        .bind(subject)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn fenced(rows: u64, job: i64, attempt: i32) -> Result<(), FinishError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(FinishError::Fenced { job, attempt })
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: i64,
    subject: String,
    kind: String,
    attempt: i32,
    event_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    retry_attempt: i32,
    retry_age_ms: i64,
    /// Parked posts the claim closed (the same figure on every row).
    superseded: i64,
}

impl ClaimRow {
    fn into_job(self) -> Result<ClaimedJob, StoreError> {
        let id = self.id;
        let corrupt = |what: String| StoreError::Corrupt(format!("outbox job {id}: {what}"));
        Ok(ClaimedJob {
            id: self.id,
            subject: self.subject,
            kind: JobKind::parse(&self.kind)
                .ok_or_else(|| corrupt(format!("unknown kind '{}'", self.kind)))?,
            attempt: self.attempt,
            event_id: self.event_id,
            created_at: self.created_at,
            retry_attempt: self.retry_attempt.max(1) as u32,
            retry_age: Duration::from_millis(self.retry_age_ms.max(0) as u64),
        })
    }
}
