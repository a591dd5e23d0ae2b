//! Products and tax rates, as the go-live audit reads them.
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::magento::lenient;

/// A catalogue product (`GET /V1/products`). `status` 1 = enabled, 2 = disabled.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Product {
    #[serde(deserialize_with = "lenient::id")]
    pub id: i64,
    pub sku: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub type_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub status: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub price: Option<Decimal>,
}

impl Product {
    pub fn is_enabled(&self) -> bool {
        self.status == Some(1)
    }
}

/// A tax rate (`GET /V1/taxRates/search`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TaxRate {
    #[serde(deserialize_with = "lenient::id")]
    pub id: i64,
    pub code: String,
    pub tax_country_id: String,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub tax_region_id: Option<i64>,
    #[serde(default)]
    pub tax_postcode: Option<String>,
    #[serde(deserialize_with = "lenient::decimal")]
    pub rate: Decimal,
}
