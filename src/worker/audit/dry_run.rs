//! The dry run: the last Magento orders mapped exactly as `post_order` maps them (customer
//! plan, SKU → item with the item-master checks, the draft with tax codes and freight), then
//! `POST OrdersService_Preview` instead of `POST /Orders`. The pipeline's own pre-check is left
//! out on purpose: the point is to see what SAP itself computes.
use std::time::Duration;

use super::{sap, stand_in, AuditError};
use crate::domain::audit::dry_run::{
    compare, MagentoTotals, PreviewExpenseFigures, PreviewFigures, PreviewLineFigures,
};
use crate::domain::audit::facts::PeriodProbe;
use crate::domain::audit::{Check, Finding, Severity};
use crate::domain::ids::CardCode;
use crate::domain::mapping::{
    build_draft, customer_plan, item_codes_for, resolve_lines, CustomerPlan,
};
use crate::domain::mappings::Mappings;
use crate::domain::order::Order;
use crate::domain::posting::OrderRefusal;
use crate::domain::sales_order::SalesOrderDraft;
use crate::domain::settings::Settings;
use crate::sap::refusal::order_refusal;
use crate::sap::types::{CardType, NewSalesOrder, PreviewDocument};
use crate::sap::{SapClient, SapError};
use crate::worker::company_facts::CompanyFactsCache;
use crate::worker::item_cache::ItemCache;

pub struct DryRun<'a> {
    sap: &'a SapClient,
    settings: &'a Settings,
    mappings: &'a Mappings,
    items: ItemCache,
    company: CompanyFactsCache,
}

/// What the dry run found.
pub struct Outcome {
    pub orders: u64,
    pub matching: u64,
    pub findings: Vec<Finding>,
    /// A draft SAP accepted, for the posting-period probe.
    pub probe: Option<NewSalesOrder>,
}

impl<'a> DryRun<'a> {
    pub fn new(sap: &'a SapClient, settings: &'a Settings, mappings: &'a Mappings) -> Self {
        Self {
            sap,
            settings,
            mappings,
            items: ItemCache::default(),
            company: CompanyFactsCache::default(),
        }
    }

    pub async fn run(&self, orders: &[Result<Order, String>]) -> Result<Outcome, AuditError> {
        let mut out = Outcome {
            orders: 0,
            matching: 0,
            findings: Vec::new(),
            probe: None,
        };
        for order in orders {
            let order = match order {
                Ok(o) => o,
                Err(why) => {
                    out.findings.push(Finding::new(
                        Severity::Warning,
                        Check::DryRun,
                        why.split(':').next().unwrap_or("order").to_owned(),
                        format!("Magento's order cannot be read as b1bridge reads webhooks: {why}"),
                        "look at the order in Magento; such orders are raised as payload_invalid",
                    ));
                    continue;
                }
            };
            out.orders += 1;
            let id = order.increment_id.to_string();
            let object = format!("order {id}");
            let draft = match self.draft(order).await? {
                Ok(draft) => draft,
                Err(held) => {
                    out.findings.push(held);
                    continue;
                }
            };
            let mut wire = NewSalesOrder::from(&draft);
            if let Ok(reference) = self.settings.num_at_card_format.render(order) {
                wire.num_at_card = reference;
            }
            match self.sap.preview_order(&wire).await {
                Ok(preview) => {
                    let outcome = compare(
                        &id,
                        &draft,
                        MagentoTotals {
                            grand_total: order.totals.grand_total,
                            tax_amount: order.totals.tax_amount,
                        },
                        &figures(&preview, draft.foreign_currency),
                        self.settings,
                    );
                    if outcome.matches {
                        out.matching += 1;
                    }
                    out.findings.extend(outcome.findings);
                    out.probe.get_or_insert(wire);
                }
                Err(e @ SapError::Permanent { .. }) => {
                    out.findings.push(Finding::new(
                        Severity::Blocking,
                        Check::DryRun,
                        object,
                        format!("SAP B1 would refuse the Sales Order: {}", message(&e)),
                        refusal_fix(&e),
                    ));
                }
                Err(e) => return Err(sap("POST OrdersService_Preview")(e)),
            }
        }
        Ok(out)
    }

    /// The draft `post_order` would build, or the finding that says why it would hold the
    /// order instead.
    async fn draft(&self, order: &Order) -> Result<Result<SalesOrderDraft, Finding>, AuditError> {
        let object = format!("order {}", order.increment_id);
        let held = |title: String, detail: String| {
            Finding::new(
                Severity::Warning,
                Check::DryRun,
                object.clone(),
                format!("b1bridge would hold this order: {title}"),
                detail,
            )
        };
        let ttl = Duration::from_secs(self.settings.item_cache_ttl_secs);
        let codes = item_codes_for(order, self.mappings);
        let facts = self
            .items
            .facts(self.sap, &codes, ttl, false)
            .await
            .map_err(sap("GET Items"))?;
        let lines = match resolve_lines(order, self.mappings, self.settings, |c| {
            facts.get(c).copied()
        }) {
            Ok(lines) => lines,
            Err(problems) => {
                let first = &problems[0];
                return Ok(Err(held(first.title.clone(), first.detail.clone())));
            }
        };
        let card = match customer_plan(order, self.mappings, self.settings) {
            CustomerPlan::Use(card) => card,
            CustomerPlan::FindByEmail { email, .. } => self.partner_by_email(&email).await?,
            CustomerPlan::Hold(e) => return Ok(Err(held(e.title, e.detail))),
        };
        let company = self
            .company
            .facts(self.sap, self.settings.tax_localization, ttl, false)
            .await
            .map_err(sap("company facts"))?;
        Ok(
            build_draft(order, card, &lines, self.mappings, self.settings, &company)
                .map_err(|e| held(e.title, e.detail)),
        )
    }

