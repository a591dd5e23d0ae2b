//! The money rules of a Sales Order across localizations, currencies, tax-inclusive prices
//! and time zones (docs/sap-document-calculation.md), on real and constructed Magento orders.
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::samples::{
    self, every_item_sellable, order, starter_mappings, uk_company, uk_mappings, us_company,
};
use super::{build_checked_draft, build_draft, check_before_posting, resolve_lines};
use crate::domain::company::{CompanyFacts, TaxLocalization};
use crate::domain::exception::Category;
use crate::domain::ids::{CardCode, TaxCode};
use crate::domain::mappings::{MappingValue, Mappings, TaxCodeMapping};
use crate::domain::money::Currency;
use crate::domain::order::Order;
use crate::domain::sales_order::SalesOrderDraft;
use crate::domain::settings::{Settings, TaxStrategy};

fn card() -> CardCode {
    CardCode::parse("WEBGUEST").unwrap()
}

fn tax(code: &str) -> TaxCode {
    TaxCode::parse(code).unwrap()
}

#[allow(clippy::result_large_err)]
fn draft_of(
    o: &Order,
    m: &Mappings,
    s: &Settings,
    c: &CompanyFacts,
) -> Result<SalesOrderDraft, crate::domain::exception::NewException> {
    let lines = resolve_lines(o, m, s, every_item_sellable).unwrap();
    build_draft(o, card(), &lines, m, s, c)
}

fn map_rate(m: &mut Mappings, key: &str, code: &str) {
    m.insert(
        key,
        MappingValue::TaxCode(TaxCodeMapping {
            sap_tax_code: tax(code),
            rate_percent: None,
        }),
    )
    .unwrap();
}

#[test]
fn a_tax_inclusive_order_posts_net_amounts_and_tax_to_the_cent() {
    let o = order(samples::UK_VAT_INCLUSIVE);
    assert_eq!(o.lines[0].discount_tax_compensation, dec!(2));
    let d = draft_of(&o, &uk_mappings(), &Settings::default(), &uk_company()).unwrap();
    let nets: Vec<Decimal> = d.lines.iter().map(|l| l.line_total).collect();
    assert_eq!(
        nets,
        [dec!(89.98), dec!(16.20)],
        "gross − gross discount + its tax"
    );
    // The discount percentage is taken on the net row: 10 % of 99.98 is 10.00 (the gross
    // discount less its tax), which reproduces the net line total.
    assert_eq!(d.lines[0].discount_percent, Some(dec!(10.0020)));
    assert_eq!(d.lines[1].discount_percent, Some(dec!(10)));
    assert_eq!(d.expenses[0].line_total, dec!(4.16));
    let codes: Vec<&str> = d.lines.iter().map(|l| l.tax_code.as_str()).collect();
    assert_eq!(codes, ["O1", "O2"], "each line its own rate (20 % and 5 %)");
    assert_eq!(d.expenses[0].tax_code, tax("O1"), "the shipping's own rate");
    assert_eq!(d.tax_localization, TaxLocalization::Vat);
    assert!(!d.foreign_currency);
    let t = check_before_posting(&o, &d, &uk_company(), Decimal::ZERO).unwrap();
    assert_eq!(
        (t.net, t.vat_sum, t.doc_total),
        (dec!(110.34), dec!(19.64), dec!(129.98))
    );
    assert_eq!(o.computed_grand_total(), o.totals.grand_total);
    // The guest's name and company are on the address, for the extension's building field.
    let ship_to = d.address_extension.ship_to.unwrap();
    assert_eq!(
        ship_to.name.as_deref(),
        Some("Siobhán O'Neill, Bright Lane Ltd")
    );
}

#[test]
fn a_multi_rate_order_with_taxed_shipping_posts_instead_of_parking() {
    // Before the shipping's own rate was read, a taxed shipping on an order with two rates
    // (20 % and 5 %) had no single order rate to fall back on and parked.
    let o = order(samples::UK_VAT_INCLUSIVE);
    assert_eq!(o.applied_taxes.len(), 2);
    assert_eq!(o.shipping.as_ref().unwrap().tax_rates, ["GB-VAT-20"]);
    assert!(draft_of(&o, &uk_mappings(), &Settings::default(), &uk_company()).is_ok());
}

#[test]
fn the_shipping_takes_its_own_rate_over_the_shipping_method_mapping() {
    // A store shipping to Ireland charges Irish VAT on the freight; the carrier's mapping
    // names the UK code, which is only the fallback.
    let mut v: serde_json::Value = serde_json::from_str(samples::UK_VAT_INCLUSIVE).unwrap();
    v["extension_attributes"]["item_applied_taxes"][2]["applied_taxes"][0]["code"] =
        "IE-VAT-23".into();
    let o = crate::magento::order::normalise(&v).unwrap();
    let mut m = uk_mappings();
    m.insert(
        "flatrate_flatrate",
        MappingValue::ShippingMethod(crate::domain::mappings::ShippingMethodMapping {
            expense_code: 1,
            tax_code: Some(tax("O1")),
        }),
    )
    .unwrap();
    let d = draft_of(&o, &m, &Settings::default(), &uk_company()).unwrap();
    assert_eq!(d.expenses[0].tax_code, tax("IE23"));
    // Without a shipping entry, the mapping's code is used.
    let mut v2: serde_json::Value = serde_json::from_str(samples::UK_VAT_INCLUSIVE).unwrap();
    v2["extension_attributes"]["item_applied_taxes"]
        .as_array_mut()
        .unwrap()
        .truncate(2);
    let o2 = crate::magento::order::normalise(&v2).unwrap();
    let d2 = draft_of(&o2, &m, &Settings::default(), &uk_company()).unwrap();
    assert_eq!(d2.expenses[0].tax_code, tax("O1"));
}

