//! `b1bridge demo`: the whole order-to-cash loop on one machine, for someone who has read no
//! code. A Postgres (a private one unless `DATABASE_URL` is set), the SAP B1 and Magento
//! simulators, and `serve` with its workers and schedulers, all in this process; the mappings
//! the sample orders need, configured through the API as an admin would; then a stream of
//! signed order webhooks that tells the story of [`scenario`], failures included. Ctrl-C (or
//! `--exit-when-done`) stops everything and deletes the private database.
pub mod company;
pub mod postgres;
pub mod scenario;
pub mod summary;
pub mod traffic;

use anyhow::Context;
use clap::Args;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use secrecy::SecretString;
use std::io::{IsTerminal, Write};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::app::{Application, Workers};
use crate::config::{self, DatabaseSettings, SapSettings, ServeSettings, WebhookSettings};
use crate::sim::{magento as magento_sim, sap_b1};
use scenario::{Ids, Step};
use summary::Summary;
use traffic::Traffic;

/// How often b1bridge looks whether SAP's approver has decided on a draft, in the demo.
const APPROVAL_CHECK_SECS: u64 = 30;

/// How often the status run (SAP deliveries → Magento shipments, "posted as" comments) runs
/// in the demo: a delivery shows in Magento within seconds rather than the default minute.
const STATUS_SYNC_SECS: u64 = 5;

/// Which SAP price list feeds Magento's (global) prices: the seed's only list, in USD.
const PRICE_ROUTE: (i64, i64, &str) = (1, 0, "USD");

/// How long `--exit-when-done` waits, after the last step, for every order to settle.
const SETTLE_PATIENCE: Duration = Duration::from_secs(120);

#[derive(Args, Clone)]
pub struct DemoArgs {
    /// Where b1bridge listens: the operations page, the API and the webhook.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Postgres URL; without it the demo starts a private Postgres and deletes it at the end.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// Orders to send in all: the story's orders first, then ordinary ones. Without it the
    /// ordinary orders go on until Ctrl-C.
    #[arg(long)]
    pub orders: Option<usize>,
    /// Stop once every order has settled (posted, cancelled, or waiting on an exception).
    #[arg(long)]
    pub exit_when_done: bool,
    /// Milliseconds between two steps of the story (and two ordinary orders).
    #[arg(long, default_value_t = 1500)]
    pub pace_ms: u64,
    /// Seconds between stock syncs.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub stock_sync_secs: u64,
}

/// Everything the demo started, stopped in reverse order by [`Running::stop`].
struct Running {
    stop: CancellationToken,
    app: tokio::task::JoinHandle<()>,
    sap: sap_b1::SapSimHandle,
    magento: magento_sim::MagentoSimHandle,
    pool: sqlx::PgPool,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    // Listening from the start: a Ctrl-C while Postgres or the simulators start must still
    // stop what has started rather than kill the process.
    let interrupted = CancellationToken::new();
    let watcher = tokio::spawn({
        let interrupted = interrupted.clone();
        async move {
            crate::app::shutdown_signal().await;
            interrupted.cancel();
        }
    });
    // The private Postgres is dropped (stopped, deleted) last, whatever happens before.
    let private = match &args.database_url {
        Some(_) => None,
        None => {
            say("starting a private Postgres (initdb; a few seconds)…");
            Some(tokio::task::spawn_blocking(postgres::PrivatePostgres::start).await??)
        }
    };
    let database_url = match (&args.database_url, &private) {
        (Some(url), _) => url.clone(),
        (None, Some(pg)) => SecretString::from(pg.url()),
        (None, None) => unreachable!("a private Postgres exists without DATABASE_URL"),
    };
    let shown_url = match &private {
        Some(pg) => format!("'{}'", pg.url()),
        // One the user gave may hold a password.
        None => "\"$DATABASE_URL\"".to_owned(),
    };
    let outcome = if interrupted.is_cancelled() {
        Ok(())
    } else {
        run_with_database(&args, &database_url, &shown_url, &interrupted).await
    };
    watcher.abort();
    if let Some(pg) = private {
        let dir = pg.dir().display().to_string();
        tokio::task::spawn_blocking(move || drop(pg)).await?;
        say(&format!("private Postgres stopped and {dir} deleted"));
    }
    outcome
}

