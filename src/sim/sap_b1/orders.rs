//! Creating sales orders (`Orders`, ORDR/RDR1): validated the way B1 validates them, totalled
//! as [`totals`](super::totals) computes, stock committed per line and warehouse.
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::approvals;
use super::company::{Company, Stamp};
use super::documents::{DocKind, Document, DocumentExpense, DocumentLine};
use super::enums::{CancelStatus, DocStatus, DocType, YesNo};
use super::errors::ServiceLayerError;
use super::json_input::Fields;
use super::order_actions::change_committed;
use super::totals::{self, ExpenseInput, LineInput, TotalsError, TotalsInput};

/// What a `POST /Orders` added: the order, or a draft when an approval procedure applies.
pub enum Added {
    Order(Box<Document>),
    /// The draft as stored; the Service Layer does not answer it (see `approvals`).
    Draft,
}

/// Validates and books a new order: numbers it, commits its stock and returns it. When an
/// approval procedure applies, it is stored as a draft instead (see [`approvals`]).
pub fn create_order(
    company: &mut Company,
    body: &Map<String, Value>,
    now: &Stamp,
) -> Result<Added, ServiceLayerError> {
    let mut order = draft_order(company, body, now)?;
    if company
        .approval_procedures
        .iter()
        .any(|p| p.applies(&order))
    {
        approvals::add_draft(company, order);
        return Ok(Added::Draft);
    }
    let (doc_entry, doc_num) = company.next_numbers(DocKind::Order);
    order.doc_entry = doc_entry;
    order.doc_num = doc_num;
    for line in &order.document_lines {
        change_committed(company, line, line.quantity);
    }
    company.put_order(order.clone());
    Ok(Added::Order(Box::new(order)))
}

fn draft_order(
    company: &Company,
    body: &Map<String, Value>,
    now: &Stamp,
) -> Result<Document, ServiceLayerError> {
    let f = Fields::new(body, "Document");
    if f.enumeration("DocType", DocType::parse)?
        .is_some_and(|t| t != DocType::Items)
    {
        return Err(ServiceLayerError::not_simulated("service-type documents"));
    }
    let card_code = f.string("CardCode")?.unwrap_or_default();
    // Text as a real Service Layer answered it for a purchase delivery (OPDN), with our table.
    let bp = company.business_partners.get(&card_code).ok_or_else(|| {
        ServiceLayerError::business(format!("Invalid BP code [ORDR.CardCode] , '{card_code}'"))
    })?;
    if !bp.is_active() {
        // KBA2693418 quotes it with the "(-10)" prefix; we keep the text as quoted.
        return Err(ServiceLayerError::business(format!(
            "(-10) 10001071 - Customer {card_code} is inactive"
        )));
    }
    let currency = f
        .string("DocCurrency")?
        .or_else(|| bp.currency.clone())
        .unwrap_or_else(|| company.local_currency.clone());

    let line_values = f.array("DocumentLines")?;
    if line_values.is_empty() {
        // The real text for a document without rows was not found.
        return Err(ServiceLayerError::business(
            "Document must contain at least one row [DocumentLines]",
        ));
    }
    let mut lines = Vec::with_capacity(line_values.len());
    let mut line_inputs = Vec::with_capacity(line_values.len());
    for (index, value) in line_values.iter().enumerate() {
        let (line, input) = draft_line(company, value, index, &currency)?;
        lines.push(line);
        line_inputs.push(input);
    }
    let mut expenses = Vec::new();
    let mut expense_inputs = Vec::new();
    for (index, value) in f.array("DocumentAdditionalExpenses")?.iter().enumerate() {
        let (expense, input) = draft_expense(company, value, index)?;
        expenses.push(expense);
        expense_inputs.push(input);
    }
    let header_discount = f.decimal("DiscountPercent")?.unwrap_or_default();
    let computed = totals::compute(&TotalsInput {
        lines: line_inputs,
        expenses: expense_inputs,
        header_discount_percent: header_discount,
        requested_doc_total: f.decimal("DocTotal")?,
    })
    .map_err(totals_error)?;
    for (line, t) in lines.iter_mut().zip(&computed.lines) {
        line.unit_price = t.unit_price;
        line.price = t.price;
        line.price_after_vat = t.price_after_vat;
        line.line_total = t.line_total;
        line.tax_total = t.tax_total;
    }
    for (expense, t) in expenses.iter_mut().zip(&computed.expenses) {
        expense.line_total = t.line_total;
        expense.tax_sum = t.tax_sum;
        expense.line_gross = t.line_gross;
    }
    let doc_date = f.date("DocDate")?.unwrap_or(now.date);
    Ok(Document {
        doc_entry: 0,
        doc_num: 0,
        doc_type: DocType::Items,
        doc_object_code: DocKind::Order.object(),
        doc_date,
        doc_due_date: f.date("DocDueDate")?.unwrap_or(doc_date),
        tax_date: f.date("TaxDate")?.unwrap_or(doc_date),
        creation_date: now.date,
        update_date: now.date,
        update_time: now.time.clone(),
        card_name: f.string("CardName")?.or_else(|| bp.card_name.clone()),
        card_code,
        num_at_card: f.string("NumAtCard")?,
        doc_currency: currency,
        comments: f.string("Comments")?,
        ship_to_code: f.string("ShipToCode")?,
        pay_to_code: f.string("PayToCode")?,
        address: f.string("Address")?,
        address2: f.string("Address2")?,
        tracking_number: f.string("TrackingNumber")?,
        discount_percent: header_discount,
        total_discount: computed.total_discount,
        vat_sum: computed.vat_sum,
        rounding_diff_amount: computed.rounding_diff_amount,
        doc_total: computed.doc_total,
        document_status: DocStatus::Open,
        cancelled: YesNo::No,
        cancel_status: CancelStatus::No,
        address_extension: f.object("AddressExtension")?,
        document_lines: lines,
        document_additional_expenses: expenses,
        user_fields: f.user_fields(),
    })
}

