//! The worker pool: claims ready jobs up to its concurrency window, runs each in its own task,
//! wakes on notifications (polling as a fallback), reaps expired leases, and on shutdown stops
//! claiming and gives in-flight jobs a bounded time to finish. Any number of pools, in any
//! number of processes, may share one database: the claim is what keeps them apart.
use sqlx::PgPool;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::config::WorkerConfig;
use super::handler::{Handlers, JobContext};
use super::job::{run_job, JobRun};
use super::wake;
use crate::domain::aimd::Aimd;
use crate::instruments;
use crate::store::outbox;

/// A pool, built and ready to [`run`](WorkerPool::run).
pub struct WorkerPool {
    pool: PgPool,
    handlers: Handlers,
    config: Arc<WorkerConfig>,
    shared: Arc<Shared>,
}

/// How a pool ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStopped {
    /// Jobs still running when the grace period ended. They were dropped mid-call and keep
    /// their lease until it expires, so that SAP has time to finish what they sent before any
    /// worker (here or in another process) runs them again.
    pub abandoned: usize,
}

/// A live view of a running pool, for metrics and tests.
#[derive(Clone)]
pub struct PoolMonitor(Arc<Shared>);

impl PoolMonitor {
    /// The current concurrency window (AIMD).
    pub fn window(&self) -> usize {
        self.0.window()
    }

    pub fn in_flight(&self) -> usize {
        self.0.in_flight.load(Ordering::Relaxed)
    }
}

/// State the pool shares with its job tasks.
pub(super) struct Shared {
    window: Mutex<Aimd>,
    in_flight: AtomicUsize,
}

impl Shared {
    fn window(&self) -> usize {
        self.window.lock().expect("window lock").current()
    }

    pub(super) fn succeeded(&self) {
        let mut w = self.window.lock().expect("window lock");
        w.on_success();
        instruments::WORKER_CONCURRENCY.set(w.current() as i64);
    }

    pub(super) fn locked(&self) {
        let mut w = self.window.lock().expect("window lock");
        w.on_locked();
        instruments::WORKER_CONCURRENCY.set(w.current() as i64);
        tracing::info!(
            window = w.current(),
            "SAP reports locks; fewer jobs run at once"
        );
    }
}

/// Runs a pool until `shutdown` resolves; see [`WorkerPool::run`].
pub async fn run(
    pool: PgPool,
    handlers: Handlers,
    config: WorkerConfig,
    shutdown: impl Future<Output = ()>,
) -> PoolStopped {
    WorkerPool::new(pool, handlers, config).run(shutdown).await
}

impl WorkerPool {
    pub fn new(pool: PgPool, handlers: Handlers, config: WorkerConfig) -> Self {
        let window = Aimd::new(1, config.concurrency);
        instruments::WORKER_CONCURRENCY.set(window.current() as i64);
        let shared = Arc::new(Shared {
            window: Mutex::new(window),
            in_flight: AtomicUsize::new(0),
        });
        Self {
            pool,
            handlers,
            config: Arc::new(config),
            shared,
        }
    }

    pub fn monitor(&self) -> PoolMonitor {
        PoolMonitor(self.shared.clone())
    }

    /// Runs until `shutdown` resolves, then stops claiming, waits up to the grace period for
    /// the jobs in flight, and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> PoolStopped {
        let config = self.config.clone();
        let kinds = self.handlers.kinds();
        let missing = self.handlers.missing();
        if !missing.is_empty() {
            let missing: Vec<&str> = missing.iter().map(|k| k.as_str()).collect();
            tracing::warn!(
                kinds = ?missing,
                "no handler registered for these job kinds; their jobs stay queued"
            );
        }
        let stop = CancellationToken::new();
        let wake = Arc::new(Notify::new());
        let background = [
            tokio::spawn(wake::forward_notifications(
                self.pool.clone(),
                config.listen_url.clone(),
                wake.clone(),
                stop.clone(),
            )),
            tokio::spawn(reap_periodically(
                self.pool.clone(),
                config.reaper_interval,
                stop.clone(),
            )),
        ];
        tracing::info!(
            worker = %config.worker_id,
            concurrency = config.concurrency,
            "worker pool started"
        );

