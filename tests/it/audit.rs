//! The go-live audit against the SAP B1 and Magento simulators: each check finds its problem
//! in a seed that has it and nothing in one that does not; the dry run finds an order whose
//! VAT SAP rounds differently; and the audit writes nothing (the simulators' counters show
//! reads only).
use b1bridge::config::{MagentoSettings, SapSettings};
use b1bridge::domain::audit::{AuditReport, Check, Finding, Severity};
use b1bridge::domain::mappings::MappingKind;
use b1bridge::domain::run::RunKind;
use b1bridge::domain::settings::{Settings, TaxStrategy};
use b1bridge::magento::MagentoClient;
use b1bridge::sap::SapClient;
use b1bridge::sim::magento::{
    self as magento_sim, MagentoSimConfig, MagentoSimHandle, SeedProduct, SeedSourceItem,
};
use b1bridge::sim::sap_b1::{
    self as sap_sim, ApprovalProcedure, BusinessPartner, PeriodStatus, PostingPeriod, SapSimConfig,
    SapSimHandle, Seed, VatGroup, VatGroupLine, YesNo,
};
use b1bridge::worker::audit::Audit;
use chrono::{Days, Utc};
use rust_decimal_macros::dec;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::sync::Arc;

use crate::support::{configure_simulator_mappings, sample_order, spawn_app, TestDb};

const TOKEN: &str = "audit-test-token";

/// SKUs of the default SAP seed that are sellable, plus what the two sample orders sell.
const GOOD_SKUS: &[&str] = &[
    "MH09-XS-Blue",
    "RACER",
    "WP13-28-Blue",
    "MH01-S-Gray",
    "240-LV08",
    "24-WG084",
];

struct World {
    sap: SapSimHandle,
    magento: MagentoSimHandle,
    db: TestDb,
}

/// A store that sells what SAP has, charges Michigan tax, and took two orders that post to
/// the cent: a registered customer's taxed order and a guest's untaxed one.
fn clean_store() -> magento_sim::Seed {
    let mut seed = magento_sim::Seed::empty();
    for (i, sku) in GOOD_SKUS.iter().enumerate() {
        seed.products.push(SeedProduct::simple(i as i64 + 1, *sku));
        seed.source_items.push(SeedSourceItem {
            sku: sku.to_string(),
            source_code: "default".into(),
            quantity: dec!(100),
            status: 1,
        });
    }
    seed.tax_rates = vec![json!({"id": 1, "tax_country_id": "US", "tax_region_id": 33,
        "tax_postcode": "*", "rate": 8.25, "code": "US-MI-*-Rate 1"})];
    seed.orders = vec![
        sample_order("rest-order-registered-configurable-multiitem-tax.json"),
        sample_order("rest-order-guest-configurable.json"),
    ];
    seed
}

async fn world(sap_seed: Seed, store: magento_sim::Seed) -> World {
    let sap = sap_sim::spawn(SapSimConfig {
        seed: sap_seed,
        ..SapSimConfig::default()
    })
    .await
    .expect("SAP simulator starts");
    let magento = magento_sim::spawn(MagentoSimConfig::new(TOKEN).with_seed(store))
        .await
        .expect("Magento simulator starts");
    let db = TestDb::new().await;
    configure_simulator_mappings(&db.pool).await;
    World { sap, magento, db }
}

impl World {
    fn audit(&self, orders: u32) -> Audit {
        let sap = SapSettings::from_raw(
            Some(&self.sap.base_url()),
            Some("SBODEMOGB"),
            Some("manager"),
            Some(&SecretString::from("1234".to_owned())),
            None,
            Some("4"),
        )
        .unwrap();
        let magento = MagentoSettings::from_raw(
            Some(&self.magento.base_url()),
            Some(&SecretString::from(TOKEN.to_owned())),
        )
        .unwrap();
        Audit::new(
            SapClient::new(&sap).unwrap(),
            Arc::new(MagentoClient::new(&magento).unwrap()),
        )
        .with_orders(orders)
    }

    async fn run(&self) -> AuditReport {
        self.audit(20)
            .run(&self.db.pool)
            .await
            .expect("the audit runs")
    }

    async fn settings(&self, change: impl FnOnce(&mut Settings)) {
        let mut s = Settings::default();
        change(&mut s);
        b1bridge::store::settings::replace(&self.db.pool, &s, "test")
            .await
            .unwrap();
    }

    async fn map(&self, kind: &str, key: &str, value: Value) {
        let kind = MappingKind::parse(kind).unwrap();
        let value = kind.parse_value(&value).unwrap();
        b1bridge::store::mappings::upsert(&self.db.pool, key, &value, "test")
            .await
            .unwrap();
    }
}

fn of(report: &AuditReport, check: Check, severity: Severity) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.check == check && f.severity == severity)
        .collect()
}

