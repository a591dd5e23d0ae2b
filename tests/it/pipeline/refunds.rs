//! Refunds (issue 11): a Magento credit memo becomes one SAP A/R credit memo, based on the
//! order's invoice, with Magento's total and tax, stock back only where the store says, and
//! nothing twice.
use super::*;
use b1bridge::domain::ids::{ItemCode, WarehouseCode};
use b1bridge::domain::settings::RefundSettings;
use b1bridge::magento::envelope::parse_refund_event;
use b1bridge::sim::sap_b1::{DeliveryRequest, Document, InvoiceBase};

/// A non-inventory item of the simulator's seed, used as the adjustment item.
const ADJUST: &str = "240-LV08";

fn refund_settings(refunds: RefundSettings) -> Settings {
    Settings {
        refunds,
        ..Settings::default()
    }
}

fn with_adjustment_item() -> RefundSettings {
    RefundSettings {
        adjustment_item_code: Some(ItemCode::parse(ADJUST).unwrap()),
        returns_warehouse: Some(WarehouseCode::parse("02").unwrap()),
        recheck_interval_secs: 1,
        ..RefundSettings::default()
    }
}

/// A credit memo of order `order_id` as `GET /V1/creditmemo/{id}` returns it.
fn memo(entity_id: i64, items: Value, extra: Value) -> Value {
    let mut m = json!({
        "entity_id": entity_id, "order_id": 900 + entity_id,
        "increment_id": format!("CM{entity_id:07}"), "order_currency_code": "USD",
        "items": items, "shipping_amount": 0, "adjustment_positive": 0, "adjustment_negative": 0,
    });
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    m
}

impl Pipeline {
    /// Stores a `creditmemo.created` event for `order`; returns its webhook id and body.
    async fn refund(&self, order: &str, memo: &Value) -> (String, Vec<u8>) {
        let body = serde_json::to_vec(&json!({"type": "creditmemo.created",
            "data": {"creditmemo": memo, "order": {"increment_id": order}}}))
        .unwrap();
        let webhook_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let outcome = self.deliver_refund(&webhook_id, &body).await;
        assert!(
            matches!(outcome, IntakeOutcome::Accepted { .. }),
            "{outcome:?}"
        );
        (webhook_id, body)
    }

    async fn deliver_refund(&self, webhook_id: &str, body: &[u8]) -> IntakeOutcome {
        let event = parse_refund_event(body)
            .unwrap()
            .expect("usable refund event");
        let delivery = Delivery {
            webhook_id,
            webhook_timestamp: chrono::Utc::now(),
            headers: json!({}),
            body,
        };
        b1bridge::store::refunds::record_refund_event(
            self.pool(),
            &delivery,
            event.envelope.as_str(),
            &event.refund,
        )
        .await
        .unwrap()
    }

    /// Places and posts `file` as `id`, then invoices it in SAP; returns the invoice.
    async fn invoiced(&self, file: &str, id: &str) -> Document {
        self.place(&sample_as(file, id)).await;
        self.settle(id).await;
        let (status, entry, _) = self.order(id).await;
        assert_eq!(status, "posted", "{:?}", self.open_exceptions(id).await);
        self.sim
            .create_invoice(InvoiceBase::Order(entry.unwrap().into()))
            .unwrap()
    }

    /// Waits until the refund of credit memo `entity_id` has status `want`.
    async fn refund_status(&self, entity_id: i64, want: &str) {
        let pool = self.pool().clone();
        let ok = wait_until(Duration::from_secs(20), || {
            let pool = pool.clone();
            async move {
                let s: Option<String> =
                    sqlx::query_scalar("SELECT status FROM refunds WHERE magento_entity_id = $1")
                        .bind(entity_id)
                        .fetch_optional(&pool)
                        .await
                        .unwrap();
                s.as_deref() == Some(want)
            }
        })
        .await;
        let exceptions: Vec<(String, String, Option<Value>)> = sqlx::query_as(
            "SELECT category, detail, sap_error FROM exceptions
              WHERE context ->> 'credit_memo_entity_id' = $1",
        )
        .bind(entity_id.to_string())
        .fetch_all(self.pool())
        .await
        .unwrap();
        assert!(ok, "refund {entity_id} never became {want}; {exceptions:?}");
    }

