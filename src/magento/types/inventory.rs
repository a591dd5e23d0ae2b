//! MSI source items and sources, the legacy stock item, and the salable quantity.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::magento::lenient;

/// A source item's status: 1 in stock, 0 out of stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "serde_json::Value")]
pub enum SourceItemStatus {
    OutOfStock,
    InStock,
}

impl From<SourceItemStatus> for u8 {
    fn from(s: SourceItemStatus) -> u8 {
        match s {
            SourceItemStatus::OutOfStock => 0,
            SourceItemStatus::InStock => 1,
        }
    }
}

impl TryFrom<serde_json::Value> for SourceItemStatus {
    type Error = String;
    fn try_from(v: serde_json::Value) -> Result<Self, String> {
        match lenient::id_from_value(&v)? {
            0 => Ok(Self::OutOfStock),
            1 => Ok(Self::InStock),
            n => Err(format!("source item status {n} is neither 0 nor 1")),
        }
    }
}

/// The quantity of one SKU at one source (`POST /V1/inventory/source-items`, and searched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceItem {
    pub sku: String,
    pub source_code: String,
    #[serde(
        serialize_with = "rust_decimal::serde::arbitrary_precision::serialize",
        deserialize_with = "lenient::decimal"
    )]
    pub quantity: Decimal,
    pub status: SourceItemStatus,
}

/// An MSI source (`GET /V1/inventory/sources`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub source_code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default = "yes", deserialize_with = "lenient::flag")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// The legacy (single-source) stock item (`GET /V1/stockItems/{sku}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockItem {
    #[serde(deserialize_with = "lenient::id")]
    pub item_id: i64,
    #[serde(deserialize_with = "lenient::id")]
    pub product_id: i64,
    #[serde(deserialize_with = "lenient::id")]
    pub stock_id: i64,
    #[serde(
        serialize_with = "rust_decimal::serde::arbitrary_precision::serialize",
        deserialize_with = "lenient::decimal"
    )]
    pub qty: Decimal,
    #[serde(deserialize_with = "lenient::flag")]
    pub is_in_stock: bool,
}

/// The fields b1bridge sets on a legacy stock item (`PUT /V1/products/{sku}/stockItems/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockItemUpdate {
    #[serde(serialize_with = "rust_decimal::serde::arbitrary_precision::serialize")]
    pub qty: Decimal,
    pub is_in_stock: bool,
}

/// `GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}`: a bare number.
pub type SalableQuantity = Decimal;
