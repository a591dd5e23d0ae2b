//! The look-up that precedes every create: which SAP Sales Orders and drafts already carry an
//! order's reference (`NumAtCard`) and are not cancelled (docs/sap-exactly-once.md).
//!
//! Two ways, one guarantee. An order on its **first attempt** is looked up in a batch: the
//! first such order that finds nothing prepared reads the references of the next few dozen
//! orders queued for posting from Postgres and asks SAP for all of them at once (one request
//! for `Orders`, one for `Drafts`), so the happy path costs about one request per order (the
//! create). While orders stream through, the next batch is asked in the background before the
//! answers run out, so jobs find theirs ready instead of waiting a round trip for a batch.
//! Every order in a batch was stored by b1bridge before the batch was read, so an order keyed
//! into SAP by hand before b1bridge saw it is found. An answer is trusted for [`TRUST_FOR`] and
//! used once. Whenever an earlier attempt may have reached SAP (any later
//! attempt, an order awaiting approval, after an unclear create answer) the look-up is
//! **fresh** and individual.
use sqlx::PgPool;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument;

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

/// Below this many prepared answers the next batch is asked ahead of the jobs. A batch takes
/// one SAP round trip after a wait for a free SAP slot, behind every create already queued
/// for one (up to twice as many as the slots): at 8 slots and 20 ms that is 40–60 ms, while a
/// full batch of answers lasts about 100 ms at the 400 orders a second such slots allow.
const LOW_WATER: usize = BATCH;

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
    batches: Arc<Batches>,
    /// The refill running ahead of the jobs, if any: aborted with the look-up, so no SAP call
    /// outlives the pool that made it (the pool logs out of SAP once it stops).
    refill: Mutex<Option<AbortOnDropHandle<()>>>,
}

/// The batched answers, shared with the refill running ahead of the jobs.
struct Batches {
    prefetched: Mutex<HashMap<String, Prefetched>>,
    /// References whose answer was used lately: their jobs are still listed as running, but a
    /// batch gains nothing by asking for them again.
    taken: Mutex<Taken>,
    /// One batch at a time: jobs that miss while one is in flight wait for it, and most then
    /// find their answer in it.
    in_flight: Arc<tokio::sync::Mutex<()>>,
    /// The last batch asked ahead found no queued order without an answer: no more are asked
    /// ahead (each would read the queue for nothing, once per order) until a job misses,
    /// which means new orders came, and asks its own batch.
    queue_answered: AtomicBool,
}

impl OrderLookup {
    pub fn new(sap: SapClient) -> Self {
        Self {
            sap,
            batches: Arc::new(Batches {
                prefetched: Mutex::new(HashMap::new()),
                taken: Mutex::new(Taken::default()),
                in_flight: Arc::new(tokio::sync::Mutex::new(())),
                queue_answered: AtomicBool::new(false),
            }),
            refill: Mutex::new(None),
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
        if let Some(found) = self.batches.take(reference) {
            self.refill_if_low(pool, format);
            return Ok(found);
        }
        let _one_batch = self.batches.in_flight.lock().await;
        if let Some(found) = self.batches.take(reference) {
            return Ok(found);
        }
        let mine = ask_batch(&self.sap, &self.batches, pool, format, Some(reference)).await?;
        Ok(mine.unwrap_or_default())
    }

    /// Asks for the next batch in the background once fewer than [`LOW_WATER`] answers are
    /// left, so that a stream of orders finds its answers ready instead of every job waiting
    /// for the batch that the first miss would start (one SAP round trip, during which the
    /// SAP slots would stand idle). Not while another batch is in flight, nor after one found
    /// the queue answered; SAP is asked only when the queue holds orders without an answer.
    fn refill_if_low(&self, pool: &PgPool, format: &NumAtCardFormat) {
        if self.batches.queue_answered.load(Ordering::Relaxed) || self.batches.young() >= LOW_WATER
        {
            return;
        }
        let Ok(one_batch) = self.batches.in_flight.clone().try_lock_owned() else {
            return;
        };
        let (sap, batches, pool, format) = (
            self.sap.clone(),
            self.batches.clone(),
            pool.clone(),
            format.clone(),
        );
        let task = tokio::spawn(
            async move {
                let _one_batch = one_batch;
                if let Err(e) = ask_batch(&sap, &batches, &pool, &format, None).await {
                    // Not a failure of any job: the jobs that miss ask for themselves.
                    tracing::debug!(error = %e, "batched NumAtCard look-up ahead failed");
                }
            }
            .instrument(tracing::Span::current()),
        );
        *lock(&self.refill) = Some(AbortOnDropHandle::new(task));
    }
}

impl Batches {
    /// A prepared answer for `reference`, if one is young enough; it is used only once.
    fn take(&self, reference: &str) -> Option<Existing> {
        let p = lock(&self.prefetched).remove(reference)?;
        if p.asked_at.elapsed() >= TRUST_FOR {
            return None;
        }
        self.mark_taken(reference);
        Some(p.existing)
    }

