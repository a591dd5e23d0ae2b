//! Status back to Magento and the missed-webhook poll, against both simulators: SAP
//! deliveries become Magento shipments once each (a partial delivery a partial shipment),
//! posted orders get their DocNum comment with their status kept, orders and cancellations
//! that no webhook brought are taken in by one poll, and observer-envelope orders are
//! re-read before they are posted.
use b1bridge::config::{MagentoSettings, SapSettings};
use b1bridge::domain::exception::Category;
use b1bridge::domain::run::{RunKind, RunStatus, RunTrigger};
use b1bridge::domain::settings::{Settings, TaxStrategy};
use b1bridge::magento::envelope::parse_event;
use b1bridge::magento::MagentoClient;
use b1bridge::sap::SapClient;
use b1bridge::sim::magento::{self as magento_sim, MagentoSimConfig, MagentoSimHandle};
use b1bridge::sim::sap_b1::{
    self, DeliveryLineRequest, DeliveryRequest, SapSimConfig, SapSimHandle,
};
use b1bridge::store::intake::{self, Delivery, IntakeOutcome};
use b1bridge::store::runs::Run;
use b1bridge::worker::backfill::Backfill;
use b1bridge::worker::run_job::{run_here, RunTask};
use b1bridge::worker::status_sync::StatusSync;
use b1bridge::worker::{pipeline, PoolStopped, WorkerConfig, WorkerPool};
use rust_decimal_macros::dec;
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

use crate::support::{configure_simulator_mappings, sample_order, wait_until, TestDb};

const TOKEN: &str = "status-test-token";
const CONFIGURABLE_TAX: &str = "rest-order-registered-configurable-multiitem-tax.json";

struct Both {
    db: TestDb,
    sap: SapSimHandle,
    magento: MagentoSimHandle,
    client: Arc<MagentoClient>,
    sap_client: SapClient,
    pool_task: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<PoolStopped>)>,
}

impl Both {
    async fn new() -> Self {
        let db = TestDb::new().await;
        configure_simulator_mappings(&db.pool).await;
        b1bridge::store::settings::replace(
            &db.pool,
            &Settings {
                tax_strategy: TaxStrategy::MagentoLineTax,
                ..Settings::default()
            },
            "test",
        )
        .await
        .unwrap();
        let sap = sap_b1::spawn(SapSimConfig::default()).await.unwrap();
        let magento = magento_sim::spawn(MagentoSimConfig::new(TOKEN))
            .await
            .unwrap();
        let mut settings = MagentoSettings::from_env_values(
            Some(&magento.base_url()),
            Some(&SecretString::from(TOKEN)),
        )
        .unwrap()
        .unwrap();
        // Short, so a held request is a lost answer within a test.
        settings.request_timeout = Duration::from_millis(500);
        settings.backoff_base = Duration::from_millis(5);
        settings.backoff_cap = Duration::from_millis(50);
        let client = Arc::new(MagentoClient::new(&settings).unwrap());
        let sap_settings = SapSettings::from_raw(
            Some(&sap.base_url()),
            Some("SBODEMOGB"),
            Some("manager"),
            Some(&SecretString::from("1234")),
            None,
            Some("4"),
        )
        .unwrap();
        let sap_client = SapClient::new(&sap_settings).unwrap();
        let mut both = Self {
            db,
            sap,
            magento,
            client,
            sap_client,
            pool_task: None,
        };
        both.start_pool();
        both
    }

    fn pool(&self) -> &PgPool {
        &self.db.pool
    }

    /// The order pipeline, re-reading observer orders through the Magento simulator.
    fn start_pool(&mut self) {
        let handlers =
            pipeline::order_handlers_with(self.sap_client.clone(), Some(self.client.clone()));
        let config = WorkerConfig {
            worker_id: "status-test".into(),
            poll_interval: Duration::from_millis(100),
            ..pipeline::worker_config(4, Duration::from_secs(5))
        };
        let pool = WorkerPool::new(self.db.pool.clone(), handlers, config);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(pool.run(async {
            let _ = rx.await;
        }));
        self.pool_task = Some((tx, task));
    }

