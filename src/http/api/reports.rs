//! `GET /api/v1/reports/daily`: the daily check an ops lead or finance reads each morning —
//! order flow, queue depth and age, exceptions by team and impact, stock-sync freshness and
//! drift, and a health verdict on top.
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Authorized, Viewer};
use super::responses as r;
use super::ApiQuery;
use crate::domain::daily_check::{assess, Health, HealthFacts, UtcDay};
use crate::domain::exception::{Category, Impact, OwnerTeam};
use crate::domain::exception_flow::ExceptionStatus;
use crate::domain::order_flow::{JobKind, OrderStatus};
use crate::domain::validation::FieldError;
use crate::http::{ApiContext, ApiError};
use crate::store::daily_report::{
    self, DailyFigures, OldestException as StoredOldest, StockSyncFigures,
};
use crate::store::metrics::{JobCount, PendingJob};
use crate::store::StoreError;

/// The daily check. Two kinds of figures: those of the day asked for (`orders` except
/// `current`; `exceptions.opened`, `resolved`, `ignored`), counted over `[from, until)`; and
/// those of the moment of the request (`health`, `orders.current`, `queue`, the rest of
/// `exceptions`), which do not depend on `date`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "date": "2026-11-26", "from": "2026-11-26T00:00:00Z", "until": "2026-11-27T00:00:00Z",
    "generated_at": "2026-11-26T07:30:00Z",
    "health": {"verdict": "attention", "reasons": ["2 exception(s) open or retrying", "1 order(s) parked"]},
    "orders": {"received": 42, "posted": 40, "posting_latency_secs": {"p50": 1.84, "p95": 6.2},
        "cancellations_requested": 2, "cancelled_in_sap": 1,
        "current": {"queued": 1, "cancel_queued": 0, "parked": 1, "awaiting_order": 0}},
    "queue": {"depth": [{"kind": "post_order", "pending": 1, "running": 0, "parked": 1},
                        {"kind": "cancel_order", "pending": 0, "running": 0, "parked": 0},
                        {"kind": "stock_sync", "pending": 0, "running": 0, "parked": 0},
                        {"kind": "status_sync", "pending": 0, "running": 0, "parked": 0},
                        {"kind": "backfill", "pending": 0, "running": 0, "parked": 0},
                        {"kind": "reconcile", "pending": 0, "running": 0, "parked": 0},
                        {"kind": "post_refund", "pending": 0, "running": 0, "parked": 0}],
        "oldest_pending": {"id": 812, "order_increment_id": "000000131", "subject": "000000131", "kind": "post_order",
            "created_at": "2026-11-26T07:29:58Z", "run_after": "2026-11-26T07:29:58Z", "age_secs": 2},
        "past_run_after": 1},
    "exceptions": {
        "by_team": [{"team": "merchandising", "open": 1, "retrying": 0},
                    {"team": "customer_service", "open": 0, "retrying": 0},
                    {"team": "operations", "open": 0, "retrying": 0},
                    {"team": "finance", "open": 1, "retrying": 0},
                    {"team": "integration", "open": 0, "retrying": 0}],
        "by_impact": [{"impact": "blocks_fulfilment", "open": 1, "retrying": 0},
                      {"impact": "customer_facing", "open": 0, "retrying": 0},
                      {"impact": "stock_accuracy", "open": 0, "retrying": 0},
                      {"impact": "financial", "open": 1, "retrying": 0},
                      {"impact": "informational", "open": 0, "retrying": 0}],
        "opened": 3, "resolved": 1, "ignored": 0,
        "oldest_open": {"id": "01936f6e-5f1e-7c4a-9d7e-3b1f2a4c5d6e", "category": "unknown_sku",
            "status": "open", "order_increment_id": "000000013",
            "first_seen_at": "2026-11-26T05:12:00Z", "age_secs": 8280}},
    "refunds": {"posted": 3, "waiting": 1, "parked": 0},
    "stock_sync": {"status": "ok", "last_run_at": "2026-11-26T07:55:04Z",
        "last_success_at": "2026-11-26T07:55:04Z", "age_secs": 1116},
    "intake": {"last_webhook_received_at": "2026-11-26T07:29:58Z", "last_webhook_age_secs": 2,
        "last_poll": {"status": "ok", "last_run_at": "2026-11-26T07:28:00Z",
            "last_success_at": "2026-11-26T07:28:00Z", "age_secs": 120}},
    "reconciliation": {"status": "ok", "last_run_at": "2026-11-26T07:00:09Z",
        "last_success_at": "2026-11-26T07:00:09Z", "age_secs": 1791},
    "drift_found": {"found": 2, "by_kind": [
        {"category": "stock_drift", "found": 1, "open": 1},
        {"category": "total_mismatch", "found": 1, "open": 1}]},
    "totals": [{"currency": "GBP", "orders": 41, "magento_grand_total": 5230.5,
        "sap_doc_total": 5229.5, "difference": -1.0,
        "differences": [{"order_increment_id": "000000131", "magento_grand_total": 120.0,
            "sap_doc_total": 119.0, "sap_doc_num": 1131, "difference": -1.0}]}]
}))]
pub struct DailyReport {
    /// The UTC day the day figures cover.
    pub date: NaiveDate,
    /// Start of the day (inclusive).
    pub from: DateTime<Utc>,
    /// End of the day (exclusive).
    pub until: DateTime<Utc>,
    /// When the figures were read (database clock). All figures come from one consistent
    /// snapshot; every age is measured from this moment.
    pub generated_at: DateTime<Utc>,
    /// The verdict on the state now: `critical` when a `blocks_fulfilment` exception has been open or retrying for more than
    /// 24 h or the oldest pending job has waited more than 1 h; else `attention` when any
    /// exception is open or retrying or any order is parked; else `ok`.
    pub health: Health,
    pub orders: OrderFlow,
    pub queue: Queue,
    pub exceptions: ExceptionSummary,
    pub stock_sync: StockSync,
    pub refunds: RefundFlow,
    /// Whether Magento's orders still arrive: the last webhook, and the last poll of Magento's
    /// orders that catches missed ones.
    pub intake: Intake,
    /// Freshness of the reconciliation (see `GET /api/v1/runs?kind=reconcile`).
    pub reconciliation: StockSync,
    /// Differences between SAP B1 and Magento that reconciliation found, by kind: first seen
    /// that day, and open now. Null while no reconciliation run has finished ("not
    /// measured", never "none found").
    pub drift_found: Option<DriftFound>,
    /// The day's Magento orders (created that day, not cancelled) as the last reconciliation
    /// saw them: the sum of Magento grand totals against the sum of SAP DocTotals (the FC
    /// twin on a foreign-currency document), per currency, with every order that differs.
    /// Null while no reconciliation run has finished.
    pub totals: Option<Vec<DayTotals>>,
}

