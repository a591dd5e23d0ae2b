//! The `post_refund` job: a stored Magento credit memo becomes an SAP A/R credit memo
//! (`CreditNotes`), exactly once (docs/refunds.md).
//!
//! Stages: **prepare** (Postgres: the refund, its order, the settings) → **look up** the
//! credit memo's reference (`NumAtCard`) among SAP's credit memos: found means an earlier
//! attempt (or a person) made it, and it is recorded → **find the invoice lines** of the
//! order (A/R invoices with the order's reference whose lines copy the Sales Order,
//! directly or through a delivery) → **build** the credit memo and check its totals before
//! anything is created → **create** it.
//!
//! Money out (`refunds.outgoing_payment`, off by default): once an online refund's credit
//! memo is recorded, a second run of the job **pays** it back — an outgoing payment
//! (`VendorPayments`, `rCustomer`) applied to the credit memo from the G/L account mapped for
//! the order's payment method, looked up first (the customer's payments applied to that
//! credit memo) so it is made once.
//!
//! Without an invoice the refund **waits**: `refund_unmatched` is filed for finance and the
//! job queues its own re-check (`refunds.recheck_interval_secs`); once the invoice is in SAP
//! the re-check posts the credit memo and resolves the exception.
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

use super::company_facts::CompanyFactsCache;
use super::handler::{Completion, JobContext, JobFailure, JobHandler, JobOutcome};
use super::order_lookup::OrderLookup;
use super::sap_failure::failure;
use crate::domain::company::{CompanyFacts, TaxLocalization};
use crate::domain::credit_note::{
    build_credit_note, payment_account, refund_context, unmatched, CreditLine, CreditNoteDraft,
    Facts, InvoiceFreight, InvoiceLine,
};
use crate::domain::exception::{Category, NewException};
use crate::domain::ids::TaxCode;
use crate::domain::posting::SapDocument;
use crate::domain::refund::{reduce_order, OrderReduction, Refund, SapOrderLine};
use crate::domain::retry::{FailureKind, ParkReason};
use crate::domain::settings::Settings;
use crate::sap::types::{
    DocEntry, Document, DocumentStatus, NewAdditionalExpense, NewCreditNote, NewCreditNoteLine,
    NewOutgoingPayment, NewPaymentInvoice, APPLIED_TO_CREDIT_NOTE, OBJECT_TYPE_DELIVERY,
    OBJECT_TYPE_INVOICE, OBJECT_TYPE_ORDER, PAYMENT_TO_CUSTOMER,
};
use crate::sap::SapClient;
use crate::store::outbox::ClaimedJob;
use crate::store::refunds::{self, RefundForSap, RefundOrder};
use crate::store::{exceptions, StoreError};

pub struct PostRefund {
    sap: SapClient,
    lookup: OrderLookup,
    company: CompanyFactsCache,
}

impl PostRefund {
    pub fn new(sap: SapClient) -> Self {
        Self {
            lookup: OrderLookup::new(sap.clone()),
            sap,
            company: CompanyFactsCache::default(),
        }
    }
}

impl JobHandler for PostRefund {
    fn handle<'a>(&'a self, job: &'a ClaimedJob, ctx: &'a JobContext) -> BoxFuture<'a, JobOutcome> {
        Box::pin(async move {
            match self.run(job, &ctx.pool).await {
                Ok(completion) => JobOutcome::Done(completion),
                Err(failure) => JobOutcome::failed(failure),
            }
        })
    }

    /// A parked refund is `parked`, with its exceptions (or `sap_rejected`/`sap_unavailable`
    /// naming the credit memo) filed against its order.
    fn on_parked<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        job: &'c ClaimedJob,
        reason: ParkReason,
        failure: &'c JobFailure,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            let Some(id) = refunds::entity_id_of(&job.subject) else {
                return Ok(());
            };
            refunds::park(conn, id).await?;
            let filed = if reason == ParkReason::Rejected && !failure.exceptions.is_empty() {
                failure.exceptions.clone()
            } else {
                vec![parked_exception(conn, id, job, reason, failure).await?]
            };
            for e in &filed {
                exceptions::record(conn, e, job.event_id).await?;
            }
            Ok(())
        })
    }
}

