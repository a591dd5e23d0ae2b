//! Service functions (`…Service_…`, `SBOBobService_…`): POST calls that are not entity sets.
//! Each reads; none stores anything (`OrdersService_Preview` computes an order without adding
//! it). What each answers is written down in docs/go-live-audit.md and
//! docs/sap-document-calculation.md; where the reference gives the request but not the answer,
//! the simulator's choice is said here.
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use super::company::{Company, Stamp};
use super::errors::ServiceLayerError;
use super::json_input::parse_object;
use super::orders::preview_order;
use super::responses::sl_json;
use super::seed::Series;
use super::state::SapSimState;

/// The answer of a service function, or `None` when `path` names none of them.
pub fn call(state: &SapSimState, path: &str, method: &Method, body: &[u8]) -> Option<Response> {
    let known = matches!(
        path,
        "CompanyService_GetAdminInfo"
            | "OrdersService_Preview"
            | "SBOBobService_GetCurrencyRate"
            | "SeriesService_GetDocumentSeries"
    );
    if !known {
        return None;
    }
    if method != Method::POST {
        return Some(
            ServiceLayerError::bad_request(format!("{path} is invoked with POST")).into_response(),
        );
    }
    let answer = state.with_company(|c| match path {
        "CompanyService_GetAdminInfo" => Ok(admin_info(c)),
        "OrdersService_Preview" => {
            let body = parse_object(body)?;
            preview_order(c, &body, &Stamp::now()).map(Value::Object)
        }
        "SBOBobService_GetCurrencyRate" => currency_rate(c, &parse_object(body)?),
        _ => document_series(c, &parse_object(body)?),
    });
    Some(match answer {
        Ok(value) => sl_json(StatusCode::OK, &value),
        Err(e) => e.into_response(),
    })
}

/// `AdminInfo`: the local currency (docs/sap-document-calculation.md) and whether approval
/// procedures apply to documents added through the DI API and the Service Layer
/// (`EnableApprovalProcedureInDI`): on when the seed has any procedure, since the seed's
/// procedures are the ones that turn API orders into drafts.
fn admin_info(c: &Company) -> Value {
    json!({
        "LocalCurrency": c.local_currency,
        "SystemCurrency": c.local_currency,
        "DefaultWarehouse": c.default_warehouse,
        "EnableApprovalProcedureInDI": if c.approval_procedures.is_empty() { "tNO" } else { "tYES" },
    })
}

/// `{"Currency": "EUR", "Date": "20261203"}` → the rate on that day. The reference gives the
/// request, not the answer; the simulator answers the rate as a bare OData value
/// (`{"value": 0.8612}`) and, stricter than answering 0, refuses a day without a rate with
/// the text its documents use.
fn currency_rate(c: &Company, body: &Map<String, Value>) -> Result<Value, ServiceLayerError> {
    let currency = text(body, "Currency")?;
    let day = date(&text(body, "Date")?)?;
    // B1 currency codes are compared as entered; the APIREF example sends "eur".
    let currency = if currency.eq_ignore_ascii_case(&c.local_currency) {
        c.local_currency.clone()
    } else {
        currency.to_uppercase()
    };
    let rate = c.document_rate(&currency, day)?;
    Ok(json!({ "value": rate }))
}

/// `{"DocumentTypeParams": {"Document": "17"}}` → the series of that object type with the
/// fields the reference lists (`Series`, `Name`, `NextNumber`, `LastNumber`, `Locked`,
/// `IsManual`, `PeriodIndicator`). One primary series per type; an object type the simulator
/// does not number is refused rather than answered empty.
fn document_series(c: &Company, body: &Map<String, Value>) -> Result<Value, ServiceLayerError> {
    let params = match body.get("DocumentTypeParams") {
        Some(Value::Object(p)) => p,
        _ => return Err(ServiceLayerError::bad_request(
            "SeriesService_GetDocumentSeries expects {\"DocumentTypeParams\": {\"Document\": …}}",
        )),
    };
    let document = text(params, "Document")?;
    let numbering = c.numbering();
    let series: &Series = match document.as_str() {
        "17" => &numbering.orders,
        "15" => &numbering.delivery_notes,
        "13" => &numbering.invoices,
        "14" => &numbering.credit_notes,
        "112" => &numbering.drafts,
        other => {
            return Err(ServiceLayerError::not_simulated(format!(
                "document series of object type {other}"
            )))
        }
    };
    Ok(json!({ "value": [{
        "Series": 1,
        "Name": "Primary",
        "Document": document,
        "NextNumber": series.next_doc_num,
        "LastNumber": series.last_number,
        "Locked": if series.locked { "tYES" } else { "tNO" },
        "IsManual": "tNO",
        "PeriodIndicator": "Default",
    }]}))
}

/// A string (or number) property, required.
fn text(body: &Map<String, Value>, field: &str) -> Result<String, ServiceLayerError> {
    match body.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(ServiceLayerError::bad_request(format!(
            "The property '{field}' is missing or empty"
        ))),
    }
}

/// `20261203` (APIREF's form) or `2026-12-03`.
fn date(raw: &str) -> Result<NaiveDate, ServiceLayerError> {
    NaiveDate::parse_from_str(raw, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%Y-%m-%d"))
        .map_err(|_| ServiceLayerError::bad_request(format!("'{raw}' is not a valid date")))
}
