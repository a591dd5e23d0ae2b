//! A/R credit memos (`CreditNotes`, ORIN, object 14), added with `POST /CreditNotes` and
//! copied from A/R invoices (docs/refunds.md):
//! - a line with `BaseType` 13 copies invoice line `BaseLine` of invoice `BaseEntry`: item,
//!   price, discount, tax code and warehouse come from the base; the base must exist, be
//!   open and belong to the same customer, and the quantity credited (over every credit
//!   note) may not exceed the base line's open quantity. `BaseEntry`/`BaseLine` without
//!   `BaseType` is SAP's "Internal error (-5002)" (reference §6). Other bases (returns, 16)
//!   are not simulated and say so.
//! - a line without a base names an item; its quantity may be negative (SAP help "Creating
//!   Sales and Purchasing Documents with Negative Totals": credit memos may carry negative
//!   quantities), which is how an adjustment fee is taken off a refund.
//! - stock comes back (`InStock` rises in the line's warehouse) only on lines of inventory
//!   items without `WithoutInventoryMovement` = `tYES` ("Without Qty Posting"). The reference
//!   notes conflicting documentation about that flag on A/R credit memos; the simulator, like
//!   b1bridge, relies on the SAP community's statement that it works on them.
//! - freight (`DocumentAdditionalExpenses`) must name a known expense code and may not be
//!   negative: negative freight is not documented, so the simulator takes the strict side.
//! - totals are computed as for orders ([`totals`](super::totals)), in the document's
//!   currency, with `LineTotal`/`RowTotalFC`, `TaxTotal` and `TaxSum` kept when sent.
//!
//! A fully credited invoice closes, as B1 closes a cleared document.
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::HashMap;

use super::company::{Company, Stamp};
use super::documents::{DocKind, Document, DocumentExpense, DocumentLine};
use super::enums::{CancelStatus, DocStatus, DocType, YesNo};
use super::errors::ServiceLayerError;
use super::json_input::Fields;
use super::totals::{self, ExpenseInput, LineInput, TotalsInput};
use crate::domain::money::round_cents;

/// `BaseType` of an A/R invoice line.
const INVOICE: i64 = 13;

/// One line read from the body, before totals.
struct Drafted {
    line: DocumentLine,
    input: LineInput,
}

pub fn create_credit_note(
    company: &mut Company,
    body: &Map<String, Value>,
    now: &Stamp,
) -> Result<Document, ServiceLayerError> {
    let note = draft(company, body, now)?;
    let (doc_entry, doc_num) = company.next_numbers(DocKind::CreditNote);
    let note = Document {
        doc_entry,
        doc_num,
        ..note
    };
    apply(company, &note, now);
    company.credit_notes.insert(doc_entry, note.clone());
    Ok(note)
}

