//! Approval procedures (reference §3, `docs/sap-exactly-once.md`): when a procedure applies to
//! a new Sales Order, B1 stores a **draft** (`Drafts`, ODRF) instead of the order. The Service
//! Layer then answers the plain `POST /Orders` with the error -2028 although the draft *was*
//! stored; with `Prefer: return-no-content` it answers 204 with an empty body. The reference
//! does not say whether that 204 carries a `Location`, so the simulator sends none (the
//! stricter reading: a client must find its draft by looking, not by trusting the answer).
//!
//! An approver's decision is made in the B1 client, here through the control endpoints:
//! approving adds the order from the draft (same `NumAtCard`, its own `DocEntry`) and closes the
//! draft; rejecting leaves the draft open, as B1 leaves a rejected draft with its originator.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::company::{Company, Stamp};
use super::documents::{DocKind, Document};
use super::enums::DocStatus;
use super::errors::ServiceLayerError;
use super::order_actions::change_committed;

/// A procedure of the seed: when it applies, a new Sales Order becomes a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalProcedure {
    pub name: String,
    /// Applies to documents whose `DocTotal` is at least this (B1's "document total" term).
    #[serde(default, with = "rust_decimal::serde::arbitrary_precision_option")]
    pub min_doc_total: Option<Decimal>,
    /// Applies only to these customers; empty means every customer.
    #[serde(default)]
    pub card_codes: Vec<String>,
}

impl ApprovalProcedure {
    /// Every term of the procedure holds for `doc` (a procedure without terms always applies).
    pub fn applies(&self, doc: &Document) -> bool {
        let total_ok = self.min_doc_total.is_none_or(|min| doc.doc_total >= min);
        let customer_ok = self.card_codes.is_empty() || self.card_codes.contains(&doc.card_code);
        total_ok && customer_ok
    }
}

/// The decision an approver makes in the B1 client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// Stores `order` as a draft awaiting approval: numbered in the drafts' own series, no stock
/// committed (a draft moves nothing).
pub fn add_draft(company: &mut Company, mut order: Document) {
    let (doc_entry, doc_num) = company.next_numbers(DocKind::Draft);
    order.doc_entry = doc_entry;
    order.doc_num = doc_num;
    company.drafts.insert(doc_entry, order);
}

/// Applies an approver's decision to an open draft. Approving answers the Sales Order added
/// from it; rejecting answers `None`.
pub fn decide(
    company: &mut Company,
    draft_entry: i64,
    decision: Decision,
    now: &Stamp,
) -> Result<Option<Document>, ServiceLayerError> {
    let draft = company
        .drafts
        .get(&draft_entry)
        .ok_or_else(ServiceLayerError::not_found)?;
    if draft.document_status != DocStatus::Open {
        return Err(ServiceLayerError::business(format!(
            "Draft {} is closed; it was already added as a document",
            draft.doc_num
        )));
    }
    if decision == Decision::Reject {
        return Ok(None);
    }
    let mut order = draft.clone();
    let (doc_entry, doc_num) = company.next_numbers(DocKind::Order);
    order.doc_entry = doc_entry;
    order.doc_num = doc_num;
    order.update_date = now.date;
    order.update_time = now.time.clone();
    for line in &order.document_lines {
        change_committed(company, line, line.quantity);
    }
    company.put_order(order.clone());
    let draft = company.drafts.get_mut(&draft_entry).expect("read above");
    draft.document_status = DocStatus::Close;
    for line in &mut draft.document_lines {
        line.line_status = DocStatus::Close;
    }
    draft.update_date = now.date;
    draft.update_time = now.time.clone();
    Ok(Some(order))
}
