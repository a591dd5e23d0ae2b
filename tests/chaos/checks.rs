//! After the chaos: wait until everything has drained, bring Magento up to date with one last
//! stock and price run, then check the promises and print the figures.
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

use super::load::Shop;
use super::{say, World, SAP_LIMIT};
use b1bridge::sim::magento::MagentoFaults;
use b1bridge::sim::sap_b1::{DocStatus, Faults};

/// The warehouses the run's mappings include in stock (`warehouses` mapping "01").
const STOCK_WAREHOUSES: [&str; 1] = ["01"];
const MAGENTO_SOURCE: &str = "default";

/// The SAP DocEntry once `increment_id` is posted.
pub async fn wait_posted(
    pool: &sqlx::PgPool,
    increment_id: &str,
    patience: Duration,
) -> Option<i64> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let row: Option<(String, Option<i32>)> =
            sqlx::query_as("SELECT status, sap_doc_entry FROM orders WHERE increment_id = $1")
                .bind(increment_id)
                .fetch_optional(pool)
                .await
                .ok()
                .flatten();
        if let Some(("posted", Some(entry))) = row.as_ref().map(|(s, e)| (s.as_str(), *e)) {
            return Some(entry.into());
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or(-1)
}

/// Work still to do: order, cancel and refund jobs not finished, refunds not settled.
const BACKLOG: &str = "SELECT (SELECT count(*) FROM outbox WHERE status IN ('pending', 'running')
                                 AND kind IN ('post_order', 'cancel_order', 'post_refund'))
                            + (SELECT count(*) FROM refunds WHERE status IN ('queued', 'waiting'))";

