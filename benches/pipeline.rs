//! Order pipeline benchmark (`./scripts/bench-pipeline.sh`): how many orders per second the
//! worker pool posts to SAP from a pre-filled outbox, against the SAP B1 simulator answering
//! every request after a latency L, with at most C Service Layer requests at once
//! (`SAP_B1_MAX_CONCURRENCY`).
//!
//! SAP's latency bounds throughput at C / (requests per order × L): the table shows the
//! measured rate next to that ideal and their ratio, the SAP requests per order and the most
//! requests the simulator ever saw at once (must be ≤ C). A last run adds 20 % lock errors
//! and checks that every order is still in SAP exactly once.
//!
//! Each run uses a fresh database and simulator, with the simulator's mappings configured as an
//! operator would. A warm-up posts 6 × C orders first, every sample among them (item master
//! cached, customers mapped, the Postgres and HTTP connections of a full window open), then the
//! timed orders are queued with no worker running and the clock runs from the pool's start
//! until the outbox is empty.
//!
//! Where the time goes, in figures that hardly depend on the machine's load: the time the
//! client spent per SAP request (from sending to the whole answer read, so L plus HTTP; the
//! simulator's own work counts within L, as a Service Layer's does), and how long, per order,
//! a SAP slot stood idle (C × elapsed minus the time requests held slots): that is the pool's
//! own overhead (Postgres, claims, wake-ups).
//! `--profile` also counts the Postgres statements per order by kind (sqlx's statement log,
//! which costs CPU: the throughput of a profiled run is not the one to quote).
//!
//! Then the latency run: with the pool running (C = 4, L = `--latency-run-ms`, 50 ms by
//! default), orders arrive through intake at half the ideal rate for `--seconds`, and each
//! order's time from the webhook's acceptance (its event committed) to its Sales Order created
//! in SAP and recorded (its post job finished) gives p50 and p99.
//!
//! With `--worker-processes 1,2,4` it measures scale-out instead: the timed orders are queued,
//! then M real `b1bridge worker` processes, each with `SAP_B1_MAX_CONCURRENCY` = C (every C of
//! `--concurrency`), drain them. Each process has its own SAP session and limit, so SAP sees
//! up to M × C requests at once and the ideal is M × C / (requests per order × L). The rate is
//! taken on Postgres' clock between the first and the last post job finished (process start-up
//! and login excluded); CPU is the worker processes' own (getrusage of the waited children).
#[path = "support/statements.rs"]
mod statements;
#[path = "support/usage.rs"]
mod usage;
use b1bridge::config::SapSettings;
use b1bridge::instruments::{JOB_ATTEMPTS, SAP_REQUEST_SECONDS};
use b1bridge::magento::envelope::parse_event;
use b1bridge::sap::SapClient;
use b1bridge::sim::sap_b1::{self, Faults, SapSimConfig, SapSimHandle};
use b1bridge::store::intake::{self, Delivery};
use b1bridge::worker::{pipeline, Handlers, WorkerPool};
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use statements::Statements;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const SAMPLES: [&str; 6] = [
    "rest-order-guest-configurable.json",
    "rest-order-guest-coupon-full-discount.json",
    "rest-order-registered-bundle-configurable-downloadable.json",
    "rest-order-registered-configurable-multiitem-tax.json",
    "rest-order-registered-discount-multiitem-tax-histories.json",
    "rest-orders-search-guest-discount-tax.json",
];

struct Args {
    latency_ms: u64,
    latency_run_ms: u64,
    concurrency: Vec<usize>,
    seconds: f64,
    lock_rate: f64,
    /// Scale-out mode: worker process counts (empty: the in-process runs).
    worker_processes: Vec<usize>,
    admin_url: String,
    /// Count Postgres statements per order (`--profile`).
    profile: Option<Statements>,
}

