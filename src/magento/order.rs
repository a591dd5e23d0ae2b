//! Turns Magento's order JSON (as `GET /V1/orders/{id}` returns it) into the canonical
//! [`Order`]. Magento quirks handled here, with the facts in
//! `docs/magento-rest.md` (order JSON):
//! - null fields are omitted, numbers may arrive as strings, dates are UTC without a zone;
//! - a configurable product is a parent line (money, simple SKU) plus a child (no money):
//!   the child is skipped;
//! - a bundle has money on the parent *and* on its children: we post one level only — the
//!   components when they carry prices (dynamic pricing: real SKUs, real stock), otherwise
//!   the parent (fixed price);
//! - order-level discounts are negative, item-level ones positive: all become positive.
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::HashMap;

use crate::domain::ids::{IncrementId, Sku};
use crate::domain::money::{decimal_from_json, Currency};
use crate::domain::order::{
    Address, AppliedTax, Customer, LineKind, Order, OrderLine, Payment, Shipping, Totals,
};

/// Why an order could not be normalised; names the offending field for the integrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order{}: {field}: {problem}", .increment_id.as_deref().map(|i| format!(" {i}")).unwrap_or_default())]
pub struct NormaliseError {
    pub increment_id: Option<String>,
    pub field: String,
    pub problem: String,
}

type Obj = Map<String, Value>;

struct Ctx {
    increment_id: Option<String>,
}

impl Ctx {
    fn err(&self, field: impl Into<String>, problem: impl Into<String>) -> NormaliseError {
        NormaliseError {
            increment_id: self.increment_id.clone(),
            field: field.into(),
            problem: problem.into(),
        }
    }

    fn decimal(&self, o: &Obj, field: &str, path: &str) -> Result<Option<Decimal>, NormaliseError> {
        match o.get(field) {
            None => Ok(None),
            Some(v) => decimal_from_json(v).map_err(|p| self.err(format!("{path}{field}"), p)),
        }
    }

    fn decimal_or_zero(&self, o: &Obj, field: &str, path: &str) -> Result<Decimal, NormaliseError> {
        Ok(self.decimal(o, field, path)?.unwrap_or(Decimal::ZERO))
    }

    fn required_decimal(
        &self,
        o: &Obj,
        field: &str,
        path: &str,
    ) -> Result<Decimal, NormaliseError> {
        self.decimal(o, field, path)?
            .ok_or_else(|| self.err(format!("{path}{field}"), "is missing"))
    }
}

