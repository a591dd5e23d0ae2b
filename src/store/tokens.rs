//! Minted API tokens. Only the SHA-256 of a secret is stored, so the table opens nothing
//! when it leaks; look-ups are by that hash.
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, NewAuditEntry, Target};
use super::StoreError;
use crate::domain::access::Role;

/// Who a presented secret belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub name: String,
    pub role: Role,
}

/// The result of minting a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Created {
        id: Uuid,
    },
    /// Names are unique because the audit log identifies callers by name.
    NameTaken,
}

/// Stores a new token (its hash only) and records who minted it.
pub async fn create(
    conn: &mut PgConnection,
    name: &str,
    role: Role,
    secret_sha256: &str,
    actor: &str,
) -> Result<Created, StoreError> {
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO api_tokens (id, name, role, secret_sha256) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(id)
    .bind(name)
    .bind(role.as_str())
    .bind(secret_sha256)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(Created::NameTaken);
    }
    audit::append(
        conn,
        &NewAuditEntry {
            actor,
            action: "create",
            target: Target::Token,
            target_id: name,
            note: Some(role.as_str()),
        },
    )
    .await?;
    Ok(Created::Created { id })
}

/// Revokes a token by name; `false` when no active token has that name.
pub async fn revoke(conn: &mut PgConnection, name: &str, actor: &str) -> Result<bool, StoreError> {
    let revoked = sqlx::query(
        "UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
    )
    .bind(name)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if revoked == 1 {
        audit::append(
            conn,
            &NewAuditEntry {
                actor,
                action: "revoke",
                target: Target::Token,
                target_id: name,
                note: None,
            },
        )
        .await?;
    }
    Ok(revoked == 1)
}

/// The active (not revoked) token whose secret hashes to `secret_sha256`.
pub async fn find_active(
    pool: &PgPool,
    secret_sha256: &str,
) -> Result<Option<TokenOwner>, StoreError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT name, role FROM api_tokens WHERE secret_sha256 = $1 AND revoked_at IS NULL",
    )
    .bind(secret_sha256)
    .fetch_optional(pool)
    .await?;
    row.map(|(name, role)| {
        let role = Role::parse(&role).ok_or_else(|| {
            StoreError::Corrupt(format!("token {name} has unknown role '{role}'"))
        })?;
        Ok(TokenOwner { name, role })
    })
    .transpose()
}
