//! The dry run: a real Magento order, mapped exactly as the pipeline maps it, is sent to
//! `OrdersService_Preview`; what SAP would book is compared with what Magento charged, to
//! the cent, line by line, and each difference is named with its likely cause (rounding, tax
//! code, price, discount) and the setting or mapping that fixes it.
use rust_decimal::Decimal;

use super::{mappings_api, Check, Finding, Severity, SETTINGS_API};
use crate::domain::money::round_cents;
use crate::domain::sales_order::SalesOrderDraft;
use crate::domain::settings::{Settings, TaxStrategy};

/// What SAP's preview said, in the document's currency where SAP gives it (line tax is
/// local: compared only on local-currency documents).
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewFigures {
    pub doc_total: Decimal,
    pub vat_sum: Decimal,
    pub total_discount: Decimal,
    pub lines: Vec<PreviewLineFigures>,
    pub expenses: Vec<PreviewExpenseFigures>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PreviewLineFigures {
    pub line_total: Decimal,
    pub tax_total: Decimal,
    pub tax_percent: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PreviewExpenseFigures {
    pub line_total: Decimal,
    pub tax_sum: Decimal,
}

/// Magento's own totals of the order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MagentoTotals {
    pub grand_total: Decimal,
    pub tax_amount: Decimal,
}

/// A difference's likely cause, which decides the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Same rate, a cent or so apart: SAP rounds each line's tax on its own.
    Rounding,
    /// SAP applies another percentage than Magento charged.
    TaxCode,
    /// SAP changed a line's net amount (a price list or a recomputed discount).
    Price,
    /// SAP applied a header discount.
    Discount,
}

impl Cause {
    fn as_str(self) -> &'static str {
        match self {
            Cause::Rounding => "rounding",
            Cause::TaxCode => "tax code",
            Cause::Price => "price",
            Cause::Discount => "discount",
        }
    }
}

/// How one order would post.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderOutcome {
    /// SAP books exactly Magento's figures.
    pub matches: bool,
    pub findings: Vec<Finding>,
}

/// Compares the preview with the draft that was sent and with Magento's totals.
pub fn compare(
    increment_id: &str,
    draft: &SalesOrderDraft,
    magento: MagentoTotals,
    sap: &PreviewFigures,
    settings: &Settings,
) -> OrderOutcome {
    let currency = draft.currency.as_str();
    let mut differences: Vec<String> = Vec::new();
    let mut causes: Vec<Cause> = Vec::new();
    for (i, (sent, got)) in draft.lines.iter().zip(&sap.lines).enumerate() {
        let what = format!("line {} ({})", i + 1, sent.sku);
        if round_cents(got.line_total) != round_cents(sent.line_total) {
            differences.push(format!(
                "{what} net: SAP {} vs Magento {}",
                round_cents(got.line_total),
                round_cents(sent.line_total)
            ));
            causes.push(Cause::Price);
        }
        if draft.foreign_currency {
            continue;
        }
        if round_cents(got.tax_total) != round_cents(sent.tax_amount) {
            differences.push(format!(
                "{what} tax: SAP {} ({} %) vs Magento {}",
                round_cents(got.tax_total),
                got.tax_percent.unwrap_or_default().normalize(),
                round_cents(sent.tax_amount)
            ));
            causes.push(tax_cause(sent.line_total, sent.tax_amount, got.tax_percent));
        }
    }
    if sap.lines.len() != draft.lines.len() {
        differences.push(format!(
            "SAP has {} lines, {} were sent",
            sap.lines.len(),
            draft.lines.len()
        ));
        causes.push(Cause::Price);
    }
    for (sent, got) in draft.expenses.iter().zip(&sap.expenses) {
        if round_cents(got.line_total) != round_cents(sent.line_total) {
            differences.push(format!(
                "shipping: SAP {} vs Magento {}",
                round_cents(got.line_total),
                round_cents(sent.line_total)
            ));
            causes.push(Cause::Price);
        }
        if !draft.foreign_currency && round_cents(got.tax_sum) != round_cents(sent.tax_amount) {
            differences.push(format!(
                "shipping tax: SAP {} vs Magento {}",
                round_cents(got.tax_sum),
                round_cents(sent.tax_amount)
            ));
            causes.push(tax_cause(sent.line_total, sent.tax_amount, None));
        }
    }
    if !sap.total_discount.is_zero() {
        differences.push(format!(
            "SAP applied a header discount of {}",
            round_cents(sap.total_discount)
        ));
        causes.push(Cause::Discount);
    }
    let total_off = round_cents(sap.doc_total) - round_cents(magento.grand_total);
    let tax_off = round_cents(sap.vat_sum) - round_cents(magento.tax_amount);
    if !total_off.is_zero() {
        differences.push(format!(
            "total: SAP {} vs Magento {} {currency}",
            round_cents(sap.doc_total),
            round_cents(magento.grand_total)
        ));
    }
    if !tax_off.is_zero() {
        differences.push(format!(
            "tax: SAP {} vs Magento {} {currency}",
            round_cents(sap.vat_sum),
            round_cents(magento.tax_amount)
        ));
        if causes.is_empty() {
            causes.push(Cause::Rounding);
        }
    }
    if differences.is_empty() {
        return OrderOutcome {
            matches: true,
            findings: Vec::new(),
        };
    }
    causes.sort_by_key(|c| *c as u8);
    causes.dedup();
    let worst = total_off.abs().max(tax_off.abs());
    let within = worst <= settings.total_tolerance && !causes.contains(&Cause::Price);
    let severity = if within {
        Severity::Warning
    } else {
        Severity::Blocking
    };
    let effect = if within {
        format!(
            "it posts (within total_tolerance {}), but SAP's figures are not Magento's",
            settings.total_tolerance.normalize()
        )
    } else {
        "it would be held as total_mismatch or booked with other figures than Magento charged"
            .to_string()
    };
    let cause_names: Vec<&str> = causes.iter().map(|c| c.as_str()).collect();
    let fixes: Vec<String> = causes
        .iter()
        .map(|c| fix(*c, draft, settings, worst))
        .collect();
    OrderOutcome {
        matches: false,
        findings: vec![Finding::new(
            severity,
            Check::DryRun,
            format!("order {increment_id}"),
            format!(
                "SAP B1 would book this order differently ({}): {}; {effect}.",
                cause_names.join(", "),
                differences.join("; ")
            ),
            fixes.join("; "),
        )],
    }
}

