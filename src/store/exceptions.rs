//! The exception queue's storage. Recording is an upsert on the de-duplication key: a
//! recurring problem bumps `occurrences` on its open row instead of adding another.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, NewAuditEntry, Target, SYSTEM_ACTOR};
use super::StoreError;
use crate::domain::exception::{Category, Impact, NewException, OwnerTeam, SapErrorInfo};
use crate::domain::exception_flow::{
    transition, ExceptionAction, ExceptionStatus, IllegalTransition,
};

/// Records `new` (or bumps the open exception with the same key) and returns its id.
/// A `retrying` exception whose problem recurs becomes `open` again.
pub async fn record(
    conn: &mut PgConnection,
    new: &NewException,
    event_id: Option<Uuid>,
) -> Result<Uuid, StoreError> {
    let sap_error = new
        .sap_error
        .as_ref()
        .map(|e| serde_json::to_value(e).expect("serialisable"));
    let id: Uuid = sqlx::query_scalar(
        r#"
        INSERT INTO exceptions (id, category, owner_team, impact, title, detail, order_increment_id,
                                skus, sap_error, dedup_key, event_id, context)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (dedup_key) WHERE status IN ('open', 'retrying')
        DO UPDATE SET occurrences  = exceptions.occurrences + 1,
                      last_seen_at = now(),
                      status       = 'open',
                      title        = EXCLUDED.title,
                      detail       = EXCLUDED.detail,
                      sap_error    = EXCLUDED.sap_error,
                      context      = EXCLUDED.context,
                      event_id     = COALESCE(EXCLUDED.event_id, exceptions.event_id)
        RETURNING id
        "#,
    )
    .bind(Uuid::now_v7())
    .bind(new.category.as_str())
    .bind(new.category.owner_team().as_str())
    .bind(new.category.impact().as_str())
    .bind(&new.title)
    .bind(&new.detail)
    .bind(&new.order_increment_id)
    .bind(&new.skus)
    .bind(sap_error)
    .bind(&new.dedup_key)
    .bind(event_id)
    .bind(&new.context)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// An exception as stored, with its enums checked.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredException {
    pub id: Uuid,
    pub category: Category,
    pub owner_team: OwnerTeam,
    pub impact: Impact,
    pub status: ExceptionStatus,
    pub title: String,
    pub detail: String,
    pub order_increment_id: Option<String>,
    pub skus: Vec<String>,
    pub sap_error: Option<SapErrorInfo>,
    pub occurrences: i32,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub note: Option<String>,
    pub dedup_key: String,
    pub event_id: Option<Uuid>,
    pub context: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct ExceptionRow {
    id: Uuid,
    category: String,
    owner_team: String,
    impact: String,
    status: String,
    title: String,
    detail: String,
    order_increment_id: Option<String>,
    skus: Vec<String>,
    sap_error: Option<serde_json::Value>,
    occurrences: i32,
    first_seen_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<String>,
    note: Option<String>,
    dedup_key: String,
    event_id: Option<Uuid>,
    context: serde_json::Value,
}

const COLUMNS: &str =
    "id, category, owner_team, impact, status, title, detail, order_increment_id, \
     skus, sap_error, occurrences, first_seen_at, last_seen_at, resolved_at, resolved_by, note, \
     dedup_key, event_id, context";

impl TryFrom<ExceptionRow> for StoredException {
    type Error = StoreError;

    fn try_from(r: ExceptionRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("exception {} has unknown {what} '{value}'", r.id))
        };
        Ok(StoredException {
            id: r.id,
            category: Category::parse(&r.category)
                .ok_or_else(|| corrupt("category", &r.category))?,
            owner_team: OwnerTeam::parse(&r.owner_team)
                .ok_or_else(|| corrupt("owner_team", &r.owner_team))?,
            impact: Impact::parse(&r.impact).ok_or_else(|| corrupt("impact", &r.impact))?,
            status: ExceptionStatus::parse(&r.status)
                .ok_or_else(|| corrupt("status", &r.status))?,
            sap_error: r
                .sap_error
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| corrupt("sap_error", &e.to_string()))?,
            title: r.title,
            detail: r.detail,
            order_increment_id: r.order_increment_id,
            skus: r.skus,
            occurrences: r.occurrences,
            first_seen_at: r.first_seen_at,
            last_seen_at: r.last_seen_at,
            resolved_at: r.resolved_at,
            resolved_by: r.resolved_by,
            note: r.note,
            dedup_key: r.dedup_key,
            event_id: r.event_id,
            context: r.context,
        })
    }
}