fn problems(report: &AuditReport, check: Check) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.check == check && f.severity != Severity::Info)
        .collect()
}

#[tokio::test]
async fn a_sound_company_and_store_pass_every_check_and_the_audit_writes_nothing() {
    let w = world(Seed::default_seed(), clean_store()).await;
    let report = w.run().await;
    for check in Check::ALL {
        assert!(
            problems(&report, check).is_empty(),
            "{check:?}: {:#?}",
            report.findings
        );
    }
    assert_eq!(report.figures.products, GOOD_SKUS.len() as u64);
    assert_eq!(
        (report.figures.orders, report.figures.orders_matching),
        (2, 2)
    );
    assert!(!report.has_blocking());
    // The downloadable product is sold as a non-inventory item: reported, not a problem.
    assert!(of(&report, Check::Catalogue, Severity::Info)
        .iter()
        .any(|f| f.meaning.contains("240-LV08")));

    // Reads only: SAP saw GETs, the login and service calls that store nothing; Magento saw
    // GETs; SAP holds no document and Magento's orders are untouched.
    let sap = w.sap.stats();
    for path in sap.requests_by_path.keys() {
        let read = path.starts_with("GET ")
            || path == "POST /b1s/v1/Login"
            || path == "POST /b1s/v1/Logout"
            || (path.starts_with("POST /b1s/v1/") && path.contains("Service_"));
        assert!(read, "the audit wrote to SAP: {path}");
    }
    assert!(sap
        .requests_by_path
        .contains_key("POST /b1s/v1/OrdersService_Preview"));
    assert!(sap.orders_by_num_at_card.is_empty());
    let magento = w.magento.state().stats();
    for endpoint in magento.requests_by_endpoint.keys() {
        assert!(
            endpoint.starts_with("GET "),
            "the audit wrote to Magento: {endpoint}"
        );
    }
}

#[tokio::test]
async fn the_catalogue_check_names_skus_without_a_sellable_sap_item() {
    let mut store = clean_store();
    store.products.push(SeedProduct::simple(90, "NOT-IN-SAP"));
    store
        .products
        .push(SeedProduct::simple(91, "WT09-XS-White")); // frozen in SAP
    let mut disabled = SeedProduct::simple(92, "ALSO-NOT-IN-SAP");
    disabled.status = 2;
    store.products.push(disabled);
    let w = world(Seed::default_seed(), store).await;
    let report = w.run().await;
    let blocking = of(&report, Check::Catalogue, Severity::Blocking);
    let objects: Vec<&str> = blocking.iter().map(|f| f.object.as_str()).collect();
    assert_eq!(
        objects,
        ["SKU 'NOT-IN-SAP'", "SKU 'WT09-XS-White'"],
        "{blocking:#?}"
    );
    assert!(blocking[1].meaning.contains("frozen"));
    assert!(blocking[0].fix.contains("/api/v1/mappings/skus"));
}

#[tokio::test]
async fn the_warehouse_check_finds_an_inactive_default_and_a_source_magento_lacks() {
    let w = world(Seed::default_seed(), clean_store()).await;
    // '03' is inactive in the seed; 'outlet' is not a Magento source.
    w.map(
        "warehouses",
        "01",
        json!({"magento_source_code": "default", "include_in_stock": true, "order_default": false}),
    )
    .await;
    w.map(
        "warehouses",
        "03",
        json!({"magento_source_code": "outlet", "include_in_stock": true, "order_default": true}),
    )
    .await;
    let report = w.audit(0).run(&w.db.pool).await.unwrap();
    let blocking = of(&report, Check::Warehouses, Severity::Blocking);
    assert_eq!(blocking.len(), 2, "{blocking:#?}");
    assert!(blocking[0].meaning.contains("inactive"));
    assert!(blocking[1].meaning.contains("'outlet'"));
}

