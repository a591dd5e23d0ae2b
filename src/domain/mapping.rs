//! The rules that turn a canonical [`Order`] into an SAP B1 Sales Order, in the order the
//! worker applies them:
//! 1. [`customer_plan`]: which Business Partner (mapped, found by e-mail, created, the
//!    shared guest, or held);
//! 2. [`item_codes_for`] (what to ask SAP's item master about), then [`resolve_lines`]:
//!    SKU → ItemCode and the item-master checks;
//! 3. [`build_draft`]: the document, with Magento's amounts and tax as the source of truth,
//!    and [`check_before_posting`]: what SAP will book, held as `total_mismatch` when it
//!    would differ from Magento ([`build_checked_draft`] does both);
//! 4. after posting, [`check_totals`]: SAP's `DocTotal`/`VatSum` against Magento's figures.
//!
//! Every rule is pure: problems come back as [`NewException`]s whose title names the order
//! (and SKUs) and whose detail tells the owning team what to do.
use super::exception::{Category, NewException};
use super::order::Order;

mod address;
mod customer;
mod draft;
mod lines;
mod totals;

pub use customer::{customer_plan, CustomerPlan};
pub use draft::{build_checked_draft, build_draft};
pub use lines::{item_codes_for, resolve_lines, ResolvedLine};
pub use totals::{
    check_before_posting, check_totals, expected_document_totals, DocumentTotals, LineFigures,
};

/// Where operators fix each kind of problem; quoted in exception details.
const SKUS_API: &str = "/api/v1/mappings/skus";
const CUSTOMERS_API: &str = "/api/v1/mappings/customers";
const TAX_CODES_API: &str = "/api/v1/mappings/tax-codes";
const SETTINGS_API: &str = "/api/v1/settings";

/// Builds an exception about one order, de-duplicated on category, order and SKUs.
fn order_exception(
    order: &Order,
    category: Category,
    skus: Vec<String>,
    title: String,
    detail: String,
    context: serde_json::Value,
) -> NewException {
    let increment_id = order.increment_id.to_string();
    NewException {
        category,
        dedup_key: NewException::dedup_key_for(category, Some(&increment_id), &skus),
        title,
        detail,
        order_increment_id: Some(increment_id),
        skus,
        sap_error: None,
        context,
    }
}

/// `'A'`, `'A', 'B'`: SKUs as titles quote them.
fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cuts text to SAP's column length without splitting a character.
fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// A decimal as an exact JSON number for exception context (serde_json keeps the digits).
fn json_number(d: rust_decimal::Decimal) -> serde_json::Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod money_tests;
#[cfg(test)]
mod samples;
