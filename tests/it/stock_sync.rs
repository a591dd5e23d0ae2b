//! The stock sync against the SAP B1 simulator and a Magento MSI stand-in that keeps source
//! quantities and reservations the way MSI does (salable = Σ source quantities − reservations)
//! and refuses a whole batch when one SKU in it is unknown (as `POST
//! /V1/inventory/source-items` validates the whole request).
use b1bridge::config::SapSettings;
use b1bridge::domain::run::{RunKind, RunStatus, RunTrigger};
use b1bridge::sap::SapClient;
use b1bridge::sim::sap_b1::{self, SapSimConfig, SapSimHandle};
use b1bridge::store::runs::{self, Run};
use b1bridge::worker::run_job::run_here;
use b1bridge::worker::stock_sync::publisher::{PushError, SourceItemUpdate, StockPublisher};
use b1bridge::worker::stock_sync::StockSync;
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use secrecy::SecretString;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::support::{envelope, sample_order, spawn_app, wait_until, TestApp};
use b1bridge::worker::{pipeline, PoolStopped, WorkerConfig};
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::oneshot;

/// Magento MSI as far as stock goes.
#[derive(Default)]
pub struct MagentoModel {
    pub sources: HashMap<(String, String), Decimal>,
    pub reservations: HashMap<String, Decimal>,
    /// SKUs Magento knows; `None`: every SKU.
    pub known: Option<HashSet<String>>,
    pub down: bool,
    /// Every call: the SKUs it carried.
    pub calls: Vec<Vec<String>>,
}

#[derive(Clone, Default)]
pub struct FakeMagento(pub Arc<Mutex<MagentoModel>>);

impl FakeMagento {
    pub fn salable(&self, sku: &str) -> Decimal {
        let m = self.0.lock().unwrap();
        let on_hand: Decimal = m
            .sources
            .iter()
            .filter(|((s, _), _)| s == sku)
            .map(|(_, q)| *q)
            .sum();
        on_hand - m.reservations.get(sku).copied().unwrap_or_default()
    }

    pub fn calls(&self) -> usize {
        self.0.lock().unwrap().calls.len()
    }

    pub fn last_call(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .calls
            .last()
            .cloned()
            .unwrap_or_default()
    }

    /// A shipment: deducts the source quantity and releases the reservation (MSI).
    pub fn ship(&self, sku: &str, source: &str, qty: Decimal) {
        let mut m = self.0.lock().unwrap();
        *m.sources.entry((sku.into(), source.into())).or_default() -= qty;
        *m.reservations.entry(sku.into()).or_default() -= qty;
    }

    /// Legacy stock: Magento deducts an order's quantity from the stock item when it is placed.
    pub fn deduct_legacy(&self, sku: &str, qty: Decimal) {
        let mut m = self.0.lock().unwrap();
        *m.sources
            .entry((sku.into(), "(legacy)".into()))
            .or_default() -= qty;
    }

    /// Places (positive) or releases (negative, a cancellation) a reservation.
    pub fn reserve(&self, sku: &str, qty: Decimal) {
        *self
            .0
            .lock()
            .unwrap()
            .reservations
            .entry(sku.into())
            .or_default() += qty;
    }
}

impl StockPublisher for FakeMagento {
    fn push_source_items<'a>(
        &'a self,
        items: &'a [SourceItemUpdate],
    ) -> BoxFuture<'a, Result<(), PushError>> {
        Box::pin(async move {
            let mut m = self.0.lock().unwrap();
            m.calls.push(items.iter().map(|i| i.sku.clone()).collect());
            if m.down {
                return Err(PushError::Unavailable("503 Service Unavailable".into()));
            }
            if let Some(known) = &m.known {
                if let Some(bad) = items.iter().find(|i| !known.contains(&i.sku)) {
                    return Err(PushError::Rejected(format!(
                        "Could not save Source Item Configuration: SKU {} does not exist",
                        bad.sku
                    )));
                }
            }
            for i in items {
                m.sources
                    .insert((i.sku.clone(), i.source_code.clone()), i.quantity);
            }
            Ok(())
        })
    }

    fn push_legacy_stock<'a>(
        &'a self,
        sku: &'a str,
        quantity: Decimal,
        _in_stock: bool,
    ) -> BoxFuture<'a, Result<(), PushError>> {
        Box::pin(async move {
            let mut m = self.0.lock().unwrap();
            m.calls.push(vec![sku.to_owned()]);
            if m.down {
                return Err(PushError::Unavailable("503 Service Unavailable".into()));
            }
            m.sources.insert((sku.into(), "(legacy)".into()), quantity);
            Ok(())
        })
    }
}

