//! Document totals the way B1 computes them, with `rust_decimal` and half-away-from-zero
//! rounding to cents, in the document's currency (docs/sap-document-calculation.md):
//! - line net = `LineTotal` if given, else round2(Quantity × UnitPrice × (1 − DiscountPercent/100));
//!   `Price` is the unit price after the line discount;
//! - a line's tax is the `TaxTotal` sent, which SAP keeps (SDK help, `Document_Lines.TaxTotal`),
//!   else round2(net × rate/100), each line rounded on its own;
//! - each additional expense (freight) is taxed alike: the `TaxSum` sent, else
//!   round2(LineTotal × rate/100);
//! - the header `DiscountPercent` reduces every line and its tax: `TotalDiscount` =
//!   round2(Σ lines × d/100), each line's tax round2(tax × (1 − d/100));
//! - `VatSum` = Σ line taxes + Σ expense taxes;
//!   `DocTotal` = Σ lines − TotalDiscount + Σ expenses + VatSum.
//!
//! A `DocTotal` sent is not kept as a rounding difference: SAP reverse-calculates the document
//! from it (KBA 3697554, "reverse calculation", "header discount issues") and books the gap
//! as a header discount — the percentage that makes lines, their tax and the freight come to
//! that total; any sub-cent rest becomes `RoundingDiffAmount`. A total above the computed one
//! would need a negative discount, which the simulator refuses (the strict choice; the real
//! text was not found). So a client that sends Magento's total silently gets a discount.
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::domain::money::round_cents;

/// One line's inputs; `tax_rate` is a percentage.
#[derive(Debug, Clone, PartialEq)]
pub struct LineInput {
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount_percent: Decimal,
    pub line_total: Option<Decimal>,
    pub tax_rate: Decimal,
    /// `TaxTotal` sent by the client (kept).
    pub tax_total: Option<Decimal>,
}

/// One additional expense's inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpenseInput {
    pub line_total: Decimal,
    pub tax_rate: Decimal,
    /// `TaxSum` sent by the client (kept).
    pub tax_sum: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TotalsInput {
    pub lines: Vec<LineInput>,
    pub expenses: Vec<ExpenseInput>,
    pub header_discount_percent: Decimal,
    pub requested_doc_total: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineTotals {
    pub unit_price: Decimal,
    pub price: Decimal,
    pub price_after_vat: Decimal,
    pub line_total: Decimal,
    pub tax_total: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpenseTotals {
    pub line_total: Decimal,
    pub tax_sum: Decimal,
    pub line_gross: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DocumentTotals {
    pub lines: Vec<LineTotals>,
    pub expenses: Vec<ExpenseTotals>,
    /// The header discount in force: the one sent, or the one derived from a `DocTotal`.
    pub discount_percent: Decimal,
    pub total_discount: Decimal,
    pub vat_sum: Decimal,
    pub rounding_diff_amount: Decimal,
    pub doc_total: Decimal,
}

/// Why totals cannot be computed; each maps to a -10/-5002 refusal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TotalsError {
    #[error("Enter a discount percentage of less than 100")]
    DiscountOutOfRange,
    #[error(
        "Document total {requested} exceeds the calculated total {computed}; a header discount cannot be negative"
    )]
    DocTotalAboveCalculated {
        requested: Decimal,
        computed: Decimal,
    },
}

