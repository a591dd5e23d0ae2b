//! Hour-by-hour figures of one UTC day for the operations page's pictures: orders received
//! and posted per hour, exceptions opened per hour, and the queue's depth at the end of each
//! hour. Nothing is sampled: all of it is read back from the rows' own timestamps.
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;
use crate::domain::daily_check::UtcDay;

/// One hour of the day, `[hour, hour + 1 h)`. Hours after now are not returned.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HourFigures {
    pub hour: DateTime<Utc>,
    /// Orders first heard of in the hour, with content (as the daily report counts them).
    pub received: i64,
    /// Orders whose first successful post finished in the hour (as the daily report counts).
    pub posted: i64,
    pub exceptions_opened: i64,
    /// Outbox jobs not finished at the end of the hour (or now, for the current hour):
    /// pending, running or parked then. Rebuilt from `created_at` and `finished_at`; a job
    /// parked and later finished counts as unfinished for the hours in between, as it was.
    pub queue_depth: i64,
}

pub async fn hourly(pool: &PgPool, day: &UtcDay) -> Result<Vec<HourFigures>, StoreError> {
    Ok(sqlx::query_as(
        r#"
        WITH hours AS (
            SELECT h, least(h + interval '1 hour', now()) AS upto
              FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour',
                                   interval '1 hour') AS h
             WHERE h <= now()
        ),
        -- Only jobs that were unfinished at some moment of the day matter for its depth.
        day_jobs AS (
            SELECT created_at, finished_at FROM outbox
             WHERE created_at < $2 AND (finished_at IS NULL OR finished_at >= $1)
        ),
        first_posts AS (
            SELECT j.finished_at
              FROM outbox j JOIN orders o ON o.increment_id = j.increment_id
             WHERE j.kind = 'post_order' AND j.status = 'done' AND j.superseded_by IS NULL
               AND j.finished_at >= $1 AND j.finished_at < $2
               AND o.sap_doc_entry IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM outbox e
                                WHERE e.increment_id = j.increment_id AND e.id < j.id
                                  AND e.kind = 'post_order' AND e.status = 'done'
                                  AND e.superseded_by IS NULL)
        )
        SELECT hours.h AS hour,
               (SELECT count(*) FROM orders
                 WHERE created_at >= hours.h AND created_at < hours.h + interval '1 hour'
                   AND canonical IS NOT NULL) AS received,
               (SELECT count(*) FROM first_posts
                 WHERE finished_at >= hours.h AND finished_at < hours.h + interval '1 hour')
                   AS posted,
               (SELECT count(*) FROM exceptions
                 WHERE first_seen_at >= hours.h AND first_seen_at < hours.h + interval '1 hour')
                   AS exceptions_opened,
               (SELECT count(*) FROM day_jobs
                 WHERE created_at < hours.upto
                   AND (finished_at IS NULL OR finished_at >= hours.upto)) AS queue_depth
          FROM hours
         ORDER BY hours.h
        "#,
    )
    .bind(day.from)
    .bind(day.until)
    .fetch_all(pool)
    .await?)
}
