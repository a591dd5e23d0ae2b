//! Property: for generated Magento orders (line and cart discounts, several rates, stacked
//! rates, free shipping, tax-inclusive prices, foreign currency) on a UK VAT company and a US
//! sales-tax company, either what the simulator books equals Magento's grand total and tax to
//! the cent, or b1bridge holds the order as `total_mismatch` before anything is created.
//! Runs the domain rules and the simulator's booking in process (no HTTP, no Postgres), so
//! hundreds of orders take a second.
use b1bridge::domain::company::{CompanyFacts, TaxLocalization};
use b1bridge::domain::exception::Category;
use b1bridge::domain::ids::{CardCode, TaxCode};
use b1bridge::domain::mapping::{build_checked_draft, resolve_lines};
use b1bridge::domain::mappings::{MappingValue, Mappings, TaxCodeMapping};
use b1bridge::domain::money::{round_cents, Currency};
use b1bridge::domain::sales_order::ItemFacts;
use b1bridge::domain::settings::{Settings, TaxStrategy};
use b1bridge::magento::order::normalise;
use b1bridge::sap::types::NewSalesOrder;
use b1bridge::sim::sap_b1::{SapSimConfig, SapSimState, Seed};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A Magento rate: the codes Magento lists on a line, their combined percentage, and the SAP
/// code the mapping gives them.
#[derive(Debug, Clone)]
struct Rate {
    magento: &'static [&'static str],
    percent: Decimal,
    sap: &'static str,
}

fn rate(magento: &'static [&'static str], percent: &str, sap: &'static str) -> Rate {
    Rate {
        magento,
        percent: percent.parse().unwrap(),
        sap,
    }
}

struct Company {
    seed: Seed,
    facts: CompanyFacts,
    rates: Vec<Rate>,
    currencies: &'static [&'static str],
}

fn uk() -> Company {
    Company {
        seed: Seed::uk_vat(),
        facts: facts(
            TaxLocalization::Vat,
            "GBP",
            &[("O1", "20"), ("O2", "5"), ("O0", "0"), ("EX", "0")],
        ),
        rates: vec![
            rate(&["GB-VAT-20"], "20", "O1"),
            rate(&["GB-VAT-5"], "5", "O2"),
            rate(&["GB-ZERO"], "0", "O0"),
        ],
        currencies: &["GBP", "EUR"],
    }
}

fn us() -> Company {
    Company {
        seed: Seed::us_sales_tax(),
        facts: facts(
            TaxLocalization::SalesTax,
            "USD",
            &[("US-MI", "8.25"), ("CA-LA", "9.5"), ("EX", "0")],
        ),
        rates: vec![
            rate(&["US-MI-*-Rate 1"], "8.25", "US-MI"),
            rate(&["US-CA-*-Rate 1", "US-CA-LA-County"], "9.5", "CA-LA"),
        ],
        currencies: &["USD"],
    }
}

fn facts(localization: TaxLocalization, currency: &str, rates: &[(&str, &str)]) -> CompanyFacts {
    CompanyFacts {
        localization,
        local_currency: Currency::parse(currency).unwrap(),
        tax_rates: rates
            .iter()
            .map(|(c, r)| (c.to_string(), r.parse().unwrap()))
            .collect(),
    }
}

