//! The price sync run (docs/price-sync.md): SAP B1 price lists → Magento base prices, and
//! period discounts for all customers → Magento special prices.
//!
//! Stages: **prepare** (settings, the price lists; a route whose list is missing, inactive or
//! of the wrong tax basis refuses the run with a clear message) → **read and push** (every
//! item, page by page, with its prices, sellability flags and sales VAT group; per SKU and
//! route the list's price in the route's currency, rounded to the shop's decimals; only what
//! differs from the last offer is sent, in batches; with `price_sellability`, the product of
//! an item SAP would not sell is disabled, and enabled again when it is sellable) →
//! **special prices** (when the company's "all Business Partners" key is configured; one
//! that ended or was removed in SAP is deleted from Magento). A list whose tax basis is not
//! the store's is refused, or converted by each item's sales VAT group rate when
//! `price_tax_conversion` allows it.
//!
//! SAP has no update stamp on prices (reference: none on PriceList, ItemPrice or
//! SpecialPrice), so every run reads every item and the delta is taken against what was last
//! offered; an unchanged price costs no Magento call. The guard rail holds a price that
//! moves by more than `price_max_change_percent` (or to 0) as a `price_rejected` exception.
pub mod ports;
mod pusher;

use chrono::NaiveDate;
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

use self::ports::{PricePublisher, PriceSource};
use self::pusher::{held_exception, Offer, PushStopped, Pusher};
use super::handler::JobContext;
use super::run_job::{RunResult, RunTask};
use super::stock_sync::{SkuIndex, SyncProgress};
use crate::domain::prices::{
    guard, needs_push, product_status, round_price, special_price_window, tax_basis_mismatch, Hold,
    Outcome, PriceRoute, PriceScope, TaxConversion,
};
use crate::domain::run::RunKind;
use crate::domain::settings::Settings;
use crate::sap::types::{PricedItem, SpecialPrice as SapSpecialPrice, SpecialPricePeriod};
use crate::sap::SapError;
use crate::store::prices::{self as price_store, PriceKind, PriceMemory, Remembered, Window};
use crate::store::runs::{self, Run};
use crate::store::{exceptions, mappings, settings, StoreError};

/// The Magento REST client as the price publisher.
pub fn magento_publisher(
    settings: &crate::config::MagentoSettings,
) -> Result<Arc<dyn PricePublisher>, crate::magento::MagentoError> {
    let client = crate::magento::MagentoClient::new(settings)?;
    Ok(Arc::new(ports::MagentoPrices(client)))
}

/// The price sync, with its SAP source and Magento publisher.
#[derive(Clone)]
pub struct PriceSync {
    source: Arc<dyn PriceSource>,
    magento: Arc<dyn PricePublisher>,
    progress: Arc<dyn SyncProgress>,
}

/// What a run did; stored as the run's `figures`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PriceFigures {
    /// Every price was offered, not only the changes.
    pub full: bool,
    pub dry_run: bool,
    pub items_read: u64,
    /// SKU × store prices computed.
    pub prices: u64,
    /// SKU × store with no price in the route's list and currency.
    pub unpriced: u64,
    pub changed: u64,
    pub pushed: u64,
    pub rejected: u64,
    /// Held by the guard rail.
    pub held: u64,
    pub special_prices: u64,
    /// Special prices removed from Magento (ended or removed in SAP, or replaced by a new
    /// period).
    pub special_deleted: u64,
    /// Tier prices computed (volume discounts of running periods), accepted by Magento,
    /// and removed from it.
    pub tier_prices: u64,
    pub tiers: u64,
    pub tiers_deleted: u64,
    /// Products to disable or enable (sellability).
    pub status_changes: u64,
    /// Product statuses Magento accepted.
    pub statuses: u64,
    /// Prices not published because the item has no sales VAT group rate to convert by.
    pub no_tax_rate: u64,
    pub sap_requests: u64,
    pub magento_requests: u64,
    pub duration_ms: u64,
    /// What is missing from the configuration (reported, never guessed).
    pub warnings: Vec<String>,
    /// Dry run only: the first changes, with the old and the new price.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<PlannedPrice>,
}

