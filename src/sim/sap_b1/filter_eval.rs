//! Evaluates a parsed `$filter` against an entity as the Service Layer answers it (a JSON
//! object). Types follow the stored value: a `2014-04-23` property compares as a date whatever
//! date spelling the literal uses, an enum property matches its name or stored value, numbers
//! compare exactly, and strings compare case-sensitively unless `B1S-CaseInsensitive: true`.
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::str::FromStr;

use super::datetime::{format_time, parse_date, parse_time};
use super::enums::code_of_name;
use super::filter::{CmpOp, Expr, Literal, Operand, StringFn};

/// A comparable value after reading the entity.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Number(Decimal),
    Text(String),
}

/// Whether `row` satisfies `expr`. Properties were validated beforehand; a missing one reads
/// as null.
pub fn matches(expr: &Expr, row: &Map<String, Value>, case_insensitive: bool) -> bool {
    match expr {
        Expr::Or(a, b) => matches(a, row, case_insensitive) || matches(b, row, case_insensitive),
        Expr::And(a, b) => matches(a, row, case_insensitive) && matches(b, row, case_insensitive),
        Expr::Not(a) => !matches(a, row, case_insensitive),
        Expr::Compare(l, op, r) => compare(l, *op, r, row, case_insensitive),
        Expr::Call(func, haystack, needle) => {
            let (Scalar::Text(h), Scalar::Text(n)) = (read(haystack, row), read(needle, row))
            else {
                return false;
            };
            let (h, n) = if case_insensitive {
                (h.to_lowercase(), n.to_lowercase())
            } else {
                (h, n)
            };
            match func {
                StringFn::StartsWith => h.starts_with(&n),
                StringFn::EndsWith => h.ends_with(&n),
                StringFn::Contains => h.contains(&n),
            }
        }
    }
}

fn read(operand: &Operand, row: &Map<String, Value>) -> Scalar {
    match operand {
        Operand::Literal(Literal::Null) => Scalar::Null,
        Operand::Literal(Literal::Bool(b)) => Scalar::Bool(*b),
        Operand::Literal(Literal::Number(n)) => Scalar::Number(*n),
        Operand::Literal(Literal::String(s)) => Scalar::Text(s.clone()),
        Operand::Property(p) => match row.get(p) {
            None | Some(Value::Null) => Scalar::Null,
            Some(Value::Bool(b)) => Scalar::Bool(*b),
            Some(Value::Number(n)) => Decimal::from_str(&n.to_string())
                .or_else(|_| Decimal::from_scientific(&n.to_string()))
                .map(Scalar::Number)
                .unwrap_or(Scalar::Null),
            Some(Value::String(s)) => Scalar::Text(s.clone()),
            // Collections and complex types cannot be compared.
            Some(_) => Scalar::Null,
        },
    }
}