    fn credit_notes(&self, num_at_card: &str) -> Vec<Document> {
        self.sim
            .credit_notes()
            .into_iter()
            .filter(|n| n.num_at_card.as_deref() == Some(num_at_card))
            .collect()
    }

    fn stock(&self, item: &str, warehouse: &str) -> Decimal {
        self.sim
            .item(item)
            .unwrap()
            .item_warehouse_info_collection
            .iter()
            .find(|w| w.warehouse_code == warehouse)
            .map(|w| w.in_stock)
            .unwrap_or_default()
    }
}

/// Order `CONFIGURABLE_TAX`: item 16 (2 × 69.00, tax 11.39), item 18 (RACER 224.00, tax
/// 18.48), shipping 5.00 untaxed; 396.87 with tax 29.87.
fn full_items() -> Value {
    json!([
        {"order_item_id": 16, "sku": "MH09-XS-Blue", "qty": 2, "price": 69, "row_total": 138, "tax_amount": 11.39},
        {"order_item_id": 17, "sku": "MH09-XS-Blue", "qty": 2, "price": 0, "row_total": 0, "tax_amount": 0},
        {"order_item_id": 18, "sku": "RACER", "qty": 1, "price": 224, "row_total": 224, "tax_amount": 18.48}
    ])
}

#[tokio::test]
async fn a_full_refund_is_one_credit_memo_on_the_invoice_with_magentos_total_and_no_stock_back() {
    let mut p = Pipeline::started().await;
    p.set_settings(&refund_settings(with_adjustment_item()))
        .await;
    let invoice = p.invoiced(CONFIGURABLE_TAX, "RF-1").await;
    let before = (p.stock("MH09-XS-Blue", "01"), p.stock("RACER", "01"));
    let m = memo(
        1,
        full_items(),
        json!({"shipping_amount": 5, "grand_total": 396.87, "tax_amount": 29.87}),
    );
    p.refund("RF-1", &m).await;
    p.refund_status(1, "posted").await;
    let notes = p.credit_notes("CM0000001");
    assert_eq!(notes.len(), 1);
    let note = &notes[0];
    assert_eq!((note.doc_total, note.vat_sum), (dec!(396.87), dec!(29.87)));
    assert_eq!(note.card_code, invoice.card_code);
    let bases: Vec<_> = note
        .document_lines
        .iter()
        .map(|l| (l.base_type, l.base_entry, l.base_line, l.quantity))
        .collect();
    assert_eq!(
        bases,
        [
            (13, Some(invoice.doc_entry), Some(0), dec!(2)),
            (13, Some(invoice.doc_entry), Some(1), dec!(1))
        ]
    );
    assert!(note
        .document_lines
        .iter()
        .all(|l| l.without_inventory_movement.is_yes()));
    assert_eq!(note.document_additional_expenses[0].line_total, dec!(5));
    assert_eq!(
        (p.stock("MH09-XS-Blue", "01"), p.stock("RACER", "01")),
        before,
        "nothing went back to stock"
    );
    // The invoice is fully credited, so SAP closes it; the refund shows on its order.
    let invoice = p.sim.invoices().pop().unwrap();
    assert_eq!(invoice.document_status, DocStatus::Close);
    let (entry, num): (Option<i32>, Option<i32>) = sqlx::query_as(
        "SELECT sap_doc_entry, sap_doc_num FROM refunds WHERE order_increment_id = 'RF-1'",
    )
    .fetch_one(p.pool())
    .await
    .unwrap();
    assert_eq!(
        (i64::from(entry.unwrap()), i64::from(num.unwrap())),
        (note.doc_entry, note.doc_num)
    );
    assert!(p.open_exceptions("RF-1").await.is_empty());
    p.stop().await;
}

