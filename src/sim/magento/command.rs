//! `b1bridge sim magento`: its arguments and how it runs (kept here so the CLI only routes).
use anyhow::Context;
use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;

use super::faults::MagentoFaults;
use super::seed::Seed;
use super::server::serve;
use super::state::{MagentoSimConfig, MagentoSimState};

#[derive(Args, Clone)]
pub struct MagentoSimArgs {
    /// Listen address; port 0 picks a free one (printed).
    #[arg(long, env = "MAGENTO_SIM_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: std::net::SocketAddr,
    /// The bearer token accepted on `/rest/…`.
    #[arg(long, env = "MAGENTO_TOKEN", hide_env_values = true, value_parser = secret)]
    pub token: SecretString,
    /// JSON seed (stores, products, sources, stocks, source items, tax rates, orders);
    /// default: bundled (the SKUs of the Magento sample orders on the `default` source).
    #[arg(long, env = "MAGENTO_SIM_SEED")]
    pub seed: Option<PathBuf>,
    /// Share of requests answered 500 (0..1).
    #[arg(long, env = "MAGENTO_SIM_SERVER_ERROR_RATE", default_value_t = 0.0)]
    pub server_error_rate: f64,
    /// Share of requests answered 429 with `Retry-After: 1` (0..1).
    #[arg(long, env = "MAGENTO_SIM_RATE_LIMIT_RATE", default_value_t = 0.0)]
    pub rate_limit_rate: f64,
    /// Share of requests held for 30 s before being handled (0..1).
    #[arg(long, env = "MAGENTO_SIM_TIMEOUT_RATE", default_value_t = 0.0)]
    pub timeout_rate: f64,
    /// Milliseconds added to every request.
    #[arg(long, env = "MAGENTO_SIM_LATENCY_MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Seed of the fault dice: the same seed gives the same faults.
    #[arg(long, env = "MAGENTO_SIM_FAULT_SEED", default_value_t = 0)]
    pub fault_seed: u64,
}

fn secret(s: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(s.to_owned()))
}

impl MagentoSimArgs {
    pub fn sim_config(&self) -> anyhow::Result<MagentoSimConfig> {
        let seed = match &self.seed {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read --seed {}", path.display()))?;
                Seed::from_json(&text).map_err(anyhow::Error::msg)?
            }
            None => Seed::default_seed(),
        };
        Ok(MagentoSimConfig {
            token: self.token.expose_secret().to_owned(),
            seed,
            faults: MagentoFaults {
                server_error_rate: self.server_error_rate,
                rate_limit_rate: self.rate_limit_rate,
                timeout_rate: self.timeout_rate,
                latency_ms: self.latency_ms,
                seed: self.fault_seed,
                ..MagentoFaults::default()
            },
        })
    }

    /// Serves until SIGINT/SIGTERM.
    pub async fn run(self) -> anyhow::Result<()> {
        let state = MagentoSimState::new(self.sim_config()?).map_err(anyhow::Error::msg)?;
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .with_context(|| format!("cannot listen on {}", self.listen))?;
        let addr = listener.local_addr()?;
        println!(
            "Magento REST simulator: http://{addr}/rest/default (control: http://{addr}/sim/control)"
        );
        serve(listener, state, crate::app::shutdown_signal()).await?;
        Ok(())
    }
}
