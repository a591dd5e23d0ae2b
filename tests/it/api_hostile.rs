//! Hostile input on the operators' API: SQL and JSON injection in filters and mapping keys,
//! NUL characters (which Postgres cannot store), and huge or out-of-range page sizes. Each is
//! a clear 2xx or 4xx; none is a 500, none changes anything it should not.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api_common::*;
use crate::support::spawn_app;

const INJECTIONS: [&str; 6] = [
    "' OR '1'='1",
    "'; DROP TABLE orders; --",
    "%",
    "_",
    "\\",
    "\") OR 1=1 --",
];

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn injection_in_filters_matches_nothing_and_changes_nothing() {
    let app = spawn_app().await;
    place_order(&app, "000000101", "anna@example.com", &["MH01-S-Gray"]).await;
    place_order(&app, "000000102", "ben@example.com", &["MH01-S-Gray"]).await;
    for text in INJECTIONS {
        let q = enc(text);
        for path in [
            format!("/api/v1/orders?q={q}"),
            format!("/api/v1/exceptions?order={q}"),
            format!("/api/v1/exceptions?sku={q}"),
        ] {
            let page = get_json(&app, &path, VIEWER).await;
            assert_eq!(page["items"], json!([]), "{path}: {page}");
        }
    }
    // An enum filter refuses what it does not know instead of passing it on.
    let res = call(
        &app,
        Method::GET,
        "/api/v1/exceptions?status=open'--",
        VIEWER,
    )
    .send()
    .await
    .unwrap();
    problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    // Both orders are still there, and a plain prefix still finds one.
    let all = get_json(&app, "/api/v1/orders", VIEWER).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let one = get_json(&app, "/api/v1/orders?q=000000101", VIEWER).await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn mapping_keys_are_data_whatever_they_contain() {
    let app = spawn_app().await;
    for key in [
        "'; DROP TABLE mappings; --",
        "\"},\"item_code\":\"EVIL",
        "a/b?c#d",
        "{\"$ne\": null}",
    ] {
        let path = format!("/api/v1/mappings/skus/{}", enc(key).replace('+', "%20"));
        let res = call(&app, Method::PUT, &path, ADMIN)
            .json(&json!({"item_code": "MH01-S-GRY"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{key}");
        let stored: Value = res.json().await.unwrap();
        assert_eq!(stored["key"], key);
        assert_eq!(stored["value"], json!({"item_code": "MH01-S-GRY"}));
    }
    let page = get_json(&app, "/api/v1/mappings/skus", VIEWER).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 4, "{page}");
    // JSON smuggled into a value is a validation error naming the field, not stored.
    let res = call(&app, Method::PUT, "/api/v1/mappings/skus/X1", ADMIN)
        .json(&json!({"item_code": "MH01", "__proto__": {"admin": true}}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    app.stop().await;
}

#[tokio::test]
async fn nul_characters_are_refused_as_the_clients_mistake_not_a_server_error() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/orders?q=a%00b",
        "/api/v1/exceptions?sku=%00",
        "/api/v1/orders/0000%0001",
    ] {
        let res = call(&app, Method::GET, path, VIEWER).send().await.unwrap();
        let p = problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert!(p["detail"].as_str().unwrap().contains("NUL"), "{path}: {p}");
    }
    let res = call(&app, Method::PUT, "/api/v1/mappings/skus/X1", ADMIN)
        .header("content-type", "application/json")
        .body(r#"{"item_code": "MH\u000001"}"#)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let page = get_json(&app, "/api/v1/mappings/skus", VIEWER).await;
    assert_eq!(page["items"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn huge_page_sizes_are_clamped_and_out_of_range_ones_refused() {
    let app = spawn_app().await;
    let value = b1bridge::domain::mappings::MappingKind::Skus
        .parse_value(&json!({"item_code": "MH01-S-GRY"}))
        .unwrap();
    for i in 0..501 {
        b1bridge::store::mappings::upsert(&app.db.pool, &format!("SKU-{i:04}"), &value, "test")
            .await
            .unwrap();
    }
    for limit in ["501", "500000", "2147483647"] {
        let page = get_json(
            &app,
            &format!("/api/v1/mappings/skus?limit={limit}"),
            VIEWER,
        )
        .await;
        assert_eq!(
            page["items"].as_array().unwrap().len(),
            500,
            "limit={limit}"
        );
        assert!(page["next_cursor"].is_string());
    }
    for limit in [
        "0",
        "-1",
        "2147483648",
        "99999999999999999999999",
        "1e3",
        "ten",
    ] {
        let res = call(
            &app,
            Method::GET,
            &format!("/api/v1/mappings/skus?limit={limit}"),
            VIEWER,
        )
        .send()
        .await
        .unwrap();
        let p = problem(res, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert_eq!(p["errors"][0]["field"], "limit", "limit={limit}: {p}");
    }
    app.stop().await;
}
