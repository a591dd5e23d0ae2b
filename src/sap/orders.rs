//! Sales Orders (`/Orders`, reference §3): create, read, find by Magento increment id,
//! cancel and close.
use rust_decimal::Decimal;

use super::client::SapClient;
use super::error::SapError;
use super::odata::{collection_url, Filter, Query};
use super::types::{
    DocEntry, Document, NewSalesOrder, OrderLineQuantity, OrderLinesPatch, PreviewDocument,
    SalesOrder, DOCUMENT_FIELDS,
};

/// Where a customer-reference look-up searches: added Sales Orders, or the drafts an approval
/// procedure made instead (reference §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceSearch {
    Orders,
    Drafts,
    /// A/R credit memos: a refund's reference (docs/refunds.md).
    CreditNotes,
}

impl ReferenceSearch {
    fn entity_set(self) -> &'static str {
        match self {
            ReferenceSearch::Orders => "Orders",
            ReferenceSearch::Drafts => "Drafts",
            ReferenceSearch::CreditNotes => "CreditNotes",
        }
    }
}

/// References per `$filter` of [`SapClient::orders_by_references`].
pub const REFERENCES_PER_READ: usize = 20;

impl SapClient {
    /// Creates a Sales Order. On `SapError::Ambiguous` the order may exist: look it up with
    /// [`SapClient::find_by_references`] before posting again. When an approval procedure
    /// applies, SAP stores a draft instead and answers -2028 (`is_not_found`) although the
    /// draft exists (docs/sap-exactly-once.md): look in `Drafts` before calling it a refusal.
    pub async fn create_order(&self, order: &NewSalesOrder) -> Result<SalesOrder, SapError> {
        self.post_json(self.url("Orders"), order).await
    }

    /// The order SAP would create from `order`, computed and not stored
    /// (`POST OrdersService_Preview {"Document": …}`): how the go-live audit learns the
    /// company's own arithmetic without writing to it.
    pub async fn preview_order(&self, order: &NewSalesOrder) -> Result<PreviewDocument, SapError> {
        let body = serde_json::json!({ "Document": order });
        self.post_read(self.url("OrdersService_Preview"), &body)
            .await
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

    /// The documents of `search` whose `NumAtCard` is one of `references` and that are not
    /// cancelled, only `card_code`'s when given; for drafts, only open Sales Order drafts.
    /// One request per page for any number of references (keep them to a few dozen so the
    /// URL stays short): the look-up that precedes every create, batched across orders.
    pub async fn find_by_references(
        &self,
        search: ReferenceSearch,
        references: &[String],
        card_code: Option<&str>,
    ) -> Result<Vec<Document>, SapError> {
        let Some(mut filter) = references
            .iter()
            .map(|r| Filter::equals("NumAtCard", r.as_str()))
            .reduce(Filter::or)
        else {
            return Ok(Vec::new());
        };
        filter = filter.and(Filter::equals("Cancelled", "tNO"));
        if let Some(card) = card_code {
            filter = filter.and(Filter::equals("CardCode", card));
        }
        if search == ReferenceSearch::Drafts {
            filter = filter
                .and(Filter::equals("DocObjectCode", "oOrders"))
                .and(Filter::equals("DocumentStatus", "bost_Open"));
        }
        let url = collection_url(
            self.root(),
            search.entity_set(),
            &Query {
                filter: Some(&filter),
                select: DOCUMENT_FIELDS,
                order_by: Some("DocEntry"),
            },
        );
        let first = self.first_page(url, false).await?;
        self.collect_pages(first).await
    }

    /// Every Sales Order whose `NumAtCard` is one of `references`, cancelled ones included
    /// (the reconciliation compares both), one request per page per [`REFERENCES_PER_READ`]
    /// references so the URL stays short.
    pub async fn orders_by_references(
        &self,
        references: &[String],
    ) -> Result<Vec<Document>, SapError> {
        let mut found = Vec::new();
        for chunk in references.chunks(REFERENCES_PER_READ) {
            let filter = chunk
                .iter()
                .map(|r| Filter::equals("NumAtCard", r.as_str()))
                .reduce(Filter::or)
                .expect("chunks are never empty");
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
            found.extend(self.collect_pages(first).await?);
        }
        Ok(found)
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

    /// Sets the quantity of open Sales Order lines (`PATCH /Orders(n)` with `DocumentLines`
    /// `[{LineNum, Quantity}]`); with `remove_others`, `B1S-ReplaceCollectionsOnPatch: true`
    /// makes the lines left out disappear (docs/refunds.md). Setting a quantity is
    /// idempotent, so a retry after a lost answer does no harm.
    pub async fn set_order_line_quantities(
        &self,
        doc_entry: DocEntry,
        lines: &[(i64, Decimal)],
        remove_others: bool,
    ) -> Result<(), SapError> {
        let body = OrderLinesPatch {
            document_lines: lines
                .iter()
                .map(|(line_num, quantity)| OrderLineQuantity {
                    line_num: *line_num,
                    quantity: *quantity,
                })
                .collect(),
        };
        self.patch_json(
            self.url(&format!("Orders({doc_entry})")),
            &body,
            remove_others,
        )
        .await
    }
}
