//! Outgoing payments (`VendorPayments`, OVPM, object 46, type `Payment`): how b1bridge pays
//! a customer back for an online refund (docs/refunds.md). A payment to a customer has
//! `DocType: rCustomer` and is applied to A/R credit memos through `PaymentInvoices`
//! (`DocEntry` = the credit memo, `InvoiceType: it_CredItnote`, `SumApplied`), paid by bank
//! transfer (`TransferAccount`, `TransferSum`) (reference: prices-refunds §2.3, META).
//!
//! The simulator's rules, strict where the sources are silent (the texts are ours; the real
//! ones were not found):
//! - only customer payments (`rCustomer`) applied to credit memos, paid by transfer, are
//!   simulated; other types, cash, cheques and cards are refused, not ignored;
//! - the partner must exist and be active; every credit memo must exist, not be cancelled,
//!   belong to that partner, and be in the payment's currency (payments of foreign-currency
//!   credit memos, which SAP books with `AppliedFC`, are not simulated);
//! - `SumApplied` must be above zero and at most the credit memo's open amount (its total
//!   less what earlier payments applied to it);
//! - `TransferSum` must equal the sum applied and `TransferAccount` must be given (the seed
//!   has no chart of accounts, so the account itself is not checked);
//! - a credit memo paid in full is closed (`DocumentStatus` `bost_Close`).
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use super::company::{Company, Stamp};
use super::enums::{DocStatus, RcptInvType, RcptType, YesNo};
use super::errors::ServiceLayerError;
use super::json_input::Fields;

/// An outgoing payment as the Service Layer answers it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Payment {
    pub doc_entry: i64,
    pub doc_num: i64,
    pub doc_type: RcptType,
    pub doc_date: NaiveDate,
    pub card_code: String,
    pub card_name: Option<String>,
    pub doc_currency: String,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub cash_sum: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub transfer_sum: Decimal,
    pub transfer_account: Option<String>,
    pub transfer_date: Option<NaiveDate>,
    pub transfer_reference: Option<String>,
    pub remarks: Option<String>,
    pub cancelled: YesNo,
    pub payment_invoices: Vec<PaymentInvoice>,
}

/// One row of `PaymentInvoices`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PaymentInvoice {
    pub line_num: i64,
    pub doc_entry: i64,
    pub invoice_type: RcptInvType,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub sum_applied: Decimal,
}

