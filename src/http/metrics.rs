//! `GET /metrics`: Prometheus text exposition, written by hand (a handful of gauges read
//! from Postgres at scrape time; no client library needed).
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::fmt::Write;

use super::{webhook_rejections, ApiContext, ApiError};
use crate::store::metrics::{self, Snapshot};

/// Queue depth by status, open exceptions by category, events received, orders by status,
/// when the last stock sync succeeded, and this process's webhook refusals by reason.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain",
            example = "# TYPE b1bridge_outbox_jobs gauge\nb1bridge_outbox_jobs{status=\"pending\"} 3\n"),
        (status = 503, description = "The database is unreachable", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn metrics(State(ctx): State<ApiContext>) -> Result<impl IntoResponse, ApiError> {
    let snapshot = metrics::snapshot(&ctx.pool).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&snapshot) + &render_rejections(&webhook_rejections::snapshot()),
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_exposition_format() {
        let s = Snapshot {
            jobs_by_status: vec![("parked".into(), 2), ("pending".into(), 5)],
            open_exceptions_by_category: vec![("unknown_sku".into(), 1)],
            events_by_outcome: vec![],
            orders_by_status: vec![("we\"ird".into(), 1)],
            oldest_pending_job_age_secs: 1.5,
            stock_sync_last_success: chrono::DateTime::from_timestamp(1_764_748_800, 0),
        };
        let text = render(&s);
        assert!(text.contains("# TYPE b1bridge_outbox_jobs gauge\n"));
        assert!(text.contains("b1bridge_outbox_jobs{status=\"pending\"} 5\n"));
        assert!(text.contains("b1bridge_exceptions_open{category=\"unknown_sku\"} 1\n"));
        assert!(text.contains("b1bridge_outbox_oldest_pending_seconds 1.5\n"));
        assert!(text.contains("b1bridge_orders{status=\"we\\\"ird\"} 1\n"));
        assert!(text.contains("b1bridge_stock_sync_last_success_timestamp_seconds 1764748800\n"));
        let rejected = render_rejections(&[("signature_mismatch", 3), ("too_large", 0)]);
        assert!(rejected.contains("# TYPE b1bridge_webhooks_rejected_total counter\n"));
        assert!(rejected
            .contains("b1bridge_webhooks_rejected_total{reason=\"signature_mismatch\"} 3\n"));
        let never = render(&Snapshot::default());
        assert!(
            !never.contains("stock_sync"),
            "no freshness before the first success"
        );
    }
}