    async fn stop(mut self) {
        if let Some((tx, task)) = self.pool_task.take() {
            let _ = tx.send(());
            let _ = tokio::time::timeout(Duration::from_secs(20), task).await;
        }
    }

    /// Places `order` in the Magento simulator (as a shopper would) and answers it as
    /// `GET /V1/orders/{id}` returns it.
    async fn place_in_magento(&self, order: Value) -> Value {
        let res = reqwest::Client::new()
            .post(format!("{}/sim/control/orders", self.magento.root_url()))
            .json(&order)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    async fn intake(&self, body: Value) {
        let body = serde_json::to_vec(&body).unwrap();
        let event = parse_event(&body).expect("usable event");
        let webhook_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let delivery = Delivery {
            webhook_id: &webhook_id,
            webhook_timestamp: chrono::Utc::now(),
            headers: json!({}),
            body: &body,
        };
        let outcome = intake::record_order_event(self.pool(), &delivery, &event)
            .await
            .unwrap();
        assert!(matches!(outcome, IntakeOutcome::Accepted { .. }));
    }

    async fn status_of(&self, increment_id: &str) -> Option<(String, Option<i32>)> {
        sqlx::query_as("SELECT status, sap_doc_entry FROM orders WHERE increment_id = $1")
            .bind(increment_id)
            .fetch_optional(self.pool())
            .await
            .unwrap()
    }

    async fn wait_status(&self, increment_id: &str, wanted: &str) -> i64 {
        let ok = wait_until(Duration::from_secs(20), || async {
            self.status_of(increment_id)
                .await
                .is_some_and(|(s, _)| s == wanted)
        })
        .await;
        let row = self.status_of(increment_id).await;
        assert!(ok, "order {increment_id} never became {wanted}: {row:?}");
        i64::from(row.unwrap().1.unwrap_or_default())
    }

    async fn run<T: RunTask + Clone>(&self, kind: RunKind, task: &T) -> Run {
        let run = self.run_any(kind, task).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
        run
    }

    async fn run_any<T: RunTask + Clone>(&self, kind: RunKind, task: &T) -> Run {
        tokio::time::timeout(
            Duration::from_secs(30),
            run_here(self.pool(), kind, RunTrigger::Cli, "test", task.clone()),
        )
        .await
        .expect("the run ends (no endless paging)")
        .unwrap()
    }

    fn status_sync(&self) -> StatusSync {
        StatusSync::new(self.sap_client.clone(), self.client.clone())
    }

    fn backfill(&self) -> Backfill {
        let mut b = Backfill::new(self.client.clone());
        b.grace = Duration::ZERO;
        b
    }

    async fn open_exceptions(&self, increment_id: &str, category: Category) -> Vec<(String, i32)> {
        sqlx::query_as(
            "SELECT detail, occurrences FROM exceptions
              WHERE order_increment_id = $1 AND category = $2 AND status = 'open'",
        )
        .bind(increment_id)
        .bind(category.as_str())
        .fetch_all(self.pool())
        .await
        .unwrap()
    }
}

/// The sample under another increment id and entity id, so tests share nothing.
fn sample(increment_id: &str, entity_id: i64) -> Value {
    let mut o = sample_order(CONFIGURABLE_TAX);
    o["increment_id"] = json!(increment_id);
    o["entity_id"] = json!(entity_id);
    // Placed now: the simulator stamps `updated_at` as Magento does.
    o.as_object_mut().unwrap().remove("updated_at");
    o
}

#[tokio::test]
async fn a_delivery_with_tracking_is_one_shipment_and_a_partial_delivery_two() {
    let both = Both::new().await;
    let placed = both.place_in_magento(sample("S00000001", 901)).await;
    let status_before = placed["status"].clone();
    both.intake(json!({"type": "order.placed", "data": {"order": placed}}))
        .await;
    let doc_entry = both.wait_status("S00000001", "posted").await;
    let task = both.status_sync();

    // The comment names the DocNum and keeps the order's status.
    both.run(RunKind::StatusSync, &task).await;
    let order = both.magento.state().order_json(901).unwrap();
    let doc_num = both.sap.state().order(doc_entry).unwrap().doc_num;
    let comments: Vec<&Value> = order["status_histories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["comment"]
                .as_str()
                .unwrap_or("")
                .contains(&doc_num.to_string())
        })
        .collect();
    assert_eq!(comments.len(), 1, "{order}");
    assert_eq!(order["status"], status_before, "the status is kept");

