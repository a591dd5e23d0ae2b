//! Catalogue and tax endpoints the go-live audit reads, and the product status the price sync sets.
use super::client::MagentoClient;
use super::error::MagentoError;
use super::search::{SearchCriteria, SearchResult};
use super::types::{Product, TaxRate};

impl MagentoClient {
    /// `GET /V1/products` (one page).
    pub async fn search_products(
        &self,
        criteria: &SearchCriteria,
    ) -> Result<SearchResult<Product>, MagentoError> {
        self.search("GET V1/products", "V1/products", criteria)
            .await
    }

    /// Every product matching `criteria`, `page_size` per request.
    pub async fn all_products(
        &self,
        criteria: &SearchCriteria,
        page_size: u32,
    ) -> Result<Vec<Product>, MagentoError> {
        self.search_all("GET V1/products", "V1/products", criteria, page_size)
            .await
    }

    /// `GET /V1/taxRates/search`: every tax rate.
    pub async fn tax_rates(&self) -> Result<Vec<TaxRate>, MagentoError> {
        self.search_all(
            "GET V1/taxRates/search",
            "V1/taxRates/search",
            &SearchCriteria::new(),
            100,
        )
        .await
    }

    /// `PUT /rest/all/V1/products/{sku}` with only `sku` and `status` (1 enabled, 2 disabled):
    /// the product's own status, in the admin scope (`all`) so that no store view keeps a
    /// value of its own. The store code of `MAGENTO_URL` is replaced by `all`
    /// (docs/magento-rest.md, "Product status"). Magento would create a product for an
    /// unknown SKU, so callers only send SKUs Magento is known to have.
    pub async fn set_product_status(&self, sku: &str, status: i64) -> Result<(), MagentoError> {
        const EP: &str = "PUT V1/products/{sku}";
        self.write(
            reqwest::Method::PUT,
            EP,
            format!("../all/V1/products/{}", super::client::segment(sku)),
            &serde_json::json!({ "product": { "sku": sku, "status": status } }),
            super::transport::Replay::Safe,
        )
        .await?;
        Ok(())
    }
}
