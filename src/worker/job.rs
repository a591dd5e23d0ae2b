//! One claimed job, in explicit stages: call the handler (its lease renewed meanwhile, panics
//! caught), then either record the success or apply the retry policy to the failure. Every
//! finishing write is fenced on the job's attempt, so a worker that lost its lease changes
//! nothing. Nothing here knows what the job is about: the handler's completion and its
//! `on_parked` record what success or parking means for the subject.
use futures::FutureExt;
use serde_json::json;
use sqlx::PgPool;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument;

use super::config::WorkerConfig;
use super::handler::{Completion, JobContext, JobFailure, JobHandler, JobOutcome};
use super::pool::Shared;
use crate::domain::retry::{decide, FailureKind, RetryDecision};
use crate::instruments;
use crate::store::outbox::{self, ClaimedJob, FinishError};
use crate::store::{self, StoreError};

/// Everything a job needs besides itself.
pub(super) struct JobRun {
    pub pool: PgPool,
    pub handler: Arc<dyn JobHandler>,
    pub ctx: JobContext,
    pub config: Arc<WorkerConfig>,
    pub shared: Arc<Shared>,
}

pub(super) async fn run_job(run: JobRun, job: ClaimedJob) {
    let started = Instant::now();
    tracing::info!("job started");
    match call(&run, &job).await {
        JobOutcome::Done(completion) => on_success(&run, &job, completion).await,
        JobOutcome::Failed(failure) => on_failure(&run, &job, *failure, started.elapsed()).await,
    }
}

/// The call stage: the handler runs with no transaction open while a companion task keeps the
/// lease alive. A panic becomes a transient failure, so a bug fails the job, not the worker.
async fn call(run: &JobRun, job: &ClaimedJob) -> JobOutcome {
    let _renewer = AbortOnDropHandle::new(tokio::spawn(
        keep_lease(run.pool.clone(), job.id, job.attempt, run.config.clone())
            .instrument(tracing::Span::current()),
    ));
    match AssertUnwindSafe(run.handler.handle(job, &run.ctx))
        .catch_unwind()
        .await
    {
        Ok(outcome) => outcome,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-text panic payload".into());
            tracing::error!(panic = %message, "job handler panicked");
            JobOutcome::failed(JobFailure::new(
                FailureKind::Transient,
                json!({ "panic": message }),
            ))
        }
    }
}

/// Renews the lease every third of it until aborted. A lost lease is reported once and the
/// call is left to finish: SAP may already have acted, and the fence discards the result.
async fn keep_lease(pool: PgPool, id: i64, attempt: i32, config: Arc<WorkerConfig>) {
    let every = config.renew_every();
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match outbox::renew(&pool, id, attempt, config.lease).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("lease lost while the job was running; its result will be rejected");
                return;
            }
            Err(e) => tracing::warn!(error = %e, "lease renewal failed; trying again"),
        }
    }
}

/// The success stage: the job is marked done and the handler's completion recorded in one
/// transaction, which the fence rolls back if this worker no longer holds the job.
async fn on_success(run: &JobRun, job: &ClaimedJob, completion: Box<dyn Completion>) {
    run.shared.succeeded();
    instruments::JOB_ATTEMPTS.inc(&[job.kind.as_str(), "done"]);
    let result: Result<(), FinishError> = async {
        let mut tx = if completion.durable() {
            run.pool.begin().await
        } else {
            store::begin_recoverable(&run.pool).await
        }
        .map_err(StoreError::from)?;
        outbox::complete(&mut tx, job.id, job.attempt).await?;
        completion.record(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => tracing::info!("job done"),
        Err(e) => report_unfinished(e, "success"),
    }
}

/// The failure stage: the retry policy decides; the job is re-queued with a backoff or parked
/// (with the handler's record of what that means), in one transaction.
async fn on_failure(run: &JobRun, job: &ClaimedJob, failure: JobFailure, ran_for: Duration) {
    if failure.kind == FailureKind::Locked {
        run.shared.locked();
    }
    let decision = decide(
        failure.kind,
        job.retry_attempt,
        job.retry_age + ran_for,
        &run.config.retry,
        rand::random::<f64>(),
    );
    let outcome = match decision {
        RetryDecision::Park(_) => "parked",
        RetryDecision::RetryAfter(_) | RetryDecision::RetryNow => "retry",
    };
    instruments::JOB_ATTEMPTS.inc(&[job.kind.as_str(), outcome]);
    // The SAP client's class of the error, when the failure came from SAP.
    let sap_class = failure.error["sap"].as_str().unwrap_or("other");
    instruments::JOB_FAILURES_BY_SAP_CLASS.inc(&[sap_class]);
    let last_error = json!({
        "failure": failure.kind.as_str(),
        "attempt": job.attempt,
        "error": failure.error,
        "sap_error": failure.sap_error,
    });
    let result: Result<(), FinishError> = async {
        let mut tx = run.pool.begin().await.map_err(StoreError::from)?;
        match decision {
            RetryDecision::RetryAfter(delay) => {
                outbox::retry_later(&mut tx, job.id, job.attempt, delay, &last_error).await?;
            }
            RetryDecision::RetryNow => {
                outbox::retry_later(&mut tx, job.id, job.attempt, Duration::ZERO, &last_error)
                    .await?;
            }
            RetryDecision::Park(reason) => {
                outbox::park(&mut tx, job.id, job.attempt, &last_error).await?;
                run.handler
                    .on_parked(&mut tx, job, reason, &failure)
                    .await?;
            }
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
    .await;
    match (result, decision) {
        (Ok(()), RetryDecision::RetryAfter(delay)) => tracing::warn!(
            failure = failure.kind.as_str(),
            retry_in_ms = delay.as_millis() as u64,
            "job failed; retrying later"
        ),
        (Ok(()), RetryDecision::RetryNow) => tracing::warn!(
            failure = failure.kind.as_str(),
            "job failed; retrying at once"
        ),
        (Ok(()), RetryDecision::Park(reason)) => tracing::warn!(
            failure = failure.kind.as_str(),
            reason = ?reason,
            "job parked; it waits for an operator"
        ),
        (Err(e), _) => report_unfinished(e, "failure"),
    }
}

fn report_unfinished(e: FinishError, what: &str) {
    match e {
        FinishError::Fenced { .. } => tracing::warn!(
            outcome = what,
            "result rejected: this worker lost the job's lease and another attempt owns it"
        ),
        FinishError::Store(e) => tracing::error!(
            outcome = what,
            error = %e,
            "could not record the job's outcome; it runs again once its lease expires"
        ),
    }
}
