//! The pipeline against the two company seeds the money rules are written for: a UK VAT
//! company in GBP taking GBP and EUR orders from a tax-inclusive store, and a US sales-tax
//! company with posting periods; dates in the store's time zone.
use super::*;
use b1bridge::sim::sap_b1::{PeriodStatus, PostingPeriod};
use chrono::NaiveDate;

pub(super) const UK_VAT_INCLUSIVE: &str = "constructed-order-guest-uk-vat-inclusive-coupon.json";

pub(super) async fn uk_pipeline(settings: Settings) -> Pipeline {
    let mut p = Pipeline::new(SapSimConfig {
        seed: Seed::uk_vat(),
        ..SapSimConfig::default()
    })
    .await;
    for (rate, group) in [("GB-VAT-20", "O1"), ("GB-VAT-5", "O2")] {
        p.map(
            MappingKind::TaxCodes,
            rate,
            json!({ "sap_tax_code": group }),
        )
        .await;
    }
    p.set_settings(&settings).await;
    p.start();
    p
}

#[tokio::test]
async fn a_uk_company_books_the_tax_inclusive_order_with_vat_groups_to_the_penny() {
    let mut p = uk_pipeline(Settings {
        store_timezone: "Europe/London".into(),
        ..Settings::default()
    })
    .await;
    p.place(&sample_as(UK_VAT_INCLUSIVE, "UK-1")).await;
    p.settle("UK-1").await;
    assert_eq!(
        p.order("UK-1").await.0,
        "posted",
        "{:?}",
        p.open_exceptions("UK-1").await
    );
    let doc = p.sim.orders().pop().unwrap();
    assert_eq!(doc.doc_currency, "GBP");
    assert_eq!((doc.doc_total, doc.vat_sum), (dec!(129.98), dec!(19.64)));
    assert!(doc.discount_percent.is_zero());
    let groups: Vec<_> = doc
        .document_lines
        .iter()
        .map(|l| (l.vat_group.clone(), l.tax_code.clone(), l.line_total))
        .collect();
    assert_eq!(
        groups,
        [
            (Some("O1".into()), None, dec!(89.98)),
            (Some("O2".into()), None, dec!(16.20))
        ]
    );
    let freight = &doc.document_additional_expenses[0];
    assert_eq!(
        (freight.vat_group.as_deref(), freight.tax_sum),
        (Some("O1"), dec!(0.83))
    );
    // The guest's name and company survive SAP's rebuild of the address blocks.
    assert!(
        doc.address2
            .as_deref()
            .is_some_and(|a| a.starts_with("Siobhán O'Neill, Bright Lane Ltd\r")),
        "{:?}",
        doc.address2
    );
    assert_eq!(doc.doc_date.to_string(), "2026-10-31");
    assert_eq!(doc.tax_date, doc.doc_date);
    assert!(p.open_exceptions("UK-1").await.is_empty());
    p.stop().await;
}

#[tokio::test]
async fn a_eur_order_posts_in_the_fc_fields_on_a_partner_that_takes_any_currency() {
    let mut p = uk_pipeline(Settings {
        guest_policy: GuestPolicy::PerEmail,
        ..Settings::default()
    })
    .await;
    let mut order = sample_as(UK_VAT_INCLUSIVE, "EU-1");
    order["order_currency_code"] = json!("EUR");
    p.place(&order).await;
    p.settle("EU-1").await;
    assert_eq!(
        p.order("EU-1").await.0,
        "posted",
        "{:?}",
        p.open_exceptions("EU-1").await
    );
    let doc = p.sim.orders().pop().unwrap();
    assert_eq!(doc.doc_currency, "EUR");
    assert_eq!(
        (doc.doc_total_fc, doc.vat_sum_fc),
        (dec!(129.98), dec!(19.64))
    );
    assert_eq!(doc.document_lines[0].row_total_fc, dec!(89.98));
    // Local amounts at the day's rate (0.8612 GBP per EUR).
    assert_eq!(doc.document_lines[0].line_total, dec!(77.49));
    let partner = p.sim.business_partner(&doc.card_code).unwrap();
    assert_eq!(partner.currency.as_deref(), Some("##"));
    assert!(p.open_exceptions("EU-1").await.is_empty());

    // On the GBP-only shared guest partner SAP refuses a EUR document; the order waits
    // with SAP's words rather than being posted in the wrong currency.
    p.set_settings(&Settings::default()).await;
    let mut order = sample_as(UK_VAT_INCLUSIVE, "EU-2");
    order["order_currency_code"] = json!("EUR");
    order["customer_email"] = json!("another.guest@example.ie");
    p.place(&order).await;
    p.settle("EU-2").await;
    assert_eq!(p.sim.orders_by_num_at_card("EU-2"), 0);
    let open = p.open_exceptions("EU-2").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(open[0].title.contains("EU-2"), "{}", open[0].title);
    assert!(
        open[0]
            .sap_error
            .as_ref()
            .is_some_and(|e| e.message.contains("does not match the currency 'GBP'")),
        "{open:?}"
    );
    p.stop().await;
}

#[tokio::test]
async fn the_store_s_day_decides_the_date_and_a_locked_period_is_an_exception_that_says_so() {
    let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let mut seed = Seed::us_sales_tax();
    seed.posting_periods = vec![
        PostingPeriod {
            code: "2026-10".into(),
            from: day("2026-10-01"),
            to: day("2026-10-31"),
            status: PeriodStatus::UnlockedExceptSales,
        },
        PostingPeriod {
            code: "2026-11".into(),
            from: day("2026-11-01"),
            to: day("2026-11-30"),
            status: PeriodStatus::Unlocked,
        },
    ];
    let mut p = Pipeline::new(SapSimConfig {
        seed,
        ..SapSimConfig::default()
    })
    .await;
    p.set_settings(&Settings {
        store_timezone: "America/New_York".into(),
        ..Settings::default()
    })
    .await;
    p.start();
    // 23:30 in New York on 31 October is 03:30 UTC on 1 November.
    let mut order = sample_as(CONFIGURABLE_TAX, "NY-1");
    order["created_at"] = json!("2026-11-01 03:30:00");
    p.place(&order).await;
    p.settle("NY-1").await;
    assert_eq!(p.sim.orders_by_num_at_card("NY-1"), 0);
    let open = p.open_exceptions("NY-1").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        open[0].title,
        "Order NY-1: SAP B1's posting period for 2026-10-31 is closed, so the Sales Order cannot be dated"
    );
    assert!(open[0].detail.contains("store_timezone"));
    assert_eq!(open[0].sap_error.as_ref().unwrap().code, -5002);

    // The same moment in a UTC store is 1 November, an open period.
    p.set_settings(&Settings::default()).await;
    let mut order = sample_as(CONFIGURABLE_TAX, "UTC-1");
    order["created_at"] = json!("2026-11-01 03:30:00");
    p.place(&order).await;
    p.settle("UTC-1").await;
    assert_eq!(p.order("UTC-1").await.0, "posted");
    let doc = p.sim.orders().pop().unwrap();
    assert_eq!(doc.doc_date.to_string(), "2026-11-01");
    p.stop().await;
}
