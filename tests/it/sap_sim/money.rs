//! The simulator's money rules: the tax field of the company's localization, foreign-currency
//! documents (rate of the day, partner currency, FC twins), posting periods, and
//! `Address`/`Address2` rebuilt from `AddressExtension`.
use super::{num, Sl};
use b1bridge::sim::sap_b1::{PeriodStatus, PostingPeriod, SapSimConfig, Seed};
use chrono::NaiveDate;
use reqwest::StatusCode;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

async fn uk() -> Sl {
    Sl::start_with(SapSimConfig {
        seed: Seed::uk_vat(),
        ..SapSimConfig::default()
    })
    .await
}

fn vat_order(num_at_card: &str, currency: &str, date: &str, line: Value) -> Value {
    json!({"CardCode": "C20000", "NumAtCard": num_at_card, "DocDate": date, "DocDueDate": date,
           "TaxDate": date, "DocCurrency": currency, "DocumentLines": [line]})
}

#[tokio::test]
async fn each_localization_takes_its_own_tax_field_and_refuses_the_other() {
    let uk = uk().await;
    let line = |field: &str, code: &str| json!({"ItemCode": "RACER", "Quantity": 1, "LineTotal": 100, field: code});
    let o = uk
        .create_order(&vat_order(
            "V-1",
            "GBP",
            "2026-11-02",
            line("VatGroup", "O1"),
        ))
        .await;
    assert_eq!(num(&o["VatSum"]), dec!(20));
    assert_eq!(o["DocumentLines"][0]["VatGroup"], "O1");
    let refused = uk
        .post(
            "Orders",
            &vat_order("V-2", "GBP", "2026-11-02", line("TaxCode", "O1")),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.error().1, "10000180 - Specify valid tax code");
    let groups = uk.get("VatGroups('O2')").await.json();
    assert_eq!(groups["VatGroups_Lines"][0]["Rate"], 5);
    let info = uk.post("CompanyService_GetAdminInfo", &json!({})).await;
    assert_eq!(info.json()["LocalCurrency"], "GBP");

    let us = Sl::start().await;
    let refused = us
        .post(
            "Orders",
            &vat_order("V-3", "USD", "2026-11-02", line("VatGroup", "US-MI")),
        )
        .await;
    assert!(
        refused.error().1.starts_with("Invalid VAT Group"),
        "{}",
        refused.text
    );
    assert_eq!(us.get("VatGroups").await.json()["value"], json!([]));
    let info = us.post("CompanyService_GetAdminInfo", &json!({})).await;
    assert_eq!(info.json()["LocalCurrency"], "USD");
}

#[tokio::test]
async fn a_foreign_currency_document_needs_the_day_s_rate_and_a_partner_that_takes_it() {
    let uk = uk().await;
    let line = json!({"ItemCode": "RACER", "Quantity": 1, "RowTotalFC": 100, "VatGroup": "O1"});
    let o = uk
        .create_order(&vat_order("E-1", "EUR", "2026-11-02", line.clone()))
        .await;
    // FC twins in EUR; local amounts in GBP at 0.8612.
    assert_eq!(num(&o["DocTotalFc"]), dec!(120));
    assert_eq!(num(&o["VatSumFc"]), dec!(20));
    assert_eq!(num(&o["DocumentLines"][0]["RowTotalFC"]), dec!(100));
    assert_eq!(num(&o["DocumentLines"][0]["LineTotal"]), dec!(86.12));
    assert_eq!(num(&o["VatSum"]), dec!(17.22));
    assert_eq!(num(&o["DocRate"]), dec!(0.8612));
    // No rate was entered for Christmas Day 2026.
    let refused = uk
        .post(
            "Orders",
            &vat_order("E-2", "EUR", "2026-12-25", line.clone()),
        )
        .await;
    assert!(
        refused.error().1.contains("exchange rate"),
        "{}",
        refused.text
    );
    // No rate at all for a currency the company never quoted.
    let refused = uk
        .post(
            "Orders",
            &vat_order("E-3", "USD", "2026-11-02", line.clone()),
        )
        .await;
    assert!(
        refused.error().1.contains("exchange rate"),
        "{}",
        refused.text
    );
    // The web guest partner is GBP only.
    let mut guest = vat_order("E-4", "EUR", "2026-11-02", line);
    guest["CardCode"] = json!("WEBGUEST");
    let refused = uk.post("Orders", &guest).await;
    assert!(
        refused
            .error()
            .1
            .contains("does not match the currency 'GBP'"),
        "{}",
        refused.text
    );
}

#[tokio::test]
async fn a_date_in_a_locked_posting_period_is_refused_with_sap_s_text() {
    let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let mut seed = Seed::us_sales_tax();
    seed.posting_periods = vec![
        PostingPeriod {
            code: "2026-10".into(),
            from: day("2026-10-01"),
            to: day("2026-10-31"),
            status: PeriodStatus::Locked,
        },
        PostingPeriod {
            code: "2026-11".into(),
            from: day("2026-11-01"),
            to: day("2026-11-30"),
            status: PeriodStatus::Unlocked,
        },
    ];
    let sl = Sl::start_with(SapSimConfig {
        seed,
        ..SapSimConfig::default()
    })
    .await;
    let line = json!({"ItemCode": "RACER", "Quantity": 1, "LineTotal": 10, "TaxCode": "EX"});
    sl.create_order(&vat_order("P-1", "USD", "2026-11-02", line.clone()))
        .await;
    for date in ["2026-10-31", "2026-12-01"] {
        let refused = sl
            .post("Orders", &vat_order("P-2", "USD", date, line.clone()))
            .await;
        assert_eq!(refused.error().0, -5002, "{date}");
        assert!(refused
            .error()
            .1
            .starts_with("10000156 - Posting Date deviates"));
    }
}

#[tokio::test]
async fn the_address_blocks_are_rebuilt_from_the_extension_and_a_sent_block_is_lost() {
    let sl = Sl::start().await;
    let body = json!({"CardCode": "WEBGUEST", "NumAtCard": "A-1",
        "Address2": "Jane Doe\rsent block", "Address": "sent bill block",
        "AddressExtension": {"ShipToBuilding": "Jane Doe, ACME", "ShipToStreet": "1 Main St",
                             "ShipToCity": "Calder", "ShipToZipCode": "49628", "ShipToState": "MI",
                             "ShipToCountry": "US"},
        "DocumentLines": [{"ItemCode": "RACER", "Quantity": 1, "LineTotal": 10, "TaxCode": "EX"}]});
    let o = sl.create_order(&body).await;
    assert_eq!(
        o["Address2"],
        "Jane Doe, ACME\r1 Main St\r49628 Calder MI\rUS"
    );
    assert_eq!(
        o["Address"],
        Value::Null,
        "no bill-to part: the block is empty"
    );
}
