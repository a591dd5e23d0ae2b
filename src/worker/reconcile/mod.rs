//! The reconciliation run (docs/reconciliation.md): compares Magento with SAP B1 and records
//! every difference as an exception for the team that owns it.
//!
//! Stages: **snapshot** (settings and mappings; the Magento orders created in the window,
//! every page, and those of open findings that have left it; b1bridge's record of them; the SAP Sales Orders carrying their references,
//! cancelled ones included; the A/R invoices that copy them, read only when a captured
//! payment needs them) → **checks** (each a small module of [`checks`], run in turn on the
//! snapshot; one that fails is reported and the others still run) → **record** (in one
//! transaction: every finding, an open one bumped rather than duplicated; every open finding
//! whose subject was looked at again and found in order, resolved).
//!
//! Both systems are only read; SAP requests go through the shared client's concurrency limit.
pub mod checks;

use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::handler::JobContext;
use super::run_job::{RunResult, RunTask};
use crate::domain::mappings::Mappings;
use crate::domain::reconcile::{OrderFacts, SapOrder};
use crate::domain::settings::Settings;
use crate::magento::{MagentoClient, MagentoError};
use crate::sap::{SapClient, SapError};
use crate::store::runs::Run;
use crate::store::{mappings, reconcile as store, settings, StoreError};

/// Magento orders per search page.
const MAGENTO_PAGE_SIZE: u32 = 100;

/// The reconciliation, with the process's SAP and Magento clients.
#[derive(Clone)]
pub struct Reconcile {
    sap: SapClient,
    magento: Arc<MagentoClient>,
}

/// Options of one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReconcileOptions {
    /// Compare the Magento orders created since then; default: `reconcile_window_days` ago.
    pub since: Option<DateTime<Utc>>,
}

/// What a run did; stored as the run's `figures`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReconcileFigures {
    /// The window's start: Magento orders created since then were compared.
    pub since: Option<DateTime<Utc>>,
    pub orders_read: u64,
    /// Magento orders that could not be read as orders (named in `warnings`).
    pub orders_unreadable: u64,
    /// Per check: subjects looked at and findings.
    pub checks: Vec<CheckFigures>,
    /// Findings recorded (new, or one more occurrence of an open one).
    pub findings: u64,
    /// Open findings resolved because their subject is in order now.
    pub resolved: u64,
    /// SKUs whose stock was compared.
    pub stock_skus: u64,
    /// Where the rotating stock sample stopped; the next run continues after it.
    pub stock_sample_last: Option<String>,
    pub duration_ms: u64,
    /// What is missing from the configuration, or could not be compared (reported, never
    /// guessed).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckFigures {
    pub check: String,
    pub checked: u64,
    pub found: u64,
    /// Why the check did not finish (the others still ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a run (or one check) did not finish its work.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("SAP B1: {0}")]
    Sap(#[from] SapError),
    #[error("Magento: {0}")]
    Magento(#[from] MagentoError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Checks(String),
}

/// Everything the checks compare, read once per run.
pub struct Snapshot {
    pub now: DateTime<Utc>,
    pub since: DateTime<Utc>,
    pub settings: Settings,
    pub mappings: Mappings,
    pub orders: Vec<OrderFacts>,
}

/// The systems a check may read.
pub struct Ports<'a> {
    pub pool: &'a PgPool,
    pub sap: &'a SapClient,
    pub magento: &'a MagentoClient,
}

impl Reconcile {
    pub fn new(sap: SapClient, magento: Arc<MagentoClient>) -> Self {
        Self { sap, magento }
    }

    /// One reconciliation. The figures say how far it got.
    pub async fn reconcile(
        &self,
        pool: &PgPool,
        options: ReconcileOptions,
    ) -> (ReconcileFigures, Result<(), ReconcileError>) {
        let started = Instant::now();
        let mut figures = ReconcileFigures::default();
        let result = self.reconcile_into(pool, options, &mut figures).await;
        figures.duration_ms = started.elapsed().as_millis() as u64;
        (figures, result)
    }

    async fn reconcile_into(
        &self,
        pool: &PgPool,
        options: ReconcileOptions,
        figures: &mut ReconcileFigures,
    ) -> Result<(), ReconcileError> {
        let snapshot = self.snapshot(pool, options, figures).await?;
        let ports = Ports {
            pool,
            sap: &self.sap,
            magento: &self.magento,
        };
        let mut findings = Vec::new();
        let mut in_order = Vec::new();
        let mut failed = Vec::new();
        for check in checks::all() {
            let name = check.name();
            match check.run(&snapshot, &ports, figures).await {
                Ok(outcome) => {
                    figures.checks.push(CheckFigures {
                        check: name.into(),
                        checked: outcome.checked.len() as u64,
                        found: outcome.findings.len() as u64,
                        error: None,
                    });
                    in_order.extend(outcome.in_order());
                    findings.extend(outcome.findings);
                }
                Err(e) => {
                    tracing::warn!(check = name, error = %e, "reconciliation check failed");
                    figures.checks.push(CheckFigures {
                        check: name.into(),
                        error: Some(e.to_string()),
                        ..CheckFigures::default()
                    });
                    failed.push(format!("{name}: {e}"));
                }
            }
        }
        let recorded = store::record(pool, &findings, &in_order, &snapshot.orders).await?;
        figures.findings = recorded.findings;
        figures.resolved = recorded.resolved;
        if failed.is_empty() {
            Ok(())
        } else {
            Err(ReconcileError::Checks(failed.join("; ")))
        }
    }