fn draft(
    company: &Company,
    body: &Map<String, Value>,
    now: &Stamp,
) -> Result<Document, ServiceLayerError> {
    let f = Fields::new(body, "Document");
    let (card_code, bp) = super::orders::item_document_partner(company, &f, "ORIN")?;
    let line_values = f.array("DocumentLines")?;
    if line_values.is_empty() {
        return Err(ServiceLayerError::business(
            "Document must contain at least one row [DocumentLines]",
        ));
    }
    // The currency of a copied document is its base's; another one sent is refused (the
    // strict reading: B1 copies the base's currency, the real text was not found).
    let base_currency = first_base_currency(company, line_values);
    let currency = match (f.string("DocCurrency")?, base_currency) {
        (Some(sent), Some(base)) if sent != base => {
            return Err(ServiceLayerError::business(format!(
                "Currency '{sent}' differs from the base document's '{base}' [ORIN.DocCur]"
            )))
        }
        (Some(sent), _) => sent,
        (None, Some(base)) => base,
        (None, None) => bp
            .currency
            .clone()
            .filter(|c| c != "##")
            .unwrap_or_else(|| company.local_currency.clone()),
    };
    let doc_date = f.date("DocDate")?.unwrap_or(now.date);
    let doc_due_date = f.date("DocDueDate")?.unwrap_or(doc_date);
    let tax_date = f.date("TaxDate")?.unwrap_or(doc_date);
    company.check_posting_dates(&[doc_date, doc_due_date, tax_date])?;
    company.check_partner_currency(&card_code, bp.currency.as_deref(), &currency)?;
    let rate = company.document_rate(&currency, doc_date)?;
    let foreign = currency != company.local_currency;

    let mut credited: HashMap<(i64, i64), Decimal> = HashMap::new();
    let mut drafted = Vec::with_capacity(line_values.len());
    for (index, value) in line_values.iter().enumerate() {
        let d = draft_line(
            company,
            value,
            index,
            &card_code,
            &currency,
            doc_date,
            (foreign, rate),
            &mut credited,
        )?;
        drafted.push(d);
    }
    let mut expenses = Vec::new();
    let mut expense_inputs = Vec::new();
    for (index, value) in f.array("DocumentAdditionalExpenses")?.iter().enumerate() {
        let (e, input) = draft_expense(company, value, index, doc_date, foreign, rate)?;
        expenses.push(e);
        expense_inputs.push(input);
    }
    let computed = totals::compute(&TotalsInput {
        lines: drafted.iter().map(|d| d.input.clone()).collect(),
        expenses: expense_inputs,
        header_discount_percent: f.decimal("DiscountPercent")?.unwrap_or_default(),
        requested_doc_total: None,
    })
    .map_err(|e| ServiceLayerError::business(format!("{e} [ORIN.DocTotal]")))?;
    let local = |fc: Decimal| if foreign { round_cents(fc * rate) } else { fc };
    let mut lines: Vec<DocumentLine> = drafted.into_iter().map(|d| d.line).collect();
    for (line, t) in lines.iter_mut().zip(&computed.lines) {
        line.unit_price = t.unit_price;
        line.price = t.price;
        line.price_after_vat = t.price_after_vat;
        line.line_total = local(t.line_total);
        line.row_total_fc = if foreign { t.line_total } else { Decimal::ZERO };
        line.tax_total = local(t.tax_total);
    }
    for (expense, t) in expenses.iter_mut().zip(&computed.expenses) {
        expense.line_total = local(t.line_total);
        expense.line_total_fc = if foreign { t.line_total } else { Decimal::ZERO };
        expense.tax_sum = local(t.tax_sum);
        expense.line_gross = local(t.line_gross);
    }
    let vat_sum: Decimal = lines.iter().map(|l| l.tax_total).sum::<Decimal>()
        + expenses.iter().map(|e| e.tax_sum).sum::<Decimal>();
    let total_discount = local(computed.total_discount);
    let doc_total = lines.iter().map(|l| l.line_total).sum::<Decimal>() - total_discount
        + expenses.iter().map(|e| e.line_total).sum::<Decimal>()
        + vat_sum;
    if doc_total < Decimal::ZERO {
        // A negative credit memo would be a charge; the real text was not found.
        return Err(ServiceLayerError::business(
            "Document total cannot be negative [ORIN.DocTotal]",
        ));
    }
    Ok(Document {
        doc_type: DocType::Items,
        doc_object_code: DocKind::CreditNote.object(),
        doc_date,
        doc_due_date,
        tax_date,
        creation_date: now.date,
        update_date: now.date,
        update_time: now.time.clone(),
        card_name: f.string("CardName")?.or_else(|| bp.card_name.clone()),
        card_code,
        num_at_card: f.string("NumAtCard")?,
        doc_currency: currency,
        comments: f.string("Comments")?,
        discount_percent: computed.discount_percent,
        total_discount,
        vat_sum,
        doc_total,
        doc_rate: rate,
        doc_total_fc: if foreign {
            computed.doc_total
        } else {
            Decimal::ZERO
        },
        vat_sum_fc: if foreign {
            computed.vat_sum
        } else {
            Decimal::ZERO
        },
        document_status: DocStatus::Open,
        cancelled: YesNo::No,
        cancel_status: CancelStatus::No,
        document_lines: lines,
        document_additional_expenses: expenses,
        user_fields: f.user_fields(),
        ..Default::default()
    })
}

