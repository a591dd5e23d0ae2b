//! Webhook intake (contract §2): verified, durably stored before 2xx, never processed twice.
use b1bridge::domain::order::{LineKind, Order};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use std::time::Duration;

use crate::support::tcp_proxy::TcpProxy;
use crate::support::{
    envelope, sample_order, spawn_app, spawn_app_with, AppOptions, TestApp, TEST_SECRET,
};

async fn stored_order(app: &TestApp, increment_id: &str) -> (String, Option<Order>) {
    let (status, canonical): (String, Option<Value>) =
        sqlx::query_as("SELECT status, canonical FROM orders WHERE increment_id = $1")
            .bind(increment_id)
            .fetch_one(&app.db.pool)
            .await
            .expect("order row exists");
    (
        status,
        canonical.map(|c| serde_json::from_value(c).expect("canonical order parses")),
    )
}

async fn outbox(app: &TestApp, increment_id: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT kind FROM outbox WHERE increment_id = $1 ORDER BY id")
        .bind(increment_id)
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn json_body(res: reqwest::Response) -> Value {
    res.json().await.expect("JSON body")
}

fn assert_problem(res: &reqwest::Response, status: StatusCode) {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

async fn post_sample(app: &TestApp, file: &str, id: &str) -> Order {
    let order = sample_order(file);
    let res = app
        .send_webhook(id, &envelope("order.placed", &order))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{file}");
    let body = json_body(res).await;
    assert_eq!(body["status"], "accepted");
    let inc = order["increment_id"].as_str().unwrap();
    let (status, canonical) = stored_order(app, inc).await;
    assert_eq!(status, "queued");
    assert_eq!(outbox(app, inc).await, vec!["post_order"]);
    let canonical = canonical.expect("order stored");
    assert_eq!(
        canonical.computed_grand_total(),
        canonical.totals.grand_total,
        "{file}: lines + shipping + tax"
    );
    canonical
}

fn skus(o: &Order) -> Vec<(&str, Decimal, Decimal)> {
    o.lines
        .iter()
        .map(|l| (l.sku.as_str(), l.qty, l.net_total()))
        .collect()
}

#[tokio::test]
async fn every_sample_order_round_trips_and_normalises() {
    let app = spawn_app().await;

    let o = post_sample(
        &app,
        "rest-order-registered-configurable-multiitem-tax.json",
        "msg_9",
    )
    .await;
    assert_eq!(
        skus(&o),
        vec![
            ("MH09-XS-Blue", dec!(2), dec!(138)),
            ("RACER", dec!(1), dec!(224))
        ]
    );
    assert_eq!(
        o.lines[0].kind,
        LineKind::Configurable,
        "configurable child line skipped"
    );
    assert_eq!(o.lines[0].tax_rates, ["US-MI-*-Rate 1"]);
    assert_eq!(o.totals.grand_total, dec!(396.87));
    assert_eq!(o.totals.tax_amount, dec!(29.87));
    assert_eq!(o.customer.magento_customer_id, Some(1));
    assert_eq!(o.created_at.to_rfc3339(), "2020-04-24T15:50:17+00:00");
    assert_eq!(
        o.shipping.as_ref().unwrap().method.as_deref(),
        Some("tablerate_bestway")
    );

    let o = post_sample(
        &app,
        "rest-order-registered-bundle-configurable-downloadable.json",
        "msg_3",
    )
    .await;
    assert_eq!(
        skus(&o),
        vec![
            ("WS12-M-Orange", dec!(1), dec!(22)),
            ("240-LV08", dec!(1), dec!(18)),
            ("24-WG082-blue", dec!(1), dec!(27)),
            ("24-WG084", dec!(1), dec!(5)),
            ("24-WG086", dec!(1), dec!(17)),
            ("24-WG088", dec!(1), dec!(19)),
            ("MH01-S-Gray", dec!(1), dec!(52)),
        ],
        "bundle posted at component level only, configurable child skipped"
    );
    let line_sum: Decimal = o.lines.iter().map(|l| l.row_total).sum();
    assert_eq!(line_sum, o.totals.subtotal, "bundle not double-counted");

    let o = post_sample(&app, "rest-order-guest-configurable.json", "msg_16").await;
    assert!(o.customer.is_guest);
    assert_eq!(o.customer.magento_customer_id, None);
    assert_eq!(skus(&o), vec![("WP13-28-Blue", dec!(1), dec!(49))]);

    let o = post_sample(&app, "rest-order-guest-coupon-full-discount.json", "msg_17").await;
    assert_eq!(o.totals.grand_total, Decimal::ZERO);
    assert_eq!(skus(&o), vec![("WSH08-29-Purple", dec!(1), dec!(0))]);
    assert_eq!(o.shipping.as_ref().unwrap().discount_amount, dec!(5));
    assert_eq!(o.coupon_code.as_deref(), Some("1"));

    let o = post_sample(
        &app,
        "rest-order-registered-discount-multiitem-tax-histories.json",
        "msg_12",
    )
    .await;
    assert_eq!(
        skus(&o),
        vec![
            ("MH09-XS-Blue", dec!(1), dec!(55.2)),
            ("RACER", dec!(1), dec!(179.2))
        ]
    );
    assert_eq!(
        o.totals.discount_amount,
        dec!(58.6),
        "order-level discount made positive"
    );

    let o = post_sample(
        &app,
        "rest-orders-search-guest-discount-tax.json",
        "msg_102",
    )
    .await;
    assert!(o.customer.is_guest);
    assert_eq!(skus(&o), vec![("WS12-XS-Blue", dec!(1), dec!(18.7))]);

    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 6);
    app.stop().await;
}

#[tokio::test]
async fn a_cancelled_order_sample_after_its_placement_queues_a_cancel_after_the_post() {
    let app = spawn_app().await;
    post_sample(
        &app,
        "rest-order-registered-configurable-multiitem-tax.json",
        "msg_a",
    )
    .await;
    let cancelled = sample_order("rest-order-canceled.json");
    let res = app
        .send_webhook("msg_b", &envelope("order.updated", &cancelled))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let (status, _) = stored_order(&app, "000000013").await;
    assert_eq!(status, "cancel_queued");
    assert_eq!(
        outbox(&app, "000000013").await,
        vec!["post_order", "cancel_order"],
        "cancel never overtakes the post"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cancel_before_its_order_is_kept_and_applied_when_the_order_arrives() {
    let app = spawn_app().await;
    let cancel = json!({"type": "order.cancelled", "data": {"order": {"entity_id": 9, "increment_id": "000000013"}}});
    let res = app
        .send_webhook("msg_cancel", &serde_json::to_vec(&cancel).unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(stored_order(&app, "000000013").await.0, "awaiting_order");
    assert!(outbox(&app, "000000013").await.is_empty());

    let order = sample_order("rest-order-registered-configurable-multiitem-tax.json");
    let res = app
        .send_webhook("msg_order", &envelope("order.placed", &order))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let (status, canonical) = stored_order(&app, "000000013").await;
    assert_eq!(status, "cancelled");
    assert!(canonical.is_some(), "the order itself is kept");
    assert!(
        outbox(&app, "000000013").await.is_empty(),
        "the post never happens"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_retried_delivery_answers_duplicate_and_is_not_processed_twice() {
    let app = spawn_app().await;
    let body = envelope(
        "order.placed",
        &sample_order("rest-order-guest-configurable.json"),
    );
    let first = app.send_webhook("msg_dup", &body).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first = json_body(first).await;
    let again = app.send_webhook("msg_dup", &body).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again = json_body(again).await;
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["event_id"], first["event_id"]);
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 1);
    assert_eq!(outbox(&app, "000000019").await.len(), 1);

    // A different delivery of the same order (another webhook-id) is stored but adds no work.
    let other = app.send_webhook("msg_dup_2", &body).await;
    assert_eq!(other.status(), StatusCode::ACCEPTED);
    assert_eq!(outbox(&app, "000000019").await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn twenty_concurrent_deliveries_of_one_id_store_one_event() {
    let app = spawn_app().await;
    let body = envelope(
        "order.placed",
        &sample_order("rest-order-guest-configurable.json"),
    );
    let sends = (0..20).map(|_| app.send_webhook("msg_race", &body));
    let statuses: Vec<StatusCode> = futures::future::join_all(sends)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::ACCEPTED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM outbox").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn bad_signatures_and_timestamps_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let body = envelope(
        "order.placed",
        &sample_order("rest-order-guest-configurable.json"),
    );
    let now = chrono::Utc::now().timestamp();

    let stale = app.send_webhook_at("msg_old", now - 301, &body).await;
    assert_problem(&stale, StatusCode::UNAUTHORIZED);
    let future = app.send_webhook_at("msg_future", now + 301, &body).await;
    assert_problem(&future, StatusCode::UNAUTHORIZED);
    assert!(json_body(future).await["detail"]
        .as_str()
        .unwrap()
        .contains("future"));

    // Signed for one body, sent with another.
    let key = b1bridge::config::WebhookKey::parse(TEST_SECRET).unwrap();
    let sig = b1bridge::magento::signature::sign(key.bytes(), "msg_tamper", now, &body);
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let res = app
        .client
        .post(app.url("/webhooks/magento"))
        .header("webhook-id", "msg_tamper")
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", sig)
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_problem(&res, StatusCode::UNAUTHORIZED);
    let problem = json_body(res).await;
    assert_eq!(problem["code"], "signature_invalid");
    assert_eq!(problem["status"], 401);

    let unsigned = app
        .client
        .post(app.url("/webhooks/magento"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_problem(&unsigned, StatusCode::UNAUTHORIZED);
    assert!(json_body(unsigned).await["detail"]
        .as_str()
        .unwrap()
        .contains("webhook-id"));

    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn every_configured_secret_is_accepted_during_rotation() {
    let app = spawn_app_with(AppOptions {
        secrets: format!("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD,{TEST_SECRET}"),
        ..Default::default()
    })
    .await;
    let body = envelope(
        "order.placed",
        &sample_order("rest-order-guest-configurable.json"),
    );
    assert_eq!(
        app.send_webhook("msg_rot", &body).await.status(),
        StatusCode::ACCEPTED
    );
    app.stop().await;
}

#[tokio::test]
async fn signed_but_unusable_events_are_kept_as_payload_invalid_exceptions() {
    let app = spawn_app().await;
    let mut order = sample_order("rest-order-guest-configurable.json");
    order.as_object_mut().unwrap().remove("customer_email");
    let res = app
        .send_webhook("msg_bad", &envelope("order.placed", &order))
        .await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = json_body(res).await;
    assert_eq!(problem["code"], "payload_invalid");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("customer_email"));
    let event_id = problem["event_id"]
        .as_str()
        .expect("the kept event is named")
        .to_owned();

    let (category, team, order_id, stored_event): (String, String, Option<String>, uuid::Uuid) =
        sqlx::query_as("SELECT category, owner_team, order_increment_id, event_id FROM exceptions")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        (category.as_str(), team.as_str()),
        ("payload_invalid", "integration")
    );
    assert_eq!(order_id.as_deref(), Some("000000019"));
    assert_eq!(stored_event.to_string(), event_id);
    let body: Vec<u8> =
        sqlx::query_scalar("SELECT body FROM webhook_events WHERE outcome = 'invalid'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        body,
        envelope("order.placed", &order),
        "the raw bytes are kept"
    );
    assert!(count(&app, "SELECT count(*) FROM orders").await == 0);

    let not_json = app.send_webhook("msg_text", b"order=13").await;
    assert_problem(&not_json, StatusCode::BAD_REQUEST);
    assert_eq!(
        count(&app, "SELECT count(*) FROM exceptions").await,
        2,
        "not-JSON is kept too"
    );

    let unknown = app
        .send_webhook("msg_type", br#"{"type":"customer.created","data":{}}"#)
        .await;
    assert_problem(&unknown, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

#[tokio::test]
async fn bodies_over_one_mebibyte_get_413() {
    let app = spawn_app().await;
    let big = vec![b' '; 1024 * 1024 + 1];
    let res = app.send_webhook("msg_big", &big).await;
    assert_problem(&res, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn the_adobe_commerce_observer_envelope_is_accepted() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&json!({
        "eventName": "sales_order_place_after",
        "data": {"order": sample_order("rest-order-guest-configurable.json")}
    }))
    .unwrap();
    assert_eq!(
        app.send_webhook("msg_adobe", &body).await.status(),
        StatusCode::ACCEPTED
    );
    let envelope: String = sqlx::query_scalar("SELECT envelope FROM webhook_events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(envelope, "adobe_observer");
    app.stop().await;
}

#[tokio::test]
async fn with_postgres_unreachable_the_webhook_answers_503_and_recovers() {
    let target: std::net::SocketAddr = {
        let u = url::Url::parse(&crate::support::admin_url()).unwrap();
        let host = u.host_str().unwrap_or("127.0.0.1");
        let host = if host == "localhost" {
            "127.0.0.1"
        } else {
            host
        };
        format!("{host}:{}", u.port().unwrap_or(5432))
            .parse()
            .unwrap()
    };
    let proxy = TcpProxy::start(target).await;
    // The app reaches its database only through the proxy.
    let db_probe = crate::support::TestDb::new().await;
    let mut via_proxy = url::Url::parse(&db_probe.url).unwrap();
    via_proxy.set_host(Some("127.0.0.1")).unwrap();
    via_proxy.set_port(Some(proxy.address.port())).unwrap();
    let app = spawn_app_with(AppOptions {
        database_url: Some(via_proxy.to_string()),
        ..Default::default()
    })
    .await;
    let body = envelope(
        "order.placed",
        &sample_order("rest-order-guest-configurable.json"),
    );
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    proxy.cut();
    let res = app.send_webhook("msg_down", &body).await;
    assert_problem(&res, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json_body(res).await["code"], "database_unavailable");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    proxy.restore().await;
    let events = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM webhook_events")
            .fetch_one(&db_probe.pool)
            .await
            .unwrap()
    };
    assert_eq!(
        events().await,
        0,
        "nothing was stored while the database was away"
    );
    // Magento retries the same delivery; now it lands.
    let recovered = crate::support::wait_until(Duration::from_secs(10), || async {
        app.send_webhook("msg_down", &body).await.status() == StatusCode::ACCEPTED
    })
    .await;
    assert!(
        recovered,
        "the service recovers by itself when Postgres is back"
    );
    assert_eq!(events().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_delivery_finish_and_commit() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut app = spawn_app().await;
    let body = envelope(
        "order.placed",
        &sample_order("rest-order-guest-configurable.json"),
    );
    let key = b1bridge::config::WebhookKey::parse(TEST_SECRET).unwrap();
    let ts = chrono::Utc::now().timestamp();
    let sig = b1bridge::magento::signature::sign(key.bytes(), "msg_inflight", ts, &body);
    let mut conn = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST /webhooks/magento HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nexpect: 100-continue\r\nwebhook-id: msg_inflight\r\n\
         webhook-timestamp: {ts}\r\nwebhook-signature: {sig}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    // `100 Continue` arrives once the handler asks for the body: the request is now in flight.
    let mut buf = vec![0u8; 1024];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );

    app.begin_shutdown();
    conn.write_all(&body).await.unwrap();
    let mut response = Vec::new();
    conn.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_events").await,
        1,
        "committed before the answer"
    );
    app.stop().await;
}

#[tokio::test]
async fn concurrent_deliveries_of_one_new_order_create_it_once_and_keep_every_event() {
    let app = spawn_app().await;
    let body = envelope(
        "order.placed",
        &sample_order("rest-order-guest-configurable.json"),
    );
    let ids: Vec<String> = (0..10).map(|i| format!("msg_same_order_{i}")).collect();
    let sends = ids.iter().map(|id| app.send_webhook(id, &body));
    let statuses: Vec<StatusCode> = futures::future::join_all(sends)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::ACCEPTED),
        "{statuses:?}"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 10);
    assert_eq!(count(&app, "SELECT count(*) FROM orders").await, 1);
    assert_eq!(
        outbox(&app, "000000019").await,
        vec!["post_order"],
        "one job, however many deliveries"
    );
    let effects: Vec<String> =
        sqlx::query_scalar("SELECT effect FROM webhook_events ORDER BY effect")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        effects
            .iter()
            .filter(|e| e.as_str() == "order queued for posting")
            .count(),
        1,
        "{effects:?}"
    );
    app.stop().await;
}

/// The value of one series in `/metrics` (0 when absent).
async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.parse().unwrap())
}

#[tokio::test]
async fn metrics_count_refused_deliveries_by_reason_and_time_every_delivery() {
    let app = spawn_app().await;
    // Counters are the process's: other tests in this binary add to them, so compare growth.
    let refused = r#"b1bridge_webhooks_rejected_total{reason="signature_missing"}"#;
    let unusable = r#"b1bridge_webhooks_rejected_total{reason="unusable"}"#;
    let timed = "b1bridge_webhook_ingest_seconds_count";
    let (refused_0, unusable_0, timed_0) = (
        metric(&app, refused).await,
        metric(&app, unusable).await,
        metric(&app, timed).await,
    );
    let unsigned = app
        .client
        .post(app.url("/webhooks/magento"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .send_webhook(
            "msg_metrics_unusable",
            br#"{"type":"order.placed","data":{}}"#,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let order = sample_order("rest-order-guest-configurable.json");
    let res = app
        .send_webhook("msg_metrics_ok", &envelope("order.placed", &order))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(metric(&app, refused).await >= refused_0 + 1.0);
    assert!(metric(&app, unusable).await >= unusable_0 + 1.0);
    assert!(metric(&app, timed).await >= timed_0 + 3.0);
    app.stop().await;
}

#[tokio::test]
async fn credit_memo_events_are_verified_stored_once_and_queued_in_both_envelopes() {
    let app = spawn_app().await;
    let memo = json!({"entity_id": 41, "order_id": 19, "increment_id": "000000041",
        "order_currency_code": "USD", "grand_total": 54, "tax_amount": 0, "shipping_amount": 5,
        "items": [{"order_item_id": 32, "qty": 1, "price": 49, "row_total": 49}]});
    let body = serde_json::to_vec(&json!({"type": "creditmemo.created",
        "timestamp": "2026-11-26T10:00:00Z",
        "data": {"creditmemo": memo, "order": {"increment_id": "000000019"}}}))
    .unwrap();
    let first = app.send_webhook("msg_memo", &body).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let again = app.send_webhook("msg_memo", &body).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(json_body(again).await["status"], "duplicate");
    // The observer's envelope for the same credit memo: stored, but no second refund or job.
    let observer = serde_json::to_vec(&json!({
        "eventName": "sales_order_creditmemo_save_after", "data": {"creditmemo": memo}}))
    .unwrap();
    assert_eq!(
        app.send_webhook("msg_memo_observer", &observer)
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 2);
    assert_eq!(count(&app, "SELECT count(*) FROM refunds").await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE kind = 'post_refund' AND other_subject = 'refund:41'"
        )
        .await,
        1
    );
    let order: String =
        sqlx::query_scalar("SELECT order_increment_id FROM refunds WHERE magento_entity_id = 41")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(order, "000000019");
    // A credit memo without its body is unusable: kept, 422, payload_invalid.
    let broken = serde_json::to_vec(&json!({"type": "creditmemo.created", "data": {}})).unwrap();
    let res = app.send_webhook("msg_memo_broken", &broken).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM exceptions WHERE category = 'payload_invalid'"
        )
        .await,
        1
    );
    app.stop().await;
}
