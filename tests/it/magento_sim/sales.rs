//! Orders: search with the repeat-last-page quirk and `updated_at` filters, shipments
//! validated against what is left to ship, comments that null an omitted status, credit memos.
use super::Shop;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_page_past_the_end_repeats_the_last_page_and_total_count_says_when_to_stop() {
    let shop = Shop::start().await;
    for _ in 0..5 {
        shop.place(&[("24-WB04", 1)]).await;
    }
    let page = |n: u32| {
        format!("orders?searchCriteria[pageSize]=2&searchCriteria[currentPage]={n}&searchCriteria[sortOrders][0][field]=entity_id&searchCriteria[sortOrders][0][direction]=ASC")
    };
    let third = shop.get(&page(3)).await.json;
    let fourth = shop.get(&page(4)).await.json;
    assert_eq!(third["total_count"], 5);
    assert_eq!(third["items"].as_array().unwrap().len(), 1);
    assert_eq!(third["items"], fourth["items"], "page 4 repeats page 3");
    let a = shop.get("orders").await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "searchCriteria is required"
    );
}

#[tokio::test]
async fn orders_filter_on_updated_at() {
    let shop = Shop::start().await;
    for (id, updated) in [
        (1, "2026-01-01 10:00:00"),
        (2, "2026-01-02 10:00:00"),
        (3, "2026-01-03 10:00:00"),
    ] {
        let a = shop
            .control("orders", json!({"entity_id": id, "updated_at": updated, "items": [{"sku": "24-WB04", "qty_ordered": 1}]}))
            .await;
        assert_eq!(a.status, StatusCode::CREATED);
    }
    let a = shop
        .get("orders?searchCriteria[filter_groups][0][filters][0][field]=updated_at&searchCriteria[filter_groups][0][filters][0][value]=2026-01-02%2000:00:00&searchCriteria[filter_groups][0][filters][0][condition_type]=gteq")
        .await;
    assert_eq!(a.json["total_count"], 2, "{:?}", a.json);
    let ids: Vec<i64> = a.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["entity_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![2, 3]);
    assert_eq!(a.json["items"][0]["increment_id"], "000000002");
}

#[tokio::test]
async fn shipments_are_validated_against_what_is_left_to_ship() {
    let shop = Shop::start().await;
    let id = shop.place(&[("24-WB04", 2)]).await;
    let item = shop.get(&format!("orders/{id}")).await.json["items"][0]["item_id"]
        .as_i64()
        .unwrap();
    let ship = |qty: u32| {
        json!({"items": [{"order_item_id": item, "qty": qty}],
        "tracks": [{"track_number": "1Z999", "title": "UPS", "carrier_code": "ups"}]})
    };
    let a = shop.post(&format!("order/{id}/ship"), ship(3)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .starts_with("Shipment Document Validation Error(s)"));
    assert_eq!(
        shop.post(&format!("order/{id}/ship"), ship(1)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        shop.post(&format!("order/{id}/ship"), ship(1)).await.status,
        StatusCode::OK
    );
    let a = shop.post(&format!("order/{id}/ship"), ship(1)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "nothing is left to ship");
    assert_eq!(a.json["message"], "Shipment Document Validation Error(s):\nThe order does not allow a shipment to be created.");
    let order = shop.get(&format!("orders/{id}")).await.json;
    assert_eq!(order["items"][0]["qty_shipped"], 2);
    // A track needs its three fields; an empty shipment is refused; unknown orders are 404.
    let other = shop.place(&[("24-WB04", 1)]).await;
    let a = shop
        .post(
            &format!("order/{other}/ship"),
            json!({"items": [{"order_item_id": 1, "qty": 1}], "tracks": [{"track_number": "1"}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json["parameters"]["fieldName"], "title");
    assert_eq!(
        shop.post(&format!("order/{other}/ship"), json!({"items": []}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        shop.post("order/424242/ship", ship(1)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_configurable_ships_through_its_parent_line() {
    let shop = Shop::start().await;
    let order: serde_json::Value = serde_json::from_str(include_str!(
        "../../fixtures/magento/rest-order-guest-configurable.json"
    ))
    .unwrap();
    let a = shop.control("orders", order).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    let placed = a.json;
    let id = placed["entity_id"].as_i64().unwrap();
    let parent = placed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["product_type"] == "configurable")
        .unwrap()
        .clone();
    let child = placed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["parent_item_id"] == parent["item_id"])
        .unwrap()
        .clone();
    let sku = parent["sku"].as_str().unwrap();
    let qty = parent["qty_ordered"].as_i64().unwrap();
    let before = shop.sim.state().source_quantity(sku, "default").unwrap();
    let a = shop
        .post(
            &format!("order/{id}/ship"),
            json!({"items": [{"order_item_id": child["item_id"], "qty": qty}]}),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "the child line cannot be shipped"
    );
    let a = shop
        .post(
            &format!("order/{id}/ship"),
            json!({"items": [{"order_item_id": parent["item_id"], "qty": qty}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(
        shop.sim.state().source_quantity(sku, "default").unwrap(),
        before - rust_decimal::Decimal::from(qty)
    );
    let left = (before - rust_decimal::Decimal::from(qty)).to_string();
    assert_eq!(
        shop.salable(sku).await.to_string(),
        left,
        "shipped: nothing reserved any more"
    );
}

#[tokio::test]
async fn a_comment_without_status_nulls_the_orders_status() {
    let shop = Shop::start().await;
    let id = shop.place(&[("24-WB04", 1)]).await;
    let comment = |status: Option<&str>| {
        let mut h = json!({"comment": "Posted to SAP B1 as 1001", "is_customer_notified": 0, "is_visible_on_front": 0, "parent_id": id});
        if let Some(s) = status {
            h["status"] = json!(s);
        }
        json!({"statusHistory": h})
    };
    let a = shop
        .post(&format!("orders/{id}/comments"), comment(Some("pending")))
        .await;
    assert_eq!(a.json, json!(true));
    let order = shop.get(&format!("orders/{id}")).await.json;
    assert_eq!(order["status"], "pending");
    assert_eq!(
        order["status_histories"][0]["comment"],
        "Posted to SAP B1 as 1001"
    );
    shop.post(&format!("orders/{id}/comments"), comment(None))
        .await;
    let order = shop.get(&format!("orders/{id}")).await.json;
    assert!(order.get("status").is_none(), "status is gone: {order}");
    assert_eq!(order["status_histories"].as_array().unwrap().len(), 2);
    let a = shop
        .post(
            &format!("orders/{id}/comments"),
            json!({"statusHistory": {"comment": "x"}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn credit_memos_need_an_invoice_and_return_stock_when_asked() {
    let shop = Shop::start().await;
    let id = shop.place(&[("24-WB04", 2)]).await;
    let item = shop.get(&format!("orders/{id}")).await.json["items"][0]["item_id"]
        .as_i64()
        .unwrap();
    let refund =
        json!({"items": [{"order_item_id": item, "qty": 1}], "return_to_stock_items": [item]});
    let a = shop
        .control(&format!("orders/{id}/creditmemos"), refund.clone())
        .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "not invoiced: nothing to refund"
    );
    shop.control(&format!("orders/{id}/invoice"), json!({}))
        .await;
    shop.post(
        &format!("order/{id}/ship"),
        json!({"items": [{"order_item_id": item, "qty": 2}]}),
    )
    .await;
    assert_eq!(
        shop.sim.state().source_quantity("24-WB04", "default"),
        Some(98.into())
    );
    let a = shop
        .control(&format!("orders/{id}/creditmemos"), refund)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    assert_eq!(a.json["grand_total"], 10);
    assert_eq!(
        shop.sim.state().source_quantity("24-WB04", "default"),
        Some(99.into())
    );
    assert!(
        a.json.get("transaction_id").is_none(),
        "offline: no gateway transaction"
    );
    let memo_id = a.json["entity_id"].as_i64().unwrap();
    let got = shop.get(&format!("creditmemo/{memo_id}")).await;
    assert_eq!(got.json["order_id"], id);
    let order = shop.get(&format!("orders/{id}")).await.json;
    assert_eq!(order["total_offline_refunded"], 10);
    assert!(order.get("total_online_refunded").is_none());
    // Another order refunded online: through the gateway, with its refund transaction.
    let other = shop.place(&[("24-WB04", 1)]).await;
    let other_item = shop.get(&format!("orders/{other}")).await.json["items"][0]["item_id"]
        .as_i64()
        .unwrap();
    shop.control(&format!("orders/{other}/invoice"), json!({}))
        .await;
    let online = shop
        .control(
            &format!("orders/{other}/creditmemos"),
            json!({"items": [{"order_item_id": other_item, "qty": 1}], "online": true}),
        )
        .await;
    assert_eq!(online.status, StatusCode::CREATED, "{:?}", online.json);
    assert!(online.json["transaction_id"].as_str().is_some());
    let order = shop.get(&format!("orders/{other}")).await.json;
    assert_eq!(order["total_online_refunded"], 10);
    let search = shop
        .get(&format!("creditmemos?searchCriteria[filter_groups][0][filters][0][field]=order_id&searchCriteria[filter_groups][0][filters][0][value]={id}"))
        .await;
    assert_eq!(search.json["total_count"], 1);
    assert_eq!(
        shop.get(&format!("orders/{id}")).await.json["items"][0]["qty_refunded"],
        1
    );
}

#[tokio::test]
async fn every_sample_order_can_be_placed_on_the_default_seed() {
    let shop = Shop::start().await;
    let mut reserved: std::collections::BTreeMap<String, f64> = Default::default();
    for (name, text) in [
        ("canceled", include_str!("../../fixtures/magento/rest-order-canceled.json")),
        ("guest-configurable", include_str!("../../fixtures/magento/rest-order-guest-configurable.json")),
        ("coupon", include_str!("../../fixtures/magento/rest-order-guest-coupon-full-discount.json")),
        ("bundle", include_str!("../../fixtures/magento/rest-order-registered-bundle-configurable-downloadable.json")),
        ("tax", include_str!("../../fixtures/magento/rest-order-registered-configurable-multiitem-tax.json")),
        ("histories", include_str!("../../fixtures/magento/rest-order-registered-discount-multiitem-tax-histories.json")),
    ] {
        let mut order: serde_json::Value = serde_json::from_str(text).unwrap();
        if order["state"] != "canceled" {
            for item in order["items"].as_array().unwrap() {
                let kind = item["product_type"].as_str().unwrap_or("simple");
                if !["configurable", "bundle"].contains(&kind) {
                    let open = ["qty_ordered", "qty_shipped", "qty_canceled", "qty_refunded"]
                        .iter()
                        .map(|f| item[*f].as_f64().unwrap_or(0.0))
                        .enumerate()
                        .fold(0.0, |acc, (i, q)| if i == 0 { q } else { acc - q });
                    *reserved.entry(item["sku"].as_str().unwrap().to_owned()).or_default() += open;
                }
            }
        }
        // Each sample keeps its own entity id unless another sample took it.
        order.as_object_mut().unwrap().remove("entity_id");
        let a = shop.control("orders", order).await;
        assert_eq!(a.status, StatusCode::CREATED, "{name}: {:?}", a.json);
        let id = a.json["entity_id"].as_i64().unwrap();
        let back = shop.get(&format!("orders/{id}")).await;
        assert_eq!(back.json["increment_id"], a.json["increment_id"], "{name}");
    }
    // Only the stock-keeping lines reserve (the configurable's simple, the bundle's
    // components, not their parents), and the cancelled sample reserves nothing.
    assert!(
        reserved.contains_key("24-WG084") && reserved.contains_key("MH01-S-Gray"),
        "{reserved:?}"
    );
    for (sku, qty) in &reserved {
        let salable = shop.salable(sku).await.as_f64().unwrap();
        assert_eq!(salable, 100.0 - qty, "{sku}");
    }
}
