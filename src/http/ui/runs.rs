//! Runs (`/ui/runs?kind=…`): for every kind of periodic run (stock sync now; prices, status,
//! backfill, reconcile and audit as they are added to `RunKind`), where it stands — its
//! latest run, when it last succeeded, how long it took, what it pushed — and the recent
//! runs with their figures, from `GET /api/v1/runs`. Figures are shown as the run recorded
//! them, so a new kind's figures appear without a change here.
use axum::extract::{Query, State};
use axum::Json;
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;

use super::error::UiError;
use super::flash::Flash;
use super::format;
use super::layout::{query_escape, words, Page};
use super::session::Session;
use crate::domain::run::RunKind;
use crate::http::api::auth::{Authorized, Viewer};
use crate::http::api::runs::{self as api, Run, RunQuery};
use crate::http::api::ApiQuery;
use crate::http::{ApiContext, ApiError};
use crate::store::metrics;

#[derive(Debug, Default, Deserialize)]
pub struct RunFilter {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /ui/runs`.
pub async fn page(
    session: Session,
    flash: Flash,
    State(ctx): State<ApiContext>,
    Query(f): Query<RunFilter>,
) -> Result<Page, UiError> {
    let kind = match f.kind.trim() {
        "" => None,
        k => Some(RunKind::parse(k).ok_or_else(|| {
            ApiError::InvalidParams(vec![crate::domain::validation::FieldError::new(
                "kind",
                format!("'{k}' is not a run kind"),
            )])
        })?),
    };
    let auth = Authorized::<Viewer>::check(session.caller.clone())?;
    let latest = {
        let mut conn = ctx
            .pool
            .acquire()
            .await
            .map_err(crate::store::StoreError::from)?;
        metrics::latest_runs(&mut conn).await?
    };
    let query = RunQuery {
        kind,
        limit: Some(50),
        cursor: f.cursor.clone().filter(|c| !c.is_empty()),
    };
    let Json(page) = api::list_runs(auth, State(ctx), ApiQuery(query)).await?;
    let now = Utc::now();
    let body = html! {
        div.cards {
            @for k in RunKind::ALL {
                @let l = latest.iter().find(|l| l.kind == k.as_str());
                div.card {
                    h2 { (words(k.as_str())) }
                    dl {
                        dt { "Last success" } dd {
                            @match l.and_then(|l| l.last_success) {
                                Some(t) => { (format::at(t)) " (" (format::age_since(t, now)) " ago)" }
                                None => span.muted { "never" }
                            }
                        }
                        dt { "Latest run took" } dd {
                            @match l.and_then(|l| l.duration_secs) {
                                Some(s) => (format::seconds(s)),
                                None => span.muted { "—" }
                            }
                        }
                        dt { "Latest run pushed" } dd {
                            @match l.and_then(|l| l.pushed) {
                                Some(n) => (n),
                                None => span.muted { "—" }
                            }
                        }
                    }
                    p { a href={ "/ui/runs?kind=" (k.as_str()) } { "Its runs" } }
                }
            }
        }
        form.filters method="get" action="/ui/runs" aria-label="Filter runs" {
            div.field {
                label for="r-kind" { "Kind" }
                select #r-kind name="kind" {
                    option value="" selected[f.kind.is_empty()] { "every kind" }
                    @for k in RunKind::ALL {
                        option value=(k.as_str()) selected[f.kind == k.as_str()] { (words(k.as_str())) }
                    }
                }
            }
            div.field.buttons { button type="submit" { "Show" } a href="/ui/runs" { "Clear" } }
        }
        @if page.items.is_empty() { p.empty { "No run yet." } }
        @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { "Kind" } th scope="col" { "Status" } th scope="col" { "Started by" }
                        th scope="col" { "Queued" } th.num scope="col" { "Took" } th scope="col" { "Figures" }
                    } }
                    tbody {
                        @for r in &page.items { (row(r)) }
                    }
                }
            }
        }
        @if let Some(next) = &page.next_cursor {
            p { a href={ "/ui/runs?kind=" (query_escape(&f.kind)) "&cursor=" (query_escape(next)) } { "Older runs →" } }
        }
        p.hint { "The same as JSON: " code { "GET /api/v1/runs" } "; as metrics: " code { "b1bridge_run_last_*" } " on " code { "/metrics" } "." }
    };
    Ok(Page::new(&session, flash, "runs", "Runs", body))
}

fn row(r: &Run) -> Markup {
    let took = r
        .started_at
        .zip(r.finished_at)
        .map(|(s, f)| (f - s).num_milliseconds() as f64 / 1000.0);
    html! {
        tr {
            td { (words(r.kind.as_str())) }
            td { span class={ "badge " (r.status.as_str()) } { (words(r.status.as_str())) } }
            td { (words(r.trigger.as_str())) " (" (r.requested_by) ")" }
            td { (format::at(r.created_at)) }
            td.num { @match took { Some(s) => (format::seconds(s)), None => span.muted { "—" } } }
            td {
                (figures(&r.figures))
                @if let Some(e) = &r.error { p.notice.error { (e) } }
            }
        }
    }
}

/// The figures as the run recorded them: `name value` pairs, nested values as JSON.
fn figures(v: &serde_json::Value) -> Markup {
    let pairs: Vec<(String, String)> = match v.as_object() {
        Some(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let shown = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (words(k), shown)
            })
            .collect(),
        None => vec![],
    };
    html! {
        @if pairs.is_empty() { span.muted { "—" } }
        @else {
            dl.figures { @for (k, v) in &pairs { dt { (k) } dd { (v) } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_named_values_whatever_the_kind() {
        let html =
            figures(&serde_json::json!({"pushed": 3, "mode": "msi", "warnings": [], "x": null}))
                .into_string();
        assert!(html.contains("<dt>pushed</dt><dd>3</dd>"), "{html}");
        assert!(html.contains("<dt>mode</dt><dd>msi</dd>"), "{html}");
        assert!(html.contains("<dt>warnings</dt><dd>[]</dd>"), "{html}");
        assert!(!html.contains(">x<"), "{html}");
    }
}
