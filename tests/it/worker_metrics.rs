//! `b1bridge worker` with `B1BRIDGE_METRICS_LISTEN`, as an operator runs it in a scale-out
//! set-up: the real binary serves `/metrics` with *its own* job counters and SAP figures
//! (which no `serve` process can report), plus `/healthz` and `/readyz`, and nothing else.
use b1bridge::sim::sap_b1::{self, SapSimConfig};
use b1bridge::store::intake::{self, Delivery, IntakeOutcome};
use serde_json::json;
use std::time::Duration;
use tokio::process::{Child, Command};

use crate::support::{configure_simulator_mappings, free_port, sample_order, wait_until, TestDb};

fn worker(db: &TestDb, sap_url: &str, metrics: Option<&str>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_b1bridge"));
    cmd.arg("worker")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("SAP_B1_URL", sap_url)
        .env("SAP_B1_COMPANY_DB", "SBODEMOGB")
        .env("SAP_B1_USERNAME", "manager")
        .env("SAP_B1_PASSWORD", "1234")
        .kill_on_drop(true);
    if let Some(address) = metrics {
        cmd.env("B1BRIDGE_METRICS_LISTEN", address);
    }
    cmd.spawn().expect("the binary starts")
}

async fn get(url: &str) -> Option<(u16, String)> {
    let res = reqwest::get(url).await.ok()?;
    let status = res.status().as_u16();
    Some((status, res.text().await.ok()?))
}

async fn stop(mut child: Child) {
    let pid = child.id().expect("still running").to_string();
    let sigint = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(sigint.success());
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the worker stops on SIGINT")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_process_serves_its_own_job_and_sap_metrics_and_its_health() {
    let db = TestDb::new().await;
    configure_simulator_mappings(&db.pool).await;
    let sap = sap_b1::spawn(SapSimConfig::default()).await.unwrap();
    let address = format!("127.0.0.1:{}", free_port());
    let child = worker(&db, &sap.base_url(), Some(&address));
    let base = format!("http://{address}");

    let up = wait_until(Duration::from_secs(60), || async {
        get(&format!("{base}/healthz"))
            .await
            .is_some_and(|(s, _)| s == 200)
    })
    .await;
    assert!(up, "no /healthz on {address}");
    let (status, body) = get(&format!("{base}/readyz")).await.unwrap();
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    // Only the probes: no API, no page, no webhook on a worker.
    assert_eq!(get(&format!("{base}/")).await.unwrap().0, 404);
    assert_eq!(get(&format!("{base}/api/v1/orders")).await.unwrap().0, 404);

    // An order this worker posts shows in its own counters and SAP latency histogram.
    let mut order = sample_order("rest-order-guest-configurable.json");
    order["increment_id"] = json!("WM0000001");
    let body =
        serde_json::to_vec(&json!({"type": "order.placed", "data": {"order": order}})).unwrap();
    let event = b1bridge::magento::envelope::parse_event(&body).unwrap();
    let outcome = intake::record_order_event(
        &db.pool,
        &Delivery {
            webhook_id: "msg_worker_metrics",
            webhook_timestamp: chrono::Utc::now(),
            headers: json!({}),
            body: &body,
        },
        &event,
    )
    .await
    .unwrap();
    assert!(matches!(outcome, IntakeOutcome::Accepted { .. }));
    let done = "b1bridge_job_attempts_total{kind=\"post_order\",outcome=\"done\"} 1";
    let metrics = || async { get(&format!("{base}/metrics")).await };
    let counted = wait_until(Duration::from_secs(60), || async {
        metrics()
            .await
            .is_some_and(|(status, text)| status == 200 && text.contains(done))
    })
    .await;
    let (_, last) = metrics().await.unwrap();
    assert!(counted, "{done} not in:\n{last}");
    assert!(last.contains("# TYPE b1bridge_sap_request_seconds histogram"));
    let sap_requests: u64 = last
        .lines()
        .find_map(|l| l.strip_prefix("b1bridge_sap_request_seconds_count "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_default();
    assert!(sap_requests >= 1, "{last}");
    assert!(last.contains("\nb1bridge_worker_concurrency "), "{last}");
    // The deployment's gauges from Postgres, as `serve` reports them.
    assert!(
        last.contains("b1bridge_orders{status=\"posted\"} 1"),
        "{last}"
    );
    stop(child).await;
}
