//! Reconciliation (docs/reconciliation.md): the rules that compare what Magento shows with what
//! SAP B1 holds and turn every difference into a finding for the team that owns it. Pure: the
//! reconcile run reads both systems and the store into the facts below, asks each check, and
//! records what it answers.
//!
//! A check names every subject it looked at by a *finding key*, whether or not it found
//! anything. The run records the findings (an open finding with the same key gets one more
//! occurrence, not another row) and resolves every open finding whose subject was looked at
//! again and found in order: a drift that was fixed closes itself.
pub mod cancellations;
pub mod orders;
pub mod payments;
pub mod refunds;
pub mod stock;
pub mod totals;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::exception::{Category, NewException};

/// What one check concluded about the subjects it looked at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckOutcome {
    /// The finding key of every subject looked at; a key here without a finding below means
    /// the subject is in order now.
    pub checked: Vec<String>,
    pub findings: Vec<NewException>,
}

impl CheckOutcome {
    /// Records that the subject `key` was looked at, and what was found, if anything.
    pub fn saw(&mut self, key: String, finding: Option<NewException>) {
        if let Some(f) = finding {
            self.findings.push(f);
        }
        self.checked.push(key);
    }

    /// Keys looked at and found in order.
    pub fn in_order(&self) -> Vec<String> {
        self.checked
            .iter()
            .filter(|k| !self.findings.iter().any(|f| &f.dedup_key == *k))
            .cloned()
            .collect()
    }
}

/// The de-duplication key of a reconciliation finding. Its own prefix keeps reconciliation
/// from resolving (or bumping) an exception that the order pipeline raised.
pub fn finding_key(check: &str, order: Option<&str>, sku: Option<&str>) -> String {
    format!(
        "reconcile|{check}|{}|{}",
        order.unwrap_or("-"),
        sku.unwrap_or("-")
    )
}

/// An amount as a JSON number (not a string), without trailing zeros, for a finding's context.
pub fn number(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

/// What a finding says, before it becomes an exception.
pub struct Finding<'a> {
    pub check: &'a str,
    pub category: Category,
    pub order: Option<&'a str>,
    pub sku: Option<&'a str>,
    pub title: String,
    pub detail: String,
    /// The SAP document concerned, e.g. `{"object": "Orders", "doc_entry": 7, "doc_num": 7}`.
    pub sap_document: Value,
    /// Magento's value and SAP's value of what differs.
    pub magento_value: Value,
    pub sap_value: Value,
}

impl Finding<'_> {
    pub fn into_exception(self) -> NewException {
        NewException {
            category: self.category,
            title: self.title,
            detail: self.detail,
            order_increment_id: self.order.map(str::to_owned),
            skus: self.sku.map(|s| vec![s.to_owned()]).unwrap_or_default(),
            sap_error: None,
            dedup_key: finding_key(self.check, self.order, self.sku),
            context: serde_json::json!({
                "source": "reconcile",
                "check": self.check,
                "order": self.order,
                "sku": self.sku,
                "sap_document": self.sap_document,
                "magento_value": self.magento_value,
                "sap_value": self.sap_value,
            }),
        }
    }
}

/// One Magento order of the window with what b1bridge and SAP B1 know of it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderFacts {
    pub increment_id: String,
    /// The SAP reference (`NumAtCard`) b1bridge posts it under.
    pub reference: String,
    /// Magento's `state` (`canceled` once cancelled).
    pub magento_state: Option<String>,
    pub created_at: DateTime<Utc>,
    pub currency: String,
    pub grand_total: Decimal,
    pub tax_amount: Decimal,
    /// Captured so far (`payment.amount_paid`); `None` when nothing was captured.
    pub amount_paid: Option<Decimal>,
    pub last_trans_id: Option<String>,
    /// b1bridge's record of the order; `None` when it never received it.
    pub bridge: Option<BridgeOrder>,
    /// Every SAP Sales Order with the order's reference, cancelled ones included.
    pub sap: Vec<SapOrder>,
}

impl OrderFacts {
    pub fn cancelled_in_magento(&self) -> bool {
        self.magento_state.as_deref() == Some("canceled")
    }

    /// The SAP orders that are not cancelled.
    pub fn live_sap(&self) -> Vec<&SapOrder> {
        self.sap.iter().filter(|o| !o.cancelled).collect()
    }

