//! `GET /metrics`: Prometheus text exposition, written by hand (no client library needed):
//! gauges read from Postgres at scrape time (the whole deployment's state) and this
//! process's own counters and histograms from [`crate::instruments`].
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use sqlx::PgPool;
use std::fmt::Write;

use super::{webhook_rejections, ApiError};
use crate::instruments::{self, CounterFamily, HistogramSnapshot};
use crate::store::metrics::{self, Snapshot};

/// Queue depth by status, open exceptions by category, events received, orders by status,
/// runs by kind (duration, freshness, items pushed); and this process's webhook refusals by
/// reason and ingest latency, job outcomes, SAP request latency and requests in flight, and
/// the worker pool's adaptive concurrency.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain",
            example = "# TYPE b1bridge_outbox_jobs gauge\nb1bridge_outbox_jobs{status=\"pending\"} 3\n"),
        (status = 503, description = "The database is unreachable", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn metrics(State(pool): State<PgPool>) -> Result<impl IntoResponse, ApiError> {
    let snapshot = metrics::snapshot(&pool).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&snapshot) + &render_rejections(&webhook_rejections::snapshot()) + &render_process(),
    ))
}

/// This process's webhook refusals (nothing is stored for most, so they are counted here).
fn render_rejections(counts: &[(&str, u64)]) -> String {
    let mut out = String::from(
        "# HELP b1bridge_webhooks_rejected_total Webhook deliveries refused by this process, by reason.\n\
         # TYPE b1bridge_webhooks_rejected_total counter\n",
    );
    for (reason, n) in counts {
        let _ = writeln!(
            out,
            "b1bridge_webhooks_rejected_total{{reason=\"{reason}\"}} {n}"
        );
    }
    out
}

fn family(out: &mut String, name: &str, help: &str, label: &str, values: &[(String, i64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (value, count) in values {
        let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {count}", escape(value));
    }
}

/// Label values escape `\`, `"` and newlines (exposition format).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "b1bridge_outbox_jobs",
        "Outbox jobs by status (queue depth).",
        "status",
        &s.jobs_by_status,
    );
    let _ = writeln!(
        out,
        "# HELP b1bridge_outbox_oldest_pending_seconds Age of the oldest pending job.\n\
         # TYPE b1bridge_outbox_oldest_pending_seconds gauge\n\
         b1bridge_outbox_oldest_pending_seconds {}",
        s.oldest_pending_job_age_secs
    );
    family(
        &mut out,
        "b1bridge_exceptions_open",
        "Exceptions open or retrying, by category.",
        "category",
        &s.open_exceptions_by_category,
    );
    family(
        &mut out,
        "b1bridge_webhook_events_received",
        "Webhook events received (stored), by outcome.",
        "outcome",
        &s.events_by_outcome,
    );
    family(
        &mut out,
        "b1bridge_orders",
        "Orders by status.",
        "status",
        &s.orders_by_status,
    );
    family(
        &mut out,
        "b1bridge_refunds",
        "Magento credit memos by status (posted: an SAP A/R credit memo exists; waiting: no invoice yet).",
        "status",
        &s.refunds_by_status,
    );
    // Absent until a stock sync has succeeded, so an alert on `time() - …` cannot mistake
    // "never" for "long ago".
    if let Some(at) = s.stock_sync_last_success {
        let _ = writeln!(
            out,
            "# HELP b1bridge_stock_sync_last_success_timestamp_seconds When the last successful stock sync finished (Unix time).\n\
             # TYPE b1bridge_stock_sync_last_success_timestamp_seconds gauge\n\
             b1bridge_stock_sync_last_success_timestamp_seconds {}",
            at.timestamp_millis() as f64 / 1000.0
        );
    }
    runs(&mut out, s);
    out
}

fn runs(out: &mut String, s: &Snapshot) {
    let _ = writeln!(
        out,
        "# HELP b1bridge_runs Runs by kind and status.\n# TYPE b1bridge_runs gauge"
    );
    for (kind, status, n) in &s.runs_by_kind_and_status {
        let _ = writeln!(
            out,
            "b1bridge_runs{{kind=\"{}\",status=\"{}\"}} {n}",
            escape(kind),
            escape(status)
        );
    }
    let per_kind = |out: &mut String,
                    name: &str,
                    help: &str,
                    value: &dyn Fn(&metrics::LatestRun) -> Option<f64>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for run in &s.latest_runs {
            if let Some(v) = value(run) {
                let _ = writeln!(out, "{name}{{kind=\"{}\"}} {v}", escape(&run.kind));
            }
        }
    };
    per_kind(
        out,
        "b1bridge_run_last_duration_seconds",
        "How long the latest finished run of the kind took.",
        &|r| r.duration_secs,
    );
    per_kind(
        out,
        "b1bridge_run_last_items_pushed",
        "Items the latest finished run of the kind pushed.",
        &|r| r.pushed.map(|n| n as f64),
    );
    // Absent for a kind that never succeeded, as for the stock sync gauge above.
    per_kind(
        out,
        "b1bridge_run_last_success_timestamp_seconds",
        "When the latest successful run of the kind finished (Unix time): its data's freshness.",
        &|r| r.last_success.map(|t| t.timestamp_millis() as f64 / 1000.0),
    );
}

