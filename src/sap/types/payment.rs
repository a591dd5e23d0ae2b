//! Outgoing payments (`VendorPayments`, OVPM) paying a customer back for a credit memo, and
//! the PATCH that changes Sales Order line quantities (docs/refunds.md).
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::document::DocEntry;
use super::lenient;

/// `BoRcptTypes` of a payment to or from a customer.
pub const PAYMENT_TO_CUSTOMER: &str = "rCustomer";
/// `BoRcptInvTypes` of a payment line applied to an A/R credit memo.
pub const APPLIED_TO_CREDIT_NOTE: &str = "it_CredItnote";

/// An outgoing payment to create (`POST /VendorPayments`): a bank transfer from
/// `TransferAccount` to the customer, applied to one A/R credit memo.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewOutgoingPayment {
    pub doc_type: &'static str,
    pub card_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc_currency: Option<String>,
    pub transfer_account: String,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub transfer_sum: Decimal,
    pub remarks: String,
    pub payment_invoices: Vec<NewPaymentInvoice>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewPaymentInvoice {
    pub doc_entry: i64,
    pub invoice_type: &'static str,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub sum_applied: Decimal,
}

/// An outgoing payment as SAP returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutgoingPayment {
    pub doc_entry: DocEntry,
    #[serde(deserialize_with = "lenient::int")]
    pub doc_num: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub card_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub cancelled: bool,
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub payment_invoices: Vec<PaymentInvoice>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PaymentInvoice {
    #[serde(deserialize_with = "lenient::int")]
    pub doc_entry: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub invoice_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::decimal_or_zero")]
    pub sum_applied: Decimal,
}

impl OutgoingPayment {
    /// Whether it pays (part of) A/R credit memo `credit_note`.
    pub fn applies_to_credit_note(&self, credit_note: i64) -> bool {
        !self.cancelled
            && self.payment_invoices.iter().any(|p| {
                p.doc_entry == credit_note
                    && p.invoice_type.as_deref() == Some(APPLIED_TO_CREDIT_NOTE)
            })
    }
}

pub(crate) const OUTGOING_PAYMENT_FIELDS: &[&str] = &[
    "DocEntry",
    "DocNum",
    "CardCode",
    "Cancelled",
    "PaymentInvoices",
];

/// `PATCH /Orders(n)` changing line quantities.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderLinesPatch {
    pub document_lines: Vec<OrderLineQuantity>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderLineQuantity {
    pub line_num: i64,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub quantity: Decimal,
}
