//! Marketing documents (`SAPB1.Document`): the sales order we create, and the orders,
//! deliveries and invoices we read back (reference §3, §6).
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

use super::lenient;
use crate::domain::ids::{CardCode, ItemCode, WarehouseCode};

/// SAP's internal document key (`DocEntry`), as opposed to the user-facing `DocNum`; the two
/// are easy to mix up, hence the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DocEntry(pub i64);

impl<'de> Deserialize<'de> for DocEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::int(d).map(DocEntry)
    }
}

impl fmt::Display for DocEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// SAP's object type number for sales orders, as found in a target line's `BaseType`.
pub const OBJECT_TYPE_ORDER: i64 = 17;

/// A Sales Order to create (`POST /Orders`). `NumAtCard` carries the Magento increment id so
/// that an order can always be found again before it is (re)posted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewSalesOrder {
    pub card_code: CardCode,
    pub doc_date: NaiveDate,
    pub doc_due_date: NaiveDate,
    pub tax_date: NaiveDate,
    pub num_at_card: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    // No `DocTotal`: SAP back-computes a header discount from a total it is sent (KBA
    // 3697554), and no `Address`/`Address2`: SAP rebuilds them from `AddressExtension`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_extension: Option<AddressExtension>,
    /// SAP payment method code (OPYM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    pub document_lines: Vec<NewDocumentLine>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub document_additional_expenses: Vec<NewAdditionalExpense>,
}

/// One line of a new Sales Order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewDocumentLine {
    pub item_code: ItemCode,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub quantity: Decimal,
    /// Price before the line discount (SAP `PriceBefDi`).
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub unit_price: Decimal,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::arbitrary_precision_option"
    )]
    pub discount_percent: Option<Decimal>,
    /// The net amount in local currency (a local-currency document).
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::arbitrary_precision_option"
    )]
    pub line_total: Option<Decimal>,
    /// The net amount in the document's foreign currency (`RowTotalFC`).
    #[serde(
        rename = "RowTotalFC",
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::arbitrary_precision_option"
    )]
    pub row_total_fc: Option<Decimal>,
    /// Sales tax code (US/Canada localization).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<String>,
    /// VAT group (VAT localizations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_group: Option<String>,
    /// The line's tax as the shop charged it (`TaxTotal`): SAP keeps a line tax it is sent
    /// (SDK help, `Document_Lines.TaxTotal`). Sent only under the `magento_line_tax` strategy.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::arbitrary_precision_option"
    )]
    pub tax_total: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_code: Option<WarehouseCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_description: Option<String>,
}

/// A freight or other order-level charge (`DocumentAdditionalExpenses`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewAdditionalExpense {
    /// The freight type configured in SAP (OEXD.ExpnsCode).
    pub expense_code: i64,
    /// The net amount in local currency.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::arbitrary_precision_option"
    )]
    pub line_total: Option<Decimal>,
    /// The net amount in the document's foreign currency (`LineTotalFC`; the name follows
    /// the metadata's FC twins, see docs/sap-document-calculation.md).
    #[serde(
        rename = "LineTotalFC",
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::arbitrary_precision_option"
    )]
    pub line_total_fc: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_group: Option<String>,
    /// The charge's tax as the shop charged it (`TaxSum`), like a line's `TaxTotal`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::arbitrary_precision_option"
    )]
    pub tax_sum: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// The document's ship-to and bill-to address, written as free text rather than as
/// references to Business Partner addresses, so a guest's address needs no BP address row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddressExtension {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_street_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_building: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_zip_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_county: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_address2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_address3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_street_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_building: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_zip_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_county: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_address2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to_address3: Option<String>,
}

/// SAP's BoStatus of a document or line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentStatus {
    Open,
    Closed,
    Paid,
    Delivered,
    /// A value this client does not know; kept rather than failing the whole document.
    Other(String),
}

impl<'de> Deserialize<'de> for DocumentStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = lenient::string(d)?;
        Ok(match raw.as_str() {
            "bost_Open" | "O" => Self::Open,
            "bost_Close" | "C" => Self::Closed,
            "bost_Paid" | "P" => Self::Paid,
            "bost_Delivered" | "D" => Self::Delivered,
            _ => Self::Other(raw),
        })
    }
}

