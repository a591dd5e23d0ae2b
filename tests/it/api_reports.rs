//! The daily check (`GET /api/v1/reports/daily`): every figure counted from rows written
//! through the product's own paths (signed webhooks, the outbox functions the worker uses,
//! `exceptions::record`, the API's actions), the health verdict's rules, and who may read it.
//!
//! Time is the one thing faked: to make a row "yesterday" or "25 h old", its timestamp is moved
//! back with an UPDATE, since waiting a day is not an option.
use b1bridge::domain::exception::{Category, NewException};
use b1bridge::domain::order_flow::JobKind;
use b1bridge::domain::posting::SapDocument;
use b1bridge::store::{exceptions, outbox, posting};
use chrono::{NaiveDate, TimeDelta, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

use crate::api_common::*;
use crate::support::{envelope, spawn_app, TestApp};

const REPORT: &str = "/api/v1/reports/daily";

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn yesterday() -> NaiveDate {
    today() - TimeDelta::days(1)
}

async fn report(app: &TestApp) -> Value {
    get_json(app, REPORT, VIEWER).await
}

async fn report_of(app: &TestApp, date: NaiveDate) -> Value {
    get_json(app, &format!("{REPORT}?date={date}"), VIEWER).await
}

async fn record(app: &TestApp, new: &NewException) -> Uuid {
    let mut conn = app.db.pool.acquire().await.unwrap();
    exceptions::record(&mut conn, new, None).await.unwrap()
}

fn exception(category: Category, order: Option<&str>) -> NewException {
    NewException {
        category,
        title: format!("{} on {}", category.as_str(), order.unwrap_or("-")),
        detail: "what happened and what to do".into(),
        order_increment_id: order.map(str::to_owned),
        dedup_key: NewException::dedup_key_for(category, order, &[]),
        skus: vec![],
        sap_error: None,
        context: json!({}),
    }
}

/// Finishes the order's post job the way the worker does on SAP's success: the job is
/// completed (fenced) in the transaction that records the SAP document
/// (`store::posting::record_posted`). Then the order's arrival is moved `latency` back, so the
/// report's latency is known exactly.
async fn post_in_sap(app: &TestApp, increment_id: &str, doc_entry: i32, latency_secs: i64) {
    let (job, attempt) = claim_post(app, increment_id).await;
    let mut tx = app.db.pool.begin().await.unwrap();
    outbox::complete(&mut tx, job, attempt).await.unwrap();
    let document = SapDocument {
        doc_entry: doc_entry.into(),
        doc_num: doc_entry.into(),
    };
    posting::record_posted(&mut tx, increment_id, document)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    sqlx::query(
        "UPDATE orders o SET created_at = j.finished_at - make_interval(secs => $2)
           FROM outbox j WHERE j.id = $1 AND o.increment_id = j.increment_id",
    )
    .bind(job)
    .bind(latency_secs as f64)
    .execute(&app.db.pool)
    .await
    .unwrap();
}

async fn cancel_webhook(app: &TestApp, increment_id: &str) {
    let body = envelope(
        "order.cancelled",
        &json!({"increment_id": increment_id, "entity_id": 1000 + increment_id.parse::<i64>().unwrap()}),
    );
    let res = app
        .send_webhook(&format!("msg_cancel_{increment_id}"), &body)
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{increment_id}");
}

/// Runs the order's cancel job to success, as the worker does (`store::posting::record_cancelled`): the order keeps its SAP document, or gets `found_in_sap` (a Sales
/// Order the cancel found by NumAtCard). The claim also closes a parked post of the order as
/// superseded, as every claim does.
async fn finish_cancel(app: &TestApp, increment_id: &str, found_in_sap: Option<i32>) {
    let jobs = outbox::claim(
        &app.db.pool,
        "test-worker",
        &[JobKind::CancelOrder],
        10,
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(jobs.len(), 1, "only {increment_id}'s cancel is ready");
    let mut tx = app.db.pool.begin().await.unwrap();
    outbox::complete(&mut tx, jobs[0].id, jobs[0].attempt)
        .await
        .unwrap();
    let found = found_in_sap.map(|e| SapDocument {
        doc_entry: e.into(),
        doc_num: e.into(),
    });
    posting::record_cancelled(&mut tx, increment_id, found)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// A post job that finds the order's cancellation finishes without posting: done, and the
/// order cancelled without a SAP document (as the pipeline's post job does).
async fn post_finds_cancellation(app: &TestApp, increment_id: &str) {
    let (job, attempt) = claim_post(app, increment_id).await;
    let mut tx = app.db.pool.begin().await.unwrap();
    outbox::complete(&mut tx, job, attempt).await.unwrap();
    posting::record_cancelled(&mut tx, increment_id, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Moves a row's timestamp `secs` into the past.
async fn backdate(app: &TestApp, table_column_where: (&str, &str, &str), key: &str, secs: i64) {
    let (table, column, key_column) = table_column_where;
    sqlx::query(&format!(
        "UPDATE {table} SET {column} = {column} - make_interval(secs => $2) WHERE {key_column} = $1"
    ))
    .bind(key)
    .bind(secs as f64)
    .execute(&app.db.pool)
    .await
    .unwrap();
}

async fn backdate_exception(app: &TestApp, id: Uuid, secs: i64) {
    sqlx::query(
        "UPDATE exceptions SET first_seen_at = first_seen_at - make_interval(secs => $2),
                               last_seen_at = last_seen_at - make_interval(secs => $2)
          WHERE id = $1",
    )
    .bind(id)
    .bind(secs as f64)
    .execute(&app.db.pool)
    .await
    .unwrap();
}

fn counts_of(list: &Value, key: &str) -> Vec<(String, i64, i64)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[key].as_str().unwrap().to_owned(),
                e["open"].as_i64().unwrap(),
                e["retrying"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn row(name: &str, open: i64, retrying: i64) -> (String, i64, i64) {
    (name.to_owned(), open, retrying)
}

#[tokio::test]
async fn the_day_counts_orders_received_posted_and_cancelled_with_posting_latency() {
    let app = spawn_app().await;
    for id in [
        "000000501",
        "000000502",
        "000000503",
        "000000504",
        "000000505",
        "000000508",
        "000000509",
    ] {
        place_order(&app, id, "a@example.com", &["A"]).await;
    }
    post_in_sap(&app, "000000501", 501, 10).await;
    post_in_sap(&app, "000000502", 502, 20).await;
    post_in_sap(&app, "000000503", 503, 60).await;
    park_with(&app, &unknown_sku("000000504", "A")).await;
    // Cancelled in SAP: posted first.
    cancel_webhook(&app, "000000503").await;
    finish_cancel(&app, "000000503", None).await;
    // Cancelled while parked after an attempt with an unknown outcome: the post is
    // superseded, and the cancel finds the Sales Order in SAP and cancels it. Cancelled in
    // SAP, but not a posting b1bridge saw that day.
    park_with(&app, &unknown_sku("000000509", "A")).await;
    cancel_webhook(&app, "000000509").await;
    finish_cancel(&app, "000000509", Some(509)).await;
    // Cancelled before its post job ran: both jobs finish, nothing reaches SAP.
    cancel_webhook(&app, "000000508").await;
    post_finds_cancellation(&app, "000000508").await;
    finish_cancel(&app, "000000508", None).await;
    // A cancellation for an order that has not arrived: requested, not received.
    cancel_webhook(&app, "000000506").await;
    // An order of yesterday, still queued.
    place_order(&app, "000000507", "a@example.com", &["A"]).await;
    backdate(
        &app,
        ("orders", "created_at", "increment_id"),
        "000000507",
        86_400,
    )
    .await;

    let r = report(&app).await;
    assert_eq!(r["date"], today().to_string());
    assert_eq!(r["from"], format!("{}T00:00:00Z", today()));
    assert_eq!(
        r["until"],
        format!("{}T00:00:00Z", today() + TimeDelta::days(1))
    );
    let o = &r["orders"];
    assert_eq!(o["received"], 7, "{o}");
    assert_eq!(o["posted"], 3, "only orders with a SAP document: {o}");
    assert_eq!(o["posting_latency_secs"], json!({"p50": 20.0, "p95": 56.0}));
    assert_eq!(o["cancellations_requested"], 4, "{o}");
    assert_eq!(
        o["cancelled_in_sap"], 2,
        "503 and 509 had a SAP document: {o}"
    );
    assert_eq!(
        o["current"],
        json!({"queued": 2, "cancel_queued": 0, "parked": 1, "awaiting_order": 1})
    );
    assert_eq!(
        r["stock_sync"],
        json!({"status": "not_configured", "last_run_at": null, "last_success_at": null, "age_secs": null})
    );
    assert_eq!(r["drift_found"], Value::Null);

    let y = report_of(&app, yesterday()).await;
    assert_eq!(y["date"], yesterday().to_string());
    let o = &y["orders"];
    assert_eq!(o["received"], 1, "{o}");
    assert_eq!(o["posted"], 0);
    assert_eq!(o["posting_latency_secs"], Value::Null);
    assert_eq!(o["cancellations_requested"], 0);
    assert_eq!(
        o["current"], r["orders"]["current"],
        "current figures do not depend on the day"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_queue_shows_depth_by_kind_and_status_the_oldest_pending_job_and_overdue_jobs() {
    let app = spawn_app().await;
    for id in [
        "000000601",
        "000000602",
        "000000603",
        "000000604",
        "000000605",
    ] {
        place_order(&app, id, "a@example.com", &["A"]).await;
    }
    backdate(
        &app,
        ("outbox", "created_at", "increment_id"),
        "000000601",
        1800,
    )
    .await;
    claim_post(&app, "000000602").await; // running
    let (job, attempt) = claim_post(&app, "000000603").await;
    let mut tx = app.db.pool.begin().await.unwrap();
    outbox::retry_later(
        &mut tx,
        job,
        attempt,
        Duration::from_secs(3600),
        &json!({"failure": "transient"}),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    park_with(&app, &unknown_sku("000000604", "A")).await;
    post_in_sap(&app, "000000605", 605, 1).await;
    cancel_webhook(&app, "000000605").await;

    let q = &report(&app).await["queue"];
    assert_eq!(
        q["depth"],
        json!([
            {"kind": "post_order", "pending": 2, "running": 1, "parked": 1},
            {"kind": "cancel_order", "pending": 1, "running": 0, "parked": 0},
            {"kind": "stock_sync", "pending": 0, "running": 0, "parked": 0},
            {"kind": "status_sync", "pending": 0, "running": 0, "parked": 0},
            {"kind": "backfill", "pending": 0, "running": 0, "parked": 0},
            {"kind": "reconcile", "pending": 0, "running": 0, "parked": 0},
            {"kind": "audit", "pending": 0, "running": 0, "parked": 0},
            {"kind": "post_refund", "pending": 0, "running": 0, "parked": 0},
            {"kind": "price_sync", "pending": 0, "running": 0, "parked": 0}
        ])
    );
    assert_eq!(
        q["past_run_after"], 2,
        "601 and 605's cancel are due; 603 waits for its backoff"
    );
    let oldest = &q["oldest_pending"];
    assert_eq!(oldest["order_increment_id"], "000000601");
    assert_eq!(oldest["kind"], "post_order");
    let age = oldest["age_secs"].as_i64().unwrap();
    assert!((1800..1800 + 60).contains(&age), "{age}");
    app.stop().await;
}

#[tokio::test]
async fn exceptions_are_broken_down_by_team_and_impact_with_the_days_movements() {
    let app = spawn_app().await;
    place_order(&app, "000000701", "a@example.com", &["A"]).await;
    place_order(&app, "000000702", "a@example.com", &["B"]).await;
    park_with(&app, &unknown_sku("000000701", "A")).await;
    let unmapped = park_with(
        &app,
        &exception(Category::CustomerUnmapped, Some("000000702")),
    )
    .await;
    let res = post_json(
        &app,
        &format!("/api/v1/exceptions/{unmapped}/retry"),
        OPERATOR,
        json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    record(&app, &exception(Category::TotalMismatch, Some("000000799"))).await;
    let missed = record(&app, &exception(Category::MissedWebhook, Some("000000798"))).await;
    let res = post_json(
        &app,
        &format!("/api/v1/exceptions/{missed}/resolve"),
        OPERATOR,
        json!({"note": "replayed from Magento"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let drift = record(&app, &exception(Category::StockDrift, None)).await;
    let res = post_json(
        &app,
        &format!("/api/v1/exceptions/{drift}/ignore"),
        OPERATOR,
        json!({"note": "counted by hand"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let old = record(
        &app,
        &exception(Category::CancelConflict, Some("000000700")),
    )
    .await;
    backdate_exception(&app, old, 2 * 86_400).await;

    let r = report(&app).await;
    let x = &r["exceptions"];
    assert_eq!(
        counts_of(&x["by_team"], "team"),
        [
            row("merchandising", 1, 0),
            row("customer_service", 0, 1),
            row("operations", 1, 0),
            row("finance", 1, 0),
            row("integration", 0, 0),
        ]
    );
    assert_eq!(
        counts_of(&x["by_impact"], "impact"),
        [
            row("blocks_fulfilment", 1, 1),
            row("customer_facing", 1, 0),
            row("stock_accuracy", 0, 0),
            row("financial", 1, 0),
            row("informational", 0, 0),
        ]
    );
    assert_eq!(x["opened"], 5, "{x}");
    assert_eq!(x["resolved"], 1, "{x}");
    assert_eq!(x["ignored"], 1, "{x}");
    let oldest = &x["oldest_open"];
    assert_eq!(oldest["id"], old.to_string());
    assert_eq!(oldest["category"], "cancel_conflict");
    assert_eq!(oldest["status"], "open");
    assert_eq!(oldest["order_increment_id"], "000000700");
    let age = oldest["age_secs"].as_i64().unwrap();
    assert!((2 * 86_400..2 * 86_400 + 60).contains(&age), "{age}");

    let y = &report_of(&app, yesterday() - TimeDelta::days(1)).await["exceptions"];
    assert_eq!(
        y["opened"], 1,
        "the backdated exception opened two days ago"
    );
    assert_eq!(
        (y["resolved"].as_i64(), y["ignored"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(y["by_team"], x["by_team"], "open counts are as of now");
    app.stop().await;
}

#[tokio::test]
async fn health_is_ok_then_attention_then_critical_by_the_documented_rules() {
    let app = spawn_app().await;
    assert_eq!(
        report(&app).await["health"],
        json!({"verdict": "ok", "reasons": []})
    );

    let missed = record(&app, &exception(Category::MissedWebhook, Some("000000899"))).await;
    assert_eq!(
        report(&app).await["health"],
        json!({"verdict": "attention", "reasons": ["1 exception(s) open or retrying"]})
    );
    let res = post_json(
        &app,
        &format!("/api/v1/exceptions/{missed}/resolve"),
        OPERATOR,
        json!({"note": "replayed"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    // A blocking exception becomes critical only once it is older than 24 h.
    place_order(&app, "000000801", "a@example.com", &["A"]).await;
    let blocking = park_with(&app, &unknown_sku("000000801", "A")).await;
    backdate_exception(&app, blocking, 23 * 3600).await;
    assert_eq!(report(&app).await["health"]["verdict"], "attention");
    backdate_exception(&app, blocking, 3 * 3600).await;
    assert_eq!(
        report(&app).await["health"],
        json!({"verdict": "critical", "reasons": [
            "a blocks_fulfilment exception has been unresolved for 26 h (limit 24 h)",
            "1 exception(s) open or retrying",
            "1 order(s) parked"
        ]})
    );
    let res = post_json(
        &app,
        &format!("/api/v1/exceptions/{blocking}/resolve"),
        OPERATOR,
        json!({"note": "item created in SAP"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        report(&app).await["health"],
        json!({"verdict": "attention", "reasons": ["1 order(s) parked"]}),
        "a parked order needs attention even without an open exception"
    );

    // A job pending for more than an hour is critical: nothing drains the queue.
    place_order(&app, "000000802", "a@example.com", &["A"]).await;
    backdate(
        &app,
        ("outbox", "created_at", "increment_id"),
        "000000802",
        3600 - 60,
    )
    .await;
    assert_eq!(report(&app).await["health"]["verdict"], "attention");
    backdate(
        &app,
        ("outbox", "created_at", "increment_id"),
        "000000802",
        16 * 60,
    )
    .await;
    let health = &report(&app).await["health"];
    assert_eq!(health["verdict"], "critical");
    assert_eq!(
        health["reasons"][0],
        "the oldest pending job has waited 75 min (limit 60 min): the queue is not draining"
    );
    app.stop().await;
}

#[tokio::test]
async fn viewers_may_read_it_and_a_bad_date_is_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    let res = app.client.get(app.url(REPORT)).send().await.unwrap();
    problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let res = call(&app, Method::GET, REPORT, "not-a-token")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    for token in [VIEWER, OPERATOR, ADMIN] {
        let res = call(&app, Method::GET, REPORT, token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    // A future day is a valid question: answered, with nothing happened yet.
    let tomorrow = today() + TimeDelta::days(1);
    let res = call(
        &app,
        Method::GET,
        &format!("{REPORT}?date={tomorrow}"),
        VIEWER,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["orders"]["received"], 0, "{body}");
    assert!(body["generated_at"].as_str().unwrap() < body["from"].as_str().unwrap());
    for (query, field, says) in [
        ("date=2026-13-01".to_owned(), "date", "YYYY-MM-DD"),
        ("date=26.11.2026".to_owned(), "date", "YYYY-MM-DD"),
        ("date=%202026-11-26".to_owned(), "date", "YYYY-MM-DD"),
    ] {
        let res = call(&app, Method::GET, &format!("{REPORT}?{query}"), VIEWER)
            .send()
            .await
            .unwrap();
        let p = problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert_eq!(p["errors"][0]["field"], field, "{query}: {p}");
        let message = p["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{query}: {message}");
    }
    let res = call(
        &app,
        Method::GET,
        &format!("{REPORT}?since=2026-11-01"),
        VIEWER,
    )
    .send()
    .await
    .unwrap();
    let p = problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    assert!(p["detail"].as_str().unwrap().contains("since"), "{p}");
    app.stop().await;
}
