//! The Sales Order document. Magento is the source of truth for money: each line carries
//! Magento's discounted net amount as `LineTotal` (`RowTotalFC` in a foreign currency),
//! shipping (net of its discount) is a freight expense, and tax codes come from the
//! tax-codes mapping of the rate(s) Magento applied to that very line or to the shipping.
//! The document's dates are the order's day in the store's time zone.
use rust_decimal::Decimal;
use serde_json::json;

use super::address::document_address;
use super::lines::ResolvedLine;
use super::{json_number, order_exception, truncate, TAX_CODES_API};
use crate::domain::company::CompanyFacts;
use crate::domain::exception::{Category, NewException};
use crate::domain::ids::{CardCode, TaxCode};
use crate::domain::mappings::Mappings;
use crate::domain::order::{Order, OrderLine, Shipping};
use crate::domain::sales_order::{AddressExtension, DraftExpense, DraftLine, SalesOrderDraft};
use crate::domain::settings::{Settings, TaxStrategy};

/// Builds the document for `card_code` from lines that [`super::resolve_lines`] accepted.
/// Fails with `total_mismatch` when taxed amounts have no SAP tax code (SAP would compute a
/// different tax), or `address_invalid` when a shared-guest order has no address at all.
/// (The error is a whole exception on a path taken once per order: its size is deliberate.)
#[allow(clippy::result_large_err)]
pub fn build_draft(
    order: &Order,
    card_code: CardCode,
    lines: &[ResolvedLine],
    mappings: &Mappings,
    settings: &Settings,
    company: &CompanyFacts,
) -> Result<SalesOrderDraft, NewException> {
    let shared_guest = card_code == settings.guest_card_code;
    if shared_guest && order.shipping_address.is_none() && order.billing_address.is_none() {
        return Err(order_exception(
            order,
            Category::AddressInvalid,
            Vec::new(),
            format!(
                "Order {} on the shared guest Business Partner has no address",
                order.increment_id
            ),
            format!(
                "The order would be posted on {card_code}, whose master data belongs to no \
                 customer, so the order's own addresses must be on the document, and Magento \
                 sent none. Add the address in SAP B1 and post the order by hand, then resolve \
                 the exception."
            ),
            json!({ "card_code": card_code.as_str() }),
        ));
    }

    let warehouse = mappings
        .order_default_warehouse()
        .unwrap_or_else(|| settings.default_warehouse.clone());
    let mut unmapped_tax = Vec::new();
    let mut draft_lines = Vec::with_capacity(lines.len());
    for r in lines {
        let tax_code = match line_tax_code(order, &r.line, mappings, settings) {
            Ok(code) => code,
            Err(rate) => {
                unmapped_tax.push(TaxGap {
                    what: format!("SKU '{}'", r.line.sku),
                    sku: Some(r.line.sku.to_string()),
                    tax: r.line.tax_amount,
                    rate,
                });
                continue;
            }
        };
        let (unit_price, discount_percent) = price_and_discount(&r.line);
        draft_lines.push(DraftLine {
            item_code: r.item_code.clone(),
            sku: r.line.sku.clone(),
            description: r.line.name.as_deref().map(|n| truncate(n.trim(), 100)),
            quantity: r.line.qty,
            unit_price,
            discount_percent,
            line_total: r.line.net_total(),
            tax_code,
            tax_amount: r.line.tax_amount,
            warehouse_code: warehouse.clone(),
            magento_item_id: r.line.magento_item_id,
        });
    }

    let mut expenses = Vec::new();
    if let Some(shipping) = order.shipping.as_ref().filter(|s| !s.amount.is_zero()) {
        match shipping_expense(order, shipping, mappings, settings) {
            Ok(expense) => expenses.push(expense),
            Err(rate) => unmapped_tax.push(TaxGap {
                what: format!(
                    "shipping '{}'",
                    shipping.method.as_deref().unwrap_or("unknown method")
                ),
                sku: None,
                tax: shipping.tax_amount,
                rate,
            }),
        }
    }
    if !unmapped_tax.is_empty() {
        return Err(tax_gap_exception(order, unmapped_tax));
    }

    let payment = order
        .payment
        .as_ref()
        .and_then(|p| mappings.payment_method(&p.method));
    let mut comments = format!("Magento order #{}", order.increment_id);
    if let Some(coupon) = &order.coupon_code {
        comments.push_str(&format!(" · coupon {coupon}"));
    }
    if shared_guest {
        comments.push_str(&format!(" · guest {}", order.customer.email.trim()));
    }
    if let Some(note) = payment.and_then(|p| p.comment.as_deref()) {
        comments.push_str(&format!(" · {}", note.trim()));
    }

    // Magento sends UTC; the order's day is the day in the store's time zone (23:30 in New
    // York on the 31st is 04:30 UTC on the 1st, and belongs to the 31st).
    let doc_date = order
        .created_at
        .with_timezone(&settings.time_zone())
        .date_naive();
    let foreign_currency = company.is_foreign(&order.currency);
    Ok(SalesOrderDraft {
        card_code,
        doc_date,
        doc_due_date: doc_date,
        tax_date: doc_date,
        num_at_card: order.increment_id.clone(),
        currency: order.currency.clone(),
        foreign_currency,
        tax_localization: company.localization,
        send_line_tax: settings.tax_strategy == TaxStrategy::MagentoLineTax && !foreign_currency,
        comments: truncate(&comments, 254),
        expected_doc_total: order.totals.grand_total,
        expected_vat_sum: order.totals.tax_amount,
        address_extension: AddressExtension {
            ship_to: order.shipping_address.as_ref().map(document_address),
            bill_to: order.billing_address.as_ref().map(document_address),
        },
        payment_method: payment.and_then(|p| p.sap_payment_method.clone()),
        lines: draft_lines,
        expenses,
    })
}