#[tokio::test]
async fn a_partial_refund_returns_only_the_item_sent_back_to_stock_into_the_returns_warehouse() {
    let mut p = Pipeline::started().await;
    p.set_settings(&refund_settings(with_adjustment_item()))
        .await;
    p.invoiced(CONFIGURABLE_TAX, "RF-2").await;
    let racer = p.stock("RACER", "02");
    let shirt = (p.stock("MH09-XS-Blue", "01"), p.stock("MH09-XS-Blue", "02"));
    // One of the two shirts (not returned) and the RACER (back to stock): 69 + 5.69 +
    // 224 + 18.48.
    let m = memo(
        2,
        json!([
            {"order_item_id": 16, "sku": "MH09-XS-Blue", "qty": 1, "price": 69, "row_total": 69, "tax_amount": 5.69},
            {"order_item_id": 18, "sku": "RACER", "qty": 1, "price": 224, "row_total": 224, "tax_amount": 18.48}
        ]),
        json!({"grand_total": 317.17, "tax_amount": 24.17,
               "extension_attributes": {"return_to_stock_items": [18]}}),
    );
    p.refund("RF-2", &m).await;
    p.refund_status(2, "posted").await;
    let note = p.credit_notes("CM0000002").pop().unwrap();
    assert_eq!((note.doc_total, note.vat_sum), (dec!(317.17), dec!(24.17)));
    let racer_line = note
        .document_lines
        .iter()
        .find(|l| l.item_code == "RACER")
        .unwrap();
    assert!(!racer_line.without_inventory_movement.is_yes());
    assert_eq!(racer_line.warehouse_code, "02");
    assert_eq!(p.stock("RACER", "02"), racer + dec!(1));
    assert_eq!(
        (p.stock("MH09-XS-Blue", "01"), p.stock("MH09-XS-Blue", "02")),
        shirt
    );
    // The other shirt is still open on the invoice.
    let invoice = p.sim.invoices().pop().unwrap();
    assert_eq!(invoice.document_lines[0].remaining_open_quantity, dec!(1));
    assert_eq!(invoice.document_status, DocStatus::Open);
    p.stop().await;
}

#[tokio::test]
async fn a_shipping_only_refund_is_freight_on_the_adjustment_item_at_zero() {
    let mut p = Pipeline::started().await;
    p.set_settings(&refund_settings(with_adjustment_item()))
        .await;
    p.invoiced(CONFIGURABLE_TAX, "RF-3").await;
    let m = memo(
        3,
        json!([]),
        json!({"shipping_amount": 5, "grand_total": 5, "tax_amount": 0}),
    );
    p.refund("RF-3", &m).await;
    p.refund_status(3, "posted").await;
    let note = p.credit_notes("CM0000003").pop().unwrap();
    assert_eq!((note.doc_total, note.vat_sum), (dec!(5), dec!(0)));
    assert_eq!(note.document_lines.len(), 1);
    assert_eq!(note.document_lines[0].item_code, ADJUST);
    assert_eq!(note.document_lines[0].line_total, dec!(0));
    assert_eq!(note.document_additional_expenses[0].line_total, dec!(5));
    p.stop().await;
}

#[tokio::test]
async fn an_adjustment_fee_is_taken_off_with_the_adjustment_item_or_held_without_one() {
    let mut p = Pipeline::started().await;
    p.set_settings(&refund_settings(RefundSettings {
        recheck_interval_secs: 1,
        ..RefundSettings::default()
    }))
    .await;
    p.invoiced(CONFIGURABLE_TAX, "RF-4").await;
    let m = memo(
        4,
        json!([{"order_item_id": 18, "sku": "RACER", "qty": 1, "price": 224, "row_total": 224, "tax_amount": 18.48}]),
        json!({"adjustment_negative": 10, "grand_total": 232.48, "tax_amount": 18.48}),
    );
    p.refund("RF-4", &m).await;
    // No adjustment item: nothing is created, finance is told why.
    p.refund_status(4, "parked").await;
    assert!(p.credit_notes("CM0000004").is_empty());
    let open = p.open_exceptions("RF-4").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].category, Category::TotalMismatch);
    assert!(
        open[0].detail.contains("Adjustment Fee"),
        "{}",
        open[0].detail
    );

    // With the adjustment item set, the fee is a line of quantity −1.
    p.set_settings(&refund_settings(with_adjustment_item()))
        .await;
    let m = memo(
        5,
        json!([{"order_item_id": 16, "sku": "MH09-XS-Blue", "qty": 2, "price": 69, "row_total": 138, "tax_amount": 11.39}]),
        json!({"adjustment_negative": 10, "grand_total": 139.39, "tax_amount": 11.39}),
    );
    p.refund("RF-4", &m).await;
    p.refund_status(5, "posted").await;
    let note = p.credit_notes("CM0000005").pop().unwrap();
    assert_eq!((note.doc_total, note.vat_sum), (dec!(139.39), dec!(11.39)));
    let fee = note
        .document_lines
        .iter()
        .find(|l| l.item_code == ADJUST)
        .unwrap();
    assert_eq!((fee.quantity, fee.line_total), (dec!(-1), dec!(-10)));
    p.stop().await;
}

