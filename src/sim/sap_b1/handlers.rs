//! The entity routes of `/b1s/v1`: reads with OData query options, creates, PATCH, bound
//! actions and DELETE, each answering as the Service Layer does (201 + `Location` + entity,
//! 204, 404 -2028, 400 -5006), with injected lock errors and lost responses applied here.
use axum::body::{to_bytes, Body};
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::business_partners::{create_business_partner, patch_business_partner};
use super::company::{Company, Stamp};
use super::entities::to_object;
use super::errors::ServiceLayerError;
use super::faults::FaultRoll;
use super::json_input::parse_object;
use super::login::base_url;
use super::orders::{cancel_order, close_order, create_order, patch_order};
use super::paging;
use super::query::QueryOptions;
use super::resource_path::{self, EntitySet, Key, Resource, Tail};
use super::responses::{sl_json, sl_no_content, sl_text};
use super::server::ConnectionKill;
use super::state::SapSimState;
use super::stats::bump;

/// Request bodies above this are refused; a 500-line order is far below it.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// What a handler produced; a creation may still lose its response.
enum Reply {
    Done(Response),
    Created {
        location: String,
        entity: Map<String, Value>,
    },
}

pub async fn service_layer(State(state): State<SapSimState>, request: Request) -> Response {
    let roll = request.extensions().get::<FaultRoll>().copied();
    let kill = request
        .extensions()
        .get::<ConnectInfo<ConnectionKill>>()
        .map(|c| c.0.clone());
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return ServiceLayerError::bad_request("The request body is too large or unreadable")
                .into_response()
        }
    };
    // `X-HTTP-Method-Override: PATCH` on a POST is a PATCH (GUIDE p.187).
    let method = match parts
        .headers
        .get("X-HTTP-Method-Override")
        .and_then(|v| v.to_str().ok())
    {
        Some(m) if parts.method == Method::POST && m.eq_ignore_ascii_case("PATCH") => Method::PATCH,
        _ => parts.method.clone(),
    };
    let path = parts
        .uri
        .path()
        .strip_prefix("/b1s/v1/")
        .unwrap_or_default();
    let reply = resource_path::parse(path).and_then(|resource| {
        dispatch(
            &state,
            &method,
            resource,
            parts.uri.query(),
            &parts.headers,
            &body,
            roll,
        )
    });
    match reply {
        Err(e) => e.into_response(),
        Ok(Reply::Done(response)) => response,
        Ok(Reply::Created { location, entity }) => {
            if roll.is_some_and(|r| r.lost_response) {
                bump(&state.traffic().lost_responses);
                return lose_response(kill);
            }
            created(&parts.headers, location, entity)
        }
    }
}

