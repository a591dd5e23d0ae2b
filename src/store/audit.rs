//! The audit log: every action taken through the API, and every automatic resolution, with
//! who did it and when. Appended in the same transaction as the change it describes.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::StoreError;

/// What kind of thing an audit entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Exception,
    Order,
    Mapping,
    Settings,
    Token,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Exception => "exception",
            Target::Order => "order",
            Target::Mapping => "mapping",
            Target::Settings => "settings",
            Target::Token => "token",
        }
    }
}

/// The actor of changes b1bridge makes by itself (e.g. resolving after a successful retry).
pub const SYSTEM_ACTOR: &str = "b1bridge";

/// One entry to append.
pub struct NewAuditEntry<'a> {
    /// The token name (or [`SYSTEM_ACTOR`]).
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Target,
    pub target_id: &'a str,
    pub note: Option<&'a str>,
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub note: Option<String>,
}

pub async fn append(conn: &mut PgConnection, e: &NewAuditEntry<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (actor, action, target_type, target_id, note) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(e.actor)
    .bind(e.action)
    .bind(e.target.as_str())
    .bind(e.target_id)
    .bind(e.note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The trail of one target, oldest first.
pub async fn for_target(
    conn: &mut PgConnection,
    target: Target,
    target_id: &str,
) -> Result<Vec<AuditRecord>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, action, target_type, target_id, note FROM audit_log
          WHERE target_type = $1 AND target_id = $2 ORDER BY id",
    )
    .bind(target.as_str())
    .bind(target_id)
    .fetch_all(&mut *conn)
    .await?)
}
