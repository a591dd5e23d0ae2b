//! Stock sync benchmark: N SKUs × 4 SAP warehouses (three feed two Magento sources, one is
//! not a web warehouse) against the SAP B1 and Magento simulators, each in its own process.
//! A full sync, then a delta sync after 1 % of the items changed in SAP. Each sync runs in a
//! child process of its own (this binary with `--child`), which reports its own wall time,
//! CPU time (getrusage) and peak RSS, so the figures are the sync's and not the simulators'
//! or this orchestrator's. SAP and Magento requests are the simulators' own counts (SAP's without Login and Logout).
//!
//! `./scripts/bench-stock.sh [--skus N] [--batch B] [--page P]` (release build, fresh
//! database; needs Postgres).
#[path = "support/usage.rs"]
mod usage;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAREHOUSES: [&str; 4] = ["W1", "W2", "W3", "W4"];
const TOKEN: &str = "bench-token";

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
    let skus = opt("--skus", 100_000) as usize;
    let batch = opt("--batch", 100);
    let page = opt("--page", 500);
    let bin = std::env::var("B1BRIDGE_BIN").unwrap_or_else(|_| "target/release/b1bridge".into());
    let admin_url = std::env::var("DATABASE_URL")?;
    let dir = std::env::temp_dir().join(format!("b1b-stock-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    eprintln!("seeding {skus} SKUs × {} warehouses…", WAREHOUSES.len());
    let sap_seed = dir.join("sap.json");
    std::fs::write(&sap_seed, sap_seed_json(skus)?)?;
    let magento_seed = dir.join("magento.json");
    std::fs::write(&magento_seed, magento_seed_json(skus)?)?;

    let (mut sap, sap_addr) = spawn_sim(
        Command::new(&bin)
            .args(["sim", "sap-b1", "--listen", "127.0.0.1:0", "--seed"])
            .arg(&sap_seed),
        "SAP B1",
    )?;
    let (mut magento, magento_addr) = match spawn_sim(
        Command::new(&bin)
            .args([
                "sim",
                "magento",
                "--listen",
                "127.0.0.1:0",
                "--token",
                TOKEN,
                "--seed",
            ])
            .arg(&magento_seed),
        "Magento",
    ) {
        Ok(started) => started,
        Err(e) => {
            let _ = sap.kill();
            return Err(e);
        }
    };
    let sap_url = format!("http://{sap_addr}/b1s/v1");
    let magento_url = format!("http://{magento_addr}/rest/default");
    let rt = tokio::runtime::Runtime::new()?;
    let db_name = format!("b1b_stock_bench_{}", std::process::id());
    let database_url = rt.block_on(create_database(&admin_url, &db_name))?;
    let result = rt.block_on(async {
        prepare_database(&database_url, batch, page).await?;
        let http = reqwest::Client::new();
        let full = run_child(
            &database_url,
            &sap_url,
            &magento_url,
            &sap_addr,
            &magento_addr,
            &http,
        )
        .await?;
        // 1 % of the items change in SAP (a receipt in a web warehouse).
        let changed = (skus / 100).max(1);
        for i in 0..changed {
            let item = item_code(i * (skus / changed));
            let res = http
                .post(format!("http://{sap_addr}/sim/control/stock"))
                .json(&json!({"item_code": item, "warehouse_code": "W1", "in_stock": 777}))
                .send()
                .await?;
            anyhow::ensure!(res.status().is_success(), "stock change refused");
        }
        let delta = run_child(
            &database_url,
            &sap_url,
            &magento_url,
            &sap_addr,
            &magento_addr,
            &http,
        )
        .await?;
        report(skus, batch, page, changed, &full, &delta);
        anyhow::Ok(())
    });
    let _ = sap.kill();
    let _ = magento.kill();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = rt.block_on(async {
        let admin = sqlx::PgPool::connect(&admin_url).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
            .execute(&admin)
            .await
    });
    result
}

/// A fresh database beside `DATABASE_URL`'s; returns its URL.
async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let admin = sqlx::PgPool::connect(admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await?;
    let mut url = url::Url::parse(admin_url)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

fn item_code(i: usize) -> String {
    format!("SKU-{i:06}")
}

fn sap_seed_json(skus: usize) -> anyhow::Result<String> {
    let mut seed: Value =
        serde_json::from_str(include_str!("../src/sim/sap_b1/default_seed.json"))?;
    seed["warehouses"] = json!(WAREHOUSES
        .iter()
        .map(|w| json!({"WarehouseCode": w, "WarehouseName": format!("Warehouse {w}"), "Inactive": "tNO"}))
        .collect::<Vec<_>>());
    seed["default_warehouse"] = json!("W1");
    let items: Vec<Value> = (0..skus)
        .map(|i| {
            let rows: Vec<Value> = WAREHOUSES
                .iter()
                .enumerate()
                .map(|(w, code)| {
                    json!({"WarehouseCode": code, "InStock": (i * 7 + w * 13) % 200,
                           "Committed": (i + w) % 5, "Ordered": 0})
                })
                .collect();
            json!({"ItemCode": item_code(i), "ItemName": format!("Item {i}"), "DefaultWarehouse": "W1",
                   "ItemWarehouseInfoCollection": rows})
        })
        .collect();
    seed["items"] = json!(items);
    Ok(seed.to_string())
}

fn magento_seed_json(skus: usize) -> anyhow::Result<String> {
    let mut seed: Value =
        serde_json::from_str(include_str!("../src/sim/magento/default_seed.json"))?;
    seed["products"] = json!((0..skus)
        .map(|i| json!({"id": i + 1, "sku": item_code(i), "price": 10}))
        .collect::<Vec<_>>());
    // Magento always has the `default` source; the web stock sells from two others.
    seed["sources"] = json!([{"source_code": "default", "name": "Default Source"},
                             {"source_code": "src_a", "name": "A"}, {"source_code": "src_b", "name": "B"}]);
    seed["stocks"] = json!([{"stock_id": 1, "name": "Default Stock", "source_codes": ["default", "src_a", "src_b"]}]);
    seed["source_items"] = json!([]);
    seed["orders"] = json!([]);
    Ok(seed.to_string())
}

/// Starts a simulator and reads the address it prints.
fn spawn_sim(cmd: &mut Command, name: &str) -> anyhow::Result<(Child, String)> {
    let mut child = cmd
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
    let addr = line
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| anyhow::anyhow!("{name} simulator printed no address: {line}"))?
        .to_owned();
    Ok((child, addr))
}

async fn prepare_database(url: &str, batch: u64, page: u64) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(url).await?;
    b1bridge::store::migrate(&pool).await?;
    let mut conn = pool.acquire().await?;
    for (code, source, include) in [
        ("W1", Some("src_a"), true),
        ("W2", Some("src_a"), true),
        ("W3", Some("src_b"), true),
        ("W4", None, false),
    ] {
        let value = b1bridge::domain::mappings::MappingKind::Warehouses.parse_value(
            &json!({"magento_source_code": source, "include_in_stock": include, "order_default": code == "W1"}),
        ).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        b1bridge::store::mappings::record(&mut conn, code, &value, "bench").await?;
    }
    let settings = b1bridge::domain::settings::Settings {
        stock_batch_size: batch as u32,
        stock_sap_page_size: page as u32,
        ..Default::default()
    };
    b1bridge::store::settings::replace(&pool, &settings, "bench").await?;
    Ok(())
}

