//! Reconciliation against both simulators: b1bridge's HTTP service and order workers, the SAP
//! B1 simulator and the Magento simulator. Every finding is raised once (a second run bumps its
//! occurrences, not its rows) and resolves itself when its drift is fixed.
use b1bridge::domain::run::{RunKind, RunStatus, RunTrigger};
use b1bridge::magento::MagentoClient;
use b1bridge::sim::magento::{self as magento_sim, MagentoSimConfig, MagentoSimHandle};
use b1bridge::store::runs::Run;
use b1bridge::worker::reconcile::{Reconcile, ReconcileFigures, ReconcileOptions};
use b1bridge::worker::run_job::run_here;
use b1bridge::worker::stock_sync::StockSync;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::sync::Arc;

use crate::stock_sync::World;
use crate::support::{envelope, sample_order};

const TOKEN: &str = "reconcile-test-token";
const SKU: &str = "MH01-S-Gray";

struct Both {
    w: World,
    sim: MagentoSimHandle,
    magento: Arc<MagentoClient>,
}

/// One reconciliation finding as stored.
#[derive(Debug, sqlx::FromRow)]
struct Row {
    status: String,
    occurrences: i32,
    title: String,
    order_increment_id: Option<String>,
    skus: Vec<String>,
    context: Value,
}

impl Both {
    async fn new() -> Self {
        let mut w = World::new().await;
        w.start_workers().await;
        let sim = magento_sim::spawn(MagentoSimConfig::new(TOKEN))
            .await
            .unwrap();
        let settings = b1bridge::config::MagentoSettings::from_raw(
            Some(&sim.base_url()),
            Some(&SecretString::from(TOKEN)),
        )
        .unwrap();
        let magento = Arc::new(MagentoClient::new(&settings).unwrap());
        Self { w, sim, magento }
    }

