//! Mapping tables and settings (contract §3): typed bodies per kind, field-level validation,
//! upsert/list/delete, admin-only changes, audit entries, the SAP master-data check seam, and
//! changes visible to the next job's snapshot.
use b1bridge::config::{parse_api_tokens, WebhookSettings};
use b1bridge::domain::master_data::MasterDataKind;
use b1bridge::http::api::master_data::{CheckUnavailable, MasterDataCheck};
use b1bridge::http::intake_batcher::IntakeBatcher;
use b1bridge::http::{self, ApiContext};
use futures::future::BoxFuture;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::sync::Arc;

use crate::api_common::*;
use crate::support::{spawn_app, TestApp, TestDb, TEST_API_TOKENS, TEST_SECRET};

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    call(app, Method::PUT, path, token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_kind_takes_its_typed_value_and_returns_the_stored_entry() {
    let app = spawn_app().await;
    for (kind, key, value, stored_key) in [
        (
            "skus",
            " MH01-S-Gray ",
            json!({"item_code": "MH01-S-GRY"}),
            "MH01-S-Gray",
        ),
        (
            "customers",
            "Roni@Example.com",
            json!({"card_code": "C20000"}),
            "roni@example.com",
        ),
        (
            "warehouses",
            "02",
            json!({"magento_source_code": "eu", "include_in_stock": true, "order_default": false}),
            "02",
        ),
        (
            "tax-codes",
            "US-MI-*-Rate 1",
            json!({"sap_tax_code": "US-MI", "rate_percent": 8.25}),
            "US-MI-*-Rate 1",
        ),
        (
            "shipping-methods",
            "flatrate_flatrate",
            json!({"expense_code": 2, "tax_code": "US-MI"}),
            "flatrate_flatrate",
        ),
        (
            "payment-methods",
            "checkmo",
            json!({"sap_payment_method": "CHECK", "comment": "Check / money order",
                   "refund_account": "_SYS00000000010"}),
            "checkmo",
        ),
    ] {
        let path = format!("/api/v1/mappings/{kind}/{}", urlencode(key));
        let res = put(&app, &path, ADMIN, value.clone()).await;
        assert_eq!(res.status(), StatusCode::OK, "{kind}");
        let m: Value = res.json().await.unwrap();
        assert_eq!(m["kind"], kind);
        assert_eq!(m["key"], stored_key, "{kind}: the key is stored normalised");
        assert_eq!(m["value"], value, "{kind}");
        assert_eq!(m["updated_by"], "admin");
        let list = get_json(&app, &format!("/api/v1/mappings/{kind}"), VIEWER).await;
        assert_eq!(list["items"][0]["value"], value, "{kind}");
        assert_eq!(list["next_cursor"], Value::Null);
        assert_eq!(
            audit_of(&app, "mapping", &format!("{kind}/{stored_key}")).await[0].1,
            "upsert"
        );
    }
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[tokio::test]
async fn invalid_bodies_are_422_listing_each_field() {
    let app = spawn_app().await;
    for (path, body, fields) in [
        ("/api/v1/mappings/skus/A", json!({}), vec!["value"]),
        (
            "/api/v1/mappings/skus/A",
            json!({"item_code": "A", "extra": 1}),
            vec!["value"],
        ),
        (
            "/api/v1/mappings/customers/not%20a%20customer",
            json!({"card_code": "C1"}),
            vec!["key"],
        ),
        (
            "/api/v1/mappings/shipping-methods/nounderscore",
            json!({"expense_code": 0}),
            vec!["key", "expense_code"],
        ),
        (
            "/api/v1/mappings/tax-codes/T",
            json!({"sap_tax_code": "X", "rate_percent": 120}),
            vec!["rate_percent"],
        ),
        (
            "/api/v1/mappings/warehouses/TOOLONGCODE",
            json!({"include_in_stock": true, "order_default": true}),
            vec!["key"],
        ),
    ] {
        let res = put(&app, path, ADMIN, body).await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let got: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(got, fields, "{path}: {p}");
    }
    let res = call(&app, Method::PUT, "/api/v1/mappings/skus/A", ADMIN)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST, "bad_request").await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM mappings")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing invalid was stored");
    app.stop().await;
}

