//! Deliveries and invoices, created the way a warehouse or accountant would in the B1 client
//! (the simulator's control endpoints), so tests can drive an order to "shipped" or
//! "invoiced". Target lines carry `BaseType`/`BaseEntry`/`BaseLine` (reference §6); copying
//! from an order moves stock: `InStock` and `Committed` fall, the order's open quantity falls
//! and the order closes when nothing is left open.
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

use super::company::{Company, Stamp};
use super::documents::{DocKind, Document, DocumentLine};
use super::enums::{CancelStatus, DocStatus, YesNo};
use super::errors::ServiceLayerError;
use super::order_actions::change_committed;
use super::serial_batch::check_selection;
use super::totals::{self, ExpenseInput, LineInput, TotalsInput};

/// What a warehouse ships: some or all open lines of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRequest {
    pub order_doc_entry: i64,
    /// `None` delivers every open quantity.
    #[serde(default)]
    pub lines: Option<Vec<DeliveryLineRequest>>,
    #[serde(default)]
    pub tracking_number: Option<String>,
    #[serde(default)]
    pub doc_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLineRequest {
    pub line_num: i64,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub quantity: Decimal,
    /// `SerialNumbers` entries as the Service Layer takes them; required for serial-managed
    /// items, since goods leave the warehouse here (reference §10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serial_numbers: Vec<Value>,
    /// `BatchNumbers` entries; required for batch-managed items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch_numbers: Vec<Value>,
}

impl DeliveryLineRequest {
    /// `quantity` of order line `line_num`, for items that need no serial or batch numbers.
    pub fn new(line_num: i64, quantity: Decimal) -> Self {
        Self {
            line_num,
            quantity,
            serial_numbers: Vec::new(),
            batch_numbers: Vec::new(),
        }
    }
}

/// The serial and batch numbers picked per order line (`LineNum`).
type Selections<'a> = HashMap<i64, (&'a [Value], &'a [Value])>;

/// What an invoice is copied from: the open rest of an order, or a whole delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceBase {
    Order(i64),
    Delivery(i64),
}

pub fn create_delivery(
    company: &mut Company,
    request: &DeliveryRequest,
    now: &Stamp,
) -> Result<Document, ServiceLayerError> {
    let picks = match &request.lines {
        Some(lines) => lines.iter().map(|l| (l.line_num, l.quantity)).collect(),
        None => all_open(company, request.order_doc_entry)?,
    };
    let selections: Selections = request
        .lines
        .iter()
        .flatten()
        .map(|l| {
            (
                l.line_num,
                (l.serial_numbers.as_slice(), l.batch_numbers.as_slice()),
            )
        })
        .collect();
    let mut delivery = copy_from_order(
        company,
        request.order_doc_entry,
        &picks,
        &selections,
        DocKind::DeliveryNote,
        now,
    )?;
    if let Some(date) = request.doc_date {
        delivery.doc_date = date;
        delivery.doc_due_date = date;
        delivery.tax_date = date;
    }
    delivery.tracking_number = request.tracking_number.clone();
    company
        .delivery_notes
        .insert(delivery.doc_entry, delivery.clone());
    Ok(delivery)
}

pub fn create_invoice(
    company: &mut Company,
    base: InvoiceBase,
    now: &Stamp,
) -> Result<Document, ServiceLayerError> {
    let invoice = match base {
        InvoiceBase::Order(entry) => {
            let picks = all_open(company, entry)?;
            // An invoice not based on a delivery moves the goods itself; the control
            // endpoint picks no numbers, so serial/batch items must be delivered first.
            copy_from_order(
                company,
                entry,
                &picks,
                &Selections::new(),
                DocKind::Invoice,
                now,
            )?
        }
        InvoiceBase::Delivery(entry) => {
            let delivery = company
                .delivery_notes
                .get(&entry)
                .ok_or_else(ServiceLayerError::not_found)?;
            if !delivery.is_open() {
                return Err(already_closed("Delivery", delivery.doc_num));
            }
            let numbers = company.next_numbers(DocKind::Invoice);
            let delivery = &company.delivery_notes[&entry];
            let picks: Vec<(&DocumentLine, Decimal)> = delivery
                .document_lines
                .iter()
                .map(|l| (l, l.quantity))
                .collect();
            let invoice = build_target(
                delivery,
                DocKind::DeliveryNote,
                &picks,
                Target {
                    kind: DocKind::Invoice,
                    numbers,
                    with_expenses: true,
                },
                now,
            )?;
            let delivery = company
                .delivery_notes
                .get_mut(&entry)
                .expect("looked up above");
            delivery.document_status = DocStatus::Close;
            for line in &mut delivery.document_lines {
                line.line_status = DocStatus::Close;
                line.remaining_open_quantity = Decimal::ZERO;
            }
            delivery.update_date = now.date;
            delivery.update_time = now.time.clone();
            invoice
        }
    };
    company.invoices.insert(invoice.doc_entry, invoice.clone());
    Ok(invoice)
}