fn draft_line(
    company: &Company,
    value: &Value,
    index: usize,
    currency: &str,
) -> Result<(DocumentLine, LineInput), ServiceLayerError> {
    let f = Fields::nested(value, "DocumentLine")?;
    let row = index + 1;
    let item_code = f.string("ItemCode")?.unwrap_or_default();
    if item_code.is_empty() {
        return Err(ServiceLayerError::business(format!(
            "Item number is missing; specify an item number [DocumentLines.ItemCode][line: {row}]"
        )));
    }
    // The real text for an unknown item code was not found; this one follows B1's
    // "[field][line: n]" pattern and names the code.
    let item = company.items.get(&item_code).ok_or_else(|| {
        ServiceLayerError::business(format!(
            "Invalid item code [DocumentLines.ItemCode][line: {row}] , '{item_code}'"
        ))
    })?;
    if !item.is_active() {
        // B1 reports inactive and frozen alike (KBA2693418 text).
        return Err(ServiceLayerError::business(format!(
            "10001069 - Item {item_code} is inactive"
        )));
    }
    if !item.sales_item.is_yes() {
        // The real text was not found.
        return Err(ServiceLayerError::business(format!(
            "Item '{item_code}' is not a sales item [DocumentLines.ItemCode][line: {row}]"
        )));
    }
    let quantity = f.decimal("Quantity")?.unwrap_or(Decimal::ONE);
    if quantity <= Decimal::ZERO {
        // The real text was not found.
        return Err(ServiceLayerError::business(format!(
            "Quantity must be greater than zero [DocumentLines.Quantity][line: {row}]"
        )));
    }
    let warehouse_code = f
        .string("WarehouseCode")?
        .or_else(|| item.default_warehouse.clone())
        .unwrap_or_else(|| company.default_warehouse.clone());
    match company.warehouses.get(&warehouse_code) {
        Some(w) if !w.inactive.is_yes() => {}
        // The real texts for an unknown or inactive warehouse were not found.
        Some(_) => {
            return Err(ServiceLayerError::business(format!(
                "Warehouse '{warehouse_code}' is inactive [DocumentLines.WarehouseCode][line: {row}]"
            )))
        }
        None => {
            return Err(ServiceLayerError::business(format!(
                "Invalid warehouse code [DocumentLines.WarehouseCode][line: {row}] , '{warehouse_code}'"
            )))
        }
    }
    // A line without a tax code is booked untaxed; B1 would derive one from the item or the
    // customer's tax group, which the seed does not model.
    let tax_code = f.string("TaxCode")?;
    let tax_rate = tax_rate(company, tax_code.as_deref())?;
    // Serial and batch numbers are chosen at delivery (or on an invoice not based on one):
    // a Sales Order needs none (reference §10), so any sent are only kept.
    let serial_numbers = f.array("SerialNumbers")?.to_vec();
    let batch_numbers = f.array("BatchNumbers")?.to_vec();
    let unit_price = match f.decimal("UnitPrice")? {
        Some(p) => p,
        None => f
            .decimal("Price")?
            .or_else(|| item.base_price())
            .unwrap_or_default(),
    };
    let discount_percent = f.decimal("DiscountPercent")?.unwrap_or_default();
    let input = LineInput {
        quantity,
        unit_price,
        discount_percent,
        line_total: f.decimal("LineTotal")?,
        tax_rate,
    };
    let line = DocumentLine {
        line_num: index as i64,
        item_description: f
            .string("ItemDescription")?
            .unwrap_or_else(|| item.item_name.clone()),
        item_code,
        quantity,
        unit_price,
        discount_percent,
        currency: currency.to_owned(),
        tax_code,
        tax_percentage_per_row: tax_rate,
        warehouse_code,
        line_status: DocStatus::Open,
        remaining_open_quantity: quantity,
        base_type: -1,
        serial_numbers,
        batch_numbers,
        user_fields: f.user_fields(),
        ..Default::default()
    };
    Ok((line, input))
}