/// `sap_rejected` or `sap_unavailable` for a refund, naming its credit memo and order.
async fn parked_exception(
    conn: &mut PgConnection,
    id: i64,
    job: &ClaimedJob,
    reason: ParkReason,
    failure: &JobFailure,
) -> Result<NewException, StoreError> {
    let (memo, order, credited): (Option<String>, Option<String>, bool) = sqlx::query_as(
        "SELECT credit_memo_id, order_increment_id, sap_doc_entry IS NOT NULL
           FROM refunds WHERE magento_entity_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or((None, None, false));
    let memo = memo.unwrap_or_else(|| id.to_string());
    let category = if reason == ParkReason::Rejected {
        Category::SapRejected
    } else {
        Category::SapUnavailable
    };
    let said = failure
        .sap_error
        .as_ref()
        .map(|e| format!("SAP B1 answered {}: {}", e.code, e.message))
        .unwrap_or_else(|| format!("the last error was {}", failure.error));
    // With the credit memo recorded, only its outgoing payment can have failed.
    let (title, detail) = if credited {
        (
            format!("The outgoing payment for credit memo {memo} could not be made in SAP B1"),
            format!(
                "The A/R credit memo for Magento credit memo {memo} is in SAP B1, but paying \
                 it back failed; {said}. Fix the cause, then retry the refund (b1bridge looks \
                 for a payment applied to the credit memo first)."
            ),
        )
    } else {
        (
            format!("Credit memo {memo} could not be posted to SAP B1"),
            format!(
                "The A/R credit memo for Magento credit memo {memo} was not created; {said}. \
                 Fix the cause, then retry the refund (b1bridge looks it up by NumAtCard first)."
            ),
        )
    };
    Ok(NewException {
        category,
        title,
        detail,
        order_increment_id: order,
        skus: Vec::new(),
        sap_error: failure.sap_error.clone(),
        dedup_key: format!("{}|creditmemo:{id}", category.as_str()),
        context: json!({
            "credit_memo": memo,
            "credit_memo_entity_id": id.to_string(),
            "job": job.id,
            "attempt": job.attempt,
            "error": failure.error,
        }),
    })
}

/// Where the refund stands before SAP is asked.
struct Plan {
    id: i64,
    refund: Refund,
    order: RefundOrder,
    /// The Sales Order's `DocEntry`.
    sap_order: i64,
    settings: Settings,
    /// The credit memo's reference (`NumAtCard`).
    reference: String,
    /// The order's reference, which its invoices carry.
    order_reference: String,
    /// The credit memo, once recorded: what is left is its outgoing payment.
    credit_note: Option<SapDocument>,
}

enum Prepared {
    Finished(Box<dyn Completion>),
    Post(Box<Plan>),
}

impl PostRefund {
    async fn run(
        &self,
        job: &ClaimedJob,
        pool: &PgPool,
    ) -> Result<Box<dyn Completion>, JobFailure> {
        let plan = match prepare(pool, job).await? {
            Prepared::Finished(c) => return Ok(c),
            Prepared::Post(plan) => plan,
        };
        if plan.credit_note.is_some() {
            return self.pay(pool, job, &plan).await;
        }
        let existing = self
            .lookup
            .credit_notes(&plan.reference)
            .await
            .map_err(|e| failure("GET CreditNotes by NumAtCard", &e))?;
        if let Some(doc) = existing.first() {
            tracing::warn!(
                doc_entry = doc.doc_entry.0,
                "credit memo already in SAP B1 (an earlier attempt or a person added it); recording it"
            );
            return Ok(posted(job, &plan, doc));
        }
        let (invoices, deliveries) = tokio::try_join!(
            self.sap
                .documents_by_reference("Invoices", &plan.order_reference),
            self.sap
                .documents_by_reference("DeliveryNotes", &plan.order_reference),
        )
        .map_err(|e| failure("GET Invoices/DeliveryNotes by NumAtCard", &e))?;
        let (lines, freight, card_code) = invoice_lines(&plan, &invoices, &deliveries);
        let Some(card_code) = card_code else {
            let mut missing = vec![format!(
                "SAP B1 has no A/R invoice for order {}",
                plan.order.increment_id
            )];
            if plan.settings.refunds.close_uninvoiced_order && deliveries.is_empty() {
                match self.reduce_order(pool, &plan).await? {
                    Ok(done) => return Ok(done),
                    Err(why) => missing.push(format!("its Sales Order cannot be reduced: {why}")),
                }
            }
            return Ok(waiting(
                job,
                &plan,
                unmatched(&plan.refund, &plan.order.increment_id, &missing),
            ));
        };
        let company = self.company_facts(job, &plan).await?;
        let facts = Facts {
            order: &plan.order.order,
            order_increment_id: &plan.order.increment_id,
            invoice_lines: &lines,
            freight: freight.map(|(code, tax)| InvoiceFreight {
                expense_code: code,
                tax_code: tax.and_then(|t| TaxCode::parse(t).ok()),
            }),
            company: &company,
            settings: &plan.settings,
        };
        let draft = match build_credit_note(&plan.refund, &facts) {
            Ok(d) => d,
            Err(e) if e.category == Category::RefundUnmatched => return Ok(waiting(job, &plan, e)),
            Err(e) => {
                tracing::warn!(category = e.category.as_str(), "refund held: {}", e.title);
                return Err(JobFailure::new(
                    FailureKind::Permanent,
                    json!({ "held": e.category.as_str() }),
                )
                .with_exception(e));
            }
        };
        let note = wire(&draft, &card_code, &plan.reference, &company);
        let created = self
            .sap
            .create_credit_note(&note)
            .await
            .map_err(|e| failure("POST CreditNotes", &e))?;
        tracing::info!(
            doc_entry = created.doc_entry.0,
            doc_num = created.doc_num,
            "credit memo posted to SAP B1"
        );
        Ok(posted(job, &plan, &created))
    }
}

impl PostRefund {
    /// The order was refunded before SAP delivered or invoiced any of it: its Sales Order is
    /// reduced by what this refund and the earlier reducing ones took back, or closed when
    /// nothing is left (docs/refunds.md). `Ok(Err(why))`: it cannot be reduced (the refund
    /// then waits for an invoice).
    async fn reduce_order(
        &self,
        pool: &PgPool,
        plan: &Plan,
    ) -> Result<Result<Box<dyn Completion>, String>, JobFailure> {
        let entry = DocEntry(plan.sap_order);
        let Some(order) = self
            .sap
            .get_order(entry)
            .await
            .map_err(|e| failure("GET Orders", &e))?
        else {
            return Ok(Err(format!(
                "Sales Order {} is not in SAP B1",
                plan.sap_order
            )));
        };
        let earlier = refunds::reduced_before(pool, &plan.order.increment_id, plan.id)
            .await
            .map_err(store_failure)?;
        let earlier: Vec<&Refund> = earlier.iter().collect();
        let lines: Vec<SapOrderLine> = order
            .lines
            .iter()
            .map(|l| SapOrderLine {
                line_num: l.line_num,
                quantity: l.quantity,
                open_quantity: l.remaining_open_quantity.unwrap_or(l.quantity),
                open: l
                    .line_status
                    .as_ref()
                    .is_none_or(|s| *s == DocumentStatus::Open),
            })
            .collect();
        let open = order.document_status == DocumentStatus::Open && !order.cancelled;
        let status = match reduce_order(&plan.order.order, &earlier, &plan.refund, &lines) {
            Err(why) => return Ok(Err(why)),
            Ok(OrderReduction::Close) => {
                // An order already closed counts as done (a retry after a lost answer).
                if open {
                    self.sap
                        .close_order(entry)
                        .await
                        .map_err(|e| failure("POST Orders/Close", &e))?;
                }
                tracing::info!(
                    doc_entry = plan.sap_order,
                    "un-invoiced order refunded in full: Sales Order closed"
                );
                "order_closed"
            }
            Ok(OrderReduction::Reduce {
                lines,
                remove_others,
            }) => {
                if !lines.is_empty() || remove_others {
                    if !open {
                        return Ok(Err(format!(
                            "Sales Order {} is closed or cancelled",
                            order.doc_num
                        )));
                    }
                    self.sap
                        .set_order_line_quantities(entry, &lines, remove_others)
                        .await
                        .map_err(|e| failure("PATCH Orders (line quantities)", &e))?;
                }
                tracing::info!(
                    doc_entry = plan.sap_order,
                    "un-invoiced order refunded in part: Sales Order reduced"
                );
                "order_reduced"
            }
        };
        Ok(Ok(Box::new(OrderSettled {
            id: plan.id,
            order_increment_id: plan.order.increment_id.clone(),
            status,
        })))
    }
}

impl PostRefund {
    /// The company's tax and currency facts (cached; re-read on a retry).
    async fn company_facts(
        &self,
        job: &ClaimedJob,
        plan: &Plan,
    ) -> Result<CompanyFacts, JobFailure> {
        self.company
            .facts(
                &self.sap,
                plan.settings.tax_localization,
                Duration::from_secs(plan.settings.item_cache_ttl_secs),
                job.attempt > 1,
            )
            .await
            .map_err(|e| failure("GET company facts", &e))
    }

    /// The credit memo is recorded and an outgoing payment is due: it is looked up among the
    /// customer's payments applied to that credit memo, and made only when none is found.
    async fn pay(
        &self,
        pool: &PgPool,
        job: &ClaimedJob,
        plan: &Plan,
    ) -> Result<Box<dyn Completion>, JobFailure> {
        let mappings = crate::store::mappings::snapshot(pool)
            .await
            .map_err(store_failure)?;
        let company = self.company_facts(job, plan).await?;
        let foreign = plan
            .refund
            .currency
            .as_ref()
            .is_some_and(|c| company.is_foreign(c));
        let account = match payment_account(
            &plan.refund,
            &plan.order.order,
            &plan.order.increment_id,
            &plan.settings,
            &mappings,
            foreign,
        ) {
            None => return Ok(Box::new(super::NothingToRecord)),
            Some(Ok(account)) => account,
            Some(Err(e)) => {
                let mut w = Waiting::new(
                    job,
                    plan.id,
                    Some(plan.order.increment_id.clone()),
                    e,
                    &plan.settings,
                );
                w.status = "posted";
                return Ok(Box::new(w));
            }
        };
        let notes = self
            .lookup
            .credit_notes(&plan.reference)
            .await
            .map_err(|e| failure("GET CreditNotes by NumAtCard", &e))?;
        let Some(note) = notes.first() else {
            return Err(permanent(json!({
                "problem": "the recorded A/R credit memo is no longer in SAP B1 (cancelled?)",
                "credit_memo": plan.refund.credit_memo_id,
            })));
        };
        let card_code = note.card_code.clone().unwrap_or_default();
        let found = self
            .sap
            .payments_of_credit_note(&card_code, note.doc_entry.0)
            .await
            .map_err(|e| failure("GET VendorPayments of the customer", &e))?;
        let payment = match found.into_iter().next() {
            Some(p) => {
                tracing::warn!(
                    doc_entry = p.doc_entry.0,
                    "outgoing payment already in SAP B1 (an earlier attempt or a person made it); recording it"
                );
                p
            }
            None => self
                .sap
                .create_outgoing_payment(&NewOutgoingPayment {
                    doc_type: PAYMENT_TO_CUSTOMER,
                    card_code,
                    doc_currency: None,
                    transfer_account: account,
                    transfer_sum: note.doc_total,
                    remarks: format!(
                        "Refund of Magento credit memo #{} · order #{}",
                        plan.refund.credit_memo_id, plan.order.increment_id
                    ),
                    payment_invoices: vec![NewPaymentInvoice {
                        doc_entry: note.doc_entry.0,
                        invoice_type: APPLIED_TO_CREDIT_NOTE,
                        sum_applied: note.doc_total,
                    }],
                })
                .await
                .map_err(|e| failure("POST VendorPayments", &e))?,
        };
        tracing::info!(
            doc_entry = payment.doc_entry.0,
            "online refund paid back by an outgoing payment in SAP B1"
        );
        Ok(Box::new(Paid {
            id: plan.id,
            payment: SapDocument {
                doc_entry: payment.doc_entry.0,
                doc_num: payment.doc_num,
            },
        }))
    }
}

/// The outgoing payment exists: recorded, the refund's exceptions resolved.
struct Paid {
    id: i64,
    payment: SapDocument,
}

impl Completion for Paid {
    fn record<'c>(
        self: Box<Self>,
        conn: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            refunds::record_paid(conn, self.id, self.payment).await?;
            refunds::resolve_exceptions(conn, self.id).await?;
            Ok(())
        })
    }
}

