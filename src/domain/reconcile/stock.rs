//! Stock: Magento's salable quantity of a SKU against the one SAP B1's warehouse stock says it
//! should be, by the stock sync's invariant (`domain::stock`, docs/stock-sync.md):
//!
//! ```text
//! expected salable = max(0, Σ_w (InStock_w − Committed_w) − safety_stock) − U
//! ```
//!
//! where `U` is what b1bridge has received for the SKU but not yet posted (Magento has taken
//! it off already; SAP has not committed it yet). Operations owns a difference
//! (`stock_drift`): Magento oversells or hides stock.
use rust_decimal::Decimal;
use serde_json::json;

use super::{finding_key, number, CheckOutcome, Finding};
use crate::domain::exception::Category;
use crate::domain::stock::{quantities, StockMode, StockRoutes, WarehouseQty};

pub const CHECK: &str = "stock";

/// What both systems say of one SKU.
#[derive(Debug, Clone, PartialEq)]
pub struct SkuFacts {
    pub sku: String,
    pub item_code: String,
    pub expected: Decimal,
    pub magento_salable: Decimal,
}

/// The salable quantity SAP's stock rows mean for Magento (the invariant above), computed with
/// the stock sync's own rule so the two can never disagree.
pub fn expected_salable(
    rows: &[WarehouseQty],
    routes: &StockRoutes,
    safety_stock: Decimal,
    unposted: Decimal,
) -> Decimal {
    let pushed: Decimal = quantities(rows, routes, safety_stock, |_| Decimal::ZERO, unposted)
        .iter()
        .map(|q| q.quantity)
        .sum();
    match routes.mode() {
        // MSI subtracts the unposted order's reservation from what was pushed.
        StockMode::Msi => pushed - unposted,
        // Legacy: `quantities` has taken it off already.
        StockMode::Legacy => pushed,
    }
}

pub fn check(skus: &[SkuFacts]) -> CheckOutcome {
    let mut out = CheckOutcome::default();
    for s in skus {
        let key = finding_key(CHECK, None, Some(&s.sku));
        let finding = (s.expected != s.magento_salable).then(|| {
            Finding {
                check: CHECK,
                category: Category::StockDrift,
                order: None,
                sku: Some(&s.sku),
                title: format!(
                    "SKU '{}': Magento can sell {}, SAP B1 stock says {}",
                    s.sku, s.magento_salable, s.expected
                ),
                detail: format!(
                    "Magento's salable quantity of '{}' is {}, but SAP B1 item '{}' leaves {} \
                     to sell (in stock less committed in the web warehouses, less the safety \
                     stock and the orders b1bridge has not posted yet). {} Run a stock sync \
                     (POST /api/v1/stock/sync); if the difference stays, look for stock \
                     changed by hand in Magento or orders missing from SAP.",
                    s.sku,
                    s.magento_salable,
                    s.item_code,
                    s.expected,
                    if s.magento_salable > s.expected {
                        "Magento may oversell."
                    } else {
                        "Magento hides stock it could sell."
                    }
                ),
                sap_document: json!({"object": "Items", "item_code": s.item_code}),
                magento_value: json!({"salable_qty": number(s.magento_salable)}),
                sap_value: json!({"expected_salable_qty": number(s.expected)}),
            }
            .into_exception()
        });
        out.saw(key, finding);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mappings::WarehouseMapping;
    use rust_decimal_macros::dec;
    use std::collections::HashMap;

    fn routes(mode: StockMode) -> StockRoutes {
        let mut w = HashMap::new();
        for (code, include) in [("01", true), ("03", false)] {
            w.insert(
                code.to_owned(),
                serde_json::from_value::<WarehouseMapping>(json!({
                    "magento_source_code": "default", "include_in_stock": include,
                    "order_default": false}))
                .unwrap(),
            );
        }
        StockRoutes::from_mappings(&w, mode).unwrap().0
    }

    fn rows() -> Vec<WarehouseQty> {
        vec![
            WarehouseQty {
                warehouse: "01".into(),
                in_stock: dec!(10),
                committed: dec!(3),
            },
            WarehouseQty {
                warehouse: "03".into(),
                in_stock: dec!(50),
                committed: dec!(0),
            },
        ]
    }

    #[test]
    fn expected_follows_the_stock_invariant() {
        assert_eq!(
            expected_salable(&rows(), &routes(StockMode::Msi), dec!(2), dec!(0)),
            dec!(5)
        );
        // An order received but not posted is already off Magento's salable quantity.
        assert_eq!(
            expected_salable(&rows(), &routes(StockMode::Msi), dec!(2), dec!(1)),
            dec!(4)
        );
        assert_eq!(
            expected_salable(&rows(), &routes(StockMode::Legacy), dec!(2), dec!(1)),
            dec!(4)
        );
    }

    #[test]
    fn a_difference_is_drift_and_agreement_is_in_order() {
        let facts = |salable| SkuFacts {
            sku: "MH01".into(),
            item_code: "MH01".into(),
            expected: dec!(5),
            magento_salable: salable,
        };
        let out = check(&[facts(dec!(5))]);
        assert!(out.findings.is_empty());
        assert_eq!(out.in_order(), ["reconcile|stock|-|MH01"]);
        let out = check(&[facts(dec!(7))]);
        let f = &out.findings[0];
        assert_eq!(f.category, Category::StockDrift);
        assert_eq!(f.skus, ["MH01"]);
        assert!(f.detail.contains("oversell"), "{}", f.detail);
    }
}