/// b1bridge's HTTP service (webhooks, API) on a fresh database, the SAP B1 simulator, and
/// Magento; the order workers start on demand.
pub struct World {
    pub app: TestApp,
    pub db: TestDbRef,
    pub sap_sim: SapSimHandle,
    pub sap: SapClient,
    pub magento: FakeMagento,
    workers: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<PoolStopped>)>,
}

/// The app's database, named like the harness's.
pub struct TestDbRef {
    pub pool: PgPool,
}

impl World {
    pub async fn new() -> Self {
        let app = spawn_app().await;
        let db = TestDbRef {
            pool: app.db.pool.clone(),
        };
        let sap_sim = sap_b1::spawn(SapSimConfig::default()).await.unwrap();
        let settings = SapSettings::from_raw(
            Some(&sap_sim.base_url()),
            Some("SBODEMOGB"),
            Some("manager"),
            Some(&SecretString::from("1234")),
            None,
            None,
        )
        .unwrap();
        let sap = SapClient::new(&settings).unwrap();
        let w = Self {
            app,
            db,
            sap_sim,
            sap,
            magento: FakeMagento::default(),
            workers: None,
        };
        // Web warehouses 01 and 02 feed the default source; 03 (returns) does not count.
        w.map_warehouse("01", Some("default"), true).await;
        w.map_warehouse("02", Some("default"), true).await;
        w.map_warehouse("03", Some("default"), false).await;
        w
    }

    pub async fn map_warehouse(&self, code: &str, source: Option<&str>, include: bool) {
        let value = b1bridge::domain::mappings::MappingKind::Warehouses
            .parse_value(
                &json!({"magento_source_code": source, "include_in_stock": include,
                                 "order_default": code == "01"}),
            )
            .unwrap();
        let mut conn = self.db.pool.acquire().await.unwrap();
        b1bridge::store::mappings::record(&mut conn, code, &value, "test")
            .await
            .unwrap();
    }

    pub async fn set_settings(&self, patch: serde_json::Value) {
        let mut s = serde_json::to_value(b1bridge::domain::settings::Settings::default()).unwrap();
        for (k, v) in patch.as_object().unwrap() {
            s[k] = v.clone();
        }
        let settings = serde_json::from_value(s).unwrap();
        b1bridge::store::settings::replace(&self.db.pool, &settings, "test")
            .await
            .unwrap();
    }

