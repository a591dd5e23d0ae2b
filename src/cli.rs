//! The command line (contract §1). Every option also reads its environment variable; secret
//! values are hidden from `--help` and wrapped before anything can print them.
use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{
    self, ConfigError, DatabaseSettings, SapSettings, ServeSettings, WebhookSettings,
};
use crate::domain::access::{self, Role};
use crate::store::tokens;

#[derive(Parser)]
#[command(
    name = "b1bridge",
    version,
    about = "Magento 2 / Adobe Commerce ⇄ SAP Business One order-to-cash bridge"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// HTTP API (webhook intake, operators' API) and the worker pool, in one process.
    Serve(ServeArgs),
    /// The worker pool alone (no HTTP): drains the outbox until SIGTERM.
    Worker(WorkerCommandArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Print the OpenAPI document (the same bytes as `openapi/openapi.json`).
    Openapi,
    /// Operators' API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Run a simulator of an external system alone (tests, demos, manual exploration).
    #[command(subcommand)]
    Sim(SimCommand),
    /// Stock: SAP B1 warehouses → Magento salable quantities.
    #[command(subcommand)]
    Stock(StockCommand),
    /// The whole loop on this machine: Postgres (private unless DATABASE_URL is set), the SAP
    /// B1 and Magento simulators, the server and its workers, and a stream of signed orders
    /// with failures for the exception queue. Ctrl-C stops everything.
    Demo(crate::demo::DemoArgs),
    /// One reconciliation run now (recorded like a scheduled one): Magento against SAP B1;
    /// findings become exceptions.
    Reconcile(ReconcileArgs),
    /// Reports for a terminal.
    #[command(subcommand)]
    Report(ReportCommand),
    /// The go-live audit against the configured SAP B1 and Magento: master data, mappings,
    /// settings and a dry run of the last orders through SAP's own calculation. Writes
    /// nothing to either system; exits non-zero when a finding would block orders.
    Audit(AuditArgs),
    /// Prices: SAP B1 price lists → Magento base and special prices.
    #[command(subcommand)]
    Prices(PricesCommand),
}

#[derive(Subcommand)]
pub enum PricesCommand {
    /// One price sync run now (recorded like a scheduled one); `--dry-run` prints the plan
    /// (old and new price per SKU, and what the guard rail would hold) and changes nothing.
    Sync(PriceSyncArgs),
}

#[derive(Args)]
pub struct PriceSyncArgs {
    /// Read SAP and print what would be published; publish nothing, record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Offer every price, not only the changes.
    #[arg(long)]
    pub full: bool,
    /// Publish the changes the guard rail would hold (after checking them in a dry run).
    #[arg(long)]
    pub release_held: bool,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub sap: SapArgs,
    #[command(flatten)]
    pub magento: MagentoArgs,
}

#[derive(Args)]
pub struct ReconcileArgs {
    /// Compare the Magento orders created since this UTC day (`YYYY-MM-DD`); default: the
    /// `reconcile_window_days` setting.
    #[arg(long)]
    pub since: Option<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub sap: SapArgs,
    #[command(flatten)]
    pub magento: MagentoArgs,
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// The daily check (as `GET /api/v1/reports/daily`), flow health first.
    Daily(ReportDailyArgs),
}

#[derive(Args)]
pub struct ReportDailyArgs {
    /// The UTC day, `YYYY-MM-DD`; default today.
    #[arg(long)]
    pub date: Option<String>,
    /// `text` (default) or `json` (the API's body).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// How `b1bridge audit` prints its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct AuditArgs {
    /// How many of the latest Magento orders to dry-run through `OrdersService_Preview`.
    #[arg(long, default_value_t = crate::worker::audit::DEFAULT_ORDERS, value_parser = clap::value_parser!(u32).range(0..=500))]
    pub orders: u32,
    /// `text` for a terminal, `json` for scripts.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub sap: SapArgs,
    #[command(flatten)]
    pub magento: MagentoArgs,
}

#[derive(Subcommand)]
pub enum StockCommand {
    /// One stock sync run now (recorded like a scheduled one); `--dry-run` prints the plan
    /// and changes nothing.
    Sync(StockSyncArgs),
}

#[derive(Args)]
pub struct StockSyncArgs {
    /// Read SAP and print what would be pushed; push nothing, record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Push every SKU, not only the changes.
    #[arg(long)]
    pub full: bool,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub sap: SapArgs,
    #[command(flatten)]
    pub magento: MagentoArgs,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Mint a token and print its secret once; only a hash of it is stored.
    Create(TokenCreateArgs),
    /// Revoke a minted token by name; requests with it get 401 from then on.
    Revoke(TokenRevokeArgs),
}

