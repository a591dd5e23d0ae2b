//! The "on success" stage of the order jobs: what a post or a cancellation records, in the
//! transaction that marks its job done (so a worker that lost its lease records nothing).
use futures::future::BoxFuture;
use sqlx::PgConnection;
use std::time::Duration;
use uuid::Uuid;

use super::handler::Completion;
use crate::domain::exception::NewException;
use crate::domain::ids::CardCode;
use crate::domain::mappings::{CustomerMapping, MappingValue};
use crate::domain::posting::{SapDocument, FIXED_BY_CANCELLING, FIXED_BY_POSTING};
use crate::store::audit::SYSTEM_ACTOR;
use crate::store::{documents, exceptions, mappings, posting, StoreError};

/// The order is a Sales Order in SAP.
pub struct Posted {
    pub increment_id: String,
    pub document: SapDocument,
    /// A customers-mapping entry (normalised key → the partner found or created), so the
    /// customer's next order skips the look-up.
    pub customer_mapping: Option<(String, CardCode)>,
    /// `total_mismatch` when SAP's totals differ from Magento's; the order stays posted.
    pub mismatch: Option<NewException>,
    pub event_id: Option<Uuid>,
}

impl Completion for Posted {
    fn record<'c>(
        self: Box<Self>,
        conn: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            let id = self.increment_id.as_str();
            posting::record_posted(conn, id, self.document).await?;
            if let Some((key, card_code)) = &self.customer_mapping {
                let value = MappingValue::Customer(CustomerMapping {
                    card_code: card_code.clone(),
                });
                mappings::record(conn, key, &value, SYSTEM_ACTOR).await?;
            }
            exceptions::resolve_for_order(conn, id, &FIXED_BY_POSTING).await?;
            if let Some(mismatch) = &self.mismatch {
                exceptions::record(conn, mismatch, self.event_id).await?;
            }
            Ok(())
        })
    }

    /// Not durable: if Postgres crashes before this record reaches disk, the job is back to
    /// `running` under the claim's lease (the claim was durable, before SAP was called). The
    /// reaper re-queues it when the lease expires, and its next attempt (attempt > 1) looks the
    /// order up afresh by `NumAtCard` and customer, finds this very Sales Order and records it
    /// as already posted: DocEntry, status, the customer's mapping (found again by e-mail), a
    /// total mismatch (checked again on the found document) and the exceptions to resolve.
    /// Nothing is created twice; the order only shows `posting` a little longer.
    fn durable(&self) -> bool {
        false
    }
}

/// SAP made a draft of the order (an approval procedure applies): the draft is recorded, the
/// exception raised (once), and the next check queued as a post job that runs after
/// `check_in`. The current job is already done when this runs, so the new one is the order's
/// only open post job.
pub struct AwaitingApproval {
    pub increment_id: String,
    pub draft: SapDocument,
    /// `approval_pending`, the first time the draft is seen.
    pub exception: Option<NewException>,
    pub check_in: Duration,
    pub event_id: Option<Uuid>,
}

impl Completion for AwaitingApproval {
    fn record<'c>(
        self: Box<Self>,
        conn: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            let id = self.increment_id.as_str();
            documents::record_draft(conn, id, self.draft).await?;
            if let Some(exception) = &self.exception {
                exceptions::record(conn, exception, self.event_id).await?;
            }
            documents::queue_approval_check(conn, id, self.event_id, self.check_in).await?;
            Ok(())
        })
    }
}

/// The order is cancelled: in SAP, or before it ever got there.
pub struct Cancelled {
    pub increment_id: String,
    /// The SAP document that was cancelled, if the order row did not know it yet.
    pub document: Option<SapDocument>,
}

impl Completion for Cancelled {
    fn record<'c>(
        self: Box<Self>,
        conn: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            let id = self.increment_id.as_str();
            posting::record_cancelled(conn, id, self.document).await?;
            exceptions::resolve_for_order(conn, id, &FIXED_BY_CANCELLING).await?;
            Ok(())
        })
    }
}