fn mappings(company: &Company) -> Mappings {
    let mut m = Mappings::default();
    for r in &company.rates {
        let key = Mappings::rates_key(&r.magento.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        m.insert(
            &key,
            MappingValue::TaxCode(TaxCodeMapping {
                sap_tax_code: TaxCode::parse(r.sap).unwrap(),
                rate_percent: None,
            }),
        )
        .unwrap();
    }
    m
}

/// One generated line: SKU index, quantity, price in cents, rate index, discount percent.
#[derive(Debug, Clone)]
struct GenLine {
    sku: usize,
    qty: u32,
    cents: i64,
    rate: usize,
    discount: u32,
}

#[derive(Debug, Clone)]
struct GenOrder {
    lines: Vec<GenLine>,
    tax_inclusive: bool,
    shipping_cents: i64,
    free_shipping: bool,
    currency: usize,
}

const SKUS: [&str; 6] = [
    "MH09-XS-Blue",
    "RACER",
    "24-WG084",
    "WP13-28-Blue",
    "24-MB01",
    "24-WG088",
];

fn gen_order() -> impl Strategy<Value = GenOrder> {
    let line = (
        0..SKUS.len(),
        1u32..6,
        1i64..25_000,
        0usize..3,
        prop_oneof![Just(0u32), Just(10), Just(15), Just(33), Just(50)],
    )
        .prop_map(|(sku, qty, cents, rate, discount)| GenLine {
            sku,
            qty,
            cents,
            rate,
            discount,
        });
    (
        proptest::collection::vec(line, 1..6),
        any::<bool>(),
        0i64..2_500,
        any::<bool>(),
        0usize..2,
    )
        .prop_map(
            |(lines, tax_inclusive, shipping_cents, free_shipping, currency)| GenOrder {
                lines,
                tax_inclusive,
                shipping_cents,
                free_shipping,
                currency,
            },
        )
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

fn num(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap()
}

/// Magento's arithmetic for the generated order: prices net or gross, discounts on the
/// price as shown (gross in a tax-inclusive store, with the discount's tax given back as
/// `discount_tax_compensation_amount`), tax per line with the sub-cent remainder carried to
/// the next line of the same rate (Magento's total-based rounding).
fn magento_order(g: &GenOrder, company: &Company) -> Value {
    let hundred = Decimal::ONE_HUNDRED;
    let mut carry: HashMap<usize, Decimal> = HashMap::new();
    let (mut subtotal, mut discount_total, mut comp_total, mut tax_total) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut items = Vec::new();
    let mut item_taxes = Vec::new();
    for (i, l) in g.lines.iter().enumerate() {
        let r = &company.rates[l.rate % company.rates.len()];
        let factor = r.percent / hundred;
        let qty = Decimal::from(l.qty);
        let shown = cents(l.cents);
        let (price, row_total, row_incl, discount, comp, base) = if g.tax_inclusive {
            let row_incl = shown * qty;
            let row_total = round_cents(row_incl / (Decimal::ONE + factor));
            let discount = round_cents(row_incl * Decimal::from(l.discount) / hundred);
            let comp = round_cents(discount - discount / (Decimal::ONE + factor));
            let price = round_cents(shown / (Decimal::ONE + factor));
            // Tax is the tax part of the gross after discount.
            let base = (row_incl - discount) * factor / (Decimal::ONE + factor);
            (price, row_total, row_incl, discount, comp, base)
        } else {
            let row_total = shown * qty;
            let discount = round_cents(row_total * Decimal::from(l.discount) / hundred);
            let base = (row_total - discount) * factor;
            (
                shown,
                row_total,
                Decimal::ZERO,
                discount,
                Decimal::ZERO,
                base,
            )
        };
        let exact = base + carry.get(&l.rate).copied().unwrap_or_default();
        let tax = round_cents(exact);
        carry.insert(l.rate, exact - tax);
        subtotal += row_total;
        discount_total += discount;
        comp_total += comp;
        tax_total += tax;
        let item_id = 1000 + i as i64;
        items.push(json!({
            "item_id": item_id, "sku": SKUS[l.sku], "name": SKUS[l.sku], "product_type": "simple",
            "qty_ordered": l.qty, "price": num(price), "row_total": num(row_total),
            "price_incl_tax": num(if g.tax_inclusive { shown } else { price }),
            "row_total_incl_tax": num(if g.tax_inclusive { row_incl } else { row_total + tax }),
            "discount_amount": num(discount), "discount_percent": l.discount,
            "discount_tax_compensation_amount": num(comp),
            "tax_amount": num(tax), "tax_percent": num(r.percent),
        }));
        item_taxes.push(json!({
            "type": "product", "item_id": item_id,
            "applied_taxes": r.magento.iter().map(|c| json!({"code": c, "amount": num(tax)})).collect::<Vec<_>>(),
        }));
    }
    let ship_rate = &company.rates[0];
    let shipping_shown = if g.free_shipping {
        Decimal::ZERO
    } else {
        cents(g.shipping_cents)
    };
    let factor = ship_rate.percent / hundred;
    let (shipping_amount, shipping_tax) = if g.tax_inclusive {
        let net = round_cents(shipping_shown / (Decimal::ONE + factor));
        (net, shipping_shown - net)
    } else {
        (shipping_shown, round_cents(shipping_shown * factor))
    };
    tax_total += shipping_tax;
    if !shipping_tax.is_zero() {
        item_taxes.push(json!({"type": "shipping", "item_id": null,
            "applied_taxes": ship_rate.magento.iter().map(|c| json!({"code": c})).collect::<Vec<_>>()}));
    }
    let grand_total = subtotal + shipping_amount + tax_total - discount_total + comp_total;
    json!({
        "increment_id": "900000001", "created_at": "2026-11-02 10:00:00",
        "order_currency_code": company.currencies[g.currency % company.currencies.len()],
        "customer_email": "prop@example.com", "customer_id": 1, "customer_is_guest": 0,
        "subtotal": num(subtotal), "discount_amount": num(-discount_total),
        "discount_tax_compensation_amount": num(comp_total),
        "shipping_amount": num(shipping_amount), "shipping_tax_amount": num(shipping_tax),
        "shipping_incl_tax": num(shipping_shown), "shipping_description": "Flat Rate - Fixed",
        "tax_amount": num(tax_total), "grand_total": num(grand_total),
        "items": items,
        "extension_attributes": {
            "shipping_assignments": [{"shipping": {"method": "flatrate_flatrate", "address": {
                "firstname": "Prop", "lastname": "Test", "street": ["1 Test St"], "city": "Leeds",
                "postcode": "LS1 1AA", "country_id": "GB"}}}],
            "item_applied_taxes": item_taxes,
        },
    })
}

fn sellable(_: &b1bridge::domain::ids::ItemCode) -> Option<ItemFacts> {
    Some(ItemFacts {
        exists: true,
        valid: true,
        frozen: false,
        sales_item: true,
        serial_managed: false,
        batch_managed: false,
    })
}

/// Runs `cases` generated orders on `company`; returns (booked, held).
fn run(company: Company, strategy: TaxStrategy, cases: u32) -> (u32, u32) {
    let sim = SapSimState::new(SapSimConfig {
        seed: company.seed.clone(),
        ..SapSimConfig::default()
    })
    .unwrap();
    let mappings = mappings(&company);
    let settings = Settings {
        tax_strategy: strategy,
        ..Settings::default()
    };
    let counts = std::cell::Cell::new((0u32, 0u32));
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let n = std::cell::Cell::new(0u32);
    runner
        .run(&gen_order(), |g| {
            n.set(n.get() + 1);
            let mut json = magento_order(&g, &company);
            json["increment_id"] = json!(format!("P{:07}", n.get()));
            let order = normalise(&json).expect("generated orders normalise");
            let lines = resolve_lines(&order, &mappings, &settings, sellable).unwrap();
            let card = CardCode::parse("C20000").unwrap();
            match build_checked_draft(&order, card, &lines, &mappings, &settings, &company.facts) {
                Err(e) => {
                    prop_assert_eq!(e.category, Category::TotalMismatch, "{}", e.title);
                    prop_assert_eq!(sim.orders_by_num_at_card(order.increment_id.as_str()), 0);
                    let (b, h) = counts.get();
                    counts.set((b, h + 1));
                }
                Ok(draft) => {
                    let body = serde_json::to_value(NewSalesOrder::from(&draft)).unwrap();
                    let doc = sim.post_order(&body).map_err(|e| {
                        TestCaseError::fail(format!("SAP refused {body}: {}", e.message))
                    })?;
                    let foreign = !doc.doc_total_fc.is_zero()
                        || doc.doc_currency != company.facts.local_currency.as_str();
                    let (total, tax) = if foreign {
                        (doc.doc_total_fc, doc.vat_sum_fc)
                    } else {
                        (doc.doc_total, doc.vat_sum)
                    };
                    prop_assert_eq!(
                        total,
                        round_cents(order.totals.grand_total),
                        "DocTotal of {}",
                        body
                    );
                    prop_assert_eq!(
                        tax,
                        round_cents(order.totals.tax_amount),
                        "VatSum of {}",
                        body
                    );
                    prop_assert!(doc.discount_percent.is_zero());
                    let (b, h) = counts.get();
                    counts.set((b + 1, h));
                }
            }
            Ok(())
        })
        .unwrap();
    counts.get()
}

#[test]
fn uk_orders_are_booked_to_the_penny_or_held_before_posting() {
    let (booked, held) = run(uk(), TaxStrategy::SapComputes, 300);
    // Both outcomes occur: Magento's carried sub-cents make SAP's own rounding differ.
    assert!(booked > 50 && held > 0, "booked {booked}, held {held}");
}

#[test]
fn us_orders_are_booked_to_the_penny_or_held_before_posting() {
    let (booked, held) = run(us(), TaxStrategy::SapComputes, 300);
    assert!(booked > 50 && held > 0, "booked {booked}, held {held}");
}

#[test]
fn with_magentos_line_tax_local_currency_orders_are_always_booked() {
    // SAP keeps the tax it is sent, so nothing is held for rounding; EUR orders still go by
    // SAP's own arithmetic (and may be held).
    let (booked, _) = run(us(), TaxStrategy::MagentoLineTax, 200);
    assert_eq!(booked, 200);
}
