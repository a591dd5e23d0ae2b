//! The outbox worker pool: queue guarantees on real Postgres (leases, fences, per-order order,
//! retries, parking, shutdown). The handlers here are test handlers on purpose: these tests
//! prove what the queue guarantees, whatever the job does.
use b1bridge::domain::exception::{Category, NewException, SapErrorInfo};
use b1bridge::domain::order_flow::JobKind;
use b1bridge::domain::retry::{FailureKind, RetrySchedule, RetrySchedules};
use b1bridge::magento::envelope::parse_event;
use b1bridge::store::intake::{self, Delivery, IntakeOutcome};
use b1bridge::store::outbox::{self, ClaimedJob, FinishError};
use b1bridge::worker::{
    Handlers, JobContext, JobFailure, JobHandler, JobOutcome, OrderJob, PoolMonitor, PoolStopped,
    WorkerConfig, WorkerPool,
};
use futures::future::BoxFuture;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Semaphore};
use uuid::Uuid;

use crate::support::{wait_until, TestDb};

// ---- the claim's cost ----------------------------------------------------------------------

/// Buffers (shared blocks hit or read) an `EXPLAIN (ANALYZE, BUFFERS)` plan's root reports:
/// its whole tree's.
fn plan_buffers(plan: &serde_json::Value) -> u64 {
    let root = &plan[0]["Plan"];
    ["Shared Hit Blocks", "Shared Read Blocks"]
        .iter()
        .map(|k| root[*k].as_u64().unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn the_claim_reads_only_what_it_claims_however_many_finished_jobs_the_outbox_keeps() {
    let db = TestDb::new().await;
    // Finished jobs are kept, and they have the lowest ids: 20,000 of them ahead of a queue of
    // 2,000 (a backlog after SAP was down, say), of which the claim takes 3.
    sqlx::query(
        "INSERT INTO outbox (other_subject, kind, status, finished_at)
         SELECT 'finished-' || g, 'stock_sync', 'done', now() FROM generate_series(1, 20000) g",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO outbox (other_subject, kind)
         SELECT 'queued-' || g, 'stock_sync' FROM generate_series(1, 2000) g",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE outbox")
        .execute(&db.pool)
        .await
        .unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    let plan: serde_json::Value = sqlx::query_scalar(&format!(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}",
        outbox::CLAIM_SQL
    ))
    .bind("explained")
    .bind(60_000_i64)
    .bind(vec!["stock_sync"])
    .bind(3_i64)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(plan[0]["Plan"]["Actual Rows"].as_f64(), Some(3.0), "{plan}");
    // Walking past the finished jobs would read about 300 blocks of them (and more with
    // every job the outbox keeps); reading only the queue takes a few dozen at most.
    let buffers = plan_buffers(&plan);
    assert!(buffers < 100, "the claim read {buffers} blocks: {plan}");
}

// ---- test handler, journal and pool runner -------------------------------------------------

/// A handler whose behaviour each test writes as a closure over the claimed job.
struct FnHandler(Arc<dyn Fn(ClaimedJob) -> BoxFuture<'static, JobOutcome> + Send + Sync>);

fn handler<F, Fut>(f: F) -> FnHandler
where
    F: Fn(ClaimedJob) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = JobOutcome> + Send + 'static,
{
    FnHandler(Arc::new(move |job| Box::pin(f(job))))
}

impl JobHandler for FnHandler {
    fn handle<'a>(
        &'a self,
        job: &'a ClaimedJob,
        _ctx: &'a JobContext,
    ) -> BoxFuture<'a, JobOutcome> {
        (self.0)(job.clone())
    }
}

/// One execution of a handler.
#[derive(Debug, Clone)]
struct Execution {
    job: i64,
    order: String,
    kind: JobKind,
    attempt: i32,
    start: Instant,
    end: Option<Instant>,
}

/// Records every handler execution and any overlap of one job, or one order, with itself.
#[derive(Clone, Default)]
struct Journal(Arc<Mutex<JournalState>>);

#[derive(Default)]
struct JournalState {
    runs: Vec<Execution>,
    running_jobs: HashSet<i64>,
    running_orders: HashSet<String>,
    violations: Vec<String>,
    active: usize,
    peak: usize,
}

impl Journal {
    fn start(&self, job: &ClaimedJob) -> usize {
        let mut s = self.0.lock().unwrap();
        let order = job.subject.as_str().to_owned();
        if !s.running_jobs.insert(job.id) {
            s.violations.push(format!(
                "job {} ran twice at once (attempt {})",
                job.id, job.attempt
            ));
        }
        if !s.running_orders.insert(order.clone()) {
            s.violations.push(format!(
                "order {order} ran two jobs at once (job {})",
                job.id
            ));
        }
        s.active += 1;
        s.peak = s.peak.max(s.active);
        s.runs.push(Execution {
            job: job.id,
            order,
            kind: job.kind,
            attempt: job.attempt,
            start: Instant::now(),
            end: None,
        });
        s.runs.len() - 1
    }

    fn end(&self, index: usize) {
        let mut s = self.0.lock().unwrap();
        let run = s.runs[index].clone();
        s.runs[index].end = Some(Instant::now());
        s.running_jobs.remove(&run.job);
        s.running_orders.remove(&run.order);
        s.active -= 1;
    }

    fn runs(&self) -> Vec<Execution> {
        self.0.lock().unwrap().runs.clone()
    }

    fn runs_of(&self, job: i64) -> Vec<Execution> {
        self.runs().into_iter().filter(|r| r.job == job).collect()
    }

    fn violations(&self) -> Vec<String> {
        self.0.lock().unwrap().violations.clone()
    }

