//! The canonical refund: a Magento credit memo reduced to what becomes an SAP A/R credit
//! memo (docs/refunds.md). Built by [`crate::magento::refund::normalise_credit_memo`];
//! everything below is pure.
//!
//! A credit memo refunds quantities of order items (by Magento `order_item_id`), shipping,
//! an "Adjustment Refund" (`adjustment_positive`, paid back on top) and an "Adjustment Fee"
//! (`adjustment_negative`, kept back). Magento's grand total is
//! Σ lines (net + tax) + shipping + shipping tax + adjustment refund − adjustment fee.
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::money::Currency;
use super::order::{Order, OrderLine};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    /// The credit memo's increment id: its SAP reference (`NumAtCard`).
    pub credit_memo_id: String,
    pub magento_entity_id: i64,
    /// The order's Magento `entity_id` (`order_id` on the credit memo).
    pub magento_order_id: i64,
    /// The order's increment id, when the event carried the order.
    pub order_increment_id: Option<String>,
    pub store_id: Option<i64>,
    pub currency: Option<Currency>,
    pub created_at: Option<DateTime<Utc>>,
    pub lines: Vec<RefundLine>,
    /// Shipping refunded, net of tax.
    pub shipping: Decimal,
    pub shipping_tax: Decimal,
    pub adjustment_refund: Decimal,
    pub adjustment_fee: Decimal,
    pub tax_amount: Decimal,
    pub grand_total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundLine {
    pub order_item_id: i64,
    pub sku: Option<String>,
    pub qty: Decimal,
    /// Net amount refunded for the line (row total less its discount).
    pub net: Decimal,
    pub tax: Decimal,
    /// Whether the returned goods go back to stock, when the event says (the model's
    /// `back_to_stock`, or `return_to_stock_items`). `None`: the REST shape does not carry
    /// it, and the store's auto-return setting (mirrored in b1bridge's settings) decides.
    pub back_to_stock: Option<bool>,
}

impl Refund {
    /// Whether every quantity refunded and every amount sum to Magento's grand total (to the
    /// cent): a credit memo whose parts do not add up cannot be posted faithfully.
    pub fn parts_total(&self) -> Decimal {
        self.lines.iter().map(|l| l.net + l.tax).sum::<Decimal>()
            + self.shipping
            + self.shipping_tax
            + self.adjustment_refund
            - self.adjustment_fee
    }
}

/// Where a refunded Magento item sits in the SAP order: the index of the canonical order's
/// line that carries it. The Sales Order's `LineNum`s follow the canonical lines, so this
/// index is the `BaseLine` of the order line (see docs/refunds.md). A configurable's child
/// or a fixed bundle's component carries no money and maps to no line: `None`.
pub fn order_line_index(order: &Order, order_item_id: i64) -> Option<usize> {
    order
        .lines
        .iter()
        .position(|l: &OrderLine| l.magento_item_id == Some(order_item_id))
}

/// Whether the refund takes back every unit of every line of `order` (the whole order's
/// goods; shipping and adjustments do not matter): only then may an un-invoiced Sales Order
/// be closed instead of credited.
pub fn refunds_every_line(refund: &Refund, order: &Order) -> bool {
    !order.lines.is_empty()
        && order.lines.iter().enumerate().all(|(index, line)| {
            let refunded: Decimal = refund
                .lines
                .iter()
                .filter(|l| order_line_index(order, l.order_item_id) == Some(index))
                .map(|l| l.qty)
                .sum();
            refunded >= line.qty
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_parts_of_a_credit_memo_make_its_grand_total() {
        let r = Refund {
            credit_memo_id: "1".into(),
            magento_entity_id: 1,
            magento_order_id: 1,
            order_increment_id: None,
            store_id: None,
            currency: None,
            created_at: None,
            lines: vec![RefundLine {
                order_item_id: 5,
                sku: None,
                qty: dec!(1),
                net: dec!(10),
                tax: dec!(2),
                back_to_stock: None,
            }],
            shipping: dec!(5),
            shipping_tax: dec!(1),
            adjustment_refund: dec!(3),
            adjustment_fee: dec!(4),
            tax_amount: dec!(3),
            grand_total: dec!(17),
        };
        assert_eq!(r.parts_total(), dec!(17));
    }
}
