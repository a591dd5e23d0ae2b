//! Performs the scenario's steps the way the real systems would: a shopper's order is placed in
//! the Magento simulator and arrives as Magento's *signed* webhook over HTTP, SAP-side events
//! are made in the SAP simulator (as a warehouse clerk or an accountant would in the B1
//! client), and nothing is written to b1bridge's database directly.
use anyhow::{bail, Context};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;

use super::company::MAGENTO_SOURCE;
use super::scenario::Step;
use crate::config::WebhookKey;
use crate::magento::signature;
use crate::sim::magento::{MagentoSimError, MagentoSimState};
use crate::sim::sap_b1::{DeliveryRequest, Document, Faults, InvoiceBase, SapSimState, YesNo};

/// How long a step waits for b1bridge (an order to post, stock to reach Magento).
const STEP_PATIENCE: Duration = Duration::from_secs(90);

pub struct Traffic {
    pub http: reqwest::Client,
    /// `http://host:port` of b1bridge.
    pub app: String,
    pub key: WebhookKey,
    pub sap: SapSimState,
    /// `http://host:port` of the SAP simulator, for its control endpoints.
    pub sap_root: String,
    pub magento: MagentoSimState,
    pub pool: PgPool,
}

impl Traffic {
    /// Performs one step; answers what happened, for the log.
    pub async fn perform(&self, step: &Step) -> anyhow::Result<String> {
        match step {
            Step::Place { what, order } => {
                let id = order["increment_id"].as_str().unwrap_or("?");
                let placed = self.place_in_magento(order)?;
                self.send("order.placed", json!({ "order": placed }))
                    .await?;
                Ok(format!("order {id} placed ({what})"))
            }
            Step::Cancel { what, increment_id } => {
                // Cancelling a posted order is the interesting case: SAP must cancel it too.
                self.wait_for_status(increment_id, &["posted", "parked", "cancelled"])
                    .await?;
                let entity_id = self.magento_entity_id(increment_id)?;
                self.magento.store().cancel(entity_id).map_err(|e| {
                    anyhow::anyhow!("the Magento simulator refused the cancel: {e}")
                })?;
                self.send(
                    "order.cancelled",
                    json!({ "order": { "entity_id": entity_id, "increment_id": increment_id } }),
                )
                .await?;
                Ok(format!("order {increment_id} cancelled ({what})"))
            }
            Step::Ship {
                what,
                increment_id,
                tracking_number,
            } => self.ship(what, increment_id, tracking_number).await,
            Step::Refund {
                what,
                increment_id,
                items,
            } => self.refund(what, increment_id, items).await,
            Step::StockChange {
                item,
                warehouse,
                in_stock,
            } => {
                self.sap
                    .set_stock(item, warehouse, *in_stock)
                    .map_err(|e| anyhow::anyhow!("the SAP simulator refused the recount: {e:?}"))?;
                let reached = wait(STEP_PATIENCE, || async {
                    self.magento.source_quantity(item, MAGENTO_SOURCE) == Some(*in_stock)
                })
                .await;
                if !reached {
                    bail!("the recount of {item} did not reach Magento within {STEP_PATIENCE:?}");
                }
                Ok(format!(
                    "SAP recount: {item} in warehouse {warehouse} is now {in_stock}; \
                     Magento's source '{MAGENTO_SOURCE}' shows {in_stock}"
                ))
            }
            Step::LockStorm { rate, lasts } => {
                self.sap
                    .set_faults(Faults {
                        lock_error_rate: *rate,
                        seed: 14,
                        ..Faults::default()
                    })
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let sap = self.sap.clone();
                let lasts = *lasts;
                tokio::spawn(async move {
                    tokio::time::sleep(lasts).await;
                    let _ = sap.set_faults(Faults::default());
                });
                Ok(format!(
                    "lock storm: SAP refuses {:.0} % of writes with -2039 for {} s",
                    rate * 100.0,
                    lasts.as_secs()
                ))
            }
        }
    }

