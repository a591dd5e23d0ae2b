//! The `/rest/{store}/V1/…` handlers: parse, call the store's rule under its lock, answer.
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::Value;

use super::errors::MagentoSimError;
use super::gateway::gateway;
use super::search::Criteria;
use super::state::MagentoSimState;
use super::store::{num, Store};

type Answer = Result<Response, MagentoSimError>;

pub fn router(state: MagentoSimState) -> Router<MagentoSimState> {
    Router::new()
        .route(
            "/rest/{store}/V1/inventory/source-items",
            get(search_source_items).post(save_source_items),
        )
        .route("/rest/{store}/V1/inventory/sources", get(sources))
        .route("/rest/{store}/V1/inventory/stocks", get(stocks))
        .route(
            "/rest/{store}/V1/inventory/get-product-salable-quantity/{sku}/{stock_id}",
            get(salable_quantity),
        )
        .route("/rest/{store}/V1/stockItems/{sku}", get(stock_item))
        .route(
            "/rest/{store}/V1/products/{sku}/stockItems/{item_id}",
            put(update_stock_item),
        )
        .route("/rest/{store}/V1/orders", get(search_orders))
        .route("/rest/{store}/V1/orders/{id}", get(order))
        .route("/rest/{store}/V1/orders/{id}/comments", post(comment))
        .route("/rest/{store}/V1/orders/{id}/cancel", post(cancel))
        .route("/rest/{store}/V1/order/{id}/ship", post(ship))
        .route("/rest/{store}/V1/products", get(search_products))
        .route("/rest/{store}/V1/products/base-prices", post(base_prices))
        .route(
            "/rest/{store}/V1/products/base-prices-information",
            post(base_prices_information),
        )
        .route(
            "/rest/{store}/V1/products/special-price",
            post(special_prices),
        )
        .route(
            "/rest/{store}/V1/products/special-price-delete",
            post(delete_special_prices),
        )
        .route("/rest/{store}/V1/products/{sku}", put(save_product))
        .route("/rest/{store}/V1/products/tier-prices", post(tier_prices))
        .route(
            "/rest/{store}/V1/products/tier-prices-delete",
            post(delete_tier_prices),
        )
        .route(
            "/rest/{store}/V1/products/tier-prices-information",
            post(tier_prices_information),
        )
        .route("/rest/{store}/V1/taxRates/search", get(tax_rates))
        .route("/rest/{store}/V1/creditmemo/{id}", get(credit_memo))
        .route("/rest/{store}/V1/creditmemos", get(search_credit_memos))
        .route_layer(axum::middleware::from_fn_with_state(state, gateway))
}

pub(crate) fn json_body(body: &[u8]) -> Result<Value, MagentoSimError> {
    serde_json::from_slice(body).map_err(MagentoSimError::malformed)
}

fn query_pairs(raw: Option<String>) -> Result<Vec<(String, String)>, MagentoSimError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).map_err(MagentoSimError::malformed)
}

/// An id in the path: Magento answers a non-numeric one like a missing entity.
fn path_id(raw: &str) -> Result<i64, MagentoSimError> {
    raw.parse().map_err(|_| MagentoSimError::no_order())
}

fn search(raw: Option<String>, required: bool, rows: impl FnOnce() -> Vec<Value>) -> Answer {
    let criteria = Criteria::parse(&query_pairs(raw)?)?;
    if required {
        criteria.require_present()?;
    }
    Ok(Json(criteria.apply(rows())).into_response())
}

fn ok(v: Value) -> Answer {
    Ok(Json(v).into_response())
}

/// Large catalogues: a search limited to some SKUs looks only those up, and an unfiltered,
/// unsorted one converts only its page (the answer is the same either way).
async fn search_source_items(State(s): State<MagentoSimState>, RawQuery(q): RawQuery) -> Answer {
    let criteria = Criteria::parse(&query_pairs(q)?)?;
    criteria.require_present()?;
    let store = s.store();
    if let Some(skus) = criteria.sku_restriction() {
        return ok(criteria.apply(store.source_items_of(&skus)));
    }
    if criteria.is_plain() {
        let total = store.source_items.len();
        let (skip, take) = criteria.page_window(total);
        let page = store.source_items_page(skip, take);
        return ok(criteria.answer_page(page, total));
    }
    ok(criteria.apply(store.source_items_json()))
}