/// The refund closed or reduced its un-invoiced Sales Order instead of making a credit memo.
struct OrderSettled {
    id: i64,
    order_increment_id: String,
    /// `order_closed` or `order_reduced`.
    status: &'static str,
}

impl Completion for OrderSettled {
    fn record<'c>(
        self: Box<Self>,
        conn: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            refunds::set_status(conn, self.id, self.status, Some(&self.order_increment_id)).await?;
            refunds::resolve_exceptions(conn, self.id).await?;
            Ok(())
        })
    }
}

async fn prepare(pool: &PgPool, job: &ClaimedJob) -> Result<Prepared, JobFailure> {
    let Some(id) = refunds::entity_id_of(&job.subject) else {
        return Err(JobFailure::new(
            FailureKind::Permanent,
            json!({ "subject": job.subject, "problem": "not a refund subject" }),
        ));
    };
    let row = refunds::load(pool, id).await.map_err(store_failure)?;
    let Some(RefundForSap {
        refund,
        sap_document,
        payment,
        order,
    }) = row
    else {
        return Err(JobFailure::new(
            FailureKind::Permanent,
            json!({ "refund": id, "problem": "no stored refund" }),
        ));
    };
    let settings = store_settings(pool).await?;
    if sap_document.is_some() && (payment.is_some() || !payment_wanted(&refund, &settings)) {
        return Ok(Prepared::Finished(Box::new(super::NothingToRecord)));
    }
    let order_label = refund
        .order_increment_id
        .clone()
        .unwrap_or_else(|| format!("with Magento id {}", refund.magento_order_id));
    let Some(order) = order else {
        let e = unmatched(
            &refund,
            &order_label,
            &[format!("b1bridge has not received order {order_label}")],
        );
        return Ok(Prepared::Finished(Box::new(Waiting::new(
            job, id, None, e, &settings,
        ))));
    };
    let Some(sap_order) = order.sap_order else {
        let e = unmatched(
            &refund,
            &order.increment_id,
            &[format!("order {} is not in SAP B1 yet", order.increment_id)],
        );
        let order_id = Some(order.increment_id.clone());
        return Ok(Prepared::Finished(Box::new(Waiting::new(
            job, id, order_id, e, &settings,
        ))));
    };
    let format = &settings.num_at_card_format;
    let reference = format
        .render_parts(&refund.credit_memo_id, refund.store_id)
        .map_err(|e| permanent(json!({ "num_at_card": e.to_string() })))?;
    let order_reference = format
        .render(&order.order)
        .map_err(|e| permanent(json!({ "num_at_card": e.to_string() })))?;
    Ok(Prepared::Post(Box::new(Plan {
        id,
        refund,
        sap_order: sap_order.doc_entry,
        order,
        settings,
        reference,
        order_reference,
        credit_note: sap_document,
    })))
}