    /// What the operator can do next about the story's failures, in words and commands.
    pub fn what_to_try(&self, app: &str) -> Vec<String> {
        let mut hints = vec![
            format!(
                "on {app}/ : the unknown SKU WP13-28-Teal is for merchandising: map it to an SAP \
                 item (the row's link; admin token), then Retry"
            ),
            "the total_mismatch is Magento's own rounding: it carries a sub-cent of tax from \
             line to line where SAP rounds each line (253.73 against 253.74). Choose the tax \
             strategy magento_line_tax (or a tolerance of 0.01) in Settings, then Retry"
                .to_owned(),
            "the price sync held the prices that moved by more than 50 % in SAP (RACER, \
             24-WG084: the shop's catalogue disagrees with SAP's price list): price_rejected \
             for merchandising; a change that is right is published with `b1bridge prices \
             sync --release-held`"
                .to_owned(),
        ];
        for draft in self
            .sap
            .drafts()
            .iter()
            .filter(|d| d.document_status == crate::sim::sap_b1::DocStatus::Open)
        {
            hints.push(format!(
                "order {} waits for SAP's approver (draft {}); play the approver: curl -X POST \
                 {}/sim/control/drafts/{}/approve — b1bridge records the order at its next check",
                draft.num_at_card.as_deref().unwrap_or("?"),
                draft.doc_num,
                self.sap_root,
                draft.doc_entry
            ));
        }
        hints
    }

    /// A shopper places `order` in the shop now (the sample's own dates are left to Magento):
    /// the order as `GET /V1/orders/{id}` returns it, which is what its webhook carries.
    fn place_in_magento(&self, order: &Value) -> anyhow::Result<Value> {
        let mut order = order.clone();
        if let Some(fields) = order.as_object_mut() {
            fields.remove("created_at");
            fields.remove("updated_at");
        }
        let id = order["increment_id"].as_str().unwrap_or("?").to_owned();
        self.magento
            .store()
            .place_order(order, None)
            .map_err(|e| anyhow::anyhow!("the Magento simulator refused order {id}: {e}"))
    }

    fn magento_entity_id(&self, increment_id: &str) -> anyhow::Result<i64> {
        self.magento
            .store()
            .orders
            .iter()
            .find(|(_, o)| o.json["increment_id"] == increment_id)
            .map(|(id, _)| *id)
            .with_context(|| format!("order {increment_id} is not in the Magento simulator"))
    }

    /// The open (not cancelled) Sales Order b1bridge posted for the order, as SAP shows it.
    async fn sap_order(&self, increment_id: &str) -> anyhow::Result<Document> {
        self.wait_for_status(increment_id, &["posted"]).await?;
        self.sap
            .orders()
            .into_iter()
            .find(|o| o.num_at_card.as_deref() == Some(increment_id) && o.cancelled == YesNo::No)
            .with_context(|| format!("order {increment_id} is posted but not in SAP B1"))
    }

