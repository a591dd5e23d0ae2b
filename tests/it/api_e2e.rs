//! The end-to-end story, through the API only: a Magento order whose SKU has no SAP
//! item is parked as an `unknown_sku` exception naming the SKU and the order; an admin maps
//! the SKU (checked against SAP), an operator retries, and the order lands in SAP exactly once
//! while the exception resolves itself and the audit trail names both people.
use b1bridge::config::SapSettings;
use b1bridge::sap::SapClient;
use b1bridge::sim::sap_b1::{self, SapSimConfig, SapSimHandle};
use b1bridge::worker::{pipeline, PoolStopped, WorkerConfig};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::oneshot;

use crate::api_common::*;
use crate::support::{envelope, sample_order, spawn_app_with, AppOptions, TestApp};

/// How long any one step of the story may take.
const STEP: Duration = Duration::from_secs(20);

/// `serve` with its workers, as the process runs them: the HTTP server and the order
/// pipeline sharing one SAP client (one session, one limiter), against the simulator.
struct Served {
    app: TestApp,
    sim: SapSimHandle,
    workers: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<PoolStopped>)>,
}

impl Served {
    async fn start() -> Self {
        let sim = sap_b1::spawn(SapSimConfig::default())
            .await
            .expect("simulator starts");
        let settings = SapSettings::from_raw(
            Some(&sim.base_url()),
            Some("SBODEMOGB"),
            Some("manager"),
            Some(&SecretString::from("1234")),
            None,
            None,
        )
        .expect("simulator settings are valid");
        let sap = SapClient::new(&settings).expect("client builds");
        let app = spawn_app_with(AppOptions {
            sap: Some(sap.clone()),
            ..AppOptions::default()
        })
        .await;
        let config = WorkerConfig {
            worker_id: "e2e-test".into(),
            poll_interval: Duration::from_millis(100),
            ..pipeline::worker_config(settings.max_concurrency, Duration::from_secs(5))
        };
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(pipeline::run(app.db.pool.clone(), sap, config, async {
            let _ = rx.await;
        }));
        Self {
            app,
            sim,
            workers: Some((tx, task)),
        }
    }

    async fn stop(mut self) {
        if let Some((tx, task)) = self.workers.take() {
            let _ = tx.send(());
            tokio::time::timeout(STEP, task)
                .await
                .expect("the workers stop")
                .expect("the worker task ends cleanly");
        }
        self.app.stop().await;
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        get_json(&self.app, path, token).await
    }