    /// The one live SAP order, when there is exactly one.
    pub fn the_sap_order(&self) -> Option<&SapOrder> {
        match self.live_sap().as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The flow already shows a problem with this order, or is still working on it.
    pub fn owned_by_flow(&self) -> bool {
        self.bridge
            .as_ref()
            .is_some_and(|b| b.open_exception || b.in_flight)
    }
}

/// b1bridge's record of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeOrder {
    pub status: String,
    pub sap_doc_entry: Option<i64>,
    /// An exception of the order pipeline (not of reconciliation) is open or retrying.
    pub open_exception: bool,
    /// A post or cancel job of the order is pending or running.
    pub in_flight: bool,
}

/// A Sales Order as SAP B1 holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SapOrder {
    pub doc_entry: i64,
    pub doc_num: i64,
    pub currency: Option<String>,
    pub doc_total: Decimal,
    pub vat_sum: Decimal,
    /// The foreign-currency twins; 0 or absent on a local-currency document.
    pub doc_total_fc: Option<Decimal>,
    pub vat_sum_fc: Option<Decimal>,
    /// `DocumentStatus` open (neither closed nor cancelled).
    pub open: bool,
    pub cancelled: bool,
    /// An A/R invoice copies it (directly or through a delivery).
    pub invoiced: bool,
}

impl SapOrder {
    /// How the finding names the document.
    pub fn describe(&self) -> Value {
        serde_json::json!({"object": "Orders", "doc_entry": self.doc_entry, "doc_num": self.doc_num})
    }

    /// `(total, tax)` in the document's own currency: the FC twins on a foreign-currency
    /// document (SAP fills them only then), else `DocTotal`/`VatSum`.
    pub fn totals_in_document_currency(&self) -> (Decimal, Decimal) {
        match self.doc_total_fc.filter(|t| !t.is_zero()) {
            Some(total) => (total, self.vat_sum_fc.unwrap_or_default()),
            None => (self.doc_total, self.vat_sum),
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    pub fn sap_order() -> SapOrder {
        SapOrder {
            doc_entry: 7,
            doc_num: 107,
            currency: Some("GBP".into()),
            doc_total: dec!(120),
            vat_sum: dec!(20),
            doc_total_fc: Some(dec!(0)),
            vat_sum_fc: Some(dec!(0)),
            open: true,
            cancelled: false,
            invoiced: false,
        }
    }

    pub fn order() -> OrderFacts {
        OrderFacts {
            increment_id: "000000013".into(),
            reference: "000000013".into(),
            magento_state: Some("processing".into()),
            created_at: Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
            currency: "GBP".into(),
            grand_total: dec!(120),
            tax_amount: dec!(20),
            amount_paid: None,
            last_trans_id: None,
            bridge: Some(BridgeOrder {
                status: "posted".into(),
                sap_doc_entry: Some(7),
                open_exception: false,
                in_flight: false,
            }),
            sap: vec![sap_order()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_check_order_and_sku() {
        assert_eq!(
            finding_key("stock", None, Some("MH01")),
            "reconcile|stock|-|MH01"
        );
        assert_eq!(
            finding_key("totals", Some("13"), None),
            "reconcile|totals|13|-"
        );
    }

    #[test]
    fn subjects_without_a_finding_are_in_order() {
        let mut out = CheckOutcome::default();
        out.saw("a".into(), None);
        let f = Finding {
            check: "totals",
            category: Category::TotalMismatch,
            order: Some("b"),
            sku: None,
            title: "t".into(),
            detail: "d".into(),
            sap_document: Value::Null,
            magento_value: Value::Null,
            sap_value: Value::Null,
        }
        .into_exception();
        out.saw(f.dedup_key.clone(), Some(f));
        assert_eq!(out.in_order(), ["a"]);
        assert_eq!(out.findings.len(), 1);
    }

    #[test]
    fn foreign_currency_documents_compare_their_fc_twins() {
        let mut o = fixtures::sap_order();
        assert_eq!(o.totals_in_document_currency(), (o.doc_total, o.vat_sum));
        o.doc_total_fc = Some(rust_decimal_macros::dec!(150));
        o.vat_sum_fc = Some(rust_decimal_macros::dec!(25));
        assert_eq!(
            o.totals_in_document_currency(),
            (
                rust_decimal_macros::dec!(150),
                rust_decimal_macros::dec!(25)
            )
        );
    }
}
