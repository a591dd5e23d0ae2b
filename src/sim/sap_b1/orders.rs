//! Creating sales orders (`Orders`, ORDR/RDR1): validated the way B1 validates them (tax field
//! of the localization, exchange rate and partner currency of a foreign-currency document,
//! posting periods), totalled as [`totals`](super::totals) computes in the document's
//! currency, stock committed per line and warehouse.
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::address_block;
use super::approvals;
use super::company::{Company, Stamp};
use super::documents::{DocKind, Document, DocumentExpense, DocumentLine};
use super::entities::BusinessPartner;
use super::enums::{CancelStatus, DocStatus, DocType, YesNo};
use super::errors::ServiceLayerError;
use super::json_input::Fields;
use super::order_actions::change_committed;
use super::totals::{self, ExpenseInput, LineInput, TotalsError, TotalsInput};
use crate::domain::money::round_cents;

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
    if !company.numbering().orders.usable() {
        // The real text was not found; a locked or used-up series cannot number the order.
        return Err(ServiceLayerError::business(
            "The numbering series of Sales Orders is locked or has no numbers left [ORDR.Series]",
        ));
    }
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

/// What `POST /OrdersService_Preview {"Document": {…}}` answers: the order exactly as
/// `POST /Orders` would validate and total it, not numbered and not stored (GUIDE p.29-31:
/// `DocEntry` null). Approval procedures decide what an *add* creates, so a preview, which
/// adds nothing, answers the document either way.
pub fn preview_order(
    company: &Company,
    body: &Map<String, Value>,
    now: &Stamp,
) -> Result<Map<String, Value>, ServiceLayerError> {
    let document = match body.get("Document") {
        Some(Value::Object(d)) => d,
        // The real text was not found.
        _ => {
            return Err(ServiceLayerError::bad_request(
                "OrdersService_Preview expects {\"Document\": {...}}",
            ))
        }
    };
    let order = draft_order(company, document, now)?;
    let mut object = order.to_object();
    object.insert("DocEntry".into(), Value::Null);
    object.insert("DocNum".into(), Value::Null);
    Ok(object)
}

/// The checks every item-type sales document (order, A/R credit memo) starts with: only item
/// documents are simulated, and the partner must exist and be active. `table` names the
/// document's table in SAP's message (`ORDR`, `ORIN`). Text as a real Service Layer answered it
/// for a purchase delivery (OPDN), with our table.
pub(super) fn item_document_partner<'c>(
    company: &'c Company,
    f: &Fields<'_>,
    table: &str,
) -> Result<(String, &'c BusinessPartner), ServiceLayerError> {
    if f.enumeration("DocType", DocType::parse)?
        .is_some_and(|t| t != DocType::Items)
    {
        return Err(ServiceLayerError::not_simulated("service-type documents"));
    }
    let card_code = f.string("CardCode")?.unwrap_or_default();
    let bp = company.business_partners.get(&card_code).ok_or_else(|| {
        ServiceLayerError::business(format!(
            "Invalid BP code [{table}.CardCode] , '{card_code}'"
        ))
    })?;
    if !bp.is_active() {
        // KBA2693418 quotes it with the "(-10)" prefix; we keep the text as quoted.
        return Err(ServiceLayerError::business(format!(
            "(-10) 10001071 - Customer {card_code} is inactive"
        )));
    }
    Ok((card_code, bp))
}

