//! What Magento may sell, computed from SAP B1's warehouse stock (docs/stock-sync.md). Pure:
//! the stock sync reads SAP and the store, asks these rules, and pushes what they answer.
//!
//! The invariant, for every SKU after every sync (all web orders in SAP):
//!
//! ```text
//! Magento salable = max(0, Σ_w (InStock_w − Committed_w) − safety_stock)
//! ```
//!
//! over the SAP warehouses `w` whose mapping has `include_in_stock` (and, on MSI, a
//! `magento_source_code`); other warehouses (retail, quarantine, B2B) never count.
//!
//! SAP's `Committed` already holds the open web orders that b1bridge posted, and MSI already
//! subtracts its own reservations (every placed, unshipped, uncancelled web order) from the
//! source quantity. Pushing `InStock − Committed` as the source quantity would subtract the
//! posted web orders twice. So on MSI the quantity pushed adds back `W`, the part of
//! `Committed` that is web orders still open in SAP:
//!
//! ```text
//! pushed (Σ over sources) = max(0, Σ_w (InStock_w − Committed_w) − safety_stock) + W
//! salable = pushed − reservations = max(0, …) − (web orders received but not yet in SAP)
//! ```
//!
//! so an order placed but not yet posted is still subtracted once (by its reservation) and is
//! never sold again. In legacy (single-source, non-MSI) mode Magento deducts an order from
//! the stock item's `qty` when it is placed and keeps no reservations, so the quantity pushed
//! *is* the salable quantity: `max(0, Σ_w (InStock_w − Committed_w) − safety_stock − U)`,
//! where `U` is what b1bridge has received but not yet posted to SAP.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

use super::mappings::WarehouseMapping;

/// The pseudo source under which legacy (non-MSI) pushes are remembered.
pub const LEGACY_SOURCE: &str = "(legacy)";

/// How Magento keeps stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockMode {
    /// Multi-Source Inventory: per-source quantities (`POST /V1/inventory/source-items`),
    /// reservations for unshipped orders.
    #[default]
    Msi,
    /// The single legacy stock item per product (`PUT /V1/products/{sku}/stockItems/{id}`);
    /// Magento deducts an order's quantity when it is placed.
    Legacy,
}

/// Which SAP warehouses feed which Magento source, from the `warehouses` mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRoutes {
    mode: StockMode,
    /// Contributing warehouse → its source (in legacy mode, [`LEGACY_SOURCE`]).
    to_source: HashMap<String, String>,
}

/// Why no stock can be synchronised, in words for the run's record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutesError {
    #[error(
        "no SAP warehouse feeds Magento: map at least one warehouse with include_in_stock \
         (and, on MSI, a magento_source_code) under /api/v1/mappings/warehouses"
    )]
    NoWarehouse,
}

impl StockRoutes {
    /// The routes, and a warning for each warehouse that is included in stock but feeds no
    /// source (MSI without `magento_source_code`): it is reported, never guessed.
    pub fn from_mappings(
        warehouses: &HashMap<String, WarehouseMapping>,
        mode: StockMode,
    ) -> Result<(Self, Vec<String>), RoutesError> {
        let mut to_source = HashMap::new();
        let mut warnings = Vec::new();
        let mut codes: Vec<&String> = warehouses.keys().collect();
        codes.sort();
        for code in codes {
            let m = &warehouses[code];
            if !m.include_in_stock {
                continue;
            }
            match (mode, &m.magento_source_code) {
                (StockMode::Legacy, _) => {
                    to_source.insert(code.clone(), LEGACY_SOURCE.to_owned());
                }
                (StockMode::Msi, Some(source)) => {
                    to_source.insert(code.clone(), source.clone());
                }
                (StockMode::Msi, None) => warnings.push(format!(
                    "warehouse {code} is included in stock but names no magento_source_code, \
                     so its stock feeds no Magento source"
                )),
            }
        }
        if to_source.is_empty() {
            return Err(RoutesError::NoWarehouse);
        }
        Ok((Self { mode, to_source }, warnings))
    }

    pub fn mode(&self) -> StockMode {
        self.mode
    }

    /// The source a warehouse feeds; `None` when it does not count.
    pub fn source_of(&self, warehouse: &str) -> Option<&str> {
        self.to_source.get(warehouse).map(String::as_str)
    }

    /// Every source that receives stock, sorted.
    pub fn sources(&self) -> Vec<String> {
        let mut s: Vec<String> = self.to_source.values().cloned().collect();
        s.sort();
        s.dedup();
        s
    }
}

/// One warehouse row of an item as SAP reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarehouseQty {
    pub warehouse: String,
    pub in_stock: Decimal,
    pub committed: Decimal,
}

/// What to push for one source of one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceQuantity {
    pub source_code: String,
    pub quantity: Decimal,
    pub in_stock: bool,
}

