//! What the price sync needs from SAP and Magento (ports). The SAP client and the Magento
//! REST client implement them; tests and the benchmark may give their own (the benchmark
//! feeds 100,000 items in-process, so seeding a simulator does not dominate its figures).
use futures::future::BoxFuture;

use crate::magento::types::{BasePrice, PriceRowError, SpecialPrice};
use crate::magento::{MagentoClient, MagentoError};
use crate::sap::odata::NextPage;
use crate::sap::types::{PriceList, PricedItem, SpecialPrice as SapSpecialPrice};
use crate::sap::{SapClient, SapError};
pub use crate::worker::stock_sync::publisher::PushError;

/// One page of items with their prices.
pub struct PricePage {
    pub items: Vec<PricedItem>,
    pub next: Option<PriceCursor>,
}

/// Where the next page is.
pub enum PriceCursor {
    Sap(NextPage<PricedItem>),
    /// A source of its own (tests, benchmark): the index of the next item.
    Offset(usize),
}

pub trait PriceSource: Send + Sync + 'static {
    fn price_lists(&self) -> BoxFuture<'_, Result<Vec<PriceList>, SapError>>;
    fn first_page(&self, page_size: u32) -> BoxFuture<'_, Result<PricePage, SapError>>;
    fn next_page(&self, cursor: PriceCursor) -> BoxFuture<'_, Result<PricePage, SapError>>;
    fn special_prices<'a>(
        &'a self,
        card_code: &'a str,
        page_size: u32,
    ) -> BoxFuture<'a, Result<Vec<SapSpecialPrice>, SapError>>;
}

impl PriceSource for SapClient {
    fn price_lists(&self) -> BoxFuture<'_, Result<Vec<PriceList>, SapError>> {
        Box::pin(SapClient::price_lists(self))
    }

    fn first_page(&self, page_size: u32) -> BoxFuture<'_, Result<PricePage, SapError>> {
        Box::pin(async move {
            let page = self.prices_first_page(page_size).await?;
            Ok(PricePage {
                items: page.items,
                next: page.next.map(PriceCursor::Sap),
            })
        })
    }

    fn next_page(&self, cursor: PriceCursor) -> BoxFuture<'_, Result<PricePage, SapError>> {
        Box::pin(async move {
            let PriceCursor::Sap(next) = cursor else {
                unreachable!("the SAP client hands out SAP cursors only")
            };
            let page = SapClient::next_page(self, &next).await?;
            Ok(PricePage {
                items: page.items,
                next: page.next.map(PriceCursor::Sap),
            })
        })
    }

    fn special_prices<'a>(
        &'a self,
        card_code: &'a str,
        page_size: u32,
    ) -> BoxFuture<'a, Result<Vec<SapSpecialPrice>, SapError>> {
        Box::pin(self.special_prices_of(card_code, page_size))
    }
}

/// Magento's price endpoints. Both answer the rows Magento refused (`[]`: all saved); the
/// other rows of the request are saved.
pub trait PricePublisher: Send + Sync + 'static {
    fn base_prices<'a>(
        &'a self,
        rows: &'a [BasePrice],
    ) -> BoxFuture<'a, Result<Vec<PriceRowError>, PushError>>;
    fn special_prices<'a>(
        &'a self,
        rows: &'a [SpecialPrice],
    ) -> BoxFuture<'a, Result<Vec<PriceRowError>, PushError>>;
}

/// The Magento REST client as the price publisher.
pub struct MagentoPrices(pub MagentoClient);

/// A refusal of the request as a whole (4xx) isolates rows; anything else stops the run.
fn classify(e: MagentoError) -> PushError {
    match e {
        MagentoError::Rejected { .. } | MagentoError::NotFound { .. } => {
            PushError::Rejected(e.to_string())
        }
        other => PushError::Unavailable(other.to_string()),
    }
}

impl PricePublisher for MagentoPrices {
    fn base_prices<'a>(
        &'a self,
        rows: &'a [BasePrice],
    ) -> BoxFuture<'a, Result<Vec<PriceRowError>, PushError>> {
        Box::pin(async move { self.0.update_base_prices(rows).await.map_err(classify) })
    }

    fn special_prices<'a>(
        &'a self,
        rows: &'a [SpecialPrice],
    ) -> BoxFuture<'a, Result<Vec<PriceRowError>, PushError>> {
        Box::pin(async move { self.0.update_special_prices(rows).await.map_err(classify) })
    }
}
