//! Price endpoints. Both answer 200 with the refused rows (`[]` when all were saved): the
//! valid rows are saved even when others are refused.
use reqwest::Method;

use super::client::{decode, MagentoClient};
use super::error::MagentoError;
use super::transport::Replay;
use super::types::{BasePrice, PriceRowError, SpecialPrice, TierPrice};

impl MagentoClient {
    /// `POST /V1/products/base-prices`.
    pub async fn update_base_prices(
        &self,
        prices: &[BasePrice],
    ) -> Result<Vec<PriceRowError>, MagentoError> {
        const EP: &str = "POST V1/products/base-prices";
        let body = self
            .write(
                Method::POST,
                EP,
                "V1/products/base-prices".into(),
                &serde_json::json!({ "prices": prices }),
                Replay::Safe,
            )
            .await?;
        decode(EP, &body)
    }

    /// `POST /V1/products/base-prices-information`: the stored base prices of these SKUs.
    pub async fn base_prices(&self, skus: &[String]) -> Result<Vec<BasePrice>, MagentoError> {
        const EP: &str = "POST V1/products/base-prices-information";
        let body = self
            .write(
                Method::POST,
                EP,
                "V1/products/base-prices-information".into(),
                &serde_json::json!({ "skus": skus }),
                Replay::Safe,
            )
            .await?;
        decode(EP, &body)
    }

    /// `POST /V1/products/special-price`.
    pub async fn update_special_prices(
        &self,
        prices: &[SpecialPrice],
    ) -> Result<Vec<PriceRowError>, MagentoError> {
        const EP: &str = "POST V1/products/special-price";
        let body = self
            .write(
                Method::POST,
                EP,
                "V1/products/special-price".into(),
                &serde_json::json!({ "prices": prices }),
                Replay::Safe,
            )
            .await?;
        decode(EP, &body)
    }

    /// `POST /V1/products/special-price-delete`: removes these special prices (each named by
    /// SKU, store, price and window, as saved).
    pub async fn delete_special_prices(
        &self,
        prices: &[SpecialPrice],
    ) -> Result<Vec<PriceRowError>, MagentoError> {
        const EP: &str = "POST V1/products/special-price-delete";
        let body = self
            .write(
                Method::POST,
                EP,
                "V1/products/special-price-delete".into(),
                &serde_json::json!({ "prices": prices }),
                Replay::Safe,
            )
            .await?;
        decode(EP, &body)
    }

    /// `POST /V1/products/tier-prices-delete`: removes these tier prices (each named by SKU,
    /// website, customer group and quantity, with its price and type).
    pub async fn delete_tier_prices(
        &self,
        prices: &[TierPrice],
    ) -> Result<Vec<PriceRowError>, MagentoError> {
        const EP: &str = "POST V1/products/tier-prices-delete";
        let body = self
            .write(
                Method::POST,
                EP,
                "V1/products/tier-prices-delete".into(),
                &serde_json::json!({ "prices": prices }),
                Replay::Safe,
            )
            .await?;
        decode(EP, &body)
    }

    /// `POST /V1/products/tier-prices`: adds or updates these tier prices (others stay).
    pub async fn update_tier_prices(
        &self,
        prices: &[TierPrice],
    ) -> Result<Vec<PriceRowError>, MagentoError> {
        const EP: &str = "POST V1/products/tier-prices";
        let body = self
            .write(
                Method::POST,
                EP,
                "V1/products/tier-prices".into(),
                &serde_json::json!({ "prices": prices }),
                Replay::Safe,
            )
            .await?;
        decode(EP, &body)
    }

    /// `POST /V1/products/tier-prices-information`: the tier prices of these SKUs.
    pub async fn tier_prices(&self, skus: &[String]) -> Result<Vec<TierPrice>, MagentoError> {
        const EP: &str = "POST V1/products/tier-prices-information";
        let body = self
            .write(
                Method::POST,
                EP,
                "V1/products/tier-prices-information".into(),
                &serde_json::json!({ "skus": skus }),
                Replay::Safe,
            )
            .await?;
        decode(EP, &body)
    }
}
