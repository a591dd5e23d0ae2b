//! The price sync against the SAP B1 simulator (price lists, a factor list, a gross list,
//! special prices) and the Magento simulator (partial success, special-price date
//! validation), through the real SAP and Magento clients. A recording wrapper around the
//! Magento publisher counts the calls and keeps what each carried.
use b1bridge::config::{MagentoSettings, SapSettings};
use b1bridge::domain::prices::PriceRoute;
use b1bridge::domain::run::{RunKind, RunStatus, RunTrigger};
use b1bridge::domain::settings::Settings;
use b1bridge::magento::types::{BasePrice, PriceRowError, SpecialPrice};
use b1bridge::magento::MagentoClient;
use b1bridge::sap::SapClient;
use b1bridge::sim::{magento, sap_b1};
use b1bridge::store::runs::Run;
use b1bridge::worker::price_sync::ports::{PricePublisher, PushError};
use b1bridge::worker::price_sync::{PriceSync, PriceSyncOptions};
use b1bridge::worker::run_job::run_here;
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use secrecy::SecretString;
use serde_json::json;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

use crate::support::TestDb;

const TOKEN: &str = "price-test-token";

/// Every call the sync made to Magento: `(endpoint, rows)`.
#[derive(Clone, Default)]
struct Recorder {
    inner: Arc<Mutex<Vec<(&'static str, serde_json::Value)>>>,
}

struct Recording {
    magento: Arc<dyn PricePublisher>,
    calls: Recorder,
}

impl PricePublisher for Recording {
    fn base_prices<'a>(
        &'a self,
        rows: &'a [BasePrice],
    ) -> BoxFuture<'a, Result<Vec<PriceRowError>, PushError>> {
        self.calls
            .inner
            .lock()
            .unwrap()
            .push(("base", serde_json::to_value(rows).unwrap()));
        self.magento.base_prices(rows)
    }

    fn special_prices<'a>(
        &'a self,
        rows: &'a [SpecialPrice],
    ) -> BoxFuture<'a, Result<Vec<PriceRowError>, PushError>> {
        self.calls
            .inner
            .lock()
            .unwrap()
            .push(("special", serde_json::to_value(rows).unwrap()));
        self.magento.special_prices(rows)
    }
}

impl Recorder {
    fn count(&self) -> usize {
        self.inner.lock().unwrap().len()
    }
    fn last(&self) -> (&'static str, serde_json::Value) {
        self.inner.lock().unwrap().last().cloned().unwrap()
    }
}