/// The quantities to push for one item.
///
/// `web_open(warehouse)` is what web orders b1bridge posted still have open in SAP at that
/// warehouse (part of its `Committed`); used on MSI only. `unposted` is what b1bridge has
/// received for this SKU but not yet posted to SAP; used in legacy mode only (on MSI the
/// reservation already covers it). See the module documentation for the formula.
pub fn quantities(
    rows: &[WarehouseQty],
    routes: &StockRoutes,
    safety_stock: Decimal,
    web_open: impl Fn(&str) -> Decimal,
    unposted: Decimal,
) -> Vec<SourceQuantity> {
    // Per source: Σ (InStock − Committed), and the web orders' open part of Committed.
    let mut available: BTreeMap<&str, Decimal> = BTreeMap::new();
    let mut web: BTreeMap<&str, Decimal> = BTreeMap::new();
    for source in routes.to_source.values() {
        available.entry(source.as_str()).or_default();
        web.entry(source.as_str()).or_default();
    }
    for row in rows {
        let Some(source) = routes.source_of(&row.warehouse) else {
            continue;
        };
        *available.entry(source).or_default() += row.in_stock - row.committed;
        if routes.mode == StockMode::Msi {
            *web.entry(source).or_default() += web_open(&row.warehouse).max(Decimal::ZERO);
        }
    }
    let total_available: Decimal = available.values().sum();
    match routes.mode {
        StockMode::Legacy => {
            let q = (total_available - safety_stock - unposted).max(Decimal::ZERO);
            vec![source_quantity(LEGACY_SOURCE, q)]
        }
        StockMode::Msi => {
            let total_web: Decimal = web.values().sum();
            let to_push = (total_available - safety_stock).max(Decimal::ZERO) + total_web;
            allocate(&available, &web, to_push)
        }
    }
}

/// Splits `to_push` over the sources: each starts from its own stock (never below 0) plus its
/// web orders, and the excess (safety stock, and sources short of stock) is taken from the
/// fullest sources first, so every source stays ≥ 0 and the sum is exactly `to_push`.
fn allocate(
    available: &BTreeMap<&str, Decimal>,
    web: &BTreeMap<&str, Decimal>,
    to_push: Decimal,
) -> Vec<SourceQuantity> {
    let mut base: Vec<(&str, Decimal)> = available
        .iter()
        .map(|(s, a)| {
            (
                *s,
                a.max(&Decimal::ZERO) + web.get(s).copied().unwrap_or_default(),
            )
        })
        .collect();
    let mut excess: Decimal = base.iter().map(|(_, b)| *b).sum::<Decimal>() - to_push;
    let mut order: Vec<usize> = (0..base.len()).collect();
    order.sort_by(|&a, &b| base[b].1.cmp(&base[a].1).then(base[a].0.cmp(base[b].0)));
    for i in order {
        if excess <= Decimal::ZERO {
            break;
        }
        let take = excess.min(base[i].1);
        base[i].1 -= take;
        excess -= take;
    }
    base.into_iter()
        .map(|(s, q)| source_quantity(s, q))
        .collect()
}

fn source_quantity(source: &str, quantity: Decimal) -> SourceQuantity {
    let quantity = quantity.normalize();
    SourceQuantity {
        source_code: source.to_owned(),
        quantity,
        in_stock: quantity > Decimal::ZERO,
    }
}

/// What the sync last sent for one SKU and source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pushed {
    pub quantity: Decimal,
    pub in_stock: bool,
    /// Magento refused it: offered again only when the quantity changes or a full pass runs.
    pub rejected: bool,
}

