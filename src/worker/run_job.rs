//! What makes a job a run: its subject is a run's id; the run is marked running when a worker
//! takes it (again, after a crashed worker's lease ran out), and its outcome is recorded with
//! the job's fenced completion. A run that fails (SAP or Magento down) still completes its
//! job: the next scheduled run catches up, so the queue does not retry it.
use futures::future::BoxFuture;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::handler::{Completion, JobContext, JobFailure, JobHandler, JobOutcome};
use crate::domain::retry::{FailureKind, ParkReason};
use crate::domain::run::RunStatus;
use crate::store::outbox::ClaimedJob;
use crate::store::runs::{self, Run};
use crate::store::StoreError;

/// How a run went.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// What it did (counts, requests made); shown by `GET /api/v1/runs`.
    pub figures: serde_json::Value,
    /// Why it failed; `None`: it succeeded.
    pub error: Option<String>,
}

/// The work of one kind of run.
pub trait RunTask: Send + Sync + 'static {
    fn run<'a>(&'a self, run: &'a Run, ctx: &'a JobContext) -> BoxFuture<'a, RunResult>;
}

/// A run task as a job handler.
pub struct RunJob<T>(T);

impl<T: RunTask> RunJob<T> {
    pub fn new(task: T) -> Self {
        Self(task)
    }
}

fn run_id(job: &ClaimedJob) -> Result<Uuid, JobFailure> {
    Uuid::parse_str(&job.subject).map_err(|_| {
        JobFailure::new(
            FailureKind::Permanent,
            json!({ "problem": "the job's subject is not a run id", "subject": job.subject }),
        )
    })
}

impl<T: RunTask> JobHandler for RunJob<T> {
    fn handle<'a>(&'a self, job: &'a ClaimedJob, ctx: &'a JobContext) -> BoxFuture<'a, JobOutcome> {
        Box::pin(async move {
            let id = match run_id(job) {
                Ok(id) => id,
                Err(f) => return JobOutcome::failed(f),
            };
            let run = match runs::begin(&ctx.pool, id).await {
                Ok(Some(run)) => run,
                Ok(None) => {
                    tracing::warn!(run = %id, "run already finished or unknown; nothing to do");
                    return JobOutcome::done();
                }
                Err(e) => {
                    return JobOutcome::failed(JobFailure::new(
                        FailureKind::Transient,
                        json!({ "store": e.to_string() }),
                    ))
                }
            };
            tracing::info!(run = %id, kind = run.kind.as_str(), trigger = run.trigger.as_str(), "run started");
            let result = self.0.run(&run, ctx).await;
            match &result.error {
                None => tracing::info!(run = %id, figures = %result.figures, "run succeeded"),
                Some(e) => {
                    tracing::warn!(run = %id, error = %e, figures = %result.figures, "run failed")
                }
            }
            JobOutcome::done_with(Finished { id, result })
        })
    }

    fn on_parked<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        job: &'c ClaimedJob,
        _reason: ParkReason,
        failure: &'c JobFailure,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            if let Ok(id) = Uuid::parse_str(&job.subject) {
                let error = format!("the run could not be executed: {}", failure.error);
                runs::finish(conn, id, RunStatus::Failed, &json!({}), Some(&error)).await?;
            }
            Ok(())
        })
    }
}

/// The run's outcome, written with its job's completion.
struct Finished {
    id: Uuid,
    result: RunResult,
}

impl Completion for Finished {
    fn record<'c>(
        self: Box<Self>,
        conn: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            let status = if self.result.error.is_none() {
                RunStatus::Succeeded
            } else {
                RunStatus::Failed
            };
            runs::finish(
                conn,
                self.id,
                status,
                &self.result.figures,
                self.result.error.as_deref(),
            )
            .await
        })
    }
}

/// Why [`run_here`] did not run.
#[derive(Debug, thiserror::Error)]
pub enum RunHereError {
    #[error(transparent)]
    Start(#[from] runs::StartError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts a run and executes it with a worker pool of this process that does only `task`'s
/// kind, returning the finished run: how `b1bridge stock sync` runs, through the same
/// queue, lease and recording as a scheduled run. (Should another process's pool claim the
/// job first, this waits for that one to finish it.)
pub async fn run_here<T: RunTask>(
    pool: &sqlx::PgPool,
    kind: crate::domain::run::RunKind,
    trigger: crate::domain::run::RunTrigger,
    requested_by: &str,
    task: T,
) -> Result<Run, RunHereError> {
    use std::time::Duration;
    let run = runs::start(pool, kind, trigger, requested_by).await?;
    let handlers = super::Handlers::new().register(kind.job_kind(), RunJob::new(task));
    let config = super::WorkerConfig {
        concurrency: 1,
        poll_interval: Duration::from_millis(100),
        ..super::WorkerConfig::default()
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let workers = tokio::spawn(
        super::WorkerPool::new(pool.clone(), handlers, config).run(stop.clone().cancelled_owned()),
    );
    let finished = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        match runs::get(pool, run.id).await {
            Ok(Some(current)) if !current.status.is_active() => break Ok(current),
            Ok(_) => {}
            Err(e) => break Err(e),
        }
    };
    stop.cancel();
    let _ = workers.await;
    Ok(finished?)
}
