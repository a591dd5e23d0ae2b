//! MSI as b1bridge meets it: sources, source items, stocks, reservations and the salable
//! quantity, plus the legacy stock item (which, as in Magento 2.3+, is the `default`
//! source's item seen through the old API).
//!
//! salable(stock, SKU) = Σ quantity of the SKU's source items at the stock's enabled sources
//! whose status is "in stock" + Σ reservations(stock, SKU). A placed order adds a negative
//! reservation; a shipment deducts the source quantity and adds the compensating positive
//! reservation; a cancellation (or a refund of what was never shipped) adds it back too.
//! Magento also subtracts a configurable "out-of-stock threshold" (default 0): not simulated.
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::errors::MagentoSimError;
use super::store::{dec, int, num, SourceItemRow, Store};

/// Product types whose stock Magento keeps per source item; composite parents have none.
pub fn keeps_stock(product_type: &str) -> bool {
    !matches!(product_type, "configurable" | "bundle" | "grouped")
}

impl Store {
    /// `POST /V1/inventory/source-items`. The whole batch is validated first and nothing is
    /// saved when a row is refused. Magento's own validators check for empty SKUs and source
    /// codes and bad statuses; whether an SKU unknown to the catalogue is refused is not
    /// documented: the simulator refuses it (the stricter choice), so a sync must cope with
    /// one bad SKU failing its batch.
    pub fn save_source_items(&mut self, body: &Value) -> Result<Value, MagentoSimError> {
        let rows = body
            .get("sourceItems")
            .and_then(Value::as_array)
            .ok_or_else(|| MagentoSimError::required("sourceItems"))?;
        let mut errors = Vec::new();
        let mut valid = Vec::new();
        for row in rows {
            let sku = row.get("sku").and_then(Value::as_str).unwrap_or("").trim();
            let code = row.get("source_code").and_then(Value::as_str).unwrap_or("");
            if sku.is_empty() {
                errors.push((
                    "\"%field\" can not be empty.".into(),
                    json!({"field": "sku"}),
                ));
                continue;
            }
            if code.is_empty() {
                errors.push((
                    "\"%field\" can not be empty.".into(),
                    json!({"field": "source_code"}),
                ));
                continue;
            }
            let Some(product) = self.products.get(&sku.to_lowercase()) else {
                errors.push((
                    "Product with SKU \"%sku\" does not exist.".into(),
                    json!({"sku": sku}),
                ));
                continue;
            };
            if !keeps_stock(&product.type_id) {
                errors.push((
                    "Product type \"%type\" of SKU \"%sku\" has no source items.".into(),
                    json!({"type": product.type_id, "sku": sku}),
                ));
                continue;
            }
            if !self.sources.contains_key(code) {
                errors.push((
                    "Source with code \"%code\" does not exist.".into(),
                    json!({"code": code}),
                ));
                continue;
            }
            let quantity = match row.get("quantity") {
                Some(v @ (Value::Number(_) | Value::String(_))) => dec(Some(v)),
                _ => {
                    errors.push((
                        "\"%field\" should be numeric.".into(),
                        json!({"field": "quantity"}),
                    ));
                    continue;
                }
            };
            let in_stock = match int(row.get("status")) {
                Some(0) => false,
                Some(1) => true,
                _ => {
                    errors.push((
                        "\"%field\" should saved only with 0 or 1 values.".into(),
                        json!({"field": "status"}),
                    ));
                    continue;
                }
            };
            valid.push(SourceItemRow {
                sku: product.sku.clone(),
                source_code: code.to_owned(),
                quantity,
                in_stock,
            });
        }
        if !errors.is_empty() {
            return Err(MagentoSimError::validation(errors));
        }
        for row in valid {
            self.source_items
                .insert((row.sku.to_lowercase(), row.source_code.clone()), row);
        }
        Ok(json!([]))
    }

    pub fn source_items_json(&self) -> Vec<Value> {
        self.source_items
            .values()
            .map(Self::source_item_json)
            .collect()
    }

    fn source_item_json(r: &SourceItemRow) -> Value {
        json!({"sku": r.sku, "source_code": r.source_code, "quantity": num(r.quantity),
               "status": i32::from(r.in_stock)})
    }

