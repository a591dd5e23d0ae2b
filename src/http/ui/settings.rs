//! The settings in force (`/ui/settings`), read through `GET /api/v1/settings`; admins change
//! them here through `PUT /api/v1/settings` (the whole document, checked against SAP's master
//! data like the API does).
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Form, Json};
use maud::{html, Markup};
use serde_json::{Map, Value};

use super::error::UiError;
use super::flash::{self, Flash, Tone};
use super::layout::{self, csrf_field, words, Page};
use super::session::Session;
use crate::domain::access::Role;
use crate::domain::settings::Settings;
use crate::domain::validation::FieldError;
use crate::http::api::auth::{Admin, Authorized, Viewer};
use crate::http::api::settings as api;
use crate::http::api::ApiJson;
use crate::http::{ApiContext, ApiError};

/// What each setting decides, in the words of the people who set it.
fn meaning(name: &str) -> &'static str {
    match name {
        "guest_policy" => "Orders without a customer account: one shared guest partner, one partner per e-mail, or hold for customer service.",
        "guest_card_code" => "The shared Business Partner of guest orders (shared_guest).",
        "card_code_prefix" => "Prefix of the CardCodes b1bridge creates for customers.",
        "default_warehouse" => "Warehouse of every order line when no warehouse mapping is marked as the order default.",
        "serial_batch_policy" => "Lines of serial- or batch-managed items: hold for operations, or post (numbers are picked at delivery).",
        "default_freight_expense_code" => "SAP freight code for shipping methods without a mapping.",
        "tax_exempt_code" => "SAP tax code for untaxed lines and shipping.",
        "safety_stock" => "Held back from every stock figure sent to Magento (read by the stock sync, still to come).",
        "item_cache_ttl_secs" => "How long SAP item facts (active, sellable, serial/batch) are trusted before being read again (10 to 86400 seconds).",
        "tax_localization" => "Which line field carries the tax code: VAT groups (UK, EU) or sales tax codes (US, Canada); automatic takes what the company has.",
        "tax_strategy" => "How SAP's tax is made to equal Magento's: SAP computes from the tax codes (orders it would book differently are held), or Magento's line tax is sent and kept.",
        "total_tolerance" => "Largest difference in total or tax, between what SAP will book and what Magento charged, that still posts (0 to 1).",
        "notify_customer_on_shipment" => "Whether Magento e-mails the customer when b1bridge creates a shipment from an SAP delivery (off: the shop's own shipping e-mails, if any, are the only ones).",
        "store_timezone" => "The store's time zone (IANA name, e.g. Europe/London): an order is dated with its day there.",
        _ => "",
    }
}

/// The settings that are a choice among fixed values.
fn choices(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "guest_policy" => Some(&["shared_guest", "per_email", "hold"]),
        "serial_batch_policy" => Some(&["hold", "post"]),
        // "" is `null`: taken from the company.
        "tax_localization" => Some(&["", "vat", "sales_tax"]),
        "tax_strategy" => Some(&["sap_computes", "magento_line_tax"]),
        _ => None,
    }
}

