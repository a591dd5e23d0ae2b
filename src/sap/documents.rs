//! Deliveries and invoices, read page by page for the status back-sync (reference §6). Their
//! lines point back to the order through `BaseType` 17 / `BaseEntry` / `BaseLine`.
use super::client::SapClient;
use super::error::SapError;
use super::odata::{collection_url, Filter, Page, Query};
use super::types::{
    DeliveryNote, Document, Invoice, NewCreditNote, NewOutgoingPayment, OutgoingPayment,
    DOCUMENT_FIELDS, INVOICE_FIELDS, OUTGOING_PAYMENT_FIELDS, PAYMENT_TO_CUSTOMER,
};

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

    /// Every A/R invoice or delivery (`entity_set`) carrying `num_at_card`, not cancelled,
    /// with lines and freight. SAP copies the customer reference from an order into the
    /// documents made from it, and lambda filters on lines are refused, so this is how a
    /// refund finds its order's invoices; the caller checks the lines' base (docs/refunds.md).
    pub async fn documents_by_reference(
        &self,
        entity_set: &'static str,
        num_at_card: &str,
    ) -> Result<Vec<Document>, SapError> {
        let filter =
            Filter::equals("NumAtCard", num_at_card).and(Filter::equals("Cancelled", "tNO"));
        let url = collection_url(
            self.root(),
            entity_set,
            &Query {
                filter: Some(&filter),
                select: INVOICE_FIELDS,
                order_by: Some("DocEntry"),
            },
        );
        let first = self.first_page(url, false).await?;
        self.collect_pages(first).await
    }

    /// Creates an A/R credit memo. On `SapError::Ambiguous` it may exist: look it up by
    /// `NumAtCard` (`ReferenceSearch::CreditNotes`) before posting again.
    pub async fn create_credit_note(&self, note: &NewCreditNote) -> Result<Document, SapError> {
        self.post_json(self.url("CreditNotes"), note).await
    }

    /// Creates an outgoing payment (`POST /VendorPayments`). On `SapError::Ambiguous` it may
    /// exist: look it up with [`Self::payments_of_credit_note`] before paying again.
    pub async fn create_outgoing_payment(
        &self,
        payment: &NewOutgoingPayment,
    ) -> Result<OutgoingPayment, SapError> {
        self.post_json(self.url("VendorPayments"), payment).await
    }

    /// The outgoing payments (not cancelled) applied to A/R credit memo `credit_note` of
    /// customer `card_code`: the look-up before a payment is made. Lambda filters on a
    /// collection such as `PaymentInvoices` are refused (docs/sap-exactly-once.md), so the
    /// customer's payments are read and their lines matched here.
    pub async fn payments_of_credit_note(
        &self,
        card_code: &str,
        credit_note: i64,
    ) -> Result<Vec<OutgoingPayment>, SapError> {
        let filter = Filter::equals("CardCode", card_code)
            .and(Filter::equals("DocType", PAYMENT_TO_CUSTOMER))
            .and(Filter::equals("Cancelled", "tNO"));
        let url = collection_url(
            self.root(),
            "VendorPayments",
            &Query {
                filter: Some(&filter),
                select: OUTGOING_PAYMENT_FIELDS,
                order_by: Some("DocEntry"),
            },
        );
        let first = self.first_page(url, false).await?;
        let all: Vec<OutgoingPayment> = self.collect_pages(first).await?;
        Ok(all
            .into_iter()
            .filter(|p| p.applies_to_credit_note(credit_note))
            .collect())
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
