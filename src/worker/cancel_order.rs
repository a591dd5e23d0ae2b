//! The `cancel_order` job: Magento cancelled an order, so its SAP Sales Order is cancelled.
//!
//! Stages: **prepare** (Postgres: the order's recorded DocEntry, else its reference and
//! customer) → **call SAP** (the recorded Sales Order only; without one, a fresh look-up by
//! reference and customer: a post whose answer was lost may have created it; then
//! `POST /Orders({DocEntry})/Cancel`) → **on success** the order is `cancelled` → **on
//! failure** a refusal is explained by reading the order back: already cancelled (an earlier
//! answer was lost) is success; delivered or invoiced closes the open remainder
//! (`POST /Orders({DocEntry})/Close`) and is a `cancel_conflict` naming what was delivered;
//! closed is a `cancel_conflict` naming the SAP document; anything else a plain rejection.
//!
//! The post job of the order always runs first (per-order order in the outbox), and a parked
//! post is superseded by the cancel (see `store::outbox`), so a cancel that finds no SAP
//! order means the order was never posted and never will be.
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;

use super::handler::{Completion, JobContext, JobFailure, JobHandler, JobOutcome};
use super::order_lookup::{LookupError, OrderLookup};
use super::order_outcome::Cancelled;
use super::sap_failure::failure;
use crate::domain::document_exceptions::{
    cancelled_while_awaiting_approval, partly_delivered, several_documents, DeliveredLine,
};
use crate::domain::ids::CardCode;
use crate::domain::mapping::{customer_plan, CustomerPlan};
use crate::domain::posting::{cancel_conflict, SapDocument};
use crate::domain::retry::FailureKind;
use crate::sap::types::{DocEntry, DocumentStatus, SalesOrder};
use crate::sap::{SapClient, SapError};
use crate::store;
use crate::store::outbox::ClaimedJob;

/// Cancels orders in SAP through the process's shared SAP client.
pub struct CancelOrder {
    sap: SapClient,
    lookup: OrderLookup,
}

