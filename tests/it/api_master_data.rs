//! Admin changes checked against SAP B1 master data through the real HTTP server and the SAP
//! client, with the SAP B1 simulator as SAP: codes SAP does not know are refused field by
//! field, list-type master data is read once for many edits, and a SAP that is down or slow
//! lets the change through unchecked. Also the `serve` command's wiring of the check.
use b1bridge::config::SapSettings;
use b1bridge::domain::master_data::MasterDataKind;
use b1bridge::http::api::master_data::MasterDataCheck;
use b1bridge::http::api::sap_master_data::SapMasterData;
use b1bridge::sap::SapClient;
use b1bridge::sim::sap_b1::{self, Faults, SapSimConfig, SapSimHandle};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::io::BufRead;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::api_common::*;
use crate::support::{spawn_app_with, AppOptions, TestApp, TestDb, TEST_SECRET};

async fn simulator() -> SapSimHandle {
    sap_b1::spawn(SapSimConfig::default())
        .await
        .expect("simulator starts")
}

fn sap_client(sim: &SapSimHandle) -> SapClient {
    let settings = SapSettings::from_raw(
        Some(&sim.base_url()),
        Some("SBODEMOGB"),
        Some("manager"),
        Some(&SecretString::from("1234")),
        None,
        None,
    )
    .expect("simulator settings are valid");
    SapClient::new(&settings).expect("client builds")
}

/// The app as `serve` runs it with `SAP_B1_*` set: admin changes checked against `sim`.
async fn app_checking_against(sim: &SapSimHandle) -> TestApp {
    spawn_app_with(AppOptions {
        sap: Some(sap_client(sim)),
        ..AppOptions::default()
    })
    .await
}