/// One change a dry run would make.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlannedPrice {
    pub sku: String,
    pub store_id: i64,
    /// `base`, `special`, `special_delete`, `tier`, `tier_delete` or `status` (1 enabled,
    /// 2 disabled).
    pub kind: String,
    /// Tier prices: from this quantity on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    pub from: Option<Decimal>,
    pub to: Decimal,
    /// Special prices: the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Why the guard rail would hold it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
}

const PLAN_SHOWN: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum PriceSyncError {
    #[error("{0}")]
    NotConfigured(String),
    #[error("SAP B1: {0}")]
    Sap(#[from] SapError),
    #[error(transparent)]
    Push(#[from] PushStopped),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PriceSyncOptions {
    pub dry_run: bool,
    /// Offer every price, whatever was offered before.
    pub force_full: bool,
    /// Publish what the guard rail would hold (an operator confirmed the changes).
    pub release_held: bool,
}

/// A route with what the run learnt of its price list.
struct Route {
    route: PriceRoute,
    /// The list's prices are on the other tax basis and converted by the item's rate.
    convert: Option<TaxConversion>,
}

struct RunState<'a, 'p> {
    pusher: Pusher<'p>,
    memory: PriceMemory,
    options: PriceSyncOptions,
    limit: Decimal,
    figures: &'a mut PriceFigures,
    held: Vec<(Offer, String)>,
    /// Today in the store's time zone (sellability dates, special-price periods).
    today: NaiveDate,
    /// Output VAT group → rate in force today; only when a route converts.
    rates: Option<HashMap<String, Decimal>>,
    /// ItemCode → its sales VAT rate, learnt while reading items, for special prices.
    item_rates: HashMap<String, Decimal>,
    /// Unsellable SKUs not disabled because Magento has accepted no price for them yet.
    unknown_to_shop: u64,
}

impl PriceSync {
    pub fn new(source: Arc<dyn PriceSource>, magento: Arc<dyn PricePublisher>) -> Self {
        Self {
            source,
            magento,
            progress: Arc::new(super::stock_sync::Silent),
        }
    }

    pub fn with_progress(mut self, progress: Arc<dyn SyncProgress>) -> Self {
        self.progress = progress;
        self
    }

    /// One sync. On failure the figures say how far it got; everything pushed so far is
    /// remembered.
    pub async fn sync(
        &self,
        pool: &PgPool,
        run: Uuid,
        options: PriceSyncOptions,
    ) -> (PriceFigures, Result<(), PriceSyncError>) {
        let started = Instant::now();
        let mut figures = PriceFigures {
            dry_run: options.dry_run,
            ..PriceFigures::default()
        };
        let result = self.sync_into(pool, run, options, &mut figures).await;
        figures.duration_ms = started.elapsed().as_millis() as u64;
        self.progress.finish();
        (figures, result)
    }

    async fn sync_into(
        &self,
        pool: &PgPool,
        run: Uuid,
        options: PriceSyncOptions,
        figures: &mut PriceFigures,
    ) -> Result<(), PriceSyncError> {
        let settings = settings::current(pool).await?.settings;
        let routes = self.routes(&settings, figures).await?;
        figures.full = options.force_full || full_pass_due(pool, &settings).await?;
        let skus = SkuIndex::new(&mappings::snapshot(pool).await?);
        let today = chrono::Utc::now()
            .with_timezone(&settings.time_zone())
            .date_naive();
        let rates = if routes.iter().any(|r| r.convert.is_some()) {
            Some(self.vat_rates(today, figures).await?)
        } else {
            None
        };
        let mut state = RunState {
            pusher: Pusher {
                publisher: self.magento.as_ref(),
                pool,
                run,
                batch_size: settings.price_batch_size.max(1) as usize,
                queues: Default::default(),
                figures: Default::default(),
            },
            memory: price_store::load(pool).await?,
            options,
            limit: settings.price_max_change_percent,
            figures,
            held: Vec::new(),
            today,
            rates,
            item_rates: HashMap::new(),
            unknown_to_shop: 0,
        };
        let mut result = self
            .base_prices(&settings, &routes, &skus, &mut state)
            .await;
        if result.is_ok() {
            result = self.special_prices(&settings, &routes, &mut state).await;
        }
        if result.is_ok() && !options.dry_run {
            result = state.pusher.flush().await.map_err(PriceSyncError::from);
        }
        if result.is_ok() && !options.dry_run {
            result = hold(pool, run, &state.held)
                .await
                .map_err(PriceSyncError::from);
        }
        let pushed = state.pusher.figures;
        let held = state.held.len() as u64;
        let (no_rate, unknown) = (state.figures.no_tax_rate, state.unknown_to_shop);
        let figures = state.figures;
        figures.held += held;
        figures.magento_requests = pushed.magento_requests;
        figures.pushed = pushed.pushed;
        figures.rejected = pushed.rejected;
        if !options.dry_run {
            figures.special_deleted = pushed.deleted;
            figures.statuses = pushed.statuses;
            figures.tiers = pushed.tiers;
            figures.tiers_deleted = pushed.tiers_deleted;
        }
        if no_rate > 0 {
            figures.warnings.push(format!(
                "{no_rate} prices were not published: converting between gross and net needs \
                 the item's sales VAT group (SalesVATGroup) with a rate in force today"
            ));
        }
        if unknown > 0 {
            figures.warnings.push(format!(
                "{unknown} SKUs that SAP would not sell were not disabled yet: Magento has \
                 accepted no price for them, and a status update of an unknown SKU would \
                 create a product"
            ));
        }
        result
    }

    /// Output VAT groups in use and their rate today, for converting gross and net.
    async fn vat_rates(
        &self,
        today: NaiveDate,
        figures: &mut PriceFigures,
    ) -> Result<HashMap<String, Decimal>, PriceSyncError> {
        figures.sap_requests += 1;
        let rates: HashMap<String, Decimal> = self
            .source
            .vat_groups()
            .await?
            .into_iter()
            .filter(|g| g.is_output() && !g.inactive)
            .filter_map(|g| Some((g.code.clone(), g.rate_on(today)?)))
            .collect();
        if rates.is_empty() {
            return Err(PriceSyncError::NotConfigured(
                "price_tax_conversion needs SAP's VAT groups (an item's SalesVATGroup gives its \
                 rate), and this company has no active output VAT group with a rate: a \
                 sales-tax company (US/Canada) taxes by the ship-to jurisdiction, so an item \
                 has no rate of its own. Publish a list on the store's tax basis instead."
                    .into(),
            ));
        }
        Ok(rates)
    }

    /// The configured routes, checked against SAP's price lists: the run refuses to publish
    /// a list that does not exist, is inactive, or whose tax basis is not the store's.
    async fn routes(
        &self,
        settings: &Settings,
        figures: &mut PriceFigures,
    ) -> Result<Vec<Route>, PriceSyncError> {
        if settings.price_routes.is_empty() {
            return Err(PriceSyncError::NotConfigured(
                "no price list is mapped to a Magento store (settings: price_routes)".into(),
            ));
        }
        figures.sap_requests += 1;
        let lists = self.source.price_lists().await?;
        let mut routes = Vec::new();
        for route in &settings.price_routes {
            let list = lists
                .iter()
                .find(|l| l.price_list_no == route.price_list)
                .ok_or_else(|| {
                    PriceSyncError::NotConfigured(format!(
                        "SAP has no price list {} (settings: price_routes)",
                        route.price_list
                    ))
                })?;
            if !list.active {
                return Err(PriceSyncError::NotConfigured(format!(
                    "SAP price list {} is inactive: its prices are not the ones SAP sells at",
                    route.price_list
                )));
            }
            let convert =
                TaxConversion::between(list.is_gross_price, settings.catalog_prices_include_tax);
            if let Some(problem) = tax_basis_mismatch(
                route.price_list,
                list.is_gross_price,
                settings.catalog_prices_include_tax,
            )
            .filter(|_| !settings.price_tax_conversion)
            {
                return Err(PriceSyncError::NotConfigured(problem));
            }
            routes.push(Route {
                route: route.clone(),
                convert,
            });
        }
        Ok(routes)
    }

    async fn base_prices(
        &self,
        settings: &Settings,
        routes: &[Route],
        skus: &SkuIndex,
        state: &mut RunState<'_, '_>,
    ) -> Result<(), PriceSyncError> {
        state.figures.sap_requests += 1;
        let mut page = self.source.first_page(settings.price_sap_page_size).await?;
        loop {
            for item in &page.items {
                state.figures.items_read += 1;
                let rate = self.item_rate(item, state);
                for sku in skus.skus_of(&item.item_code) {
                    if settings.price_sellability {
                        self.consider_status(item, sku, routes, state).await?;
                    }
                    for r in routes {
                        self.consider(item, sku, r, rate, settings, state).await?;
                    }
                }
            }
            self.progress.advance(page.items.len() as u64);
            let Some(next) = page.next else { break };
            state.figures.sap_requests += 1;
            page = self.source.next_page(next).await?;
        }
        Ok(())
    }

    /// The item's sales VAT rate when a route converts (remembered for its special prices).
    fn item_rate(&self, item: &PricedItem, state: &mut RunState<'_, '_>) -> Option<Decimal> {
        let rates = state.rates.as_ref()?;
        let rate = *rates.get(item.sales_vat_group.as_deref()?)?;
        state.item_rates.insert(item.item_code.clone(), rate);
        Some(rate)
    }

    /// Sellability: disables the product of an item SAP would not sell today, and enables
    /// again one this sync disabled. A product the sync never disabled is left alone (the
    /// merchant may have disabled it for reasons of their own).
    async fn consider_status(
        &self,
        item: &PricedItem,
        sku: &str,
        routes: &[Route],
        state: &mut RunState<'_, '_>,
    ) -> Result<(), PriceSyncError> {
        let sellable = item.status().sellable_on(state.today);
        let desired = product_status(sellable);
        let last = state.memory.status.remove(sku);
        // A full pass repeats a disable, never an enable: a product enabled again once is
        // the merchant's to disable by hand.
        let full = state.figures.full && !sellable;
        match &last {
            None if sellable => return Ok(()),
            Some(l) if !needs_push(Some(l), desired, full) => return Ok(()),
            _ => {}
        }
        // A status update of an unknown SKU would create a product: only SKUs Magento has
        // accepted a price for (or whose status was set before) are sent.
        let known = last.is_some()
            || routes.iter().any(|r| {
                state
                    .memory
                    .base
                    .get(&(sku.to_owned(), r.route.store_id))
                    .is_some_and(|l| l.published.is_some())
            });
        if !known {
            state.unknown_to_shop += 1;
            return Ok(());
        }
        state.figures.status_changes += 1;
        state.figures.changed += 1;
        let offer = Offer {
            sku: sku.to_owned(),
            store_id: 0,
            kind: PriceKind::Status,
            price: desired,
            window: None,
            quantity: Decimal::ZERO,
            previous: last.and_then(|l| l.published),
        };
        self.offer(offer, None, state).await
    }

    async fn consider(
        &self,
        item: &PricedItem,
        sku: &str,
        r: &Route,
        rate: Option<Decimal>,
        settings: &Settings,
        state: &mut RunState<'_, '_>,
    ) -> Result<(), PriceSyncError> {
        let route = &r.route;
        let Some(price) = item.price_in(route.price_list, &route.currency) else {
            state.figures.unpriced += 1;
            return Ok(());
        };
        let price = match (r.convert, rate) {
            (None, _) => price,
            (Some(c), Some(rate)) => c.apply(price, rate),
            (Some(_), None) => {
                state.figures.no_tax_rate += 1;
                return Ok(());
            }
        };
        state.figures.prices += 1;
        let price = round_price(price, settings.price_decimals);
        let key = (sku.to_owned(), route.store_id);
        let last = state.memory.base.remove(&key);
        if !needs_push(last.as_ref(), price, state.figures.full) {
            return Ok(());
        }
        let published = last.and_then(|l| l.published);
        if price.is_zero() && published.is_none() {
            // No price in this list and nothing sold at: not a change, nothing to publish.
            state.figures.unpriced += 1;
            state.figures.prices -= 1;
            return Ok(());
        }
        state.figures.changed += 1;
        let offer = Offer {
            sku: key.0,
            store_id: route.store_id,
            kind: PriceKind::Base,
            price,
            window: None,
            quantity: Decimal::ZERO,
            previous: published,
        };
        let hold = guard(published, price, state.limit).filter(|_| !state.options.release_held);
        self.offer(offer, hold, state).await
    }

    async fn offer(
        &self,
        offer: Offer,
        hold: Option<Hold>,
        state: &mut RunState<'_, '_>,
    ) -> Result<(), PriceSyncError> {
        let why = hold.map(|h| h.describe(state.limit));
        if state.options.dry_run {
            if why.is_some() {
                state.figures.held += 1;
            }
            if state.figures.plan.len() < PLAN_SHOWN {
                state.figures.plan.push(PlannedPrice {
                    sku: offer.sku,
                    store_id: offer.store_id,
                    kind: offer.kind.as_str().into(),
                    from: offer.previous,
                    to: offer.price,
                    quantity: (!offer.quantity.is_zero()).then_some(offer.quantity),
                    window: offer.window,
                    held: why,
                });
            }
            return Ok(());
        }
        match why {
            Some(why) => state.held.push((offer, why)),
            None => state.pusher.add(offer).await?,
        }
        Ok(())
    }

    /// Period discounts for all Business Partners on a routed list → Magento special
    /// prices: the period running today in the store's time zone, else the next one.
    async fn special_prices(
        &self,
        settings: &Settings,
        routes: &[Route],
        state: &mut RunState<'_, '_>,
    ) -> Result<(), PriceSyncError> {
        let Some(card_code) = &settings.special_prices_card_code else {
            state.figures.warnings.push(
                "special prices are not synced: settings.special_prices_card_code (the \
                 CardCode SAP keeps period discounts for all Business Partners under) is not set"
                    .into(),
            );
            return Ok(());
        };
        state.figures.sap_requests += 1;
        let rows = self
            .source
            .special_prices(card_code, settings.price_sap_page_size)
            .await?;
        let today = state.today;
        let tiers_website = tiers_website(settings, state.figures);
        let mut open_ended = 0u64;
        for row in rows.iter().filter(|r| r.valid) {
            for r in routes {
                let route = &r.route;
                if row.price_list_num.is_some_and(|l| l != route.price_list) {
                    continue;
                }
                if let Some(website) = tiers_website {
                    self.tier_prices(row, r, website, settings, state).await?;
                }
                let Some((price, from, to)) =
                    period_for(row, &route.currency, today, &mut open_ended)
                else {
                    continue;
                };
                let Some(price) = converted(r, &row.item_code, price, state) else {
                    continue;
                };
                state.figures.special_prices += 1;
                let price = round_price(price, settings.price_decimals);
                let window = special_price_window(from, to);
                let key = (row.item_code.clone(), route.store_id);
                let last = state.memory.special.remove(&key);
                let same = last
                    .as_ref()
                    .is_some_and(|(l, w)| l.offered == price && w.as_ref() == Some(&window));
                if same && !state.figures.full {
                    continue;
                }
                // A new period does not replace the old one in Magento (Adobe Commerce keeps
                // one update per window): the old window is removed.
                if let Some((l, Some(old))) = &last {
                    if *old != window {
                        self.remove_special(&key, l, old.clone(), state).await?;
                    }
                }
                state.figures.changed += 1;
                let offer = Offer {
                    sku: row.item_code.clone(),
                    store_id: route.store_id,
                    kind: PriceKind::Special,
                    price,
                    window: Some(window),
                    quantity: Decimal::ZERO,
                    previous: last.and_then(|(l, _)| l.published),
                };
                let hold = discount_hold(price, state);
                self.offer(offer, hold, state).await?;
            }
        }
        if open_ended > 0 {
            state.figures.warnings.push(format!(
                "{open_ended} special price periods have no end date: Magento needs both \
                 price_from and price_to, so they are not published"
            ));
        }
        // What is left was published once and has no running or coming period in SAP any
        // more (ended, removed, made invalid): it is removed from Magento.
        let stores: Vec<i64> = routes.iter().map(|r| r.route.store_id).collect();
        let mut gone: Vec<_> = std::mem::take(&mut state.memory.special)
            .into_iter()
            .filter(|((_, store), _)| stores.contains(store))
            .collect();
        gone.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, (last, window)) in gone {
            if let Some(window) = window {
                self.remove_special(&key, &last, window, state).await?;
            }
        }
        if let Some(website) = tiers_website {
            self.remove_ended_tiers(website, state).await?;
        }
        Ok(())
    }

    /// The volume discounts of the period running today → tier prices for `ALL GROUPS` on
    /// `website` (fixed prices, from a quantity on), as deltas.
    async fn tier_prices(
        &self,
        row: &SapSpecialPrice,
        r: &Route,
        website: i64,
        settings: &Settings,
        state: &mut RunState<'_, '_>,
    ) -> Result<(), PriceSyncError> {
        let currency = &r.route.currency;
        let Some(period) = running_period(row, currency, state.today) else {
            return Ok(());
        };
        for volume in &period.special_price_quantity_areas {
            if !same_currency(volume.price_currency.as_deref(), currency) {
                continue;
            }
            let (Some(quantity), Some(price)) = (volume.quantity, volume.special_price) else {
                continue;
            };
            if quantity <= Decimal::ZERO {
                continue;
            }
            let Some(price) = converted(r, &row.item_code, price, state) else {
                continue;
            };
            let price = round_price(price, settings.price_decimals);
            let quantity = quantity.normalize();
            state.figures.tier_prices += 1;
            let key = (row.item_code.clone(), website, quantity);
            let last = state.memory.tier.remove(&key);
            if !needs_push(last.as_ref(), price, state.figures.full) {
                continue;
            }
            state.figures.changed += 1;
            let offer = Offer {
                sku: key.0,
                store_id: website,
                kind: PriceKind::Tier,
                price,
                window: None,
                quantity,
                previous: last.and_then(|l| l.published),
            };
            let hold = discount_hold(price, state);
            self.offer(offer, hold, state).await?;
        }
        Ok(())
    }

    /// Tier prices published before whose volume row is gone from SAP, or whose period
    /// ended: removed from Magento.
    async fn remove_ended_tiers(
        &self,
        website: i64,
        state: &mut RunState<'_, '_>,
    ) -> Result<(), PriceSyncError> {
        let full = state.figures.full;
        let mut gone: Vec<_> = std::mem::take(&mut state.memory.tier)
            .into_iter()
            .filter(|((_, w, _), l)| {
                *w == website && l.published.is_some() && (l.outcome == Outcome::Pushed || full)
            })
            .collect();
        gone.sort_by(|a, b| a.0.cmp(&b.0));
        for ((sku, website, quantity), last) in gone {
            let Some(published) = last.published else {
                continue;
            };
            state.figures.changed += 1;
            if state.options.dry_run {
                state.figures.tiers_deleted += 1;
            }
            let offer = Offer {
                sku,
                store_id: website,
                kind: PriceKind::TierDelete,
                price: published,
                window: None,
                quantity,
                previous: Some(published),
            };
            self.offer(offer, None, state).await?;
        }
        Ok(())
    }

    /// Removes a published special price from Magento. One Magento refused or never took
    /// has nothing to remove; a refused removal is tried again on the next full pass.
    async fn remove_special(
        &self,
        key: &(String, i64),
        last: &crate::domain::prices::LastPrice,
        window: (String, String),
        state: &mut RunState<'_, '_>,
    ) -> Result<(), PriceSyncError> {
        let Some(published) = last.published else {
            return Ok(());
        };
        if last.outcome != Outcome::Pushed && !state.figures.full {
            return Ok(());
        }
        state.figures.changed += 1;
        if state.options.dry_run {
            state.figures.special_deleted += 1;
        }
        let offer = Offer {
            sku: key.0.clone(),
            store_id: key.1,
            kind: PriceKind::SpecialDelete,
            price: published,
            window: Some(window),
            quantity: Decimal::ZERO,
            previous: Some(published),
        };
        self.offer(offer, None, state).await
    }
}

/// Where tier prices go: website 0 under a global price scope. Magento refuses another
/// website then, and under a website scope b1bridge does not know the websites of the
/// routed stores, so tier prices are not synced there (said in the run's warnings).
fn tiers_website(settings: &Settings, figures: &mut PriceFigures) -> Option<i64> {
    if !settings.price_tier_prices {
        return None;
    }
    if settings.magento_price_scope == PriceScope::Global {
        return Some(0);
    }
    figures.warnings.push(
        "tier prices are not synced: under a website price scope a tier price names a \
         website, and b1bridge maps SAP price lists to store views only"
            .into(),
    );
    None
}

/// A price on the route's tax basis: converted by the item's sales VAT rate when the route
/// converts (`None`, counted, when the item has no rate).
fn converted(
    r: &Route,
    item_code: &str,
    price: Decimal,
    state: &mut RunState<'_, '_>,
) -> Option<Decimal> {
    let Some(c) = r.convert else {
        return Some(price);
    };
    match state.item_rates.get(item_code) {
        Some(rate) => Some(c.apply(price, *rate)),
        None => {
            state.figures.no_tax_rate += 1;
            None
        }
    }
}

/// Special and tier prices are discounts by design: only a price of 0 is held.
fn discount_hold(price: Decimal, state: &RunState<'_, '_>) -> Option<Hold> {
    price
        .is_zero()
        .then_some(Hold::ToZero)
        .filter(|_| !state.options.release_held)
}

fn same_currency(given: Option<&str>, currency: &str) -> bool {
    given.is_none_or(|c| c.eq_ignore_ascii_case(currency))
}

/// The period of `row` running on `today` (an open end runs on), in `currency`.
fn running_period<'r>(
    row: &'r SapSpecialPrice,
    currency: &str,
    today: NaiveDate,
) -> Option<&'r SpecialPricePeriod> {
    row.special_price_data_areas.iter().find(|p| {
        same_currency(p.price_currency.as_deref(), currency)
            && p.date_from.is_some_and(|f| f <= today)
            && p.date_to.is_none_or(|t| today <= t)
    })
}