/// `POST /VendorPayments`.
pub fn create_vendor_payment(
    company: &mut Company,
    body: &Map<String, Value>,
    now: &Stamp,
) -> Result<Payment, ServiceLayerError> {
    let f = Fields::new(body, "Payment");
    if f.enumeration("DocType", RcptType::parse)?
        .is_some_and(|t| t != RcptType::Customer)
        || !body.contains_key("DocType")
    {
        // B1's default is rCustomer; requiring it keeps b1bridge explicit.
        return Err(ServiceLayerError::not_simulated(
            "outgoing payments other than DocType rCustomer",
        ));
    }
    for means in ["CashSum", "CheckSum", "PaymentChecks", "PaymentCreditCards"] {
        if body.contains_key(means) {
            return Err(ServiceLayerError::not_simulated(format!(
                "outgoing payments by {means}"
            )));
        }
    }
    let card_code = f.string("CardCode")?.unwrap_or_default();
    let bp = company.business_partners.get(&card_code).ok_or_else(|| {
        ServiceLayerError::business(format!("Invalid BP code [OVPM.CardCode] , '{card_code}'"))
    })?;
    if !bp.is_active() {
        return Err(ServiceLayerError::business(format!(
            "(-10) 10001071 - Customer {card_code} is inactive"
        )));
    }
    let card_name = bp.card_name.clone();
    let currency = f
        .string("DocCurrency")?
        .unwrap_or_else(|| company.local_currency.clone());
    let doc_date = f.date("DocDate")?.unwrap_or(now.date);
    company.check_posting_dates(&[doc_date])?;
    let account = f
        .string("TransferAccount")?
        .filter(|a| !a.trim().is_empty());
    let Some(account) = account else {
        return Err(ServiceLayerError::business(
            "Specify the G/L account of the bank transfer [OVPM.TrsfrAcct]",
        ));
    };
    let transfer_sum = f.decimal("TransferSum")?.unwrap_or_default();
    let rows = f.array("PaymentInvoices")?;
    if rows.is_empty() {
        // An unapplied (on-account) payment is not simulated.
        return Err(ServiceLayerError::not_simulated(
            "outgoing payments not applied to a credit memo",
        ));
    }
    let mut applied = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let r = Fields::nested(row, "PaymentInvoice")?;
        let line = index + 1;
        let kind = r
            .enumeration("InvoiceType", RcptInvType::parse)?
            .unwrap_or(RcptInvType::Invoice);
        if kind != RcptInvType::CreditNote {
            return Err(ServiceLayerError::not_simulated(format!(
                "outgoing payments applied to {}",
                kind.name()
            )));
        }
        let entry = r.integer("DocEntry")?.unwrap_or_default();
        let note = company
            .credit_notes
            .get(&entry)
            .filter(|n| !n.cancelled.is_yes())
            .ok_or_else(|| {
                ServiceLayerError::business(format!(
                    "A/R credit memo {entry} does not exist or is cancelled [VPM2.DocEntry][line: {line}]"
                ))
            })?;
        if note.card_code != card_code {
            return Err(ServiceLayerError::business(format!(
                "A/R credit memo {} belongs to {}, not to {card_code} [VPM2.DocEntry][line: {line}]",
                note.doc_num, note.card_code
            )));
        }
        if note.doc_currency != currency || currency != company.local_currency {
            return Err(ServiceLayerError::not_simulated(
                "outgoing payments in a foreign currency",
            ));
        }
        let sum = r.decimal("SumApplied")?.unwrap_or_default();
        let open = note.doc_total - paid_to(company, entry) - in_this(&applied, entry);
        if sum <= Decimal::ZERO || sum > open {
            return Err(ServiceLayerError::business(format!(
                "Amount applied {sum} exceeds the open amount {open} of A/R credit memo {} [VPM2.SumApplied][line: {line}]",
                note.doc_num
            )));
        }
        applied.push(PaymentInvoice {
            line_num: index as i64,
            doc_entry: entry,
            invoice_type: kind,
            sum_applied: sum,
        });
    }
    let total: Decimal = applied.iter().map(|a| a.sum_applied).sum();
    if transfer_sum != total {
        return Err(ServiceLayerError::business(format!(
            "The transfer amount {transfer_sum} differs from the amount applied {total} [OVPM.TrsfrSum]"
        )));
    }
    let entry = company
        .vendor_payments
        .keys()
        .next_back()
        .copied()
        .unwrap_or(0)
        + 1;
    let payment = Payment {
        doc_entry: entry,
        doc_num: entry,
        doc_type: RcptType::Customer,
        doc_date,
        card_code,
        card_name,
        doc_currency: currency,
        cash_sum: Decimal::ZERO,
        transfer_sum,
        transfer_account: Some(account),
        transfer_date: f.date("TransferDate")?.or(Some(doc_date)),
        transfer_reference: f.string("TransferReference")?,
        remarks: f.string("Remarks")?,
        cancelled: YesNo::No,
        payment_invoices: applied,
    };
    for a in &payment.payment_invoices {
        let paid = paid_to(company, a.doc_entry) + a.sum_applied;
        if let Some(note) = company.credit_notes.get_mut(&a.doc_entry) {
            if paid >= note.doc_total {
                note.document_status = DocStatus::Close;
            }
        }
    }
    company.vendor_payments.insert(entry, payment.clone());
    Ok(payment)
}

/// What payments that are not cancelled applied to the credit memo so far.
fn paid_to(company: &Company, credit_note: i64) -> Decimal {
    company
        .vendor_payments
        .values()
        .filter(|p| !p.cancelled.is_yes())
        .flat_map(|p| &p.payment_invoices)
        .filter(|a| a.doc_entry == credit_note && a.invoice_type == RcptInvType::CreditNote)
        .map(|a| a.sum_applied)
        .sum()
}