fn args() -> Args {
    let mut a = Args {
        latency_ms: 20,
        latency_run_ms: 50,
        concurrency: vec![1, 4, 8],
        seconds: 5.0,
        lock_rate: 0.2,
        worker_processes: Vec::new(),
        admin_url: std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        profile: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--latency-ms" => a.latency_ms = value().parse().expect("--latency-ms N"),
            "--latency-run-ms" => {
                a.latency_run_ms = value().parse().expect("--latency-run-ms N (0 skips it)")
            }
            "--concurrency" => {
                a.concurrency = value()
                    .split(',')
                    .map(|c| c.trim().parse().expect("--concurrency 1,4,8"))
                    .collect()
            }
            "--seconds" => a.seconds = value().parse().expect("--seconds N"),
            "--lock-rate" => a.lock_rate = value().parse().expect("--lock-rate 0.2"),
            "--worker-processes" => {
                a.worker_processes = value()
                    .split(',')
                    .map(|m| m.trim().parse().expect("--worker-processes 1,2,4"))
                    .collect()
            }
            "--profile" => a.profile = Some(Statements::install()),
            "--bench" => {}
            other => panic!(
                "unknown argument {other}; use --latency-ms N --concurrency 1,4,8 --seconds N --lock-rate R --latency-run-ms N --worker-processes 1,2,4 --profile"
            ),
        }
    }
    a
}

/// One measured run.
struct Run {
    concurrency: usize,
    lock_rate: f64,
    orders: usize,
    elapsed: Duration,
    requests_per_order: f64,
    max_concurrent: u64,
    exactly_once: bool,
    lock_errors: u64,
    /// CPU time of this process (the pool and the in-process simulator) while draining.
    cpu: Duration,
    /// Time SAP requests held a slot (client side, sending to the answer read).
    sap_busy: Duration,
    /// Postgres statements by kind, with `--profile`.
    statements: BTreeMap<String, u64>,
}

fn sample(file: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/magento/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap();
    if v.get("total_count").is_some() {
        v["items"][0].clone()
    } else {
        v
    }
}

async fn place(pool: &PgPool, template: &Value, increment_id: &str) {
    let mut order = template.clone();
    order["increment_id"] = json!(increment_id);
    let body =
        serde_json::to_vec(&json!({"type": "order.placed", "data": {"order": order}})).unwrap();
    let event = parse_event(&body).expect("usable event");
    let webhook_id = format!("bench_{increment_id}");
    let delivery = Delivery {
        webhook_id: &webhook_id,
        webhook_timestamp: chrono::Utc::now(),
        headers: json!({}),
        body: &body,
    };
    intake::record_order_event(pool, &delivery, &event)
        .await
        .expect("intake");
}

