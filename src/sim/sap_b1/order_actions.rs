//! What happens to a sales order after it is created: `Cancel` and `Close` (both release
//! committed stock) and `PATCH` of its header.
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::company::{Company, Stamp};
use super::documents::{Document, DocumentLine};
use super::enums::{CancelStatus, DocStatus, YesNo};
use super::errors::ServiceLayerError;
use super::json_input::Fields;

/// Adds `delta` to `Committed` of the line's item in the line's warehouse.
pub fn change_committed(company: &mut Company, line: &DocumentLine, delta: Decimal) {
    if let Some(item) = company.items.get_mut(&line.item_code) {
        if item.inventory_item.is_yes() {
            let row = item.warehouse_mut(&line.warehouse_code);
            row.committed = (row.committed + delta).max(Decimal::ZERO);
            item.recompute_totals();
        }
    }
}

/// `POST /Orders(n)/Cancel`: refused once anything was delivered or invoiced (HELP-SO: "you
/// can close it but you cannot cancel it"; the real code and text were not found).
pub fn cancel_order(
    company: &mut Company,
    doc_entry: i64,
    now: &Stamp,
) -> Result<(), ServiceLayerError> {
    let order = open_order(company, doc_entry)?;
    if order.has_target_documents() {
        return Err(ServiceLayerError::business(format!(
            "Cannot cancel sales order {}: it has been copied to a delivery or invoice; close it instead",
            order.doc_num
        )));
    }
    let mut order = order.clone();
    finish(company, &mut order, now);
    order.cancelled = YesNo::Yes;
    order.cancel_status = CancelStatus::Yes;
    company.put_order(order);
    Ok(())
}

/// `POST /Orders(n)/Close`: ends the order and releases what is still committed.
pub fn close_order(
    company: &mut Company,
    doc_entry: i64,
    now: &Stamp,
) -> Result<(), ServiceLayerError> {
    let mut order = open_order(company, doc_entry)?.clone();
    finish(company, &mut order, now);
    company.put_order(order);
    Ok(())
}

fn open_order(company: &Company, doc_entry: i64) -> Result<&Document, ServiceLayerError> {
    let order = company
        .orders
        .get(&doc_entry)
        .ok_or_else(ServiceLayerError::not_found)?;
    if !order.is_open() {
        // The real text was not found.
        return Err(ServiceLayerError::business(format!(
            "Sales order {} is already closed or cancelled",
            order.doc_num
        )));
    }
    Ok(order)
}

/// Closes every line and releases its open quantity from `Committed`.
fn finish(company: &mut Company, order: &mut Document, now: &Stamp) {
    for line in &mut order.document_lines {
        change_committed(company, line, -line.remaining_open_quantity);
        line.remaining_open_quantity = Decimal::ZERO;
        line.line_status = DocStatus::Close;
    }
    order.document_status = DocStatus::Close;
    order.update_date = now.date;
    order.update_time = now.time.clone();
}

/// `PATCH /Orders(n)`: changes the header fields the bridge may change, and the quantities
/// of open lines (see [`order_lines`](super::order_lines)). Read-only properties are silently
/// ignored, as on the real Service Layer (GUIDE p.25-26); changing freight is not simulated
/// and is refused rather than ignored.
pub fn patch_order(
    company: &mut Company,
    doc_entry: i64,
    body: &Map<String, Value>,
    replace_collections: bool,
    now: &Stamp,
) -> Result<(), ServiceLayerError> {
    let mut order = company
        .orders
        .get(&doc_entry)
        .cloned()
        .ok_or_else(ServiceLayerError::not_found)?;
    let f = Fields::new(body, "Document");
    if f.has("DocumentAdditionalExpenses") {
        return Err(ServiceLayerError::not_simulated(
            "changing document freight with PATCH",
        ));
    }
    if f.has("DocumentLines") {
        let members = f.array("DocumentLines")?;
        super::order_lines::patch_lines(company, &mut order, members, replace_collections)?;
    }
    let texts: [(&str, &mut Option<String>); 7] = [
        ("NumAtCard", &mut order.num_at_card),
        ("Comments", &mut order.comments),
        ("ShipToCode", &mut order.ship_to_code),
        ("PayToCode", &mut order.pay_to_code),
        ("Address", &mut order.address),
        ("Address2", &mut order.address2),
        ("TrackingNumber", &mut order.tracking_number),
    ];
    for (key, field) in texts {
        if body.contains_key(key) {
            *field = f.string(key)?;
        }
    }
    if let Some(date) = f.date("DocDueDate")? {
        order.doc_due_date = date;
    }
    if let Some(Value::Object(changes)) = f.object("AddressExtension")? {
        let mut merged = match order.address_extension.take() {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        merged.extend(changes);
        order.address_extension = Some(Value::Object(merged));
    }
    order.user_fields.extend(f.user_fields());
    order.update_date = now.date;
    order.update_time = now.time.clone();
    company.put_order(order);
    Ok(())
}
