//! The figures of the daily check (`GET /api/v1/reports/daily`): what happened during one UTC
//! day, and where things stand now. All of it is read in one read-only REPEATABLE READ
//! transaction, so the figures agree with each other and every age is measured from one
//! `now()`.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::metrics::{self, ExceptionCount, JobCount, PendingJob};
use super::StoreError;
use crate::domain::daily_check::UtcDay;

/// Everything the report shows, as stored (labels as text; the API checks them).
#[derive(Debug, Clone, PartialEq)]
pub struct DailyFigures {
    /// The database's clock when the figures were read.
    pub now: DateTime<Utc>,
    pub day: DayFigures,
    /// Orders by status, now.
    pub orders_by_status: Vec<(String, i64)>,
    /// Outbox jobs by kind and status, now (`done` included).
    pub jobs: Vec<JobCount>,
    pub oldest_pending_job: Option<PendingJob>,
    /// Pending jobs whose `run_after` has passed: due, but no worker has taken them.
    pub jobs_past_run_after: i64,
    /// Exceptions open or retrying, now.
    pub unresolved_exceptions: Vec<ExceptionCount>,
    pub oldest_unresolved_exception: Option<OldestException>,
    /// Age of the oldest `blocks_fulfilment` exception that is open or retrying.
    pub oldest_blocking_exception_age_secs: Option<i64>,
    pub stock_sync: StockSyncFigures,
    /// When the last webhook was received (any outcome).
    pub last_webhook_at: Option<DateTime<Utc>>,
    /// The Magento order poll that catches missed webhooks (`backfill` runs).
    pub backfill: StockSyncFigures,
    pub reconcile: StockSyncFigures,
    /// Reconciliation findings per category: first seen that day, and open or retrying now.
    pub drift: Vec<DriftCount>,
    /// Each Magento order created that day (not cancelled) as the last reconciliation saw it
    /// in both systems.
    pub totals: Vec<OrderTotals>,
}

/// Reconciliation findings of one category.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DriftCount {
    pub category: String,
    pub found: i64,
    pub open: i64,
}

/// One order's totals in both systems, as last reconciled.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrderTotals {
    pub increment_id: String,
    pub currency: String,
    pub magento_grand_total: rust_decimal::Decimal,
    pub sap_doc_total: Option<rust_decimal::Decimal>,
    pub sap_doc_num: Option<i32>,
}

/// A periodic run's freshness, now (stock sync, backfill poll, reconciliation).
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct StockSyncFigures {
    /// When the last stock run finished, whatever its outcome, and that outcome.
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_status: Option<String>,
    /// When the last successful stock run finished.
    pub last_success_at: Option<DateTime<Utc>>,
}

/// What happened within the day.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct DayFigures {
    /// Orders first heard of that day whose content has arrived.
    pub orders_received: i64,
    /// Orders whose first successful `post_order` job finished that day and that have a SAP
    /// document.
    pub orders_posted: i64,
    /// Received → posted, over the orders posted that day (null when none was).
    pub posting_latency_p50_secs: Option<f64>,
    pub posting_latency_p95_secs: Option<f64>,
    /// Orders whose Magento cancellation arrived that day.
    pub cancellations_requested: i64,
    /// Orders with a SAP document whose `cancel_order` job finished that day.
    pub cancelled_in_sap: i64,
    pub exceptions_opened: i64,
    pub exceptions_resolved: i64,
    pub exceptions_ignored: i64,
}

/// The exception that has waited longest, open or retrying.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OldestException {
    pub id: Uuid,
    pub category: String,
    pub status: String,
    pub order_increment_id: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub age_secs: i64,
}