/// A line's tax difference: SAP's own percentage applied to the net amount lands within a
/// couple of cents of Magento's tax (Magento rounds per unit or per row, SAP per row) —
/// rounding; further off, SAP applies another percentage — a tax-code problem.
fn tax_cause(net: Decimal, magento_tax: Decimal, sap_percent: Option<Decimal>) -> Cause {
    let Some(sap_percent) = sap_percent else {
        return Cause::Rounding;
    };
    let at_sap_rate = round_cents(net * sap_percent / Decimal::ONE_HUNDRED);
    if (at_sap_rate - magento_tax).abs() <= Decimal::new(2, 2) {
        Cause::Rounding
    } else {
        Cause::TaxCode
    }
}

fn fix(cause: Cause, draft: &SalesOrderDraft, settings: &Settings, worst: Decimal) -> String {
    match cause {
        Cause::Rounding => match (settings.tax_strategy, draft.foreign_currency) {
            (TaxStrategy::SapComputes, false) => format!(
                "set tax_strategy to 'magento_line_tax' so SAP keeps Magento's line tax, or \
                 raise total_tolerance to at least {} ({SETTINGS_API})",
                worst.normalize()
            ),
            _ => format!(
                "SAP computes the tax of foreign-currency documents itself: raise \
                 total_tolerance to at least {} ({SETTINGS_API})",
                worst.normalize()
            ),
        },
        Cause::TaxCode => format!(
            "map the Magento rate to an SAP code with Magento's percentage ({})",
            mappings_api("tax-codes")
        ),
        Cause::Price => "SAP replaced the net amount b1bridge sent: check the item's price \
                         list and discount settings in SAP B1 (the line total sent is \
                         Magento's)"
            .to_string(),
        Cause::Discount => "SAP applied a header discount: check the customer's discount \
                            groups and the partner's price list in SAP B1"
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_same_rate_a_cent_apart_is_rounding_and_another_rate_is_a_tax_code() {
        assert_eq!(
            tax_cause(dec!(33.33), dec!(2.75), Some(dec!(8.25))),
            Cause::Rounding
        );
        assert_eq!(
            tax_cause(dec!(100), dec!(8.25), Some(dec!(7.25))),
            Cause::TaxCode
        );
        assert_eq!(
            tax_cause(dec!(100), dec!(8.24), Some(dec!(8.25))),
            Cause::Rounding
        );
    }
}
