//! Cancellations: an order cancelled in Magento whose SAP B1 Sales Order is still open, or a
//! Sales Order cancelled in SAP B1 whose Magento order is still active. Operations owns both
//! (`cancel_conflict`): goods may ship that nobody pays for, or a paying customer waits for
//! goods SAP no longer plans. While b1bridge is still cancelling, or the flow already shows an
//! exception for the order, the flow owns it.
use serde_json::json;

use super::{finding_key, CheckOutcome, Finding, OrderFacts};
use crate::domain::exception::{Category, NewException};

pub const CHECK: &str = "cancellations";

/// Magento states in which an order is finished, so a cancelled SAP order is no conflict
/// (a `closed` order was refunded: the refund check's business).
const MAGENTO_DONE: [&str; 2] = ["canceled", "closed"];

pub fn check(orders: &[OrderFacts]) -> CheckOutcome {
    let mut out = CheckOutcome::default();
    for o in orders.iter().filter(|o| !o.sap.is_empty()) {
        let key = finding_key(CHECK, Some(&o.increment_id), None);
        let finding = if o.owned_by_flow() { None } else { finding(o) };
        out.saw(key, finding);
    }
    out
}

fn finding(o: &OrderFacts) -> Option<NewException> {
    let id = o.increment_id.as_str();
    let state = o.magento_state.as_deref().unwrap_or("unknown");
    if o.cancelled_in_magento() {
        let open = o.sap.iter().find(|d| d.open && !d.cancelled)?;
        return Some(
            Finding {
                check: CHECK,
                category: Category::CancelConflict,
                order: Some(id),
                sku: None,
                title: format!(
                    "Order {id} is cancelled in Magento but open in SAP B1 (DocNum {})",
                    open.doc_num
                ),
                detail: format!(
                    "Magento cancelled order {id}, but SAP B1 Sales Order DocNum {} (DocEntry \
                     {}) is still open, so it can still be delivered and invoiced. Cancel or \
                     close it in SAP B1, or check why the cancellation did not reach SAP.",
                    open.doc_num, open.doc_entry
                ),
                sap_document: open.describe(),
                magento_value: json!({"state": state}),
                sap_value: json!({"document_status": "open", "cancelled": false}),
            }
            .into_exception(),
        );
    }
    if MAGENTO_DONE.contains(&state) || !o.live_sap().is_empty() {
        return None;
    }
    let cancelled = o.sap.iter().find(|d| d.cancelled)?;
    Some(
        Finding {
            check: CHECK,
            category: Category::CancelConflict,
            order: Some(id),
            sku: None,
            title: format!(
                "Order {id} is cancelled in SAP B1 (DocNum {}) but '{state}' in Magento",
                cancelled.doc_num
            ),
            detail: format!(
                "SAP B1 Sales Order DocNum {} (DocEntry {}) of order {id} is cancelled and no \
                 other Sales Order carries its reference, but the Magento order is still \
                 '{state}': the customer expects goods SAP no longer plans. Cancel the order \
                 in Magento (refunding what was paid), or post it to SAP again.",
                cancelled.doc_num, cancelled.doc_entry
            ),
            sap_document: cancelled.describe(),
            magento_value: json!({"state": state}),
            sap_value: json!({"cancelled": true}),
        }
        .into_exception(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::order;
    use super::*;

    #[test]
    fn agreeing_systems_are_in_order() {
        let out = check(&[order()]);
        assert!(out.findings.is_empty());
        assert_eq!(out.checked.len(), 1);
        let mut o = order();
        o.magento_state = Some("canceled".into());
        o.sap[0].cancelled = true;
        o.sap[0].open = false;
        assert!(check(&[o]).findings.is_empty());
    }

    #[test]
    fn cancelled_in_magento_but_open_in_sap() {
        let mut o = order();
        o.magento_state = Some("canceled".into());
        let f = &check(&[o]).findings[0];
        assert_eq!(f.category, Category::CancelConflict);
        assert!(
            f.title.contains("cancelled in Magento but open"),
            "{}",
            f.title
        );
    }

    #[test]
    fn cancelled_in_sap_but_active_in_magento() {
        let mut o = order();
        o.sap[0].cancelled = true;
        let f = &check(std::slice::from_ref(&o)).findings[0];
        assert!(f.title.contains("cancelled in SAP B1"), "{}", f.title);
        o.magento_state = Some("closed".into());
        assert!(check(&[o]).findings.is_empty());
    }

    #[test]
    fn a_cancellation_in_progress_belongs_to_the_flow() {
        let mut o = order();
        o.magento_state = Some("canceled".into());
        o.bridge.as_mut().unwrap().in_flight = true;
        assert!(check(&[o]).findings.is_empty());
    }
}
