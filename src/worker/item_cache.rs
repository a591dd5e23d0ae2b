//! What SAP's item master says about the ItemCodes orders use, kept in memory and shared by
//! every job of the process, so that a warm order costs no item reads at all. Entries expire
//! after `Settings::item_cache_ttl_secs`; codes SAP does not know are cached too (negative
//! caching), so an order with an unknown SKU does not ask SAP again on every retry. An
//! operator's retry of an order reads its items afresh, so a fix made in SAP is seen at once.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::domain::ids::ItemCode;
use crate::domain::sales_order::ItemFacts;
use crate::sap::{SapClient, SapError};

/// The shared cache; clones share the entries.
#[derive(Clone, Default)]
pub struct ItemCache {
    entries: Arc<Mutex<HashMap<ItemCode, Cached>>>,
    /// One read of missing codes at a time: jobs that start together on a cold cache wait for
    /// the first read instead of each asking SAP for the same items.
    reading: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug, Clone, Copy)]
struct Cached {
    facts: ItemFacts,
    read_at: Instant,
}

/// What "SAP has no such item" looks like in the cache.
const UNKNOWN: ItemFacts = ItemFacts {
    exists: false,
    valid: false,
    frozen: false,
    sales_item: false,
    serial_managed: false,
    batch_managed: false,
};

impl ItemCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The facts of every code in `codes`. Codes missing from the cache or older than `ttl`
    /// (all of them with `refresh`) are read from SAP in batched requests first.
    pub async fn facts(
        &self,
        sap: &SapClient,
        codes: &[ItemCode],
        ttl: Duration,
        refresh: bool,
    ) -> Result<HashMap<ItemCode, ItemFacts>, SapError> {
        let mut stale = self.stale(codes, ttl, refresh);
        let _reading = if stale.is_empty() || refresh {
            None
        } else {
            let guard = self.reading.lock().await;
            stale = self.stale(codes, ttl, false);
            Some(guard)
        };
        if !stale.is_empty() {
            let items = sap.items_by_code(&stale).await?;
            let read_at = Instant::now();
            let mut entries = self.lock();
            for code in &stale {
                entries.insert(
                    code.clone(),
                    Cached {
                        facts: UNKNOWN,
                        read_at,
                    },
                );
            }
            for item in &items {
                // SAP answers with its own spelling of the code; only codes we asked for count.
                if let Ok(code) = ItemCode::parse(&item.item_code) {
                    if let Some(entry) = entries.get_mut(&code) {
                        entry.facts = ItemFacts::from(item);
                    }
                }
            }
        }
        let entries = self.lock();
        Ok(codes
            .iter()
            .map(|c| (c.clone(), entries.get(c).map_or(UNKNOWN, |e| e.facts)))
            .collect())
    }

    /// The codes to read: missing or older than `ttl`, or all of them with `refresh`.
    fn stale(&self, codes: &[ItemCode], ttl: Duration, refresh: bool) -> Vec<ItemCode> {
        let now = Instant::now();
        let entries = self.lock();
        codes
            .iter()
            .filter(|c| {
                refresh
                    || entries
                        .get(*c)
                        .is_none_or(|e| now.duration_since(e.read_at) >= ttl)
            })
            .cloned()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ItemCode, Cached>> {
        // The map stays consistent even if a holder panicked: every write is one insert.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
