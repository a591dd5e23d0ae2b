//! Order events as Magento sends them, in either envelope the webhook accepts (see
//! `docs/magento-rest.md`): Standard Webhooks' `{type, timestamp, data: {order}}` or the Adobe
//! Commerce observer `{eventName, data: {order}}`. Parsing happens after the signature check,
//! on the raw body, and yields the domain's [`OrderEvent`].
use serde_json::Value;

use super::order::{normalise, NormaliseError};
use super::refund::normalise_credit_memo;
use crate::domain::event::{Envelope, EventKind, OrderEvent};
use crate::domain::ids::IncrementId;
use crate::domain::refund::Refund;

/// Why a signed body is not a usable order event. The message is for the integrator who
/// reads the `payload_invalid` exception, so it names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("{0}")]
    Unusable(String),
}

impl From<NormaliseError> for EventError {
    fn from(e: NormaliseError) -> Self {
        EventError::Unusable(e.to_string())
    }
}

/// Parses and normalises an event body. Best-effort identifiers are returned with the error
/// so that even an unusable event can be filed against its order.
pub fn parse_event(body: &[u8]) -> Result<OrderEvent, (EventError, Option<String>)> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| (EventError::NotJson(e.to_string()), None))?;
    let hint = root.pointer("/data/order/increment_id").and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.as_i64().map(|n| n.to_string()))
    });
    parse_value(&root).map_err(|e| (e, hint))
}

/// A usable `creditmemo.created` event (or the observer's `sales_order_creditmemo_save_after`).
#[derive(Debug, Clone, PartialEq)]
pub struct RefundEvent {
    pub envelope: Envelope,
    pub refund: Refund,
}

/// The credit-memo event in `body`, if it is one (`None`: not a credit-memo event, read it
/// with [`parse_event`]). `data.creditmemo` is the credit memo; `data.order`, when sent,
/// names its order.
pub fn parse_refund_event(
    body: &[u8],
) -> Option<Result<RefundEvent, (EventError, Option<String>)>> {
    let root: Value = serde_json::from_slice(body).ok()?;
    let envelope = match (root.get("type"), root.get("eventName")) {
        (Some(Value::String(t)), _) if t == "creditmemo.created" => Envelope::StandardWebhooks,
        (None, Some(Value::String(name)))
            if name.rsplit('.').next() == Some("sales_order_creditmemo_save_after") =>
        {
            Envelope::AdobeObserver
        }
        _ => return None,
    };
    let order_increment_id = root
        .pointer("/data/order/increment_id")
        .and_then(json_id_string);
    let Some(memo) = root.pointer("/data/creditmemo").filter(|m| m.is_object()) else {
        return Some(Err((
            EventError::Unusable("`data.creditmemo` is missing or not an object".into()),
            order_increment_id,
        )));
    };
    Some(
        normalise_credit_memo(memo, order_increment_id.clone())
            .map(|refund| RefundEvent { envelope, refund })
            .map_err(|e| (EventError::Unusable(e.to_string()), order_increment_id)),
    )
}