struct World {
    db: TestDb,
    sap_sim: sap_b1::SapSimHandle,
    sap: SapClient,
    shop: MagentoClient,
    calls: Recorder,
    sync: PriceSync,
    magento_url: String,
    _magento_sim: magento::MagentoSimHandle,
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn sap_seed() -> sap_b1::Seed {
    let mut seed: serde_json::Value =
        serde_json::from_str(include_str!("../../src/sim/sap_b1/default_seed.json")).unwrap();
    let item = |code: &str, price: f64| {
        json!({"ItemCode": code, "ItemName": code,
               "ItemPrices": [{"PriceList": 1, "Price": price, "Currency": "USD"},
                              {"PriceList": 3, "Price": price * 1.2, "Currency": "USD"}]})
    };
    seed["items"] = json!([
        item("P-A", 100.0),
        item("P-B", 50.0),
        item("P-C", 19.99),
        item("P-NOPE", 30.0)
    ]);
    seed["price_lists"] = json!([
        {"PriceListNo": 1, "PriceListName": "Base", "BasePriceList": 1, "Factor": 1,
         "IsGrossPrice": "tNO", "DefaultPrimeCurrency": "USD"},
        {"PriceListNo": 2, "PriceListName": "Web 85.5 %", "BasePriceList": 1, "Factor": 0.855,
         "IsGrossPrice": "tNO", "DefaultPrimeCurrency": "USD"},
        {"PriceListNo": 3, "PriceListName": "Gross", "BasePriceList": 3, "Factor": 1,
         "IsGrossPrice": "tYES", "DefaultPrimeCurrency": "USD"}
    ]);
    let from = today() - chrono::Duration::days(1);
    let to = today() + chrono::Duration::days(10);
    seed["special_prices"] = json!([
        {"ItemCode": "P-B", "CardCode": "*1", "PriceListNum": 1,
         "SpecialPriceDataAreas": [
            {"PriceListNo": 1, "DateFrom": from.to_string(), "Dateto": to.to_string(),
             "Discount": 20, "SpecialPrice": 40, "PriceCurrency": "USD"}]},
        // A special price for one customer: not the shop's.
        {"ItemCode": "P-C", "CardCode": "C20000", "PriceListNum": 1,
         "SpecialPriceDataAreas": [
            {"PriceListNo": 1, "DateFrom": from.to_string(), "Dateto": to.to_string(),
             "Discount": 50, "SpecialPrice": 10, "PriceCurrency": "USD"}]}
    ]);
    serde_json::from_value(seed).unwrap()
}

fn shop_seed() -> magento::Seed {
    let mut seed = magento::Seed::default_seed();
    seed.products = ["P-A", "P-B", "P-C"]
        .iter()
        .enumerate()
        .map(|(i, sku)| {
            serde_json::from_value(json!({"id": 9000 + i, "sku": sku, "price": 1})).unwrap()
        })
        .collect();
    seed.source_items.clear();
    seed.orders.clear();
    seed
}

impl World {
    async fn new(route_list: i64) -> Self {
        let db = TestDb::new().await;
        let sap_sim = sap_b1::spawn(sap_b1::SapSimConfig {
            seed: sap_seed(),
            ..Default::default()
        })
        .await
        .unwrap();
        let sap = SapClient::new(
            &SapSettings::from_raw(
                Some(&sap_sim.base_url()),
                Some("SBODEMOGB"),
                Some("manager"),
                Some(&SecretString::from("1234")),
                None,
                None,
            )
            .unwrap(),
        )
        .unwrap();
        let magento_sim =
            magento::spawn(magento::MagentoSimConfig::new(TOKEN).with_seed(shop_seed()))
                .await
                .unwrap();
        let magento_settings = MagentoSettings::from_raw(
            Some(&magento_sim.base_url()),
            Some(&SecretString::from(TOKEN)),
        )
        .unwrap();
        let shop = MagentoClient::new(&magento_settings).unwrap();
        let calls = Recorder::default();
        let publisher = Recording {
            magento: b1bridge::worker::price_sync::magento_publisher(&magento_settings).unwrap(),
            calls: calls.clone(),
        };
        let sync = PriceSync::new(Arc::new(sap.clone()), Arc::new(publisher));
        let w = Self {
            db,
            sap_sim,
            sap,
            shop,
            calls,
            sync,
            magento_url: magento_sim.base_url(),
            _magento_sim: magento_sim,
        };
        w.configure(|s| {
            s.price_routes = vec![PriceRoute {
                price_list: route_list,
                store_id: 0,
                currency: "USD".into(),
            }]
        })
        .await;
        w
    }

    async fn configure(&self, change: impl FnOnce(&mut Settings)) {
        let mut settings = b1bridge::store::settings::current(&self.db.pool)
            .await
            .unwrap()
            .settings;
        change(&mut settings);
        b1bridge::store::settings::replace(&self.db.pool, &settings, "test")
            .await
            .unwrap();
    }

    async fn run(&self) -> Run {
        run_here(
            &self.db.pool,
            RunKind::PriceSync,
            RunTrigger::Cli,
            "test",
            self.sync.clone(),
        )
        .await
        .unwrap()
    }

    async fn shop_price(&self, sku: &str) -> Decimal {
        let rows = self.shop.base_prices(&[sku.to_owned()]).await.unwrap();
        rows.iter().find(|r| r.store_id == 0).unwrap().price
    }