    /// The source items of these SKUs (any case), without listing the others.
    pub fn source_items_of(&self, skus: &[String]) -> Vec<Value> {
        let mut keys: Vec<String> = skus.iter().map(|s| s.to_lowercase()).collect();
        keys.sort();
        keys.dedup();
        keys.iter()
            .flat_map(|key| {
                self.source_items
                    .range((key.clone(), String::new())..)
                    .take_while(move |((k, _), _)| k == key)
                    .map(|(_, r)| Self::source_item_json(r))
            })
            .collect()
    }

    pub fn source_items_page(&self, skip: usize, take: usize) -> Vec<Value> {
        self.source_items
            .values()
            .skip(skip)
            .take(take)
            .map(Self::source_item_json)
            .collect()
    }

    pub fn sources_json(&self) -> Vec<Value> {
        self.sources
            .iter()
            .map(|(code, (name, enabled))| {
                json!({"source_code": code, "name": name, "enabled": enabled,
                       "country_id": "US", "postcode": "00000"})
            })
            .collect()
    }

    pub fn stocks_json(&self) -> Vec<Value> {
        self.stocks
            .values()
            .map(|s| json!({"stock_id": s.stock_id, "name": s.name}))
            .collect()
    }

    /// Adds `qty` (negative to reserve) to the reservations of (stock, SKU).
    pub fn reserve(&mut self, stock_id: i64, sku: &str, qty: Decimal) {
        *self
            .reservations
            .entry((stock_id, sku.to_lowercase()))
            .or_default() += qty;
    }

    /// What the stock can still sell of `sku`.
    pub fn salable(&self, stock_id: i64, sku: &str) -> Result<Decimal, MagentoSimError> {
        let product = self.product(sku)?;
        if !keeps_stock(&product.type_id) {
            return Err(MagentoSimError::bad_request(
                "Can't check requested quantity for products without Source Items support.",
                Value::Null,
            ));
        }
        let stock = self.stocks.get(&stock_id).ok_or_else(|| {
            MagentoSimError::new(
                axum::http::StatusCode::NOT_FOUND,
                "Stock with id \"%value\" does not exist.",
                json!({"value": stock_id}),
            )
        })?;
        let key = product.sku.to_lowercase();
        let on_hand: Decimal = stock
            .source_codes
            .iter()
            .filter(|code| self.sources.get(*code).is_some_and(|(_, enabled)| *enabled))
            .filter_map(|code| self.source_items.get(&(key.clone(), code.clone())))
            .filter(|item| item.in_stock)
            .map(|item| item.quantity)
            .sum();
        let reserved = self
            .reservations
            .get(&(stock_id, key))
            .copied()
            .unwrap_or_default();
        Ok(on_hand + reserved)
    }

    /// Every stock-keeping SKU's salable quantity on `stock_id` (for the inspection endpoint).
    pub fn salable_all(&self, stock_id: i64) -> Vec<(String, Decimal)> {
        self.products
            .values()
            .filter(|p| keeps_stock(&p.type_id))
            .filter_map(|p| {
                self.salable(stock_id, &p.sku)
                    .ok()
                    .map(|q| (p.sku.clone(), q))
            })
            .collect()
    }

    /// `GET /V1/stockItems/{sku}`: the legacy view of the `default` source's item.
    pub fn legacy_stock_item(&self, sku: &str) -> Result<Value, MagentoSimError> {
        let product = self.product(sku)?;
        let item = self
            .source_items
            .get(&(product.sku.to_lowercase(), "default".to_owned()));
        let qty = item.map(|i| i.quantity).unwrap_or_default();
        Ok(json!({
            "item_id": product.stock_item_id.unwrap_or(product.id),
            "product_id": product.id,
            "stock_id": 1,
            "qty": num(qty),
            "is_in_stock": item.is_some_and(|i| i.in_stock),
            "is_qty_decimal": false,
            "manage_stock": true,
            "min_qty": 0,
            "backorders": 0,
        }))
    }

