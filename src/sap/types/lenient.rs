//! Tolerant readers for Service Layer responses: numbers may arrive as strings, enums as
//! names (`tYES`) or stored values (`Y`), dates with or without a time part (reference §10).
//! Each reads a `serde_json::Value` first, because custom visitors do not see numbers as
//! numbers under serde_json's `arbitrary_precision`.
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::domain::money::decimal_from_json;

fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Value::deserialize(d)
}

/// A required decimal from a number or a numeric string.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    decimal_from_json(&value(d)?)
        .map_err(D::Error::custom)?
        .ok_or_else(|| D::Error::custom("expected a decimal, found null"))
}

/// A decimal that SAP may omit or send as null; absent stays `None`.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    decimal_from_json(&value(d)?).map_err(D::Error::custom)
}

/// A quantity where null means zero (stock figures of a warehouse without movements).
pub fn decimal_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    Ok(opt_decimal(d)?.unwrap_or_default())
}

fn int_from(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{n} is not an integer")),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("'{s}' is not an integer")),
        other => Err(format!("{other} is not an integer")),
    }
}

/// A required integer from a number or a numeric string.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    int_from(&value(d)?)
        .map_err(D::Error::custom)?
        .ok_or_else(|| D::Error::custom("expected an integer, found null"))
}

/// An optional integer from a number or a numeric string.
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    int_from(&value(d)?).map_err(D::Error::custom)
}

/// Parses `2014-04-01`, `2025-09-12T00:00:00Z`, `2025-09-12T00:00:00` and `20140401`,
/// keeping only the date (SAP document dates carry no meaningful time).
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    let date_part = raw.split(['T', ' ']).next().unwrap_or(raw);
    NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(date_part, "%Y%m%d"))
        .ok()
}

/// An optional date in any of the forms of [`parse_date`].
pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match value(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_date(&s)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("'{s}' is not a date"))),
        other => Err(D::Error::custom(format!("{other} is not a date"))),
    }
}

/// SAP's BoYesNoEnum: `tYES`/`tNO`, the stored `Y`/`N`, or a JSON boolean.
pub fn yes_no<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match value(d)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) => match s.trim() {
            "tYES" | "Y" | "y" | "YES" | "yes" | "true" => Ok(true),
            "tNO" | "N" | "n" | "NO" | "no" | "false" => Ok(false),
            other => Err(D::Error::custom(format!("'{other}' is not tYES/tNO"))),
        },
        other => Err(D::Error::custom(format!("{other} is not tYES/tNO"))),
    }
}

/// [`yes_no`], with null read as "not said".
pub fn opt_yes_no<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match value(d)? {
        Value::Null => Ok(None),
        other => yes_no(other).map(Some).map_err(D::Error::custom),
    }
}

/// A string that SAP may send as a number (codes) or null; blank becomes `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match value(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(D::Error::custom(format!("{other} is not a string"))),
    }
}

/// A required string that SAP may send as a number.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_string(d)?.ok_or_else(|| D::Error::custom("expected a string, found null or blank"))
}

/// A collection that SAP may send as null.
pub fn vec_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_with_or_without_time_and_in_compact_form() {
        let want = NaiveDate::from_ymd_opt(2025, 9, 12);
        assert_eq!(parse_date("2025-09-12"), want);
        assert_eq!(parse_date("2025-09-12T00:00:00Z"), want);
        assert_eq!(parse_date("2025-09-12T13:14:15"), want);
        assert_eq!(parse_date("20250912"), want);
        assert_eq!(parse_date("12/09/2025"), None);
    }
}