pub async fn drain_and_check(
    world: &Arc<Mutex<World>>,
    shop: &Shop,
    patience: Duration,
) -> anyhow::Result<bool> {
    let mut w = world.lock().await;
    let mut violations: Vec<String> = std::mem::take(
        &mut shop
            .tally
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .violations,
    );
    // Calm: no more faults; a process that died by itself is a finding.
    w.sap
        .state
        .set_faults(Faults::default())
        .map_err(anyhow::Error::msg)?;
    w.magento
        .state
        .set_faults(MagentoFaults::default())
        .map_err(anyhow::Error::msg)?;
    w.sap.up().await?;
    w.magento.up().await?;
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        for p in &mut w.processes {
            if let Some(status) = p.exited() {
                violations.push(format!(
                    "{} exited by itself ({status}); its last lines:\n{}",
                    p.name,
                    p.log_tail(20)
                ));
                p.spawn()?;
            }
        }
        let left = count(&w.pool, BACKLOG).await;
        if left == 0 {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            violations.push(format!(
                "not drained after {patience:?}: {left} jobs/refunds left"
            ));
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    say(&format!(
        "drained after {:.0} s",
        w.started.elapsed().as_secs_f64()
    ));
    for (kind, path) in [
        ("stock_sync", "/api/v1/stock/sync"),
        ("price_sync", "/api/v1/prices/sync"),
    ] {
        if let Err(e) = final_run(&w, kind, path).await {
            violations.push(format!("the final {kind} run: {e:#}"));
        }
    }

    let tally = shop.tally.lock().unwrap_or_else(|e| e.into_inner());
    let pool = &w.pool;
    let sap = &w.sap.state;

    // Events acknowledged against events stored.
    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT webhook_id, outcome FROM webhook_events")
            .fetch_all(pool)
            .await?;
    let accepted: HashSet<&str> = stored
        .iter()
        .filter(|(_, o)| o == "accepted")
        .map(|(id, _)| id.as_str())
        .collect();
    let invalid: HashSet<&str> = stored
        .iter()
        .filter(|(_, o)| o == "invalid")
        .map(|(id, _)| id.as_str())
        .collect();
    let acked: HashSet<&str> = tally.acknowledged.iter().map(String::as_str).collect();
    let kept: HashSet<&str> = tally.invalid.iter().map(String::as_str).collect();
    if acked != accepted {
        violations.push(format!(
            "events acknowledged {} but stored {} (acknowledged, not stored: {:?}; stored, not acknowledged: {:?})",
            acked.len(),
            accepted.len(),
            acked.difference(&accepted).take(5).collect::<Vec<_>>(),
            accepted.difference(&acked).take(5).collect::<Vec<_>>()
        ));
    }
    if kept != invalid {
        violations.push(format!(
            "unusable deliveries answered {} but kept {}",
            kept.len(),
            invalid.len()
        ));
    }
    let forged_stored = tally
        .refused
        .iter()
        .filter(|id| accepted.contains(id.as_str()) || invalid.contains(id.as_str()))
        .count();
    if forged_stored > 0 {
        violations.push(format!("{forged_stored} forged deliveries were stored"));
    }

    // Sales Orders and credit notes per NumAtCard.
    let stats = sap.stats();
    let duplicates: Vec<_> = stats
        .orders_by_num_at_card
        .iter()
        .filter(|(_, n)| **n > 1)
        .collect();
    let mut notes_per_ref: BTreeMap<String, usize> = BTreeMap::new();
    for note in sap.credit_notes() {
        *notes_per_ref
            .entry(note.num_at_card.clone().unwrap_or_default())
            .or_default() += 1;
    }
    let duplicate_notes: Vec<_> = notes_per_ref.iter().filter(|(_, n)| **n > 1).collect();
    if !duplicates.is_empty() {
        violations.push(format!("Sales Orders twice: {duplicates:?}"));
    }
    if !duplicate_notes.is_empty() {
        violations.push(format!("credit notes twice: {duplicate_notes:?}"));
    }

    // Every order in SAP, cancelled, or in front of a person.
    let open_exceptions: HashSet<String> = sqlx::query_scalar(
        "SELECT DISTINCT order_increment_id FROM exceptions
          WHERE status IN ('open', 'retrying') AND order_increment_id IS NOT NULL",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let statuses: BTreeMap<String, String> =
        sqlx::query_as::<_, (String, String)>("SELECT increment_id, status FROM orders")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    let sap_orders = sap.orders();
    let by_ref = |id: &str| {
        sap_orders
            .iter()
            .find(|o| o.num_at_card.as_deref() == Some(id))
    };
    let cancelled: HashSet<&str> = tally.cancelled.iter().map(String::as_str).collect();
    let (mut lost, mut posted, mut waiting, mut good_waiting) = (Vec::new(), 0, 0, Vec::new());
    for (id, unknown_sku) in &tally.orders {
        let in_sap = by_ref(id).is_some();
        let status = statuses.get(id).map(String::as_str);
        let open = open_exceptions.contains(id);
        match (in_sap, status, open) {
            (true, _, _) => posted += 1,
            (false, Some("cancelled"), _) if cancelled.contains(id.as_str()) => {}
            (false, _, true) => {
                waiting += 1;
                if !unknown_sku {
                    good_waiting.push(id.clone());
                }
            }
            _ => lost.push(format!("{id} ({status:?})")),
        }
        if *unknown_sku && in_sap {
            violations.push(format!("{id} has an unknown SKU but is in SAP"));
        }
    }
    if !lost.is_empty() {
        violations.push(format!(
            "{} orders neither in SAP nor in an open exception: {:?}",
            lost.len(),
            &lost[..lost.len().min(10)]
        ));
    }
    if !good_waiting.is_empty() {
        // Not lost (a person sees them), but a good order should have posted once SAP was
        // back: say which, and what holds them.
        let why: Vec<(String, String)> = sqlx::query_as(
            "SELECT order_increment_id, category || ': ' || title FROM exceptions
              WHERE status IN ('open', 'retrying') AND order_increment_id = ANY($1) LIMIT 10",
        )
        .bind(&good_waiting)
        .fetch_all(pool)
        .await?;
        violations.push(format!(
            "{} good orders wait as exceptions instead of posting: {why:?}",
            good_waiting.len()
        ));
    }

    // Cancellations applied: b1bridge's order cancelled, and SAP's too when it had one.
    let mut cancels_applied = 0;
    for id in &tally.cancelled {
        let status = statuses.get(id).map(String::as_str);
        let sap_doc = by_ref(id);
        let sap_cancelled = sap_doc.is_none_or(|d| d.cancelled.is_yes());
        // SAP cancelled but b1bridge not: the cancel happened and a person is asked anyway.
        let half_done =
            sap_doc.is_some_and(|d| d.cancelled.is_yes()) && status != Some("cancelled");
        if status == Some("cancelled") && sap_cancelled {
            cancels_applied += 1;
        } else if half_done || !open_exceptions.contains(id) {
            violations.push(format!(
                "cancellation of {id} not applied: status {status:?}, SAP cancelled {sap_cancelled}"
            ));
        }
    }

    // Refunds: one credit note each, or in front of a person.
    let refund_rows: BTreeMap<i64, String> =
        sqlx::query_as::<_, (i64, String)>("SELECT magento_entity_id, status FROM refunds")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    let mut refunds_posted = 0;
    for (entity, memo, order) in &tally.refunds {
        let notes = notes_per_ref.get(memo).copied().unwrap_or(0)
            + notes_per_ref.get(order).copied().unwrap_or(0);
        match refund_rows.get(entity).map(String::as_str) {
            Some("posted") if notes >= 1 => refunds_posted += 1,
            Some("parked") => {}
            other => violations.push(format!(
                "refund {memo} of {order}: status {other:?}, {notes} credit notes"
            )),
        }
    }

    // SAP's concurrency: each process (one session at a time) within its limit; all of them
    // within theirs, plus what a killed process had left running at SAP.
    let processes = w.processes.len() as u64;
    if stats.max_concurrent_requests_per_session > SAP_LIMIT {
        violations.push(format!(
            "a process had {} requests at SAP at once (limit {SAP_LIMIT})",
            stats.max_concurrent_requests_per_session
        ));
    }
    if stats.max_concurrent_requests > (processes + 1) * SAP_LIMIT {
        violations.push(format!(
            "SAP saw {} requests at once (limit {} × {SAP_LIMIT}, plus a killed process's)",
            stats.max_concurrent_requests, processes
        ));
    }

    // Magento's stock and prices against SAP.
    let open_web_orders: Vec<_> = sap
        .orders()
        .into_iter()
        .filter(|o| o.document_status == DocStatus::Open && !o.cancelled.is_yes())
        .collect();
    let held: HashSet<String> = sqlx::query_scalar::<_, Option<String>>(
        "SELECT context ->> 'sku' FROM exceptions WHERE status IN ('open', 'retrying')
            AND category IN ('price_rejected', 'magento_rejected') AND context ? 'sku'",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default()
    .into_iter()
    .flatten()
    .collect();
    let (mut stock_checked, mut stock_wrong, mut prices_checked, mut prices_wrong) =
        (0, Vec::new(), 0, Vec::new());
    for item in sap.items() {
        let sku = &item.item_code;
        if held.contains(sku) {
            continue;
        }
        if item.inventory_item.is_yes() {
            if let Some(in_magento) = w.magento.state.source_quantity(sku, MAGENTO_SOURCE) {
                let available: Decimal = item
                    .item_warehouse_info_collection
                    .iter()
                    .filter(|i| STOCK_WAREHOUSES.contains(&i.warehouse_code.as_str()))
                    .map(|i| i.in_stock - i.committed)
                    .sum();
                let open: Decimal = open_web_orders
                    .iter()
                    .flat_map(|o| &o.document_lines)
                    .filter(|l| {
                        &l.item_code == sku && STOCK_WAREHOUSES.contains(&l.warehouse_code.as_str())
                    })
                    .map(|l| l.remaining_open_quantity)
                    .sum();
                let expected = available.max(Decimal::ZERO) + open;
                stock_checked += 1;
                if in_magento != expected {
                    stock_wrong.push(format!("{sku}: Magento {in_magento}, expected {expected}"));
                }
            }
        }
        let price = item
            .item_prices
            .iter()
            .find(|p| p.price_list == 1)
            .map(|p| p.price.round_dp(2));
        if let (Some(price), Some(in_magento)) = (price, w.magento.state.base_price(sku, 0)) {
            prices_checked += 1;
            if in_magento != price {
                prices_wrong.push(format!("{sku}: Magento {in_magento}, SAP {price}"));
            }
        }
    }
    if stock_checked == 0 || !stock_wrong.is_empty() {
        violations.push(format!(
            "Magento stock against the invariant ({stock_checked} SKUs): {stock_wrong:?}"
        ));
    }
    if prices_checked == 0 || !prices_wrong.is_empty() {
        violations.push(format!(
            "Magento prices against SAP ({prices_checked} SKUs): {prices_wrong:?}"
        ));
    }

    // The figures.
    let m = w.magento.state.stats();
    let kills: u32 = w.injected.kills.values().sum();
    let duplicates_total = duplicates.len() + duplicate_notes.len();
    println!("\n== chaos figures ==");
    println!(
        "orders driven:            {} ({} with an unknown SKU)",
        tally.orders.len(),
        tally.orders.iter().filter(|(_, u)| *u).count()
    );
    println!(
        "cancellations sent:       {} (applied {cancels_applied})",
        tally.cancelled.len()
    );
    println!(
        "refunds sent:             {} (credit notes posted {refunds_posted})",
        tally.refunds.len()
    );
    println!("bad deliveries:           {} forged (401, none stored), {} unusable (kept as payload_invalid)",
        tally.refused.len(), tally.invalid.len());
    println!(
        "events acknowledged:      {} / stored {}  (redeliveries {})",
        acked.len(),
        accepted.len(),
        tally.redeliveries
    );
    println!("orders in SAP:            {posted}; waiting as exceptions: {waiting}");
    println!("lost:                     {}", lost.len());
    println!("duplicates:               {duplicates_total}");
    println!("kills survived:           {kills} {:?}", w.injected.kills);
    println!("Postgres crashes:         {}", w.injected.postgres_restarts);
    println!(
        "SAP down:                 {} (sessions expired {} times)",
        w.injected.sap_down, w.injected.sap_session_expiries
    );
    println!(
        "SAP faults injected:      lock errors {}, 5xx {}, lost responses {} (phases {:?})",
        stats.injected.lock_errors,
        stats.injected.server_errors,
        stats.injected.lost_responses,
        w.injected.phases
    );
    println!("SAP logins:               {}", stats.logins);
    println!("SAP concurrency:          peak {} over all processes, {} per process (limit {SAP_LIMIT} per process, {} processes)",
        stats.max_concurrent_requests, stats.max_concurrent_requests_per_session, processes);
    println!(
        "Magento faults injected:  statuses {:?}",
        m.injected_statuses
    );
    for what in &w.injected.magento_down_runs {
        println!("Magento down:             {what}");
    }
    println!(
        "Magento stock checked:    {stock_checked} SKUs, {} wrong",
        stock_wrong.len()
    );
    println!(
        "Magento prices checked:   {prices_checked} SKUs, {} wrong",
        prices_wrong.len()
    );
    if violations.is_empty() {
        println!("violations:               0");
    } else {
        println!("violations:               {}", violations.len());
        for v in violations.iter().take(30) {
            println!("  - {v}");
        }
        if violations.len() > 30 {
            println!("  … and {} more", violations.len() - 30);
        }
        for p in &w.processes {
            println!("--- last lines of {} ---\n{}", p.name, p.log_tail(15));
        }
    }
    Ok(violations.is_empty())
}

/// Starts a run of `kind` through the API once none is active and waits until one succeeds
/// (a failed one is started again, up to five times).
async fn final_run(w: &World, kind: &str, path: &str) -> anyhow::Result<()> {
    let app = w
        .processes
        .iter()
        .find_map(|p| p.url.clone())
        .unwrap_or_default();
    for _ in 0..5 {
        let run_id = loop {
            let response = w
                .http
                .post(format!("{app}{path}"))
                .bearer_auth(&w.admin)
                .send()
                .await?;
            if response.status().as_u16() == 202 {
                let body: serde_json::Value = response.json().await?;
                break body["run_id"].as_str().unwrap_or_default().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let id = uuid::Uuid::parse_str(&run_id)?;
        let status = || async {
            sqlx::query_scalar::<_, String>("SELECT status FROM runs WHERE id = $1")
                .bind(id)
                .fetch_one(&w.pool)
                .await
                .unwrap_or_default()
        };
        let done = b1bridge::demo::traffic::wait(Duration::from_secs(120), || async {
            matches!(status().await.as_str(), "succeeded" | "failed")
        })
        .await;
        let status = status().await;
        if done && status == "succeeded" {
            return Ok(());
        }
    }
    anyhow::bail!("no {kind} run succeeded in five tries")
}
