//! `PATCH /Orders(n)` with `DocumentLines`: changing the quantity of open Sales Order lines,
//! the way b1bridge reduces an un-invoiced order for a partial refund (docs/refunds.md).
//!
//! What the sources say: a PATCH updates the properties sent (GUIDE p.25-26); a collection
//! member carrying its key (`LineNum`) updates that line (public client code, e.g.
//! `syedhussim/php-sapb1` issue 16, sends `{"DocumentLines":[{"LineNum":n, …}]}`); with
//! `B1S-ReplaceCollectionsOnPatch: true` the collection sent replaces the stored one, so lines
//! left out are removed (B1SL `SLRequestExtensions.cs`; `MRLIVING/sbo` issue 7).
//!
//! Where the sources are silent the simulator is strict and says so:
//! - only `LineNum` and `Quantity` may be sent per line (other line changes, and members
//!   without `LineNum`, which would add a line, are not simulated: refused, not ignored);
//! - the order must be open; a closed line, or a line any quantity of which was copied to a
//!   delivery or invoice, cannot be changed or removed;
//! - a quantity must be above zero (take a line off with `B1S-ReplaceCollectionsOnPatch`);
//! - at least one line must remain;
//! - the changed line is re-totalled from its `Price` and the document's totals are
//!   computed again; what is no longer ordered is released from `Committed`.
use rust_decimal::Decimal;
use serde_json::Value;

use super::company::Company;
use super::documents::Document;
use super::enums::DocStatus;
use super::errors::ServiceLayerError;
use super::json_input::Fields;
use super::order_actions::change_committed;
use super::totals::{self, ExpenseInput, LineInput, TotalsInput};
use crate::domain::money::round_cents;

/// Applies the `DocumentLines` of a PATCH to `order`; `replace` is
/// `B1S-ReplaceCollectionsOnPatch: true`.
pub fn patch_lines(
    company: &mut Company,
    order: &mut Document,
    members: &[Value],
    replace: bool,
) -> Result<(), ServiceLayerError> {
    if !order.is_open() {
        // The real text was not found.
        return Err(ServiceLayerError::business(format!(
            "Sales order {} is closed or cancelled; its rows cannot be changed",
            order.doc_num
        )));
    }
    let mut wanted: Vec<(i64, Decimal)> = Vec::with_capacity(members.len());
    for member in members {
        let f = Fields::nested(member, "DocumentLine")?;
        if let Value::Object(m) = member {
            if let Some(other) = m.keys().find(|k| *k != "LineNum" && *k != "Quantity") {
                return Err(ServiceLayerError::not_simulated(format!(
                    "changing DocumentLines.{other} with PATCH"
                )));
            }
        }
        let Some(line_num) = f.integer("LineNum")? else {
            return Err(ServiceLayerError::not_simulated(
                "adding a document row with PATCH",
            ));
        };
        let Some(line) = order.document_lines.iter().find(|l| l.line_num == line_num) else {
            // The real text was not found.
            return Err(ServiceLayerError::business(format!(
                "Row {line_num} does not exist in sales order {} [DocumentLines.LineNum]",
                order.doc_num
            )));
        };
        let quantity = f.decimal("Quantity")?.unwrap_or(line.quantity);
        if quantity <= Decimal::ZERO {
            return Err(ServiceLayerError::business(format!(
                "Quantity must be greater than zero [DocumentLines.Quantity][line: {}]",
                line_num + 1
            )));
        }
        if quantity != line.quantity {
            unchangeable(order.doc_num, line)?;
        }
        wanted.push((line_num, quantity));
    }
    if replace {
        for line in &order.document_lines {
            if !wanted.iter().any(|(n, _)| *n == line.line_num) {
                unchangeable(order.doc_num, line)?;
            }
        }
        if wanted.is_empty() {
            // The real text for a document without rows was not found.
            return Err(ServiceLayerError::business(
                "Document must contain at least one row [DocumentLines]",
            ));
        }
    }
    let before = order.document_lines.clone();
    order
        .document_lines
        .retain(|l| !replace || wanted.iter().any(|(n, _)| *n == l.line_num));
    for line in &mut order.document_lines {
        if let Some((_, q)) = wanted.iter().find(|(n, _)| *n == line.line_num) {
            line.remaining_open_quantity += *q - line.quantity;
            line.quantity = *q;
        }
    }
    for old in &before {
        let now = order
            .document_lines
            .iter()
            .find(|l| l.line_num == old.line_num)
            .map_or(Decimal::ZERO, |l| l.quantity);
        if now != old.quantity {
            change_committed(company, old, now - old.quantity);
        }
    }
    retotal(order, &before, &company.local_currency);
    Ok(())
}