/// Whether the refund's credit memo is to be paid back by an outgoing payment.
fn payment_wanted(refund: &Refund, settings: &Settings) -> bool {
    settings.refunds.outgoing_payment && refund.online
}

async fn store_settings(pool: &PgPool) -> Result<Settings, JobFailure> {
    Ok(crate::store::settings::current(pool)
        .await
        .map_err(store_failure)?
        .settings)
}

/// The open invoice lines of the order (each with the canonical line it invoices), the
/// first invoice's freight (expense code and tax code) and customer. Lines count only when
/// they copy the Sales Order, directly or through one of its deliveries.
#[allow(clippy::type_complexity)]
fn invoice_lines(
    plan: &Plan,
    invoices: &[Document],
    deliveries: &[Document],
) -> (
    Vec<InvoiceLine>,
    Option<(i64, Option<String>)>,
    Option<String>,
) {
    let order_entry = plan.sap_order;
    // Delivery line → the Sales Order line it copies.
    let delivered: HashMap<(i64, i64), i64> = deliveries
        .iter()
        .flat_map(|d| d.lines.iter().map(move |l| (d.doc_entry.0, l)))
        .filter_map(|(entry, l)| match l.base_order_line() {
            Some((base, line)) if base.0 == order_entry => Some(((entry, l.line_num), line)),
            _ => None,
        })
        .collect();
    let mut lines = Vec::new();
    let mut freight = None;
    let mut card = None;
    for inv in invoices {
        let mut ours = false;
        for l in &inv.lines {
            let order_line = match (l.base_type, l.base_entry, l.base_line) {
                (Some(OBJECT_TYPE_ORDER), Some(e), Some(n)) if e == order_entry => Some(n),
                (Some(OBJECT_TYPE_DELIVERY), Some(e), Some(n)) => delivered.get(&(e, n)).copied(),
                _ => None,
            };
            let Some(order_line) = order_line.and_then(|n| usize::try_from(n).ok()) else {
                continue;
            };
            ours = true;
            lines.push(InvoiceLine {
                doc_entry: inv.doc_entry.0,
                line_num: l.line_num,
                order_line,
                open_qty: l.remaining_open_quantity.unwrap_or(l.quantity),
                tax_rate: l.tax_percentage_per_row.unwrap_or_default(),
            });
        }
        if ours {
            card = card.or_else(|| inv.card_code.clone());
            if freight.is_none() {
                freight = inv.expenses.first().map(|e| {
                    (
                        e.expense_code,
                        e.vat_group.clone().or_else(|| e.tax_code.clone()),
                    )
                });
            }
        }
    }
    (lines, freight, card)
}

