//! Reads under `/b1s/v1`: collections (filtered, sorted, paged, projected), `/$count`, one
//! entity by key, and one property of an entity.
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::company::Company;
use super::entities::to_object;
use super::errors::ServiceLayerError;
use super::login::base_url;
use super::paged_results::QueryIdentity;
use super::paging;
use super::query::QueryOptions;
use super::resource_path::{EntitySet, Key};
use super::responses::{sl_json, sl_text};
use super::state::SapSimState;

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
            .and_then(|f| f.required_values("NumAtCard"))
            .filter(|_| set == EntitySet::Orders && !case_insensitive);
        return match indexed {
            Some(mut values) => {
                values.sort_unstable();
                values.dedup();
                values
                    .into_iter()
                    .flat_map(|n| company.orders_with_num_at_card(n))
                    .map(|d| d.to_object())
                    .collect()
            }
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
        EntitySet::VatGroups => company.vat_groups.values().map(to_object).collect(),
        EntitySet::AdditionalExpenses => company.expense_codes.values().map(to_object).collect(),
        EntitySet::PriceLists => company.price_lists.values().map(to_object).collect(),
        EntitySet::SpecialPrices => company.special_prices.iter().map(to_object).collect(),
        EntitySet::VendorPayments => company.vendor_payments.values().map(to_object).collect(),
        EntitySet::Orders
        | EntitySet::DeliveryNotes
        | EntitySet::Invoices
        | EntitySet::Drafts
        | EntitySet::CreditNotes => {
            unreachable!("handled above")
        }
    }
}

/// Filtered and sorted rows of a collection request, with the data's generation they were
/// read at.
fn matching_rows(
    state: &SapSimState,
    set: EntitySet,
    query: &QueryOptions,
    ci: bool,
) -> (u64, Vec<Map<String, Value>>) {
    // Serialise under the lock, filter and sort outside it.
    let (generation, all) = state.read_company(|c| (c.generation(), rows(c, set, query, ci)));
    let mut rows = query.filter_rows(all, ci);
    query.sort_rows(&mut rows);
    (generation, rows)
}

/// The key of a row of `set`, as its key property holds it.
fn key_of(set: EntitySet, row: &Map<String, Value>) -> Option<Key> {
    let (property, numeric) = set.key();
    let value = row.get(property)?;
    if numeric {
        value.as_i64().map(Key::Number)
    } else {
        value.as_str().map(|s| Key::Text(s.to_owned()))
    }
}

/// One page of a collection: the total number of matching rows, the page cut from them and
/// the page's rows (not yet projected).
fn page_rows(
    state: &SapSimState,
    set: EntitySet,
    query: &QueryOptions,
    ci: bool,
    page_size: usize,
) -> (usize, paging::Page, Vec<Map<String, Value>>) {
    let identity = QueryIdentity {
        set,
        options: query.passthrough.clone(),
        case_insensitive: ci,
    };
    // A later page of a query read at this generation: only its own rows are built.
    let remembered = state.read_company(|c| {
        let keys = state.paged_results().get(&identity, c.generation())?;
        let page = paging::cut(keys.len(), query.skip, query.top, page_size);
        let rows: Option<Vec<_>> = keys[page.start..page.end]
            .iter()
            .map(|k| entity_of(c, set, k))
            .collect();
        // A key without its entity cannot happen within one generation; recompute if it did.
        rows.map(|rows| (keys.len(), page, rows))
    });
    if let Some(found) = remembered {
        return found;
    }
    let (generation, mut rows) = matching_rows(state, set, query, ci);
    let total = rows.len();
    let page = paging::cut(total, query.skip, query.top, page_size);
    if page.next.is_some() {
        let keys: Option<Vec<Key>> = rows.iter().map(|r| key_of(set, r)).collect();
        if let Some(keys) = keys {
            state.paged_results().put(identity, generation, keys);
        }
    }
    let rows = rows.drain(page.start..page.end).collect();
    (total, page, rows)
}

