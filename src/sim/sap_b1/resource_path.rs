//! Resource paths under `/b1s/v1`: `Orders`, `Orders/$count`, `Orders(22)`,
//! `Orders(DocEntry=22)/Cancel`, `Items('c1')`, `Items(ItemCode='c1')` (GUIDE p.25). Names are
//! case-sensitive, as on the real Service Layer.
use percent_encoding::percent_decode_str;
use std::collections::BTreeSet;

use super::documents::{DocKind, Document};
use super::entities::{
    property_names, AdditionalExpense, BusinessPartner, Item, PriceList, SalesTaxCode,
    SpecialPrice, VatGroup, Warehouse,
};
use super::errors::ServiceLayerError;

/// The entity sets the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntitySet {
    Items,
    BusinessPartners,
    Warehouses,
    SalesTaxCodes,
    VatGroups,
    AdditionalExpenses,
    PriceLists,
    SpecialPrices,
    Orders,
    DeliveryNotes,
    Invoices,
    Drafts,
    CreditNotes,
    VendorPayments,
}

impl EntitySet {
    const ALL: [EntitySet; 14] = [
        EntitySet::Items,
        EntitySet::BusinessPartners,
        EntitySet::Warehouses,
        EntitySet::SalesTaxCodes,
        EntitySet::VatGroups,
        EntitySet::AdditionalExpenses,
        EntitySet::PriceLists,
        EntitySet::SpecialPrices,
        EntitySet::Orders,
        EntitySet::DeliveryNotes,
        EntitySet::Invoices,
        EntitySet::Drafts,
        EntitySet::CreditNotes,
        EntitySet::VendorPayments,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EntitySet::Items => "Items",
            EntitySet::BusinessPartners => "BusinessPartners",
            EntitySet::Warehouses => "Warehouses",
            EntitySet::SalesTaxCodes => "SalesTaxCodes",
            EntitySet::VatGroups => "VatGroups",
            EntitySet::AdditionalExpenses => "AdditionalExpenses",
            EntitySet::PriceLists => "PriceLists",
            EntitySet::SpecialPrices => "SpecialPrices",
            EntitySet::Orders => "Orders",
            EntitySet::DeliveryNotes => "DeliveryNotes",
            EntitySet::Invoices => "Invoices",
            EntitySet::Drafts => "Drafts",
            EntitySet::CreditNotes => "CreditNotes",
            EntitySet::VendorPayments => "VendorPayments",
        }
    }

    /// The key property and whether it is numeric.
    pub fn key(self) -> (&'static str, bool) {
        match self {
            EntitySet::Items => ("ItemCode", false),
            EntitySet::BusinessPartners => ("CardCode", false),
            EntitySet::Warehouses => ("WarehouseCode", false),
            EntitySet::SalesTaxCodes | EntitySet::VatGroups => ("Code", false),
            EntitySet::AdditionalExpenses => ("ExpensCode", true),
            EntitySet::PriceLists => ("PriceListNo", true),
            // Composite key (CardCode, ItemCode) in B1; the simulator serves the collection
            // only, so a single-key read of it is refused as a malformed key.
            EntitySet::SpecialPrices => ("ItemCode", false),
            EntitySet::Orders
            | EntitySet::DeliveryNotes
            | EntitySet::Invoices
            | EntitySet::Drafts
            | EntitySet::CreditNotes
            | EntitySet::VendorPayments => ("DocEntry", true),
        }
    }

    pub fn document_kind(self) -> Option<DocKind> {
        match self {
            EntitySet::Orders => Some(DocKind::Order),
            EntitySet::DeliveryNotes => Some(DocKind::DeliveryNote),
            EntitySet::Invoices => Some(DocKind::Invoice),
            EntitySet::Drafts => Some(DocKind::Draft),
            EntitySet::CreditNotes => Some(DocKind::CreditNote),
            _ => None,
        }
    }

    /// Property names for validating query options.
    pub fn property_names(self) -> BTreeSet<String> {
        match self {
            EntitySet::Items => property_names::<Item>(),
            EntitySet::BusinessPartners => property_names::<BusinessPartner>(),
            EntitySet::Warehouses => property_names::<Warehouse>(),
            EntitySet::SalesTaxCodes => property_names::<SalesTaxCode>(),
            EntitySet::VatGroups => property_names::<VatGroup>(),
            EntitySet::AdditionalExpenses => property_names::<AdditionalExpense>(),
            EntitySet::PriceLists => property_names::<PriceList>(),
            EntitySet::SpecialPrices => property_names::<SpecialPrice>(),
            EntitySet::Orders
            | EntitySet::DeliveryNotes
            | EntitySet::Invoices
            | EntitySet::Drafts
            | EntitySet::CreditNotes => property_names::<Document>(),
            EntitySet::VendorPayments => property_names::<super::vendor_payments::Payment>(),
        }
    }
}

