//! The stock sync run (docs/stock-sync.md): SAP B1 warehouse stock → Magento salable
//! quantities, by the rules of `domain::stock`.
//!
//! Stages: **prepare** (Postgres: settings, the warehouse and SKU mappings, what was pushed
//! before; whether this run is a full pass) → **web orders** (MSI: the open quantities of the
//! SAP orders b1bridge posted, which SAP counts in `Committed` and MSI still reserves; legacy:
//! what b1bridge received but has not posted) → **read and push** (every inventory item, page
//! by page, with `$select=ItemCode,ItemWarehouseInfoCollection`; the quantities per SKU and
//! source; the ones that changed since the last push, in batches) → **retire** (a SKU/source
//! pushed before that no longer receives stock — its item gone from SAP, its warehouse
//! unmapped — is set to 0, so no phantom stock stays in Magento).
//!
//! SAP is only read, never written, and every request goes through the shared client's
//! concurrency limit. SAP's `UpdateDate`/`UpdateTime` cannot tell which items' stock moved
//! (whether a stock movement touches OITM's update stamp is not documented), so every run
//! reads every inventory item — ⌈items / page size⌉ requests — and the delta is taken on the
//! Magento side against what was last pushed: an unchanged SKU costs no Magento call.
pub mod magento_adapter;
pub mod publisher;
mod pusher;

use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

use self::publisher::{SourceItemUpdate, StockPublisher};
use self::pusher::{PushFigures, PushStopped, Pusher};
use super::handler::JobContext;
use super::run_job::{RunResult, RunTask};
use crate::domain::ids::Sku;
use crate::domain::mappings::Mappings;
use crate::domain::run::RunKind;
use crate::domain::settings::Settings;
use crate::domain::stock::{self, needs_push, Pushed, StockMode, StockRoutes, WarehouseQty};
use crate::sap::{SapClient, SapError};
use crate::store::runs::{self, Run};
use crate::store::stock::{self as stock_store, PushedState};
use crate::store::{mappings, settings, StoreError};

/// Told how a run advances, for a progress bar on a terminal.
pub trait SyncProgress: Send + Sync {
    /// The number of items the run will read, when known.
    fn total(&self, _items: u64) {}
    /// `items` more items were read and handled.
    fn advance(&self, _items: u64) {}
    fn finish(&self) {}
}

/// The Magento REST client as the stock sync's publisher.
pub fn magento_publisher(
    settings: &crate::config::MagentoSettings,
) -> Result<Arc<dyn StockPublisher>, crate::magento::MagentoError> {
    let client = crate::magento::MagentoClient::new(settings)?;
    Ok(Arc::new(magento_adapter::MagentoStock::new(client)))
}

/// No progress display (the scheduler, the API).
pub struct Silent;
impl SyncProgress for Silent {}

/// The stock sync, with the process's SAP client and Magento publisher.
#[derive(Clone)]
pub struct StockSync {
    sap: SapClient,
    magento: Arc<dyn StockPublisher>,
    progress: Arc<dyn SyncProgress>,
}

/// What a run did; stored as the run's `figures`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncFigures {
    /// Every SKU was pushed, not only the changes.
    pub full: bool,
    pub dry_run: bool,
    pub mode: Option<StockMode>,
    pub items_read: u64,
    pub sku_sources: u64,
    pub changed: u64,
    pub pushed: u64,
    pub rejected: u64,
    /// SKU/sources set to 0 because they no longer receive stock.
    pub retired: u64,
    pub sap_requests: u64,
    pub magento_requests: u64,
    pub web_orders_open: u64,
    pub duration_ms: u64,
    /// What is missing from the configuration (reported, never guessed).
    pub warnings: Vec<String>,
    /// Dry run only: the first changes it would push.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<PlannedChange>,
}

/// One change a dry run would push.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlannedChange {
    pub sku: String,
    pub source_code: String,
    pub from: Option<Decimal>,
    pub to: Decimal,
}

