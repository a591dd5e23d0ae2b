//! The operations page (`GET /` and `/ui/…`): server-rendered HTML for the people who work
//! the exception queue, with no script at all, so it works offline, behind strict proxies and
//! with a keyboard or screen reader alone.
//!
//! Every view reads through the `/api/v1` handlers and every action calls them, with the
//! caller the session stands for: the page shows and does exactly what the API does (same
//! role checks, validation, audit log), and only rendering lives here.
//!
//! Adding a view: a module with a handler returning [`layout::Page`], one route in
//! [`pages`], and one entry in [`layout::NAV`].
pub mod audit;
pub mod charts;
pub mod error;
pub mod exceptions;
pub mod flash;
pub mod format;
pub mod layout;
pub mod mappings;
pub mod orders;
pub mod report;
pub mod runs;
pub mod session;
pub mod settings;

use axum::routing::{get, post};
use axum::Router;

use super::ApiContext;

/// The page's routes, apart from the login and logout endpoints (those are in the OpenAPI
/// document, as the way a browser obtains a session).
pub fn pages() -> Router<ApiContext> {
    Router::new()
        .route("/", get(exceptions::queue_page))
        .route("/ui/style.css", get(layout::stylesheet))
        .route("/ui/icon.svg", get(layout::icon))
        .route("/ui/exceptions/{id}", get(exceptions::detail_page))
        .route("/ui/exceptions/{id}/action", post(exceptions::act))
        .route("/ui/orders", get(orders::list_page))
        .route("/ui/orders/{increment_id}", get(orders::detail_page))
        .route("/ui/orders/{increment_id}/retry", post(orders::retry))
        .route("/ui/mappings", get(mappings::index))
        .route("/ui/mappings/{kind}", get(mappings::table_page))
        .route("/ui/mappings/{kind}", post(mappings::save))
        .route("/ui/mappings/{kind}/delete", post(mappings::delete))
        .route("/ui/settings", get(settings::page).post(settings::save))
        .route("/ui/report", get(report::page))
        .route("/ui/audit", get(audit::page))
        .route("/ui/runs", get(runs::page))
}
