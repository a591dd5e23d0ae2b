//! Performs the scenario's steps the way the real systems would: orders arrive as *signed*
//! Magento webhooks over HTTP, SAP-side events are made in the SAP simulator (as a warehouse
//! clerk would in the B1 client), and nothing is written to b1bridge's database directly.
use anyhow::{bail, Context};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;

use super::scenario::Step;
use crate::config::WebhookKey;
use crate::magento::signature;
use crate::sim::magento::MagentoSimState;
use crate::sim::sap_b1::{Faults, SapSimState};

/// The Magento source the recounted warehouse is mapped to.
const MAGENTO_SOURCE: &str = "default";

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
                self.send("order.placed", order).await?;
                Ok(format!("order {id} placed ({what})"))
            }
            Step::Cancel { what, increment_id } => {
                // Cancelling a posted order is the interesting case: SAP must cancel it too.
                self.wait_for_status(increment_id, &["posted", "parked", "cancelled"])
                    .await?;
                self.send("order.cancelled", &json!({ "increment_id": increment_id }))
                    .await?;
                Ok(format!("order {increment_id} cancelled ({what})"))
            }
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

    /// Posts one event as Magento does: Standard Webhooks v1, signed with the run's secret.
    async fn send(&self, kind: &str, order: &Value) -> anyhow::Result<()> {
        let body = envelope(kind, json!({ "order": order }))?;
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
