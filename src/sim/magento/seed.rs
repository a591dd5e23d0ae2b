//! The simulator's starting data, from JSON (`--seed FILE`) or the built-in default, which
//! has the SKUs of the Magento sample orders on the single `default` source.
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Store views; `/rest/{code}/V1/…` must name one of them (or `all`).
    #[serde(default = "default_stores")]
    pub stores: Vec<SeedStore>,
    pub products: Vec<SeedProduct>,
    pub sources: Vec<SeedSource>,
    pub stocks: Vec<SeedStock>,
    #[serde(default)]
    pub source_items: Vec<SeedSourceItem>,
    #[serde(default)]
    pub tax_rates: Vec<serde_json::Value>,
    /// Orders as `GET /V1/orders/{id}` returns them; placed (and reserved) at start.
    #[serde(default)]
    pub orders: Vec<serde_json::Value>,
    /// `catalog/price/scope`: `global` (0) or `website` (1).
    #[serde(default)]
    pub price_scope: PriceScope,
    /// Stock orders reserve on when the placing request names none.
    #[serde(default = "one")]
    pub default_stock_id: i64,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceScope {
    #[default]
    Global,
    Website,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedStore {
    pub id: i64,
    pub code: String,
    #[serde(default = "one")]
    pub website_id: i64,
}

fn default_stores() -> Vec<SeedStore> {
    vec![SeedStore {
        id: 1,
        code: "default".into(),
        website_id: 1,
    }]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProduct {
    pub id: i64,
    pub sku: String,
    #[serde(default)]
    pub name: Option<String>,
    /// simple, virtual, downloadable, configurable, bundle, grouped.
    #[serde(default = "simple")]
    pub type_id: String,
    /// 1 enabled, 2 disabled.
    #[serde(default = "one")]
    pub status: i64,
    #[serde(default)]
    pub price: Decimal,
    /// Bundles only: a dynamic-price bundle has no base price of its own.
    #[serde(default)]
    pub dynamic_price: bool,
    /// The legacy stock item's id; defaults to the product id.
    #[serde(default)]
    pub stock_item_id: Option<i64>,
}

impl SeedProduct {
    /// An enabled simple product.
    pub fn simple(id: i64, sku: impl Into<String>) -> Self {
        Self {
            id,
            sku: sku.into(),
            name: None,
            type_id: simple(),
            status: 1,
            price: Decimal::ZERO,
            dynamic_price: false,
            stock_item_id: None,
        }
    }
}

fn simple() -> String {
    "simple".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSource {
    pub source_code: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedStock {
    pub stock_id: i64,
    pub name: String,
    /// Assigned sources, highest priority first (the order shipments deduct in).
    pub source_codes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSourceItem {
    pub sku: String,
    pub source_code: String,
    pub quantity: Decimal,
    #[serde(default = "one")]
    pub status: i64,
}

impl Seed {
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("Magento simulator seed: {e}"))
    }

    /// A shop with the `default` store, the `default` source, stock 1 on it and nothing else;
    /// tests and benchmarks add products and source items.
    pub fn empty() -> Self {
        Self {
            stores: default_stores(),
            products: Vec::new(),
            sources: vec![SeedSource {
                source_code: "default".into(),
                name: Some("Default Source".into()),
                enabled: true,
            }],
            stocks: vec![SeedStock {
                stock_id: 1,
                name: "Default Stock".into(),
                source_codes: vec!["default".into()],
            }],
            source_items: Vec::new(),
            tax_rates: Vec::new(),
            orders: Vec::new(),
            price_scope: PriceScope::Global,
            default_stock_id: 1,
        }
    }

    /// The built-in seed.
    pub fn default_seed() -> Self {
        Self::from_json(include_str!("default_seed.json")).expect("built-in seed is valid")
    }
}
