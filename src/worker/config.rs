//! How a worker pool runs: its limits, its timings and its retry schedules.
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::retry::RetrySchedules;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Names this process in `outbox.locked_by` and in logs.
    pub worker_id: Arc<str>,
    /// Most jobs in flight at once; the AIMD window moves between 1 and this.
    pub concurrency: usize,
    /// How long a claim holds a job without renewal. Renewed every third of it while the job
    /// runs, so only a dead or cut-off worker loses it.
    pub lease: Duration,
    /// Fallback for missed notifications: look for ready jobs at least this often.
    pub poll_interval: Duration,
    /// How often this process returns expired leases to the queue.
    pub reaper_interval: Duration,
    /// On shutdown, how long in-flight jobs may take to finish.
    pub shutdown_grace: Duration,
    pub retry: RetrySchedules,
    /// Where the LISTEN connection goes (`B1BRIDGE_DIRECT_DATABASE_URL`): Postgres itself
    /// when the pool's URL is a transaction-mode pooler, which cannot carry LISTEN. `None`: a
    /// connection of the pool.
    pub listen_url: Option<SecretString>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            worker_id: default_worker_id().into(),
            concurrency: 4,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            reaper_interval: Duration::from_secs(15),
            shutdown_grace: Duration::from_secs(30),
            retry: RetrySchedules::default(),
            listen_url: None,
        }
    }
}

impl WorkerConfig {
    /// Renewing three times per lease survives two lost renewals (a slow database, a pause).
    pub fn renew_every(&self) -> Duration {
        (self.lease / 3).max(Duration::from_millis(10))
    }
}

/// `host:pid:random`, so an operator can tell which process holds a job, and two pools in one
/// process still differ.
fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "b1bridge".into());
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &nonce[..8])
}