/// The Service Layer body of the credit memo.
fn wire(
    draft: &CreditNoteDraft,
    card_code: &str,
    reference: &str,
    company: &CompanyFacts,
) -> NewCreditNote {
    let vat = company.localization == TaxLocalization::Vat;
    let split = |code: Option<&TaxCode>| {
        let code = code.map(|c| c.as_str().to_owned());
        if vat {
            (None, code)
        } else {
            (code, None)
        }
    };
    let amount = |net: Decimal| {
        if draft.foreign_currency {
            (None, Some(net))
        } else {
            (Some(net), None)
        }
    };
    let document_lines = draft
        .lines
        .iter()
        .map(|l| match l {
            CreditLine::Based {
                base_entry,
                base_line,
                quantity,
                net,
                tax_total,
                back_to_stock,
            } => {
                let (line_total, row_total_fc) = amount(*net);
                NewCreditNoteLine {
                    base_type: Some(OBJECT_TYPE_INVOICE),
                    base_entry: Some(*base_entry),
                    base_line: Some(*base_line),
                    quantity: *quantity,
                    line_total,
                    row_total_fc,
                    tax_total: *tax_total,
                    warehouse_code: back_to_stock.as_ref().map(|w| w.as_str().to_owned()),
                    without_inventory_movement: Some(if back_to_stock.is_some() {
                        "tNO"
                    } else {
                        "tYES"
                    }),
                    ..Default::default()
                }
            }
            CreditLine::Adjustment {
                item_code,
                quantity,
                unit_price,
                tax_code,
            } => {
                let (tax_code, vat_group) = split(Some(tax_code));
                NewCreditNoteLine {
                    item_code: Some(item_code.as_str().to_owned()),
                    quantity: *quantity,
                    unit_price: Some(*unit_price),
                    tax_code,
                    vat_group,
                    ..Default::default()
                }
            }
        })
        .collect();
    let document_additional_expenses = draft
        .expenses
        .iter()
        .map(|e| {
            let (tax_code, vat_group) = split(e.tax_code.as_ref());
            let (line_total, line_total_fc) = amount(e.net);
            NewAdditionalExpense {
                expense_code: e.expense_code,
                line_total,
                line_total_fc,
                tax_code,
                vat_group,
                tax_sum: e.tax_sum,
                remarks: None,
            }
        })
        .collect();
    NewCreditNote {
        card_code: card_code.to_owned(),
        num_at_card: reference.to_owned(),
        doc_currency: draft.currency.as_ref().map(|c| c.as_str().to_owned()),
        comments: draft.comments.clone(),
        document_lines,
        document_additional_expenses,
    }
}

