//! A refund as an SAP A/R credit memo, built from the invoice lines SAP holds for its order
//! (docs/refunds.md). Pure: the worker reads SAP and hands the facts in.
//!
//! - each refunded item's quantity is taken from the open quantity of the invoice lines of
//!   its order line (`BaseType` 13), oldest invoice first; its Magento net amount is sent as
//!   `LineTotal` (split over several invoice lines in proportion to the quantities);
//! - goods going back to stock post into the returns warehouse with a stock movement; the
//!   rest post with `WithoutInventoryMovement`;
//! - refunded shipping is freight with the invoice's expense code;
//! - the Adjustment Refund is freight with its expense code, or a line of the adjustment
//!   item; the Adjustment Fee is a line of the adjustment item with quantity −1; a refund
//!   without items (shipping only) carries the adjustment item at price 0, since a
//!   document needs a row;
//! - the totals SAP will book are computed beforehand (SAP's tax per line: the invoice
//!   line's rate, rounded to the cent) and must equal Magento's, else `total_mismatch`.
use rust_decimal::Decimal;
use serde_json::json;

use super::company::{CompanyFacts, TaxLocalization};
use super::exception::{Category, NewException};
use super::ids::{ItemCode, TaxCode, WarehouseCode};
use super::money::{round_cents, Currency};
use super::order::Order;
use super::refund::{order_line_index, Refund};
use super::settings::{Settings, TaxStrategy};

/// An invoice line of the order, as SAP reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceLine {
    pub doc_entry: i64,
    pub line_num: i64,
    /// The canonical order line it invoices (its Sales Order `LineNum`).
    pub order_line: usize,
    pub open_qty: Decimal,
    /// `TaxPercentagePerRow`.
    pub tax_rate: Decimal,
}

/// The invoice's freight, whose expense code and tax code refunded shipping reuses.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceFreight {
    pub expense_code: i64,
    pub tax_code: Option<TaxCode>,
}