/// Intake freshness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Intake {
    /// When the last webhook arrived (whatever became of it); null when none ever did.
    pub last_webhook_received_at: Option<DateTime<Utc>>,
    /// Seconds since `last_webhook_received_at`.
    pub last_webhook_age_secs: Option<i64>,
    /// The missed-webhook poll of Magento's orders (`backfill` runs).
    pub last_poll: StockSync,
}

/// Reconciliation findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriftFound {
    /// Findings first seen that day, all kinds.
    pub found: i64,
    /// Per category that reconciliation has raised.
    pub by_kind: Vec<DriftKind>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriftKind {
    pub category: Category,
    /// First seen that day.
    pub found: i64,
    /// Open or retrying now.
    pub open: i64,
}

/// One currency's totals of the day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayTotals {
    pub currency: String,
    /// Orders of the day in this currency.
    pub orders: i64,
    #[schema(value_type = f64)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub magento_grand_total: rust_decimal::Decimal,
    /// Over the orders that have one SAP Sales Order.
    #[schema(value_type = f64)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub sap_doc_total: rust_decimal::Decimal,
    /// `sap_doc_total − magento_grand_total` (an order missing from SAP counts its whole
    /// grand total).
    #[schema(value_type = f64)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub difference: rust_decimal::Decimal,
    /// Every order whose totals differ, or that has no single SAP order.
    pub differences: Vec<OrderDifference>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDifference {
    pub order_increment_id: String,
    #[schema(value_type = f64)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub magento_grand_total: rust_decimal::Decimal,
    /// Null when SAP has no Sales Order for it (or more than one).
    #[schema(value_type = Option<f64>)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    pub sap_doc_total: Option<rust_decimal::Decimal>,
    pub sap_doc_num: Option<i32>,
    /// `sap_doc_total − magento_grand_total`; null without a SAP total.
    #[schema(value_type = Option<f64>)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    pub difference: Option<rust_decimal::Decimal>,
}