fn first_base_currency(company: &Company, lines: &[Value]) -> Option<String> {
    lines.iter().find_map(|l| {
        let entry = l.get("BaseEntry").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        })?;
        company.invoices.get(&entry).map(|i| i.doc_currency.clone())
    })
}

#[allow(clippy::too_many_arguments)]
fn draft_line(
    company: &Company,
    value: &Value,
    index: usize,
    card_code: &str,
    currency: &str,
    day: chrono::NaiveDate,
    (foreign, rate): (bool, Decimal),
    credited: &mut HashMap<(i64, i64), Decimal>,
) -> Result<Drafted, ServiceLayerError> {
    let f = Fields::nested(value, "DocumentLine")?;
    let row = index + 1;
    let base_type = f.integer("BaseType")?;
    let base_entry = f.integer("BaseEntry")?;
    let base_line = f.integer("BaseLine")?;
    let without_movement = f
        .enumeration("WithoutInventoryMovement", YesNo::parse)?
        .unwrap_or(YesNo::No);
    let sent_quantity = f.decimal("Quantity")?;
    let line_total = document_amount(&f, "LineTotal", "RowTotalFC", foreign, rate)?;
    // `TaxTotal` is a local amount.
    let tax_total = f
        .decimal("TaxTotal")?
        .map(|t| if foreign { round_cents(t / rate) } else { t });
    let (mut line, tax_rate) = match (base_type, base_entry, base_line) {
        (None | Some(-1), None, None) => free_line(company, &f, row, day)?,
        (None | Some(-1), _, _) => {
            // Reference §6: BaseEntry/BaseLine without BaseType.
            return Err(ServiceLayerError::new(
                axum::http::StatusCode::BAD_REQUEST,
                -5002,
                "Internal error (-5002) occurred",
            ));
        }
        (Some(INVOICE), Some(entry), Some(base_row)) => {
            let quantity = sent_quantity.unwrap_or_default();
            let base = invoice_line(company, entry, base_row, card_code, row)?;
            let total = credited.entry((entry, base_row)).or_default();
            *total += quantity;
            if quantity <= Decimal::ZERO || *total > base.remaining_open_quantity {
                return Err(ServiceLayerError::business(format!(
                    "Quantity {quantity} of base line {base_row} exceeds its open quantity {} [DocumentLines.Quantity][line: {row}]",
                    base.remaining_open_quantity
                )));
            }
            let mut line = DocumentLine {
                base_type: INVOICE,
                base_entry: Some(entry),
                base_line: Some(base_row),
                serial_numbers: Vec::new(),
                batch_numbers: Vec::new(),
                user_fields: Default::default(),
                ..base.clone()
            };
            if let Some(warehouse) = f.string("WarehouseCode")? {
                check_warehouse(company, &warehouse, row)?;
                line.warehouse_code = warehouse;
            }
            (line, base.tax_percentage_per_row)
        }
        (Some(INVOICE), _, _) => {
            return Err(ServiceLayerError::business(format!(
                "Specify the base document and line [DocumentLines.BaseEntry][line: {row}]"
            )))
        }
        (Some(other), _, _) => {
            return Err(ServiceLayerError::not_simulated(format!(
                "credit notes based on object type {other}"
            )))
        }
    };
    let quantity = match (line.base_type, sent_quantity) {
        (INVOICE, Some(q)) => q,
        (_, Some(q)) if q.is_zero() => {
            return Err(ServiceLayerError::business(format!(
                "Quantity cannot be zero [DocumentLines.Quantity][line: {row}]"
            )))
        }
        (_, Some(q)) => q,
        (_, None) => Decimal::ONE,
    };
    line.line_num = index as i64;
    line.quantity = quantity;
    line.remaining_open_quantity = quantity;
    line.line_status = DocStatus::Open;
    line.currency = currency.to_owned();
    line.without_inventory_movement = without_movement;
    line.user_fields = f.user_fields();
    let input = LineInput {
        quantity,
        unit_price: line.unit_price,
        discount_percent: line.discount_percent,
        line_total,
        tax_rate,
        tax_total,
    };
    Ok(Drafted { line, input })
}