fn compare(
    left: &Operand,
    op: CmpOp,
    right: &Operand,
    row: &Map<String, Value>,
    case_insensitive: bool,
) -> bool {
    let (l, r) = (read(left, row), read(right, row));
    // The property side decides how the literal is read.
    let (l, r) = match (left, right) {
        (Operand::Property(_), Operand::Literal(_)) => {
            let r = coerce(&l, r);
            (l, r)
        }
        (Operand::Literal(_), Operand::Property(_)) => (coerce(&r, l), r),
        _ => (l, r),
    };
    let ordering = match (&l, &r) {
        (Scalar::Null, Scalar::Null) => Some(Ordering::Equal),
        (Scalar::Null, _) | (_, Scalar::Null) => None,
        (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
        (Scalar::Number(a), Scalar::Number(b)) => Some(a.cmp(b)),
        (Scalar::Text(a), Scalar::Text(b)) if case_insensitive => {
            Some(a.to_lowercase().cmp(&b.to_lowercase()))
        }
        (Scalar::Text(a), Scalar::Text(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match (op, ordering) {
        (CmpOp::Eq, o) => o == Some(Ordering::Equal),
        (CmpOp::Ne, o) => o != Some(Ordering::Equal),
        (_, None) => false,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Ge, Some(o)) => o != Ordering::Less,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
    }
}

/// Reads a literal in the type of the property it is compared with.
fn coerce(property: &Scalar, literal: Scalar) -> Scalar {
    match (property, literal) {
        (Scalar::Text(stored), Scalar::Text(lit)) => Scalar::Text(as_stored_text(stored, lit)),
        (Scalar::Number(_), Scalar::Text(lit)) => match Decimal::from_str(lit.trim()) {
            Ok(n) => Scalar::Number(n),
            Err(_) => Scalar::Text(lit),
        },
        (Scalar::Text(_), Scalar::Number(n)) => Scalar::Text(n.to_string()),
        (_, lit) => lit,
    }
}

fn as_stored_text(stored: &str, literal: String) -> String {
    if is_iso_date(stored) {
        if let Some(d) = parse_date(&literal) {
            return d.format("%Y-%m-%d").to_string();
        }
    } else if is_time(stored) {
        if let Some(t) = parse_time(&literal) {
            return format_time(t);
        }
    } else if code_of_name(stored).is_some_and(|code| code == literal) {
        // `CardType eq 'C'` against `cCustomer`.
        return stored.to_owned();
    }
    literal
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b[4] == b'-' && b[7] == b'-' && parse_date(s).is_some()
}

fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 8 && b[2] == b':' && b[5] == b':' && parse_time(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::sap_b1::filter::parse;
    use serde_json::json;

    fn row() -> Map<String, Value> {
        json!({
            "ItemCode": "MH09-XS-Blue", "ItemName": "Abominable Hoodie", "CardType": "cCustomer",
            "QuantityOnStock": 42.5, "UpdateDate": "2024-05-06", "UpdateTime": "14:05:09",
            "DocTotal": 100, "NumAtCard": null, "Valid": "tYES",
            "DocumentLines": [{"LineNum": 0}]
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn holds(filter: &str) -> bool {
        matches(&parse(filter).unwrap(), &row(), false)
    }

    #[test]
    fn comparisons_follow_the_property_type() {
        assert!(holds("ItemCode eq 'MH09-XS-Blue'"));
        assert!(holds("QuantityOnStock gt 42 and QuantityOnStock lt 42.6"));
        assert!(holds("QuantityOnStock eq '42.50'"));
        assert!(holds("DocTotal ge 100 and DocTotal le 100"));
        assert!(holds("ItemCode ne 'x'"));
        assert!(!holds("ItemCode gt 'Z'"));
    }

    #[test]
    fn enum_properties_match_name_or_stored_value() {
        assert!(holds("CardType eq 'C'"));
        assert!(holds("CardType eq 'cCustomer'"));
        assert!(holds("Valid eq 'Y' and not (Valid eq 'N')"));
        assert!(!holds("CardType eq 'S'"));
    }

    #[test]
    fn dates_and_times_compare_in_every_documented_spelling() {
        assert!(holds("UpdateDate eq '20240506'"));
        assert!(holds("UpdateDate eq datetime'2024-05-06T23:59:59'"));
        assert!(holds(
            "UpdateDate gt '2024-05-05' and UpdateDate lt '2024-05-07'"
        ));
        assert!(holds("UpdateTime ge '14:05' and UpdateTime lt '140510'"));
    }

    #[test]
    fn null_only_equals_null_and_never_orders() {
        assert!(holds("NumAtCard eq null"));
        assert!(!holds("NumAtCard ne null"));
        assert!(!holds("NumAtCard gt 'a'"));
        assert!(holds("NumAtCard ne 'a'"));
    }

    #[test]
    fn string_functions_and_case_insensitivity() {
        assert!(holds(
            "startswith(ItemCode,'MH09') and endswith(ItemCode,'Blue')"
        ));
        assert!(holds(
            "contains(ItemName,'Hoodie') and substringof('mina', ItemName)"
        ));
        assert!(!holds("startswith(ItemCode,'mh09')"));
        let e = parse("startswith(ItemCode,'mh09') and ItemName eq 'ABOMINABLE HOODIE'").unwrap();
        assert!(matches(&e, &row(), true));
    }

    #[test]
    fn collections_do_not_compare() {
        assert!(!holds("DocumentLines eq 'x'"));
    }
}
