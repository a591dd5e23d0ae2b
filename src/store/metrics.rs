//! Aggregate counts of the current state: what a Prometheus scrape reads, and the "now" half
//! of the daily report (see [`super::daily_report`]), from the same queries.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::StoreError;

/// What a Prometheus scrape reports; every list is `(label value, count)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Outbox jobs by status (`pending`, `running`, `done`, `parked`).
    pub jobs_by_status: Vec<(String, i64)>,
    /// Exceptions still needing attention (`open` or `retrying`) by category.
    pub open_exceptions_by_category: Vec<(String, i64)>,
    /// Webhook events received, by outcome (`accepted`, `invalid`).
    pub events_by_outcome: Vec<(String, i64)>,
    /// Orders by status.
    pub orders_by_status: Vec<(String, i64)>,
    /// Age in seconds of the oldest pending job (0 when none): a stuck queue shows here first.
    pub oldest_pending_job_age_secs: f64,
    /// When the last successful stock sync finished (its data's freshness); `None`: never.
    pub stock_sync_last_success: Option<DateTime<Utc>>,
    /// Runs by kind and status.
    pub runs_by_kind_and_status: Vec<(String, String, i64)>,
    /// Per run kind that has finished a run: its latest run's figures.
    pub latest_runs: Vec<LatestRun>,
    /// Refunds (Magento credit memos) by status: `queued`, `waiting`, `posted`, `parked`.
    pub refunds_by_status: Vec<(String, i64)>,
}

/// The latest finished run of a kind, for the per-kind run metrics.
#[derive(Debug, Clone, PartialEq, Default, sqlx::FromRow)]
pub struct LatestRun {
    pub kind: String,
    /// Of the latest finished run, succeeded or not.
    pub duration_secs: Option<f64>,
    /// What the latest finished run pushed: its figures' `pushed` (every run kind that sends
    /// items somewhere reports them under that name), `None` when it has none.
    pub pushed: Option<i64>,
    /// When the latest successful run of the kind finished; `None`: never.
    pub last_success: Option<DateTime<Utc>>,
}

pub async fn snapshot(pool: &PgPool) -> Result<Snapshot, StoreError> {
    let mut conn = pool.acquire().await?;
    Ok(Snapshot {
        jobs_by_status: sum_by(jobs_by_kind_and_status(&mut conn).await?, |j| {
            (j.status, j.count)
        }),
        open_exceptions_by_category: sum_by(unresolved_exceptions(&mut conn).await?, |x| {
            (x.category, x.count)
        }),
        events_by_outcome: sqlx::query_as(
            "SELECT outcome, count(*) FROM webhook_events GROUP BY outcome ORDER BY outcome",
        )
        .fetch_all(&mut *conn)
        .await?,
        orders_by_status: orders_by_status(&mut conn).await?,
        oldest_pending_job_age_secs: oldest_pending_job(&mut conn)
            .await?
            .map_or(0.0, |j| j.age_secs),
        stock_sync_last_success: super::runs::last_success(
            &mut conn,
            crate::domain::run::RunKind::StockSync,
        )
        .await?,
        runs_by_kind_and_status: sqlx::query_as(
            "SELECT kind, status, count(*) FROM runs GROUP BY kind, status ORDER BY kind, status",
        )
        .fetch_all(&mut *conn)
        .await?,
        latest_runs: latest_runs(&mut conn).await?,
        refunds_by_status: sqlx::query_as(
            "SELECT status, count(*) FROM refunds GROUP BY status ORDER BY status",
        )
        .fetch_all(&mut *conn)
        .await?,
    })
}

/// Per kind: the latest finished run's duration and items pushed, and the latest success.
pub async fn latest_runs(conn: &mut PgConnection) -> Result<Vec<LatestRun>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT latest.kind, latest.duration_secs, latest.pushed, ok.last_success
           FROM (SELECT DISTINCT ON (kind) kind,
                        EXTRACT(EPOCH FROM finished_at - started_at)::float8 AS duration_secs,
                        CASE WHEN jsonb_typeof(figures->'pushed') = 'number'
                             THEN (figures->>'pushed')::numeric::bigint END AS pushed
                   FROM runs WHERE finished_at IS NOT NULL
                  ORDER BY kind, finished_at DESC) AS latest
           LEFT JOIN (SELECT kind, max(finished_at) AS last_success FROM runs
                       WHERE status = 'succeeded' GROUP BY kind) AS ok USING (kind)
          ORDER BY latest.kind",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Adds up `(label, count)` pairs per label, sorted by label.
fn sum_by<T>(rows: Vec<T>, pair: impl Fn(T) -> (String, i64)) -> Vec<(String, i64)> {
    let mut sums = std::collections::BTreeMap::<String, i64>::new();
    for (label, count) in rows.into_iter().map(pair) {
        *sums.entry(label).or_default() += count;
    }
    sums.into_iter().collect()
}

/// Orders by status, sorted by status.
pub async fn orders_by_status(conn: &mut PgConnection) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT status, count(*) FROM orders GROUP BY status ORDER BY status")
            .fetch_all(&mut *conn)
            .await?,
    )
}

/// Outbox jobs of one kind in one status.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobCount {
    pub kind: String,
    pub status: String,
    pub count: i64,
}

/// Every outbox job counted by kind and status (`done` included).
pub async fn jobs_by_kind_and_status(conn: &mut PgConnection) -> Result<Vec<JobCount>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT kind, status, count(*) AS count FROM outbox
          GROUP BY kind, status ORDER BY kind, status",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Exceptions that are `open` or `retrying`, counted per category as stored (with the owner
/// team and impact recorded with them) and status.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExceptionCount {
    pub category: String,
    pub owner_team: String,
    pub impact: String,
    pub status: String,
    pub count: i64,
}

pub async fn unresolved_exceptions(
    conn: &mut PgConnection,
) -> Result<Vec<ExceptionCount>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT category, owner_team, impact, status, count(*) AS count FROM exceptions
          WHERE status IN ('open', 'retrying')
          GROUP BY category, owner_team, impact, status
          ORDER BY category, owner_team, impact, status",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// The pending job that has waited longest since it was created.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PendingJob {
    pub id: i64,
    /// The job's order; `None` for a job that is not about an order (a run).
    pub increment_id: Option<String>,
    pub subject: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub run_after: DateTime<Utc>,
    pub age_secs: f64,
}

pub async fn oldest_pending_job(conn: &mut PgConnection) -> Result<Option<PendingJob>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, increment_id, subject, kind, created_at, run_after,
                EXTRACT(EPOCH FROM now() - created_at)::float8 AS age_secs
           FROM outbox WHERE status = 'pending'
          ORDER BY created_at, id LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_per_label_in_label_order() {
        let rows = vec![("pending", 2), ("done", 5), ("pending", 1), ("parked", 1)];
        assert_eq!(
            sum_by(rows, |(l, n)| (l.to_owned(), n)),
            [
                ("done".to_owned(), 5),
                ("parked".to_owned(), 1),
                ("pending".to_owned(), 3)
            ]
        );
    }
}