fn dispatch(
    state: &SapSimState,
    method: &Method,
    resource: Resource,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    roll: Option<FaultRoll>,
) -> Result<Reply, ServiceLayerError> {
    let Resource { set, key, tail } = resource;
    let is_write = matches!(
        (method, &tail),
        (&Method::POST, _) | (&Method::PATCH, Tail::None)
    );
    if is_write && roll.is_some_and(|r| r.lock_error) {
        bump(&state.traffic().lock_errors);
        return Err(ServiceLayerError::modified_by_another_user());
    }
    let now = Stamp::now();
    match (method.clone(), key, tail) {
        (Method::GET, None, Tail::None) => {
            read_collection(state, set, query, headers).map(Reply::Done)
        }
        (Method::GET, None, Tail::Count) => count(state, set, query, headers).map(Reply::Done),
        (Method::GET, Some(key), Tail::None) => {
            read_entity(state, set, &key, query, headers).map(Reply::Done)
        }
        (Method::POST, None, Tail::None) => {
            let object = parse_object(body)?;
            let base = "/b1s/v1";
            state.with_company(|c| match set {
                EntitySet::Orders => create_order(c, &object, &now).map(|o| Reply::Created {
                    location: format!("{base}/Orders({})", o.doc_entry),
                    entity: o.to_object(),
                }),
                EntitySet::BusinessPartners => {
                    create_business_partner(c, &object, &now).map(|bp| Reply::Created {
                        location: format!(
                            "{base}/BusinessPartners('{}')",
                            bp.card_code.replace('\'', "''")
                        ),
                        entity: to_object(&bp),
                    })
                }
                other => Err(ServiceLayerError::not_simulated(format!(
                    "creating {}",
                    other.name()
                ))),
            })
        }
        (Method::PATCH, Some(key), Tail::None) => {
            let object = parse_object(body)?;
            state.with_company(|c| match (set, key) {
                (EntitySet::Orders, Key::Number(n)) => patch_order(c, n, &object, &now),
                (EntitySet::BusinessPartners, Key::Text(code)) => {
                    patch_business_partner(c, &code, &object, &now)
                }
                (other, _) => Err(ServiceLayerError::not_simulated(format!(
                    "PATCH on {}",
                    other.name()
                ))),
            })?;
            Ok(Reply::Done(sl_no_content()))
        }
        (Method::POST, Some(Key::Number(n)), Tail::Segment(action)) if set == EntitySet::Orders => {
            state.with_company(|c| match action.as_str() {
                "Cancel" => cancel_order(c, n, &now),
                "Close" => close_order(c, n, &now),
                other => Err(ServiceLayerError::not_simulated(format!(
                    "the action Orders/{other}"
                ))),
            })?;
            Ok(Reply::Done(sl_no_content()))
        }
        (Method::DELETE, Some(_), Tail::None) if set.document_kind().is_some() => {
            Err(ServiceLayerError::action_not_supported())
        }
        (m, _, _) => Err(ServiceLayerError::not_simulated(format!(
            "{m} on this {} resource",
            set.name()
        ))),
    }
}

