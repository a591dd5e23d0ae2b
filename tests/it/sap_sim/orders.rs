//! Sales orders: validation errors with SAP's codes and texts, totals, numbering, look-up by
//! `NumAtCard`, committed stock, PATCH, Cancel/Close and DELETE.
use super::{num, order, Sl};
use reqwest::StatusCode;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

fn line(item: &str, quantity: u32) -> Value {
    json!({"ItemCode": item, "Quantity": quantity, "UnitPrice": 10, "TaxCode": "EX"})
}

#[tokio::test]
async fn invalid_orders_are_refused_with_sap_codes_and_texts_and_write_nothing() {
    let sl = Sl::start().await;
    let with_lines = |card: &str, lines: Value| json!({"CardCode": card, "NumAtCard": "X-1", "DocumentLines": lines});
    let cases: Vec<(Value, i64, &str)> = vec![
        (
            with_lines("NOPE", json!([line("RACER", 1)])),
            -10,
            "Invalid BP code [ORDR.CardCode] , 'NOPE'",
        ),
        (
            with_lines("C29990", json!([line("RACER", 1)])),
            -10,
            "(-10) 10001071 - Customer C29990 is inactive",
        ),
        (
            with_lines("C29991", json!([line("RACER", 1)])),
            -10,
            "(-10) 10001071 - Customer C29991 is inactive",
        ),
        (
            with_lines("WEBGUEST", json!([line("MS10-XL-Black", 1)])),
            -10,
            "10001069 - Item MS10-XL-Black is inactive",
        ),
        (
            with_lines("WEBGUEST", json!([line("WT09-XS-White", 1)])),
            -10,
            "10001069 - Item WT09-XS-White is inactive",
        ),
        (
            with_lines(
                "WEBGUEST",
                json!([line("RACER", 1), line("NO-SUCH-SKU", 1)]),
            ),
            -10,
            "Invalid item code [DocumentLines.ItemCode][line: 2] , 'NO-SUCH-SKU'",
        ),
        (
            with_lines("WEBGUEST", json!([{"Quantity": 1}])),
            -10,
            "Item number is missing; specify an item number [DocumentLines.ItemCode][line: 1]",
        ),
        (
            with_lines("WEBGUEST", json!([line("PKG-CARTON-M", 1)])),
            -10,
            "Item 'PKG-CARTON-M' is not a sales item [DocumentLines.ItemCode][line: 1]",
        ),
        (
            with_lines(
                "WEBGUEST",
                json!([{"ItemCode": "RACER", "Quantity": 1, "WarehouseCode": "99"}]),
            ),
            -10,
            "Invalid warehouse code [DocumentLines.WarehouseCode][line: 1] , '99'",
        ),
        (
            with_lines(
                "WEBGUEST",
                json!([{"ItemCode": "RACER", "Quantity": 1, "WarehouseCode": "03"}]),
            ),
            -10,
            "Warehouse '03' is inactive [DocumentLines.WarehouseCode][line: 1]",
        ),
        (
            with_lines(
                "WEBGUEST",
                json!([{"ItemCode": "RACER", "Quantity": 1, "TaxCode": "NOTAX"}]),
            ),
            -10,
            "10000180 - Specify valid tax code",
        ),
        (
            with_lines("WEBGUEST", json!([])),
            -10,
            "Document must contain at least one row [DocumentLines]",
        ),
        (
            json!({"CardCode": "WEBGUEST", "DocumentLines": [{"ItemCode": "RACER", "Quantity": 1, "UnitPrice": 10, "DiscountPercent": 100}]}),
            -5002,
            "(5002) 10001058 Enter a discount percentage of less than 100",
        ),
    ];
    for (body, code, text) in cases {
        let answer = sl.post("Orders", &body).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
        assert_eq!(answer.error(), (code, text.to_owned()), "{body}");
    }
    assert!(sl.sim.orders().is_empty());
    let (_, committed) = sl.stock("RACER", "01").await;
    assert_eq!(num(&committed), dec!(0));
}

