//! Base and special prices with Magento's partial success: invalid rows are dropped and
//! reported (`{message, parameters}` with positional parameters, no row index), valid rows
//! are saved, and the answer is 200 either way (`[]` when every row was saved).
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::errors::MagentoSimError;
use super::seed::PriceScope;
use super::store::{dec, int, num, Store};

const INVALID_ATTR: &str = "Invalid attribute %fieldName = %fieldValue.";

fn rows(body: &Value) -> Result<&Vec<Value>, MagentoSimError> {
    body.get("prices")
        .and_then(Value::as_array)
        .ok_or_else(|| MagentoSimError::required("prices"))
}

/// Saves the valid rows of a request over the stored ones of the same key, or (`save`
/// false) removes the stored rows of their keys.
fn apply_rows<K: PartialEq>(
    stored: &mut Vec<Value>,
    rows: Vec<Value>,
    key: fn(&Value) -> K,
    save: bool,
) {
    for row in rows {
        let k = key(&row);
        stored.retain(|r| key(r) != k);
        if save {
            stored.push(row);
        }
    }
}

/// The stored rows of `sku` (Magento compares SKUs case-insensitively).
fn rows_of_sku(stored: &[Value], sku: &str) -> Vec<Value> {
    stored
        .iter()
        .filter(|r| {
            r["sku"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(sku))
        })
        .cloned()
        .collect()
}

/// A tier price is one per SKU, website, customer group and quantity.
fn tier_key(r: &Value) -> (String, Option<i64>, String, String) {
    (
        r["sku"].as_str().unwrap_or("").to_lowercase(),
        int(r.get("website_id")),
        r["customer_group"].as_str().unwrap_or("").to_lowercase(),
        num(dec(r.get("quantity"))).to_string(),
    )
}

/// A special price is one per SKU, store and window.
fn special_key(r: &Value) -> (String, Option<i64>, Value, Value) {
    (
        r["sku"].as_str().unwrap_or("").to_lowercase(),
        int(r.get("store_id")),
        r["price_from"].clone(),
        r["price_to"].clone(),
    )
}

fn is_magento_datetime(s: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").is_ok() && s.len() == 19
}

impl Store {
    /// Whether `sku` may carry a price of this kind (unknown SKUs, wrong types and dynamic
    /// bundles may not).
    fn price_sku_ok(&self, sku: &str, special: bool) -> bool {
        self.products
            .get(&sku.to_lowercase())
            .is_some_and(|p| match p.type_id.as_str() {
                "simple" | "virtual" | "downloadable" => true,
                "bundle" => special || !p.dynamic_price,
                _ => false,
            })
    }

    /// Where a base price for `store_id` lands: store 0 under a global price scope; under a
    /// website scope, every store view of that store's website.
    fn price_stores(&self, store_id: i64) -> Vec<i64> {
        match (
            self.price_scope,
            self.stores.iter().find(|s| s.id == store_id),
        ) {
            (PriceScope::Global, _) | (PriceScope::Website, None) => vec![0],
            (PriceScope::Website, Some(store)) => self
                .stores
                .iter()
                .filter(|s| s.website_id == store.website_id)
                .map(|s| s.id)
                .collect(),
        }
    }

    fn store_exists(&self, id: i64) -> bool {
        id == 0 || self.stores.iter().any(|s| s.id == id)
    }

    /// `POST /V1/products/base-prices`.
    pub fn save_base_prices(&mut self, body: &Value) -> Result<Value, MagentoSimError> {
        let mut errors = Vec::new();
        let mut valid = Vec::new();
        for row in rows(body)? {
            let sku = row.get("sku").and_then(Value::as_str).unwrap_or("");
            let price = row.get("price");
            let store_id = int(row.get("store_id"));
            let mut ok = true;
            if !self.price_sku_ok(sku, false) {
                errors.push(json!({"message": INVALID_ATTR, "parameters": ["SKU", sku]}));
                ok = false;
            }
            if price.is_none() || dec(price) < Decimal::ZERO {
                errors.push(json!({"message": INVALID_ATTR,
                    "parameters": ["Price", price.map(|p| p.to_string().trim_matches('"').to_owned()).unwrap_or_default()]}));
                ok = false;
            }
            match store_id {
                Some(id) if self.store_exists(id) => {}
                other => {
                    errors.push(json!({"message": "Requested store is not found. Row ID: SKU = %SKU, Store ID: %storeId.",
                        "parameters": [sku, other.map(|i| i.to_string()).unwrap_or_default()]}));
                    ok = false;
                }
            }
            if ok {
                let canonical = self.products[&sku.to_lowercase()].sku.to_lowercase();
                for store in self.price_stores(store_id.unwrap_or(0)) {
                    valid.push(((canonical.clone(), store), dec(price)));
                }
            }
        }
        for (key, price) in valid {
            self.base_prices.insert(key, price);
        }
        Ok(Value::Array(errors))
    }

