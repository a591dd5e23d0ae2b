//! `b1bridge demo`, run as a user runs it: the real binary, its own simulators and traffic.
//! Once against a test database (to check what the story left in it), once with the
//! private Postgres it starts itself, stopped with Ctrl-C (SIGINT) half-way through, to check
//! that nothing is left running or on disk.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::TestDb;

/// The demo with a `TMPDIR` of its own (so its temporary files can be checked), its
/// narration as lines on a channel.
struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    tmp: PathBuf,
}

impl Demo {
    fn start(database_url: Option<&str>, args: &[&str]) -> Self {
        let tmp = std::env::temp_dir().join(format!("b1b-demo-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&tmp).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_b1bridge"));
        cmd.arg("demo")
            .args(["--listen", "127.0.0.1:0", "--pace-ms", "100"])
            .args(args)
            .env("TMPDIR", &tmp)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        match database_url {
            Some(url) => cmd.env("DATABASE_URL", url),
            None => cmd.env_remove("DATABASE_URL"),
        };
        let mut child = cmd.spawn().expect("the binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
            tmp,
        }
    }

    /// Reads narration until a line contains `text` (panics after `patience`).
    fn wait_for(&mut self, text: &str, patience: Duration) -> String {
        let deadline = Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line with {text:?} within {patience:?}; so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits for the process to end; the rest of its narration is kept.
    fn wait_exit(&mut self, patience: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(line);
                }
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the demo did not stop within {patience:?}:\n{}",
                    self.seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Increment ids of the orders whose narration line contains `what`.
    fn orders_placed(&self, what: &str) -> Vec<String> {
        self.seen
            .iter()
            .filter(|l| l.contains(" placed (") && l.contains(what))
            .filter_map(|l| l.split_whitespace().nth(2).map(str::to_owned))
            .collect()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// Processes whose command line mentions `path` (a private Postgres runs with `-D <path>/…`).
fn processes_mentioning(path: &Path) -> Vec<String> {
    let needle = path.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| {
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(&needle).then_some(cmdline)
        })
        .collect()
}

/// The SAP B1 and Magento simulators' roots, from the narration's line naming them.
fn simulators(narration: &str) -> (String, String) {
    let line = narration
        .lines()
        .find(|l| l.contains("SAP B1 simulator at "))
        .expect("the demo names its simulators");
    let url_after = |label: &str| {
        let rest = &line[line.find(label).unwrap() + label.len()..];
        rest.split([',', ' ']).next().unwrap().to_owned()
    };
    let sap = url_after("SAP B1 simulator at ");
    let magento = url_after("Magento simulator at ");
    (
        sap.trim_end_matches("/b1s/v1").to_owned(),
        magento.trim_end_matches("/rest/default").to_owned(),
    )
}

/// `GET /b1s/v1/{path}` on the SAP simulator, logged in as the demo's workers are.
async fn sap_get(root: &str, path: &str) -> serde_json::Value {
    let http = reqwest::Client::new();
    let base = format!("{root}/b1s/v1");
    let cookie = crate::sap_sim::login_at(&http, &base).await;
    let res = http
        .get(format!("{base}/{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.unwrap()
}

async fn count(pool: &sqlx::PgPool, sql: &str, ids: &[String]) -> i64 {
    sqlx::query_scalar(sql)
        .bind(ids)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// While the demo still runs (its simulators live in its process): the delivery SAP made of
/// the 23 % tax order is a shipment in Magento with its tracking number, and the bundle
/// order's credit memo an A/R credit memo in SAP, each as the simulator itself shows it.
async fn check_simulators(demo: &Demo, narration: &str, db: &TestDb) {
    // The delivery SAP made of the 23 % tax order is a shipment in Magento, with its tracking
    // number, as the Magento simulator itself shows it.
    let (sap_root, magento_root) = simulators(narration);
    let shipped = narration
        .lines()
        .find(|l| l.contains("tracking 1Z999AA10123456784"))
        .and_then(|l| l.split(" of order ").nth(1))
        .and_then(|rest| rest.split(',').next())
        .expect("the narration names the shipped order")
        .to_owned();
    assert!(demo.orders_placed("23 % tax").contains(&shipped));
    let entity_id: Option<i64> =
        sqlx::query_scalar("SELECT magento_entity_id FROM orders WHERE increment_id = $1")
            .bind(&shipped)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let shipments: serde_json::Value = reqwest::get(format!(
        "{magento_root}/sim/control/orders/{}/shipments",
        entity_id.expect("the order's Magento id")
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let shipments = shipments.as_array().expect("a list");
    assert_eq!(shipments.len(), 1, "{shipments:?}");
    assert_eq!(
        shipments[0]["tracks"][0]["track_number"], "1Z999AA10123456784",
        "{shipments:?}"
    );
    assert_eq!(shipments[0]["notify"], false, "the default: no e-mail");
    // The order's page says so, as an operator reads it.
    let word_after = |label: &str| {
        let line = narration.lines().find(|l| l.contains(label)).unwrap();
        let rest = &line[line.find(label).unwrap() + label.len()..];
        rest.split_whitespace().next().unwrap().to_owned()
    };
    let (app, admin) = (word_after("b1bridge demo on "), word_after("admin token:"));
    let detail: serde_json::Value = reqwest::Client::new()
        .get(format!("{app}/api/v1/orders/{shipped}"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shipped_entry = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "shipped")
        .unwrap_or_else(|| panic!("no shipped entry: {detail}"));
    assert!(
        shipped_entry["summary"]
            .as_str()
            .unwrap()
            .contains("tracking 1Z999AA10123456784"),
        "{shipped_entry}"
    );
    assert!(!shipments[0]["items"].as_array().unwrap().is_empty());

    // The bundle order's credit memo is an A/R credit memo in SAP, as SAP itself shows it:
    // referenced by the credit memo's number, crediting the returned tee.
    let refunded = demo.orders_placed("bundle + configurable");
    let (memo, entry): (String, Option<i32>) = sqlx::query_as(
        "SELECT credit_memo_id, sap_doc_entry FROM refunds
          WHERE order_increment_id = ANY($1) AND status = 'posted'",
    )
    .bind(&refunded)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let note = sap_get(
        &sap_root,
        &format!("CreditNotes({})", entry.expect("the SAP document")),
    )
    .await;
    assert_eq!(note["NumAtCard"], memo, "{note}");
    let lines = note["DocumentLines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["ItemCode"] == "WS12-M-Orange" && l["BaseType"] == 13),
        "a line copying the invoice's tee: {note}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_tells_its_story_through_the_webhook_and_the_queue_has_its_failures() {
    let db = TestDb::new().await;
    let mut demo = Demo::start(Some(&db.url), &["--orders", "14", "--exit-when-done"]);
    tokio::task::block_in_place(|| {
        demo.wait_for("credited by A/R credit memo", Duration::from_secs(180))
    });
    // The shipment and the refund are checked in the simulators, which go when the demo
    // ends; it cannot end before the lock storm's orders are sent and settled.
    check_simulators(&demo, &demo.seen.join("\n"), &db).await;
    let status = tokio::task::block_in_place(|| demo.wait_exit(Duration::from_secs(240)));
    assert!(status.success(), "{status:?}:\n{}", demo.seen.join("\n"));
    let narration = demo.seen.join("\n");
    assert!(narration.contains("every order has settled"), "{narration}");
    assert!(
        narration.contains("· shipments 1 · refunds 1"),
        "the final summary counts them: {narration}"
    );

    // 14 orders arrived as signed webhooks (an unsigned one would not be stored).
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_events WHERE outcome = 'accepted'
            AND headers ? 'webhook-signature'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        events, 16,
        "14 placements, 1 cancellation and 1 credit memo"
    );
    let all = demo.orders_placed("");
    assert_eq!(all.len(), 14, "{narration}");
    let posted = count(
        &db.pool,
        "SELECT count(*) FROM orders WHERE increment_id = ANY($1) AND status = 'posted'",
        &all,
    )
    .await;
    assert!(posted >= 10, "{posted} posted:\n{narration}");
    let cancelled = count(
        &db.pool,
        "SELECT count(*) FROM orders WHERE increment_id = ANY($1) AND status = 'cancelled'
            AND sap_doc_entry IS NOT NULL",
        &all,
    )
    .await;
    assert_eq!(
        cancelled, 1,
        "the first order, cancelled after it was posted"
    );

    // The failures, each on the order that was meant to fail.
    for (what, category) in [
        ("a SKU SAP B1 does not know", "unknown_sku"),
        ("over the approval limit", "approval_pending"),
        ("sub-cent tax", "total_mismatch"),
    ] {
        let ids = demo.orders_placed(what);
        assert_eq!(ids.len(), 1, "{what}");
        let open: Vec<String> = sqlx::query_scalar(
            "SELECT category FROM exceptions WHERE order_increment_id = $1 AND status = 'open'",
        )
        .bind(&ids[0])
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(open, [category], "{what}");
    }

    // The lock storm made SAP refuse writes; its orders were retried and posted all the same.
    let stormy = demo.orders_placed("during the lock storm");
    assert_eq!(stormy.len(), 3);
    let retried = count(
        &db.pool,
        "SELECT count(*) FROM outbox WHERE increment_id = ANY($1) AND kind = 'post_order'
            AND attempt > 1",
        &stormy,
    )
    .await;
    assert!(retried >= 1, "no storm order needed a second attempt");
    let stormy_posted = count(
        &db.pool,
        "SELECT count(*) FROM orders WHERE increment_id = ANY($1) AND status = 'posted'",
        &stormy,
    )
    .await;
    assert_eq!(stormy_posted, 3);

    // The recount in SAP reached Magento (the demo waits for it) through recorded stock syncs.
    assert!(narration.contains("Magento's source 'default' shows 12"));
    let pushed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM stock_pushed WHERE sku = '24-MB01' AND quantity = 12
            AND outcome = 'pushed'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(pushed, 1);

    assert_eq!(std::fs::read_dir(&demo.tmp).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_the_demo_and_its_private_postgres_and_leaves_no_files() {
    let mut demo = Demo::start(None, &[]);
    tokio::task::block_in_place(|| {
        let url = demo.wait_for("more tokens:", Duration::from_secs(120));
        assert!(url.contains("postgres://postgres@127.0.0.1:"), "{url}");
        demo.wait_for(" placed (", Duration::from_secs(60));
    });
    // The private cluster lives in the demo's TMPDIR while it runs.
    let cluster = std::fs::read_dir(&demo.tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("data").join("PG_VERSION").is_file())
        .expect("a private cluster in TMPDIR");
    assert!(!processes_mentioning(&cluster).is_empty(), "Postgres runs");

    let sigint = Command::new("kill")
        .args(["-INT", &demo.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sigint.success());
    let status = tokio::task::block_in_place(|| demo.wait_exit(Duration::from_secs(90)));
    let narration = demo.seen.join("\n");
    assert!(status.success(), "{status:?}:\n{narration}");
    assert!(
        narration.contains("Ctrl-C: stopping everything"),
        "{narration}"
    );
    assert!(
        narration.contains("private Postgres stopped"),
        "{narration}"
    );
    assert_eq!(processes_mentioning(&cluster), Vec::<String>::new());
    let left: Vec<_> = std::fs::read_dir(&demo.tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}
