//! Bulk reads for the stock sync (reference §5, docs/stock-sync.md): every inventory item with
//! its per-warehouse stock, and the lines of the open Sales Orders. Reads only; the stock
//! sync never writes to SAP. Large pages (`Prefer: odata.maxpagesize`), ordered by key so
//! `$skip` paging is stable, each request inside the client's concurrency limit.
use serde::Deserialize;

use super::client::SapClient;
use super::error::SapError;
use super::odata::{collection_url, Filter, Page, Query};
use super::types::{DocEntry, DocumentLine, Item};

/// What the stock sync reads of an item: its code and its warehouse rows.
const STOCK_FIELDS: &[&str] = &["ItemCode", "ItemWarehouseInfoCollection"];

/// An open Sales Order's lines: what it still holds in `Committed`, per item and warehouse.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OpenOrder {
    pub doc_entry: DocEntry,
    #[serde(
        rename = "DocumentLines",
        default,
        deserialize_with = "super::types::lenient::vec_or_null"
    )]
    pub lines: Vec<DocumentLine>,
}

impl SapClient {
    /// The first page of inventory items with their warehouse stock (`$select=ItemCode,
    /// ItemWarehouseInfoCollection`); follow with [`SapClient::next_page`]. Items that are not
    /// inventory items have no stock and are left out by the filter.
    pub async fn stock_first_page(&self, page_size: u32) -> Result<Page<Item>, SapError> {
        let filter = inventory_items();
        let url = collection_url(
            self.root(),
            "Items",
            &Query {
                filter: Some(&filter),
                select: STOCK_FIELDS,
                order_by: Some("ItemCode"),
            },
        );
        self.first_page_sized(url, page_size).await
    }

    /// How many items [`SapClient::stock_first_page`] pages through (`/$count`): one request,
    /// asked only to size a progress bar.
    pub async fn count_stock_items(&self) -> Result<u64, SapError> {
        let filter = inventory_items();
        let url = collection_url(
            self.root(),
            "Items/$count",
            &Query {
                filter: Some(&filter),
                ..Query::default()
            },
        );
        self.get_json(url).await
    }

    /// The first page of open Sales Orders with their lines (`RemainingOpenQuantity` and
    /// `WarehouseCode` per line).
    pub async fn open_orders_first_page(
        &self,
        page_size: u32,
    ) -> Result<Page<OpenOrder>, SapError> {
        let filter = Filter::equals("DocumentStatus", "bost_Open");
        let url = collection_url(
            self.root(),
            "Orders",
            &Query {
                filter: Some(&filter),
                select: &["DocEntry", "DocumentLines"],
                order_by: Some("DocEntry"),
            },
        );
        self.first_page_sized(url, page_size).await
    }
}

fn inventory_items() -> Filter {
    Filter::equals("InventoryItem", "tYES")
}
