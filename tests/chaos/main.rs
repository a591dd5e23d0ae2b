//! The chaos and soak run (issue 16): thousands of signed orders, cancellations and refunds
//! through two `b1bridge serve` processes and one `b1bridge worker` on one private Postgres,
//! against the SAP B1 and Magento simulators, while processes are SIGKILLed and restarted,
//! Postgres crashes and comes back, SAP goes down and loses its sessions, SAP answers with
//! lock storms, 5xx and lost responses, and Magento goes down during a stock, a price and a
//! status run. When everything has drained it checks that nothing was lost or done twice and
//! prints the figures; any violation exits non-zero. Loopback only, bounded in time.
//!
//! `cargo test --test chaos` runs the short version (scripts/test.sh); the long one:
//! `CHAOS_ORDERS=5000 cargo test --release --test chaos` (README, "Chaos").
mod checks;
mod cluster;
mod load;

use b1bridge::config::WebhookKey;
use b1bridge::demo::postgres::PrivatePostgres;
use b1bridge::demo::scenario::Ids;
use b1bridge::domain::retry::{RetrySchedule, RetrySchedules};
use b1bridge::sim::magento::{MagentoFaults, MagentoSimConfig, MagentoSimState};
use b1bridge::sim::sap_b1::{Faults, SapSimConfig, SapSimState, Seed};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

use cluster::{Process, Served};
use load::Shop;

/// `SAP_B1_MAX_CONCURRENCY` of every process: small, so the limit is reached all the time.
const SAP_LIMIT: u64 = 2;
/// The item whose price and stock the run changes in SAP, besides the orders' own.
const CHANGED_ITEMS: [&str; 3] = ["24-MB01", "24-MB02", "24-WB04"];

struct Config {
    orders: usize,
    /// Orders sent per second (the faults are spread over the sending).
    rate: f64,
    seed: u64,
    drain: Duration,
}

impl Config {
    fn from_env() -> Self {
        let num = |name: &str, default: f64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(default)
        };
        let orders = num("CHAOS_ORDERS", 300.0) as usize;
        Self {
            orders,
            rate: num("CHAOS_RATE", 6.0),
            seed: num("CHAOS_SEED", 20_261_203.0) as u64,
            drain: Duration::from_secs(num("CHAOS_DRAIN_SECS", 240.0 + orders as f64 / 10.0) as u64),
        }
    }
}

/// Faults injected, by kind, as the harness did them (the simulators count their own).
#[derive(Default)]
struct Injected {
    kills: BTreeMap<String, u32>,
    postgres_restarts: u32,
    sap_down: u32,
    sap_session_expiries: u32,
    magento_down_runs: Vec<String>,
    phases: Vec<String>,
}

