//! Price sync benchmark: N SKUs on one SAP price list published to one Magento store. A full
//! sync, then a delta sync after 1 % of the prices changed. Each sync runs in a child process
//! of its own (this binary with `--child`) that reports its wall time, CPU time (getrusage)
//! and peak RSS (VmHWM), so the figures are the sync's alone.
//!
//! The SAP side is fed in-process: each page is written as the Service Layer's JSON for
//! `GET /Items?$select=ItemCode,Valid,Frozen,SalesItem,ItemPrices` and parsed by the sync's
//! own types, so parsing is measured but seeding and serving 100,000 items through a
//! simulator is not. The Magento side serialises each request body as the REST client
//! would and answers `[]` (all rows saved), counting the requests. Postgres is real.
//!
//! `./scripts/bench-prices.sh [--skus N] [--batch B] [--page P]` (release build; needs Postgres).
#[path = "support/usage.rs"]
mod usage;
use b1bridge::magento::types::PriceRowError;
use b1bridge::sap::types::{PriceList, PricedItem, SpecialPrice as SapSpecialPrice, VatGroup};
use b1bridge::sap::SapError;
use b1bridge::worker::price_sync::ports::{
    PriceCall, PriceCursor, PricePage, PricePublisher, PriceSource, PushError,
};
use futures::future::BoxFuture;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        return child(&args[2..]);
    }
    let opt = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let skus = opt("--skus", 100_000);
    let batch = opt("--batch", 100);
    let page = opt("--page", 500);
    let admin_url = std::env::var("DATABASE_URL")?;
    let rt = tokio::runtime::Runtime::new()?;
    let db_name = format!("b1b_price_bench_{}", std::process::id());
    let result = rt.block_on(async {
        let url = create_database(&admin_url, &db_name).await?;
        prepare(&url, batch, page).await?;
        let full = run_child(&url, skus, page, false)?;
        let delta = run_child(&url, skus, page, true)?;
        report(skus, batch, page, &full, &delta);
        anyhow::Ok(())
    });
    rt.block_on(async {
        if let Ok(admin) = sqlx::PgPool::connect(&admin_url).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
                .execute(&admin)
                .await;
        }
    });
    result
}

async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let admin = sqlx::PgPool::connect(admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await?;
    let mut url = url::Url::parse(admin_url)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

async fn prepare(url: &str, batch: u64, page: u64) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(url).await?;
    b1bridge::store::migrate(&pool).await?;
    let settings = b1bridge::domain::settings::Settings {
        price_routes: vec![b1bridge::domain::prices::PriceRoute {
            price_list: 1,
            store_id: 0,
            currency: "USD".into(),
        }],
        price_batch_size: batch as u32,
        price_sap_page_size: page as u32,
        ..Default::default()
    };
    b1bridge::store::settings::replace(&pool, &settings, "bench").await?;
    Ok(())
}

