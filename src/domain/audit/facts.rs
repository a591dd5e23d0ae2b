//! What the audit read, in domain terms: the worker turns SAP's and Magento's answers into
//! these, and the checks read nothing else.
use rust_decimal::Decimal;

use crate::domain::company::TaxLocalization;

/// A Magento catalogue product (`GET /V1/products`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub sku: String,
    /// `simple`, `configurable`, `bundle`, …; `None` when Magento did not say.
    pub type_id: Option<String>,
    pub enabled: bool,
}

/// An SAP item (`Items`), as far as selling it matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SapItem {
    pub item_code: String,
    pub valid: bool,
    pub frozen: bool,
    pub sales_item: bool,
    pub inventory_item: bool,
    pub serial_managed: bool,
    pub batch_managed: bool,
}

/// An SAP warehouse (`Warehouses`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SapWarehouse {
    pub code: String,
    pub inactive: bool,
}

/// A Magento MSI source (`GET /V1/inventory/sources`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagentoSource {
    pub code: String,
    pub enabled: bool,
}

/// A Magento tax rate (`GET /V1/taxRates/search`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagentoRate {
    pub code: String,
    pub percent: Decimal,
}

/// An SAP tax code of either localization: a VAT group (`VatGroups`) or a sales tax code
/// (`SalesTaxCodes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SapTaxCode {
    pub code: String,
    pub localization: TaxLocalization,
    /// An output VAT group, or a sales tax code valid for A/R documents.
    pub for_sales: bool,
    pub inactive: bool,
    /// The rate in force today, in percent.
    pub percent: Option<Decimal>,
}

/// An SAP Business Partner (`BusinessPartners`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SapPartner {
    pub card_code: String,
    /// A customer (`cCustomer`); a partner without a type counts as one.
    pub customer: bool,
    pub active: bool,
    /// `Currency`: one currency, `##` (all), or `None` (the local currency).
    pub currency: Option<String>,
}

/// One numbering series of a document type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SapSeries {
    pub name: String,
    pub usable: bool,
}

/// What a preview of an order dated today said about the posting period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodProbe {
    /// SAP accepted a document dated today.
    Open,
    /// SAP refused it for its date (the posting period is locked or missing).
    Closed { message: String },
    /// The probe could not be made or SAP refused it for another reason.
    Unknown { reason: String },
}

/// What the company check read.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyRead {
    pub local_currency: String,
    /// The currencies the store takes (those of its recent orders), with today's rate read
    /// from SAP (`None`: SAP has none, with its answer).
    pub rates_today: Vec<(String, Result<Decimal, String>)>,
    /// Series of Sales Orders (17) and of A/R credit memos (14); `Err`: SAP would not say.
    pub order_series: Result<Vec<SapSeries>, String>,
    pub credit_note_series: Result<Vec<SapSeries>, String>,
    pub period_today: PeriodProbe,
    /// `AdminInfo.EnableApprovalProcedureInDI`; `None` when SAP did not send it.
    pub approvals_in_api: Option<bool>,
}