/// A line that copies nothing: an item, its price and tax code as sent.
fn free_line(
    company: &Company,
    f: &Fields<'_>,
    row: usize,
    day: chrono::NaiveDate,
) -> Result<(DocumentLine, Decimal), ServiceLayerError> {
    let item_code = f.string("ItemCode")?.unwrap_or_default();
    let item = company.items.get(&item_code).ok_or_else(|| {
        ServiceLayerError::business(format!(
            "Invalid item code [DocumentLines.ItemCode][line: {row}] , '{item_code}'"
        ))
    })?;
    if !item.is_active() {
        return Err(ServiceLayerError::business(format!(
            "10001069 - Item {item_code} is inactive"
        )));
    }
    let warehouse_code = f
        .string("WarehouseCode")?
        .or_else(|| item.default_warehouse.clone())
        .unwrap_or_else(|| company.default_warehouse.clone());
    check_warehouse(company, &warehouse_code, row)?;
    let tax_code = f.string("TaxCode")?;
    let vat_group = f.string("VatGroup")?;
    let tax_rate = company.tax_rate(tax_code.as_deref(), vat_group.as_deref(), day)?;
    let unit_price = match f.decimal("UnitPrice")? {
        Some(p) => p,
        None => f.decimal("Price")?.unwrap_or_default(),
    };
    Ok((
        DocumentLine {
            item_description: f
                .string("ItemDescription")?
                .unwrap_or_else(|| item.item_name.clone()),
            item_code,
            unit_price,
            discount_percent: f.decimal("DiscountPercent")?.unwrap_or_default(),
            tax_code,
            vat_group,
            tax_percentage_per_row: tax_rate,
            warehouse_code,
            base_type: -1,
            ..Default::default()
        },
        tax_rate,
    ))
}

fn invoice_line<'c>(
    company: &'c Company,
    entry: i64,
    base_row: i64,
    card_code: &str,
    row: usize,
) -> Result<&'c DocumentLine, ServiceLayerError> {
    // The real texts for a missing, closed or foreign base were not found; these name it.
    let invoice = company.invoices.get(&entry).ok_or_else(|| {
        ServiceLayerError::business(format!(
            "Base document {entry} does not exist [DocumentLines.BaseEntry][line: {row}]"
        ))
    })?;
    if !invoice.is_open() {
        return Err(ServiceLayerError::business(format!(
            "A/R invoice {} is closed or cancelled and cannot be copied [DocumentLines.BaseEntry][line: {row}]",
            invoice.doc_num
        )));
    }
    if invoice.card_code != card_code {
        return Err(ServiceLayerError::business(format!(
            "A/R invoice {} belongs to another business partner [DocumentLines.BaseEntry][line: {row}]",
            invoice.doc_num
        )));
    }
    invoice
        .document_lines
        .iter()
        .find(|l| l.line_num == base_row)
        .ok_or_else(|| {
            ServiceLayerError::business(format!(
                "Base line {base_row} does not exist on A/R invoice {} [DocumentLines.BaseLine][line: {row}]",
                invoice.doc_num
            ))
        })
}

fn check_warehouse(company: &Company, code: &str, row: usize) -> Result<(), ServiceLayerError> {
    match company.warehouses.get(code) {
        Some(w) if !w.inactive.is_yes() => Ok(()),
        Some(_) => Err(ServiceLayerError::business(format!(
            "Warehouse '{code}' is inactive [DocumentLines.WarehouseCode][line: {row}]"
        ))),
        None => Err(ServiceLayerError::business(format!(
            "Invalid warehouse code [DocumentLines.WarehouseCode][line: {row}] , '{code}'"
        ))),
    }
}