    fn active(&self) -> usize {
        self.0.lock().unwrap().active
    }

    fn reset_peak(&self) {
        let mut s = self.0.lock().unwrap();
        s.peak = s.active;
    }

    fn peak(&self) -> usize {
        self.0.lock().unwrap().peak
    }
}

/// Short timings so that the tests take seconds, not minutes.
fn config(worker: &str) -> WorkerConfig {
    let fast = RetrySchedule {
        base: Duration::from_millis(20),
        cap: Duration::from_millis(80),
        max_attempts: 50,
        max_age: Duration::from_secs(3600),
    };
    WorkerConfig {
        worker_id: worker.into(),
        concurrency: 4,
        lease: Duration::from_secs(5),
        poll_interval: Duration::from_millis(200),
        reaper_interval: Duration::from_millis(100),
        shutdown_grace: Duration::from_secs(5),
        retry: RetrySchedules {
            locked: fast,
            transient: fast,
            ambiguous_wait: Duration::from_millis(1),
        },
        listen_url: None,
    }
}

/// A pool running in the background, stopped by [`RunningPool::stop`].
struct RunningPool {
    monitor: PoolMonitor,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<PoolStopped>,
}

fn start_pool(pool: &PgPool, handlers: Handlers, config: WorkerConfig) -> RunningPool {
    let wp = WorkerPool::new(pool.clone(), handlers, config);
    let monitor = wp.monitor();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(wp.run(async {
        let _ = rx.await;
    }));
    RunningPool {
        monitor,
        stop: Some(tx),
        task,
    }
}

impl RunningPool {
    fn signal_stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    async fn stop(mut self) -> PoolStopped {
        self.signal_stop();
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("the pool stops")
            .expect("the pool task ends cleanly")
    }
}