/// The credit memo exists: recorded, with `total_mismatch` when SAP booked other figures
/// than Magento refunded (it stays posted; finance corrects it).
fn posted(job: &ClaimedJob, plan: &Plan, doc: &Document) -> Box<dyn Completion> {
    let (total, tax) = match doc.doc_total_fc {
        Some(fc) if !fc.is_zero() => (fc, doc.vat_sum_fc.unwrap_or_default()),
        _ => (doc.doc_total, doc.vat_sum.unwrap_or_default()),
    };
    let tolerance = plan.settings.total_tolerance;
    let r = &plan.refund;
    let mismatch = ((total - r.grand_total).abs() > tolerance
        || (tax - r.tax_amount).abs() > tolerance)
        .then(|| NewException {
            category: Category::TotalMismatch,
            title: format!(
                "A/R credit memo {} for credit memo {} differs from Magento's refund",
                doc.doc_num, r.credit_memo_id
            ),
            detail: format!(
                "SAP B1 booked {total} (tax {tax}); Magento refunded {} (tax {}). Correct the \
                 credit memo in SAP B1, then resolve this exception.",
                r.grand_total, r.tax_amount
            ),
            order_increment_id: Some(plan.order.increment_id.clone()),
            skus: Vec::new(),
            sap_error: None,
            dedup_key: format!("total_mismatch|creditmemo:{}|posted", r.magento_entity_id),
            context: refund_context(r, json!({ "doc_entry": doc.doc_entry.0 })),
        });
    Box::new(Posted {
        id: plan.id,
        order_increment_id: plan.order.increment_id.clone(),
        document: SapDocument {
            doc_entry: doc.doc_entry.0,
            doc_num: doc.doc_num,
        },
        mismatch,
        event_id: job.event_id,
        pay_next: payment_wanted(r, &plan.settings),
    })
}

