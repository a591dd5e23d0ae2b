//! The price sync against the SAP B1 simulator (price lists, a factor list, a gross list,
//! special prices) and the Magento simulator (partial success, special-price date
//! validation), through the real SAP and Magento clients. A recording wrapper around the
//! Magento publisher counts the calls and keeps what each carried.
use b1bridge::config::{MagentoSettings, SapSettings};
use b1bridge::domain::prices::PriceRoute;
use b1bridge::domain::run::{RunKind, RunStatus, RunTrigger};
use b1bridge::domain::settings::Settings;
use b1bridge::magento::types::PriceRowError;
use b1bridge::magento::MagentoClient;
use b1bridge::sap::SapClient;
use b1bridge::sim::{magento, sap_b1};
use b1bridge::store::runs::Run;
use b1bridge::worker::price_sync::ports::{PriceCall, PricePublisher, PushError};
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
    fn publish<'a>(
        &'a self,
        call: PriceCall<'a>,
    ) -> BoxFuture<'a, Result<Vec<PriceRowError>, PushError>> {
        self.calls
            .inner
            .lock()
            .unwrap()
            .push((call.name(), call.rows()));
        self.magento.publish(call)
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
    magento_sim: magento::MagentoSimHandle,
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn sap_seed() -> serde_json::Value {
    let mut seed: serde_json::Value =
        serde_json::from_str(include_str!("../../src/sim/sap_b1/default_seed.json")).unwrap();
    let item = |code: &str, price: f64, vat: Option<&str>| {
        json!({"ItemCode": code, "ItemName": code, "SalesVATGroup": vat,
               "ItemPrices": [{"PriceList": 1, "Price": price, "Currency": "USD"},
                              {"PriceList": 3, "Price": price * 1.2, "Currency": "USD"}]})
    };
    seed["items"] = json!([
        item("P-A", 100.0, Some("O1")),
        // No sales VAT group: its gross price cannot be converted.
        item("P-B", 50.0, None),
        item("P-C", 19.99, Some("O1")),
        item("P-NOPE", 30.0, Some("O2"))
    ]);
    seed["vat_groups"] = json!([
        {"Code": "O1", "Name": "Output standard rate", "Category": "bovcOutputTax",
         "VatGroups_Lines": [{"Effectivefrom": "2011-01-04", "Rate": 20}]},
        {"Code": "O2", "Name": "Output reduced rate", "Category": "bovcOutputTax",
         "VatGroups_Lines": [{"Effectivefrom": "2011-01-04", "Rate": 5}]},
        {"Code": "I1", "Name": "Input standard rate", "Category": "bovcInputTax",
         "VatGroups_Lines": [{"Effectivefrom": "2011-01-04", "Rate": 20}]}
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
             "Discount": 20, "SpecialPrice": 40, "PriceCurrency": "USD",
             "SpecialPriceQuantityAreas": [
                {"Quantity": 10, "SpecialPrice": 36, "Discountin": 28, "PriceCurrency": "USD"},
                {"Quantity": 50, "SpecialPrice": 32, "Discountin": 36, "PriceCurrency": "USD"}]}]},
        // A special price for one customer: not the shop's.
        {"ItemCode": "P-C", "CardCode": "C20000", "PriceListNum": 1,
         "SpecialPriceDataAreas": [
            {"PriceListNo": 1, "DateFrom": from.to_string(), "Dateto": to.to_string(),
             "Discount": 50, "SpecialPrice": 10, "PriceCurrency": "USD"}]}
    ]);
    seed
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
        Self::new_with(route_list, |_| {}).await
    }

    /// A world whose SAP seed is first changed by `tweak`.
    async fn new_with(route_list: i64, tweak: impl FnOnce(&mut serde_json::Value)) -> Self {
        let db = TestDb::new().await;
        let mut seed = sap_seed();
        tweak(&mut seed);
        let sap_sim = sap_b1::spawn(sap_b1::SapSimConfig {
            seed: serde_json::from_value(seed).unwrap(),
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
            magento_sim,
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

    /// A change made in the B1 client through the simulator's control endpoints.
    async fn sap_control(&self, what: &str, body: serde_json::Value) {
        let res = reqwest::Client::new()
            .post(format!("{}/sim/control/{what}", self.sap_sim.root_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }

    fn inner_calls(&self) -> Vec<(&'static str, serde_json::Value)> {
        self.calls_since(0)
    }

    fn calls_since(&self, n: usize) -> Vec<(&'static str, serde_json::Value)> {
        self.calls.inner.lock().unwrap()[n..].to_vec()
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

#[tokio::test]
async fn an_unsellable_item_disables_its_product_once_and_a_sellable_one_enables_it_again() {
    let w = World::new(1).await;
    w.configure(|s| s.price_sellability = true).await;
    let first = w.run().await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    assert_eq!(figures(&first)["status_changes"], json!(0), "all sellable");
    let status = |sku: &str| w.magento_sim.state().product_status(sku);
    assert_eq!(status("P-A"), Some(1));

    // Frozen in SAP: disabled in Magento, once.
    w.sap_control("items", json!({"ItemCode": "P-A", "Frozen": "tYES"}))
        .await;
    // Frozen only from next week, and a valid-for period that runs today: still sellable.
    let day = |n: i64| (today() + chrono::Duration::days(n)).to_string();
    w.sap_control(
        "items",
        json!({"ItemCode": "P-B", "Frozen": "tYES", "FrozenFrom": day(7), "FrozenTo": day(9),
               "ValidFrom": day(-3)}),
    )
    .await;
    // Not a sales item, but Magento refused its price (it has no such product): a status
    // update would create one, so it is only reported.
    w.sap_control("items", json!({"ItemCode": "P-NOPE", "SalesItem": "tNO"}))
        .await;
    let n = w.calls.count();
    let second = w.run().await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!(
        w.calls_since(n),
        vec![("status", json!([{"sku": "P-A", "status": 2}]))]
    );
    assert_eq!(figures(&second)["statuses"], json!(1));
    assert_eq!(status("P-A"), Some(2));
    assert_eq!(status("P-B"), Some(1));
    assert!(
        second.figures["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w
                .as_str()
                .unwrap()
                .contains("1 SKUs that SAP would not sell")),
        "{}",
        second.figures
    );

    let n = w.calls.count();
    let third = w.run().await;
    assert_eq!(w.calls.count(), n, "no change: no call");
    assert_eq!(figures(&third)["status_changes"], json!(0));

    // Valid-for dates that ended yesterday also make P-C unsellable; P-A is active again.
    w.sap_control("items", json!({"ItemCode": "P-C", "ValidTo": day(-1)}))
        .await;
    w.sap_control("items", json!({"ItemCode": "P-A"})).await;
    let n = w.calls.count();
    let fourth = w.run().await;
    assert_eq!(fourth.status, RunStatus::Succeeded, "{:?}", fourth.error);
    let mut calls = w.calls_since(n);
    calls.sort_by_key(|c| c.1.to_string());
    assert_eq!(
        calls,
        vec![
            ("status", json!([{"sku": "P-A", "status": 1}])),
            ("status", json!([{"sku": "P-C", "status": 2}])),
        ]
    );
    assert_eq!((status("P-A"), status("P-C")), (Some(1), Some(2)));
}

#[tokio::test]
async fn sellability_is_off_by_default() {
    let w = World::new(1).await;
    w.run().await;
    w.sap_control("items", json!({"ItemCode": "P-A", "Valid": "tNO"}))
        .await;
    let n = w.calls.count();
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(w.calls.count(), n);
    assert_eq!(w.magento_sim.state().product_status("P-A"), Some(1));
}

#[tokio::test]
async fn a_gross_list_is_converted_by_the_items_vat_rate_when_the_settings_allow_it() {
    let w = World::new(3).await;
    w.configure(|s| s.price_tax_conversion = true).await;
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    // 120 and 23.988 gross at 20 % (VAT group O1) → 100 and 19.99 net.
    assert_eq!(w.shop_price("P-A").await, dec!(100));
    assert_eq!(w.shop_price("P-C").await, dec!(19.99));
    // P-B has no sales VAT group: not converted, not published, reported.
    assert_eq!(figures(&run)["no_tax_rate"], json!(1));
    assert!(run.figures["warnings"]
        .to_string()
        .contains("SalesVATGroup"));
    let (_, rows) = w.calls.last();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["sku"] != json!("P-B")),
        "{rows}"
    );
    // P-NOPE: 36 gross at 5 % (O2) → 34.2857… → 34.29.
    assert!(rows
        .as_array()
        .unwrap()
        .contains(&json!({"sku": "P-NOPE", "price": 34.29, "store_id": 0})));
}

#[tokio::test]
async fn conversion_is_refused_in_a_company_without_vat_groups() {
    // The same catalogue in a sales-tax company: no VAT group, so no rate per item.
    let none = World::new_with(3, |seed| seed["vat_groups"] = json!([])).await;
    none.configure(|s| s.price_tax_conversion = true).await;
    let run = none.run().await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.error.unwrap().contains("sales-tax company"));
    assert_eq!(none.calls.count(), 0);
}

#[tokio::test]
async fn special_prices_that_end_or_are_removed_in_sap_are_deleted_in_magento() {
    let w = World::new(1).await;
    w.configure(|s| s.special_prices_card_code = Some("*1".into()))
        .await;
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let specials = || w.magento_sim.state().special_prices("P-B");
    assert_eq!(specials().len(), 1);
    let old_to = today() + chrono::Duration::days(10);

    // A new period replaces the old one: the new window is saved, the old one removed.
    let from = today();
    let to = today() + chrono::Duration::days(20);
    let period = |price: i64| {
        json!({"ItemCode": "P-B", "CardCode": "*1", "PriceListNum": 1,
               "SpecialPriceDataAreas": [
                  {"PriceListNo": 1, "DateFrom": from.to_string(), "Dateto": to.to_string(),
                   "Discount": 16, "SpecialPrice": price, "PriceCurrency": "USD"}]})
    };
    w.sap_control(
        "special-prices",
        json!({"card_code": "*1", "item_code": "P-B", "special_price": period(42)}),
    )
    .await;
    let n = w.calls.count();
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let calls = w.calls_since(n);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].0, "special");
    assert_eq!(calls[1].0, "special_delete");
    assert_eq!(
        calls[1].1[0]["price_to"],
        json!(format!("{old_to} 23:59:59"))
    );
    let now = specials();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0]["price_to"], json!(format!("{to} 23:59:59")));

    // Removed in SAP: removed from Magento, once.
    w.sap_control(
        "special-prices",
        json!({"card_code": "*1", "item_code": "P-B", "special_price": null}),
    )
    .await;
    let n = w.calls.count();
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(figures(&run)["special_deleted"], json!(1));
    let calls = w.calls_since(n);
    assert_eq!(
        calls,
        vec![(
            "special_delete",
            json!([{"sku": "P-B", "price": 42, "store_id": 0,
                    "price_from": format!("{from} 00:00:00"),
                    "price_to": format!("{to} 23:59:59")}])
        )]
    );
    assert!(specials().is_empty());
    let n = w.calls.count();
    w.run().await;
    assert_eq!(w.calls.count(), n, "nothing left to remove");

    // A period that has ended is removed the same way.
    let ended = json!({"ItemCode": "P-B", "CardCode": "*1", "PriceListNum": 1,
        "SpecialPriceDataAreas": [
           {"PriceListNo": 1, "DateFrom": (today() - chrono::Duration::days(9)).to_string(),
            "Dateto": (today() - chrono::Duration::days(1)).to_string(),
            "Discount": 10, "SpecialPrice": 45, "PriceCurrency": "USD"}]});
    w.sap_control(
        "special-prices",
        json!({"card_code": "*1", "item_code": "P-B", "special_price": period(41)}),
    )
    .await;
    w.run().await;
    assert_eq!(specials().len(), 1);
    w.sap_control(
        "special-prices",
        json!({"card_code": "*1", "item_code": "P-B", "special_price": ended}),
    )
    .await;
    let run = w.run().await;
    assert_eq!(figures(&run)["special_deleted"], json!(1));
    assert!(specials().is_empty());
}

