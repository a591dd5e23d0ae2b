//! Turns a credit memo as Magento sends it (`GET /V1/creditmemo/{id}`, or the model on the
//! observer envelope) into the canonical [`Refund`] (docs/refunds.md). Pure parsing.
//! Quirks: numbers may be strings, nulls are omitted, Magento lists every order item on a
//! credit memo (those not refunded with quantity 0, which are dropped here), and
//! `discount_amount` is negative on the memo but positive on its items.
use rust_decimal::Decimal;
use serde_json::Value;

use super::order::parse_magento_time;
use super::types::CreditMemo;
use crate::domain::money::Currency;
use crate::domain::refund::{Refund, RefundLine};

/// Why a credit memo could not be read; the text names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("credit memo{}: {problem}", .increment_id.as_deref().map(|i| format!(" {i}")).unwrap_or_default())]
pub struct CreditMemoError {
    pub problem: String,
    pub increment_id: Option<String>,
}

fn error(problem: impl Into<String>, increment_id: Option<String>) -> CreditMemoError {
    CreditMemoError {
        problem: problem.into(),
        increment_id,
    }
}

pub fn normalise_credit_memo(
    memo: &Value,
    order_increment_id: Option<String>,
) -> Result<Refund, CreditMemoError> {
    let hint = memo.get("increment_id").and_then(id_text);
    let parsed: CreditMemo =
        serde_json::from_value(memo.clone()).map_err(|e| error(e.to_string(), hint))?;
    refund_from(&parsed, order_increment_id)
}

/// The canonical refund of a credit memo read through the REST client (the backfill).
pub fn refund_from(
    parsed: &CreditMemo,
    order_increment_id: Option<String>,
) -> Result<Refund, CreditMemoError> {
    let hint = parsed.increment_id.clone();
    let credit_memo_id = parsed
        .increment_id
        .clone()
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| error("`increment_id` is missing", None))?;
    let currency = parsed
        .order_currency_code
        .as_deref()
        .map(Currency::parse)
        .transpose()
        .map_err(|e| error(format!("order_currency_code: {e}"), hint.clone()))?;
    let returned: Option<Vec<i64>> = parsed
        .extension_attributes
        .as_ref()
        .and_then(|e| e.return_to_stock_items.as_ref())
        .map(|ids| ids.iter().filter_map(int).collect());
    let mut lines = Vec::new();
    for item in &parsed.items {
        if item.qty <= Decimal::ZERO {
            continue;
        }
        let row = item
            .row_total
            .or_else(|| item.price.map(|p| p * item.qty))
            .unwrap_or_default();
        let back_to_stock = match (&item.back_to_stock, &returned) {
            (Some(flag), _) => flag_value(flag),
            (None, Some(ids)) => Some(ids.contains(&item.order_item_id)),
            (None, None) => None,
        };
        lines.push(RefundLine {
            order_item_id: item.order_item_id,
            sku: item.sku.clone(),
            qty: item.qty,
            net: row - item.discount_amount.unwrap_or_default().abs(),
            tax: item.tax_amount.unwrap_or_default(),
            back_to_stock,
        });
    }
    let shipping = parsed.shipping_amount.unwrap_or_default();
    let shipping_tax = parsed
        .shipping_tax_amount
        .or_else(|| parsed.shipping_incl_tax.map(|incl| incl - shipping))
        .unwrap_or_default();
    Ok(Refund {
        credit_memo_id,
        magento_entity_id: parsed.entity_id,
        magento_order_id: parsed.order_id,
        order_increment_id,
        store_id: parsed.store_id,
        currency,
        created_at: parsed.created_at.as_deref().and_then(parse_magento_time),
        lines,
        shipping,
        shipping_tax,
        adjustment_refund: parsed.adjustment_positive.unwrap_or_default(),
        adjustment_fee: parsed.adjustment_negative.unwrap_or_default(),
        tax_amount: parsed.tax_amount.unwrap_or_default(),
        grand_total: parsed.grand_total,
        online: parsed
            .transaction_id
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty()),
    })
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn flag_value(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim() {
            "1" | "true" => Some(true),
            "0" | "false" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn items_not_refunded_are_dropped_and_discounts_come_off_the_line() {
        let memo = json!({"entity_id": "7", "order_id": 3, "increment_id": "100000007",
            "order_currency_code": "EUR", "grand_total": "36.30", "tax_amount": 6.3,
            "shipping_amount": 5, "shipping_incl_tax": 6.05, "adjustment_negative": 1,
            "items": [
                {"order_item_id": 11, "qty": "2", "price": 10, "row_total": 20,
                 "discount_amount": 2, "tax_amount": 3.78},
                {"order_item_id": 12, "qty": 0, "price": 99}],
            "extension_attributes": {"return_to_stock_items": [11]}});
        let r = normalise_credit_memo(&memo, Some("000000003".into())).unwrap();
        assert_eq!(r.credit_memo_id, "100000007");
        assert_eq!(r.magento_order_id, 3);
        assert_eq!(r.lines.len(), 1);
        assert_eq!(r.lines[0].net, dec!(18));
        assert_eq!(r.lines[0].back_to_stock, Some(true));
        assert_eq!(r.shipping_tax, dec!(1.05));
        assert_eq!(r.adjustment_fee, dec!(1));
        assert!(!r.online, "no gateway transaction: an offline refund");
        let mut online = memo.clone();
        online["transaction_id"] = json!("ch_3-refund");
        assert!(normalise_credit_memo(&online, None).unwrap().online);
        assert_eq!(
            r.parts_total(),
            dec!(18) + dec!(3.78) + dec!(5) + dec!(1.05) - dec!(1)
        );
    }

    #[test]
    fn a_memo_without_an_increment_id_is_refused_naming_the_field() {
        let e = normalise_credit_memo(
            &json!({"entity_id": 1, "order_id": 2, "grand_total": 0}),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("increment_id"), "{e}");
    }
}