    pub async fn set_sap_stock(&self, item: &str, warehouse: &str, in_stock: i64) {
        let res = reqwest::Client::new()
            .post(format!("{}/sim/control/stock", self.sap_sim.root_url()))
            .json(&json!({"item_code": item, "warehouse_code": warehouse, "in_stock": in_stock}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }

    /// Starts the order workers (post and cancel jobs), as `serve` runs them.
    pub async fn start_workers(&mut self) {
        let config = WorkerConfig {
            worker_id: "stock-test".into(),
            poll_interval: Duration::from_millis(100),
            ..pipeline::worker_config(4, Duration::from_secs(5))
        };
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(pipeline::run(
            self.db.pool.clone(),
            self.sap.clone(),
            config,
            async {
                let _ = rx.await;
            },
        ));
        self.workers = Some((tx, task));
    }

    pub async fn stop(mut self) {
        if let Some((tx, task)) = self.workers.take() {
            let _ = tx.send(());
            let _ = tokio::time::timeout(Duration::from_secs(20), task).await;
        }
        self.app.stop().await;
    }

    /// Waits until the order reaches `status`.
    pub async fn order_reaches(&self, increment_id: &str, status: &str) {
        let pool = self.db.pool.clone();
        let ok = wait_until(Duration::from_secs(20), || {
            let pool = pool.clone();
            async move {
                let s: Option<String> =
                    sqlx::query_scalar("SELECT status FROM orders WHERE increment_id = $1")
                        .bind(increment_id)
                        .fetch_optional(&pool)
                        .await
                        .unwrap();
                s.as_deref() == Some(status)
            }
        })
        .await;
        if !ok {
            let found: Vec<(String, String)> =
                sqlx::query_as("SELECT category, title FROM exceptions")
                    .fetch_all(&self.db.pool)
                    .await
                    .unwrap();
            let jobs: Vec<(String, Option<serde_json::Value>)> =
                sqlx::query_as("SELECT status, last_error FROM outbox")
                    .fetch_all(&self.db.pool)
                    .await
                    .unwrap();
            panic!("order {increment_id} never became {status}: {found:?} {jobs:?}");
        }
    }

    pub async fn doc_entry(&self, increment_id: &str) -> i64 {
        let d: Option<i32> =
            sqlx::query_scalar("SELECT sap_doc_entry FROM orders WHERE increment_id = $1")
                .bind(increment_id)
                .fetch_one(&self.db.pool)
                .await
                .unwrap();
        i64::from(d.expect("posted"))
    }

    /// SAP's own view of an item: Σ over the web warehouses (01, 02) of InStock − Committed.
    pub async fn sap_available(&self, item: &str) -> Decimal {
        let item = self
            .sap
            .get_item(&b1bridge::domain::ids::ItemCode::parse(item).unwrap())
            .await
            .unwrap()
            .unwrap();
        item.warehouses
            .iter()
            .filter(|w| w.warehouse_code == "01" || w.warehouse_code == "02")
            .map(|w| w.in_stock - w.committed)
            .sum()
    }

    /// The invariant, for every SKU: Magento salable = max(0, Σ web (InStock − Committed) −
    /// safety stock).
    pub async fn assert_invariant(&self, safety: Decimal, moment: &str) {
        let first = self.sap.list_items(None).await.unwrap();
        let items = self.sap.collect_pages(first).await.unwrap();
        for item in items {
            let available: Decimal = item
                .warehouses
                .iter()
                .filter(|w| w.warehouse_code == "01" || w.warehouse_code == "02")
                .map(|w| w.in_stock - w.committed)
                .sum();
            let expected = (available - safety).max(Decimal::ZERO);
            assert_eq!(
                self.magento.salable(&item.item_code),
                expected,
                "{moment}: SKU {} (SAP available {available})",
                item.item_code
            );
        }
    }

    /// One stock sync run, executed here like `b1bridge stock sync`.
    pub async fn sync(&self) -> Run {
        let task = StockSync::new(self.sap.clone(), Arc::new(self.magento.clone()));
        run_here(
            &self.db.pool,
            RunKind::StockSync,
            RunTrigger::Cli,
            "test",
            task,
        )
        .await
        .unwrap()
    }
}

fn fig(run: &Run, key: &str) -> i64 {
    run.figures[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} in {}", run.figures))
}

#[tokio::test]
async fn deltas_push_only_what_changed_and_a_quiet_run_calls_magento_not_at_all() {
    let w = World::new().await;
    w.set_settings(json!({"stock_batch_size": 10})).await;
    let first = w.sync().await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    assert_eq!(first.figures["full"], true, "the first run is a full pass");
    let items = fig(&first, "items_read");
    assert!(items > 40, "{items}");
    assert_eq!(fig(&first, "pushed"), items);
    assert_eq!(
        fig(&first, "magento_requests"),
        (items + 9) / 10,
        "one call per batch of 10"
    );
    assert_eq!(w.magento.calls() as i64, (items + 9) / 10);
    // 01 and 02 count, 03 (returns) never does: MH09-S-Blue has 60 + 0 (+3 in 03).
    assert_eq!(w.magento.salable("MH09-S-Blue"), dec!(60));
    assert_eq!(w.magento.salable("MH01-XS-Black"), dec!(25));

    let calls = w.magento.calls();
    let quiet = w.sync().await;
    assert_eq!(quiet.figures["full"], false);
    assert_eq!(fig(&quiet, "changed"), 0);
    assert_eq!(fig(&quiet, "magento_requests"), 0);
    assert_eq!(
        w.magento.calls(),
        calls,
        "no Magento call when nothing changed"
    );

    w.set_sap_stock("MH09-S-Blue", "01", 55).await;
    let one = w.sync().await;
    assert_eq!(fig(&one, "changed"), 1);
    assert_eq!(fig(&one, "magento_requests"), 1);
    assert_eq!(w.magento.last_call(), ["MH09-S-Blue"]);
    assert_eq!(w.magento.salable("MH09-S-Blue"), dec!(55));
    // A change in the returns warehouse (not included) changes nothing.
    w.set_sap_stock("MH09-S-Blue", "03", 30).await;
    let none = w.sync().await;
    assert_eq!(fig(&none, "magento_requests"), 0);
    assert_eq!(w.magento.salable("MH09-S-Blue"), dec!(55));
    // SAP requests: ⌈items / page size⌉ (default page 500 → one page), nothing else.
    assert_eq!(fig(&none, "sap_requests"), 1);
}

#[tokio::test]
async fn a_refused_sku_is_isolated_the_rest_is_pushed_and_it_becomes_magento_rejected() {
    let w = World::new().await;
    w.set_settings(json!({"stock_batch_size": 8})).await;
    {
        let mut m = w.magento.0.lock().unwrap();
        let mut known: HashSet<String> = HashSet::new();
        for sku in [
            "MH09-XS-Blue",
            "MH09-S-Blue",
            "MH09-M-Green",
            "MH09-L-Red",
            "MH01-XS-Black",
            "MH01-S-Gray",
            "MH01-M-Gray",
            "MH01-L-Orange",
            "MH02-S-Black",
            "MH02-M-Red",
        ] {
            known.insert(sku.into());
        }
        m.known = Some(known);
    }
    let run = w.sync().await;
    assert_eq!(run.status, RunStatus::Succeeded);
    let items = fig(&run, "items_read");
    assert_eq!(fig(&run, "pushed"), 10);
    assert_eq!(fig(&run, "rejected"), items - 10);
    assert_eq!(w.magento.salable("MH01-S-Gray"), dec!(4));
    let rejected: Vec<(String, Vec<String>, String, String)> =
        sqlx::query_as("SELECT category, skus, owner_team, impact FROM exceptions ORDER BY skus")
            .fetch_all(&w.db.pool)
            .await
            .unwrap();
    assert_eq!(rejected.len() as i64, items - 10);
    assert!(rejected
        .iter()
        .all(|(c, skus, team, impact)| c == "magento_rejected"
            && skus.len() == 1
            && team == "integration"
            && impact == "customer_facing"));
    assert!(rejected.iter().any(|(_, skus, _, _)| skus == &["RACER"]));
    // Not offered again while its quantity stays the same.
    let calls = w.magento.calls();
    let again = w.sync().await;
    assert_eq!(fig(&again, "magento_requests"), 0);
    assert_eq!(w.magento.calls(), calls);

    // The SKU is created in Magento and its SAP stock changes: pushed, and its exception
    // closes by itself; the others stay open.
    w.magento
        .0
        .lock()
        .unwrap()
        .known
        .as_mut()
        .unwrap()
        .insert("RACER".into());
    w.set_sap_stock("RACER", "01", 17).await;
    let fixed = w.sync().await;
    assert_eq!(fig(&fixed, "pushed"), 1);
    let open: Vec<Vec<String>> =
        sqlx::query_scalar("SELECT skus FROM exceptions WHERE status = 'open'")
            .fetch_all(&w.db.pool)
            .await
            .unwrap();
    assert_eq!(open.len() as i64, items - 11);
    assert!(!open.iter().any(|skus| skus == &["RACER"]));
    let (status, by): (String, Option<String>) =
        sqlx::query_as("SELECT status, resolved_by FROM exceptions WHERE skus = '{RACER}'")
            .fetch_one(&w.db.pool)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), by.as_deref()),
        ("resolved", Some("b1bridge"))
    );
}

