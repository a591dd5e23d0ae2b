//! Refunds: a Magento credit memo must have become an SAP A/R credit memo (or, by the
//! `refunds.close_uninvoiced_order` setting, have closed or reduced its un-invoiced Sales
//! Order) within `refunds.reconcile_after_days` of being made. One that has not is
//! `refund_unmatched` for finance — the category the contract gives to a credit memo that
//! cannot be matched to an SAP document — whatever the refund job says about it: the job's
//! own exceptions say *why* it waits, this finding says that it has waited too long.
//! It resolves itself once SAP has the credit memo (posted by b1bridge or keyed by a person).
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use super::{number, CheckOutcome, Finding};
use crate::domain::exception::Category;

pub const CHECK: &str = "refunds";

/// A refund b1bridge holds, with what SAP B1 shows for it.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundFacts {
    pub credit_memo_id: String,
    pub magento_entity_id: i64,
    pub order_increment_id: Option<String>,
    /// b1bridge's status of the refund (`queued`, `waiting`, `parked`, `posted`, …).
    pub status: String,
    /// When Magento made the credit memo (else when b1bridge received it).
    pub created_at: DateTime<Utc>,
    pub currency: Option<String>,
    pub grand_total: Decimal,
    /// The SAP credit memo with the refund's reference (`DocEntry`, `DocNum`), if any.
    pub sap_credit_note: Option<(i64, i64)>,
}

impl RefundFacts {
    /// Settled without a credit memo: the un-invoiced Sales Order was closed or reduced.
    fn settled_on_the_order(&self) -> bool {
        matches!(self.status.as_str(), "order_closed" | "order_reduced")
    }
}

/// The finding key of a refund: by order and credit memo (a credit memo id is unique only
/// per store, its entity id everywhere).
pub fn key(r: &RefundFacts) -> String {
    format!(
        "reconcile|{CHECK}|{}|creditmemo:{}",
        r.order_increment_id.as_deref().unwrap_or("-"),
        r.magento_entity_id
    )
}

pub fn check(refunds: &[RefundFacts], now: DateTime<Utc>, after_days: u32) -> CheckOutcome {
    let mut out = CheckOutcome::default();
    let due = now - Duration::days(i64::from(after_days));
    for r in refunds {
        let key = key(r);
        let late = r.sap_credit_note.is_none() && !r.settled_on_the_order() && r.created_at <= due;
        let finding = late.then(|| {
            let order = r.order_increment_id.as_deref().unwrap_or("(unknown order)");
            let currency = r.currency.as_deref().unwrap_or("");
            let mut e = Finding {
                check: CHECK,
                category: Category::RefundUnmatched,
                order: r.order_increment_id.as_deref(),
                sku: None,
                title: format!(
                    "Credit memo {} of order {order}: no SAP A/R credit memo after {after_days} day(s)",
                    r.credit_memo_id
                ),
                detail: format!(
                    "Magento refunded {} {currency} on {} (credit memo {}), but SAP B1 has no \
                     A/R credit memo with its reference; b1bridge shows the refund as '{}'. \
                     Revenue, tax and stock stay overstated in SAP B1 until it is there: see \
                     the refund's other exceptions for why it waits, fix that (or key the \
                     credit memo with the same reference in SAP B1); this finding then \
                     resolves itself.",
                    r.grand_total,
                    r.created_at.format("%Y-%m-%d %H:%M UTC"),
                    r.credit_memo_id,
                    r.status
                ),
                sap_document: json!({"object": "CreditNotes", "doc_entry": null}),
                magento_value: json!({"credit_memo": r.credit_memo_id,
                                      "grand_total": number(r.grand_total),
                                      "currency": r.currency}),
                sap_value: json!({"ar_credit_memo": null, "bridge_status": r.status}),
            }
            .into_exception();
            e.dedup_key = key.clone();
            e
        });
        out.saw(key, finding);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap()
    }

    fn refund() -> RefundFacts {
        RefundFacts {
            credit_memo_id: "100000007".into(),
            magento_entity_id: 7,
            order_increment_id: Some("000000013".into()),
            status: "waiting".into(),
            created_at: Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
            currency: Some("EUR".into()),
            grand_total: dec!(36.30),
            sap_credit_note: None,
        }
    }

    #[test]
    fn a_refund_without_credit_memo_after_the_delay_is_refund_unmatched() {
        let r = refund();
        let out = check(std::slice::from_ref(&r), now(), 3);
        let f = &out.findings[0];
        assert_eq!(f.category, Category::RefundUnmatched);
        assert_eq!(f.dedup_key, "reconcile|refunds|000000013|creditmemo:7");
        assert!(f.title.contains("after 3 day(s)"), "{}", f.title);
        assert!(f.skus.is_empty());
        assert_eq!(f.context["magento_value"]["grand_total"], json!(36.3));
        // Not yet due: made 5 days ago, 6 allowed.
        assert!(check(std::slice::from_ref(&r), now(), 6)
            .findings
            .is_empty());
    }

    #[test]
    fn a_credit_memo_in_sap_or_a_settled_order_is_in_order() {
        let mut posted = refund();
        posted.sap_credit_note = Some((4, 104));
        let mut closed = refund();
        closed.magento_entity_id = 8;
        closed.status = "order_reduced".into();
        let out = check(&[posted, closed], now(), 1);
        assert!(out.findings.is_empty());
        assert_eq!(out.in_order().len(), 2);
    }
}