/// A marketing document as SAP returns it. Orders, delivery notes and invoices share SAP's
/// `Document` type, so they share this struct.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Document {
    pub doc_entry: DocEntry,
    #[serde(deserialize_with = "lenient::int")]
    pub doc_num: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub card_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub num_at_card: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub doc_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub doc_currency: Option<String>,
    #[serde(deserialize_with = "lenient::decimal")]
    pub doc_total: Decimal,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub vat_sum: Option<Decimal>,
    /// `DocTotal` in the document's foreign currency (absent or 0 for local currency).
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub doc_total_fc: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub vat_sum_fc: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub rounding_diff_amount: Option<Decimal>,
    /// Absent only when not selected; SAP's default for a new document is open.
    #[serde(default = "open")]
    pub document_status: DocumentStatus,
    /// `tYES` once cancelled; absent means not cancelled.
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub cancelled: bool,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub tracking_number: Option<String>,
    #[serde(
        rename = "DocumentLines",
        default,
        deserialize_with = "lenient::vec_or_null"
    )]
    pub lines: Vec<DocumentLine>,
}

/// The fields `$select`ed when reading documents (kept in step with [`Document`]).
pub(crate) const DOCUMENT_FIELDS: &[&str] = &[
    "DocEntry",
    "DocNum",
    "CardCode",
    "NumAtCard",
    "DocDate",
    "DocCurrency",
    "DocTotal",
    "VatSum",
    "DocTotalFc",
    "VatSumFc",
    "RoundingDiffAmount",
    "DocumentStatus",
    "Cancelled",
    "TrackingNumber",
    "DocumentLines",
];

fn open() -> DocumentStatus {
    DocumentStatus::Open
}

/// A Sales Order read back from SAP.
pub type SalesOrder = Document;
/// A Delivery (`DeliveryNotes`) read for the status back-sync.
pub type DeliveryNote = Document;
/// An A/R Invoice read for the status back-sync.
pub type Invoice = Document;

/// A document line as SAP returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentLine {
    #[serde(deserialize_with = "lenient::int")]
    pub line_num: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub item_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub item_description: Option<String>,
    #[serde(default, deserialize_with = "lenient::decimal_or_zero")]
    pub quantity: Decimal,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub unit_price: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub discount_percent: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub line_total: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub tax_total: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub tax_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub warehouse_code: Option<String>,
    #[serde(default)]
    pub line_status: Option<DocumentStatus>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub remaining_open_quantity: Option<Decimal>,
    /// Object type of the source document (17 = order; SAP sends -1 when there is none).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub base_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub base_entry: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub base_line: Option<i64>,
}

