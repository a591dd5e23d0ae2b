//! `PUT /V1/products/{sku}` as far as b1bridge uses it: a product's status (1 enabled, 2
//! disabled; `Magento\Catalog\Model\Product\Attribute\Source\Status`), in the scope
//! of the request's store code (docs/magento-rest.md, "Product status").
use serde_json::Value;

use super::errors::MagentoSimError;
use super::store::Store;

impl Store {
    /// Saves the product's status. `all` (the admin scope) sets the product's own value; a
    /// store view's code sets a value for that view only. The body's `sku` wins over the
    /// path's, as in Magento. Stricter than Magento, which would try to *create* a product
    /// for an unknown SKU (and save other attributes), the simulator answers 404 for an
    /// unknown SKU, refuses attributes other than `sku` and `status`, and a status other
    /// than 1 or 2.
    pub fn save_product(
        &mut self,
        store_code: &str,
        path_sku: &str,
        body: &Value,
    ) -> Result<Value, MagentoSimError> {
        let product = body
            .get("product")
            .and_then(Value::as_object)
            .ok_or_else(|| MagentoSimError::required("product"))?;
        if let Some(other) = product
            .keys()
            .find(|k| !matches!(k.as_str(), "sku" | "status"))
        {
            return Err(MagentoSimError::bad_request(
                "The simulator saves only a product's status, not \"%1\".",
                serde_json::json!([other]),
            ));
        }
        let sku = product
            .get("sku")
            .and_then(Value::as_str)
            .unwrap_or(path_sku)
            .to_lowercase();
        let status = match product.get("status").and_then(Value::as_i64) {
            Some(s @ (1 | 2)) => s,
            _ => {
                return Err(MagentoSimError::bad_request(
                    "Invalid attribute %fieldName = %fieldValue.",
                    serde_json::json!([
                        "status",
                        product.get("status").cloned().unwrap_or(Value::Null)
                    ]),
                ))
            }
        };
        if !self.products.contains_key(&sku) {
            return Err(MagentoSimError::no_product());
        }
        if store_code == "all" {
            if let Some(p) = self.products.get_mut(&sku) {
                p.status = status;
            }
        } else {
            let store = self
                .store_by_code(store_code)
                .map(|s| s.id)
                .ok_or_else(MagentoSimError::no_product)?;
            self.store_statuses.insert((sku.clone(), store), status);
        }
        Ok(Store::product_json(&self.products[&sku]))
    }
}