#[derive(Args)]
pub struct TokenCreateArgs {
    /// Who or what uses the token; the audit log names it.
    #[arg(long)]
    pub name: String,
    /// viewer (read), operator (exception and order actions) or admin (mappings, settings).
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

#[derive(Args)]
pub struct TokenRevokeArgs {
    #[arg(long)]
    pub name: String,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("'{s}' is not viewer, operator or admin"))
}

#[derive(Subcommand)]
pub enum SimCommand {
    /// The SAP B1 Service Layer simulator, serving `/b1s/v1` (and `/sim/control`) on `--listen`.
    #[command(name = "sap-b1")]
    SapB1(SapB1SimArgs),
    /// The Magento REST simulator, serving `/rest/{store}/V1` (and `/sim/control`) on `--listen`.
    Magento(crate::sim::magento::MagentoSimArgs),
}

#[derive(Args, Clone)]
pub struct SapB1SimArgs {
    /// Listen address.
    #[arg(long, env = "SAP_B1_SIM_LISTEN", default_value = "127.0.0.1:50000")]
    pub listen: std::net::SocketAddr,
    /// Company database accepted by `/Login`.
    #[arg(long, env = "SAP_B1_COMPANY_DB", default_value = "SBODEMOGB")]
    pub company_db: String,
    /// User name accepted by `/Login`.
    #[arg(long, env = "SAP_B1_USERNAME", default_value = "manager")]
    pub username: String,
    /// Password accepted by `/Login`.
    #[arg(long, env = "SAP_B1_PASSWORD", hide_env_values = true, value_parser = secret, default_value = "1234")]
    pub password: SecretString,
    /// JSON seed (items, warehouses, business partners, tax and freight codes); default: bundled.
    #[arg(long, env = "SAP_B1_SIM_SEED")]
    pub seed: Option<std::path::PathBuf>,
    /// Idle seconds before a session is refused (sliding).
    #[arg(long, env = "SAP_B1_SIM_SESSION_TIMEOUT_SECS", default_value_t = 1800)]
    pub session_timeout_secs: u64,
    /// Rows per collection page; 0 disables paging.
    #[arg(long, env = "SAP_B1_SIM_PAGE_SIZE", default_value_t = 20)]
    pub page_size: usize,
    /// Share of writes answered with -2039 and not applied (0..1).
    #[arg(long, env = "SAP_B1_SIM_LOCK_ERROR_RATE", default_value_t = 0.0)]
    pub lock_error_rate: f64,
    /// Share of requests answered 502/503/500 by the "balancer" (0..1).
    #[arg(long, env = "SAP_B1_SIM_SERVER_ERROR_RATE", default_value_t = 0.0)]
    pub server_error_rate: f64,
    /// Milliseconds added to every request.
    #[arg(long, env = "SAP_B1_SIM_LATENCY_MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of successful writes (creates, actions, updates) committed whose response is then lost (0..1).
    #[arg(long, env = "SAP_B1_SIM_LOST_RESPONSE_RATE", default_value_t = 0.0)]
    pub lost_response_rate: f64,
    /// Seed of the fault dice: the same seed gives the same faults.
    #[arg(long, env = "SAP_B1_SIM_FAULT_SEED", default_value_t = 0)]
    pub fault_seed: u64,
    /// PEM certificate chain (server certificate first): serve HTTPS, like a real Service Layer.
    #[arg(long, env = "SAP_B1_SIM_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "SAP_B1_SIM_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl SapB1SimArgs {
    pub fn sim_config(&self) -> anyhow::Result<crate::sim::sap_b1::SapSimConfig> {
        use crate::sim::sap_b1::{Faults, SapSimConfig, Seed, TlsIdentity};
        use anyhow::Context;
        let seed = match &self.seed {
            Some(path) => Seed::from_file(path)?,
            None => Seed::default_seed(),
        };
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(
                TlsIdentity::from_pem_files(cert, key)
                    .context("--tls-cert/--tls-key (SAP_B1_SIM_TLS_CERT/SAP_B1_SIM_TLS_KEY)")?,
            ),
            // clap requires both or neither.
            _ => None,
        };
        Ok(SapSimConfig {
            company_db: self.company_db.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            session_timeout: std::time::Duration::from_secs(self.session_timeout_secs),
            seed,
            faults: Faults {
                lock_error_rate: self.lock_error_rate,
                server_error_rate: self.server_error_rate,
                latency_ms: self.latency_ms,
                lost_response_rate: self.lost_response_rate,
                seed: self.fault_seed,
                ..Faults::default()
            },
            page_size: self.page_size,
            tls,
        })
    }
}