    /// The same order in Magento (placed; it reserves stock) and, unless `webhook` is false,
    /// sent to b1bridge as its webhook. Returns Magento's entity id.
    async fn place(&self, increment_id: &str, webhook: bool) -> i64 {
        let order = self.order_json(increment_id);
        let res = reqwest::Client::new()
            .post(format!("{}/sim/control/orders", self.sim.root_url()))
            .json(&json!({"order": order}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let placed: Value = res.json().await.unwrap();
        if webhook {
            self.send(&placed).await;
        }
        placed["entity_id"].as_i64().unwrap()
    }

    fn order_json(&self, increment_id: &str) -> Value {
        let mut order = sample_order("rest-order-guest-configurable.json");
        order["increment_id"] = json!(increment_id);
        order["entity_id"] = json!(increment_id.parse::<i64>().unwrap());
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
        order["created_at"] = json!(now);
        order["updated_at"] = json!(now);
        for line in order["items"].as_array_mut().unwrap() {
            line["sku"] = json!(SKU);
        }
        order
    }

    async fn send(&self, order: &Value) {
        let id = order["increment_id"].as_str().unwrap();
        let res = self
            .w
            .app
            .send_webhook(&format!("msg_{id}"), &envelope("order.placed", order))
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let res = reqwest::Client::new()
            .post(format!("{}/sim/control/{path}", self.sim.root_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    async fn sap_control(&self, path: &str, body: Value) {
        let res = reqwest::Client::new()
            .post(format!("{}/sim/control/{path}", self.w.sap_sim.root_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }

    async fn reconcile(&self) -> (Run, ReconcileFigures) {
        let task = Reconcile::new(self.w.sap.clone(), self.magento.clone());
        let run = run_here(
            &self.w.db.pool,
            RunKind::Reconcile,
            RunTrigger::Cli,
            "test",
            task,
        )
        .await
        .unwrap();
        assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
        let figures = serde_json::from_value(run.figures.clone()).unwrap();
        (run, figures)
    }

    async fn stock_sync(&self) {
        let settings = b1bridge::config::MagentoSettings::from_raw(
            Some(&self.sim.base_url()),
            Some(&SecretString::from(TOKEN)),
        )
        .unwrap();
        let publisher = b1bridge::worker::stock_sync::magento_publisher(&settings).unwrap();
        let run = run_here(
            &self.w.db.pool,
            RunKind::StockSync,
            RunTrigger::Cli,
            "test",
            StockSync::new(self.w.sap.clone(), publisher),
        )
        .await
        .unwrap();
        assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    }

    /// Reconciliation findings of `category`, oldest first.
    async fn findings(&self, category: &str) -> Vec<Row> {
        sqlx::query_as(
            "SELECT status, occurrences, title, order_increment_id, skus, context
               FROM exceptions WHERE dedup_key LIKE 'reconcile|%' AND category = $1
              ORDER BY first_seen_at, id",
        )
        .bind(category)
        .fetch_all(&self.w.db.pool)
        .await
        .unwrap()
    }

    /// Exactly one finding of `category`, with its status and occurrences.
    async fn one(&self, category: &str, status: &str, occurrences: i32) -> Row {
        let mut rows = self.findings(category).await;
        assert_eq!(rows.len(), 1, "{category}: {rows:?}");
        let row = rows.remove(0);
        assert_eq!(
            (row.status.as_str(), row.occurrences),
            (status, occurrences),
            "{row:?}"
        );
        row
    }

    async fn stop(self) {
        self.w.stop().await;
    }
}

#[tokio::test]
async fn an_order_missing_from_sap_is_found_once_and_resolves_when_it_arrives() {
    let b = Both::new().await;
    b.place("000000501", false).await;
    let (_, figures) = b.reconcile().await;
    assert_eq!(figures.orders_read, 1);
    let row = b.one("missed_webhook", "open", 1).await;
    assert_eq!(row.order_increment_id.as_deref(), Some("000000501"));
    assert!(
        row.title.contains("never reached b1bridge"),
        "{}",
        row.title
    );
    b.reconcile().await;
    b.one("missed_webhook", "open", 2).await;

    // The webhook arrives late; the order is posted. The next run finds it in SAP, even
    // though its window no longer holds the order: open findings are always looked at.
    let order = b.order_json("000000501");
    b.send(&order).await;
    b.w.order_reaches("000000501", "posted").await;
    let (figures, result) = Reconcile::new(b.w.sap.clone(), b.magento.clone())
        .reconcile(
            &b.w.db.pool,
            ReconcileOptions {
                since: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            },
        )
        .await;
    result.unwrap();
    assert_eq!(
        figures.orders_read, 1,
        "only the finding's order: {figures:?}"
    );
    assert!(figures.resolved >= 1, "{figures:?}");
    b.one("missed_webhook", "resolved", 2).await;
    assert!(b.findings("sap_rejected").await.is_empty());
    b.stop().await;
}

#[tokio::test]
async fn a_total_mismatch_is_found_once_and_resolves_within_the_accepted_tolerance() {
    let b = Both::new().await;
    // Magento charged 54.50; the webhook b1bridge posted said 54 (an edited order, say).
    let mut order = b.order_json("000000502");
    let mut charged = order.clone();
    charged["grand_total"] = json!(54.5);
    charged["base_grand_total"] = json!(54.5);
    let res = reqwest::Client::new()
        .post(format!("{}/sim/control/orders", b.sim.root_url()))
        .json(&json!({ "order": charged }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    order["entity_id"] = res.json::<Value>().await.unwrap()["entity_id"].clone();
    b.send(&order).await;
    b.w.order_reaches("000000502", "posted").await;

    b.reconcile().await;
    let row = b.one("total_mismatch", "open", 1).await;
    assert_eq!(row.context["magento_value"]["grand_total"], json!(54.5));
    assert_eq!(row.context["sap_value"]["doc_total"], json!(54));
    assert!(row.context["sap_document"]["doc_num"].is_i64(), "{row:?}");
    b.reconcile().await;
    b.one("total_mismatch", "open", 2).await;

    // Finance accepts differences up to 0.50: the order is in order from now on.
    b.w.set_settings(json!({"total_tolerance": 0.5})).await;
    b.reconcile().await;
    b.one("total_mismatch", "resolved", 2).await;
    b.stop().await;
}

#[tokio::test]
async fn a_cancellation_missing_in_sap_is_found_once_and_resolves_when_sap_cancels() {
    let b = Both::new().await;
    let entity = b.place("000000503", true).await;
    b.w.order_reaches("000000503", "posted").await;
    b.reconcile().await;
    assert!(b.findings("cancel_conflict").await.is_empty(), "in step");

    // Cancelled in Magento; the cancellation webhook is lost.
    b.control(&format!("orders/{entity}/cancel"), json!({}))
        .await;
    b.reconcile().await;
    let row = b.one("cancel_conflict", "open", 1).await;
    assert!(
        row.title.contains("cancelled in Magento but open in SAP"),
        "{}",
        row.title
    );
    assert_eq!(row.context["magento_value"]["state"], "canceled");
    b.reconcile().await;
    b.one("cancel_conflict", "open", 2).await;

    // It arrives after all; b1bridge cancels the SAP order.
    b.w.app
        .send_webhook(
            "msg_cancel_503",
            &envelope("order.cancelled", &json!({"increment_id": "000000503"})),
        )
        .await;
    b.w.order_reaches("000000503", "cancelled").await;
    b.reconcile().await;
    b.one("cancel_conflict", "resolved", 2).await;
    b.stop().await;
}

#[tokio::test]
async fn a_captured_payment_without_invoice_is_found_once_and_resolves_when_invoiced() {
    let b = Both::new().await;
    b.w.set_settings(json!({"payment_link_days": 0})).await;
    let entity = b.place("000000504", true).await;
    b.w.order_reaches("000000504", "posted").await;
    b.reconcile().await;
    assert!(
        b.findings("payment_unlinked").await.is_empty(),
        "nothing captured yet"
    );

    b.control(
        &format!("orders/{entity}/invoice"),
        json!({"transaction_id": "ch_3PpQ"}),
    )
    .await;
    b.reconcile().await;
    let row = b.one("payment_unlinked", "open", 1).await;
    assert_eq!(row.context["magento_value"]["last_trans_id"], "ch_3PpQ");
    assert_eq!(row.context["magento_value"]["amount_paid"], json!(54));
    b.reconcile().await;
    b.one("payment_unlinked", "open", 2).await;

    // The accountant invoices the order in SAP.
    let doc = b.w.doc_entry("000000504").await;
    b.sap_control("invoices", json!({"order_doc_entry": doc}))
        .await;
    b.reconcile().await;
    b.one("payment_unlinked", "resolved", 2).await;
    b.stop().await;
}

#[tokio::test]
async fn stock_drift_is_found_once_and_resolves_after_a_stock_sync() {
    let b = Both::new().await;
    b.stock_sync().await;
    let (_, figures) = b.reconcile().await;
    assert!(figures.stock_skus >= 5, "{figures:?}");
    assert!(
        b.findings("stock_drift").await.is_empty(),
        "in step after a sync"
    );

    // A stock count in SAP that Magento has not heard of yet.
    b.w.set_sap_stock(SKU, "01", 9).await;
    let (_, figures) = b.reconcile().await;
    let row = b.one("stock_drift", "open", 1).await;
    assert_eq!(row.skus, [SKU]);
    assert_eq!(row.context["sap_value"]["expected_salable_qty"], json!(9));
    assert_ne!(row.context["magento_value"]["salable_qty"], json!(9));
    assert!(figures.stock_sample_last.is_some());
    b.reconcile().await;
    b.one("stock_drift", "open", 2).await;

    b.stock_sync().await;
    b.reconcile().await;
    b.one("stock_drift", "resolved", 2).await;
    b.stop().await;
}

#[tokio::test]
async fn the_daily_report_shows_intake_reconciliation_drift_and_the_days_totals() {
    let b = Both::new().await;
    let before: Value = b.report().await;
    assert!(before["drift_found"].is_null(), "not measured yet");
    assert!(before["totals"].is_null());
    assert!(before["intake"]["last_webhook_received_at"].is_null());
    assert_eq!(before["reconciliation"]["status"], "not_configured");

    b.place("000000505", true).await;
    b.w.order_reaches("000000505", "posted").await;
    b.place("000000506", false).await; // never reaches b1bridge
    b.reconcile().await;

    let r = b.report().await;
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    let pos = |k: &str| keys.iter().position(|x| *x == k).unwrap();
    assert!(
        pos("health") < pos("intake") && pos("intake") < pos("orders"),
        "{keys:?}"
    );
    assert!(r["intake"]["last_webhook_received_at"].is_string());
    assert_eq!(r["reconciliation"]["status"], "ok");
    assert!(r["drift_found"]["found"].as_i64().unwrap() >= 1);
    let kinds = r["drift_found"]["by_kind"].as_array().unwrap();
    assert!(
        kinds
            .iter()
            .any(|k| k["category"] == "missed_webhook" && k["open"] == 1),
        "{kinds:?}"
    );
    let totals = r["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 1, "{totals:?}");
    let usd = &totals[0];
    assert_eq!(usd["currency"], "USD");
    assert_eq!(usd["orders"], 2);
    assert_eq!(usd["magento_grand_total"], json!(108));
    assert_eq!(usd["sap_doc_total"], json!(54));
    assert_eq!(usd["difference"], json!(-54));
    let diffs = usd["differences"].as_array().unwrap();
    assert_eq!(diffs.len(), 1, "only the order missing from SAP: {diffs:?}");
    assert_eq!(diffs[0]["order_increment_id"], "000000506");
    assert!(diffs[0]["sap_doc_total"].is_null());

    let text = b1bridge::reconcile_cli::report_text(&b.report_struct().await);
    let health = text.find("FLOW HEALTH").unwrap();
    assert!(health < text.find("INTAKE").unwrap());
    assert!(
        text.contains("order 000000506: Magento 54 / SAP none"),
        "{text}"
    );
    b.stop().await;
}

impl Both {
    async fn report(&self) -> Value {
        serde_json::to_value(self.report_struct().await).unwrap()
    }

    async fn report_struct(&self) -> b1bridge::http::api::reports::DailyReport {
        let day = b1bridge::domain::daily_check::UtcDay::of(chrono::Utc::now().date_naive());
        let figures = b1bridge::store::daily_report::daily(&self.w.db.pool, &day)
            .await
            .unwrap();
        b1bridge::http::api::reports::report(day, figures).unwrap()
    }
}

/// The real binary, as a user runs it on a terminal, against this test's database and
/// simulators.
async fn binary(b: &Both, args: &[&str]) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_b1bridge"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &b.w.app.db.url)
        .env("SAP_B1_URL", b.w.sap_sim.base_url())
        .env("SAP_B1_COMPANY_DB", "SBODEMOGB")
        .env("SAP_B1_USERNAME", "manager")
        .env("SAP_B1_PASSWORD", "1234")
        .env("MAGENTO_URL", b.sim.base_url())
        .env("MAGENTO_TOKEN", TOKEN);
    // Async: the simulators run on this test's runtime and must go on answering meanwhile.
    cmd.output().await.expect("the binary runs")
}

#[tokio::test]
async fn b1bridge_reconcile_and_report_daily_work_from_a_terminal() {
    let b = Both::new().await;
    let today = chrono::Utc::now().date_naive().to_string();
    b.place("000000507", false).await;
    let out = binary(&b, &["reconcile", "--since", &today]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 Magento orders since"), "{stdout}");
    assert!(stdout.contains("orders"), "{stdout}");
    b.one("missed_webhook", "open", 1).await;
    let runs = b1bridge::store::runs::list(&b.w.db.pool, Some(RunKind::Reconcile), None, 5)
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].trigger, RunTrigger::Cli);

    let out = binary(&b, &["reconcile", "--since", "yesterday"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"));

    let out = binary(&b, &["report", "daily"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.starts_with("b1bridge daily report for"), "{stdout}");
    assert!(stdout.contains("missed_webhook"), "{stdout}");
    assert!(
        stdout.contains("order 000000507: Magento 54 / SAP none"),
        "{stdout}"
    );
    let out = binary(&b, &["report", "daily", "--format", "json"]).await;
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["totals"][0]["orders"], 1);
    let out = binary(&b, &["report", "daily", "--date", "2999-01-01"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in the future"));
    b.stop().await;
}

#[tokio::test]
async fn a_refund_without_sap_credit_memo_after_n_days_is_found_once_and_resolves_when_sap_has_it()
{
    let b = Both::new().await;
    b.w.set_settings(json!({"refunds": {"reconcile_after_days": 2}}))
        .await;
    let entity = b.place("000000506", true).await;
    b.w.order_reaches("000000506", "posted").await;
    // A credit memo made in Magento three days ago; SAP has no invoice, so it waits.
    let made = (chrono::Utc::now() - chrono::Duration::days(3))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let memo = json!({"entity_id": 506, "order_id": entity, "increment_id": "CM0000506",
        "created_at": made, "order_currency_code": "USD", "items": [],
        "shipping_amount": 5, "grand_total": 5, "tax_amount": 0});
    let body = serde_json::to_vec(&json!({"type": "creditmemo.created",
        "data": {"creditmemo": memo, "order": {"increment_id": "000000506"}}}))
    .unwrap();
    let res = b.w.app.send_webhook("msg_cm_506", &body).await;
    assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
    let pool = b.w.db.pool.clone();
    assert!(
        crate::support::wait_until(std::time::Duration::from_secs(20), || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, String>(
                    "SELECT status FROM refunds WHERE magento_entity_id = 506",
                )
                .fetch_optional(&pool)
                .await
                .unwrap()
                .as_deref()
                    == Some("waiting")
            }
        })
        .await
    );

    let (_, figures) = b.reconcile().await;
    let check = figures
        .checks
        .iter()
        .find(|c| c.check == "refunds")
        .unwrap();
    assert_eq!((check.checked, check.found), (1, 1));
    let row = b.one("refund_unmatched", "open", 1).await;
    assert_eq!(row.order_increment_id.as_deref(), Some("000000506"));
    assert!(row.title.contains("after 2 day(s)"), "{}", row.title);
    assert!(row.skus.is_empty());
    b.reconcile().await;
    b.one("refund_unmatched", "open", 2).await;

    // A person keys the credit memo in SAP with the refund's reference.
    let note = b1bridge::sap::types::NewCreditNote {
        card_code: "C20000".into(),
        num_at_card: "CM0000506".into(),
        doc_currency: None,
        comments: "keyed by hand".into(),
        document_lines: vec![b1bridge::sap::types::NewCreditNoteLine {
            item_code: Some("RACER".into()),
            quantity: rust_decimal::Decimal::ONE,
            unit_price: Some(rust_decimal::Decimal::from(5)),
            tax_code: Some("EX".into()),
            ..Default::default()
        }],
        document_additional_expenses: Vec::new(),
    };
    b.w.sap.create_credit_note(&note).await.unwrap();
    b.reconcile().await;
    b.one("refund_unmatched", "resolved", 2).await;
    b.stop().await;
}
