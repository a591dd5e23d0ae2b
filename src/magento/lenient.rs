//! Magento's loose JSON typing, read strictly: ids and quantities arrive as numbers or as
//! strings (`"190"`, `"123.000000"`), flags as `0`/`1`, `true`/`false` or `"1"`. Each reader
//! accepts exactly those forms and refuses anything else with the value in the message.
use rust_decimal::Decimal;
use serde::de::{Deserializer, Error};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::money::decimal_from_json;

/// An id as a number or a numeric string.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    id_from_value(&Value::deserialize(d)?).map_err(D::Error::custom)
}

/// An optional id (absent or `null` → `None`).
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => id_from_value(&v).map(Some).map_err(D::Error::custom),
    }
}

pub fn id_from_value(v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(|| format!("id {n} is not a whole number")),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("id \"{s}\" is not a whole number")),
        other => Err(format!("id {other} is neither a number nor a string")),
    }
}

/// An exact decimal from a JSON number (its text, never a float) or a numeric string.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    decimal_from_value(&Value::deserialize(d)?).map_err(D::Error::custom)
}

pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => decimal_from_value(&v).map(Some).map_err(D::Error::custom),
    }
}

pub fn decimal_from_value(v: &Value) -> Result<Decimal, String> {
    decimal_from_json(v)?.ok_or_else(|| "a number is required".to_owned())
}

/// A flag as `true`/`false`, `0`/`1` or `"0"`/`"1"`.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        Value::String(s) if s == "0" || s == "false" => Ok(false),
        Value::String(s) if s == "1" || s == "true" => Ok(true),
        other => Err(D::Error::custom(format!(
            "{other} is not a flag (0/1, true/false)"
        ))),
    }
}

/// A bare scalar answer (`"190"`, `190`, `true`) read as an id.
pub fn scalar_id(body: &[u8]) -> Result<i64, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    id_from_value(&v)
}

/// A bare boolean answer (`true`, or `"1"` as some stores' serialisers send it).
pub fn scalar_bool(body: &[u8]) -> Result<bool, String> {
    match serde_json::from_slice::<Value>(body).map_err(|e| e.to_string())? {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s == "1" || s == "true" => Ok(true),
        Value::String(s) if s == "0" || s == "false" || s.is_empty() => Ok(false),
        Value::Number(n) => Ok(n.as_i64() != Some(0)),
        other => Err(format!("{other} is not a boolean")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_decimals_accept_numbers_and_numeric_strings_only() {
        assert_eq!(id_from_value(&json!("190")).unwrap(), 190);
        assert_eq!(id_from_value(&json!(190)).unwrap(), 190);
        assert!(id_from_value(&json!("19a")).is_err());
        assert!(id_from_value(&json!(true)).is_err());
        assert_eq!(
            decimal_from_value(&json!("123.000000")).unwrap(),
            Decimal::from(123)
        );
        assert_eq!(decimal_from_value(&json!(0.1)).unwrap().to_string(), "0.1");
        assert_eq!(scalar_id(br#""4""#).unwrap(), 4);
        assert!(scalar_bool(b"true").unwrap());
    }
}