fn draft_order(
    company: &Company,
    body: &Map<String, Value>,
    now: &Stamp,
) -> Result<Document, ServiceLayerError> {
    let f = Fields::new(body, "Document");
    let (card_code, bp) = item_document_partner(company, &f, "ORDR")?;
    let currency = f
        .string("DocCurrency")?
        .or_else(|| bp.currency.clone().filter(|c| c != "##"))
        .unwrap_or_else(|| company.local_currency.clone());
    let doc_date = f.date("DocDate")?.unwrap_or(now.date);
    let doc_due_date = f.date("DocDueDate")?.unwrap_or(doc_date);
    let tax_date = f.date("TaxDate")?.unwrap_or(doc_date);
    company.check_posting_dates(&[doc_date, doc_due_date, tax_date])?;
    company.check_partner_currency(&card_code, bp.currency.as_deref(), &currency)?;
    let rate = company.document_rate(&currency, doc_date)?;
    let foreign = currency != company.local_currency;

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
        let (line, input) = draft_line(company, value, index, &currency, doc_date, foreign, rate)?;
        lines.push(line);
        line_inputs.push(input);
    }
    let mut expenses = Vec::new();
    let mut expense_inputs = Vec::new();
    for (index, value) in f.array("DocumentAdditionalExpenses")?.iter().enumerate() {
        let (expense, input) = draft_expense(company, value, index, doc_date, foreign, rate)?;
        expenses.push(expense);
        expense_inputs.push(input);
    }
    let header_discount = f.decimal("DiscountPercent")?.unwrap_or_default();
    let computed = totals::compute(&TotalsInput {
        lines: line_inputs,
        expenses: expense_inputs,
        header_discount_percent: header_discount,
        // The total in the document's currency: `DocTotalFc` on a foreign-currency document.
        requested_doc_total: if foreign {
            f.decimal("DocTotalFc")?
        } else {
            f.decimal("DocTotal")?
        },
    })
    .map_err(totals_error)?;
    // Totals are computed in the document's currency; a foreign-currency document keeps
    // them as the FC twins and books the local amounts at the day's rate.
    let local = |fc: Decimal| {
        if foreign {
            round_cents(fc * rate)
        } else {
            fc
        }
    };
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
    let rounding_diff_amount = local(computed.rounding_diff_amount);
    let doc_total = lines.iter().map(|l| l.line_total).sum::<Decimal>() - total_discount
        + expenses.iter().map(|e| e.line_total).sum::<Decimal>()
        + vat_sum
        + rounding_diff_amount;
    let address_extension = f.object("AddressExtension")?;
    // With an extension, SAP clears `Address`/`Address2` and rebuilds them from its parts.
    let (address, address2) = match address_extension.as_ref().and_then(Value::as_object) {
        Some(ext) => (
            address_block::rebuild(ext, "BillTo"),
            address_block::rebuild(ext, "ShipTo"),
        ),
        None => (f.string("Address")?, f.string("Address2")?),
    };
    Ok(Document {
        doc_entry: 0,
        doc_num: 0,
        doc_type: DocType::Items,
        doc_object_code: DocKind::Order.object(),
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
        ship_to_code: f.string("ShipToCode")?,
        pay_to_code: f.string("PayToCode")?,
        address,
        address2,
        tracking_number: f.string("TrackingNumber")?,
        discount_percent: computed.discount_percent,
        total_discount,
        vat_sum,
        rounding_diff_amount,
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
        address_extension,
        document_lines: lines,
        document_additional_expenses: expenses,
        user_fields: f.user_fields(),
    })
}

/// The amount of a line or freight in the document's currency: on a foreign-currency
/// document the FC field (`RowTotalFC`/`LineTotalFC`), else a local amount converted at the
/// document's rate; on a local-currency document the local field.
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

fn draft_line(
    company: &Company,
    value: &Value,
    index: usize,
    currency: &str,
    day: chrono::NaiveDate,
    foreign: bool,
    rate: Decimal,
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
    let tax_code = f.string("TaxCode")?;
    let vat_group = f.string("VatGroup")?;
    let tax_rate = company.tax_rate(tax_code.as_deref(), vat_group.as_deref(), day)?;
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
        line_total: document_amount(&f, "LineTotal", "RowTotalFC", foreign, rate)?,
        tax_rate,
        // `TaxTotal` is a local amount.
        tax_total: f
            .decimal("TaxTotal")?
            .map(|t| if foreign { round_cents(t / rate) } else { t }),
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
        vat_group,
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
    day: chrono::NaiveDate,
    foreign: bool,
    rate: Decimal,
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
    let vat_group = f.string("VatGroup")?;
    let tax_rate = company.tax_rate(tax_code.as_deref(), vat_group.as_deref(), day)?;
    let input = ExpenseInput {
        line_total: document_amount(&f, "LineTotal", "LineTotalFC", foreign, rate)?
            .unwrap_or_default(),
        tax_rate,
        tax_sum: f
            .decimal("TaxSum")?
            .map(|t| if foreign { round_cents(t / rate) } else { t }),
    };
    let expense = DocumentExpense {
        line_num: index as i64,
        expense_code: code,
        tax_code,
        vat_group,
        tax_rate,
        remarks: f.string("Remarks")?,
        ..Default::default()
    };
    Ok((expense, input))
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
        above @ TotalsError::DocTotalAboveCalculated { .. } => {
            ServiceLayerError::business(format!("{above} [ORDR.DocTotal]"))
        }
    }
}
