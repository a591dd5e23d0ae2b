//! Deliveries and invoices made through the control endpoints, read back through
//! `/DeliveryNotes` and `/Invoices` as the pipeline reads them.
use super::{num, order, Sl};
use b1bridge::sim::sap_b1::{DeliveryLineRequest, DeliveryRequest, InvoiceBase};
use reqwest::StatusCode;
use rust_decimal_macros::dec;
use serde_json::json;

#[tokio::test]
async fn a_partial_delivery_moves_stock_and_then_cancel_is_refused_but_close_works() {
    let sl = Sl::start().await;
    let body = json!({"CardCode": "C20000", "NumAtCard": "000000077", "DocumentLines": [
        {"ItemCode": "MH09-XS-Blue", "Quantity": 3, "UnitPrice": 69, "TaxCode": "US-MI"},
        {"ItemCode": "RACER", "Quantity": 1, "UnitPrice": 224, "TaxCode": "US-MI"}]});
    let o = sl.create_order(&body).await;
    let entry = o["DocEntry"].as_i64().unwrap();
    let (stock_before, _) = sl.stock("MH09-XS-Blue", "01").await;

    let answer = sl
        .control("deliveries", &json!({"order_doc_entry": entry, "lines": [{"line_num": 0, "quantity": 2}], "tracking_number": "1Z999AA10123456784"}))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let delivery_entry = answer.json()["DocEntry"].as_i64().unwrap();

    let found = sl
        .get(&format!(
            "DeliveryNotes?$filter=DocEntry eq {delivery_entry}"
        ))
        .await
        .json();
    let delivery = &found["value"][0];
    assert_eq!(delivery["TrackingNumber"], "1Z999AA10123456784");
    assert_eq!(delivery["NumAtCard"], "000000077");
    let line = &delivery["DocumentLines"][0];
    assert_eq!(
        (
            line["BaseType"].as_i64(),
            line["BaseEntry"].as_i64(),
            line["BaseLine"].as_i64()
        ),
        (Some(17), Some(entry), Some(0))
    );
    assert_eq!(num(&line["Quantity"]), dec!(2));
    assert_eq!(num(&delivery["DocTotal"]), dec!(149.39)); // 138 + 11.385 → 11.39

    let (stock_after, committed_after) = sl.stock("MH09-XS-Blue", "01").await;
    assert_eq!(num(&stock_after), num(&stock_before) - dec!(2));
    assert_eq!(num(&committed_after), dec!(1));
    let o = sl.get(&format!("Orders({entry})")).await.json();
    assert_eq!(
        num(&o["DocumentLines"][0]["RemainingOpenQuantity"]),
        dec!(1)
    );
    assert_eq!(o["DocumentStatus"], "bost_Open");

    let cancel = sl.post_empty(&format!("Orders({entry})/Cancel")).await;
    assert_eq!(cancel.status, StatusCode::BAD_REQUEST);
    let (code, text) = cancel.error();
    assert_eq!(code, -10);
    assert!(text.contains("close it instead"), "{text}");
    assert_eq!(
        sl.get(&format!("Orders({entry})")).await.json()["Cancelled"],
        "tNO"
    );

    assert_eq!(
        sl.post_empty(&format!("Orders({entry})/Close"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(num(&sl.stock("MH09-XS-Blue", "01").await.1), dec!(0));
    assert_eq!(num(&sl.stock("RACER", "01").await.1), dec!(0));
}

#[tokio::test]
async fn delivering_everything_closes_the_order_and_an_invoice_copies_the_delivery() {
    let sl = Sl::start().await;
    let mut body = order("WEBGUEST", "000000078", "24-WG084", 4);
    body["DocumentAdditionalExpenses"] =
        json!([{"ExpenseCode": 1, "LineTotal": 5, "TaxCode": "EX"}]);
    let o = sl.create_order(&body).await;
    let entry = o["DocEntry"].as_i64().unwrap();
    let delivery = sl.sim.create_delivery(&DeliveryRequest {
        order_doc_entry: entry,
        lines: None,
        tracking_number: Some("TRACK-1".into()),
        doc_date: None,
    });
    let delivery = delivery.expect("delivery");
    assert_eq!(delivery.doc_total, dec!(45)); // 4 × 10 + freight 5, untaxed
    let o = sl
        .get(&format!(
            "Orders({entry})?$select=DocumentStatus,DocumentLines"
        ))
        .await
        .json();
    assert_eq!(o["DocumentStatus"], "bost_Close");
    assert_eq!(o["DocumentLines"][0]["LineStatus"], "bost_Close");
    // Nothing left to deliver.
    let again = sl.sim.create_delivery(&DeliveryRequest {
        order_doc_entry: entry,
        lines: Some(vec![DeliveryLineRequest::new(0, dec!(1))]),
        tracking_number: None,
        doc_date: None,
    });
    assert_eq!(again.unwrap_err().code, -10);

    let answer = sl
        .control(
            "invoices",
            &json!({"delivery_doc_entry": delivery.doc_entry}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let invoice = answer.json();
    assert_eq!(
        (
            invoice["DocumentLines"][0]["BaseType"].as_i64(),
            invoice["DocumentLines"][0]["BaseEntry"].as_i64()
        ),
        (Some(15), Some(delivery.doc_entry))
    );
    assert_eq!(num(&invoice["DocTotal"]), dec!(45));
    let today = invoice["UpdateDate"].as_str().unwrap().to_owned();
    let listed = sl
        .get(&format!(
            "Invoices?$filter=UpdateDate ge '{today}'&$select=DocEntry,DocTotal"
        ))
        .await
        .json();
    assert_eq!(listed["value"].as_array().unwrap().len(), 1);
    let delivery = sl
        .get(&format!(
            "DeliveryNotes({})?$select=DocumentStatus",
            delivery.doc_entry
        ))
        .await
        .json();
    assert_eq!(delivery["DocumentStatus"], "bost_Close");
}

#[tokio::test]
async fn invoicing_an_order_directly_moves_stock_and_blocks_cancel() {
    let sl = Sl::start().await;
    let o = sl
        .create_order(&order("WEBGUEST", "000000079", "24-WG086", 2))
        .await;
    let entry = o["DocEntry"].as_i64().unwrap();
    let (before, _) = sl.stock("24-WG086", "01").await;
    let invoice = sl
        .sim
        .create_invoice(InvoiceBase::Order(entry))
        .expect("invoice");
    assert_eq!(invoice.document_lines[0].base_type, 17);
    assert_eq!(
        num(&sl.stock("24-WG086", "01").await.0),
        num(&before) - dec!(2)
    );
    assert_eq!(
        sl.post_empty(&format!("Orders({entry})/Cancel"))
            .await
            .error()
            .0,
        -10
    );
}

#[tokio::test]
async fn deliveries_beyond_stock_fall_into_negative_inventory() {
    let sl = Sl::start().await;
    assert_eq!(
        sl.control(
            "stock",
            &json!({"item_code": "RACER", "warehouse_code": "01", "in_stock": 1})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let o = sl
        .create_order(&order("WEBGUEST", "000000080", "RACER", 2))
        .await;
    let answer = sl
        .control("deliveries", &json!({"order_doc_entry": o["DocEntry"]}))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.error(),
        (
            -10,
            "Quantity falls into negative inventory [DocumentLines.ItemCode][line: 1]".to_owned()
        )
    );
    assert!(sl.sim.delivery_notes().is_empty());
}

#[tokio::test]
async fn a_line_named_twice_cannot_deliver_more_than_is_open() {
    let sl = Sl::start().await;
    let o = sl
        .create_order(&order("WEBGUEST", "000000081", "24-WG088", 3))
        .await;
    let answer = sl
        .control("deliveries", &json!({"order_doc_entry": o["DocEntry"], "lines": [{"line_num": 0, "quantity": 2}, {"line_num": 0, "quantity": 2}]}))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert!(
        answer.error().1.contains("exceeds its open quantity"),
        "{}",
        answer.text
    );
    assert!(sl.sim.delivery_notes().is_empty());
}
