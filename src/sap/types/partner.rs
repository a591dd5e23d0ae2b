//! Business Partners (`BusinessPartners`, OCRD; reference §4): looked up by code or e-mail
//! and created for customers who have none yet.
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::lenient;
use crate::domain::ids::CardCode;

/// SAP's BoCardTypes. Responses use the name (`cCustomer`), stored values (`C`) are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardType {
    Customer,
    Supplier,
    Lead,
    /// A value this client does not know; kept rather than failing the whole partner.
    Other(String),
}

impl Serialize for CardType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Self::Customer => "cCustomer",
            Self::Supplier => "cSupplier",
            Self::Lead => "cLid",
            Self::Other(raw) => raw,
        })
    }
}

impl<'de> Deserialize<'de> for CardType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = lenient::string(d)?;
        Ok(match raw.as_str() {
            "cCustomer" | "C" => Self::Customer,
            "cSupplier" | "S" => Self::Supplier,
            "cLid" | "L" => Self::Lead,
            _ => Self::Other(raw),
        })
    }
}

/// A Business Partner as SAP returns it (the fields the customer mapping needs).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BusinessPartner {
    #[serde(deserialize_with = "lenient::string")]
    pub card_code: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub card_name: Option<String>,
    #[serde(default)]
    pub card_type: Option<CardType>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub email_address: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub phone1: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub currency: Option<String>,
    /// Absent only when not selected; SAP's default for a new partner is active.
    #[serde(default = "yes", deserialize_with = "lenient::yes_no")]
    pub valid: bool,
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub frozen: bool,
}

impl BusinessPartner {
    /// Whether documents can be posted for this partner: SAP refuses inactive ones with
    /// "(-10) 10001071 - Customer … is inactive".
    pub fn is_active(&self) -> bool {
        self.valid && !self.frozen
    }
}

pub(super) fn yes() -> bool {
    true
}

/// The fields `$select`ed when reading partners (kept in step with
/// [`BusinessPartner`]).
pub(crate) const BUSINESS_PARTNER_FIELDS: &[&str] = &[
    "CardCode",
    "CardName",
    "CardType",
    "EmailAddress",
    "Phone1",
    "Currency",
    "Valid",
    "Frozen",
];

/// A Business Partner to create (`POST /BusinessPartners`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewBusinessPartner {
    pub card_code: CardCode,
    pub card_name: String,
    pub card_type: CardType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_code: Option<i64>,
    #[serde(rename = "BPAddresses", skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<NewBpAddress>,
}

/// SAP's BoAddressType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AddressType {
    #[serde(rename = "bo_ShipTo")]
    ShipTo,
    #[serde(rename = "bo_BillTo")]
    BillTo,
}

/// One address row of a new partner; documents refer to it by `AddressName`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewBpAddress {
    pub address_name: String,
    pub address_type: AddressType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partners_accept_enum_names_and_stored_values() {
        let bp: BusinessPartner = serde_json::from_str(
            r#"{"CardCode":"c1","CardName":"customer c1","CardType":"C","GroupCode":100,
               "EmailAddress":"a@b.com","Valid":"tYES","Frozen":"N"}"#,
        )
        .unwrap();
        assert_eq!(bp.card_type, Some(CardType::Customer));
        assert!(bp.is_active());
        let frozen: BusinessPartner =
            serde_json::from_str(r#"{"CardCode":"c2","Frozen":"tYES"}"#).unwrap();
        assert!(!frozen.is_active());
    }

    #[test]
    fn new_partner_uses_sap_enum_names_and_bp_addresses() {
        let bp = NewBusinessPartner {
            card_code: CardCode::parse("W000000013").unwrap(),
            card_name: "Veronica Costello".into(),
            card_type: CardType::Customer,
            email_address: Some("roni_cost@example.com".into()),
            phone1: None,
            currency: None,
            group_code: None,
            addresses: vec![NewBpAddress {
                address_name: "Ship to".into(),
                address_type: AddressType::ShipTo,
                street: None,
                city: Some("Calder".into()),
                zip_code: None,
                state: None,
                country: Some("US".into()),
            }],
        };
        assert_eq!(
            serde_json::to_string(&bp).unwrap(),
            r#"{"CardCode":"W000000013","CardName":"Veronica Costello","CardType":"cCustomer","EmailAddress":"roni_cost@example.com","BPAddresses":[{"AddressName":"Ship to","AddressType":"bo_ShipTo","City":"Calder","Country":"US"}]}"#
        );
    }
}