fn secret(s: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(s.to_owned()))
}

#[derive(Args, Clone)]
pub struct DatabaseArgs {
    /// Postgres URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub database_url: Option<SecretString>,
    /// Most Postgres connections per pool. `serve` has two (HTTP, and the workers with their
    /// LISTEN connection): up to 2 × this; `worker` and `serve --no-workers`: this.
    #[arg(long, env = "B1BRIDGE_DB_MAX_CONNECTIONS", default_value_t = config::DatabaseSettings::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: u32,
    /// Postgres itself when `DATABASE_URL` goes through a transaction-mode pooler
    /// (PgBouncer): the workers' LISTEN connection and the migrations use it.
    #[arg(long, env = "B1BRIDGE_DIRECT_DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub direct_database_url: Option<SecretString>,
}

impl DatabaseArgs {
    pub fn settings(&self) -> Result<DatabaseSettings, ConfigError> {
        let mut settings = DatabaseSettings::from_raw(self.database_url.as_ref())?;
        settings.max_connections = self.db_max_connections;
        settings.direct_url = self
            .direct_database_url
            .as_ref()
            .filter(|u| !u.expose_secret().trim().is_empty())
            .map(|u| config::postgres_url("B1BRIDGE_DIRECT_DATABASE_URL", u))
            .transpose()?;
        Ok(settings)
    }
}

/// SAP B1 Service Layer connection options, to be flattened into the commands that talk to
/// SAP. Values stay raw here so that `SapSettings::from_raw` reports errors by variable name.
#[derive(Args, Clone)]
pub struct SapArgs {
    /// Service Layer root, e.g. https://sap:50000/b1s/v1.
    #[arg(long, env = "SAP_B1_URL")]
    pub sap_url: Option<String>,
    /// SAP company database.
    #[arg(long, env = "SAP_B1_COMPANY_DB")]
    pub sap_company_db: Option<String>,
    /// Service Layer user.
    #[arg(long, env = "SAP_B1_USERNAME")]
    pub sap_username: Option<String>,
    /// Service Layer password.
    #[arg(long, env = "SAP_B1_PASSWORD", hide_env_values = true, value_parser = secret)]
    pub sap_password: Option<SecretString>,
    /// PEM file of an extra root CA to trust; TLS verification is never switched off.
    #[arg(long, env = "SAP_B1_CA_CERT")]
    pub sap_ca_cert: Option<PathBuf>,
    /// Upper bound of parallel Service Layer requests (default 4).
    #[arg(long, env = "SAP_B1_MAX_CONCURRENCY")]
    pub sap_max_concurrency: Option<String>,
}

impl SapArgs {
    /// Validates the options into settings.
    pub fn settings(&self) -> Result<SapSettings, ConfigError> {
        SapSettings::from_raw(
            self.sap_url.as_deref(),
            self.sap_company_db.as_deref(),
            self.sap_username.as_deref(),
            self.sap_password.as_ref(),
            self.sap_ca_cert.as_deref(),
            self.sap_max_concurrency.as_deref(),
        )
    }

    /// For commands that can run without SAP: `None` when no login option is given at all;
    /// a partial login is still an error naming the missing variable, since it is a typo
    /// rather than a choice.
    pub fn optional_settings(&self) -> Result<Option<SapSettings>, ConfigError> {
        let given = |v: Option<&str>| v.is_some_and(|s| !s.trim().is_empty());
        let any_given = given(self.sap_url.as_deref())
            || given(self.sap_company_db.as_deref())
            || given(self.sap_username.as_deref())
            || given(self.sap_password.as_ref().map(|p| p.expose_secret()));
        any_given.then(|| self.settings()).transpose()
    }
}

/// Magento REST connection options (contract §1).
#[derive(Args, Clone)]
pub struct MagentoArgs {
    /// Magento REST root, e.g. https://shop.example/rest/default (`/V1/…` is appended).
    #[arg(long, env = "MAGENTO_URL")]
    pub magento_url: Option<String>,
    /// Magento integration bearer token.
    #[arg(long, env = "MAGENTO_TOKEN", hide_env_values = true, value_parser = secret)]
    pub magento_token: Option<SecretString>,
}