    /// `POST /V1/products/base-prices-information`.
    pub fn base_prices_of(&self, body: &Value) -> Result<Value, MagentoSimError> {
        let skus = body
            .get("skus")
            .and_then(Value::as_array)
            .ok_or_else(|| MagentoSimError::required("skus"))?;
        let mut out = Vec::new();
        for sku in skus.iter().filter_map(Value::as_str) {
            let product = self.product(sku)?;
            for ((key, store), price) in &self.base_prices {
                if *key == product.sku.to_lowercase() {
                    out.push(json!({"sku": product.sku, "store_id": store, "price": num(*price)}));
                }
            }
        }
        Ok(Value::Array(out))
    }

    /// The rows of a special-price request that Magento accepts, and the refusals of the
    /// others: dates must be exactly `Y-m-d H:i:s`, `price_from` before `price_to`; with a
    /// global price scope only store 0 is accepted. Saving and deleting validate alike.
    fn checked_special_prices(
        &self,
        body: &Value,
    ) -> Result<(Vec<Value>, Vec<Value>), MagentoSimError> {
        let mut errors = Vec::new();
        let mut valid = Vec::new();
        for row in rows(body)? {
            let sku = row.get("sku").and_then(Value::as_str).unwrap_or("");
            let store_id = int(row.get("store_id")).unwrap_or(-1);
            let from = row.get("price_from").and_then(Value::as_str).unwrap_or("");
            let to = row.get("price_to").and_then(Value::as_str).unwrap_or("");
            let row_id = json!([sku, store_id.to_string(), from, to]);
            let suffix = " Row ID: SKU = %SKU, Store ID: %storeId, Price From: %priceFrom, Price To: %priceTo.";
            let before = errors.len();
            if !self.price_sku_ok(sku, true) {
                errors.push(json!({"message": format!("The product that was requested doesn't exist. Verify the product and try again.{suffix}"), "parameters": row_id}));
            }
            if row.get("price").is_none() || dec(row.get("price")) < Decimal::ZERO {
                errors.push(json!({"message": format!("Invalid attribute Price = %price.{suffix}"),
                    "parameters": [row.get("price").map(|p| p.to_string()).unwrap_or_default(), sku, store_id.to_string(), from, to]}));
            }
            if !self.store_exists(store_id) {
                errors.push(json!({"message": format!("Requested store is not found.{suffix}"), "parameters": row_id}));
            } else if self.price_scope == PriceScope::Global && store_id != 0 {
                errors.push(json!({"message": format!("Could not change non global Price when price scope is global.{suffix}"), "parameters": row_id}));
            }
            for (label, value) in [("Price From", from), ("Price To", to)] {
                if !is_magento_datetime(value) {
                    errors.push(
                        json!({"message": format!("Invalid attribute {label} = %value.{suffix}"),
                        "parameters": [value, sku, store_id.to_string(), from, to]}),
                    );
                }
            }
            if is_magento_datetime(from) && is_magento_datetime(to) && from >= to {
                errors.push(json!({"message": format!("Invalid attribute Price From = %priceFrom: it must be before Price To.{suffix}"), "parameters": row_id}));
            }
            if errors.len() == before {
                valid.push(row.clone());
            }
        }
        Ok((valid, errors))
    }

    /// `POST /V1/products/special-price`.
    pub fn save_special_prices(&mut self, body: &Value) -> Result<Value, MagentoSimError> {
        let (valid, errors) = self.checked_special_prices(body)?;
        apply_rows(&mut self.special_prices, valid, special_key, true);
        Ok(Value::Array(errors))
    }

    /// `POST /V1/products/special-price-delete`: the rows are validated as for saving; a
    /// valid row removes the special price of its SKU, store and window (one that is not
    /// there is nothing to remove, not an error).
    pub fn delete_special_prices(&mut self, body: &Value) -> Result<Value, MagentoSimError> {
        let (valid, errors) = self.checked_special_prices(body)?;
        apply_rows(&mut self.special_prices, valid, special_key, false);
        Ok(Value::Array(errors))
    }

    /// The special prices stored for `sku` (any case).
    pub fn special_prices_of(&self, sku: &str) -> Vec<Value> {
        rows_of_sku(&self.special_prices, sku)
    }