/// The exception queue's filters; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExceptionFilter {
    pub status: Option<ExceptionStatus>,
    pub category: Option<Category>,
    pub team: Option<OwnerTeam>,
    pub impact: Option<Impact>,
    pub order: Option<String>,
    pub sku: Option<String>,
}

/// A position in the queue: the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionCursor {
    pub first_seen_at: DateTime<Utc>,
    pub id: Uuid,
}

/// Newest first by `(first_seen_at, id)`, after `after`. New exceptions sort before every page
/// already fetched, and bumps do not move a row, so paging is stable while the queue grows.
pub async fn list(
    pool: &PgPool,
    filter: &ExceptionFilter,
    after: Option<ExceptionCursor>,
    limit: i64,
) -> Result<Vec<StoredException>, StoreError> {
    let rows: Vec<ExceptionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM exceptions
          WHERE ($1::text IS NULL OR status = $1)
            AND ($2::text IS NULL OR category = $2)
            AND ($3::text IS NULL OR owner_team = $3)
            AND ($4::text IS NULL OR impact = $4)
            AND ($5::text IS NULL OR order_increment_id = $5)
            AND ($6::text IS NULL OR skus @> ARRAY[$6::text])
            AND ($7::timestamptz IS NULL OR (first_seen_at, id) < ($7, $8))
          ORDER BY first_seen_at DESC, id DESC
          LIMIT $9"
    ))
    .bind(filter.status.map(ExceptionStatus::as_str))
    .bind(filter.category.map(Category::as_str))
    .bind(filter.team.map(OwnerTeam::as_str))
    .bind(filter.impact.map(Impact::as_str))
    .bind(filter.order.as_deref())
    .bind(filter.sku.as_deref())
    .bind(after.map(|c| c.first_seen_at))
    .bind(after.map(|c| c.id))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<StoredException>, StoreError> {
    let row: Option<ExceptionRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM exceptions WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(TryInto::try_into).transpose()
}

/// Every exception of an order, newest first.
pub async fn for_order(
    conn: &mut PgConnection,
    increment_id: &str,
) -> Result<Vec<StoredException>, StoreError> {
    let rows: Vec<ExceptionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM exceptions WHERE order_increment_id = $1
          ORDER BY first_seen_at DESC, id DESC"
    ))
    .bind(increment_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// What became of an action on an exception.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionOutcome {
    Done(Box<StoredException>),
    NotFound,
    Refused(IllegalTransition),
    /// A retry of an exception whose order (if any) has no parked job: nothing would run.
    NothingToRetry {
        order: Option<String>,
    },
}