#[tokio::test]
async fn serial_and_batch_numbers_are_asked_for_at_delivery_and_on_invoices_not_on_orders() {
    let sl = Sl::start().await;
    // A Sales Order needs no numbers (reference §10).
    let order = sl
        .create_order(&json!({"CardCode": "WEBGUEST", "DocumentLines": [
            {"ItemCode": "24-MG03", "Quantity": 2},
            {"ItemCode": "24-UG06", "Quantity": 3}
        ]}))
        .await;
    let entry = order["DocEntry"].as_i64().unwrap();
    let incomplete = (
        -4014,
        "Cannot add row without complete selection of batch/serial numbers".to_owned(),
    );
    // Goods leaving the warehouse need every unit named: a delivery...
    for lines in [
        json!([{"line_num": 0, "quantity": 2}]),
        json!([{"line_num": 0, "quantity": 2, "serial_numbers": [{"InternalSerialNumber": "SN-1"}]}]),
        json!([{"line_num": 1, "quantity": 3, "batch_numbers": [{"BatchNumber": "B-1", "Quantity": 2}]}]),
    ] {
        let refused = sl
            .control(
                "deliveries",
                &json!({"order_doc_entry": entry, "lines": lines}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{lines}");
        assert_eq!(refused.error(), incomplete, "{lines}");
    }
    // ...and an invoice that is not based on a delivery.
    let refused = sl
        .control("invoices", &json!({"order_doc_entry": entry}))
        .await;
    assert_eq!(refused.error(), incomplete);
    let shipped = sl
        .control(
            "deliveries",
            &json!({"order_doc_entry": entry, "lines": [
                {"line_num": 0, "quantity": 2, "serial_numbers": [
                    {"InternalSerialNumber": "SN-1"}, {"ManufacturerSerialNumber": "M-2", "Quantity": 1}]},
                {"line_num": 1, "quantity": 3, "batch_numbers": [
                    {"BatchNumber": "B-2025-01", "Quantity": 1}, {"BatchNumberProperty": "B-2025-02", "Quantity": "2"}]}
            ]}),
        )
        .await;
    assert_eq!(shipped.status, StatusCode::CREATED, "{}", shipped.text);
    let delivery = shipped.json()["DocEntry"].as_i64().unwrap();
    let invoiced = sl
        .control("invoices", &json!({"delivery_doc_entry": delivery}))
        .await;
    assert_eq!(
        invoiced.status,
        StatusCode::CREATED,
        "numbers came with the delivery"
    );
}

#[tokio::test]
async fn an_approval_procedure_stores_a_draft_and_answers_2028_or_204() {
    let mut seed = b1bridge::sim::sap_b1::Seed::default_seed();
    seed.approval_procedures
        .push(b1bridge::sim::sap_b1::ApprovalProcedure {
            name: "Large orders".into(),
            min_doc_total: Some(dec!(100)),
            card_codes: vec![],
        });
    let sl = Sl::start_with(b1bridge::sim::sap_b1::SapSimConfig {
        seed,
        ..Default::default()
    })
    .await;
    let small = json!({"CardCode": "WEBGUEST", "NumAtCard": "S-1", "DocumentLines": [{"ItemCode": "RACER", "Quantity": 1, "UnitPrice": 10}]});
    let large = |n: &str| json!({"CardCode": "WEBGUEST", "NumAtCard": n, "DocumentLines": [{"ItemCode": "RACER", "Quantity": 5, "UnitPrice": 40}]});
    assert_eq!(sl.post("Orders", &small).await.status, StatusCode::CREATED);

    // Plain POST: -2028, although the draft was stored (the stricter reading of §3).
    let answer = sl.post("Orders", &large("L-1")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.error().0, -2028);
    // `Prefer: return-no-content`: 204, empty, and no Location to trust.
    let answer = sl
        .send(
            sl.http
                .post(format!("{}/Orders", sl.sim.base_url()))
                .header("Prefer", "return-no-content")
                .json(&large("L-2")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(answer.text.is_empty());
    assert_eq!(answer.header("Location"), None);
    assert_eq!(sl.sim.orders().len(), 1, "only the small order was added");

    let drafts = sl
        .get("Drafts?$filter=NumAtCard eq 'L-1' and Cancelled eq 'tNO' and DocObjectCode eq 'oOrders' and DocumentStatus eq 'bost_Open'")
        .await
        .json();
    assert_eq!(drafts["value"].as_array().unwrap().len(), 1, "{drafts}");
    let draft = drafts["value"][0]["DocEntry"].as_i64().unwrap();
    assert_eq!(
        sl.get(&format!("Orders({draft})")).await.status,
        StatusCode::NOT_FOUND,
        "a draft's DocEntry is not an Orders key"
    );

    // The approver's decision, through the control endpoints.
    let rejected = sl
        .control(&format!("drafts/{draft}/reject"), &json!({}))
        .await;
    assert_eq!(rejected.status, StatusCode::NO_CONTENT);
    assert_eq!(
        sl.get(&format!("Drafts({draft})")).await.json()["DocumentStatus"],
        "bost_Open"
    );
    let approved = sl
        .control(&format!("drafts/{draft}/approve"), &json!({}))
        .await;
    assert_eq!(approved.status, StatusCode::CREATED);
    let order = approved.json();
    assert_eq!(order["NumAtCard"], "L-1");
    assert_eq!(
        sl.get(&format!("Drafts({draft})")).await.json()["DocumentStatus"],
        "bost_Close"
    );
    let again = sl
        .control(&format!("drafts/{draft}/approve"), &json!({}))
        .await;
    assert_eq!(
        again.status,
        StatusCode::BAD_REQUEST,
        "a closed draft is not added twice"
    );
    let found = sl.get("Orders?$filter=NumAtCard eq 'L-1'").await.json();
    assert_eq!(found["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn totals_follow_sap_for_lines_discounts_tax_freight_and_rounding() {
    let sl = Sl::start().await;
    // Numbers as strings, as APIREF's examples send them; Magento's increment id as NumAtCard.
    let body = json!({
        "CardCode": "C20000", "NumAtCard": "000000013", "DocDate": "2026-11-26", "DocDueDate": "20261130",
        "Comments": "Magento order 000000013",
        "AddressExtension": {"ShipToStreet": "6146 Honey Bluff Parkway", "ShipToCity": "Calder", "ShipToCountry": "US"},
        "DocumentLines": [
            {"ItemCode": "MH09-XS-Blue", "Quantity": "2", "UnitPrice": "69", "TaxCode": "US-MI", "U_MagentoItemId": 101},
            {"ItemCode": "WS12-M-Orange", "Quantity": 3, "UnitPrice": 22, "DiscountPercent": 10, "TaxCode": "US-MI", "WarehouseCode": "02"},
            {"ItemCode": "240-LV08", "Quantity": 1, "LineTotal": 18, "TaxCode": "EX"}
        ],
        "DocumentAdditionalExpenses": [{"ExpenseCode": 1, "LineTotal": "5.00", "TaxCode": "US-MI"}]
    });
    let o = sl.create_order(&body).await;
    // Line 0: 138.00, tax 11.385 → 11.39. Line 1: 3 × 22 × 0.9 = 59.40, price 19.8, tax 4.9005 → 4.90.
    // Line 2: 18.00 untaxed. Freight 5.00, tax 0.4125 → 0.41.
    let lines = &o["DocumentLines"];
    assert_eq!(
        (num(&lines[0]["LineTotal"]), num(&lines[0]["TaxTotal"])),
        (dec!(138), dec!(11.39))
    );
    assert_eq!(
        (num(&lines[1]["Price"]), num(&lines[1]["UnitPrice"])),
        (dec!(19.8), dec!(22))
    );
    assert_eq!(
        (num(&lines[1]["LineTotal"]), num(&lines[1]["TaxTotal"])),
        (dec!(59.40), dec!(4.90))
    );
    assert_eq!(
        (num(&lines[2]["LineTotal"]), num(&lines[2]["Price"])),
        (dec!(18), dec!(18))
    );
    assert_eq!(lines[1]["WarehouseCode"], "02");
    assert_eq!(lines[0]["WarehouseCode"], "01");
    assert_eq!(lines[0]["U_MagentoItemId"], 101);
    let freight = &o["DocumentAdditionalExpenses"][0];
    assert_eq!(
        (num(&freight["LineTotal"]), num(&freight["TaxSum"])),
        (dec!(5), dec!(0.41))
    );
    assert_eq!(num(&o["VatSum"]), dec!(16.70));
    assert_eq!(num(&o["DocTotal"]), dec!(237.10)); // 138 + 59.40 + 18 + 5 + 16.70
    assert_eq!(num(&o["RoundingDiffAmount"]), dec!(0));
    assert_eq!(o["DocType"], "dDocument_Items");
    assert_eq!(o["DocumentStatus"], "bost_Open");
    assert_eq!(o["Cancelled"], "tNO");
    assert_eq!(
        (o["DocDate"].as_str(), o["DocDueDate"].as_str()),
        (Some("2026-11-26"), Some("2026-11-30"))
    );
    assert_eq!(
        (o["CardName"].as_str(), o["DocCurrency"].as_str()),
        (Some("Veronica Costello"), Some("USD"))
    );
    assert_eq!(o["AddressExtension"]["ShipToCity"], "Calder");
    assert_eq!(o["DocumentLines"][1]["LineNum"], 1);
    assert_eq!(o["DocumentLines"][1]["RemainingOpenQuantity"], 3);

    // A `DocTotal` sent is reverse-calculated into a header discount (KBA 3697554), not
    // kept as a rounding difference: 10 cents less is a discount on lines and their tax.
    let mut lower = body.clone();
    lower["NumAtCard"] = json!("000000013-b");
    lower["DocTotal"] = json!(237.00);
    let o = sl.create_order(&lower).await;
    assert_eq!(num(&o["DocTotal"]), dec!(237.00));
    assert!(
        num(&o["DiscountPercent"]) > dec!(0),
        "{}",
        o["DiscountPercent"]
    );
    assert_eq!(num(&o["TotalDiscount"]), dec!(0.09));
    assert_eq!(num(&o["VatSum"]), dec!(16.70));
    assert_eq!(num(&o["RoundingDiffAmount"]), dec!(-0.01));
    // A total above SAP's own would be a negative discount: refused.
    lower["DocTotal"] = json!("237.12");
    let refused = sl.post("Orders", &lower).await;
    assert_eq!(refused.error().0, -10);
    assert!(refused.error().1.contains("DocTotal"), "{}", refused.text);
}

#[tokio::test]
async fn created_orders_get_separate_doc_entry_and_doc_num_counters_and_a_location() {
    let sl = Sl::start().await;
    let answer = sl
        .post("Orders", &order("WEBGUEST", "N-1", "RACER", 1))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let first = answer.json();
    let (entry, doc_num) = (
        first["DocEntry"].as_i64().unwrap(),
        first["DocNum"].as_i64().unwrap(),
    );
    assert_ne!(entry, doc_num);
    assert_eq!(
        answer.header("location"),
        Some(format!("/b1s/v1/Orders({entry})").as_str())
    );
    let second = sl.create_order(&order("WEBGUEST", "N-2", "RACER", 1)).await;
    assert_eq!(
        (second["DocEntry"].as_i64(), second["DocNum"].as_i64()),
        (Some(entry + 1), Some(doc_num + 1))
    );
    // Prefer: return-no-content → 204 with Location only (GUIDE p.26).
    let request = sl
        .http
        .post(format!("{}/Orders", sl.sim.base_url()))
        .header("Prefer", "return-no-content")
        .json(&order("WEBGUEST", "N-3", "RACER", 1));
    let answer = sl.send(request).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert_eq!(
        answer.header("Preference-Applied"),
        Some("return-no-content")
    );
    assert_eq!(
        answer.header("location"),
        Some(format!("/b1s/v1/Orders({})", entry + 2).as_str())
    );
}

#[tokio::test]
async fn the_pipelines_num_at_card_lookup_finds_exactly_its_orders() {
    let sl = Sl::start().await;
    let query =
        "Orders?$filter=NumAtCard eq '000000042'&$select=DocEntry,DocNum,DocumentStatus,Cancelled";
    assert_eq!(sl.get(query).await.json()["value"], json!([]));
    let created = sl
        .create_order(&order("WEBGUEST", "000000042", "RACER", 1))
        .await;
    sl.create_order(&order("WEBGUEST", "000000043", "RACER", 1))
        .await;
    let found = sl.get(query).await.json();
    assert_eq!(
        found["value"],
        json!([{"DocEntry": created["DocEntry"], "DocNum": created["DocNum"], "DocumentStatus": "bost_Open", "Cancelled": "tNO"}])
    );
    assert_eq!(sl.sim.orders_by_num_at_card("000000042"), 1);
    // SAP does not make NumAtCard unique: a second post is a second order (the pipeline's job).
    sl.create_order(&order("WEBGUEST", "000000042", "RACER", 1))
        .await;
    assert_eq!(sl.sim.orders_by_num_at_card("000000042"), 2);
    assert_eq!(sl.sim.stats().orders_by_num_at_card["000000042"], 2);
}

#[tokio::test]
async fn creating_an_order_commits_stock_and_cancelling_releases_it() {
    let sl = Sl::start().await;
    let (in_stock, committed) = sl.stock("MH09-XS-Blue", "01").await;
    assert_eq!(num(&committed), dec!(0));
    let o = sl
        .create_order(&order("C20000", "C-1", "MH09-XS-Blue", 3))
        .await;
    let (after_stock, after_committed) = sl.stock("MH09-XS-Blue", "01").await;
    assert_eq!(
        (num(&after_stock), num(&after_committed)),
        (num(&in_stock), dec!(3))
    );
    let item = sl
        .get("Items('MH09-XS-Blue')?$select=QuantityOrderedByCustomers")
        .await
        .json();
    assert_eq!(num(&item["QuantityOrderedByCustomers"]), dec!(3));

    let entry = o["DocEntry"].as_i64().unwrap();
    let cancel = sl.post_empty(&format!("Orders({entry})/Cancel")).await;
    assert_eq!(cancel.status, StatusCode::NO_CONTENT, "{}", cancel.text);
    let (_, released) = sl.stock("MH09-XS-Blue", "01").await;
    assert_eq!(num(&released), dec!(0));
    let cancelled = sl
        .get(&format!(
            "Orders({entry})?$select=Cancelled,DocumentStatus,CancelStatus"
        ))
        .await
        .json();
    assert_eq!(
        (
            cancelled["Cancelled"].as_str(),
            cancelled["DocumentStatus"].as_str()
        ),
        (Some("tYES"), Some("bost_Close"))
    );
    assert_eq!(cancelled["CancelStatus"], "csYes");
    // A second cancel is refused.
    assert_eq!(
        sl.post_empty(&format!("Orders({entry})/Cancel"))
            .await
            .error()
            .0,
        -10
    );
    assert_eq!(
        sl.post_empty("Orders(999999)/Cancel").await.error().0,
        -2028
    );
}

#[tokio::test]
async fn close_releases_committed_stock_and_patch_changes_header_fields() {
    let sl = Sl::start().await;
    let o = sl.create_order(&order("WEBGUEST", "P-1", "RACER", 2)).await;
    let entry = o["DocEntry"].as_i64().unwrap();
    let patch = sl
        .patch(
            &format!("Orders({entry})"),
            &json!({"Comments": "paid", "DocTotal": 1, "U_Channel": "web"}),
        )
        .await;
    assert_eq!(patch.status, StatusCode::NO_CONTENT, "{}", patch.text);
    let read = sl.get(&format!("Orders({entry})")).await.json();
    assert_eq!(
        (read["Comments"].as_str(), read["U_Channel"].as_str()),
        (Some("paid"), Some("web"))
    );
    assert_eq!(
        read["DocTotal"], o["DocTotal"],
        "read-only and computed fields ignore PATCH"
    );
    let close = sl.post_empty(&format!("Orders({entry})/Close")).await;
    assert_eq!(close.status, StatusCode::NO_CONTENT);
    assert_eq!(
        sl.get(&format!("Orders({entry})")).await.json()["DocumentStatus"],
        "bost_Close"
    );
    assert_eq!(num(&sl.stock("RACER", "01").await.1), dec!(0));
}

#[tokio::test]
async fn deleting_an_order_is_not_supported_minus_5006() {
    let sl = Sl::start().await;
    let o = sl.create_order(&order("WEBGUEST", "D-1", "RACER", 1)).await;
    let answer = sl.delete(&format!("Orders({})", o["DocEntry"])).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.error(),
        (
            -5006,
            "The requested action is not supported for this object.".to_owned()
        )
    );
    assert_eq!(sl.sim.orders().len(), 1);
}

#[tokio::test]
async fn business_partners_are_created_once_and_duplicates_are_minus_10() {
    let sl = Sl::start().await;
    let body = json!({"CardCode": "C30002", "CardName": "Jane Roe", "CardType": "cCustomer", "EmailAddress": "jane@example.com",
        "BPAddresses": [{"AddressName": "Home", "AddressType": "bo_ShipTo", "Street": "1 Main St", "City": "Lansing", "Country": "US"}]});
    let created = sl.post("BusinessPartners", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.header("location"),
        Some("/b1s/v1/BusinessPartners('C30002')")
    );
    let bp = created.json();
    assert_eq!(
        (bp["CardType"].as_str(), bp["Valid"].as_str()),
        (Some("cCustomer"), Some("tYES"))
    );
    assert_eq!(bp["BPAddresses"][0]["BPCode"], "C30002");
    let duplicate = sl.post("BusinessPartners", &body).await;
    assert_eq!(duplicate.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        duplicate.error(),
        (-10, "1320000140 - Business partner code 'C30002' already assigned to a business partner; enter a unique business partner code".to_owned())
    );
    let patched = sl.patch("BusinessPartners('C30002')", &json!({"Phone1": "555-0100", "BPAddresses": [{"AddressName": "Home", "AddressType": "S", "City": "Detroit"}]})).await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    let bp = sl.get("BusinessPartners(CardCode='C30002')").await.json();
    assert_eq!(
        (bp["Phone1"].as_str(), bp["BPAddresses"][0]["City"].as_str()),
        (Some("555-0100"), Some("Detroit"))
    );
    assert_eq!(bp["BPAddresses"].as_array().unwrap().len(), 1);
    // The new customer can order at once.
    sl.create_order(&order("C30002", "B-1", "RACER", 1)).await;
}
