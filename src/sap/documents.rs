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
