//! The Magento REST client against the simulator: stock endpoints, errors rendered, ids as
//! strings or numbers, retries (5xx, 429 with Retry-After, timeouts) and their limits, paging
//! that stops on `total_count`, and auth failures.
use b1bridge::config::MagentoSettings;
use b1bridge::magento::types::{
    BasePrice, OrderComment, ShipItem, ShipRequest, ShipTrack, SourceItem, SourceItemStatus,
    StockItemUpdate, TierPrice, TierPriceType,
};
use b1bridge::magento::{MagentoClient, MagentoError, SearchCriteria};
use b1bridge::sim::magento::{spawn, MagentoFaults, MagentoSimConfig, MagentoSimHandle};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use secrecy::SecretString;
use std::time::Duration;

const TOKEN: &str = "client-test-token";

fn settings(sim: &MagentoSimHandle, token: &str) -> MagentoSettings {
    let mut s = MagentoSettings::from_raw(
        Some(&sim.base_url()),
        Some(&SecretString::from(token.to_owned())),
    )
    .unwrap();
    s.backoff_base = Duration::from_millis(5);
    s.backoff_cap = Duration::from_millis(50);
    s.request_timeout = Duration::from_millis(500);
    s
}

async fn setup() -> (MagentoSimHandle, MagentoClient) {
    let sim = spawn(MagentoSimConfig::new(TOKEN)).await.unwrap();
    let client = MagentoClient::new(&settings(&sim, TOKEN)).unwrap();
    (sim, client)
}

fn faults(script: Vec<u16>) -> MagentoFaults {
    MagentoFaults {
        script,
        timeout_ms: 2_000,
        ..Default::default()
    }
}

fn item(sku: &str, qty: Decimal) -> SourceItem {
    SourceItem {
        sku: sku.into(),
        source_code: "default".into(),
        quantity: qty,
        status: SourceItemStatus::InStock,
    }
}

