//! Settings and mappings kept in memory between jobs, re-read only when they changed.
//!
//! Every change to the `settings` or `mappings` tables moves one version in Postgres, in the
//! same transaction (a trigger; migration `config_version`). A job reads that version together
//! with its order, in the same statement, and asks this cache for the configuration at that
//! version: the one in memory when it was read at the same version, else a fresh read. A
//! fresh read happens after the version was read, so it is at least as new as that version;
//! it is kept under it, and a later change (a higher version) makes the next job read again.
//! So a change an operator makes applies to the next job, as before, without a restart, and
//! a job costs one statement for its order instead of four (order, settings, mappings, draft).
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::PgPool;

use crate::domain::mappings::Mappings;
use crate::domain::settings::Settings;
use crate::store::{self, StoreError};

/// The settings and every mapping table, as one consistent picture for a job.
#[derive(Clone)]
pub struct Config {
    pub settings: Arc<Settings>,
    pub mappings: Arc<Mappings>,
}

/// Shared by the jobs of one process (cheap to clone).
#[derive(Clone, Default)]
pub struct ConfigCache {
    kept: Arc<Mutex<Option<(i64, Config)>>>,
}

impl ConfigCache {
    /// The configuration at `version` (read from Postgres with the job's order, before this).
    pub async fn at(&self, pool: &PgPool, version: i64) -> Result<Config, StoreError> {
        if let Some(config) = self.kept_at(version) {
            return Ok(config);
        }
        let settings = store::settings::current(pool).await?.settings;
        let mappings = store::mappings::snapshot(pool).await?;
        let config = Config {
            settings: Arc::new(settings),
            mappings: Arc::new(mappings),
        };
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        // A job that read an older version must not replace what a newer one kept.
        if kept.as_ref().is_none_or(|(v, _)| *v <= version) {
            *kept = Some((version, config.clone()));
        }
        Ok(config)
    }

    fn kept_at(&self, version: i64) -> Option<Config> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.as_ref()
            .filter(|(v, _)| *v == version)
            .map(|(_, c)| c.clone())
    }
}
