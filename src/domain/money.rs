//! Money is exact: `rust_decimal::Decimal` everywhere, parsed from the JSON text itself
//! (serde_json's `arbitrary_precision` keeps the digits), never through a float.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency code such as `USD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Self(code))
        } else {
            Err(format!("'{raw}' is not a three-letter currency code"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount in a currency. Arithmetic between two currencies is a bug, so it is not offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Rounded to cents the way finance compares documents (banker's rounding is *not* what
    /// SAP or Magento use for display; both round half away from zero).
    pub fn to_cents(&self) -> Decimal {
        round_cents(self.amount)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", round_cents(self.amount), self.currency)
    }
}

/// Half away from zero to two places, as both Magento and SAP B1 display amounts.
pub fn round_cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// Reads a decimal from Magento JSON, which sends numbers as JSON numbers (`5`, `396.87`)
/// or, in event payloads, as strings (`"123.000000"`). Returns `None` for null/absent.
pub fn decimal_from_json(v: &serde_json::Value) -> Result<Option<Decimal>, String> {
    match v {
        serde_json::Value::Null => Ok(None),
        // With `arbitrary_precision` the number's Display is the exact text Magento sent.
        serde_json::Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .map(Some)
            .map_err(|_| format!("{n} is not a decimal amount")),
        serde_json::Value::String(s) if s.trim().is_empty() => Ok(None),
        serde_json::Value::String(s) => Decimal::from_str(s.trim())
            .map(Some)
            .map_err(|_| format!("'{s}' is not a decimal amount")),
        other => Err(format!("{other} is not a decimal amount")),
    }
}

/// `Option<Decimal>` as a JSON number, for `#[serde(with = "crate::domain::money::option_number")]`.
/// Use it instead of `rust_decimal::serde::arbitrary_precision_option`: with rust_decimal's
/// `serde-str` feature on (as here), that one deserializes `Some` through the string-only
/// `Decimal` impl and refuses every JSON number.
pub mod option_number {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    struct Number(#[serde(with = "rust_decimal::serde::arbitrary_precision")] Decimal);

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::arbitrary_precision_option::serialize(value, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        Ok(Option::<Number>::deserialize(d)?.map(|n| n.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn optional_decimals_read_numbers_strings_and_null_and_write_numbers() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct T {
            #[serde(default, with = "option_number")]
            v: Option<Decimal>,
        }
        for (json, want) in [
            (r#"{"v":20.50}"#, Some(dec!(20.50))),
            (r#"{"v":"0.1"}"#, Some(dec!(0.1))),
            (r#"{"v":null}"#, None),
            (r#"{}"#, None),
        ] {
            let from_text: T = serde_json::from_str(json).unwrap();
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let from_value: T = serde_json::from_value(value).unwrap();
            assert_eq!(from_text.v, want, "{json}");
            assert_eq!(from_value.v, want, "{json}");
        }
        let out = serde_json::to_string(&T {
            v: Some(dec!(20.50)),
        })
        .unwrap();
        assert_eq!(out, r#"{"v":20.50}"#);
    }

    #[test]
    fn json_numbers_keep_their_exact_digits() {
        let v: serde_json::Value =
            serde_json::from_str("[396.87, 0.1, \"123.000000\", 5, null]").unwrap();
        let got: Vec<_> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| decimal_from_json(x).unwrap())
            .collect();
        assert_eq!(
            got,
            vec![
                Some(dec!(396.87)),
                Some(dec!(0.1)),
                Some(dec!(123.000000)),
                Some(dec!(5)),
                None
            ]
        );
        // 0.1 + 0.2 is exactly 0.3 here, unlike f64.
        assert_eq!(got[1].unwrap() + dec!(0.2), dec!(0.3));
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_cents(dec!(1.005)), dec!(1.01));
        assert_eq!(round_cents(dec!(-1.005)), dec!(-1.01));
        assert_eq!(round_cents(dec!(2.675)), dec!(2.68));
    }

    #[test]
    fn currency_codes_are_validated() {
        assert_eq!(Currency::parse("usd").unwrap().as_str(), "USD");
        assert!(Currency::parse("US").is_err());
    }
}
