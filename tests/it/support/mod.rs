//! Test harness: a fresh migrated database per test, the application on a random port, and a
//! signing Magento sender.
pub mod process;
pub use process::free_port;
pub mod tcp_proxy;

use b1bridge::app::Application;
use b1bridge::config::{DatabaseSettings, ServeSettings, WebhookSettings};
use b1bridge::magento::signature;
use secrecy::SecretString;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;

/// The secret the test sender and the test app share.
pub const TEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Bootstrap API tokens of the test app: one per role, named after it, secret `<role>-secret-0123456789`.
pub const TEST_API_TOKENS: &str = "viewer:viewer:viewer-secret-0123456789,\
operator:operator:operator-secret-0123456789,admin:admin:admin-secret-0123456789";

/// The server every test database lives on: `DATABASE_URL`, else the local trust-auth server.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own for one test, created and migrated on the spot.
pub struct TestDb {
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    pub async fn new() -> Self {
        let admin = admin_url();
        let name = format!("b1b_test_{}", uuid::Uuid::new_v4().simple());
        let admin_pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&admin)
            .await
            .expect("connect to Postgres");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin_pool)
            .await
            .expect("create test database");
        admin_pool.close().await;
        let mut url = url::Url::parse(&admin).expect("DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(&url)
            .await
            .expect("connect to test database");
        b1bridge::store::migrate(&pool)
            .await
            .expect("migrations apply");
        Self { url, pool }
    }
}

/// A running application and the means to talk to it.
pub struct TestApp {
    pub address: SocketAddr,
    pub db: TestDb,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub struct AppOptions {
    /// Where the app connects (defaults to the test database; a proxy URL to cut the link).
    pub database_url: Option<String>,
    pub tolerance_secs: u64,
    pub secrets: String,
    /// `B1BRIDGE_API_TOKENS`.
    pub api_tokens: String,
    /// The SAP client that admin changes are checked with (as `serve` with `SAP_B1_*` set);
    /// `None`: no check.
    pub sap: Option<b1bridge::sap::SapClient>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            database_url: None,
            tolerance_secs: 300,
            secrets: TEST_SECRET.into(),
            api_tokens: TEST_API_TOKENS.into(),
            sap: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(opts: AppOptions) -> TestApp {
    let db = TestDb::new().await;
    let db_url = SecretString::from(opts.database_url.clone().unwrap_or_else(|| db.url.clone()));
    let mut database = DatabaseSettings::from_raw(Some(&db_url)).expect("valid database url");
    database.acquire_timeout = Duration::from_secs(2);
    let settings = ServeSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database,
        webhook: WebhookSettings::from_raw(
            Some(&SecretString::from(opts.secrets)),
            opts.tolerance_secs,
        )
        .expect("valid webhook settings"),
        api_tokens: b1bridge::config::parse_api_tokens(Some(&SecretString::from(opts.api_tokens)))
            .expect("valid API tokens"),
        migrate: true,
    };
    let app = Application::build_with_sap(settings, opts.sap)
        .await
        .expect("application builds");
    let address = app.address();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        address,
        db,
        client: reqwest::Client::new(),
        shutdown: Some(tx),
        task: Some(task),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// Sends `body` signed with the test secret, as Magento would.
    pub async fn send_webhook(&self, webhook_id: &str, body: &[u8]) -> reqwest::Response {
        self.send_webhook_at(webhook_id, chrono::Utc::now().timestamp(), body)
            .await
    }

    pub async fn send_webhook_at(
        &self,
        webhook_id: &str,
        ts: i64,
        body: &[u8],
    ) -> reqwest::Response {
        send_signed(&self.client, &self.url(""), webhook_id, ts, body).await
    }

    /// Signals a graceful shutdown without waiting for it (as SIGTERM would).
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            task.await.expect("server task ends cleanly");
        }
    }
}

/// Posts `body` to `{base}/webhooks/magento` signed with the test secret at `ts`, as Magento
/// would.
pub async fn send_signed(
    client: &reqwest::Client,
    base: &str,
    webhook_id: &str,
    ts: i64,
    body: &[u8],
) -> reqwest::Response {
    let key = b1bridge::config::WebhookKey::parse(TEST_SECRET).unwrap();
    let sig = signature::sign(key.bytes(), webhook_id, ts, body);
    client
        .post(format!("{base}/webhooks/magento"))
        .header("content-type", "application/json")
        .header("webhook-id", webhook_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(body.to_vec())
        .send()
        .await
        .expect("request reaches the app")
}

/// Wraps a Magento order in the Standard Webhooks envelope of contract §2.
pub fn envelope(event_type: &str, order: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": event_type,
        "timestamp": "2026-11-26T10:00:00Z",
        "data": { "order": order }
    }))
    .unwrap()
}

/// Loads a sample order (the search result sample is unwrapped to its first order).
pub fn sample_order(file: &str) -> serde_json::Value {
    let path = format!(
        "{}/tests/fixtures/magento/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    if v.get("total_count").is_some() {
        v["items"][0].clone()
    } else {
        v
    }
}

/// Polls `check` until it returns true or `timeout` passes.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Puts in place, visibly and as an admin would, the mappings that the Magento samples need
/// against the simulator's default seed (b1bridge itself seeds nothing).
pub async fn configure_simulator_mappings(pool: &PgPool) {
    for entry in b1bridge::sim::sap_b1::default_seed_mappings() {
        b1bridge::store::mappings::upsert(pool, &entry.key, &entry.value, "test-setup")
            .await
            .expect("mapping stored");
    }
}