    /// `POST /V1/products/tier-prices`: adds or updates rows keyed by (SKU, website, group,
    /// quantity). `price` ≥ 0, and ≤ 100 for `discount`; `quantity` > 0; `website_id` must
    /// exist and be 0 unless the price scope is website; the group is `ALL GROUPS` (any case)
    /// or one of Magento's default groups; the same key twice in one request is refused;
    /// only simple, virtual and downloadable products take fixed prices, bundles discounts.
    pub fn save_tier_prices(&mut self, body: &Value) -> Result<Value, MagentoSimError> {
        let (valid, errors) = self.checked_tier_prices(body)?;
        apply_rows(&mut self.tier_prices, valid, tier_key, true);
        Ok(Value::Array(errors))
    }

    /// `POST /V1/products/tier-prices-delete`: the rows are validated as for saving; a valid
    /// row removes the tier price of its SKU, website, group and quantity (one that is not
    /// there is nothing to remove, not an error).
    pub fn delete_tier_prices(&mut self, body: &Value) -> Result<Value, MagentoSimError> {
        let (valid, errors) = self.checked_tier_prices(body)?;
        apply_rows(&mut self.tier_prices, valid, tier_key, false);
        Ok(Value::Array(errors))
    }

    /// The tier prices stored for `sku` (any case).
    pub fn tier_prices_for(&self, sku: &str) -> Vec<Value> {
        rows_of_sku(&self.tier_prices, sku)
    }

    /// The rows of a tier-price request Magento accepts, and the refusals of the others.
    fn checked_tier_prices(
        &self,
        body: &Value,
    ) -> Result<(Vec<Value>, Vec<Value>), MagentoSimError> {
        const GROUPS: [&str; 5] = [
            "all groups",
            "not logged in",
            "general",
            "wholesale",
            "retailer",
        ];
        let suffix = " Row ID: SKU = %SKU, Website ID: %websiteId, Customer Group: %customerGroup, Quantity: %qty.";
        let mut errors = Vec::new();
        let mut valid: Vec<Value> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for row in rows(body)? {
            let sku = row.get("sku").and_then(Value::as_str).unwrap_or("");
            let website = int(row.get("website_id")).unwrap_or(-1);
            let group = row
                .get("customer_group")
                .and_then(Value::as_str)
                .unwrap_or("");
            let qty = dec(row.get("quantity"));
            let price = dec(row.get("price"));
            let kind = row.get("price_type").and_then(Value::as_str).unwrap_or("");
            let row_id = json!([sku, website.to_string(), group, num(qty).to_string()]);
            let mut problems: Vec<&str> = Vec::new();
            let product = self.products.get(&sku.to_lowercase());
            let type_ok = matches!(
                (product.map(|p| p.type_id.as_str()), kind),
                (
                    Some("simple" | "virtual" | "downloadable"),
                    "fixed" | "discount"
                ) | (Some("bundle"), "discount")
            );
            if product.is_none() {
                problems.push("The product that was requested doesn't exist. Verify the product and try again.");
            } else if !type_ok {
                problems.push("Invalid attribute Price Type = %priceType.");
            }
            if row.get("price").is_none()
                || price < Decimal::ZERO
                || (kind == "discount" && price > Decimal::from(100))
            {
                problems.push("Invalid attribute Price = %price.");
            }
            if qty <= Decimal::ZERO {
                problems.push("Invalid attribute Quantity = %qty.");
            }
            let website_known = website == 0 || self.stores.iter().any(|s| s.website_id == website);
            if !website_known || (website != 0 && self.price_scope == PriceScope::Global) {
                problems.push("Invalid attribute Website ID = %websiteId.");
            }
            if !GROUPS.contains(&group.to_lowercase().as_str()) {
                problems.push("No such entity with Customer Group = %customerGroup.");
            }
            let key = (
                sku.to_lowercase(),
                website,
                group.to_lowercase(),
                num(qty).to_string(),
            );
            if problems.is_empty() && !seen.insert(key) {
                problems
                    .push("We found a duplicate website, tier price, customer group and quantity.");
            }
            if problems.is_empty() {
                valid.push(row.clone());
            }
            for message in problems {
                errors.push(
                    json!({"message": format!("{message}{suffix}"), "parameters": row_id.clone()}),
                );
            }
        }
        Ok((valid, errors))
    }

    /// `POST /V1/products/tier-prices-information`.
    pub fn tier_prices_of(&self, body: &Value) -> Result<Value, MagentoSimError> {
        let skus: Vec<String> = body
            .get("skus")
            .and_then(Value::as_array)
            .ok_or_else(|| MagentoSimError::required("skus"))?
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect();
        Ok(Value::Array(
            self.tier_prices
                .iter()
                .filter(|r| skus.contains(&r["sku"].as_str().unwrap_or("").to_lowercase()))
                .cloned()
                .collect(),
        ))
    }
}
