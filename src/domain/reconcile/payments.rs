//! Payments: a Magento order whose payment was captured (`amount_paid`, with the gateway's
//! `last_trans_id` when there is one) must be matched in SAP B1 by an A/R invoice copying its
//! Sales Order within `payment_link_days`. An incoming payment is applied to invoices
//! (`PaymentInvoices`), so an order without an invoice has no payment linked to it either.
//! Finance owns the finding (`payment_unlinked`): money was taken that SAP cannot match.
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use super::{finding_key, number, CheckOutcome, Finding, OrderFacts};
use crate::domain::exception::Category;

pub const CHECK: &str = "payments";

pub fn check(orders: &[OrderFacts], now: DateTime<Utc>, link_days: u32) -> CheckOutcome {
    let mut out = CheckOutcome::default();
    let due = now - Duration::days(i64::from(link_days));
    for o in orders {
        let Some(sap) = o.the_sap_order() else {
            continue;
        };
        let key = finding_key(CHECK, Some(&o.increment_id), None);
        let paid = o.amount_paid.filter(|p| *p > Decimal::ZERO);
        let finding = match paid {
            Some(paid) if !sap.invoiced && o.created_at <= due => Some(
                Finding {
                    check: CHECK,
                    category: Category::PaymentUnlinked,
                    order: Some(&o.increment_id),
                    sku: None,
                    title: format!(
                        "Order {}: {paid} {} captured in Magento, no A/R invoice in SAP B1 after {link_days} day(s)",
                        o.increment_id, o.currency
                    ),
                    detail: format!(
                        "Magento captured {paid} {}{} for order {}, placed {}, but SAP B1 \
                         Sales Order DocNum {} (DocEntry {}) has no A/R invoice, so no \
                         incoming payment can be applied to it. Invoice the order in SAP B1 \
                         and apply the payment to the invoice.",
                        o.currency,
                        o.last_trans_id
                            .as_deref()
                            .map(|t| format!(" (transaction {t})"))
                            .unwrap_or_default(),
                        o.increment_id,
                        o.created_at.format("%Y-%m-%d %H:%M UTC"),
                        sap.doc_num,
                        sap.doc_entry
                    ),
                    sap_document: sap.describe(),
                    magento_value: json!({"amount_paid": number(paid), "last_trans_id": o.last_trans_id,
                                          "currency": o.currency}),
                    sap_value: json!({"ar_invoice": null}),
                }
                .into_exception(),
            ),
            _ => None,
        };
        out.saw(key, finding);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::order;
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap()
    }

    #[test]
    fn a_captured_payment_without_invoice_after_the_delay_is_unlinked() {
        let mut o = order();
        o.amount_paid = Some(dec!(120));
        o.last_trans_id = Some("ch_123".into());
        let f = &check(std::slice::from_ref(&o), now(), 3).findings[0];
        assert_eq!(f.category, Category::PaymentUnlinked);
        assert!(f.detail.contains("transaction ch_123"), "{}", f.detail);
        assert_eq!(f.context["magento_value"]["amount_paid"], json!(120));
        // Not yet due: placed 5 days ago, 6 allowed.
        assert!(check(std::slice::from_ref(&o), now(), 6)
            .findings
            .is_empty());
        o.sap[0].invoiced = true;
        let out = check(&[o], now(), 3);
        assert!(out.findings.is_empty());
        assert_eq!(out.in_order().len(), 1);
    }

    #[test]
    fn nothing_captured_is_nothing_to_link() {
        let mut o = order();
        o.amount_paid = Some(dec!(0));
        assert!(check(&[o], now(), 0).findings.is_empty());
    }
}