/// Normalises one Magento order object.
pub fn normalise(order: &Value) -> Result<Order, NormaliseError> {
    let mut ctx = Ctx { increment_id: None };
    let o = order
        .as_object()
        .ok_or_else(|| ctx.err("order", "is not an object"))?;

    let raw_increment = o
        .get("increment_id")
        .and_then(text)
        .ok_or_else(|| ctx.err("increment_id", "is missing"))?;
    let increment_id =
        IncrementId::parse(&raw_increment).map_err(|e| ctx.err("increment_id", e.reason))?;
    ctx.increment_id = Some(increment_id.to_string());

    let created_raw = o
        .get("created_at")
        .and_then(text)
        .ok_or_else(|| ctx.err("created_at", "is missing"))?;
    let created_at = parse_magento_time(&created_raw)
        .ok_or_else(|| ctx.err("created_at", format!("'{created_raw}' is not a date-time")))?;

    let currency_raw = [
        "order_currency_code",
        "base_currency_code",
        "global_currency_code",
    ]
    .iter()
    .find_map(|f| o.get(*f).and_then(text))
    .ok_or_else(|| ctx.err("order_currency_code", "is missing"))?;
    let currency = Currency::parse(&currency_raw).map_err(|p| ctx.err("order_currency_code", p))?;

    let customer = customer(&ctx, o)?;
    let lines = lines(&ctx, o)?;
    let totals = Totals {
        subtotal: ctx.decimal_or_zero(o, "subtotal", "")?,
        discount_amount: ctx.decimal_or_zero(o, "discount_amount", "")?.abs(),
        shipping_amount: ctx.decimal_or_zero(o, "shipping_amount", "")?,
        tax_amount: ctx.decimal_or_zero(o, "tax_amount", "")?,
        grand_total: ctx.required_decimal(o, "grand_total", "")?,
    };

    let ext = o.get("extension_attributes").and_then(Value::as_object);
    let shipping_assignment = ext
        .and_then(|e| e.get("shipping_assignments"))
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|a| a.get("shipping"))
        .and_then(Value::as_object);
    let shipping_address = shipping_assignment
        .and_then(|s| s.get("address"))
        .and_then(Value::as_object)
        .map(address);
    let shipping_method = shipping_assignment
        .and_then(|s| s.get("method"))
        .and_then(text);
    let shipping = if o.get("is_virtual").and_then(as_bool) == Some(true)
        && shipping_method.is_none()
        && totals.shipping_amount.is_zero()
    {
        None
    } else {
        Some(Shipping {
            method: shipping_method,
            description: o.get("shipping_description").and_then(text),
            amount: totals.shipping_amount,
            tax_amount: ctx.decimal_or_zero(o, "shipping_tax_amount", "")?,
            discount_amount: ctx
                .decimal_or_zero(o, "shipping_discount_amount", "")?
                .abs(),
            amount_incl_tax: ctx.decimal(o, "shipping_incl_tax", "")?,
            discount_tax_compensation: ctx.decimal_or_zero(
                o,
                "shipping_discount_tax_compensation_amount",
                "",
            )?,
            tax_rates: applied_rates(ext, "shipping", None),
        })
    };

    let payment = match o.get("payment").and_then(Value::as_object) {
        None => None,
        Some(p) => Some(Payment {
            method: p
                .get("method")
                .and_then(text)
                .ok_or_else(|| ctx.err("payment.method", "is missing"))?,
            amount_ordered: ctx.decimal(p, "amount_ordered", "payment.")?,
            amount_paid: ctx.decimal(p, "amount_paid", "payment.")?,
            last_trans_id: p.get("last_trans_id").and_then(text),
            additional_information: p
                .get("additional_information")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(text).collect())
                .unwrap_or_default(),
        }),
    };

    let mut applied_taxes = Vec::new();
    for (i, t) in ext
        .and_then(|e| e.get("applied_taxes"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(t) = t.as_object() else { continue };
        let path = format!("extension_attributes.applied_taxes[{i}].");
        applied_taxes.push(AppliedTax {
            code: t
                .get("code")
                .and_then(text)
                .ok_or_else(|| ctx.err(format!("{path}code"), "is missing"))?,
            title: t.get("title").and_then(text),
            percent: ctx.decimal(t, "percent", &path)?,
            amount: ctx.decimal_or_zero(t, "amount", &path)?,
        });
    }

    Ok(Order {
        increment_id,
        magento_entity_id: o.get("entity_id").and_then(as_i64),
        store_id: o.get("store_id").and_then(as_i64),
        state: o.get("state").and_then(text),
        status: o.get("status").and_then(text),
        created_at,
        currency,
        customer,
        billing_address: o
            .get("billing_address")
            .and_then(Value::as_object)
            .map(address),
        shipping_address,
        shipping,
        payment,
        lines: with_tax_rates(lines, ext),
        totals,
        applied_taxes,
        coupon_code: o.get("coupon_code").and_then(text),
    })
}

fn customer(ctx: &Ctx, o: &Obj) -> Result<Customer, NormaliseError> {
    let email = o
        .get("customer_email")
        .and_then(text)
        .filter(|e| e.contains('@'))
        .ok_or_else(|| ctx.err("customer_email", "is missing or not an e-mail address"))?;
    let magento_customer_id = o.get("customer_id").and_then(as_i64);
    // Magento declares `customer_is_guest` an integer; events send "1"; the key may be omitted.
    let is_guest = o
        .get("customer_is_guest")
        .and_then(as_bool)
        .unwrap_or(magento_customer_id.is_none());
    Ok(Customer {
        email,
        magento_customer_id: if is_guest { None } else { magento_customer_id },
        is_guest,
        firstname: o.get("customer_firstname").and_then(text),
        lastname: o.get("customer_lastname").and_then(text),
        group_id: o.get("customer_group_id").and_then(as_i64),
    })
}

