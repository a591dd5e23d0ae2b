//! Identifier newtypes. Each has one way in (`parse`) so that an empty or absurd identifier
//! never reaches SAP or the database.
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {reason}")]
pub struct InvalidId {
    pub kind: &'static str,
    pub reason: &'static str,
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The only constructor: trims, refuses empty, over-long or control characters.
            pub fn parse(raw: impl AsRef<str>) -> Result<Self, InvalidId> {
                let s = raw.as_ref().trim();
                if s.is_empty() {
                    return Err(InvalidId { kind: $kind, reason: "is empty" });
                }
                if s.chars().count() > $max {
                    return Err(InvalidId { kind: $kind, reason: concat!("is longer than ", stringify!($max), " characters") });
                }
                if s.chars().any(char::is_control) {
                    return Err(InvalidId { kind: $kind, reason: "contains control characters" });
                }
                Ok(Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

string_id!(
    /// Magento's customer-facing order number (`increment_id`, e.g. `000000013`); it becomes
    /// the Sales Order's `NumAtCard`, the key that makes posting idempotent. SAP's
    /// `NumAtCard` column holds 100 characters.
    IncrementId, "increment_id", 100
);
string_id!(
    /// A Magento SKU (Magento allows 64 characters).
    Sku, "sku", 64
);
string_id!(
    /// An SAP B1 item code (OITM.ItemCode, 50 characters).
    ItemCode, "ItemCode", 50
);
string_id!(
    /// An SAP B1 Business Partner code (OCRD.CardCode, 15 characters).
    CardCode, "CardCode", 15
);
string_id!(
    /// An SAP B1 warehouse code (OWHS.WhsCode, 8 characters).
    WarehouseCode, "WarehouseCode", 8
);
string_id!(
    /// An SAP B1 sales tax code / VAT group (OSTC.Code / OVTG.Code, 8 characters), the
    /// `TaxCode` of a document line or additional expense.
    TaxCode, "TaxCode", 8
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_trimmed_and_refuse_empty_or_too_long_values() {
        assert_eq!(
            IncrementId::parse(" 000000013 ").unwrap().as_str(),
            "000000013"
        );
        assert!(IncrementId::parse("  ").is_err());
        assert!(CardCode::parse("C".repeat(16)).is_err());
        assert!(CardCode::parse("C".repeat(15)).is_ok());
        assert!(Sku::parse("a\nb").is_err());
    }

    #[test]
    fn ids_deserialize_through_parse() {
        let ok: Sku = serde_json::from_str("\"MH01-S-Gray\"").unwrap();
        assert_eq!(ok.as_str(), "MH01-S-Gray");
        assert!(serde_json::from_str::<Sku>("\"\"").is_err());
    }
}
