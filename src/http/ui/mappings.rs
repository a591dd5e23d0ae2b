//! Mapping tables (`/ui/mappings/{kind}`): every entry, and for admins a form per kind that
//! writes through `PUT /api/v1/mappings/{kind}/{key}` (so SAP's master data is checked the
//! same way) and a delete button per entry.
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::UiError;
use super::flash::{self, Flash, Tone};
use super::format;
use super::layout::{self, csrf_field, query_escape, words, Page};
use super::session::Session;
use crate::domain::access::Role;
use crate::domain::mappings::MappingKind;
use crate::http::api::auth::{Admin, Authorized, Viewer};
use crate::http::api::mappings::{self as api, MappingQuery, MappingValueJson};
use crate::http::api::{ApiJson, ApiQuery};
use crate::http::{ApiContext, ApiError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Text,
    OptionalText,
    Integer,
    OptionalNumber,
    Checkbox,
}

/// One field of a mapping value, as the form shows it.
struct Field {
    name: &'static str,
    label: &'static str,
    input: Input,
    hint: &'static str,
}

const fn f(name: &'static str, label: &'static str, input: Input, hint: &'static str) -> Field {
    Field {
        name,
        label,
        input,
        hint,
    }
}

fn key_label(kind: MappingKind) -> &'static str {
    match kind {
        MappingKind::Skus => "Magento SKU",
        MappingKind::Customers => "Magento customer id or e-mail",
        MappingKind::Warehouses => "SAP WarehouseCode",
        MappingKind::TaxCodes => "Magento tax rate code",
        MappingKind::ShippingMethods => "Magento carrier_method",
        MappingKind::PaymentMethods => "Magento payment method code",
    }
}

const SKU: &[Field] = &[f(
    "item_code",
    "SAP ItemCode",
    Input::Text,
    "The SAP item this SKU is sold as.",
)];
const CUSTOMER: &[Field] = &[f(
    "card_code",
    "SAP CardCode",
    Input::Text,
    "The Business Partner for this customer.",
)];
const WAREHOUSE: &[Field] = &[
    f(
        "magento_source_code",
        "Magento source code",
        Input::OptionalText,
        "The MSI source its stock is published to; empty for none.",
    ),
    f(
        "include_in_stock",
        "Counts in sellable stock",
        Input::Checkbox,
        "",
    ),
    f(
        "order_default",
        "Order lines are posted to this warehouse",
        Input::Checkbox,
        "",
    ),
];
const TAX_CODE: &[Field] = &[
    f("sap_tax_code", "SAP tax code", Input::Text, ""),
    f(
        "rate_percent",
        "Rate (%)",
        Input::OptionalNumber,
        "Optional; finds the code by percentage when Magento omits the rate's name.",
    ),
];
const SHIPPING_METHOD: &[Field] = &[
    f(
        "expense_code",
        "SAP freight ExpenseCode",
        Input::Integer,
        "",
    ),
    f(
        "tax_code",
        "SAP tax code for taxed shipping",
        Input::OptionalText,
        "Optional.",
    ),
];
const PAYMENT_METHOD: &[Field] = &[
    f(
        "sap_payment_method",
        "SAP PaymentMethod",
        Input::OptionalText,
        "Optional (15 characters).",
    ),
    f(
        "comment",
        "Comment on the SAP document",
        Input::OptionalText,
        "Optional.",
    ),
    f(
        "refund_account",
        "SAP G/L account refunds are paid from",
        Input::OptionalText,
        "Optional (15 characters); used when refunds.outgoing_payment is on.",
    ),
];

fn fields(kind: MappingKind) -> &'static [Field] {
    match kind {
        MappingKind::Skus => SKU,
        MappingKind::Customers => CUSTOMER,
        MappingKind::Warehouses => WAREHOUSE,
        MappingKind::TaxCodes => TAX_CODE,
        MappingKind::ShippingMethods => SHIPPING_METHOD,
        MappingKind::PaymentMethods => PAYMENT_METHOD,
    }
}

fn parse_kind(raw: &str) -> Result<MappingKind, UiError> {
    MappingKind::parse(raw)
        .ok_or_else(|| UiError::Api(ApiError::NotFound(format!("no mapping table '{raw}'"))))
}

/// `GET /ui/mappings`: the first table.
pub async fn index() -> Redirect {
    Redirect::to("/ui/mappings/skus")
}

