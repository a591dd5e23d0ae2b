//! Orders as read back (search, get), shipments and status-history comments.
use serde::de::{Deserializer, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::magento::lenient;

/// An order as `GET /V1/orders/{id}` returns it: the fields b1bridge decides on, plus the
/// whole JSON, which [`crate::magento::order::normalise`] reads exactly as a webhook's order.
#[derive(Debug, Clone, PartialEq)]
pub struct RestOrder {
    pub entity_id: i64,
    pub increment_id: String,
    pub state: Option<String>,
    /// `None` when Magento has no status for it (see [`OrderComment`]).
    pub status: Option<String>,
    /// UTC, `YYYY-MM-DD hh:mm:ss`, as Magento writes it.
    pub updated_at: Option<String>,
    pub raw: Value,
}

impl<'de> Deserialize<'de> for RestOrder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(d)?;
        let entity_id = raw
            .get("entity_id")
            .ok_or_else(|| D::Error::custom("order without entity_id"))
            .and_then(|v| lenient::id_from_value(v).map_err(D::Error::custom))?;
        let increment_id = match raw.get("increment_id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(D::Error::custom("order without increment_id")),
        };
        let text = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(Self {
            entity_id,
            increment_id,
            state: text("state"),
            status: text("status"),
            updated_at: text("updated_at"),
            raw,
        })
    }
}

/// `POST /V1/order/{id}/ship`. List only what ships now (a partial shipment lists part).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShipRequest {
    pub items: Vec<ShipItem>,
    pub tracks: Vec<ShipTrack>,
    pub notify: bool,
    /// A comment on the shipment (visible to the customer when `is_visible_on_front`).
    pub comment: Option<ShipComment>,
    /// The MSI source the goods left from (`arguments.extension_attributes.source_code`).
    pub source_code: Option<String>,
}

impl ShipRequest {
    pub(crate) fn to_body(&self) -> Value {
        let mut body = serde_json::json!({"items": self.items, "notify": self.notify});
        if !self.tracks.is_empty() {
            body["tracks"] = serde_json::json!(self.tracks);
        }
        if let Some(c) = &self.comment {
            body["appendComment"] = Value::Bool(true);
            body["comment"] = serde_json::json!(c);
        }
        if let Some(code) = &self.source_code {
            body["arguments"] = serde_json::json!({"extension_attributes": {"source_code": code}});
        }
        body
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShipItem {
    pub order_item_id: i64,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub qty: rust_decimal::Decimal,
}

/// A tracking number; Magento requires all three fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipTrack {
    pub track_number: String,
    pub title: String,
    pub carrier_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipComment {
    pub comment: String,
    pub is_visible_on_front: i32,
}

/// `POST /V1/orders/{id}/comments`. `status` is required here although Magento's schema
/// lets it be omitted: omitting it sets the order's status to NULL (the order drops out of
/// the admin grid), so the caller must always pass the order's current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderComment {
    pub comment: String,
    pub status: String,
    pub is_customer_notified: bool,
    pub is_visible_on_front: bool,
}

impl OrderComment {
    pub(crate) fn to_body(&self, order_id: i64) -> Value {
        serde_json::json!({"statusHistory": {
            "comment": self.comment,
            "is_customer_notified": i32::from(self.is_customer_notified),
            "is_visible_on_front": i32::from(self.is_visible_on_front),
            "parent_id": order_id,
            "status": self.status,
        }})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_reads_with_string_or_number_ids_and_keeps_its_json() {
        let o: RestOrder = serde_json::from_str(
            r#"{"entity_id":"9","increment_id":"000000013","state":"new","updated_at":"2020-04-24 15:50:17"}"#,
        )
        .unwrap();
        assert_eq!((o.entity_id, o.status.as_deref()), (9, None));
        assert_eq!(o.raw["increment_id"], "000000013");
        let o: RestOrder = serde_json::from_str(r#"{"entity_id":9,"increment_id":13}"#).unwrap();
        assert_eq!(o.increment_id, "13");
        assert!(serde_json::from_str::<RestOrder>(r#"{"increment_id":"1"}"#).is_err());
    }

    #[test]
    fn a_comment_always_carries_the_status_and_a_shipment_its_source() {
        let c = OrderComment {
            comment: "x".into(),
            status: "processing".into(),
            is_customer_notified: false,
            is_visible_on_front: true,
        };
        assert_eq!(c.to_body(9)["statusHistory"]["status"], "processing");
        let s = ShipRequest {
            source_code: Some("east".into()),
            ..Default::default()
        };
        assert_eq!(
            s.to_body()["arguments"]["extension_attributes"]["source_code"],
            "east"
        );
    }
}