fn waiting(job: &ClaimedJob, plan: &Plan, e: NewException) -> Box<dyn Completion> {
    Box::new(Waiting::new(
        job,
        plan.id,
        Some(plan.order.increment_id.clone()),
        e,
        &plan.settings,
    ))
}

struct Posted {
    id: i64,
    order_increment_id: String,
    document: SapDocument,
    mismatch: Option<NewException>,
    event_id: Option<Uuid>,
    /// An outgoing payment is due: the job runs again at once to make it (the current job
    /// is done when this runs, so the new one is the refund's only open job).
    pay_next: bool,
}

impl Completion for Posted {
    fn record<'c>(
        self: Box<Self>,
        conn: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            refunds::record_posted(conn, self.id, &self.order_increment_id, self.document).await?;
            refunds::resolve_exceptions(conn, self.id).await?;
            if let Some(m) = &self.mismatch {
                exceptions::record(conn, m, self.event_id).await?;
            }
            if self.pay_next {
                refunds::enqueue(conn, self.id, self.event_id, Duration::ZERO).await?;
            }
            Ok(())
        })
    }
}

/// Nothing to base the credit memo on yet: `refund_unmatched` filed (its occurrences count
/// the checks), the refund `waiting`, and the next check queued. The current job is done
/// when this runs, so the new job is the refund's only open one.
struct Waiting {
    id: i64,
    order_increment_id: Option<String>,
    exception: NewException,
    check_in: Duration,
    event_id: Option<Uuid>,
    /// The refund's status meanwhile: `waiting`, or `posted` while only its payment waits.
    status: &'static str,
}

impl Waiting {
    fn new(
        job: &ClaimedJob,
        id: i64,
        order_increment_id: Option<String>,
        exception: NewException,
        settings: &Settings,
    ) -> Self {
        tracing::info!("refund waits: {}", exception.detail);
        Self {
            id,
            order_increment_id,
            exception,
            check_in: Duration::from_secs(settings.refunds.recheck_interval_secs),
            event_id: job.event_id,
            status: "waiting",
        }
    }
}

impl Completion for Waiting {
    fn record<'c>(
        self: Box<Self>,
        conn: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            refunds::set_status(
                conn,
                self.id,
                self.status,
                self.order_increment_id.as_deref(),
            )
            .await?;
            exceptions::record(conn, &self.exception, self.event_id).await?;
            refunds::enqueue(conn, self.id, self.event_id, self.check_in).await?;
            Ok(())
        })
    }
}

fn store_failure(e: StoreError) -> JobFailure {
    JobFailure::new(FailureKind::Transient, json!({ "store": e.to_string() }))
}

fn permanent(error: serde_json::Value) -> JobFailure {
    JobFailure::new(FailureKind::Permanent, error)
}
