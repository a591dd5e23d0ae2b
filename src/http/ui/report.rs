//! The daily report (`/ui/report?date=YYYY-MM-DD`): the figures of
//! `GET /api/v1/reports/daily`, with pictures of the day — orders received and posted per
//! hour, the queue's depth at the end of each hour, exceptions by team.
use axum::extract::{Query, State};
use axum::Json;
use chrono::Utc;
use maud::html;
use serde::Deserialize;

use super::charts::{self, Bar, Series};
use super::error::UiError;
use super::flash::Flash;
use super::format;
use super::layout::{words, Page};
use super::session::Session;
use crate::domain::daily_check::{UtcDay, Verdict};
use crate::http::api::auth::{Authorized, Viewer};
use crate::http::api::reports::{self as api, DailyQuery};
use crate::http::api::ApiQuery;
use crate::http::ApiContext;
use crate::store::day_series;

#[cfg(test)]
mod tests {
    #[test]
    fn latencies_read_in_their_unit() {
        assert_eq!(super::seconds(0.0424), "42 ms");
        assert_eq!(super::seconds(7.24), "7.2 s");
        assert_eq!(super::seconds(3725.0), "1 h 2 min");
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub date: Option<String>,
}

/// `850 ms`, `7.2 s`, `3 min`: a latency in the unit people read it in.
fn seconds(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else if secs < 120.0 {
        format!("{secs:.1} s")
    } else {
        format::age(secs.round() as i64)
    }
}

/// `ok, 3 min ago`: how fresh a periodic run's work is.
fn freshness(s: &api::StockSync) -> String {
    let status = match s.status {
        api::StockSyncStatus::NotConfigured => "not run yet",
        api::StockSyncStatus::Ok => "ok",
        api::StockSyncStatus::Failing => "failing",
    };
    match s.age_secs {
        Some(age) => format!("{status}, last success {} ago", format::age(age)),
        None => status.to_owned(),
    }
}

/// `GET /ui/report`.
pub async fn page(
    session: Session,
    flash: Flash,
    State(ctx): State<ApiContext>,
    Query(q): Query<ReportQuery>,
) -> Result<Page, UiError> {
    let auth = Authorized::<Viewer>::check(session.caller.clone())?;
    let date = q.date.filter(|d| !d.trim().is_empty());
    let Json(r) =
        api::daily_report(auth, State(ctx.clone()), ApiQuery(DailyQuery { date })).await?;
    let hours = day_series::hourly(&ctx.pool, &UtcDay::of(r.date)).await?;
    // The whole day on the axis, so its shape reads the same at 09:00 and at 23:00; hours
    // still to come have no value.
    let labels: Vec<String> = (0..24).map(|h| format!("{h:02}:00")).collect();
    let series = |name, f: fn(&day_series::HourFigures) -> i64| Series {
        name,
        values: hours.iter().map(|h| f(h) as f64).collect(),
    };
    let verdict = match r.health.verdict {
        Verdict::Ok => "ok",
        Verdict::Attention => "attention",
        Verdict::Critical => "critical",
    };
    let by_team: Vec<Bar> = r
        .exceptions
        .by_team
        .iter()
        .map(|t| Bar {
            label: words(t.team.as_str()),
            value: (t.open + t.retrying) as f64,
        })
        .collect();
    let today = Utc::now().date_naive();
    let body = html! {
        form.filters method="get" action="/ui/report" aria-label="Choose the day" {
            div.field {
                label for="r-date" { "Day (UTC)" }
                input #r-date type="date" name="date" value=(r.date) max=(today);
            }
            div.field.buttons { button type="submit" { "Show" } a href="/ui/report" { "Today" } }
        }
        div class={ "verdict " (verdict) } role="status" {
            strong { "Health now: " (verdict) }
            @if r.health.reasons.is_empty() { " — nothing needs anyone." }
            @else { ul { @for reason in &r.health.reasons { li { (reason) } } } }
        }
        div.cards {
            div.card {
                h2 { "Orders on " (r.date) }
                dl {
                    dt { "Received" } dd { (r.orders.received) }
                    dt { "Posted to SAP" } dd { (r.orders.posted) }
                    dt { "Time to post (p50 / p95)" } dd {
                        @if let Some(p) = &r.orders.posting_latency_secs { (seconds(p.p50)) " / " (seconds(p.p95)) }
                        @else { span.muted { "nothing posted" } }
                    }
                    dt { "Cancellations requested" } dd { (r.orders.cancellations_requested) }
                    dt { "Cancelled in SAP" } dd { (r.orders.cancelled_in_sap) }
                }
            }
            div.card {
                h2 { "Now" }
                dl {
                    dt { "Waiting to post" } dd { (r.orders.current.queued) }
                    dt { "Parked behind an exception" } dd { a href="/ui/orders?status=parked" { (r.orders.current.parked) } }
                    dt { "Cancellation waiting" } dd { (r.orders.current.cancel_queued) }
                    dt { "Cancellation before its order" } dd { (r.orders.current.awaiting_order) }
                    dt { "Oldest waiting job" } dd {
                        @if let Some(j) = &r.queue.oldest_pending { (format::age(j.age_secs)) @if let Some(order) = &j.order_increment_id { " (order " a href={ "/ui/orders/" (order) } { (order) } ")" } @else { " (" (j.kind.as_str()) " " (j.subject) ")" } }
                        @else { "none" }
                    }
                    dt { "Due but not taken by a worker" } dd { (r.queue.past_run_after) }
                }
            }
            div.card {
                h2 { "Exceptions" }
                dl {
                    dt { "Opened that day" } dd { (r.exceptions.opened) }
                    dt { "Resolved that day" } dd { (r.exceptions.resolved) }
                    dt { "Ignored that day" } dd { (r.exceptions.ignored) }
                    dt { "Oldest unresolved" } dd {
                        @if let Some(x) = &r.exceptions.oldest_open { a href={ "/ui/exceptions/" (x.id) } { (words(x.category.as_str())) } ", " (format::age(x.age_secs)) }
                        @else { "none" }
                    }
                }
            }
            div.card {
                h2 { "Intake and sync" }
                dl {
                    dt { "Last webhook received" } dd {
                        @if let Some(age) = r.intake.last_webhook_age_secs { (format::age(age)) " ago" }
                        @else { span.muted { "never" } }
                    }
                    dt { "Last Magento poll" } dd { (freshness(&r.intake.last_poll)) }
                    dt { "Stock sync" } dd { (freshness(&r.stock_sync)) }
                    dt { "Reconciliation" } dd { (freshness(&r.reconciliation)) }
                }
            }
            div.card {
                h2 { "Drift found" }
                @match &r.drift_found {
                    None => p.muted { "not measured: no reconciliation has run" },
                    Some(d) => dl {
                        dt { "Found that day" } dd { (d.found) }
                        @for k in &d.by_kind {
                            dt { a href={ "/?category=" (k.category.as_str()) } { (words(k.category.as_str())) } }
                            dd { (k.found) " found, " (k.open) " open" }
                        }
                    },
                }
            }
            div.card {
                h2 { "Totals of the day" }
                @match &r.totals {
                    None => p.muted { "not measured: no reconciliation has run" },
                    Some(t) if t.is_empty() => p.muted { "no orders that day" },
                    Some(t) => @for c in t {
                        dl {
                            dt { (c.currency) ", " (c.orders) " orders" } dd { "Magento " (c.magento_grand_total) " / SAP " (c.sap_doc_total) }
                            dt { "Difference" } dd { (c.difference) }
                            @for d in &c.differences {
                                dt { "Order " a href={ "/ui/orders/" (d.order_increment_id) } { (d.order_increment_id) } }
                                dd {
                                    "Magento " (d.magento_grand_total) " / SAP "
                                    @if let Some(sap) = d.sap_doc_total { (sap) } @else { "none" }
                                }
                            }
                        }
                    },
                }
            }
        }
        div.charts {
            (charts::hourly_columns("Orders per hour (UTC)", &labels, &[
                series("received", |h| h.received),
                series("posted to SAP", |h| h.posted),
            ]))
            (charts::hourly_lines("Unfinished jobs at the end of each hour", &labels, &[
                series("queue depth", |h| h.queue_depth),
            ]))
            (charts::hourly_columns("Exceptions opened per hour (UTC)", &labels, &[
                series("exceptions opened", |h| h.exceptions_opened),
            ]))
            (charts::bar_chart("Open or retrying exceptions by team, now", &by_team, "open or retrying"))
        }
        p.hint { "Generated " (format::at(r.generated_at)) ". The same figures as JSON: " code { "GET /api/v1/reports/daily" } "." }
    };
    Ok(Page::new(&session, flash, "report", "Daily report", body))
}
