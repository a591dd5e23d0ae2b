//! Totals: SAP B1's `DocTotal`/`VatSum` (their FC twins on a foreign-currency document)
//! against Magento's `grand_total`/`tax_amount`, each within the posting tolerance
//! (`total_tolerance`). Finance owns a difference: the customer paid one amount and SAP
//! books another.
use rust_decimal::Decimal;
use serde_json::json;

use super::{finding_key, number, CheckOutcome, Finding, OrderFacts};
use crate::domain::exception::Category;

pub const CHECK: &str = "totals";

pub fn check(orders: &[OrderFacts], tolerance: Decimal) -> CheckOutcome {
    let mut out = CheckOutcome::default();
    for o in orders.iter().filter(|o| !o.cancelled_in_magento()) {
        let Some(sap) = o.the_sap_order() else {
            continue;
        };
        let key = finding_key(CHECK, Some(&o.increment_id), None);
        let (total, tax) = sap.totals_in_document_currency();
        let differs = |a: Decimal, b: Decimal| (a - b).abs() > tolerance;
        let finding = (differs(total, o.grand_total) || differs(tax, o.tax_amount)).then(|| {
            let currency = sap.currency.as_deref().unwrap_or(&o.currency);
            Finding {
                check: CHECK,
                category: Category::TotalMismatch,
                order: Some(&o.increment_id),
                sku: None,
                title: format!(
                    "Order {}: SAP B1 books {total} (tax {tax}) {currency}, Magento charged {} (tax {}) {}",
                    o.increment_id, o.grand_total, o.tax_amount, o.currency
                ),
                detail: format!(
                    "SAP B1 Sales Order DocNum {} (DocEntry {}) totals {total} with tax {tax} \
                     {currency}; Magento order {} has grand total {} with tax {} {}. The \
                     difference ({} total, {} tax) is more than the tolerance of {tolerance}. \
                     Correct the SAP document (or the tax and price mappings that produced \
                     it) before it is invoiced.",
                    sap.doc_num,
                    sap.doc_entry,
                    o.increment_id,
                    o.grand_total,
                    o.tax_amount,
                    o.currency,
                    total - o.grand_total,
                    tax - o.tax_amount,
                ),
                sap_document: sap.describe(),
                magento_value: json!({"grand_total": number(o.grand_total), "tax_amount": number(o.tax_amount),
                                      "currency": o.currency}),
                sap_value: json!({"doc_total": number(total), "vat_sum": number(tax), "currency": currency}),
            }
            .into_exception()
        });
        out.saw(key, finding);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::order;
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn equal_totals_are_in_order_and_a_cent_over_the_tolerance_is_not() {
        assert!(check(&[order()], dec!(0)).findings.is_empty());
        let mut o = order();
        o.grand_total = dec!(120.01);
        assert!(check(std::slice::from_ref(&o), dec!(0.01))
            .findings
            .is_empty());
        let f = &check(&[o], dec!(0)).findings[0];
        assert_eq!(f.category, Category::TotalMismatch);
        assert_eq!(f.context["magento_value"]["grand_total"], json!(120.01));
        assert_eq!(f.context["sap_value"]["doc_total"], json!(120));
        assert_eq!(f.context["sap_document"]["doc_num"], 107);
    }

    #[test]
    fn a_tax_difference_alone_is_a_mismatch() {
        let mut o = order();
        o.tax_amount = dec!(19);
        assert_eq!(check(&[o], dec!(0)).findings.len(), 1);
    }

    #[test]
    fn foreign_currency_documents_compare_in_their_own_currency() {
        let mut o = order();
        o.currency = "EUR".into();
        o.grand_total = dec!(140);
        o.tax_amount = dec!(23.33);
        let s = &mut o.sap[0];
        s.currency = Some("EUR".into());
        s.doc_total_fc = Some(dec!(140));
        s.vat_sum_fc = Some(dec!(23.33));
        assert!(check(&[o], dec!(0)).findings.is_empty());
    }

    #[test]
    fn orders_without_exactly_one_sap_order_are_not_compared() {
        let mut o = order();
        o.sap.clear();
        assert!(check(&[o], dec!(0)).checked.is_empty());
    }
}
