//! Helpers shared by the operators' API tests: calls as each role, and exceptions and parked
//! orders seeded through the product's own intake and worker storage paths.
use b1bridge::domain::exception::{Category, NewException, SapErrorInfo};
use b1bridge::domain::order_flow::JobKind;
use b1bridge::store::{exceptions, outbox};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

use crate::support::{envelope, TestApp};

pub const VIEWER: &str = "viewer-secret-0123456789";
pub const OPERATOR: &str = "operator-secret-0123456789";
pub const ADMIN: &str = "admin-secret-0123456789";

/// A request to the app with a bearer token.
pub fn call(app: &TestApp, method: Method, path: &str, token: &str) -> RequestBuilder {
    app.client.request(method, app.url(path)).bearer_auth(token)
}

pub async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let res = call(app, Method::GET, path, token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    res.json().await.unwrap()
}

pub async fn post_json(app: &TestApp, path: &str, token: &str, body: Value) -> Response {
    call(app, Method::POST, path, token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Asserts a problem+json answer with `status` and `code`, and returns the problem.
pub async fn problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["code"], code, "{p}");
    assert_eq!(p["status"], status.as_u16());
    p
}

/// A minimal valid Magento order.
pub fn order_json(increment_id: &str, email: &str, skus: &[&str]) -> Value {
    let items: Vec<Value> = skus
        .iter()
        .enumerate()
        .map(|(i, sku)| json!({"item_id": i + 1, "sku": sku, "qty_ordered": 1, "price": 10, "row_total": 10}))
        .collect();
    json!({
        "entity_id": 1000 + increment_id.parse::<i64>().unwrap_or(0),
        "increment_id": increment_id,
        "created_at": "2026-11-26 10:00:00",
        "order_currency_code": "EUR",
        "customer_email": email,
        "customer_is_guest": 1,
        "grand_total": 10 * skus.len(),
        "subtotal": 10 * skus.len(),
        "items": items,
    })
}

/// Places an order through the signed webhook (queued, with a pending post_order job).
pub async fn place_order(app: &TestApp, increment_id: &str, email: &str, skus: &[&str]) {
    let res = app
        .send_webhook(
            &format!("msg_{increment_id}_{}", Uuid::new_v4().simple()),
            &envelope("order.placed", &order_json(increment_id, email, skus)),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{increment_id}");
}

/// An `unknown_sku` problem as the worker would file it.
pub fn unknown_sku(increment_id: &str, sku: &str) -> NewException {
    NewException {
        category: Category::UnknownSku,
        title: format!("SKU '{sku}' on order {increment_id} has no SAP B1 item"),
        detail: "Create the item in SAP or map the SKU, then retry.".into(),
        order_increment_id: Some(increment_id.into()),
        skus: vec![sku.into()],
        sap_error: Some(SapErrorInfo {
            code: -10,
            message: format!("Invalid item code '{sku}'"),
        }),
        dedup_key: NewException::dedup_key_for(
            Category::UnknownSku,
            Some(increment_id),
            &[sku.to_owned()],
        ),
        context: json!({"sku": sku}),
    }
}

/// Runs the order's post job into SAP's refusal the way the worker does: claim, park, and
/// file the exception in the same transaction. Returns the exception id.
pub async fn park_with(app: &TestApp, new: &NewException) -> Uuid {
    let job = claim_post(app, new.order_increment_id.as_deref().unwrap()).await;
    let mut tx = app.db.pool.begin().await.unwrap();
    outbox::park(
        &mut tx,
        job.0,
        job.1,
        &json!({"sap_code": -10, "message": "Invalid item code"}),
    )
    .await
    .unwrap();
    b1bridge::store::posting::hold(&mut tx, new.order_increment_id.as_deref().unwrap())
        .await
        .unwrap();
    let id = exceptions::record(&mut tx, new, None).await.unwrap();
    tx.commit().await.unwrap();
    id
}

/// Claims the pending post job of `increment_id` (and only it: other orders' jobs are left
/// for later claims). Returns (job id, attempt).
pub async fn claim_post(app: &TestApp, increment_id: &str) -> (i64, i32) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let claimed = outbox::claim(
            &app.db.pool,
            "test-worker",
            &[JobKind::PostOrder],
            100,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
        let mut mine = None;
        for job in claimed {
            if job.subject == increment_id {
                mine = Some((job.id, job.attempt));
            } else {
                // Not ours: hand it back at once.
                sqlx::query("UPDATE outbox SET status = 'pending', locked_until = NULL, locked_by = NULL WHERE id = $1")
                    .bind(job.id)
                    .execute(&app.db.pool)
                    .await
                    .unwrap();
            }
        }
        if let Some(job) = mine {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no post job for {increment_id}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Audit entries (actor, action, note) of one target, oldest first.
pub async fn audit_of(
    app: &TestApp,
    target_type: &str,
    target_id: &str,
) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT actor, action, note FROM audit_log WHERE target_type = $1 AND target_id = $2 ORDER BY id",
    )
    .bind(target_type)
    .bind(target_id)
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}