#[tokio::test]
async fn volume_discounts_become_tier_prices_for_all_groups_as_deltas() {
    let w = World::new(1).await;
    w.configure(|s| {
        s.special_prices_card_code = Some("*1".into());
        s.price_tier_prices = true;
    })
    .await;
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let tier = |qty: i64, price: i64| {
        json!({"sku": "P-B", "price": price, "price_type": "fixed", "website_id": 0,
               "customer_group": "ALL GROUPS", "quantity": qty})
    };
    let calls = w.inner_calls();
    let tiers: Vec<_> = calls.iter().filter(|c| c.0 == "tier").collect();
    assert_eq!(tiers.len(), 1, "{calls:?}");
    assert_eq!(tiers[0].1, json!([tier(10, 36), tier(50, 32)]));
    assert_eq!(figures(&run)["tiers"], json!(2));
    let shop = || w.magento_sim.state().tier_prices("P-B");
    assert_eq!(shop().len(), 2);

    let n = w.calls.count();
    w.run().await;
    assert_eq!(w.calls.count(), n, "no change: no call");

    // The 10-piece price changes and the 50-piece row is removed in SAP.
    let from = today() - chrono::Duration::days(1);
    let to = today() + chrono::Duration::days(10);
    w.sap_control(
        "special-prices",
        json!({"card_code": "*1", "item_code": "P-B", "special_price": {
            "ItemCode": "P-B", "CardCode": "*1", "PriceListNum": 1,
            "SpecialPriceDataAreas": [
               {"PriceListNo": 1, "DateFrom": from.to_string(), "Dateto": to.to_string(),
                "Discount": 20, "SpecialPrice": 40, "PriceCurrency": "USD",
                "SpecialPriceQuantityAreas": [
                   {"Quantity": 10, "SpecialPrice": 35, "PriceCurrency": "USD"}]}]}}),
    )
    .await;
    let n = w.calls.count();
    let run = w.run().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(
        w.calls_since(n),
        vec![
            ("tier", json!([tier(10, 35)])),
            ("tier_delete", json!([tier(50, 32)])),
        ]
    );
    let now = shop();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0]["price"], json!(35));

    // The special price is removed in SAP: its tiers go with it.
    w.sap_control(
        "special-prices",
        json!({"card_code": "*1", "item_code": "P-B", "special_price": null}),
    )
    .await;
    let run = w.run().await;
    assert_eq!(figures(&run)["tiers_deleted"], json!(1));
    assert!(shop().is_empty());
    assert!(w.magento_sim.state().special_prices("P-B").is_empty());
}