#[tokio::test]
async fn a_foreign_currency_refund_posts_in_the_fc_fields() {
    let mut p = super::money::uk_pipeline(Settings {
        guest_policy: GuestPolicy::PerEmail,
        ..Settings::default()
    })
    .await;
    let mut order = sample_as(super::money::UK_VAT_INCLUSIVE, "EU-R1");
    order["order_currency_code"] = json!("EUR");
    p.place(&order).await;
    p.settle("EU-R1").await;
    let (status, entry, _) = p.order("EU-R1").await;
    assert_eq!(status, "posted", "{:?}", p.open_exceptions("EU-R1").await);
    p.sim
        .create_invoice(InvoiceBase::Order(entry.unwrap().into()))
        .unwrap();
    // Lines net of Magento's discount (89.98 at 20 %, 16.20 at 5 %), shipping 4.16 + 0.83.
    let m = memo(
        6,
        json!([
            {"order_item_id": 612, "sku": "MH09-XS-Blue", "qty": 2, "row_total": 89.98, "tax_amount": 18},
            {"order_item_id": 613, "sku": "24-WG084", "qty": 3, "row_total": 16.20, "tax_amount": 0.81}
        ]),
        json!({"order_currency_code": "EUR", "shipping_amount": 4.16, "shipping_tax_amount": 0.83,
               "grand_total": 129.98, "tax_amount": 19.64}),
    );
    p.refund("EU-R1", &m).await;
    p.refund_status(6, "posted").await;
    let note = p.credit_notes("CM0000006").pop().unwrap();
    assert_eq!(note.doc_currency, "EUR");
    assert_eq!(
        (note.doc_total_fc, note.vat_sum_fc),
        (dec!(129.98), dec!(19.64))
    );
    assert_eq!(note.document_lines[0].row_total_fc, dec!(89.98));
    p.stop().await;
}

#[tokio::test]
async fn a_refund_before_the_invoice_waits_as_refund_unmatched_then_posts_by_itself() {
    let mut p = Pipeline::started().await;
    p.set_settings(&refund_settings(with_adjustment_item()))
        .await;
    p.place(&sample_as(CONFIGURABLE_TAX, "RF-5")).await;
    p.settle("RF-5").await;
    let (_, entry, _) = p.order("RF-5").await;
    let m = memo(
        7,
        json!([{"order_item_id": 18, "sku": "RACER", "qty": 1, "price": 224, "row_total": 224, "tax_amount": 18.48}]),
        json!({"grand_total": 242.48, "tax_amount": 18.48}),
    );
    p.refund("RF-5", &m).await;
    p.refund_status(7, "waiting").await;
    let open = p.open_exceptions("RF-5").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].category, Category::RefundUnmatched);
    assert!(
        open[0].detail.contains("no A/R invoice for order RF-5"),
        "{}",
        open[0].detail
    );
    assert!(p.credit_notes("CM0000007").is_empty());
    let metrics = b1bridge::store::metrics::snapshot(p.pool()).await.unwrap();
    assert_eq!(metrics.refunds_by_status, [("waiting".to_owned(), 1)]);

    // The accountant invoices the order; the next check posts the credit memo.
    p.sim
        .create_invoice(InvoiceBase::Order(entry.unwrap().into()))
        .unwrap();
    p.refund_status(7, "posted").await;
    assert_eq!(p.credit_notes("CM0000007").len(), 1);
    assert!(p.open_exceptions("RF-5").await.is_empty());
    // Operators see it: the order's refunds, /metrics and the daily report.
    let mut conn = p.pool().acquire().await.unwrap();
    let listed = b1bridge::store::refunds::for_order(&mut conn, "RF-5")
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, "posted");
    assert!(listed[0].sap_doc_num.is_some());
    let metrics = b1bridge::store::metrics::snapshot(p.pool()).await.unwrap();
    assert_eq!(metrics.refunds_by_status, [("posted".to_owned(), 1)]);
    let today = b1bridge::domain::daily_check::UtcDay::of(chrono::Utc::now().date_naive());
    let daily = b1bridge::store::daily_report::daily(p.pool(), &today)
        .await
        .unwrap();
    assert_eq!(daily.day.refunds_posted, 1);
    let resolved = p.exceptions("RF-5").await;
    assert!(resolved
        .iter()
        .any(|e| e.category == Category::RefundUnmatched && e.status == ExceptionStatus::Resolved));
    p.stop().await;
}