    /// Polls `path` until `done` holds for its JSON (within [`STEP`]), and returns that JSON.
    async fn wait_for(&self, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let last = self.get(path, VIEWER).await;
            if done(&last) {
                return last;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: GET {path} last answered {last}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn an_unknown_sku_parks_the_order_until_an_admin_maps_it_and_an_operator_retries() {
    const ORDER: &str = "000900001";
    const SKU: &str = "WP13-28-Teal";
    const ITEM: &str = "WP13-28-Blue";
    let served = Served::start().await;

    // Magento sends the order; its SKU has no item in SAP B1.
    let mut order = sample_order("rest-order-guest-configurable.json");
    order["increment_id"] = json!(ORDER);
    for line in order["items"].as_array_mut().unwrap() {
        if line["sku"] == ITEM {
            line["sku"] = json!(SKU);
        }
    }
    let res = served
        .app
        .send_webhook("msg_e2e_unknown_sku", &envelope("order.placed", &order))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);

    // The exception queue names the SKU and the order, for the team that can fix it.
    let queue = served
        .wait_for(
            &format!("/api/v1/exceptions?category=unknown_sku&order={ORDER}"),
            "an unknown_sku exception is filed",
            |page| page["items"].as_array().is_some_and(|i| !i.is_empty()),
        )
        .await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{queue}");
    let exception = &items[0];
    let id = exception["id"].as_str().unwrap().to_owned();
    assert_eq!(exception["status"], "open");
    assert_eq!(
        exception["title"],
        format!("SKU '{SKU}' on order {ORDER} has no SAP B1 item")
    );
    assert_eq!(exception["skus"], json!([SKU]));
    assert_eq!(exception["order_increment_id"], ORDER);
    assert_eq!(exception["owner_team"], "merchandising");
    assert_eq!(exception["impact"], "blocks_fulfilment");

    // The order waits, parked, and nothing reached SAP.
    let parked = served
        .wait_for(
            &format!("/api/v1/orders/{ORDER}"),
            "the order is parked",
            |o| o["order"]["status"] == "parked",
        )
        .await;
    assert_eq!(parked["order"]["sap_doc_entry"], Value::Null);
    assert_eq!(parked["order"]["open_exceptions"], 1);
    assert_eq!(served.sim.orders_by_num_at_card(ORDER), 0);

    // An admin maps the SKU to an item SAP has (a typo is refused: the check asks SAP) ...
    let map_to = |item: &'static str| {
        call(
            &served.app,
            Method::PUT,
            &format!("/api/v1/mappings/skus/{SKU}"),
            ADMIN,
        )
        .json(&json!({ "item_code": item }))
        .send()
    };
    let typo = map_to("WP13-28-Bleu").await.unwrap();
    let p = problem(typo, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "item_code");
    assert_eq!(map_to(ITEM).await.unwrap().status(), StatusCode::OK);
    // ... and an operator retries the exception.
    let res = post_json(
        &served.app,
        &format!("/api/v1/exceptions/{id}/retry"),
        OPERATOR,
        json!({"note": "SKU mapped to WP13-28-Blue; retrying"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let retrying: Value = res.json().await.unwrap();
    assert_eq!(retrying["status"], "retrying");

    // The order is posted, once, with the mapped item.
    let posted = served
        .wait_for(
            &format!("/api/v1/orders/{ORDER}"),
            "the order is posted",
            |o| o["order"]["status"] == "posted",
        )
        .await;
    assert_eq!(served.sim.orders_by_num_at_card(ORDER), 1);
    let doc_entry = posted["order"]["sap_doc_entry"]
        .as_i64()
        .expect("the DocEntry is recorded");
    let doc = served.sim.order(doc_entry).expect("the order is in SAP");
    assert_eq!(doc.num_at_card.as_deref(), Some(ORDER));
    assert!(
        doc.document_lines.iter().all(|l| l.item_code == ITEM),
        "{:?}",
        doc.document_lines
    );
    assert_eq!(posted["order"]["open_exceptions"], 0);

    // The exception resolved itself, and its trail shows the operator's retry.
    let detail = served
        .wait_for(
            &format!("/api/v1/exceptions/{id}"),
            "the exception is resolved",
            |d| d["exception"]["status"] == "resolved",
        )
        .await;
    assert_eq!(detail["exception"]["resolved_by"], "b1bridge");
    let trail: Vec<(&str, &str)> = detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["actor"].as_str().unwrap(), a["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        trail,
        [("operator", "retry"), ("b1bridge", "auto_resolve")],
        "{detail}"
    );
    assert_eq!(
        detail["audit"][0]["note"],
        "SKU mapped to WP13-28-Blue; retrying"
    );
    // The admin's change: on the mapping itself, and in the audit log (which the API shows
    // per exception and per order only).
    let mapping = served.get("/api/v1/mappings/skus", VIEWER).await;
    assert_eq!(mapping["items"][0]["key"], SKU);
    assert_eq!(mapping["items"][0]["value"], json!({"item_code": ITEM}));
    assert_eq!(mapping["items"][0]["updated_by"], "admin");
    let mapping_trail = audit_of(&served.app, "mapping", &format!("skus/{SKU}")).await;
    assert_eq!(mapping_trail.len(), 1, "{mapping_trail:?}");
    let (actor, action, note) = &mapping_trail[0];
    assert_eq!((actor.as_str(), action.as_str()), ("admin", "upsert"));
    let recorded: Value = serde_json::from_str(note.as_deref().unwrap()).unwrap();
    assert_eq!(
        recorded,
        json!({"item_code": ITEM}),
        "the new value is kept"
    );
    served.stop().await;
}
