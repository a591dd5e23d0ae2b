//! Bulk reads for the price sync (docs/price-sync.md): the price lists, every item with its
//! `ItemPrices` in large pages (there is no `ItemPrices` entity set; the collection is read
//! through `Items`), and the special prices kept for all Business Partners. Reads only.
use super::client::SapClient;
use super::error::SapError;
use super::odata::{collection_url, Filter, Page, Query};
use super::types::{
    PriceList, PricedItem, SpecialPrice, PRICED_ITEM_FIELDS, PRICE_LIST_FIELDS,
    SPECIAL_PRICE_FIELDS,
};

impl SapClient {
    /// Every price list.
    pub async fn price_lists(&self) -> Result<Vec<PriceList>, SapError> {
        let url = collection_url(
            self.root(),
            "PriceLists",
            &Query {
                select: PRICE_LIST_FIELDS,
                order_by: Some("PriceListNo"),
                ..Query::default()
            },
        );
        let first = self.first_page(url, false).await?;
        self.collect_pages(first).await
    }

    /// The first page of items with their prices, sellability flags and sales VAT group
    /// ([`PRICED_ITEM_FIELDS`]), ordered by code so `$skip`
    /// paging is stable; follow with [`SapClient::next_page`].
    pub async fn prices_first_page(&self, page_size: u32) -> Result<Page<PricedItem>, SapError> {
        let url = collection_url(
            self.root(),
            "Items",
            &Query {
                select: PRICED_ITEM_FIELDS,
                order_by: Some("ItemCode"),
                ..Query::default()
            },
        );
        self.first_page_sized(url, page_size).await
    }

    /// The special prices kept under `card_code` (the company's key for "all Business
    /// Partners" rows), every page.
    pub async fn special_prices_of(
        &self,
        card_code: &str,
        page_size: u32,
    ) -> Result<Vec<SpecialPrice>, SapError> {
        let filter = Filter::equals("CardCode", card_code);
        let url = collection_url(
            self.root(),
            "SpecialPrices",
            &Query {
                filter: Some(&filter),
                select: SPECIAL_PRICE_FIELDS,
                order_by: Some("ItemCode"),
            },
        );
        let first = self.first_page_sized(url, page_size).await?;
        self.collect_pages(first).await
    }
}