    /// How many prepared answers are still young enough to use.
    fn young(&self) -> usize {
        lock(&self.prefetched)
            .values()
            .filter(|p| p.asked_at.elapsed() < TRUST_FOR)
            .count()
    }

    fn mark_taken(&self, reference: &str) {
        lock(&self.taken).insert(reference);
    }
}

/// One batch, asked while holding `batches.in_flight`: `first` (a job's own reference, whose
/// answer is returned and not kept) and the references of the next orders queued for posting
/// that have no answer yet, up to [`BATCH`]. Every order in it was stored before the queue was
/// read, so an order keyed into SAP by hand before b1bridge saw it is found. Without `first`
/// and with nothing new queued, SAP is not asked.
async fn ask_batch(
    sap: &SapClient,
    batches: &Batches,
    pool: &PgPool,
    format: &NumAtCardFormat,
    first: Option<&str>,
) -> Result<Option<Existing>, LookupError> {
    let mut refs: Vec<String> = first.map(str::to_owned).into_iter().collect();
    // The queue's head holds the orders in flight and those already answered (up to a batch
    // and a low-water mark's worth): read past them to find a batch of new ones.
    let upcoming = store::documents::upcoming_posts(pool, BATCH as i64 * 4).await?;
    {
        let known = lock(&batches.prefetched);
        let taken = lock(&batches.taken);
        for post in upcoming {
            if refs.len() >= BATCH {
                break;
            }
            // An order whose reference cannot be built is held by its own job.
            let Ok(r) = format.render_parts(&post.increment_id, post.store_id) else {
                continue;
            };
            if !refs.contains(&r) && !known.contains_key(&r) && !taken.contains(&r) {
                refs.push(r);
            }
        }
    }
    // Asked ahead (no `first`), an empty batch means every queued order has its answer; a
    // job's own batch means orders keep coming.
    batches
        .queue_answered
        .store(first.is_none() && refs.is_empty(), Ordering::Relaxed);
    if refs.is_empty() {
        return Ok(None);
    }
    let asked_at = Instant::now();
    let (orders, drafts) = tokio::try_join!(
        sap.find_by_references(ReferenceSearch::Orders, &refs, None),
        sap.find_by_references(ReferenceSearch::Drafts, &refs, None),
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
    let mine = first.map(|r| {
        batches.mark_taken(r);
        answers.remove(r).unwrap_or_default()
    });
    let mut cache = lock(&batches.prefetched);
    cache.retain(|_, p| p.asked_at.elapsed() < TRUST_FOR);
    for (r, existing) in answers {
        cache.insert(r, Prefetched { asked_at, existing });
    }
    tracing::debug!(references = refs.len(), "batched NumAtCard look-up");
    Ok(mine)
}

/// The references answered within [`TRUST_FOR`]. At hundreds of orders a second that is tens
/// of thousands, so they expire oldest first from a queue rather than by a scan of them all on
/// every answer.
#[derive(Default)]
struct Taken {
    refs: HashSet<String>,
    by_age: VecDeque<(Instant, String)>,
}

impl Taken {
    fn insert(&mut self, reference: &str) {
        while let Some((at, _)) = self.by_age.front() {
            if at.elapsed() < TRUST_FOR {
                break;
            }
            if let Some((_, old)) = self.by_age.pop_front() {
                self.refs.remove(&old);
            }
        }
        if self.refs.insert(reference.to_owned()) {
            self.by_age
                .push_back((Instant::now(), reference.to_owned()));
        }
    }

    fn contains(&self, reference: &str) -> bool {
        self.refs.contains(reference)
    }
}

/// The maps stay consistent even if a holder panicked: every change is one insert or removal.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
