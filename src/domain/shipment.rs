//! What an SAP B1 delivery means for the Magento order it ships (docs/status-sync.md): which
//! Magento order items and quantities the shipment carries, its tracking, and the words of
//! the order comment and of the `magento_rejected` exceptions. Pure: the status run reads
//! SAP and Magento, asks here, and writes what it decided.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::exception::{Category, NewException};
use super::order::Order;

/// One delivered order line: the SAP order line (`BaseLine`) and the quantity delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveredLine {
    pub base_line: i64,
    pub quantity: Decimal,
}

/// One Magento order item and the quantity shipped now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentItem {
    pub order_item_id: i64,
    pub qty: Decimal,
}

/// Why a delivery cannot be expressed as a Magento shipment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("delivery line copies SAP order line {0}, which the Magento order does not have")]
    UnknownLine(i64),
    #[error("SAP order line {0} has no Magento item id")]
    NoItemId(i64),
}

/// The Magento items a delivery ships. b1bridge posts one SAP line per canonical order line,
/// in order, so `BaseLine` n is `order.lines[n]`; that line's `magento_item_id` is the item
/// Magento ships: the parent of a configurable (Magento refuses the child), the bundle
/// itself for a bundle posted as one line, the component for a bundle posted by component.
/// Lines of the same item add up; items come out sorted by id.
pub fn plan(order: &Order, delivered: &[DeliveredLine]) -> Result<Vec<ShipmentItem>, PlanError> {
    let mut by_item: BTreeMap<i64, Decimal> = BTreeMap::new();
    for d in delivered {
        let line = usize::try_from(d.base_line)
            .ok()
            .and_then(|i| order.lines.get(i))
            .ok_or(PlanError::UnknownLine(d.base_line))?;
        let id = line
            .magento_item_id
            .ok_or(PlanError::NoItemId(d.base_line))?;
        *by_item.entry(id).or_default() += d.quantity;
    }
    Ok(by_item
        .into_iter()
        .filter(|(_, qty)| *qty > Decimal::ZERO)
        .map(|(order_item_id, qty)| ShipmentItem { order_item_id, qty })
        .collect())
}

/// A tracking entry; Magento needs the number, a carrier code and a title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    pub number: String,
    pub carrier_code: String,
    pub title: String,
}

/// The tracking of a delivery: SAP's `TrackingNumber`, with the carrier of the order's
/// Magento shipping method (`flatrate_flatrate` → `flatrate`; SAP's delivery carries no
/// carrier Magento knows), titled with the order's shipping description. Without a shipping
/// method the carrier is Magento's generic `custom`.
pub fn tracking(order: &Order, tracking_number: Option<&str>) -> Option<Tracking> {
    let number = tracking_number.map(str::trim).filter(|n| !n.is_empty())?;
    let shipping = order.shipping.as_ref();
    let carrier_code = shipping
        .and_then(|s| s.method.as_deref())
        .and_then(|m| m.split('_').next())
        .filter(|c| !c.is_empty())
        .unwrap_or("custom")
        .to_owned();
    let title = shipping
        .and_then(|s| s.description.clone())
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| carrier_code.clone());
    Some(Tracking {
        number: number.to_owned(),
        carrier_code,
        title,
    })
}

/// The comment added to the Magento order once it is posted. The status run looks for this
/// exact text among the order's comments before adding it, so it is never added twice.
pub fn posted_comment(doc_num: i64) -> String {
    format!("Posted to SAP Business One as Sales Order {doc_num} (b1bridge).")
}

/// Whether the quantities Magento reports shipped already include `items` on top of what
/// b1bridge recorded as sent before: how a shipment whose answer was lost is settled.
pub fn already_shipped(
    items: &[ShipmentItem],
    shipped_in_magento: &BTreeMap<i64, Decimal>,
    sent_before: &BTreeMap<i64, Decimal>,
) -> bool {
    items.iter().all(|i| {
        let shipped = shipped_in_magento
            .get(&i.order_item_id)
            .copied()
            .unwrap_or_default();
        let before = sent_before
            .get(&i.order_item_id)
            .copied()
            .unwrap_or_default();
        shipped >= before + i.qty
    })
}