/// A line that may not change: closed, or (partly) copied to a delivery or invoice.
fn unchangeable(
    doc_num: i64,
    line: &super::documents::DocumentLine,
) -> Result<(), ServiceLayerError> {
    if line.line_status == DocStatus::Close {
        return Err(ServiceLayerError::business(format!(
            "Row {} of sales order {doc_num} is closed and cannot be changed",
            line.line_num + 1
        )));
    }
    if line.remaining_open_quantity < line.quantity {
        return Err(ServiceLayerError::business(format!(
            "Row {} of sales order {doc_num} has been copied to a delivery or invoice; its quantity cannot be changed",
            line.line_num + 1
        )));
    }
    Ok(())
}

/// The document's totals again: changed lines from their `Price`, the others and the
/// freight as booked, the header discount kept.
fn retotal(order: &mut Document, before: &[super::documents::DocumentLine], local: &str) {
    let foreign = order.doc_currency != local;
    let rate = if order.doc_rate.is_zero() {
        Decimal::ONE
    } else {
        order.doc_rate
    };
    let doc_amount = |lc: Decimal, fc: Decimal| if foreign { fc } else { lc };
    let lines: Vec<LineInput> = order
        .document_lines
        .iter()
        .map(|l| {
            let unchanged = before
                .iter()
                .any(|b| b.line_num == l.line_num && b.quantity == l.quantity);
            LineInput {
                quantity: l.quantity,
                unit_price: l.price,
                discount_percent: Decimal::ZERO,
                line_total: unchanged.then(|| doc_amount(l.line_total, l.row_total_fc)),
                tax_rate: l.tax_percentage_per_row,
                tax_total: (unchanged && !foreign).then_some(l.tax_total),
            }
        })
        .collect();
    let expenses: Vec<ExpenseInput> = order
        .document_additional_expenses
        .iter()
        .map(|e| ExpenseInput {
            line_total: doc_amount(e.line_total, e.line_total_fc),
            tax_rate: e.tax_rate,
            tax_sum: (!foreign).then_some(e.tax_sum),
        })
        .collect();
    let Ok(t) = totals::compute(&TotalsInput {
        lines,
        expenses,
        header_discount_percent: order.discount_percent,
        requested_doc_total: None,
    }) else {
        return;
    };
    let to_local = |fc: Decimal| if foreign { round_cents(fc * rate) } else { fc };
    for (line, lt) in order.document_lines.iter_mut().zip(&t.lines) {
        line.line_total = to_local(lt.line_total);
        line.row_total_fc = if foreign {
            lt.line_total
        } else {
            Decimal::ZERO
        };
        line.tax_total = to_local(lt.tax_total);
    }
    let vat_sum: Decimal = order
        .document_lines
        .iter()
        .map(|l| l.tax_total)
        .sum::<Decimal>()
        + order
            .document_additional_expenses
            .iter()
            .map(|e| e.tax_sum)
            .sum::<Decimal>();
    order.total_discount = to_local(t.total_discount);
    order.vat_sum = vat_sum;
    order.doc_total = order
        .document_lines
        .iter()
        .map(|l| l.line_total)
        .sum::<Decimal>()
        - order.total_discount
        + order
            .document_additional_expenses
            .iter()
            .map(|e| e.line_total)
            .sum::<Decimal>()
        + vat_sum
        + order.rounding_diff_amount;
    if foreign {
        order.doc_total_fc = t.doc_total;
        order.vat_sum_fc = t.vat_sum;
    }
}

