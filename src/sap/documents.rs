//! Deliveries and invoices, read page by page for the status back-sync (reference §6). Their
//! lines point back to the order through `BaseType` 17 / `BaseEntry` / `BaseLine`.
use super::client::SapClient;
use super::error::SapError;
use super::odata::{collection_url, Filter, Page, Query};
use super::types::{DeliveryNote, Document, Invoice, DOCUMENT_FIELDS};

impl SapClient {
    /// The first page of deliveries matching `filter`, ordered by `DocEntry`. SAP rejects
    /// lambda filters on lines (`DocumentLines/any(...)`), so filter on header fields
    /// (`UpdateDate`, `NumAtCard`, `DocEntry`) and match lines here.
    pub async fn list_delivery_notes(
        &self,
        filter: Option<&Filter>,
    ) -> Result<Page<DeliveryNote>, SapError> {
        self.list_documents("DeliveryNotes", filter).await
    }

    /// The first page of A/R invoices matching `filter`, ordered by `DocEntry`.
    pub async fn list_invoices(&self, filter: Option<&Filter>) -> Result<Page<Invoice>, SapError> {
        self.list_documents("Invoices", filter).await
    }

    /// The Sales Orders (`DocEntry`) that an A/R invoice dated on or after `since` copies,
    /// directly (`BaseType` 17) or through a delivery (`BaseType` 15, the delivery's own lines
    /// naming the order). Header filters only: SAP refuses filters on lines.
    pub async fn invoiced_orders_since(
        &self,
        since: chrono::NaiveDate,
    ) -> Result<std::collections::HashSet<i64>, SapError> {
        let filter = Filter::at_least("DocDate", since);
        let first = self.list_invoices(Some(&filter)).await?;
        let invoices = self.collect_pages(first).await?;
        let mut orders = std::collections::HashSet::new();
        let mut deliveries = std::collections::HashSet::new();
        for line in invoices.iter().flat_map(|i| &i.lines) {
            match (line.base_type, line.base_entry) {
                (Some(17), Some(entry)) => {
                    orders.insert(entry);
                }
                (Some(15), Some(entry)) => {
                    deliveries.insert(entry);
                }
                _ => {}
            }
        }
        if !deliveries.is_empty() {
            let first = self.list_delivery_notes(Some(&filter)).await?;
            for delivery in self.collect_pages(first).await? {
                if !deliveries.contains(&delivery.doc_entry.0) {
                    continue;
                }
                orders.extend(
                    delivery
                        .lines
                        .iter()
                        .filter(|l| l.base_type == Some(17))
                        .filter_map(|l| l.base_entry),
                );
            }
        }
        Ok(orders)
    }

    async fn list_documents(
        &self,
        entity_set: &str,
        filter: Option<&Filter>,
    ) -> Result<Page<Document>, SapError> {
        let url = collection_url(
            self.root(),
            entity_set,
            &Query {
                filter,
                select: DOCUMENT_FIELDS,
                order_by: Some("DocEntry"),
            },
        );
        self.first_page(url, false).await
    }
}