impl CancelOrder {
    pub fn new(sap: SapClient) -> Self {
        Self {
            lookup: OrderLookup::new(sap.clone()),
            sap,
        }
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

/// What the prepare stage knows: the recorded Sales Order, else what a look-up needs.
struct Prepared {
    document: Option<SapDocument>,
    draft: Option<SapDocument>,
    /// The order's reference and expected customer, when the order content is stored.
    reference: Option<(String, Option<CardCode>)>,
}

async fn prepare(pool: &PgPool, job: &ClaimedJob) -> Result<Prepared, JobFailure> {
    let id = job.subject.as_str();
    let row = store::posting::load(pool, id)
        .await
        .map_err(store_failure)?;
    let Some(row) = row else {
        return Ok(Prepared {
            document: None,
            draft: None,
            reference: None,
        });
    };
    if row.sap_document.is_some() {
        return Ok(Prepared {
            document: row.sap_document,
            draft: None,
            reference: None,
        });
    }
    let draft = row.draft;
    let reference = match row.order {
        None => None,
        Some(order) => {
            let settings = store::settings::current(pool)
                .await
                .map_err(store_failure)?
                .settings;
            let mappings = store::mappings::snapshot(pool)
                .await
                .map_err(store_failure)?;
            let card = match customer_plan(&order, &mappings, &settings) {
                CustomerPlan::Use(card) => Some(card),
                _ => None,
            };
            settings
                .num_at_card_format
                .render(&order)
                .ok()
                .map(|r| (r, card))
        }
    };
    Ok(Prepared {
        document: None,
        draft,
        reference,
    })
}

fn store_failure(e: store::StoreError) -> JobFailure {
    JobFailure::new(FailureKind::Transient, json!({ "store": e.to_string() }))
}

impl CancelOrder {
    async fn run(
        &self,
        job: &ClaimedJob,
        pool: &PgPool,
    ) -> Result<Box<dyn Completion>, JobFailure> {
        let id = job.subject.as_str();
        let prepared = prepare(pool, job).await?;
        if let Some(document) = prepared.document {
            // Only the document b1bridge recorded, never whatever else carries the reference.
            self.cancel(id, document).await?;
            return Ok(Box::new(Cancelled {
                increment_id: id.to_owned(),
                document: None,
            }));
        }
        let target = self.unrecorded(id, &prepared).await?;
        match &target {
            None => {
                tracing::info!("order was never posted to SAP B1; cancelled without a SAP document")
            }
            Some(t) if t.cancelled => tracing::info!("Sales Order was already cancelled in SAP B1"),
            Some(t) => self.cancel(id, t.document).await?,
        }
        Ok(Box::new(Cancelled {
            increment_id: id.to_owned(),
            document: target.map(|t| t.document),
        }))
    }

    /// No Sales Order is recorded, yet a post whose answer was lost (and was then superseded
    /// by this cancel) may have created one, or an approver may have added a draft: a fresh
    /// look-up by the order's reference and customer. One open Sales Order is this order's;
    /// several are not guessed between; a draft still awaiting approval is for a person.
    async fn unrecorded(
        &self,
        increment_id: &str,
        prepared: &Prepared,
    ) -> Result<Option<Target>, JobFailure> {
        let Some((reference, card)) = &prepared.reference else {
            return Ok(None);
        };
        let found = self
            .lookup
            .fresh(reference, card.as_ref().map(|c| c.as_str()))
            .await
            .map_err(|e| match e {
                LookupError::Sap(e) => failure("GET Orders/Drafts by NumAtCard", &e),
                LookupError::Store(e) => store_failure(e),
            })?;
        match found.orders.as_slice() {
            [] => {}
            [one] => return Ok(Some(Target::from_sap(one))),
            several => {
                let documents: Vec<SapDocument> = several
                    .iter()
                    .map(|d| Target::from_sap(d).document)
                    .collect();
                return Err(JobFailure::new(
                    FailureKind::Permanent,
                    json!({ "num_at_card": reference, "several_orders": documents.len() }),
                )
                .with_exception(several_documents(
                    increment_id,
                    reference,
                    &documents,
                )));
            }
        }
        let draft = found
            .drafts
            .first()
            .map(|d| Target::from_sap(d).document)
            .or(prepared.draft);
        match draft {
            Some(draft) => Err(JobFailure::new(
                FailureKind::Permanent,
                json!({ "awaiting_approval": draft.doc_entry }),
            )
            .with_exception(cancelled_while_awaiting_approval(increment_id, draft))),
            None => Ok(None),
        }
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
    /// order is read back and its state decides. SAP allows closing what it will not cancel
    /// (docs/sap-exactly-once.md): a delivered order's open remainder is closed, so nothing
    /// more ships, and operations hear what already went.
    async fn explain_refusal(
        &self,
        increment_id: &str,
        document: SapDocument,
        refused: &SapError,
    ) -> Result<(), JobFailure> {
        let entry = DocEntry(document.doc_entry);
        let order = self
            .sap
            .get_order(entry)
            .await
            .map_err(|e| failure("GET Orders", &e))?;
        let rejected = failure("POST Orders/Cancel", refused);
        let Some(order) = order else {
            return Err(rejected);
        };
        if order.cancelled {
            tracing::info!("Sales Order was already cancelled (an earlier answer was lost)");
            return Ok(());
        }
        let delivered = delivered_lines(&order);
        if !delivered.is_empty() {
            let open_rest = order.document_status == DocumentStatus::Open
                && order
                    .lines
                    .iter()
                    .any(|l| l.remaining_open_quantity.is_some_and(|q| q > Decimal::ZERO));
            if open_rest {
                self.sap
                    .close_order(entry)
                    .await
                    .map_err(|e| failure("POST Orders/Close", &e))?;
                tracing::warn!("Sales Order partly delivered: its open remainder was closed");
            }
            let exception = partly_delivered(
                increment_id,
                document,
                &delivered,
                open_rest,
                rejected.sap_error.clone(),
            );
            return Err(rejected.with_exception(exception));
        }
        if order.document_status != DocumentStatus::Open {
            tracing::warn!("SAP B1 cannot cancel the Sales Order: it is closed");
            let exception = cancel_conflict(
                increment_id,
                document,
                "closed in SAP B1",
                rejected.sap_error.clone(),
            );
            return Err(rejected.with_exception(exception));
        }
        Err(rejected)
    }
}

/// The lines of which SAP delivered or invoiced something (their open quantity fell).
fn delivered_lines(order: &SalesOrder) -> Vec<DeliveredLine> {
    order
        .lines
        .iter()
        .filter_map(|l| {
            let open = l.remaining_open_quantity?;
            (open < l.quantity).then(|| DeliveredLine {
                item_code: l.item_code.clone().unwrap_or_default(),
                ordered: l.quantity,
                delivered: l.quantity - open,
            })
        })
        .collect()
}