async fn run_with_database(
    args: &DemoArgs,
    database_url: &SecretString,
    shown_url: &str,
    interrupted: &CancellationToken,
) -> anyhow::Result<()> {
    let secrets = Secrets::new();
    let running = start(args, database_url, &secrets).await?;
    let address = format!("http://{}", running.address);
    let result = {
        let traffic = Traffic {
            http: reqwest::Client::new(),
            app: address.clone(),
            key: config::WebhookKey::parse(&secrets.webhook).map_err(anyhow::Error::msg)?,
            sap: running.inner.sap.state().clone(),
            sap_root: running.inner.sap.root_url(),
            magento: running.inner.magento.state().clone(),
            pool: running.inner.pool.clone(),
        };
        let configured = match configure_mappings(&traffic.http, &address, &secrets.admin).await {
            Ok(()) => configure_prices(&traffic.http, &address, &secrets.admin).await,
            Err(e) => Err(e),
        };
        match configured {
            Err(e) => Err(e),
            Ok(()) => {
                print_welcome(&address, &secrets, shown_url);
                tokio::select! {
                    r = tell_story(args, &traffic) => r,
                    _ = interrupted.cancelled() => Ok(()),
                }
            }
        }
    };
    if interrupted.is_cancelled() {
        say("Ctrl-C: stopping everything");
    }
    running.inner.stop().await;
    result
}

/// The secrets of this run, new each time: a webhook secret, an operator token for the page,
/// and an admin token (mappings, settings).
struct Secrets {
    webhook: String,
    operator: String,
    admin: String,
}

impl Secrets {
    fn new() -> Self {
        use base64::Engine;
        let random = || {
            let bytes: [u8; 24] = rand::random();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        let key: [u8; 32] = rand::random();
        Self {
            webhook: format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode(key)
            ),
            operator: format!("demo-op-{}", random()),
            admin: format!("demo-admin-{}", random()),
        }
    }

    fn api_tokens(&self) -> SecretString {
        SecretString::from(format!(
            "demo-operator:operator:{},demo-admin:admin:{}",
            self.operator, self.admin
        ))
    }
}

struct Started {
    address: std::net::SocketAddr,
    inner: Running,
}

async fn start(
    args: &DemoArgs,
    database_url: &SecretString,
    secrets: &Secrets,
) -> anyhow::Result<Started> {
    let company = company::demo_seed();
    let shop = company::demo_shop_seed(&company);
    let sap = sap_b1::spawn(sap_b1::SapSimConfig {
        seed: company,
        ..sap_b1::SapSimConfig::default()
    })
    .await
    .context("the SAP B1 simulator did not start")?;
    let magento_token = format!("demo-magento-{}", rand::random::<u64>());
    let magento =
        magento_sim::spawn(magento_sim::MagentoSimConfig::new(&magento_token).with_seed(shop))
            .await
            .context("the Magento simulator did not start")?;
    say(&format!(
        "SAP B1 simulator at {}, Magento simulator at {}",
        sap.base_url(),
        magento.base_url()
    ));

    let sap_settings = SapSettings::from_raw(
        Some(&sap.base_url()),
        Some("SBODEMOGB"),
        Some("manager"),
        Some(&SecretString::from("1234")),
        None,
        None,
    )?;
    let magento_settings = config::MagentoSettings::from_raw(
        Some(&magento.base_url()),
        Some(&SecretString::from(magento_token)),
    )?;
    let sap_client = crate::sap::SapClient::new(&sap_settings)?;
    let magento_client =
        std::sync::Arc::new(crate::magento::MagentoClient::new(&magento_settings)?);
    let workers = Workers {
        config: crate::worker::pipeline::worker_config(
            sap_settings.max_concurrency,
            Duration::from_secs(60),
        ),
        sap: sap_client,
        magento: Some(crate::worker::stock_sync::magento_publisher(
            &magento_settings,
        )?),
        stock_sync_every: Duration::from_secs(args.stock_sync_secs),
        // The story places every order in the Magento simulator before its webhook, as a
        // shop does, so the runs that read Magento's orders run as in production: status
        // back to Magento, the order poll, reconciliation.
        magento_client: Some(magento_client),
        status_sync_every: Duration::from_secs(STATUS_SYNC_SECS),
        backfill_every: Duration::from_secs(300),
        reconcile_every: Duration::from_secs(3600),
        prices: Some(crate::worker::price_sync::magento_publisher(
            &magento_settings,
        )?),
        price_sync_every: Duration::from_secs(3600),
        body_retention: crate::scheduler::retention::BodyRetention::from_days(
            crate::scheduler::retention::BodyRetention::DEFAULT_DAYS,
        ),
    };
    let settings = ServeSettings {
        listen: config::parse_listen(&args.listen)?,
        database: DatabaseSettings::from_raw(Some(database_url))?,
        webhook: WebhookSettings::from_raw(
            Some(&SecretString::from(secrets.webhook.clone())),
            300,
        )?,
        api_tokens: config::parse_api_tokens(Some(&secrets.api_tokens()))?,
        migrate: true,
    };
    let pool = crate::store::connect(&settings.database).await?;
    let app = Application::build_service(settings, Some(workers), None).await?;
    let address = app.address();
    let stop = CancellationToken::new();
    let app = tokio::spawn({
        let stop = stop.clone();
        async move {
            if let Err(e) = app.run_until_stopped(stop.cancelled_owned()).await {
                eprintln!("demo: b1bridge stopped with an error: {e}");
            }
        }
    });
    Ok(Started {
        address,
        inner: Running {
            stop,
            app,
            sap,
            magento,
            pool,
        },
    })
}