fn main() -> std::process::ExitCode {
    // `cargo test` passes a filter and libtest flags to every test binary: a filter that does
    // not name this run, or `--list`, runs nothing.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list")
        || args
            .iter()
            .any(|a| !a.starts_with('-') && !"chaos".contains(a.as_str()))
    {
        return std::process::ExitCode::SUCCESS;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match runtime.block_on(run(Config::from_env())) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("chaos: the run could not complete: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn say(text: &str) {
    println!("chaos: {text}");
}

/// Retries in tens to hundreds of milliseconds, so that a run with faults drains in minutes.
fn fast_retries() -> RetrySchedules {
    let fast = RetrySchedule {
        base: Duration::from_millis(100),
        cap: Duration::from_secs(2),
        max_attempts: 200,
        max_age: Duration::from_secs(3600),
    };
    RetrySchedules {
        locked: fast,
        transient: fast,
        ambiguous_wait: Duration::from_millis(300),
    }
}

fn secret() -> String {
    use base64::Engine;
    let key: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

struct World {
    pg: Arc<PrivatePostgres>,
    pool: sqlx::PgPool,
    sap: Served<SapSimState>,
    magento: Served<MagentoSimState>,
    processes: Vec<Process>,
    http: reqwest::Client,
    admin: String,
    injected: Injected,
    started: Instant,
}

async fn run(config: Config) -> anyhow::Result<bool> {
    let started = Instant::now();
    say(&format!(
        "{} orders at {}/s, seed {}, SAP_B1_MAX_CONCURRENCY={SAP_LIMIT} per process",
        config.orders, config.rate, config.seed
    ));
    let pg = Arc::new(tokio::task::spawn_blocking(PrivatePostgres::start).await??);
    // The processes' logs: kept when the run fails (the Postgres directory is deleted).
    let dir = std::env::temp_dir().join(format!("b1bridge-chaos-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    say(&format!("private Postgres at {}", pg.url()));
    let company = Seed::default_seed();
    let shop = b1bridge::demo::company::demo_shop_seed(&company);
    let sap = cluster::start_sap(SapSimState::new(SapSimConfig {
        seed: company,
        faults: Faults {
            latency_ms: 2,
            seed: config.seed,
            ..Faults::default()
        },
        ..SapSimConfig::default()
    })?)
    .await?;
    let magento_token = format!("chaos-magento-{}", rand::random::<u64>());
    let magento = cluster::start_magento(
        MagentoSimState::new(MagentoSimConfig::new(&magento_token).with_seed(shop))
            .map_err(anyhow::Error::msg)?,
    )
    .await?;

    let webhook = secret();
    let admin = format!("chaos-admin-{}", rand::random::<u64>());
    let common = vec![
        ("DATABASE_URL".to_owned(), pg.url()),
        ("SAP_B1_URL".into(), format!("{}/b1s/v1", sap.root_url())),
        ("SAP_B1_COMPANY_DB".into(), "SBODEMOGB".into()),
        ("SAP_B1_USERNAME".into(), "manager".into()),
        ("SAP_B1_PASSWORD".into(), "1234".into()),
        ("SAP_B1_MAX_CONCURRENCY".into(), SAP_LIMIT.to_string()),
        (
            "MAGENTO_URL".into(),
            format!("{}/rest/default", magento.root_url()),
        ),
        ("MAGENTO_TOKEN".into(), magento_token.clone()),
        ("B1BRIDGE_WORKER_LEASE_SECS".into(), "3".into()),
        (
            "B1BRIDGE_RETRY_SCHEDULES".into(),
            serde_json::to_string(&fast_retries())?,
        ),
        ("B1BRIDGE_STOCK_SYNC_SECS".into(), "5".into()),
        ("B1BRIDGE_STATUS_SYNC_SECS".into(), "2".into()),
        ("B1BRIDGE_PRICE_SYNC_SECS".into(), "8".into()),
        ("B1BRIDGE_BACKFILL_SECS".into(), "60".into()),
        ("B1BRIDGE_RECONCILE_SECS".into(), "604800".into()),
    ];
    let mut processes = Vec::new();
    for name in ["serve-a", "serve-b"] {
        let port = cluster::free_port()?;
        let mut env = common.clone();
        env.push(("B1BRIDGE_LISTEN".into(), format!("127.0.0.1:{port}")));
        env.push(("B1BRIDGE_WEBHOOK_SECRETS".into(), webhook.clone()));
        env.push((
            "B1BRIDGE_API_TOKENS".into(),
            format!("chaos-admin:admin:{admin}"),
        ));
        let url = format!("http://127.0.0.1:{port}");
        processes.push(Process::new(name, &["serve"], env, Some(url), &dir));
    }
    processes.push(Process::new("worker", &["worker"], common, None, &dir));

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    // The first process migrates; the others start once it serves.
    processes[0].spawn()?;
    let first = processes[0].url.clone().unwrap_or_default();
    if !cluster::wait_healthy(&http, &first, Duration::from_secs(120)).await {
        anyhow::bail!("serve-a did not start: {}", processes[0].log_tail(30));
    }
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&pg.url())
        .await?;
    b1bridge::demo::configure_mappings(&http, &first, &admin).await?;
    configure_settings(&http, &first, &admin).await?;
    for p in &mut processes[1..] {
        p.spawn()?;
    }
    let apps: Vec<String> = processes.iter().filter_map(|p| p.url.clone()).collect();
    for app in &apps {
        if !cluster::wait_healthy(&http, app, Duration::from_secs(120)).await {
            anyhow::bail!("{app} did not start");
        }
    }
    let shop = Shop::new(
        apps,
        WebhookKey::parse(&webhook).map_err(anyhow::Error::msg)?,
        WebhookKey::parse(&secret()).map_err(anyhow::Error::msg)?,
    );
    let world = Arc::new(Mutex::new(World {
        pg,
        pool: pool.clone(),
        sap,
        magento,
        processes,
        http,
        admin,
        injected: Injected::default(),
        started,
    }));

    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let traffic = tokio::spawn(drive_traffic(
        shop.clone(),
        world.clone(),
        config.orders,
        config.rate,
        config.seed,
        sent.clone(),
    ));
    let chaos = tokio::spawn(make_chaos(world.clone(), config.orders, config.seed, sent));
    traffic.await?;
    chaos.await??;
    say(&format!(
        "all {} orders sent after {:.0} s; draining",
        config.orders,
        started.elapsed().as_secs_f64()
    ));
    let ok = checks::drain_and_check(&world, &shop, config.drain).await?;
    let mut w = world.lock().await;
    for p in &mut w.processes {
        p.terminate();
    }
    pool.close().await;
    if ok {
        let _ = std::fs::remove_dir_all(&dir);
        say(&format!(
            "PASSED after {:.0} s",
            started.elapsed().as_secs_f64()
        ));
    } else {
        say(&format!(
            "FAILED after {:.0} s; the processes' logs are in {}",
            started.elapsed().as_secs_f64(),
            dir.display()
        ));
    }
    Ok(ok)
}

/// The settings a shop of these samples needs: SAP's rounding of one sample differs from
/// Magento's by a cent; prices go to the default (global) price scope from list 1; refunds
/// have an adjustment item; the guard rail lets the simulator shop's first prices through.
async fn configure_settings(http: &reqwest::Client, app: &str, admin: &str) -> anyhow::Result<()> {
    b1bridge::demo::change_settings(http, app, admin, |settings| {
        settings["total_tolerance"] = json!("0.01");
        settings["price_routes"] = json!([{"price_list": 1, "store_id": 0, "currency": "USD"}]);
        settings["price_max_change_percent"] = json!("1000");
        settings["refunds"]["adjustment_item_code"] = json!("240-LV08");
        settings["refunds"]["returns_warehouse"] = json!("02");
        settings["refunds"]["recheck_interval_secs"] = json!(1);
    })
    .await
}

/// Orders at `rate` per second, with their cancellations (one in 10: half at once, half once
/// posted), refunds (one in 20, once posted and invoiced in SAP) and bad deliveries.
async fn drive_traffic(
    shop: Shop,
    world: Arc<Mutex<World>>,
    orders: usize,
    rate: f64,
    seed: u64,
    sent: Arc<std::sync::atomic::AtomicUsize>,
) {
    let mut ids = Ids::new(seed);
    let lanes = Arc::new(Semaphore::new(16));
    let (sap, pool) = {
        let w = world.lock().await;
        (w.sap.state.clone(), w.pool.clone())
    };
    let mut tasks = tokio::task::JoinSet::new();
    let pace = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let start = tokio::time::Instant::now();
    for n in 0..orders {
        tokio::time::sleep_until(start + pace * n as u32).await;
        let (order, unknown) = load::order(n, &mut ids);
        let permit = lanes.clone().acquire_owned().await.expect("open");
        let (shop, sap_state, pool) = (shop.clone(), sap.clone(), pool.clone());
        tasks.spawn(async move {
            let sap = sap_state;
            let _permit = permit;
            let id = order["increment_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            shop.place(&order, unknown).await;
            if n % 15 == 5 {
                shop.forged(&order).await;
            }
            if n % 40 == 13 {
                shop.malformed(n / 40).await;
            }
            if n % 20 == 3 {
                shop.cancel(&id).await;
            } else if n % 20 == 13 || n % 20 == 4 {
                drop(_permit);
                let posted = checks::wait_posted(&pool, &id, Duration::from_secs(120)).await;
                match posted {
                    Some(_) if n % 20 == 13 => shop.cancel(&id).await,
                    Some(entry) => {
                        // The shop invoices, then refunds in full: SAP's invoice first.
                        let invoiced = receive_goods_for(&sap, entry).and_then(|()| {
                            sap.create_invoice(b1bridge::sim::sap_b1::InvoiceBase::Order(entry))
                        });
                        match invoiced {
                            Ok(_) => shop.refund(&order, 500_000 + n as i64).await,
                            Err(e) => {
                                shop.violation(format!("{id}: SAP refused the invoice: {e:?}"))
                            }
                        }
                    }
                    // Posting it is the check's business; not reaching it here only means
                    // no later event for it.
                    None => {}
                }
            }
        });
        sent.store(n + 1, std::sync::atomic::Ordering::SeqCst);
        // Prices and stock move in SAP while the orders come in.
        if n % 50 == 25 {
            let item = CHANGED_ITEMS[(n / 50) % CHANGED_ITEMS.len()];
            let _ = sap.set_item_price(item, 1, rust_decimal::Decimal::from(20 + (n % 37) as i64));
            let _ = sap.set_stock(
                item,
                "01",
                rust_decimal::Decimal::from(100 + (n % 53) as i64),
            );
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// A goods receipt in SAP for what order `entry` still needs on hand to be invoiced: over a
/// long run the samples sell more than the seed's stock, and B1 refuses to invoice into
/// negative inventory.
fn receive_goods_for(
    sap: &SapSimState,
    entry: i64,
) -> Result<(), b1bridge::sim::sap_b1::ServiceLayerError> {
    let Some(order) = sap.order(entry) else {
        return Ok(());
    };
    for line in &order.document_lines {
        let Some(item) = sap.item(&line.item_code) else {
            continue;
        };
        let on_hand = item
            .item_warehouse_info_collection
            .iter()
            .find(|w| w.warehouse_code == line.warehouse_code)
            .map(|w| w.in_stock)
            .unwrap_or_default();
        if item.inventory_item.is_yes() && on_hand < line.quantity {
            let receipt = line.quantity * rust_decimal::Decimal::from(100);
            sap.set_stock(&line.item_code, &line.warehouse_code, on_hand + receipt)?;
        }
    }
    Ok(())
}

/// The faults, at moments spread over the sending (random within their slot, from the run's
/// seed): ≥ 5 kills, a Postgres crash, SAP down and its sessions expired, lock storms, 5xx and
/// lost responses, and Magento down during a stock, a price and a status run.
async fn make_chaos(
    world: Arc<Mutex<World>>,
    orders: usize,
    seed: u64,
    sent: Arc<std::sync::atomic::AtomicUsize>,
) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    #[derive(Debug, Clone, Copy)]
    enum Act {
        Kill,
        LockStorm,
        ServerErrors,
        LostResponses,
        Postgres,
        SapDown,
        ExpireSessions,
        MagentoStock,
        MagentoPrice,
        MagentoStatus,
    }
    use Act::*;
    let plan = [
        LockStorm,
        Kill,
        ServerErrors,
        Postgres,
        Kill,
        SapDown,
        LostResponses,
        Kill,
        MagentoStock,
        Kill,
        MagentoPrice,
        ExpireSessions,
        Kill,
        MagentoStatus,
        Kill,
    ];
    let slot = 1.0 / plan.len() as f64;
    for (i, act) in plan.iter().enumerate() {
        let at = ((i as f64 + rng.gen_range(0.1..0.9)) * slot * orders as f64) as usize;
        while sent.load(std::sync::atomic::Ordering::SeqCst) < at.min(orders.saturating_sub(1)) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut w = world.lock().await;
        let t = w.started.elapsed().as_secs_f64();
        match act {
            Kill => {
                let victim = rng.gen_range(0..w.processes.len());
                let name = w.processes[victim].name.clone();
                w.processes[victim].kill();
                *w.injected.kills.entry(name.clone()).or_default() += 1;
                let pause = Duration::from_millis(rng.gen_range(200..2000));
                say(&format!("{t:.0} s: SIGKILL {name}, back in {pause:?}"));
                tokio::time::sleep(pause).await;
                w.processes[victim].spawn()?;
            }
            LockStorm | ServerErrors | LostResponses => {
                let faults = match act {
                    LockStorm => Faults {
                        lock_error_rate: 0.6,
                        ..Faults::default()
                    },
                    ServerErrors => Faults {
                        server_error_rate: 0.25,
                        ..Faults::default()
                    },
                    _ => Faults {
                        lost_response_rate: 0.15,
                        ..Faults::default()
                    },
                };
                let faults = Faults {
                    latency_ms: 2,
                    seed: rng.gen(),
                    ..faults
                };
                say(&format!("{t:.0} s: SAP {act:?} for 6 s"));
                w.sap.state.set_faults(faults).map_err(anyhow::Error::msg)?;
                w.injected.phases.push(format!("{act:?}"));
                let sap = w.sap.state.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(6)).await;
                    let _ = sap.set_faults(Faults {
                        latency_ms: 2,
                        ..Faults::default()
                    });
                });
            }
            Postgres => {
                say(&format!(
                    "{t:.0} s: Postgres crashes (immediate stop), down 3 s"
                ));
                let pg = w.pg.clone();
                tokio::task::spawn_blocking(move || pg.crash_and_restart(Duration::from_secs(3)))
                    .await??;
                w.injected.postgres_restarts += 1;
            }
            SapDown => {
                say(&format!(
                    "{t:.0} s: SAP down for 5 s, then back with every session expired"
                ));
                w.sap.down();
                tokio::time::sleep(Duration::from_secs(5)).await;
                w.sap.state.expire_all_sessions();
                w.sap.up().await?;
                w.injected.sap_down += 1;
                w.injected.sap_session_expiries += 1;
            }
            ExpireSessions => {
                say(&format!("{t:.0} s: every SAP session expires"));
                w.sap.state.expire_all_sessions();
                w.injected.sap_session_expiries += 1;
            }
            MagentoStock | MagentoPrice | MagentoStatus => {
                let w = &mut *w;
                let what = magento_down_during(w, *act as u8 - MagentoStock as u8).await?;
                say(&format!("{t:.0} s: {what}"));
                w.injected.magento_down_runs.push(what);
            }
        }
    }
    Ok(())
}

/// Takes Magento down while a run of the kind `which` (0 stock, 1 price, 2 status) is
/// running: stock and price runs are started through the API, the status run by its 2 s
/// schedule. Maintenance mode (503) for stock and status, the server gone (connections
/// refused) for prices. Answers what happened to the run.
async fn magento_down_during(w: &mut World, which: u8) -> anyhow::Result<String> {
    let (kind, path) = match which {
        0 => ("stock_sync", Some("/api/v1/stock/sync")),
        1 => ("price_sync", Some("/api/v1/prices/sync")),
        _ => ("status_sync", None),
    };
    let since: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(&w.pool)
        .await?;
    let app = w
        .processes
        .iter()
        .find_map(|p| p.url.clone())
        .unwrap_or_default();
    // Something to publish, so the run needs Magento.
    let item = CHANGED_ITEMS[usize::from(which) % CHANGED_ITEMS.len()];
    let bump = rust_decimal::Decimal::from(7 + i64::from(which));
    let _ = w.sap.state.set_item_price(item, 1, bump);
    let _ = w.sap.state.set_stock(item, "01", bump);
    if which == 1 {
        w.magento.down();
    } else {
        w.magento
            .state
            .set_faults(MagentoFaults {
                down: true,
                ..MagentoFaults::default()
            })
            .map_err(anyhow::Error::msg)?;
    }
    if let Some(path) = path {
        // 409 while a scheduled one runs: that one then meets Magento down instead.
        let _ = w
            .http
            .post(format!("{app}{path}"))
            .bearer_auth(&w.admin)
            .send()
            .await;
    }
    // Until a run of that kind that started in the window has ended, or 20 s.
    let pool = w.pool.clone();
    let ended = b1bridge::demo::traffic::wait(Duration::from_secs(20), || async {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM runs WHERE kind = $1 AND finished_at >= $2")
                .bind(kind)
                .bind(since)
                .fetch_one(&pool)
                .await
                .unwrap_or(0);
        n > 0
    })
    .await;
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT status FROM runs WHERE kind = $1
           AND (finished_at >= $2 OR status IN ('queued', 'running')) ORDER BY created_at",
    )
    .bind(kind)
    .bind(since)
    .fetch_all(&w.pool)
    .await
    .unwrap_or_default();
    if which == 1 {
        w.magento.up().await?;
    } else {
        w.magento
            .state
            .set_faults(MagentoFaults::default())
            .map_err(anyhow::Error::msg)?;
    }
    Ok(format!(
        "Magento {} during a {kind} run: runs in the window {statuses:?}{}",
        if which == 1 {
            "gone"
        } else {
            "in maintenance (503)"
        },
        if ended {
            ""
        } else {
            " (none ended within 20 s)"
        }
    ))
}
