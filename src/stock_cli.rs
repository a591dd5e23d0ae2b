//! `b1bridge stock sync [--dry-run] [--full]`: one stock sync run now, from a terminal.
//!
//! A real run is started like any other (a run row and its job, so it is refused while
//! another stock run is active anywhere, and it shows in `GET /api/v1/runs`) and executed
//! here by a worker pool of this process that does stock runs only — the same code path as a
//! scheduled run. A dry run reads SAP and the pushed state, prints the plan, and writes
//! nothing anywhere. On a terminal a progress bar follows the items read.
use std::io::IsTerminal;
use std::sync::Arc;
use uuid::Uuid;

use crate::cli::StockSyncArgs;
use crate::domain::run::{RunKind, RunStatus, RunTrigger};
use crate::sap::SapClient;
use crate::store::runs::StartError;
use crate::worker::run_job::{self, RunHereError};
use crate::worker::stock_sync::publisher::{PushError, SourceItemUpdate, StockPublisher};
use crate::worker::stock_sync::{StockSync, SyncFigures, SyncOptions, SyncProgress};

pub async fn sync(args: StockSyncArgs) -> anyhow::Result<()> {
    let db = args.db.settings()?;
    let pool = crate::store::connect(&db).await?;
    let sap_settings = args.sap.settings()?;
    let sap = SapClient::new(&sap_settings)?;
    let publisher: Arc<dyn StockPublisher> = match args.magento.publisher()? {
        Some(p) => p,
        None if args.dry_run => Arc::new(NothingPushed),
        None => anyhow::bail!("MAGENTO_URL is required (a dry run works without it)"),
    };
    let progress = bar(&sap).await;
    let sync = StockSync::new(sap.clone(), publisher).with_progress(progress);
    let outcome = if args.dry_run {
        let (figures, result) = sync
            .sync(
                &pool,
                Uuid::nil(),
                SyncOptions {
                    dry_run: true,
                    force_full: args.full,
                },
            )
            .await;
        print_figures(&figures);
        result.map_err(anyhow::Error::from)
    } else {
        run_here(&pool, sync).await
    };
    let _ = sap.logout().await;
    outcome
}

/// Starts a run and executes it here; returns when it has finished.
async fn run_here(pool: &sqlx::PgPool, sync: StockSync) -> anyhow::Result<()> {
    let finished =
        match run_job::run_here(pool, RunKind::StockSync, RunTrigger::Cli, "cli", sync).await {
            Ok(run) => run,
            Err(RunHereError::Start(StartError::Active { run, .. })) => anyhow::bail!(
            "a stock sync run is already queued or running ({run}); try again when it has finished"
        ),
            Err(e) => return Err(e.into()),
        };
    let figures: SyncFigures = serde_json::from_value(finished.figures.clone()).unwrap_or_default();
    print_figures(&figures);
    match finished.status {
        RunStatus::Succeeded => Ok(()),
        _ => anyhow::bail!(
            "stock sync run {} failed: {}",
            finished.id,
            finished.error.unwrap_or_default()
        ),
    }
}

fn print_figures(f: &SyncFigures) {
    let verb = if f.dry_run { "would push" } else { "pushed" };
    println!(
        "{} pass ({}): {} items read, {} SKU/source quantities, {} changed",
        if f.full { "full" } else { "delta" },
        f.mode
            .map(|m| format!("{m:?}").to_lowercase())
            .unwrap_or_default(),
        f.items_read,
        f.sku_sources,
        f.changed
    );
    for w in &f.warnings {
        println!("warning: {w}");
    }
    if f.dry_run {
        for c in &f.plan {
            let from = c.from.map(|q| q.to_string()).unwrap_or_else(|| "—".into());
            println!("  {}  {}: {from} → {}", c.sku, c.source_code, c.to);
        }
        if (f.plan.len() as u64) < f.changed {
            println!("  … and {} more", f.changed - f.plan.len() as u64);
        }
        println!("{verb} {} (dry run: nothing was changed)", f.changed);
    } else {
        println!(
            "{verb} {}, refused by Magento {}, set to 0 {}; {} SAP requests, {} Magento requests, {} ms",
            f.pushed, f.rejected, f.retired, f.sap_requests, f.magento_requests, f.duration_ms
        );
    }
}

/// A progress bar when stdout is a terminal (one `/$count` request sizes it); else nothing.
async fn bar(sap: &SapClient) -> Arc<dyn SyncProgress> {
    if !std::io::stdout().is_terminal() {
        return Arc::new(crate::worker::stock_sync::Silent);
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bar:40} {pos}/{len} items ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if let Ok(total) = sap.count_stock_items().await {
        bar.set_length(total);
    }
    Arc::new(Bar(bar))
}

struct Bar(indicatif::ProgressBar);

impl SyncProgress for Bar {
    fn total(&self, items: u64) {
        self.0.set_length(items);
    }
    fn advance(&self, items: u64) {
        self.0.inc(items);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A dry run pushes nothing; it needs no Magento.
struct NothingPushed;

impl StockPublisher for NothingPushed {
    fn push_source_items<'a>(
        &'a self,
        _: &'a [SourceItemUpdate],
    ) -> futures::future::BoxFuture<'a, Result<(), PushError>> {
        Box::pin(async { Err(PushError::Unavailable("a dry run pushes nothing".into())) })
    }

    fn push_legacy_stock<'a>(
        &'a self,
        _: &'a str,
        _: rust_decimal::Decimal,
        _: bool,
    ) -> futures::future::BoxFuture<'a, Result<(), PushError>> {
        Box::pin(async { Err(PushError::Unavailable("a dry run pushes nothing".into())) })
    }
}
