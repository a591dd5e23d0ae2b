//! The exception queue (`GET /`): unresolved exceptions grouped by owner team and impact,
//! oldest first, with filters; each row names the order, the SKUs and what to do, with the
//! retry / resolve / ignore actions. And one exception in full (`/ui/exceptions/{id}`).
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Form, Json};
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

use super::charts::{self, Bar};
use super::error::UiError;
use super::flash::{self, Flash, Tone};
use super::format;
use super::layout::{self, csrf_field, path_escape, query_escape, words, Page};
use super::session::{local_path, Session};
use crate::domain::access::Role;
use crate::domain::exception::{Category, Impact, OwnerTeam};
use crate::domain::exception_flow::{transition, ExceptionAction, ExceptionStatus};
use crate::domain::mappings::MappingKind;
use crate::domain::order_flow::OrderStatus;
use crate::http::api::auth::{Authorized, Operator, Viewer};
use crate::http::api::exceptions::{self as api, Exception, ExceptionQuery};
use crate::http::api::orders::{self as orders_api, Job, OrderQuery};
use crate::http::api::{ActionNote, ApiQuery};
use crate::http::{ApiContext, ApiError};

/// The most rows the queue shows at once; past that, filters narrow it.
const MAX_ROWS: usize = 1000;

/// The queue's filters, as the form sends them (empty fields mean "any").
#[derive(Debug, Default, Deserialize)]
pub struct QueueFilter {
    /// `unresolved` (open or retrying; the default), or one status.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub team: String,
    #[serde(default)]
    pub impact: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub order: String,
    #[serde(default)]
    pub sku: String,
}

fn parse_choice<T>(
    field: &str,
    raw: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    parse(raw).map(Some).ok_or_else(|| {
        ApiError::InvalidParams(vec![crate::domain::validation::FieldError::new(
            field,
            format!("'{raw}' is not one of the choices"),
        )])
    })
}