impl MagentoArgs {
    /// The REST client, or `None` when neither `MAGENTO_URL` nor `MAGENTO_TOKEN` is set.
    pub fn client(&self) -> anyhow::Result<Option<std::sync::Arc<crate::magento::MagentoClient>>> {
        let Some(settings) = crate::config::MagentoSettings::from_env_values(
            self.magento_url.as_deref(),
            self.magento_token.as_ref(),
        )?
        else {
            return Ok(None);
        };
        Ok(Some(std::sync::Arc::new(
            crate::magento::MagentoClient::new(&settings)?,
        )))
    }

    /// The stock publisher, or `None` when neither `MAGENTO_URL` nor `MAGENTO_TOKEN` is set;
    /// one without the other is an error naming the missing variable.
    pub fn publisher(
        &self,
    ) -> anyhow::Result<
        Option<std::sync::Arc<dyn crate::worker::stock_sync::publisher::StockPublisher>>,
    > {
        let Some(settings) = crate::config::MagentoSettings::from_env_values(
            self.magento_url.as_deref(),
            self.magento_token.as_ref(),
        )?
        else {
            return Ok(None);
        };
        Ok(Some(crate::worker::stock_sync::magento_publisher(
            &settings,
        )?))
    }

    /// The price publisher; `None` under the same conditions as [`Self::publisher`].
    pub fn price_publisher(
        &self,
    ) -> anyhow::Result<Option<std::sync::Arc<dyn crate::worker::price_sync::ports::PricePublisher>>>
    {
        let Some(settings) = crate::config::MagentoSettings::from_env_values(
            self.magento_url.as_deref(),
            self.magento_token.as_ref(),
        )?
        else {
            return Ok(None);
        };
        Ok(Some(crate::worker::price_sync::magento_publisher(
            &settings,
        )?))
    }
}

/// The worker pool's options, shared by `serve` and `worker`.
#[derive(Args, Clone)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub sap: SapArgs,
    #[command(flatten)]
    pub magento: MagentoArgs,
    /// Seconds between stock sync runs (deltas; a full pass every `stock_full_sync_hours`).
    #[arg(long, env = "B1BRIDGE_STOCK_SYNC_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub stock_sync_secs: u64,
    /// Seconds between status runs (SAP deliveries → Magento shipments, order comments).
    #[arg(long, env = "B1BRIDGE_STATUS_SYNC_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub status_sync_secs: u64,
    /// Seconds between Magento order polls (missed webhooks; enough alone without webhooks).
    #[arg(long, env = "B1BRIDGE_BACKFILL_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub backfill_secs: u64,
    /// Seconds between reconciliation runs (Magento against SAP B1; needs `MAGENTO_URL`).
    #[arg(long, env = "B1BRIDGE_RECONCILE_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub reconcile_secs: u64,
    /// Seconds between price sync runs (deltas; a full pass every `price_full_sync_hours`).
    #[arg(long, env = "B1BRIDGE_PRICE_SYNC_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub price_sync_secs: u64,
    /// Seconds a claimed job is held without renewal (renewed every third of it while it
    /// runs): how long a job of a crashed worker waits before another worker takes it over.
    #[arg(long, env = "B1BRIDGE_WORKER_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_secs: u64,
    /// Days a webhook's raw body is kept once nothing needs it any more (its order posted or
    /// cancelled, no open exception, no unfinished job or refund); 0 keeps bodies for ever.
    /// The event row itself is never deleted.
    #[arg(long, env = "B1BRIDGE_WEBHOOK_BODY_RETENTION_DAYS", default_value_t = crate::scheduler::retention::BodyRetention::DEFAULT_DAYS, value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub webhook_body_retention_days: u32,
    /// Retry schedules as JSON, e.g. `{"locked":{"base_ms":500,"cap_ms":30000,"max_attempts":100,"max_age_secs":86400}}`;
    /// a kind left out keeps its default.
    #[arg(long, env = "B1BRIDGE_RETRY_SCHEDULES")]
    pub retry_schedules: Option<String>,
}

