//! Credit memos as `GET /V1/creditmemo/{id}` and `GET /V1/creditmemos` return them.
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::magento::lenient;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CreditMemo {
    #[serde(deserialize_with = "lenient::id")]
    pub entity_id: i64,
    #[serde(deserialize_with = "lenient::id")]
    pub order_id: i64,
    #[serde(default)]
    pub increment_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub invoice_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub state: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub store_id: Option<i64>,
    #[serde(default)]
    pub order_currency_code: Option<String>,
    /// The payment gateway's refund transaction: set only when the refund went online.
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub subtotal: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub tax_amount: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub shipping_amount: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub shipping_tax_amount: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub shipping_incl_tax: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub discount_amount: Option<Decimal>,
    /// "Adjustment Refund".
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub adjustment_positive: Option<Decimal>,
    /// "Adjustment Fee".
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub adjustment_negative: Option<Decimal>,
    #[serde(deserialize_with = "lenient::decimal")]
    pub grand_total: Decimal,
    #[serde(default)]
    pub items: Vec<CreditMemoItem>,
    /// `return_to_stock_items` when the sender kept the refund request's extension attribute.
    #[serde(default)]
    pub extension_attributes: Option<CreditMemoExtension>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CreditMemoExtension {
    #[serde(default)]
    pub return_to_stock_items: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CreditMemoItem {
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub entity_id: Option<i64>,
    #[serde(deserialize_with = "lenient::id")]
    pub order_item_id: i64,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(deserialize_with = "lenient::decimal")]
    pub qty: Decimal,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub row_total: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub tax_amount: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub discount_amount: Option<Decimal>,
    /// The model's flag (observer envelope); absent from the REST shape.
    #[serde(default)]
    pub back_to_stock: Option<serde_json::Value>,
}
