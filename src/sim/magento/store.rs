//! The simulated shop's data and the helpers every rule uses. The rules themselves are in
//! [`super::stock`] (sources, reservations, salable quantity), [`super::sales`] (orders,
//! shipments, comments, credit memos) and [`super::pricing`]. All of it is plain data behind
//! one lock, so each request applies atomically, as Magento's database transactions do.
use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use super::errors::MagentoSimError;
use super::seed::{PriceScope, Seed, SeedProduct, SeedStock, SeedStore};

/// One source item: the quantity of a SKU at a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceItemRow {
    pub sku: String,
    pub source_code: String,
    pub quantity: Decimal,
    pub in_stock: bool,
}

#[derive(Debug, Clone)]
pub struct SimOrder {
    pub json: Value,
    /// The stock the order reserved on (its website's stock).
    pub stock_id: i64,
}

pub struct Store {
    pub stores: Vec<SeedStore>,
    /// By lower-cased SKU: Magento finds SKUs case-insensitively.
    pub products: BTreeMap<String, SeedProduct>,
    pub sources: BTreeMap<String, (String, bool)>,
    pub stocks: BTreeMap<i64, SeedStock>,
    /// By (lower-cased SKU, source code).
    pub source_items: BTreeMap<(String, String), SourceItemRow>,
    /// Σ reservation quantities per (stock, lower-cased SKU): negative while orders wait.
    pub reservations: HashMap<(i64, String), Decimal>,
    pub orders: BTreeMap<i64, SimOrder>,
    pub shipments: Vec<Value>,
    pub credit_memos: BTreeMap<i64, Value>,
    pub base_prices: BTreeMap<(String, i64), Decimal>,
    pub special_prices: Vec<Value>,
    pub tier_prices: Vec<Value>,
    /// Product status set through a store view's code, by (lower-cased SKU, store id): the
    /// store-level value that overrides the product's default there.
    pub store_statuses: BTreeMap<(String, i64), i64>,
    pub tax_rates: Vec<Value>,
    pub price_scope: PriceScope,
    pub default_stock_id: i64,
    next_id: i64,
}

impl Store {
    pub fn new(seed: Seed) -> Result<Self, String> {
        let mut store = Self {
            stores: seed.stores,
            products: BTreeMap::new(),
            sources: BTreeMap::new(),
            stocks: BTreeMap::new(),
            source_items: BTreeMap::new(),
            reservations: HashMap::new(),
            orders: BTreeMap::new(),
            shipments: Vec::new(),
            credit_memos: BTreeMap::new(),
            base_prices: BTreeMap::new(),
            special_prices: Vec::new(),
            tier_prices: Vec::new(),
            store_statuses: BTreeMap::new(),
            tax_rates: seed.tax_rates,
            price_scope: seed.price_scope,
            default_stock_id: seed.default_stock_id,
            next_id: 1000,
        };
        for p in seed.products {
            store.base_prices.insert((p.sku.to_lowercase(), 0), p.price);
            store.products.insert(p.sku.to_lowercase(), p);
        }
        for s in seed.sources {
            let name = s.name.unwrap_or_else(|| s.source_code.clone());
            store.sources.insert(s.source_code, (name, s.enabled));
        }
        if !store.sources.contains_key("default") {
            // Magento always has the default source; the legacy stock item lives on it.
            return Err("the seed must have the `default` source".into());
        }
        for s in seed.stocks {
            if let Some(bad) = s
                .source_codes
                .iter()
                .find(|c| !store.sources.contains_key(*c))
            {
                return Err(format!("stock {} names unknown source {bad}", s.stock_id));
            }
            store.stocks.insert(s.stock_id, s);
        }
        if !store.stocks.contains_key(&store.default_stock_id) {
            return Err(format!(
                "default stock {} is not seeded",
                store.default_stock_id
            ));
        }
        for i in seed.source_items {
            let key = i.sku.to_lowercase();
            let sku = store
                .products
                .get(&key)
                .map(|p| p.sku.clone())
                .ok_or_else(|| format!("source item for unknown SKU {}", i.sku))?;
            if !store.sources.contains_key(&i.source_code) {
                return Err(format!("source item for unknown source {}", i.source_code));
            }
            store.source_items.insert(
                (key, i.source_code.clone()),
                SourceItemRow {
                    sku,
                    source_code: i.source_code,
                    quantity: i.quantity,
                    in_stock: i.status == 1,
                },
            );
        }
        for order in seed.orders {
            store
                .place_order(order, None)
                .map_err(|e| format!("seed order: {e}"))?;
        }
        Ok(store)
    }

    pub fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn product(&self, sku: &str) -> Result<&SeedProduct, MagentoSimError> {
        self.products
            .get(&sku.to_lowercase())
            .ok_or_else(MagentoSimError::no_product)
    }

    pub fn store_by_code(&self, code: &str) -> Option<&SeedStore> {
        self.stores.iter().find(|s| s.code == code)
    }

    pub fn product_json(p: &SeedProduct) -> Value {
        json!({
            "id": p.id, "sku": p.sku, "name": p.name.clone().unwrap_or_else(|| p.sku.clone()),
            "attribute_set_id": 4, "price": p.price, "status": p.status, "visibility": 4,
            "type_id": p.type_id, "extension_attributes": {}
        })
    }
}

/// Magento's timestamp: UTC, `YYYY-MM-DD hh:mm:ss`, no zone.
pub fn now() -> String {
    Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A number Magento may have sent as a JSON number or a string; absent is zero.
pub fn dec(v: Option<&Value>) -> Decimal {
    match v {
        Some(Value::Number(n)) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .unwrap_or_default(),
        Some(Value::String(s)) => Decimal::from_str(s.trim()).unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

pub fn int(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A decimal as a JSON number (exact).
pub fn num(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::magento::seed::{SeedProduct, SeedSourceItem};

    #[test]
    fn an_empty_seed_takes_products_and_a_seed_without_default_source_is_refused() {
        let mut seed = Seed::empty();
        seed.products.push(SeedProduct::simple(7, "X-1"));
        seed.source_items.push(SeedSourceItem {
            sku: "x-1".into(),
            source_code: "default".into(),
            quantity: Decimal::from(4),
            status: 1,
        });
        let store = Store::new(seed).unwrap();
        assert_eq!(store.salable(1, "X-1").unwrap(), Decimal::from(4));
        let mut seed = Seed::empty();
        seed.sources.clear();
        seed.stocks.clear();
        assert!(Store::new(seed).err().unwrap().contains("default"));
    }
}