impl WorkerArgs {
    /// Everything the workers and schedulers need, checked at start so a missing variable
    /// stops the process with its name instead of failing every job later.
    fn workers(&self) -> anyhow::Result<crate::app::Workers> {
        let (sap, config) = self.pipeline()?;
        Ok(crate::app::Workers {
            sap,
            config,
            magento: self.magento.publisher()?,
            stock_sync_every: std::time::Duration::from_secs(self.stock_sync_secs),
            magento_client: self.magento.client()?,
            status_sync_every: std::time::Duration::from_secs(self.status_sync_secs),
            backfill_every: std::time::Duration::from_secs(self.backfill_secs),
            reconcile_every: std::time::Duration::from_secs(self.reconcile_secs),
            prices: self.magento.price_publisher()?,
            price_sync_every: std::time::Duration::from_secs(self.price_sync_secs),
            body_retention: crate::scheduler::retention::BodyRetention::from_days(
                self.webhook_body_retention_days,
            ),
        })
    }

    /// The SAP client and pool settings.
    fn pipeline(&self) -> anyhow::Result<(crate::sap::SapClient, crate::worker::WorkerConfig)> {
        let sap = self.sap.settings().map_err(|e| {
            anyhow::anyhow!(
                "{e}; the workers post orders to SAP B1 (`serve --no-workers` runs without them)"
            )
        })?;
        let client = crate::sap::SapClient::new(&sap)?;
        let mut config = crate::worker::pipeline::worker_config(
            sap.max_concurrency,
            std::time::Duration::from_secs(self.lease_secs),
        );
        if let Some(raw) = self
            .retry_schedules
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            config.retry = serde_json::from_str(raw)
                .map_err(|e| anyhow::anyhow!("B1BRIDGE_RETRY_SCHEDULES is malformed: {e}"))?;
        }
        Ok((client, config))
    }
}

#[derive(Args, Clone)]
pub struct WorkerCommandArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Serve `/metrics`, `/healthz` and `/readyz` (no API) on this address, e.g.
    /// 0.0.0.0:9090: this process's jobs, SAP latency and concurrency, which no `serve`
    /// elsewhere can report. Unset: no HTTP at all.
    #[arg(long, env = "B1BRIDGE_METRICS_LISTEN")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub workers: WorkerArgs,
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// HTTP listen address.
    #[arg(long, env = "B1BRIDGE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Comma-separated Standard Webhooks secrets (`whsec_…`); every one is accepted.
    #[arg(long, env = "B1BRIDGE_WEBHOOK_SECRETS", hide_env_values = true, value_parser = secret)]
    pub webhook_secrets: Option<SecretString>,
    /// Accepted clock skew of `webhook-timestamp`, both directions, in seconds.
    #[arg(long, env = "B1BRIDGE_WEBHOOK_TOLERANCE_SECS", default_value_t = 300)]
    pub webhook_tolerance_secs: u64,
    /// Bootstrap API tokens `name:role:secret,…` (roles: viewer, operator, admin).
    #[arg(long, env = "B1BRIDGE_API_TOKENS", hide_env_values = true, value_parser = secret)]
    pub api_tokens: Option<SecretString>,
    /// Serve HTTP only, without the worker pool. The SAP_B1_* login is then optional: given,
    /// mapping and settings changes are still checked against SAP B1 master data.
    #[arg(long)]
    pub no_workers: bool,
    /// Do not apply pending migrations at start-up.
    #[arg(long)]
    pub no_migrate: bool,
    #[command(flatten)]
    pub workers: WorkerArgs,
}

impl ServeArgs {
    /// Validates everything at once, so a misconfigured deployment fails at start with the
    /// variable's name.
    pub fn settings(&self) -> Result<ServeSettings, ConfigError> {
        Ok(ServeSettings {
            listen: config::parse_listen(&self.listen)?,
            database: self.db.settings()?,
            webhook: WebhookSettings::from_raw(
                self.webhook_secrets.as_ref(),
                self.webhook_tolerance_secs,
            )?,
            api_tokens: config::parse_api_tokens(self.api_tokens.as_ref())?,
            migrate: !self.no_migrate,
        })
    }
}

/// Entry point used by `main`: parses, runs, and turns errors into a message and exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("b1bridge: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("b1bridge: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes to stdout; a reader that went away early (`b1bridge openapi | head`) is not an
/// error: `print!` would panic on the broken pipe, so the write is checked instead.
pub(crate) fn print_stdout(text: &str) -> anyhow::Result<()> {
    print_quietly(text)
}