fn non_empty(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Reads every page of the API's list for the filter (newest first), up to [`MAX_ROWS`].
async fn fetch(
    ctx: &ApiContext,
    session: &Session,
    f: &QueueFilter,
) -> Result<(Vec<Exception>, bool), UiError> {
    let statuses: Vec<ExceptionStatus> = match f.status.trim() {
        "" | "unresolved" => vec![ExceptionStatus::Open, ExceptionStatus::Retrying],
        s => vec![parse_choice("status", s, ExceptionStatus::parse)?.expect("non-empty")],
    };
    let mut rows = vec![];
    let mut truncated = false;
    for status in statuses {
        let mut cursor = None;
        loop {
            let query = ExceptionQuery {
                status: Some(status),
                category: parse_choice("category", &f.category, Category::parse)?,
                team: parse_choice("team", &f.team, OwnerTeam::parse)?,
                impact: parse_choice("impact", &f.impact, Impact::parse)?,
                order: non_empty(&f.order),
                sku: non_empty(&f.sku),
                limit: Some(500),
                cursor: cursor.take(),
            };
            let auth = Authorized::<Viewer>::check(session.caller.clone())?;
            let Json(page) =
                api::list_exceptions(auth, State(ctx.clone()), ApiQuery(query)).await?;
            rows.extend(page.items);
            if rows.len() >= MAX_ROWS {
                truncated = page.next_cursor.is_some() || rows.len() > MAX_ROWS;
                rows.truncate(MAX_ROWS);
                break;
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    // Oldest first: whoever is on duty starts with what has waited longest.
    rows.sort_by_key(|x| (x.first_seen_at, x.id));
    Ok((rows, truncated))
}

/// The orders held back now (whose exceptions a retry can re-queue), up to [`MAX_ROWS`].
async fn parked_orders(ctx: &ApiContext, session: &Session) -> Result<HashSet<String>, UiError> {
    let mut parked = HashSet::new();
    let mut cursor = None;
    loop {
        let auth = Authorized::<Viewer>::check(session.caller.clone())?;
        let query = OrderQuery {
            status: Some(OrderStatus::Parked),
            q: None,
            limit: Some(500),
            cursor: cursor.take(),
        };
        let Json(page) = orders_api::list_orders(auth, State(ctx.clone()), ApiQuery(query)).await?;
        parked.extend(page.items.into_iter().map(|o| o.increment_id));
        match page.next_cursor {
            Some(next) if parked.len() < MAX_ROWS => cursor = Some(next),
            _ => return Ok(parked),
        }
    }
}

/// `GET /`: the queue.
pub async fn queue_page(
    session: Session,
    flash: Flash,
    State(ctx): State<ApiContext>,
    Query(f): Query<QueueFilter>,
    uri: axum::http::Uri,
) -> Result<Page, UiError> {
    let (rows, truncated) = fetch(&ctx, &session, &f).await?;
    let parked = parked_orders(&ctx, &session).await?;
    let now = Utc::now();
    let here = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut groups: BTreeMap<(usize, usize), Vec<&Exception>> = BTreeMap::new();
    for x in &rows {
        let team = OwnerTeam::ALL
            .iter()
            .position(|t| *t == x.owner_team)
            .unwrap_or(0);
        let impact = Impact::ALL.iter().position(|i| *i == x.impact).unwrap_or(0);
        groups.entry((team, impact)).or_default().push(x);
    }
    let by_team: Vec<Bar> = OwnerTeam::ALL
        .iter()
        .map(|t| Bar {
            label: words(t.as_str()),
            value: rows.iter().filter(|x| x.owner_team == *t).count() as f64,
        })
        .collect();
    let body = html! {
        (filter_form(&f))
        section.summary aria-labelledby="by-team" {
            h2 #by-team .visually-hidden { "Exceptions by team" }
            (charts::bar_chart("Exceptions by owner team (as filtered)", &by_team, "exceptions"))
            div.card.totals {
                dl {
                    dt { "Listed" } dd { (rows.len()) }
                    dt { "Blocking fulfilment" } dd { (rows.iter().filter(|x| x.impact == Impact::BlocksFulfilment).count()) }
                    dt { "Waiting longest" } dd {
                        @match rows.first() {
                            Some(x) => { (format::age_since(x.first_seen_at, now)) " (" (order_link(x.order_increment_id.as_deref())) ")" },
                            None => "—",
                        }
                    }
                }
            }
        }
        @if rows.is_empty() {
            p.empty { "Nothing here: no exception matches these filters." }
        }
        @if truncated {
            p.notice.error role="status" {
                "Showing the " (MAX_ROWS) " most recent exceptions only; narrow the filters to see the rest."
            }
        }
        @for team in OwnerTeam::ALL.iter().enumerate() {
            @let team_groups: Vec<_> = groups.iter().filter(|((t, _), _)| *t == team.0).collect();
            @if !team_groups.is_empty() {
                @let count: usize = team_groups.iter().map(|(_, v)| v.len()).sum();
                section.team aria-labelledby={ "team-" (team.1.as_str()) } {
                    h2 id={ "team-" (team.1.as_str()) } { (title_case(&words(team.1.as_str()))) " " span.count { "(" (count) ")" } }
                    @for ((_, impact), xs) in team_groups {
                        h3 { "Impact: " (words(Impact::ALL[*impact].as_str())) }
                        (queue_table(&session, xs, &parked, now, &here))
                    }
                }
            }
        }
    };
    Ok(Page::new(&session, flash, "queue", "Exception queue", body))
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn filter_form(f: &QueueFilter) -> Markup {
    let select = |name: &str, label: &str, any: &str, options: Vec<&'static str>, chosen: &str| {
        html! {
            div.field {
                label for={ "f-" (name) } { (label) }
                select id={ "f-" (name) } name=(name) {
                    option value="" selected[chosen.is_empty()] { (any) }
                    @for o in options {
                        option value=(o) selected[chosen == o] { (words(o)) }
                    }
                }
            }
        }
    };
    let mut statuses = vec!["unresolved"];
    statuses.extend(ExceptionStatus::ALL.iter().map(|s| s.as_str()));
    let status_chosen = if f.status.is_empty() {
        "unresolved"
    } else {
        f.status.as_str()
    };
    html! {
        form.filters method="get" action="/" aria-label="Filter the queue" {
            div.field {
                label for="f-status" { "Status" }
                select #f-status name="status" {
                    @for s in statuses {
                        option value=(s) selected[status_chosen == s] {
                            @if s == "unresolved" { "open or retrying" } @else { (s) }
                        }
                    }
                }
            }
            (select("team", "Owner team", "any team", OwnerTeam::ALL.iter().map(|t| t.as_str()).collect(), &f.team))
            (select("impact", "Impact", "any impact", Impact::ALL.iter().map(|i| i.as_str()).collect(), &f.impact))
            (select("category", "Category", "any category", Category::ALL.iter().map(|c| c.as_str()).collect(), &f.category))
            div.field {
                label for="f-order" { "Order" }
                input #f-order type="search" name="order" value=(f.order) placeholder="increment id" maxlength="64";
            }
            div.field {
                label for="f-sku" { "SKU" }
                input #f-sku type="search" name="sku" value=(f.sku) maxlength="255";
            }
            div.field.buttons {
                button type="submit" { "Apply filters" }
                a href="/" { "Clear" }
            }
        }
    }
}

fn queue_table(
    session: &Session,
    xs: &[&Exception],
    parked: &HashSet<String>,
    now: DateTime<Utc>,
    here: &str,
) -> Markup {
    html! {
        div.table-wrap {
            table.queue {
                thead {
                    tr {
                        th scope="col" { "Waiting" }
                        th scope="col" { "Order" }
                        th scope="col" { "SKU" }
                        th scope="col" { "Problem and what to do" }
                        th scope="col" { "Status" }
                        th scope="col" { "Action" }
                    }
                }
                tbody {
                    @for x in xs {
                        tr id={ "x-" (x.id) } {
                            td {
                                (format::age_since(x.first_seen_at, now))
                                br;
                                small { "since " (format::at(x.first_seen_at)) }
                            }
                            td { (order_link(x.order_increment_id.as_deref())) }
                            td.skus {
                                @for sku in &x.skus { code { (sku) } br; }
                                @if x.skus.is_empty() { span.muted { "—" } }
                            }
                            td.problem {
                                a href={ "/ui/exceptions/" (x.id) } { strong { (x.title) } }
                                p { (x.detail) }
                                @if let Some(e) = &x.sap_error {
                                    p.sap { "SAP said (" (e.code) "): " (e.message) }
                                }
                                (fix_links(session, x))
                            }
                            td {
                                span class={ "badge " (x.status.as_str()) } { (x.status.as_str()) }
                                @if x.occurrences > 1 { br; small { (x.occurrences) " occurrences" } }
                                br; small.muted { (words(x.category.as_str())) }
                            }
                            td { (action_form(session, x, here, x.order_increment_id.as_ref().is_some_and(|o| parked.contains(o)))) }
                        }
                    }
                }
            }
        }
    }
}

pub fn order_link(order: Option<&str>) -> Markup {
    html! {
        @match order {
            Some(o) => a href={ "/ui/orders/" (path_escape(o)) } { (o) },
            None => span.muted { "no order" },
        }
    }
}

/// Where the fix is made, when b1bridge itself holds it: a mapping table, pre-filled.
fn fix_links(session: &Session, x: &Exception) -> Markup {
    let kind = match x.category {
        Category::UnknownSku => Some(MappingKind::Skus),
        Category::CustomerUnmapped => Some(MappingKind::Customers),
        _ => None,
    };
    let admin = session.caller.role.allows(Role::Admin);
    if x.status.is_final() {
        return html! {};
    }
    html! {
        @if let Some(kind) = kind {
            @if kind == MappingKind::Skus && admin {
                @for sku in &x.skus {
                    a.fix href={ "/ui/mappings/skus?key=" (query_escape(sku)) "#edit" } { "Map SKU " (sku) " to an SAP item" }
                    " "
                }
            } @else if admin {
                a.fix href={ "/ui/mappings/" (kind.as_str()) "#edit" } { "Open the " (words(kind.as_str())) " mapping" }
            } @else {
                small.muted { "An admin can fix it in the " (words(kind.as_str())) " mapping." }
            }
        }
    }
}

/// The actions the exception's state allows, for an operator; one note for all of them.
/// `order_parked`: whether its order is held back (a retry re-queues the parked job; an
/// exception on an order that is not held, such as a `total_mismatch` on a posted order,
/// has nothing to retry, so the button is not offered).
pub fn action_form(
    session: &Session,
    x: &Exception,
    return_to: &str,
    order_parked: bool,
) -> Markup {
    let allowed: Vec<ExceptionAction> = [
        ExceptionAction::Retry,
        ExceptionAction::Resolve,
        ExceptionAction::Ignore,
    ]
    .into_iter()
    .filter(|a| transition(x.status, *a).is_ok())
    .filter(|a| *a != ExceptionAction::Retry || order_parked)
    .collect();
    if allowed.is_empty() {
        return html! {
            @if let Some(by) = &x.resolved_by { small { (x.status.as_str()) " by " (by) } }
            @if let Some(note) = &x.note { br; small { "“" (note) "”" } }
        };
    }
    if !session.caller.role.allows(Role::Operator) {
        return html! { small.muted { "Operators act on exceptions." } };
    }
    let note_id = format!("note-{}", x.id);
    // Screen readers hear which exception a row's buttons act on, not only "Retry".
    let about = match &x.order_increment_id {
        Some(order) => format!(
            " on the {} exception of order {order}",
            words(x.category.as_str())
        ),
        None => format!(" on the {} exception", words(x.category.as_str())),
    };
    html! {
        form.actions method="post" action={ "/ui/exceptions/" (x.id) "/action" } {
            (csrf_field(session))
            input type="hidden" name="return_to" value=(return_to);
            label for=(note_id) { "Note" span.visually-hidden { (about) } }
            input id=(note_id) type="text" name="note" maxlength="2000"
                aria-describedby={ (note_id) "-hint" };
            small id={ (note_id) "-hint" } { "Required to resolve or ignore." }
            div.buttons {
                @for a in allowed {
                    button type="submit" name="action" value=(a.as_str())
                        class=(if a == ExceptionAction::Retry { "primary" } else { "" }) {
                        (title_case(a.as_str())) span.visually-hidden { (about) }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    pub csrf: String,
    pub action: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub return_to: Option<String>,
}

/// `POST /ui/exceptions/{id}/action`: retry, resolve or ignore through the API's handlers,
/// then back to the page the form was on, with what happened.
pub async fn act(
    session: Session,
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    session.check_form(&headers, &form.csrf)?;
    let back = local_path(form.return_to.as_deref());
    let note = ActionNote { note: form.note };
    let caller = session.caller.clone();
    let result = async {
        let auth = Authorized::<Operator>::check(caller)?;
        match form.action.as_str() {
            "retry" => api::retry_exception(auth, State(ctx), Path(id), note).await,
            "resolve" => api::resolve_exception(auth, State(ctx), Path(id), note).await,
            "ignore" => api::ignore_exception(auth, State(ctx), Path(id), note).await,
            other => Err(ApiError::BadRequest(format!(
                "unknown action '{other}': retry, resolve or ignore"
            ))),
        }
    }
    .await;
    Ok(match result {
        Ok(Json(x)) => flash::redirect_with(
            &back,
            Tone::Success,
            &format!(
                "{} on order {}: now {}.{}",
                words(x.category.as_str()),
                x.order_increment_id.as_deref().unwrap_or("(none)"),
                x.status.as_str(),
                if x.status == ExceptionStatus::Retrying {
                    " It resolves by itself when the order posts."
                } else {
                    ""
                }
            ),
        ),
        Err(ApiError::Unauthorized(_)) => return Err(UiError::SignIn { next: back }),
        Err(e) => {
            let (tone, text) = layout::refusal(&e);
            flash::redirect_with(&back, tone, &text)
        }
    })
}

/// `GET /ui/exceptions/{id}`: everything about one exception.
pub async fn detail_page(
    session: Session,
    flash: Flash,
    State(ctx): State<ApiContext>,
    Path(id): Path<String>,
) -> Result<Page, UiError> {
    let auth = Authorized::<Viewer>::check(session.caller.clone())?;
    let Json(d) = api::get_exception(auth, State(ctx), Path(id)).await?;
    let x = &d.exception;
    let here = format!("/ui/exceptions/{}", x.id);
    let now = Utc::now();
    let body = html! {
        div.cards {
            div.card {
                dl {
                    dt { "Category" } dd { (words(x.category.as_str())) }
                    dt { "Owner team" } dd { (words(x.owner_team.as_str())) }
                    dt { "Impact" } dd { (words(x.impact.as_str())) }
                    dt { "Status" } dd { span class={ "badge " (x.status.as_str()) } { (x.status.as_str()) } }
                    dt { "Order" } dd { (order_link(x.order_increment_id.as_deref())) }
                    dt { "SKUs" } dd { @for s in &x.skus { code { (s) } " " } }
                    dt { "First seen" } dd { (format::at(x.first_seen_at)) " (" (format::age_since(x.first_seen_at, now)) " ago)" }
                    dt { "Last seen" } dd { (format::at(x.last_seen_at)) ", " (x.occurrences) " occurrence(s)" }
                }
            }
            div.card {
                h2 { "What happened and what to do" }
                p { strong { (x.title) } }
                p { (x.detail) }
                @if let Some(e) = &x.sap_error { p.sap { "SAP said (" (e.code) "): " (e.message) } }
                p { (fix_links(&session, x)) }
                div.act { (action_form(&session, x, &here, d.order.as_ref().is_some_and(|o| o.status == OrderStatus::Parked))) }
            }
        }
        @if !d.jobs.is_empty() {
            h2 { "The order's jobs" }
            (jobs_table(&d.jobs))
        }
        h2 { "Audit trail" }
        @if d.audit.is_empty() { p.empty { "No action taken yet." } }
        ul.timeline {
            @for a in &d.audit {
                li { (format::at(a.at)) " — " strong { (a.action) } " by " (a.actor) @if let Some(n) = &a.note { ": “" (n) "”" } }
            }
        }
        details {
            summary { "Recorded facts (for the integration team)" }
            pre { (serde_json::to_string_pretty(&d.context).unwrap_or_default()) }
        }
    };
    Ok(Page::new(
        &session,
        flash,
        "queue",
        format!("Exception: {}", words(x.category.as_str())),
        body,
    ))
}

pub fn jobs_table(jobs: &[Job]) -> Markup {
    html! {
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { "Job" } th scope="col" { "Status" } th scope="col" { "Attempts" }
                    th scope="col" { "Queued" } th scope="col" { "Finished" } th scope="col" { "Last error" }
                } }
                tbody {
                    @for j in jobs {
                        tr {
                            td { (words(j.kind.as_str())) " #" (j.id) }
                            td { (serde_json::to_value(j.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) }
                            td { (j.attempt) }
                            td { (format::at(j.created_at)) }
                            td { @if let Some(f) = j.finished_at { (format::at(f)) } @else { span.muted { "—" } } }
                            td { @if let Some(e) = &j.last_error { code { (e.to_string()) } } }
                        }
                    }
                }
            }
        }
    }
}