#[tokio::test]
async fn a_whole_refund_of_an_uninvoiced_order_closes_its_sales_order_when_the_setting_says_so() {
    let mut p = Pipeline::started().await;
    p.set_settings(&refund_settings(RefundSettings {
        close_uninvoiced_order: true,
        ..with_adjustment_item()
    }))
    .await;
    p.place(&sample_as(CONFIGURABLE_TAX, "RF-7")).await;
    p.settle("RF-7").await;
    let (_, entry, _) = p.order("RF-7").await;
    let m = memo(
        9,
        full_items(),
        json!({"shipping_amount": 5, "grand_total": 396.87, "tax_amount": 29.87}),
    );
    p.refund("RF-7", &m).await;
    p.refund_status(9, "order_closed").await;
    let order = p.sim.order(entry.unwrap().into()).unwrap();
    assert_eq!(order.document_status, DocStatus::Close);
    assert!(p.credit_notes("CM0000009").is_empty());
    assert!(p.open_exceptions("RF-7").await.is_empty());
    p.stop().await;
}

#[tokio::test]
async fn a_duplicate_webhook_and_a_lost_sap_answer_still_make_exactly_one_credit_memo() {
    let mut p = Pipeline::started().await;
    p.set_settings(&refund_settings(with_adjustment_item()))
        .await;
    p.invoiced(CONFIGURABLE_TAX, "RF-6").await;
    p.sim
        .set_faults(Faults {
            lost_response_rate: 1.0,
            seed: 11,
            ..Faults::default()
        })
        .unwrap();
    let m = memo(
        8,
        json!([{"order_item_id": 18, "sku": "RACER", "qty": 1, "price": 224, "row_total": 224, "tax_amount": 18.48}]),
        json!({"grand_total": 242.48, "tax_amount": 18.48}),
    );
    let (webhook_id, body) = p.refund("RF-6", &m).await;
    assert!(matches!(
        p.deliver_refund(&webhook_id, &body).await,
        IntakeOutcome::Duplicate { .. }
    ));
    // The same credit memo under another webhook id (a resend) is kept and does nothing.
    let resent = p.deliver_refund("msg_resent", &body).await;
    assert!(matches!(resent, IntakeOutcome::Accepted { .. }));
    p.refund_status(8, "posted").await;
    p.sim.set_faults(Faults::default()).unwrap();
    assert!(p.sim.stats().injected.lost_responses >= 1);
    assert_eq!(p.credit_notes("CM0000008").len(), 1);
    let jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE other_subject = 'refund:8' AND kind = 'post_refund'",
    )
    .fetch_one(p.pool())
    .await
    .unwrap();
    assert_eq!(jobs, 1, "one job however often the credit memo arrives");
    p.stop().await;
}

