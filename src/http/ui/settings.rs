//! The settings in force (`/ui/settings`), read through `GET /api/v1/settings`. Changing them
//! stays an admin's API call (`PUT /api/v1/settings`), which replaces the whole document.
use axum::extract::State;
use axum::Json;
use maud::html;
use serde_json::Value;

use super::error::UiError;
use super::flash::Flash;
use super::layout::{words, Page};
use super::session::Session;
use crate::http::api::auth::{Authorized, Viewer};
use crate::http::api::settings as api;
use crate::http::ApiContext;

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
        "item_cache_ttl_secs" => "How long SAP item facts (active, sellable, serial/batch) are trusted before being read again.",
        _ => "",
    }
}

/// `GET /ui/settings`.
pub async fn page(
    session: Session,
    flash: Flash,
    State(ctx): State<ApiContext>,
) -> Result<Page, UiError> {
    let auth = Authorized::<Viewer>::check(session.caller.clone())?;
    let Json(settings) = api::get_settings(auth, State(ctx)).await?;
    let value = serde_json::to_value(&settings)
        .map_err(|e| crate::http::ApiError::Internal(e.to_string()))?;
    let entries: Vec<(String, Value)> = value
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let body = html! {
        p.hint {
            "These steer how orders become SAP documents; each job reads them fresh. Admins change them with "
            code { "PUT /api/v1/settings" } " (see " a href="/docs" { "the API reference" } ")."
        }
        div.table-wrap {
            table {
                thead { tr { th scope="col" { "Setting" } th scope="col" { "Value" } th scope="col" { "What it decides" } } }
                tbody {
                    @for (name, v) in &entries {
                        tr {
                            th scope="row" { (words(name)) br; small { code { (name) } } }
                            td { code { @match v { Value::String(s) => (s), other => (other.to_string()) } } }
                            td { (meaning(name)) }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::new(&session, flash, "settings", "Settings", body))
}
