//! Serial and batch numbers on stock-moving documents. B1 asks for them when goods leave the
//! warehouse — on a delivery, or an invoice not based on a delivery — never on a Sales Order
//! (reference §10): -4014 belongs to those documents.
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::Value;

use super::entities::Item;
use super::errors::ServiceLayerError;
use super::json_input::Fields;

/// -4014 as real Service Layer bodies carry it (reference §8).
pub fn selection_incomplete() -> ServiceLayerError {
    ServiceLayerError::new(
        StatusCode::BAD_REQUEST,
        -4014,
        "Cannot add row without complete selection of batch/serial numbers",
    )
}

/// Checks that a stock-moving line of `quantity` units of `item` names every unit.
pub fn check_selection(
    item: &Item,
    quantity: Decimal,
    serial_numbers: &[Value],
    batch_numbers: &[Value],
) -> Result<(), ServiceLayerError> {
    if item.manage_serial_numbers.is_yes()
        && !selection_complete(
            serial_numbers,
            quantity,
            &[
                "InternalSerialNumber",
                "ManufacturerSerialNumber",
                "SystemSerialNumber",
            ],
            Decimal::ONE,
        )
    {
        return Err(selection_incomplete());
    }
    if item.manage_batch_numbers.is_yes()
        && !selection_complete(
            batch_numbers,
            quantity,
            &["BatchNumber", "BatchNumberProperty"],
            Decimal::ZERO,
        )
    {
        return Err(selection_incomplete());
    }
    Ok(())
}

/// Serial or batch entries identify every unit: each names a number and their quantities add
/// up to the line quantity. `default_quantity` is what an entry without `Quantity` counts
/// (one unit for a serial number, nothing for a batch).
fn selection_complete(
    entries: &[Value],
    quantity: Decimal,
    keys: &[&str],
    default_quantity: Decimal,
) -> bool {
    let mut selected = Decimal::ZERO;
    for entry in entries {
        let Ok(f) = Fields::nested(entry, "SerialOrBatchNumber") else {
            return false;
        };
        let named = keys
            .iter()
            .any(|k| matches!(f.string(k), Ok(Some(s)) if !s.trim().is_empty()));
        if !named {
            return false;
        }
        match f.decimal("Quantity") {
            Ok(q) => selected += q.unwrap_or(default_quantity),
            Err(_) => return false,
        }
    }
    selected == quantity
}
