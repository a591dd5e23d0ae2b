//! The `cancel_order` job: Magento cancelled an order, so its SAP Sales Order is cancelled.
//!
//! Stages: **prepare** (Postgres: the order's DocEntry, if it was posted) → **call SAP** (without
//! a DocEntry, look the order up by `NumAtCard`: a post whose answer was lost may have created
//! it; then `POST /Orders({DocEntry})/Cancel`) → **on success** the order is `cancelled` →
//! **on failure** a refusal is explained by reading the order back: already cancelled (an
//! earlier answer was lost) is success, delivered/invoiced/closed is a `cancel_conflict`
//! naming the SAP document, anything else a plain rejection.
//!
//! The post job of the order always runs first (per-order order in the outbox), and a parked
//! post is superseded by the cancel (see `store::outbox`), so a cancel that finds no SAP
//! order means the order was never posted and never will be.
use futures::future::BoxFuture;
use serde_json::json;
use sqlx::PgPool;

use super::handler::{Completion, JobContext, JobFailure, JobHandler, JobOutcome};
use super::order_outcome::Cancelled;
use super::sap_failure::failure;
use crate::domain::posting::{cancel_conflict, SapDocument};
use crate::domain::retry::FailureKind;
use crate::sap::types::{DocEntry, DocumentStatus, SalesOrder};
use crate::sap::{SapClient, SapError};
use crate::store;
use crate::store::outbox::ClaimedJob;

/// Cancels orders in SAP through the process's shared SAP client.
pub struct CancelOrder {
    sap: SapClient,
}

impl CancelOrder {
    pub fn new(sap: SapClient) -> Self {
        Self { sap }
    }
}

impl JobHandler for CancelOrder {
    fn handle<'a>(&'a self, job: &'a ClaimedJob, ctx: &'a JobContext) -> BoxFuture<'a, JobOutcome> {
        Box::pin(async move {
            match self.run(job, &ctx.pool).await {
                Ok(completion) => JobOutcome::Done(completion),
                Err(failure) => JobOutcome::failed(failure),
            }
        })
    }
}

/// A Sales Order to cancel, and whether SAP already showed it cancelled.
struct Target {
    document: SapDocument,
    cancelled: bool,
}

impl Target {
    fn from_sap(doc: &SalesOrder) -> Self {
        Self {
            document: SapDocument {
                doc_entry: doc.doc_entry.0,
                doc_num: doc.doc_num,
            },
            cancelled: doc.cancelled,
        }
    }
}

/// The prepare stage: the order's Sales Order, when the post recorded one.
async fn prepare(pool: &PgPool, job: &ClaimedJob) -> Result<Option<SapDocument>, JobFailure> {
    let row = store::posting::load(pool, job.subject.as_str())
        .await
        .map_err(|e| JobFailure::new(FailureKind::Transient, json!({ "store": e.to_string() })))?;
    Ok(row.and_then(|r| r.sap_document))
}

impl CancelOrder {
    async fn run(
        &self,
        job: &ClaimedJob,
        pool: &PgPool,
    ) -> Result<Box<dyn Completion>, JobFailure> {
        let id = job.subject.as_str();
        let known = prepare(pool, job).await?;
        let targets = match known {
            Some(document) => vec![Target {
                document,
                cancelled: false,
            }],
            None => self
                .sap
                .find_orders_by_num_at_card(id)
                .await
                .map_err(|e| failure("GET Orders by NumAtCard", &e))?
                .iter()
                .map(Target::from_sap)
                .collect(),
        };
        if targets.is_empty() {
            tracing::info!("order was never posted to SAP B1; cancelled without a SAP document");
        }
        for target in targets.iter().filter(|t| !t.cancelled) {
            self.cancel(id, target.document).await?;
        }
        Ok(Box::new(Cancelled {
            increment_id: id.to_owned(),
            document: targets
                .first()
                .filter(|_| known.is_none())
                .map(|t| t.document),
        }))
    }

    async fn cancel(&self, increment_id: &str, document: SapDocument) -> Result<(), JobFailure> {
        match self.sap.cancel_order(DocEntry(document.doc_entry)).await {
            Ok(()) => {
                tracing::info!(
                    doc_entry = document.doc_entry,
                    doc_num = document.doc_num,
                    "Sales Order cancelled in SAP B1"
                );
                Ok(())
            }
            Err(refused @ SapError::Permanent { .. }) => {
                self.explain_refusal(increment_id, document, &refused).await
            }
            Err(e) => Err(failure("POST Orders/Cancel", &e)),
        }
    }

    /// SAP's text for "cannot cancel after delivery" is not known (reference §3), so the
    /// order is read back and its state decides.
    async fn explain_refusal(
        &self,
        increment_id: &str,
        document: SapDocument,
        refused: &SapError,
    ) -> Result<(), JobFailure> {
        let order = self
            .sap
            .get_order(DocEntry(document.doc_entry))
            .await
            .map_err(|e| failure("GET Orders", &e))?;
        let rejected = failure("POST Orders/Cancel", refused);
        match order {
            Some(o) if o.cancelled => {
                tracing::info!("Sales Order was already cancelled (an earlier answer was lost)");
                Ok(())
            }
            Some(o) => match went_further(&o) {
                Some(reason) => {
                    tracing::warn!(reason, "SAP B1 cannot cancel the Sales Order");
                    let exception =
                        cancel_conflict(increment_id, document, reason, rejected.sap_error.clone());
                    Err(rejected.with_exception(exception))
                }
                None => Err(rejected),
            },
            None => Err(rejected),
        }
    }
}

/// Why an order can no longer be cancelled, as its SAP state shows.
fn went_further(order: &SalesOrder) -> Option<&'static str> {
    let copied = order.lines.iter().any(|l| {
        l.remaining_open_quantity
            .is_some_and(|open| open < l.quantity)
    });
    if copied {
        Some("delivered or invoiced (in part or in full)")
    } else if order.document_status != DocumentStatus::Open {
        Some("closed in SAP B1")
    } else {
        None
    }
}