    /// `PUT /V1/products/{sku}/stockItems/{itemId}`; answers the item id as a JSON string,
    /// as recorded stores do. Magento looks the item up by SKU; an `itemId` that is not the
    /// SKU's item is refused here (stricter than necessary, so a client that sends the wrong
    /// id notices).
    pub fn update_legacy_stock_item(
        &mut self,
        sku: &str,
        item_id: i64,
        body: &Value,
    ) -> Result<Value, MagentoSimError> {
        let product = self.product(sku)?.clone();
        let own_id = product.stock_item_id.unwrap_or(product.id);
        if own_id != item_id {
            return Err(MagentoSimError::new(
                axum::http::StatusCode::NOT_FOUND,
                "The stock item with \"%1\" ID wasn't found. Verify the ID and try again.",
                json!([item_id.to_string()]),
            ));
        }
        let stock_item = body
            .get("stockItem")
            .filter(|v| v.is_object())
            .ok_or_else(|| MagentoSimError::required("stockItem"))?;
        let key = (product.sku.to_lowercase(), "default".to_owned());
        let current = self.source_items.get(&key).cloned();
        let quantity = match stock_item.get("qty") {
            Some(v) => dec(Some(v)),
            None => current.as_ref().map(|c| c.quantity).unwrap_or_default(),
        };
        let in_stock = match stock_item.get("is_in_stock") {
            Some(Value::Bool(b)) => *b,
            Some(v) => int(Some(v)) == Some(1),
            None => current.as_ref().is_some_and(|c| c.in_stock),
        };
        self.source_items.insert(
            key,
            SourceItemRow {
                sku: product.sku.clone(),
                source_code: "default".into(),
                quantity,
                in_stock,
            },
        );
        Ok(Value::String(own_id.to_string()))
    }

    /// Takes `need` of `sku` out of the stock's sources: from `source_code` when given, else
    /// in the stock's priority order. Checks everything before changing anything.
    pub fn plan_deduction(
        &self,
        stock_id: i64,
        sku: &str,
        need: Decimal,
        source_code: Option<&str>,
    ) -> Result<Vec<(String, Decimal)>, MagentoSimError> {
        let not_available = || {
            MagentoSimError::bad_request(
                "Not all of your products are available in the requested quantity.",
                Value::Null,
            )
        };
        let stock = self.stocks.get(&stock_id).ok_or_else(not_available)?;
        let codes: Vec<&String> = match source_code {
            Some(code) => {
                if !stock.source_codes.iter().any(|c| c == code) {
                    return Err(MagentoSimError::bad_request(
                        "Source \"%1\" is not assigned to the order's stock.",
                        json!([code]),
                    ));
                }
                stock.source_codes.iter().filter(|c| *c == code).collect()
            }
            None => stock.source_codes.iter().collect(),
        };
        let key = sku.to_lowercase();
        let mut left = need;
        let mut plan = Vec::new();
        for code in codes {
            if left <= Decimal::ZERO {
                break;
            }
            let Some(item) = self.source_items.get(&(key.clone(), code.clone())) else {
                continue;
            };
            if !item.in_stock || item.quantity <= Decimal::ZERO {
                continue;
            }
            let take = item.quantity.min(left);
            plan.push((code.clone(), take));
            left -= take;
        }
        if left > Decimal::ZERO {
            return Err(not_available());
        }
        Ok(plan)
    }

    /// Applies a deduction; an item that reaches zero goes out of stock, as MSI's source
    /// deduction sets it.
    pub fn deduct(&mut self, sku: &str, plan: &[(String, Decimal)]) {
        for (code, qty) in plan {
            if let Some(item) = self
                .source_items
                .get_mut(&(sku.to_lowercase(), code.clone()))
            {
                item.quantity -= qty;
                if item.quantity <= Decimal::ZERO {
                    item.in_stock = false;
                }
            }
        }
    }

    /// Puts returned goods back on a source (a credit memo's "return to stock").
    pub fn restock(&mut self, sku: &str, source_code: &str, qty: Decimal) {
        let product_sku = self
            .products
            .get(&sku.to_lowercase())
            .map(|p| p.sku.clone())
            .unwrap_or_else(|| sku.to_owned());
        let item = self
            .source_items
            .entry((sku.to_lowercase(), source_code.to_owned()))
            .or_insert_with(|| SourceItemRow {
                sku: product_sku,
                source_code: source_code.to_owned(),
                quantity: Decimal::ZERO,
                in_stock: false,
            });
        item.quantity += qty;
        if item.quantity > Decimal::ZERO {
            item.in_stock = true;
        }
    }
}