/// What the credit memo is built from besides the refund.
pub struct Facts<'a> {
    pub order: &'a Order,
    pub order_increment_id: &'a str,
    pub invoice_lines: &'a [InvoiceLine],
    pub freight: Option<InvoiceFreight>,
    pub company: &'a CompanyFacts,
    pub settings: &'a Settings,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreditNoteDraft {
    pub currency: Option<Currency>,
    pub foreign_currency: bool,
    pub localization: TaxLocalization,
    pub comments: String,
    pub lines: Vec<CreditLine>,
    pub expenses: Vec<CreditExpense>,
    pub expected_total: Decimal,
    pub expected_tax: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CreditLine {
    /// A copy of an invoice line.
    Based {
        base_entry: i64,
        base_line: i64,
        quantity: Decimal,
        net: Decimal,
        /// Sent as `TaxTotal` (kept by SAP) under the `magento_line_tax` strategy.
        tax_total: Option<Decimal>,
        /// `Some(warehouse)`: back to stock there; `None`: without stock movement.
        back_to_stock: Option<WarehouseCode>,
    },
    /// A line of the adjustment item (quantity 1 for a refund, −1 for a fee).
    Adjustment {
        item_code: ItemCode,
        quantity: Decimal,
        unit_price: Decimal,
        tax_code: TaxCode,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreditExpense {
    pub expense_code: i64,
    pub net: Decimal,
    pub tax_code: Option<TaxCode>,
    /// Sent as `TaxSum` under the `magento_line_tax` strategy.
    pub tax_sum: Option<Decimal>,
}

/// Builds the credit memo, or the exception that says why it cannot be made yet
/// (`refund_unmatched`) or would not equal Magento's (`total_mismatch`).
#[allow(clippy::result_large_err)]
pub fn build_credit_note(refund: &Refund, f: &Facts<'_>) -> Result<CreditNoteDraft, NewException> {
    let foreign = refund
        .currency
        .as_ref()
        .is_some_and(|c| f.company.is_foreign(c));
    let send_tax = f.settings.tax_strategy == TaxStrategy::MagentoLineTax && !foreign;
    let rs = &f.settings.refunds;
    let mut open: Vec<InvoiceLine> = f.invoice_lines.to_vec();
    open.sort_by_key(|l| (l.doc_entry, l.line_num));
    let mut lines = Vec::new();
    let mut expected_tax = Decimal::ZERO;
    let mut expected_net = Decimal::ZERO;
    let mut missing = Vec::new();
    for line in &refund.lines {
        let Some(index) = order_line_index(f.order, line.order_item_id) else {
            if !(line.net.is_zero() && line.tax.is_zero()) {
                missing.push(format!(
                    "item {} ({}) is not a line of the order",
                    line.order_item_id,
                    line.sku.as_deref().unwrap_or("no SKU")
                ));
            }
            continue;
        };
        let back = line.back_to_stock.unwrap_or(rs.auto_return_to_stock);
        let mut left = line.qty;
        let mut takes: Vec<(usize, Decimal)> = Vec::new();
        for (i, inv) in open.iter().enumerate() {
            if left.is_zero() {
                break;
            }
            if inv.order_line != index || inv.open_qty <= Decimal::ZERO {
                continue;
            }
            let take = left.min(inv.open_qty);
            takes.push((i, take));
            left -= take;
        }
        if !left.is_zero() {
            missing.push(format!(
                "{} of {} × {} have no open A/R invoice line",
                left,
                line.qty,
                line.sku.as_deref().unwrap_or("item")
            ));
            continue;
        }
        let (mut net_left, mut tax_left) = (line.net, line.tax);
        for (n, (i, take)) in takes.iter().enumerate() {
            let last = n + 1 == takes.len();
            let share = |amount: Decimal| round_cents(amount * *take / line.qty);
            let (net, tax) = if last {
                (net_left, tax_left)
            } else {
                (share(line.net), share(line.tax))
            };
            net_left -= net;
            tax_left -= tax;
            let inv = &mut open[*i];
            inv.open_qty -= *take;
            expected_net += net;
            expected_tax += if send_tax {
                tax
            } else {
                round_cents(net * inv.tax_rate / Decimal::from(100))
            };
            lines.push(CreditLine::Based {
                base_entry: inv.doc_entry,
                base_line: inv.line_num,
                quantity: *take,
                net,
                tax_total: send_tax.then_some(tax),
                back_to_stock: back.then(|| {
                    rs.returns_warehouse
                        .clone()
                        .unwrap_or_else(|| f.settings.default_warehouse.clone())
                }),
            });
        }
    }
    if !missing.is_empty() {
        return Err(unmatched(refund, f.order_increment_id, &missing));
    }

    let mut expenses = Vec::new();
    if !refund.shipping.is_zero() {
        let (expense_code, tax_code) = match &f.freight {
            Some(fr) => (fr.expense_code, fr.tax_code.clone()),
            None => (
                i64::from(f.settings.default_freight_expense_code),
                Some(f.settings.tax_exempt_code.clone()),
            ),
        };
        expected_net += refund.shipping;
        expected_tax += if send_tax {
            refund.shipping_tax
        } else {
            let rate = tax_code
                .as_ref()
                .and_then(|c| f.company.rate(c))
                .unwrap_or_default();
            round_cents(refund.shipping * rate / Decimal::from(100))
        };
        expenses.push(CreditExpense {
            expense_code,
            net: refund.shipping,
            tax_code,
            tax_sum: send_tax.then_some(refund.shipping_tax),
        });
    }
    let exempt = f.settings.tax_exempt_code.clone();
    let exempt_rate = f.company.rate(&exempt).unwrap_or_default();
    let mut no_home = Vec::new();
    if !refund.adjustment_refund.is_zero() {
        let amount = refund.adjustment_refund;
        expected_net += amount;
        expected_tax += round_cents(amount * exempt_rate / Decimal::from(100));
        match (rs.adjustment_refund_expense_code, &rs.adjustment_item_code) {
            (Some(code), _) => expenses.push(CreditExpense {
                expense_code: i64::from(code),
                net: amount,
                tax_code: Some(exempt.clone()),
                tax_sum: None,
            }),
            (None, Some(item)) => lines.push(CreditLine::Adjustment {
                item_code: item.clone(),
                quantity: Decimal::ONE,
                unit_price: amount,
                tax_code: exempt.clone(),
            }),
            (None, None) => no_home.push("Adjustment Refund"),
        }
    }
    if !refund.adjustment_fee.is_zero() {
        let amount = refund.adjustment_fee;
        expected_net -= amount;
        expected_tax -= round_cents(amount * exempt_rate / Decimal::from(100));
        match &rs.adjustment_item_code {
            Some(item) => lines.push(CreditLine::Adjustment {
                item_code: item.clone(),
                quantity: Decimal::NEGATIVE_ONE,
                unit_price: amount,
                tax_code: exempt.clone(),
            }),
            None => no_home.push("Adjustment Fee"),
        }
    }
    // A document needs at least one row: a refund of shipping (or an adjustment refund)
    // alone carries the adjustment item at price 0.
    if lines.is_empty() {
        match &rs.adjustment_item_code {
            Some(item) => lines.push(CreditLine::Adjustment {
                item_code: item.clone(),
                quantity: Decimal::ONE,
                unit_price: Decimal::ZERO,
                tax_code: exempt.clone(),
            }),
            None => no_home.push("refund without items (SAP needs one row)"),
        }
    }
    let expected_total = expected_net + expected_tax;
    let tolerance = f.settings.total_tolerance;
    let off = (expected_total - refund.grand_total).abs() > tolerance
        || (expected_tax - refund.tax_amount).abs() > tolerance;
    if !no_home.is_empty() || off {
        return Err(mismatch(
            refund,
            f.order_increment_id,
            expected_total,
            expected_tax,
            &no_home,
        ));
    }
    Ok(CreditNoteDraft {
        currency: refund.currency.clone(),
        foreign_currency: foreign,
        localization: f.company.localization,
        comments: format!(
            "Magento credit memo #{} · order #{}",
            refund.credit_memo_id, f.order_increment_id
        ),
        lines,
        expenses,
        expected_total,
        expected_tax,
    })
}

/// Context every refund exception carries: the credit memo it is about (the refund's
/// exceptions are resolved by it once its credit note is posted).
pub fn refund_context(refund: &Refund, extra: serde_json::Value) -> serde_json::Value {
    let mut context = json!({
        "credit_memo": refund.credit_memo_id,
        "credit_memo_entity_id": refund.magento_entity_id.to_string(),
    });
    if let (Some(c), serde_json::Value::Object(extra)) = (context.as_object_mut(), extra) {
        c.extend(extra);
    }
    context
}

fn dedup(category: Category, refund: &Refund) -> String {
    format!(
        "{}|creditmemo:{}",
        category.as_str(),
        refund.magento_entity_id
    )
}

/// `refund_unmatched`: what the credit memo needs from SAP and does not find there.
pub fn unmatched(refund: &Refund, order: &str, missing: &[String]) -> NewException {
    let what = missing.join("; ");
    NewException {
        category: Category::RefundUnmatched,
        title: format!(
            "Credit memo {} of order {order} has nothing to be based on in SAP B1",
            refund.credit_memo_id
        ),
        detail: format!(
            "The refund cannot become an A/R credit memo yet: {what}. An A/R credit memo is \
             based on the order's A/R invoice; once the invoice is in SAP B1 the refund is \
             posted by itself (b1bridge checks again periodically)."
        ),
        order_increment_id: Some(order.to_owned()),
        skus: Vec::new(),
        sap_error: None,
        dedup_key: dedup(Category::RefundUnmatched, refund),
        context: refund_context(refund, json!({ "missing": missing })),
    }
}

fn mismatch(
    refund: &Refund,
    order: &str,
    total: Decimal,
    tax: Decimal,
    no_home: &[&str],
) -> NewException {
    let cause = if no_home.is_empty() {
        format!(
            "SAP B1 would book {total} (tax {tax}) where Magento refunded {} (tax {})",
            refund.grand_total, refund.tax_amount
        )
    } else {
        format!(
            "the {} has no SAP account: set the refunds' adjustment item (or, for an \
             Adjustment Refund, its expense code) in the settings",
            no_home.join(" and ")
        )
    };
    NewException {
        category: Category::TotalMismatch,
        title: format!(
            "Credit memo {} of order {order} would not match Magento's refund",
            refund.credit_memo_id
        ),
        detail: format!(
            "The A/R credit memo was not created: {cause}. Fix the cause, then retry the refund."
        ),
        order_increment_id: Some(order.to_owned()),
        skus: Vec::new(),
        sap_error: None,
        dedup_key: dedup(Category::TotalMismatch, refund),
        context: refund_context(
            refund,
            json!({
                "expected_total": total.to_string(),
                "expected_tax": tax.to_string(),
                "magento_total": refund.grand_total.to_string(),
                "magento_tax": refund.tax_amount.to_string(),
            }),
        ),
    }
}

/// The G/L account an online refund is paid back from (`refunds.outgoing_payment`,
/// docs/refunds.md): `None` when no outgoing payment is due (the setting is off, or the
/// refund was offline), `Some(Err)` with `payment_unlinked` when one is due but cannot be
/// made (no account mapped for the payment method, or a foreign currency).
pub fn payment_account(
    refund: &Refund,
    order: &Order,
    order_increment_id: &str,
    settings: &Settings,
    mappings: &crate::domain::mappings::Mappings,
    foreign: bool,
) -> Option<Result<String, NewException>> {
    if !settings.refunds.outgoing_payment || !refund.online {
        return None;
    }
    let method = order.payment.as_ref().map(|p| p.method.as_str());
    let account = method
        .and_then(|m| mappings.payment_method(m))
        .and_then(|m| m.refund_account.clone());
    let cause = match (account, foreign) {
        (Some(_), true) => format!(
            "the refund is in {}, and b1bridge pays back only refunds in the company's \
             currency (SAP books a foreign-currency payment with its own amounts)",
            refund
                .currency
                .as_ref()
                .map(|c| c.as_str())
                .unwrap_or("another currency")
        ),
        (Some(account), false) => return Some(Ok(account)),
        (None, _) => format!(
            "no G/L account is mapped for payment method '{}': set `refund_account` in its \
             payment-methods mapping",
            method.unwrap_or("(none)")
        ),
    };
    Some(Err(NewException {
        category: Category::PaymentUnlinked,
        title: format!(
            "Credit memo {} of order {order_increment_id}: the money refunded online is not paid out in SAP B1",
            refund.credit_memo_id
        ),
        detail: format!(
            "Magento refunded {} online, and its A/R credit memo is in SAP B1, but no outgoing \
             payment was made: {cause}. Fix that (b1bridge checks again periodically), or pay \
             the credit memo by hand in SAP B1 and resolve this exception.",
            refund.grand_total
        ),
        order_increment_id: Some(order_increment_id.to_owned()),
        skus: Vec::new(),
        sap_error: None,
        dedup_key: dedup(Category::PaymentUnlinked, refund),
        context: refund_context(refund, json!({ "payment_method": method })),
    }))
}