/// An entity key, typed by its entity set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Text(String),
    Number(i64),
}

/// What follows the entity set or entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    None,
    /// `/$count`.
    Count,
    /// A bound action (`Cancel`) or a property segment.
    Segment(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub set: EntitySet,
    pub key: Option<Key>,
    pub tail: Tail,
}

/// Parses the path after `/b1s/v1/`.
pub fn parse(path: &str) -> Result<Resource, ServiceLayerError> {
    let mut segments = path.split('/');
    let head = decode(segments.next().unwrap_or_default())?;
    let (name, key_text) = match head.find('(') {
        Some(open) if head.ends_with(')') => (&head[..open], Some(&head[open + 1..head.len() - 1])),
        Some(_) => {
            return Err(ServiceLayerError::bad_request(format!(
                "Malformed key in '{head}'"
            )))
        }
        None => (head.as_str(), None),
    };
    let set = EntitySet::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| ServiceLayerError::unknown_segment(name))?;
    let key = key_text.map(|k| parse_key(set, k)).transpose()?;
    let tail = match (segments.next(), segments.next()) {
        (None, _) => Tail::None,
        (Some("$count"), None) if key.is_none() => Tail::Count,
        (Some(segment), None) if key.is_some() && !segment.is_empty() => {
            Tail::Segment(decode(segment)?)
        }
        _ => return Err(ServiceLayerError::unknown_segment(path)),
    };
    Ok(Resource { set, key, tail })
}

fn decode(segment: &str) -> Result<String, ServiceLayerError> {
    percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ServiceLayerError::bad_request("The path is not valid UTF-8"))
}

fn parse_key(set: EntitySet, raw: &str) -> Result<Key, ServiceLayerError> {
    let (key_name, numeric) = set.key();
    let value = match raw.split_once('=') {
        // `Name=value`, unless the '=' sits inside a quoted value.
        Some((name, value)) if !name.contains('\'') => {
            if name.trim() != key_name {
                return Err(ServiceLayerError::bad_request(format!(
                    "'{}' is not the key of {}",
                    name.trim(),
                    set.name()
                )));
            }
            value.trim()
        }
        _ => raw.trim(),
    };
    let invalid =
        || ServiceLayerError::bad_request(format!("Invalid key value {value} for {}", set.name()));
    if numeric {
        value.parse::<i64>().map(Key::Number).map_err(|_| invalid())
    } else {
        let inner = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .ok_or_else(invalid)?;
        Ok(Key::Text(inner.replace("''", "'")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(set: EntitySet, key: Option<Key>, tail: Tail) -> Resource {
        Resource { set, key, tail }
    }

    #[test]
    fn every_key_spelling_of_the_guide_is_understood() {
        let text = |s: &str| Some(Key::Text(s.into()));
        assert_eq!(
            parse("Items('c1')").unwrap(),
            res(EntitySet::Items, text("c1"), Tail::None)
        );
        assert_eq!(
            parse("Items(ItemCode='c1')").unwrap(),
            res(EntitySet::Items, text("c1"), Tail::None)
        );
        assert_eq!(
            parse("Orders(22)").unwrap(),
            res(EntitySet::Orders, Some(Key::Number(22)), Tail::None)
        );
        assert_eq!(
            parse("Orders(DocEntry=22)/Cancel").unwrap(),
            res(
                EntitySet::Orders,
                Some(Key::Number(22)),
                Tail::Segment("Cancel".into())
            )
        );
        assert_eq!(
            parse("BusinessPartners('O''Hara%20Ltd')").unwrap().key,
            text("O'Hara Ltd")
        );
        assert_eq!(parse("Items('a=b')").unwrap().key, text("a=b"));
        assert_eq!(
            parse("Orders/$count").unwrap(),
            res(EntitySet::Orders, None, Tail::Count)
        );
    }

    #[test]
    fn wrong_names_keys_and_segments_are_refused() {
        assert_eq!(parse("orders").unwrap_err().status, 404);
        assert_eq!(parse("Orders('x')").unwrap_err().status, 400);
        assert_eq!(parse("Items(CardCode='x')").unwrap_err().status, 400);
        assert_eq!(parse("Items(c1)").unwrap_err().status, 400);
        assert!(parse("Orders/Cancel").is_err());
        assert!(parse("Orders(1)/Lines/More").is_err());
    }
}
