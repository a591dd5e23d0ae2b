//! Orders: every Magento order of the window exists in SAP B1 once (one Sales Order with its
//! reference that is not cancelled), or the flow already shows why not (an open exception) or
//! is still working on it (a pending job). A cancelled Magento order needs no SAP order; the
//! cancellation check looks at it.
use serde_json::json;

use super::{finding_key, CheckOutcome, Finding, OrderFacts};
use crate::domain::exception::Category;

pub const CHECK: &str = "orders";

pub fn check(orders: &[OrderFacts]) -> CheckOutcome {
    let mut out = CheckOutcome::default();
    for o in orders {
        let key = finding_key(CHECK, Some(&o.increment_id), None);
        let finding = if o.cancelled_in_magento() || o.owned_by_flow() {
            None
        } else {
            finding(o)
        };
        out.saw(key, finding);
    }
    out
}

fn finding(o: &OrderFacts) -> Option<crate::domain::exception::NewException> {
    let live = o.live_sap();
    let id = o.increment_id.as_str();
    let (category, title, detail) = match (live.len(), &o.bridge) {
        (1, _) => return None,
        (0, None) => (
            // Magento has it, b1bridge never received it: its webhook was lost.
            Category::MissedWebhook,
            format!("Magento order {id} never reached b1bridge and is not in SAP B1"),
            format!(
                "Reconciliation found order {id} in Magento, but b1bridge has no webhook for \
                 it and SAP B1 has no Sales Order with reference '{}'. Check the Magento \
                 webhook configuration; the missed-webhook poll ingests such orders.",
                o.reference
            ),
        ),
        (0, Some(b)) => (
            Category::SapRejected,
            format!("Order {id} is not in SAP B1"),
            format!(
                "b1bridge records order {id} as '{}'{}, but SAP B1 has no Sales Order with \
                 reference '{}' that is not cancelled. Look in SAP for the document (it may \
                 have been cancelled or renumbered by hand); retry the order from its page \
                 if it must be posted again.",
                b.status,
                b.sap_doc_entry
                    .map(|e| format!(" with DocEntry {e}"))
                    .unwrap_or_default(),
                o.reference
            ),
        ),
        (n, _) => (
            Category::SapRejected,
            format!("Order {id} is in SAP B1 {n} times"),
            format!(
                "SAP B1 has {n} Sales Orders with reference '{}' that are not cancelled \
                 (DocNum {}). Keep one and cancel the others in SAP B1.",
                o.reference,
                live.iter()
                    .map(|d| d.doc_num.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
    Some(
        Finding {
            check: CHECK,
            category,
            order: Some(id),
            sku: None,
            title,
            detail,
            sap_document: json!(live.iter().map(|d| d.describe()).collect::<Vec<_>>()),
            magento_value: json!({"increment_id": id, "state": o.magento_state}),
            sap_value: json!({"sales_orders": live.len()}),
        }
        .into_exception(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{order, sap_order};
    use super::*;

    #[test]
    fn one_sap_order_is_in_order() {
        let out = check(&[order()]);
        assert!(out.findings.is_empty());
        assert_eq!(out.in_order(), ["reconcile|orders|000000013|-"]);
    }

    #[test]
    fn a_missing_order_is_a_missed_webhook_or_a_lost_document() {
        let mut o = order();
        o.sap.clear();
        let bridge = o.bridge.take();
        let out = check(std::slice::from_ref(&o));
        assert_eq!(out.findings[0].category, Category::MissedWebhook);
        o.bridge = bridge;
        let out = check(&[o]);
        assert_eq!(out.findings[0].category, Category::SapRejected);
        assert!(out.findings[0].detail.contains("DocEntry 7"));
    }

    #[test]
    fn a_cancelled_sap_order_does_not_count() {
        let mut o = order();
        o.sap[0].cancelled = true;
        assert_eq!(check(&[o]).findings.len(), 1);
    }

    #[test]
    fn duplicates_are_named_by_docnum() {
        let mut o = order();
        o.sap.push(SapOrder {
            doc_entry: 8,
            doc_num: 108,
            ..sap_order()
        });
        let f = &check(&[o]).findings[0];
        assert!(f.title.contains("2 times"), "{}", f.title);
        assert!(f.detail.contains("107, 108"), "{}", f.detail);
    }

    #[test]
    fn the_flow_owns_orders_with_an_open_exception_or_a_pending_job() {
        for (exception, in_flight) in [(true, false), (false, true)] {
            let mut o = order();
            o.sap.clear();
            let b = o.bridge.as_mut().unwrap();
            b.open_exception = exception;
            b.in_flight = in_flight;
            let out = check(&[o]);
            assert!(out.findings.is_empty());
            assert_eq!(
                out.checked.len(),
                1,
                "looked at, so an old finding resolves"
            );
        }
    }

    use super::super::SapOrder;
}