pub async fn daily(pool: &PgPool, day: &UtcDay) -> Result<DailyFigures, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let figures = DailyFigures {
        now: sqlx::query_scalar("SELECT now()")
            .fetch_one(&mut *tx)
            .await?,
        day: day_figures(&mut tx, day).await?,
        orders_by_status: metrics::orders_by_status(&mut tx).await?,
        jobs: metrics::jobs_by_kind_and_status(&mut tx).await?,
        oldest_pending_job: metrics::oldest_pending_job(&mut tx).await?,
        jobs_past_run_after: sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE status = 'pending' AND run_after < now()",
        )
        .fetch_one(&mut *tx)
        .await?,
        unresolved_exceptions: metrics::unresolved_exceptions(&mut tx).await?,
        oldest_unresolved_exception: sqlx::query_as(
            "SELECT id, category, status, order_increment_id, first_seen_at,
                    floor(EXTRACT(EPOCH FROM now() - first_seen_at))::bigint AS age_secs
               FROM exceptions WHERE status IN ('open', 'retrying')
              ORDER BY first_seen_at, id LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?,
        oldest_blocking_exception_age_secs: sqlx::query_scalar(
            "SELECT floor(EXTRACT(EPOCH FROM now() - min(first_seen_at)))::bigint
               FROM exceptions
              WHERE status IN ('open', 'retrying') AND impact = 'blocks_fulfilment'",
        )
        .fetch_one(&mut *tx)
        .await?,
        stock_sync: run_freshness(&mut tx, "stock_sync").await?,
        last_webhook_at: sqlx::query_scalar("SELECT max(received_at) FROM webhook_events")
            .fetch_one(&mut *tx)
            .await?,
        backfill: run_freshness(&mut tx, "backfill").await?,
        reconcile: run_freshness(&mut tx, "reconcile").await?,
        drift: sqlx::query_as(
            "SELECT category,
                    count(*) FILTER (WHERE first_seen_at >= $1 AND first_seen_at < $2) AS found,
                    count(*) FILTER (WHERE status IN ('open', 'retrying')) AS open
               FROM exceptions WHERE dedup_key LIKE 'reconcile|%'
              GROUP BY category ORDER BY category",
        )
        .bind(day.from)
        .bind(day.until)
        .fetch_all(&mut *tx)
        .await?,
        totals: sqlx::query_as(
            "SELECT increment_id, currency, magento_grand_total, sap_doc_total, sap_doc_num
               FROM reconciled_totals
              WHERE magento_created_at >= $1 AND magento_created_at < $2
                AND magento_state IS DISTINCT FROM 'canceled'
              ORDER BY currency, increment_id",
        )
        .bind(day.from)
        .bind(day.until)
        .fetch_all(&mut *tx)
        .await?,
    };
    tx.commit().await?;
    Ok(figures)
}

/// The last finished run of `kind` (whatever its outcome) and the last successful one.
async fn run_freshness(
    conn: &mut PgConnection,
    kind: &str,
) -> Result<StockSyncFigures, StoreError> {
    Ok(sqlx::query_as(
        "SELECT (SELECT finished_at FROM runs WHERE kind = $1 AND finished_at IS NOT NULL
                  ORDER BY finished_at DESC LIMIT 1) AS last_run_at,
                (SELECT status FROM runs WHERE kind = $1 AND finished_at IS NOT NULL
                  ORDER BY finished_at DESC LIMIT 1) AS last_status,
                (SELECT max(finished_at) FROM runs
                  WHERE kind = $1 AND status = 'succeeded') AS last_success_at",
    )
    .bind(kind)
    .fetch_one(&mut *conn)
    .await?)
}

/// One round trip for the day's figures. "Posted" is read from the outbox: the successful
/// `post_order` job commits together with the order's SAP document, so its `finished_at` is
/// the moment of posting (a job closed as superseded, or one that found the order cancelled
/// and left it without a SAP document, is no posting).
async fn day_figures(conn: &mut PgConnection, day: &UtcDay) -> Result<DayFigures, StoreError> {
    Ok(sqlx::query_as(
        r#"
        WITH posted AS (
            SELECT EXTRACT(EPOCH FROM j.finished_at - o.created_at)::float8 AS latency
              FROM outbox j JOIN orders o ON o.increment_id = j.increment_id
             WHERE j.kind = 'post_order' AND j.status = 'done' AND j.superseded_by IS NULL
               AND j.finished_at >= $1 AND j.finished_at < $2
               AND o.sap_doc_entry IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM outbox e
                                WHERE e.increment_id = j.increment_id AND e.id < j.id
                                  AND e.kind = 'post_order' AND e.status = 'done'
                                  AND e.superseded_by IS NULL)
        )
        SELECT
            (SELECT count(*) FROM orders
              WHERE created_at >= $1 AND created_at < $2 AND canonical IS NOT NULL)
                AS orders_received,
            (SELECT count(*) FROM posted) AS orders_posted,
            (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency) FROM posted)
                AS posting_latency_p50_secs,
            (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY latency) FROM posted)
                AS posting_latency_p95_secs,
            (SELECT count(*) FROM orders
              WHERE cancel_requested_at >= $1 AND cancel_requested_at < $2)
                AS cancellations_requested,
            (SELECT count(DISTINCT j.increment_id)
               FROM outbox j JOIN orders o ON o.increment_id = j.increment_id
              WHERE j.kind = 'cancel_order' AND j.status = 'done'
                AND j.finished_at >= $1 AND j.finished_at < $2
                AND o.sap_doc_entry IS NOT NULL)
                AS cancelled_in_sap,
            (SELECT count(*) FROM exceptions WHERE first_seen_at >= $1 AND first_seen_at < $2)
                AS exceptions_opened,
            (SELECT count(*) FROM exceptions
              WHERE status = 'resolved' AND resolved_at >= $1 AND resolved_at < $2)
                AS exceptions_resolved,
            (SELECT count(*) FROM exceptions
              WHERE status = 'ignored' AND resolved_at >= $1 AND resolved_at < $2)
                AS exceptions_ignored
        "#,
    )
    .bind(day.from)
    .bind(day.until)
    .fetch_one(&mut *conn)
    .await?)
}
