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
    /// Refunded through the payment gateway (Magento sets the credit memo's
    /// `transaction_id` to the gateway's refund transaction); offline refunds have none.
    #[serde(default)]
    pub online: bool,
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

/// A line of the open Sales Order, as SAP reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct SapOrderLine {
    pub line_num: i64,
    pub quantity: Decimal,
    /// `RemainingOpenQuantity`: below `quantity` once any was copied to a delivery/invoice.
    pub open_quantity: Decimal,
    /// `LineStatus` open.
    pub open: bool,
}

/// What refunds of an order SAP has neither delivered nor invoiced do to its Sales Order
/// (`refunds.close_uninvoiced_order`, docs/refunds.md).
#[derive(Debug, Clone, PartialEq)]
pub enum OrderReduction {
    /// Every unit of every line is refunded: the Sales Order is closed.
    Close,
    /// `PATCH /Orders(n)` with these `(LineNum, Quantity)`; with `remove_others`, the lines
    /// refunded in full are taken off (`B1S-ReplaceCollectionsOnPatch`) and `lines` lists
    /// every line that stays. Empty and no removal: SAP already shows it (a retry after a
    /// lost answer).
    Reduce {
        lines: Vec<(i64, Decimal)>,
        remove_others: bool,
    },
}

/// The Sales Order after refund `this` and the `earlier` ones that reduced it. Quantities
/// are absolute — each line's ordered quantity less everything refunded from it — so sending
/// them again after a lost answer changes nothing. `Err` names why the order cannot be
/// reduced (the refund then waits for an invoice to credit): besides SAP's refusals, a
/// partial refund of shipping or an adjustment, which no order line can take back.
pub fn reduce_order(
    order: &Order,
    earlier: &[&Refund],
    this: &Refund,
    sap_lines: &[SapOrderLine],
) -> Result<OrderReduction, String> {
    let mut target: Vec<Decimal> = order.lines.iter().map(|l| l.qty).collect();
    for refund in earlier.iter().copied().chain(std::iter::once(this)) {
        for line in &refund.lines {
            match order_line_index(order, line.order_item_id) {
                Some(index) => target[index] -= line.qty,
                None if line.net.is_zero() && line.tax.is_zero() => {}
                None => {
                    return Err(format!(
                        "item {} ({}) is not a line of the order",
                        line.order_item_id,
                        line.sku.as_deref().unwrap_or("no SKU")
                    ))
                }
            }
        }
    }
    if let Some(index) = target.iter().position(|t| *t < Decimal::ZERO) {
        return Err(format!(
            "more of {} is refunded than was ordered",
            order.lines[index].sku.as_str()
        ));
    }
    if target.iter().all(|t| t.is_zero()) {
        return Ok(OrderReduction::Close);
    }
    if !(this.shipping.is_zero()
        && this.adjustment_refund.is_zero()
        && this.adjustment_fee.is_zero())
    {
        return Err(
            "it refunds shipping or an adjustment, which reducing order lines cannot take back"
                .into(),
        );
    }
    if this.lines.iter().all(|l| l.qty.is_zero()) {
        return Err("it takes back no item".into());
    }
    let wanted = |line_num: i64| {
        usize::try_from(line_num)
            .ok()
            .and_then(|i| target.get(i).copied())
    };
    for (index, t) in target.iter().enumerate() {
        if !t.is_zero() && !sap_lines.iter().any(|l| l.line_num == index as i64) {
            return Err(format!(
                "line {} ({}) is no longer on the SAP Sales Order",
                index + 1,
                order.lines[index].sku.as_str()
            ));
        }
    }
    let mut changed = Vec::new();
    let mut kept = Vec::new();
    let mut remove_others = false;
    for l in sap_lines {
        // Lines b1bridge did not post (added in SAP) stay as they are.
        let want = wanted(l.line_num).unwrap_or(l.quantity);
        if want != l.quantity {
            if !l.open || l.open_quantity < l.quantity {
                return Err(format!(
                    "line {} of the SAP Sales Order is closed or was copied to a delivery or invoice",
                    l.line_num + 1
                ));
            }
            if want.is_zero() {
                remove_others = true;
            } else {
                changed.push((l.line_num, want));
            }
        }
        if !want.is_zero() {
            kept.push((l.line_num, want));
        }
    }
    Ok(OrderReduction::Reduce {
        lines: if remove_others { kept } else { changed },
        remove_others,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn order_of(quantities: &[i64]) -> Order {
        let mut order = crate::magento::order::normalise(&serde_json::json!({
            "increment_id": "100", "created_at": "2024-01-01 00:00:00",
            "order_currency_code": "USD", "customer_email": "a@b.c", "grand_total": 10,
            "items": [{"item_id": 10, "sku": "RACER", "product_type": "simple",
                       "qty_ordered": 1, "price": 10}]
        }))
        .unwrap();
        let line = order.lines[0].clone();
        order.lines = quantities
            .iter()
            .enumerate()
            .map(|(i, q)| OrderLine {
                magento_item_id: Some(10 + i as i64),
                qty: Decimal::from(*q),
                ..line.clone()
            })
            .collect();
        order
    }

    fn refund_of(lines: &[(i64, i64)]) -> Refund {
        Refund {
            credit_memo_id: "1".into(),
            magento_entity_id: 1,
            magento_order_id: 1,
            order_increment_id: None,
            store_id: None,
            currency: None,
            created_at: None,
            lines: lines
                .iter()
                .map(|(item, qty)| RefundLine {
                    order_item_id: *item,
                    sku: None,
                    qty: Decimal::from(*qty),
                    net: dec!(1),
                    tax: dec!(0),
                    back_to_stock: None,
                })
                .collect(),
            shipping: dec!(0),
            shipping_tax: dec!(0),
            adjustment_refund: dec!(0),
            adjustment_fee: dec!(0),
            tax_amount: dec!(0),
            grand_total: dec!(0),
            online: false,
        }
    }

    fn sap(lines: &[(i64, i64)]) -> Vec<SapOrderLine> {
        lines
            .iter()
            .map(|(n, q)| SapOrderLine {
                line_num: *n,
                quantity: Decimal::from(*q),
                open_quantity: Decimal::from(*q),
                open: true,
            })
            .collect()
    }

    #[test]
    fn a_partial_refund_reduces_lines_and_a_line_refunded_in_full_is_taken_off() {
        let order = order_of(&[3, 2]);
        let one = refund_of(&[(10, 1)]);
        assert_eq!(
            reduce_order(&order, &[], &one, &sap(&[(0, 3), (1, 2)])),
            Ok(OrderReduction::Reduce {
                lines: vec![(0, dec!(2))],
                remove_others: false
            })
        );
        // After that reduction, a refund of the second line in full removes it and lists
        // every line that stays, at its absolute quantity.
        let two = refund_of(&[(11, 2)]);
        assert_eq!(
            reduce_order(&order, &[&one], &two, &sap(&[(0, 2), (1, 2)])),
            Ok(OrderReduction::Reduce {
                lines: vec![(0, dec!(2))],
                remove_others: true
            })
        );
        // A retry after the answer was lost: SAP already shows it, nothing to send.
        assert_eq!(
            reduce_order(&order, &[], &one, &sap(&[(0, 2), (1, 2)])),
            Ok(OrderReduction::Reduce {
                lines: vec![],
                remove_others: false
            })
        );
        // The rest refunded later: the order is closed.
        let rest = refund_of(&[(10, 2)]);
        assert_eq!(
            reduce_order(&order, &[&one, &two], &rest, &sap(&[(0, 2)])),
            Ok(OrderReduction::Close)
        );
        // Shipping refunded on its own, or with items short of the whole order, cannot be
        // taken off a line.
        let mut with_shipping = refund_of(&[(10, 1)]);
        with_shipping.shipping = dec!(5);
        let e = reduce_order(&order, &[], &with_shipping, &sap(&[(0, 3), (1, 2)])).unwrap_err();
        assert!(e.contains("shipping"), "{e}");
        let e = reduce_order(&order, &[], &refund_of(&[]), &sap(&[(0, 3), (1, 2)])).unwrap_err();
        assert!(e.contains("no item"), "{e}");
    }

    #[test]
    fn a_copied_or_closed_line_and_an_over_refund_cannot_be_reduced() {
        let order = order_of(&[3]);
        let one = refund_of(&[(10, 1)]);
        let mut lines = sap(&[(0, 3)]);
        lines[0].open_quantity = dec!(1);
        let e = reduce_order(&order, &[], &one, &lines).unwrap_err();
        assert!(e.contains("copied to a delivery or invoice"), "{e}");
        lines[0].open_quantity = dec!(3);
        lines[0].open = false;
        assert!(reduce_order(&order, &[], &one, &lines).is_err());
        let four = refund_of(&[(10, 4)]);
        let e = reduce_order(&order, &[], &four, &sap(&[(0, 3)])).unwrap_err();
        assert!(e.contains("more of"), "{e}");
    }

    #[test]
    fn the_parts_of_a_credit_memo_make_its_grand_total() {
        let r = Refund {
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
            ..refund_of(&[])
        };
        assert_eq!(r.parts_total(), dec!(17));
    }
}
