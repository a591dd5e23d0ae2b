//! What a job handler is: the code that does one kind of outbox job (post an order to SAP,
//! cancel it, run a stock sync). The pool owns everything around it — claiming, leases,
//! retries, parking — and knows nothing of orders or runs: a job is an opaque subject, and
//! what a success or a parked job means for that subject is the handler's to record.
use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::exception::{NewException, SapErrorInfo};
use crate::domain::order_flow::JobKind;
use crate::domain::retry::{FailureKind, ParkReason};
use crate::store::outbox::ClaimedJob;
use crate::store::StoreError;

/// Does one kind of job. Called with no transaction open and the job's lease held (the pool
/// renews it), so it may take as long as SAP takes. It must be safe to run again for the same
/// job: a worker can lose its lease after SAP acted, and then the job runs a second time (for a
/// post: look the order up by `NumAtCard` before creating it).
pub trait JobHandler: Send + Sync + 'static {
    fn handle<'a>(&'a self, job: &'a ClaimedJob, ctx: &'a JobContext) -> BoxFuture<'a, JobOutcome>;

    /// Called when the retry policy parks the job, in the transaction that parks it (and only
    /// if this worker still holds it): records what that means for the job's subject (an
    /// order held with an exception for its owning team, a run marked failed). By default
    /// nothing beyond the parked job itself.
    fn on_parked<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        job: &'c ClaimedJob,
        reason: ParkReason,
        failure: &'c JobFailure,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        let _ = (conn, job, reason, failure);
        Box::pin(async { Ok(()) })
    }
}

/// What a handler may use besides the job.
#[derive(Clone)]
pub struct JobContext {
    /// For reading what the job needs (the order, mappings). Writes that record the outcome
    /// belong in a [`Completion`], so that they commit with the job or not at all.
    pub pool: PgPool,
    pub worker_id: Arc<str>,
}

/// How a handler's call went.
pub enum JobOutcome {
    /// The job succeeded; the completion records what that means.
    Done(Box<dyn Completion>),
    /// Boxed: a failure carries an exception, a success only a pointer.
    Failed(Box<JobFailure>),
}

impl JobOutcome {
    /// Success with nothing to record beyond the job being done.
    pub fn done() -> Self {
        JobOutcome::Done(Box::new(NothingToRecord))
    }

    pub fn done_with(completion: impl Completion + 'static) -> Self {
        JobOutcome::Done(Box::new(completion))
    }

    pub fn failed(failure: JobFailure) -> Self {
        JobOutcome::Failed(Box::new(failure))
    }
}

/// The "on success" stage of a job: writes what the success means (SAP DocEntry, the order's
/// new status) in the transaction that marks the job done. It runs only when the worker still
/// holds the job, so a stale worker's success leaves no trace.
pub trait Completion: Send {
    fn record<'c>(
        self: Box<Self>,
        conn: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>>;

    /// Whether the transaction that records this completion (and marks the job done) must
    /// reach disk before the worker moves on: yes by default. Only a completion whose loss
    /// the job's next attempt repairs by itself says no; its transaction then commits without
    /// waiting for the disk (see [`crate::store::begin_recoverable`]).
    fn durable(&self) -> bool {
        true
    }
}

/// The completion of a job whose success needs no record of its own.
pub struct NothingToRecord;

impl Completion for NothingToRecord {
    fn record<'c>(
        self: Box<Self>,
        _conn: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

/// A failed call, classified for the retry policy.
#[derive(Debug, Clone, PartialEq)]
pub struct JobFailure {
    pub kind: FailureKind,
    /// Kept as the job's `last_error` for support: what failed, in the handler's words.
    pub error: serde_json::Value,
    /// The SAP error, if SAP answered; copied into the exception when the job is parked.
    pub sap_error: Option<SapErrorInfo>,
    /// For `Permanent` failures: the exceptions to file (e.g. `unknown_sku` for a missing item
    /// and `item_not_sellable` for an inactive one on the same order, each for its own team).
    /// Without any, a `sap_rejected` exception is filed.
    pub exceptions: Vec<NewException>,
}

impl JobFailure {
    pub fn new(kind: FailureKind, error: serde_json::Value) -> Self {
        Self {
            kind,
            error,
            sap_error: None,
            exceptions: Vec::new(),
        }
    }

    pub fn with_sap_error(mut self, sap_error: SapErrorInfo) -> Self {
        self.sap_error = Some(sap_error);
        self
    }

    pub fn with_exception(mut self, exception: NewException) -> Self {
        self.exceptions.push(exception);
        self
    }
}

/// The handler for each job kind. A kind without a handler is never claimed: its jobs wait in
/// the queue until a process that can do them runs.
#[derive(Clone, Default)]
pub struct Handlers(HashMap<JobKind, Arc<dyn JobHandler>>);

impl Handlers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(mut self, kind: JobKind, handler: impl JobHandler) -> Self {
        self.0.insert(kind, Arc::new(handler));
        self
    }

    /// Adds every handler of `other` (replacing this one's for the same kind).
    pub fn merge(mut self, other: Handlers) -> Self {
        self.0.extend(other.0);
        self
    }

    pub fn get(&self, kind: JobKind) -> Option<Arc<dyn JobHandler>> {
        self.0.get(&kind).cloned()
    }

    /// The kinds this pool can do, and so claims.
    pub fn kinds(&self) -> Vec<JobKind> {
        self.0.keys().copied().collect()
    }

    /// The kinds nobody here can do (logged at start, so a missing handler is visible).
    pub fn missing(&self) -> Vec<JobKind> {
        JobKind::ALL
            .into_iter()
            .filter(|k| !self.0.contains_key(k))
            .collect()
    }
}