fn run_child(db: &str, skus: u64, page: u64, changed: bool) -> anyhow::Result<Value> {
    let out = Command::new(std::env::current_exe()?)
        .args([
            "--child",
            db,
            &skus.to_string(),
            &page.to_string(),
            if changed { "delta" } else { "full" },
        ])
        .stderr(Stdio::inherit())
        .output()?;
    anyhow::ensure!(out.status.success(), "the sync child failed");
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn report(skus: u64, batch: u64, page: u64, full: &Value, delta: &Value) {
    println!("price sync benchmark: {skus} SKUs, one price list → one store, batch {batch}, SAP page {page}");
    println!("| run | prices changed | SAP requests (lists + pages) | Magento requests | bound ⌈changed/batch⌉ | wall | CPU | peak RSS |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, r) in [("full", full), ("delta (1 % changed)", delta)] {
        let f = &r["figures"];
        let changed = f["changed"].as_u64().unwrap_or(0);
        println!(
            "| {name} | {changed} | {} | {} | {} | {:.2} s | {:.2} s | {:.1} MB |",
            f["sap_requests"],
            r["magento_requests"],
            changed.div_ceil(batch),
            r["wall_ms"].as_f64().unwrap_or(0.0) / 1000.0,
            r["cpu_ms"].as_f64().unwrap_or(0.0) / 1000.0,
            r["max_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0,
        );
    }
}

/// SAP, in-process: `skus` items on price list 1 (USD), one page of JSON at a time.
struct Source {
    skus: usize,
    page: usize,
    /// Every 100th item's price is 5 % higher (the delta run).
    changed: bool,
}

impl Source {
    fn price(&self, i: usize) -> f64 {
        let base = 10.0 + (i % 5_000) as f64 / 100.0;
        if self.changed && i % 100 == 0 {
            ((base * 1.05) * 100.0).round() / 100.0
        } else {
            base
        }
    }

    fn page_at(&self, start: usize) -> Result<PricePage, SapError> {
        let end = (start + self.page).min(self.skus);
        let mut body = String::with_capacity((end - start) * 200);
        body.push_str("{\"value\":[");
        for i in start..end {
            if i > start {
                body.push(',');
            }
            body.push_str(&format!(
                "{{\"ItemCode\":\"SKU-{i:06}\",\"Valid\":\"tYES\",\"Frozen\":\"tNO\",\"SalesItem\":\"tYES\",\
                 \"ItemPrices\":[{{\"PriceList\":1,\"Price\":{},\"Currency\":\"USD\",\"BasePriceList\":1,\"Factor\":1}},\
                 {{\"PriceList\":2,\"Price\":{},\"Currency\":\"USD\",\"BasePriceList\":1,\"Factor\":0.9}}]}}",
                self.price(i),
                (self.price(i) * 90.0).round() / 100.0
            ));
        }
        body.push_str("]}");
        #[derive(serde::Deserialize)]
        struct Body {
            value: Vec<PricedItem>,
        }
        let parsed: Body = serde_json::from_str(&body).expect("the bench writes valid JSON");
        Ok(PricePage {
            items: parsed.value,
            next: (end < self.skus).then_some(PriceCursor::Offset(end)),
        })
    }
}

impl PriceSource for Source {
    fn price_lists(&self) -> BoxFuture<'_, Result<Vec<PriceList>, SapError>> {
        Box::pin(async {
            Ok(serde_json::from_value(json!([
                {"PriceListNo": 1, "PriceListName": "Base", "BasePriceList": 1, "Factor": 1,
                 "IsGrossPrice": "tNO", "Active": "tYES", "DefaultPrimeCurrency": "USD"}
            ]))
            .expect("valid"))
        })
    }

    fn first_page(&self, _page_size: u32) -> BoxFuture<'_, Result<PricePage, SapError>> {
        Box::pin(async move { self.page_at(0) })
    }

    fn next_page(&self, cursor: PriceCursor) -> BoxFuture<'_, Result<PricePage, SapError>> {
        Box::pin(async move {
            match cursor {
                PriceCursor::Offset(i) => self.page_at(i),
                PriceCursor::Sap(_) => unreachable!("this source hands out offsets"),
            }
        })
    }

    fn special_prices<'a>(
        &'a self,
        _: &'a str,
        _: u32,
    ) -> BoxFuture<'a, Result<Vec<SapSpecialPrice>, SapError>> {
        Box::pin(async { Ok(vec![]) })
    }

    fn vat_groups(&self) -> BoxFuture<'_, Result<Vec<VatGroup>, SapError>> {
        Box::pin(async { Ok(vec![]) })
    }
}

/// Magento, in-process: serialises each body and saves every row.
#[derive(Default)]
struct Shop {
    requests: AtomicU64,
}

impl PricePublisher for Shop {
    fn publish<'a>(
        &'a self,
        call: PriceCall<'a>,
    ) -> BoxFuture<'a, Result<Vec<PriceRowError>, PushError>> {
        Box::pin(async move {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let body = serde_json::to_vec(&json!({ "prices": call.rows() })).expect("serialisable");
            std::hint::black_box(body);
            Ok(vec![])
        })
    }
}

fn child(args: &[String]) -> anyhow::Result<()> {
    let [db, skus, page, mode] = args else {
        anyhow::bail!("--child DB SKUS PAGE full|delta");
    };
    let source = Source {
        skus: skus.parse()?,
        page: page.parse()?,
        changed: mode == "delta",
    };
    let shop = Arc::new(Shop::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let run = rt.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(db)
            .await?;
        let sync = b1bridge::worker::price_sync::PriceSync::new(Arc::new(source), shop.clone());
        let run = b1bridge::worker::run_job::run_here(
            &pool,
            b1bridge::domain::run::RunKind::PriceSync,
            b1bridge::domain::run::RunTrigger::Cli,
            "bench",
            sync,
        )
        .await?;
        anyhow::ensure!(
            run.status == b1bridge::domain::run::RunStatus::Succeeded,
            "run failed: {:?}",
            run.error
        );
        anyhow::Ok(run)
    })?;
    let wall = started.elapsed();
    let (cpu, rss) = rusage();
    let out = json!({
        "figures": run.figures,
        "magento_requests": shop.requests.load(Ordering::Relaxed),
        "wall_ms": wall.as_millis() as u64,
        "cpu_ms": cpu.as_millis() as u64,
        "max_rss_kb": rss,
    });
    std::io::stdout().write_all(out.to_string().as_bytes())?;
    Ok(())
}

/// CPU time (user + system) and peak RSS (kB) of this process.
fn rusage() -> (Duration, i64) {
    (usage::cpu(), usage::peak_rss_kb())
}