impl Running {
    /// b1bridge first (its workers finish their jobs and log out of SAP), then the
    /// simulators, then our own connections.
    async fn stop(self) {
        self.stop.cancel();
        let _ = self.app.await;
        let _ = self.sap.shutdown().await;
        let _ = self.magento.shutdown().await;
        self.pool.close().await;
    }
}

/// Puts in place, through the API with the run's admin token, the mappings the sample
/// orders need against the simulator's company (the same list `scripts/run.sh` uses), and
/// the one setting the demo changes.
pub async fn configure_mappings(
    http: &reqwest::Client,
    address: &str,
    admin: &str,
) -> anyhow::Result<()> {
    for (kind, key, value) in sap_b1::default_seed_mapping_rows() {
        // A database of the user's (`DATABASE_URL`) may have its own: those are left alone.
        let existing: serde_json::Value = http
            .get(format!("{address}/api/v1/mappings/{kind}?limit=500"))
            .bearer_auth(admin)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let normalised = crate::domain::mappings::MappingKind::parse(kind)
            .and_then(|k| k.normalise_key(key).ok());
        let exists = existing["items"].as_array().is_some_and(|items| {
            items
                .iter()
                .any(|m| m["key"].as_str().is_some() && m["key"].as_str() == normalised.as_deref())
        });
        if exists {
            say(&format!("kept the existing mapping {kind} '{key}'"));
            continue;
        }
        let path = utf8_percent_encode(key, NON_ALPHANUMERIC);
        let response = http
            .put(format!("{address}/api/v1/mappings/{kind}/{path}"))
            .bearer_auth(admin)
            .json(&value)
            .send()
            .await?;
        if !response.status().is_success() {
            anyhow::bail!(
                "could not configure the {kind} mapping '{key}': {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
        say(&format!("configured mapping {kind} '{key}' = {value}"));
    }
    // The demo's approver answers within minutes, so b1bridge looks for the decision every
    // 30 s rather than the default 15 min; a setting, changed as an admin would.
    change_settings(http, address, admin, |settings| {
        settings["approval_check_interval_secs"] = serde_json::json!(APPROVAL_CHECK_SECS);
    })
    .await?;
    say(&format!(
        "configured setting approval_check_interval_secs = {APPROVAL_CHECK_SECS}"
    ));
    Ok(())
}

/// Reads the settings in force, changes them with `change` and puts them back, through the
/// API with an admin token, as an admin would.
pub async fn change_settings(
    http: &reqwest::Client,
    address: &str,
    admin: &str,
    change: impl FnOnce(&mut serde_json::Value),
) -> anyhow::Result<()> {
    let settings_url = format!("{address}/api/v1/settings");
    let mut settings: serde_json::Value = http
        .get(&settings_url)
        .bearer_auth(admin)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    change(&mut settings);
    let response = http
        .put(&settings_url)
        .bearer_auth(admin)
        .json(&settings)
        .send()
        .await?;
    if !response.status().is_success() {
        anyhow::bail!(
            "could not change the settings: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// Routes SAP price list 1 to the shop's global prices, then starts a price sync, as an
/// admin would once the price route is set (the scheduled one at start-up found none).
async fn configure_prices(
    http: &reqwest::Client,
    address: &str,
    admin: &str,
) -> anyhow::Result<()> {
    let (price_list, store_id, currency) = PRICE_ROUTE;
    change_settings(http, address, admin, |settings| {
        settings["price_routes"] = serde_json::json!([
            { "price_list": price_list, "store_id": store_id, "currency": currency }
        ]);
    })
    .await?;
    say(&format!(
        "configured setting price_routes: SAP price list {price_list} → Magento store \
         {store_id} in {currency}"
    ));
    let response = http
        .post(format!("{address}/api/v1/prices/sync"))
        .bearer_auth(admin)
        .send()
        .await?;
    // 409: a run is in progress already (the scheduled one at start-up); the next reads it.
    if !response.status().is_success() && response.status().as_u16() != 409 {
        anyhow::bail!(
            "could not start a price sync: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    say("started a price sync (SAP prices → Magento; the runs page shows what it published and held)");
    Ok(())
}

fn print_welcome(address: &str, secrets: &Secrets, shown_url: &str) {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "b1bridge".into());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\n\
         b1bridge demo on {address}\n\
         \x20 operations page:  {address}/   (API reference: {address}/docs, metrics: {address}/metrics)\n\
         \x20 operator token:   {}   (sign in with it; the exception queue and its actions)\n\
         \x20 admin token:      {}   (mappings and settings too)\n\
         \x20 more tokens:      DATABASE_URL={shown_url} {exe} token create --name you --role operator\n\
         \x20 webhook secret:   {}\n\
         \x20 send an order:    B1BRIDGE_URL={address} B1BRIDGE_WEBHOOK_SECRETS='{}' scripts/send-order.sh\n\
         \x20 Ctrl-C stops everything.\n",
        secrets.operator, secrets.admin, secrets.webhook, secrets.webhook
    );
}

/// The story's steps, then ordinary orders, each followed by the pace's pause, with the
/// summary refreshed meanwhile; with `--exit-when-done`, returns once every order settled.
async fn tell_story(args: &DemoArgs, traffic: &Traffic) -> anyhow::Result<()> {
    let run = chrono::Utc::now().timestamp().unsigned_abs();
    let mut ids = Ids::new(run);
    let story = scenario::scenario(&mut ids);
    let story_orders = story.iter().filter(|s| s.increment_id().is_some()).count();
    let wanted = args.orders.map(|n| n.max(story_orders));
    let pace = Duration::from_millis(args.pace_ms);
    let mut placed: Vec<String> = Vec::new();
    // Stopped however this ends, a Ctrl-C (which drops this future) included.
    let summary = AbortOnDropHandle::new(tokio::spawn(keep_summary(traffic.pool.clone())));
    let result: anyhow::Result<()> = async {
        let mut ordinary = 0;
        let mut hinted = false;
        let mut story = story.into_iter();
        loop {
            let step = match story.next() {
                Some(step) => step,
                None if ordinary == 0 && !hinted => {
                    hinted = true;
                    for hint in traffic.what_to_try(&traffic.app) {
                        say(&format!("try: {hint}"));
                    }
                    continue;
                }
                None if wanted.is_none_or(|n| placed.len() < n) => {
                    ordinary += 1;
                    scenario::ordinary(ordinary - 1, &mut ids)
                }
                None => break,
            };
            perform(traffic, &step).await?;
            if let Some(id) = step.increment_id() {
                placed.push(id.to_owned());
            }
            tokio::time::sleep(pace).await;
        }
        say(&format!("all {} orders sent", placed.len()));
        if args.exit_when_done {
            wait_until_settled(&traffic.pool, &placed).await?;
        } else {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
    .await;
    drop(summary);
    if let Ok(s) = Summary::read(&traffic.pool).await {
        say(&format!("final: {}", s.line()));
    }
    result
}

async fn perform(traffic: &Traffic, step: &Step) -> anyhow::Result<()> {
    let done = traffic.perform(step).await?;
    say(&done);
    Ok(())
}

/// Every order is posted, cancelled or parked, or has an open exception (an approval the
/// demo leaves to the operator, say).
async fn wait_until_settled(pool: &sqlx::PgPool, ids: &[String]) -> anyhow::Result<()> {
    let unsettled = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT w.increment_id FROM unnest($1::text[]) AS w(increment_id)
              WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.increment_id = w.increment_id
                                   AND o.status IN ('posted', 'cancelled', 'parked'))
                AND NOT EXISTS (SELECT 1 FROM exceptions e
                                 WHERE e.order_increment_id = w.increment_id
                                   AND e.status IN ('open', 'retrying'))
              ORDER BY 1",
        )
        .bind(ids)
        .fetch_all(pool)
        .await
    };
    let settled = traffic::wait(SETTLE_PATIENCE, || async {
        unsettled().await.is_ok_and(|left| left.is_empty())
    })
    .await;
    if !settled {
        anyhow::bail!(
            "orders not settled after {SETTLE_PATIENCE:?}: {:?}",
            unsettled().await?
        );
    }
    say("every order has settled");
    Ok(())
}

/// Refreshes the summary every second: in place on a terminal, else a line when it changes.
async fn keep_summary(pool: sqlx::PgPool) {
    let terminal = std::io::stdout().is_terminal();
    let mut last = String::new();
    loop {
        if let Ok(s) = Summary::read(&pool).await {
            let line = s.line();
            if terminal {
                print!("\r\x1b[2K{line}");
                let _ = std::io::stdout().flush();
            } else if line != last {
                println!("status: {line}");
            }
            last = line;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A line of the demo's own narration (clearing the live summary's line first on a terminal).
fn say(text: &str) {
    if std::io::stdout().is_terminal() {
        print!("\r\x1b[2K");
    }
    println!("demo: {text}");
}
