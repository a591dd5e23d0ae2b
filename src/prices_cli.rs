//! `b1bridge prices sync [--dry-run] [--full] [--release-held]`: one price sync run now.
//!
//! Like `b1bridge stock sync`: a real run is started as a run row and its job (refused while
//! another price run is active anywhere; listed in `GET /api/v1/runs`) and executed here. A
//! dry run reads SAP and the memory, prints the plan — old and new price per SKU, and what
//! the guard rail would hold — and writes nothing.
use std::sync::Arc;
use uuid::Uuid;

use crate::cli::PriceSyncArgs;
use crate::domain::run::{RunKind, RunStatus, RunTrigger};
use crate::magento::types::PriceRowError;
use crate::sap::SapClient;
use crate::store::runs::StartError;
use crate::worker::price_sync::ports::{PriceCall, PricePublisher, PushError};
use crate::worker::price_sync::{PriceFigures, PriceSync, PriceSyncOptions};
use crate::worker::run_job::{self, RunHereError};

pub async fn sync(args: PriceSyncArgs) -> anyhow::Result<()> {
    let db = args.db.settings()?;
    let pool = crate::store::connect(&db).await?;
    let sap = SapClient::new(&args.sap.settings()?)?;
    let publisher: Arc<dyn PricePublisher> = match args.magento.price_publisher()? {
        Some(p) => p,
        None if args.dry_run => Arc::new(NothingPushed),
        None => anyhow::bail!("MAGENTO_URL is required (a dry run works without it)"),
    };
    let options = PriceSyncOptions {
        dry_run: args.dry_run,
        force_full: args.full,
        release_held: args.release_held,
    };
    let sync = PriceSync::new(Arc::new(sap.clone()), publisher);
    let outcome = if args.dry_run {
        let (figures, result) = sync.sync(&pool, Uuid::nil(), options).await;
        print_figures(&figures);
        result.map_err(anyhow::Error::from)
    } else {
        run_here(&pool, WithOptions { sync, options }).await
    };
    let _ = sap.logout().await;
    outcome
}

/// A price sync with this invocation's options, as a run task.
#[derive(Clone)]
struct WithOptions {
    sync: PriceSync,
    options: PriceSyncOptions,
}

impl run_job::RunTask for WithOptions {
    fn run<'a>(
        &'a self,
        run: &'a crate::store::runs::Run,
        ctx: &'a crate::worker::handler::JobContext,
    ) -> futures::future::BoxFuture<'a, run_job::RunResult> {
        Box::pin(async move {
            let (figures, result) = self.sync.sync(&ctx.pool, run.id, self.options).await;
            run_job::RunResult {
                figures: serde_json::to_value(&figures).unwrap_or_default(),
                error: result.err().map(|e| e.to_string()),
            }
        })
    }
}

async fn run_here(pool: &sqlx::PgPool, task: WithOptions) -> anyhow::Result<()> {
    let finished =
        match run_job::run_here(pool, RunKind::PriceSync, RunTrigger::Cli, "cli", task).await {
            Ok(run) => run,
            Err(RunHereError::Start(StartError::Active { run, .. })) => anyhow::bail!(
            "a price sync run is already queued or running ({run}); try again when it has finished"
        ),
            Err(e) => return Err(e.into()),
        };
    let figures: PriceFigures =
        serde_json::from_value(finished.figures.clone()).unwrap_or_default();
    print_figures(&figures);
    match finished.status {
        RunStatus::Succeeded => Ok(()),
        _ => anyhow::bail!(
            "price sync run {} failed: {}",
            finished.id,
            finished.error.unwrap_or_default()
        ),
    }
}

fn print_figures(f: &PriceFigures) {
    println!(
        "{} pass: {} items read, {} prices, {} special prices, {} without a price, {} changed \
         ({} special prices to remove, {} tier prices, {} tier prices to remove, {} product \
         statuses)",
        if f.full { "full" } else { "delta" },
        f.items_read,
        f.prices,
        f.special_prices,
        f.unpriced,
        f.changed,
        f.special_deleted,
        f.tier_prices,
        f.tiers_deleted,
        f.status_changes
    );
    for w in &f.warnings {
        println!("warning: {w}");
    }
    if f.dry_run {
        for c in &f.plan {
            let from = c.from.map(|p| p.to_string()).unwrap_or_else(|| "—".into());
            let window = c
                .window
                .as_ref()
                .map(|(a, b)| format!(" ({a} → {b})"))
                .unwrap_or_default();
            let held = c
                .held
                .as_ref()
                .map(|h| format!("  HELD: {h}"))
                .unwrap_or_default();
            let quantity = c
                .quantity
                .map(|q| format!(" from quantity {q}"))
                .unwrap_or_default();
            println!(
                "  {}  store {} {}{quantity}: {from} → {}{window}{held}",
                c.sku, c.store_id, c.kind, c.to
            );
        }
        if (f.plan.len() as u64) < f.changed {
            println!("  … and {} more", f.changed - f.plan.len() as u64);
        }
        println!(
            "would publish {}, would hold {} (dry run: nothing was changed)",
            f.changed - f.held,
            f.held
        );
    } else {
        println!(
            "published {}, refused by Magento {}, held {}, special prices removed {}, tier \
             prices published {} and removed {}, product statuses set {}; {} SAP requests, {} \
             Magento requests, {} ms",
            f.pushed,
            f.rejected,
            f.held,
            f.special_deleted,
            f.tiers,
            f.tiers_deleted,
            f.statuses,
            f.sap_requests,
            f.magento_requests,
            f.duration_ms
        );
    }
}

/// A dry run publishes nothing; it needs no Magento.
struct NothingPushed;

impl PricePublisher for NothingPushed {
    fn publish<'a>(
        &'a self,
        _: PriceCall<'a>,
    ) -> futures::future::BoxFuture<'a, Result<Vec<PriceRowError>, PushError>> {
        Box::pin(async { Err(PushError::Unavailable("a dry run pushes nothing".into())) })
    }
}