/// The period of `row` that runs on `today`, else the next one to start, in `currency`.
fn period_for(
    row: &SapSpecialPrice,
    currency: &str,
    today: NaiveDate,
    open_ended: &mut u64,
) -> Option<(Decimal, NaiveDate, NaiveDate)> {
    let mut best: Option<(Decimal, NaiveDate, NaiveDate)> = None;
    for p in &row.special_price_data_areas {
        if !same_currency(p.price_currency.as_deref(), currency) {
            continue;
        }
        let (Some(from), Some(price)) = (p.date_from, p.special_price) else {
            continue;
        };
        let Some(to) = p.date_to else {
            *open_ended += 1;
            continue;
        };
        if to < today {
            continue;
        }
        if best.is_none_or(|(_, f, _)| from < f) {
            best = Some((price, from, to));
        }
    }
    best
}

/// Records the held prices and their exceptions.
async fn hold(pool: &PgPool, run: Uuid, held: &[(Offer, String)]) -> Result<(), StoreError> {
    if held.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    let rows: Vec<Remembered<'_>> = held
        .iter()
        .map(|(o, _)| o.remembered(Outcome::Held))
        .collect();
    price_store::record(&mut tx, run, &rows).await?;
    for (offer, why) in held {
        tracing::warn!(sku = %offer.sku, store = offer.store_id, %why, "price held by the guard rail");
        exceptions::record(&mut tx, &held_exception(offer, why, run), None).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A full pass is due when none succeeded within `price_full_sync_hours`.
async fn full_pass_due(pool: &PgPool, settings: &Settings) -> Result<bool, StoreError> {
    let last = runs::last_full_success(pool, RunKind::PriceSync).await?;
    let every = chrono::Duration::hours(i64::from(settings.price_full_sync_hours));
    Ok(last.is_none_or(|at| at + every <= chrono::Utc::now()))
}

impl RunTask for PriceSync {
    fn run<'a>(&'a self, run: &'a Run, ctx: &'a JobContext) -> BoxFuture<'a, RunResult> {
        Box::pin(async move {
            let (figures, result) = self
                .sync(&ctx.pool, run.id, PriceSyncOptions::default())
                .await;
            RunResult {
                figures: serde_json::to_value(&figures).unwrap_or_default(),
                error: result.err().map(|e| e.to_string()),
            }
        })
    }
}
