//! `b1bridge reconcile [--since DATE]` and `b1bridge report daily [--date DATE]`, for a
//! terminal.
//!
//! A reconciliation started here is a run like a scheduled one (refused while another is
//! active anywhere, listed in `GET /api/v1/runs`), executed by a worker pool of this process
//! that does only reconciliation. The daily report is the one `GET /api/v1/reports/daily`
//! answers, read from the database alone and printed flow health first.
use chrono::{NaiveDate, Utc};
use std::fmt::Write as _;

use crate::cli::{ReconcileArgs, ReportDailyArgs};
use crate::domain::daily_check::UtcDay;
use crate::domain::run::{RunKind, RunStatus, RunTrigger};
use crate::http::api::reports::{self, DailyReport, StockSync};
use crate::sap::SapClient;
use crate::store::runs::StartError;
use crate::worker::reconcile::{Reconcile, ReconcileFigures, ReconcileOptions};
use crate::worker::run_job::{self, RunHereError};

pub async fn reconcile(args: ReconcileArgs) -> anyhow::Result<()> {
    let since = match args.since.as_deref() {
        None => None,
        Some(text) => Some(
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| anyhow::anyhow!("--since '{text}' is not a day: use YYYY-MM-DD"))?
                .and_time(chrono::NaiveTime::MIN)
                .and_utc(),
        ),
    };
    let db = args.db.settings()?;
    let pool = crate::store::connect(&db).await?;
    let sap = SapClient::new(&args.sap.settings()?)?;
    let Some(magento) = args.magento.client()? else {
        anyhow::bail!("MAGENTO_URL and MAGENTO_TOKEN are required: reconciliation reads Magento");
    };
    let task = WithOptions {
        inner: Reconcile::new(sap.clone(), magento),
        options: ReconcileOptions { since },
    };
    let result = run_job::run_here(&pool, RunKind::Reconcile, RunTrigger::Cli, "cli", task).await;
    let _ = sap.logout().await;
    let finished = match result {
        Ok(run) => run,
        Err(RunHereError::Start(StartError::Active { run, .. })) => anyhow::bail!(
            "a reconciliation run is already queued or running ({run}); try again when it has finished"
        ),
        Err(e) => return Err(e.into()),
    };
    let figures: ReconcileFigures =
        serde_json::from_value(finished.figures.clone()).unwrap_or_default();
    print!("{}", figures_text(&figures));
    match finished.status {
        RunStatus::Succeeded => Ok(()),
        _ => anyhow::bail!(
            "reconciliation run {} failed: {}",
            finished.id,
            finished.error.unwrap_or_default()
        ),
    }
}

/// The reconciliation with the terminal's `--since`.
struct WithOptions {
    inner: Reconcile,
    options: ReconcileOptions,
}

impl run_job::RunTask for WithOptions {
    fn run<'a>(
        &'a self,
        _run: &'a crate::store::runs::Run,
        ctx: &'a crate::worker::handler::JobContext,
    ) -> futures::future::BoxFuture<'a, run_job::RunResult> {
        Box::pin(async move {
            let (figures, result) = self.inner.reconcile(&ctx.pool, self.options).await;
            run_job::RunResult {
                figures: serde_json::to_value(&figures).unwrap_or_default(),
                error: result.err().map(|e| e.to_string()),
            }
        })
    }
}

fn figures_text(f: &ReconcileFigures) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} Magento orders since {} compared; {} SKUs' stock compared",
        f.orders_read,
        f.since
            .map(|s| s.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "-".into()),
        f.stock_skus
    );
    for c in &f.checks {
        match &c.error {
            None => {
                let _ = writeln!(
                    out,
                    "  {:<14} {:>6} looked at, {:>4} found",
                    c.check, c.checked, c.found
                );
            }
            Some(e) => {
                let _ = writeln!(out, "  {:<14} failed: {e}", c.check);
            }
        }
    }
    let _ = writeln!(
        out,
        "{} finding(s) recorded as exceptions, {} resolved as fixed ({} ms)",
        f.findings, f.resolved, f.duration_ms
    );
    for w in &f.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

pub async fn report_daily(args: ReportDailyArgs) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    let day = match args.date.as_deref() {
        Some(text) => {
            let day = UtcDay::parse(text).map_err(|m| anyhow::anyhow!("--date: {m}"))?;
            // At a terminal a future day is a typo: its figures could only be zeros that look
            // like a quiet day. (The API answers it, as its OpenAPI `date` format allows.)
            if day.date > today {
                anyhow::bail!(
                    "--date: {} is in the future (today is {today} UTC)",
                    day.date
                );
            }
            day
        }
        None => UtcDay::of(today),
    };
    let db = args.db.settings()?;
    let pool = crate::store::connect(&db).await?;
    let figures = crate::store::daily_report::daily(&pool, &day).await?;
    let report = reports::report(day, figures)?;
    let text = match args.format.as_str() {
        "json" => format!("{}\n", serde_json::to_string_pretty(&report)?),
        _ => report_text(&report),
    };
    print!("{text}");
    Ok(())
}

