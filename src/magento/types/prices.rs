//! Base and special prices, and the per-row errors Magento answers them with (HTTP 200).
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::magento::message::{render_template, MagentoMessage};

/// One row of `POST /V1/products/base-prices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasePrice {
    pub sku: String,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub price: Decimal,
    pub store_id: i64,
}

/// One row of `POST /V1/products/special-price`; dates are `YYYY-MM-DD hh:mm:ss`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialPrice {
    pub sku: String,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub price: Decimal,
    pub store_id: i64,
    pub price_from: String,
    pub price_to: String,
}

/// Whether a tier price is an amount or a percentage off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TierPriceType {
    Fixed,
    Discount,
}

/// One row of `POST /V1/products/tier-prices`: from `quantity` on, customers of
/// `customer_group` (a group *name*; `ALL GROUPS` for everyone) pay `price`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierPrice {
    pub sku: String,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub price: Decimal,
    pub price_type: TierPriceType,
    pub website_id: i64,
    pub customer_group: String,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub quantity: Decimal,
}

/// A refused row of a price update. Magento gives no row index: the SKU (and store) in
/// `parameters` say which row it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceRowError {
    pub message: String,
    #[serde(default)]
    pub parameters: Vec<serde_json::Value>,
}

impl PriceRowError {
    /// The message with its placeholders filled.
    pub fn render(&self) -> String {
        render_template(
            &self.message,
            &serde_json::Value::Array(self.parameters.clone()),
        )
    }

    /// Whether this error is about `sku` (Magento compares SKUs case-insensitively).
    pub fn names_sku(&self, sku: &str) -> bool {
        self.parameters
            .iter()
            .any(|p| p.as_str().is_some_and(|s| s.eq_ignore_ascii_case(sku)))
    }

    pub fn as_message(&self) -> MagentoMessage {
        MagentoMessage::new(
            self.message.clone(),
            serde_json::Value::Array(self.parameters.clone()),
        )
    }
}
