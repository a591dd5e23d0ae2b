//! What this service sends to and learns from SAP B1, in domain terms: the Sales Order we
//! will `POST /Orders`, the Business Partner we may create, and the item-master facts that
//! decide whether a line can be posted. The SAP client turns these into its own wire
//! structs (`DocumentLines`, `DocumentAdditionalExpenses`, `AddressExtension`, …); amounts
//! are exact decimals and serialize as JSON numbers so a draft can be stored and replayed.
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::company::TaxLocalization;
use super::ids::{CardCode, IncrementId, ItemCode, Sku, TaxCode, WarehouseCode};
use super::money::Currency;

/// A Sales Order ready to post. Built only by [`super::mapping::build_draft`], so Magento's
/// figures are already in SAP's shape: discounted net line totals, mapped tax codes and
/// shipping as a freight expense. No document total is sent: SAP would back-compute a header
/// discount from it (docs/sap-document-calculation.md); Magento's totals are what SAP's must
/// come to, checked before and after posting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SalesOrderDraft {
    pub card_code: CardCode,
    /// `DocDate`: the day Magento took the order, in the store's time zone.
    pub doc_date: NaiveDate,
    /// `DocDueDate` (required on sales orders): the same day; SAP users re-plan deliveries.
    pub doc_due_date: NaiveDate,
    /// `TaxDate` (document date): the same day, so the tax date is the order's.
    pub tax_date: NaiveDate,
    /// `NumAtCard`: the idempotency key looked up before every (re)post.
    pub num_at_card: IncrementId,
    /// `DocCurrency`: Magento's order currency.
    pub currency: Currency,
    /// The currency is not the company's local currency: amounts go in the FC fields
    /// (`RowTotalFC`, `LineTotalFC`) and SAP's totals are read from `DocTotalFc`/`VatSumFc`.
    pub foreign_currency: bool,
    /// Which line field carries the tax code (`VatGroup` or `TaxCode`).
    pub tax_localization: TaxLocalization,
    /// Send Magento's tax of each line and of the freight (`TaxTotal`/`TaxSum`), which SAP
    /// keeps (the `magento_line_tax` strategy, local currency only).
    pub send_line_tax: bool,
    /// `Comments` (≤ 254 characters): names the Magento order, coupon, guest e-mail, payment.
    pub comments: String,
    /// Magento's `grand_total`: what SAP's `DocTotal` (`DocTotalFc`) must come to. Never sent.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub expected_doc_total: Decimal,
    /// Magento's total tax, what SAP's `VatSum` must come to (checked after posting).
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub expected_vat_sum: Decimal,
    pub address_extension: AddressExtension,
    /// `PaymentMethod` from the payment-methods mapping.
    pub payment_method: Option<String>,
    pub lines: Vec<DraftLine>,
    pub expenses: Vec<DraftExpense>,
}

/// One `DocumentLines` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftLine {
    pub item_code: ItemCode,
    /// The Magento SKU behind the line (for messages and the shipment back-sync).
    pub sku: Sku,
    /// `ItemDescription` (≤ 100 characters): Magento's product name.
    pub description: Option<String>,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub quantity: Decimal,
    /// `UnitPrice`: price before discount, excluding tax.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub unit_price: Decimal,
    /// `DiscountPercent`, when Magento discounted the line (never 100: SAP refuses that).
    #[serde(with = "crate::domain::money::option_number")]
    pub discount_percent: Option<Decimal>,
    /// `LineTotal`: the discounted net amount, Magento's `row_total − discount_amount`.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub line_total: Decimal,
    /// `TaxCode` or `VatGroup`, by localization.
    pub tax_code: TaxCode,
    /// Magento's tax on this line: sent as `TaxTotal` under the `magento_line_tax` strategy,
    /// else what SAP's own per-line figure is compared with before posting.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub tax_amount: Decimal,
    /// `WarehouseCode`.
    pub warehouse_code: WarehouseCode,
    /// Magento `item_id` of the line that carries the money (the parent of a configurable).
    pub magento_item_id: Option<i64>,
}

/// One `DocumentAdditionalExpenses` entry: shipping as freight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftExpense {
    /// `ExpenseCode`.
    pub expense_code: i32,
    /// `LineTotal`: shipping net of tax and of Magento's shipping discount.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub line_total: Decimal,
    /// `TaxCode` or `VatGroup`, by localization.
    pub tax_code: TaxCode,
    /// Magento's shipping tax (`TaxSum` under the `magento_line_tax` strategy).
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub tax_amount: Decimal,
    /// `Remarks`: Magento's shipping description, e.g. "Flat Rate - Fixed".
    pub remarks: Option<String>,
}

/// The document's `AddressExtension`: the addresses the customer gave for this order.
/// Essential on the shared guest Business Partner, whose master data belongs to nobody.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddressExtension {
    pub ship_to: Option<DocumentAddress>,
    pub bill_to: Option<DocumentAddress>,
}

/// An address in SAP's columns (`…Street`, `…City`, `…ZipCode`, `…State`, `…Country`),
/// cut to SAP's column lengths.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentAddress {
    /// Person and company. Sent in the extension's building field: SAP rebuilds the
    /// `Address`/`Address2` blocks from the extension's parts, so a name sent only there is
    /// lost (docs/sap-document-calculation.md).
    pub name: Option<String>,
    /// Magento's street lines joined with ", " (≤ 100).
    pub street: Option<String>,
    pub city: Option<String>,
    pub zip_code: Option<String>,
    /// SAP state code (≤ 3, e.g. `MI`); Magento's `region_code` when it fits.
    pub state: Option<String>,
    /// ISO 3166 alpha-2 country, e.g. `US`.
    pub country: Option<String>,
    pub telephone: Option<String>,
}

/// What SAP's item master says about an ItemCode, as far as posting a Sales Order cares.
/// Read by the SAP client from `/Items` and cached for `Settings::item_cache_ttl_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFacts {
    /// False for a cached negative answer ("SAP has no such item").
    pub exists: bool,
    /// `Valid` = tYES (an inactive item cannot be sold).
    pub valid: bool,
    /// `Frozen` = tYES.
    pub frozen: bool,
    /// `SalesItem` = tYES.
    pub sales_item: bool,
    /// `ManageSerialNumbers` = tYES.
    pub serial_managed: bool,
    /// `ManageBatchNumbers` = tYES.
    pub batch_managed: bool,
}

/// A Business Partner to create when no existing one is found by e-mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewBusinessPartner {
    pub card_code: CardCode,
    /// `CardName` (≤ 100): the customer's name, else the e-mail.
    pub card_name: String,
    /// `EmailAddress`, lower-case.
    pub email: String,
    /// `Phone1`, from the billing address.
    pub phone: Option<String>,
    /// `BPAddresses` of type `bo_BillTo`.
    pub bill_to: Option<DocumentAddress>,
    /// `BPAddresses` of type `bo_ShipTo`.
    pub ship_to: Option<DocumentAddress>,
}
