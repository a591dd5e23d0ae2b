//! Ingest benchmark (`./scripts/bench-ingest.sh`): signed, realistic Magento orders sent at a
//! fixed concurrency to a release `b1bridge serve`, next to pgbench doing a plain INSERT of the
//! same payload into the same Postgres at the same concurrency.
//!
//! It is a black-box HTTP client (it signs with HMAC-SHA256 itself and uses nothing of the
//! library), so it measures what Magento would see. Reports requests/s, p50/p99 latency, the
//! server's peak RSS, the plain-insert rate and the ratio.
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET_B64: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Args {
    concurrency: usize,
    seconds: u64,
    database_url: String,
}

fn args() -> Args {
    let mut a = Args {
        concurrency: 64,
        seconds: 20,
        database_url: std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--concurrency" => {
                a.concurrency = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--concurrency N")
            }
            "--seconds" => a.seconds = it.next().and_then(|v| v.parse().ok()).expect("--seconds N"),
            "--bench" => {}
            other => panic!("unknown argument {other}; use --concurrency N --seconds N"),
        }
    }
    a
}

fn sign(key: &[u8], id: &str, ts: i64, body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(format!("{id}.{ts}.").as_bytes());
    m.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
    )
}

/// The event body serialised once, split around the order number, so that the sender spends
/// its CPU on sending (the machine's two cores are shared with the server and Postgres).
struct BodyTemplate {
    before: Vec<u8>,
    after: Vec<u8>,
}

impl BodyTemplate {
    const MARK: &'static str = "B1B-BENCH-ORDER";

    fn new(order: &serde_json::Value) -> Self {
        let mut order = order.clone();
        order["increment_id"] = serde_json::Value::String(Self::MARK.into());
        let text = serde_json::to_string(&serde_json::json!({
            "type": "order.placed", "timestamp": "2026-11-26T10:00:00Z", "data": {"order": order}
        }))
        .unwrap();
        let (before, after) = text.split_once(Self::MARK).unwrap();
        Self {
            before: before.as_bytes().to_vec(),
            after: after.as_bytes().to_vec(),
        }
    }

    fn body(&self, n: u64) -> Vec<u8> {
        let number = format!("B{n:09}");
        let mut body = Vec::with_capacity(self.before.len() + number.len() + self.after.len());
        body.extend_from_slice(&self.before);
        body.extend_from_slice(number.as_bytes());
        body.extend_from_slice(&self.after);
        body
    }
}

fn psql(url: &str, sql: &str) {
    let ok = Command::new("psql")
        .args([url, "-qAtc", sql])
        .status()
        .expect("psql runs")
        .success();
    assert!(ok, "psql failed: {sql}");
}

fn db_url(admin: &str, name: &str) -> String {
    let (base, _) = admin.rsplit_once('/').expect("DATABASE_URL has a database");
    format!("{base}/{name}")
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx] as f64 / 1000.0
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    let a = args();
    let order: serde_json::Value = serde_json::from_str(include_str!(
        "../tests/fixtures/magento/rest-order-registered-configurable-multiitem-tax.json"
    ))
    .unwrap();
    let template = BodyTemplate::new(&order);
    let db = format!("b1b_bench_{}", std::process::id());
    psql(&a.database_url, &format!("CREATE DATABASE {db}"));
    let url = db_url(&a.database_url, &db);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_b1bridge"))
        .args(["serve", "--no-workers"])
        .env("DATABASE_URL", &url)
        .env("B1BRIDGE_LISTEN", format!("127.0.0.1:{port}"))
        .env("B1BRIDGE_WEBHOOK_SECRETS", format!("whsec_{SECRET_B64}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("b1bridge starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "server did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let key = Arc::new(
        base64::engine::general_purpose::STANDARD
            .decode(SECRET_B64)
            .unwrap(),
    );
    let body_len = template.body(0).len();
    let counter = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let template = Arc::new(template);
    let mut tasks = Vec::new();
    for _ in 0..a.concurrency {
        let (client, base, key, counter, stop, measuring, template) = (
            client.clone(),
            base.clone(),
            key.clone(),
            counter.clone(),
            stop.clone(),
            measuring.clone(),
            template.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let body = template.body(n);
                let id = format!("msg_bench_{n}");
                let ts = chrono::Utc::now().timestamp();
                let started = Instant::now();
                let res = client
                    .post(format!("{base}/webhooks/magento"))
                    .header("content-type", "application/json")
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", ts.to_string())
                    .header("webhook-signature", sign(&key, &id, ts, &body))
                    .body(body)
                    .send()
                    .await;
                let ok = matches!(&res, Ok(r) if r.status().as_u16() == 202);
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        latencies.push(started.elapsed().as_micros() as u64);
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // warm-up: connections, caches
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(a.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let rss = peak_rss_mb(server.id());
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    latencies.sort_unstable();
    let ingest_rps = latencies.len() as f64 / elapsed;

    // The same payload size, a plain INSERT, the same concurrency, the same Postgres.
    psql(&url, "CREATE TABLE bench_plain (id bigserial PRIMARY KEY, webhook_id text NOT NULL, body bytea NOT NULL)");
    let payload = String::from_utf8(template.body(1))
        .unwrap()
        .replace('\'', "''");
    let script = std::env::temp_dir().join(format!("b1b_plain_{}.sql", std::process::id()));
    std::fs::write(
        &script,
        format!("INSERT INTO bench_plain (webhook_id, body) VALUES (md5(random()::text), convert_to('{payload}', 'UTF8'));\n"),
    )
    .unwrap();
    let out = Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &a.concurrency.to_string(),
            "-j",
            "2",
            "-T",
            &a.seconds.to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(&url)
        .output()
        .expect("pgbench runs (Debian package postgresql-contrib / postgresql-client)");
    let text = String::from_utf8_lossy(&out.stdout);
    let plain_tps: f64 = text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "pgbench output without tps:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let _ = std::fs::remove_file(&script);
    psql(&a.database_url, &format!("DROP DATABASE {db} WITH (FORCE)"));

    println!(
        "ingest benchmark: {} concurrent senders, {} s measured, payload {} bytes",
        a.concurrency, a.seconds, body_len
    );
    println!("  b1bridge ingest : {ingest_rps:8.0} req/s  p50 {:6.2} ms  p99 {:6.2} ms  errors {errors}  peak RSS {rss:.1} MB",
        percentile(&latencies, 0.50), percentile(&latencies, 0.99));
    println!("  plain INSERT    : {plain_tps:8.0} tx/s (pgbench, same payload and concurrency)");
    println!(
        "  ratio           : {:5.1} % of the plain-insert rate (target >= 70 %)",
        100.0 * ingest_rps / plain_tps
    );
}
