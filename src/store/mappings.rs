//! The mapping tables (`mappings(kind, key, value, updated_at, updated_by)`). Values are
//! checked by the domain before they get here; the worker reads a fresh snapshot per job, so
//! a change takes effect for the next job without a restart.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::audit::{self, NewAuditEntry, Target};
use super::StoreError;
use crate::domain::mappings::{MappingKind, MappingValue, Mappings};

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMapping {
    pub kind: MappingKind,
    pub key: String,
    pub value: MappingValue,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

type Row = (String, String, serde_json::Value, DateTime<Utc>, String);

fn decode((kind, key, value, updated_at, updated_by): Row) -> Result<StoredMapping, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt(format!("mapping {kind}/{key}: {why}"));
    let k = MappingKind::parse(&kind).ok_or_else(|| corrupt("unknown kind".into()))?;
    let value = k.parse_value(&value).map_err(|errors| {
        corrupt(
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    Ok(StoredMapping {
        kind: k,
        key,
        value,
        updated_at,
        updated_by,
    })
}

/// Inserts or replaces the entry `key` (already normalised) and records who changed it.
pub async fn upsert(
    pool: &PgPool,
    key: &str,
    value: &MappingValue,
    actor: &str,
) -> Result<StoredMapping, StoreError> {
    let mut tx = pool.begin().await?;
    let stored = record(&mut tx, key, value, actor).await?;
    tx.commit().await?;
    Ok(stored)
}

/// [`upsert`] inside the caller's transaction: the worker records a Business Partner it found
/// or created together with the order it posted on it.
pub async fn record(
    conn: &mut PgConnection,
    key: &str,
    value: &MappingValue,
    actor: &str,
) -> Result<StoredMapping, StoreError> {
    let kind = value.kind();
    let row: Row = sqlx::query_as(
        "INSERT INTO mappings (kind, key, value, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kind, key) DO UPDATE
            SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by
         RETURNING kind, key, value, updated_at, updated_by",
    )
    .bind(kind.as_str())
    .bind(key)
    .bind(value.to_json())
    .bind(actor)
    .fetch_one(&mut *conn)
    .await?;
    audit_change(
        conn,
        kind,
        key,
        "upsert",
        actor,
        Some(&value.to_json().to_string()),
    )
    .await?;
    decode(row)
}

/// The warehouse other than `key` that is marked `order_default`, if one is: only one may be.
pub async fn other_order_default_warehouse(
    pool: &PgPool,
    key: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT key FROM mappings
          WHERE kind = 'warehouses' AND key <> $1 AND (value ->> 'order_default')::boolean
          ORDER BY key LIMIT 1",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?)
}

/// Deletes an entry; `false` when there was none.
pub async fn delete(
    pool: &PgPool,
    kind: MappingKind,
    key: &str,
    actor: &str,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let deleted = sqlx::query("DELETE FROM mappings WHERE kind = $1 AND key = $2")
        .bind(kind.as_str())
        .bind(key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 1 {
        audit_change(&mut tx, kind, key, "delete", actor, None).await?;
    }
    tx.commit().await?;
    Ok(deleted == 1)
}

async fn audit_change(
    conn: &mut PgConnection,
    kind: MappingKind,
    key: &str,
    action: &str,
    actor: &str,
    note: Option<&str>,
) -> Result<(), StoreError> {
    audit::append(
        conn,
        &NewAuditEntry {
            actor,
            action,
            target: Target::Mapping,
            target_id: &format!("{}/{key}", kind.as_str()),
            note,
        },
    )
    .await
}

/// One kind's entries by key, after `after_key`.
pub async fn list(
    pool: &PgPool,
    kind: MappingKind,
    after_key: Option<&str>,
    limit: i64,
) -> Result<Vec<StoredMapping>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT kind, key, value, updated_at, updated_by FROM mappings
          WHERE kind = $1 AND ($2::text IS NULL OR key > $2)
          ORDER BY key LIMIT $3",
    )
    .bind(kind.as_str())
    .bind(after_key)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(decode).collect()
}

/// Every table at this moment, for one job: the worker maps an order against one consistent
/// picture while admins edit.
pub async fn snapshot(pool: &PgPool) -> Result<Mappings, StoreError> {
    let rows: Vec<Row> =
        sqlx::query_as("SELECT kind, key, value, updated_at, updated_by FROM mappings")
            .fetch_all(pool)
            .await?;
    let mut all = Mappings::default();
    for row in rows {
        let m = decode(row)?;
        all.insert(&m.key, m.value).map_err(|e| {
            StoreError::Corrupt(format!(
                "mapping {}/{}: {}",
                m.kind.as_str(),
                m.key,
                e.message
            ))
        })?;
    }
    Ok(all)
}