async fn put(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    call(app, Method::PUT, path, ADMIN)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Asserts a 422 and returns its `errors` as (field, message) pairs.
async fn refused(res: reqwest::Response) -> Vec<(String, String)> {
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect()
}

async fn stored_mappings(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM mappings")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// A warehouse mapping body; the check is about the key (the SAP WarehouseCode).
fn warehouse() -> Value {
    json!({"include_in_stock": true, "order_default": false, "magento_source_code": "default"})
}

#[tokio::test]
async fn codes_the_simulator_does_not_know_are_refused_naming_the_field_and_known_ones_stored() {
    let sim = simulator().await;
    let app = app_checking_against(&sim).await;

    let res = put(&app, "/api/v1/mappings/warehouses/ZZ", warehouse()).await;
    assert_eq!(
        refused(res).await,
        pairs(&[("key", "SAP B1 has no warehouse 'ZZ'")])
    );
    let res = put(&app, "/api/v1/mappings/warehouses/01", warehouse()).await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = put(
        &app,
        "/api/v1/mappings/tax-codes/US-TX-*-Rate%201",
        json!({"sap_tax_code": "US-TX", "rate_percent": 6.25}),
    )
    .await;
    assert_eq!(
        refused(res).await,
        pairs(&[("sap_tax_code", "SAP B1 has no tax code 'US-TX'")])
    );
    let res = put(
        &app,
        "/api/v1/mappings/tax-codes/US-CA-*-Rate%201",
        json!({"sap_tax_code": "US-CA", "rate_percent": 7.25}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = put(
        &app,
        "/api/v1/mappings/skus/MH01-S-Grey",
        json!({"item_code": "MH01-S-GREY"}),
    )
    .await;
    assert_eq!(
        refused(res).await,
        pairs(&[("item_code", "SAP B1 has no item 'MH01-S-GREY'")])
    );
    let res = put(
        &app,
        "/api/v1/mappings/skus/MH01-S-Grey",
        json!({"item_code": "MH01-S-Gray"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = put(
        &app,
        "/api/v1/mappings/customers/42",
        json!({"card_code": "C99999"}),
    )
    .await;
    assert_eq!(
        refused(res).await,
        pairs(&[("card_code", "SAP B1 has no business partner 'C99999'")])
    );
    let res = put(
        &app,
        "/api/v1/mappings/customers/42",
        json!({"card_code": "C20001"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Freight codes come from AdditionalExpenses (1 Freight, 2 Handling in the seed).
    let res = put(
        &app,
        "/api/v1/mappings/shipping-methods/ups_express",
        json!({"expense_code": 9, "tax_code": "US-TX"}),
    )
    .await;
    assert_eq!(
        refused(res).await,
        pairs(&[
            (
                "expense_code",
                "SAP B1 has no freight (additional expense) '9'"
            ),
            ("tax_code", "SAP B1 has no tax code 'US-TX'"),
        ])
    );
    let res = put(
        &app,
        "/api/v1/mappings/shipping-methods/ups_express",
        json!({"expense_code": 2, "tax_code": "US-MI"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(stored_mappings(&app).await, 5, "only the known codes");

    let mut settings = get_json(&app, "/api/v1/settings", VIEWER).await;
    settings["default_warehouse"] = json!("99");
    let res = put(&app, "/api/v1/settings", settings.clone()).await;
    assert_eq!(
        refused(res).await,
        pairs(&[("default_warehouse", "SAP B1 has no warehouse '99'")])
    );
    assert_eq!(
        get_json(&app, "/api/v1/settings", VIEWER).await["default_warehouse"],
        "01",
        "refused settings are not stored"
    );
    settings["default_warehouse"] = json!("02");
    let res = put(&app, "/api/v1/settings", settings).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn many_edits_read_each_master_data_list_once_and_a_new_code_is_looked_for_again() {
    let sim = simulator().await;
    let app = app_checking_against(&sim).await;
    let reads = |path: &str| {
        sim.stats()
            .requests_by_path
            .get(&format!("GET /b1s/v1/{path}"))
            .copied()
            .unwrap_or(0)
    };
    for code in ["01", "02", "03", "01", "02"] {
        let res = put(
            &app,
            &format!("/api/v1/mappings/warehouses/{code}"),
            warehouse(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{code}");
    }
    for rate in ["A", "B", "C"] {
        let res = put(
            &app,
            &format!("/api/v1/mappings/tax-codes/{rate}"),
            json!({"sap_tax_code": "US-MI"}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{rate}");
    }
    assert_eq!(reads("Warehouses"), 1, "five warehouse edits, one read");
    assert_eq!(reads("SalesTaxCodes"), 1, "three tax code edits, one read");

    // A code missing from the kept list is looked for in SAP again, so a warehouse created in
    // SAP a moment ago is not refused for a minute.
    let res = put(&app, "/api/v1/mappings/warehouses/ZZ", warehouse()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reads("Warehouses"), 2);
    app.stop().await;
}

#[tokio::test]
async fn with_the_simulator_stopped_the_check_is_skipped_and_the_change_stored() {
    let sim = simulator().await;
    let app = app_checking_against(&sim).await;
    let ghost = json!({"item_code": "GHOST-1"});
    let res = put(&app, "/api/v1/mappings/skus/GHOST", ghost.clone()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "SAP is up");

    sim.shutdown().await.expect("simulator stops");
    let started = Instant::now();
    let res = put(&app, "/api/v1/mappings/skus/GHOST", ghost.clone()).await;
    assert_eq!(res.status(), StatusCode::OK, "accepted unchecked");
    let res = put(&app, "/api/v1/mappings/warehouses/ZZ", warehouse()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut settings = get_json(&app, "/api/v1/settings", VIEWER).await;
    settings["default_warehouse"] = json!("99");
    let res = put(&app, "/api/v1/settings", settings).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        started.elapsed() < SapMasterData::DEFAULT_TIMEOUT,
        "a refused connection is not waited out: {:?}",
        started.elapsed()
    );
    let skus = get_json(&app, "/api/v1/mappings/skus", VIEWER).await;
    assert_eq!(skus["items"][0]["value"], ghost);
    assert_eq!(
        get_json(&app, "/api/v1/settings", VIEWER).await["default_warehouse"],
        "99"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_check_that_sap_does_not_answer_in_time_is_unavailable_not_a_refusal() {
    let sim = simulator().await;
    sim.set_faults(Faults {
        latency_ms: 3_000,
        ..Faults::default()
    })
    .unwrap();
    let check = SapMasterData::with_timings(
        sap_client(&sim),
        Duration::from_millis(300),
        Duration::from_secs(60),
    );
    let started = Instant::now();
    let answer = check.exists(MasterDataKind::Warehouse, "ZZ").await;
    let e = answer.expect_err("a timeout is no answer");
    assert!(e.0.contains("did not answer within"), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Payment methods cannot be asked at all, so they are never refused.
    assert!(check
        .exists(MasterDataKind::PaymentMethod, "CHECK")
        .await
        .is_err());
}

// ---- the `serve` command -----------------------------------------------------------------

/// A `b1bridge serve` process; its address is read from its "b1bridge serving" log line.
struct ServeProcess {
    child: std::process::Child,
    address: SocketAddr,
}

impl ServeProcess {
    fn spawn(db_url: &str, args: &[&str], sap_url: Option<&str>) -> Self {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_b1bridge"));
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("DATABASE_URL", db_url)
            .env("B1BRIDGE_WEBHOOK_SECRETS", TEST_SECRET)
            .env("B1BRIDGE_API_TOKENS", crate::support::TEST_API_TOKENS)
            .env("RUST_LOG", "info")
            .env_remove("SAP_B1_URL")
            .env_remove("SAP_B1_COMPANY_DB")
            .env_remove("SAP_B1_USERNAME")
            .env_remove("SAP_B1_PASSWORD")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit());
        if let Some(url) = sap_url {
            cmd.env("SAP_B1_URL", url)
                .env("SAP_B1_COMPANY_DB", "SBODEMOGB")
                .env("SAP_B1_USERNAME", "manager")
                .env("SAP_B1_PASSWORD", "1234");
        }
        let mut child = cmd.spawn().expect("the binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let Ok(log) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if log["fields"]["message"] == "b1bridge serving" {
                    let address = log["fields"]["address"].as_str().unwrap_or_default();
                    let _ = tx.send(address.parse::<SocketAddr>().ok());
                }
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(30))
            .ok()
            .flatten()
            .expect("serve logs its address");
        Self { child, address }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn put_warehouse(serve: &ServeProcess, code: &str) -> reqwest::Response {
    reqwest::Client::new()
        .put(format!(
            "http://{}/api/v1/mappings/warehouses/{code}",
            serve.address
        ))
        .bearer_auth(ADMIN)
        .json(&warehouse())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn serve_without_workers_checks_against_sap_when_its_login_is_given_and_not_otherwise() {
    let sim = simulator().await;
    let db = TestDb::new().await;
    let with_sap = ServeProcess::spawn(&db.url, &["--no-workers"], Some(&sim.base_url()));
    let res = put_warehouse(&with_sap, "ZZ").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        put_warehouse(&with_sap, "02").await.status(),
        StatusCode::OK
    );
    drop(with_sap);

    let without_sap = ServeProcess::spawn(&db.url, &["--no-workers"], None);
    assert_eq!(
        put_warehouse(&without_sap, "ZZ").await.status(),
        StatusCode::OK,
        "no SAP login: stored unchecked"
    );
}

#[tokio::test]
async fn serve_with_workers_checks_with_the_workers_sap_client() {
    let sim = simulator().await;
    let db = TestDb::new().await;
    let serve = ServeProcess::spawn(&db.url, &[], Some(&sim.base_url()));
    // The workers log in at start; nothing else has asked SAP yet.
    let logged_in = crate::support::wait_until(Duration::from_secs(20), || async {
        sim.stats().logins >= 1
    })
    .await;
    assert!(logged_in, "the workers log in at start");
    let res = put_warehouse(&serve, "ZZ").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(put_warehouse(&serve, "01").await.status(), StatusCode::OK);
    assert_eq!(
        sim.stats().logins,
        1,
        "the API's check used the workers' session, not a login of its own"
    );
}

#[tokio::test]
async fn a_vat_company_s_tax_codes_are_its_vat_groups() {
    let sim = sap_b1::spawn(SapSimConfig {
        seed: b1bridge::sim::sap_b1::Seed::uk_vat(),
        ..SapSimConfig::default()
    })
    .await
    .expect("simulator starts");
    let app = app_checking_against(&sim).await;
    let res = put(
        &app,
        "/api/v1/mappings/tax-codes/GB-VAT-20",
        json!({"sap_tax_code": "O1"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A US sales tax code does not exist in a UK company.
    let res = put(
        &app,
        "/api/v1/mappings/tax-codes/US-MI-*-Rate%201",
        json!({"sap_tax_code": "US-MI"}),
    )
    .await;
    assert_eq!(
        refused(res).await,
        pairs(&[("sap_tax_code", "SAP B1 has no tax code 'US-MI'")])
    );
    app.stop().await;
}