/// One sync in a child process; returns its report with the simulators' request counts.
async fn run_child(
    db: &str,
    sap_url: &str,
    magento_url: &str,
    sap_addr: &str,
    magento_addr: &str,
    http: &reqwest::Client,
) -> anyhow::Result<Value> {
    let sap_before = sap_requests(http, sap_addr).await?;
    http.delete(format!("http://{magento_addr}/sim/control/stats"))
        .send()
        .await?;
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let out = Command::new(exe)
        .args(["--child", db, sap_url, magento_url])
        .stderr(Stdio::inherit())
        .output()?;
    anyhow::ensure!(out.status.success(), "the sync child failed");
    let mut report: Value = serde_json::from_slice(&out.stdout)?;
    report["process_wall_ms"] = json!(started.elapsed().as_millis() as u64);
    report["sap_requests"] = json!(sap_requests(http, sap_addr).await? - sap_before);
    let stats: Value = http
        .get(format!("http://{magento_addr}/sim/control/stats"))
        .send()
        .await?
        .json()
        .await?;
    report["magento_stats"] = stats;
    Ok(report)
}

async fn sap_requests(http: &reqwest::Client, addr: &str) -> anyhow::Result<u64> {
    let stats: Value = http
        .get(format!("http://{addr}/sim/control/stats"))
        .send()
        .await?
        .json()
        .await?;
    // Data requests only: the child's Login and Logout are not reads of stock.
    let all = stats["requests"].as_u64().unwrap_or(0);
    let by_path = &stats["requests_by_path"];
    let session = by_path["POST /b1s/v1/Login"].as_u64().unwrap_or(0)
        + by_path["POST /b1s/v1/Logout"].as_u64().unwrap_or(0);
    Ok(all - session)
}

