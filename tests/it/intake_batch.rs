//! Group commit for intake: new orders queued together are written by one statement, with the
//! same outcomes as recording them one by one.
use b1bridge::http::intake_batcher::IntakeBatcher;
use b1bridge::http::ApiError;
use b1bridge::magento::envelope::parse_event;
use b1bridge::store::intake::{record_order_event, IntakeOutcome};
use b1bridge::store::intake_batch::QueuedEvent;
use chrono::Utc;
use futures::future::join_all;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use std::sync::Arc;
use std::time::Duration;

use crate::support::{envelope, sample_order, TestDb};

/// A placement of the sample order under another increment id, as the webhook queues it.
fn placed(webhook_id: &str, increment_id: &str) -> Arc<QueuedEvent> {
    let mut order = sample_order("rest-order-guest-configurable.json");
    order["increment_id"] = json!(increment_id);
    let body = envelope("order.placed", &order);
    Arc::new(QueuedEvent {
        webhook_id: webhook_id.to_owned(),
        webhook_timestamp: Utc::now(),
        headers: json!({ "webhook-id": webhook_id }),
        event: parse_event(&body).expect("a usable event"),
        body: body.into(),
    })
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

/// Records every event at once (they queue together) and returns their outcomes in order.
async fn burst(batcher: &IntakeBatcher, events: &[Arc<QueuedEvent>]) -> Vec<IntakeOutcome> {
    join_all(events.iter().map(|e| batcher.record(e.clone())))
        .await
        .into_iter()
        .map(|r| r.expect("recorded"))
        .collect()
}

fn is_accepted(o: &IntakeOutcome) -> bool {
    matches!(o, IntakeOutcome::Accepted { .. })
}

fn event_id(o: &IntakeOutcome) -> uuid::Uuid {
    match o {
        IntakeOutcome::Accepted { event_id }
        | IntakeOutcome::Duplicate { event_id }
        | IntakeOutcome::Invalid { event_id, .. } => *event_id,
    }
}

#[tokio::test]
async fn a_burst_of_new_orders_is_written_in_batches_with_every_event_order_and_job() {
    let db = TestDb::new().await;
    let batcher = IntakeBatcher::start(db.pool.clone(), 2, 64);
    let events: Vec<_> = (0..200)
        .map(|i| placed(&format!("msg_burst_{i}"), &format!("7{i:08}")))
        .collect();
    let outcomes = burst(&batcher, &events).await;
    assert!(outcomes.iter().all(is_accepted), "{outcomes:?}");
    assert!(batcher.largest_batch() > 1, "the batch path was used");
    assert_eq!(count(&db, "SELECT count(*) FROM webhook_events").await, 200);
    assert_eq!(
        count(&db, "SELECT count(*) FROM orders WHERE status = 'queued'").await,
        200
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM outbox WHERE kind = 'post_order'").await,
        200
    );
    let stored: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT e.id FROM webhook_events e JOIN outbox j ON j.event_id = e.id
          WHERE e.increment_id = j.increment_id ORDER BY e.id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut answered: Vec<_> = outcomes.iter().map(event_id).collect();
    answered.sort();
    assert_eq!(
        stored, answered,
        "each answer names its stored event and job"
    );
}

#[tokio::test]
async fn a_batch_with_repeated_ids_answers_each_repeat_as_a_duplicate_of_the_stored_event() {
    let db = TestDb::new().await;
    let stored_before = placed("msg_earlier", "800000001");
    let earlier = record_order_event(&db.pool, &stored_before.delivery(), &stored_before.event)
        .await
        .unwrap();
    let batcher = IntakeBatcher::start(db.pool.clone(), 1, 64);
    let mut events: Vec<_> = (0..10)
        .map(|i| placed(&format!("msg_new_{i}"), &format!("80000010{i}")))
        .collect();
    events.extend((0..3).map(|_| placed("msg_twice", "800000200")));
    events.push(placed("msg_earlier", "800000001"));
    let outcomes = burst(&batcher, &events).await;
    assert!(batcher.largest_batch() > 1, "written as a batch");

    assert!(outcomes[..10].iter().all(is_accepted), "{outcomes:?}");
    let repeats = &outcomes[10..13];
    assert_eq!(repeats.iter().filter(|o| is_accepted(o)).count(), 1);
    assert!(
        repeats.iter().all(|o| event_id(o) == event_id(&repeats[0])),
        "one stored event: {repeats:?}"
    );
    assert_eq!(
        outcomes[13],
        IntakeOutcome::Duplicate {
            event_id: event_id(&earlier)
        }
    );
    assert_eq!(count(&db, "SELECT count(*) FROM webhook_events").await, 12);
    assert_eq!(count(&db, "SELECT count(*) FROM orders").await, 12);
    assert_eq!(count(&db, "SELECT count(*) FROM outbox").await, 12);
}

#[tokio::test]
async fn a_batch_naming_a_known_order_is_recorded_one_by_one_with_the_same_outcomes() {
    let db = TestDb::new().await;
    let first = placed("msg_first", "900000001");
    record_order_event(&db.pool, &first.delivery(), &first.event)
        .await
        .unwrap();
    let batcher = IntakeBatcher::start(db.pool.clone(), 1, 64);
    let mut events: Vec<_> = (0..5)
        .map(|i| placed(&format!("msg_other_{i}"), &format!("90000010{i}")))
        .collect();
    events.push(placed("msg_again", "900000001"));
    events.push(placed("msg_other_0", "900000100"));
    let outcomes = burst(&batcher, &events).await;
    assert_eq!(
        batcher.largest_batch(),
        0,
        "the batch statement wrote nothing"
    );

    assert!(outcomes[..6].iter().all(is_accepted), "{outcomes:?}");
    assert_eq!(
        outcomes[6],
        IntakeOutcome::Duplicate {
            event_id: event_id(&outcomes[0])
        }
    );
    assert_eq!(count(&db, "SELECT count(*) FROM webhook_events").await, 7);
    assert_eq!(count(&db, "SELECT count(*) FROM orders").await, 6);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE increment_id = '900000001'"
        )
        .await,
        1,
        "a repeated placement does not queue the order again"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM outbox").await, 6);
}

#[tokio::test]
async fn a_batch_that_cannot_reach_postgres_answers_unavailable_to_every_event_in_it() {
    let unreachable = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy("postgres://postgres@127.0.0.1:1/postgres")
        .unwrap();
    let batcher = IntakeBatcher::start(unreachable, 1, 64);
    let events: Vec<_> = (0..5)
        .map(|i| placed(&format!("msg_down_{i}"), &format!("95000000{i}")))
        .collect();
    let results = join_all(events.iter().map(|e| batcher.record(e.clone()))).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(ApiError::Unavailable))),
        "{results:?}"
    );
}
