//! The look-up that precedes every create: which SAP Sales Orders and drafts already carry an
//! order's reference (`NumAtCard`) and are not cancelled (docs/sap-exactly-once.md).
//!
//! Two ways, one guarantee. An order on its **first attempt** is looked up in a batch: the
//! first such order that finds nothing prepared reads the references of the next few dozen
//! orders queued for posting from Postgres and asks SAP for all of them at once (one request
//! for `Orders`, one for `Drafts`), so the happy path costs about one request per order (the
//! create). Every order in a batch was stored by b1bridge before the batch was read, so an
//! order keyed into SAP by hand before b1bridge saw it is found. An answer is trusted for
//! [`TRUST_FOR`] and used once. Whenever an earlier attempt may have reached SAP (any later
//! attempt, an order awaiting approval, after an unclear create answer) the look-up is
//! **fresh** and individual.
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::reference::NumAtCardFormat;
use crate::sap::types::SalesOrder;
use crate::sap::{ReferenceSearch, SapClient, SapError};
use crate::store::{self, StoreError};

/// How many orders one batched look-up covers. Each adds about 30 characters to the URL; 40
/// keeps it near 2 KB, well inside what web servers accept in a request line.
pub const BATCH: usize = 40;

/// How long a batched answer is used. It bounds the window in which an order keyed into SAP by
/// hand *after* b1bridge stored it (and before its post) goes unseen, like any look-up's.
pub const TRUST_FOR: Duration = Duration::from_secs(60);

/// What SAP holds under one reference, cancelled documents left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Existing {
    pub orders: Vec<SalesOrder>,
    pub drafts: Vec<SalesOrder>,
}

impl Existing {
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.drafts.is_empty()
    }
}

/// Why a look-up failed.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Sap(#[from] SapError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Prefetched {
    asked_at: Instant,
    existing: Existing,
}

/// Shared by the post jobs of a process.
pub struct OrderLookup {
    sap: SapClient,
    prefetched: Mutex<HashMap<String, Prefetched>>,
    /// References whose answer was used lately: their jobs are still listed as running, but a
    /// batch gains nothing by asking for them again.
    taken: Mutex<HashMap<String, Instant>>,
    /// One batch at a time: jobs that miss while one is in flight wait for it, and most then
    /// find their answer in it.
    in_flight: tokio::sync::Mutex<()>,
}

impl OrderLookup {
    pub fn new(sap: SapClient) -> Self {
        Self {
            sap,
            prefetched: Mutex::new(HashMap::new()),
            taken: Mutex::new(HashMap::new()),
            in_flight: tokio::sync::Mutex::new(()),
        }
    }

    /// An individual look-up of `reference`, only `card_code`'s documents when given: for
    /// every attempt after which SAP may already hold the order.
    pub async fn fresh(
        &self,
        reference: &str,
        card_code: Option<&str>,
    ) -> Result<Existing, LookupError> {
        let refs = [reference.to_owned()];
        let (orders, drafts) = tokio::try_join!(
            self.sap
                .find_by_references(ReferenceSearch::Orders, &refs, card_code),
            self.sap
                .find_by_references(ReferenceSearch::Drafts, &refs, card_code),
        )?;
        Ok(Existing { orders, drafts })
    }

    /// The open drafts of `reference` for `card_code`: asked after SAP answered a create with
    /// -2028, which an approval procedure's draft also produces.
    pub async fn drafts(
        &self,
        reference: &str,
        card_code: &str,
    ) -> Result<Vec<SalesOrder>, SapError> {
        self.sap
            .find_by_references(
                ReferenceSearch::Drafts,
                &[reference.to_owned()],
                Some(card_code),
            )
            .await
    }

    /// The A/R credit memos carrying a refund's reference, cancelled ones left out: asked
    /// fresh before every create of a credit memo. Refunds are few, so they are not
    /// batched; an ambiguous create is settled by this look-up on the next attempt, as for
    /// orders.
    pub async fn credit_notes(&self, reference: &str) -> Result<Vec<SalesOrder>, SapError> {
        self.sap
            .find_by_references(ReferenceSearch::CreditNotes, &[reference.to_owned()], None)
            .await
    }

    /// The batched look-up, for an order on its first attempt (see the module comment).
    pub async fn batched(
        &self,
        pool: &PgPool,
        reference: &str,
        format: &NumAtCardFormat,
    ) -> Result<Existing, LookupError> {
        if let Some(found) = self.take(reference) {
            return Ok(found);
        }
        let _one_batch = self.in_flight.lock().await;
        if let Some(found) = self.take(reference) {
            return Ok(found);
        }
        let mut refs = vec![reference.to_owned()];
        let upcoming = store::documents::upcoming_posts(pool, BATCH as i64 * 2).await?;
        {
            let known = self.lock();
            let taken = lock(&self.taken);
            for post in upcoming {
                if refs.len() >= BATCH {
                    break;
                }
                // An order whose reference cannot be built is held by its own job.
                let Ok(r) = format.render_parts(&post.increment_id, post.store_id) else {
                    continue;
                };
                if !refs.contains(&r) && !known.contains_key(&r) && !taken.contains_key(&r) {
                    refs.push(r);
                }
            }
        }
        let asked_at = Instant::now();
        let (orders, drafts) = tokio::try_join!(
            self.sap
                .find_by_references(ReferenceSearch::Orders, &refs, None),
            self.sap
                .find_by_references(ReferenceSearch::Drafts, &refs, None),
        )?;
        let mut answers: HashMap<String, Existing> = refs
            .iter()
            .map(|r| (r.clone(), Existing::default()))
            .collect();
        let asked: HashSet<&String> = refs.iter().collect();
        for (doc, is_draft) in orders
            .into_iter()
            .map(|d| (d, false))
            .chain(drafts.into_iter().map(|d| (d, true)))
        {
            let Some(n) = doc.num_at_card.clone().filter(|n| asked.contains(n)) else {
                continue;
            };
            let entry = answers.entry(n).or_default();
            if is_draft {
                entry.drafts.push(doc);
            } else {
                entry.orders.push(doc);
            }
        }
        let mine = answers.remove(reference).unwrap_or_default();
        self.mark_taken(reference);
        let mut cache = self.lock();
        cache.retain(|_, p| p.asked_at.elapsed() < TRUST_FOR);
        for (r, existing) in answers {
            cache.insert(r, Prefetched { asked_at, existing });
        }
        tracing::debug!(references = refs.len(), "batched NumAtCard look-up");
        Ok(mine)
    }

    /// A prepared answer for `reference`, if one is young enough; it is used only once.
    fn take(&self, reference: &str) -> Option<Existing> {
        let p = self.lock().remove(reference)?;
        if p.asked_at.elapsed() >= TRUST_FOR {
            return None;
        }
        self.mark_taken(reference);
        Some(p.existing)
    }

    fn mark_taken(&self, reference: &str) {
        let mut taken = lock(&self.taken);
        taken.retain(|_, at| at.elapsed() < TRUST_FOR);
        taken.insert(reference.to_owned(), Instant::now());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Prefetched>> {
        lock(&self.prefetched)
    }
}

/// The maps stay consistent even if a holder panicked: every change is one insert or removal.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