fn report(skus: usize, batch: u64, page: u64, changed: usize, full: &Value, delta: &Value) {
    println!("stock sync benchmark: {skus} SKUs × 4 warehouses (2 sources), batch {batch}, SAP page {page}");
    println!(
        "| run | SKU/sources changed | SAP requests | bound ⌈items/page⌉ | Magento requests | bound ⌈changed/batch⌉ | wall | CPU | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, r) in [("full", full), ("delta (1 % of items)", delta)] {
        let f = &r["figures"];
        let changed_rows = f["changed"].as_u64().unwrap_or(0);
        println!(
            "| {name} | {changed_rows} | {} | {} | {} | {} | {:.2} s | {:.2} s | {:.1} MB |",
            r["sap_requests"],
            (skus as u64).div_ceil(page),
            f["magento_requests"],
            changed_rows.div_ceil(batch),
            r["wall_ms"].as_f64().unwrap_or(0.0) / 1000.0,
            r["cpu_ms"].as_f64().unwrap_or(0.0) / 1000.0,
            r["max_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0,
        );
    }
    eprintln!("items changed in SAP before the delta: {changed}");
    eprintln!(
        "magento simulator stats (delta): {}",
        delta["magento_stats"]
    );
}

/// The child: one stock sync run, then its own figures as JSON on stdout.
fn child(args: &[String]) -> anyhow::Result<()> {
    let [db, sap_url, magento_url] = args else {
        anyhow::bail!("--child DB SAP_URL MAGENTO_URL");
    };
    let rt = tokio::runtime::Runtime::new()?;
    let started = Instant::now();
    let run = rt.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect(db)
            .await?;
        let sap = b1bridge::config::SapSettings::from_raw(
            Some(sap_url),
            Some("SBODEMOGB"),
            Some("manager"),
            Some(&secrecy::SecretString::from("1234")),
            None,
            None,
        )?;
        let sap = b1bridge::sap::SapClient::new(&sap)?;
        let magento = b1bridge::config::MagentoSettings::from_raw(
            Some(magento_url),
            Some(&secrecy::SecretString::from(TOKEN)),
        )?;
        let publisher = b1bridge::worker::stock_sync::magento_publisher(&magento)?;
        let task = b1bridge::worker::stock_sync::StockSync::new(sap.clone(), publisher);
        let run = b1bridge::worker::run_job::run_here(
            &pool,
            b1bridge::domain::run::RunKind::StockSync,
            b1bridge::domain::run::RunTrigger::Cli,
            "bench",
            task,
        )
        .await?;
        let _ = sap.logout().await;
        anyhow::ensure!(
            run.status == b1bridge::domain::run::RunStatus::Succeeded,
            "run failed: {:?}",
            run.error
        );
        anyhow::Ok(run)
    })?;
    let wall = started.elapsed();
    let usage = rusage();
    let out = json!({
        "figures": run.figures,
        "wall_ms": wall.as_millis() as u64,
        "cpu_ms": usage.0.as_millis() as u64,
        "max_rss_kb": usage.1,
    });
    std::io::stdout().write_all(out.to_string().as_bytes())?;
    Ok(())
}

/// CPU time (user + system) and peak RSS (kB) of this process.
fn rusage() -> (Duration, i64) {
    (usage::cpu(), usage::peak_rss_kb())
}