fn draft_expense(
    company: &Company,
    value: &Value,
    index: usize,
    day: chrono::NaiveDate,
    foreign: bool,
    rate: Decimal,
) -> Result<(DocumentExpense, ExpenseInput), ServiceLayerError> {
    let f = Fields::nested(value, "DocumentAdditionalExpense")?;
    let row = index + 1;
    let code = f.integer("ExpenseCode")?.unwrap_or_default();
    if !company.expense_codes.contains_key(&code) {
        return Err(ServiceLayerError::business(format!(
            "Invalid freight code [DocumentAdditionalExpenses.ExpenseCode][line: {row}] , '{code}'"
        )));
    }
    let line_total =
        document_amount(&f, "LineTotal", "LineTotalFC", foreign, rate)?.unwrap_or_default();
    if line_total < Decimal::ZERO {
        return Err(ServiceLayerError::business(format!(
            "Freight amount cannot be negative [DocumentAdditionalExpenses.LineTotal][line: {row}]"
        )));
    }
    let tax_code = f.string("TaxCode")?;
    let vat_group = f.string("VatGroup")?;
    let tax_rate = company.tax_rate(tax_code.as_deref(), vat_group.as_deref(), day)?;
    let input = ExpenseInput {
        line_total,
        tax_rate,
        tax_sum: f
            .decimal("TaxSum")?
            .map(|t| if foreign { round_cents(t / rate) } else { t }),
    };
    Ok((
        DocumentExpense {
            line_num: index as i64,
            expense_code: code,
            tax_code,
            vat_group,
            tax_rate,
            remarks: f.string("Remarks")?,
            ..Default::default()
        },
        input,
    ))
}

/// An amount in the document's currency: the FC field on a foreign-currency document (else
/// the local one converted), the local field otherwise.
fn document_amount(
    f: &Fields<'_>,
    local_field: &str,
    fc_field: &str,
    foreign: bool,
    rate: Decimal,
) -> Result<Option<Decimal>, ServiceLayerError> {
    if !foreign {
        return f.decimal(local_field);
    }
    match f.decimal(fc_field)? {
        Some(fc) => Ok(Some(fc)),
        None => Ok(f.decimal(local_field)?.map(|lc| round_cents(lc / rate))),
    }
}

