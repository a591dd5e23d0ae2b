//! The entity routes of `/b1s/v1`: dispatch of reads (see [`reads`](super::reads)), creates,
//! PATCH, bound actions and DELETE, each answering as the Service Layer does (201 with
//! `Location` and the entity, 204, 404 -2028, 400 -5006). Injected lock errors and lost
//! responses are applied here.
use axum::body::{to_bytes, Body};
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::business_partners::{create_business_partner, patch_business_partner};
use super::company::Stamp;
use super::credit_notes::create_credit_note;
use super::entities::to_object;
use super::errors::ServiceLayerError;
use super::faults::FaultRoll;
use super::json_input::parse_object;
use super::login::base_url;
use super::order_actions::{cancel_order, close_order, patch_order};
use super::orders::{create_order, Added};
use super::reads::{count, read_collection, read_entity, read_property};
use super::resource_path::{self, EntitySet, Key, Resource, Tail};
use super::responses::{sl_json, sl_no_content};
use super::server::ConnectionKill;
use super::state::SapSimState;
use super::stats::{bump, InFlightSlot};

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
    let in_flight = request.extensions().get::<InFlightSlot>().cloned();
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
    // Service functions are not entity sets.
    if let Some(response) = super::services::call(&state, path, &method, &body) {
        return response;
    }
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
                // The order is committed: SAP's work on this request is over.
                if let Some(in_flight) = &in_flight {
                    in_flight.end();
                }
                return lose_response(kill);
            }
            created(&state, &parts.headers, location, entity)
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
        (Method::GET, Some(key), Tail::Segment(property)) => {
            read_property(state, set, &key, &property, headers).map(Reply::Done)
        }
        (Method::POST, None, Tail::None) => {
            let object = parse_object(body)?;
            let base = "/b1s/v1";
            state.with_company(|c| match set {
                EntitySet::Orders => match create_order(c, &object, &now)? {
                    Added::Order(o) => Ok(Reply::Created {
                        location: format!("{base}/Orders({})", o.doc_entry),
                        entity: o.to_object(),
                    }),
                    Added::Draft => Ok(Reply::Done(draft_added(headers)?)),
                },
                EntitySet::BusinessPartners => {
                    create_business_partner(c, &object, &now).map(|bp| Reply::Created {
                        location: format!(
                            "{base}/BusinessPartners('{}')",
                            bp.card_code.replace('\'', "''")
                        ),
                        entity: to_object(&bp),
                    })
                }
                EntitySet::CreditNotes => {
                    create_credit_note(c, &object, &now).map(|n| Reply::Created {
                        location: format!("{base}/CreditNotes({})", n.doc_entry),
                        entity: n.to_object(),
                    })
                }
                EntitySet::VendorPayments => {
                    super::vendor_payments::create_vendor_payment(c, &object, &now).map(|p| {
                        Reply::Created {
                            location: format!("{base}/VendorPayments({})", p.doc_entry),
                            entity: super::entities::to_object(&p),
                        }
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
                (EntitySet::Orders, Key::Number(n)) => {
                    let replace = super::order_lines::replaces_collections(headers);
                    patch_order(c, n, &object, replace, &now)
                }
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

/// The answer to an order that an approval procedure turned into a draft (see
/// [`approvals`](super::approvals)): 204 without a body or `Location` under `Prefer:
/// return-no-content`, else -2028 — although the draft is stored either way.
fn draft_added(headers: &HeaderMap) -> Result<Response, ServiceLayerError> {
    if prefers_no_content(headers) {
        let mut r = sl_no_content();
        r.headers_mut().insert(
            "Preference-Applied",
            HeaderValue::from_static("return-no-content"),
        );
        Ok(r)
    } else {
        Err(ServiceLayerError::not_found())
    }
}

fn prefers_no_content(headers: &HeaderMap) -> bool {
    headers
        .get_all("Prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim() == "return-no-content"))
}

/// 201 with `Location` and the entity, or 204 when the client sent `Prefer:
/// return-no-content` (GUIDE p.26-27).
fn created(
    state: &SapSimState,
    headers: &HeaderMap,
    location: String,
    mut entity: Map<String, Value>,
) -> Response {
    let mut response = if prefers_no_content(headers) {
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
            Value::String(format!(
                "{}/$metadata#{set}/@Element",
                base_url(state, headers)
            )),
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
/// is written. Served by plain `axum::serve` (no kill switch), the body fails instead and hyper
/// drops the connection; in practice before the head is flushed, though hyper does not
/// promise that, so prefer [`serve`](super::serve).
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
