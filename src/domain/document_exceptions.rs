//! Exceptions about *which* SAP document an order is: a draft awaiting approval, a reference
//! that cannot be built, a cancel that met a partial delivery or a draft. Pure, like
//! [`posting`](super::posting), whose `SapDocument` they name.
use rust_decimal::Decimal;
use serde_json::json;

use super::exception::{Category, NewException, SapErrorInfo};
use super::order::Order;
use super::posting::SapDocument;

/// SAP made a draft of the order (an approval procedure applies); finance approves it in SAP.
pub fn approval_pending(order: &Order, draft: SapDocument, reference: &str) -> NewException {
    let id = order.increment_id.as_str();
    let SapDocument { doc_entry, doc_num } = draft;
    NewException {
        category: Category::ApprovalPending,
        dedup_key: NewException::dedup_key_for(Category::ApprovalPending, Some(id), &[]),
        title: format!(
            "Order {id} awaits approval in SAP B1: draft {doc_num} (DocEntry {doc_entry})"
        ),
        detail: format!(
            "An approval procedure in SAP B1 turned Sales Order '{reference}' of Magento order \
             {id} into draft {doc_num} (DocEntry {doc_entry}). Nothing is lost and nothing is \
             posted twice: b1bridge checks the draft regularly (approval_check_interval_secs) and \
             records the Sales Order once the approver has added it; this exception then \
             resolves itself. Approve the draft in SAP B1 (or reject it and cancel the order)."
        ),
        order_increment_id: Some(id.to_owned()),
        skus: vec![],
        sap_error: None,
        context: json!({ "draft_doc_entry": doc_entry, "draft_doc_num": doc_num, "num_at_card": reference }),
    }
}

/// The order's SAP reference cannot be built under the configured format.
pub fn reference_unavailable(increment_id: &str, problem: &str) -> NewException {
    NewException {
        category: Category::PayloadInvalid,
        dedup_key: NewException::dedup_key_for(
            Category::PayloadInvalid,
            Some(increment_id),
            &["num_at_card".into()],
        ),
        title: format!("Order {increment_id} has no SAP reference (NumAtCard): {problem}"),
        detail: format!(
            "{problem}. Change num_at_card_format in /api/v1/settings, or have Magento send the \
             order with its store, then retry the exception."
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: vec![],
        sap_error: None,
        context: json!({ "problem": problem }),
    }
}

/// One order line as far as SAP delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveredLine {
    pub item_code: String,
    pub ordered: Decimal,
    pub delivered: Decimal,
}

/// Magento cancelled an order that SAP had delivered or invoiced, in part or in full: the open
/// remainder was closed (`closed`), what left the warehouse is for operations to settle.
pub fn partly_delivered(
    increment_id: &str,
    document: SapDocument,
    delivered: &[DeliveredLine],
    closed: bool,
    sap_error: Option<SapErrorInfo>,
) -> NewException {
    let SapDocument { doc_entry, doc_num } = document;
    let what: Vec<String> = delivered
        .iter()
        .map(|l| {
            format!(
                "{} {} of {}",
                l.item_code,
                l.delivered.normalize(),
                l.ordered.normalize()
            )
        })
        .collect();
    let remainder = if closed {
        "b1bridge closed the open remainder of the Sales Order"
    } else {
        "nothing was left open on the Sales Order"
    };
    NewException {
        category: Category::CancelConflict,
        dedup_key: NewException::dedup_key_for(Category::CancelConflict, Some(increment_id), &[]),
        title: format!(
            "Order {increment_id} was cancelled in Magento after SAP B1 Sales Order {doc_num} \
             (DocEntry {doc_entry}) was delivered: {}",
            what.join(", ")
        ),
        detail: format!(
            "SAP B1 cannot cancel Sales Order {doc_num} (DocEntry {doc_entry}) once any of it \
             is delivered or invoiced; {remainder}. Delivered or invoiced: {}. Stop or recall the shipment, or book a \
             return and credit note in SAP B1, and tell the customer; then resolve the \
             exception.",
            what.join(", ")
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: vec![],
        sap_error,
        context: json!({
            "doc_entry": doc_entry,
            "doc_num": doc_num,
            "closed_remainder": closed,
            "delivered": delivered.iter().map(|l| json!({
                "item_code": l.item_code,
                "ordered": l.ordered.normalize().to_string(),
                "delivered": l.delivered.normalize().to_string(),
            })).collect::<Vec<_>>(),
        }),
    }
}

/// Magento cancelled an order whose SAP document is still a draft awaiting approval.
pub fn cancelled_while_awaiting_approval(increment_id: &str, draft: SapDocument) -> NewException {
    let SapDocument { doc_entry, doc_num } = draft;
    NewException {
        category: Category::CancelConflict,
        dedup_key: NewException::dedup_key_for(Category::CancelConflict, Some(increment_id), &[]),
        title: format!(
            "Order {increment_id} was cancelled in Magento while its SAP B1 draft {doc_num} \
             awaits approval"
        ),
        detail: format!(
            "Magento cancelled order {increment_id}; in SAP B1 it is draft {doc_num} (DocEntry \
             {doc_entry}) awaiting approval. Reject or remove the draft in SAP B1 so it is never \
             added as a Sales Order, then resolve the exception."
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: vec![],
        sap_error: None,
        context: json!({ "draft_doc_entry": doc_entry, "draft_doc_num": doc_num }),
    }
}

/// Several open SAP Sales Orders carry the order's reference, and none is recorded as
/// b1bridge's: a cancel does not guess which one to cancel.
pub fn several_documents(
    increment_id: &str,
    reference: &str,
    documents: &[SapDocument],
) -> NewException {
    let list: Vec<String> = documents
        .iter()
        .map(|d| format!("{} (DocEntry {})", d.doc_num, d.doc_entry))
        .collect();
    NewException {
        category: Category::CancelConflict,
        dedup_key: NewException::dedup_key_for(Category::CancelConflict, Some(increment_id), &[]),
        title: format!(
            "Order {increment_id} was cancelled in Magento; SAP B1 has several Sales Orders \
             with reference '{reference}': {}",
            list.join(", ")
        ),
        detail: format!(
            "b1bridge recorded no Sales Order for order {increment_id}, and SAP B1 holds several \
             open ones with its reference '{reference}' ({}). b1bridge cancels only a document \
             it knows to be this order's: cancel the right one in SAP B1, then resolve the \
             exception.",
            list.join(", ")
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: vec![],
        sap_error: None,
        context: json!({ "num_at_card": reference, "documents": list }),
    }
}
