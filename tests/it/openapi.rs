//! The committed OpenAPI document is the one the code generates, byte for byte.
use crate::support::spawn_app;

#[test]
fn committed_openapi_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json exists");
    let generated = b1bridge::http::openapi_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[tokio::test]
async fn the_served_document_is_the_committed_one() {
    let app = spawn_app().await;
    let served = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, b1bridge::http::openapi_json());
    app.stop().await;
}

/// utoipa keys schemas by type name, so two `Health` types silently replace each other and a
/// generated client then fails to read `/readyz`. Guard the names that once collided.
#[test]
fn probe_and_daily_report_health_schemas_are_distinct() {
    let doc: serde_json::Value = serde_json::from_str(&b1bridge::http::openapi_json()).unwrap();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Health"]["required"], serde_json::json!(["status"]));
    assert!(schemas["DailyHealth"]["required"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("verdict")));
}
