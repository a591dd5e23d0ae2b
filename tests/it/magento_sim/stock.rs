//! MSI: source items, reservations, the salable quantity through place → ship → cancel, the
//! legacy stock item, and the token and route checks in front of everything.
use super::{Shop, TOKEN};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn salable_follows_place_ship_and_cancel() {
    let shop = Shop::start().await;
    shop.set_source("24-MB01", "default", 10).await;
    assert_eq!(shop.salable("24-MB01").await, json!(10));

    // Placing reserves: the source keeps its 10, the shop can sell 7.
    let first = shop.place(&[("24-MB01", 3)]).await;
    let second = shop.place(&[("24-MB01", 2)]).await;
    assert_eq!(shop.salable("24-MB01").await, json!(5));
    assert_eq!(
        shop.sim.state().source_quantity("24-MB01", "default"),
        Some(10.into())
    );

    // Shipping 2 of the first order deducts 2 at the source and releases 2 reserved.
    let item = shop.get(&format!("orders/{first}")).await.json["items"][0]["item_id"].clone();
    let a = shop
        .post(
            &format!("order/{first}/ship"),
            json!({"items": [{"order_item_id": item, "qty": 2}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert!(
        a.json.is_string(),
        "the shipment id comes back as a JSON string: {:?}",
        a.json
    );
    assert_eq!(
        shop.sim.state().source_quantity("24-MB01", "default"),
        Some(8.into())
    );
    assert_eq!(shop.salable("24-MB01").await, json!(5));

    // Cancelling the first releases only what is left to ship (1).
    let a = shop
        .post(&format!("orders/{first}/cancel"), json!({}))
        .await;
    assert_eq!(a.json, json!(true));
    assert_eq!(shop.salable("24-MB01").await, json!(6));
    let order = shop.get(&format!("orders/{first}")).await.json;
    assert_eq!(order["state"], "canceled");
    assert_eq!(order["items"][0]["qty_canceled"], json!(1));
    // A second cancellation changes nothing.
    assert_eq!(
        shop.post(&format!("orders/{first}/cancel"), json!({}))
            .await
            .json,
        json!(false)
    );
    assert_eq!(shop.salable("24-MB01").await, json!(6));

    // The second order ships whole; then nothing is reserved and the source holds 6.
    let item = shop.get(&format!("orders/{second}")).await.json["items"][0]["item_id"].clone();
    let a = shop
        .post(
            &format!("order/{second}/ship"),
            json!({"items": [{"order_item_id": item, "qty": 2}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(
        shop.sim.state().source_quantity("24-MB01", "default"),
        Some(6.into())
    );
    assert_eq!(shop.salable("24-MB01").await, json!(6));
}

#[tokio::test]
async fn an_order_beyond_the_salable_quantity_is_refused_and_reserves_nothing() {
    let shop = Shop::start().await;
    shop.set_source("24-MB01", "default", 1).await;
    shop.place(&[("24-MB01", 1)]).await;
    let a = shop
        .control(
            "orders",
            json!({"items": [{"sku": "24-MB01", "qty_ordered": 1}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json["message"], "The requested qty is not available");
    assert_eq!(shop.salable("24-MB01").await, json!(0));
}

#[tokio::test]
async fn salable_counts_only_the_stocks_enabled_in_stock_sources() {
    use b1bridge::sim::magento::{MagentoSimConfig, Seed};
    let seed = Seed::from_json(
        &json!({
            "products": [{"id": 1, "sku": "A"}],
            "sources": [{"source_code": "default"}, {"source_code": "east"}, {"source_code": "shop", "enabled": true},
                        {"source_code": "closed", "enabled": false}],
            "stocks": [{"stock_id": 1, "name": "Default Stock", "source_codes": ["default"]},
                       {"stock_id": 2, "name": "Web", "source_codes": ["east", "closed", "default"]}],
            "source_items": [{"sku": "A", "source_code": "default", "quantity": 5},
                             {"sku": "A", "source_code": "east", "quantity": 7},
                             {"sku": "A", "source_code": "shop", "quantity": 100},
                             {"sku": "A", "source_code": "closed", "quantity": 50}]
        })
        .to_string(),
    )
    .unwrap();
    let shop = Shop::with(MagentoSimConfig::new(TOKEN).with_seed(seed)).await;
    // Stock 2 = east (7) + default (5); the disabled source and the unassigned one do not count.
    assert_eq!(
        shop.get("inventory/get-product-salable-quantity/A/2")
            .await
            .json,
        json!(12)
    );
    // An out-of-stock source item does not count either.
    let a = shop
        .post(
            "inventory/source-items",
            json!({"sourceItems": [{"sku": "A", "source_code": "east", "quantity": 7, "status": 0}]}),
        )
        .await;
    assert_eq!(a.json, json!([]));
    assert_eq!(
        shop.get("inventory/get-product-salable-quantity/A/2")
            .await
            .json,
        json!(5)
    );
    let a = shop.get("inventory/get-product-salable-quantity/A/9").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_source_item_batch_with_one_bad_row_saves_nothing_and_names_the_row() {
    let shop = Shop::start().await;
    let a = shop
        .post(
            "inventory/source-items",
            json!({"sourceItems": [
                {"sku": "24-MB01", "source_code": "default", "quantity": 3, "status": 1},
                {"sku": "NO-SUCH-SKU", "source_code": "default", "quantity": 3, "status": 1}
            ]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json["message"], "Validation Failed");
    assert_eq!(
        a.json["errors"][0]["parameters"]["sku"], "NO-SUCH-SKU",
        "{:?}",
        a.json
    );
    assert_eq!(
        shop.sim.state().source_quantity("24-MB01", "default"),
        Some(100.into())
    );
    // Searching source items needs searchCriteria, as Magento's search routes do.
    let a = shop.get("inventory/source-items").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = shop
        .get("inventory/source-items?searchCriteria[filter_groups][0][filters][0][field]=sku&searchCriteria[filter_groups][0][filters][0][value]=24-MB01")
        .await;
    assert_eq!(a.json["total_count"], 1);
    assert_eq!(a.json["items"][0]["quantity"], 100);
    // Unfiltered, paged: the last page again past the end (13 items in the default seed).
    let a = shop
        .get("inventory/source-items?searchCriteria[pageSize]=5&searchCriteria[currentPage]=99")
        .await;
    assert_eq!(a.json["total_count"], 13, "{:?}", a.json);
    assert_eq!(a.json["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn the_legacy_stock_item_is_the_default_sources_item() {
    let shop = Shop::start().await;
    let item = shop.get("stockItems/24-MB01").await;
    assert_eq!(item.status, StatusCode::OK);
    assert_eq!(item.json["qty"], 100);
    assert_eq!(item.json["is_in_stock"], true);
    let id = item.json["item_id"].as_i64().unwrap();
    let a = shop
        .send(
            Method::PUT,
            &format!("products/24-MB01/stockItems/{id}"),
            json!({"stockItem": {"qty": 30, "is_in_stock": 1}}),
        )
        .await;
    assert_eq!(
        a.json,
        json!(id.to_string()),
        "the id comes back as a JSON string"
    );
    assert_eq!(shop.salable("24-MB01").await, json!(30));
    let a = shop
        .send(
            Method::PUT,
            "products/24-MB01/stockItems/999999",
            json!({"stockItem": {"qty": 1}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        shop.get("stockItems/NOPE").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn wrong_token_unknown_store_and_unknown_route_answer_like_magento() {
    let shop = Shop::start().await;
    let r = shop
        .http
        .get(format!("{}/V1/inventory/sources", shop.sim.base_url()))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "The consumer isn't authorized to access %resources."
    );
    assert!(body["parameters"]["resources"].is_string());
    let r = shop
        .http
        .get(format!(
            "{}/rest/nostore/V1/inventory/sources",
            shop.sim.root_url()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let a = shop.get("no/such/route").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json["message"], "Request does not match any route.");
    let stats = shop.sim.state().stats();
    assert_eq!(stats.unauthorized, 1);
}
