//! The SAP document must charge what Magento charged. Before posting, b1bridge computes what
//! SAP will book (SAP's per-line rounding, docs/sap-document-calculation.md) and holds an
//! order that would differ; after posting, SAP's own figures are compared again, so a rate
//! that changed in SAP shows up in finance's queue instead of on the customer's invoice.
use rust_decimal::Decimal;
use serde_json::json;

use super::{json_number, order_exception, SETTINGS_API, TAX_CODES_API};
use crate::domain::company::CompanyFacts;
use crate::domain::exception::{Category, NewException};
use crate::domain::ids::TaxCode;
use crate::domain::money::round_cents;
use crate::domain::order::Order;
use crate::domain::sales_order::SalesOrderDraft;

/// Compares the posted document with Magento to the cent (half away from zero): `DocTotal`
/// with `grand_total`, `VatSum` with Magento's tax. Sub-cent noise and differences within
/// the settings' tolerance pass; anything else is a `total_mismatch` naming both figures.
pub fn check_totals(
    order: &Order,
    sap_doc_total: Decimal,
    sap_vat_sum: Decimal,
    tolerance: Decimal,
) -> Option<NewException> {
    let magento_total = round_cents(order.totals.grand_total);
    let magento_tax = round_cents(order.totals.tax_amount);
    let sap_total = round_cents(sap_doc_total);
    let sap_tax = round_cents(sap_vat_sum);
    let within = |a: Decimal, b: Decimal| (a - b).abs() <= tolerance;
    if within(magento_total, sap_total) && within(magento_tax, sap_tax) {
        return None;
    }
    let currency = &order.currency;
    let mut differences = Vec::new();
    if magento_total != sap_total {
        differences.push(format!(
            "total: SAP {sap_total} vs Magento {magento_total} {currency}"
        ));
    }
    if magento_tax != sap_tax {
        differences.push(format!(
            "tax: SAP {sap_tax} vs Magento {magento_tax} {currency}"
        ));
    }
    let title = format!(
        "Order {} differs between SAP B1 and Magento ({})",
        order.increment_id,
        differences.join("; ")
    );
    let detail = format!(
        "The customer paid {magento_total} {currency} including {magento_tax} tax in Magento; \
         the SAP B1 Sales Order has DocTotal {sap_total} and VatSum {sap_tax}. Compare the \
         document's tax codes and rates with Magento's (tax-codes mapping), correct the \
         document in SAP B1 before it is invoiced, then resolve the exception."
    );
    let context = json!({
        "magento": {
            "grand_total": json_number(magento_total),
            "tax_amount": json_number(magento_tax),
        },
        "sap": {
            "doc_total": json_number(sap_total),
            "vat_sum": json_number(sap_tax),
        },
        "difference": {
            "total": json_number(sap_total - magento_total),
            "tax": json_number(sap_tax - magento_tax),
        },
        "currency": currency.as_str(),
    });
    Some(order_exception(
        order,
        Category::TotalMismatch,
        Vec::new(),
        title,
        detail,
        context,
    ))
}

/// One line or freight of a draft as SAP will book it, next to Magento's figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFigures {
    /// `SKU 'X'` or `shipping`.
    pub what: String,
    pub sku: Option<String>,
    pub net: Decimal,
    pub tax_code: TaxCode,
    pub rate: Decimal,
    /// SAP's tax: Magento's when it is sent (`magento_line_tax`), else round2(net × rate).
    pub sap_tax: Decimal,
    pub magento_tax: Decimal,
}

/// What SAP's own arithmetic gives for a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentTotals {
    /// Lines plus expenses, before tax.
    pub net: Decimal,
    /// Tax per line and expense, each rounded to the cent, summed (SAP's `VatSum`).
    pub vat_sum: Decimal,
    /// `net + vat_sum`: SAP's `DocTotal` (no header discount is sent).
    pub doc_total: Decimal,
    pub lines: Vec<LineFigures>,
}

/// SAP's arithmetic for a draft, given each tax code's rate in percent: each line's (and
/// freight's) tax rounded half away from zero to the cent on its own, unless Magento's tax is
/// sent, which SAP keeps. This is where SAP departs from Magento, which carries sub-cent
/// remainders from line to line. `Err` names a tax code whose rate is unknown.
pub fn expected_document_totals(
    draft: &SalesOrderDraft,
    rate_percent: impl Fn(&TaxCode) -> Option<Decimal>,
) -> Result<DocumentTotals, TaxCode> {
    let amounts = draft
        .lines
        .iter()
        .map(|l| {
            (
                format!("SKU '{}'", l.sku),
                Some(l.sku.to_string()),
                l.line_total,
                &l.tax_code,
                l.tax_amount,
            )
        })
        .chain(draft.expenses.iter().map(|e| {
            (
                "shipping".to_owned(),
                None,
                e.line_total,
                &e.tax_code,
                e.tax_amount,
            )
        }));
    let (mut net, mut vat_sum) = (Decimal::ZERO, Decimal::ZERO);
    let mut lines = Vec::new();
    for (what, sku, amount, code, magento_tax) in amounts {
        let rate = rate_percent(code).ok_or_else(|| code.clone())?;
        let sap_tax = if draft.send_line_tax {
            magento_tax
        } else {
            round_cents(amount * rate / Decimal::ONE_HUNDRED)
        };
        net += amount;
        vat_sum += sap_tax;
        lines.push(LineFigures {
            what,
            sku,
            net: amount,
            tax_code: code.clone(),
            rate,
            sap_tax,
            magento_tax,
        });
    }
    Ok(DocumentTotals {
        net,
        vat_sum,
        doc_total: net + vat_sum,
        lines,
    })
}