/// [`build_draft`], then [`super::check_before_posting`] with the settings' tolerance: the
/// document, or the exception that says why it must not be created.
#[allow(clippy::result_large_err)]
pub fn build_checked_draft(
    order: &Order,
    card_code: CardCode,
    lines: &[ResolvedLine],
    mappings: &Mappings,
    settings: &Settings,
    company: &CompanyFacts,
) -> Result<SalesOrderDraft, NewException> {
    let draft = build_draft(order, card_code, lines, mappings, settings, company)?;
    super::check_before_posting(order, &draft, company, settings.total_tolerance)?;
    Ok(draft)
}

/// `UnitPrice` before discount and the `DiscountPercent` that yields Magento's net amount.
/// A fully discounted line is posted at price 0 without a discount instead, because SAP
/// refuses a discount of 100 % ("Enter a discount percentage of less than 100", SAP note
/// 3697554). The percentage is rounded to 4 places; `LineTotal` carries the exact amount.
/// A tax-inclusive store's discount is gross; its net part is what the percentage uses.
fn price_and_discount(line: &OrderLine) -> (Decimal, Option<Decimal>) {
    if line.net_discount().is_zero() || line.row_total.is_zero() {
        return (line.unit_price, None);
    }
    if line.net_total() <= Decimal::ZERO {
        return (Decimal::ZERO, None);
    }
    let percent = (line.net_discount() * Decimal::ONE_HUNDRED / line.row_total).round_dp(4);
    (line.unit_price, Some(percent.normalize()))
}

/// The SAP tax code of a line: the rate(s) Magento applied to that line through the
/// tax-codes mapping (stacked rates, such as a US state and county rate, as one combination
/// key, see [`Mappings::tax_code_for_rates`]); a taxed line that names no rate uses the
/// order's only rate, else a mapping with its percentage; an untaxed line without a mapped
/// rate uses the exempt code. `Err` describes the rate that needs a mapping.
fn line_tax_code(
    order: &Order,
    line: &OrderLine,
    mappings: &Mappings,
    settings: &Settings,
) -> Result<TaxCode, String> {
    let taxed = !line.tax_amount.is_zero();
    let rates: Vec<String> = if line.tax_rates.is_empty() {
        taxed
            .then(|| only_order_rate(order))
            .flatten()
            .into_iter()
            .collect()
    } else {
        line.tax_rates.clone()
    };
    if let Some(code) = mappings.tax_code_for_rates(&rates) {
        return Ok(code.clone());
    }
    if !taxed {
        return Ok(settings.tax_exempt_code.clone());
    }
    // The percentage identifies a code only when Magento named no rate: named rates that are
    // not mapped must be mapped, never replaced by another rate of the same percentage.
    if let Some(code) = line
        .tax_percent
        .filter(|_| rates.is_empty())
        .and_then(|p| mappings.tax_code_for_percent(p))
    {
        return Ok(code.clone());
    }
    Err(describe_rates(&rates, line.tax_percent))
}

