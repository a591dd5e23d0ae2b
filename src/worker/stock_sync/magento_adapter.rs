//! The Magento REST client as the stock sync's publisher: MSI source items in one call per
//! batch; legacy stock items by SKU (their `item_id` read once per SKU and kept).
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Mutex;

use super::publisher::{PushError, SourceItemUpdate, StockPublisher};
use crate::magento::types::{SourceItem, SourceItemStatus, StockItemUpdate};
use crate::magento::{MagentoClient, MagentoError};

pub struct MagentoStock {
    client: MagentoClient,
    /// Legacy stock item ids by SKU (they do not change for a product).
    item_ids: Mutex<HashMap<String, i64>>,
}

impl MagentoStock {
    pub fn new(client: MagentoClient) -> Self {
        Self {
            client,
            item_ids: Mutex::new(HashMap::new()),
        }
    }
}

/// A refusal of what was sent (validation, unknown SKU) isolates the item; anything else
/// (Magento down, the token refused) stops the run, since no other item would fare better.
fn classify(e: MagentoError) -> PushError {
    match e {
        MagentoError::Rejected { .. } | MagentoError::NotFound { .. } => {
            PushError::Rejected(e.to_string())
        }
        other => PushError::Unavailable(other.to_string()),
    }
}

impl StockPublisher for MagentoStock {
    fn push_source_items<'a>(
        &'a self,
        items: &'a [SourceItemUpdate],
    ) -> BoxFuture<'a, Result<(), PushError>> {
        Box::pin(async move {
            let rows: Vec<SourceItem> = items
                .iter()
                .map(|u| SourceItem {
                    sku: u.sku.clone(),
                    source_code: u.source_code.clone(),
                    quantity: u.quantity,
                    status: if u.in_stock {
                        SourceItemStatus::InStock
                    } else {
                        SourceItemStatus::OutOfStock
                    },
                })
                .collect();
            self.client.save_source_items(&rows).await.map_err(classify)
        })
    }

    fn push_legacy_stock<'a>(
        &'a self,
        sku: &'a str,
        quantity: Decimal,
        in_stock: bool,
    ) -> BoxFuture<'a, Result<(), PushError>> {
        Box::pin(async move {
            let known = self
                .item_ids
                .lock()
                .expect("item id cache")
                .get(sku)
                .copied();
            let item_id = match known {
                Some(id) => id,
                None => {
                    let item = self.client.stock_item(sku).await.map_err(classify)?;
                    self.item_ids
                        .lock()
                        .expect("item id cache")
                        .insert(sku.to_owned(), item.item_id);
                    item.item_id
                }
            };
            let update = StockItemUpdate {
                qty: quantity,
                is_in_stock: in_stock,
            };
            self.client
                .update_stock_item(sku, item_id, &update)
                .await
                .map(drop)
                .map_err(classify)
        })
    }
}
