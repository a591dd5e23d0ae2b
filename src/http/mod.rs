//! The HTTP edge: routes, the shared request context and the OpenAPI document. Handlers
//! parse, call the domain and storage, and map the result; nothing else.
pub mod api;
pub mod docs;
pub mod error;
pub mod guard;
pub mod health;
pub mod intake_batcher;
pub mod metrics;
pub mod ui;
pub mod webhook;
pub mod webhook_rejections;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use sqlx::PgPool;
use std::sync::{Arc, OnceLock};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;

use crate::config::{BootstrapToken, WebhookSettings};

/// State shared by every handler.
#[derive(Clone)]
pub struct ApiContext {
    pub pool: PgPool,
    pub webhook: Arc<WebhookSettings>,
    /// Tokens from `B1BRIDGE_API_TOKENS` (hashed); minted tokens are in the database.
    pub api_tokens: Arc<Vec<BootstrapToken>>,
    /// Checks admin changes against SAP B1 master data; `None` without SAP configured.
    pub master_data: Option<Arc<dyn api::master_data::MasterDataCheck>>,
    /// Writes new orders' events in batches (group commit).
    pub intake: intake_batcher::IntakeBatcher,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "b1bridge",
        description = "Magento 2 / Adobe Commerce ⇄ SAP Business One order-to-cash bridge. \
                       Errors are RFC 9457 `application/problem+json` with a stable `code`.",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "webhooks", description = "Signed Magento order events (Standard Webhooks v1)"),
        (name = "exceptions", description = "The exception queue and its actions (operator)"),
        (name = "orders", description = "Orders in the flow, their timeline and retry (operator)"),
        (name = "mappings", description = "Magento → SAP B1 mapping tables (admin to change)"),
        (name = "settings", description = "Business settings (admin to change)"),
        (name = "reports", description = "The daily check: order flow, queue, exceptions, stock sync, health"),
        (name = "runs", description = "Scheduled and manual runs (stock and price syncs, reconciliation), and starting one now (operator)"),
        (name = "audit", description = "The go-live audit: start one (admin), read the latest findings (viewer)"),
        (name = "health", description = "Liveness, readiness and metrics"),
        (name = "docs", description = "This document and a browsable page"),
        (name = "ui", description = "Signing a browser in to and out of the operations page (`GET /`): \
                                    HTML forms, answered with redirects and a session cookie")
    ),
    components(responses(
        api::responses::BadRequest,
        api::responses::Unauthorized,
        api::responses::Forbidden,
        api::responses::NotFound,
        api::responses::Conflict,
        api::responses::RunActive,
        api::responses::ValidationFailed,
        api::responses::Internal,
        api::responses::Unavailable
    )),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

/// The `bearer` security scheme that every `/api/v1` operation requires: a token from
/// `B1BRIDGE_API_TOKENS` or `b1bridge token create`, with a role of viewer < operator < admin.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(
            "An API token (`Authorization: Bearer <token>`) from B1BRIDGE_API_TOKENS or \
             `b1bridge token create`. Roles: viewer (read) < operator (exception and order \
             actions) < admin (mappings, settings)."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

fn api_router() -> OpenApiRouter<ApiContext> {
    use api::{audit, exceptions, mappings, orders, reports, runs, settings};
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(openapi_document))
        .routes(routes!(docs::docs_page))
        .routes(routes!(docs::redoc_js))
        .routes(routes!(webhook::receive))
        .routes(routes!(exceptions::list_exceptions))
        .routes(routes!(exceptions::get_exception))
        .routes(routes!(exceptions::retry_exception))
        .routes(routes!(exceptions::resolve_exception))
        .routes(routes!(exceptions::ignore_exception))
        .routes(routes!(orders::list_orders))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::retry_order))
        .routes(routes!(mappings::list_mappings))
        .routes(routes!(mappings::put_mapping, mappings::delete_mapping))
        .routes(routes!(settings::get_settings, settings::put_settings))
        .routes(routes!(reports::daily_report))
        .routes(routes!(runs::list_runs))
        .routes(routes!(runs::start_stock_sync))
        .routes(routes!(runs::start_reconcile))
        .routes(routes!(audit::start_audit, audit::latest_audit))
        .routes(routes!(runs::start_price_sync))
        .routes(routes!(ui::session::login_page, ui::session::login))
        .routes(routes!(ui::session::logout))
}

/// This document (the same bytes as `openapi/openapi.json`).
#[utoipa::path(get, path = "/openapi.json", tag = "docs",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object, content_type = "application/json")))]
async fn openapi_document() -> impl axum::response::IntoResponse {
    static SPEC: OnceLock<String> = OnceLock::new();
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        SPEC.get_or_init(openapi_json).as_str(),
    )
}

/// The handlers that need only the database (liveness, readiness, metrics) take the pool.
impl axum::extract::FromRef<ApiContext> for PgPool {
    fn from_ref(ctx: &ApiContext) -> PgPool {
        ctx.pool.clone()
    }
}

/// What a process without the API serves (`worker --metrics-listen`): `/metrics` (the
/// deployment's gauges and this process's own counters: its jobs, SAP latency and
/// concurrency), `/healthz` and `/readyz`, as `serve` answers them.
pub fn probes_router(pool: PgPool) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(metrics::metrics))
        .route("/healthz", axum::routing::get(health::healthz))
        .route("/readyz", axum::routing::get(health::readyz))
        .layer(TraceLayer::new_for_http())
        .with_state(pool)
}

/// The whole router, with the OpenAPI document served at `/openapi.json`.
pub fn router(ctx: ApiContext) -> Router {
    let limit = ctx.webhook.max_body_bytes;
    let (router, _) = api_router().split_for_parts();
    router
        .merge(ui::pages())
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(guard::refuse_nul))
        .layer(TraceLayer::new_for_http())
        .with_state(ctx)
}

/// The OpenAPI document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let (_, api) = api_router().split_for_parts();
    render(&api)
}

fn render(api: &utoipa::openapi::OpenApi) -> String {
    let mut s = api
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    s.push('\n');
    s
}
