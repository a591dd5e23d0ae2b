//! The go-live audit (`/ui/audit`): the latest audit run of `GET /api/v1/audit` and its
//! findings, blocking first, each with what it means and how to fix it. Read-only: an audit is
//! started with `b1bridge audit` or `POST /api/v1/audit`.
use axum::extract::State;
use axum::Json;
use maud::html;

use super::error::UiError;
use super::flash::Flash;
use super::layout::{words, Page};
use super::session::Session;
use crate::http::api::audit as api;
use crate::http::api::auth::{Authorized, Viewer};
use crate::http::{ApiContext, ApiError};

/// `GET /ui/audit`.
pub async fn page(
    session: Session,
    flash: Flash,
    State(ctx): State<ApiContext>,
) -> Result<Page, UiError> {
    let auth = Authorized::<Viewer>::check(session.caller.clone())?;
    let view = match api::latest_audit(auth, State(ctx)).await {
        Ok(Json(view)) => Some(view),
        Err(ApiError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let body = html! {
        h1 { "Go-live audit" }
        @match &view {
            None => p { "No audit has been run yet. Run " code { "b1bridge audit" } " or "
                code { "POST /api/v1/audit" } " (admin)." }
            Some(v) => {
                p {
                    "Run " code { (v.run.id) } ", " (words(v.run.status.as_str()))
                    @if let Some(at) = v.run.finished_at { ", finished " (at.format("%Y-%m-%d %H:%M UTC")) }
                    "."
                    @if let Some(e) = &v.run.error { " " (e) }
                }
                @if let Some(r) = &v.report {
                    p {
                        strong { @if r.has_blocking() { "Not ready" } @else { "Ready" } }
                        ": " (r.figures.blocking) " blocking, " (r.figures.warnings) " warning(s), "
                        (r.figures.info) " info; " (r.figures.products) " products, "
                        (r.figures.orders) " orders dry-run (" (r.figures.orders_matching) " exact)."
                    }
                    table {
                        thead { tr { th { "Severity" } th { "Check" } th { "Object" } th { "Meaning" } th { "Fix" } } }
                        tbody {
                            @for f in &r.findings {
                                tr {
                                    td { (f.severity.as_str()) }
                                    td { (words(f.check.as_str())) }
                                    td { (f.object) }
                                    td { (f.meaning) }
                                    td { (f.fix) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::new(&session, flash, "audit", "Go-live audit", body))
}
