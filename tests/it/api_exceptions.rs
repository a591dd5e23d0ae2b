//! The exception queue (contract §3): shape, filters, stable cursor paging, context, and the
//! retry/resolve/ignore actions with their state machine and audit log.
use b1bridge::domain::exception::{Category, NewException};
use b1bridge::store::{exceptions, outbox};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashSet;
use uuid::Uuid;

use crate::api_common::*;
use crate::support::{spawn_app, TestApp};

async fn record(app: &TestApp, new: &NewException) -> Uuid {
    let mut conn = app.db.pool.acquire().await.unwrap();
    exceptions::record(&mut conn, new, None).await.unwrap()
}

fn other(category: Category, order: Option<&str>, skus: &[&str]) -> NewException {
    let skus: Vec<String> = skus.iter().map(|s| s.to_string()).collect();
    NewException {
        category,
        title: format!("{} on {}", category.as_str(), order.unwrap_or("-")),
        detail: "do something".into(),
        order_increment_id: order.map(str::to_owned),
        dedup_key: NewException::dedup_key_for(category, order, &skus),
        skus,
        sap_error: None,
        context: json!({}),
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_queue_answers_the_contract_shape_newest_first() {
    let app = spawn_app().await;
    place_order(&app, "000000013", "roni@example.com", &["MH01-S-Gray"]).await;
    let first = park_with(&app, &unknown_sku("000000013", "MH01-S-Gray")).await;
    let second = record(&app, &other(Category::StockDrift, None, &["24-WG082"])).await;

    let page = get_json(&app, "/api/v1/exceptions", VIEWER).await;
    assert_eq!(ids(&page), [second.to_string(), first.to_string()]);
    assert_eq!(page["next_cursor"], Value::Null);
    let x = &page["items"][1];
    let keys: HashSet<&str> = x.as_object().unwrap().keys().map(String::as_str).collect();
    let contract: HashSet<&str> = [
        "id",
        "category",
        "owner_team",
        "impact",
        "status",
        "title",
        "detail",
        "order_increment_id",
        "skus",
        "sap_error",
        "occurrences",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
        "resolved_by",
        "note",
    ]
    .into();
    assert_eq!(keys, contract);
    assert_eq!(x["category"], "unknown_sku");
    assert_eq!(x["owner_team"], "merchandising");
    assert_eq!(x["impact"], "blocks_fulfilment");
    assert_eq!(x["status"], "open");
    assert_eq!(
        x["title"],
        "SKU 'MH01-S-Gray' on order 000000013 has no SAP B1 item"
    );
    assert_eq!(x["order_increment_id"], "000000013");
    assert_eq!(x["skus"], json!(["MH01-S-Gray"]));
    assert_eq!(
        x["sap_error"],
        json!({"code": -10, "message": "Invalid item code 'MH01-S-Gray'"})
    );
    assert_eq!(x["occurrences"], 1);
    assert_eq!(x["resolved_at"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn every_filter_narrows_the_queue() {
    let app = spawn_app().await;
    let sku_a = record(&app, &unknown_sku("000000001", "A")).await;
    let sku_b = record(&app, &unknown_sku("000000002", "B")).await;
    let customer = record(
        &app,
        &other(Category::CustomerUnmapped, Some("000000002"), &[]),
    )
    .await;
    let drift = record(&app, &other(Category::StockDrift, None, &["A"])).await;
    let money = record(
        &app,
        &other(Category::TotalMismatch, Some("000000003"), &[]),
    )
    .await;
    // A real payload_invalid, from a signed but unusable webhook.
    let res = app
        .send_webhook("msg_bad", br#"{"type":"order.placed","data":{}}"#)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let invalid: Uuid =
        sqlx::query_scalar("SELECT id FROM exceptions WHERE category = 'payload_invalid'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let resolved = post_json(
        &app,
        &format!("/api/v1/exceptions/{money}/resolve"),
        OPERATOR,
        json!({"note": "refunded"}),
    )
    .await;
    assert_eq!(resolved.status(), StatusCode::OK);

    let set = |v: &[Uuid]| -> HashSet<String> { v.iter().map(Uuid::to_string).collect() };
    let cases: Vec<(&str, Vec<Uuid>)> = vec![
        ("status=open", vec![sku_a, sku_b, customer, drift, invalid]),
        ("status=resolved", vec![money]),
        ("status=retrying", vec![]),
        ("category=unknown_sku", vec![sku_a, sku_b]),
        ("category=payload_invalid", vec![invalid]),
        ("team=customer_service", vec![customer]),
        ("team=integration", vec![invalid]),
        ("team=operations", vec![drift]),
        ("impact=stock_accuracy", vec![drift]),
        ("impact=financial", vec![money]),
        ("impact=blocks_fulfilment", vec![sku_a, sku_b, customer, invalid]),
        ("order=000000002", vec![sku_b, customer]),
        ("sku=A", vec![sku_a, drift]),
        ("sku=B&category=unknown_sku&order=000000002&team=merchandising&impact=blocks_fulfilment&status=open", vec![sku_b]),
        ("sku=nothing", vec![]),
    ];
    for (query, expected) in cases {
        let page = get_json(&app, &format!("/api/v1/exceptions?{query}"), VIEWER).await;
        let got: HashSet<String> = ids(&page).into_iter().collect();
        assert_eq!(got, set(&expected), "{query}");
    }
    app.stop().await;
}

#[tokio::test]
async fn invalid_filters_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, field) in [
        ("status=closed", "status"),
        ("category=unknown", "category"),
        ("team=sales", "team"),
        ("impact=huge", "impact"),
        ("limit=many", "limit"),
        ("limit=0", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=MTIzfDQ1Ng", "cursor"),
    ] {
        let res = call(
            &app,
            Method::GET,
            &format!("/api/v1/exceptions?{query}"),
            VIEWER,
        )
        .send()
        .await
        .unwrap();
        let p = problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert_eq!(p["errors"][0]["field"], field, "{query}: {p}");
    }
    let res = call(
        &app,
        Method::GET,
        "/api/v1/exceptions?categry=unknown_sku",
        VIEWER,
    )
    .send()
    .await
    .unwrap();
    let p = problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    assert!(p["detail"].as_str().unwrap().contains("categry"), "{p}");
    app.stop().await;
}

#[tokio::test]
async fn paging_is_stable_while_new_exceptions_arrive() {
    let app = spawn_app().await;
    let mut original = vec![];
    for i in 0..7 {
        original.push(
            record(
                &app,
                &other(Category::StockDrift, None, &[&format!("S{i}")]),
            )
            .await,
        );
    }
    original.reverse(); // newest first
    let mut seen: Vec<String> = vec![];
    let mut cursor: Option<String> = None;
    let mut round = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/exceptions?limit=3&cursor={c}"),
            None => "/api/v1/exceptions?limit=3".into(),
        };
        let page = get_json(&app, &path, VIEWER).await;
        seen.extend(ids(&page));
        // New problems arrive and old ones recur between page fetches.
        record(
            &app,
            &other(Category::StockDrift, None, &[&format!("NEW{round}")]),
        )
        .await;
        record(&app, &other(Category::StockDrift, None, &["S0"])).await;
        round += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> = original.iter().map(Uuid::to_string).collect();
    assert_eq!(seen, expected, "no duplicates, no gaps, same order");
    assert_eq!(round, 3);
    app.stop().await;
}

#[tokio::test]
async fn limit_defaults_to_50_and_is_clamped_to_500() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO exceptions (id, category, owner_team, impact, title, detail, dedup_key, first_seen_at)
         SELECT gen_random_uuid(), 'stock_drift', 'operations', 'stock_accuracy', 't', 'd', 'k' || i,
                now() - i * interval '1 second'
           FROM generate_series(1, 501) AS i",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let page = get_json(&app, "/api/v1/exceptions", VIEWER).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 50);
    let page = get_json(&app, "/api/v1/exceptions?limit=100000", VIEWER).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 500);
    let rest = get_json(
        &app,
        &format!(
            "/api/v1/exceptions?limit=500&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ),
        VIEWER,
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn retry_requeues_the_parked_job_and_its_success_resolves_the_exception() {
    let app = spawn_app().await;
    place_order(&app, "000000021", "a@example.com", &["MH01-S-Gray"]).await;
    let id = park_with(&app, &unknown_sku("000000021", "MH01-S-Gray")).await;
    let status = |app: &TestApp| {
        let pool = app.db.pool.clone();
        async move {
            sqlx::query_as::<_, (String, String)>(
                "SELECT o.status, j.status FROM orders o JOIN outbox j USING (increment_id)
                  WHERE o.increment_id = '000000021'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(status(&app).await, ("parked".into(), "parked".into()));

    let res = post_json(
        &app,
        &format!("/api/v1/exceptions/{id}/retry"),
        OPERATOR,
        json!({"note": "SKU mapped"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let x: Value = res.json().await.unwrap();
    assert_eq!(x["status"], "retrying");
    assert_eq!(x["note"], "SKU mapped");
    assert_eq!(status(&app).await, ("queued".into(), "pending".into()));
    assert_eq!(
        audit_of(&app, "exception", &id.to_string()).await,
        vec![("operator".into(), "retry".into(), Some("SKU mapped".into()))]
    );

    // The worker's job succeeds: in its transaction it resolves the order's exceptions.
    let job = claim_post(&app, "000000021").await;
    let mut tx = app.db.pool.begin().await.unwrap();
    outbox::complete(&mut tx, job.0, job.1).await.unwrap();
    let n = exceptions::resolve_for_order(&mut tx, "000000021", &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(n, 1);

    let detail = get_json(&app, &format!("/api/v1/exceptions/{id}"), VIEWER).await;
    assert_eq!(detail["exception"]["status"], "resolved");
    assert_eq!(detail["exception"]["resolved_by"], "b1bridge");
    assert!(detail["exception"]["resolved_at"].is_string());
    let actions: Vec<&str> = detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["retry", "auto_resolve"]);
    app.stop().await;
}

#[tokio::test]
async fn a_problem_that_recurs_after_a_retry_is_open_again_with_one_more_occurrence() {
    let app = spawn_app().await;
    place_order(&app, "000000022", "a@example.com", &["X"]).await;
    let problem_ = unknown_sku("000000022", "X");
    let id = park_with(&app, &problem_).await;
    let res = post_json(
        &app,
        &format!("/api/v1/exceptions/{id}/retry"),
        OPERATOR,
        json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again = park_with(&app, &problem_).await;
    assert_eq!(
        again, id,
        "the same problem for the same order is one exception"
    );
    let x = get_json(&app, &format!("/api/v1/exceptions/{id}"), VIEWER).await;
    assert_eq!(x["exception"]["status"], "open");
    assert_eq!(x["exception"]["occurrences"], 2);
    app.stop().await;
}

#[tokio::test]
async fn retry_with_nothing_parked_is_409() {
    let app = spawn_app().await;
    // An exception without an order.
    let drift = record(&app, &other(Category::StockDrift, None, &["A"])).await;
    let res = post_json(
        &app,
        &format!("/api/v1/exceptions/{drift}/retry"),
        OPERATOR,
        json!({}),
    )
    .await;
    problem(res, StatusCode::CONFLICT, "nothing_to_retry").await;
    // An order whose job is still pending, not parked.
    place_order(&app, "000000023", "a@example.com", &["A"]).await;
    let x = record(&app, &unknown_sku("000000023", "A")).await;
    let res = call(
        &app,
        Method::POST,
        &format!("/api/v1/exceptions/{x}/retry"),
        OPERATOR,
    )
    .send()
    .await
    .unwrap();
    problem(res, StatusCode::CONFLICT, "nothing_to_retry").await;
    let after = get_json(&app, &format!("/api/v1/exceptions/{x}"), VIEWER).await;
    assert_eq!(
        after["exception"]["status"], "open",
        "a refused retry changes nothing"
    );
    assert!(audit_of(&app, "exception", &x.to_string()).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn resolve_and_ignore_need_a_note_and_are_audited_with_the_token_name() {
    let app = spawn_app().await;
    let a = record(
        &app,
        &other(Category::TotalMismatch, Some("000000031"), &[]),
    )
    .await;
    let b = record(
        &app,
        &other(Category::MissedWebhook, Some("000000032"), &[]),
    )
    .await;
    for (id, action) in [(a, "resolve"), (b, "ignore")] {
        let path = format!("/api/v1/exceptions/{id}/{action}");
        let res = post_json(&app, &path, OPERATOR, json!({"note": "  "})).await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], "note");
        let res = post_json(&app, &path, OPERATOR, json!({"nota": "typo"})).await;
        problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let res = post_json(
            &app,
            &path,
            OPERATOR,
            json!({"note": format!("{action}d by hand")}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let x: Value = res.json().await.unwrap();
        assert_eq!(
            x["status"],
            if action == "resolve" {
                "resolved"
            } else {
                "ignored"
            }
        );
        assert_eq!(x["resolved_by"], "operator");
        assert_eq!(x["note"], format!("{action}d by hand"));
        assert_eq!(
            audit_of(&app, "exception", &id.to_string()).await,
            vec![(
                "operator".into(),
                action.into(),
                Some(format!("{action}d by hand"))
            )]
        );
    }
    let at: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT at FROM audit_log WHERE target_id = $1")
            .bind(a.to_string())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(at.is_some(), "the audit entry has its time");
    app.stop().await;
}

#[tokio::test]
async fn actions_the_state_does_not_allow_are_409() {
    let app = spawn_app().await;
    let resolved = record(
        &app,
        &other(Category::TotalMismatch, Some("000000041"), &[]),
    )
    .await;
    let ignored = record(
        &app,
        &other(Category::MissedWebhook, Some("000000042"), &[]),
    )
    .await;
    let note = json!({"note": "n"});
    let ok = |res: reqwest::Response| assert_eq!(res.status(), StatusCode::OK);
    ok(post_json(
        &app,
        &format!("/api/v1/exceptions/{resolved}/resolve"),
        OPERATOR,
        note.clone(),
    )
    .await);
    ok(post_json(
        &app,
        &format!("/api/v1/exceptions/{ignored}/ignore"),
        OPERATOR,
        note.clone(),
    )
    .await);
    place_order(&app, "000000043", "a@example.com", &["Z"]).await;
    let retrying = park_with(&app, &unknown_sku("000000043", "Z")).await;
    ok(post_json(
        &app,
        &format!("/api/v1/exceptions/{retrying}/retry"),
        OPERATOR,
        json!({}),
    )
    .await);

    for (id, action, from) in [
        (resolved, "resolve", "resolved"),
        (resolved, "ignore", "resolved"),
        (resolved, "retry", "resolved"),
        (ignored, "resolve", "ignored"),
        (ignored, "retry", "ignored"),
        (retrying, "retry", "retrying"),
        (retrying, "ignore", "retrying"),
    ] {
        let res = post_json(
            &app,
            &format!("/api/v1/exceptions/{id}/{action}"),
            OPERATOR,
            note.clone(),
        )
        .await;
        let p = problem(res, StatusCode::CONFLICT, "illegal_transition").await;
        assert_eq!(
            p["detail"],
            format!("cannot {action} an exception that is {from}")
        );
    }
    // A retrying exception may still be resolved by hand.
    ok(post_json(
        &app,
        &format!("/api/v1/exceptions/{retrying}/resolve"),
        OPERATOR,
        note,
    )
    .await);
    app.stop().await;
}

#[tokio::test]
async fn one_exception_comes_with_its_event_order_jobs_and_audit() {
    let app = spawn_app().await;
    place_order(&app, "000000051", "a@example.com", &["Q"]).await;
    let id = park_with(&app, &unknown_sku("000000051", "Q")).await;
    let d = get_json(&app, &format!("/api/v1/exceptions/{id}"), VIEWER).await;
    assert_eq!(d["exception"]["id"], id.to_string());
    assert_eq!(d["dedup_key"], "unknown_sku|000000051|Q");
    assert_eq!(d["context"], json!({"sku": "Q"}));
    assert_eq!(d["order"]["increment_id"], "000000051");
    assert_eq!(d["order"]["status"], "parked");
    assert_eq!(d["jobs"][0]["kind"], "post_order");
    assert_eq!(d["jobs"][0]["status"], "parked");
    assert_eq!(d["jobs"][0]["attempt"], 1);
    assert_eq!(d["jobs"][0]["last_error"]["sap_code"], -10);
    assert_eq!(d["audit"], json!([]));

    // The payload_invalid exception of an unusable webhook links its stored event.
    app.send_webhook(
        "msg_unusable",
        br#"{"type":"order.placed","data":{"order":{"increment_id":"000000052"}}}"#,
    )
    .await;
    let page = get_json(&app, "/api/v1/exceptions?category=payload_invalid", VIEWER).await;
    let inv = page["items"][0]["id"].as_str().unwrap().to_owned();
    let d = get_json(&app, &format!("/api/v1/exceptions/{inv}"), VIEWER).await;
    assert_eq!(d["event"]["webhook_id"], "msg_unusable");
    assert_eq!(d["event"]["outcome"], "invalid");

    for missing in [Uuid::now_v7().to_string(), "not-a-uuid".to_string()] {
        let res = call(
            &app,
            Method::GET,
            &format!("/api/v1/exceptions/{missing}"),
            VIEWER,
        )
        .send()
        .await
        .unwrap();
        problem(res, StatusCode::NOT_FOUND, "not_found").await;
        let res = post_json(
            &app,
            &format!("/api/v1/exceptions/{missing}/retry"),
            OPERATOR,
            json!({}),
        )
        .await;
        problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    app.stop().await;
}
