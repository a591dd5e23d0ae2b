//! Hostile webhook deliveries: each is refused before anything is stored, with a problem+json
//! answer, and counted in `/metrics` by reason. The counters are the process's, shared by the
//! tests running beside these, so each test checks that its reason grew by at least what it
//! sent (a refusal that is not counted leaves the counter where it was and fails).
use b1bridge::config::WebhookKey;
use b1bridge::magento::signature;
use futures::future::join_all;
use reqwest::StatusCode;

use crate::support::{envelope, sample_order, spawn_app, TestApp, TEST_SECRET};

const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

async fn rejected(app: &TestApp, reason: &str) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("b1bridge_webhooks_rejected_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in /metrics"))
        .parse()
        .unwrap()
}

async fn stored_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM webhook_events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// Sends `body` with a signature made with `secret` over `signed` (which may differ from the
/// body sent), at `ts`, with `content_type`.
async fn send(
    app: &TestApp,
    id: &str,
    secret: &str,
    ts: i64,
    signed: &[u8],
    body: Vec<u8>,
    content_type: &str,
) -> reqwest::Response {
    let key = WebhookKey::parse(secret).unwrap();
    app.client
        .post(app.url("/webhooks/magento"))
        .header("content-type", content_type)
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header(
            "webhook-signature",
            signature::sign(key.bytes(), id, ts, signed),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn problem_code(res: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let p: serde_json::Value = res.json().await.unwrap();
    p["code"].as_str().unwrap().to_owned()
}

fn order_body() -> Vec<u8> {
    envelope(
        "order.placed",
        &sample_order("rest-order-guest-configurable.json"),
    )
}

#[tokio::test]
async fn forged_truncated_and_replayed_deliveries_store_nothing_and_are_counted() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let body = order_body();
    let mismatch = rejected(&app, "signature_mismatch").await;
    let stale = rejected(&app, "timestamp_rejected").await;
    let missing = rejected(&app, "signature_missing").await;

    // Forged: signed with a secret b1bridge does not hold.
    let forged = send(
        &app,
        "msg_forged",
        OTHER_SECRET,
        now,
        &body,
        body.clone(),
        "application/json",
    )
    .await;
    assert_eq!(
        problem_code(forged, StatusCode::UNAUTHORIZED).await,
        "signature_invalid"
    );
    // Truncated: the real signature, half the body.
    let half = body[..body.len() / 2].to_vec();
    let truncated = send(
        &app,
        "msg_truncated",
        TEST_SECRET,
        now,
        &body,
        half,
        "application/json",
    )
    .await;
    assert_eq!(
        problem_code(truncated, StatusCode::UNAUTHORIZED).await,
        "signature_invalid"
    );
    // Replayed: a genuine delivery of an hour ago, signature and all (tolerance 300 s).
    let old = now - 3600;
    let replayed = send(
        &app,
        "msg_replayed",
        TEST_SECRET,
        old,
        &body,
        body.clone(),
        "application/json",
    )
    .await;
    assert_eq!(
        problem_code(replayed, StatusCode::UNAUTHORIZED).await,
        "signature_invalid"
    );
    // Unsigned.
    let unsigned = app
        .client
        .post(app.url("/webhooks/magento"))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem_code(unsigned, StatusCode::UNAUTHORIZED).await,
        "signature_invalid"
    );

    assert_eq!(stored_events(&app).await, 0);
    assert!(rejected(&app, "signature_mismatch").await >= mismatch + 2);
    assert!(rejected(&app, "timestamp_rejected").await > stale);
    assert!(rejected(&app, "signature_missing").await > missing);
    // The genuine delivery still goes through afterwards.
    let genuine = send(
        &app,
        "msg_genuine",
        TEST_SECRET,
        now,
        &body,
        body.clone(),
        "application/json",
    )
    .await;
    assert_eq!(genuine.status(), StatusCode::ACCEPTED);
    app.stop().await;
}