/// The credit note's effects: base lines credited (and closed when nothing is left), stock
/// back where the line moves stock.
fn apply(company: &mut Company, note: &Document, now: &Stamp) {
    for line in &note.document_lines {
        if let (INVOICE, Some(entry), Some(base_row)) =
            (line.base_type, line.base_entry, line.base_line)
        {
            if let Some(invoice) = company.invoices.get_mut(&entry) {
                if let Some(base) = invoice
                    .document_lines
                    .iter_mut()
                    .find(|l| l.line_num == base_row)
                {
                    base.remaining_open_quantity -= line.quantity;
                    if base.remaining_open_quantity <= Decimal::ZERO {
                        base.line_status = DocStatus::Close;
                    }
                }
                if invoice
                    .document_lines
                    .iter()
                    .all(|l| l.line_status == DocStatus::Close)
                {
                    invoice.document_status = DocStatus::Close;
                }
                invoice.update_date = now.date;
                invoice.update_time = now.time.clone();
            }
        }
        if line.without_inventory_movement.is_yes() {
            continue;
        }
        if let Some(item) = company.items.get_mut(&line.item_code) {
            if item.inventory_item.is_yes() {
                item.warehouse_mut(&line.warehouse_code).in_stock += line.quantity;
                item.recompute_totals();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::sap_b1::orders::{create_order, Added};
    use crate::sim::sap_b1::seed::Seed;
    use crate::sim::sap_b1::targets::{create_invoice, InvoiceBase};
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// A company with an order of 2 × RACER (224.00, 8.25 %) and freight 5, invoiced.
    fn invoiced() -> (Company, Stamp, i64) {
        let now = Stamp::now();
        let mut c = Company::from_seed(Seed::default_seed(), &now);
        let body = object(json!({"CardCode": "C20000", "DocumentLines": [
            {"ItemCode": "RACER", "Quantity": 2, "UnitPrice": 224, "TaxCode": "US-MI"}],
            "DocumentAdditionalExpenses": [{"ExpenseCode": 1, "LineTotal": 5, "TaxCode": "EX"}]}));
        let Added::Order(order) = create_order(&mut c, &body, &now).unwrap() else {
            panic!("no approval procedure in the seed")
        };
        let invoice = create_invoice(&mut c, InvoiceBase::Order(order.doc_entry), &now).unwrap();
        (c, now, invoice.doc_entry)
    }

    fn based(invoice: i64, quantity: Decimal, extra: Value) -> Value {
        let mut line =
            json!({"BaseType": 13, "BaseEntry": invoice, "BaseLine": 0, "Quantity": quantity});
        for (k, v) in extra.as_object().unwrap() {
            line[k] = v.clone();
        }
        line
    }

    fn stock(c: &Company, warehouse: &str) -> Decimal {
        c.items["RACER"]
            .item_warehouse_info_collection
            .iter()
            .find(|w| w.warehouse_code == warehouse)
            .map(|w| w.in_stock)
            .unwrap_or_default()
    }

    #[test]
    fn a_copy_of_an_invoice_line_credits_it_and_returns_stock_only_with_movement() {
        let (mut c, now, inv) = invoiced();
        let before = stock(&c, "01");
        let body = object(
            json!({"CardCode": "C20000", "NumAtCard": "CM1", "DocumentLines": [
            based(inv, dec!(1), json!({"WithoutInventoryMovement": "tYES"}))]}),
        );
        let note = create_credit_note(&mut c, &body, &now).unwrap();
        // 224 at 8.25 % = 18.48.
        assert_eq!((note.doc_total, note.vat_sum), (dec!(242.48), dec!(18.48)));
        assert_eq!(stock(&c, "01"), before, "without movement: no stock back");
        assert_eq!(
            c.invoices[&inv].document_lines[0].remaining_open_quantity,
            dec!(1)
        );
        let body = object(json!({"CardCode": "C20000", "DocumentLines": [
            based(inv, dec!(1), json!({"WarehouseCode": "02"}))]}));
        let before_02 = stock(&c, "02");
        create_credit_note(&mut c, &body, &now).unwrap();
        assert_eq!(stock(&c, "02"), before_02 + dec!(1));
        assert_eq!(c.invoices[&inv].document_status, DocStatus::Close);
    }

    #[test]
    fn the_copy_from_rules_refuse_what_sap_refuses() {
        let (mut c, now, inv) = invoiced();
        let refused = |c: &mut Company, lines: Value, extra: Value| {
            let mut body = json!({"CardCode": "C20000", "DocumentLines": lines});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            create_credit_note(c, &object(body), &now).unwrap_err()
        };
        let e = refused(&mut c, json!([based(inv, dec!(3), json!({}))]), json!({}));
        assert!(
            e.message.contains("exceeds its open quantity"),
            "{}",
            e.message
        );
        let e = refused(
            &mut c,
            json!([based(inv + 99, dec!(1), json!({}))]),
            json!({}),
        );
        assert!(e.message.contains("does not exist"), "{}", e.message);
        let e = refused(
            &mut c,
            json!([{"BaseEntry": inv, "BaseLine": 0, "Quantity": 1}]),
            json!({}),
        );
        assert_eq!(e.code, -5002);
        let e = refused(
            &mut c,
            json!([based(inv, dec!(1), json!({}))]),
            json!({"DocumentAdditionalExpenses": [{"ExpenseCode": 1, "LineTotal": -1}]}),
        );
        assert!(e.message.contains("cannot be negative"), "{}", e.message);
        let e = refused(
            &mut c,
            json!([based(inv, dec!(1), json!({}))]),
            json!({"CardCode": "C20001"}),
        );
        assert!(
            e.message.contains("another business partner"),
            "{}",
            e.message
        );
        // Two lines of one request count together against the open quantity.
        let e = refused(
            &mut c,
            json!([
                based(inv, dec!(1), json!({})),
                based(inv, dec!(2), json!({}))
            ]),
            json!({}),
        );
        assert!(
            e.message.contains("exceeds its open quantity"),
            "{}",
            e.message
        );
        assert!(c.credit_notes.is_empty());
    }
}