/// `B1S-CaseInsensitive: true` makes `$filter` string comparisons case-insensitive.
fn case_insensitive(headers: &HeaderMap) -> bool {
    headers
        .get("B1S-CaseInsensitive")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The set's entities as JSON objects, narrowed by an index when the filter allows it.
fn rows(
    company: &Company,
    set: EntitySet,
    query: &QueryOptions,
    case_insensitive: bool,
) -> Vec<Map<String, Value>> {
    if let Some(kind) = set.document_kind() {
        let indexed = query
            .filter
            .as_ref()
            .and_then(|f| f.required_equality("NumAtCard"))
            .filter(|_| set == EntitySet::Orders && !case_insensitive);
        return match indexed {
            Some(n) => company
                .orders_with_num_at_card(n)
                .into_iter()
                .map(|d| d.to_object())
                .collect(),
            None => company
                .documents(kind)
                .values()
                .map(|d| d.to_object())
                .collect(),
        };
    }
    match set {
        EntitySet::Items => company.items.values().map(to_object).collect(),
        EntitySet::BusinessPartners => company.business_partners.values().map(to_object).collect(),
        EntitySet::Warehouses => company.warehouses.values().map(to_object).collect(),
        EntitySet::SalesTaxCodes => company.tax_codes.values().map(to_object).collect(),
        EntitySet::AdditionalExpenses => company.expense_codes.values().map(to_object).collect(),
        EntitySet::Orders | EntitySet::DeliveryNotes | EntitySet::Invoices => {
            unreachable!("handled above")
        }
    }
}

/// Filtered and sorted rows of a collection request.
fn matching_rows(
    state: &SapSimState,
    set: EntitySet,
    query: &QueryOptions,
    headers: &HeaderMap,
) -> Result<Vec<Map<String, Value>>, ServiceLayerError> {
    query.check_properties(&set.property_names())?;
    let ci = case_insensitive(headers);
    // Serialise under the lock, filter and sort outside it.
    let all = state.with_company(|c| rows(c, set, query, ci));
    let mut rows = query.filter_rows(all, ci);
    query.sort_rows(&mut rows);
    Ok(rows)
}

fn read_collection(
    state: &SapSimState,
    set: EntitySet,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ServiceLayerError> {
    let query = QueryOptions::parse(raw_query)?;
    let mut rows = matching_rows(state, set, &query, headers)?;
    let total = rows.len();
    let (page_size, applied) = paging::page_size(headers, state.page_size());
    let page = paging::cut(total, query.skip, query.top, page_size);
    let value: Vec<Value> = rows
        .drain(page.start..page.end)
        .map(|row| Value::Object(query.project(row)))
        .collect();
    let mut body = Map::new();
    body.insert(
        "odata.metadata".into(),
        Value::String(format!("{}/$metadata#{}", base_url(headers), set.name())),
    );
    if query.inline_count {
        body.insert("odata.count".into(), Value::String(total.to_string()));
    }
    body.insert("value".into(), Value::Array(value));
    if let Some((skip, top)) = page.next {
        body.insert(
            "odata.nextLink".into(),
            Value::String(paging::next_link(set.name(), &query.passthrough, skip, top)),
        );
    }
    let mut response = sl_json(StatusCode::OK, &Value::Object(body));
    if let Some(applied) = applied.and_then(|a| HeaderValue::from_str(&a).ok()) {
        response.headers_mut().insert("Preference-Applied", applied);
    }
    Ok(response)
}

fn count(
    state: &SapSimState,
    set: EntitySet,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ServiceLayerError> {
    let query = QueryOptions::parse(raw_query)?;
    let rows = matching_rows(state, set, &query, headers)?;
    Ok(sl_text(rows.len().to_string()))
}

fn read_entity(
    state: &SapSimState,
    set: EntitySet,
    key: &Key,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ServiceLayerError> {
    let query = QueryOptions::parse(raw_query)?;
    query.check_properties(&set.property_names())?;
    let found = state.with_company(|c| match (set, key) {
        (EntitySet::Items, Key::Text(k)) => c.items.get(k).map(to_object),
        (EntitySet::BusinessPartners, Key::Text(k)) => c.business_partners.get(k).map(to_object),
        (EntitySet::Warehouses, Key::Text(k)) => c.warehouses.get(k).map(to_object),
        (EntitySet::SalesTaxCodes, Key::Text(k)) => c.tax_codes.get(k).map(to_object),
        (EntitySet::AdditionalExpenses, Key::Number(n)) => c.expense_codes.get(n).map(to_object),
        (set, Key::Number(n)) => set
            .document_kind()
            .and_then(|kind| c.documents(kind).get(n))
            .map(|d| d.to_object()),
        _ => None,
    });
    let mut entity = query.project(found.ok_or_else(ServiceLayerError::not_found)?);
    entity.insert(
        "odata.metadata".into(),
        Value::String(format!(
            "{}/$metadata#{}/@Element",
            base_url(headers),
            set.name()
        )),
    );
    Ok(sl_json(StatusCode::OK, &Value::Object(entity)))
}

/// 201 with `Location` and the entity, or 204 when the client sent `Prefer:
/// return-no-content` (GUIDE p.26-27).
fn created(headers: &HeaderMap, location: String, mut entity: Map<String, Value>) -> Response {
    let no_content = headers
        .get_all("Prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim() == "return-no-content"));
    let mut response = if no_content {
        let mut r = sl_no_content();
        r.headers_mut().insert(
            "Preference-Applied",
            HeaderValue::from_static("return-no-content"),
        );
        r
    } else {
        let set = location
            .trim_start_matches("/b1s/v1/")
            .split('(')
            .next()
            .unwrap_or_default()
            .to_owned();
        entity.insert(
            "odata.metadata".into(),
            Value::String(format!("{}/$metadata#{set}/@Element", base_url(headers))),
        );
        sl_json(StatusCode::CREATED, &Value::Object(entity))
    };
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The write is committed; now the client must not hear about it. With the simulator's own
/// listener ([`serve`](super::serve)) the connection is killed before a byte of the response
/// is written. Served by plain `axum::serve` (no kill switch), the body fails instead, which
/// aborts the connection after the status line: weaker, but still a transport error.
fn lose_response(kill: Option<ConnectionKill>) -> Response {
    match kill {
        Some(kill) => {
            kill.kill();
            StatusCode::CREATED.into_response()
        }
        None => {
            let failing = futures::stream::once(async {
                Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "simulated lost response",
                ))
            });
            Response::new(Body::from_stream(failing))
        }
    }
}
