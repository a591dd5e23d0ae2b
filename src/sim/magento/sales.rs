//! Orders in the simulated shop: placing (with reservations), shipping (validated against
//! what is still to ship; deducts sources, releases reservations), cancelling (releases),
//! status-history comments (omitting `status` nulls the order's status, as real Magento
//! does), invoicing and credit memos (control endpoints, for tests).
use axum::http::StatusCode;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use super::errors::MagentoSimError;
use super::stock::keeps_stock;
use super::store::{dec, int, now, num, SimOrder, Store};

const SHIP_ERR: &str = "Shipment Document Validation Error(s):\n";

fn items(order: &Value) -> &[Value] {
    order
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn ptype(item: &Value) -> &str {
    item.get("product_type")
        .and_then(Value::as_str)
        .unwrap_or("simple")
}

/// What is still to ship of an item (ordered − shipped − canceled − refunded).
fn to_ship(item: &Value) -> Decimal {
    dec(item.get("qty_ordered"))
        - dec(item.get("qty_shipped"))
        - dec(item.get("qty_canceled"))
        - dec(item.get("qty_refunded"))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

impl Store {
    /// Places an order given in REST shape (missing ids, dates and quantities are filled).
    /// Each stock-keeping line reserves its quantity; the order is refused when the stock
    /// cannot sell it, as checkout would refuse it.
    pub fn place_order(
        &mut self,
        mut order: Value,
        stock_id: Option<i64>,
    ) -> Result<Value, MagentoSimError> {
        let stock_id = stock_id.unwrap_or(self.default_stock_id);
        if !self.stocks.contains_key(&stock_id) {
            return Err(MagentoSimError::bad_request(
                "Unknown stock %1",
                json!([stock_id]),
            ));
        }
        let obj = order
            .as_object_mut()
            .ok_or_else(|| MagentoSimError::malformed("order is not an object"))?;
        let entity_id = match int(obj.get("entity_id")) {
            Some(id) if !self.orders.contains_key(&id) => id,
            _ => self.next_id(),
        };
        let stamp = now();
        obj.insert("entity_id".into(), json!(entity_id));
        obj.entry("increment_id")
            .or_insert_with(|| json!(format!("{entity_id:09}")));
        obj.entry("state").or_insert_with(|| json!("new"));
        obj.entry("status").or_insert_with(|| json!("pending"));
        obj.entry("created_at").or_insert_with(|| json!(stamp));
        obj.entry("updated_at").or_insert_with(|| json!(stamp));
        obj.entry("status_histories").or_insert_with(|| json!([]));
        let lines = obj
            .get_mut("items")
            .and_then(Value::as_array_mut)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| MagentoSimError::required("items"))?;
        let mut need: BTreeMap<String, Decimal> = BTreeMap::new();
        for line in lines.iter_mut() {
            let l = line
                .as_object_mut()
                .ok_or_else(|| MagentoSimError::malformed("item is not an object"))?;
            let sku = l
                .get("sku")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let product = self.product(&sku)?.clone();
            if int(l.get("item_id")).is_none() {
                let id = self.next_id();
                l.insert("item_id".into(), json!(id));
            }
            l.insert("order_id".into(), json!(entity_id));
            l.entry("product_id").or_insert_with(|| json!(product.id));
            l.entry("product_type")
                .or_insert_with(|| json!(product.type_id));
            l.entry("price").or_insert_with(|| num(product.price));
            for q in [
                "qty_shipped",
                "qty_canceled",
                "qty_refunded",
                "qty_invoiced",
            ] {
                l.entry(q).or_insert_with(|| json!(0));
            }
            let line_value = Value::Object(l.clone());
            if keeps_stock(ptype(&line_value)) {
                *need.entry(product.sku.clone()).or_default() += to_ship(&line_value);
            }
        }
        let state = text(&order, "state").to_owned();
        let reserves = !matches!(state.as_str(), "canceled" | "closed" | "complete");
        if reserves {
            for (sku, qty) in &need {
                if self.salable(stock_id, sku)? < *qty {
                    return Err(MagentoSimError::bad_request(
                        "The requested qty is not available",
                        Value::Null,
                    ));
                }
            }
            for (sku, qty) in &need {
                self.reserve(stock_id, sku, -*qty);
            }
        }
        self.orders.insert(
            entity_id,
            SimOrder {
                json: order.clone(),
                stock_id,
            },
        );
        Ok(order)
    }

    pub fn order(&self, id: i64) -> Result<&SimOrder, MagentoSimError> {
        self.orders.get(&id).ok_or_else(MagentoSimError::no_order)
    }

    /// `POST /V1/order/{id}/ship`; answers the shipment id as a JSON string.
    pub fn ship(&mut self, order_id: i64, body: &Value) -> Result<Value, MagentoSimError> {
        let sim = self.order(order_id)?.clone();
        let order = &sim.json;
        let state = text(order, "state");
        if matches!(state, "payment_review" | "holded" | "canceled") {
            return Err(MagentoSimError::bad_request(
                format!("{SHIP_ERR}A shipment cannot be created when an order has a status of %1"),
                json!([order.get("status").cloned().unwrap_or(Value::Null)]),
            ));
        }
        let requested = body
            .get("items")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                MagentoSimError::bad_request(
                    format!("{SHIP_ERR}You can't create a shipment without products."),
                    Value::Null,
                )
            })?;
        if !items(order).iter().any(|i| to_ship(i) > Decimal::ZERO) {
            return Err(MagentoSimError::bad_request(
                format!("{SHIP_ERR}The order does not allow a shipment to be created."),
                Value::Null,
            ));
        }
        if let Some(tracks) = body.get("tracks").and_then(Value::as_array) {
            for t in tracks {
                for field in ["track_number", "title", "carrier_code"] {
                    if text(t, field).is_empty() {
                        return Err(MagentoSimError::required(field));
                    }
                }
            }
        }
        let source_code = body
            .pointer("/arguments/extension_attributes/source_code")
            .and_then(Value::as_str);
        // Per item id: quantity shipped now (children of shipped parents included).
        let mut shipped: BTreeMap<i64, Decimal> = BTreeMap::new();
        let by_id: BTreeMap<i64, &Value> = items(order)
            .iter()
            .filter_map(|i| int(i.get("item_id")).map(|id| (id, i)))
            .collect();
        for req in requested {
            let id = int(req.get("order_item_id"))
                .ok_or_else(|| MagentoSimError::required("order_item_id"))?;
            let qty = dec(req.get("qty"));
            let item = by_id.get(&id).ok_or_else(|| {
                MagentoSimError::bad_request(
                    format!("{SHIP_ERR}The order item %1 does not belong to this order."),
                    json!([id.to_string()]),
                )
            })?;
            if qty <= Decimal::ZERO {
                return Err(MagentoSimError::bad_request(
                    format!("{SHIP_ERR}The quantity to ship for item %1 must be greater than 0."),
                    json!([id.to_string()]),
                ));
            }
            // A configurable's child ships through its parent (Magento raises on the child).
            if let Some(parent) = int(item.get("parent_item_id")).and_then(|p| by_id.get(&p)) {
                if ptype(parent) == "configurable" {
                    return Err(MagentoSimError::bad_request(
                        format!("{SHIP_ERR}Item %1 is part of a configurable product: ship its parent item %2."),
                        json!([id.to_string(), text(parent, "item_id").to_string()]),
                    ));
                }
            }
            let already = shipped.get(&id).copied().unwrap_or_default();
            if already + qty > to_ship(item) {
                return Err(MagentoSimError::bad_request(
                    format!("{SHIP_ERR}The quantity to ship for item %1 (%2) is more than is left to ship (%3)."),
                    json!([id.to_string(), num(already + qty), num(to_ship(item))]),
                ));
            }
            *shipped.entry(id).or_default() += qty;
            let parent_qty = dec(item.get("qty_ordered"));
            for child in items(order)
                .iter()
                .filter(|c| int(c.get("parent_item_id")) == Some(id))
            {
                let ratio = if parent_qty.is_zero() {
                    Decimal::ONE
                } else {
                    dec(child.get("qty_ordered")) / parent_qty
                };
                if let Some(cid) = int(child.get("item_id")) {
                    *shipped.entry(cid).or_default() += qty * ratio;
                }
            }
        }
        // Deduct per SKU from the stock-keeping lines, checked in full before any change.
        let mut per_sku: BTreeMap<String, Decimal> = BTreeMap::new();
        for (id, qty) in &shipped {
            let item = by_id[id];
            if keeps_stock(ptype(item)) {
                *per_sku.entry(text(item, "sku").to_owned()).or_default() += *qty;
            }
        }
        let mut plans = Vec::new();
        for (sku, qty) in &per_sku {
            plans.push((
                sku.clone(),
                *qty,
                self.plan_deduction(sim.stock_id, sku, *qty, source_code)?,
            ));
        }
        for (sku, qty, plan) in &plans {
            self.deduct(sku, plan);
            self.reserve(sim.stock_id, sku, *qty);
        }
        let shipment_id = self.next_id();
        let stamp = now();
        let entry = self.orders.get_mut(&order_id).expect("checked above");
        if let Some(lines) = entry.json.get_mut("items").and_then(Value::as_array_mut) {
            for line in lines {
                if let Some(q) = int(line.get("item_id")).and_then(|id| shipped.get(&id)) {
                    let total = dec(line.get("qty_shipped")) + q;
                    line["qty_shipped"] = num(total);
                }
            }
        }
        let done = items(&entry.json)
            .iter()
            .all(|i| to_ship(i) <= Decimal::ZERO);
        let invoiced = items(&entry.json).iter().all(|i| {
            dec(i.get("qty_invoiced")) >= dec(i.get("qty_ordered")) - dec(i.get("qty_canceled"))
        });
        let new_state = if done && invoiced {
            "complete"
        } else {
            "processing"
        };
        entry.json["state"] = json!(new_state);
        entry.json["status"] = json!(new_state);
        entry.json["updated_at"] = json!(stamp);
        self.shipments.push(json!({
            "entity_id": shipment_id, "order_id": order_id, "created_at": stamp,
            "items": requested, "tracks": body.get("tracks").cloned().unwrap_or(json!([])),
        }));
        Ok(Value::String(shipment_id.to_string()))
    }

    /// `POST /V1/orders/{id}/cancel`: `false` when the order cannot be cancelled (nothing
    /// left to ship, or already cancelled, complete or closed), as Magento answers.
    pub fn cancel(&mut self, order_id: i64) -> Result<bool, MagentoSimError> {
        let sim = self.order(order_id)?.clone();
        let state = text(&sim.json, "state");
        if matches!(
            state,
            "canceled" | "complete" | "closed" | "holded" | "payment_review"
        ) || !items(&sim.json).iter().any(|i| to_ship(i) > Decimal::ZERO)
        {
            return Ok(false);
        }
        let mut release: Vec<(String, Decimal)> = Vec::new();
        let entry = self.orders.get_mut(&order_id).expect("checked above");
        if let Some(lines) = entry.json.get_mut("items").and_then(Value::as_array_mut) {
            for line in lines {
                let left = to_ship(line);
                if left > Decimal::ZERO {
                    if keeps_stock(ptype(line)) {
                        release.push((text(line, "sku").to_owned(), left));
                    }
                    let canceled = dec(line.get("qty_canceled")) + left;
                    line["qty_canceled"] = num(canceled);
                }
            }
        }
        entry.json["state"] = json!("canceled");
        entry.json["status"] = json!("canceled");
        entry.json["updated_at"] = json!(now());
        for (sku, qty) in release {
            self.reserve(sim.stock_id, &sku, qty);
        }
        Ok(true)
    }

    /// `POST /V1/orders/{id}/comments`. `status` omitted or null sets the order's status to
    /// NULL (the key disappears from the order), which is what real Magento does.
    pub fn add_comment(&mut self, order_id: i64, body: &Value) -> Result<Value, MagentoSimError> {
        self.order(order_id)?;
        let history = body
            .get("statusHistory")
            .filter(|v| v.is_object())
            .ok_or_else(|| MagentoSimError::required("statusHistory"))?;
        for field in ["comment", "is_customer_notified", "is_visible_on_front"] {
            if history.get(field).is_none_or(Value::is_null) {
                return Err(MagentoSimError::required(field));
            }
        }
        let status = history
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let id = self.next_id();
        let stamp = now();
        let entry = self.orders.get_mut(&order_id).expect("checked above");
        let mut record = Map::new();
        record.insert("entity_id".into(), json!(id));
        record.insert("parent_id".into(), json!(order_id));
        record.insert("comment".into(), history["comment"].clone());
        record.insert("created_at".into(), json!(stamp));
        record.insert(
            "is_customer_notified".into(),
            history["is_customer_notified"].clone(),
        );
        record.insert(
            "is_visible_on_front".into(),
            history["is_visible_on_front"].clone(),
        );
        record.insert("entity_name".into(), json!("order"));
        let obj = entry.json.as_object_mut().expect("orders are objects");
        match &status {
            Some(s) => {
                record.insert("status".into(), json!(s));
                obj.insert("status".into(), json!(s));
            }
            None => {
                obj.remove("status");
            }
        }
        let histories = obj.entry("status_histories").or_insert_with(|| json!([]));
        if let Some(list) = histories.as_array_mut() {
            // Newest first, as Magento lists them.
            list.insert(0, Value::Object(record));
        }
        obj.insert("updated_at".into(), json!(stamp));
        Ok(Value::Bool(true))
    }

    /// Control: invoice everything not cancelled (the payment is captured). As Magento's
    /// `Order\Payment::pay` does, the captured amount is added to the payment's
    /// `amount_paid`; an online capture also records the gateway's transaction id as
    /// `last_trans_id` (an offline one, e.g. check/money order, has none).
    pub fn invoice_all(
        &mut self,
        order_id: i64,
        transaction_id: Option<&str>,
    ) -> Result<Value, MagentoSimError> {
        self.order(order_id)?;
        let entry = self.orders.get_mut(&order_id).expect("checked above");
        if let Some(lines) = entry.json.get_mut("items").and_then(Value::as_array_mut) {
            for line in lines {
                let qty = dec(line.get("qty_ordered")) - dec(line.get("qty_canceled"));
                line["qty_invoiced"] = num(qty);
            }
        }
        let total = dec(entry.json.get("grand_total"));
        entry.json["total_invoiced"] = num(total);
        entry.json["total_paid"] = num(total);
        if let Some(payment) = entry.json.get_mut("payment").filter(|p| p.is_object()) {
            payment["amount_paid"] = num(total);
            payment["base_amount_paid"] = num(total);
            if let Some(id) = transaction_id {
                payment["last_trans_id"] = json!(id);
            }
        }
        if text(&entry.json, "state") == "new" {
            entry.json["state"] = json!("processing");
            entry.json["status"] = json!("processing");
        }
        entry.json["updated_at"] = json!(now());
        Ok(entry.json.clone())
    }

    /// Control: a credit memo as `POST /V1/order/{id}/refund` would make it. Body:
    /// `{"items":[{"order_item_id","qty"}], "shipping_amount", "adjustment_positive",
    /// "adjustment_negative", "return_to_stock_items":[order_item_id…], "online": bool}`.
    /// An online refund (through the gateway, as `POST /V1/invoice/{id}/refund` with
    /// `isOnline`) carries the gateway's refund transaction as `transaction_id` and counts in
    /// the order's `total_online_refunded`; an offline one has none and counts in
    /// `total_offline_refunded`. Refused like Magento refuses: wrong state, nothing invoiced
    /// left to refund.
    pub fn create_credit_memo(
        &mut self,
        order_id: i64,
        body: &Value,
    ) -> Result<Value, MagentoSimError> {
        let sim = self.order(order_id)?.clone();
        let order = &sim.json;
        let state = text(order, "state");
        if matches!(state, "payment_review" | "holded" | "canceled" | "closed") {
            return Err(MagentoSimError::bad_request(
                "Creditmemo Document Validation Error(s):\nA creditmemo can not be created when an order has a status of %1",
                json!([order.get("status").cloned().unwrap_or(Value::Null)]),
            ));
        }
        let cannot = || {
            MagentoSimError::bad_request(
                "Creditmemo Document Validation Error(s):\nWe can't create creditmemo for the order.",
                Value::Null,
            )
        };
        let by_id: BTreeMap<i64, &Value> = items(order)
            .iter()
            .filter_map(|i| int(i.get("item_id")).map(|id| (id, i)))
            .collect();
        let back_to_stock: Vec<i64> = body
            .pointer("/return_to_stock_items")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| int(Some(v))).collect())
            .unwrap_or_default();
        let round =
            |d: Decimal| d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let (mut subtotal, mut tax, mut discount) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        let mut memo_items = Vec::new();
        let mut refunds: Vec<(i64, Decimal)> = Vec::new();
        for req in body
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = int(req.get("order_item_id"))
                .ok_or_else(|| MagentoSimError::required("order_item_id"))?;
            let qty = dec(req.get("qty"));
            let item = by_id.get(&id).ok_or_else(cannot)?;
            let refundable = dec(item.get("qty_invoiced")) - dec(item.get("qty_refunded"));
            if qty <= Decimal::ZERO || qty > refundable {
                return Err(cannot());
            }
            let ordered = dec(item.get("qty_ordered"));
            let share = |field: &str| {
                if ordered.is_zero() {
                    Decimal::ZERO
                } else {
                    round(dec(item.get(field)) * qty / ordered)
                }
            };
            let price = dec(item.get("price"));
            let row = round(price * qty);
            let (t, d) = (share("tax_amount"), share("discount_amount"));
            subtotal += row;
            tax += t;
            discount += d;
            memo_items.push(json!({"order_item_id": id, "sku": text(item, "sku"), "qty": num(qty),
                "price": num(price), "base_price": num(price), "base_cost": 0, "row_total": num(row),
                "tax_amount": num(t), "discount_amount": num(d)}));
            refunds.push((id, qty));
        }
        let shipping = dec(body.get("shipping_amount"));
        let adj_pos = dec(body.get("adjustment_positive"));
        let adj_neg = dec(body.get("adjustment_negative"));
        if refunds.is_empty() && shipping.is_zero() && adj_pos.is_zero() {
            return Err(cannot());
        }
        let paid = dec(order.get("total_paid")) - dec(order.get("total_refunded"));
        let grand = subtotal + tax + shipping - discount + adj_pos - adj_neg;
        if paid <= Decimal::ZERO || grand > paid {
            return Err(cannot());
        }
        // Stock: what was never shipped stops being reserved; what was shipped goes back to
        // the stock's first source when the item is in `return_to_stock_items`.
        for (id, qty) in &refunds {
            let item = by_id[id];
            if !keeps_stock(ptype(item)) {
                continue;
            }
            let sku = text(item, "sku").to_owned();
            let unshipped = to_ship(item).max(Decimal::ZERO).min(*qty);
            if unshipped > Decimal::ZERO {
                self.reserve(sim.stock_id, &sku, unshipped);
            }
            let returned = *qty - unshipped;
            if returned > Decimal::ZERO && back_to_stock.contains(id) {
                let source = self.stocks[&sim.stock_id].source_codes[0].clone();
                self.restock(&sku, &source, returned);
            }
        }
        let memo_id = self.next_id();
        let stamp = now();
        let online = body.get("online").and_then(Value::as_bool).unwrap_or(false);
        let mut memo = json!({
            "entity_id": memo_id, "order_id": order_id, "increment_id": format!("{memo_id:09}"),
            "state": 2, "store_id": order.get("store_id").cloned().unwrap_or(json!(1)),
            "order_currency_code": order.get("order_currency_code").cloned().unwrap_or(json!("USD")),
            "created_at": stamp, "updated_at": stamp,
            "subtotal": num(subtotal), "tax_amount": num(tax), "shipping_amount": num(shipping),
            "discount_amount": num(-discount), "adjustment_positive": num(adj_pos),
            "adjustment_negative": num(adj_neg), "adjustment": num(adj_pos - adj_neg),
            "grand_total": num(grand), "base_grand_total": num(grand), "items": memo_items,
        });
        if online {
            memo["transaction_id"] = json!(format!("sim-refund-{memo_id}"));
        }
        let entry = self.orders.get_mut(&order_id).expect("checked above");
        if let Some(lines) = entry.json.get_mut("items").and_then(Value::as_array_mut) {
            for line in lines {
                if let Some((_, q)) = refunds
                    .iter()
                    .find(|(id, _)| Some(*id) == int(line.get("item_id")))
                {
                    let total = dec(line.get("qty_refunded")) + q;
                    line["qty_refunded"] = num(total);
                }
            }
        }
        // The order's refunded totals, as Magento keeps them.
        for (field, amount) in [
            ("total_refunded", grand),
            ("base_total_refunded", grand),
            ("subtotal_refunded", subtotal),
            ("tax_refunded", tax),
            ("shipping_refunded", shipping),
            ("discount_refunded", discount),
            ("adjustment_positive", adj_pos),
            ("adjustment_negative", adj_neg),
            (
                if online {
                    "total_online_refunded"
                } else {
                    "total_offline_refunded"
                },
                grand,
            ),
        ] {
            let total = dec(entry.json.get(field)) + amount;
            entry.json[field] = num(total);
        }
        entry.json["updated_at"] = json!(stamp);
        self.credit_memos.insert(memo_id, memo.clone());
        Ok(memo)
    }

    pub fn credit_memo(&self, id: i64) -> Result<&Value, MagentoSimError> {
        self.credit_memos.get(&id).ok_or_else(|| {
            MagentoSimError::new(
                StatusCode::NOT_FOUND,
                "The entity that was requested doesn't exist. Verify the entity and try again.",
                Value::Null,
            )
        })
    }
}
