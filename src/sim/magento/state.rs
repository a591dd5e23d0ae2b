//! The simulator's shared state: the shop's data, the fault dice and the counters, each
//! behind its own lock (never held across an await).
use std::sync::{Arc, Mutex, MutexGuard};

use super::faults::{FaultDice, InvalidMagentoFaults, MagentoFaults};
use super::seed::Seed;
use super::stats::MagentoSimStats;
use super::store::Store;

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct MagentoSimConfig {
    /// The bearer token it accepts (`MAGENTO_TOKEN`).
    pub token: String,
    pub seed: Seed,
    pub faults: MagentoFaults,
}

impl MagentoSimConfig {
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: token.into(),
            seed: Seed::default_seed(),
            faults: MagentoFaults::default(),
        }
    }

    pub fn with_seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }
}

#[derive(Clone)]
pub struct MagentoSimState {
    inner: Arc<Inner>,
}

struct Inner {
    token: String,
    store: Mutex<Store>,
    dice: Mutex<FaultDice>,
    stats: Mutex<MagentoSimStats>,
}

impl MagentoSimState {
    pub fn new(config: MagentoSimConfig) -> Result<Self, String> {
        config.faults.validate().map_err(|e| e.to_string())?;
        if config.token.trim().is_empty() {
            return Err("the Magento simulator needs a token (MAGENTO_TOKEN)".into());
        }
        Ok(Self {
            inner: Arc::new(Inner {
                token: config.token,
                store: Mutex::new(Store::new(config.seed)?),
                dice: Mutex::new(FaultDice::new(config.faults)),
                stats: Mutex::new(MagentoSimStats::default()),
            }),
        })
    }

    pub(crate) fn token(&self) -> &str {
        &self.inner.token
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.inner.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn dice(&self) -> MutexGuard<'_, FaultDice> {
        self.inner.dice.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn stats_mut(&self) -> MutexGuard<'_, MagentoSimStats> {
        self.inner.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> MagentoSimStats {
        self.stats_mut().clone()
    }

    /// Zeroes the counters (e.g. between the phases of a test); requests in flight stay
    /// counted as such.
    pub fn reset_stats(&self) {
        let mut stats = self.stats_mut();
        let in_flight = stats.in_flight;
        *stats = MagentoSimStats {
            in_flight,
            ..MagentoSimStats::default()
        };
    }

    pub fn faults(&self) -> MagentoFaults {
        self.dice().faults()
    }

    /// Replaces the fault settings and restarts the dice from their seed.
    pub fn set_faults(&self, faults: MagentoFaults) -> Result<(), InvalidMagentoFaults> {
        faults.validate()?;
        *self.dice() = FaultDice::new(faults);
        Ok(())
    }

    /// What `stock_id` can sell of `sku` now (`None` for an unknown SKU or stock).
    pub fn salable(&self, stock_id: i64, sku: &str) -> Option<rust_decimal::Decimal> {
        self.store().salable(stock_id, sku).ok()
    }

    /// The quantity of `sku` at `source_code` (`None` without a source item).
    pub fn source_quantity(&self, sku: &str, source_code: &str) -> Option<rust_decimal::Decimal> {
        self.store()
            .source_items
            .get(&(sku.to_lowercase(), source_code.to_owned()))
            .map(|i| i.quantity)
    }

    /// The base price of `sku` in store view `store_id` (0: global scope), as the last
    /// `POST /V1/products/base-prices` set it (`base-prices-information` answers the same);
    /// `None` when none was set.
    pub fn base_price(&self, sku: &str, store_id: i64) -> Option<rust_decimal::Decimal> {
        self.store()
            .base_prices
            .get(&(sku.to_lowercase(), store_id))
            .copied()
    }

    /// A product's own status (the admin scope's), `None` for an unknown SKU.
    pub fn product_status(&self, sku: &str) -> Option<i64> {
        self.store()
            .products
            .get(&sku.to_lowercase())
            .map(|p| p.status)
    }

    /// The special prices stored for `sku`, as saved.
    pub fn special_prices(&self, sku: &str) -> Vec<serde_json::Value> {
        self.store().special_prices_of(sku)
    }

    /// The tier prices stored for `sku`, as saved.
    pub fn tier_prices(&self, sku: &str) -> Vec<serde_json::Value> {
        self.store().tier_prices_for(sku)
    }

    /// An order as `GET /V1/orders/{id}` would return it.
    pub fn order_json(&self, entity_id: i64) -> Option<serde_json::Value> {
        self.store().orders.get(&entity_id).map(|o| o.json.clone())
    }

    /// The shipments created for an order, oldest first (items, tracks and `notify` as sent).
    pub fn shipments(&self, order_id: i64) -> Vec<serde_json::Value> {
        self.store()
            .shipments
            .iter()
            .filter(|s| s.get("order_id").and_then(serde_json::Value::as_i64) == Some(order_id))
            .cloned()
            .collect()
    }
}