/// The report in the order people check it: flow health, intake, orders and queue,
/// exceptions, stock, reconciliation and drift, and the day's totals.
pub fn report_text(r: &DailyReport) -> String {
    let mut o = String::new();
    let v = serde_json::to_value(r).unwrap_or_default();
    let _ = writeln!(
        o,
        "b1bridge daily report for {} (UTC), generated {}",
        r.date,
        r.generated_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let _ = writeln!(
        o,
        "\nFLOW HEALTH: {}",
        v["health"]["verdict"]
            .as_str()
            .unwrap_or("?")
            .to_uppercase()
    );
    for reason in &r.health.reasons {
        let _ = writeln!(o, "  - {reason}");
    }
    let _ = writeln!(o, "\nINTAKE");
    let _ = writeln!(
        o,
        "  last webhook received  {}",
        when(
            r.intake.last_webhook_received_at,
            r.intake.last_webhook_age_secs
        )
    );
    let _ = writeln!(
        o,
        "  last Magento poll      {}",
        freshness(&r.intake.last_poll)
    );
    let _ = writeln!(o, "\nORDERS");
    let _ = writeln!(
        o,
        "  received {}, posted {}, cancellations {} (cancelled in SAP {})",
        r.orders.received,
        r.orders.posted,
        r.orders.cancellations_requested,
        r.orders.cancelled_in_sap
    );
    if let Some(p) = &r.orders.posting_latency_secs {
        let _ = writeln!(o, "  posting latency p50 {} s, p95 {} s", p.p50, p.p95);
    }
    let c = &r.orders.current;
    let _ = writeln!(
        o,
        "  now: {} queued, {} cancel queued, {} parked, {} awaiting order",
        c.queued, c.cancel_queued, c.parked, c.awaiting_order
    );
    let pending: i64 = r.queue.depth.iter().map(|d| d.pending).sum();
    let parked: i64 = r.queue.depth.iter().map(|d| d.parked).sum();
    let _ = writeln!(
        o,
        "  queue: {pending} pending, {parked} parked, {} past run_after{}",
        r.queue.past_run_after,
        r.queue
            .oldest_pending
            .as_ref()
            .map(|j| format!("; oldest pending {} s", j.age_secs))
            .unwrap_or_default()
    );
    let _ = writeln!(o, "\nEXCEPTIONS");
    let _ = writeln!(
        o,
        "  opened {}, resolved {}, ignored {} that day",
        r.exceptions.opened, r.exceptions.resolved, r.exceptions.ignored
    );
    for (t, team) in r
        .exceptions
        .by_team
        .iter()
        .zip(v["exceptions"]["by_team"].as_array().into_iter().flatten())
    {
        if t.open + t.retrying > 0 {
            let _ = writeln!(
                o,
                "  {:<18} {} open, {} retrying",
                team["team"].as_str().unwrap_or("?"),
                t.open,
                t.retrying
            );
        }
    }
    let _ = writeln!(o, "\nSTOCK SYNC            {}", freshness(&r.stock_sync));
    let _ = writeln!(o, "RECONCILIATION        {}", freshness(&r.reconciliation));
    let _ = writeln!(o, "\nDRIFT FOUND");
    match &r.drift_found {
        None => {
            let _ = writeln!(o, "  not measured (no reconciliation has run)");
        }
        Some(d) => {
            let _ = writeln!(o, "  {} found that day", d.found);
            for (k, kv) in d
                .by_kind
                .iter()
                .zip(v["drift_found"]["by_kind"].as_array().into_iter().flatten())
            {
                let _ = writeln!(
                    o,
                    "  {:<18} {} found, {} open",
                    kv["category"].as_str().unwrap_or("?"),
                    k.found,
                    k.open
                );
            }
        }
    }
    let _ = writeln!(
        o,
        "\nTOTALS OF THE DAY (Magento grand totals against SAP DocTotals)"
    );
    match &r.totals {
        None => {
            let _ = writeln!(o, "  not measured (no reconciliation has run)");
        }
        Some(t) if t.is_empty() => {
            let _ = writeln!(o, "  no orders that day");
        }
        Some(t) => {
            for c in t {
                let _ = writeln!(
                    o,
                    "  {} {} orders: Magento {} / SAP {} / difference {}",
                    c.currency, c.orders, c.magento_grand_total, c.sap_doc_total, c.difference
                );
                for d in &c.differences {
                    let _ = writeln!(
                        o,
                        "    order {}: Magento {} / SAP {} ({})",
                        d.order_increment_id,
                        d.magento_grand_total,
                        d.sap_doc_total
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "none".into()),
                        d.sap_doc_num
                            .map(|n| format!("DocNum {n}"))
                            .unwrap_or_else(|| "no single SAP order".into())
                    );
                }
            }
        }
    }
    o
}

fn when(at: Option<chrono::DateTime<Utc>>, age: Option<i64>) -> String {
    match (at, age) {
        (Some(at), Some(age)) => format!("{} ({age} s ago)", at.format("%Y-%m-%d %H:%M:%S UTC")),
        _ => "never".into(),
    }
}

fn freshness(s: &StockSync) -> String {
    let status = serde_json::to_value(s.status).unwrap_or_default();
    format!(
        "{}; last success {}",
        status.as_str().unwrap_or("?"),
        when(s.last_success_at, s.age_secs)
    )
}
