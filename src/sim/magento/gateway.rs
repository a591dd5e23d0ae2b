//! What stands in front of every `/rest/{store}/V1/…` request: counting, injected latency and
//! faults (the web server and PHP in front of Magento's code), then the bearer token and the
//! store code, as Magento's web API checks them.
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::errors::MagentoSimError;
use super::faults::{fault_response, Fault};
use super::state::MagentoSimState;

pub async fn gateway(
    State(state): State<MagentoSimState>,
    request: Request,
    next: Next,
) -> Response {
    let endpoint = format!(
        "{} {}",
        request.method(),
        request
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().trim_start_matches("/rest/{store}").to_owned())
            .unwrap_or_else(|| "(unmatched)".into())
    );
    {
        let mut stats = state.stats_mut();
        stats.requests += 1;
        *stats.requests_by_endpoint.entry(endpoint).or_default() += 1;
        stats.in_flight += 1;
        stats.max_concurrent_requests = stats.max_concurrent_requests.max(stats.in_flight);
    }
    // Counted out when the answer is ready, or when the client gave up and the request was
    // dropped mid-way.
    let _in_flight = InFlight(state.clone());
    let (latency, fault) = {
        let mut dice = state.dice();
        (dice.latency(), dice.roll())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None => {}
        Fault::Status(status) => {
            *state
                .stats_mut()
                .injected_statuses
                .entry(status)
                .or_default() += 1;
            return fault_response(status);
        }
        Fault::Timeout(hold) => {
            state.stats_mut().injected_timeouts += 1;
            // A slow store finishes the request although the client gave up waiting (PHP
            // runs on after the connection closes), so the held request is handled in a task
            // of its own that a dropped connection does not cancel.
            let task = tokio::spawn(async move {
                tokio::time::sleep(hold).await;
                handle(state, request, next).await
            });
            return task
                .await
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    }
    handle(state, request, next).await
}

/// The token, the store code, then the route.
async fn handle(state: MagentoSimState, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    let ok: bool = presented.as_bytes().ct_eq(state.token().as_bytes()).into();
    if !ok {
        state.stats_mut().unauthorized += 1;
        return MagentoSimError::unauthorized(resource_of(request.uri().path())).into_response();
    }
    let store_code = request
        .uri()
        .path()
        .trim_start_matches("/rest/")
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned();
    if store_code != "all" && state.store().store_by_code(&store_code).is_none() {
        return MagentoSimError::new(
            StatusCode::BAD_REQUEST,
            "The store that was requested wasn't found. Verify the store and try again.",
            serde_json::Value::Null,
        )
        .into_response();
    }
    next.run(request).await
}

struct InFlight(MagentoSimState);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut stats = self.0.stats_mut();
        stats.in_flight = stats.in_flight.saturating_sub(1);
    }
}

/// The ACL resource Magento names in its 401 (one per area is enough to be realistic).
fn resource_of(path: &str) -> &'static str {
    if path.contains("/inventory/") {
        "Magento_InventoryApi::source"
    } else if path.contains("/stockItems") {
        "Magento_CatalogInventory::cataloginventory"
    } else if path.contains("/products") {
        "Magento_Catalog::products"
    } else if path.contains("/taxRates") {
        "Magento_Tax::manage_tax"
    } else {
        "Magento_Sales::sales"
    }
}

/// Magento's answer to a path no route matches.
pub async fn no_route() -> Response {
    MagentoSimError::new(
        StatusCode::NOT_FOUND,
        "Request does not match any route.",
        json!(null),
    )
    .into_response()
}