/// Checks that `check` stays true for the whole of `period` (sampled): how a test shows that
/// something does *not* happen.
async fn holds_for<F: FnMut() -> bool>(period: Duration, mut check: F) -> bool {
    let deadline = Instant::now() + period;
    while Instant::now() < deadline {
        if !check() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    check()
}

// ---- database helpers ------------------------------------------------------------------------

/// Creates an order row and one outbox job for it, as intake would; returns the job id.
async fn enqueue(pool: &PgPool, increment_id: &str, kind: JobKind) -> i64 {
    sqlx::query(
        "INSERT INTO orders (increment_id, status) VALUES ($1, 'queued') ON CONFLICT DO NOTHING",
    )
    .bind(increment_id)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query_scalar("INSERT INTO outbox (increment_id, kind) VALUES ($1, $2) RETURNING id")
        .bind(increment_id)
        .bind(kind.as_str())
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn job_row(pool: &PgPool, id: i64) -> (String, i32, Option<String>) {
    sqlx::query_as("SELECT status, attempt, locked_by FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn order_status(pool: &PgPool, increment_id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM orders WHERE increment_id = $1")
        .bind(increment_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Sends an event through the real intake path (event, order and outbox in one transaction,
/// NOTIFY on commit); returns the event id.
async fn intake_event(pool: &PgPool, body: serde_json::Value) -> Uuid {
    let body = serde_json::to_vec(&body).unwrap();
    let event = parse_event(&body).expect("usable event");
    let webhook_id = format!("msg_{}", Uuid::new_v4().simple());
    let delivery = Delivery {
        webhook_id: &webhook_id,
        webhook_timestamp: chrono::Utc::now(),
        headers: json!({}),
        body: &body,
    };
    match intake::record_order_event(pool, &delivery, &event)
        .await
        .unwrap()
    {
        IntakeOutcome::Accepted { event_id } => event_id,
        other => panic!("event not accepted: {other:?}"),
    }
}

async fn place(pool: &PgPool, increment_id: &str) -> Uuid {
    intake_event(
        pool,
        json!({"type": "order.placed", "data": {"order": {
            "increment_id": increment_id, "created_at": "2026-11-26 10:00:00",
            "order_currency_code": "EUR", "customer_email": "buyer@example.com", "grand_total": 5,
            "items": [{"item_id": 1, "sku": "MH01-S-Gray", "qty_ordered": 1, "price": 5}]}}}),
    )
    .await
}

async fn cancel(pool: &PgPool, increment_id: &str) -> Uuid {
    intake_event(
        pool,
        json!({"type": "order.cancelled", "data": {"order": {"increment_id": increment_id}}}),
    )
    .await
}

async fn job_id(pool: &PgPool, increment_id: &str, kind: JobKind) -> i64 {
    sqlx::query_scalar("SELECT id FROM outbox WHERE increment_id = $1 AND kind = $2")
        .bind(increment_id)
        .bind(kind.as_str())
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn all_done(pool: &PgPool) -> bool {
    count(pool, "SELECT count(*) FROM outbox WHERE status <> 'done'").await == 0
}

async fn status_is(pool: &PgPool, id: i64, status: &str) -> bool {
    job_row(pool, id).await.0 == status
}

const POST: &[JobKind] = &[JobKind::PostOrder, JobKind::CancelOrder];
const LONG: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_locked_when_fetched() {
    let db = TestDb::new().await;
    let mut ids = vec![];
    for i in 0..40 {
        ids.push(enqueue(&db.pool, &format!("L{i}"), JobKind::PostOrder).await);
    }
    // Another claimer is in the middle of its transaction, holding ten rows: they are skipped,
    // not waited for and not handed out twice.
    let mut other = db.pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM outbox WHERE id = ANY($1) FOR UPDATE")
        .bind(&ids[..10])
        .execute(&mut *other)
        .await
        .unwrap();
    let claimed = tokio::time::timeout(
        Duration::from_secs(3),
        outbox::claim(&db.pool, "a", POST, 40, LONG),
    )
    .await
    .expect("claim skips locked rows instead of waiting")
    .unwrap();
    let claimed: Vec<i64> = claimed.iter().map(|j| j.id).collect();
    assert_eq!(claimed, ids[10..].to_vec());
    other.rollback().await.unwrap();
    for &id in &ids[10..] {
        assert_eq!(
            job_row(&db.pool, id).await,
            ("running".into(), 1, Some("a".into()))
        );
    }

    // Eight claimers race for 200 more jobs: every job goes to exactly one of them.
    for i in 0..200 {
        ids.push(enqueue(&db.pool, &format!("L{}", 100 + i), JobKind::PostOrder).await);
    }
    let racers: Vec<_> = (0..8)
        .map(|n| {
            let pool = db.pool.clone();
            tokio::spawn(async move {
                let me = format!("racer{n}");
                let mut mine = vec![];
                loop {
                    let got = outbox::claim(&pool, &me, POST, 7, LONG).await.unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|j| (j.id, j.attempt)));
                }
            })
        })
        .collect();
    let mut seen = HashMap::new();
    for (n, racer) in racers.into_iter().enumerate() {
        for (id, attempt) in racer.await.unwrap() {
            assert_eq!(attempt, 1, "job {id} claimed more than once");
            assert!(
                seen.insert(id, n).is_none(),
                "job {id} handed to two claimers"
            );
        }
    }
    // The ten rows that were held are claimable again now, alongside the 200.
    assert_eq!(seen.len(), 210);
}

#[tokio::test]
async fn a_stale_workers_late_result_is_rejected_by_the_fence() {
    let db = TestDb::new().await;
    let id = enqueue(&db.pool, "F1", JobKind::PostOrder).await;
    let first = outbox::claim(&db.pool, "stale", POST, 1, Duration::from_millis(200))
        .await
        .unwrap()
        .remove(0);
    // The stale worker stalls past its lease; the reaper returns the job to the queue.
    assert!(
        wait_until(Duration::from_secs(5), || async {
            outbox::reap_expired(&db.pool).await.unwrap() == 1
        })
        .await
    );
    let second = outbox::claim(&db.pool, "fresh", POST, 1, LONG)
        .await
        .unwrap()
        .remove(0);
    assert_eq!((second.id, second.attempt), (id, 2));

    // Every late write of the stale worker is refused, and its own writes in the same
    // transaction roll back with it.
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("UPDATE orders SET sap_doc_entry = 111 WHERE increment_id = 'F1'")
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = outbox::complete(&mut tx, id, first.attempt)
        .await
        .unwrap_err();
    assert!(matches!(err, FinishError::Fenced { job, attempt: 1 } if job == id));
    tx.rollback().await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    let err = outbox::retry_later(&mut conn, id, 1, Duration::ZERO, &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, FinishError::Fenced { .. }));
    let err = outbox::park(&mut conn, id, 1, &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, FinishError::Fenced { .. }));
    assert!(!outbox::renew(&db.pool, id, 1, LONG).await.unwrap());

    // The current holder's result is accepted.
    assert!(outbox::renew(&db.pool, id, 2, LONG).await.unwrap());
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("UPDATE orders SET sap_doc_entry = 222 WHERE increment_id = 'F1'")
        .execute(&mut *tx)
        .await
        .unwrap();
    outbox::complete(&mut tx, id, second.attempt).await.unwrap();
    tx.commit().await.unwrap();
    let doc: Option<i32> =
        sqlx::query_scalar("SELECT sap_doc_entry FROM orders WHERE increment_id = 'F1'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(doc, Some(222));
    assert_eq!(job_row(&db.pool, id).await.0, "done");
    // Done is final: even the holder cannot finish it twice.
    let err = outbox::complete(&mut conn, id, 2).await.unwrap_err();
    assert!(matches!(err, FinishError::Fenced { .. }));
}

#[tokio::test]
async fn expired_leases_are_reaped() {
    let db = TestDb::new().await;
    let id = enqueue(&db.pool, "R1", JobKind::PostOrder).await;
    let live = enqueue(&db.pool, "R2", JobKind::PostOrder).await;
    let short = outbox::claim(&db.pool, "crashed", POST, 1, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(short[0].id, id);
    outbox::claim(&db.pool, "alive", POST, 1, LONG)
        .await
        .unwrap();
    assert_eq!(
        outbox::reap_expired(&db.pool).await.unwrap(),
        0,
        "live leases are left alone"
    );
    assert!(
        wait_until(Duration::from_secs(5), || async {
            outbox::reap_expired(&db.pool).await.unwrap() == 1
        })
        .await
    );
    let (status, attempt, locked_by) = job_row(&db.pool, id).await;
    assert_eq!(
        (status.as_str(), attempt, locked_by),
        ("pending", 1, None),
        "attempt stays"
    );
    let last_error: serde_json::Value =
        sqlx::query_scalar("SELECT last_error FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(last_error["kind"], "lease_expired");
    assert_eq!(last_error["worker"], "crashed");
    assert_eq!(job_row(&db.pool, live).await.0, "running");
    let again = outbox::claim(&db.pool, "next", POST, 5, LONG)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempt), (id, 2));
}

#[tokio::test]
async fn parked_jobs_are_requeued_by_requeue_parked() {
    let db = TestDb::new().await;
    let id = enqueue(&db.pool, "P1", JobKind::PostOrder).await;
    let job = outbox::claim(&db.pool, "w", POST, 1, LONG)
        .await
        .unwrap()
        .remove(0);
    let mut conn = db.pool.acquire().await.unwrap();
    outbox::park(&mut conn, id, job.attempt, &json!({"kind": "permanent"}))
        .await
        .unwrap();
    assert_eq!(job_row(&db.pool, id).await.0, "parked");
    assert_eq!(
        order_status(&db.pool, "P1").await,
        "queued",
        "the queue parks the job only; holding the order is the order handlers' part"
    );
    b1bridge::store::posting::hold(&mut conn, "P1")
        .await
        .unwrap();
    assert_eq!(order_status(&db.pool, "P1").await, "parked");
    assert!(
        outbox::claim(&db.pool, "w", POST, 1, LONG)
            .await
            .unwrap()
            .is_empty(),
        "parked jobs are never claimed"
    );

    let mut tx = db.pool.begin().await.unwrap();
    assert_eq!(outbox::requeue_parked(&mut tx, "P1").await.unwrap(), 1);
    tx.commit().await.unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    assert_eq!(
        outbox::requeue_parked(&mut tx, "P1").await.unwrap(),
        0,
        "nothing left parked"
    );
    tx.commit().await.unwrap();

    let again = outbox::claim(&db.pool, "w", POST, 1, LONG)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(again.id, id);
    assert_eq!(again.attempt, 2, "the fencing token keeps growing");
    assert_eq!(again.retry_attempt, 1, "but the retry budget starts afresh");
    assert!(again.retry_age < Duration::from_secs(5));
}

#[tokio::test]
async fn a_cancel_supersedes_a_parked_post_of_its_order() {
    let db = TestDb::new().await;
    let post = enqueue(&db.pool, "S1", JobKind::PostOrder).await;
    let job = outbox::claim(&db.pool, "w", POST, 1, LONG)
        .await
        .unwrap()
        .remove(0);
    let mut conn = db.pool.acquire().await.unwrap();
    outbox::park(&mut conn, post, job.attempt, &json!({"kind": "permanent"}))
        .await
        .unwrap();
    // Magento cancels the order while its post is parked.
    let cancel = enqueue(&db.pool, "S1", JobKind::CancelOrder).await;

    let claimed = outbox::claim(&db.pool, "w", POST, 5, LONG).await.unwrap();
    assert_eq!(
        claimed.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![cancel],
        "the cancel runs; the parked post does not block it"
    );
    let (status, superseded_by): (String, Option<i64>) =
        sqlx::query_as("SELECT status, superseded_by FROM outbox WHERE id = $1")
            .bind(post)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), superseded_by), ("done", Some(cancel)));
    let mut tx = db.pool.begin().await.unwrap();
    assert_eq!(
        outbox::requeue_parked(&mut tx, "S1").await.unwrap(),
        0,
        "an operator's retry can no longer post a cancelled order"
    );
}