#[test]
fn stacked_rates_on_one_line_map_as_one_combination() {
    // A Los Angeles order: California 7.25 % and LA County 2.25 % on the same line.
    let mut v: serde_json::Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/magento/rest-order-registered-configurable-multiitem-tax.json"
    ))
    .unwrap();
    for entry in v["extension_attributes"]["item_applied_taxes"]
        .as_array_mut()
        .unwrap()
    {
        entry["applied_taxes"] = serde_json::json!([
            {"code": "US-CA-LA-County", "percent": 2.25, "amount": 1},
            {"code": "US-CA-*-Rate 1", "percent": 7.25, "amount": 1}
        ]);
    }
    let o = crate::magento::order::normalise(&v).unwrap();
    assert_eq!(o.lines[0].tax_rates, ["US-CA-LA-County", "US-CA-*-Rate 1"]);
    let mut m = starter_mappings();
    let e = draft_of(&o, &m, &Settings::default(), &us_company()).unwrap_err();
    assert_eq!(e.category, Category::TotalMismatch);
    assert!(
        e.title.contains("rates 'US-CA-*-Rate 1 + US-CA-LA-County'"),
        "{}",
        e.title
    );
    // Mapping one rate alone does not do: the line pays both.
    map_rate(&mut m, "US-CA-*-Rate 1", "US-CA");
    assert!(draft_of(&o, &m, &Settings::default(), &us_company()).is_err());
    map_rate(&mut m, "US-CA-*-Rate 1 + US-CA-LA-County", "CA-LA");
    let d = draft_of(&o, &m, &Settings::default(), &us_company()).unwrap();
    assert!(d.lines.iter().all(|l| l.tax_code == tax("CA-LA")));
}

#[test]
fn dates_are_the_store_s_day_not_utc() {
    // 23:30 in New York on 31 October is 03:30 UTC on 1 November.
    let mut o = order(samples::CONFIGURABLE_TAX);
    o.created_at = "2026-11-01T03:30:00Z".parse().unwrap();
    let utc = draft_of(&o, &starter_mappings(), &Settings::default(), &us_company()).unwrap();
    assert_eq!(utc.doc_date.to_string(), "2026-11-01");
    let ny = Settings {
        store_timezone: "America/New_York".into(),
        ..Settings::default()
    };
    let d = draft_of(&o, &starter_mappings(), &ny, &us_company()).unwrap();
    assert_eq!(d.doc_date.to_string(), "2026-10-31");
    assert_eq!(d.tax_date, d.doc_date);
    assert_eq!(d.doc_due_date, d.doc_date);
}

#[test]
fn sap_s_per_line_rounding_is_held_before_posting_naming_each_line() {
    // Order 15: Magento 4.55 + 14.79 = 19.34 (it carries the sub-cent); SAP 4.55 + 14.78.
    let o = order(samples::DISCOUNT_TAX);
    let s = Settings::default();
    let lines = resolve_lines(&o, &starter_mappings(), &s, every_item_sellable).unwrap();
    let e = build_checked_draft(&o, card(), &lines, &starter_mappings(), &s, &us_company())
        .unwrap_err();
    assert_eq!(e.category, Category::TotalMismatch);
    assert_eq!(
        e.title,
        "Order 000000015 not posted: SAP B1 would book other figures than Magento \
         (total: SAP 253.73 vs Magento 253.74 USD; tax: SAP 19.33 vs Magento 19.34 USD)"
    );
    assert!(
        e.detail
            .contains("SKU 'RACER' net 179.2 at US-MI (8.25 %): SAP 14.78 vs Magento 14.79"),
        "{}",
        e.detail
    );
    assert_eq!(e.skus, ["RACER"]);
    assert_eq!(e.context["lines"][1]["sap_tax"].to_string(), "14.78");
    // A cent of tolerance lets it through; so does sending Magento's line tax.
    let tolerant = Settings {
        total_tolerance: dec!(0.01),
        ..Settings::default()
    };
    assert!(build_checked_draft(
        &o,
        card(),
        &lines,
        &starter_mappings(),
        &tolerant,
        &us_company()
    )
    .is_ok());
    let line_tax = Settings {
        tax_strategy: TaxStrategy::MagentoLineTax,
        ..Settings::default()
    };
    let d = build_checked_draft(
        &o,
        card(),
        &lines,
        &starter_mappings(),
        &line_tax,
        &us_company(),
    )
    .unwrap();
    assert!(d.send_line_tax);
}

#[test]
fn a_tax_code_the_company_does_not_have_is_held_before_posting() {
    let o = order(samples::CONFIGURABLE_TAX);
    let d = draft_of(&o, &starter_mappings(), &Settings::default(), &us_company()).unwrap();
    let e = check_before_posting(&o, &d, &uk_company(), Decimal::ZERO).unwrap_err();
    assert_eq!(
        e.title,
        "Order 000000013: SAP B1 has no active VatGroup 'US-MI' with a rate"
    );
}

#[test]
fn an_order_in_another_currency_is_a_foreign_currency_document() {
    let mut o = order(samples::UK_VAT_INCLUSIVE);
    o.currency = Currency::parse("EUR").unwrap();
    let d = draft_of(&o, &uk_mappings(), &Settings::default(), &uk_company()).unwrap();
    assert!(d.foreign_currency);
    assert_eq!(d.currency.as_str(), "EUR");
    // Magento's line tax cannot be sent in a foreign currency (no FC twin of `TaxTotal` is
    // known), so SAP computes and the check before posting decides.
    let s = Settings {
        tax_strategy: TaxStrategy::MagentoLineTax,
        ..Settings::default()
    };
    assert!(
        !draft_of(&o, &uk_mappings(), &s, &uk_company())
            .unwrap()
            .send_line_tax
    );
}