    async fn set_sap_price(&self, item: &str, list: i64, price: Decimal) {
        let res = reqwest::Client::new()
            .post(format!("{}/sim/control/prices", self.sap_sim.root_url()))
            .json(&json!({"item_code": item, "price_list": list, "price": price}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }

    async fn exceptions(&self) -> Vec<(String, String, serde_json::Value)> {
        sqlx::query_as(
            "SELECT category, title, context FROM exceptions ORDER BY first_seen_at, title",
        )
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }
}

fn figures(run: &Run) -> &serde_json::Value {
    &run.figures
}

#[tokio::test]
async fn a_price_change_reaches_magento_once_and_no_change_makes_no_call() {
    let w = World::new(1).await;
    let first = w.run().await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    assert_eq!(w.calls.count(), 1, "four prices fit one batch");
    assert_eq!(w.shop_price("P-A").await, dec!(100));
    assert_eq!(w.shop_price("P-C").await, dec!(19.99));

    w.set_sap_price("P-A", 1, dec!(104.5)).await;
    let second = w.run().await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!(figures(&second)["full"], json!(false));
    assert_eq!(w.calls.count(), 2, "one call for the one change");
    let (endpoint, rows) = w.calls.last();
    assert_eq!(endpoint, "base");
    assert_eq!(rows, json!([{"sku": "P-A", "price": 104.5, "store_id": 0}]));
    assert_eq!(w.shop_price("P-A").await, dec!(104.5));

    let third = w.run().await;
    assert_eq!(third.status, RunStatus::Succeeded);
    assert_eq!(w.calls.count(), 2, "nothing changed: no call");
    assert_eq!(figures(&third)["changed"], json!(0));
    assert_eq!(figures(&third)["magento_requests"], json!(0));
    w.sap.logout().await.ok();
}

#[tokio::test]
async fn a_bad_sku_is_isolated_as_price_rejected_with_magentos_message() {
    let w = World::new(1).await;
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(figures(&run)["pushed"], json!(3));
    assert_eq!(figures(&run)["rejected"], json!(1));
    // The good rows of the same request were saved.
    assert_eq!(w.shop_price("P-B").await, dec!(50));
    let exceptions = w.exceptions().await;
    assert_eq!(exceptions.len(), 1, "{exceptions:?}");
    let (category, title, context) = &exceptions[0];
    assert_eq!(category, "price_rejected");
    assert!(title.contains("P-NOPE"), "{title}");
    assert_eq!(
        context["magento_message"],
        json!("Invalid attribute SKU = P-NOPE.")
    );
    // A refused price is not offered again until it changes.
    let again = w.run().await;
    assert_eq!(figures(&again)["magento_requests"], json!(0));
}

#[tokio::test]
async fn a_factor_list_gives_the_factor_price() {
    let w = World::new(2).await;
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    // 100 × 0.855 and 19.99 × 0.855 = 17.09145 → 17.09, as SAP stores them.
    assert_eq!(w.shop_price("P-A").await, dec!(85.5));
    assert_eq!(w.shop_price("P-C").await, dec!(17.09));
    // The base price moves; the factor list follows.
    w.set_sap_price("P-A", 1, dec!(120)).await;
    w.run().await;
    assert_eq!(w.shop_price("P-A").await, dec!(102.6));
}

#[tokio::test]
async fn a_gross_list_for_a_net_catalogue_is_refused() {
    let w = World::new(3).await;
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.unwrap();
    assert!(error.contains("price list 3 is gross"), "{error}");
    assert!(error.contains("catalog_prices_include_tax"), "{error}");
    assert_eq!(w.calls.count(), 0);
    // Once the store is said to include tax, the same list is published.
    w.configure(|s| s.catalog_prices_include_tax = true).await;
    assert_eq!(w.run().await.status, RunStatus::Succeeded);
    assert_eq!(w.shop_price("P-A").await, dec!(120));
}

#[tokio::test]
async fn a_ninety_percent_drop_is_held_shown_by_the_dry_run_and_released_on_request() {
    let w = World::new(1).await;
    w.run().await;
    w.set_sap_price("P-A", 1, dec!(10)).await;

    let (plan, result) = w
        .sync
        .sync(
            &w.db.pool,
            Uuid::nil(),
            PriceSyncOptions {
                dry_run: true,
                ..Default::default()
            },
        )
        .await;
    result.unwrap();
    assert_eq!(plan.held, 1);
    let line = plan.plan.iter().find(|p| p.sku == "P-A").unwrap();
    assert_eq!((line.from, line.to), (Some(dec!(100)), dec!(10)));
    assert!(line.held.as_deref().unwrap().contains("90%"), "{line:?}");

    let calls = w.calls.count();
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(figures(&run)["held"], json!(1));
    assert_eq!(w.calls.count(), calls, "nothing published");
    assert_eq!(w.shop_price("P-A").await, dec!(100));
    let exceptions = w.exceptions().await;
    let held = exceptions
        .iter()
        .find(|(c, t, _)| c == "price_rejected" && t.contains("P-A"))
        .expect("a held exception for P-A");
    assert!(held.1.contains("held"), "{}", held.1);

    // An operator confirms the change.
    let (_, result) = w
        .sync
        .sync(
            &w.db.pool,
            Uuid::new_v4(),
            PriceSyncOptions {
                release_held: true,
                force_full: true,
                ..Default::default()
            },
        )
        .await;
    result.unwrap();
    assert_eq!(w.shop_price("P-A").await, dec!(10));
}

#[tokio::test]
async fn special_prices_arrive_with_dates_in_magentos_format() {
    let w = World::new(1).await;
    let run = w.run().await;
    assert!(run.figures["warnings"][0]
        .as_str()
        .unwrap()
        .contains("special_prices_card_code"));
    w.configure(|s| s.special_prices_card_code = Some("*1".into()))
        .await;
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(figures(&run)["special_prices"], json!(1));
    let (endpoint, rows) = w.calls.last();
    assert_eq!(endpoint, "special");
    let from = today() - chrono::Duration::days(1);
    let to = today() + chrono::Duration::days(10);
    assert_eq!(
        rows,
        json!([{"sku": "P-B", "price": 40, "store_id": 0,
                "price_from": format!("{from} 00:00:00"), "price_to": format!("{to} 23:59:59")}])
    );
    // Magento's validation (exactly `Y-m-d H:i:s`) accepted it: nothing refused.
    assert_eq!(figures(&run)["rejected"], json!(0));
    assert!(w
        .exceptions()
        .await
        .iter()
        .all(|(_, t, _)| !t.contains("special")));
}

/// `b1bridge prices sync` as a user runs it: the real binary against both simulators.
async fn prices_cli(w: &World, magento_url: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_b1bridge"));
    cmd.args(["prices", "sync"])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &w.db.url)
        .env("SAP_B1_URL", w.sap_sim.base_url())
        .env("SAP_B1_COMPANY_DB", "SBODEMOGB")
        .env("SAP_B1_USERNAME", "manager")
        .env("SAP_B1_PASSWORD", "1234");
    if let Some(url) = magento_url {
        cmd.env("MAGENTO_URL", url).env("MAGENTO_TOKEN", TOKEN);
    }
    cmd.output().await.expect("the binary runs")
}

#[tokio::test]
async fn the_cli_dry_run_prints_old_and_new_prices_and_what_would_be_held() {
    let w = World::new(1).await;
    w.run().await;
    w.set_sap_price("P-A", 1, dec!(10)).await;
    w.set_sap_price("P-B", 1, dec!(55)).await;
    let out = prices_cli(&w, None, &["--dry-run"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("P-B  store 0 base: 50 → 55\n"), "{stdout}");
    assert!(
        stdout.contains("P-A  store 0 base: 100 → 10  HELD: the price changes by 90%"),
        "{stdout}"
    );
    assert!(
        stdout.contains("would publish 1, would hold 1 (dry run"),
        "{stdout}"
    );
    assert_eq!(
        w.shop_price("P-B").await,
        dec!(50),
        "a dry run changes nothing"
    );

    let out = prices_cli(&w, Some(&w.magento_url), &[]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(w.shop_price("P-B").await, dec!(55));
    assert_eq!(w.shop_price("P-A").await, dec!(100), "held");
    let run = b1bridge::store::runs::list(&w.db.pool, Some(RunKind::PriceSync), None, 1)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(run.trigger, RunTrigger::Cli);
    assert_eq!(run.figures["held"], json!(1));
}