#[tokio::test]
async fn a_later_job_of_an_order_waits_for_the_earlier_one() {
    let db = TestDb::new().await;
    let post = enqueue(&db.pool, "O1", JobKind::PostOrder).await;
    let cancel = enqueue(&db.pool, "O1", JobKind::CancelOrder).await;
    let other = enqueue(&db.pool, "O2", JobKind::PostOrder).await;
    let first = outbox::claim(&db.pool, "w", POST, 10, LONG).await.unwrap();
    assert_eq!(
        first.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![post, other]
    );
    // A failed post waiting for its retry still holds the cancel back.
    let mut conn = db.pool.acquire().await.unwrap();
    outbox::retry_later(&mut conn, post, 1, Duration::ZERO, &json!({}))
        .await
        .unwrap();
    let second = outbox::claim(&db.pool, "w", POST, 10, LONG).await.unwrap();
    assert_eq!(second.iter().map(|j| j.id).collect::<Vec<_>>(), vec![post]);
    outbox::complete(&mut conn, post, 2).await.unwrap();
    let third = outbox::claim(&db.pool, "w", POST, 10, LONG).await.unwrap();
    assert_eq!(third.iter().map(|j| j.id).collect::<Vec<_>>(), vec![cancel]);
}

// ---- the pool ------------------------------------------------------------------------------

