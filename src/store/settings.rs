//! Business settings: one JSON document, replaced whole. Read fresh by whoever needs it, so
//! a change applies to the next job without a restart.
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::audit::{self, NewAuditEntry, Target};
use super::StoreError;
use crate::domain::settings::Settings;

/// The settings in force and who set them (`None`: never set, the defaults apply).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSettings {
    pub settings: Settings,
    pub updated: Option<(DateTime<Utc>, String)>,
}

/// The settings in force: the stored document (missing fields take their defaults), or the
/// defaults when none was stored.
pub async fn current(pool: &PgPool) -> Result<StoredSettings, StoreError> {
    let row: Option<(serde_json::Value, DateTime<Utc>, String)> =
        sqlx::query_as("SELECT value, updated_at, updated_by FROM settings WHERE id")
            .fetch_optional(pool)
            .await?;
    match row {
        None => Ok(StoredSettings {
            settings: Settings::default(),
            updated: None,
        }),
        Some((value, at, by)) => Ok(StoredSettings {
            settings: serde_json::from_value(value)
                .map_err(|e| StoreError::Corrupt(format!("stored settings: {e}")))?,
            updated: Some((at, by)),
        }),
    }
}

/// Replaces the settings (already validated) and records who did it.
pub async fn replace(
    pool: &PgPool,
    settings: &Settings,
    actor: &str,
) -> Result<StoredSettings, StoreError> {
    let value = serde_json::to_value(settings).expect("settings serialise");
    let mut tx = pool.begin().await?;
    let (at, by): (DateTime<Utc>, String) = sqlx::query_as(
        "INSERT INTO settings (id, value, updated_by) VALUES (true, $1, $2)
         ON CONFLICT (id) DO UPDATE
            SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by
         RETURNING updated_at, updated_by",
    )
    .bind(&value)
    .bind(actor)
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &NewAuditEntry {
            actor,
            action: "replace",
            target: Target::Settings,
            target_id: "settings",
            note: Some(&value.to_string()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(StoredSettings {
        settings: settings.clone(),
        updated: Some((at, by)),
    })
}
