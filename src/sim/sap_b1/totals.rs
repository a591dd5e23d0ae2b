//! Document totals the way B1 computes them, with `rust_decimal` and half-away-from-zero
//! rounding to cents:
//! - line net = `LineTotal` if given, else round2(Quantity × UnitPrice × (1 − DiscountPercent/100));
//!   `Price` is the unit price after the line discount;
//! - the header `DiscountPercent` reduces every line: `TotalDiscount` = round2(Σ lines × d/100),
//!   and each line's tax is round2(net × (1 − d/100) × rate/100);
//! - each additional expense (freight) is taxed with its own tax code: round2(LineTotal × rate/100);
//! - `VatSum` = Σ line taxes + Σ expense taxes;
//!   `DocTotal` = Σ lines − TotalDiscount + Σ expenses + VatSum.
//!
//! A requested `DocTotal` within 1.00 of ours is kept and the difference is booked as
//! `RoundingDiffAmount`; a larger one is refused. SAP's exact rule was not found (reference §3
//! only says payload values may be replaced and rounding differences are possible); this
//! tolerance lets a shop's own rounding through while catching a wrong basket.
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
}

/// One additional expense's inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpenseInput {
    pub line_total: Decimal,
    pub tax_rate: Decimal,
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
        "Document total {requested} differs from the calculated total {computed} by 1.00 or more"
    )]
    DocTotalMismatch {
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
    let keep = Decimal::ONE - input.header_discount_percent / dec!(100);
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
                tax_total: round_cents(line_total * keep * rate),
            }
        })
        .collect();
    let expenses: Vec<ExpenseTotals> = input
        .expenses
        .iter()
        .map(|e| {
            let line_total = round_cents(e.line_total);
            let tax_sum = round_cents(line_total * e.tax_rate / dec!(100));
            ExpenseTotals {
                line_total,
                tax_sum,
                line_gross: line_total + tax_sum,
            }
        })
        .collect();
    let lines_sum: Decimal = lines.iter().map(|l| l.line_total).sum();
    let total_discount = round_cents(lines_sum * input.header_discount_percent / dec!(100));
    let vat_sum: Decimal = lines.iter().map(|l| l.tax_total).sum::<Decimal>()
        + expenses.iter().map(|e| e.tax_sum).sum::<Decimal>();
    let expenses_sum: Decimal = expenses.iter().map(|e| e.line_total).sum();
    let computed = lines_sum - total_discount + expenses_sum + vat_sum;
    let (doc_total, rounding_diff_amount) = match input.requested_doc_total {
        None => (computed, Decimal::ZERO),
        Some(requested) => {
            let requested = round_cents(requested);
            let diff = requested - computed;
            if diff.abs() >= Decimal::ONE {
                return Err(TotalsError::DocTotalMismatch {
                    requested,
                    computed,
                });
            }
            (requested, diff)
        }
    };
    Ok(DocumentTotals {
        lines,
        expenses,
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
            vec![ExpenseInput {
                line_total: dec!(5),
                tax_rate: dec!(8.25),
            }],
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
    fn header_discount_reduces_lines_and_their_tax_but_not_freight() {
        let mut i = input(
            vec![line(dec!(1), dec!(100), dec!(23))],
            vec![ExpenseInput {
                line_total: dec!(10),
                tax_rate: Decimal::ZERO,
            }],
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
    fn requested_total_within_one_is_kept_as_rounding_difference() {
        let mut i = input(vec![line(dec!(1), dec!(10), Decimal::ZERO)], vec![]);
        i.requested_doc_total = Some(dec!(10.04));
        let t = compute(&i).unwrap();
        assert_eq!(
            (t.doc_total, t.rounding_diff_amount),
            (dec!(10.04), dec!(0.04))
        );
        i.requested_doc_total = Some(dec!(9.01));
        assert_eq!(compute(&i).unwrap().rounding_diff_amount, dec!(-0.99));
        i.requested_doc_total = Some(dec!(11.00));
        assert!(matches!(
            compute(&i),
            Err(TotalsError::DocTotalMismatch { .. })
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
