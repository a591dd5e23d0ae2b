//! The simulator's control endpoints under `/sim/control` (not part of SAP, so no session):
//! faults, statistics, session expiry, and the back-office work a warehouse or accountant
//! would do in the B1 client (deliveries, invoices, stock counts).
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::approvals::Decision;
use super::entities::SpecialPrice;
use super::enums::YesNo;
use super::errors::ServiceLayerError;
use super::faults::Faults;
use super::state::SapSimState;
use super::targets::{DeliveryRequest, InvoiceBase};
use chrono::NaiveDate;

pub fn router() -> Router<SapSimState> {
    Router::new()
        .route("/sim/control/stats", get(stats))
        .route("/sim/control/faults", get(faults).post(set_faults))
        .route("/sim/control/expire-sessions", post(expire_sessions))
        .route("/sim/control/deliveries", post(deliveries))
        .route("/sim/control/invoices", post(invoices))
        .route("/sim/control/stock", post(stock))
        .route("/sim/control/prices", post(price))
        .route("/sim/control/items", post(item_flags))
        .route("/sim/control/special-prices", post(special_price))
        .route(
            "/sim/control/drafts/{doc_entry}/{decision}",
            post(decide_draft),
        )
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ServiceLayerError> {
    serde_json::from_slice(body)
        .map_err(|e| ServiceLayerError::bad_request(format!("Invalid control request: {e}")))
}

async fn stats(State(state): State<SapSimState>) -> Response {
    Json(state.stats()).into_response()
}

async fn faults(State(state): State<SapSimState>) -> Response {
    Json(state.faults()).into_response()
}

/// Body: [`Faults`] as JSON (missing fields are 0). Restarts the dice from `seed`.
async fn set_faults(
    State(state): State<SapSimState>,
    body: Bytes,
) -> Result<Response, ServiceLayerError> {
    let faults: Faults = parse(&body)?;
    state
        .set_faults(faults.clone())
        .map_err(|e| ServiceLayerError::bad_request(e.to_string()))?;
    Ok(Json(faults).into_response())
}

async fn expire_sessions(State(state): State<SapSimState>) -> StatusCode {
    state.expire_all_sessions();
    StatusCode::NO_CONTENT
}

/// Body: [`DeliveryRequest`]; answers 201 with the `DeliveryNotes` entity.
async fn deliveries(
    State(state): State<SapSimState>,
    body: Bytes,
) -> Result<Response, ServiceLayerError> {
    let request: DeliveryRequest = parse(&body)?;
    let delivery = state.create_delivery(&request)?;
    Ok((StatusCode::CREATED, Json(delivery.to_object())).into_response())
}

/// Body: `{"order_doc_entry": n}` or `{"delivery_doc_entry": n}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoiceRequest {
    order_doc_entry: Option<i64>,
    delivery_doc_entry: Option<i64>,
}

async fn invoices(
    State(state): State<SapSimState>,
    body: Bytes,
) -> Result<Response, ServiceLayerError> {
    let request: InvoiceRequest = parse(&body)?;
    let base = match (request.order_doc_entry, request.delivery_doc_entry) {
        (Some(order), None) => InvoiceBase::Order(order),
        (None, Some(delivery)) => InvoiceBase::Delivery(delivery),
        _ => {
            return Err(ServiceLayerError::bad_request(
                "Give exactly one of order_doc_entry and delivery_doc_entry",
            ))
        }
    };
    let invoice = state.create_invoice(base)?;
    Ok((StatusCode::CREATED, Json(invoice.to_object())).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockRequest {
    item_code: String,
    warehouse_code: String,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    in_stock: Decimal,
}

async fn stock(
    State(state): State<SapSimState>,
    body: Bytes,
) -> Result<StatusCode, ServiceLayerError> {
    let request: StockRequest = parse(&body)?;
    state.set_stock(
        &request.item_code,
        &request.warehouse_code,
        request.in_stock,
    )?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceRequest {
    item_code: String,
    price_list: i64,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    price: Decimal,
}

/// `POST /sim/control/prices`: a price changed in a list with its own prices, as in the B1
/// client; the factor lists based on it follow.
async fn price(
    State(state): State<SapSimState>,
    body: Bytes,
) -> Result<StatusCode, ServiceLayerError> {
    let request: PriceRequest = parse(&body)?;
    state.set_item_price(&request.item_code, request.price_list, request.price)?;
    Ok(StatusCode::NO_CONTENT)
}

/// An item's sellability as the B1 client's item master data window sets it; what the
/// request leaves out takes B1's default (active, not frozen, a sales item, no dates).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct ItemFlags {
    item_code: String,
    #[serde(default = "YesNo::yes")]
    valid: YesNo,
    #[serde(default)]
    valid_from: Option<NaiveDate>,
    #[serde(default)]
    valid_to: Option<NaiveDate>,
    #[serde(default)]
    frozen: YesNo,
    #[serde(default)]
    frozen_from: Option<NaiveDate>,
    #[serde(default)]
    frozen_to: Option<NaiveDate>,
    #[serde(default = "YesNo::yes")]
    sales_item: YesNo,
}

/// `POST /sim/control/items`: an item made (in)active, frozen or (not) a sales item.
async fn item_flags(
    State(state): State<SapSimState>,
    body: Bytes,
) -> Result<StatusCode, ServiceLayerError> {
    let f: ItemFlags = parse(&body)?;
    state.with_company(|c| {
        let item = c
            .items
            .get_mut(&f.item_code)
            .ok_or_else(ServiceLayerError::not_found)?;
        item.valid = f.valid;
        item.valid_from = f.valid_from;
        item.valid_to = f.valid_to;
        item.frozen = f.frozen;
        item.frozen_from = f.frozen_from;
        item.frozen_to = f.frozen_to;
        item.sales_item = f.sales_item;
        Ok::<_, ServiceLayerError>(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecialPriceChange {
    card_code: String,
    item_code: String,
    /// The new special price of this key; `null` removes it.
    special_price: Option<SpecialPrice>,
}

/// `POST /sim/control/special-prices`: a special price entered, changed or removed in the B1
/// client (one per `CardCode` + `ItemCode`, the entity's key).
async fn special_price(
    State(state): State<SapSimState>,
    body: Bytes,
) -> Result<StatusCode, ServiceLayerError> {
    let change: SpecialPriceChange = parse(&body)?;
    if let Some(row) = &change.special_price {
        if row.card_code != change.card_code || row.item_code != change.item_code {
            return Err(ServiceLayerError::bad_request(
                "special_price must carry the change's CardCode and ItemCode",
            ));
        }
    }
    state.with_company(|c| {
        c.special_prices
            .retain(|p| !(p.card_code == change.card_code && p.item_code == change.item_code));
        c.special_prices.extend(change.special_price);
    });
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /sim/control/drafts/{doc_entry}/approve` (201 with the Sales Order added from the
/// draft) or `/reject` (204; the draft stays open).
async fn decide_draft(
    State(state): State<SapSimState>,
    Path((doc_entry, decision)): Path<(i64, String)>,
) -> Result<Response, ServiceLayerError> {
    let decision = match decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        other => {
            return Err(ServiceLayerError::bad_request(format!(
                "Unknown decision '{other}': use approve or reject"
            )))
        }
    };
    Ok(match state.decide_draft(doc_entry, decision)? {
        Some(order) => (StatusCode::CREATED, Json(order.to_object())).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