/// Whether the request asked for collection replacement.
pub fn replaces_collections(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("B1S-ReplaceCollectionsOnPatch")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::sap_b1::company::Stamp;
    use crate::sim::sap_b1::orders::{create_order, Added};
    use crate::sim::sap_b1::seed::Seed;
    use crate::sim::sap_b1::targets::{create_invoice, InvoiceBase};
    use rust_decimal_macros::dec;
    use serde_json::json;

    /// An order of 3 × RACER and 2 × RACER (224.00, 8.25 %).
    fn ordered() -> (Company, Document) {
        let now = Stamp::now();
        let mut c = Company::from_seed(Seed::default_seed(), &now);
        let body = json!({"CardCode": "C20000", "DocumentLines": [
            {"ItemCode": "RACER", "Quantity": 3, "UnitPrice": 224, "TaxCode": "US-MI"},
            {"ItemCode": "RACER", "Quantity": 2, "UnitPrice": 224, "TaxCode": "US-MI"}]});
        let Added::Order(order) = create_order(&mut c, body.as_object().unwrap(), &now).unwrap()
        else {
            panic!("no approval procedure in the seed")
        };
        (c, *order)
    }

    #[test]
    fn a_quantity_goes_down_with_the_totals_and_a_replaced_collection_drops_a_line() {
        let (mut c, mut order) = ordered();
        patch_lines(
            &mut c,
            &mut order,
            &[json!({"LineNum": 0, "Quantity": 1})],
            false,
        )
        .unwrap();
        assert_eq!(order.document_lines[0].quantity, dec!(1));
        assert_eq!(order.document_lines[0].remaining_open_quantity, dec!(1));
        // 3 × 224 = 672 taxed at 8.25 %: 727.44; 1 × 224 + 2 × 224 = 672 as well.
        assert_eq!(order.document_lines[0].line_total, dec!(224));
        assert_eq!(order.doc_total, dec!(727.44));
        patch_lines(
            &mut c,
            &mut order,
            &[json!({"LineNum": 0, "Quantity": 1})],
            true,
        )
        .unwrap();
        assert_eq!(order.document_lines.len(), 1);
        assert_eq!(order.doc_total, dec!(242.48));
    }

    #[test]
    fn sap_refuses_zero_unknown_rows_other_fields_and_copied_lines() {
        let (mut c, mut order) = ordered();
        let refused = |c: &mut Company, order: &mut Document, member: Value, replace: bool| {
            patch_lines(c, order, &[member], replace)
                .unwrap_err()
                .message
        };
        assert!(refused(
            &mut c,
            &mut order,
            json!({"LineNum": 0, "Quantity": 0}),
            false
        )
        .contains("greater than zero"));
        assert!(refused(
            &mut c,
            &mut order,
            json!({"LineNum": 7, "Quantity": 1}),
            false
        )
        .contains("does not exist"));
        assert!(refused(
            &mut c,
            &mut order,
            json!({"LineNum": 0, "UnitPrice": 1}),
            false
        )
        .contains("does not implement"));
        let now = Stamp::now();
        c.put_order(order.clone());
        create_invoice(&mut c, InvoiceBase::Order(order.doc_entry), &now).unwrap();
        let mut invoiced = c.orders[&order.doc_entry].clone();
        // Fully invoiced: the order is closed, its lines too.
        let e = refused(
            &mut c,
            &mut invoiced,
            json!({"LineNum": 0, "Quantity": 1}),
            false,
        );
        assert!(e.contains("closed"), "{e}");
    }
}