#[tokio::test]
async fn unknown_kinds_and_absent_keys_are_404_and_delete_is_204() {
    let app = spawn_app().await;
    let res = call(&app, Method::GET, "/api/v1/mappings/colours", VIEWER)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = put(&app, "/api/v1/mappings/colours/red", ADMIN, json!({})).await;
    problem(res, StatusCode::NOT_FOUND, "not_found").await;

    put(
        &app,
        "/api/v1/mappings/skus/A",
        ADMIN,
        json!({"item_code": "A1"}),
    )
    .await;
    let del = |path: &'static str| call(&app, Method::DELETE, path, ADMIN).send();
    assert_eq!(
        del("/api/v1/mappings/skus/A").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    problem(
        del("/api/v1/mappings/skus/A").await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    problem(
        del("/api/v1/mappings/colours/A").await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let list = get_json(&app, "/api/v1/mappings/skus", VIEWER).await;
    assert_eq!(list["items"], json!([]));
    let trail: Vec<String> = audit_of(&app, "mapping", "skus/A")
        .await
        .into_iter()
        .map(|(actor, action, _)| format!("{actor}:{action}"))
        .collect();
    assert_eq!(trail, ["admin:upsert", "admin:delete"]);
    app.stop().await;
}

#[tokio::test]
async fn a_changed_mapping_is_what_the_next_job_reads() {
    let app = spawn_app().await;
    put(
        &app,
        "/api/v1/mappings/skus/MH01-S-Gray",
        ADMIN,
        json!({"item_code": "OLD"}),
    )
    .await;
    let snapshot = b1bridge::store::mappings::snapshot(&app.db.pool)
        .await
        .unwrap();
    let sku = b1bridge::domain::ids::Sku::parse("MH01-S-Gray").unwrap();
    assert_eq!(snapshot.item_code_for(&sku).unwrap().as_str(), "OLD");
    put(
        &app,
        "/api/v1/mappings/skus/MH01-S-Gray",
        ADMIN,
        json!({"item_code": "NEW"}),
    )
    .await;
    let snapshot = b1bridge::store::mappings::snapshot(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(snapshot.item_code_for(&sku).unwrap().as_str(), "NEW");
    let list = get_json(&app, "/api/v1/mappings/skus", VIEWER).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "an upsert, not a second row"
    );
    app.stop().await;
}

#[tokio::test]
async fn mapping_lists_page_by_key() {
    let app = spawn_app().await;
    for sku in ["D", "B", "A", "C", "E"] {
        put(
            &app,
            &format!("/api/v1/mappings/skus/{sku}"),
            ADMIN,
            json!({"item_code": sku}),
        )
        .await;
    }
    let mut keys = vec![];
    let mut path = "/api/v1/mappings/skus?limit=2".to_string();
    loop {
        let page = get_json(&app, &path, VIEWER).await;
        keys.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["key"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/mappings/skus?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(keys, ["A", "B", "C", "D", "E"]);
    app.stop().await;
}

#[tokio::test]
async fn settings_default_until_replaced_and_are_validated_field_by_field() {
    let app = spawn_app().await;
    let defaults = get_json(&app, "/api/v1/settings", VIEWER).await;
    assert_eq!(defaults["guest_policy"], "shared_guest");
    assert_eq!(defaults["default_warehouse"], "01");

    let mut bad = defaults.clone();
    bad["card_code_prefix"] = json!("TOOLONG");
    bad["item_cache_ttl_secs"] = json!(0);
    bad["total_tolerance"] = json!(2);
    bad["store_timezone"] = json!("Europe/Atlantis");
    let res = put(&app, "/api/v1/settings", ADMIN, bad).await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "card_code_prefix",
            "item_cache_ttl_secs",
            "total_tolerance",
            "store_timezone"
        ]
    );
    assert_eq!(defaults["tax_strategy"], "sap_computes");
    assert_eq!(defaults["tax_localization"], Value::Null);
    assert_eq!(defaults["store_timezone"], "UTC");
    let res = put(
        &app,
        "/api/v1/settings",
        ADMIN,
        json!({"tax_strategy": "round_it"}),
    )
    .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "tax_strategy");
    let res = put(
        &app,
        "/api/v1/settings",
        ADMIN,
        json!({"guest_policy": "sometimes"}),
    )
    .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "guest_policy");

    let mut good = defaults.clone();
    good["guest_policy"] = json!("per_email");
    good["safety_stock"] = json!(2.5);
    good["tax_localization"] = json!("vat");
    good["tax_strategy"] = json!("magento_line_tax");
    good["total_tolerance"] = json!(0.01);
    good["store_timezone"] = json!("Europe/London");
    let res = put(&app, "/api/v1/settings", ADMIN, good.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let now = get_json(&app, "/api/v1/settings", VIEWER).await;
    assert_eq!(now["guest_policy"], "per_email");
    assert_eq!(now["safety_stock"], json!(2.5));
    assert_eq!(now, good);
    let trail = audit_of(&app, "settings", "settings").await;
    assert_eq!(
        (trail[0].0.as_str(), trail[0].1.as_str()),
        ("admin", "replace")
    );
    app.stop().await;
}

/// SAP B1 as far as master data goes: knows warehouse `01` and item `A1`, nothing else;
/// or is unreachable.
struct FakeSap {
    reachable: bool,
}

impl MasterDataCheck for FakeSap {
    fn exists<'a>(
        &'a self,
        kind: MasterDataKind,
        code: &'a str,
    ) -> BoxFuture<'a, Result<bool, CheckUnavailable>> {
        Box::pin(async move {
            if !self.reachable {
                return Err(CheckUnavailable("connection refused".into()));
            }
            Ok(match kind {
                MasterDataKind::Warehouse => code == "01",
                MasterDataKind::Item => code == "A1",
                _ => true,
            })
        })
    }
}

