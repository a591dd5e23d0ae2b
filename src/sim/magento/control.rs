//! The simulator's control endpoints under `/sim/control` (not part of Magento, no token):
//! faults, statistics, salable quantities, and what a shopper or the back office would do
//! (place an order, cancel it, invoice it, refund it, look at its shipments).
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

use super::errors::MagentoSimError;
use super::faults::MagentoFaults;
use super::routes::json_body;
use super::state::MagentoSimState;
use super::store::{int, num};

pub fn router() -> Router<MagentoSimState> {
    Router::new()
        .route("/sim/control/stats", get(stats).delete(reset_stats))
        .route("/sim/control/faults", get(faults).post(set_faults))
        .route("/sim/control/salable", get(salable))
        .route("/sim/control/orders", post(place_order))
        .route("/sim/control/orders/{id}/cancel", post(cancel_order))
        .route("/sim/control/orders/{id}/invoice", post(invoice_order))
        .route("/sim/control/orders/{id}/creditmemos", post(credit_memo))
        .route("/sim/control/orders/{id}/shipments", get(shipments))
}

type Answer = Result<Response, MagentoSimError>;

async fn stats(State(s): State<MagentoSimState>) -> Response {
    Json(s.stats()).into_response()
}

async fn reset_stats(State(s): State<MagentoSimState>) -> StatusCode {
    s.reset_stats();
    StatusCode::NO_CONTENT
}

async fn faults(State(s): State<MagentoSimState>) -> Response {
    Json(s.faults()).into_response()
}

/// Body: [`MagentoFaults`] (missing fields take their defaults). Restarts the dice.
async fn set_faults(State(s): State<MagentoSimState>, body: Bytes) -> Answer {
    let faults: MagentoFaults =
        serde_json::from_slice(&body).map_err(MagentoSimError::malformed)?;
    s.set_faults(faults.clone())
        .map_err(|e| MagentoSimError::bad_request(e.to_string(), Value::Null))?;
    Ok(Json(faults).into_response())
}

#[derive(Deserialize)]
struct StockQuery {
    stock_id: Option<i64>,
}

/// `{"stock_id": 1, "salable": {"SKU": qty, …}}` for every stock-keeping SKU.
async fn salable(State(s): State<MagentoSimState>, Query(q): Query<StockQuery>) -> Response {
    let store = s.store();
    let stock_id = q.stock_id.unwrap_or(store.default_stock_id);
    let map: BTreeMap<String, Value> = store
        .salable_all(stock_id)
        .into_iter()
        .map(|(sku, qty)| (sku, num(qty)))
        .collect();
    Json(json!({"stock_id": stock_id, "salable": map})).into_response()
}

/// Body: an order in REST shape (`{"items":[{"sku","qty_ordered"}…], …}`), or
/// `{"order": {…}, "stock_id": N}`. 201 with the order as `GET /V1/orders/{id}` returns it;
/// 400 "The requested qty is not available" when the stock cannot sell it.
async fn place_order(State(s): State<MagentoSimState>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    let (order, stock_id) = match body.get("order") {
        Some(order) => (order.clone(), int(body.get("stock_id"))),
        None => (body, None),
    };
    let placed = s.store().place_order(order, stock_id)?;
    Ok((StatusCode::CREATED, Json(placed)).into_response())
}

/// As `POST /V1/orders/{id}/cancel`: `{"cancelled": bool}`.
async fn cancel_order(State(s): State<MagentoSimState>, Path(id): Path<i64>) -> Answer {
    let cancelled = s.store().cancel(id)?;
    Ok(Json(json!({"cancelled": cancelled})).into_response())
}

/// Optional body `{"transaction_id": "…"}`: the payment gateway's id of an online capture
/// (it becomes `payment.last_trans_id`); without it the capture is offline (none).
async fn invoice_order(
    State(s): State<MagentoSimState>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Answer {
    let transaction = if body.is_empty() {
        None
    } else {
        json_body(&body)?
            .get("transaction_id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    Ok(Json(s.store().invoice_all(id, transaction.as_deref())?).into_response())
}

/// The order's shipments, oldest first, as they were asked for (items, tracks, `notify`):
/// what a person sees on the order's Shipments tab in the admin.
async fn shipments(State(s): State<MagentoSimState>, Path(id): Path<i64>) -> Answer {
    s.store().order(id)?;
    Ok(Json(s.shipments(id)).into_response())
}

/// Body as `POST /V1/order/{id}/refund` takes it, flattened (see
/// [`super::store::Store::create_credit_memo`]). 201 with the credit memo.
async fn credit_memo(State(s): State<MagentoSimState>, Path(id): Path<i64>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    let memo = s.store().create_credit_memo(id, &body)?;
    Ok((StatusCode::CREATED, Json(memo)).into_response())
}