/// A UK VAT company whose tax-codes mapping sends the standard rate to a purchase VAT group.
#[tokio::test]
async fn the_tax_check_finds_a_purchase_only_vat_group_and_a_wrong_percentage() {
    let mut seed = Seed::uk_vat();
    let since = chrono::NaiveDate::from_ymd_opt(2011, 1, 4).unwrap();
    seed.vat_groups.push(VatGroup {
        code: "I1".into(),
        name: "Input standard rate".into(),
        category: "bovcInputTax".into(),
        inactive: YesNo::No,
        vat_groups_lines: vec![VatGroupLine {
            effective_from: since,
            rate: dec!(20),
        }],
    });
    let mut store = clean_store();
    store.orders.clear();
    store.tax_rates = vec![
        json!({"id": 1, "tax_country_id": "GB", "rate": 20, "code": "GB-VAT-20"}),
        json!({"id": 2, "tax_country_id": "GB", "rate": 5, "code": "GB-VAT-5"}),
    ];
    let w = world(seed, store).await;
    w.map("tax-codes", "GB-VAT-20", json!({"sap_tax_code": "I1"}))
        .await;
    w.map("tax-codes", "GB-VAT-5", json!({"sap_tax_code": "O1"}))
        .await;
    w.settings(|s| s.tax_exempt_code = b1bridge::domain::ids::TaxCode::parse("EX").unwrap())
        .await;
    let report = w.run().await;
    let blocking = of(&report, Check::Tax, Severity::Blocking);
    let purchase = blocking
        .iter()
        .find(|f| f.object.contains("GB-VAT-20"))
        .expect("the purchase VAT group is found");
    assert!(
        purchase.meaning.contains("purchase (input) VAT group"),
        "{purchase:#?}"
    );
    let reduced = blocking
        .iter()
        .find(|f| f.object.contains("GB-VAT-5"))
        .expect("the 20 % group for a 5 % rate is found");
    assert!(reduced.meaning.contains("20 %"), "{reduced:#?}");

    // Mapped to the output groups of the right rates, the tax check is clean.
    w.map("tax-codes", "GB-VAT-20", json!({"sap_tax_code": "O1"}))
        .await;
    w.map("tax-codes", "GB-VAT-5", json!({"sap_tax_code": "O2"}))
        .await;
    let report = w.run().await;
    let tax: Vec<&Finding> = of(&report, Check::Tax, Severity::Blocking);
    // The US seed mappings (US-MI, VAT23) are not VAT groups of this company.
    assert!(
        tax.iter()
            .all(|f| f.object.contains("US-MI") || f.object.contains("VAT23")),
        "{tax:#?}"
    );
    assert!(!tax.iter().any(|f| f.object.contains("GB-VAT")));
}

#[tokio::test]
async fn the_partner_check_finds_a_missing_guest_and_a_colliding_prefix() {
    let mut seed = Seed::default_seed();
    seed.business_partners.push(BusinessPartner {
        card_code: "W1001".into(),
        card_name: Some("Wholesale account".into()),
        email_address: None,
        ..seed.business_partners[1].clone()
    });
    let w = world(seed, clean_store()).await;
    w.settings(|s| s.guest_card_code = b1bridge::domain::ids::CardCode::parse("NOBODY").unwrap())
        .await;
    let report = w.audit(0).run(&w.db.pool).await.unwrap();
    let blocking = of(&report, Check::Partners, Severity::Blocking);
    assert_eq!(blocking.len(), 1, "{:#?}", report.findings);
    assert!(blocking[0].meaning.contains("no Business Partner 'NOBODY'"));
    let warning = of(&report, Check::Partners, Severity::Warning);
    assert!(warning[0].meaning.contains("W1001"), "{warning:#?}");
}

#[tokio::test]
async fn the_company_check_finds_a_closed_period_a_locked_series_and_approvals() {
    let mut seed = Seed::default_seed();
    let today = Utc::now().date_naive();
    seed.posting_periods = vec![
        PostingPeriod {
            code: "before".into(),
            from: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
            to: today - Days::new(2),
            status: PeriodStatus::Unlocked,
        },
        PostingPeriod {
            code: "now".into(),
            from: today - Days::new(1),
            to: today + Days::new(30),
            status: PeriodStatus::Locked,
        },
    ];
    seed.numbering.orders.locked = true;
    seed.approval_procedures = vec![ApprovalProcedure {
        name: "Large orders".into(),
        min_doc_total: Some(dec!(10000)),
        card_codes: vec![],
    }];
    let w = world(seed, clean_store()).await;
    let report = w.run().await;
    let blocking: Vec<&str> = of(&report, Check::Company, Severity::Blocking)
        .iter()
        .map(|f| f.object.as_str())
        .collect();
    assert_eq!(
        blocking,
        [
            "numbering series of Sales Orders",
            "posting period of today"
        ],
        "{:#?}",
        report.findings
    );
    let warnings = of(&report, Check::Company, Severity::Warning);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].object, "approval procedures");
}

#[tokio::test]
async fn the_company_check_finds_a_store_currency_without_todays_rate() {
    // A GBP company with no EUR rate at all, and a store that took a EUR order.
    let mut seed = Seed::uk_vat();
    seed.exchange_rates.clear();
    let mut store = clean_store();
    let mut order = sample_order("constructed-order-guest-uk-vat-inclusive-coupon.json");
    order["order_currency_code"] = json!("EUR");
    store.orders = vec![order];
    let w = world(seed, store).await;
    let report = w.run().await;
    let rate = of(&report, Check::Company, Severity::Blocking)
        .into_iter()
        .find(|f| f.object == "exchange rate EUR")
        .cloned();
    assert!(rate.is_some(), "{:#?}", report.findings);
}

