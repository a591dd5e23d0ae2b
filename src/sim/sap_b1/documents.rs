//! Marketing documents (`Orders`, `DeliveryNotes`, `Invoices`, `CreditNotes`: type `SAPB1.Document`) with the
//! properties the bridge reads and writes (META names, reference §3).
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::entities::to_object;
use super::enums::{CancelStatus, DocObject, DocStatus, DocType, YesNo};

/// A document. `user_fields` (`U_…`) are merged into the JSON by [`Document::to_object`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Document {
    pub doc_entry: i64,
    pub doc_num: i64,
    pub doc_type: DocType,
    pub doc_object_code: DocObject,
    pub doc_date: NaiveDate,
    pub doc_due_date: NaiveDate,
    pub tax_date: NaiveDate,
    pub creation_date: NaiveDate,
    pub update_date: NaiveDate,
    pub update_time: String,
    pub card_code: String,
    pub card_name: Option<String>,
    pub num_at_card: Option<String>,
    pub doc_currency: String,
    pub comments: Option<String>,
    pub ship_to_code: Option<String>,
    pub pay_to_code: Option<String>,
    pub address: Option<String>,
    pub address2: Option<String>,
    pub tracking_number: Option<String>,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub discount_percent: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub total_discount: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub vat_sum: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub rounding_diff_amount: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub doc_total: Decimal,
    /// Local currency per unit of `DocCurrency` on `DocDate` (1 for the local currency).
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub doc_rate: Decimal,
    /// The totals in the document's foreign currency; 0 on a local-currency document.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub doc_total_fc: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub vat_sum_fc: Decimal,
    pub document_status: DocStatus,
    pub cancelled: YesNo,
    pub cancel_status: CancelStatus,
    pub address_extension: Option<Value>,
    pub document_lines: Vec<DocumentLine>,
    pub document_additional_expenses: Vec<DocumentExpense>,
    #[serde(skip)]
    pub user_fields: BTreeMap<String, Value>,
}

/// One row of `DocumentLines`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentLine {
    pub line_num: i64,
    pub item_code: String,
    pub item_description: String,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub quantity: Decimal,
    /// Price before the line discount.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub unit_price: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub discount_percent: Decimal,
    /// Price after the line discount.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub price: Decimal,
    #[serde(
        rename = "PriceAfterVAT",
        with = "rust_decimal::serde::arbitrary_precision"
    )]
    pub price_after_vat: Decimal,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub line_total: Decimal,
    /// The net amount in the document's foreign currency (0 on a local-currency document).
    #[serde(
        rename = "RowTotalFC",
        with = "rust_decimal::serde::arbitrary_precision"
    )]
    pub row_total_fc: Decimal,
    pub tax_code: Option<String>,
    pub vat_group: Option<String>,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub tax_percentage_per_row: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub tax_total: Decimal,
    pub warehouse_code: String,
    pub line_status: DocStatus,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub remaining_open_quantity: Decimal,
    /// -1 when the line copies nothing, else the base object (17 for an order).
    pub base_type: i64,
    pub base_entry: Option<i64>,
    pub base_line: Option<i64>,
    /// "Without Qty Posting" (NoInvtryMv): a credit-note line that returns no stock.
    pub without_inventory_movement: YesNo,
    pub serial_numbers: Vec<Value>,
    pub batch_numbers: Vec<Value>,
    #[serde(skip)]
    pub user_fields: BTreeMap<String, Value>,
}

/// One row of `DocumentAdditionalExpenses` (freight).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentExpense {
    pub line_num: i64,
    pub expense_code: i64,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub line_total: Decimal,
    #[serde(
        rename = "LineTotalFC",
        with = "rust_decimal::serde::arbitrary_precision"
    )]
    pub line_total_fc: Decimal,
    pub tax_code: Option<String>,
    pub vat_group: Option<String>,
    /// The rate of its tax code when booked (kept for the invoice that copies the freight).
    #[serde(skip)]
    pub tax_rate: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub tax_sum: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub line_gross: Decimal,
    pub remarks: Option<String>,
}

impl Document {
    /// The document as the Service Layer answers it, user fields included.
    pub fn to_object(&self) -> Map<String, Value> {
        let mut object = to_object(self);
        object.extend(self.user_fields.clone());
        if let Some(Value::Array(lines)) = object.get_mut("DocumentLines") {
            for (json, line) in lines.iter_mut().zip(&self.document_lines) {
                if let Value::Object(map) = json {
                    map.extend(line.user_fields.clone());
                }
            }
        }
        object
    }

    pub fn is_open(&self) -> bool {
        self.document_status == DocStatus::Open && !self.cancelled.is_yes()
    }

    /// True once any quantity was copied to a delivery or invoice.
    pub fn has_target_documents(&self) -> bool {
        self.document_lines
            .iter()
            .any(|l| l.remaining_open_quantity < l.quantity)
    }
}

/// The three document entity sets and their B1 identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Order,
    DeliveryNote,
    Invoice,
    /// An A/R credit memo (`CreditNotes`, ORIN).
    CreditNote,
    /// A document stored by an approval procedure instead of being added (`Drafts`).
    Draft,
}

impl DocKind {
    pub fn object(self) -> DocObject {
        match self {
            DocKind::Order => DocObject::Orders,
            DocKind::DeliveryNote => DocObject::DeliveryNotes,
            DocKind::Invoice => DocObject::Invoices,
            DocKind::CreditNote => DocObject::CreditNotes,
            // The simulator drafts only Sales Orders; a draft's `DocObjectCode` names the
            // object it will become.
            DocKind::Draft => DocObject::Orders,
        }
    }

    /// The object type number used in `BaseType`.
    pub fn object_type(self) -> i64 {
        match self {
            DocKind::Order => 17,
            DocKind::DeliveryNote => 15,
            DocKind::Invoice => 13,
            DocKind::CreditNote => 14,
            DocKind::Draft => 112,
        }
    }
}