fn parse_value(root: &Value) -> Result<OrderEvent, EventError> {
    let obj = root
        .as_object()
        .ok_or_else(|| EventError::Unusable("body is not a JSON object".into()))?;
    let (kind, envelope) = if let Some(t) = obj.get("type") {
        let t = t
            .as_str()
            .ok_or_else(|| EventError::Unusable("`type` is not a string".into()))?;
        let kind = match t {
            "order.placed" => EventKind::Placed,
            "order.updated" => EventKind::Updated,
            "order.cancelled" => EventKind::Cancelled,
            other => {
                return Err(EventError::Unusable(format!(
                "event type '{other}' is not one of order.placed, order.updated, order.cancelled"
            )))
            }
        };
        (kind, Envelope::StandardWebhooks)
    } else if let Some(name) = obj.get("eventName") {
        let name = name
            .as_str()
            .ok_or_else(|| EventError::Unusable("`eventName` is not a string".into()))?;
        // Adobe I/O prefixes event codes (`com.adobe.commerce.observer.…`); accept both forms.
        let short = name.rsplit('.').next().unwrap_or(name);
        let kind = match short {
            "sales_order_place_after" => EventKind::Placed,
            "order_cancel_after" => EventKind::Cancelled,
            "sales_order_save_commit_after" => EventKind::Updated,
            other => {
                return Err(EventError::Unusable(format!(
                    "eventName '{other}' is not one of sales_order_place_after, order_cancel_after, sales_order_save_commit_after"
                )))
            }
        };
        (kind, Envelope::AdobeObserver)
    } else {
        return Err(EventError::Unusable(
            "body has neither `type` (Standard Webhooks) nor `eventName` (Adobe Commerce observer)"
                .into(),
        ));
    };

    let order = root
        .pointer("/data/order")
        .filter(|o| o.is_object())
        .ok_or_else(|| EventError::Unusable("`data.order` is missing or not an object".into()))?;

    let minimal = order.get("items").is_none();
    if kind == EventKind::Cancelled && minimal {
        // The contract allows `{"entity_id": …, "increment_id": …}` for cancellations.
        let increment_id = order
            .get("increment_id")
            .and_then(json_id_string)
            .ok_or_else(|| EventError::Unusable("`data.order.increment_id` is missing".into()))?;
        let increment_id = IncrementId::parse(increment_id)
            .map_err(|e| EventError::Unusable(format!("data.order.{e}")))?;
        return Ok(OrderEvent {
            kind,
            envelope,
            increment_id,
            magento_entity_id: order.get("entity_id").and_then(json_i64),
            order: None,
        });
    }

    let normalised = normalise(order)?;
    Ok(OrderEvent {
        kind,
        envelope,
        increment_id: normalised.increment_id.clone(),
        magento_entity_id: normalised.magento_entity_id,
        order: Some(normalised),
    })
}

fn json_id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn json_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_memo_events_are_read_in_both_envelopes_and_order_events_are_left_alone() {
        let memo =
            r#"{"entity_id":7,"order_id":3,"increment_id":"100000007","grand_total":5,"items":[]}"#;
        let standard = format!(
            r#"{{"type":"creditmemo.created","data":{{"creditmemo":{memo},"order":{{"increment_id":"000000003"}}}}}}"#
        );
        let e = parse_refund_event(standard.as_bytes()).unwrap().unwrap();
        assert_eq!(e.envelope, Envelope::StandardWebhooks);
        assert_eq!(e.refund.order_increment_id.as_deref(), Some("000000003"));
        let observer = format!(
            r#"{{"eventName":"com.adobe.commerce.observer.sales_order_creditmemo_save_after","data":{{"creditmemo":{memo}}}}}"#
        );
        let e = parse_refund_event(observer.as_bytes()).unwrap().unwrap();
        assert_eq!(e.envelope, Envelope::AdobeObserver);
        assert_eq!(e.refund.credit_memo_id, "100000007");
        let (err, _) = parse_refund_event(br#"{"type":"creditmemo.created","data":{}}"#)
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("data.creditmemo"));
        assert!(parse_refund_event(br#"{"type":"order.placed","data":{}}"#).is_none());
    }

    #[test]
    fn minimal_cancellation_is_usable() {
        let e = parse_event(br#"{"type":"order.cancelled","data":{"order":{"entity_id":9,"increment_id":"000000013"}}}"#).unwrap();
        assert_eq!(e.kind, EventKind::Cancelled);
        assert_eq!(e.increment_id.as_str(), "000000013");
        assert_eq!(e.magento_entity_id, Some(9));
        assert!(e.order.is_none());
        assert!(e.is_cancellation());
    }

    #[test]
    fn unknown_type_and_missing_order_are_unusable_with_a_reason() {
        let (err, _) = parse_event(br#"{"type":"customer.created","data":{}}"#).unwrap_err();
        assert!(err.to_string().contains("customer.created"));
        let (err, _) = parse_event(br#"{"type":"order.placed","data":{}}"#).unwrap_err();
        assert!(err.to_string().contains("data.order"));
        let (err, _) = parse_event(b"not json").unwrap_err();
        assert!(matches!(err, EventError::NotJson(_)));
    }

    #[test]
    fn adobe_observer_names_are_accepted_with_or_without_prefix() {
        let body = br#"{"eventName":"com.adobe.commerce.observer.order_cancel_after","data":{"order":{"increment_id":"7"}}}"#;
        let e = parse_event(body).unwrap();
        assert_eq!(e.envelope, Envelope::AdobeObserver);
        assert_eq!(e.kind, EventKind::Cancelled);
    }
}