/// This process's counters, histograms and gauges.
fn render_process() -> String {
    let mut out = String::new();
    histogram(
        &mut out,
        "b1bridge_webhook_ingest_seconds",
        "From a webhook's arrival to its answer.",
        &instruments::INGEST_SECONDS.snapshot(),
    );
    counters(
        &mut out,
        "b1bridge_job_attempts_total",
        "Finished job attempts by job kind and outcome (done, retry, parked).",
        &["kind", "outcome"],
        &instruments::JOB_ATTEMPTS,
    );
    counters(
        &mut out,
        "b1bridge_job_failures_total",
        "Failed job attempts by SAP error class (locked, transient, ambiguous, session_expired, permanent, auth, config; other: not an SAP error).",
        &["sap_class"],
        &instruments::JOB_FAILURES_BY_SAP_CLASS,
    );
    histogram(
        &mut out,
        "b1bridge_sap_request_seconds",
        "Service Layer requests, from sending to the whole answer read.",
        &instruments::SAP_REQUEST_SECONDS.snapshot(),
    );
    let _ = writeln!(
        out,
        "# HELP b1bridge_sap_requests_in_flight Service Layer requests sent and not yet answered.\n\
         # TYPE b1bridge_sap_requests_in_flight gauge\n\
         b1bridge_sap_requests_in_flight {}\n\
         # HELP b1bridge_worker_concurrency Jobs the worker pool runs at once now (adaptive: halved on SAP lock errors, grown on success).\n\
         # TYPE b1bridge_worker_concurrency gauge\n\
         b1bridge_worker_concurrency {}",
        instruments::SAP_REQUESTS_IN_FLIGHT.get(),
        instruments::WORKER_CONCURRENCY.get()
    );
    out
}

fn counters(out: &mut String, name: &str, help: &str, labels: &[&str], family: &CounterFamily) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (values, n) in family.values() {
        let pairs: Vec<String> = labels
            .iter()
            .zip(&values)
            .map(|(l, v)| format!("{l}=\"{}\"", escape(v)))
            .collect();
        let _ = writeln!(out, "{name}{{{}}} {n}", pairs.join(","));
    }
}

fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (bound, n) in &h.cumulative {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{le=\"+Inf\"}} {}\n{name}_sum {}\n{name}_count {}",
        h.count, h.sum_secs, h.count
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_families_are_in_the_exposition_format() {
        let mut out = String::new();
        let family = CounterFamily::new();
        family.inc(&["post_order", "retry"]);
        counters(&mut out, "x_total", "X.", &["kind", "outcome"], &family);
        assert!(out.contains("# TYPE x_total counter\n"));
        assert!(out.contains("x_total{kind=\"post_order\",outcome=\"retry\"} 1\n"));
        let h = instruments::Histogram::new();
        h.observe(std::time::Duration::from_millis(30));
        let mut out = String::new();
        histogram(&mut out, "y_seconds", "Y.", &h.snapshot());
        assert!(out.contains("y_seconds_bucket{le=\"0.025\"} 0\n"));
        assert!(out.contains("y_seconds_bucket{le=\"0.05\"} 1\n"));
        assert!(out
            .contains("y_seconds_bucket{le=\"+Inf\"} 1\ny_seconds_sum 0.03\ny_seconds_count 1\n"));
    }

    #[test]
    fn renders_the_exposition_format() {
        let s = Snapshot {
            jobs_by_status: vec![("parked".into(), 2), ("pending".into(), 5)],
            open_exceptions_by_category: vec![("unknown_sku".into(), 1)],
            events_by_outcome: vec![],
            orders_by_status: vec![("we\"ird".into(), 1)],
            oldest_pending_job_age_secs: 1.5,
            stock_sync_last_success: chrono::DateTime::from_timestamp(1_764_748_800, 0),
            runs_by_kind_and_status: vec![("stock_sync".into(), "succeeded".into(), 4)],
            latest_runs: vec![metrics::LatestRun {
                kind: "stock_sync".into(),
                duration_secs: Some(0.25),
                pushed: Some(12),
                last_success: chrono::DateTime::from_timestamp(1_764_748_800, 0),
            }],
            refunds_by_status: vec![("waiting".into(), 2)],
        };
        let text = render(&s);
        assert!(text.contains("# TYPE b1bridge_outbox_jobs gauge\n"));
        assert!(text.contains("b1bridge_outbox_jobs{status=\"pending\"} 5\n"));
        assert!(text.contains("b1bridge_exceptions_open{category=\"unknown_sku\"} 1\n"));
        assert!(text.contains("b1bridge_outbox_oldest_pending_seconds 1.5\n"));
        assert!(text.contains("b1bridge_orders{status=\"we\\\"ird\"} 1\n"));
        assert!(text.contains("b1bridge_stock_sync_last_success_timestamp_seconds 1764748800\n"));
        assert!(text.contains("b1bridge_runs{kind=\"stock_sync\",status=\"succeeded\"} 4\n"));
        assert!(text.contains("b1bridge_run_last_duration_seconds{kind=\"stock_sync\"} 0.25\n"));
        assert!(text.contains("b1bridge_run_last_items_pushed{kind=\"stock_sync\"} 12\n"));
        assert!(text.contains(
            "b1bridge_run_last_success_timestamp_seconds{kind=\"stock_sync\"} 1764748800\n"
        ));
        let rejected = render_rejections(&[("signature_mismatch", 3), ("too_large", 0)]);
        assert!(rejected.contains("# TYPE b1bridge_webhooks_rejected_total counter\n"));
        assert!(rejected
            .contains("b1bridge_webhooks_rejected_total{reason=\"signature_mismatch\"} 3\n"));
        let never = render(&Snapshot::default());
        assert!(!never.contains("b1bridge_run_last_success_timestamp_seconds{"));
        assert!(
            !never.contains("stock_sync"),
            "no freshness before the first success"
        );
    }
}
