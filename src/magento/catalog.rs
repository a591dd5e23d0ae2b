//! Catalogue and tax endpoints the go-live audit reads.
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
}
