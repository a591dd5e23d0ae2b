//! `GET /api/v1/runs` and `POST /api/v1/stock/sync`: roles, one stock run at a time (409
//! while one is queued or running), cursor paging and the `kind` filter.
use b1bridge::domain::run::{RunKind, RunStatus, RunTrigger};
use b1bridge::store::runs;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api_common::*;
use crate::support::spawn_app;

const VIEWER: &str = "viewer-secret-0123456789";
const OPERATOR: &str = "operator-secret-0123456789";

#[tokio::test]
async fn starting_a_stock_sync_needs_an_operator_and_answers_409_while_one_runs() {
    let app = spawn_app().await;
    let res = call(&app, Method::POST, "/api/v1/stock/sync", VIEWER)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .client
        .post(app.url("/api/v1/stock/sync"))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let res = call(&app, Method::POST, "/api/v1/stock/sync", OPERATOR)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let started: Value = res.json().await.unwrap();
    assert_eq!(started["status"], "queued");
    let id = started["run_id"].as_str().unwrap().to_owned();

    let res = call(&app, Method::POST, "/api/v1/stock/sync", OPERATOR)
        .send()
        .await
        .unwrap();
    let p = problem(res, StatusCode::CONFLICT, "run_active").await;
    assert!(p["detail"].as_str().unwrap().contains(&id), "{p}");

    // The run is recorded with who asked for it, and a job executes it.
    let list = get_json(&app, "/api/v1/runs", VIEWER).await;
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["items"][0]["kind"], "stock_sync");
    assert_eq!(list["items"][0]["trigger"], "api");
    assert_eq!(list["items"][0]["requested_by"], "operator");
    let jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'stock_sync' AND subject = $1 AND status = 'pending'",
    )
    .bind(&id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(jobs, 1);

    // Once it has finished, another may start.
    let mut conn = app.db.pool.acquire().await.unwrap();
    runs::finish(
        &mut conn,
        id.parse().unwrap(),
        RunStatus::Succeeded,
        &json!({"pushed": 3}),
        None,
    )
    .await
    .unwrap();
    let res = call(&app, Method::POST, "/api/v1/stock/sync", OPERATOR)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    app.stop().await;
}

#[tokio::test]
async fn runs_are_listed_newest_first_with_cursor_paging_and_a_kind_filter() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let run = runs::start(
            &app.db.pool,
            RunKind::StockSync,
            RunTrigger::Schedule,
            "scheduler",
        )
        .await
        .unwrap();
        let mut conn = app.db.pool.acquire().await.unwrap();
        runs::finish(
            &mut conn,
            run.id,
            RunStatus::Failed,
            &json!({}),
            Some("Magento unavailable"),
        )
        .await
        .unwrap();
        ids.push(run.id.to_string());
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut path = "/api/v1/runs?limit=2&kind=stock_sync".to_owned();
    loop {
        let page = get_json(&app, &path, VIEWER).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        for r in items {
            assert_eq!(r["status"], "failed");
            assert_eq!(r["error"], "Magento unavailable");
            assert!(r["finished_at"].is_string());
            seen.push(r["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/runs?limit=2&kind=stock_sync&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every run once, newest first");

    let res = call(&app, Method::GET, "/api/v1/runs?kind=nonsense", VIEWER)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    let res = call(&app, Method::GET, "/api/v1/runs?cursor=%%%", VIEWER)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    let res = call(&app, Method::GET, "/api/v1/runs?limit=0", VIEWER)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    let res = app
        .client
        .get(app.url("/api/v1/runs"))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    app.stop().await;
}

#[tokio::test]
async fn the_daily_report_and_metrics_show_the_stock_syncs_freshness() {
    let app = spawn_app().await;
    let report = get_json(&app, "/api/v1/reports/daily", VIEWER).await;
    assert_eq!(report["stock_sync"]["status"], "not_configured");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("b1bridge_stock_sync_last_success"));

    let ok = runs::start(
        &app.db.pool,
        RunKind::StockSync,
        RunTrigger::Schedule,
        "scheduler",
    )
    .await
    .unwrap();
    let mut conn = app.db.pool.acquire().await.unwrap();
    runs::finish(&mut conn, ok.id, RunStatus::Succeeded, &json!({}), None)
        .await
        .unwrap();
    let report = get_json(&app, "/api/v1/reports/daily", VIEWER).await;
    assert_eq!(report["stock_sync"]["status"], "ok");
    assert!(report["stock_sync"]["last_success_at"].is_string());
    assert!(report["stock_sync"]["age_secs"].as_i64().unwrap() < 60);
    assert_eq!(report["drift_found"], Value::Null, "no reconciliation yet");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("b1bridge_stock_sync_last_success_timestamp_seconds "));

    let failed = runs::start(
        &app.db.pool,
        RunKind::StockSync,
        RunTrigger::Schedule,
        "scheduler",
    )
    .await
    .unwrap();
    runs::finish(
        &mut conn,
        failed.id,
        RunStatus::Failed,
        &json!({}),
        Some("down"),
    )
    .await
    .unwrap();
    let report = get_json(&app, "/api/v1/reports/daily", VIEWER).await;
    assert_eq!(report["stock_sync"]["status"], "failing");
    assert_eq!(
        report["stock_sync"]["last_success_at"],
        get_json(&app, "/api/v1/reports/daily", VIEWER).await["stock_sync"]["last_success_at"]
    );
    app.stop().await;
}

#[tokio::test]
async fn starting_a_reconciliation_needs_an_operator_and_answers_409_while_one_runs() {
    let app = spawn_app().await;
    let res = call(&app, Method::POST, "/api/v1/reconcile", VIEWER)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = call(&app, Method::POST, "/api/v1/reconcile", OPERATOR)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let started: Value = res.json().await.unwrap();
    let id = started["run_id"].as_str().unwrap().to_owned();
    let res = call(&app, Method::POST, "/api/v1/reconcile", OPERATOR)
        .send()
        .await
        .unwrap();
    let p = problem(res, StatusCode::CONFLICT, "run_active").await;
    assert!(p["detail"].as_str().unwrap().contains(&id), "{p}");
    // A stock sync is another kind: it may start meanwhile.
    let res = call(&app, Method::POST, "/api/v1/stock/sync", OPERATOR)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let list = get_json(&app, "/api/v1/runs?kind=reconcile", VIEWER).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    let jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'reconcile' AND subject = $1 AND status = 'pending'",
    )
    .bind(&id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(jobs, 1);
    app.stop().await;
}
