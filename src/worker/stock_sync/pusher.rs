//! Sending changes to Magento: batches of `stock_batch_size` source items per call (MSI) or one
//! call per SKU (legacy). A refused batch is split in halves until the refused items are
//! alone, so one bad SKU costs a few extra calls and the rest is still pushed; each refused
//! SKU becomes a `magento_rejected` exception. Only what Magento accepted is remembered as
//! pushed, right after each call, so a run stopped midway loses nothing it did.
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use super::publisher::{PushError, SourceItemUpdate, StockPublisher};
use crate::domain::exception::{Category, NewException};
use crate::domain::stock::{StockMode, LEGACY_SOURCE};
use crate::store::stock::{record_pushed, PushedEntry};
use crate::store::{exceptions, StoreError};

/// Why a run stopped pushing.
#[derive(Debug, thiserror::Error)]
pub enum PushStopped {
    #[error(transparent)]
    Magento(PushError),
    #[error("cannot record what was pushed: {0}")]
    Store(#[from] StoreError),
}

/// Figures of the pushes of one run.
#[derive(Debug, Default, Clone, Copy)]
pub struct PushFigures {
    pub magento_requests: u64,
    pub pushed: u64,
    pub rejected: u64,
}

pub struct Pusher<'a> {
    pub publisher: &'a dyn StockPublisher,
    pub pool: &'a PgPool,
    pub run: Uuid,
    pub mode: StockMode,
    pub batch_size: usize,
    pub pending: Vec<SourceItemUpdate>,
    pub figures: PushFigures,
}

impl Pusher<'_> {
    /// Queues an update; sends a batch once one is full.
    pub async fn add(&mut self, update: SourceItemUpdate) -> Result<(), PushStopped> {
        self.pending.push(update);
        let full = match self.mode {
            StockMode::Msi => self.pending.len() >= self.batch_size,
            StockMode::Legacy => true,
        };
        if full {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends whatever is queued.
    pub async fn flush(&mut self) -> Result<(), PushStopped> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        let mut refused = Vec::new();
        let result = self.send(&batch, &mut refused).await;
        self.record_refused(&refused).await?;
        result
    }

    /// Sends `batch`, splitting it on a refusal; accepted parts are recorded as they succeed.
    async fn send(
        &mut self,
        batch: &[SourceItemUpdate],
        refused: &mut Vec<(SourceItemUpdate, String)>,
    ) -> Result<(), PushStopped> {
        // Iterative halving: a stack of slices still to send.
        let mut todo: Vec<&[SourceItemUpdate]> = vec![batch];
        while let Some(part) = todo.pop() {
            self.figures.magento_requests += 1;
            let sent = match self.mode {
                StockMode::Msi => self.publisher.push_source_items(part).await,
                StockMode::Legacy => {
                    let u = &part[0];
                    self.publisher
                        .push_legacy_stock(&u.sku, u.quantity, u.in_stock)
                        .await
                }
            };
            match sent {
                Ok(()) => self.record_accepted(part).await?,
                Err(PushError::Rejected(message)) if part.len() == 1 => {
                    refused.push((part[0].clone(), message));
                }
                Err(PushError::Rejected(message)) => {
                    tracing::info!(
                        items = part.len(),
                        %message,
                        "Magento refused a stock batch; splitting it to find the refused SKUs"
                    );
                    let (a, b) = part.split_at(part.len() / 2);
                    todo.push(b);
                    todo.push(a);
                }
                Err(e @ PushError::Unavailable(_)) => return Err(PushStopped::Magento(e)),
            }
        }
        Ok(())
    }

    async fn record_accepted(&mut self, part: &[SourceItemUpdate]) -> Result<(), StoreError> {
        let entries: Vec<PushedEntry<'_>> = part
            .iter()
            .map(|u| PushedEntry {
                sku: &u.sku,
                source_code: &u.source_code,
                quantity: u.quantity,
                in_stock: u.in_stock,
                rejected: false,
            })
            .collect();
        // A SKU Magento refused before and takes now (created or assigned since) has its
        // `magento_rejected` exception closed in the same transaction: the queue shows only
        // what still needs a person.
        let fixed: Vec<String> = part
            .iter()
            .map(|u| {
                NewException::dedup_key_for(
                    Category::MagentoRejected,
                    None,
                    std::slice::from_ref(&u.sku),
                )
            })
            .collect();
        let mut tx = self.pool.begin().await?;
        record_pushed(&mut tx, self.run, &entries).await?;
        exceptions::resolve_fixed(&mut tx, &fixed, "Magento accepted this SKU's stock").await?;
        tx.commit().await?;
        self.figures.pushed += part.len() as u64;
        Ok(())
    }

    async fn record_refused(
        &mut self,
        refused: &[(SourceItemUpdate, String)],
    ) -> Result<(), StoreError> {
        if refused.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let entries: Vec<PushedEntry<'_>> = refused
            .iter()
            .map(|(u, _)| PushedEntry {
                sku: &u.sku,
                source_code: &u.source_code,
                quantity: u.quantity,
                in_stock: u.in_stock,
                rejected: true,
            })
            .collect();
        record_pushed(&mut tx, self.run, &entries).await?;
        for (update, message) in refused {
            tracing::warn!(sku = %update.sku, source = %update.source_code, %message, "Magento refused a SKU's stock");
            exceptions::record(
                &mut tx,
                &rejected_exception(update, message, self.run),
                None,
            )
            .await?;
        }
        tx.commit().await?;
        self.figures.rejected += refused.len() as u64;
        Ok(())
    }
}

/// The exception for a SKU whose stock Magento refused: one per SKU however often it recurs.
fn rejected_exception(update: &SourceItemUpdate, message: &str, run: Uuid) -> NewException {
    let sku = &update.sku;
    let target = if update.source_code == LEGACY_SOURCE {
        "its stock item".to_owned()
    } else {
        format!("source '{}'", update.source_code)
    };
    NewException {
        category: Category::MagentoRejected,
        title: format!("Magento refused the stock of SKU '{sku}'"),
        detail: format!(
            "The stock sync sent quantity {} for SKU '{sku}' ({target}) and Magento refused it: \
             {message}. Magento keeps showing its old quantity for this SKU. Usually the SKU \
             does not exist in Magento (or is not assigned to the source): create or assign \
             it, or map the Magento SKU to this SAP item under /api/v1/mappings/skus. The \
             sync offers it again when its quantity changes and on the next full pass.",
            display(update.quantity)
        ),
        order_increment_id: None,
        skus: vec![sku.clone()],
        sap_error: None,
        dedup_key: NewException::dedup_key_for(
            Category::MagentoRejected,
            None,
            std::slice::from_ref(sku),
        ),
        context: serde_json::json!({
            "sku": sku,
            "source_code": update.source_code,
            "quantity": update.quantity,
            "magento_message": message,
            "run": run,
        }),
    }
}

fn display(q: Decimal) -> String {
    q.normalize().to_string()
}