#[tokio::test]
async fn the_order_poll_finds_a_credit_memo_whose_webhook_was_missed_and_queues_it_once() {
    use crate::magento_sim::Shop;
    use b1bridge::magento::MagentoClient;
    use b1bridge::worker::backfill::Backfill;

    let shop = Shop::start().await;
    let id = shop.place(&[("24-WB04", 2)]).await;
    let item = shop.get(&format!("orders/{id}")).await.json["items"][0]["item_id"]
        .as_i64()
        .unwrap();
    shop.control(&format!("orders/{id}/invoice"), json!({}))
        .await;
    let memo = shop
        .control(
            &format!("orders/{id}/creditmemos"),
            json!({"items": [{"order_item_id": item, "qty": 1}]}),
        )
        .await
        .json;
    let db = TestDb::new().await;
    let settings = b1bridge::config::MagentoSettings::from_raw(
        Some(&shop.sim.base_url()),
        Some(&SecretString::from(crate::magento_sim::TOKEN.to_owned())),
    )
    .unwrap();
    let mut poll = Backfill::new(std::sync::Arc::new(MagentoClient::new(&settings).unwrap()));
    poll.grace = Duration::ZERO;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (figures, result) = poll.poll(&db.pool).await;
    result.unwrap();
    assert_eq!(figures.credit_memos.credit_memos_read, 1, "{figures:?}");
    assert_eq!(figures.credit_memos.credit_memos_ingested, 1, "{figures:?}");
    // The next poll reads it again (the overlap) and takes nothing in twice.
    let (figures, result) = poll.poll(&db.pool).await;
    result.unwrap();
    assert_eq!(figures.credit_memos.credit_memos_ingested, 0, "{figures:?}");
    let entity = memo["entity_id"].as_i64().unwrap();
    let (status, jobs): (String, i64) = sqlx::query_as(
        "SELECT r.status, (SELECT count(*) FROM outbox WHERE other_subject = 'refund:' || r.magento_entity_id)
           FROM refunds r WHERE r.magento_entity_id = $1",
    )
    .bind(entity)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), jobs), ("queued", 1));
    let missed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM exceptions
          WHERE category = 'missed_webhook' AND context ->> 'credit_memo_entity_id' IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(missed, 1);
}

/// The simulator order's lines as (item, quantity), by `LineNum`.
fn order_lines(order: &Document) -> Vec<(String, Decimal)> {
    order
        .document_lines
        .iter()
        .map(|l| (l.item_code.clone(), l.quantity))
        .collect()
}

#[tokio::test]
async fn partial_refunds_of_an_uninvoiced_order_reduce_its_sales_order_line_by_line_then_close_it()
{
    let mut p = Pipeline::started().await;
    p.set_settings(&refund_settings(RefundSettings {
        close_uninvoiced_order: true,
        ..with_adjustment_item()
    }))
    .await;
    p.place(&sample_as(CONFIGURABLE_TAX, "RF-8")).await;
    p.settle("RF-8").await;
    let (_, entry, _) = p.order("RF-8").await;
    let entry = i64::from(entry.unwrap());
    let before = p.sim.order(entry).unwrap();
    assert_eq!(
        order_lines(&before),
        [("MH09-XS-Blue".into(), dec!(2)), ("RACER".into(), dec!(1))]
    );
    let shirt = json!([{"order_item_id": 16, "sku": "MH09-XS-Blue", "qty": 1, "price": 69, "row_total": 69, "tax_amount": 5.69}]);
    // One of the two shirts: its line goes from 2 to 1, the total with it.
    p.refund(
        "RF-8",
        &memo(
            10,
            shirt.clone(),
            json!({"grand_total": 74.69, "tax_amount": 5.69}),
        ),
    )
    .await;
    p.refund_status(10, "order_reduced").await;
    let reduced = p.sim.order(entry).unwrap();
    assert_eq!(
        order_lines(&reduced),
        [("MH09-XS-Blue".into(), dec!(1)), ("RACER".into(), dec!(1))]
    );
    assert!(reduced.doc_total < before.doc_total);
    assert_eq!(reduced.document_status, DocStatus::Open);
    // The RACER in full: its line is taken off, the shirt stays at 1.
    let racer = json!([{"order_item_id": 18, "sku": "RACER", "qty": 1, "price": 224, "row_total": 224, "tax_amount": 18.48}]);
    p.refund(
        "RF-8",
        &memo(
            11,
            racer,
            json!({"grand_total": 242.48, "tax_amount": 18.48}),
        ),
    )
    .await;
    p.refund_status(11, "order_reduced").await;
    assert_eq!(
        order_lines(&p.sim.order(entry).unwrap()),
        [("MH09-XS-Blue".into(), dec!(1))]
    );
    // The last shirt: nothing is left, so the whole order is closed.
    p.refund(
        "RF-8",
        &memo(12, shirt, json!({"grand_total": 74.69, "tax_amount": 5.69})),
    )
    .await;
    p.refund_status(12, "order_closed").await;
    assert_eq!(
        p.sim.order(entry).unwrap().document_status,
        DocStatus::Close
    );
    assert!(p.sim.credit_notes().is_empty());
    assert!(p.open_exceptions("RF-8").await.is_empty());
    let mut conn = p.pool().acquire().await.unwrap();
    let listed = b1bridge::store::refunds::for_order(&mut conn, "RF-8")
        .await
        .unwrap();
    let statuses: Vec<_> = listed.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["order_reduced", "order_reduced", "order_closed"]);
    p.stop().await;
}