/// A handler that journals each execution, takes a few milliseconds, and fails the first
/// attempt of every seventh job transiently, so that jobs also move between pools on retry.
fn journaling(journal: &Journal) -> FnHandler {
    let journal = journal.clone();
    handler(move |job| {
        let journal = journal.clone();
        async move {
            let run = journal.start(&job);
            tokio::time::sleep(Duration::from_millis((job.id % 5) as u64)).await;
            journal.end(run);
            if job.id % 7 == 0 && job.attempt == 1 {
                JobOutcome::failed(JobFailure::new(FailureKind::Transient, json!("flaky")))
            } else {
                JobOutcome::done()
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_pools_on_one_database_never_run_a_job_twice() {
    let db = TestDb::new().await;
    let journal = Journal::default();
    let mut pools = vec![];
    for name in ["p1", "p2", "p3"] {
        // Each pool has its own connections, as separate processes would.
        let conns = PgPoolOptions::new()
            .max_connections(6)
            .connect(&db.url)
            .await
            .unwrap();
        let mut cfg = config(name);
        cfg.concurrency = 5;
        let handlers = Handlers::new()
            .register(JobKind::PostOrder, journaling(&journal))
            .register(JobKind::CancelOrder, journaling(&journal));
        pools.push(start_pool(&conns, handlers, cfg));
    }
    // Jobs arrive while the pools run: 300 orders, every fifth also cancelled.
    for batch in 0..3 {
        sqlx::query(
            "INSERT INTO orders (increment_id, status)
             SELECT 'M' || g, 'queued' FROM generate_series($1::int, $1::int + 99) g",
        )
        .bind(batch * 100)
        .execute(&db.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO outbox (increment_id, kind)
             SELECT 'M' || g, k FROM generate_series($1::int, $1::int + 99) g,
                    unnest(ARRAY['post_order', 'cancel_order']) WITH ORDINALITY AS u(k, n)
              WHERE n = 1 OR g % 5 = 0
              ORDER BY g, n",
        )
        .bind(batch * 100)
        .execute(&db.pool)
        .await
        .unwrap();
        sqlx::query("SELECT pg_notify('b1bridge_outbox', 'batch')")
            .execute(&db.pool)
            .await
            .unwrap();
    }
    assert!(
        wait_until(Duration::from_secs(60), || all_done(&db.pool)).await,
        "every job is done"
    );
    for p in pools {
        assert_eq!(p.stop().await, PoolStopped { abandoned: 0 });
    }

    assert_eq!(journal.violations(), Vec::<String>::new());
    let jobs: Vec<(i64, i32, String)> =
        sqlx::query_as("SELECT id, attempt, locked_by FROM outbox ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(jobs.len(), 360);
    let mut runs_per_job: HashMap<i64, Vec<i32>> = HashMap::new();
    for r in journal.runs() {
        assert!(r.end.is_some(), "every execution finished");
        runs_per_job.entry(r.job).or_default().push(r.attempt);
    }
    let mut workers = HashSet::new();
    for (id, attempt, locked_by) in jobs {
        let expected: Vec<i32> = if id % 7 == 0 { vec![1, 2] } else { vec![1] };
        let mut seen = runs_per_job.remove(&id).unwrap_or_default();
        seen.sort();
        assert_eq!(seen, expected, "job {id}: each attempt ran exactly once");
        assert_eq!(attempt, *expected.last().unwrap());
        workers.insert(locked_by);
    }
    assert_eq!(workers.len(), 3, "all three pools took part");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_one_order_run_one_at_a_time_in_order() {
    let db = TestDb::new().await;
    // Both jobs of every order are queued before any worker runs: the most tempting case.
    let orders: Vec<String> = (0..25).map(|i| format!("00000{i:04}")).collect();
    for o in &orders {
        place(&db.pool, o).await;
        cancel(&db.pool, o).await;
    }
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM outbox WHERE status = 'pending'"
        )
        .await,
        50
    );
    let journal = Journal::default();
    let slow_post = {
        let journal = journal.clone();
        handler(move |job| {
            let journal = journal.clone();
            async move {
                let run = journal.start(&job);
                tokio::time::sleep(Duration::from_millis(30)).await;
                journal.end(run);
                JobOutcome::done()
            }
        })
    };
    let mut pools = vec![];
    for name in ["a", "b"] {
        let mut cfg = config(name);
        cfg.concurrency = 8;
        let handlers = Handlers::new()
            .register(JobKind::PostOrder, slow_post.clone_handler())
            .register(JobKind::CancelOrder, journaling(&journal));
        pools.push(start_pool(&db.pool, handlers, cfg));
    }
    assert!(wait_until(Duration::from_secs(30), || all_done(&db.pool)).await);
    for p in pools {
        p.stop().await;
    }
    assert_eq!(journal.violations(), Vec::<String>::new());
    let runs = journal.runs();
    for o in &orders {
        let post: Vec<_> = runs
            .iter()
            .filter(|r| &r.order == o && r.kind == JobKind::PostOrder)
            .collect();
        let cancel: Vec<_> = runs
            .iter()
            .filter(|r| &r.order == o && r.kind == JobKind::CancelOrder)
            .collect();
        assert_eq!(post.len(), 1, "{o}");
        let cancel_start = cancel.first().expect("cancel ran").start;
        assert!(
            post[0].end.unwrap() <= cancel_start,
            "{o}: the cancel started before the post was done"
        );
    }
}

impl FnHandler {
    fn clone_handler(&self) -> FnHandler {
        FnHandler(self.0.clone())
    }
}

#[tokio::test]
async fn notify_wakes_workers_before_the_poll_interval() {
    let db = TestDb::new().await;
    let mut cfg = config("listener");
    cfg.poll_interval = Duration::from_secs(120);
    cfg.reaper_interval = Duration::from_secs(120);
    let pool = start_pool(
        &db.pool,
        Handlers::new().register(
            JobKind::PostOrder,
            handler(|_| async { JobOutcome::done() }),
        ),
        cfg,
    );
    assert!(
        wait_until(Duration::from_secs(10), || async {
            count(
                &db.pool,
                "SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
            )
            .await
                == 1
        })
        .await,
        "the pool listens"
    );
    // Several orders one after another, each once the pool is idle again: each is picked up
    // long before the two-minute poll.
    for i in 0..3 {
        let order = format!("N{i}");
        let started = Instant::now();
        place(&db.pool, &order).await;
        let id = job_id(&db.pool, &order, JobKind::PostOrder).await;
        assert!(
            wait_until(Duration::from_secs(5), || status_is(&db.pool, id, "done")).await,
            "order {order} was not picked up"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    pool.stop().await;
}

#[tokio::test]
async fn long_jobs_renew_their_lease() {
    let db = TestDb::new().await;
    let id = enqueue(&db.pool, "LONG1", JobKind::PostOrder).await;
    let release = Arc::new(Semaphore::new(0));
    let journal = Journal::default();
    let slow = {
        let (release, journal) = (release.clone(), journal.clone());
        handler(move |job| {
            let (release, journal) = (release.clone(), journal.clone());
            async move {
                let run = journal.start(&job);
                let _permit = release.acquire().await.unwrap();
                journal.end(run);
                JobOutcome::done()
            }
        })
    };
    let mut cfg = config("slow");
    cfg.lease = Duration::from_millis(300);
    let pool = start_pool(
        &db.pool,
        Handlers::new().register(JobKind::PostOrder, slow),
        cfg,
    );
    assert!(wait_until(Duration::from_secs(5), || async { journal.active() == 1 }).await);
    // Four leases long, a rescuer keeps looking for expired leases: it never finds this one.
    let deadline = Instant::now() + Duration::from_millis(1200);
    while Instant::now() < deadline {
        assert_eq!(outbox::reap_expired(&db.pool).await.unwrap(), 0);
        let live = count(
            &db.pool,
            "SELECT count(*) FROM outbox WHERE status = 'running' AND locked_until > now()",
        )
        .await;
        assert_eq!(live, 1, "the lease is kept alive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    release.add_permits(1);
    assert!(wait_until(Duration::from_secs(5), || status_is(&db.pool, id, "done")).await);
    assert_eq!(journal.runs_of(id).len(), 1);
    assert_eq!(job_row(&db.pool, id).await.1, 1, "one attempt");
    pool.stop().await;
}

#[tokio::test]
async fn a_crashed_workers_job_is_reaped_and_run_by_a_live_pool() {
    let db = TestDb::new().await;
    let id = enqueue(&db.pool, "CRASH1", JobKind::PostOrder).await;
    // A worker claims the job and dies: nothing renews or finishes it.
    outbox::claim(&db.pool, "dead", POST, 1, Duration::from_millis(300))
        .await
        .unwrap();
    let journal = Journal::default();
    let pool = start_pool(
        &db.pool,
        Handlers::new().register(JobKind::PostOrder, journaling(&journal)),
        config("alive"),
    );
    assert!(wait_until(Duration::from_secs(10), || status_is(&db.pool, id, "done")).await);
    let runs = journal.runs_of(id);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].attempt, 2, "the dead worker's attempt is spent");
    pool.stop().await;
}

#[tokio::test]
async fn locked_failures_back_off_and_shrink_concurrency() {
    let db = TestDb::new().await;
    let mut ids = vec![];
    for i in 0..8 {
        ids.push(enqueue(&db.pool, &format!("LK{i}"), JobKind::PostOrder).await);
    }
    let locking = Arc::new(AtomicBool::new(true));
    let release = Arc::new(Semaphore::new(0));
    let journal = Journal::default();
    let sap = {
        let (locking, release, journal) = (locking.clone(), release.clone(), journal.clone());
        handler(move |job| {
            let (locking, release, journal) = (locking.clone(), release.clone(), journal.clone());
            async move {
                let run = journal.start(&job);
                if locking.load(Ordering::SeqCst) {
                    journal.end(run);
                    return JobOutcome::failed(
                        JobFailure::new(FailureKind::Locked, json!({"code": -2039}))
                            .with_sap_error(SapErrorInfo {
                                code: -2039,
                                message: "Document is locked by another user".into(),
                            }),
                    );
                }
                let _permit = release.acquire().await.unwrap();
                journal.end(run);
                JobOutcome::done()
            }
        })
    };
    let mut cfg = config("aimd");
    cfg.concurrency = 4;
    cfg.poll_interval = Duration::from_millis(50);
    let pool = start_pool(
        &db.pool,
        Handlers::new().register(JobKind::PostOrder, OrderJob::new(sap)),
        cfg,
    );
    let monitor = pool.monitor.clone();
    assert_eq!(monitor.window(), 4);
    assert!(
        wait_until(Duration::from_secs(10), || async { monitor.window() == 1 }).await,
        "locks halve the window down to one"
    );
    // SAP stops locking but answers slowly: with a window of one, a single job is in flight
    // although others are ready.
    locking.store(false, Ordering::SeqCst);
    assert!(wait_until(Duration::from_secs(5), || async { journal.active() == 1 }).await);
    journal.reset_peak();
    assert!(
        wait_until(Duration::from_secs(5), || async {
            count(
                &db.pool,
                "SELECT count(*) FROM outbox WHERE status = 'pending' AND run_after <= now()",
            )
            .await
                >= 2
        })
        .await,
        "other jobs are ready"
    );
    assert!(
        holds_for(Duration::from_millis(400), || journal.peak() == 1).await,
        "a second job was started although the window is one"
    );
    // Successes grow the window back.
    release.add_permits(1000);
    assert!(wait_until(Duration::from_secs(20), || all_done(&db.pool)).await);
    assert!(monitor.window() > 1, "successes grow the window");

    // Every locked retry waited out its backoff: between half and all of
    // min(cap, base * 2^(attempt-1)) after the failure.
    let schedule = config("x").retry.locked;
    for id in ids {
        let runs = journal.runs_of(id);
        for pair in runs.windows(2) {
            let gap = pair[1].start - pair[0].end.unwrap();
            let floor = schedule.delay(pair[0].attempt as u32, 0.0);
            assert!(
                gap + Duration::from_millis(2) >= floor,
                "job {id} attempt {} retried after {gap:?}, before its backoff of {floor:?}",
                pair[1].attempt
            );
        }
    }
    let with_lock_errors = count(
        &db.pool,
        "SELECT count(*) FROM outbox WHERE last_error->>'failure' = 'locked'
            AND last_error->'sap_error'->>'code' = '-2039'",
    )
    .await;
    assert!(with_lock_errors > 0, "the lock error is kept on the job");
    pool.stop().await;
}

#[tokio::test]
async fn permanent_failure_parks_the_order_with_an_exception() {
    let db = TestDb::new().await;
    let event = place(&db.pool, "000000013").await;
    place(&db.pool, "000000014").await;
    let succeed = Arc::new(AtomicBool::new(false));
    let journal = Journal::default();
    let sap = {
        let (succeed, journal) = (succeed.clone(), journal.clone());
        handler(move |job| {
            let (succeed, journal) = (succeed.clone(), journal.clone());
            async move {
                let run = journal.start(&job);
                journal.end(run);
                if succeed.load(Ordering::SeqCst) {
                    return JobOutcome::done();
                }
                let sap_error = SapErrorInfo {
                    code: -10,
                    message: "Item 'MH01-S-Gray' does not exist".into(),
                };
                let failure = JobFailure::new(FailureKind::Permanent, json!({"code": -10}))
                    .with_sap_error(sap_error.clone());
                if job.subject.as_str() == "000000014" {
                    // No business cause known: the pool files sap_rejected.
                    return JobOutcome::failed(failure);
                }
                let order = job.subject.as_str().to_owned();
                let skus = vec!["MH01-S-Gray".to_owned()];
                JobOutcome::failed(failure.with_exception(NewException {
                    category: Category::UnknownSku,
                    title: format!("SKU 'MH01-S-Gray' on order {order} has no SAP B1 item"),
                    detail: "Create the item in SAP B1 or map the SKU, then retry.".into(),
                    dedup_key: NewException::dedup_key_for(
                        Category::UnknownSku,
                        Some(&order),
                        &skus,
                    ),
                    order_increment_id: Some(order),
                    skus,
                    sap_error: Some(sap_error),
                    context: json!({}),
                }))
            }
        })
    };
    let pool = start_pool(
        &db.pool,
        Handlers::new().register(JobKind::PostOrder, OrderJob::new(sap)),
        config("perm"),
    );
    let id = job_id(&db.pool, "000000013", JobKind::PostOrder).await;
    let other = job_id(&db.pool, "000000014", JobKind::PostOrder).await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            status_is(&db.pool, id, "parked").await && status_is(&db.pool, other, "parked").await
        })
        .await
    );
    assert_eq!(
        journal.runs_of(id).len(),
        1,
        "a permanent failure is not retried"
    );
    assert_eq!(order_status(&db.pool, "000000013").await, "parked");
    assert_eq!(order_status(&db.pool, "000000014").await, "parked");
    let (category, sap_error, event_id, skus): (
        String,
        serde_json::Value,
        Option<Uuid>,
        Vec<String>,
    ) = sqlx::query_as(
        "SELECT category, sap_error, event_id, skus FROM exceptions
              WHERE order_increment_id = '000000013'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(category, "unknown_sku");
    assert_eq!(
        sap_error,
        json!({"code": -10, "message": "Item 'MH01-S-Gray' does not exist"})
    );
    assert_eq!(
        event_id,
        Some(event),
        "the exception points at the event behind the job"
    );
    assert_eq!(skus, vec!["MH01-S-Gray"]);
    let category: String = sqlx::query_scalar(
        "SELECT category FROM exceptions WHERE order_increment_id = '000000014'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(category, "sap_rejected");
    let last_error: serde_json::Value =
        sqlx::query_scalar("SELECT last_error FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(last_error["failure"], "permanent");
    assert_eq!(last_error["sap_error"]["code"], -10);

    // Once the cause is fixed, an operator's retry runs the job again, to completion.
    succeed.store(true, Ordering::SeqCst);
    let mut tx = db.pool.begin().await.unwrap();
    assert_eq!(
        outbox::requeue_parked(&mut tx, "000000013").await.unwrap(),
        1
    );
    tx.commit().await.unwrap();
    assert!(wait_until(Duration::from_secs(10), || status_is(&db.pool, id, "done")).await);
    assert_eq!(journal.runs_of(id).len(), 2);
    assert!(
        status_is(&db.pool, other, "parked").await,
        "other orders stay parked"
    );
    pool.stop().await;
}

#[tokio::test]
async fn exhausted_retries_park_with_sap_unavailable() {
    let db = TestDb::new().await;
    place(&db.pool, "000000020").await;
    place(&db.pool, "000000021").await;
    let id = job_id(&db.pool, "000000020", JobKind::PostOrder).await;
    let old = job_id(&db.pool, "000000021", JobKind::PostOrder).await;
    // The second job has been failing for two days already: its age budget is spent.
    sqlx::query("UPDATE outbox SET retry_since = now() - interval '2 days' WHERE id = $1")
        .bind(old)
        .execute(&db.pool)
        .await
        .unwrap();
    let journal = Journal::default();
    let down = {
        let journal = journal.clone();
        handler(move |job| {
            let journal = journal.clone();
            async move {
                let run = journal.start(&job);
                journal.end(run);
                JobOutcome::failed(
                    JobFailure::new(FailureKind::Transient, json!({"http_status": 503}))
                        .with_sap_error(SapErrorInfo {
                            code: 503,
                            message: "Service Unavailable".into(),
                        }),
                )
            }
        })
    };
    let mut cfg = config("exhaust");
    cfg.retry.transient.max_attempts = 3;
    let pool = start_pool(
        &db.pool,
        Handlers::new().register(JobKind::PostOrder, OrderJob::new(down)),
        cfg,
    );
    assert!(
        wait_until(Duration::from_secs(10), || async {
            status_is(&db.pool, id, "parked").await && status_is(&db.pool, old, "parked").await
        })
        .await
    );
    let attempts: Vec<i32> = journal.runs_of(id).iter().map(|r| r.attempt).collect();
    assert_eq!(attempts, vec![1, 2, 3], "three attempts, then parked");
    assert_eq!(journal.runs_of(old).len(), 1, "too old to retry at all");
    for order in ["000000020", "000000021"] {
        assert_eq!(order_status(&db.pool, order).await, "parked");
        let (category, team, occurrences, sap_error): (String, String, i32, serde_json::Value) =
            sqlx::query_as(
                "SELECT category, owner_team, occurrences, sap_error FROM exceptions
                  WHERE order_increment_id = $1",
            )
            .bind(order)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(
            (category.as_str(), team.as_str(), occurrences),
            ("sap_unavailable", "integration", 1),
            "{order}"
        );
        assert_eq!(sap_error["code"], 503);
    }
    pool.stop().await;
}

#[tokio::test]
async fn shutdown_stops_claiming_and_waits_for_in_flight_jobs() {
    let db = TestDb::new().await;
    for i in 0..6 {
        enqueue(&db.pool, &format!("SD{i}"), JobKind::PostOrder).await;
    }
    let release = Arc::new(Semaphore::new(0));
    let journal = Journal::default();
    let blocking = {
        let (release, journal) = (release.clone(), journal.clone());
        handler(move |job| {
            let (release, journal) = (release.clone(), journal.clone());
            async move {
                let run = journal.start(&job);
                let _permit = release.acquire().await.unwrap();
                journal.end(run);
                JobOutcome::done()
            }
        })
    };
    let mut cfg = config("stopping");
    cfg.concurrency = 2;
    let mut pool = start_pool(
        &db.pool,
        Handlers::new().register(JobKind::PostOrder, blocking),
        cfg,
    );
    assert!(wait_until(Duration::from_secs(5), || async { journal.active() == 2 }).await);

    pool.signal_stop();
    assert!(
        holds_for(Duration::from_millis(300), || !pool.task.is_finished()).await,
        "the pool returned while jobs were in flight"
    );
    release.add_permits(100);
    let stopped = pool.stop().await;
    assert_eq!(stopped, PoolStopped { abandoned: 0 });
    assert_eq!(
        journal.runs().len(),
        2,
        "nothing was claimed after the shutdown signal"
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM outbox WHERE status = 'done'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM outbox WHERE status = 'pending' AND attempt = 0"
        )
        .await,
        4
    );
}

#[tokio::test]
async fn shutdown_gives_up_on_in_flight_jobs_after_the_grace_period() {
    let db = TestDb::new().await;
    let id = enqueue(&db.pool, "HANG1", JobKind::PostOrder).await;
    let journal = Journal::default();
    let hanging = {
        let journal = journal.clone();
        handler(move |job| {
            let journal = journal.clone();
            async move {
                journal.start(&job);
                std::future::pending::<()>().await;
                JobOutcome::done()
            }
        })
    };
    let mut cfg = config("hung");
    cfg.shutdown_grace = Duration::from_millis(300);
    cfg.lease = Duration::from_secs(2);
    let pool = start_pool(
        &db.pool,
        Handlers::new().register(JobKind::PostOrder, hanging),
        cfg,
    );
    assert!(wait_until(Duration::from_secs(5), || async { journal.active() == 1 }).await);
    let asked = Instant::now();
    let stopped = pool.stop().await;
    assert_eq!(stopped, PoolStopped { abandoned: 1 });
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "stopped within the grace bound"
    );
    // The abandoned job keeps its lease, so SAP has time to finish whatever it was sent; then
    // any reaper returns it to the queue.
    assert_eq!(job_row(&db.pool, id).await.0, "running");
    assert!(
        wait_until(Duration::from_secs(5), || async {
            outbox::reap_expired(&db.pool).await.unwrap() == 1
        })
        .await
    );
    assert_eq!(job_row(&db.pool, id).await.0, "pending");
}

#[tokio::test]
async fn a_panicking_handler_fails_the_job_not_the_worker() {
    let db = TestDb::new().await;
    let id = enqueue(&db.pool, "PANIC1", JobKind::PostOrder).await;
    let journal = Journal::default();
    let buggy = {
        let journal = journal.clone();
        handler(move |job| {
            let journal = journal.clone();
            async move {
                let run = journal.start(&job);
                journal.end(run);
                if job.attempt == 1 {
                    panic!("bug in the mapping");
                }
                JobOutcome::done()
            }
        })
    };
    let pool = start_pool(
        &db.pool,
        Handlers::new().register(JobKind::PostOrder, buggy),
        config("p"),
    );
    assert!(wait_until(Duration::from_secs(10), || status_is(&db.pool, id, "done")).await);
    let last_error: serde_json::Value =
        sqlx::query_scalar("SELECT last_error FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(last_error["failure"], "transient");
    assert_eq!(last_error["error"]["panic"], "bug in the mapping");
    assert_eq!(journal.runs_of(id).len(), 2);
    pool.stop().await;
}

#[tokio::test]
async fn jobs_without_a_handler_stay_queued() {
    let db = TestDb::new().await;
    place(&db.pool, "000000030").await;
    cancel(&db.pool, "000000030").await;
    let post = job_id(&db.pool, "000000030", JobKind::PostOrder).await;
    let cancel_job = job_id(&db.pool, "000000030", JobKind::CancelOrder).await;
    let pool = start_pool(
        &db.pool,
        Handlers::new().register(
            JobKind::PostOrder,
            handler(|_| async { JobOutcome::done() }),
        ),
        config("posts-only"),
    );
    assert!(wait_until(Duration::from_secs(5), || status_is(&db.pool, post, "done")).await);
    let monitor = pool.monitor.clone();
    assert!(
        wait_until(Duration::from_secs(5), || async {
            monitor.in_flight() == 0
        })
        .await
    );
    assert!(
        holds_for(Duration::from_millis(300), || monitor.in_flight() == 0).await,
        "the cancel job, which no handler here can do, was claimed"
    );
    pool.stop().await;
    assert_eq!(
        job_row(&db.pool, cancel_job).await,
        ("pending".into(), 0, None)
    );
}
