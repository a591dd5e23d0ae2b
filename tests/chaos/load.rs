//! The shop's side of the chaos run: signed webhooks (orders from the demo's real samples,
//! cancellations, refunds) and some bad ones (an unknown SKU, a forged signature, a body that
//! is not JSON, JSON that is not an order event), delivered as Magento does: a delivery
//! that gets no 2xx is sent again with the same `webhook-id`, to either `serve` process.
use b1bridge::config::WebhookKey;
use b1bridge::demo::scenario::{self, Ids, Step};
use b1bridge::demo::traffic::{envelope, signed_webhook};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long one delivery is retried before it counts as never acknowledged.
const DELIVERY_PATIENCE: Duration = Duration::from_secs(180);

/// What b1bridge must answer a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// 202 (or 200 for a retry of a stored delivery): stored and acknowledged.
    Stored,
    /// Signed but unusable: 400/422, kept as a `payload_invalid` event (200 on a retry).
    Invalid,
    /// A forged signature: 401, nothing stored.
    Refused,
}

/// Everything sent and what came back, for the checks.
#[derive(Default)]
pub struct Tally {
    pub acknowledged: HashSet<String>,
    pub invalid: HashSet<String>,
    pub refused: HashSet<String>,
    /// Orders placed: (increment id, has a SKU SAP does not know).
    pub orders: Vec<(String, bool)>,
    pub cancelled: Vec<String>,
    /// Refunds sent: (credit memo entity id, memo increment id, order increment id).
    pub refunds: Vec<(i64, String, String)>,
    /// Deliveries sent again after no answer, a 5xx or a cut connection.
    pub redeliveries: u64,
    pub violations: Vec<String>,
}

#[derive(Clone)]
pub struct Shop {
    pub http: reqwest::Client,
    pub apps: Vec<String>,
    pub key: Arc<WebhookKey>,
    pub forged: Arc<WebhookKey>,
    pub tally: Arc<Mutex<Tally>>,
    next_app: Arc<AtomicUsize>,
}

impl Shop {
    pub fn new(apps: Vec<String>, key: WebhookKey, forged: WebhookKey) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
            apps,
            key: Arc::new(key),
            forged: Arc::new(forged),
            tally: Arc::new(Mutex::new(Tally::default())),
            next_app: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn violation(&self, what: String) {
        self.tally().violations.push(what);
    }

    /// Delivers one body until b1bridge gives the expected kind of answer.
    pub async fn deliver(&self, body: Vec<u8>, expect: Expect) {
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let key = match expect {
            Expect::Refused => self.forged.clone(),
            _ => self.key.clone(),
        };
        let deadline = tokio::time::Instant::now() + DELIVERY_PATIENCE;
        let mut attempt = 0u32;
        loop {
            let app = &self.apps[self.next_app.fetch_add(1, Ordering::Relaxed) % self.apps.len()];
            let answer = signed_webhook(&self.http, app, &key, &id, body.clone())
                .send()
                .await;
            let status = answer.as_ref().map(|r| r.status().as_u16()).ok();
            let done = match (expect, status) {
                (Expect::Stored, Some(200 | 202)) => {
                    self.tally().acknowledged.insert(id.clone());
                    true
                }
                (Expect::Invalid, Some(200 | 400 | 422)) => {
                    self.tally().invalid.insert(id.clone());
                    true
                }
                (Expect::Refused, Some(401)) => {
                    self.tally().refused.insert(id.clone());
                    true
                }
                // Not answered (a killed process, Postgres down) or answered "try again".
                (_, None | Some(500..=599)) => false,
                (_, Some(other)) => {
                    let text = match answer {
                        Ok(r) => r.text().await.unwrap_or_default(),
                        Err(_) => String::new(),
                    };
                    self.violation(format!(
                        "delivery {id} ({expect:?}) answered {other}: {text}"
                    ));
                    true
                }
            };
            if done {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                self.violation(format!("delivery {id} ({expect:?}) never acknowledged"));
                return;
            }
            self.tally().redeliveries += 1;
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt.min(10)))).await;
        }
    }

    pub async fn place(&self, order: &Value, unknown_sku: bool) {
        let id = order["increment_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let body = envelope("order.placed", json!({ "order": order })).expect("JSON");
        self.deliver(body, Expect::Stored).await;
        self.tally().orders.push((id, unknown_sku));
    }

    pub async fn cancel(&self, increment_id: &str) {
        let body = envelope(
            "order.cancelled",
            json!({ "order": { "increment_id": increment_id } }),
        )
        .expect("JSON");
        self.deliver(body, Expect::Stored).await;
        self.tally().cancelled.push(increment_id.to_owned());
    }

    /// A full refund of `order` (a sample of one configurable product), as Magento's credit
    /// memo event carries it.
    pub async fn refund(&self, order: &Value, entity_id: i64) {
        let items: Vec<Value> = order["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| {
                // A child row carries no money of its own (Magento's own credit memos).
                let child = !item["parent_item_id"].is_null();
                json!({
                    "order_item_id": item["item_id"], "sku": item["sku"],
                    "qty": item["qty_ordered"],
                    "price": if child { json!(0) } else { item["price"].clone() },
                    "row_total": if child { json!(0) } else { item["row_total"].clone() },
                    "tax_amount": if child { json!(0) } else { item["tax_amount"].clone() },
                })
            })
            .collect();
        let increment_id = format!("CM{entity_id:07}");
        let memo = json!({
            "entity_id": entity_id, "order_id": order["entity_id"],
            "increment_id": increment_id, "order_currency_code": order["order_currency_code"],
            "items": items, "shipping_amount": order["shipping_amount"],
            "adjustment_positive": 0, "adjustment_negative": 0,
            "grand_total": order["grand_total"], "tax_amount": order["tax_amount"],
        });
        let order_id = order["increment_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let body = envelope(
            "creditmemo.created",
            json!({ "creditmemo": memo, "order": { "increment_id": order_id } }),
        )
        .expect("JSON");
        self.deliver(body, Expect::Stored).await;
        self.tally()
            .refunds
            .push((entity_id, increment_id, order_id));
    }

    /// The bad deliveries: a forged signature on a real order, a body that is not JSON, and
    /// signed JSON that is no order event.
    pub async fn forged(&self, order: &Value) {
        let body = envelope("order.placed", json!({ "order": order })).expect("JSON");
        self.deliver(body, Expect::Refused).await;
    }

    pub async fn malformed(&self, n: usize) {
        let body = if n % 2 == 0 {
            b"{\"type\": \"order.placed\", \"data\": {\"order\": {\"increment_id\"".to_vec()
        } else {
            envelope("order.placed", json!({ "customer": "no order here" })).expect("JSON")
        };
        self.deliver(body, Expect::Invalid).await;
    }
}

/// The `n`th order of the run: one of the demo's ordinary samples (in turn), one in 20 with
/// a colour the shop sells that SAP does not know, as the demo's unknown-SKU order.
pub fn order(n: usize, ids: &mut Ids) -> (Value, bool) {
    let Step::Place { mut order, .. } = scenario::ordinary(n, ids) else {
        unreachable!("an ordinary step places an order")
    };
    // n % 4 == 0 is the configurable sample, the one with that colour.
    if n % 20 == 8 {
        for item in order["items"].as_array_mut().into_iter().flatten() {
            if item["sku"] == "WP13-28-Blue" {
                item["sku"] = json!("WP13-28-Teal");
            }
        }
    }
    let has_unknown = order["items"]
        .as_array()
        .is_some_and(|items| items.iter().any(|i| i["sku"] == "WP13-28-Teal"));
    (order, has_unknown)
}
