//! The canonical order: a Magento order reduced to what the business posts to SAP. Built only
//! by [`crate::domain::magento_order::normalise`], so every instance has already had Magento's
//! quirks (configurable parent/child pairs, bundles, string numbers, omitted nulls) resolved.
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ids::{IncrementId, Sku};
use super::money::Currency;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub increment_id: IncrementId,
    /// Magento's `entity_id`: the id used in REST URLs (`/V1/orders/{id}`).
    pub magento_entity_id: Option<i64>,
    /// Magento's `store_id`: increment ids are unique only per store, so the SAP reference
    /// (`NumAtCard`) may include it (`Settings::num_at_card_format`).
    #[serde(default)]
    pub store_id: Option<i64>,
    pub state: Option<String>,
    pub status: Option<String>,
    /// Magento sends UTC without a zone (`2020-04-24 15:50:17`).
    pub created_at: DateTime<Utc>,
    pub currency: Currency,
    pub customer: Customer,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub shipping: Option<Shipping>,
    pub payment: Option<Payment>,
    /// The lines to post: one per sellable item, after configurable/bundle handling.
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
    /// Order-level tax rates (`extension_attributes.applied_taxes`).
    pub applied_taxes: Vec<AppliedTax>,
    pub coupon_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub email: String,
    /// Absent for guests (Magento omits the key).
    pub magento_customer_id: Option<i64>,
    pub is_guest: bool,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub group_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub company: Option<String>,
    /// Magento sends the street as an array of lines.
    pub street: Vec<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub region_code: Option<String>,
    pub postcode: Option<String>,
    pub country_id: Option<String>,
    pub telephone: Option<String>,
    pub email: Option<String>,
    pub vat_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipping {
    /// Carrier and method, e.g. `flatrate_flatrate`.
    pub method: Option<String>,
    pub description: Option<String>,
    /// Net shipping before discount.
    pub amount: Decimal,
    pub tax_amount: Decimal,
    /// Positive amount taken off shipping.
    pub discount_amount: Decimal,
    pub amount_incl_tax: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub method: String,
    pub amount_ordered: Option<Decimal>,
    pub amount_paid: Option<Decimal>,
    pub last_trans_id: Option<String>,
    pub additional_information: Vec<String>,
}

/// Where a line came from, so that mapping and shipment back-sync know which Magento item it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A simple, virtual or downloadable product.
    Simple,
    /// The parent line of a configurable product; its `sku` is the chosen simple SKU and it
    /// carries the money, the child line is skipped.
    Configurable,
    /// A bundle posted as one line at the parent level (fixed-price bundles).
    Bundle,
    /// A component of a dynamically priced bundle, posted instead of the parent.
    BundleComponent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Magento `item_id` of the line that carries the money (parent for configurables).
    pub magento_item_id: Option<i64>,
    /// For bundle components: the bundle's parent `item_id`.
    pub parent_item_id: Option<i64>,
    pub kind: LineKind,
    pub sku: Sku,
    pub name: Option<String>,
    pub qty: Decimal,
    /// Unit price before discount, excluding tax.
    pub unit_price: Decimal,
    /// Amount before discount and tax (`qty × unit_price`, Magento's `row_total`).
    pub row_total: Decimal,
    /// Positive amount of discount on this line.
    pub discount_amount: Decimal,
    pub tax_amount: Decimal,
    pub tax_percent: Option<Decimal>,
    /// Tax code of the rate applied to this line, when Magento reports it.
    pub tax_code: Option<String>,
}

impl OrderLine {
    /// The discounted net amount: what SAP's `LineTotal` must be.
    pub fn net_total(&self) -> Decimal {
        self.row_total - self.discount_amount
    }
}

impl Order {
    /// The grand total the lines, shipping and tax add up to. Equal to Magento's
    /// `grand_total` for a consistent order; what SAP's `DocTotal` will be built from.
    pub fn computed_grand_total(&self) -> Decimal {
        let lines: Decimal = self.lines.iter().map(OrderLine::net_total).sum();
        let shipping = self
            .shipping
            .as_ref()
            .map(|s| s.amount - s.discount_amount)
            .unwrap_or_default();
        lines + shipping + self.totals.tax_amount
    }
}

/// Magento's totals, the figures the customer paid. Signs are normalised: every discount is
/// a positive amount taken off (Magento's order-level `discount_amount` is negative).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub subtotal: Decimal,
    pub discount_amount: Decimal,
    pub shipping_amount: Decimal,
    pub tax_amount: Decimal,
    pub grand_total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedTax {
    pub code: String,
    pub title: Option<String>,
    pub percent: Option<Decimal>,
    pub amount: Decimal,
}