    // SAP line 0 is the configurable (2 ordered), line 1 RACER (1 ordered): deliver part.
    both.sap
        .state()
        .create_delivery(&DeliveryRequest {
            order_doc_entry: doc_entry,
            lines: Some(vec![DeliveryLineRequest::new(0, dec!(1))]),
            tracking_number: Some("1Z999AA10123456784".into()),
            doc_date: None,
        })
        .unwrap();
    both.run(RunKind::StatusSync, &task).await;
    both.run(RunKind::StatusSync, &task).await;
    let shipments = both.magento.state().shipments(901);
    assert_eq!(
        shipments.len(),
        1,
        "one delivery, one shipment: {shipments:?}"
    );
    assert_eq!(
        shipments[0]["items"],
        json!([{"order_item_id": 16, "qty": 1}]),
        "the configurable ships through its parent item"
    );
    assert_eq!(
        shipments[0]["tracks"][0]["track_number"],
        "1Z999AA10123456784"
    );
    // The carrier of the order's shipping method (`tablerate_bestway` in this sample).
    assert_eq!(shipments[0]["tracks"][0]["carrier_code"], "tablerate");
    assert_eq!(
        shipments[0]["notify"], false,
        "no customer e-mail by default (setting notify_customer_on_shipment)"
    );

    // The rest: a second delivery, a second shipment, and the order is fully shipped. The
    // merchant has meanwhile asked Magento to e-mail customers: the next run does.
    b1bridge::store::settings::replace(
        both.pool(),
        &Settings {
            tax_strategy: TaxStrategy::MagentoLineTax,
            notify_customer_on_shipment: true,
            ..Settings::default()
        },
        "test",
    )
    .await
    .unwrap();
    both.sap
        .state()
        .create_delivery(&DeliveryRequest {
            order_doc_entry: doc_entry,
            lines: None,
            tracking_number: Some("1Z999AA10123456785".into()),
            doc_date: None,
        })
        .unwrap();
    let run = both.run(RunKind::StatusSync, &task).await;
    assert_eq!(
        run.figures["deliveries"]["shipments_sent"], 1,
        "{}",
        run.figures
    );
    let shipments = both.magento.state().shipments(901);
    assert_eq!(shipments.len(), 2);
    assert_eq!(shipments[1]["notify"], true, "{shipments:?}");
    let order = both.magento.state().order_json(901).unwrap();
    for item in order["items"].as_array().unwrap() {
        assert_eq!(
            item["qty_shipped"].as_f64(),
            item["qty_ordered"].as_f64(),
            "{item}"
        );
    }
    // A restart of the job with a reset cursor still sends nothing twice.
    sqlx::query("DELETE FROM sync_cursors")
        .execute(both.pool())
        .await
        .unwrap();
    both.run(RunKind::StatusSync, &task).await;
    assert_eq!(both.magento.state().shipments(901).len(), 2);
    let comments = both.magento.state().order_json(901).unwrap()["status_histories"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(comments, 1, "the comment is not repeated");
    both.stop().await;
}

#[tokio::test]
async fn a_shipment_magento_refuses_is_a_magento_rejected_exception_saying_what_to_do() {
    let both = Both::new().await;
    let placed = both.place_in_magento(sample("S00000002", 902)).await;
    both.intake(json!({"type": "order.placed", "data": {"order": placed}}))
        .await;
    let doc_entry = both.wait_status("S00000002", "posted").await;
    // Cancelled in Magento meanwhile, delivered in SAP: Magento refuses the shipment.
    reqwest::Client::new()
        .post(format!(
            "{}/sim/control/orders/902/cancel",
            both.magento.root_url()
        ))
        .send()
        .await
        .unwrap();
    both.sap
        .state()
        .create_delivery(&DeliveryRequest {
            order_doc_entry: doc_entry,
            lines: None,
            tracking_number: None,
            doc_date: None,
        })
        .unwrap();
    let task = both.status_sync();
    let run = both.run(RunKind::StatusSync, &task).await;
    assert_eq!(
        run.figures["deliveries"]["shipments_rejected"], 1,
        "{}",
        run.figures
    );
    both.run(RunKind::StatusSync, &task).await;
    let found = both
        .open_exceptions("S00000002", Category::MagentoRejected)
        .await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, 1, "not sent again, so not counted again");
    assert!(
        found[0].0.contains("resolve this exception"),
        "{}",
        found[0].0
    );
    assert!(both.magento.state().shipments(902).is_empty());
    both.stop().await;
}