    async fn snapshot(
        &self,
        pool: &PgPool,
        options: ReconcileOptions,
        figures: &mut ReconcileFigures,
    ) -> Result<Snapshot, ReconcileError> {
        let settings = settings::current(pool).await?.settings;
        let mappings = mappings::snapshot(pool).await?;
        let now = Utc::now();
        let since = options
            .since
            .unwrap_or_else(|| now - Duration::days(i64::from(settings.reconcile_window_days)));
        figures.since = Some(since);
        let mut rest = self
            .magento
            .orders_created_since(
                &since.format("%Y-%m-%d %H:%M:%S").to_string(),
                MAGENTO_PAGE_SIZE,
            )
            .await?;
        // Orders of open findings that have left the window are looked at again too.
        let older: Vec<String> = store::orders_with_open_findings(pool)
            .await?
            .into_iter()
            .filter(|id| !rest.iter().any(|r| &r.increment_id == id))
            .collect();
        if !older.is_empty() {
            rest.extend(
                self.magento
                    .orders_by_increment_ids(&older, MAGENTO_PAGE_SIZE)
                    .await?,
            );
        }
        figures.orders_read = rest.len() as u64;
        let mut orders = Vec::with_capacity(rest.len());
        for r in &rest {
            match order_facts(r, &settings) {
                Ok(o) => orders.push(o),
                Err(why) => {
                    figures.orders_unreadable += 1;
                    figures.warnings.push(format!(
                        "Magento order {} not compared: {why}",
                        r.increment_id
                    ));
                }
            }
        }
        let ids: Vec<String> = orders.iter().map(|o| o.increment_id.clone()).collect();
        let mut bridge = store::bridge_orders(pool, &ids).await?;
        let references: Vec<String> = orders.iter().map(|o| o.reference.clone()).collect();
        let mut by_reference: HashMap<String, Vec<SapOrder>> = HashMap::new();
        for d in self.sap.orders_by_references(&references).await? {
            let Some(reference) = d.num_at_card.clone() else {
                continue;
            };
            by_reference.entry(reference).or_default().push(SapOrder {
                doc_entry: d.doc_entry.0,
                doc_num: d.doc_num,
                currency: d.doc_currency.clone(),
                doc_total: d.doc_total,
                vat_sum: d.vat_sum.unwrap_or_default(),
                doc_total_fc: d.doc_total_fc,
                vat_sum_fc: d.vat_sum_fc,
                open: d.document_status == crate::sap::types::DocumentStatus::Open && !d.cancelled,
                cancelled: d.cancelled,
                invoiced: false,
            });
        }
        for o in &mut orders {
            o.bridge = bridge.remove(&o.increment_id);
            o.sap = by_reference.remove(&o.reference).unwrap_or_default();
        }
        // Invoices are read only when a captured payment needs one; an invoice is dated on
        // or after its order, so the window (a day earlier, for time zones) covers it.
        let needs_invoices = orders
            .iter()
            .any(|o| o.amount_paid.is_some_and(|p| !p.is_zero()) && o.the_sap_order().is_some());
        if needs_invoices {
            let invoiced = self
                .sap
                .invoiced_orders_since(since.date_naive() - Duration::days(1))
                .await?;
            for s in orders.iter_mut().flat_map(|o| o.sap.iter_mut()) {
                s.invoiced = invoiced.contains(&s.doc_entry);
            }
        }
        Ok(Snapshot {
            now,
            since,
            settings,
            mappings,
            orders,
        })
    }
}

/// A Magento order as the checks see it; `Err` says why it cannot be compared.
fn order_facts(
    r: &crate::magento::types::RestOrder,
    settings: &Settings,
) -> Result<OrderFacts, String> {
    let order = crate::magento::order::normalise(&r.raw).map_err(|e| e.to_string())?;
    let reference = settings
        .num_at_card_format
        .render(&order)
        .map_err(|e| e.to_string())?;
    let payment = order.payment.as_ref();
    Ok(OrderFacts {
        increment_id: r.increment_id.clone(),
        reference,
        magento_state: r.state.clone(),
        created_at: order.created_at,
        currency: order.currency.as_str().to_owned(),
        grand_total: order.totals.grand_total,
        tax_amount: order.totals.tax_amount,
        amount_paid: payment.and_then(|p| p.amount_paid),
        last_trans_id: payment.and_then(|p| p.last_trans_id.clone()),
        bridge: None,
        sap: Vec::new(),
    })
}

impl RunTask for Reconcile {
    fn run<'a>(&'a self, _run: &'a Run, ctx: &'a JobContext) -> BoxFuture<'a, RunResult> {
        Box::pin(async move {
            let (figures, result) = self.reconcile(&ctx.pool, ReconcileOptions::default()).await;
            RunResult {
                figures: serde_json::to_value(&figures).unwrap_or_default(),
                error: result.err().map(|e| e.to_string()),
            }
        })
    }
}
