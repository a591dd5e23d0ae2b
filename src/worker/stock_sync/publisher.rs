//! What the stock sync needs from Magento (a port): set source quantities in batches (MSI) or
//! one legacy stock item. The Magento REST client implements it (`magento_adapter`); tests and
//! benchmarks may give their own.
use futures::future::BoxFuture;
use rust_decimal::Decimal;

/// One MSI source item to set: `POST /V1/inventory/source-items` `sourceItems[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceItemUpdate {
    pub sku: String,
    pub source_code: String,
    pub quantity: Decimal,
    pub in_stock: bool,
}

/// Why Magento did not take an update.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// Magento refused the request (a 4xx with its message): something in it is wrong (an
    /// unknown SKU or source). A batch is split to find the culprit; the rest is pushed.
    #[error("Magento refused the update: {0}")]
    Rejected(String),
    /// Magento could not be reached or failed after the client's retries (5xx, 429,
    /// timeouts): the run stops here and the next run catches up.
    #[error("Magento unavailable: {0}")]
    Unavailable(String),
}

pub trait StockPublisher: Send + Sync + 'static {
    /// Sets every item of the batch, all or nothing (Magento validates the whole request).
    fn push_source_items<'a>(
        &'a self,
        items: &'a [SourceItemUpdate],
    ) -> BoxFuture<'a, Result<(), PushError>>;

    /// Sets a product's legacy stock item (non-MSI stores).
    fn push_legacy_stock<'a>(
        &'a self,
        sku: &'a str,
        quantity: Decimal,
        in_stock: bool,
    ) -> BoxFuture<'a, Result<(), PushError>>;
}
