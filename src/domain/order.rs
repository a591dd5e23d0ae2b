//! The canonical order: a Magento order reduced to what the business posts to SAP. Built only
//! by [`crate::magento::order::normalise`], so every instance has already had Magento's
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
    /// Positive amount taken off shipping (gross when the store's prices include tax).
    pub discount_amount: Decimal,
    pub amount_incl_tax: Option<Decimal>,
    /// The tax part of a discount taken off a tax-inclusive shipping price
    /// (`shipping_discount_tax_compensation_amount`): added back to reach the net amount.
    #[serde(default)]
    pub discount_tax_compensation: Decimal,
    /// Codes of the Magento tax rates applied to the shipping (`item_applied_taxes` entry of
    /// `type: "shipping"`), in Magento's order.
    #[serde(default)]
    pub tax_rates: Vec<String>,
}

impl Shipping {
    /// Shipping net of discount and tax: what SAP's freight `LineTotal` must be.
    pub fn net_total(&self) -> Decimal {
        self.amount - self.discount_amount + self.discount_tax_compensation
    }
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
    /// Positive amount of discount on this line. When the store's catalogue prices include
    /// tax, Magento takes the discount off the gross price, so this amount includes tax.
    pub discount_amount: Decimal,
    /// The tax part of a discount taken off a tax-inclusive price
    /// (`discount_tax_compensation_amount`); zero when prices exclude tax.
    #[serde(default)]
    pub discount_tax_compensation: Decimal,
    pub tax_amount: Decimal,
    pub tax_percent: Option<Decimal>,
    /// Codes of every Magento tax rate applied to this line (`item_applied_taxes`), in
    /// Magento's order: one for most stores, several where rates stack (US state + county).
    /// Orders stored by earlier versions carry a single `tax_code`, read here as one rate.
    #[serde(default, alias = "tax_code", deserialize_with = "one_or_many")]
    pub tax_rates: Vec<String>,
}

impl OrderLine {
    /// The discounted net amount: what SAP's `LineTotal` must be. For a tax-inclusive
    /// store, `row_total` is already net and the discount gross, so the discount's tax part
    /// (`discount_tax_compensation`) is given back.
    pub fn net_total(&self) -> Decimal {
        self.row_total - self.discount_amount + self.discount_tax_compensation
    }

    /// The discount net of tax: `row_total − net_total`.
    pub fn net_discount(&self) -> Decimal {
        self.discount_amount - self.discount_tax_compensation
    }
}

/// `null`, one string or a list of strings, as a list.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

impl Order {
    /// The grand total the lines, shipping and tax add up to. Equal to Magento's
    /// `grand_total` for a consistent order; what SAP's `DocTotal` will be built from.
    pub fn computed_grand_total(&self) -> Decimal {
        let lines: Decimal = self.lines.iter().map(OrderLine::net_total).sum();
        let shipping = self
            .shipping
            .as_ref()
            .map(Shipping::net_total)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_stored_with_a_single_tax_code_read_as_one_rate() {
        let line = |extra: &str| {
            serde_json::from_str::<OrderLine>(&format!(
                r#"{{"magento_item_id":1,"parent_item_id":null,"kind":"simple","sku":"A",
                    "name":null,"qty":"1","unit_price":"10","row_total":"10",
                    "discount_amount":"0","tax_amount":"0","tax_percent":null{extra}}}"#
            ))
            .unwrap()
        };
        assert_eq!(
            line(r#","tax_code":"US-MI-*-Rate 1""#).tax_rates,
            ["US-MI-*-Rate 1"]
        );
        assert!(line(r#","tax_code":null"#).tax_rates.is_empty());
        assert!(line("").tax_rates.is_empty());
        assert_eq!(line(r#","tax_rates":["A","B"]"#).tax_rates, ["A", "B"]);
        assert_eq!(line("").discount_tax_compensation, Decimal::ZERO);
    }
}