/// Before anything is created: what SAP will book for `draft`, or — when its tax or total
/// would differ from Magento's by more than `tolerance`, or a tax code has no rate in the
/// company — a `total_mismatch` naming both figures per line, so finance decides before a
/// wrong document exists.
#[allow(clippy::result_large_err)]
pub fn check_before_posting(
    order: &Order,
    draft: &SalesOrderDraft,
    company: &CompanyFacts,
    tolerance: Decimal,
) -> Result<DocumentTotals, NewException> {
    let id = &order.increment_id;
    let currency = &order.currency;
    let totals = expected_document_totals(draft, |c| company.rate(c)).map_err(|code| {
        let field = company.localization.line_field();
        order_exception(
            order,
            Category::TotalMismatch,
            Vec::new(),
            format!("Order {id}: SAP B1 has no active {field} '{code}' with a rate"),
            format!(
                "The tax-codes mapping (or tax_exempt_code) names '{code}', which is not an \
                 active {field} of the SAP B1 company, so what SAP would charge cannot be \
                 known and nothing was posted. Map the Magento rate to an existing code under \
                 {TAX_CODES_API}, then retry the exception."
            ),
            json!({ "tax_code": code.as_str(), "field": field }),
        )
    })?;
    let magento_total = round_cents(order.totals.grand_total);
    let magento_tax = round_cents(order.totals.tax_amount);
    let sap_total = round_cents(totals.doc_total);
    let sap_tax = round_cents(totals.vat_sum);
    let off = |a: Decimal, b: Decimal| (a - b).abs() > tolerance;
    if !off(sap_total, magento_total) && !off(sap_tax, magento_tax) {
        return Ok(totals);
    }
    let mut differences = Vec::new();
    if sap_total != magento_total {
        differences.push(format!(
            "total: SAP {sap_total} vs Magento {magento_total} {currency}"
        ));
    }
    if sap_tax != magento_tax {
        differences.push(format!(
            "tax: SAP {sap_tax} vs Magento {magento_tax} {currency}"
        ));
    }
    let per_line = totals
        .lines
        .iter()
        .map(|l| {
            format!(
                "{} net {} at {} ({} %): SAP {} vs Magento {}",
                l.what,
                l.net.normalize(),
                l.tax_code,
                l.rate.normalize(),
                round_cents(l.sap_tax),
                round_cents(l.magento_tax)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let title = format!(
        "Order {id} not posted: SAP B1 would book other figures than Magento ({})",
        differences.join("; ")
    );
    let detail = format!(
        "Tax per line, as SAP B1 computes it (each line rounded to the cent) and as Magento \
         charged it: {per_line}. Nothing was created in SAP B1. Correct the tax-codes mapping \
         if a rate is wrong; if only cents differ, set tax_strategy to 'magento_line_tax' \
         (SAP then keeps Magento's line tax) or raise total_tolerance in {SETTINGS_API}; \
         then retry the exception."
    );
    let mut skus: Vec<String> = totals
        .lines
        .iter()
        .filter(|l| round_cents(l.sap_tax) != round_cents(l.magento_tax))
        .filter_map(|l| l.sku.clone())
        .collect();
    skus.sort();
    skus.dedup();
    let context = json!({
        "stage": "before_posting",
        "magento": {
            "grand_total": json_number(magento_total),
            "tax_amount": json_number(magento_tax),
        },
        "sap": {
            "doc_total": json_number(sap_total),
            "vat_sum": json_number(sap_tax),
        },
        "tolerance": json_number(tolerance),
        "currency": currency.as_str(),
        "lines": totals.lines.iter().map(|l| json!({
            "what": l.what,
            "sku": l.sku,
            "net": json_number(l.net),
            "tax_code": l.tax_code.as_str(),
            "rate": json_number(l.rate),
            "sap_tax": json_number(round_cents(l.sap_tax)),
            "magento_tax": json_number(round_cents(l.magento_tax)),
        })).collect::<Vec<_>>(),
    });
    Err(order_exception(
        order,
        Category::TotalMismatch,
        skus,
        title,
        detail,
        context,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::CardCode;
    use crate::domain::mapping::samples::{
        self, every_item_sellable, order, starter_mappings, us_company,
    };
    use crate::domain::mapping::{build_draft, resolve_lines};
    use crate::domain::settings::Settings;
    use rust_decimal_macros::dec;

    /// The simulator seed's tax codes.
    fn seed_rate(code: &TaxCode) -> Option<Decimal> {
        match code.as_str() {
            "EX" => Some(dec!(0)),
            "US-MI" => Some(dec!(8.25)),
            "VAT23" => Some(dec!(23)),
            _ => None,
        }
    }

    fn draft(sample: &str) -> SalesOrderDraft {
        let o = order(sample);
        let (m, s) = (starter_mappings(), Settings::default());
        let lines = resolve_lines(&o, &m, &s, every_item_sellable).unwrap();
        build_draft(
            &o,
            CardCode::parse("W1").unwrap(),
            &lines,
            &m,
            &s,
            &us_company(),
        )
        .unwrap()
    }

    #[test]
    fn equal_totals_pass_and_sub_cent_differences_are_ignored() {
        let o = order(samples::CONFIGURABLE_TAX);
        assert_eq!(
            check_totals(&o, dec!(396.87), dec!(29.87), Decimal::ZERO),
            None
        );
        assert_eq!(
            check_totals(&o, dec!(396.870), dec!(29.8700), Decimal::ZERO),
            None
        );
        assert_eq!(
            check_totals(&o, dec!(396.8749), dec!(29.8651), Decimal::ZERO),
            None
        );
        assert_eq!(
            check_totals(&o, dec!(396.86), dec!(29.86), dec!(0.01)),
            None
        );
    }

    #[test]
    fn a_total_off_by_one_cent_is_a_total_mismatch_naming_both_figures() {
        let o = order(samples::CONFIGURABLE_TAX);
        let e = check_totals(&o, dec!(396.86), dec!(29.87), Decimal::ZERO).expect("mismatch");
        assert_eq!(e.category, Category::TotalMismatch);
        assert_eq!(
            e.title,
            "Order 000000013 differs between SAP B1 and Magento (total: SAP 396.86 vs Magento 396.87 USD)"
        );
        assert!(e.detail.contains("DocTotal 396.86"));
        assert!(e.detail.contains("paid 396.87 USD"));
        assert_eq!(e.context["difference"]["total"].to_string(), "-0.01");
        assert_eq!(e.dedup_key, "total_mismatch|000000013|");
        assert_eq!(e.order_increment_id.as_deref(), Some("000000013"));
    }

    #[test]
    fn a_tax_difference_is_a_total_mismatch_even_when_the_total_agrees() {
        let o = order(samples::DISCOUNT_TAX);
        let e = check_totals(&o, dec!(253.74), dec!(19.33), Decimal::ZERO).expect("mismatch");
        assert_eq!(
            e.title,
            "Order 000000015 differs between SAP B1 and Magento (tax: SAP 19.33 vs Magento 19.34 USD)"
        );
        assert_eq!(e.context["sap"]["vat_sum"].to_string(), "19.33");
        assert_eq!(e.context["magento"]["tax_amount"].to_string(), "19.34");
    }

    #[test]
    fn sap_arithmetic_on_sample_drafts_matches_magento_except_where_magento_carries_cents() {
        let d = draft(samples::CONFIGURABLE_TAX);
        let t = expected_document_totals(&d, seed_rate).unwrap();
        assert_eq!(
            (t.net, t.vat_sum, t.doc_total),
            (dec!(367), dec!(29.87), dec!(396.87))
        );

        let d = draft(samples::BUNDLE);
        assert_eq!(
            expected_document_totals(&d, seed_rate).unwrap().doc_total,
            dec!(165)
        );

        let d = draft(samples::SEARCH_GUEST_VAT);
        let t = expected_document_totals(&d, seed_rate).unwrap();
        assert_eq!((t.vat_sum, t.doc_total), (dec!(4.30), dec!(28.00)));

        // Order 15: Magento rounds 4.554 → 4.55 and carries the 0.004 into the next line
        // (14.784 + 0.004 → 14.79); SAP rounding each line gives 14.78. This is why the
        // draft carries Magento's per-line tax and DocTotal, and why check_totals exists.
        let d = draft(samples::DISCOUNT_TAX);
        let t = expected_document_totals(&d, seed_rate).unwrap();
        assert_eq!((t.vat_sum, t.doc_total), (dec!(19.33), dec!(253.73)));
        assert!(check_totals(
            &order(samples::DISCOUNT_TAX),
            t.doc_total,
            t.vat_sum,
            Decimal::ZERO
        )
        .is_some());
    }

    #[test]
    fn an_unknown_tax_rate_is_reported_not_guessed() {
        let d = draft(samples::CONFIGURABLE_TAX);
        let err =
            expected_document_totals(&d, |c| (c.as_str() == "EX").then_some(dec!(0))).unwrap_err();
        assert_eq!(err.as_str(), "US-MI");
    }
}
