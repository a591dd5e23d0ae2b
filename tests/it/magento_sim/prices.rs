//! Prices: partial success (the good rows are saved, the bad ones come back with Magento's
//! message and positional parameters, HTTP 200), price scope, special-price dates.
use super::Shop;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn base_prices_save_the_good_rows_and_report_the_bad_ones() {
    let shop = Shop::start().await;
    let a = shop
        .post(
            "products/base-prices",
            json!({"prices": [
                {"sku": "24-MB01", "price": 39.5, "store_id": 0},
                {"sku": "not_existing_sku", "price": 10, "store_id": 0},
                {"sku": "24-WB04", "price": -9999, "store_id": 0},
                {"sku": "24-WB04", "price": 50, "store_id": 9999}
            ]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.json[0],
        json!({"message": "Invalid attribute %fieldName = %fieldValue.", "parameters": ["SKU", "not_existing_sku"]})
    );
    assert_eq!(a.json[1]["parameters"], json!(["Price", "-9999"]));
    assert_eq!(a.json[2]["parameters"], json!(["24-WB04", "9999"]));
    assert_eq!(a.json.as_array().unwrap().len(), 3);
    let stored = shop
        .post(
            "products/base-prices-information",
            json!({"skus": ["24-MB01", "24-WB04"]}),
        )
        .await;
    assert!(
        stored
            .json
            .as_array()
            .unwrap()
            .contains(&json!({"sku": "24-MB01", "store_id": 0, "price": 39.5})),
        "{:?}",
        stored.json
    );
    assert!(stored
        .json
        .as_array()
        .unwrap()
        .contains(&json!({"sku": "24-WB04", "store_id": 0, "price": 45})));
    let all_good = shop
        .post(
            "products/base-prices",
            json!({"prices": [{"sku": "24-WB04", "price": 44, "store_id": 1}]}),
        )
        .await;
    assert_eq!(all_good.json, json!([]));
}

#[tokio::test]
async fn special_prices_check_dates_and_the_global_scope() {
    let shop = Shop::start().await;
    let row = |store: i64, from: &str, to: &str| json!({"sku": "24-MB01", "price": 29, "store_id": store, "price_from": from, "price_to": to});
    let a = shop
        .post(
            "products/special-price",
            json!({"prices": [
                row(0, "2026-12-01 00:00:00", "2026-12-31 23:59:59"),
                row(0, "2026-12-01", "2026-12-31 23:59:59"),
                row(1, "2026-12-01 00:00:00", "2026-12-31 23:59:59")
            ]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let errors = a.json.as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid attribute Price From"));
    assert!(errors[1]["message"]
        .as_str()
        .unwrap()
        .starts_with("Could not change non global Price"));
}

#[tokio::test]
async fn a_website_price_scope_copies_a_base_price_to_the_websites_store_views() {
    use b1bridge::sim::magento::{MagentoSimConfig, Seed};
    let seed = Seed::from_json(
        &json!({
            "stores": [{"id": 1, "code": "default", "website_id": 1}, {"id": 2, "code": "fr", "website_id": 1},
                       {"id": 3, "code": "b2b", "website_id": 2}],
            "products": [{"id": 1, "sku": "A", "price": 10}],
            "sources": [{"source_code": "default"}],
            "stocks": [{"stock_id": 1, "name": "Default Stock", "source_codes": ["default"]}],
            "price_scope": "website"
        })
        .to_string(),
    )
    .unwrap();
    let shop = Shop::with(MagentoSimConfig::new(super::TOKEN).with_seed(seed)).await;
    let a = shop
        .post(
            "products/base-prices",
            json!({"prices": [{"sku": "A", "price": 12, "store_id": 2}]}),
        )
        .await;
    assert_eq!(a.json, json!([]));
    let stored = shop
        .post("products/base-prices-information", json!({"skus": ["A"]}))
        .await
        .json;
    let mut rows: Vec<(i64, String)> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["store_id"].as_i64().unwrap(), r["price"].to_string()))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![(0, "10".into()), (1, "12".into()), (2, "12".into())]
    );
}

#[tokio::test]
async fn tier_prices_for_all_groups_are_validated_row_by_row() {
    let shop = Shop::start().await;
    let row = |sku: &str, kind: &str, price: i64, group: &str, qty: i64| json!({"sku": sku, "price": price, "price_type": kind, "website_id": 0, "customer_group": group, "quantity": qty});
    let a = shop
        .post(
            "products/tier-prices",
            json!({"prices": [
                row("24-MB01", "fixed", 30, "ALL GROUPS", 5),
                row("24-MB01", "discount", 150, "ALL GROUPS", 10),
                row("24-MB01", "fixed", 29, "Nobody", 10),
                row("24-MB01", "fixed", 28, "all groups", 0),
                row("24-WB04", "fixed", 40, "ALL GROUPS", 3),
                row("24-WB04", "fixed", 39, "all groups", 3)
            ]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let messages: Vec<&str> = a
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert!(messages[0].starts_with("Invalid attribute Price"));
    assert!(messages[1].starts_with("No such entity with Customer Group"));
    assert!(messages[2].starts_with("Invalid attribute Quantity"));
    assert!(messages[3].starts_with("We found a duplicate"));
    let stored = shop
        .post(
            "products/tier-prices-information",
            json!({"skus": ["24-MB01", "24-WB04"]}),
        )
        .await
        .json;
    assert_eq!(stored.as_array().unwrap().len(), 2, "{stored}");
}
