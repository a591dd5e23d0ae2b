//! `b1bridge stock sync [--dry-run]` as a user runs it from a terminal: the real binary, against
//! both simulators and the test database.
use b1bridge::domain::run::{RunKind, RunStatus, RunTrigger};
use b1bridge::sim::magento::{self as magento_sim, MagentoSimConfig};
use rust_decimal::Decimal;
use std::process::Output;
use tokio::process::Command;

use crate::stock_sync::World;

const TOKEN: &str = "stock-cli-token";
const SKU: &str = "MH01-S-Gray";

async fn stock_sync(w: &World, magento_url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_b1bridge"));
    cmd.args(["stock", "sync"])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &w.app.db.url)
        .env("SAP_B1_URL", w.sap_sim.base_url())
        .env("SAP_B1_COMPANY_DB", "SBODEMOGB")
        .env("SAP_B1_USERNAME", "manager")
        .env("SAP_B1_PASSWORD", "1234");
    if let Some(url) = magento_url {
        cmd.env("MAGENTO_URL", url).env("MAGENTO_TOKEN", TOKEN);
    }
    // Async: the simulators run on this test's runtime and must go on answering meanwhile.
    cmd.output().await.expect("the binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn salable(root: &str, sku: &str) -> Option<Decimal> {
    let body: serde_json::Value = reqwest::get(format!("{root}/sim/control/salable"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["salable"][sku].to_string().parse().ok()
}

async fn latest(w: &World) -> Option<b1bridge::store::runs::Run> {
    b1bridge::store::runs::list(&w.app.db.pool, Some(RunKind::StockSync), None, 1)
        .await
        .unwrap()
        .pop()
}

#[tokio::test]
async fn the_dry_run_prints_the_plan_and_changes_nothing_then_a_run_pushes_it_and_is_recorded() {
    let w = World::new().await;
    w.set_sap_stock(SKU, "01", 9).await;
    let magento = magento_sim::spawn(MagentoSimConfig::new(TOKEN))
        .await
        .unwrap();
    let before = salable(&magento.root_url(), SKU).await;

    // A dry run needs no Magento: it reads SAP and what was pushed, and prints the plan.
    let out = stock_sync(&w, None, &["--dry-run"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{SKU}  default: — → 9")),
        "the plan names the SKU, its source and both quantities: {}",
        text(&out)
    );
    assert!(
        stdout.contains("dry run: nothing was changed"),
        "{}",
        text(&out)
    );
    let runs = latest(&w).await;
    assert!(runs.is_none(), "a dry run records no run: {runs:?}");
    assert_eq!(salable(&magento.root_url(), SKU).await, before);

    // Without MAGENTO_URL a real run is refused, naming the variable.
    let out = stock_sync(&w, None, &[]).await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("MAGENTO_URL"),
        "{}",
        text(&out)
    );

    // The real run pushes the plan and is recorded like a scheduled one.
    let out = stock_sync(&w, Some(&magento.base_url()), &[]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("pushed "),
        "{}",
        text(&out)
    );
    assert_eq!(
        salable(&magento.root_url(), SKU).await,
        Some(Decimal::from(9))
    );
    let run = latest(&w).await.expect("the run is recorded");
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.trigger, RunTrigger::Cli);

    // Nothing changed since: the next dry run plans nothing.
    let out = stock_sync(&w, None, &["--dry-run"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("would push 0 "),
        "{}",
        text(&out)
    );
}