async fn save_source_items(State(s): State<MagentoSimState>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().save_source_items(&body)?)
}

async fn sources(State(s): State<MagentoSimState>, RawQuery(q): RawQuery) -> Answer {
    search(q, false, || s.store().sources_json())
}

async fn stocks(State(s): State<MagentoSimState>, RawQuery(q): RawQuery) -> Answer {
    search(q, false, || s.store().stocks_json())
}

async fn salable_quantity(
    State(s): State<MagentoSimState>,
    Path((_store, sku, stock_id)): Path<(String, String, String)>,
) -> Answer {
    let stock_id: i64 = stock_id
        .parse()
        .map_err(|_| MagentoSimError::malformed("stockId"))?;
    ok(num(s.store().salable(stock_id, &sku)?))
}

async fn stock_item(
    State(s): State<MagentoSimState>,
    Path((_store, sku)): Path<(String, String)>,
) -> Answer {
    ok(s.store().legacy_stock_item(&sku)?)
}

async fn update_stock_item(
    State(s): State<MagentoSimState>,
    Path((_store, sku, item_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Answer {
    let body = json_body(&body)?;
    let item_id = path_id(&item_id)?;
    ok(s.store().update_legacy_stock_item(&sku, item_id, &body)?)
}

async fn search_orders(State(s): State<MagentoSimState>, RawQuery(q): RawQuery) -> Answer {
    search(q, true, || {
        s.store().orders.values().map(|o| o.json.clone()).collect()
    })
}

async fn order(
    State(s): State<MagentoSimState>,
    Path((_store, id)): Path<(String, String)>,
) -> Answer {
    ok(s.store().order(path_id(&id)?)?.json.clone())
}

async fn comment(
    State(s): State<MagentoSimState>,
    Path((_store, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().add_comment(path_id(&id)?, &body)?)
}

async fn cancel(
    State(s): State<MagentoSimState>,
    Path((_store, id)): Path<(String, String)>,
) -> Answer {
    ok(Value::Bool(s.store().cancel(path_id(&id)?)?))
}

async fn ship(
    State(s): State<MagentoSimState>,
    Path((_store, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().ship(path_id(&id)?, &body)?)
}

async fn search_products(State(s): State<MagentoSimState>, RawQuery(q): RawQuery) -> Answer {
    let criteria = Criteria::parse(&query_pairs(q)?)?;
    criteria.require_present()?;
    let store = s.store();
    if criteria.is_plain() {
        let total = store.products.len();
        let (skip, take) = criteria.page_window(total);
        let page = store
            .products
            .values()
            .skip(skip)
            .take(take)
            .map(Store::product_json)
            .collect();
        return ok(criteria.answer_page(page, total));
    }
    ok(criteria.apply(store.products.values().map(Store::product_json).collect()))
}

async fn base_prices(State(s): State<MagentoSimState>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().save_base_prices(&body)?)
}

async fn base_prices_information(State(s): State<MagentoSimState>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().base_prices_of(&body)?)
}

async fn special_prices(State(s): State<MagentoSimState>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().save_special_prices(&body)?)
}

async fn delete_special_prices(State(s): State<MagentoSimState>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().delete_special_prices(&body)?)
}

async fn save_product(
    State(s): State<MagentoSimState>,
    Path((store, sku)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().save_product(&store, &sku, &body)?)
}

async fn delete_tier_prices(State(s): State<MagentoSimState>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().delete_tier_prices(&body)?)
}

async fn tier_prices(State(s): State<MagentoSimState>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().save_tier_prices(&body)?)
}

async fn tier_prices_information(State(s): State<MagentoSimState>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    ok(s.store().tier_prices_of(&body)?)
}

async fn tax_rates(State(s): State<MagentoSimState>, RawQuery(q): RawQuery) -> Answer {
    search(q, true, || s.store().tax_rates.clone())
}

async fn credit_memo(
    State(s): State<MagentoSimState>,
    Path((_store, id)): Path<(String, String)>,
) -> Answer {
    ok(s.store().credit_memo(path_id(&id)?)?.clone())
}

async fn search_credit_memos(State(s): State<MagentoSimState>, RawQuery(q): RawQuery) -> Answer {
    search(q, true, || {
        s.store().credit_memos.values().cloned().collect()
    })
}
