//! Orders (`/ui/orders`) and one order with its timeline (`/ui/orders/{increment_id}`).
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Form, Json};
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;

use super::error::UiError;
use super::exceptions::{action_form, jobs_table};
use super::flash::{self, Flash, Tone};
use super::format;
use super::layout::{self, csrf_field, path_escape, query_escape, words, Page};
use super::session::Session;
use crate::domain::access::Role;
use crate::domain::order_flow::OrderStatus;
use crate::http::api::auth::{Authorized, Operator, Viewer};
use crate::http::api::orders::{self as api, OrderQuery, TimelineKind};
use crate::http::api::{ActionNote, ApiQuery};
use crate::http::{ApiContext, ApiError};

#[derive(Debug, Default, Deserialize)]
pub struct OrderFilter {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /ui/orders`: newest first, 50 a page, searchable.
pub async fn list_page(
    session: Session,
    flash: Flash,
    State(ctx): State<ApiContext>,
    Query(f): Query<OrderFilter>,
) -> Result<Page, UiError> {
    let status = match f.status.trim() {
        "" => None,
        s => Some(OrderStatus::parse(s).ok_or_else(|| {
            ApiError::InvalidParams(vec![crate::domain::validation::FieldError::new(
                "status",
                format!("'{s}' is not an order status"),
            )])
        })?),
    };
    let auth = Authorized::<Viewer>::check(session.caller.clone())?;
    let query = OrderQuery {
        status,
        q: Some(f.q.trim().to_owned()).filter(|q| !q.is_empty()),
        limit: Some(50),
        cursor: f.cursor.clone().filter(|c| !c.is_empty()),
    };
    let Json(page) = api::list_orders(auth, State(ctx), ApiQuery(query)).await?;
    let body = html! {
        form.filters method="get" action="/ui/orders" aria-label="Find orders" {
            div.field {
                label for="o-q" { "Increment id or e-mail" }
                input #o-q type="search" name="q" value=(f.q) maxlength="255";
            }
            div.field {
                label for="o-status" { "Status" }
                select #o-status name="status" {
                    option value="" selected[f.status.is_empty()] { "any status" }
                    @for s in OrderStatus::ALL {
                        option value=(s.as_str()) selected[f.status == s.as_str()] { (words(s.as_str())) }
                    }
                }
            }
            div.field.buttons { button type="submit" { "Search" } a href="/ui/orders" { "Clear" } }
        }
        @if page.items.is_empty() { p.empty { "No order matches." } }
        @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { "Order" } th scope="col" { "Status" } th scope="col" { "Customer" }
                        th.num scope="col" { "Total" } th scope="col" { "SAP document" } th.num scope="col" { "Open exceptions" }
                        th scope="col" { "Received" }
                    } }
                    tbody {
                        @for o in &page.items {
                            tr {
                                td { a href={ "/ui/orders/" (path_escape(&o.increment_id)) } { (o.increment_id) } }
                                td { span class={ "badge " (o.status.as_str()) } { (words(o.status.as_str())) } }
                                td { (o.customer_email.as_deref().unwrap_or("—")) }
                                td.num { @if let Some(t) = o.grand_total { (format!("{t:.2}")) " " (o.currency.as_deref().unwrap_or("")) } }
                                td { @if let Some(n) = o.sap_doc_num { "DocNum " (n) } @else { span.muted { "—" } } }
                                td.num { (o.open_exceptions) }
                                td { (format::at(o.created_at)) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &page.next_cursor {
            p { a href={ "/ui/orders?status=" (query_escape(&f.status)) "&q=" (query_escape(&f.q)) "&cursor=" (query_escape(next)) } { "Older orders →" } }
        }
    };
    Ok(Page::new(&session, flash, "orders", "Orders", body))
}

fn timeline_icon(kind: TimelineKind) -> &'static str {
    match kind {
        TimelineKind::EventReceived => "Received from Magento",
        TimelineKind::JobQueued => "Queued",
        TimelineKind::JobFinished => "Done in SAP",
        TimelineKind::ExceptionRaised => "Exception",
        TimelineKind::ExceptionClosed => "Exception closed",
        TimelineKind::OperatorAction => "Action",
        TimelineKind::RefundReceived => "Refund received",
        TimelineKind::RefundPosted => "Refund in SAP",
        TimelineKind::RefundPaid => "Refund paid out",
    }
}

fn timeline_class(kind: TimelineKind) -> &'static str {
    match kind {
        TimelineKind::EventReceived | TimelineKind::JobQueued | TimelineKind::RefundReceived => {
            "info"
        }
        TimelineKind::JobFinished
        | TimelineKind::ExceptionClosed
        | TimelineKind::RefundPosted
        | TimelineKind::RefundPaid => "good",
        TimelineKind::ExceptionRaised => "bad",
        TimelineKind::OperatorAction => "action",
    }
}

/// `GET /ui/orders/{increment_id}`: state, SAP document, timeline, exceptions and jobs.
pub async fn detail_page(
    session: Session,
    flash: Flash,
    State(ctx): State<ApiContext>,
    Path(increment_id): Path<String>,
) -> Result<Page, UiError> {
    let auth = Authorized::<Viewer>::check(session.caller.clone())?;
    let Json(d) = api::get_order(auth, State(ctx), Path(increment_id)).await?;
    let o = &d.order;
    let here = format!("/ui/orders/{}", path_escape(&o.increment_id));
    let now = Utc::now();
    let parked = o.status == OrderStatus::Parked;
    let body = html! {
        div.cards {
            div.card {
                dl {
                    dt { "Status" } dd { span #order-status class={ "badge " (o.status.as_str()) } { (words(o.status.as_str())) } }
                    dt { "SAP Sales Order" } dd {
                        @if let (Some(num), Some(entry)) = (o.sap_doc_num, o.sap_doc_entry) { "DocNum " (num) " (DocEntry " (entry) ")" }
                        @else { span.muted { "not in SAP yet" } }
                    }
                    dt { "Customer" } dd { (o.customer_email.as_deref().unwrap_or("—")) }
                    dt { "Grand total" } dd { @if let Some(t) = o.grand_total { (format!("{t:.2}")) " " (o.currency.as_deref().unwrap_or("")) } @else { "—" } }
                    dt { "Placed in Magento" } dd { @if let Some(t) = o.magento_created_at { (format::at(t)) } @else { "—" } }
                    dt { "First heard of" } dd { (format::at(o.created_at)) " (" (format::age_since(o.created_at, now)) " ago)" }
                    @if let Some(c) = o.cancel_requested_at { dt { "Cancellation requested" } dd { (format::at(c)) } }
                }
                @if parked && session.caller.role.allows(Role::Operator) {
                    form.actions method="post" action={ (here) "/retry" } {
                        (csrf_field(&session))
                        label for="retry-note" { "Note (optional)" }
                        input #retry-note type="text" name="note" maxlength="2000";
                        div.buttons { button.primary type="submit" { "Retry the order" } }
                    }
                }
            }
            div.card {
                h2 { "Timeline" }
                ol.timeline {
                    @for e in &d.timeline {
                        li class=(timeline_class(e.kind)) {
                            (format::at(e.at)) " — " strong { (timeline_icon(e.kind)) } ": " (e.summary)
                        }
                    }
                }
            }
        }
        h2 { "Exceptions" }
        @if d.exceptions.is_empty() { p.empty { "None." } }
        @else {
            div.table-wrap {
                table {
                    thead { tr { th scope="col" { "Exception" } th scope="col" { "Status" } th scope="col" { "Action" } } }
                    tbody {
                        @for x in &d.exceptions {
                            tr id={ "x-" (x.id) } {
                                td { a href={ "/ui/exceptions/" (x.id) } { strong { (x.title) } } p { (x.detail) } }
                                td { span class={ "badge " (x.status.as_str()) } { (x.status.as_str()) } }
                                td { (action_form(&session, x, &here, parked)) }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Jobs (work in SAP)" }
        (jobs_table(&d.jobs))
        h2 { "Webhook deliveries" }
        (events(&d.events))
    };
    Ok(Page::new(
        &session,
        flash,
        "orders",
        format!("Order {}", o.increment_id),
        body,
    ))
}

fn events(events: &[crate::http::api::orders::Event]) -> Markup {
    html! {
        ul.timeline {
            @for e in events {
                li { (format::at(e.received_at)) " — " code { (e.webhook_id) } " " (e.event_type.as_deref().unwrap_or("unusable event")) ": " (e.effect) }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct RetryForm {
    pub csrf: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /ui/orders/{increment_id}/retry`.
pub async fn retry(
    session: Session,
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    Path(increment_id): Path<String>,
    form: Result<Form<RetryForm>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    session.check_form(&headers, &form.csrf)?;
    let back = format!("/ui/orders/{}", path_escape(&increment_id));
    let result = async {
        let auth = Authorized::<Operator>::check(session.caller.clone())?;
        api::retry_order(
            auth,
            State(ctx),
            Path(increment_id),
            ActionNote { note: form.note },
        )
        .await
    }
    .await;
    Ok(match result {
        Ok(Json(r)) => flash::redirect_with(
            &back,
            Tone::Success,
            &format!(
                "Order {} re-queued ({} job(s)); it is now {}.",
                r.increment_id,
                r.jobs_requeued,
                words(r.status.as_str())
            ),
        ),
        Err(ApiError::Unauthorized(_)) => return Err(UiError::SignIn { next: back }),
        Err(e) => {
            let (tone, text) = layout::refusal(&e);
            flash::redirect_with(&back, tone, &text)
        }
    })
}
