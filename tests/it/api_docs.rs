//! The API describes itself: every `/api/v1` operation in the OpenAPI document carries the
//! bearer scheme and its problem+json errors; `/docs` works offline; `/metrics` reports the
//! queue, the exceptions and the events.
use reqwest::StatusCode;
use serde_json::Value;

use crate::api_common::*;
use crate::support::spawn_app;

#[test]
fn every_api_operation_documents_bearer_auth_and_its_errors() {
    let doc: Value = serde_json::from_str(&b1bridge::http::openapi_json()).unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            if path.starts_with("/api/v1/") {
                operations += 1;
                assert_eq!(
                    op["security"],
                    serde_json::json!([{"bearer": []}]),
                    "{method} {path}"
                );
                for status in ["401", "500", "503"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} documents {status}"
                    );
                }
                if method != "get" {
                    assert!(
                        responses.contains_key("403"),
                        "{method} {path} documents 403"
                    );
                }
            } else {
                assert!(op.get("security").is_none(), "{path} is public");
            }
            assert!(op["operationId"].is_string(), "{method} {path}");
        }
    }
    assert_eq!(
        operations, 17,
        "with GET /api/v1/runs, POST /api/v1/stock/sync and POST /api/v1/reconcile"
    );
    for response in doc["components"]["responses"].as_object().unwrap().values() {
        assert!(response["content"]["application/problem+json"]["example"].is_object());
    }
}

#[tokio::test]
async fn the_docs_page_loads_only_from_this_server() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/docs/redoc.standalone.js">"#));
    assert!(html.contains(r#"Redoc.init("/openapi.json""#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN"
    );
    let js = app
        .client
        .get(app.url("/docs/redoc.standalone.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert!(
        js.text().await.unwrap().len() > 500_000,
        "the whole bundle is served"
    );
    app.stop().await;
}

#[tokio::test]
async fn metrics_report_queue_depth_open_exceptions_and_events() {
    let app = spawn_app().await;
    place_order(&app, "000000901", "a@example.com", &["A"]).await;
    place_order(&app, "000000902", "a@example.com", &["B"]).await;
    park_with(&app, &unknown_sku("000000902", "B")).await;
    app.send_webhook("msg_bad_metrics", b"{}").await;

    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    for line in [
        "b1bridge_outbox_jobs{status=\"pending\"} 1",
        "b1bridge_outbox_jobs{status=\"parked\"} 1",
        "b1bridge_exceptions_open{category=\"unknown_sku\"} 1",
        "b1bridge_exceptions_open{category=\"payload_invalid\"} 1",
        "b1bridge_webhook_events_received{outcome=\"accepted\"} 2",
        "b1bridge_webhook_events_received{outcome=\"invalid\"} 1",
        "b1bridge_orders{status=\"parked\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(text.contains("# TYPE b1bridge_outbox_oldest_pending_seconds gauge"));
    app.stop().await;
}