/// Applies `action` to exception `id` as `actor` and records it in the audit log, in one
/// transaction. A retry also re-queues the order's parked jobs (see [`super::retry`]).
pub async fn act(
    pool: &PgPool,
    id: Uuid,
    action: ExceptionAction,
    actor: &str,
    note: Option<&str>,
) -> Result<ActionOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    let status: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT status, order_increment_id FROM exceptions WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((status, order)) = status else {
        return Ok(ActionOutcome::NotFound);
    };
    let from = ExceptionStatus::parse(&status).ok_or_else(|| {
        StoreError::Corrupt(format!("exception {id} has unknown status '{status}'"))
    })?;
    let to = match transition(from, action) {
        Ok(to) => to,
        Err(refused) => return Ok(ActionOutcome::Refused(refused)),
    };
    if action == ExceptionAction::Retry {
        let requeued = match &order {
            Some(order) => super::retry::requeue_order(&mut tx, order).await?,
            None => super::retry::Requeue::NothingParked,
        };
        if !matches!(requeued, super::retry::Requeue::Requeued { .. }) {
            return Ok(ActionOutcome::NothingToRetry { order });
        }
    }
    let closes = to.is_final();
    sqlx::query(
        "UPDATE exceptions
            SET status = $2,
                note = COALESCE($3, note),
                resolved_at = CASE WHEN $4 THEN now() END,
                resolved_by = CASE WHEN $4 THEN $5 END
          WHERE id = $1",
    )
    .bind(id)
    .bind(to.as_str())
    .bind(note)
    .bind(closes)
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &NewAuditEntry {
            actor,
            action: action.as_str(),
            target: Target::Exception,
            target_id: &id.to_string(),
            note,
        },
    )
    .await?;
    let done = get(&mut tx, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("exception {id} vanished")))?;
    tx.commit().await?;
    Ok(ActionOutcome::Done(Box::new(done)))
}

/// Moves an order's `open` blocking exceptions to `retrying` when its jobs are re-queued, so
/// the queue shows they are being worked on. Returns how many moved.
pub async fn mark_retrying_for_order(
    conn: &mut PgConnection,
    increment_id: &str,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE exceptions SET status = 'retrying'
          WHERE order_increment_id = $1 AND status = 'open' AND impact = $2",
    )
    .bind(increment_id)
    .bind(Impact::BlocksFulfilment.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Called by the worker, in the transaction that records a job's success: the order's
/// `retrying` exceptions, and its `open` ones in `also_open` (the categories that job's
/// success proves fixed), become `resolved` by [`SYSTEM_ACTOR`], each with an audit entry.
/// Returns how many were resolved.
pub async fn resolve_for_order(
    conn: &mut PgConnection,
    increment_id: &str,
    also_open: &[Category],
) -> Result<u64, StoreError> {
    let categories: Vec<&str> = also_open.iter().map(|c| c.as_str()).collect();
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE exceptions
            SET status = 'resolved', resolved_at = now(), resolved_by = $3
          WHERE order_increment_id = $1
            AND (status = 'retrying' OR (status = 'open' AND category = ANY($2)))
        RETURNING id",
    )
    .bind(increment_id)
    .bind(&categories)
    .bind(SYSTEM_ACTOR)
    .fetch_all(&mut *conn)
    .await?;
    for id in &ids {
        audit::append(
            conn,
            &NewAuditEntry {
                actor: SYSTEM_ACTOR,
                action: "auto_resolve",
                target: Target::Exception,
                target_id: &id.to_string(),
                note: Some("the order's job succeeded"),
            },
        )
        .await?;
    }
    Ok(ids.len() as u64)
}

/// Resolves, as [`SYSTEM_ACTOR`] with an audit entry each, the open or retrying exceptions
/// whose de-duplication key is among `keys`: a check looked at their subjects again and found
/// them in order. Returns how many were resolved.
pub async fn resolve_fixed(
    conn: &mut PgConnection,
    keys: &[String],
    note: &str,
) -> Result<u64, StoreError> {
    if keys.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE exceptions
            SET status = 'resolved', resolved_at = now(), resolved_by = $2
          WHERE dedup_key = ANY($1) AND status IN ('open', 'retrying')
        RETURNING id",
    )
    .bind(keys)
    .bind(SYSTEM_ACTOR)
    .fetch_all(&mut *conn)
    .await?;
    for id in &ids {
        audit::append(
            conn,
            &NewAuditEntry {
                actor: SYSTEM_ACTOR,
                action: "auto_resolve",
                target: Target::Exception,
                target_id: &id.to_string(),
                note: Some(note),
            },
        )
        .await?;
    }
    Ok(ids.len() as u64)
}