/// Shipping as freight: the mapped expense code (else the default), net of Magento's
/// shipping discount. Taxed shipping takes the tax code of the rate(s) Magento applied to
/// the shipping itself (the `type: "shipping"` entry), so a store shipping to several
/// countries books each order's own VAT; the shipping-method mapping's tax code is only the
/// fallback for orders that report no shipping rate, and after it the order's only rate.
fn shipping_expense(
    order: &Order,
    shipping: &Shipping,
    mappings: &Mappings,
    settings: &Settings,
) -> Result<DraftExpense, String> {
    let mapping = shipping
        .method
        .as_deref()
        .and_then(|m| mappings.shipping_method(m));
    let tax_code = if shipping.tax_amount.is_zero() {
        mappings
            .tax_code_for_rates(&shipping.tax_rates)
            .cloned()
            .unwrap_or_else(|| settings.tax_exempt_code.clone())
    } else if !shipping.tax_rates.is_empty() {
        mappings
            .tax_code_for_rates(&shipping.tax_rates)
            .cloned()
            .ok_or_else(|| describe_rates(&shipping.tax_rates, None))?
    } else {
        let order_rate: Vec<String> = only_order_rate(order).into_iter().collect();
        mapping
            .and_then(|m| m.tax_code.clone())
            .or_else(|| mappings.tax_code_for_rates(&order_rate).cloned())
            .ok_or_else(|| describe_rates(&order_rate, None))?
    };
    Ok(DraftExpense {
        expense_code: mapping
            .map(|m| m.expense_code)
            .unwrap_or(settings.default_freight_expense_code),
        line_total: shipping.net_total(),
        tax_code,
        tax_amount: shipping.tax_amount,
        remarks: shipping
            .description
            .as_deref()
            .map(|d| truncate(d.trim(), 254)),
    })
}

fn only_order_rate(order: &Order) -> Option<String> {
    match order.applied_taxes.as_slice() {
        [only] => Some(only.code.clone()),
        _ => None,
    }
}

fn describe_rates(rates: &[String], percent: Option<Decimal>) -> String {
    match (rates, percent) {
        ([], Some(p)) => format!("{} % (Magento named no rate)", p.normalize()),
        ([], None) => "an unnamed rate".to_owned(),
        ([rate], _) => format!("rate '{rate}'"),
        (_, _) => format!("rates '{}'", Mappings::rates_key(rates)),
    }
}

/// A taxed amount without an SAP tax code.
struct TaxGap {
    what: String,
    sku: Option<String>,
    tax: Decimal,
    rate: String,
}