#[tokio::test]
async fn stock_endpoints_round_trip() {
    let (sim, client) = setup().await;
    client
        .save_source_items(&[item("24-MB01", dec!(12.5)), item("24-WB04", dec!(3))])
        .await
        .unwrap();
    assert_eq!(
        client.salable_quantity("24-MB01", 1).await.unwrap(),
        dec!(12.5)
    );
    let found = client
        .source_items_for_skus(&["24-MB01".into(), "24-WB04".into()], 1)
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.contains(&item("24-WB04", dec!(3))));
    let sources = client.sources().await.unwrap();
    assert_eq!(sources[0].source_code, "default");
    assert!(sources[0].enabled);

    let stock_item = client.stock_item("24-MB01").await.unwrap();
    assert_eq!(stock_item.qty, dec!(12.5));
    // The simulator answers the PUT with the id as a JSON string ("1"), as real stores do.
    let id = client
        .update_stock_item(
            "24-MB01",
            stock_item.item_id,
            &StockItemUpdate {
                qty: dec!(7),
                is_in_stock: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(id, stock_item.item_id);
    assert_eq!(
        client.salable_quantity("24-MB01", 1).await.unwrap(),
        dec!(7)
    );
    assert_eq!(
        sim.state().source_quantity("24-MB01", "default"),
        Some(dec!(7))
    );
}

#[tokio::test]
async fn refusals_come_back_rendered_and_are_not_retried() {
    let (sim, client) = setup().await;
    let e = client
        .save_source_items(&[item("24-MB01", dec!(1)), item("NOPE-1", dec!(1))])
        .await
        .unwrap_err();
    match &e {
        MagentoError::Rejected {
            status, message, ..
        } => {
            assert_eq!(*status, 400);
            assert_eq!(
                message,
                "Validation Failed: Product with SKU \"NOPE-1\" does not exist."
            );
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!e.is_retryable());
    assert_eq!(
        sim.state().stats().requests_by_endpoint["POST /V1/inventory/source-items"],
        1
    );

    let e = client.stock_item("NOPE-1").await.unwrap_err();
    assert!(matches!(e, MagentoError::NotFound { .. }), "{e:?}");
    assert!(e
        .to_string()
        .contains("The product that was requested doesn't exist"));
}

#[tokio::test]
async fn a_wrong_token_is_an_auth_error_with_magentos_message_and_the_token_is_never_shown() {
    let sim = spawn(MagentoSimConfig::new(TOKEN)).await.unwrap();
    let client = MagentoClient::new(&settings(&sim, "the-wrong-token")).unwrap();
    let e = client.sources().await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert!(
        e.to_string()
            .contains("The consumer isn't authorized to access Magento_InventoryApi::source."),
        "{e}"
    );
    assert!(!format!("{e:?} {client:?}").contains("the-wrong-token"));
    assert_eq!(sim.state().stats().requests, 1, "no retry on 401");
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried_then_succeed() {
    let (sim, client) = setup().await;
    sim.state().set_faults(faults(vec![500, 429, 503])).unwrap();
    assert_eq!(
        client.salable_quantity("24-MB01", 1).await.unwrap(),
        dec!(100)
    );
    assert_eq!(sim.state().stats().requests, 4);

    // Bounded: four attempts, then Unavailable with the last status.
    sim.state().reset_stats();
    sim.state().set_faults(faults(vec![500; 6])).unwrap();
    let e = client.salable_quantity("24-MB01", 1).await.unwrap_err();
    assert!(
        matches!(
            e,
            MagentoError::Unavailable {
                status: Some(500),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert_eq!(sim.state().stats().requests, 4);
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_the_cap() {
    let (sim, client) = setup().await;
    // The simulator's 429 says Retry-After: 1; the test cap is 50 ms, so the wait is short.
    sim.state().set_faults(faults(vec![429])).unwrap();
    let started = std::time::Instant::now();
    client.sources().await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(50), "{waited:?}");
    assert!(waited < Duration::from_millis(900), "{waited:?}");
}

#[tokio::test]
async fn a_timeout_is_retried_for_reads_but_a_lost_shipment_is_ambiguous() {
    let (sim, client) = setup().await;
    sim.state().set_faults(faults(vec![0])).unwrap();
    assert_eq!(client.sources().await.unwrap().len(), 1);
    assert_eq!(sim.state().stats().injected_timeouts, 1);

    let placed: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/sim/control/orders", sim.root_url()))
        .json(&serde_json::json!({"items": [{"sku": "24-WB04", "qty_ordered": 1}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order_id = placed["entity_id"].as_i64().unwrap();
    let item_id = placed["items"][0]["item_id"].as_i64().unwrap();
    let request = ShipRequest {
        items: vec![ShipItem {
            order_item_id: item_id,
            qty: dec!(1),
        }],
        tracks: vec![ShipTrack {
            track_number: "1Z999".into(),
            title: "UPS".into(),
            carrier_code: "ups".into(),
        }],
        ..Default::default()
    };
    sim.state().set_faults(faults(vec![0])).unwrap();
    let e = client.ship(order_id, &request).await.unwrap_err();
    assert!(matches!(e, MagentoError::Ambiguous { .. }), "{e:?}");
    sim.state().set_faults(faults(vec![500])).unwrap();
    let e = client.ship(order_id, &request).await.unwrap_err();
    assert!(matches!(e, MagentoError::Ambiguous { .. }), "{e:?}");
    // A 503 (maintenance) says nothing was applied: that one is retried.
    sim.state().set_faults(faults(vec![503])).unwrap();
    let shipment = client.ship(order_id, &request).await.unwrap();
    assert!(shipment > 0);
}

#[tokio::test]
async fn paging_stops_on_total_count_although_magento_repeats_the_last_page() {
    let (sim, client) = setup().await;
    let http = reqwest::Client::new();
    for i in 0..5 {
        let r = http
            .post(format!("{}/sim/control/orders", sim.root_url()))
            .json(
                &serde_json::json!({"updated_at": format!("2026-02-0{} 08:00:00", i + 1),
                                       "items": [{"sku": "24-WB04", "qty_ordered": 1}]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    // 5 orders, pages of 2 → 3 requests; 5 orders in pages of 5 → 1 (a full last page).
    let orders = client
        .orders_updated_since("2026-01-01 00:00:00", 2)
        .await
        .unwrap();
    assert_eq!(orders.len(), 5);
    let ids: std::collections::BTreeSet<i64> = orders.iter().map(|o| o.entity_id).collect();
    assert_eq!(ids.len(), 5, "no order twice");
    assert_eq!(
        sim.state().stats().requests_by_endpoint["GET /V1/orders"],
        3
    );
    sim.state().reset_stats();
    assert_eq!(
        client
            .orders_updated_since("2026-01-01 00:00:00", 5)
            .await
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        sim.state().stats().requests_by_endpoint["GET /V1/orders"],
        1
    );
    let since = client
        .orders_updated_since("2026-02-04 00:00:00", 2)
        .await
        .unwrap();
    assert_eq!(since.len(), 2);
    let one = client.order(orders[0].entity_id).await.unwrap();
    assert_eq!(one.increment_id, orders[0].increment_id);
    assert_eq!(one.status.as_deref(), Some("pending"));
}

#[tokio::test]
async fn comments_always_carry_the_status_and_prices_report_bad_rows() {
    let (sim, client) = setup().await;
    let placed: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/sim/control/orders", sim.root_url()))
        .json(&serde_json::json!({"items": [{"sku": "24-WB04", "qty_ordered": 1}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = placed["entity_id"].as_i64().unwrap();
    let ok = client
        .add_order_comment(
            id,
            &OrderComment {
                comment: "Posted to SAP B1 as Sales Order 1001".into(),
                status: "pending".into(),
                is_customer_notified: false,
                is_visible_on_front: false,
            },
        )
        .await
        .unwrap();
    assert!(ok);
    assert_eq!(
        client.order(id).await.unwrap().status.as_deref(),
        Some("pending")
    );

    let errors = client
        .update_base_prices(&[
            BasePrice {
                sku: "24-MB01".into(),
                price: dec!(36.99),
                store_id: 0,
            },
            BasePrice {
                sku: "ghost-sku".into(),
                price: dec!(1),
                store_id: 0,
            },
        ])
        .await
        .unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].names_sku("GHOST-SKU"));
    assert_eq!(errors[0].render(), "Invalid attribute SKU = ghost-sku.");
    let stored = client.base_prices(&["24-MB01".into()]).await.unwrap();
    assert_eq!(stored[0].price, dec!(36.99));

    let tier = TierPrice {
        sku: "24-MB01".into(),
        price: dec!(33.5),
        price_type: TierPriceType::Fixed,
        website_id: 0,
        customer_group: "ALL GROUPS".into(),
        quantity: dec!(10),
    };
    assert!(client
        .update_tier_prices(std::slice::from_ref(&tier))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        client.tier_prices(&["24-MB01".into()]).await.unwrap(),
        vec![tier]
    );
}

#[tokio::test]
async fn audit_reads_products_and_tax_rates_in_pages() {
    let (_sim, client) = setup().await;
    let all = client
        .all_products(&SearchCriteria::new(), 5)
        .await
        .unwrap();
    let page = client
        .search_products(&SearchCriteria::new().page_size(5).page(1))
        .await
        .unwrap();
    assert_eq!(all.len() as u64, page.total_count);
    assert!(all.iter().any(|p| p.sku == "24-MB01" && p.is_enabled()));
    let rates = client.tax_rates().await.unwrap();
    assert_eq!(rates[0].rate, dec!(8.25));
}

#[tokio::test]
async fn a_refused_sku_is_set_aside_and_the_rest_of_its_batch_is_saved() {
    use b1bridge::magento::RowOutcome;
    let (sim, client) = setup().await;
    let rows = [
        item("24-MB01", dec!(5)),
        item("NOPE-1", dec!(5)),
        item("24-WB04", dec!(6)),
    ];
    let outcome = client.save_source_items_isolating(&rows).await;
    assert_eq!(outcome[0], RowOutcome::Saved);
    assert_eq!(outcome[2], RowOutcome::Saved);
    match &outcome[1] {
        RowOutcome::Refused(e) => assert!(e.to_string().contains("NOPE-1"), "{e}"),
        other => panic!("{other:?}"),
    }
    // One refused batch, then the rest in one request.
    assert_eq!(
        sim.state().stats().requests_by_endpoint["POST /V1/inventory/source-items"],
        2
    );
    assert_eq!(
        sim.state().source_quantity("24-WB04", "default"),
        Some(dec!(6))
    );

    // A refusal that names no SKU (an unknown source) is found by halving the batch.
    let mut bad_source = item("24-WB04", dec!(1));
    bad_source.source_code = "nowhere".into();
    let rows4 = [
        item("24-MB01", dec!(8)),
        bad_source,
        item("24-WB04", dec!(9)),
        item("MH09-XS-Blue", dec!(4)),
    ];
    let outcome = client.save_source_items_isolating(&rows4).await;
    assert!(matches!(outcome[1], RowOutcome::Refused(_)), "{outcome:?}");
    assert!(
        [0, 2, 3].iter().all(|&i| outcome[i] == RowOutcome::Saved),
        "{outcome:?}"
    );
    assert_eq!(
        sim.state().source_quantity("MH09-XS-Blue", "default"),
        Some(dec!(4))
    );

    // Magento down: nothing is reported saved.
    sim.state()
        .set_faults(MagentoFaults {
            down: true,
            ..Default::default()
        })
        .unwrap();
    let outcome = client.save_source_items_isolating(&rows).await;
    assert!(
        outcome.iter().all(|o| matches!(o, RowOutcome::NotSaved(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn source_items_for_many_skus_are_read_in_url_sized_lists_and_comma_skus_alone() {
    use b1bridge::sim::magento::{Seed, SeedProduct, SeedSourceItem};
    let mut seed = Seed::empty();
    for (id, sku) in [(1, "PLAIN-1"), (2, "ODD,SKU")] {
        seed.products.push(SeedProduct::simple(id, sku));
        seed.source_items.push(SeedSourceItem {
            sku: sku.into(),
            source_code: "default".into(),
            quantity: dec!(3),
            status: 1,
        });
    }
    let sim = spawn(MagentoSimConfig::new(TOKEN).with_seed(seed))
        .await
        .unwrap();
    let client = MagentoClient::new(&settings(&sim, TOKEN)).unwrap();
    // 400 ten-character SKUs (4,400 characters) need three lists; the comma SKU a fourth request.
    let mut skus: Vec<String> = (0..400).map(|i| format!("MISS-{i:05}")).collect();
    skus.push("PLAIN-1".into());
    skus.push("ODD,SKU".into());
    let found = client.source_items_for_skus(&skus, 100).await.unwrap();
    let names: std::collections::BTreeSet<&str> = found.iter().map(|i| i.sku.as_str()).collect();
    assert_eq!(names, ["ODD,SKU", "PLAIN-1"].into_iter().collect());
    assert_eq!(
        sim.state().stats().requests_by_endpoint["GET /V1/inventory/source-items"],
        4
    );
}

#[tokio::test]
async fn no_more_requests_at_once_than_the_limit() {
    let sim = spawn(MagentoSimConfig::new(TOKEN)).await.unwrap();
    sim.state()
        .set_faults(MagentoFaults {
            latency_ms: 40,
            ..Default::default()
        })
        .unwrap();
    let mut s = settings(&sim, TOKEN);
    s.max_concurrency = 2;
    let client = std::sync::Arc::new(MagentoClient::new(&s).unwrap());
    let calls = (0..8).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.salable_quantity("24-MB01", 1).await })
    });
    for call in futures::future::join_all(calls).await {
        assert_eq!(call.unwrap().unwrap(), dec!(100));
    }
    assert_eq!(sim.state().stats().max_concurrent_requests, 2);
}