impl DocumentLine {
    /// The sales order line this delivery/invoice line was copied from, if any: the link the
    /// status back-sync follows from SAP documents to Magento orders.
    pub fn base_order_line(&self) -> Option<(DocEntry, i64)> {
        match (self.base_type, self.base_entry, self.base_line) {
            (Some(OBJECT_TYPE_ORDER), Some(entry), Some(line)) => Some((DocEntry(entry), line)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn new_order_money_is_sent_as_exact_json_numbers_and_absent_options_are_omitted() {
        let order = NewSalesOrder {
            card_code: CardCode::parse("C20000").unwrap(),
            doc_date: NaiveDate::from_ymd_opt(2014, 4, 1).unwrap(),
            doc_due_date: NaiveDate::from_ymd_opt(2014, 4, 3).unwrap(),
            tax_date: NaiveDate::from_ymd_opt(2014, 4, 1).unwrap(),
            num_at_card: "000000013".into(),
            doc_currency: Some("USD".into()),
            comments: None,
            address_extension: Some(AddressExtension {
                ship_to_city: Some("Calder".into()),
                ..Default::default()
            }),
            payment_method: None,
            document_lines: vec![NewDocumentLine {
                item_code: ItemCode::parse("MH01-S-Gray").unwrap(),
                quantity: dec!(2),
                unit_price: dec!(0.1),
                discount_percent: None,
                line_total: Some(dec!(0.20)),
                row_total_fc: None,
                tax_code: Some("CA".into()),
                vat_group: None,
                tax_total: None,
                warehouse_code: None,
                item_description: None,
            }],
            document_additional_expenses: vec![NewAdditionalExpense {
                expense_code: 1,
                line_total: Some(dec!(10.00)),
                line_total_fc: None,
                tax_code: None,
                vat_group: None,
                tax_sum: None,
                remarks: None,
            }],
        };
        let json = serde_json::to_string(&order).unwrap();
        assert_eq!(
            json,
            r#"{"CardCode":"C20000","DocDate":"2014-04-01","DocDueDate":"2014-04-03","TaxDate":"2014-04-01","NumAtCard":"000000013","DocCurrency":"USD","AddressExtension":{"ShipToCity":"Calder"},"DocumentLines":[{"ItemCode":"MH01-S-Gray","Quantity":2,"UnitPrice":0.1,"LineTotal":0.20,"TaxCode":"CA"}],"DocumentAdditionalExpenses":[{"ExpenseCode":1,"LineTotal":10.00}]}"#
        );
    }

    #[test]
    fn documents_read_strings_as_numbers_both_date_forms_and_ignore_unknown_fields() {
        let body = r#"{"odata.metadata":"x","DocEntry":"22","DocNum":11,"DocType":"dDocument_Items",
            "CardCode":"c1","NumAtCard":"000000013","DocDate":"2025-09-12T00:00:00Z","DocTotal":"1000.10",
            "VatSum":87.5,"RoundingDiffAmount":0.0,"DocumentStatus":"bost_Open","Cancelled":"tNO",
            "TrackingNumber":null,"U_Custom":"x",
            "DocumentLines":[{"LineNum":0,"ItemCode":"i1","Quantity":"10","UnitPrice":100,"Price":100,
              "LineTotal":1000,"LineStatus":"bost_Close","BaseType":-1,"BaseEntry":null,"BaseLine":null}]}"#;
        let doc: SalesOrder = serde_json::from_str(body).unwrap();
        assert_eq!(doc.doc_entry, DocEntry(22));
        assert_eq!(doc.doc_num, 11);
        assert_eq!(doc.doc_date, NaiveDate::from_ymd_opt(2025, 9, 12));
        assert_eq!(doc.doc_total, dec!(1000.10));
        assert_eq!(doc.vat_sum, Some(dec!(87.5)));
        assert_eq!(doc.document_status, DocumentStatus::Open);
        assert!(!doc.cancelled);
        assert_eq!(doc.tracking_number, None);
        assert_eq!(doc.lines[0].quantity, dec!(10));
        assert_eq!(doc.lines[0].line_status, Some(DocumentStatus::Closed));
        assert_eq!(doc.lines[0].base_order_line(), None);
    }

    #[test]
    fn delivery_lines_point_back_to_their_order_line() {
        let body = r#"{"DocEntry":5,"DocNum":5,"DocTotal":10,"Cancelled":"Y","DocumentStatus":"C",
            "TrackingNumber":"1Z999","DocumentLines":[{"LineNum":0,"ItemCode":"i1","Quantity":1,
            "BaseType":17,"BaseEntry":22,"BaseLine":1}]}"#;
        let doc: DeliveryNote = serde_json::from_str(body).unwrap();
        assert!(doc.cancelled);
        assert_eq!(doc.document_status, DocumentStatus::Closed);
        assert_eq!(doc.tracking_number.as_deref(), Some("1Z999"));
        assert_eq!(doc.lines[0].base_order_line(), Some((DocEntry(22), 1)));
    }
}

/// What `POST /OrdersService_Preview` answers: the Sales Order SAP *would* create, with its
/// own prices, tax and totals, not numbered (`DocEntry` null) and not stored (GUIDE p.29-31).
/// The go-live audit compares it with Magento to the cent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PreviewDocument {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub doc_currency: Option<String>,
    #[serde(deserialize_with = "lenient::decimal")]
    pub doc_total: Decimal,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub vat_sum: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub doc_total_fc: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub vat_sum_fc: Option<Decimal>,
    /// `TotalDiscount`: a header discount SAP applied (e.g. reverse-calculated from a total).
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub total_discount: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub rounding_diff_amount: Option<Decimal>,
    #[serde(
        rename = "DocumentLines",
        default,
        deserialize_with = "lenient::vec_or_null"
    )]
    pub lines: Vec<PreviewLine>,
    #[serde(
        rename = "DocumentAdditionalExpenses",
        default,
        deserialize_with = "lenient::vec_or_null"
    )]
    pub expenses: Vec<PreviewExpense>,
}

/// One line of a previewed document.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PreviewLine {
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub line_num: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub item_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub unit_price: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub line_total: Option<Decimal>,
    #[serde(
        rename = "RowTotalFC",
        default,
        deserialize_with = "lenient::opt_decimal"
    )]
    pub row_total_fc: Option<Decimal>,
    /// Local currency, like every tax amount SAP books.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub tax_total: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub tax_percentage_per_row: Option<Decimal>,
}

/// One freight row of a previewed document.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PreviewExpense {
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub expense_code: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub line_total: Option<Decimal>,
    #[serde(
        rename = "LineTotalFC",
        default,
        deserialize_with = "lenient::opt_decimal"
    )]
    pub line_total_fc: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub tax_sum: Option<Decimal>,
}