#[tokio::test]
async fn a_partial_refund_of_a_delivered_order_is_not_reduced_and_waits_for_the_invoice() {
    let mut p = Pipeline::started().await;
    p.set_settings(&refund_settings(RefundSettings {
        close_uninvoiced_order: true,
        ..with_adjustment_item()
    }))
    .await;
    p.place(&sample_as(CONFIGURABLE_TAX, "RF-9")).await;
    p.settle("RF-9").await;
    let (_, entry, _) = p.order("RF-9").await;
    let entry = i64::from(entry.unwrap());
    p.sim
        .create_delivery(&DeliveryRequest {
            order_doc_entry: entry,
            lines: None,
            tracking_number: None,
            doc_date: None,
        })
        .expect("the order is delivered");
    let racer = json!([{"order_item_id": 18, "sku": "RACER", "qty": 1, "price": 224, "row_total": 224, "tax_amount": 18.48}]);
    p.refund(
        "RF-9",
        &memo(
            13,
            racer,
            json!({"grand_total": 242.48, "tax_amount": 18.48}),
        ),
    )
    .await;
    p.refund_status(13, "waiting").await;
    let open = p.open_exceptions("RF-9").await;
    assert_eq!(open[0].category, Category::RefundUnmatched);
    assert_eq!(
        order_lines(&p.sim.order(entry).unwrap()),
        [("MH09-XS-Blue".into(), dec!(2)), ("RACER".into(), dec!(1))],
        "a delivered order is never reduced"
    );
    p.stop().await;
}

/// Settings paying online refunds back, and the payment-method mapping of the sample order
/// (`checkmo`) with the account to pay from.
async fn paying(p: &Pipeline, mapped: bool) {
    p.set_settings(&refund_settings(RefundSettings {
        outgoing_payment: true,
        ..with_adjustment_item()
    }))
    .await;
    if mapped {
        p.map(
            MappingKind::PaymentMethods,
            "checkmo",
            json!({"refund_account": "_SYS00000000010"}),
        )
        .await;
    }
}

fn racer_memo(entity_id: i64, online: bool) -> Value {
    let mut extra = json!({"grand_total": 242.48, "tax_amount": 18.48});
    if online {
        extra["transaction_id"] = json!(format!("re_{entity_id}"));
    }
    memo(
        entity_id,
        json!([{"order_item_id": 18, "sku": "RACER", "qty": 1, "price": 224, "row_total": 224, "tax_amount": 18.48}]),
        extra,
    )
}

/// Waits until the refund's outgoing payment is recorded; returns its `DocEntry`.
async fn paid(p: &Pipeline, entity_id: i64) -> i64 {
    let pool = p.pool().clone();
    let ok = wait_until(Duration::from_secs(20), || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<i32>>(
                "SELECT payment_doc_entry FROM refunds WHERE magento_entity_id = $1",
            )
            .bind(entity_id)
            .fetch_one(&pool)
            .await
            .unwrap()
            .is_some()
        }
    })
    .await;
    assert!(ok, "refund {entity_id} was never paid out");
    let entry: i32 =
        sqlx::query_scalar("SELECT payment_doc_entry FROM refunds WHERE magento_entity_id = $1")
            .bind(entity_id)
            .fetch_one(p.pool())
            .await
            .unwrap();
    i64::from(entry)
}

