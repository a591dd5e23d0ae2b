//! The `post_order` job: a stored Magento order becomes an SAP B1 Sales Order, exactly once.
//!
//! Stages: **prepare** (Postgres only: the order, the settings and a mappings snapshot; the
//! customer plan from the domain rules) → **call SAP** (look the order up by `NumAtCard`; if
//! absent, check the lines against the item master, build the draft, find or create the
//! Business Partner, create the order) → **on success** record DocEntry/DocNum, the learned
//! customer mapping and any total mismatch with the job's fenced completion → **on failure**
//! classify the error for the retry policy, naming the business cause when SAP's text shows it.
//!
//! Exactly once: every attempt looks the order up by `NumAtCard` before creating it, so an
//! attempt after a lost answer, a lost lease or a killed process finds the order instead of
//! creating a second one.
use futures::future::BoxFuture;
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

use super::company_facts::CompanyFactsCache;
use super::handler::{Completion, JobContext, JobFailure, JobHandler, JobOutcome};
use super::item_cache::ItemCache;
use super::order_lookup::{LookupError, OrderLookup};
use super::order_outcome::{AwaitingApproval, Cancelled, Posted};
use super::sap_failure::failure;
use crate::domain::document_exceptions::{approval_pending, reference_unavailable};
use crate::domain::exception::NewException;
use crate::domain::ids::CardCode;
use crate::domain::mapping::{
    build_checked_draft, check_totals, customer_plan, item_codes_for, resolve_lines, CustomerPlan,
    ResolvedLine,
};
use crate::domain::mappings::{MappingKind, Mappings};
use crate::domain::order::Order;
use crate::domain::posting::{self, refusal_exception, OrderRefusal, SapDocument};
use crate::domain::retry::FailureKind;
use crate::domain::sales_order::{NewBusinessPartner, SalesOrderDraft};
use crate::domain::settings::Settings;
use crate::magento::{MagentoClient, MagentoError};
use crate::sap::refusal::{is_duplicate_card_code, order_refusal};
use crate::sap::types::{self as wire, CardType, NewSalesOrder, SalesOrder};
use crate::sap::{SapClient, SapError};
use crate::store::outbox::ClaimedJob;
use crate::store::{self, StoreError};

/// Posts orders, sharing the process's SAP client (one session, one limiter) and item cache.
pub struct PostOrder {
    sap: SapClient,
    items: ItemCache,
    lookup: OrderLookup,
    company: CompanyFactsCache,
    /// Where an order that came in the Adobe Commerce observer envelope is re-read (its
    /// body is Magento's model data, without REST addresses, rates or shipping method).
    magento: Option<Arc<MagentoClient>>,
}

impl PostOrder {
    pub fn new(sap: SapClient, items: ItemCache) -> Self {
        Self {
            lookup: OrderLookup::new(sap.clone()),
            sap,
            items,
            company: CompanyFactsCache::default(),
            magento: None,
        }
    }

    /// Re-reads observer-envelope orders through `magento` before mapping them.
    pub fn with_order_source(mut self, magento: Option<Arc<MagentoClient>>) -> Self {
        self.magento = magento;
        self
    }
}

impl JobHandler for PostOrder {
    fn handle<'a>(&'a self, job: &'a ClaimedJob, ctx: &'a JobContext) -> BoxFuture<'a, JobOutcome> {
        Box::pin(async move {
            match self.run(job, &ctx.pool).await {
                Ok(completion) => JobOutcome::Done(completion),
                Err(failure) => JobOutcome::failed(failure),
            }
        })
    }
}

/// What the prepare stage decided.
enum Prepared {
    /// Nothing to send to SAP; the completion says why.
    Finished(Box<dyn Completion>),
    Post(Box<Plan>),
}

