//! The customer reference (`NumAtCard`) an order carries into SAP B1: how b1bridge finds the
//! order again before any (re)post. Magento increment ids are unique only per store, so a
//! company fed by several stores needs the store in it; the format is a setting.
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

use super::order::Order;

/// Longest format accepted. A b1bridge choice that keeps references readable on SAP's
/// documents; SAP's own column limit is not in the sources b1bridge relies on.
pub const MAX_FORMAT_CHARS: usize = 40;

const INCREMENT_ID: &str = "{increment_id}";
const STORE_ID: &str = "{store_id}";

/// A format such as `{increment_id}` (the default) or `S{store_id}-{increment_id}`: literal
/// text with the placeholders `{increment_id}` (required) and `{store_id}` (Magento's
/// numeric store; the order payload carries no store code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "{increment_id}")]
pub struct NumAtCardFormat(String);

/// Why an order has no reference under the format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("num_at_card_format uses {{store_id}}, but order {0} carries no store_id")]
pub struct NoStoreId(pub String);

impl Default for NumAtCardFormat {
    fn default() -> Self {
        Self(INCREMENT_ID.into())
    }
}

impl fmt::Display for NumAtCardFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl NumAtCardFormat {
    pub fn new(format: impl Into<String>) -> Self {
        Self(format.into())
    }

    /// Why the format cannot be used, if it cannot: it must name `{increment_id}` exactly
    /// once (else two orders share a reference), use no other placeholder, and hold no
    /// braces or control characters outside them.
    pub fn problem(&self) -> Option<String> {
        let f = &self.0;
        if f.chars().count() > MAX_FORMAT_CHARS {
            return Some(format!("must be at most {MAX_FORMAT_CHARS} characters"));
        }
        if f.matches(INCREMENT_ID).count() != 1 {
            return Some("must contain {increment_id} exactly once".into());
        }
        if f.matches(STORE_ID).count() > 1 {
            return Some("may contain {store_id} at most once".into());
        }
        let literal = f.replace(INCREMENT_ID, "").replace(STORE_ID, "");
        if literal.contains(['{', '}']) {
            return Some(
                "knows only the placeholders {increment_id} and {store_id}; other braces are not allowed"
                    .into(),
            );
        }
        if literal.chars().any(|c| c.is_control()) {
            return Some("must not contain control characters".into());
        }
        None
    }

    /// The order's reference under this format.
    pub fn render(&self, order: &Order) -> Result<String, NoStoreId> {
        self.render_parts(order.increment_id.as_str(), order.store_id)
    }

    /// The reference of the order `increment_id` of store `store_id`.
    pub fn render_parts(
        &self,
        increment_id: &str,
        store_id: Option<i64>,
    ) -> Result<String, NoStoreId> {
        let mut out = self.0.replace(INCREMENT_ID, increment_id);
        if self.0.contains(STORE_ID) {
            let store = store_id.ok_or_else(|| NoStoreId(increment_id.to_owned()))?;
            out = out.replace(STORE_ID, &store.to_string());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::magento::order::normalise;

    #[test]
    fn the_default_is_the_increment_id_and_the_store_can_be_added() {
        let json: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/magento/rest-order-registered-configurable-multiitem-tax.json"
        ))
        .unwrap();
        let mut order = normalise(&json).unwrap();
        assert_eq!(order.store_id, Some(1), "read from the payload");
        order.store_id = Some(3);
        let id = order.increment_id.to_string();
        assert_eq!(NumAtCardFormat::default().render(&order).unwrap(), id);
        let with_store = NumAtCardFormat::new("S{store_id}-{increment_id}");
        assert_eq!(with_store.problem(), None);
        assert_eq!(with_store.render(&order).unwrap(), format!("S3-{id}"));
        order.store_id = None;
        assert_eq!(with_store.render(&order), Err(NoStoreId(id)));
    }

    #[test]
    fn formats_that_could_repeat_or_are_malformed_are_refused() {
        for bad in [
            "",
            "{store_id}",
            "{increment_id}{increment_id}",
            "{store_code}-{increment_id}",
            "{increment_id}}",
            "{store_id}{store_id}{increment_id}",
            "A\n{increment_id}",
            "0123456789012345678901234567890123456789-{increment_id}",
        ] {
            assert!(NumAtCardFormat::new(bad).problem().is_some(), "{bad:?}");
        }
        assert_eq!(NumAtCardFormat::new("M-{increment_id}").problem(), None);
    }
}