async fn serve_with(db: &TestDb, check: FakeSap) -> (String, tokio::task::JoinHandle<()>) {
    let ctx = ApiContext {
        pool: db.pool.clone(),
        webhook: Arc::new(
            WebhookSettings::from_raw(Some(&SecretString::from(TEST_SECRET)), 300).unwrap(),
        ),
        api_tokens: Arc::new(parse_api_tokens(Some(&SecretString::from(TEST_API_TOKENS))).unwrap()),
        master_data: Some(Arc::new(check)),
        intake: IntakeBatcher::start(db.pool.clone(), 1, 64),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, http::router(ctx)).await.unwrap();
    });
    (base, task)
}

#[tokio::test]
async fn codes_sap_does_not_know_are_refused_when_sap_is_reachable() {
    let db = TestDb::new().await;
    let (base, task) = serve_with(&db, FakeSap { reachable: true }).await;
    let client = reqwest::Client::new();
    let put = |path: &str, body: Value| {
        client
            .put(format!("{base}{path}"))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
    };
    let res = put(
        "/api/v1/mappings/warehouses/ZZ",
        json!({"include_in_stock": true, "order_default": true}),
    )
    .await
    .unwrap();
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        p["errors"],
        json!([{"field": "key", "message": "SAP B1 has no warehouse 'ZZ'"}])
    );
    let res = put("/api/v1/mappings/skus/A", json!({"item_code": "B9"}))
        .await
        .unwrap();
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "item_code");
    let ok = put(
        "/api/v1/mappings/warehouses/01",
        json!({"include_in_stock": true, "order_default": true}),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);

    let mut settings =
        serde_json::to_value(b1bridge::domain::settings::Settings::default()).unwrap();
    settings["default_warehouse"] = json!("99");
    let res = put("/api/v1/settings", settings).await.unwrap();
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "default_warehouse");
    task.abort();
}

#[tokio::test]
async fn with_sap_unreachable_the_check_is_skipped_and_the_change_stored() {
    let db = TestDb::new().await;
    let (base, task) = serve_with(&db, FakeSap { reachable: false }).await;
    let res = reqwest::Client::new()
        .put(format!("{base}/api/v1/mappings/warehouses/ZZ"))
        .bearer_auth(ADMIN)
        .json(&json!({"include_in_stock": false, "order_default": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    task.abort();
}

#[tokio::test]
async fn only_one_warehouse_is_the_order_default_and_a_second_is_422_naming_the_first() {
    let app = spawn_app().await;
    let default = json!({"include_in_stock": true, "order_default": true});
    let res = put(
        &app,
        "/api/v1/mappings/warehouses/01",
        ADMIN,
        default.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Storing the same warehouse again is no second default.
    let res = put(
        &app,
        "/api/v1/mappings/warehouses/01",
        ADMIN,
        default.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = put(
        &app,
        "/api/v1/mappings/warehouses/02",
        ADMIN,
        default.clone(),
    )
    .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "order_default");
    let message = p["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("'01'"), "{message}");
    // Unmark the first, and the second may be the default.
    let res = put(
        &app,
        "/api/v1/mappings/warehouses/01",
        ADMIN,
        json!({"include_in_stock": true, "order_default": false}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = put(&app, "/api/v1/mappings/warehouses/02", ADMIN, default).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_num_at_card_format_is_a_validated_setting() {
    let app = spawn_app().await;
    let defaults = get_json(&app, "/api/v1/settings", VIEWER).await;
    assert_eq!(defaults["num_at_card_format"], "{increment_id}");
    assert_eq!(defaults["serial_batch_policy"], "post");
    for bad in [
        "{store_code}-{increment_id}",
        "{store_id}",
        "A{increment_id}{increment_id}",
    ] {
        let mut body = defaults.clone();
        body["num_at_card_format"] = json!(bad);
        let res = put(&app, "/api/v1/settings", ADMIN, body).await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], "num_at_card_format", "{bad}");
    }
    let mut good = defaults.clone();
    good["num_at_card_format"] = json!("S{store_id}-{increment_id}");
    let res = put(&app, "/api/v1/settings", ADMIN, good).await;
    assert_eq!(res.status(), StatusCode::OK);
}