#[tokio::test]
async fn oversized_and_deeply_nested_bodies_are_refused_without_parsing() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let too_large = rejected(&app, "too_large").await;
    let mismatch = rejected(&app, "signature_mismatch").await;

    // Over the 1 MiB limit, even correctly signed: refused while reading, never verified.
    let mut big = order_body();
    big.resize(1024 * 1024 + 1, b' ');
    let res = send(
        &app,
        "msg_big",
        TEST_SECRET,
        now,
        &big,
        big.clone(),
        "application/json",
    )
    .await;
    assert_eq!(
        problem_code(res, StatusCode::PAYLOAD_TOO_LARGE).await,
        "payload_too_large"
    );

    // 500,000 levels of nesting (under the limit), forged: one HMAC, no parse, no stack.
    let depth = 500_000;
    let nested = [vec![b'['; depth], vec![b']'; depth]].concat();
    let res = send(
        &app,
        "msg_nested",
        OTHER_SECRET,
        now,
        &nested,
        nested.clone(),
        "application/json",
    )
    .await;
    assert_eq!(
        problem_code(res, StatusCode::UNAUTHORIZED).await,
        "signature_invalid"
    );
    assert_eq!(stored_events(&app).await, 0);

    // Signed (only the shop can do that), the same nesting is parsed with a depth limit: it is
    // not JSON the service can read, so it is kept as payload_invalid (nothing lost), and the
    // process lives on.
    let res = send(
        &app,
        "msg_nested_signed",
        TEST_SECRET,
        now,
        &nested,
        nested.clone(),
        "application/json",
    )
    .await;
    assert_eq!(
        problem_code(res, StatusCode::BAD_REQUEST).await,
        "bad_request"
    );
    assert_eq!(stored_events(&app).await, 1);

    assert!(rejected(&app, "too_large").await > too_large);
    assert!(rejected(&app, "signature_mismatch").await > mismatch);
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_signed_delivery_in_the_wrong_content_type_is_refused_and_not_stored() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let body = order_body();
    let wrong = rejected(&app, "wrong_content_type").await;
    for (i, content_type) in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonp",
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("msg_ct_{i}");
        let res = send(
            &app,
            &id,
            TEST_SECRET,
            now,
            &body,
            body.clone(),
            content_type,
        )
        .await;
        assert_eq!(
            problem_code(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await,
            "unsupported_media_type",
            "{content_type}"
        );
    }
    assert_eq!(stored_events(&app).await, 0);
    assert!(rejected(&app, "wrong_content_type").await >= wrong + 3);
    // The same delivery as JSON (with parameters) is accepted.
    let res = send(
        &app,
        "msg_ct_0",
        TEST_SECRET,
        now,
        &body,
        body.clone(),
        "application/json; charset=utf-8",
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    app.stop().await;
}

#[tokio::test]
async fn a_flood_of_invalid_signatures_stores_nothing_and_leaves_the_intake_working() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let body = order_body();
    let before = rejected(&app, "signature_mismatch").await;
    let flood = 400;
    let answers = join_all((0..flood).map(|i| {
        let (app, body) = (&app, body.clone());
        async move {
            let id = format!("msg_flood_{i}");
            send(
                app,
                &id,
                OTHER_SECRET,
                now,
                &body,
                body.clone(),
                "application/json",
            )
            .await
            .status()
        }
    }))
    .await;
    assert!(
        answers.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{answers:?}"
    );
    assert_eq!(stored_events(&app).await, 0);
    assert!(rejected(&app, "signature_mismatch").await >= before + flood);
    let genuine = send(
        &app,
        "msg_after_flood",
        TEST_SECRET,
        now,
        &body,
        body.clone(),
        "application/json",
    )
    .await;
    assert_eq!(genuine.status(), StatusCode::ACCEPTED);
    assert_eq!(stored_events(&app).await, 1);
    app.stop().await;
}
