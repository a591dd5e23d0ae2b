//! What makes a job an order job: parking it holds its order (status `parked`) and files the
//! exception that tells the owning team what to do. The post and cancel handlers are wrapped
//! in [`OrderJob`], so the pool itself stays generic; their completions record what a success
//! means for the order (DocEntry, status, exceptions resolved).
use futures::future::BoxFuture;
use sqlx::PgConnection;

use super::handler::{JobContext, JobFailure, JobHandler, JobOutcome};
use super::order_parking::exceptions_for;
use crate::domain::retry::ParkReason;
use crate::store::outbox::ClaimedJob;
use crate::store::{exceptions, posting, StoreError};

/// An order handler with the order's side of parking. The job's subject is the order's
/// increment id.
pub struct OrderJob<H>(H);

impl<H: JobHandler> OrderJob<H> {
    pub fn new(handler: H) -> Self {
        Self(handler)
    }
}

impl<H: JobHandler> JobHandler for OrderJob<H> {
    fn handle<'a>(&'a self, job: &'a ClaimedJob, ctx: &'a JobContext) -> BoxFuture<'a, JobOutcome> {
        self.0.handle(job, ctx)
    }

    fn on_parked<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        job: &'c ClaimedJob,
        reason: ParkReason,
        failure: &'c JobFailure,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            posting::hold(conn, &job.subject).await?;
            for exception in exceptions_for(job, reason, failure) {
                exceptions::record(conn, &exception, job.event_id).await?;
            }
            Ok(())
        })
    }
}