/// Orders through the flow.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderFlow {
    /// Orders b1bridge first heard of that day and whose content has arrived (an order whose
    /// cancellation arrived before the order itself counts on the day of that cancellation).
    pub received: i64,
    /// Orders posted to SAP B1 that day: their first successful `post_order` job finished that
    /// day and the order has a SAP document. Read from the outbox's `finished_at`, which
    /// commits together with the SAP DocEntry; orders have no `posted_at` column of their own.
    /// A post superseded by a cancellation is not counted, even if the cancellation later
    /// found the order in SAP (when it got there is unknown).
    pub posted: i64,
    /// Received → posted (order first heard of → post job finished) over the orders posted
    /// that day; null when none was. Includes time spent parked.
    pub posting_latency_secs: Option<Percentiles>,
    /// Magento cancellations that arrived that day.
    pub cancellations_requested: i64,
    /// Sales Orders cancelled in SAP B1 that day (`cancel_order` job finished, order has a
    /// SAP document). Orders cancelled before they reached SAP are not counted here.
    pub cancelled_in_sap: i64,
    /// Orders by status now, for the statuses that still need work.
    pub current: CurrentOrders,
}

/// Magento credit memos on their way to SAP B1 A/R credit memos.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundFlow {
    /// Refunds whose A/R credit memo was recorded that day.
    pub posted: i64,
    /// Refunds waiting now for their order's A/R invoice (`refund_unmatched`, checked again
    /// periodically).
    pub waiting: i64,
    /// Refunds held now by an exception until someone acts.
    pub parked: i64,
}

/// Continuous percentiles, in seconds (millisecond precision).
#[derive(Debug, Serialize, ToSchema)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
}

/// Orders now in each unfinished status.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentOrders {
    /// Waiting for a worker to post them.
    pub queued: i64,
    /// A cancellation is waiting for a worker.
    pub cancel_queued: i64,
    /// Held by an exception until someone acts.
    pub parked: i64,
    /// Only a cancellation has arrived; the order itself has not.
    pub awaiting_order: i64,
}

