//! Counts for `/metrics`: cheap aggregate queries, read at scrape time.
use sqlx::PgPool;

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
}

pub async fn snapshot(pool: &PgPool) -> Result<Snapshot, StoreError> {
    let counts = |sql: &'static str| async move {
        sqlx::query_as::<_, (String, i64)>(sql)
            .fetch_all(pool)
            .await
    };
    Ok(Snapshot {
        jobs_by_status: counts(
            "SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status",
        )
        .await?,
        open_exceptions_by_category: counts(
            "SELECT category, count(*) FROM exceptions WHERE status IN ('open', 'retrying')
              GROUP BY category ORDER BY category",
        )
        .await?,
        events_by_outcome: counts(
            "SELECT outcome, count(*) FROM webhook_events GROUP BY outcome ORDER BY outcome",
        )
        .await?,
        orders_by_status: counts(
            "SELECT status, count(*) FROM orders GROUP BY status ORDER BY status",
        )
        .await?,
        oldest_pending_job_age_secs: sqlx::query_scalar(
            "SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8
               FROM outbox WHERE status = 'pending'",
        )
        .fetch_one(pool)
        .await?,
    })
}
