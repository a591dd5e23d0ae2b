//! Group commit at the edge: webhook handlers hand their new-order events to a few batch
//! tasks, which write what is queued together ([`intake_batch::record_new_orders`]). Each
//! handler still answers only after the commit that holds its event. There is no timer: a
//! batch is whatever queued while the previous one was written, so an idle service adds no
//! latency.
use sqlx::PgPool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::ApiError;
use crate::store::intake::{self, IntakeOutcome};
use crate::store::intake_batch::{self, QueuedEvent};

/// A batch task's answer; `None`: record the event one by one.
type Reply = Option<Result<IntakeOutcome, ApiError>>;

struct Pending {
    event: Arc<QueuedEvent>,
    reply: oneshot::Sender<Reply>,
}

/// The handle handlers submit to. The batch tasks end when every handle is dropped (after
/// the server has finished its in-flight requests).
#[derive(Clone)]
pub struct IntakeBatcher {
    queue: mpsc::Sender<Pending>,
    pool: PgPool,
    largest_batch: Arc<AtomicUsize>,
}

impl IntakeBatcher {
    /// Starts `tasks` batch tasks writing up to `max_batch` events per statement.
    pub fn start(pool: PgPool, tasks: usize, max_batch: usize) -> Self {
        let (queue, rx) = mpsc::channel(1024);
        let rx = Arc::new(Mutex::new(rx));
        let largest_batch = Arc::new(AtomicUsize::new(0));
        for _ in 0..tasks {
            tokio::spawn(write_batches(
                pool.clone(),
                rx.clone(),
                max_batch,
                largest_batch.clone(),
            ));
        }
        Self {
            queue,
            pool,
            largest_batch,
        }
    }

    /// Records a verified event and returns once it is committed: by a batch task, together
    /// with whatever queued with it; one by one when its batch cannot be written as a batch
    /// (an order of it exists) or the batch tasks have stopped.
    pub async fn record(&self, event: Arc<QueuedEvent>) -> Result<IntakeOutcome, ApiError> {
        let (reply, answer) = oneshot::channel();
        let queued = self.queue.send(Pending {
            event: event.clone(),
            reply,
        });
        if queued.await.is_ok() {
            if let Ok(Some(result)) = answer.await {
                return result;
            }
        }
        Ok(intake::record_order_event(&self.pool, &event.delivery(), &event.event).await?)
    }

    /// The most events one statement has written so far (for tests and tuning).
    pub fn largest_batch(&self) -> usize {
        self.largest_batch.load(Ordering::Relaxed)
    }
}

async fn write_batches(
    pool: PgPool,
    queue: Arc<Mutex<mpsc::Receiver<Pending>>>,
    max_batch: usize,
    largest_batch: Arc<AtomicUsize>,
) {
    loop {
        let mut batch = Vec::new();
        {
            let mut rx = queue.lock().await;
            if rx.recv_many(&mut batch, max_batch).await == 0 {
                return;
            }
        }
        let events: Vec<&QueuedEvent> = batch.iter().map(|p| p.event.as_ref()).collect();
        match intake_batch::record_new_orders(&pool, &events).await {
            Ok(Some(outcomes)) => {
                largest_batch.fetch_max(batch.len(), Ordering::Relaxed);
                let mut outcomes = outcomes.into_iter();
                reply_all(batch, || outcomes.next().map(Ok));
            }
            Ok(None) => reply_all(batch, || None),
            Err(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                reply_all(batch, || Some(Err(ApiError::Unavailable)));
            }
            Err(e) => {
                tracing::warn!(error = %e, "batch not written; recording its events one by one");
                reply_all(batch, || None);
            }
        }
    }
}

/// Answers every handler of the batch; one that has gone away (client disconnected) is skipped.
fn reply_all(batch: Vec<Pending>, mut answer: impl FnMut() -> Reply) {
    for p in batch {
        let _ = p.reply.send(answer());
    }
}
