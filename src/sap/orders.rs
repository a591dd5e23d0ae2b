//! Sales Orders (`/Orders`, reference §3): create, read, find by Magento increment id,
//! cancel and close.
use super::client::SapClient;
use super::error::SapError;
use super::odata::{collection_url, Filter, Query};
use super::types::{DocEntry, NewSalesOrder, SalesOrder, DOCUMENT_FIELDS};

impl SapClient {
    /// Creates a Sales Order. On `SapError::Ambiguous` the order may exist: look it up with
    /// [`SapClient::find_orders_by_num_at_card`] before posting again. When an approval
    /// procedure applies, SAP stores a draft instead and answers -2028 (reference §3); that
    /// surfaces as `Permanent` so a person looks at it rather than the order being re-posted.
    pub async fn create_order(&self, order: &NewSalesOrder) -> Result<SalesOrder, SapError> {
        self.post_json(self.url("Orders"), order).await
    }

    /// Reads one order by its `DocEntry`; `None` if SAP has no such order.
    pub async fn get_order(&self, doc_entry: DocEntry) -> Result<Option<SalesOrder>, SapError> {
        let url = collection_url(
            self.root(),
            &format!("Orders({doc_entry})"),
            &Query {
                select: DOCUMENT_FIELDS,
                ..Query::default()
            },
        );
        self.get_optional(url).await
    }

    /// Every order whose `NumAtCard` (customer reference = Magento increment id) equals
    /// `num_at_card`, cancelled ones included: the idempotency check before any (re)post.
    pub async fn find_orders_by_num_at_card(
        &self,
        num_at_card: &str,
    ) -> Result<Vec<SalesOrder>, SapError> {
        let filter = Filter::equals("NumAtCard", num_at_card);
        let url = collection_url(
            self.root(),
            "Orders",
            &Query {
                filter: Some(&filter),
                select: DOCUMENT_FIELDS,
                order_by: Some("DocEntry"),
            },
        );
        let first = self.first_page(url, false).await?;
        self.collect_pages(first).await
    }

    /// Cancels an open order (`POST /Orders(n)/Cancel`). SAP refuses once the order was
    /// copied to a delivery or invoice; on `Ambiguous`, read the order to see if it happened.
    pub async fn cancel_order(&self, doc_entry: DocEntry) -> Result<(), SapError> {
        self.post_action(self.url(&format!("Orders({doc_entry})/Cancel")))
            .await
    }

    /// Closes an order (`POST /Orders(n)/Close`): allowed where cancelling is not, e.g. after
    /// a partial delivery.
    pub async fn close_order(&self, doc_entry: DocEntry) -> Result<(), SapError> {
        self.post_action(self.url(&format!("Orders({doc_entry})/Close")))
            .await
    }
}
