//! The SAP Service Layer client against the in-process simulator (no Postgres needed): one
//! shared session, one re-login for many rejected requests, the concurrency bound, paging,
//! every error class, and the order round trip.
use b1bridge::config::SapSettings;
use b1bridge::domain::ids::{CardCode, ItemCode};
use b1bridge::sap::types::{
    AddressExtension, CardType, DocumentStatus, NewBusinessPartner, NewDocumentLine, NewSalesOrder,
};
use b1bridge::sap::{Filter, SapClient, SapError};
use b1bridge::sim::sap_b1::{
    spawn, DeliveryLineRequest, DeliveryRequest, Faults, InvoiceBase, SapSimConfig, SapSimHandle,
};
use chrono::NaiveDate;
use rust_decimal_macros::dec;
use secrecy::SecretString;
use std::collections::HashSet;
use std::time::Duration;

async fn sim() -> SapSimHandle {
    spawn(SapSimConfig::default())
        .await
        .expect("simulator starts")
}

fn settings(sim: &SapSimHandle, password: &str, max_concurrency: usize) -> SapSettings {
    let mut s = SapSettings::from_raw(
        Some(&sim.base_url()),
        Some("SBODEMOGB"),
        Some("manager"),
        Some(&SecretString::from(password.to_owned())),
        None,
        Some(&max_concurrency.to_string()),
    )
    .expect("valid settings");
    // Lost responses are dropped connections, but keep any hang short.
    s.request_timeout = Duration::from_secs(10);
    s
}

fn client(sim: &SapSimHandle) -> SapClient {
    SapClient::new(&settings(sim, "1234", 4)).expect("client builds")
}

fn item(code: &str) -> ItemCode {
    ItemCode::parse(code).unwrap()
}

pub(super) fn new_order(num_at_card: &str, item_code: &str) -> NewSalesOrder {
    let day = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    NewSalesOrder {
        card_code: CardCode::parse("C20000").unwrap(),
        doc_date: day,
        doc_due_date: day,
        tax_date: day,
        num_at_card: num_at_card.into(),
        doc_currency: None,
        comments: Some("Magento order".into()),
        address_extension: Some(AddressExtension {
            ship_to_street: Some("6146 Honey Bluff Parkway".into()),
            ship_to_city: Some("Calder".into()),
            ship_to_country: Some("US".into()),
            ..Default::default()
        }),
        payment_method: None,
        document_lines: vec![NewDocumentLine {
            item_code: item(item_code),
            quantity: dec!(2),
            unit_price: dec!(45.00),
            discount_percent: None,
            line_total: None,
            row_total_fc: None,
            tax_code: Some("EX".into()),
            vat_group: None,
            tax_total: None,
            warehouse_code: None,
            item_description: None,
        }],
        document_additional_expenses: vec![],
    }
}

/// Waits until `condition` holds, failing after five seconds.
async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn logins_sent(sim: &SapSimHandle) -> u64 {
    sim.stats()
        .requests_by_path
        .get("POST /b1s/v1/Login")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn one_login_is_reused_by_every_request_and_every_clone() {
    let sim = sim().await;
    let sap = client(&sim);
    sap.ensure_session().await.unwrap();
    for _ in 0..5 {
        let clone = sap.clone();
        assert!(clone
            .get_item(&item("MH01-S-Gray"))
            .await
            .unwrap()
            .is_some());
    }
    assert_eq!(sap.list_warehouses().await.unwrap().len(), 3);
    assert_eq!(sim.stats().logins, 1);
}

#[tokio::test]
async fn sessions_expired_mid_burst_cause_exactly_one_relogin_and_every_request_succeeds() {
    let sim = sim().await;
    let sap = client(&sim);
    sap.ensure_session().await.unwrap();
    // Requests wait 50 ms at the balancer before their session is checked, so the ones in
    // flight when the sessions die are rejected with 401/301.
    sim.set_faults(Faults {
        latency_ms: 50,
        ..Faults::default()
    })
    .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let sap = sap.clone();
            tokio::spawn(async move { sap.get_item(&item("MH09-XS-Blue")).await })
        })
        .collect();
    wait_until("the first requests to be in flight", || {
        sim.stats().in_flight >= 2
    })
    .await;
    sim.expire_all_sessions();
    for task in tasks {
        let found = task
            .await
            .unwrap()
            .expect("request succeeds after re-login");
        assert!(found.is_some());
    }
    let stats = sim.stats();
    assert_eq!(stats.logins, 2, "{stats:?}");
    assert!(
        stats.requests > 1 + 16 + 1,
        "some requests must have been rejected and repeated: {stats:?}"
    );
}

