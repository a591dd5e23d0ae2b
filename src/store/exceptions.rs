//! The exception queue's storage. Recording is an upsert on the de-duplication key: a
//! recurring problem bumps `occurrences` on its open row instead of adding another.
use sqlx::PgConnection;
use uuid::Uuid;

use super::StoreError;
use crate::domain::exception::NewException;

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