async fn busy_jobs(pool: &PgPool) -> i64 {
    sqlx::query_scalar(&format!(
        "{} SELECT count(*) FROM outbox WHERE status IN ('pending', 'running')",
        statements::PROBE
    ))
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Runs a pool with `handlers` until the outbox is empty; returns how long that took.
///
/// `expected` jobs are to finish. Once the pool has counted that many done, the outbox is
/// empty a commit later, so Postgres is asked only then (every millisecond) and otherwise only
/// every 50 ms (jobs that end parked are not counted done): asking it every few milliseconds
/// throughout would take Postgres time from the pool being measured.
async fn drain(
    pool: &PgPool,
    handlers: &Handlers,
    concurrency: usize,
    expected: usize,
) -> Duration {
    let config = pipeline::worker_config(concurrency, Duration::from_secs(60));
    let worker = WorkerPool::new(pool.clone(), handlers.clone(), config);
    let (stop, stopped) = oneshot::channel::<()>();
    let target = jobs_done() + expected as u64;
    let started = Instant::now();
    let task = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    let mut asked = Instant::now();
    loop {
        if jobs_done() >= target || asked.elapsed() >= Duration::from_millis(50) {
            if busy_jobs(pool).await == 0 {
                break;
            }
            asked = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    task.await.expect("pool stops");
    elapsed
}

/// Jobs the pools of this process have finished, by the worker's own counter.
fn jobs_done() -> u64 {
    JOB_ATTEMPTS
        .values()
        .iter()
        .filter(|(labels, _)| labels.get(1).is_some_and(|l| l == "done"))
        .map(|(_, n)| n)
        .sum()
}

fn requests(sim: &SapSimHandle) -> u64 {
    sim.stats()
        .requests_by_path
        .iter()
        .filter(|(path, _)| !path.ends_with("/Login") && !path.ends_with("/Logout"))
        .map(|(_, n)| n)
        .sum()
}

/// A fresh database (migrated, the simulator's mappings configured), a simulator answering
/// after `latency_ms` with `lock_rate` lock errors, and a client allowed `concurrency`
/// requests at once. `finish` drops the database.
struct Bench {
    admin: PgPool,
    name: String,
    url: String,
    pool: PgPool,
    sim: SapSimHandle,
    sap: SapClient,
}

impl Bench {
    async fn new(args: &Args, concurrency: usize, latency_ms: u64, lock_rate: f64) -> Self {
        let name = format!("b1b_bench_{}", uuid::Uuid::new_v4().simple());
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&args.admin_url)
            .await
            .expect("Postgres reachable (DATABASE_URL)");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        let mut url = url::Url::parse(&args.admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        let pool = PgPoolOptions::new()
            .max_connections(concurrency as u32 * 2 + 4)
            .connect(url.as_str())
            .await
            .unwrap();
        b1bridge::store::migrate(&pool).await.unwrap();
        for entry in sap_b1::default_seed_mappings() {
            b1bridge::store::mappings::upsert(&pool, &entry.key, &entry.value, "bench")
                .await
                .unwrap();
        }
        // Magento's line tax is sent, so every sample posts (order 15's SAP rounding would
        // otherwise be held as total_mismatch before posting, by design).
        let money = b1bridge::domain::settings::Settings {
            tax_strategy: b1bridge::domain::settings::TaxStrategy::MagentoLineTax,
            ..Default::default()
        };
        b1bridge::store::settings::replace(&pool, &money, "bench")
            .await
            .unwrap();
        let sim = sap_b1::spawn(SapSimConfig {
            faults: Faults {
                latency_ms,
                lock_error_rate: lock_rate,
                seed: 7,
                ..Faults::default()
            },
            ..SapSimConfig::default()
        })
        .await
        .unwrap();
        let settings = SapSettings::from_raw(
            Some(&sim.base_url()),
            Some("SBODEMOGB"),
            Some("manager"),
            Some(&SecretString::from("1234")),
            None,
            Some(&concurrency.to_string()),
        )
        .unwrap();
        let sap = SapClient::new(&settings).unwrap();
        Self {
            admin,
            name,
            url: url.to_string(),
            pool,
            sim,
            sap,
        }
    }

    async fn finish(self) {
        let _ = self.sap.logout().await;
        drop(self.sim);
        self.pool.close().await;
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&self.admin)
            .await
            .unwrap();
    }
}

async fn run(args: &Args, concurrency: usize, lock_rate: f64, orders: usize) -> Run {
    let bench = Bench::new(args, concurrency, args.latency_ms, lock_rate).await;
    let (pool, sim, sap) = (&bench.pool, &bench.sim, &bench.sap);
    let handlers = pipeline::order_handlers(sap.clone());
    let templates: Vec<Value> = SAMPLES.iter().map(|f| sample(f)).collect();

    // Enough orders to fill the pool's window a few times, so that the timed run starts with
    // the Postgres and HTTP connections a long-running worker has open.
    let warm = templates.len().max(concurrency * 6);
    for n in 0..warm {
        place(
            pool,
            &templates[n % templates.len()],
            &format!("WARM{n:04}"),
        )
        .await;
    }
    drain(pool, &handlers, concurrency, warm).await;

    for n in 0..orders {
        place(pool, &templates[n % templates.len()], &format!("B{n:08}")).await;
    }
    let before = requests(sim);
    let busy_before = SAP_REQUEST_SECONDS.snapshot().sum_secs;
    if let Some(p) = &args.profile {
        p.take();
    }
    let cpu_before = usage::cpu();
    let elapsed = drain(pool, &handlers, concurrency, orders).await;
    let cpu = usage::cpu() - cpu_before;
    let sap_busy = Duration::from_secs_f64(SAP_REQUEST_SECONDS.snapshot().sum_secs - busy_before);
    let statements = args.profile.as_ref().map(|p| p.take()).unwrap_or_default();
    let stats = sim.stats();
    let timed = requests(sim) - before;
    let exactly_once = (0..orders).all(|n| sim.orders_by_num_at_card(&format!("B{n:08}")) == 1);
    bench.finish().await;
    Run {
        concurrency,
        lock_rate,
        orders,
        elapsed,
        requests_per_order: timed as f64 / orders as f64,
        max_concurrent: stats.max_concurrent_requests,
        exactly_once,
        lock_errors: stats.injected.lock_errors,
        cpu,
        sap_busy,
        statements,
    }
}

/// What a scale-out run measured.
struct ProcessRun {
    processes: usize,
    per_process: usize,
    orders: usize,
    /// First to last post job finished, on Postgres' clock.
    seconds: f64,
    requests_per_order: f64,
    max_concurrent: u64,
    exactly_once: bool,
    /// CPU time of the worker processes (start-up included).
    cpu: Duration,
}

/// Queues `orders`, then lets `processes` real `b1bridge worker` processes, each allowed
/// `per_process` SAP requests at once, drain them.
async fn process_run(
    args: &Args,
    processes: usize,
    per_process: usize,
    orders: usize,
) -> ProcessRun {
    let bench = Bench::new(args, per_process, args.latency_ms, 0.0).await;
    let (pool, sim) = (&bench.pool, &bench.sim);
    let templates: Vec<Value> = SAMPLES.iter().map(|f| sample(f)).collect();
    for n in 0..orders {
        place(pool, &templates[n % templates.len()], &format!("P{n:08}")).await;
    }
    let before = requests(sim);
    let cpu_before = usage::children_cpu();
    let mut workers: Vec<std::process::Child> = (0..processes)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_b1bridge"))
                .arg("worker")
                .env_clear()
                .env("DATABASE_URL", &bench.url)
                .env("SAP_B1_URL", sim.base_url())
                .env("SAP_B1_COMPANY_DB", "SBODEMOGB")
                .env("SAP_B1_USERNAME", "manager")
                .env("SAP_B1_PASSWORD", "1234")
                .env("SAP_B1_MAX_CONCURRENCY", per_process.to_string())
                .env("RUST_LOG", "error")
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("the b1bridge binary starts")
        })
        .collect();
    while busy_jobs(pool).await > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for w in &mut workers {
        // SAFETY: kill only sends a signal to our own child.
        unsafe { libc::kill(w.id() as libc::pid_t, libc::SIGTERM) };
    }
    for w in &mut workers {
        w.wait().expect("worker exits");
    }
    let cpu = usage::children_cpu() - cpu_before;
    let (seconds, finished): (f64, i64) = sqlx::query_as(
        "SELECT extract(epoch FROM max(finished_at) - min(finished_at))::float8, count(*)
           FROM outbox WHERE kind = 'post_order' AND increment_id LIKE 'P%'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(finished, orders as i64, "every queued order was posted");
    let stats = sim.stats();
    let timed = requests(sim) - before;
    let exactly_once = (0..orders).all(|n| sim.orders_by_num_at_card(&format!("P{n:08}")) == 1);
    bench.finish().await;
    ProcessRun {
        processes,
        per_process,
        orders,
        // The first finish opens the span: n - 1 orders finished within it.
        seconds: seconds * orders as f64 / (orders as f64 - 1.0),
        requests_per_order: timed as f64 / orders as f64,
        max_concurrent: stats.max_concurrent_requests,
        exactly_once,
        cpu,
    }
}

/// The scale-out table: every C of `--concurrency` × every M of `--worker-processes`.
async fn scale_out(args: &Args) {
    let latency = args.latency_ms as f64 / 1000.0;
    let mut runs = Vec::new();
    for &c in &args.concurrency {
        for &m in &args.worker_processes {
            runs.push(process_run(args, m, c, order_count(args, m * c)).await);
        }
    }
    println!(
        "\nScale-out: M `b1bridge worker` processes with C SAP requests each, latency L = {} ms\n",
        args.latency_ms
    );
    println!(
        "| M processes | C each | orders | seconds | orders/s | SAP requests/order | ideal M·C/(req·L) | ratio | max concurrent SAP requests (≤ M·C) | every order once | CPU ms/order (workers) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &runs {
        let rate = r.orders as f64 / r.seconds;
        let ideal = (r.processes * r.per_process) as f64 / (r.requests_per_order * latency);
        println!(
            "| {} | {} | {} | {:.2} | {:.1} | {:.2} | {:.1} | {:.0} % | {} | {} | {:.2} |",
            r.processes,
            r.per_process,
            r.orders,
            r.seconds,
            rate,
            r.requests_per_order,
            ideal,
            100.0 * rate / ideal,
            r.max_concurrent,
            if r.exactly_once { "yes" } else { "NO" },
            r.cpu.as_secs_f64() * 1000.0 / r.orders as f64,
        );
    }
    assert!(
        runs.iter().all(|r| r.exactly_once),
        "an order was not posted exactly once"
    );
    assert!(
        runs.iter()
            .all(|r| r.max_concurrent <= (r.processes * r.per_process) as u64),
        "more SAP requests at once than M × SAP_B1_MAX_CONCURRENCY"
    );
}

/// What the latency run measured.
struct Latency {
    concurrency: usize,
    orders: usize,
    rate: f64,
    p50: f64,
    p99: f64,
    exactly_once: bool,
}

/// Orders arrive at half the ideal rate while the pool runs; each order's latency is from its
/// webhook event's commit to its post job's finish (the Sales Order created and recorded),
/// both on Postgres' clock.
async fn latency_run(args: &Args) -> Latency {
    const CONCURRENCY: usize = 4;
    let latency_ms = args.latency_run_ms;
    let bench = Bench::new(args, CONCURRENCY, latency_ms, 0.0).await;
    let pool = bench.pool.clone();
    let handlers = pipeline::order_handlers(bench.sap.clone());
    let templates: Vec<Value> = SAMPLES.iter().map(|f| sample(f)).collect();
    for (n, t) in templates.iter().enumerate() {
        place(&pool, t, &format!("WARM{n:04}")).await;
    }
    drain(&pool, &handlers, CONCURRENCY, templates.len()).await;

    let config = pipeline::worker_config(CONCURRENCY, Duration::from_secs(60));
    let worker = WorkerPool::new(pool.clone(), handlers.clone(), config);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    let rate = CONCURRENCY as f64 / (latency_ms as f64 / 1000.0) / 2.0;
    let orders = ((rate * args.seconds) as usize).max(50);
    let every = Duration::from_secs_f64(1.0 / rate);
    let mut ticks = tokio::time::interval(every);
    for n in 0..orders {
        ticks.tick().await;
        place(&pool, &templates[n % templates.len()], &format!("L{n:08}")).await;
    }
    while busy_jobs(&pool).await > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop.send(());
    task.await.expect("pool stops");
    let (p50, p99): (f64, f64) = sqlx::query_as(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s), percentile_cont(0.99) WITHIN GROUP (ORDER BY s)
           FROM (SELECT extract(epoch FROM j.finished_at - e.received_at)::float8 AS s
                   FROM outbox j JOIN webhook_events e ON e.id = j.event_id
                  WHERE j.kind = 'post_order' AND j.increment_id LIKE 'L%') t",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let exactly_once =
        (0..orders).all(|n| bench.sim.orders_by_num_at_card(&format!("L{n:08}")) == 1);
    bench.finish().await;
    Latency {
        concurrency: CONCURRENCY,
        orders,
        rate,
        p50,
        p99,
        exactly_once,
    }
}

/// Orders for about `seconds` at the ideal rate of 1 request per order, at least 50.
fn order_count(args: &Args, concurrency: usize) -> usize {
    let ideal = concurrency as f64 / (args.latency_ms as f64 / 1000.0);
    ((ideal * args.seconds) as usize).max(50)
}

#[tokio::main]
async fn main() {
    let args = args();
    if !args.worker_processes.is_empty() {
        scale_out(&args).await;
        return;
    }
    let latency = args.latency_ms as f64 / 1000.0;
    let mut runs = Vec::new();
    for &c in &args.concurrency {
        runs.push(run(&args, c, 0.0, order_count(&args, c)).await);
    }
    if args.lock_rate > 0.0 {
        let c = args
            .concurrency
            .iter()
            .copied()
            .find(|&c| c == 4)
            .unwrap_or(args.concurrency[0]);
        runs.push(run(&args, c, args.lock_rate, order_count(&args, c)).await);
    }
    println!(
        "\nOrder pipeline against the SAP B1 simulator, latency L = {} ms per request\n",
        args.latency_ms
    );
    println!(
        "| C | lock errors | orders | seconds | orders/s | SAP requests/order | ideal C/(req·L) | ratio | max concurrent SAP requests | every order once | CPU ms/order (pool + simulator) | ms per SAP request (client) | idle SAP slot ms/order |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &runs {
        let rate = r.orders as f64 / r.elapsed.as_secs_f64();
        let ideal = r.concurrency as f64 / (r.requests_per_order * latency);
        println!(
            "| {} | {:.0} % ({} injected) | {} | {:.2} | {:.1} | {:.2} | {:.1} | {:.0} % | {} | {} | {:.2} | {:.2} | {:.2} |",
            r.concurrency,
            r.lock_rate * 100.0,
            r.lock_errors,
            r.orders,
            r.elapsed.as_secs_f64(),
            rate,
            r.requests_per_order,
            ideal,
            100.0 * rate / ideal,
            r.max_concurrent,
            if r.exactly_once { "yes" } else { "NO" },
            r.cpu.as_secs_f64() * 1000.0 / r.orders as f64,
            r.sap_busy.as_secs_f64() * 1000.0 / (r.requests_per_order * r.orders as f64),
            (r.concurrency as f64 * r.elapsed.as_secs_f64() - r.sap_busy.as_secs_f64()) * 1000.0
                / r.orders as f64,
        );
    }
    for r in runs.iter().filter(|r| !r.statements.is_empty()) {
        let per_order = |n: u64| n as f64 / r.orders as f64;
        let total: u64 = r.statements.values().sum();
        let commits: u64 = r
            .statements
            .iter()
            .filter(|(s, _)| s.trim().eq_ignore_ascii_case("commit"))
            .map(|(_, n)| n)
            .sum();
        println!(
            "\nPostgres statements per order, C = {}: {:.2}, and one BEGIN per COMMIT ({:.2}), \
             which sqlx does not log; a statement outside a transaction commits on its own\n",
            r.concurrency,
            per_order(total),
            per_order(commits),
        );
        println!("| statement | per order |\n|---|---|");
        for (s, n) in &r.statements {
            println!("| `{}` | {:.3} |", s.replace('|', "\\|"), per_order(*n));
        }
    }
    println!(
        "\nideal = C / (SAP requests per order × L): SAP's latency is the bound. With lock errors \
         the extra requests count in 'requests/order' and retries back off, so the ratio there \
         shows the cost of the locks, not of b1bridge. ms per SAP request: from sending to the \
         answer read, L plus HTTP (the simulator's own work counts within L, as SAP's does). \
         Idle SAP slot: C × seconds minus the time requests held a slot, per order: the pool's \
         own overhead."
    );
    if args.latency_run_ms > 0 {
        let l = latency_run(&args).await;
        println!(
            "\nLatency, webhook accepted → Sales Order created in SAP and recorded, L = {} ms, C = {}, \
             {} orders arriving at {:.1}/s (half the ideal rate):\n\n| p50 | p99 | every order once |\n|---|---|---|\n| {:.0} ms | {:.0} ms | {} |",
            args.latency_run_ms,
            l.concurrency,
            l.orders,
            l.rate,
            l.p50 * 1000.0,
            l.p99 * 1000.0,
            if l.exactly_once { "yes" } else { "NO" },
        );
        assert!(
            l.exactly_once,
            "a latency-run order was not posted exactly once"
        );
    }
    assert!(
        runs.iter().all(|r| r.exactly_once),
        "an order was not posted exactly once"
    );
    assert!(
        runs.iter()
            .all(|r| r.max_concurrent <= r.concurrency as u64),
        "more SAP requests at once than SAP_B1_MAX_CONCURRENCY"
    );
}