/// Whether `target` must be sent: always on a full pass, else when it differs from what was
/// last sent (or refused).
pub fn needs_push(target: &SourceQuantity, previous: Option<&Pushed>, full_pass: bool) -> bool {
    match previous {
        _ if full_pass => true,
        None => true,
        Some(p) => p.quantity != target.quantity || p.in_stock != target.in_stock,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn wh(source: Option<&str>, include: bool) -> WarehouseMapping {
        WarehouseMapping {
            magento_source_code: source.map(str::to_owned),
            include_in_stock: include,
            order_default: false,
        }
    }

    fn routes(mode: StockMode) -> StockRoutes {
        let mut m = HashMap::new();
        m.insert("01".to_owned(), wh(Some("default"), true));
        m.insert("02".to_owned(), wh(Some("default"), true));
        m.insert("EU".to_owned(), wh(Some("eu"), true));
        m.insert("B2B".to_owned(), wh(Some("default"), false));
        StockRoutes::from_mappings(&m, mode).unwrap().0
    }

    fn row(w: &str, in_stock: Decimal, committed: Decimal) -> WarehouseQty {
        WarehouseQty {
            warehouse: w.into(),
            in_stock,
            committed,
        }
    }

    fn q(out: &[SourceQuantity], source: &str) -> Decimal {
        out.iter()
            .find(|s| s.source_code == source)
            .map(|s| s.quantity)
            .unwrap()
    }

    #[test]
    fn msi_adds_back_the_posted_web_orders_so_they_are_not_subtracted_twice() {
        // 10 on hand in 01; 3 committed, of which 2 are a web order Magento still reserves.
        let rows = [row("01", dec!(10), dec!(3)), row("B2B", dec!(50), dec!(0))];
        let web = |w: &str| if w == "01" { dec!(2) } else { dec!(0) };
        let out = quantities(&rows, &routes(StockMode::Msi), dec!(0), web, dec!(99));
        // Pushed 9: Magento subtracts its reservation of 2 → salable 7 = 10 − 3.
        assert_eq!(q(&out, "default"), dec!(9));
        assert_eq!(
            q(&out, "eu"),
            dec!(0),
            "a mapped source without stock gets 0"
        );
        assert!(!out.iter().find(|s| s.source_code == "eu").unwrap().in_stock);
    }

    #[test]
    fn safety_stock_is_taken_once_per_sku_and_never_goes_below_zero() {
        let rows = [row("01", dec!(4), dec!(0)), row("EU", dec!(3), dec!(0))];
        let out = quantities(
            &rows,
            &routes(StockMode::Msi),
            dec!(5),
            |_| dec!(0),
            dec!(0),
        );
        assert_eq!(q(&out, "default") + q(&out, "eu"), dec!(2));
        assert!(out.iter().all(|s| s.quantity >= dec!(0)));
        let out = quantities(
            &rows,
            &routes(StockMode::Msi),
            dec!(9),
            |_| dec!(0),
            dec!(0),
        );
        assert_eq!(q(&out, "default") + q(&out, "eu"), dec!(0));
        // With a posted web order open, its reservation is still covered.
        let out = quantities(
            &rows,
            &routes(StockMode::Msi),
            dec!(9),
            |w| if w == "01" { dec!(1) } else { dec!(0) },
            dec!(0),
        );
        assert_eq!(q(&out, "default") + q(&out, "eu"), dec!(1));
    }

    #[test]
    fn a_warehouse_short_of_stock_is_netted_against_the_others() {
        // 01 is over-committed by 2 (B2B orders in SAP): the SKU's total is 5 − 2 = 3.
        let rows = [row("01", dec!(1), dec!(3)), row("EU", dec!(5), dec!(0))];
        let out = quantities(
            &rows,
            &routes(StockMode::Msi),
            dec!(0),
            |_| dec!(0),
            dec!(0),
        );
        assert_eq!(q(&out, "default") + q(&out, "eu"), dec!(3));
        assert_eq!(q(&out, "default"), dec!(0));
    }

    #[test]
    fn legacy_pushes_the_salable_quantity_less_what_is_not_yet_in_sap() {
        let rows = [row("01", dec!(10), dec!(3)), row("EU", dec!(2), dec!(0))];
        let out = quantities(
            &rows,
            &routes(StockMode::Legacy),
            dec!(1),
            |_| dec!(100),
            dec!(2),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].source_code, LEGACY_SOURCE);
        assert_eq!(
            out[0].quantity,
            dec!(6),
            "10 − 3 + 2 − 1 safety − 2 unposted"
        );
    }

    #[test]
    fn unmapped_and_excluded_warehouses_never_count() {
        let rows = [
            row("B2B", dec!(100), dec!(0)),
            row("RETAIL", dec!(7), dec!(0)),
        ];
        let out = quantities(
            &rows,
            &routes(StockMode::Msi),
            dec!(0),
            |_| dec!(0),
            dec!(0),
        );
        assert!(out.iter().all(|s| s.quantity == dec!(0)));
    }

    #[test]
    fn routes_report_included_warehouses_without_a_source_and_refuse_none() {
        let mut m = HashMap::new();
        m.insert("01".to_owned(), wh(None, true));
        assert_eq!(
            StockRoutes::from_mappings(&m, StockMode::Msi).unwrap_err(),
            RoutesError::NoWarehouse
        );
        m.insert("02".to_owned(), wh(Some("default"), true));
        let (r, warnings) = StockRoutes::from_mappings(&m, StockMode::Msi).unwrap();
        assert_eq!(r.sources(), ["default"]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("warehouse 01"), "{warnings:?}");
        let (r, warnings) = StockRoutes::from_mappings(&m, StockMode::Legacy).unwrap();
        assert_eq!(r.sources(), [LEGACY_SOURCE]);
        assert!(warnings.is_empty());
    }

    #[test]
    fn only_changes_are_pushed_unless_a_full_pass_runs() {
        let t = source_quantity("default", dec!(5.000));
        assert_eq!(t.quantity.to_string(), "5");
        let same = Pushed {
            quantity: dec!(5),
            in_stock: true,
            rejected: false,
        };
        assert!(!needs_push(&t, Some(&same), false));
        assert!(needs_push(&t, Some(&same), true));
        assert!(needs_push(&t, None, false));
        let refused = Pushed {
            rejected: true,
            ..same
        };
        assert!(!needs_push(&t, Some(&refused), false), "not offered again");
        let changed = Pushed {
            quantity: dec!(4),
            ..refused
        };
        assert!(needs_push(&t, Some(&changed), false));
    }
}
