//! Orders in the flow (contract §3): list with status and search filters and cursor paging,
//! one order with its timeline, and the retry of a parked order.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api_common::*;
use crate::support::spawn_app;

fn increment_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["increment_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn orders_list_newest_first_with_status_and_search_filters() {
    let app = spawn_app().await;
    place_order(&app, "000000101", "Roni_Cost@Example.com", &["A"]).await;
    place_order(&app, "000000102", "ann@shop.test", &["B"]).await;
    place_order(&app, "000000203", "bob@shop.test", &["C"]).await;
    park_with(&app, &unknown_sku("000000102", "B")).await;

    let all = get_json(&app, "/api/v1/orders", VIEWER).await;
    assert_eq!(increment_ids(&all), ["000000203", "000000102", "000000101"]);
    let o = &all["items"][2];
    assert_eq!(o["status"], "queued");
    assert_eq!(o["customer_email"], "Roni_Cost@Example.com");
    assert_eq!(o["currency"], "EUR");
    assert_eq!(o["grand_total"], "10");
    assert_eq!(o["sap_doc_entry"], Value::Null);
    assert_eq!(all["items"][1]["open_exceptions"], 1);

    for (query, expected) in [
        ("status=parked", vec!["000000102"]),
        ("status=queued", vec!["000000203", "000000101"]),
        ("status=posted", vec![]),
        ("q=0000001", vec!["000000102", "000000101"]),
        ("q=000000203", vec!["000000203"]),
        ("q=roni_cost@example.COM", vec!["000000101"]),
        ("q=ANN@", vec!["000000102"]),
        ("q=%25", vec![]),
        ("q=shop&status=queued", vec![]),
        ("q=bob&status=queued", vec!["000000203"]),
    ] {
        let page = get_json(&app, &format!("/api/v1/orders?{query}"), VIEWER).await;
        assert_eq!(increment_ids(&page), expected, "{query}");
    }
    let res = call(&app, Method::GET, "/api/v1/orders?status=lost", VIEWER)
        .send()
        .await
        .unwrap();
    let p = problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    assert_eq!(p["errors"][0]["field"], "status");
    app.stop().await;
}

#[tokio::test]
async fn orders_page_by_cursor_while_new_orders_arrive() {
    let app = spawn_app().await;
    for i in 1..=5 {
        place_order(&app, &format!("00000030{i}"), "a@example.com", &["A"]).await;
    }
    let first = get_json(&app, "/api/v1/orders?limit=2", VIEWER).await;
    place_order(&app, "000000399", "a@example.com", &["A"]).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get_json(
        &app,
        &format!("/api/v1/orders?limit=2&cursor={cursor}"),
        VIEWER,
    )
    .await;
    let cursor = second["next_cursor"].as_str().unwrap();
    let third = get_json(
        &app,
        &format!("/api/v1/orders?limit=2&cursor={cursor}"),
        VIEWER,
    )
    .await;
    assert_eq!(third["next_cursor"], Value::Null);
    let mut seen = increment_ids(&first);
    seen.extend(increment_ids(&second));
    seen.extend(increment_ids(&third));
    assert_eq!(
        seen,
        [
            "000000305",
            "000000304",
            "000000303",
            "000000302",
            "000000301"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn one_order_shows_events_attempts_exceptions_sap_document_and_a_timeline() {
    let app = spawn_app().await;
    place_order(&app, "000000401", "a@example.com", &["A", "B"]).await;
    let x = park_with(&app, &unknown_sku("000000401", "B")).await;
    sqlx::query("UPDATE orders SET sap_doc_entry = 512, sap_doc_num = 1024 WHERE increment_id = '000000401'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let res = post_json(
        &app,
        "/api/v1/orders/000000401/retry",
        OPERATOR,
        json!({"note": "B mapped"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    let d = get_json(&app, "/api/v1/orders/000000401", VIEWER).await;
    assert_eq!(d["order"]["status"], "queued");
    assert_eq!(d["order"]["sap_doc_entry"], 512);
    assert_eq!(d["order"]["sap_doc_num"], 1024);
    assert_eq!(d["events"][0]["event_type"], "order.placed");
    assert_eq!(d["events"][0]["effect"], "order queued for posting");
    assert_eq!(d["jobs"][0]["kind"], "post_order");
    assert_eq!(d["jobs"][0]["status"], "pending");
    assert_eq!(d["jobs"][0]["attempt"], 1);
    assert_eq!(d["jobs"][0]["last_error"]["message"], "Invalid item code");
    assert_eq!(d["exceptions"][0]["id"], x.to_string());
    assert_eq!(d["exceptions"][0]["status"], "retrying");
    assert_eq!(d["audit"][0]["actor"], "operator");
    assert_eq!(d["audit"][0]["action"], "retry");
    assert_eq!(d["audit"][0]["note"], "B mapped");
    let kinds: Vec<&str> = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "event_received",
        "job_queued",
        "exception_raised",
        "operator_action",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let times: Vec<&str> = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");

    let res = call(&app, Method::GET, "/api/v1/orders/999999999", VIEWER)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::NOT_FOUND, "not_found").await;
    app.stop().await;
}

#[tokio::test]
async fn retrying_a_parked_order_requeues_it_once_and_is_audited() {
    let app = spawn_app().await;
    place_order(&app, "000000501", "a@example.com", &["A"]).await;
    let x = park_with(&app, &unknown_sku("000000501", "A")).await;

    let res = call(
        &app,
        Method::POST,
        "/api/v1/orders/000000501/retry",
        OPERATOR,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"increment_id": "000000501", "status": "queued", "jobs_requeued": 1})
    );
    let x = get_json(&app, &format!("/api/v1/exceptions/{x}"), VIEWER).await;
    assert_eq!(x["exception"]["status"], "retrying");
    assert_eq!(
        audit_of(&app, "order", "000000501").await,
        vec![("operator".into(), "retry".into(), None)]
    );

    // Nothing is parked any more: a second retry is refused and changes nothing.
    let res = post_json(&app, "/api/v1/orders/000000501/retry", OPERATOR, json!({})).await;
    problem(res, StatusCode::CONFLICT, "nothing_to_retry").await;
    assert_eq!(audit_of(&app, "order", "000000501").await.len(), 1);
    let res = post_json(&app, "/api/v1/orders/000000404/retry", OPERATOR, json!({})).await;
    problem(res, StatusCode::NOT_FOUND, "not_found").await;
    app.stop().await;
}

#[tokio::test]
async fn a_parked_order_with_a_pending_cancellation_is_requeued_as_cancel_queued() {
    let app = spawn_app().await;
    place_order(&app, "000000601", "a@example.com", &["A"]).await;
    park_with(&app, &unknown_sku("000000601", "A")).await;
    let cancel = crate::support::envelope(
        "order.cancelled",
        &json!({"entity_id": 1601, "increment_id": "000000601"}),
    );
    assert_eq!(
        app.send_webhook("msg_cancel_601", &cancel).await.status(),
        StatusCode::ACCEPTED
    );
    sqlx::query("UPDATE orders SET status = 'parked' WHERE increment_id = '000000601'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let parked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE increment_id = '000000601' AND status = 'parked'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(parked, 1, "the post job is parked, the cancel job pending");
    let res = post_json(&app, "/api/v1/orders/000000601/retry", OPERATOR, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "cancel_queued");
    app.stop().await;
}