/// The outbox now.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queue {
    /// Unfinished jobs per kind, every kind listed (finished jobs are in `orders`).
    pub depth: Vec<QueueDepth>,
    /// The pending job waiting longest since it was created; null when none is pending.
    pub oldest_pending: Option<OldestJob>,
    /// Pending jobs whose `run_after` has passed: due, but not taken by a worker yet. Near 0
    /// while workers run; a growing number means no worker is draining the queue.
    pub past_run_after: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueDepth {
    pub kind: JobKind,
    /// Waiting for a worker (some until their `run_after`, after a transient failure).
    pub pending: i64,
    /// Held by a worker now.
    pub running: i64,
    /// Stopped by an exception until someone retries.
    pub parked: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OldestJob {
    pub id: i64,
    /// The job's order; null for a run (see `subject`).
    pub order_increment_id: Option<String>,
    /// What the job is about: the order's increment id, or a run's id.
    pub subject: String,
    pub kind: JobKind,
    pub created_at: DateTime<Utc>,
    /// Not run before this (later than `created_at` after a transient failure).
    pub run_after: DateTime<Utc>,
    /// Seconds since `created_at`.
    pub age_secs: i64,
}

/// The exception queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionSummary {
    /// Exceptions open or retrying now, per owner team (every team listed).
    pub by_team: Vec<TeamCount>,
    /// Exceptions open or retrying now, per impact (every impact listed).
    pub by_impact: Vec<ImpactCount>,
    /// Exceptions first seen that day.
    pub opened: i64,
    /// Exceptions resolved that day (by hand or automatically) and still resolved.
    pub resolved: i64,
    /// Exceptions ignored that day.
    pub ignored: i64,
    /// The open or retrying exception seen first; null when the queue is empty.
    pub oldest_open: Option<OldestException>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamCount {
    pub team: OwnerTeam,
    pub open: i64,
    pub retrying: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactCount {
    pub impact: Impact,
    pub open: i64,
    pub retrying: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OldestException {
    pub id: Uuid,
    pub category: Category,
    /// `open` or `retrying`.
    pub status: ExceptionStatus,
    pub order_increment_id: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    /// Seconds since `first_seen_at`.
    pub age_secs: i64,
}

/// Freshness of a periodic run, now: the SAP → Magento stock sync (`stock_sync`), the
/// missed-webhook poll (`backfill`), the reconciliation (`reconcile`); see `GET /api/v1/runs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockSync {
    pub status: StockSyncStatus,
    /// When the last stock sync run finished, whatever its outcome; null while there is none.
    pub last_run_at: Option<DateTime<Utc>>,
    /// When the last successful run finished: Magento's stock is as fresh as this.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Seconds since `last_success_at`; null when no run has succeeded.
    pub age_secs: Option<i64>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockSyncStatus {
    /// No run of the kind has finished yet (no `MAGENTO_URL`, or none has run so far).
    NotConfigured,
    /// The last run succeeded.
    Ok,
    /// The last run failed (see its `error` in `GET /api/v1/runs`); Magento keeps the
    /// quantities of `last_success_at`.
    Failing,
}

/// Which day to report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DailyQuery {
    /// UTC day, `YYYY-MM-DD`; default today (UTC). A day after today has no figures yet: its
    /// day counts are 0 and `generated_at` is before `from`.
    #[param(value_type = Option<NaiveDate>, example = "2026-11-26")]
    pub date: Option<String>,
}

/// The daily check: order flow of one UTC day, queue depth and age, exceptions by team and
/// impact, stock-sync freshness, drift found, and a health verdict.
#[utoipa::path(get, path = "/api/v1/reports/daily", tag = "reports", security(("bearer" = [])),
    params(DailyQuery),
    responses(
        (status = 200, description = "The daily check", body = DailyReport),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn daily_report(
    _: Authorized<Viewer>,
    State(ctx): State<ApiContext>,
    ApiQuery(q): ApiQuery<DailyQuery>,
) -> Result<Json<DailyReport>, ApiError> {
    let today = Utc::now().date_naive();
    let day = match q.date.as_deref() {
        Some(text) => UtcDay::parse(text)
            .map_err(|m| ApiError::InvalidParams(vec![FieldError::new("date", m)]))?,
        None => UtcDay::of(today),
    };
    let figures = daily_report::daily(&ctx.pool, &day).await?;
    Ok(Json(report(day, figures)?))
}

pub fn report(day: UtcDay, f: DailyFigures) -> Result<DailyReport, StoreError> {
    let orders_in = |status: OrderStatus| {
        f.orders_by_status
            .iter()
            .filter(|(s, _)| s == status.as_str())
            .map(|(_, n)| n)
            .sum::<i64>()
    };
    let current = CurrentOrders {
        queued: orders_in(OrderStatus::Queued),
        cancel_queued: orders_in(OrderStatus::CancelQueued),
        parked: orders_in(OrderStatus::Parked),
        awaiting_order: orders_in(OrderStatus::AwaitingOrder),
    };
    let exceptions = unresolved(&f)?;
    let oldest_pending = f.oldest_pending_job.map(oldest_job).transpose()?;
    let health = assess(&HealthFacts {
        oldest_blocking_exception_age_secs: f.oldest_blocking_exception_age_secs,
        oldest_pending_job_age_secs: oldest_pending.as_ref().map(|j| j.age_secs),
        unresolved_exceptions: exceptions.iter().map(|x| x.count).sum(),
        parked_orders: current.parked,
    });
    let stock_sync = self::stock_sync(&f.stock_sync, f.now);
    let intake = Intake {
        last_webhook_received_at: f.last_webhook_at,
        last_webhook_age_secs: f
            .last_webhook_at
            .map(|at| (f.now - at).num_seconds().max(0)),
        last_poll: self::stock_sync(&f.backfill, f.now),
    };
    let reconciliation = self::stock_sync(&f.reconcile, f.now);
    let drift_found = drift_found(&f.reconcile, &f.drift)?;
    let totals = f.reconcile.last_run_at.map(|_| day_totals(&f.totals));
    let refunds_in = |status: &str| {
        f.refunds_by_status
            .iter()
            .filter(|(s, _)| s == status)
            .map(|(_, n)| n)
            .sum::<i64>()
    };
    let refunds = RefundFlow {
        posted: f.day.refunds_posted,
        waiting: refunds_in("waiting"),
        parked: refunds_in("parked"),
    };
    let d = f.day;
    Ok(DailyReport {
        date: day.date,
        from: day.from,
        until: day.until,
        generated_at: f.now,
        health,
        orders: OrderFlow {
            received: d.orders_received,
            posted: d.orders_posted,
            posting_latency_secs: d
                .posting_latency_p50_secs
                .zip(d.posting_latency_p95_secs)
                .map(|(p50, p95)| Percentiles {
                    p50: millis(p50),
                    p95: millis(p95),
                }),
            cancellations_requested: d.cancellations_requested,
            cancelled_in_sap: d.cancelled_in_sap,
            current,
        },
        queue: Queue {
            depth: queue_depth(&f.jobs)?,
            oldest_pending,
            past_run_after: f.jobs_past_run_after,
        },
        exceptions: ExceptionSummary {
            by_team: OwnerTeam::ALL
                .into_iter()
                .map(|team| {
                    let (open, retrying) = split(&exceptions, |x| x.team == team);
                    TeamCount {
                        team,
                        open,
                        retrying,
                    }
                })
                .collect(),
            by_impact: Impact::ALL
                .into_iter()
                .map(|impact| {
                    let (open, retrying) = split(&exceptions, |x| x.impact == impact);
                    ImpactCount {
                        impact,
                        open,
                        retrying,
                    }
                })
                .collect(),
            opened: d.exceptions_opened,
            resolved: d.exceptions_resolved,
            ignored: d.exceptions_ignored,
            oldest_open: f
                .oldest_unresolved_exception
                .map(oldest_exception)
                .transpose()?,
        },
        stock_sync,
        refunds,
        intake,
        reconciliation,
        drift_found,
        totals,
    })
}

fn drift_found(
    reconcile: &StockSyncFigures,
    drift: &[daily_report::DriftCount],
) -> Result<Option<DriftFound>, StoreError> {
    if reconcile.last_run_at.is_none() {
        return Ok(None);
    }
    let by_kind = drift
        .iter()
        .map(|d| {
            Ok(DriftKind {
                category: Category::parse(&d.category)
                    .ok_or_else(|| corrupt("exception category", &d.category))?,
                found: d.found,
                open: d.open,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(DriftFound {
        found: by_kind.iter().map(|k| k.found).sum(),
        by_kind,
    }))
}

/// Per currency (rows come sorted by currency): the sums, and the orders that differ.
fn day_totals(rows: &[daily_report::OrderTotals]) -> Vec<DayTotals> {
    let mut out: Vec<DayTotals> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|t| t.currency != r.currency) {
            out.push(DayTotals {
                currency: r.currency.clone(),
                orders: 0,
                magento_grand_total: Default::default(),
                sap_doc_total: Default::default(),
                difference: Default::default(),
                differences: Vec::new(),
            });
        }
        let t = out.last_mut().expect("pushed above");
        t.orders += 1;
        let magento = r.magento_grand_total.normalize();
        let sap = r.sap_doc_total.map(|s| s.normalize());
        t.magento_grand_total += magento;
        t.sap_doc_total += sap.unwrap_or_default();
        let difference = sap.map(|s| s - magento);
        if difference.is_none_or(|d| !d.is_zero()) {
            t.differences.push(OrderDifference {
                order_increment_id: r.increment_id.clone(),
                magento_grand_total: magento,
                sap_doc_total: sap,
                sap_doc_num: r.sap_doc_num,
                difference,
            });
        }
    }
    for t in &mut out {
        t.magento_grand_total = t.magento_grand_total.normalize();
        t.sap_doc_total = t.sap_doc_total.normalize();
        t.difference = (t.sap_doc_total - t.magento_grand_total).normalize();
    }
    out
}

fn stock_sync(s: &StockSyncFigures, now: DateTime<Utc>) -> StockSync {
    StockSync {
        status: match s.last_status.as_deref() {
            None => StockSyncStatus::NotConfigured,
            Some("succeeded") => StockSyncStatus::Ok,
            Some(_) => StockSyncStatus::Failing,
        },
        last_run_at: s.last_run_at,
        last_success_at: s.last_success_at,
        age_secs: s.last_success_at.map(|at| (now - at).num_seconds().max(0)),
    }
}

/// An unresolved-exception count with its labels checked.
struct Unresolved {
    team: OwnerTeam,
    impact: Impact,
    retrying: bool,
    count: i64,
}

fn unresolved(f: &DailyFigures) -> Result<Vec<Unresolved>, StoreError> {
    f.unresolved_exceptions
        .iter()
        .map(|x| {
            Ok(Unresolved {
                team: OwnerTeam::parse(&x.owner_team)
                    .ok_or_else(|| corrupt("owner team", &x.owner_team))?,
                impact: Impact::parse(&x.impact).ok_or_else(|| corrupt("impact", &x.impact))?,
                retrying: match ExceptionStatus::parse(&x.status) {
                    Some(ExceptionStatus::Open) => false,
                    Some(ExceptionStatus::Retrying) => true,
                    _ => return Err(corrupt("unresolved exception status", &x.status)),
                },
                count: x.count,
            })
        })
        .collect()
}

/// `(open, retrying)` over the counts that `select` picks.
fn split(counts: &[Unresolved], select: impl Fn(&Unresolved) -> bool) -> (i64, i64) {
    counts
        .iter()
        .filter(|x| select(x))
        .fold((0, 0), |(open, retrying), x| {
            if x.retrying {
                (open, retrying + x.count)
            } else {
                (open + x.count, retrying)
            }
        })
}

fn queue_depth(jobs: &[JobCount]) -> Result<Vec<QueueDepth>, StoreError> {
    let mut depth: Vec<QueueDepth> = JobKind::ALL
        .into_iter()
        .map(|kind| QueueDepth {
            kind,
            pending: 0,
            running: 0,
            parked: 0,
        })
        .collect();
    for j in jobs {
        let kind = JobKind::parse(&j.kind).ok_or_else(|| corrupt("job kind", &j.kind))?;
        let row = depth
            .iter_mut()
            .find(|d| d.kind == kind)
            .expect("every kind is listed");
        match j.status.as_str() {
            "pending" => row.pending += j.count,
            "running" => row.running += j.count,
            "parked" => row.parked += j.count,
            "done" => {}
            other => return Err(corrupt("job status", other)),
        }
    }
    Ok(depth)
}

fn oldest_job(j: PendingJob) -> Result<OldestJob, StoreError> {
    Ok(OldestJob {
        kind: JobKind::parse(&j.kind).ok_or_else(|| corrupt("job kind", &j.kind))?,
        id: j.id,
        order_increment_id: j.increment_id,
        subject: j.subject,
        created_at: j.created_at,
        run_after: j.run_after,
        age_secs: j.age_secs.floor() as i64,
    })
}

fn oldest_exception(x: StoredOldest) -> Result<OldestException, StoreError> {
    Ok(OldestException {
        category: Category::parse(&x.category)
            .ok_or_else(|| corrupt("exception category", &x.category))?,
        status: ExceptionStatus::parse(&x.status)
            .ok_or_else(|| corrupt("exception status", &x.status))?,
        id: x.id,
        order_increment_id: x.order_increment_id,
        first_seen_at: x.first_seen_at,
        age_secs: x.age_secs,
    })
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("daily report: unknown {what} '{value}'"))
}

/// Seconds rounded to the millisecond: finer digits are noise in a latency.
fn millis(secs: f64) -> f64 {
    (secs * 1000.0).round() / 1000.0
}