fn already_closed(what: &str, doc_num: i64) -> ServiceLayerError {
    // The real text was not found.
    ServiceLayerError::business(format!(
        "{what} {doc_num} is closed or cancelled and cannot be copied"
    ))
}

fn all_open(company: &Company, order_entry: i64) -> Result<Vec<(i64, Decimal)>, ServiceLayerError> {
    let order = company
        .orders
        .get(&order_entry)
        .ok_or_else(ServiceLayerError::not_found)?;
    Ok(order
        .document_lines
        .iter()
        .filter(|l| l.remaining_open_quantity > Decimal::ZERO)
        .map(|l| (l.line_num, l.remaining_open_quantity))
        .collect())
}

/// Copies quantities of an order into a delivery or invoice and moves the stock.
fn copy_from_order(
    company: &mut Company,
    order_entry: i64,
    picks: &[(i64, Decimal)],
    selections: &Selections,
    kind: DocKind,
    now: &Stamp,
) -> Result<Document, ServiceLayerError> {
    let order = company
        .orders
        .get(&order_entry)
        .ok_or_else(ServiceLayerError::not_found)?;
    if !order.is_open() {
        return Err(already_closed("Sales order", order.doc_num));
    }
    if picks.is_empty() {
        return Err(ServiceLayerError::business(
            "Document must contain at least one row [DocumentLines]",
        ));
    }
    // Quantities add up when a line or an item appears more than once.
    let mut per_line: HashMap<i64, Decimal> = HashMap::new();
    let mut per_stock: HashMap<(&str, &str), Decimal> = HashMap::new();
    for (row, (line_num, quantity)) in picks.iter().enumerate() {
        let line = order
            .document_lines
            .iter()
            .find(|l| l.line_num == *line_num)
            .ok_or_else(|| {
                ServiceLayerError::business(format!(
                    "Base line {line_num} does not exist on sales order {}",
                    order.doc_num
                ))
            })?;
        let line_total = per_line.entry(*line_num).or_default();
        *line_total += *quantity;
        if *quantity <= Decimal::ZERO || *line_total > line.remaining_open_quantity {
            return Err(ServiceLayerError::business(format!(
                "Quantity {quantity} of base line {line_num} exceeds its open quantity {} [DocumentLines.Quantity][line: {}]",
                line.remaining_open_quantity,
                row + 1
            )));
        }
        if let Some(item) = company.items.get(&line.item_code) {
            let (serials, batches) = selections.get(line_num).copied().unwrap_or_default();
            check_selection(item, *quantity, serials, batches)?;
        }
        if let Some(item) = company
            .items
            .get(&line.item_code)
            .filter(|i| i.inventory_item.is_yes())
        {
            let in_stock = item
                .item_warehouse_info_collection
                .iter()
                .find(|w| w.warehouse_code == line.warehouse_code)
                .map(|w| w.in_stock)
                .unwrap_or_default();
            let needed = per_stock
                .entry((&line.item_code, &line.warehouse_code))
                .or_default();
            *needed += *quantity;
            if in_stock < *needed {
                // The Service Layer form of the text (reference §5, §8).
                return Err(ServiceLayerError::business(format!(
                    "Quantity falls into negative inventory [DocumentLines.ItemCode][line: {}]",
                    row + 1
                )));
            }
        }
    }
    // Freight goes with the first document copied from the order.
    let first_copy = !order.has_target_documents();
    let numbers = company.next_numbers(kind);
    let order = &company.orders[&order_entry];
    let lines: Vec<(&DocumentLine, Decimal)> = picks
        .iter()
        .filter_map(|(n, q)| {
            order
                .document_lines
                .iter()
                .find(|l| l.line_num == *n)
                .map(|l| (l, *q))
        })
        .collect();
    let target = build_target(
        order,
        DocKind::Order,
        &lines,
        Target {
            kind,
            numbers,
            with_expenses: first_copy,
        },
        now,
    )?;

    let mut order = order.clone();
    for (line_num, quantity) in picks {
        let line = order
            .document_lines
            .iter_mut()
            .find(|l| l.line_num == *line_num)
            .expect("validated above");
        line.remaining_open_quantity -= *quantity;
        if line.remaining_open_quantity.is_zero() {
            line.line_status = DocStatus::Close;
        }
        let moved = line.clone();
        change_committed(company, &moved, -*quantity);
        if let Some(item) = company.items.get_mut(&moved.item_code) {
            if item.inventory_item.is_yes() {
                item.warehouse_mut(&moved.warehouse_code).in_stock -= *quantity;
                item.recompute_totals();
            }
        }
    }
    // B1 closes a fully delivered order (reference §6: B1 behaviour, not confirmed there).
    if order
        .document_lines
        .iter()
        .all(|l| l.remaining_open_quantity.is_zero())
    {
        order.document_status = DocStatus::Close;
    }
    order.update_date = now.date;
    order.update_time = now.time.clone();
    company.put_order(order);
    Ok(target)
}