#[tokio::test]
async fn an_online_refund_is_paid_back_once_by_an_outgoing_payment_even_when_sap_answers_are_lost()
{
    let mut p = Pipeline::started().await;
    paying(&p, true).await;
    p.invoiced(CONFIGURABLE_TAX, "RF-10").await;
    p.sim
        .set_faults(Faults {
            lost_response_rate: 1.0,
            seed: 12,
            ..Faults::default()
        })
        .unwrap();
    p.refund("RF-10", &racer_memo(14, true)).await;
    let entry = paid(&p, 14).await;
    p.sim.set_faults(Faults::default()).unwrap();
    assert!(p.sim.stats().injected.lost_responses >= 2);
    let notes = p.credit_notes("CM0000014");
    assert_eq!(notes.len(), 1);
    let payments = p.sim.vendor_payments();
    assert_eq!(payments.len(), 1, "exactly one outgoing payment");
    let pay = &payments[0];
    assert_eq!(pay.doc_entry, entry);
    assert_eq!(pay.doc_type, b1bridge::sim::sap_b1::RcptType::Customer);
    assert_eq!(pay.card_code, notes[0].card_code);
    assert_eq!(pay.transfer_account.as_deref(), Some("_SYS00000000010"));
    assert_eq!(pay.transfer_sum, dec!(242.48));
    assert_eq!(pay.payment_invoices.len(), 1);
    assert_eq!(pay.payment_invoices[0].doc_entry, notes[0].doc_entry);
    assert_eq!(
        pay.payment_invoices[0].invoice_type,
        b1bridge::sim::sap_b1::RcptInvType::CreditNote
    );
    // Paid in full, SAP closes the credit memo; the refund stays posted.
    let note = p.sim.credit_notes().pop().unwrap();
    assert_eq!(note.document_status, DocStatus::Close);
    p.refund_status(14, "posted").await;
    let mut conn = p.pool().acquire().await.unwrap();
    let listed = b1bridge::store::refunds::for_order(&mut conn, "RF-10")
        .await
        .unwrap();
    assert_eq!(listed[0].payment_doc_num, Some(pay.doc_num as i32));
    assert!(listed[0].paid_at.is_some());
    assert!(p.open_exceptions("RF-10").await.is_empty());
    p.stop().await;
}

#[tokio::test]
async fn an_unmapped_payment_method_is_payment_unlinked_until_mapped_and_offline_refunds_are_not_paid(
) {
    let mut p = Pipeline::started().await;
    paying(&p, false).await;
    p.invoiced(CONFIGURABLE_TAX, "RF-11").await;
    // An offline refund (no gateway transaction): credited, not paid out.
    let shirt = memo(
        15,
        json!([{"order_item_id": 16, "sku": "MH09-XS-Blue", "qty": 1, "price": 69, "row_total": 69, "tax_amount": 5.69}]),
        json!({"grand_total": 74.69, "tax_amount": 5.69}),
    );
    p.refund("RF-11", &shirt).await;
    p.refund_status(15, "posted").await;
    // An online one while no account is mapped: credited, and finance is told.
    p.refund("RF-11", &racer_memo(16, true)).await;
    p.refund_status(16, "posted").await;
    let pool = p.pool().clone();
    assert!(
        wait_until(Duration::from_secs(20), || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM exceptions WHERE category = 'payment_unlinked'
                      AND status = 'open' AND order_increment_id = 'RF-11'",
                )
                .fetch_one(&pool)
                .await
                .unwrap()
                    == 1
            }
        })
        .await
    );
    let open = p.open_exceptions("RF-11").await;
    assert!(open[0].detail.contains("'checkmo'"), "{}", open[0].detail);
    assert!(p.sim.vendor_payments().is_empty());
    // Mapped: the next check pays it and the exception resolves itself.
    p.map(
        MappingKind::PaymentMethods,
        "checkmo",
        json!({"refund_account": "_SYS00000000010"}),
    )
    .await;
    paid(&p, 16).await;
    let payments = p.sim.vendor_payments();
    assert_eq!(payments.len(), 1, "only the online refund is paid out");
    assert_eq!(payments[0].transfer_sum, dec!(242.48));
    assert!(p.open_exceptions("RF-11").await.is_empty());
    p.stop().await;
}
