//! Reading request bodies the way the Service Layer does: numbers may come as JSON numbers or
//! numeric strings, enums as name or stored value (reference §3, §10). Bodies are read through
//! `serde_json::Value` because their shapes vary.
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::datetime::parse_date;
use super::errors::ServiceLayerError;
use crate::domain::money::decimal_from_json;

/// One JSON object of a request body, named after its B1 type for error texts.
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    type_name: &'static str,
}

/// The body parsed as a JSON object. The text for a malformed body was not found; ours says
/// what is wrong.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ServiceLayerError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ServiceLayerError::bad_request(
            "The request body must be a JSON object",
        )),
        Err(e) => Err(ServiceLayerError::bad_request(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

impl<'a> Fields<'a> {
    pub fn new(object: &'a Map<String, Value>, type_name: &'static str) -> Self {
        Self { object, type_name }
    }

    /// The same reader for a nested object (a document line), or an error if it is not one.
    pub fn nested(value: &'a Value, type_name: &'static str) -> Result<Self, ServiceLayerError> {
        value
            .as_object()
            .map(|object| Self::new(object, type_name))
            .ok_or_else(|| {
                ServiceLayerError::bad_request(format!("Each {type_name} must be a JSON object"))
            })
    }

    fn invalid(&self, key: &str) -> ServiceLayerError {
        ServiceLayerError::bad_request(format!(
            "Value of property '{key}' of '{}' is invalid",
            self.type_name
        ))
    }

    fn present(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.present(key).is_some()
    }

    /// A string; numbers are accepted as their text (B1 is lenient both ways).
    pub fn string(&self, key: &str) -> Result<Option<String>, ServiceLayerError> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(self.invalid(key)),
        }
    }

    pub fn decimal(&self, key: &str) -> Result<Option<Decimal>, ServiceLayerError> {
        match self.present(key) {
            None => Ok(None),
            Some(v) => decimal_from_json(v).map_err(|_| self.invalid(key)),
        }
    }

    pub fn integer(&self, key: &str) -> Result<Option<i64>, ServiceLayerError> {
        match self.decimal(key)? {
            None => Ok(None),
            Some(d) if d.fract().is_zero() => {
                i64::try_from(d).map(Some).map_err(|_| self.invalid(key))
            }
            Some(_) => Err(self.invalid(key)),
        }
    }

    /// An enum by name or stored value.
    pub fn enumeration<E>(
        &self,
        key: &str,
        parse: fn(&str) -> Option<E>,
    ) -> Result<Option<E>, ServiceLayerError> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => parse(&s).map(Some).ok_or_else(|| self.invalid(key)),
        }
    }

    pub fn date(&self, key: &str) -> Result<Option<NaiveDate>, ServiceLayerError> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => parse_date(&s).map(Some).ok_or_else(|| self.invalid(key)),
        }
    }

    /// A collection property; absent or null is empty.
    pub fn array(&self, key: &str) -> Result<&'a [Value], ServiceLayerError> {
        match self.present(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(self.invalid(key)),
        }
    }

    /// A complex property (e.g. `AddressExtension`), kept as sent.
    pub fn object(&self, key: &str) -> Result<Option<Value>, ServiceLayerError> {
        match self.present(key) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
            Some(_) => Err(self.invalid(key)),
        }
    }

    /// User-defined fields (`U_` prefix) behave as plain properties (GUIDE p.95); we store
    /// and echo them.
    pub fn user_fields(&self) -> BTreeMap<String, Value> {
        self.object
            .iter()
            .filter(|(k, _)| k.starts_with("U_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::sap_b1::enums::YesNo;
    use rust_decimal_macros::dec;

    #[test]
    fn numbers_may_be_sent_as_strings_and_enums_as_stored_values() {
        let map = parse_object(br#"{"Quantity":"10","UnitPrice":22.5,"Valid":"Y","LineNum":"2"}"#)
            .unwrap();
        let f = Fields::new(&map, "DocumentLine");
        assert_eq!(f.decimal("Quantity").unwrap(), Some(dec!(10)));
        assert_eq!(f.decimal("UnitPrice").unwrap(), Some(dec!(22.5)));
        assert_eq!(f.integer("LineNum").unwrap(), Some(2));
        assert_eq!(
            f.enumeration("Valid", YesNo::parse).unwrap(),
            Some(YesNo::Yes)
        );
        assert_eq!(f.decimal("Missing").unwrap(), None);
    }

    #[test]
    fn wrong_types_are_refused_with_the_property_name() {
        let map = parse_object(br#"{"Quantity":"ten"}"#).unwrap();
        let err = Fields::new(&map, "DocumentLine")
            .decimal("Quantity")
            .unwrap_err();
        assert_eq!(err.code, -1000);
        assert!(err.message.contains("'Quantity'"), "{}", err.message);
    }
}