fn entries(settings: &Settings) -> Result<Vec<(String, Value)>, ApiError> {
    let value = serde_json::to_value(settings).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(value
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// `GET /ui/settings`.
pub async fn page(
    session: Session,
    flash: Flash,
    State(ctx): State<ApiContext>,
) -> Result<Page, UiError> {
    let auth = Authorized::<Viewer>::check(session.caller.clone())?;
    let Json(settings) = api::get_settings(auth, State(ctx)).await?;
    let admin = session.caller.role.allows(Role::Admin);
    let rows = entries(&settings)?;
    let table = html! {
        div.table-wrap {
            table {
                thead { tr { th scope="col" { "Setting" } th scope="col" { "Value" } th scope="col" { "What it decides" } } }
                tbody {
                    @for (name, v) in &rows {
                        tr {
                            th scope="row" { label for={ "s-" (name) } { (words(name)) } br; small { code { (name) } } }
                            td { @if admin { (input(name, v)) } @else { code { (text_of(v)) } } }
                            td { (meaning(name)) }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        p.hint {
            "These steer how orders become SAP documents; each job reads them fresh, so a change applies to the next job. "
            @if admin { "Codes are checked against SAP B1 before they are stored." }
            @else { "Admins change them here or with " code { "PUT /api/v1/settings" } "." }
        }
        @if admin {
            form method="post" action="/ui/settings" aria-label="Settings" {
                (csrf_field(&session))
                (table)
                div.field.buttons.save { button.primary type="submit" { "Save settings" } }
            }
        } @else {
            (table)
        }
    };
    Ok(Page::new(&session, flash, "settings", "Settings", body))
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "automatic".to_owned(),
        other => other.to_string(),
    }
}

fn input(name: &str, v: &Value) -> Markup {
    let id = format!("s-{name}");
    html! {
        @if let Some(options) = choices(name) {
            select id=(id) name=(name) {
                @for o in options {
                    option value=(o) selected[v.as_str().unwrap_or_default() == *o] {
                        @if o.is_empty() { "automatic" } @else { (words(o)) }
                    }
                }
            }
        } @else if let Some(on) = v.as_bool() {
            select id=(id) name=(name) {
                option value="true" selected[on] { "yes" }
                option value="false" selected[!on] { "no" }
            }
        } @else if v.is_number() {
            input id=(id) type="number" name=(name) value=(text_of(v)) step="any" required;
        } @else if v.is_object() || v.is_array() {
            // A group of settings (refunds, price routes) as its JSON, edited as such.
            textarea id=(id) name=(name) rows="4" cols="60" spellcheck="false" {
                (serde_json::to_string_pretty(v).unwrap_or_default())
            }
        } @else if v.is_null() {
            input id=(id) type="text" name=(name) value="" placeholder="automatic" maxlength="100";
        } @else {
            input id=(id) type="text" name=(name) value=(text_of(v)) required maxlength="100";
        }
    }
}

/// The form as the settings document, starting from the settings in force (a setting the
/// form does not send keeps its value rather than falling back to its default): numbers,
/// yes/no and groups (JSON) where the current settings have them (text that does not parse
/// is passed on as text, so the error names the field), the rest as text.
fn settings_from_form(current: &[(String, Value)], pairs: &[(String, String)]) -> Value {
    let mut doc = Map::new();
    for (name, was) in current {
        let Some(raw) = pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()) else {
            doc.insert(name.clone(), was.clone());
            continue;
        };
        let nullable = was.is_null() || choices(name).is_some_and(|c| c.contains(&""));
        let text = || Value::String(raw.to_owned());
        let value = if raw.is_empty() && nullable {
            Value::Null
        } else if was.is_number() {
            serde_json::from_str::<serde_json::Number>(raw).map_or_else(|_| text(), Value::Number)
        } else if was.is_boolean() {
            raw.parse::<bool>().map_or_else(|_| text(), Value::Bool)
        } else if was.is_object() || was.is_array() {
            serde_json::from_str::<Value>(raw)
                .ok()
                .filter(|v| v.is_object() == was.is_object() && v.is_array() == was.is_array())
                .unwrap_or_else(text)
        } else {
            text()
        };
        doc.insert(name.clone(), value);
    }
    Value::Object(doc)
}

/// `POST /ui/settings`: replace the settings through the API.
pub async fn save(
    session: Session,
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(pairs) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    session.check_form(&headers, csrf)?;
    let back = "/ui/settings";
    let result = async {
        let auth = Authorized::<Admin>::check(session.caller.clone())?;
        let Json(current) = api::get_settings(
            Authorized::check(session.caller.clone())?,
            State(ctx.clone()),
        )
        .await?;
        let doc = settings_from_form(&entries(&current)?, &pairs);
        let new: Settings = serde_path_to_error::deserialize(doc).map_err(|e| {
            ApiError::Validation(vec![FieldError::new(
                e.path().to_string(),
                e.inner().to_string(),
            )])
        })?;
        api::put_settings(auth, State(ctx), ApiJson(new)).await
    }
    .await;
    Ok(match result {
        Ok(_) => flash::redirect_with(
            back,
            Tone::Success,
            "Settings saved; the next job uses them.",
        ),
        Err(ApiError::Unauthorized(_)) => return Err(UiError::SignIn { next: back.into() }),
        Err(e) => {
            let (tone, text) = layout::refusal(&e);
            flash::redirect_with(back, tone, &text)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_settings_document() {
        let current = entries(&Settings::default()).unwrap();
        let pairs: Vec<(String, String)> = [
            ("csrf", "x"),
            ("guest_policy", "per_email"),
            ("item_cache_ttl_secs", " 600 "),
            ("default_freight_expense_code", "two"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let doc = settings_from_form(&current, &pairs);
        assert_eq!(doc["guest_policy"], "per_email");
        assert_eq!(doc["item_cache_ttl_secs"], 600);
        assert_eq!(
            doc["default_freight_expense_code"], "two",
            "left for the error to name"
        );
        assert!(doc.get("csrf").is_none());
        // A choice left on "automatic" is `null`; a chosen one its value.
        let with = |name: &str, raw: &str| {
            let pairs = vec![(name.to_string(), raw.to_string())];
            settings_from_form(&current, &pairs)[name].clone()
        };
        assert_eq!(with("tax_localization", ""), Value::Null);
        assert_eq!(with("tax_localization", "vat"), "vat");
        assert_eq!(with("total_tolerance", "0.01").to_string(), "0.01");
        let err = serde_path_to_error::deserialize::<_, Settings>(doc).unwrap_err();
        assert_eq!(err.path().to_string(), "default_freight_expense_code");
    }

    /// Every field as a browser submits the rendered form (yes/no, JSON groups, empty
    /// nullable text) gives back the settings in force, one change aside.
    #[test]
    fn the_whole_form_as_rendered_round_trips() {
        let mut settings = Settings::default();
        settings.refunds.recheck_interval_secs = 60;
        settings.price_routes = vec![crate::domain::prices::PriceRoute {
            price_list: 1,
            store_id: 0,
            currency: "USD".into(),
        }];
        let current = entries(&settings).unwrap();
        let mut pairs: Vec<(String, String)> = current
            .iter()
            .map(|(name, v)| {
                let page = input(name, v).into_string();
                let shown = if v.is_object() || v.is_array() {
                    serde_json::to_string_pretty(v).unwrap()
                } else if v.is_null() {
                    assert!(page.contains("value=\"\""), "{page}");
                    String::new()
                } else {
                    if v.is_boolean() {
                        assert!(page.contains("<select"), "{page}");
                    }
                    text_of(v)
                };
                (name.clone(), shown)
            })
            .collect();
        for (name, raw) in &mut pairs {
            if name == "notify_customer_on_shipment" {
                *raw = "true".into();
            }
        }
        let doc = settings_from_form(&current, &pairs);
        let back: Settings = serde_json::from_value(doc).unwrap();
        assert_eq!(
            back,
            Settings {
                notify_customer_on_shipment: true,
                ..settings.clone()
            }
        );
        // What the form does not send keeps its value.
        let kept: Settings = serde_json::from_value(settings_from_form(&current, &[])).unwrap();
        assert_eq!(kept, settings);
    }
}