fn lines(ctx: &Ctx, o: &Obj) -> Result<Vec<OrderLine>, NormaliseError> {
    let items = o
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| ctx.err("items", "is missing"))?;
    let items: Vec<&Obj> = items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_object()
                .ok_or_else(|| ctx.err(format!("items[{i}]"), "is not an object"))
        })
        .collect::<Result<_, _>>()?;

    let mut children: HashMap<i64, Vec<(usize, &Obj)>> = HashMap::new();
    let ids: Vec<Option<i64>> = items
        .iter()
        .map(|it| it.get("item_id").and_then(as_i64))
        .collect();
    for (i, it) in items.iter().enumerate() {
        if let Some(parent) = it.get("parent_item_id").and_then(as_i64) {
            if !ids.contains(&Some(parent)) {
                return Err(ctx.err(
                    format!("items[{i}].parent_item_id"),
                    format!("refers to item {parent}, which is not in the order"),
                ));
            }
            children.entry(parent).or_default().push((i, it));
        }
    }

    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if it.get("parent_item_id").and_then(as_i64).is_some() {
            continue; // children are handled through their parent
        }
        let product_type = it
            .get("product_type")
            .and_then(text)
            .unwrap_or_else(|| "simple".into());
        match product_type.as_str() {
            "configurable" => out.push(line(ctx, i, it, LineKind::Configurable, None)?),
            "bundle" => {
                let parts = ids[i]
                    .and_then(|id| children.get(&id))
                    .cloned()
                    .unwrap_or_default();
                let priced = parts.iter().try_fold(false, |acc, (ci, c)| {
                    let path = format!("items[{ci}].");
                    Ok::<_, NormaliseError>(
                        acc || !ctx.decimal_or_zero(c, "row_total", &path)?.is_zero()
                            || !ctx.decimal_or_zero(c, "price", &path)?.is_zero(),
                    )
                })?;
                if priced {
                    for (ci, c) in parts {
                        out.push(line(ctx, ci, c, LineKind::BundleComponent, ids[i])?);
                    }
                } else {
                    out.push(line(ctx, i, it, LineKind::Bundle, None)?);
                }
            }
            _ => out.push(line(ctx, i, it, LineKind::Simple, None)?),
        }
    }
    if out.is_empty() {
        return Err(ctx.err("items", "has no order lines"));
    }
    Ok(out)
}

fn line(
    ctx: &Ctx,
    i: usize,
    it: &Obj,
    kind: LineKind,
    parent: Option<i64>,
) -> Result<OrderLine, NormaliseError> {
    let path = format!("items[{i}].");
    let sku_raw = it
        .get("sku")
        .and_then(text)
        .ok_or_else(|| ctx.err(format!("{path}sku"), "is missing"))?;
    let sku = Sku::parse(&sku_raw).map_err(|e| ctx.err(format!("{path}sku"), e.reason))?;
    let qty = ctx.required_decimal(it, "qty_ordered", &path)?;
    if qty <= Decimal::ZERO {
        return Err(ctx.err(
            format!("{path}qty_ordered"),
            format!("{qty} is not a positive quantity"),
        ));
    }
    let unit_price = ctx.decimal_or_zero(it, "price", &path)?;
    let row_total = gross_row_total(ctx.decimal(it, "row_total", &path)?, unit_price, qty);
    Ok(OrderLine {
        magento_item_id: it.get("item_id").and_then(as_i64),
        parent_item_id: parent,
        kind,
        sku,
        name: it.get("name").and_then(text),
        qty,
        unit_price,
        row_total,
        discount_amount: ctx.decimal_or_zero(it, "discount_amount", &path)?.abs(),
        discount_tax_compensation: ctx
            .decimal_or_zero(it, "discount_tax_compensation_amount", &path)?
            .abs(),
        tax_amount: ctx.decimal_or_zero(it, "tax_amount", &path)?,
        tax_percent: ctx.decimal(it, "tax_percent", &path)?,
        tax_rates: Vec::new(),
    })
}

/// The line's amount before discount and tax. Magento's `row_total` normally is exactly that
/// (`price × qty`, up to the rounding of the unit price to cents, at most half a cent per
/// unit: a tax-inclusive store derives the net `price` from the gross one), but recorded
/// stores also show `row_total` already net of the line discount (OCA order 12: price 69,
/// discount 13.8, row_total 55.2) or 0 on a fully discounted line (order 17). Trusting it
/// would post the discount twice, so `price × qty` decides whenever the two disagree by more
/// than that rounding.
fn gross_row_total(row_total: Option<Decimal>, unit_price: Decimal, qty: Decimal) -> Decimal {
    let computed = unit_price * qty;
    let rounding = (qty * Decimal::new(5, 3)).max(Decimal::new(1, 2));
    match row_total {
        Some(rt) if (rt - computed).abs() <= rounding => rt,
        _ => computed,
    }
}