#[tokio::test]
async fn with_magento_down_nothing_is_recorded_as_pushed_and_the_next_run_catches_up() {
    let w = World::new().await;
    w.sync().await;
    w.set_sap_stock("MH01-S-Gray", "01", 9).await;
    w.magento.0.lock().unwrap().down = true;
    let failed = w.sync().await;
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed
        .error
        .as_deref()
        .unwrap()
        .contains("Magento unavailable"));
    assert_eq!(fig(&failed, "pushed"), 0);
    let remembered: Decimal = sqlx::query_scalar(
        "SELECT quantity FROM stock_pushed WHERE sku = 'MH01-S-Gray' AND source_code = 'default'",
    )
    .fetch_one(&w.db.pool)
    .await
    .unwrap();
    assert_eq!(
        remembered,
        dec!(4),
        "what Magento did not take is not remembered as pushed"
    );
    w.magento.0.lock().unwrap().down = false;
    let caught_up = w.sync().await;
    assert_eq!(caught_up.status, RunStatus::Succeeded);
    assert_eq!(fig(&caught_up, "pushed"), 1);
    assert_eq!(w.magento.salable("MH01-S-Gray"), dec!(9));
}

#[tokio::test]
async fn one_stock_run_at_a_time_and_the_scheduler_starts_one_per_interval_across_processes() {
    let w = World::new().await;
    let a = runs::start(&w.db.pool, RunKind::StockSync, RunTrigger::Api, "op")
        .await
        .unwrap();
    let second = runs::start(&w.db.pool, RunKind::StockSync, RunTrigger::Cli, "cli").await;
    match second {
        Err(runs::StartError::Active { run, .. }) => assert_eq!(run, a.id),
        other => panic!("{other:?}"),
    }
    // Two "processes" tick at once while a run is active: both skip.
    let every = std::time::Duration::from_millis(1);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    for _ in 0..2 {
        assert!(matches!(
            runs::start_if_due(&w.db.pool, RunKind::StockSync, every)
                .await
                .unwrap(),
            runs::Due::Skipped { .. }
        ));
    }
    let mut conn = w.db.pool.acquire().await.unwrap();
    runs::finish(&mut conn, a.id, RunStatus::Succeeded, &json!({}), None)
        .await
        .unwrap();
    // Many schedulers racing on a long interval: exactly one run starts.
    let every = std::time::Duration::from_secs(3600);
    sqlx::query("DELETE FROM runs")
        .execute(&w.db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM outbox")
        .execute(&w.db.pool)
        .await
        .unwrap();
    let ticks = (0..8).map(|_| {
        let pool = w.db.pool.clone();
        async move {
            runs::start_if_due(&pool, RunKind::StockSync, every)
                .await
                .unwrap()
        }
    });
    let outcomes = futures::future::join_all(ticks).await;
    let started = outcomes
        .iter()
        .filter(|d| matches!(d, runs::Due::Started(_)))
        .count();
    assert_eq!(started, 1, "{outcomes:?}");
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind = 'stock_sync'")
        .fetch_one(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 1, "one job executes the run");
}

/// A web order: placed in Magento (which reserves it, or on a legacy store deducts it) and
/// sent to b1bridge by webhook.
async fn place(w: &World, increment_id: &str, sku: &str, qty: usize, legacy: bool) {
    if legacy {
        w.magento.deduct_legacy(sku, Decimal::from(qty));
    } else {
        w.magento.reserve(sku, Decimal::from(qty));
    }
    // A real guest order (configurable parent + child line, addresses), re-aimed at `sku`.
    let mut order = sample_order("rest-order-guest-configurable.json");
    order["increment_id"] = json!(increment_id);
    order["entity_id"] = json!(increment_id.parse::<i64>().unwrap());
    for line in order["items"].as_array_mut().unwrap() {
        line["sku"] = json!(sku);
        line["qty_ordered"] = json!(qty);
    }
    let res = w
        .app
        .send_webhook(
            &format!("msg_{increment_id}"),
            &envelope("order.placed", &order),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_scripted_day_keeps_magento_salable_equal_to_sap_available_less_safety_stock() {
    let mut w = World::new().await;
    w.start_workers().await;
    const SKU: &str = "MH01-S-Gray"; // 4 in warehouse 01
    let sync_and_check = |moment: &'static str, safety: Decimal| {
        let w = &w;
        async move {
            let run = w.sync().await;
            assert_eq!(
                run.status,
                RunStatus::Succeeded,
                "{moment}: {:?}",
                run.error
            );
            w.assert_invariant(safety, moment).await;
            run
        }
    };
    sync_and_check("morning", dec!(0)).await;
    assert_eq!(w.magento.salable(SKU), dec!(4));

    // Two orders placed and posted to SAP (Committed 1 + 1).
    place(&w, "000000101", SKU, 1, false).await;
    place(&w, "000000102", SKU, 1, false).await;
    w.order_reaches("000000101", "posted").await;
    w.order_reaches("000000102", "posted").await;
    assert_eq!(w.sap_available(SKU).await, dec!(2));
    let run = sync_and_check("two orders posted", dec!(0)).await;
    assert_eq!(
        w.magento.salable(SKU),
        dec!(2),
        "not 4 − 2 − 2: no double subtraction"
    );
    assert_eq!(run.figures["web_orders_open"], 2);

    // 102 is cancelled: Magento releases its reservation, b1bridge cancels it in SAP.
    w.magento.reserve(SKU, dec!(-1));
    let res = w
        .app
        .send_webhook(
            "msg_cancel_102",
            &envelope("order.cancelled", &json!({"increment_id": "000000102"})),
        )
        .await;
    assert!(res.status().is_success());
    w.order_reaches("000000102", "cancelled").await;
    sync_and_check("after the cancellation", dec!(0)).await;
    assert_eq!(
        w.magento.salable(SKU),
        dec!(3),
        "the stock comes back, no phantom"
    );

    // 101 is delivered in SAP and shipped in Magento.
    let doc = w.doc_entry("000000101").await;
    let res = reqwest::Client::new()
        .post(format!("{}/sim/control/deliveries", w.sap_sim.root_url()))
        .json(&json!({"order_doc_entry": doc}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    w.magento.ship(SKU, "default", dec!(1));
    sync_and_check("after the shipment", dec!(0)).await;
    assert_eq!(w.magento.salable(SKU), dec!(3));

    // A stock receipt in SAP.
    w.set_sap_stock(SKU, "01", 13).await;
    sync_and_check("after a stock receipt", dec!(0)).await;
    assert_eq!(w.magento.salable(SKU), dec!(13));

    // A change in the returns warehouse (not a web warehouse) has no effect.
    let calls = w.magento.calls();
    w.set_sap_stock(SKU, "03", 50).await;
    let run = sync_and_check("after a change in a non-web warehouse", dec!(0)).await;
    assert_eq!(run.figures["magento_requests"], 0);
    assert_eq!(w.magento.calls(), calls);

    // A safety buffer of 2 on every SKU.
    w.set_settings(json!({"safety_stock": 2})).await;
    sync_and_check("with a safety buffer", dec!(2)).await;
    assert_eq!(w.magento.salable(SKU), dec!(11));
    w.stop().await;
}

#[tokio::test]
async fn msi_two_orders_inside_the_lag_window_the_second_cannot_be_sold() {
    let mut w = World::new().await;
    const SKU: &str = "WS12-M-Orange";
    w.set_sap_stock(SKU, "01", 1).await;
    w.sync().await;
    assert_eq!(w.magento.salable(SKU), dec!(1));
    // The first order is placed; b1bridge has it but has not posted it yet; a sync runs.
    place(&w, "000000201", SKU, 1, false).await;
    let run = w.sync().await;
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(
        w.magento.salable(SKU),
        dec!(0),
        "the order not yet in SAP is not sold again"
    );
    // Once posted (SAP commits it), still nothing to sell.
    w.start_workers().await;
    w.order_reaches("000000201", "posted").await;
    w.sync().await;
    assert_eq!(w.magento.salable(SKU), dec!(0));
    w.assert_invariant(dec!(0), "after posting").await;
    w.stop().await;
}

#[tokio::test]
async fn legacy_two_orders_inside_the_lag_window_the_second_cannot_be_sold() {
    let mut w = World::new().await;
    w.set_settings(json!({"stock_mode": "legacy"})).await;
    const SKU: &str = "WS12-M-Orange";
    w.set_sap_stock(SKU, "01", 1).await;
    let run = w.sync().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(w.magento.salable(SKU), dec!(1));
    place(&w, "000000301", SKU, 1, true).await;
    assert_eq!(w.magento.salable(SKU), dec!(0));
    // A sync inside the lag window must not put the sold unit back on sale.
    w.sync().await;
    assert_eq!(w.magento.salable(SKU), dec!(0));
    w.start_workers().await;
    w.order_reaches("000000301", "posted").await;
    w.sync().await;
    assert_eq!(w.magento.salable(SKU), dec!(0));
    w.stop().await;
}

// ---- against the Magento simulator ------------------------------------------------------

use b1bridge::sim::magento::{self as magento_sim, MagentoSimConfig, MagentoSimHandle};

const MAGENTO_TOKEN: &str = "stock-test-token";

/// The Magento simulator and b1bridge's real Magento client as the publisher.
async fn magento_sim() -> (MagentoSimHandle, Arc<dyn StockPublisher>) {
    let sim = magento_sim::spawn(MagentoSimConfig::new(MAGENTO_TOKEN))
        .await
        .unwrap();
    let settings = b1bridge::config::MagentoSettings::from_raw(
        Some(&sim.base_url()),
        Some(&SecretString::from(MAGENTO_TOKEN)),
    )
    .unwrap();
    let publisher = b1bridge::worker::stock_sync::magento_publisher(&settings).unwrap();
    (sim, publisher)
}

async fn sim_salable(sim: &MagentoSimHandle) -> HashMap<String, Decimal> {
    let body: serde_json::Value = reqwest::get(format!("{}/sim/control/salable", sim.root_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["salable"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string().parse::<Decimal>().unwrap()))
        .collect()
}

/// Places an order in the Magento simulator (it reserves the quantity); returns (entity id,
/// order item id).
async fn sim_place(sim: &MagentoSimHandle, sku: &str) -> (i64, i64) {
    let res = reqwest::Client::new()
        .post(format!("{}/sim/control/orders", sim.root_url()))
        .json(&json!({"items": [{"sku": sku, "qty_ordered": 1, "price": 10, "product_type": "simple"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let order: serde_json::Value = res.json().await.unwrap();
    (
        order["entity_id"].as_i64().unwrap(),
        order["items"][0]["item_id"].as_i64().unwrap(),
    )
}

impl World {
    async fn sync_with(&self, publisher: Arc<dyn StockPublisher>) -> Run {
        let task = StockSync::new(self.sap.clone(), publisher);
        run_here(
            &self.db.pool,
            RunKind::StockSync,
            RunTrigger::Cli,
            "test",
            task,
        )
        .await
        .unwrap()
    }

    /// The invariant for every SKU both systems keep.
    async fn assert_invariant_in(&self, sim: &MagentoSimHandle, safety: Decimal, moment: &str) {
        let salable = sim_salable(sim).await;
        let first = self.sap.list_items(None).await.unwrap();
        let mut checked = 0;
        for item in self.sap.collect_pages(first).await.unwrap() {
            // Non-inventory items (downloads, services) keep no stock in SAP; not synced.
            let Some(got) = salable.get(&item.item_code).filter(|_| item.inventory_item) else {
                continue;
            };
            let available: Decimal = item
                .warehouses
                .iter()
                .filter(|w| w.warehouse_code == "01" || w.warehouse_code == "02")
                .map(|w| w.in_stock - w.committed)
                .sum();
            assert_eq!(
                *got,
                (available - safety).max(Decimal::ZERO),
                "{moment}: SKU {}",
                item.item_code
            );
            checked += 1;
        }
        assert!(
            checked >= 5,
            "{moment}: only {checked} SKUs in both systems"
        );
    }
}

#[tokio::test]
async fn a_scripted_day_against_both_simulators() {
    let mut w = World::new().await;
    w.start_workers().await;
    let (sim, publisher) = magento_sim().await;
    const SKU: &str = "MH01-S-Gray"; // 4 in SAP warehouse 01
    let sync = |moment: &'static str, safety: Decimal| {
        let (w, sim, publisher) = (&w, &sim, publisher.clone());
        async move {
            let run = w.sync_with(publisher).await;
            assert_eq!(
                run.status,
                RunStatus::Succeeded,
                "{moment}: {:?}",
                run.error
            );
            w.assert_invariant_in(sim, safety, moment).await;
            run
        }
    };
    let run = sync("morning", dec!(0)).await;
    assert!(
        fig(&run, "rejected") > 0,
        "SAP items Magento does not sell are refused and reported"
    );

    // Two web orders: placed in Magento (reserved), received by b1bridge, posted to SAP.
    let (a, a_item) = sim_place(&sim, SKU).await;
    let (b, _) = sim_place(&sim, SKU).await;
    place_in_b1bridge(&w, "000000401", SKU).await;
    place_in_b1bridge(&w, "000000402", SKU).await;
    w.order_reaches("000000401", "posted").await;
    w.order_reaches("000000402", "posted").await;
    sync("two orders posted", dec!(0)).await;
    assert_eq!(sim_salable(&sim).await[SKU], dec!(2));

    // 402 is cancelled in Magento and then in SAP.
    let res = reqwest::Client::new()
        .post(format!("{}/sim/control/orders/{b}/cancel", sim.root_url()))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    w.app
        .send_webhook(
            "msg_cancel_402",
            &envelope("order.cancelled", &json!({"increment_id": "000000402"})),
        )
        .await;
    w.order_reaches("000000402", "cancelled").await;
    sync("after the cancellation", dec!(0)).await;
    assert_eq!(
        sim_salable(&sim).await[SKU],
        dec!(3),
        "no phantom, nothing hidden"
    );

    // 401 is delivered in SAP and shipped in Magento.
    let doc = w.doc_entry("000000401").await;
    let res = reqwest::Client::new()
        .post(format!("{}/sim/control/deliveries", w.sap_sim.root_url()))
        .json(&json!({"order_doc_entry": doc}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let res = reqwest::Client::new()
        .post(format!(
            "{}/V1/order/{a}/ship",
            sim.base_url().trim_end_matches('/')
        ))
        .bearer_auth(MAGENTO_TOKEN)
        .json(&json!({"items": [{"order_item_id": a_item, "qty": 1}]}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    sync("after the shipment", dec!(0)).await;

    w.set_sap_stock(SKU, "01", 13).await;
    sync("after a stock receipt", dec!(0)).await;
    assert_eq!(sim_salable(&sim).await[SKU], dec!(13));

    w.set_sap_stock(SKU, "03", 50).await;
    let run = sync("after a change in a non-web warehouse", dec!(0)).await;
    assert_eq!(fig(&run, "magento_requests"), 0);

    w.set_settings(json!({"safety_stock": 2})).await;
    sync("with a safety buffer", dec!(2)).await;
    assert_eq!(sim_salable(&sim).await[SKU], dec!(11));
    w.stop().await;
}

/// The webhook of a web order for one unit of `sku` (a real guest order, re-aimed).
async fn place_in_b1bridge(w: &World, increment_id: &str, sku: &str) {
    let mut order = sample_order("rest-order-guest-configurable.json");
    order["increment_id"] = json!(increment_id);
    order["entity_id"] = json!(increment_id.parse::<i64>().unwrap());
    for line in order["items"].as_array_mut().unwrap() {
        line["sku"] = json!(sku);
    }
    let res = w
        .app
        .send_webhook(
            &format!("msg_{increment_id}"),
            &envelope("order.placed", &order),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
}