    /// The customer's active partner found by e-mail, as the pipeline finds it; when it would
    /// create one, the guest partner stands in (a preview cannot name a partner that does not
    /// exist yet, and creating it would write to SAP).
    async fn partner_by_email(&self, email: &str) -> Result<CardCode, AuditError> {
        let found = self
            .sap
            .find_business_partners_by_email(email)
            .await
            .map_err(sap("GET BusinessPartners by e-mail"))?;
        Ok(found
            .iter()
            .filter(|bp| matches!(bp.card_type, None | Some(CardType::Customer)) && bp.is_active())
            .find_map(|bp| CardCode::parse(&bp.card_code).ok())
            .unwrap_or_else(|| stand_in(self.settings)))
    }

    /// Previews `probe` (an order SAP accepted) dated `today`: refused for its date means
    /// today's posting period is closed.
    pub async fn probe_period(
        &self,
        probe: Option<&NewSalesOrder>,
        today: chrono::NaiveDate,
    ) -> Result<PeriodProbe, AuditError> {
        let Some(probe) = probe else {
            return Ok(PeriodProbe::Unknown {
                reason: "no recent order could be previewed to try today's date with".into(),
            });
        };
        let mut dated = probe.clone();
        dated.doc_date = today;
        dated.doc_due_date = today;
        dated.tax_date = today;
        match self.sap.preview_order(&dated).await {
            Ok(_) => Ok(PeriodProbe::Open),
            Err(e @ SapError::Permanent { .. }) => Ok(match order_refusal(&e) {
                Some(OrderRefusal::PostingPeriodClosed { .. }) => PeriodProbe::Closed {
                    message: message(&e),
                },
                _ => PeriodProbe::Unknown {
                    reason: format!(
                        "SAP B1 refused the probe for another reason: {}",
                        message(&e)
                    ),
                },
            }),
            Err(e) => Err(sap("POST OrdersService_Preview")(e)),
        }
    }
}

fn message(e: &SapError) -> String {
    e.sap_message()
        .map(str::to_owned)
        .unwrap_or_else(|| e.to_string())
}

/// What to do about a refusal, by its cause where SAP's text shows it.
fn refusal_fix(e: &SapError) -> String {
    match order_refusal(e) {
        Some(OrderRefusal::ItemNotSellable { item_code }) => format!(
            "make item {} active, not frozen and a sales item in SAP B1, or map the SKU to \
             another item",
            item_code.unwrap_or_default()
        ),
        Some(OrderRefusal::UnknownItem { item_code }) => format!(
            "create item {} in SAP B1 or map the SKU (PUT /api/v1/mappings/skus/{{sku}})",
            item_code.unwrap_or_default()
        ),
        Some(OrderRefusal::CustomerRefused { card_code }) => format!(
            "make partner {} an active customer in SAP B1, or correct the customers mapping or \
             guest_card_code",
            card_code.unwrap_or_default()
        ),
        Some(OrderRefusal::PostingPeriodClosed { .. }) => {
            "open the posting period of the order's date in SAP B1".into()
        }
        Some(OrderRefusal::SerialBatchRequired) => {
            "SAP asks for serial/batch numbers on a Sales Order: check the item's management \
             settings in SAP B1"
                .into()
        }
        Some(OrderRefusal::DocTotalRefused) => "check the document total SAP computes".into(),
        None => "read SAP's message: it names the field (tax code, warehouse, currency, freight) \
                 to correct in the mappings, the settings or SAP B1"
            .into(),
    }
}

/// SAP's figures in the document's currency (the FC twins on a foreign-currency document).
fn figures(p: &PreviewDocument, foreign: bool) -> PreviewFigures {
    let pick = |local: Option<rust_decimal::Decimal>, fc: Option<rust_decimal::Decimal>| {
        if foreign {
            fc.unwrap_or_default()
        } else {
            local.unwrap_or_default()
        }
    };
    PreviewFigures {
        doc_total: if foreign {
            p.doc_total_fc.unwrap_or_default()
        } else {
            p.doc_total
        },
        vat_sum: pick(p.vat_sum, p.vat_sum_fc),
        total_discount: p.total_discount.unwrap_or_default(),
        lines: p
            .lines
            .iter()
            .map(|l| PreviewLineFigures {
                line_total: pick(l.line_total, l.row_total_fc),
                tax_total: l.tax_total.unwrap_or_default(),
                tax_percent: l.tax_percentage_per_row,
            })
            .collect(),
        expenses: p
            .expenses
            .iter()
            .map(|e| PreviewExpenseFigures {
                line_total: pick(e.line_total, e.line_total_fc),
                tax_sum: e.tax_sum.unwrap_or_default(),
            })
            .collect(),
    }
}