/// Magento refused the shipment of a delivery.
pub fn shipment_rejected(
    increment_id: &str,
    delivery_doc_num: i64,
    tracking_number: Option<&str>,
    items: &[ShipmentItem],
    magento_message: &str,
) -> NewException {
    let listed: Vec<String> = items
        .iter()
        .map(|i| format!("item {} × {}", i.order_item_id, i.qty.normalize()))
        .collect();
    let tracking = tracking_number
        .map(|t| format!(", tracking {t}"))
        .unwrap_or_default();
    NewException {
        category: Category::MagentoRejected,
        title: format!(
            "Magento refused the shipment of SAP delivery {delivery_doc_num} for order {increment_id}"
        ),
        detail: format!(
            "SAP B1 delivery {delivery_doc_num} ({}{tracking}) could not become a Magento \
             shipment: Magento answered \"{magento_message}\". Open the order in the Magento \
             admin. If it was already shipped there (by hand, or by another system), nothing \
             is missing: resolve this exception. Otherwise create the shipment in Magento with \
             these items and tracking (or make the order shippable — not on hold, not \
             cancelled — and create it), then resolve this exception. b1bridge does not \
             send this delivery again.",
            listed.join(", ")
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: Vec::new(),
        sap_error: None,
        dedup_key: format!(
            "{}|{increment_id}|delivery:{delivery_doc_num}",
            Category::MagentoRejected.as_str()
        ),
        context: serde_json::json!({
            "delivery_doc_num": delivery_doc_num,
            "tracking_number": tracking_number,
            "items": items,
            "magento_message": magento_message,
        }),
    }
}

/// A delivery b1bridge cannot turn into a shipment by itself (its lines do not match the
/// order b1bridge posted).
pub fn shipment_unplannable(
    increment_id: &str,
    delivery_doc_num: i64,
    problem: &PlanError,
) -> NewException {
    NewException {
        category: Category::MagentoRejected,
        title: format!(
            "SAP delivery {delivery_doc_num} for order {increment_id} cannot be shipped in Magento"
        ),
        detail: format!(
            "SAP B1 delivery {delivery_doc_num} copies order {increment_id}, but {problem}. \
             The SAP order was probably changed after b1bridge posted it. Create the shipment \
             in the Magento admin by hand, then resolve this exception."
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: Vec::new(),
        sap_error: None,
        dedup_key: format!(
            "{}|{increment_id}|delivery:{delivery_doc_num}",
            Category::MagentoRejected.as_str()
        ),
        context: serde_json::json!({
            "delivery_doc_num": delivery_doc_num,
            "problem": problem.to_string(),
        }),
    }
}

/// Magento refused the "posted as DocNum" comment.
pub fn comment_rejected(increment_id: &str, doc_num: i64, magento_message: &str) -> NewException {
    NewException {
        category: Category::MagentoRejected,
        title: format!("Magento refused the SAP document comment on order {increment_id}"),
        detail: format!(
            "b1bridge posted order {increment_id} to SAP B1 as Sales Order {doc_num}, but \
             Magento refused the order comment that says so: \"{magento_message}\". The SAP \
             order is fine; only the note in Magento is missing. Add it in the Magento admin \
             if the team needs it, then resolve this exception."
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: Vec::new(),
        sap_error: None,
        dedup_key: format!(
            "{}|{increment_id}|comment",
            Category::MagentoRejected.as_str()
        ),
        context: serde_json::json!({"doc_num": doc_num, "magento_message": magento_message}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::magento::order::normalise;
    use rust_decimal_macros::dec;

    fn order() -> Order {
        normalise(&serde_json::json!({
            "increment_id": "100", "created_at": "2024-01-01 00:00:00",
            "order_currency_code": "USD", "customer_email": "a@b.c", "grand_total": 30,
            "shipping_description": "Flat Rate - Fixed",
            "extension_attributes": {"shipping_assignments": [{"shipping": {"method": "flatrate_flatrate"}}]},
            "items": [
                {"item_id": 16, "sku": "MH09-XS-Blue", "product_type": "configurable", "qty_ordered": 2, "price": 10},
                {"item_id": 17, "sku": "MH09-XS-Blue", "product_type": "simple", "parent_item_id": 16, "qty_ordered": 2, "price": 0},
                {"item_id": 18, "sku": "RACER", "product_type": "simple", "qty_ordered": 1, "price": 10}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_configurable_ships_through_its_parent_item() {
        let o = order();
        let items = plan(
            &o,
            &[
                DeliveredLine {
                    base_line: 0,
                    quantity: dec!(1),
                },
                DeliveredLine {
                    base_line: 1,
                    quantity: dec!(1),
                },
            ],
        )
        .unwrap();
        assert_eq!(
            items,
            vec![
                ShipmentItem {
                    order_item_id: 16,
                    qty: dec!(1)
                },
                ShipmentItem {
                    order_item_id: 18,
                    qty: dec!(1)
                }
            ]
        );
        let bad = plan(
            &o,
            &[DeliveredLine {
                base_line: 7,
                quantity: dec!(1),
            }],
        );
        assert_eq!(bad, Err(PlanError::UnknownLine(7)));
    }

    #[test]
    fn tracking_takes_the_orders_carrier_and_needs_a_number() {
        let o = order();
        let t = tracking(&o, Some(" 1Z999 ")).unwrap();
        assert_eq!(
            (t.number.as_str(), t.carrier_code.as_str(), t.title.as_str()),
            ("1Z999", "flatrate", "Flat Rate - Fixed")
        );
        assert_eq!(tracking(&o, Some("  ")), None);
        assert_eq!(tracking(&o, None), None);
    }

    #[test]
    fn a_lost_answer_is_settled_by_the_shipped_quantities() {
        let items = vec![ShipmentItem {
            order_item_id: 16,
            qty: dec!(1),
        }];
        let before = BTreeMap::from([(16, dec!(1))]);
        assert!(!already_shipped(
            &items,
            &BTreeMap::from([(16, dec!(1))]),
            &before
        ));
        assert!(already_shipped(
            &items,
            &BTreeMap::from([(16, dec!(2))]),
            &before
        ));
    }

    #[test]
    fn a_refusal_says_what_to_do_and_names_the_delivery() {
        let e = shipment_rejected(
            "100",
            7,
            Some("1Z"),
            &[],
            "The order does not allow a shipment to be created.",
        );
        assert_eq!(e.category, Category::MagentoRejected);
        assert!(e.title.contains("delivery 7") && e.detail.contains("resolve this exception"));
        assert_ne!(e.dedup_key, comment_rejected("100", 7, "x").dedup_key);
    }
}
