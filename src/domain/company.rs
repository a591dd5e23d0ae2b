//! What b1bridge must know about the SAP B1 company before it can build a document that the
//! company books right: its tax localization (which line field carries the tax code), its
//! local currency (which amount fields a document uses) and the rate of every tax code (to
//! compute beforehand what SAP will book). Read from SAP by the worker; pure data here.
//! The facts behind it are written down in `docs/sap-document-calculation.md`.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

use super::ids::TaxCode;
use super::money::Currency;

/// How the company's tax works, which decides the document line's tax field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxLocalization {
    /// VAT localizations (UK, EU, …): lines and freight carry `VatGroup` (`VatGroups`).
    Vat,
    /// US and Canada: lines and freight carry `TaxCode` (`SalesTaxCodes`).
    SalesTax,
}

impl TaxLocalization {
    /// The document line field SAP reads the tax code from.
    pub fn line_field(self) -> &'static str {
        match self {
            TaxLocalization::Vat => "VatGroup",
            TaxLocalization::SalesTax => "TaxCode",
        }
    }
}

/// The company facts a Sales Order is built against.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyFacts {
    pub localization: TaxLocalization,
    /// `AdminInfo.LocalCurrency`: amounts in `LineTotal`/`DocTotal` are in this currency; a
    /// document in any other uses the foreign-currency twins.
    pub local_currency: Currency,
    /// Each active tax code (or VAT group) with its rate in percent, as in force today.
    pub tax_rates: HashMap<String, Decimal>,
}

impl CompanyFacts {
    pub fn rate(&self, code: &TaxCode) -> Option<Decimal> {
        self.tax_rates.get(code.as_str()).copied()
    }

    /// Whether a document in `currency` is a foreign-currency document.
    pub fn is_foreign(&self, currency: &Currency) -> bool {
        currency != &self.local_currency
    }
}