fn draft_expense(
    company: &Company,
    value: &Value,
    index: usize,
) -> Result<(DocumentExpense, ExpenseInput), ServiceLayerError> {
    let f = Fields::nested(value, "DocumentAdditionalExpense")?;
    let code = f.integer("ExpenseCode")?.unwrap_or_default();
    if !company.expense_codes.contains_key(&code) {
        // The real text was not found.
        return Err(ServiceLayerError::business(format!(
            "Invalid freight code [DocumentAdditionalExpenses.ExpenseCode][line: {}] , '{code}'",
            index + 1
        )));
    }
    let tax_code = f.string("TaxCode")?;
    let input = ExpenseInput {
        line_total: f.decimal("LineTotal")?.unwrap_or_default(),
        tax_rate: tax_rate(company, tax_code.as_deref())?,
    };
    let expense = DocumentExpense {
        line_num: index as i64,
        expense_code: code,
        tax_code,
        remarks: f.string("Remarks")?,
        ..Default::default()
    };
    Ok((expense, input))
}

/// The rate of a tax code; an unknown code is KBA2693418's "Specify valid tax code".
pub fn tax_rate(company: &Company, code: Option<&str>) -> Result<Decimal, ServiceLayerError> {
    match code {
        None => Ok(Decimal::ZERO),
        Some(code) => company
            .tax_codes
            .get(code)
            .map(|t| t.rate)
            .ok_or_else(|| ServiceLayerError::business("10000180 - Specify valid tax code")),
    }
}

fn totals_error(e: TotalsError) -> ServiceLayerError {
    match e {
        // Text and code as KBA3697554 quotes them.
        TotalsError::DiscountOutOfRange => ServiceLayerError::new(
            StatusCode::BAD_REQUEST,
            -5002,
            "(5002) 10001058 Enter a discount percentage of less than 100",
        ),
        // The real text was not found.
        mismatch @ TotalsError::DocTotalMismatch { .. } => {
            ServiceLayerError::business(format!("{mismatch} [ORDR.DocTotal]"))
        }
    }
}