/// Attaches the codes of every tax rate Magento applied to each line (`item_applied_taxes`
/// entries of `type: "product"`), which the tax-codes mapping translates into SAP tax codes.
fn with_tax_rates(mut lines: Vec<OrderLine>, ext: Option<&Obj>) -> Vec<OrderLine> {
    for l in &mut lines {
        if let Some(id) = l.magento_item_id {
            l.tax_rates = applied_rates(ext, "product", Some(id));
        }
    }
    lines
}

/// The rate codes of the `item_applied_taxes` entries of one `type` (and item, for
/// products), in Magento's order, without repeats. An entry without `type` counts as a
/// product (older responses).
fn applied_rates(ext: Option<&Obj>, kind: &str, item_id: Option<i64>) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    let entries = ext
        .and_then(|e| e.get("item_applied_taxes"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for entry in entries {
        let entry_kind = entry
            .get("type")
            .and_then(text)
            .unwrap_or_else(|| "product".into());
        if entry_kind != kind {
            continue;
        }
        if item_id.is_some() && entry.get("item_id").and_then(as_i64) != item_id {
            continue;
        }
        let rates = entry
            .get("applied_taxes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for code in rates.filter_map(|t| t.get("code").and_then(text)) {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    codes
}

fn address(a: &Obj) -> Address {
    let street = match a.get("street") {
        Some(Value::Array(lines)) => lines.iter().filter_map(text).collect(),
        Some(v) => text(v)
            .map(|s| s.lines().map(str::to_owned).collect())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let s = |k: &str| a.get(k).and_then(text);
    Address {
        firstname: s("firstname"),
        lastname: s("lastname"),
        company: s("company"),
        street,
        city: s("city"),
        region: s("region"),
        region_code: s("region_code"),
        postcode: s("postcode"),
        country_id: s("country_id"),
        telephone: s("telephone"),
        email: s("email"),
        vat_id: s("vat_id"),
    }
}

/// Magento dates are UTC without a zone (`2020-04-24 15:50:17`); event payloads may use ISO 8601.
pub fn parse_magento_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Some(t.and_utc());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

/// A non-empty string from a JSON string or number.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.to_string()
                .parse::<Decimal>()
                .ok()
                .and_then(|d| d.trunc().try_into().ok())
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(v: &Value) -> Option<bool> {
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

    #[test]
    fn dates_without_zone_are_utc() {
        let t = parse_magento_time("2020-04-24 15:50:17").unwrap();
        assert_eq!(t.to_rfc3339(), "2020-04-24T15:50:17+00:00");
        assert!(parse_magento_time("yesterday").is_none());
    }

    #[test]
    fn string_numbers_and_omitted_fields_are_accepted() {
        let v: Value = serde_json::from_str(
            r#"{"increment_id":"100","created_at":"2024-01-01 00:00:00","order_currency_code":"EUR",
                "customer_email":"a@b.c","customer_is_guest":"1","grand_total":"10.50",
                "items":[{"item_id":"1","sku":"X","qty_ordered":"2.0000","price":"5.25"}]}"#,
        )
        .unwrap();
        let o = normalise(&v).unwrap();
        assert!(o.customer.is_guest);
        assert_eq!(o.lines[0].row_total, dec!(10.50));
        assert_eq!(o.totals.grand_total, dec!(10.50));
    }

    #[test]
    fn orphan_children_are_refused_rather_than_guessed() {
        let v: Value = serde_json::from_str(
            r#"{"increment_id":"100","created_at":"2024-01-01 00:00:00","order_currency_code":"EUR",
                "customer_email":"a@b.c","grand_total":1,
                "items":[{"item_id":2,"parent_item_id":1,"sku":"X","qty_ordered":1,"price":1}]}"#,
        )
        .unwrap();
        let e = normalise(&v).unwrap_err();
        assert_eq!(e.field, "items[0].parent_item_id");
    }
}
