//! Retention of the kept webhook bodies: past the retention period a body is emptied once
//! nothing needs it, and kept while its order, job, refund or exception is still open.
use b1bridge::scheduler::retention::purge_all;
use serde_json::json;
use sqlx::PgPool;

use crate::support::{envelope, sample_order, spawn_app, TestApp};

async fn place(app: &TestApp, increment_id: &str) {
    let mut order = sample_order("rest-order-guest-configurable.json");
    order["increment_id"] = json!(increment_id);
    let res = app
        .send_webhook(
            &format!("msg_{increment_id}"),
            &envelope("order.placed", &order),
        )
        .await;
    assert_eq!(
        res.status(),
        reqwest::StatusCode::ACCEPTED,
        "{increment_id}"
    );
}

/// Plays the worker's part: the order is posted and its jobs are done.
async fn posted(pool: &PgPool, increment_id: &str) {
    sqlx::query("UPDATE orders SET status = 'posted' WHERE increment_id = $1")
        .bind(increment_id)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET status = 'done' WHERE increment_id = $1")
        .bind(increment_id)
        .execute(pool)
        .await
        .unwrap();
}

async fn open_exception(pool: &PgPool, increment_id: Option<&str>, event: Option<uuid::Uuid>) {
    sqlx::query(
        "INSERT INTO exceptions (id, category, owner_team, impact, title, detail,
                                 order_increment_id, event_id, dedup_key)
         VALUES (gen_random_uuid(), 'total_mismatch', 'finance', 'financial', 't', 'd', $1, $2,
                 gen_random_uuid()::text)",
    )
    .bind(increment_id)
    .bind(event)
    .execute(pool)
    .await
    .unwrap();
}

/// Whether the body of the event with this `webhook-id` is still kept.
async fn kept(pool: &PgPool, webhook_id: &str) -> bool {
    let (body, purged_at): (Option<Vec<u8>>, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("SELECT body, body_purged_at FROM webhook_events WHERE webhook_id = $1")
            .bind(webhook_id)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(body.is_none(), purged_at.is_some(), "{webhook_id}");
    body.is_some()
}

async fn age_all_but(pool: &PgPool, fresh: &str, days: i32) {
    sqlx::query(
        "UPDATE webhook_events SET received_at = received_at - $2 * interval '1 day'
          WHERE webhook_id <> $1",
    )
    .bind(fresh)
    .bind(days)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn bodies_past_retention_go_once_nothing_needs_them_and_stay_while_work_is_open() {
    let app = spawn_app().await;
    let pool = app.db.pool.clone();
    // Posted: nothing needs the body.
    place(&app, "R-POSTED").await;
    posted(&pool, "R-POSTED").await;
    // Still queued for SAP: its job is pending.
    place(&app, "R-QUEUED").await;
    // Parked with an open exception.
    place(&app, "R-PARKED").await;
    sqlx::query("UPDATE orders SET status = 'parked' WHERE increment_id = 'R-PARKED'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET status = 'parked' WHERE increment_id = 'R-PARKED'")
        .execute(&pool)
        .await
        .unwrap();
    open_exception(&pool, Some("R-PARKED"), None).await;
    // Posted, but finance has an open exception about it.
    place(&app, "R-MISMATCH").await;
    posted(&pool, "R-MISMATCH").await;
    open_exception(&pool, Some("R-MISMATCH"), None).await;
    // Signed JSON that is no order event: kept as a payload_invalid exception, no order.
    let res = app
        .send_webhook("msg_invalid", br#"{"type":"order.placed","data":{}}"#)
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    // Posted, but received within the retention period.
    place(&app, "R-FRESH").await;
    posted(&pool, "R-FRESH").await;

    age_all_but(&pool, "msg_R-FRESH", 91).await;
    let purged = purge_all(&pool, 90).await.unwrap();
    assert_eq!(purged, 1, "only the posted order's body goes");
    assert!(!kept(&pool, "msg_R-POSTED").await);
    for needed in [
        "msg_R-QUEUED",
        "msg_R-PARKED",
        "msg_R-MISMATCH",
        "msg_invalid",
        "msg_R-FRESH",
    ] {
        assert!(kept(&pool, needed).await, "{needed} is still needed");
    }

    // The work ends: the queued order posts, the exceptions are resolved.
    posted(&pool, "R-QUEUED").await;
    sqlx::query("UPDATE exceptions SET status = 'resolved', resolved_at = now()")
        .execute(&pool)
        .await
        .unwrap();
    let purged = purge_all(&pool, 90).await.unwrap();
    assert_eq!(purged, 3, "queued, mismatch and invalid go; parked stays");
    assert!(!kept(&pool, "msg_R-QUEUED").await);
    assert!(!kept(&pool, "msg_R-MISMATCH").await);
    assert!(!kept(&pool, "msg_invalid").await);
    assert!(
        kept(&pool, "msg_R-PARKED").await,
        "a parked order's body stays until it is posted or cancelled"
    );
    assert!(kept(&pool, "msg_R-FRESH").await);

    // The event rows stay: a redelivery is still recognised as a duplicate.
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events, 6);
    let mut order = sample_order("rest-order-guest-configurable.json");
    order["increment_id"] = json!("R-POSTED");
    let again = app
        .send_webhook("msg_R-POSTED", &envelope("order.placed", &order))
        .await;
    assert_eq!(again.status(), reqwest::StatusCode::OK);
    assert_eq!(purge_all(&pool, 90).await.unwrap(), 0, "nothing twice");
    app.stop().await;
}