/// How many planned changes a dry run lists (the counts cover all of them).
const PLAN_SHOWN: usize = 200;

/// Why a run did not finish its work.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}")]
    NotConfigured(String),
    #[error("SAP B1: {0}")]
    Sap(#[from] SapError),
    #[error(transparent)]
    Push(#[from] PushStopped),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

/// Options of one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncOptions {
    pub dry_run: bool,
    /// Push every SKU, whatever was pushed before.
    pub force_full: bool,
}

impl StockSync {
    pub fn new(sap: SapClient, magento: Arc<dyn StockPublisher>) -> Self {
        Self {
            sap,
            magento,
            progress: Arc::new(Silent),
        }
    }

    pub fn with_progress(mut self, progress: Arc<dyn SyncProgress>) -> Self {
        self.progress = progress;
        self
    }

    /// One sync. On failure the figures say how far it got; everything pushed so far is
    /// remembered, nothing else.
    pub async fn sync(
        &self,
        pool: &PgPool,
        run: Uuid,
        options: SyncOptions,
    ) -> (SyncFigures, Result<(), SyncError>) {
        let started = Instant::now();
        let mut figures = SyncFigures {
            dry_run: options.dry_run,
            ..SyncFigures::default()
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
        options: SyncOptions,
        figures: &mut SyncFigures,
    ) -> Result<(), SyncError> {
        let settings = settings::current(pool).await?.settings;
        let mappings = mappings::snapshot(pool).await?;
        let (routes, warnings) =
            StockRoutes::from_mappings(&mappings.warehouses, settings.stock_mode)
                .map_err(|e| SyncError::NotConfigured(e.to_string()))?;
        figures.mode = Some(settings.stock_mode);
        figures.warnings = warnings;
        figures.full = options.force_full || full_pass_due(pool, &settings).await?;
        let skus = SkuIndex::new(&mappings);
        let mut pushed = stock_store::load_pushed(pool).await?;

        let web = match settings.stock_mode {
            StockMode::Msi => self.web_open(pool, &settings, figures).await?,
            StockMode::Legacy => HashMap::new(),
        };
        let unposted = match settings.stock_mode {
            StockMode::Legacy => stock_store::unposted_by_sku(pool).await?,
            StockMode::Msi => HashMap::new(),
        };

        let mut pusher = Pusher {
            publisher: self.magento.as_ref(),
            pool,
            run,
            mode: settings.stock_mode,
            batch_size: settings.stock_batch_size.max(1) as usize,
            pending: Vec::new(),
            figures: PushFigures::default(),
        };
        let result = self
            .read_and_push(
                &settings,
                &routes,
                &skus,
                &web,
                &unposted,
                &mut pushed,
                &mut pusher,
                options,
                figures,
            )
            .await;
        let result = match result {
            Ok(()) => retire(&mut pushed, &mut pusher, options, figures).await,
            Err(e) => Err(e),
        };
        let result = match result {
            Ok(()) if !options.dry_run => pusher.flush().await.map_err(SyncError::from),
            other => other,
        };
        figures.magento_requests = pusher.figures.magento_requests;
        figures.pushed = pusher.figures.pushed;
        figures.rejected = pusher.figures.rejected;
        result
    }

    /// MSI: what the open SAP orders that b1bridge posted still hold, by item and warehouse.
    /// Skipped (no request) when b1bridge has no order in SAP.
    async fn web_open(
        &self,
        pool: &PgPool,
        settings: &Settings,
        figures: &mut SyncFigures,
    ) -> Result<HashMap<(String, String), Decimal>, SyncError> {
        let mut open = HashMap::new();
        if !stock_store::has_posted_orders(pool).await? {
            return Ok(open);
        }
        figures.sap_requests += 1;
        let mut page = self
            .sap
            .open_orders_first_page(settings.stock_sap_page_size)
            .await?;
        loop {
            let entries: Vec<i64> = page.items.iter().map(|o| o.doc_entry.0).collect();
            let web: std::collections::HashSet<i64> = stock_store::web_orders_among(pool, &entries)
                .await?
                .into_iter()
                .collect();
            for order in page.items.iter().filter(|o| web.contains(&o.doc_entry.0)) {
                figures.web_orders_open += 1;
                for line in &order.lines {
                    let (Some(item), Some(wh)) = (&line.item_code, &line.warehouse_code) else {
                        continue;
                    };
                    let still = line.remaining_open_quantity.unwrap_or(line.quantity);
                    *open.entry((item.clone(), wh.clone())).or_default() += still;
                }
            }
            let Some(next) = page.next else { break };
            figures.sap_requests += 1;
            page = self.sap.next_page(&next).await?;
        }
        Ok(open)
    }

    #[allow(clippy::too_many_arguments)]
    async fn read_and_push(
        &self,
        settings: &Settings,
        routes: &StockRoutes,
        skus: &SkuIndex,
        web: &HashMap<(String, String), Decimal>,
        unposted: &HashMap<String, Decimal>,
        pushed: &mut PushedState,
        pusher: &mut Pusher<'_>,
        options: SyncOptions,
        figures: &mut SyncFigures,
    ) -> Result<(), SyncError> {
        figures.sap_requests += 1;
        let mut page = self
            .sap
            .stock_first_page(settings.stock_sap_page_size)
            .await?;
        loop {
            for item in &page.items {
                figures.items_read += 1;
                let rows: Vec<WarehouseQty> = item
                    .warehouses
                    .iter()
                    .map(|w| WarehouseQty {
                        warehouse: w.warehouse_code.clone(),
                        in_stock: w.in_stock,
                        committed: w.committed,
                    })
                    .collect();
                for sku in skus.skus_of(&item.item_code) {
                    let targets = stock::quantities(
                        &rows,
                        routes,
                        settings.safety_stock,
                        |wh| {
                            if web.is_empty() {
                                return Decimal::ZERO;
                            }
                            web.get(&(item.item_code.clone(), wh.to_owned()))
                                .copied()
                                .unwrap_or_default()
                        },
                        unposted.get(sku).copied().unwrap_or_default(),
                    );
                    let before = pushed.by_sku.remove(sku).unwrap_or_default();
                    let mut targeted: Vec<u16> = Vec::with_capacity(targets.len());
                    for target in targets {
                        figures.sku_sources += 1;
                        let source = pushed.source_index(&target.source_code);
                        targeted.push(source);
                        let previous = before.iter().find(|(s, _)| *s == source).map(|(_, p)| p);
                        if !needs_push(&target, previous, figures.full) {
                            continue;
                        }
                        figures.changed += 1;
                        let update = SourceItemUpdate {
                            sku: sku.to_owned(),
                            source_code: target.source_code,
                            quantity: target.quantity,
                            in_stock: target.in_stock,
                        };
                        self.offer(pusher, update, previous, options, figures)
                            .await?;
                    }
                    // Sources this SKU was pushed to but no longer feeds: kept for `retire`.
                    let stale: Vec<(u16, Pushed)> = before
                        .into_iter()
                        .filter(|(s, _)| !targeted.contains(s))
                        .collect();
                    if !stale.is_empty() {
                        pushed.by_sku.insert(sku.to_owned(), stale);
                    }
                }
            }
            self.progress.advance(page.items.len() as u64);
            let Some(next) = page.next else { break };
            figures.sap_requests += 1;
            page = self.sap.next_page(&next).await?;
        }
        Ok(())
    }

    async fn offer(
        &self,
        pusher: &mut Pusher<'_>,
        update: SourceItemUpdate,
        previous: Option<&Pushed>,
        options: SyncOptions,
        figures: &mut SyncFigures,
    ) -> Result<(), SyncError> {
        if options.dry_run {
            if figures.plan.len() < PLAN_SHOWN {
                figures.plan.push(PlannedChange {
                    sku: update.sku,
                    source_code: update.source_code,
                    from: previous.map(|p| p.quantity),
                    to: update.quantity,
                });
            }
            return Ok(());
        }
        pusher.add(update).await?;
        Ok(())
    }
}

/// A full pass is due when none succeeded within `stock_full_sync_hours`.
async fn full_pass_due(pool: &PgPool, settings: &Settings) -> Result<bool, StoreError> {
    let last = runs::last_full_success(pool, RunKind::StockSync).await?;
    let every = chrono::Duration::hours(i64::from(settings.stock_full_sync_hours));
    Ok(last.is_none_or(|at| at + every <= chrono::Utc::now()))
}

/// Sets to 0 every SKU/source still holding a quantity from an earlier push that this run
/// did not compute (its item is no longer an inventory item in SAP, or its warehouses no
/// longer feed that source): Magento must not keep selling it.
async fn retire(
    pushed: &mut PushedState,
    pusher: &mut Pusher<'_>,
    options: SyncOptions,
    figures: &mut SyncFigures,
) -> Result<(), SyncError> {
    let leftovers = std::mem::take(&mut pushed.by_sku);
    for (sku, entries) in leftovers {
        for (source, p) in entries {
            if p.quantity.is_zero() && !p.in_stock {
                continue;
            }
            figures.retired += 1;
            figures.changed += 1;
            let source_code = pushed.sources[source as usize].clone();
            if options.dry_run {
                if figures.plan.len() < PLAN_SHOWN {
                    figures.plan.push(PlannedChange {
                        sku: sku.clone(),
                        source_code,
                        from: Some(p.quantity),
                        to: Decimal::ZERO,
                    });
                }
                continue;
            }
            pusher
                .add(SourceItemUpdate {
                    sku: sku.clone(),
                    source_code,
                    quantity: Decimal::ZERO,
                    in_stock: false,
                })
                .await?;
        }
    }
    Ok(())
}

/// SAP ItemCode → the Magento SKUs it is sold as: the `skus` mapping read backwards, else the
/// ItemCode itself (the same rule the order posting uses). The price sync uses it too.
pub(crate) struct SkuIndex {
    mapped: HashMap<String, Vec<String>>,
    /// SKUs whose mapping points elsewhere: an item of the same code is not that SKU.
    remapped: std::collections::HashSet<String>,
}

impl SkuIndex {
    pub(crate) fn new(mappings: &Mappings) -> Self {
        let mut mapped: HashMap<String, Vec<String>> = HashMap::new();
        let mut remapped = std::collections::HashSet::new();
        for (sku, m) in &mappings.skus {
            mapped
                .entry(m.item_code.as_str().to_owned())
                .or_default()
                .push(sku.clone());
            if m.item_code.as_str() != sku {
                remapped.insert(sku.clone());
            }
        }
        for skus in mapped.values_mut() {
            skus.sort();
        }
        Self { mapped, remapped }
    }

    pub(crate) fn skus_of<'a>(&'a self, item_code: &'a str) -> Vec<&'a str> {
        if let Some(skus) = self.mapped.get(item_code) {
            return skus.iter().map(String::as_str).collect();
        }
        if self.remapped.contains(item_code) || Sku::parse(item_code).is_err() {
            return vec![];
        }
        vec![item_code]
    }
}

impl RunTask for StockSync {
    fn run<'a>(&'a self, run: &'a Run, ctx: &'a JobContext) -> BoxFuture<'a, RunResult> {
        Box::pin(async move {
            let (figures, result) = self.sync(&ctx.pool, run.id, SyncOptions::default()).await;
            RunResult {
                figures: serde_json::to_value(&figures).unwrap_or_default(),
                error: result.err().map(|e| e.to_string()),
            }
        })
    }
}
