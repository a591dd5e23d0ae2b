//! Order endpoints (search, get, ship, comments) and credit memos.
use reqwest::Method;

use super::client::{decode_bool, decode_id, MagentoClient};
use super::error::MagentoError;
use super::search::{Condition, Filter, SearchCriteria, SearchResult};
use super::transport::Replay;
use super::types::{CreditMemo, OrderComment, RestOrder, ShipRequest};

impl MagentoClient {
    /// `GET /V1/orders` with any criteria (one page).
    pub async fn search_orders(
        &self,
        criteria: &SearchCriteria,
    ) -> Result<SearchResult<RestOrder>, MagentoError> {
        self.search("GET V1/orders", "V1/orders", criteria).await
    }

    /// Every order updated at or after `since` (UTC, `YYYY-MM-DD hh:mm:ss`), oldest first,
    /// `page_size` per request; stops on `total_count` (Magento repeats the last page).
    pub async fn orders_updated_since(
        &self,
        since: &str,
        page_size: u32,
    ) -> Result<Vec<RestOrder>, MagentoError> {
        let criteria = SearchCriteria::new()
            .and(Filter::new("updated_at", Condition::Gteq, since))
            .sort_asc("updated_at")
            .sort_asc("entity_id");
        self.search_all("GET V1/orders", "V1/orders", &criteria, page_size)
            .await
    }

    /// Every order created at or after `since` (UTC, `YYYY-MM-DD hh:mm:ss`), oldest first,
    /// every page (stops on `total_count`): the reconciliation's window.
    pub async fn orders_created_since(
        &self,
        since: &str,
        page_size: u32,
    ) -> Result<Vec<RestOrder>, MagentoError> {
        let criteria = SearchCriteria::new()
            .and(Filter::new("created_at", Condition::Gteq, since))
            .sort_asc("created_at")
            .sort_asc("entity_id");
        self.search_all("GET V1/orders", "V1/orders", &criteria, page_size)
            .await
    }

    /// The orders whose increment id is one of `increment_ids` (`in`, a few dozen per request),
    /// every page.
    pub async fn orders_by_increment_ids(
        &self,
        increment_ids: &[String],
        page_size: u32,
    ) -> Result<Vec<RestOrder>, MagentoError> {
        let mut found = Vec::new();
        for chunk in increment_ids.chunks(50) {
            let criteria = SearchCriteria::new()
                .and(Filter::new("increment_id", Condition::In, chunk.join(",")))
                .sort_asc("entity_id");
            found.extend(
                self.search_all::<RestOrder>("GET V1/orders", "V1/orders", &criteria, page_size)
                    .await?,
            );
        }
        Ok(found)
    }

    /// `GET /V1/orders/{id}` (the entity id, not the increment id).
    pub async fn order(&self, entity_id: i64) -> Result<RestOrder, MagentoError> {
        self.get(
            "GET V1/orders/{id}",
            format!("V1/orders/{entity_id}"),
            Vec::new(),
        )
        .await
    }

    /// `POST /V1/order/{id}/ship`; answers the new shipment's id. Not resent after a lost
    /// answer ([`MagentoError::Ambiguous`]): read the order's shipped quantities first.
    pub async fn ship(&self, order_id: i64, request: &ShipRequest) -> Result<i64, MagentoError> {
        const EP: &str = "POST V1/order/{id}/ship";
        let body = self
            .write(
                Method::POST,
                EP,
                format!("V1/order/{order_id}/ship"),
                &request.to_body(),
                Replay::Unsafe,
            )
            .await?;
        decode_id(EP, &body)
    }

    /// `POST /V1/orders/{id}/comments`, always with the order's current status.
    pub async fn add_order_comment(
        &self,
        order_id: i64,
        comment: &OrderComment,
    ) -> Result<bool, MagentoError> {
        const EP: &str = "POST V1/orders/{id}/comments";
        let body = self
            .write(
                Method::POST,
                EP,
                format!("V1/orders/{order_id}/comments"),
                &comment.to_body(order_id),
                Replay::Unsafe,
            )
            .await?;
        decode_bool(EP, &body)
    }

    /// `GET /V1/creditmemo/{id}`.
    pub async fn credit_memo(&self, id: i64) -> Result<CreditMemo, MagentoError> {
        self.get(
            "GET V1/creditmemo/{id}",
            format!("V1/creditmemo/{id}"),
            Vec::new(),
        )
        .await
    }

    /// `GET /V1/creditmemos` with any criteria (one page).
    pub async fn search_credit_memos(
        &self,
        criteria: &SearchCriteria,
    ) -> Result<SearchResult<CreditMemo>, MagentoError> {
        self.search("GET V1/creditmemos", "V1/creditmemos", criteria)
            .await
    }

    /// Every credit memo updated at or after `since`, oldest first, every page.
    pub async fn credit_memos_updated_since(
        &self,
        since: &str,
        page_size: u32,
    ) -> Result<Vec<CreditMemo>, MagentoError> {
        let criteria = SearchCriteria::new()
            .and(Filter::new("updated_at", Condition::Gteq, since))
            .sort_asc("updated_at")
            .sort_asc("entity_id");
        self.search_all("GET V1/creditmemos", "V1/creditmemos", &criteria, page_size)
            .await
    }
}
