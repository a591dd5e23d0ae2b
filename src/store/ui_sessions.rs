//! Sessions of the operations page: the session id's hash → the API token's hash and the
//! session's CSRF token (see `migrations/20261203000300_ui_sessions.sql`).
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;

/// What a session cookie stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiSession {
    pub token_sha256: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Stores a new session, and drops expired ones on the way (logins are rare, so this keeps
/// the table small without a sweeper task).
pub async fn create(
    pool: &PgPool,
    id_sha256: &str,
    token_sha256: &str,
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM ui_sessions WHERE expires_at < now()")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO ui_sessions (id_sha256, token_sha256, csrf_token, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id_sha256)
    .bind(token_sha256)
    .bind(csrf_token)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The live (unexpired) session with this id hash.
pub async fn find_live(pool: &PgPool, id_sha256: &str) -> Result<Option<UiSession>, StoreError> {
    let row: Option<(String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT token_sha256, csrf_token, expires_at FROM ui_sessions
         WHERE id_sha256 = $1 AND expires_at > now()",
    )
    .bind(id_sha256)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(token_sha256, csrf_token, expires_at)| UiSession {
        token_sha256,
        csrf_token,
        expires_at,
    }))
}

/// Ends a session (logout).
pub async fn delete(pool: &PgPool, id_sha256: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM ui_sessions WHERE id_sha256 = $1")
        .bind(id_sha256)
        .execute(pool)
        .await?;
    Ok(())
}
