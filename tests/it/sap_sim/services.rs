//! The service calls the go-live audit makes: `OrdersService_Preview` computes exactly what
//! `POST /Orders` books and stores nothing; the exchange rate of a day, the numbering series,
//! the approval flag; and the tax codes SAP refuses on a sales document (a purchase VAT group,
//! a sales tax code not valid for A/R).
use super::{num, Sl};
use b1bridge::sim::sap_b1::{SalesTaxCode, SapSimConfig, Seed, VatGroup, VatGroupLine, YesNo};
use reqwest::StatusCode;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

fn taxed_order(num_at_card: &str) -> Value {
    json!({"CardCode": "WEBGUEST", "NumAtCard": num_at_card, "DocDate": "2026-11-26",
        "DocumentLines": [
            {"ItemCode": "RACER", "Quantity": 1, "UnitPrice": 224, "DiscountPercent": 20, "TaxCode": "US-MI"},
            {"ItemCode": "MH09-XS-Blue", "Quantity": 3, "UnitPrice": 11.11, "TaxCode": "US-MI"}],
        "DocumentAdditionalExpenses": [{"ExpenseCode": 1, "LineTotal": 5, "TaxCode": "US-MI"}]})
}

#[tokio::test]
async fn a_preview_computes_what_an_add_books_and_stores_nothing() {
    let sl = Sl::start().await;
    let preview = sl
        .post(
            "OrdersService_Preview",
            &json!({"Document": taxed_order("P-1")}),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let preview = preview.json();
    assert!(preview["DocEntry"].is_null());
    assert_eq!(sl.get("Orders/$count").await.text.trim(), "0");
    let added = sl.create_order(&taxed_order("P-1")).await;
    for field in ["DocTotal", "VatSum", "TotalDiscount"] {
        assert_eq!(num(&preview[field]), num(&added[field]), "{field}");
    }
    for i in 0..2 {
        for field in ["LineTotal", "TaxTotal", "Price", "TaxPercentagePerRow"] {
            assert_eq!(
                num(&preview["DocumentLines"][i][field]),
                num(&added["DocumentLines"][i][field]),
                "line {i} {field}"
            );
        }
    }
    // 179.20 × 8.25 % = 14.784 → 14.78; 33.33 × 8.25 % = 2.749… → 2.75; freight 0.41.
    assert_eq!(num(&preview["VatSum"]), dec!(17.94));
    // A preview is refused like the add it stands for.
    let refused = sl
        .post(
            "OrdersService_Preview",
            &json!({"Document": {"CardCode": "NOPE", "DocumentLines": [{"ItemCode": "RACER"}]}}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text.contains("Invalid BP code"), "{}", refused.text);
}

#[tokio::test]
async fn rates_series_and_the_approval_flag_are_answered_by_service_calls() {
    let mut seed = Seed::uk_vat();
    seed.numbering.credit_notes.locked = true;
    let sl = Sl::start_with(SapSimConfig {
        seed,
        ..SapSimConfig::default()
    })
    .await;
    let rate = sl
        .post(
            "SBOBobService_GetCurrencyRate",
            &json!({"Currency": "eur", "Date": "20261203"}),
        )
        .await;
    assert_eq!(num(&rate.json()["value"]), dec!(0.8612), "{}", rate.text);
    let missing = sl
        .post(
            "SBOBobService_GetCurrencyRate",
            &json!({"Currency": "EUR", "Date": "20261225"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let series = |doc: &'static str| {
        let sl = &sl;
        async move {
            sl.post(
                "SeriesService_GetDocumentSeries",
                &json!({"DocumentTypeParams": {"Document": doc}}),
            )
            .await
            .json()
        }
    };
    assert_eq!(series("17").await["value"][0]["Locked"], "tNO");
    assert_eq!(series("14").await["value"][0]["Locked"], "tYES");
    let admin = sl
        .post("CompanyService_GetAdminInfo", &json!({}))
        .await
        .json();
    assert_eq!(admin["EnableApprovalProcedureInDI"], "tNO");
    assert_eq!(admin["LocalCurrency"], "GBP");
}

#[tokio::test]
async fn purchase_vat_groups_and_codes_not_valid_for_ar_are_refused_on_sales_orders() {
    let mut vat = Seed::uk_vat();
    vat.vat_groups.push(VatGroup {
        code: "I1".into(),
        name: "Input standard rate".into(),
        category: "bovcInputTax".into(),
        inactive: YesNo::No,
        vat_groups_lines: vec![VatGroupLine {
            effective_from: chrono::NaiveDate::from_ymd_opt(2011, 1, 4).unwrap(),
            rate: dec!(20),
        }],
    });
    let sl = Sl::start_with(SapSimConfig {
        seed: vat,
        ..SapSimConfig::default()
    })
    .await;
    let line = |group: &str| json!({"CardCode": "WEBGUEST", "DocumentLines": [{"ItemCode": "RACER", "UnitPrice": 10, "VatGroup": group}]});
    assert_eq!(
        sl.post("Orders", &line("O1")).await.status,
        StatusCode::CREATED
    );
    let refused = sl.post("Orders", &line("I1")).await;
    assert!(
        refused.text.contains("Invalid VAT Group"),
        "{}",
        refused.text
    );

    let mut us = Seed::default_seed();
    us.tax_codes.push(SalesTaxCode {
        code: "US-USE".into(),
        name: "Use tax (purchases)".into(),
        rate: dec!(6),
        valid_for_ar: YesNo::No,
        ..SalesTaxCode::default()
    });
    let sl = Sl::start_with(SapSimConfig {
        seed: us,
        ..SapSimConfig::default()
    })
    .await;
    let refused = sl
        .post(
            "Orders",
            &json!({"CardCode": "WEBGUEST", "DocumentLines": [{"ItemCode": "RACER", "UnitPrice": 10, "TaxCode": "US-USE"}]}),
        )
        .await;
    assert!(
        refused.text.contains("Specify valid tax code"),
        "{}",
        refused.text
    );
    let codes = sl.get("SalesTaxCodes('US-USE')").await.json();
    assert_eq!(codes["ValidForAR"], "tNO");
}