/// Everything the SAP stage works from, read in one go so a job maps the order against one
/// consistent picture of settings and mappings.
struct Plan {
    order: Order,
    settings: Settings,
    mappings: Mappings,
    customer: CustomerPlan,
    /// The order's SAP reference (`NumAtCard`) under the settings' format.
    reference: String,
    /// The draft an approval procedure made of the order, when one was recorded.
    draft: Option<SapDocument>,
}

/// A document SAP already holds for this order.
enum Known {
    Order(SalesOrder),
    Draft(SalesOrder),
}

/// An order ready to create, with the lines behind it (their item facts name SKUs in
/// refusal exceptions).
struct Ready {
    draft: SalesOrderDraft,
    lines: Vec<ResolvedLine>,
}

async fn prepare(
    pool: &PgPool,
    job: &ClaimedJob,
    magento: Option<&MagentoClient>,
) -> Result<Prepared, JobFailure> {
    let id = job.subject.as_str();
    let row = store::posting::load(pool, id)
        .await
        .map_err(store_failure)?;
    let Some(row) = row else {
        return Err(nothing_to_post(id));
    };
    if row.cancel_requested {
        tracing::info!("order cancelled before it was posted; it will not be posted");
        return Ok(Prepared::Finished(Box::new(Cancelled {
            increment_id: id.to_owned(),
            document: None,
        })));
    }
    if let Some(doc) = row.sap_document {
        tracing::info!(
            doc_entry = doc.doc_entry,
            "order already posted; nothing to do"
        );
        return Ok(Prepared::Finished(Box::new(super::NothingToRecord)));
    }
    let Some(order) = row.order else {
        return Err(nothing_to_post(id));
    };
    let order = match magento {
        Some(m) if came_by_observer(pool, id).await? => reread(pool, m, order).await?,
        _ => order,
    };
    let settings = store::settings::current(pool)
        .await
        .map_err(store_failure)?
        .settings;
    let mappings = store::mappings::snapshot(pool)
        .await
        .map_err(store_failure)?;
    let reference = settings.num_at_card_format.render(&order).map_err(|e| {
        JobFailure::new(
            FailureKind::Permanent,
            json!({ "num_at_card": e.to_string() }),
        )
        .with_exception(reference_unavailable(id, &e.to_string()))
    })?;
    let draft = store::documents::recorded_draft(pool, id)
        .await
        .map_err(store_failure)?;
    let customer = customer_plan(&order, &mappings, &settings);
    Ok(Prepared::Post(Box::new(Plan {
        order,
        settings,
        mappings,
        customer,
        reference,
        draft,
    })))
}

async fn came_by_observer(pool: &PgPool, id: &str) -> Result<bool, JobFailure> {
    store::status_sync::came_by_observer(pool, id)
        .await
        .map_err(store_failure)
}

/// The order as `GET /V1/orders/{id}` returns it, normalised like a webhook's order and kept
/// as the order's content (so the page, the shipments and the reconciliation see the same
/// order that was posted). An observer body names the order by `entity_id`.
async fn reread(
    pool: &PgPool,
    magento: &MagentoClient,
    stored: Order,
) -> Result<Order, JobFailure> {
    let id = stored.increment_id.to_string();
    let Some(entity_id) = stored.magento_entity_id else {
        let problem = "the observer event carries no entity_id, so the order cannot be re-read \
                       from Magento";
        return Err(
            JobFailure::new(FailureKind::Permanent, json!({ "reread": problem }))
                .with_exception(reread_exception(&id, problem)),
        );
    };
    let fresh = match magento.order(entity_id).await {
        Ok(fresh) => fresh,
        Err(e @ (MagentoError::NotFound { .. } | MagentoError::Rejected { .. })) => {
            let problem = format!("Magento answered the re-read of order {entity_id}: {e}");
            return Err(
                JobFailure::new(FailureKind::Permanent, json!({ "reread": problem }))
                    .with_exception(reread_exception(&id, &problem)),
            );
        }
        Err(e) => {
            return Err(JobFailure::new(
                FailureKind::Transient,
                json!({ "reread": e.to_string() }),
            ))
        }
    };
    let order = crate::magento::order::normalise(&fresh.raw).map_err(|e| {
        let problem = format!("the re-read order is not usable: {e}");
        JobFailure::new(FailureKind::Permanent, json!({ "reread": problem }))
            .with_exception(reread_exception(&id, &problem))
    })?;
    if order.increment_id != stored.increment_id {
        let problem = format!(
            "Magento order {entity_id} is {} there, not {id}",
            order.increment_id
        );
        return Err(
            JobFailure::new(FailureKind::Permanent, json!({ "reread": problem }))
                .with_exception(reread_exception(&id, &problem)),
        );
    }
    store::posting::refresh_order(pool, &order)
        .await
        .map_err(store_failure)?;
    Ok(order)
}

