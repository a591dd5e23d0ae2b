//! Price endpoints. Both answer 200 with the refused rows (`[]` when all were saved): the
//! valid rows are saved even when others are refused.
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::client::{decode, MagentoClient};
use super::error::MagentoError;
use super::transport::Replay;
use super::types::{BasePrice, PriceRowError, SpecialPrice, TierPrice};

impl MagentoClient {
    /// `POST` of `{"<field>": rows}` to a price endpoint; its answer decoded. The price
    /// writes set values, so a retry cannot double anything (`Replay::Safe`).
    async fn post_rows<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        field: &str,
        rows: &T,
    ) -> Result<R, MagentoError> {
        let path = endpoint.trim_start_matches("POST ").to_owned();
        let body = self
            .write(
                Method::POST,
                endpoint,
                path,
                &serde_json::json!({ field: rows }),
                Replay::Safe,
            )
            .await?;
        decode(endpoint, &body)
    }

    /// `POST /V1/products/base-prices`.
    pub async fn update_base_prices(
        &self,
        prices: &[BasePrice],
    ) -> Result<Vec<PriceRowError>, MagentoError> {
        self.post_rows("POST V1/products/base-prices", "prices", prices)
            .await
    }

    /// `POST /V1/products/base-prices-information`: the stored base prices of these SKUs.
    pub async fn base_prices(&self, skus: &[String]) -> Result<Vec<BasePrice>, MagentoError> {
        self.post_rows("POST V1/products/base-prices-information", "skus", skus)
            .await
    }

    /// `POST /V1/products/special-price`.
    pub async fn update_special_prices(
        &self,
        prices: &[SpecialPrice],
    ) -> Result<Vec<PriceRowError>, MagentoError> {
        self.post_rows("POST V1/products/special-price", "prices", prices)
            .await
    }

    /// `POST /V1/products/special-price-delete`: removes these special prices (each named by
    /// SKU, store, price and window, as saved).
    pub async fn delete_special_prices(
        &self,
        prices: &[SpecialPrice],
    ) -> Result<Vec<PriceRowError>, MagentoError> {
        self.post_rows("POST V1/products/special-price-delete", "prices", prices)
            .await
    }

    /// `POST /V1/products/tier-prices-delete`: removes these tier prices (each named by SKU,
    /// website, customer group and quantity, with its price and type).
    pub async fn delete_tier_prices(
        &self,
        prices: &[TierPrice],
    ) -> Result<Vec<PriceRowError>, MagentoError> {
        self.post_rows("POST V1/products/tier-prices-delete", "prices", prices)
            .await
    }

    /// `POST /V1/products/tier-prices`: adds or updates these tier prices (others stay).
    pub async fn update_tier_prices(
        &self,
        prices: &[TierPrice],
    ) -> Result<Vec<PriceRowError>, MagentoError> {
        self.post_rows("POST V1/products/tier-prices", "prices", prices)
            .await
    }

    /// `POST /V1/products/tier-prices-information`: the tier prices of these SKUs.
    pub async fn tier_prices(&self, skus: &[String]) -> Result<Vec<TierPrice>, MagentoError> {
        self.post_rows("POST V1/products/tier-prices-information", "skus", skus)
            .await
    }
}