    /// The warehouse delivers the whole order with a tracking number; the status run turns
    /// the delivery into a Magento shipment.
    async fn ship(
        &self,
        what: &str,
        increment_id: &str,
        tracking_number: &str,
    ) -> anyhow::Result<String> {
        let order = self.sap_order(increment_id).await?;
        let delivery = self
            .sap
            .create_delivery(&DeliveryRequest {
                order_doc_entry: order.doc_entry,
                lines: None,
                tracking_number: Some(tracking_number.to_owned()),
                doc_date: None,
            })
            .map_err(|e| anyhow::anyhow!("the SAP simulator refused the delivery: {e:?}"))?;
        let entity_id = self.magento_entity_id(increment_id)?;
        let shipped = wait(STEP_PATIENCE, || async {
            self.magento.shipments(entity_id).iter().any(|s| {
                s["tracks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|t| t["track_number"] == tracking_number)
            })
        })
        .await;
        if !shipped {
            bail!(
                "SAP delivery {} of order {increment_id} did not reach Magento as a shipment \
                 within {STEP_PATIENCE:?}",
                delivery.doc_num
            );
        }
        Ok(format!(
            "SAP delivery {} of order {increment_id}, tracking {tracking_number} ({what}); \
             Magento shows the shipment with that tracking number",
            delivery.doc_num
        ))
    }

    /// Accounting invoices the order in SAP; the shop captures the payment and refunds
    /// `items` with a credit memo, whose webhook b1bridge turns into an A/R credit memo.
    async fn refund(
        &self,
        what: &str,
        increment_id: &str,
        items: &[(i64, rust_decimal::Decimal)],
    ) -> anyhow::Result<String> {
        let order = self.sap_order(increment_id).await?;
        let invoice = self
            .sap
            .create_invoice(InvoiceBase::Order(order.doc_entry))
            .map_err(|e| anyhow::anyhow!("the SAP simulator refused the invoice: {e:?}"))?;
        let entity_id = self.magento_entity_id(increment_id)?;
        let body = json!({
            "items": items
                .iter()
                .map(|(item, qty)| json!({ "order_item_id": item, "qty": qty.to_string() }))
                .collect::<Vec<_>>(),
        });
        let (memo, magento_order) = {
            let mut shop = self.magento.store();
            let refused = |e: MagentoSimError| {
                anyhow::anyhow!("the Magento simulator refused the refund: {e}")
            };
            shop.invoice_all(entity_id, None).map_err(refused)?;
            let memo = shop.create_credit_memo(entity_id, &body).map_err(refused)?;
            (memo, shop.order(entity_id).map_err(refused)?.json.clone())
        };
        self.send(
            "creditmemo.created",
            json!({ "creditmemo": memo, "order": magento_order }),
        )
        .await?;
        let memo_id = memo["entity_id"].as_i64().unwrap_or_default();
        let memo_number = memo["increment_id"].as_str().unwrap_or("?");
        let credit_note = || async {
            let entry: Option<Option<i32>> = sqlx::query_scalar(
                "SELECT sap_doc_entry FROM refunds WHERE magento_entity_id = $1
                    AND status = 'posted'",
            )
            .bind(memo_id)
            .fetch_optional(&self.pool)
            .await
            .ok()
            .flatten();
            // What SAP itself shows under the document b1bridge recorded.
            entry.flatten().and_then(|entry| {
                self.sap
                    .credit_notes()
                    .into_iter()
                    .find(|n| n.doc_entry == i64::from(entry))
            })
        };
        wait(STEP_PATIENCE, || async { credit_note().await.is_some() }).await;
        let Some(note) = credit_note().await else {
            bail!(
                "the refund {memo_number} of order {increment_id} did not become an SAP A/R \
                 credit memo within {STEP_PATIENCE:?}"
            );
        };
        Ok(format!(
            "refund {memo_number} of order {increment_id} ({what}): SAP invoice {} credited by \
             A/R credit memo {} ({} {})",
            invoice.doc_num, note.doc_num, note.doc_total, note.doc_currency
        ))
    }

    /// Posts one event as Magento does: Standard Webhooks v1, signed with the run's secret.
    async fn send(&self, kind: &str, data: Value) -> anyhow::Result<()> {
        let body = envelope(kind, data)?;
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let response = signed_webhook(&self.http, &self.app, &self.key, &id, body)
            .send()
            .await
            .context("b1bridge did not answer the webhook")?;
        let status = response.status();
        if status.as_u16() != 202 {
            bail!(
                "b1bridge answered the {kind} webhook with {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    async fn wait_for_status(&self, increment_id: &str, any_of: &[&str]) -> anyhow::Result<()> {
        let reached = wait(STEP_PATIENCE, || async {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM orders WHERE increment_id = $1")
                    .bind(increment_id)
                    .fetch_optional(&self.pool)
                    .await
                    .ok()
                    .flatten();
            status.is_some_and(|s| any_of.contains(&s.as_str()))
        })
        .await;
        if !reached {
            bail!("order {increment_id} did not reach {any_of:?} within {STEP_PATIENCE:?}");
        }
        Ok(())
    }
}

/// The body Magento sends for an event of `kind` (`order.placed`, `creditmemo.created`, …)
/// with `data` (`{"order": …}`, `{"creditmemo": …, "order": …}`), stamped now.
pub fn envelope(kind: &str, data: Value) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&json!({
        "type": kind,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    }))
}

/// `POST {app}/webhooks/magento` as Magento sends it: Standard Webhooks v1 headers, signed
/// now with `key`. A retry of the same delivery reuses `webhook_id`.
pub fn signed_webhook(
    http: &reqwest::Client,
    app: &str,
    key: &WebhookKey,
    webhook_id: &str,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    let ts = chrono::Utc::now().timestamp();
    http.post(format!("{app}/webhooks/magento"))
        .header("content-type", "application/json")
        .header("webhook-id", webhook_id)
        .header("webhook-timestamp", ts.to_string())
        .header(
            "webhook-signature",
            signature::sign(key.bytes(), webhook_id, ts, &body),
        )
        .body(body)
}

/// Polls `check` until it holds or `patience` is over.
pub async fn wait<F, Fut>(patience: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
