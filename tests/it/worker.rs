//! The outbox worker pool: queue guarantees on real Postgres (leases, fences, per-order order,
//! retries, parking, shutdown). The handlers here are test handlers on purpose: these tests
//! prove what the queue guarantees, whatever the job does.
use b1bridge::domain::order_flow::JobKind;
use b1bridge::store::outbox::{self, FinishError};
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashSet;
use std::time::Duration;

use crate::support::{wait_until, TestDb};

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

const POST: &[JobKind] = &[JobKind::PostOrder, JobKind::CancelOrder];
const LONG: Duration = Duration::from_secs(60);

#[tokio::test]
async fn jobs_are_locked_when_fetched() {
    let db = TestDb::new().await;
    let mut ids = HashSet::new();
    for i in 0..30 {
        ids.insert(enqueue(&db.pool, &format!("L{i}"), JobKind::PostOrder).await);
    }
    let (a, b) = tokio::join!(
        outbox::claim(&db.pool, "a", POST, 20, LONG),
        outbox::claim(&db.pool, "b", POST, 20, LONG)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let a_ids: HashSet<i64> = a.iter().map(|j| j.id).collect();
    let b_ids: HashSet<i64> = b.iter().map(|j| j.id).collect();
    assert!(
        a_ids.is_disjoint(&b_ids),
        "a job was handed to two claimers"
    );
    assert_eq!(a_ids.len() + b_ids.len(), 30, "every ready job was claimed");
    for (who, jobs) in [("a", &a), ("b", &b)] {
        for j in jobs.iter() {
            assert_eq!(j.attempt, 1);
            assert_eq!(j.retry_attempt, 1);
            let (status, attempt, locked_by) = job_row(&db.pool, j.id).await;
            assert_eq!(
                (status.as_str(), attempt, locked_by.as_deref()),
                ("running", 1, Some(who))
            );
        }
    }
    assert!(outbox::claim(&db.pool, "c", POST, 20, LONG)
        .await
        .unwrap()
        .is_empty());
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