#[tokio::test]
async fn an_order_whose_webhook_never_came_is_taken_in_by_one_poll_and_posted() {
    let both = Both::new().await;
    let task = both.backfill();
    both.place_in_magento(sample("S00000003", 903)).await;
    let run = both.run(RunKind::Backfill, &task).await;
    assert_eq!(run.figures["orders_ingested"], 1, "{}", run.figures);
    both.wait_status("S00000003", "posted").await;
    assert_eq!(both.sap.state().orders_by_num_at_card("S00000003"), 1);
    let missed = both
        .open_exceptions("S00000003", Category::MissedWebhook)
        .await;
    assert_eq!(missed.len(), 1);
    // The same change read again (the overlap) does nothing.
    let run = both.run(RunKind::Backfill, &task).await;
    assert_eq!(run.figures["orders_ingested"], 0, "{}", run.figures);
    let missed = both
        .open_exceptions("S00000003", Category::MissedWebhook)
        .await;
    assert_eq!(missed[0].1, 1);

    // A cancellation no webhook told of is applied: the SAP order is cancelled.
    reqwest::Client::new()
        .post(format!(
            "{}/sim/control/orders/903/cancel",
            both.magento.root_url()
        ))
        .send()
        .await
        .unwrap();
    let run = both.run(RunKind::Backfill, &task).await;
    assert_eq!(run.figures["cancellations_applied"], 1, "{}", run.figures);
    let doc_entry = both.wait_status("S00000003", "cancelled").await;
    assert_eq!(
        both.sap.state().order(doc_entry).unwrap().cancelled,
        b1bridge::sim::sap_b1::YesNo::Yes
    );
    both.stop().await;
}

#[tokio::test]
async fn the_repeated_last_page_does_not_loop_and_every_order_is_read_once() {
    let both = Both::new().await;
    let mut task = both.backfill();
    task.page_size = 2;
    for n in 0..5 {
        both.place_in_magento(sample(&format!("S0000001{n}"), 910 + n))
            .await;
    }
    let run = both.run(RunKind::Backfill, &task).await;
    assert_eq!(run.figures["orders_read"], 5, "{}", run.figures);
    assert_eq!(run.figures["orders_ingested"], 5, "{}", run.figures);
    let stats = both.magento.state().stats();
    let searches = stats.requests_by_endpoint.get("GET /V1/orders").copied();
    assert_eq!(
        searches,
        Some(3),
        "⌈5/2⌉ pages: {:?}",
        stats.requests_by_endpoint
    );
    both.stop().await;
}

