//! The HTTP edge: routes, the shared request context and the OpenAPI document. Handlers
//! parse, call the domain and storage, and map the result; nothing else.
pub mod error;
pub mod health;
pub mod signature;
pub mod webhook;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use sqlx::PgPool;
use std::sync::Arc;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;

use crate::config::WebhookSettings;

/// State shared by every handler.
#[derive(Clone)]
pub struct ApiContext {
    pub pool: PgPool,
    pub webhook: Arc<WebhookSettings>,
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
        (name = "health", description = "Liveness and readiness")
    )
)]
struct ApiDoc;

fn api_router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(webhook::receive))
}

/// The whole router, with the OpenAPI document served at `/openapi.json`.
pub fn router(ctx: ApiContext) -> Router {
    let limit = ctx.webhook.max_body_bytes;
    let (router, api) = api_router().split_for_parts();
    let spec = Arc::new(render(&api));
    router
        .route(
            "/openapi.json",
            get(move || {
                let spec = spec.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        spec.as_str().to_owned(),
                    )
                }
            }),
        )
        .layer(DefaultBodyLimit::max(limit))
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