/// What is being created: its type, its numbers, and whether the source's freight moves
/// with it.
struct Target {
    kind: DocKind,
    numbers: (i64, i64),
    with_expenses: bool,
}

/// The target document: source lines with the picked quantities, totals recomputed.
fn build_target(
    source: &Document,
    source_kind: DocKind,
    picks: &[(&DocumentLine, Decimal)],
    target: Target,
    now: &Stamp,
) -> Result<Document, ServiceLayerError> {
    let Target {
        kind,
        numbers: (doc_entry, doc_num),
        with_expenses,
    } = target;
    let expenses = if with_expenses {
        source.document_additional_expenses.clone()
    } else {
        Vec::new()
    };
    let computed = totals::compute(&TotalsInput {
        lines: picks
            .iter()
            .map(|(l, q)| LineInput {
                quantity: *q,
                unit_price: l.unit_price,
                discount_percent: l.discount_percent,
                line_total: None,
                tax_rate: l.tax_percentage_per_row,
                tax_total: None,
            })
            .collect(),
        expenses: expenses
            .iter()
            .map(|e| ExpenseInput {
                line_total: e.line_total,
                tax_rate: e.tax_rate,
                tax_sum: Some(e.tax_sum),
            })
            .collect(),
        header_discount_percent: source.discount_percent,
        requested_doc_total: None,
    })
    .map_err(|e| ServiceLayerError::business(e.to_string()))?;
    let lines = picks
        .iter()
        .zip(&computed.lines)
        .enumerate()
        .map(|(i, ((l, q), t))| DocumentLine {
            line_num: i as i64,
            quantity: *q,
            remaining_open_quantity: *q,
            line_status: DocStatus::Open,
            price: t.price,
            price_after_vat: t.price_after_vat,
            line_total: t.line_total,
            tax_total: t.tax_total,
            base_type: source_kind.object_type(),
            base_entry: Some(source.doc_entry),
            base_line: Some(l.line_num),
            ..(*l).clone()
        })
        .collect();
    Ok(Document {
        doc_entry,
        doc_num,
        doc_object_code: kind.object(),
        doc_date: now.date,
        doc_due_date: now.date,
        tax_date: now.date,
        creation_date: now.date,
        update_date: now.date,
        update_time: now.time.clone(),
        // B1 writes this remark when copying.
        comments: Some(format!(
            "Based On {} {}.",
            match source_kind {
                DocKind::Order => "Sales Orders",
                DocKind::DeliveryNote => "Deliveries",
                DocKind::Invoice => "A/R Invoices",
                DocKind::CreditNote => "A/R Credit Memos",
                DocKind::Draft => "Drafts",
            },
            source.doc_num
        )),
        total_discount: computed.total_discount,
        vat_sum: computed.vat_sum,
        rounding_diff_amount: Decimal::ZERO,
        doc_total: computed.doc_total,
        document_status: DocStatus::Open,
        cancelled: YesNo::No,
        cancel_status: CancelStatus::No,
        document_lines: lines,
        document_additional_expenses: expenses,
        ..source.clone()
    })
}