pub fn read_collection(
    state: &SapSimState,
    set: EntitySet,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ServiceLayerError> {
    let query = QueryOptions::parse(raw_query)?;
    query.check_properties(&set.property_names())?;
    let (page_size, applied) = paging::page_size(headers, state.page_size());
    let (total, page, rows) = page_rows(state, set, &query, case_insensitive(headers), page_size);
    let value: Vec<Value> = rows
        .into_iter()
        .map(|row| Value::Object(query.project(row)))
        .collect();
    let mut body = Map::new();
    body.insert(
        "odata.metadata".into(),
        Value::String(format!(
            "{}/$metadata#{}",
            base_url(state, headers),
            set.name()
        )),
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

pub fn count(
    state: &SapSimState,
    set: EntitySet,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ServiceLayerError> {
    let query = QueryOptions::parse(raw_query)?;
    query.check_properties(&set.property_names())?;
    let (_, rows) = matching_rows(state, set, &query, case_insensitive(headers));
    Ok(sl_text(rows.len().to_string()))
}

/// One entity as its JSON object, if it exists.
fn find_entity(state: &SapSimState, set: EntitySet, key: &Key) -> Option<Map<String, Value>> {
    state.read_company(|c| entity_of(c, set, key))
}

fn entity_of(c: &Company, set: EntitySet, key: &Key) -> Option<Map<String, Value>> {
    match (set, key) {
        (EntitySet::Items, Key::Text(k)) => c.items.get(k).map(to_object),
        (EntitySet::BusinessPartners, Key::Text(k)) => c.business_partners.get(k).map(to_object),
        (EntitySet::Warehouses, Key::Text(k)) => c.warehouses.get(k).map(to_object),
        (EntitySet::SalesTaxCodes, Key::Text(k)) => c.tax_codes.get(k).map(to_object),
        (EntitySet::VatGroups, Key::Text(k)) => c.vat_groups.get(k).map(to_object),
        (EntitySet::AdditionalExpenses, Key::Number(n)) => c.expense_codes.get(n).map(to_object),
        (EntitySet::PriceLists, Key::Number(n)) => c.price_lists.get(n).map(to_object),
        (EntitySet::VendorPayments, Key::Number(n)) => c.vendor_payments.get(n).map(to_object),
        (set, Key::Number(n)) => set
            .document_kind()
            .and_then(|kind| c.documents(kind).get(n))
            .map(|d| d.to_object()),
        _ => None,
    }
}

pub fn read_entity(
    state: &SapSimState,
    set: EntitySet,
    key: &Key,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ServiceLayerError> {
    let query = QueryOptions::parse(raw_query)?;
    query.check_properties(&set.property_names())?;
    let found = find_entity(state, set, key).ok_or_else(ServiceLayerError::not_found)?;
    let mut entity = query.project(found);
    entity.insert(
        "odata.metadata".into(),
        Value::String(format!(
            "{}/$metadata#{}/@Element",
            base_url(state, headers),
            set.name()
        )),
    );
    Ok(sl_json(StatusCode::OK, &Value::Object(entity)))
}

/// `GET /Orders(1)/DocEntry` → `{"value":1}`; a null value is 404 -2028 (GUIDE p.88-89).
pub fn read_property(
    state: &SapSimState,
    set: EntitySet,
    key: &Key,
    property: &str,
    headers: &HeaderMap,
) -> Result<Response, ServiceLayerError> {
    if !property.starts_with("U_") && !set.property_names().contains(property) {
        return Err(ServiceLayerError::unknown_segment(property));
    }
    let entity = find_entity(state, set, key).ok_or_else(ServiceLayerError::not_found)?;
    let value = match entity.get(property) {
        Some(v) if !v.is_null() => v.clone(),
        _ => {
            return Err(ServiceLayerError::new(
                StatusCode::NOT_FOUND,
                -2028,
                format!("Resource not found for the property: {property}"),
            ))
        }
    };
    let body = serde_json::json!({
        "odata.metadata": format!("{}/$metadata#{}/{property}", base_url(state, headers), set.name()),
        "value": value,
    });
    Ok(sl_json(StatusCode::OK, &body))
}
