//! What the price sync needs from SAP and Magento (ports). The SAP client and the Magento
//! REST client implement them; tests and the benchmark may give their own (the benchmark
//! feeds 100,000 items in-process, so seeding a simulator does not dominate its figures).
use futures::future::BoxFuture;

use crate::magento::types::{BasePrice, PriceRowError, SpecialPrice, TierPrice};
use crate::magento::{MagentoClient, MagentoError};
use crate::sap::odata::NextPage;
use crate::sap::types::{PriceList, PricedItem, SpecialPrice as SapSpecialPrice, VatGroup};
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
    /// The VAT groups with their dated rates (for converting between gross and net).
    fn vat_groups(&self) -> BoxFuture<'_, Result<Vec<VatGroup>, SapError>>;
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

    fn vat_groups(&self) -> BoxFuture<'_, Result<Vec<VatGroup>, SapError>> {
        Box::pin(self.list_vat_groups())
    }
}

/// One call of the price sync to Magento.
#[derive(Debug, Clone, Copy)]
pub enum PriceCall<'a> {
    /// `POST /V1/products/base-prices`.
    Base(&'a [BasePrice]),
    /// `POST /V1/products/special-price`.
    Special(&'a [SpecialPrice]),
    /// `POST /V1/products/special-price-delete`.
    DeleteSpecial(&'a [SpecialPrice]),
    /// `POST /V1/products/tier-prices`.
    Tier(&'a [TierPrice]),
    /// `POST /V1/products/tier-prices-delete`.
    DeleteTier(&'a [TierPrice]),
    /// `PUT /rest/all/V1/products/{sku}`: 1 enabled, 2 disabled.
    Status { sku: &'a str, status: i64 },
}

impl PriceCall<'_> {
    /// A short name for logs and tests.
    pub fn name(&self) -> &'static str {
        match self {
            PriceCall::Base(_) => "base",
            PriceCall::Special(_) => "special",
            PriceCall::DeleteSpecial(_) => "special_delete",
            PriceCall::Tier(_) => "tier",
            PriceCall::DeleteTier(_) => "tier_delete",
            PriceCall::Status { .. } => "status",
        }
    }

    /// The rows the call carries, as JSON.
    pub fn rows(&self) -> serde_json::Value {
        match self {
            PriceCall::Base(rows) => serde_json::json!(rows),
            PriceCall::Special(rows) | PriceCall::DeleteSpecial(rows) => serde_json::json!(rows),
            PriceCall::Tier(rows) | PriceCall::DeleteTier(rows) => serde_json::json!(rows),
            PriceCall::Status { sku, status } => {
                serde_json::json!([{"sku": sku, "status": status}])
            }
        }
    }
}

/// Magento's price endpoints. The price calls answer the rows Magento refused (`[]`: all
/// saved; the other rows of the request are saved); a status call answers `[]` or fails.
pub trait PricePublisher: Send + Sync + 'static {
    fn publish<'a>(
        &'a self,
        call: PriceCall<'a>,
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
    fn publish<'a>(
        &'a self,
        call: PriceCall<'a>,
    ) -> BoxFuture<'a, Result<Vec<PriceRowError>, PushError>> {
        Box::pin(async move {
            let m = &self.0;
            match call {
                PriceCall::Base(rows) => m.update_base_prices(rows).await,
                PriceCall::Special(rows) => m.update_special_prices(rows).await,
                PriceCall::DeleteSpecial(rows) => m.delete_special_prices(rows).await,
                PriceCall::Tier(rows) => m.update_tier_prices(rows).await,
                PriceCall::DeleteTier(rows) => m.delete_tier_prices(rows).await,
                PriceCall::Status { sku, status } => {
                    m.set_product_status(sku, status).await.map(|()| Vec::new())
                }
            }
            .map_err(classify)
        })
    }
}