/// Prices keep six decimals, as B1's price fields do by default.
fn round_price(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

fn valid_percent(p: Decimal) -> bool {
    p >= Decimal::ZERO && p < dec!(100)
}

pub fn compute(input: &TotalsInput) -> Result<DocumentTotals, TotalsError> {
    if !valid_percent(input.header_discount_percent)
        || input
            .lines
            .iter()
            .any(|l| !valid_percent(l.discount_percent))
    {
        return Err(TotalsError::DiscountOutOfRange);
    }
    // Net and tax of each line before any header discount.
    let lines: Vec<LineTotals> = input
        .lines
        .iter()
        .map(|l| {
            let after_discount = Decimal::ONE - l.discount_percent / dec!(100);
            let (unit_price, price, line_total) = match l.line_total {
                Some(total) => {
                    let price = if l.quantity.is_zero() {
                        Decimal::ZERO
                    } else {
                        round_price(total / l.quantity)
                    };
                    let unit = if l.unit_price.is_zero() {
                        price
                    } else {
                        l.unit_price
                    };
                    (unit, price, round_cents(total))
                }
                None => (
                    l.unit_price,
                    round_price(l.unit_price * after_discount),
                    round_cents(l.quantity * l.unit_price * after_discount),
                ),
            };
            let rate = l.tax_rate / dec!(100);
            LineTotals {
                unit_price,
                price,
                price_after_vat: round_price(price * (Decimal::ONE + rate)),
                line_total,
                tax_total: l
                    .tax_total
                    .map(round_cents)
                    .unwrap_or_else(|| round_cents(line_total * rate)),
            }
        })
        .collect();
    let expenses: Vec<ExpenseTotals> = input
        .expenses
        .iter()
        .map(|e| {
            let line_total = round_cents(e.line_total);
            let tax_sum = e
                .tax_sum
                .map(round_cents)
                .unwrap_or_else(|| round_cents(line_total * e.tax_rate / dec!(100)));
            ExpenseTotals {
                line_total,
                tax_sum,
                line_gross: line_total + tax_sum,
            }
        })
        .collect();
    let lines_sum: Decimal = lines.iter().map(|l| l.line_total).sum();
    let lines_tax: Decimal = lines.iter().map(|l| l.tax_total).sum();
    let expenses_sum: Decimal = expenses.iter().map(|e| e.line_total).sum();
    let expenses_tax: Decimal = expenses.iter().map(|e| e.tax_sum).sum();

    let discount_percent = match input.requested_doc_total {
        None => input.header_discount_percent,
        Some(requested) => {
            // Reverse calculation: the header discount d with
            // (lines + their tax) × (1 − d/100) + expenses + their tax = requested.
            let requested = round_cents(requested);
            let undiscounted = lines_sum + lines_tax;
            let computed = undiscounted + expenses_sum + expenses_tax;
            if requested > computed {
                return Err(TotalsError::DocTotalAboveCalculated {
                    requested,
                    computed,
                });
            }
            if undiscounted.is_zero() {
                Decimal::ZERO
            } else {
                let keep = (requested - expenses_sum - expenses_tax) / undiscounted;
                let percent = round_price((Decimal::ONE - keep) * dec!(100));
                if !valid_percent(percent) {
                    return Err(TotalsError::DiscountOutOfRange);
                }
                percent
            }
        }
    };
    let keep = Decimal::ONE - discount_percent / dec!(100);
    let lines: Vec<LineTotals> = lines
        .into_iter()
        .map(|l| LineTotals {
            tax_total: if discount_percent.is_zero() {
                l.tax_total
            } else {
                round_cents(l.tax_total * keep)
            },
            ..l
        })
        .collect();
    let total_discount = round_cents(lines_sum * discount_percent / dec!(100));
    let vat_sum: Decimal = lines.iter().map(|l| l.tax_total).sum::<Decimal>() + expenses_tax;
    let computed = lines_sum - total_discount + expenses_sum + vat_sum;
    let (doc_total, rounding_diff_amount) = match input.requested_doc_total {
        Some(requested) => (round_cents(requested), round_cents(requested) - computed),
        None => (computed, Decimal::ZERO),
    };
    Ok(DocumentTotals {
        lines,
        expenses,
        discount_percent,
        total_discount,
        vat_sum,
        rounding_diff_amount,
        doc_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: Decimal, unit_price: Decimal, tax_rate: Decimal) -> LineInput {
        LineInput {
            quantity,
            unit_price,
            discount_percent: Decimal::ZERO,
            line_total: None,
            tax_rate,
            tax_total: None,
        }
    }

    fn expense(line_total: Decimal, tax_rate: Decimal) -> ExpenseInput {
        ExpenseInput {
            line_total,
            tax_rate,
            tax_sum: None,
        }
    }

    fn input(lines: Vec<LineInput>, expenses: Vec<ExpenseInput>) -> TotalsInput {
        TotalsInput {
            lines,
            expenses,
            header_discount_percent: Decimal::ZERO,
            requested_doc_total: None,
        }
    }

    #[test]
    fn multi_line_order_with_tax_and_taxed_freight() {
        // 2 × 69.00 at 8.25 % = 138.00 + 11.385 → 11.39; 1 × 224.00 at 8.25 % → 18.48;
        // freight 5.00 at 8.25 % → 0.41 (0.4125).
        let t = compute(&input(
            vec![
                line(dec!(2), dec!(69), dec!(8.25)),
                line(dec!(1), dec!(224), dec!(8.25)),
            ],
            vec![expense(dec!(5), dec!(8.25))],
        ))
        .unwrap();
        assert_eq!(t.lines[0].line_total, dec!(138.00));
        assert_eq!(t.lines[0].tax_total, dec!(11.39));
        assert_eq!(t.lines[1].tax_total, dec!(18.48));
        assert_eq!(t.expenses[0].tax_sum, dec!(0.41));
        assert_eq!(t.vat_sum, dec!(30.28));
        assert_eq!(t.doc_total, dec!(397.28));
        assert_eq!(t.rounding_diff_amount, Decimal::ZERO);
    }

    #[test]
    fn line_discount_sets_price_and_given_line_total_wins() {
        let mut discounted = line(dec!(3), dec!(19.99), dec!(23));
        discounted.discount_percent = dec!(10);
        let mut fixed = line(dec!(2), Decimal::ZERO, Decimal::ZERO);
        fixed.line_total = Some(dec!(45));
        let t = compute(&input(vec![discounted, fixed], vec![])).unwrap();
        assert_eq!(t.lines[0].price, dec!(17.991));
        assert_eq!(t.lines[0].line_total, dec!(53.97)); // 53.973
        assert_eq!(t.lines[0].tax_total, dec!(12.41)); // 12.4131
        assert_eq!(t.lines[1].price, dec!(22.5));
        assert_eq!(t.lines[1].unit_price, dec!(22.5));
        assert_eq!(t.doc_total, dec!(111.38));
    }

    #[test]
    fn a_line_tax_sent_is_kept_instead_of_sap_s_own_rounding() {
        // Magento's order 15: 55.20 and 179.20 at 8.25 % are 4.554 and 14.784; Magento
        // books 4.55 and 14.79 (it carries the sub-cent), SAP alone 4.55 and 14.78.
        let mut a = line(dec!(1), dec!(0), dec!(8.25));
        a.line_total = Some(dec!(55.2));
        let mut b = a.clone();
        b.line_total = Some(dec!(179.2));
        let own = compute(&input(vec![a.clone(), b.clone()], vec![])).unwrap();
        assert_eq!(own.vat_sum, dec!(19.33));
        a.tax_total = Some(dec!(4.55));
        b.tax_total = Some(dec!(14.79));
        let mut freight = expense(dec!(5), dec!(8.25));
        freight.tax_sum = Some(dec!(0.42));
        let kept = compute(&input(vec![a, b], vec![freight])).unwrap();
        assert_eq!(kept.lines[1].tax_total, dec!(14.79));
        assert_eq!(kept.expenses[0].tax_sum, dec!(0.42));
        assert_eq!(kept.vat_sum, dec!(19.76));
        assert_eq!(kept.doc_total, dec!(259.16));
    }

    #[test]
    fn header_discount_reduces_lines_and_their_tax_but_not_freight() {
        let mut i = input(
            vec![line(dec!(1), dec!(100), dec!(23))],
            vec![expense(dec!(10), Decimal::ZERO)],
        );
        i.header_discount_percent = dec!(15);
        let t = compute(&i).unwrap();
        assert_eq!(t.total_discount, dec!(15.00));
        assert_eq!(t.lines[0].tax_total, dec!(19.55)); // 85 × 23 %
        assert_eq!(t.doc_total, dec!(114.55)); // 100 − 15 + 10 + 19.55
    }

    #[test]
    fn halves_round_away_from_zero() {
        // 1 × 0.50 at 1 % = 0.005 → 0.01 (banker's rounding would give 0.00).
        let t = compute(&input(vec![line(dec!(1), dec!(0.5), dec!(1))], vec![])).unwrap();
        assert_eq!(t.lines[0].tax_total, dec!(0.01));
    }

    #[test]
    fn a_doc_total_sent_becomes_a_header_discount_not_a_rounding_difference() {
        // 100 at 20 % = 120; freight 10 untaxed; computed 130. Sent 129.99: SAP derives the
        // header discount that takes 0.01 off lines and their tax.
        let mut i = input(
            vec![line(dec!(1), dec!(100), dec!(20))],
            vec![expense(dec!(10), Decimal::ZERO)],
        );
        i.requested_doc_total = Some(dec!(129.99));
        let t = compute(&i).unwrap();
        assert!(t.discount_percent > Decimal::ZERO, "{}", t.discount_percent);
        assert_eq!(t.discount_percent, dec!(0.008333));
        assert_eq!(t.total_discount, dec!(0.01));
        assert_eq!(t.lines[0].tax_total, dec!(20.00));
        assert_eq!(t.doc_total, dec!(129.99));
        assert_eq!(t.rounding_diff_amount, dec!(0.00));
        // Ten units off is a header discount too, however large.
        i.requested_doc_total = Some(dec!(120));
        let t = compute(&i).unwrap();
        assert_eq!(t.discount_percent, dec!(8.333333));
        assert_eq!(t.total_discount, dec!(8.33));
        assert_eq!(t.lines[0].tax_total, dec!(18.33));
        assert_eq!(t.doc_total, dec!(120.00));
        assert_eq!(t.rounding_diff_amount, dec!(0));
        // A total above SAP's own cannot be a discount.
        i.requested_doc_total = Some(dec!(130.01));
        assert!(matches!(
            compute(&i),
            Err(TotalsError::DocTotalAboveCalculated { .. })
        ));
    }

    #[test]
    fn discounts_of_100_percent_or_more_are_refused() {
        let mut l = line(dec!(1), dec!(10), Decimal::ZERO);
        l.discount_percent = dec!(100);
        assert_eq!(
            compute(&input(vec![l], vec![])),
            Err(TotalsError::DiscountOutOfRange)
        );
    }
}