        let mut jobs = JoinSet::new();
        tokio::pin!(shutdown);
        let mut claim_pause = Duration::from_millis(100);
        loop {
            let window = self.shared.window();
            let free = window.saturating_sub(jobs.len());
            let mut idle_for = config.poll_interval;
            if worth_claiming(window, jobs.len()) && !kinds.is_empty() {
                match outbox::claim(&self.pool, &config.worker_id, &kinds, free, config.lease).await
                {
                    Ok(claimed) => {
                        claim_pause = Duration::from_millis(100);
                        let more_may_be_ready = claimed.len() == free;
                        for job in claimed {
                            self.spawn(&mut jobs, job);
                        }
                        self.shared.in_flight.store(jobs.len(), Ordering::Relaxed);
                        if more_may_be_ready {
                            idle_for = Duration::ZERO;
                        } else if let Ok(Some(due)) = outbox::next_due(&self.pool, &kinds).await {
                            idle_for = idle_for.min(due + Duration::from_millis(5));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot claim jobs; trying again");
                        idle_for = idle_for.min(claim_pause);
                        claim_pause = (claim_pause * 2).min(config.poll_interval);
                    }
                }
            }
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                Some(joined) = jobs.join_next(), if !jobs.is_empty() => {
                    log_join(joined);
                    self.shared.in_flight.store(jobs.len(), Ordering::Relaxed);
                }
                _ = wake.notified() => {}
                _ = tokio::time::sleep(idle_for) => {}
            }
        }

        stop.cancel();
        tracing::info!(
            in_flight = jobs.len(),
            grace_ms = config.shutdown_grace.as_millis() as u64,
            "worker pool stopping: no new jobs are claimed; waiting for jobs in flight"
        );
        let _ = tokio::time::timeout(config.shutdown_grace, async {
            while let Some(joined) = jobs.join_next().await {
                log_join(joined);
                self.shared.in_flight.store(jobs.len(), Ordering::Relaxed);
            }
        })
        .await;
        let abandoned = jobs.len();
        if abandoned > 0 {
            tracing::warn!(
                abandoned,
                "grace period over; abandoned jobs run again once their lease expires"
            );
            jobs.shutdown().await;
        }
        self.shared.in_flight.store(0, Ordering::Relaxed);
        for task in background {
            let _ = task.await;
        }
        tracing::info!("worker pool stopped");
        PoolStopped { abandoned }
    }

    fn spawn(&self, jobs: &mut JoinSet<()>, job: outbox::ClaimedJob) {
        let Some(handler) = self.handlers.get(job.kind) else {
            // claim() is asked only for kinds with a handler; should that ever break, the job
            // keeps its lease and the reaper returns it to the queue.
            tracing::error!(
                job = job.id,
                kind = job.kind.as_str(),
                "claimed a job without a handler"
            );
            return;
        };
        let span = tracing::info_span!(
            "job",
            job = job.id,
            subject = %job.subject,
            kind = job.kind.as_str(),
            attempt = job.attempt
        );
        let run = JobRun {
            pool: self.pool.clone(),
            handler,
            ctx: JobContext {
                pool: self.pool.clone(),
                worker_id: self.config.worker_id.clone(),
            },
            config: self.config.clone(),
            shared: self.shared.clone(),
        };
        jobs.spawn(run_job(run, job).instrument(span));
    }
}

/// Whether to claim now. A claim is a transaction of its own; while jobs are running, the pool
/// waits until a quarter of its window is free, so that one claim brings several jobs rather
/// than one per finished job. SAP stays busy meanwhile: the window is three times the SAP
/// request limit (`pipeline::worker_config`), so three quarters of it still fill every permit.
/// An idle pool claims at once, so a lone order waits for nothing.
fn worth_claiming(window: usize, running: usize) -> bool {
    let free = window.saturating_sub(running);
    free > 0 && (running == 0 || free >= (window / 4).max(1))
}

fn log_join(joined: Result<(), tokio::task::JoinError>) {
    if let Err(e) = joined {
        if e.is_panic() {
            tracing::error!(error = %e, "a job task panicked outside its handler");
        }
    }
}

async fn reap_periodically(pool: PgPool, every: Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => match outbox::reap_expired(&pool).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reaped = n, "expired leases returned to the queue"),
                Err(e) => tracing::warn!(error = %e, "cannot reap expired leases; trying again"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::worth_claiming;

    #[test]
    fn a_busy_pool_claims_once_a_quarter_of_its_window_is_free_an_idle_one_at_once() {
        assert!(worth_claiming(16, 0));
        assert!(!worth_claiming(16, 16));
        assert!(!worth_claiming(16, 13), "3 free of 16: wait for more");
        assert!(worth_claiming(16, 12));
        assert!(
            worth_claiming(2, 1),
            "a small window claims for one free slot"
        );
        assert!(worth_claiming(1, 0));
        assert!(!worth_claiming(1, 1));
    }
}