/// Magento's own sample order 000000015 charges 14.79 Michigan tax on RACER's 179.20 (8.25 %
/// is 14.784: Magento rounded its unit tax up), SAP rounds the row to 14.78. The dry run
/// names the order, the line, the cause and the setting that fixes it; with that setting,
/// SAP keeps Magento's tax and the order posts to the cent.
#[tokio::test]
async fn the_dry_run_finds_an_order_whose_tax_sap_rounds_differently() {
    let mut store = clean_store();
    store.orders = vec![sample_order(
        "rest-order-registered-discount-multiitem-tax-histories.json",
    )];
    let w = world(Seed::default_seed(), store).await;
    let report = w.run().await;
    let found = of(&report, Check::DryRun, Severity::Blocking);
    assert_eq!(found.len(), 1, "{:#?}", report.findings);
    let f = found[0];
    assert_eq!(f.object, "order 000000015");
    assert!(f.meaning.contains("(rounding)"), "{f:#?}");
    assert!(
        f.meaning
            .contains("line 2 (RACER) tax: SAP 14.78 (8.25 %) vs Magento 14.79"),
        "{f:#?}"
    );
    assert!(f.fix.contains("tax_strategy"), "{f:#?}");
    assert_eq!(report.figures.orders_matching, 0);

    w.settings(|s| s.tax_strategy = TaxStrategy::MagentoLineTax)
        .await;
    let report = w.run().await;
    assert!(
        problems(&report, Check::DryRun).is_empty(),
        "{:#?}",
        report.findings
    );
    assert_eq!(report.figures.orders_matching, 1);
}

/// `POST /api/v1/audit` queues a run (admin only, one at a time); `GET /api/v1/audit` shows
/// the latest with its findings once a worker has run it, and `GET /api/v1/runs` lists it.
#[tokio::test]
async fn the_api_starts_an_audit_and_shows_the_latest_report() {
    let app = spawn_app().await;
    let bearer = |role: &str| format!("Bearer {role}-secret-0123456789");
    let get = app
        .client
        .get(app.url("/api/v1/audit"))
        .header("Authorization", bearer("viewer"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 404);
    let refused = app
        .client
        .post(app.url("/api/v1/audit"))
        .header("Authorization", bearer("operator"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let started = app
        .client
        .post(app.url("/api/v1/audit"))
        .header("Authorization", bearer("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let again = app
        .client
        .post(app.url("/api/v1/audit"))
        .header("Authorization", bearer("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let queued: Value = app
        .client
        .get(app.url("/api/v1/audit"))
        .header("Authorization", bearer("viewer"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queued["run"]["status"], "queued");
    assert!(queued["report"].is_null());

    // A worker (here: this process's, as `b1bridge audit` runs it) executes the queued run.
    let mut store = clean_store();
    store.products.push(SeedProduct::simple(90, "NOT-IN-SAP"));
    let w = world(Seed::default_seed(), store).await;
    configure_simulator_mappings(&app.db.pool).await;
    let handlers = b1bridge::worker::Handlers::new().register(
        RunKind::Audit.job_kind(),
        b1bridge::worker::run_job::RunJob::new(w.audit(20)),
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let pool = tokio::spawn(
        b1bridge::worker::WorkerPool::new(
            app.db.pool.clone(),
            handlers,
            b1bridge::worker::WorkerConfig {
                concurrency: 1,
                poll_interval: std::time::Duration::from_millis(50),
                ..b1bridge::worker::WorkerConfig::default()
            },
        )
        .run(stop.clone().cancelled_owned()),
    );
    let done = crate::support::wait_until(std::time::Duration::from_secs(30), || async {
        let v: Value = app
            .client
            .get(app.url("/api/v1/audit"))
            .header("Authorization", bearer("viewer"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["run"]["status"] == "succeeded"
    })
    .await;
    stop.cancel();
    let _ = pool.await;
    assert!(done, "the audit run finished");
    let view: Value = app
        .client
        .get(app.url("/api/v1/audit"))
        .header("Authorization", bearer("viewer"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["ready"], false);
    assert_eq!(view["report"]["findings"][0]["severity"], "blocking");
    assert_eq!(view["report"]["findings"][0]["object"], "SKU 'NOT-IN-SAP'");
    // The operations page shows the same report.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = browser
        .post(app.url("/ui/login"))
        .form(&[("token", "viewer-secret-0123456789"), ("next", "/ui/audit")])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let page = browser
        .get(app.url("/ui/audit"))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Not ready"), "{html}");
    assert!(
        html.contains("SKU &#39;NOT-IN-SAP&#39;") || html.contains("SKU 'NOT-IN-SAP'"),
        "{html}"
    );
    let runs: Value = app
        .client
        .get(app.url("/api/v1/runs?kind=audit"))
        .header("Authorization", bearer("viewer"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["items"].as_array().unwrap().len(), 1);
    assert_eq!(runs["items"][0]["trigger"], "api");
}