fn reread_exception(increment_id: &str, problem: &str) -> NewException {
    NewException {
        category: crate::domain::exception::Category::PayloadInvalid,
        title: format!("Order {increment_id} could not be re-read from Magento"),
        detail: format!(
            "Order {increment_id} came in the Adobe Commerce observer envelope, whose order \
             lacks the addresses, tax rates and shipping method; b1bridge re-reads such orders \
             with GET /V1/orders/{{id}} before posting them, and {problem}. Check that the \
             order exists in the store MAGENTO_URL points at, then retry this exception."
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: Vec::new(),
        sap_error: None,
        dedup_key: NewException::dedup_key_for(
            crate::domain::exception::Category::PayloadInvalid,
            Some(increment_id),
            &[],
        ),
        context: json!({ "problem": problem }),
    }
}

impl PostOrder {
    async fn run(
        &self,
        job: &ClaimedJob,
        pool: &PgPool,
    ) -> Result<Box<dyn Completion>, JobFailure> {
        let plan = match prepare(pool, job, self.magento.as_deref()).await? {
            Prepared::Finished(completion) => return Ok(completion),
            Prepared::Post(plan) => plan,
        };
        match self.known(job, pool, &plan).await? {
            Some((Known::Order(doc), mapping)) => {
                tracing::warn!(
                    doc_entry = doc.doc_entry.0,
                    doc_num = doc.doc_num,
                    "order already in SAP B1 (an earlier attempt, an approver or a person added \
                     it); recording it"
                );
                return self
                    .posted(
                        job,
                        &plan.order,
                        &doc,
                        mapping,
                        plan.settings.total_tolerance,
                    )
                    .await;
            }
            Some((Known::Draft(doc), _)) => return Ok(self.awaiting_approval(job, &plan, &doc)),
            None => {}
        }
        let Ready { mut draft, lines } = self.ready(job, &plan).await?;
        let (card_code, customer_mapping) = self.business_partner(&plan).await?;
        draft.card_code = card_code;
        let mut new_order = NewSalesOrder::from(&draft);
        new_order.num_at_card = plan.reference.clone();
        let created = match self.sap.create_order(&new_order).await {
            Ok(created) => created,
            Err(e) if e.is_not_found() => {
                // -2028 is also how SAP answers an add that an approval procedure turned
                // into a draft: look for it before calling this a refusal.
                let drafts = self
                    .lookup
                    .drafts(&plan.reference, draft.card_code.as_str())
                    .await
                    .map_err(|e| failure("GET Drafts by NumAtCard", &e))?;
                if let Some(doc) = drafts.first() {
                    return Ok(self.awaiting_approval(job, &plan, doc));
                }
                return Err(self.refused(&plan, &lines, &draft, &e));
            }
            Err(e) => return Err(self.refused(&plan, &lines, &draft, &e)),
        };
        tracing::info!(
            doc_entry = created.doc_entry.0,
            doc_num = created.doc_num,
            "order posted to SAP B1"
        );
        self.posted(
            job,
            &plan.order,
            &created,
            customer_mapping,
            plan.settings.total_tolerance,
        )
        .await
    }

    /// The document SAP already holds for this order, if any: same reference, not cancelled
    /// (both filtered by SAP), the expected customer, among Sales Orders first and then
    /// drafts. With the customer's partner found or created by e-mail, that look-up is done
    /// only when documents with the reference exist; its mapping is then returned to learn.
    async fn known(
        &self,
        job: &ClaimedJob,
        pool: &PgPool,
        plan: &Plan,
    ) -> Result<Option<(Known, Option<(String, CardCode)>)>, JobFailure> {
        // Fresh whenever an earlier attempt may have reached SAP: any attempt after the
        // first (a lost answer, a lost lease, an operator's retry) or a recorded draft.
        let fresh = job.attempt > 1 || plan.draft.is_some();
        let known_card = match &plan.customer {
            CustomerPlan::Use(card) => Some(card.as_str()),
            _ => None,
        };
        let existing = if fresh {
            self.lookup.fresh(&plan.reference, known_card).await
        } else {
            self.lookup
                .batched(pool, &plan.reference, &plan.settings.num_at_card_format)
                .await
        }
        .map_err(lookup_failure)?;
        if existing.is_empty() {
            return Ok(None);
        }
        let (card, mapping) = match &plan.customer {
            CustomerPlan::Use(card) => (card.clone(), None),
            CustomerPlan::FindByEmail { .. } => self.business_partner(plan).await?,
            CustomerPlan::Hold(_) => return Ok(None),
        };
        let mine = |d: &SalesOrder| d.card_code.as_deref() == Some(card.as_str());
        if let Some(doc) = existing.orders.iter().find(|d| mine(d)) {
            return Ok(Some((Known::Order(doc.clone()), mapping)));
        }
        if let Some(doc) = existing.drafts.iter().find(|d| mine(d)) {
            return Ok(Some((Known::Draft(doc.clone()), mapping)));
        }
        tracing::warn!(
            num_at_card = %plan.reference,
            card_code = %card,
            "SAP B1 holds documents with this order's reference for another customer; they are \
             not this order"
        );
        Ok(None)
    }

    /// SAP keeps the order as a draft until an approver decides: recorded, `approval_pending`
    /// raised the first time, and checked again after the settings' interval. Nothing is
    /// added again while the draft waits.
    fn awaiting_approval(
        &self,
        job: &ClaimedJob,
        plan: &Plan,
        doc: &SalesOrder,
    ) -> Box<dyn Completion> {
        let draft = SapDocument {
            doc_entry: doc.doc_entry.0,
            doc_num: doc.doc_num,
        };
        tracing::info!(
            draft_doc_entry = draft.doc_entry,
            draft_doc_num = draft.doc_num,
            "order awaits approval in SAP B1 as a draft; checking again later"
        );
        let first_news = plan.draft != Some(draft);
        Box::new(AwaitingApproval {
            increment_id: job.subject.clone(),
            draft,
            exception: first_news.then(|| approval_pending(&plan.order, draft, &plan.reference)),
            check_in: Duration::from_secs(plan.settings.approval_check_interval_secs),
            event_id: job.event_id,
        })
    }

    /// A refused create, with the exception its cause calls for.
    fn refused(
        &self,
        plan: &Plan,
        lines: &[ResolvedLine],
        draft: &SalesOrderDraft,
        e: &SapError,
    ) -> JobFailure {
        let mut f = failure("POST Orders", e);
        if let (Some(mut refusal), Some(sap_error)) = (order_refusal(e), f.sap_error.clone()) {
            if let OrderRefusal::PostingPeriodClosed { date } = &mut refusal {
                *date = Some(draft.doc_date);
            }
            f = f.with_exception(refusal_exception(
                &plan.order,
                lines,
                &draft.card_code,
                &refusal,
                sap_error,
            ));
        }
        f
    }

    /// Checks the lines against the item master and builds the draft, collecting every
    /// problem (customer, items, tax, address) so the owning teams can fix them in one pass.
    async fn ready(&self, job: &ClaimedJob, plan: &Plan) -> Result<Ready, JobFailure> {
        let Plan {
            order,
            settings,
            mappings,
            customer,
            ..
        } = plan;
        // An operator's retry (a fresh round after earlier attempts) re-reads the items, so a
        // fix made in SAP counts at once instead of after the cache's TTL.
        let refresh = job.retry_attempt == 1 && job.attempt > 1;
        let codes = item_codes_for(order, mappings);
        let facts = self
            .items
            .facts(
                &self.sap,
                &codes,
                Duration::from_secs(settings.item_cache_ttl_secs),
                refresh,
            )
            .await
            .map_err(|e| failure("GET Items", &e))?;
        let mut held: Vec<NewException> = Vec::new();
        let tentative_card = match customer {
            CustomerPlan::Use(card) => Some(card.clone()),
            CustomerPlan::FindByEmail { create, .. } => Some(create.card_code.clone()),
            CustomerPlan::Hold(exception) => {
                held.push(exception.clone());
                None
            }
        };
        let lines = match resolve_lines(order, mappings, settings, |c| facts.get(c).copied()) {
            Ok(lines) => lines,
            Err(problems) => {
                held.extend(problems);
                Vec::new()
            }
        };
        if held.is_empty() {
            let card = tentative_card.expect("no hold, so a card code is planned");
            let company = self
                .company
                .facts(
                    &self.sap,
                    settings.tax_localization,
                    Duration::from_secs(settings.item_cache_ttl_secs),
                    refresh,
                )
                .await
                .map_err(|e| failure("GET company facts", &e))?;
            match build_checked_draft(order, card, &lines, mappings, settings, &company) {
                Ok(draft) => return Ok(Ready { draft, lines }),
                Err(problem) => held.push(problem),
            }
        }
        let categories: Vec<&str> = held.iter().map(|e| e.category.as_str()).collect();
        tracing::warn!(exceptions = ?categories, "order held: it cannot be posted as it is");
        let mut f = JobFailure::new(FailureKind::Permanent, json!({ "held": categories }));
        for exception in held {
            f = f.with_exception(exception);
        }
        Err(f)
    }

    /// The CardCode to post on, and the customers-mapping entry to remember when it had to
    /// be found or created.
    async fn business_partner(
        &self,
        plan: &Plan,
    ) -> Result<(CardCode, Option<(String, CardCode)>), JobFailure> {
        let (email, create) = match &plan.customer {
            CustomerPlan::Use(card) => return Ok((card.clone(), None)),
            CustomerPlan::FindByEmail { email, create } => (email, create),
            CustomerPlan::Hold(_) => unreachable!("held orders stop in `ready`"),
        };
        let found = self
            .sap
            .find_business_partners_by_email(email)
            .await
            .map_err(|e| failure("GET BusinessPartners by e-mail", &e))?;
        let customers: Vec<&wire::BusinessPartner> = found
            .iter()
            .filter(|bp| matches!(bp.card_type, None | Some(CardType::Customer)))
            .collect();
        let card_code = match customers.iter().find(|bp| bp.is_active()) {
            Some(bp) => CardCode::parse(&bp.card_code).map_err(|e| {
                JobFailure::new(
                    FailureKind::Permanent,
                    json!({ "card_code": bp.card_code, "invalid": e.to_string() }),
                )
            })?,
            None if !customers.is_empty() => {
                let codes: Vec<String> = customers.iter().map(|bp| bp.card_code.clone()).collect();
                return Err(JobFailure::new(
                    FailureKind::Permanent,
                    json!({ "inactive_business_partners": codes }),
                )
                .with_exception(posting::inactive_business_partner(
                    &plan.order,
                    email,
                    &codes,
                )));
            }
            None => self.create_business_partner(&plan.order, create).await?,
        };
        let mapping = MappingKind::Customers
            .normalise_key(&posting::customer_mapping_key(&plan.order))
            .ok()
            .map(|key| (key, card_code.clone()));
        Ok((card_code, mapping))
    }

    /// Creates the customer's partner. When its CardCode exists already (a concurrent order
    /// of the same new customer created it a moment ago), that partner is used if it carries
    /// the same e-mail.
    async fn create_business_partner(
        &self,
        order: &Order,
        create: &NewBusinessPartner,
    ) -> Result<CardCode, JobFailure> {
        match self
            .sap
            .create_business_partner(&wire::NewBusinessPartner::from(create))
            .await
        {
            Ok(_) => {
                tracing::info!(card_code = %create.card_code, "Business Partner created");
                Ok(create.card_code.clone())
            }
            Err(e) if is_duplicate_card_code(&e) => {
                let existing = self
                    .sap
                    .get_business_partner(&create.card_code)
                    .await
                    .map_err(|e| failure("GET BusinessPartners", &e))?;
                let same_customer = existing.as_ref().is_some_and(|bp| {
                    bp.email_address
                        .as_deref()
                        .is_some_and(|m| m.trim().eq_ignore_ascii_case(&create.email))
                });
                if same_customer {
                    Ok(create.card_code.clone())
                } else {
                    Err(failure("POST BusinessPartners", &e).with_exception(
                        posting::card_code_taken(order, &create.card_code, &create.email),
                    ))
                }
            }
            Err(e) => Err(failure("POST BusinessPartners", &e)),
        }
    }

    /// The success stage's record, with SAP's totals checked against Magento's. The create
    /// answer carries them; only an answer without `VatSum` costs a read.
    async fn posted(
        &self,
        job: &ClaimedJob,
        order: &Order,
        doc: &SalesOrder,
        customer_mapping: Option<(String, CardCode)>,
        tolerance: rust_decimal::Decimal,
    ) -> Result<Box<dyn Completion>, JobFailure> {
        let vat_sum = match doc.vat_sum {
            Some(v) => v,
            None => self
                .sap
                .get_order(doc.doc_entry)
                .await
                .map_err(|e| failure("GET Orders", &e))?
                .and_then(|d| d.vat_sum)
                .unwrap_or_default(),
        };
        // A foreign-currency document's figures in the order's currency are the FC twins;
        // SAP answers 0 for them on a local-currency document.
        let (doc_total, vat_sum) = match doc.doc_total_fc {
            Some(fc) if !fc.is_zero() => (fc, doc.vat_sum_fc.unwrap_or_default()),
            _ => (doc.doc_total, vat_sum),
        };
        let mismatch = check_totals(order, doc_total, vat_sum, tolerance);
        if let Some(m) = &mismatch {
            tracing::warn!(title = %m.title, "SAP totals differ from Magento's");
        }
        Ok(Box::new(Posted {
            increment_id: job.subject.clone(),
            document: SapDocument {
                doc_entry: doc.doc_entry.0,
                doc_num: doc.doc_num,
            },
            customer_mapping,
            mismatch,
            event_id: job.event_id,
        }))
    }
}

fn lookup_failure(e: LookupError) -> JobFailure {
    match e {
        LookupError::Sap(e) => failure("GET Orders/Drafts by NumAtCard", &e),
        LookupError::Store(e) => store_failure(e),
    }
}

/// Postgres failed while preparing: nothing was sent to SAP, so the job simply runs again.
fn store_failure(e: StoreError) -> JobFailure {
    JobFailure::new(FailureKind::Transient, json!({ "store": e.to_string() }))
}

fn nothing_to_post(increment_id: &str) -> JobFailure {
    JobFailure::new(
        FailureKind::Permanent,
        json!({ "order": increment_id, "problem": "no stored order content" }),
    )
    .with_exception(posting::nothing_to_post(increment_id))
}