#[tokio::test]
async fn an_observer_envelope_order_is_re_read_and_posts_with_addresses_and_taxes() {
    let both = Both::new().await;
    let rest = both.place_in_magento(sample("S00000004", 904)).await;
    // The observer carries Magento's model data: no extension_attributes (addresses,
    // shipping method, applied taxes), addresses as a flat list.
    let mut model = rest.clone();
    let obj = model.as_object_mut().unwrap();
    obj.remove("extension_attributes");
    obj.insert("addresses".into(), json!([rest["billing_address"].clone()]));
    obj.remove("billing_address");
    obj.insert("shipping_method".into(), json!("flatrate_flatrate"));
    both.intake(json!({"eventName": "sales_order_place_after", "data": {"order": model}}))
        .await;
    let doc_entry = both.wait_status("S00000004", "posted").await;
    let doc = both.sap.state().order(doc_entry).unwrap();
    let address = doc
        .address_extension
        .clone()
        .expect("addresses were posted");
    let ship_city = rest["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]
        ["city"]
        .clone();
    assert_eq!(address["ShipToCity"], ship_city, "{address}");
    assert_eq!(
        doc.vat_sum,
        b1bridge::domain::money::decimal_from_json(&rest["tax_amount"])
            .unwrap()
            .unwrap(),
        "Magento's tax"
    );
    assert!(doc.document_lines.iter().all(|l| l.tax_code.is_some()));
    both.stop().await;
}

/// An order posted and delivered in full in SAP, its comment already sent.
async fn delivered(both: &Both, increment_id: &str, entity_id: i64) -> StatusSync {
    let placed = both.place_in_magento(sample(increment_id, entity_id)).await;
    both.intake(json!({"type": "order.placed", "data": {"order": placed}}))
        .await;
    let doc_entry = both.wait_status(increment_id, "posted").await;
    let task = both.status_sync();
    both.run(RunKind::StatusSync, &task).await;
    both.sap
        .state()
        .create_delivery(&DeliveryRequest {
            order_doc_entry: doc_entry,
            lines: None,
            tracking_number: Some("1Z999AA10123456786".into()),
            doc_date: None,
        })
        .unwrap();
    task
}

#[tokio::test]
async fn two_processes_running_the_status_job_at_once_ship_a_delivery_once() {
    let both = Both::new().await;
    delivered(&both, "S00000005", 905).await;
    // Two processes' jobs (a run taken over while its first worker still works).
    let a = both.status_sync();
    let b = both.status_sync();
    let (ra, rb) = tokio::join!(a.sync(both.pool()), b.sync(both.pool()));
    let shipments = both.magento.state().shipments(905);
    assert_eq!(shipments.len(), 1, "{ra:?} {rb:?}");
    both.stop().await;
}

#[tokio::test]
async fn a_shipment_whose_answer_was_lost_is_not_sent_again_but_settled_from_magento() {
    let both = Both::new().await;
    delivered(&both, "S00000006", 906).await;
    // Magento holds the shipment past the client's timeout, then applies it.
    both.magento
        .state()
        .set_faults(magento_sim::MagentoFaults {
            script: vec![0],
            timeout_ms: 1_500,
            ..Default::default()
        })
        .unwrap();
    let task = both.status_sync();
    let run = both.run_any(RunKind::StatusSync, &task).await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    assert!(
        run.error
            .as_deref()
            .unwrap_or("")
            .contains("may not have reached"),
        "{run:?}"
    );
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(
        both.magento.state().shipments(906).len(),
        1,
        "Magento applied it"
    );
    // Within the claim's life nothing is sent; once stale, it is settled by reading back.
    let run = both.run_any(RunKind::StatusSync, &task).await;
    assert_eq!(
        run.status,
        RunStatus::Failed,
        "a fresh claim is respected: {run:?}"
    );
    let settling = StatusSync::with_stale_claims_after(
        both.sap_client.clone(),
        both.client.clone(),
        Duration::ZERO,
    );
    let run = both.run(RunKind::StatusSync, &settling).await;
    assert_eq!(
        run.figures["deliveries"]["shipments_settled"], 1,
        "{}",
        run.figures
    );
    assert_eq!(
        both.magento.state().shipments(906).len(),
        1,
        "never sent twice"
    );
    let state: String = sqlx::query_scalar("SELECT state FROM magento_shipments")
        .fetch_one(both.pool())
        .await
        .unwrap();
    assert_eq!(state, "sent");
    both.stop().await;
}