#[derive(Debug, Default, Deserialize)]
pub struct TableQuery {
    /// Pre-fills the form (e.g. from an `unknown_sku` exception).
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /ui/mappings/{kind}`.
pub async fn table_page(
    session: Session,
    flash: Flash,
    State(ctx): State<ApiContext>,
    Path(kind): Path<String>,
    Query(q): Query<TableQuery>,
) -> Result<Page, UiError> {
    let kind = parse_kind(&kind)?;
    let auth = Authorized::<Viewer>::check(session.caller.clone())?;
    let query = MappingQuery {
        limit: Some(200),
        cursor: q.cursor.clone().filter(|c| !c.is_empty()),
    };
    let Json(page) = api::list_mappings(
        auth,
        State(ctx),
        Path(kind.as_str().to_owned()),
        ApiQuery(query),
    )
    .await?;
    let prefill_key = q.key.clone().unwrap_or_default();
    let existing = page
        .items
        .iter()
        .find(|m| m.key == prefill_key)
        .map(|m| &m.value.0);
    let admin = session.caller.role.allows(Role::Admin);
    let body = html! {
        nav.tabs aria-label="Mapping tables" {
            ul {
                @for k in MappingKind::ALL {
                    li { a href={ "/ui/mappings/" (k.as_str()) } aria-current=[(k == kind).then_some("page")] { (words(k.as_str())) } }
                }
            }
        }
        @if admin {
            (edit_form(&session, kind, &prefill_key, existing))
        } @else {
            p.hint { "Admins can add and change entries here." }
        }
        h2 {
            (page.items.len()) @if page.items.len() == 1 { " entry" } @else { " entries" }
            @if page.next_cursor.is_some() { " (this page)" }
        }
        @if page.items.is_empty() { p.empty { "This table is empty." } }
        @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { (key_label(kind)) }
                        @for fd in fields(kind) { th scope="col" { (fd.label) } }
                        th scope="col" { "Changed" }
                        @if admin { th scope="col" { "Action" } }
                    } }
                    tbody {
                        @for m in &page.items {
                            tr {
                                th scope="row" { code { (m.key) } }
                                @for fd in fields(kind) { td { (show_value(m.value.0.get(fd.name))) } }
                                td { (format::at(m.updated_at)) br; small { "by " (m.updated_by) } }
                                @if admin {
                                    td {
                                        a href={ "/ui/mappings/" (kind.as_str()) "?key=" (query_escape(&m.key)) "#edit" } { "Edit" }
                                        form.inline method="post" action={ "/ui/mappings/" (kind.as_str()) "/delete" } {
                                            (csrf_field(&session))
                                            input type="hidden" name="key" value=(m.key);
                                            button.danger type="submit" aria-label={ "Delete " (m.key) } { "Delete" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &page.next_cursor {
            p { a href={ "/ui/mappings/" (kind.as_str()) "?cursor=" (query_escape(next)) } { "Next entries →" } }
        }
    };
    Ok(Page::new(
        &session,
        flash,
        "mappings",
        format!("Mappings: {}", words(kind.as_str())),
        body,
    ))
}

fn show_value(v: Option<&Value>) -> Markup {
    html! {
        @match v {
            None | Some(Value::Null) => span.muted { "—" },
            Some(Value::Bool(b)) => (if *b { "yes" } else { "no" }),
            Some(Value::String(s)) => code { (s) },
            Some(other) => (other.to_string()),
        }
    }
}

fn edit_form(session: &Session, kind: MappingKind, key: &str, existing: Option<&Value>) -> Markup {
    let value_of = |name: &str| existing.and_then(|v| v.get(name));
    html! {
        form.edit #edit method="post" action={ "/ui/mappings/" (kind.as_str()) } aria-labelledby="edit-title" {
            h2 #edit-title { @if existing.is_some() { "Change an entry" } @else { "Add or change an entry" } }
            (csrf_field(session))
            div.field {
                label for="m-key" { (key_label(kind)) }
                input #m-key type="text" name="key" value=(key) required maxlength="255";
            }
            @for fd in fields(kind) {
                @let id = format!("m-{}", fd.name);
                @let hint_id = format!("{id}-hint");
                div.field {
                    @match fd.input {
                        Input::Checkbox => {
                            label.check {
                                input id=(id) type="checkbox" name=(fd.name) value="true"
                                    checked[value_of(fd.name).and_then(Value::as_bool).unwrap_or(false)];
                                " " (fd.label)
                            }
                        }
                        input => {
                            label for=(id) { (fd.label) }
                            input id=(id) name=(fd.name)
                                type=(if matches!(input, Input::Integer | Input::OptionalNumber) { "number" } else { "text" })
                                step=[(input == Input::OptionalNumber).then_some("any")]
                                required[matches!(input, Input::Text | Input::Integer)]
                                value=(value_of(fd.name).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| if v.is_null() { String::new() } else { v.to_string() })).unwrap_or_default())
                                aria-describedby=[(!fd.hint.is_empty()).then_some(hint_id.as_str())];
                        }
                    }
                    @if !fd.hint.is_empty() { small id=(hint_id) { (fd.hint) } }
                }
            }
            div.field.buttons { button.primary type="submit" { "Save" } }
            p.hint { "Codes are checked against SAP B1 before they are stored. The next job uses the entry; retry parked orders afterwards." }
        }
    }
}

/// The form, as pairs: checkboxes that are off are simply absent.
fn value_from_form(kind: MappingKind, pairs: &[(String, String)]) -> Value {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    let mut value = Map::new();
    for fd in fields(kind) {
        let raw = get(fd.name).unwrap_or_default();
        let v = match fd.input {
            Input::Checkbox => Value::Bool(!raw.is_empty()),
            Input::OptionalText | Input::OptionalNumber if raw.is_empty() => Value::Null,
            Input::Text | Input::OptionalText => Value::String(raw),
            // Not a number: left as text, so the API's validation names the field.
            Input::Integer | Input::OptionalNumber => {
                serde_json::from_str::<serde_json::Number>(&raw)
                    .map_or(Value::String(raw), Value::Number)
            }
        };
        value.insert(fd.name.to_owned(), v);
    }
    Value::Object(value)
}

/// `item_code WP13-28-Blue, …` for the flash message.
fn describe(value: &Value) -> String {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{} {s}", words(k)),
                    other => format!("{} {other}", words(k)),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn form_field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// `POST /ui/mappings/{kind}`: upsert through the API.
pub async fn save(
    session: Session,
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, UiError> {
    let kind = parse_kind(&kind)?;
    let Form(pairs) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    session.check_form(&headers, &form_field(&pairs, "csrf"))?;
    let key = form_field(&pairs, "key");
    let value = value_from_form(kind, &pairs);
    let back = format!("/ui/mappings/{}", kind.as_str());
    let result = async {
        let auth = Authorized::<Admin>::check(session.caller.clone())?;
        api::put_mapping(
            auth,
            State(ctx),
            Path((kind.as_str().to_owned(), key.clone())),
            ApiJson(MappingValueJson(value)),
        )
        .await
    }
    .await;
    Ok(match result {
        Ok(Json(m)) => flash::redirect_with(
            &back,
            Tone::Success,
            &format!(
                "Saved {}: {}. Retry the orders it held back (exception queue).",
                m.key,
                describe(&m.value.0)
            ),
        ),
        Err(ApiError::Unauthorized(_)) => return Err(UiError::SignIn { next: back }),
        Err(e) => {
            let (tone, text) = layout::refusal(&e);
            flash::redirect_with(
                &format!("{back}?key={}#edit", query_escape(&key)),
                tone,
                &text,
            )
        }
    })
}

/// `POST /ui/mappings/{kind}/delete`.
pub async fn delete(
    session: Session,
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, UiError> {
    let kind = parse_kind(&kind)?;
    let Form(pairs) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    session.check_form(&headers, &form_field(&pairs, "csrf"))?;
    let key = form_field(&pairs, "key");
    let back = format!("/ui/mappings/{}", kind.as_str());
    let result = async {
        let auth = Authorized::<Admin>::check(session.caller.clone())?;
        api::delete_mapping(
            auth,
            State(ctx),
            Path((kind.as_str().to_owned(), key.clone())),
        )
        .await
    }
    .await;
    Ok(match result {
        Ok(_) => flash::redirect_with(&back, Tone::Success, &format!("Deleted {key}.")),
        Err(ApiError::Unauthorized(_)) => return Err(UiError::SignIn { next: back }),
        Err(e) => {
            let (tone, text) = layout::refusal(&e);
            flash::redirect_with(&back, tone, &text)
        }
    }
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_form_becomes_the_kinds_value_object() {
        assert_eq!(
            value_from_form(
                MappingKind::Skus,
                &pairs(&[("key", "X"), ("item_code", " MH01 ")])
            ),
            serde_json::json!({"item_code": "MH01"})
        );
        assert_eq!(
            value_from_form(
                MappingKind::Warehouses,
                &pairs(&[("order_default", "true")])
            ),
            serde_json::json!({"magento_source_code": null, "include_in_stock": false, "order_default": true})
        );
        assert_eq!(
            value_from_form(
                MappingKind::ShippingMethods,
                &pairs(&[("expense_code", "abc")])
            ),
            serde_json::json!({"expense_code": "abc", "tax_code": null}),
            "a non-number is left for the API to name"
        );
    }
}