fn tax_gap_exception(order: &Order, gaps: Vec<TaxGap>) -> NewException {
    let mut rates: Vec<String> = gaps.iter().map(|g| g.rate.clone()).collect();
    rates.sort();
    rates.dedup();
    let mut skus: Vec<String> = gaps.iter().filter_map(|g| g.sku.clone()).collect();
    skus.sort();
    skus.dedup();
    let listed = gaps
        .iter()
        .map(|g| format!("{} taxed {} at {}", g.what, g.tax.normalize(), g.rate))
        .collect::<Vec<_>>()
        .join("; ");
    let title = format!(
        "Order {}: Magento tax {} {} no SAP tax code",
        order.increment_id,
        rates.join(", "),
        if rates.len() == 1 { "has" } else { "have" }
    );
    let detail = format!(
        "{listed}. Without the matching SAP tax code, SAP would compute a different tax than \
         the {} {} Magento charged. Map the Magento tax rate code under {TAX_CODES_API}/{{rate}} \
         (give rate_percent when Magento names no rate), then retry the exception.",
        order.totals.tax_amount.normalize(),
        order.currency
    );
    let context = json!({
        "magento_tax_amount": json_number(order.totals.tax_amount),
        "unmapped": gaps.iter().map(|g| json!({
            "what": g.what, "sku": g.sku, "tax_amount": json_number(g.tax), "rate": g.rate,
        })).collect::<Vec<_>>(),
    });
    order_exception(order, Category::TotalMismatch, skus, title, detail, context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mapping::lines::resolve_lines;
    use crate::domain::mapping::samples::{
        self, every_item_sellable, order, starter_mappings, us_company,
    };
    use crate::domain::mappings::{
        MappingValue, PaymentMethodMapping, ShippingMethodMapping, TaxCodeMapping, WarehouseMapping,
    };
    use crate::domain::settings::GuestPolicy;
    use rust_decimal_macros::dec;

    fn card(s: &str) -> CardCode {
        CardCode::parse(s).unwrap()
    }

    fn tax(s: &str) -> TaxCode {
        TaxCode::parse(s).unwrap()
    }

    #[allow(clippy::result_large_err)]
    fn draft_with(
        sample: &str,
        card_code: &str,
        mappings: &Mappings,
    ) -> Result<SalesOrderDraft, NewException> {
        let o = order(sample);
        let settings = Settings::default();
        let lines = resolve_lines(&o, mappings, &settings, every_item_sellable).unwrap();
        build_draft(
            &o,
            card(card_code),
            &lines,
            mappings,
            &settings,
            &us_company(),
        )
    }

    fn draft(sample: &str, card_code: &str) -> SalesOrderDraft {
        draft_with(sample, card_code, &starter_mappings()).unwrap()
    }

    #[test]
    fn a_discounted_order_posts_net_line_totals_and_the_mapped_tax_code() {
        let d = draft(samples::DISCOUNT_TAX, "W1");
        let totals: Vec<_> = d.lines.iter().map(|l| l.line_total).collect();
        assert_eq!(totals, [dec!(55.2), dec!(179.2)]);
        assert_eq!(d.lines[0].unit_price, dec!(69));
        assert_eq!(d.lines[0].discount_percent, Some(dec!(20)));
        assert_eq!(d.lines[1].discount_percent, Some(dec!(20)));
        assert!(d.lines.iter().all(|l| l.tax_code == tax("US-MI")));
        assert_eq!(d.lines[1].tax_amount, dec!(14.79));
        assert_eq!(d.expected_doc_total, dec!(253.74));
        assert_eq!(d.expected_vat_sum, dec!(19.34));
        // tablerate_bestway shipping of 0 is not posted as freight.
        assert!(d.expenses.is_empty());
    }

    #[test]
    fn the_document_header_names_the_magento_order() {
        let d = draft(samples::CONFIGURABLE_TAX, "W1");
        assert_eq!(d.num_at_card.as_str(), "000000013");
        assert_eq!(d.doc_date.to_string(), "2020-04-24");
        assert_eq!(d.doc_due_date, d.doc_date);
        assert_eq!(d.currency.as_str(), "USD");
        assert_eq!(d.comments, "Magento order #000000013");
        assert_eq!(d.card_code.as_str(), "W1");
        assert_eq!(d.lines[0].description.as_deref(), Some("Abominable Hoodie"));
        assert_eq!(d.lines[0].quantity, dec!(2));
        assert_eq!(d.lines[0].magento_item_id, Some(16));
        let ship_to = d.address_extension.ship_to.unwrap();
        assert_eq!(ship_to.state.as_deref(), Some("MI"));
        assert_eq!(ship_to.country.as_deref(), Some("US"));
    }

    #[test]
    fn a_bundle_order_posts_its_components_and_totals_165() {
        let d = draft(samples::BUNDLE, "W3");
        assert_eq!(d.lines.len(), 7);
        let net: Decimal = d.lines.iter().map(|l| l.line_total).sum();
        assert_eq!(net, dec!(160));
        assert_eq!(d.expenses.len(), 1);
        assert_eq!(d.expenses[0].line_total, dec!(5));
        assert_eq!(d.expenses[0].expense_code, 1);
        assert_eq!(d.expected_doc_total, dec!(165));
        // No tax anywhere: every line and the freight use the exempt code.
        assert!(d.lines.iter().all(|l| l.tax_code == tax("EX")));
        assert_eq!(d.expenses[0].tax_code, tax("EX"));
    }

    #[test]
    fn a_fully_discounted_guest_order_posts_on_the_shared_guest_with_zero_amounts() {
        let o = order(samples::GUEST_FULL_DISCOUNT);
        let settings = Settings::default();
        let mappings = starter_mappings();
        let crate::domain::mapping::CustomerPlan::Use(card_code) =
            crate::domain::mapping::customer_plan(&o, &mappings, &settings)
        else {
            panic!("a guest uses the shared guest BP by default");
        };
        assert_eq!(card_code.as_str(), "WEBGUEST");
        let lines = resolve_lines(&o, &mappings, &settings, every_item_sellable).unwrap();
        let d = build_draft(&o, card_code, &lines, &mappings, &settings, &us_company()).unwrap();
        assert_eq!(d.expected_doc_total, dec!(0));
        assert_eq!(d.lines[0].line_total, dec!(0));
        // SAP refuses a 100 % discount, so the line goes at price 0.
        assert_eq!(d.lines[0].unit_price, dec!(0));
        assert_eq!(d.lines[0].discount_percent, None);
        assert_eq!(d.expenses.len(), 1);
        assert_eq!(d.expenses[0].line_total, dec!(0));
        assert_eq!(
            d.comments,
            "Magento order #000000020 · coupon 1 · guest test@free.org"
        );
        let ship_to = d
            .address_extension
            .ship_to
            .expect("order address on the document");
        assert_eq!(ship_to.street.as_deref(), Some("Free street"));
        assert_eq!(ship_to.city.as_deref(), Some("Free city"));
        assert_eq!(ship_to.zip_code.as_deref(), Some("1234"));
        assert_eq!(ship_to.country.as_deref(), Some("UY"));
        assert!(d.address_extension.bill_to.is_some());
    }

    #[test]
    fn a_taxed_line_whose_rate_is_unmapped_is_a_total_mismatch_naming_the_rate() {
        let e = draft_with(samples::CONFIGURABLE_TAX, "W1", &Mappings::default()).unwrap_err();
        assert_eq!(e.category, Category::TotalMismatch);
        assert_eq!(
            e.title,
            "Order 000000013: Magento tax rate 'US-MI-*-Rate 1' has no SAP tax code"
        );
        assert_eq!(e.skus, ["MH09-XS-Blue", "RACER"]);
        assert!(e
            .detail
            .contains("SKU 'RACER' taxed 18.48 at rate 'US-MI-*-Rate 1'"));
        assert!(e.detail.contains("/api/v1/mappings/tax-codes"));
    }

    #[test]
    fn a_taxed_line_without_a_rate_code_finds_its_code_by_percentage() {
        let d = draft(samples::SEARCH_GUEST_VAT, "WEBGUEST");
        assert_eq!(d.lines[0].tax_code, tax("VAT23"));
        assert_eq!(d.lines[0].line_total, dec!(18.7));
        assert_eq!(d.lines[0].discount_percent, Some(dec!(15)));

        let mut only_rate_codes = starter_mappings();
        only_rate_codes
            .tax_codes
            .values_mut()
            .for_each(|m| m.rate_percent = None);
        let e = draft_with(samples::SEARCH_GUEST_VAT, "WEBGUEST", &only_rate_codes).unwrap_err();
        assert_eq!(e.category, Category::TotalMismatch);
        assert!(
            e.title.contains("23 % (Magento named no rate)"),
            "{}",
            e.title
        );
    }

    #[test]
    fn lines_use_the_order_default_warehouse_else_the_setting() {
        let mut m = starter_mappings();
        assert!(draft_with(samples::BUNDLE, "W3", &m)
            .unwrap()
            .lines
            .iter()
            .all(|l| l.warehouse_code.as_str() == "01"));
        m.warehouses.clear();
        m.insert(
            "03",
            MappingValue::Warehouse(WarehouseMapping {
                magento_source_code: None,
                include_in_stock: false,
                order_default: true,
            }),
        )
        .unwrap();
        let d = draft_with(samples::BUNDLE, "W3", &m).unwrap();
        assert!(d.lines.iter().all(|l| l.warehouse_code.as_str() == "03"));

        let o = order(samples::BUNDLE);
        let settings = Settings {
            default_warehouse: crate::domain::ids::WarehouseCode::parse("02").unwrap(),
            ..Settings::default()
        };
        let lines =
            resolve_lines(&o, &Mappings::default(), &settings, every_item_sellable).unwrap();
        let d = build_draft(
            &o,
            card("W3"),
            &lines,
            &Mappings::default(),
            &settings,
            &us_company(),
        )
        .unwrap();
        assert!(d.lines.iter().all(|l| l.warehouse_code.as_str() == "02"));
    }

    #[test]
    fn shipping_uses_the_mapped_expense_and_taxed_shipping_its_tax_code() {
        let mut m = starter_mappings();
        m.insert(
            "flatrate_flatrate",
            MappingValue::ShippingMethod(ShippingMethodMapping {
                expense_code: 7,
                tax_code: Some(tax("US-MI")),
            }),
        )
        .unwrap();
        let d = draft_with(samples::GUEST_CONFIGURABLE, "WEBGUEST", &m).unwrap();
        // Magento charged no tax on this shipping, so the exempt code wins over the mapping.
        assert_eq!(d.expenses[0].expense_code, 7);
        assert_eq!(d.expenses[0].tax_code, tax("EX"));
        assert_eq!(d.expenses[0].remarks.as_deref(), Some("Flat Rate - Fixed"));

        let mut o = order(samples::GUEST_CONFIGURABLE);
        let shipping = o.shipping.as_mut().unwrap();
        shipping.tax_amount = dec!(0.41);
        let settings = Settings::default();
        let lines = resolve_lines(&o, &m, &settings, every_item_sellable).unwrap();
        let d = build_draft(&o, card("WEBGUEST"), &lines, &m, &settings, &us_company()).unwrap();
        assert_eq!(d.expenses[0].tax_code, tax("US-MI"));
        assert_eq!(d.expenses[0].tax_amount, dec!(0.41));

        // Taxed shipping without a mapped tax code and without a single order rate.
        let e = build_draft(
            &o,
            card("WEBGUEST"),
            &lines,
            &starter_mappings(),
            &settings,
            &us_company(),
        )
        .unwrap_err();
        assert_eq!(e.category, Category::TotalMismatch);
        assert!(e.detail.contains("shipping 'flatrate_flatrate' taxed 0.41"));
        assert!(e.skus.is_empty());
    }

    #[test]
    fn taxed_shipping_falls_back_to_the_orders_only_rate() {
        let mut o = order(samples::CONFIGURABLE_TAX);
        o.shipping.as_mut().unwrap().tax_amount = dec!(0.41);
        let m = starter_mappings();
        let settings = Settings::default();
        let lines = resolve_lines(&o, &m, &settings, every_item_sellable).unwrap();
        let d = build_draft(&o, card("W1"), &lines, &m, &settings, &us_company()).unwrap();
        assert_eq!(d.expenses[0].tax_code, tax("US-MI"));
    }

    #[test]
    fn the_payment_mapping_sets_the_payment_method_and_comment() {
        let mut m = starter_mappings();
        m.insert(
            "checkmo",
            MappingValue::PaymentMethod(PaymentMethodMapping {
                sap_payment_method: Some("CHECK".into()),
                comment: Some("Await the cheque before delivery".into()),
                refund_account: None,
            }),
        )
        .unwrap();
        let d = draft_with(samples::CONFIGURABLE_TAX, "W1", &m).unwrap();
        assert_eq!(d.payment_method.as_deref(), Some("CHECK"));
        assert_eq!(
            d.comments,
            "Magento order #000000013 · Await the cheque before delivery"
        );
        assert_eq!(
            draft_with(samples::CONFIGURABLE_TAX, "W1", &starter_mappings())
                .unwrap()
                .payment_method,
            None
        );
    }

    #[test]
    fn comments_never_exceed_sap_s_254_characters() {
        let mut o = order(samples::GUEST_FULL_DISCOUNT);
        o.coupon_code = Some("C".repeat(300));
        let m = starter_mappings();
        let settings = Settings::default();
        let lines = resolve_lines(&o, &m, &settings, every_item_sellable).unwrap();
        let d = build_draft(&o, card("WEBGUEST"), &lines, &m, &settings, &us_company()).unwrap();
        assert_eq!(d.comments.chars().count(), 254);
        assert!(d
            .comments
            .starts_with("Magento order #000000020 · coupon CCC"));
    }

    #[test]
    fn a_shared_guest_order_without_any_address_is_held_as_address_invalid() {
        let mut o = order(samples::GUEST_CONFIGURABLE);
        o.billing_address = None;
        o.shipping_address = None;
        let m = starter_mappings();
        let settings = Settings::default();
        let lines = resolve_lines(&o, &m, &settings, every_item_sellable).unwrap();
        let e =
            build_draft(&o, card("WEBGUEST"), &lines, &m, &settings, &us_company()).unwrap_err();
        assert_eq!(e.category, Category::AddressInvalid);
        assert_eq!(
            e.title,
            "Order 000000019 on the shared guest Business Partner has no address"
        );
        // On its own Business Partner the master data has the addresses.
        assert!(build_draft(&o, card("WG123"), &lines, &m, &settings, &us_company()).is_ok());
    }

    #[test]
    fn for_every_sample_order_lines_expenses_and_magento_tax_make_the_grand_total() {
        let settings = Settings {
            guest_policy: GuestPolicy::SharedGuest,
            ..Settings::default()
        };
        let m = starter_mappings();
        for sample in samples::ALL {
            let o = order(sample);
            let lines = resolve_lines(&o, &m, &settings, every_item_sellable).unwrap();
            let d = build_draft(&o, card("W1"), &lines, &m, &settings, &us_company()).unwrap();
            let lines_total: Decimal = d.lines.iter().map(|l| l.line_total).sum();
            let expenses: Decimal = d.expenses.iter().map(|e| e.line_total).sum();
            let tax: Decimal = d.lines.iter().map(|l| l.tax_amount).sum::<Decimal>()
                + d.expenses.iter().map(|e| e.tax_amount).sum::<Decimal>();
            assert_eq!(tax, o.totals.tax_amount, "{}", o.increment_id);
            assert_eq!(
                lines_total + expenses + o.totals.tax_amount,
                o.totals.grand_total,
                "{}",
                o.increment_id
            );
            assert_eq!(
                o.computed_grand_total(),
                o.totals.grand_total,
                "{}",
                o.increment_id
            );
            assert_eq!(d.expected_doc_total, o.totals.grand_total);
        }
    }

    #[test]
    fn a_draft_round_trips_through_json_with_exact_numbers() {
        let d = draft(samples::DISCOUNT_TAX, "W1");
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["expected_doc_total"].to_string(), "253.74");
        assert_eq!(json["lines"][0]["line_total"].to_string(), "55.2");
        assert_eq!(json["doc_date"], "2020-04-25");
        let back: SalesOrderDraft = serde_json::from_value(json).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn a_mapped_zero_rate_is_used_for_untaxed_lines() {
        let mut m = starter_mappings();
        m.insert(
            "US-EXEMPT",
            MappingValue::TaxCode(TaxCodeMapping {
                sap_tax_code: tax("EX0"),
                rate_percent: None,
            }),
        )
        .unwrap();
        let mut o = order(samples::GUEST_CONFIGURABLE);
        o.lines[0].tax_rates = vec!["US-EXEMPT".into()];
        let settings = Settings::default();
        let lines = resolve_lines(&o, &m, &settings, every_item_sellable).unwrap();
        let d = build_draft(&o, card("WEBGUEST"), &lines, &m, &settings, &us_company()).unwrap();
        assert_eq!(d.lines[0].tax_code, tax("EX0"));
    }
}