fn print_quietly(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Openapi => print_quietly(&crate::http::openapi_json()),
        Command::Migrate(db) => {
            crate::telemetry::init();
            let settings = db.settings()?;
            let pool = crate::store::connect_session(&settings).await?;
            crate::store::migrate(&pool).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Token(TokenCommand::Create(args)) => create_token(args).await,
        Command::Token(TokenCommand::Revoke(args)) => {
            let pool = token_db(&args.db).await?;
            let mut conn = pool.acquire().await?;
            if !tokens::revoke(&mut conn, &args.name, "cli").await? {
                anyhow::bail!("no active token named '{}'", args.name);
            }
            eprintln!("token '{}' revoked", args.name);
            Ok(())
        }
        Command::Serve(args) => {
            crate::telemetry::init();
            let settings = args.settings()?;
            let workers = (!args.no_workers)
                .then(|| args.workers.workers())
                .transpose()?;
            // Without workers, the API checks admin changes with a client of its own if SAP
            // is configured.
            let api_sap = match &workers {
                Some(_) => None,
                None => match args.workers.sap.optional_settings()? {
                    Some(sap) => Some(crate::sap::SapClient::new(&sap)?),
                    None => {
                        tracing::info!(
                            "no SAP_B1_* login: mapping and settings changes are stored \
                             without checking their codes against SAP B1"
                        );
                        None
                    }
                },
            };
            let app = crate::app::Application::build_service(settings, workers, api_sap).await?;
            tracing::info!(address = %app.address(), "b1bridge serving");
            app.run_until_stopped(crate::app::shutdown_signal()).await?;
            Ok(())
        }
        Command::Worker(args) => {
            crate::telemetry::init();
            let settings = args.db.settings()?;
            let workers = args.workers.workers()?;
            let app = crate::app::Application::build_workers(
                &settings,
                false,
                workers,
                args.metrics_listen,
            )
            .await?;
            if let Some(address) = app.listening() {
                tracing::info!(%address, "worker metrics at http://{address}/metrics");
            }
            app.run_until_stopped(crate::app::shutdown_signal()).await?;
            Ok(())
        }
        Command::Stock(StockCommand::Sync(args)) => crate::stock_cli::sync(args).await,
        Command::Demo(args) => {
            crate::telemetry::init_quiet();
            crate::demo::run(args).await
        }
        Command::Reconcile(args) => crate::reconcile_cli::reconcile(args).await,
        Command::Report(ReportCommand::Daily(args)) => {
            crate::reconcile_cli::report_daily(args).await
        }
        Command::Audit(args) => crate::audit_cli::audit(args).await,
        Command::Prices(PricesCommand::Sync(args)) => crate::prices_cli::sync(args).await,
        Command::Sim(SimCommand::Magento(args)) => {
            crate::telemetry::init();
            args.run().await
        }
        Command::Sim(SimCommand::SapB1(args)) => {
            use crate::sim::sap_b1::{serve, SapSimState};
            use anyhow::Context;
            crate::telemetry::init();
            let state = SapSimState::new(args.sim_config()?)?;
            let scheme = state.scheme();
            let listener = tokio::net::TcpListener::bind(args.listen)
                .await
                .with_context(|| format!("cannot listen on {}", args.listen))?;
            let addr = listener.local_addr()?;
            println!("SAP B1 Service Layer simulator: {scheme}://{addr}/b1s/v1 (control: {scheme}://{addr}/sim/control)");
            serve(listener, state, crate::app::shutdown_signal()).await?;
            Ok(())
        }
    }
}

async fn token_db(db: &DatabaseArgs) -> anyhow::Result<sqlx::PgPool> {
    let settings = db.settings()?;
    Ok(crate::store::connect(&settings).await?)
}

/// Mints a token: the secret goes to stdout (alone, for scripts), the advice to stderr.
async fn create_token(args: TokenCreateArgs) -> anyhow::Result<()> {
    if !access::valid_token_name(&args.name) {
        anyhow::bail!("--name must be 1-64 of A-Z a-z 0-9 . _ - @");
    }
    let pool = token_db(&args.db).await?;
    let secret = access::new_secret(&mut rand::rngs::OsRng);
    let mut tx = pool.begin().await?;
    let created = tokens::create(
        &mut tx,
        &args.name,
        args.role,
        &access::secret_hash(&secret),
        "cli",
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e} (has the database been migrated? run `b1bridge migrate`)"))?;
    if created == tokens::Created::NameTaken {
        anyhow::bail!("a token named '{}' exists already", args.name);
    }
    tx.commit().await?;
    println!("{secret}");
    eprintln!(
        "token '{}' ({}) created; the secret above is shown only this once",
        args.name,
        args.role.as_str()
    );
    Ok(())
}