fn in_this(applied: &[PaymentInvoice], credit_note: i64) -> Decimal {
    applied
        .iter()
        .filter(|a| a.doc_entry == credit_note)
        .map(|a| a.sum_applied)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::sap_b1::credit_notes::create_credit_note;
    use crate::sim::sap_b1::orders::{create_order, Added};
    use crate::sim::sap_b1::seed::Seed;
    use crate::sim::sap_b1::targets::{create_invoice, InvoiceBase};
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// A credit memo of 1 × RACER (242.48 with tax) of customer C20000.
    fn credited() -> (Company, Stamp, i64) {
        let now = Stamp::now();
        let mut c = Company::from_seed(Seed::default_seed(), &now);
        let body = object(json!({"CardCode": "C20000", "DocumentLines": [
            {"ItemCode": "RACER", "Quantity": 1, "UnitPrice": 224, "TaxCode": "US-MI"}]}));
        let Added::Order(order) = create_order(&mut c, &body, &now).unwrap() else {
            panic!("no approval procedure in the seed")
        };
        let invoice = create_invoice(&mut c, InvoiceBase::Order(order.doc_entry), &now).unwrap();
        let note = create_credit_note(
            &mut c,
            &object(json!({"CardCode": "C20000", "DocumentLines": [
                {"BaseType": 13, "BaseEntry": invoice.doc_entry, "BaseLine": 0, "Quantity": 1}]})),
            &now,
        )
        .unwrap();
        (c, now, note.doc_entry)
    }

    fn payment(card: &str, note: i64, sum: Decimal, transfer: Decimal) -> Map<String, Value> {
        object(
            json!({"DocType": "rCustomer", "CardCode": card, "TransferAccount": "_SYS00000000010",
            "TransferSum": transfer, "PaymentInvoices": [
                {"DocEntry": note, "InvoiceType": "it_CredItnote", "SumApplied": sum}]}),
        )
    }

    #[test]
    fn a_payment_applied_to_a_credit_memo_pays_it_and_closes_it_when_paid_in_full() {
        let (mut c, now, note) = credited();
        assert_eq!(c.credit_notes[&note].doc_total, dec!(242.48));
        let first = create_vendor_payment(
            &mut c,
            &payment("C20000", note, dec!(42.48), dec!(42.48)),
            &now,
        )
        .unwrap();
        assert_eq!(first.doc_type, RcptType::Customer);
        assert_eq!(c.credit_notes[&note].document_status, DocStatus::Open);
        create_vendor_payment(&mut c, &payment("C20000", note, dec!(200), dec!(200)), &now)
            .unwrap();
        assert_eq!(c.credit_notes[&note].document_status, DocStatus::Close);
        assert_eq!(c.vendor_payments.len(), 2);
    }

    #[test]
    fn sap_refuses_a_payment_over_the_open_amount_for_another_partner_or_a_missing_memo() {
        let (mut c, now, note) = credited();
        let e = create_vendor_payment(
            &mut c,
            &payment("C20000", note, dec!(242.49), dec!(242.49)),
            &now,
        )
        .unwrap_err();
        assert!(
            e.message.contains("exceeds the open amount"),
            "{}",
            e.message
        );
        let e = create_vendor_payment(&mut c, &payment("C20001", note, dec!(1), dec!(1)), &now)
            .unwrap_err();
        assert!(e.message.contains("belongs to C20000"), "{}", e.message);
        let e = create_vendor_payment(&mut c, &payment("C20000", note + 9, dec!(1), dec!(1)), &now)
            .unwrap_err();
        assert!(e.message.contains("does not exist"), "{}", e.message);
        let e = create_vendor_payment(&mut c, &payment("C20000", note, dec!(10), dec!(11)), &now)
            .unwrap_err();
        assert!(
            e.message.contains("differs from the amount applied"),
            "{}",
            e.message
        );
        let mut no_account = payment("C20000", note, dec!(1), dec!(1));
        no_account.remove("TransferAccount");
        assert!(create_vendor_payment(&mut c, &no_account, &now).is_err());
        let mut supplier = payment("C20000", note, dec!(1), dec!(1));
        supplier.insert("DocType".into(), json!("rSupplier"));
        assert!(create_vendor_payment(&mut c, &supplier, &now).is_err());
        assert!(c.vendor_payments.is_empty());
    }
}