#[tokio::test]
async fn the_limiter_never_lets_more_requests_than_its_bound_reach_sap() {
    let sim = sim().await;
    let sap = SapClient::new(&settings(&sim, "1234", 3)).unwrap();
    sim.set_faults(Faults {
        latency_ms: 20,
        ..Faults::default()
    })
    .unwrap();
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let sap = sap.clone();
            tokio::spawn(async move { sap.get_item(&item("MH01-S-Gray")).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let stats = sim.stats();
    assert!(stats.max_concurrent_requests <= 3, "{stats:?}");
    assert!(stats.max_concurrent_requests > 1, "{stats:?}");
    assert_eq!(stats.logins, 1);
}

#[tokio::test]
async fn paging_follows_next_links_and_returns_every_item_exactly_once() {
    let sim = sim().await;
    let mut s = settings(&sim, "1234", 4);
    s.page_size = 7;
    let sap = SapClient::new(&s).unwrap();
    let first = sap.list_items(None).await.unwrap();
    assert_eq!(first.items.len(), 7);
    assert!(first.next.is_some());
    let items = sap.collect_pages(first).await.unwrap();
    let codes: Vec<_> = items.iter().map(|i| i.item_code.clone()).collect();
    let unique: HashSet<_> = codes.iter().cloned().collect();
    assert_eq!(unique.len(), codes.len(), "an item came twice");
    for code in &codes {
        assert!(sim.item(code).is_some(), "{code}");
    }
    let all = sim.stats();
    let pages = all.requests_by_path["GET /b1s/v1/Items"];
    assert_eq!(pages as usize, codes.len().div_ceil(7));
    // The simulator's seed has 60 items; each must have come back.
    assert_eq!(codes.len(), 60);
    // A filtered listing keeps its filter on every page.
    let filter = Filter::equals("SalesItem", "tYES");
    let sellable = sap.list_items(Some(&filter)).await.unwrap();
    let sellable = sap.collect_pages(sellable).await.unwrap();
    assert!(sellable.iter().all(|i| i.sales_item));
}

#[tokio::test]
async fn an_injected_lock_error_is_locked_and_nothing_is_created() {
    let sim = sim().await;
    let sap = client(&sim);
    sap.ensure_session().await.unwrap();
    sim.set_faults(Faults {
        lock_error_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    let e = sap
        .create_order(&new_order("LOCK-1", "MH01-S-Gray"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, SapError::Locked { code: Some(-2039), message } if message.contains("Another user")),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert_eq!(sim.orders_by_num_at_card("LOCK-1"), 0);
}

#[tokio::test]
async fn injected_balancer_errors_on_reads_are_transient() {
    let sim = sim().await;
    let sap = client(&sim);
    sap.ensure_session().await.unwrap();
    for seed in 0..6 {
        sim.set_faults(Faults {
            server_error_rate: 1.0,
            seed,
            ..Faults::default()
        })
        .unwrap();
        let e = sap.get_item(&item("MH01-S-Gray")).await.unwrap_err();
        assert!(
            matches!(
                e,
                SapError::Transient {
                    status: Some(500 | 502 | 503),
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.is_retryable());
    }
    assert_eq!(sim.stats().injected.server_errors, 6);
}

#[tokio::test]
async fn unknown_items_are_absent_on_read_and_permanent_with_sap_code_on_create() {
    let sim = sim().await;
    let sap = client(&sim);
    assert_eq!(sap.get_item(&item("NO-SUCH-SKU")).await.unwrap(), None);
    let e = sap
        .create_order(&new_order("UNKNOWN-1", "NO-SUCH-SKU"))
        .await
        .unwrap_err();
    match &e {
        SapError::Permanent {
            status: 400,
            code: Some(-10),
            message,
        } => assert!(message.contains("NO-SUCH-SKU"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(!e.is_retryable() && !e.may_have_been_applied());
    assert_eq!(e.sap_code(), Some(-10));
}

#[tokio::test]
async fn a_lost_response_on_create_is_ambiguous_and_the_order_is_then_found_by_num_at_card() {
    let sim = sim().await;
    let sap = client(&sim);
    sap.ensure_session().await.unwrap();
    sim.set_faults(Faults {
        lost_response_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    let e = sap
        .create_order(&new_order("000000042", "MH01-S-Gray"))
        .await
        .unwrap_err();
    assert!(e.may_have_been_applied(), "{e:?}");
    assert!(!e.is_retryable());
    sim.set_faults(Faults::default()).unwrap();
    let found = sap.find_orders_by_num_at_card("000000042").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].num_at_card.as_deref(), Some("000000042"));
    assert_eq!(found[0].lines.len(), 1);
}

#[tokio::test]
async fn a_wrong_password_fails_fast_with_auth_and_is_tried_once_for_queued_callers() {
    let sim = sim().await;
    // Slow logins make every caller queue behind the first attempt.
    sim.set_faults(Faults {
        latency_ms: 100,
        ..Faults::default()
    })
    .unwrap();
    let sap = SapClient::new(&settings(&sim, "wrong-password", 4)).unwrap();
    let started = tokio::time::Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let sap = sap.clone();
            tokio::spawn(async move { sap.get_item(&item("MH01-S-Gray")).await })
        })
        .collect();
    for task in tasks {
        let e = task.await.unwrap().unwrap_err();
        assert!(matches!(e, SapError::Auth { .. }), "{e:?}");
        assert!(!e.to_string().contains("wrong-password"), "{e}");
        assert!(!e.is_retryable());
    }
    assert_eq!(logins_sent(&sim), 1);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(sim.stats().logins, 0);
}

#[tokio::test]
async fn orders_round_trip_create_read_find_cancel_and_close() {
    let sim = sim().await;
    let sap = client(&sim);
    let created = sap
        .create_order(&new_order("000000100", "MH01-S-Gray"))
        .await
        .unwrap();
    assert_eq!(created.num_at_card.as_deref(), Some("000000100"));
    assert_eq!(created.document_status, DocumentStatus::Open);
    assert!(!created.cancelled);
    assert_eq!(created.doc_total, dec!(90));
    assert_eq!(created.lines[0].item_code.as_deref(), Some("MH01-S-Gray"));

    let read = sap.get_order(created.doc_entry).await.unwrap().unwrap();
    assert_eq!(read.doc_num, created.doc_num);
    assert_eq!(read.doc_total, created.doc_total);
    let found = sap.find_orders_by_num_at_card("000000100").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].doc_entry, created.doc_entry);
    assert!(sap
        .find_orders_by_num_at_card("O'Brien & Co #1")
        .await
        .unwrap()
        .is_empty());

    sap.cancel_order(created.doc_entry).await.unwrap();
    let cancelled = sap.get_order(created.doc_entry).await.unwrap().unwrap();
    assert!(cancelled.cancelled);

    let other = sap
        .create_order(&new_order("000000101", "MH01-S-Gray"))
        .await
        .unwrap();
    sap.close_order(other.doc_entry).await.unwrap();
    let closed = sap.get_order(other.doc_entry).await.unwrap().unwrap();
    assert_eq!(closed.document_status, DocumentStatus::Closed);
    assert!(!closed.cancelled);

    let missing = b1bridge::sap::types::DocEntry(999_999);
    assert_eq!(sap.get_order(missing).await.unwrap(), None);
    assert!(sap.cancel_order(missing).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn business_partners_are_read_found_by_email_ignoring_case_and_created_once() {
    let sim = sim().await;
    let sap = client(&sim);
    let bp = sap
        .get_business_partner(&CardCode::parse("C20000").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bp.email_address.as_deref(), Some("roni_cost@example.com"));
    assert!(bp.is_active());
    let on_hold = sap
        .get_business_partner(&CardCode::parse("C29991").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!on_hold.is_active());
    assert_eq!(
        sap.get_business_partner(&CardCode::parse("NOPE").unwrap())
            .await
            .unwrap(),
        None
    );
    let by_email = sap
        .find_business_partners_by_email("Roni_Cost@Example.com")
        .await
        .unwrap();
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].card_code, "C20000");

    let new = NewBusinessPartner {
        card_code: CardCode::parse("W000000013").unwrap(),
        card_name: "Veronica O'Neil".into(),
        card_type: CardType::Customer,
        email_address: Some("veronica@example.com".into()),
        phone1: None,
        currency: None,
        group_code: None,
        addresses: vec![],
    };
    let created = sap.create_business_partner(&new).await.unwrap();
    assert_eq!(created.card_code, "W000000013");
    assert_eq!(created.card_type, Some(CardType::Customer));
    let duplicate = sap.create_business_partner(&new).await.unwrap_err();
    assert_eq!(duplicate.kind(), "permanent", "{duplicate:?}");
    assert_eq!(duplicate.sap_code(), Some(-10));
}

#[tokio::test]
async fn items_warehouses_and_tax_codes_are_read_with_their_stock_and_flags() {
    let sim = sim().await;
    let sap = client(&sim);
    let hoodie = sap.get_item(&item("MH09-XS-Blue")).await.unwrap().unwrap();
    assert!(hoodie.is_sellable());
    assert_eq!(hoodie.warehouse("01").unwrap().in_stock, dec!(40));
    let warehouses = sap.list_warehouses().await.unwrap();
    assert!(warehouses
        .iter()
        .any(|w| w.warehouse_code == "03" && w.inactive));
    let taxes = sap.list_tax_codes().await.unwrap();
    let mi = taxes.iter().find(|t| t.code == "US-MI").unwrap();
    assert_eq!(mi.rate, Some(dec!(8.25)));
}

#[tokio::test]
async fn freight_codes_are_read_with_their_numbers_and_names() {
    let sim = sim().await;
    let freight = client(&sim).list_expense_codes().await.unwrap();
    let read: Vec<(i64, Option<&str>)> = freight
        .iter()
        .map(|e| (e.expens_code, e.name.as_deref()))
        .collect();
    assert_eq!(read, [(1, Some("Freight")), (2, Some("Handling"))]);
}

#[tokio::test]
async fn deliveries_and_invoices_point_back_to_the_order_and_carry_tracking_numbers() {
    let sim = sim().await;
    let sap = client(&sim);
    let order = sap
        .create_order(&new_order("000000200", "MH01-S-Gray"))
        .await
        .unwrap();
    // Ship one of the two pieces, then invoice the open rest straight from the order.
    sim.create_delivery(&DeliveryRequest {
        order_doc_entry: order.doc_entry.0,
        lines: Some(vec![DeliveryLineRequest::new(0, dec!(1))]),
        tracking_number: Some("1Z999AA10123456784".into()),
        doc_date: None,
    })
    .unwrap();
    sim.create_invoice(InvoiceBase::Order(order.doc_entry.0))
        .unwrap();
    let by_order = Filter::equals("NumAtCard", "000000200");

    let page = sap.list_delivery_notes(Some(&by_order)).await.unwrap();
    let deliveries = sap.collect_pages(page).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].tracking_number.as_deref(),
        Some("1Z999AA10123456784")
    );
    let shipped = &deliveries[0].lines[0];
    assert_eq!(shipped.base_order_line(), Some((order.doc_entry, 0)));
    assert_eq!(shipped.quantity, dec!(1));

    let page = sap.list_invoices(Some(&by_order)).await.unwrap();
    let invoices = sap.collect_pages(page).await.unwrap();
    assert_eq!(invoices.len(), 1);
    let billed = &invoices[0].lines[0];
    assert_eq!(billed.base_order_line(), Some((order.doc_entry, 0)));
    assert_eq!(billed.quantity, dec!(1));
}

#[tokio::test]
async fn logout_ends_the_session_and_the_next_call_logs_in_again() {
    let sim = sim().await;
    let sap = client(&sim);
    sap.ensure_session().await.unwrap();
    sap.logout().await.unwrap();
    assert_eq!(sim.stats().live_sessions, 0);
    sap.logout().await.unwrap();
    assert!(sap.get_item(&item("MH01-S-Gray")).await.unwrap().is_some());
    assert_eq!(sim.stats().logins, 2);
}
