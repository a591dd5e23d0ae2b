//! Items with their warehouse stock, warehouses, tax codes and freight codes (reference §5).
use serde::de::DeserializeOwned;

use super::client::SapClient;
use super::error::SapError;
use super::odata::{collection_url, key_is_path_safe, string_key_segment, Filter, Page, Query};
use super::types::{AdditionalExpense, Item, SalesTaxCode, Warehouse, ITEM_FIELDS};
use crate::domain::ids::ItemCode;

/// Codes per batched item read: keeps the URL well under common proxy limits (8 KiB) even
/// with 50-character codes percent-encoded.
pub const ITEMS_PER_REQUEST: usize = 20;

impl SapClient {
    /// Reads an item with its per-warehouse stock; `None` if SAP has no such item.
    pub async fn get_item(&self, item_code: &ItemCode) -> Result<Option<Item>, SapError> {
        self.get_by_string_key("Items", "ItemCode", item_code.as_str(), ITEM_FIELDS)
            .await
    }

    /// The first page of items matching `filter` (all items without one), ordered by code so
    /// that `$skip` paging is stable; follow with [`SapClient::next_page`] or
    /// [`SapClient::collect_pages`].
    pub async fn list_items(&self, filter: Option<&Filter>) -> Result<Page<Item>, SapError> {
        let url = collection_url(
            self.root(),
            "Items",
            &Query {
                filter,
                select: ITEM_FIELDS,
                order_by: Some("ItemCode"),
            },
        );
        self.first_page(url, false).await
    }

    /// The items among `codes` that SAP knows, read with one `$filter` of `or`ed equalities per
    /// [`ITEMS_PER_REQUEST`] codes (so an order's lines cost one request, not one each). A
    /// code SAP does not know is simply absent from the answer.
    pub async fn items_by_code(&self, codes: &[ItemCode]) -> Result<Vec<Item>, SapError> {
        let mut items = Vec::with_capacity(codes.len());
        for chunk in codes.chunks(ITEMS_PER_REQUEST) {
            let filter = chunk
                .iter()
                .map(|c| Filter::equals("ItemCode", c.as_str()))
                .reduce(Filter::or)
                .expect("chunks are never empty");
            let first = self.list_items(Some(&filter)).await?;
            items.extend(self.collect_pages(first).await?);
        }
        Ok(items)
    }

    /// Every warehouse.
    pub async fn list_warehouses(&self) -> Result<Vec<Warehouse>, SapError> {
        let url = collection_url(
            self.root(),
            "Warehouses",
            &Query {
                select: &["WarehouseCode", "WarehouseName", "Inactive"],
                ..Query::default()
            },
        );
        let first = self.first_page(url, false).await?;
        self.collect_pages(first).await
    }

    /// Every sales tax code (read without `$select`, since its fields are not documented).
    pub async fn list_tax_codes(&self) -> Result<Vec<SalesTaxCode>, SapError> {
        let url = collection_url(self.root(), "SalesTaxCodes", &Query::default());
        let first = self.first_page(url, false).await?;
        self.collect_pages(first).await
    }

    /// Every freight (additional expense) code, read without `$select` like the tax codes,
    /// since the entity's fields are not documented either.
    pub async fn list_expense_codes(&self) -> Result<Vec<AdditionalExpense>, SapError> {
        let url = collection_url(self.root(), "AdditionalExpenses", &Query::default());
        let first = self.first_page(url, false).await?;
        self.collect_pages(first).await
    }

    /// Reads `Entity('key')`, or filters on `key_field` when the key holds characters a path
    /// cannot carry safely; `None` when nothing matches.
    pub(crate) async fn get_by_string_key<T: DeserializeOwned>(
        &self,
        entity_set: &str,
        key_field: &'static str,
        key: &str,
        select: &[&'static str],
    ) -> Result<Option<T>, SapError> {
        if key_is_path_safe(key) {
            let url = collection_url(
                self.root(),
                &string_key_segment(entity_set, key),
                &Query {
                    select,
                    ..Query::default()
                },
            );
            return self.get_optional(url).await;
        }
        let filter = Filter::equals(key_field, key);
        let url = collection_url(
            self.root(),
            entity_set,
            &Query {
                filter: Some(&filter),
                select,
                order_by: None,
            },
        );
        let first = self.first_page(url, false).await?;
        Ok(self.collect_pages(first).await?.into_iter().next())
    }
}
