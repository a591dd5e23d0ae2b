//! Secrets never appear in logs or responses (contract §1): a real `b1bridge serve` runs with
//! recognisable webhook secret, SAP password, Magento token, API tokens and database password,
//! at `RUST_LOG=debug`, and is driven through its error paths — forged and valid webhooks,
//! unknown tokens, invalid bodies, an SAP that refuses the password, a Magento that refuses the
//! token — and then killed. Its whole stdout and stderr, every response (headers and body),
//! the start-up errors of bad configurations, and the `Debug` output a panic would print of
//! every settings value are searched for each secret.
use b1bridge::config::{self, MagentoSettings, SapSettings, WebhookKey, WebhookSettings};
use b1bridge::magento::signature;
use secrecy::SecretString;
use std::time::Duration;

use crate::support::process::{free_port, ready, Spawned};
use crate::support::{envelope, sample_order, wait_until, TestDb};

const WEBHOOK_SECRET: &str = "whsec_Y2FuYXJ5LXdlYmhvb2stc2VjcmV0LTQyNDI0Mg=="; // canary-webhook-secret-424242
const SAP_PASSWORD: &str = "canary-sap-password-777";
const MAGENTO_TOKEN: &str = "canary-magento-token-888";
const ADMIN_TOKEN: &str = "canary-admin-token-999999";
const OPERATOR_TOKEN: &str = "canary-operator-token-555555";
const DB_PASSWORD: &str = "canary-db-password-333";

/// What must never be seen: each secret, and the decoded webhook key.
fn secrets() -> Vec<String> {
    vec![
        WEBHOOK_SECRET.into(),
        WEBHOOK_SECRET.trim_start_matches("whsec_").into(),
        "canary-webhook-secret-424242".into(),
        SAP_PASSWORD.into(),
        MAGENTO_TOKEN.into(),
        ADMIN_TOKEN.into(),
        OPERATOR_TOKEN.into(),
        DB_PASSWORD.into(),
    ]
}

fn assert_clean(what: &str, text: &str) {
    for secret in secrets() {
        assert!(
            !text.contains(&secret),
            "{what} contains the secret {secret}:\n{}",
            &text[text.find(&secret).unwrap().saturating_sub(300)..]
                .chars()
                .take(600)
                .collect::<String>()
        );
    }
}

/// Runs a command that is expected to stop at start-up; returns its output. One still running
/// after 30 s (retrying a connection, say) is killed and its output read all the same.
fn failing(args: &[&str], env: &[(&str, String)]) -> String {
    let mut p = Spawned::b1bridge("secrets", args, env);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match p.try_wait() {
            Some(status) => {
                assert!(!status.success(), "{args:?} should fail");
                break;
            }
            None if std::time::Instant::now() > deadline => break,
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    if p.try_wait().is_none() {
        p.kill();
    }
    p.log()
}

fn with_password(url: &str, password: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_password(Some(password)).unwrap();
    u.to_string()
}

async fn text_of(res: reqwest::Response) -> String {
    let head = format!("{} {:?}", res.status(), res.headers());
    format!("{head}\n{}", res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn secrets_never_reach_logs_or_responses_even_on_error_paths() {
    let db = TestDb::new().await;
    // Trust authentication ignores the password, so it can ride along in the URL.
    let db_url = with_password(&db.url, DB_PASSWORD);
    let (sap_port, magento_port, port) = (free_port(), free_port(), free_port());
    let _sap = Spawned::b1bridge(
        "secrets",
        &[
            "sim",
            "sap-b1",
            "--listen",
            &format!("127.0.0.1:{sap_port}"),
        ],
        &[("SAP_B1_PASSWORD", "the-right-password".into())],
    );
    let _magento = Spawned::b1bridge(
        "secrets",
        &[
            "sim",
            "magento",
            "--listen",
            &format!("127.0.0.1:{magento_port}"),
        ],
        &[("MAGENTO_TOKEN", "the-right-token".into())],
    );
    let serve = Spawned::b1bridge(
        "secrets",
        &["serve"],
        &[
            ("DATABASE_URL", db_url.clone()),
            ("B1BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("B1BRIDGE_WEBHOOK_SECRETS", WEBHOOK_SECRET.into()),
            (
                "B1BRIDGE_API_TOKENS",
                format!("ci-admin:admin:{ADMIN_TOKEN},ci-operator:operator:{OPERATOR_TOKEN}"),
            ),
            ("SAP_B1_URL", format!("http://127.0.0.1:{sap_port}/b1s/v1")),
            ("SAP_B1_COMPANY_DB", "SBODEMOGB".into()),
            ("SAP_B1_USERNAME", "manager".into()),
            ("SAP_B1_PASSWORD", SAP_PASSWORD.into()),
            (
                "MAGENTO_URL",
                format!("http://127.0.0.1:{magento_port}/rest/default"),
            ),
            ("MAGENTO_TOKEN", MAGENTO_TOKEN.into()),
            ("RUST_LOG", "debug".into()),
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    assert!(
        ready(&client, &base).await,
        "serve did not start:\n{}",
        serve.log()
    );

    let mut seen = String::new();
    // Webhooks: a valid one (it goes on to SAP, which refuses the password), a forged one,
    // an unusable one, one in the wrong content type.
    let key = WebhookKey::parse(WEBHOOK_SECRET).unwrap();
    let now = chrono::Utc::now().timestamp();
    let order = sample_order("rest-order-guest-configurable.json");
    for (id, body, sign_with, content_type) in [
        (
            "msg_ok",
            envelope("order.placed", &order),
            key.bytes().to_vec(),
            "application/json",
        ),
        (
            "msg_forged",
            envelope("order.placed", &order),
            b"wrong".to_vec(),
            "application/json",
        ),
        (
            "msg_unusable",
            br#"{"type":"order.placed","data":{}}"#.to_vec(),
            key.bytes().to_vec(),
            "application/json",
        ),
        (
            "msg_text",
            envelope("order.placed", &order),
            key.bytes().to_vec(),
            "text/plain",
        ),
    ] {
        let res = client
            .post(format!("{base}/webhooks/magento"))
            .header("content-type", content_type)
            .header("webhook-id", id)
            .header("webhook-timestamp", now.to_string())
            .header(
                "webhook-signature",
                signature::sign(&sign_with, id, now, &body),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        seen += &text_of(res).await;
    }
    // The API: unknown tokens (one of them a secret of another kind), bad bodies, a run.
    let calls: [(reqwest::Method, &str, Option<&str>, Option<&str>); 7] = [
        (
            reqwest::Method::GET,
            "/api/v1/orders",
            Some(WEBHOOK_SECRET),
            None,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/settings",
            Some(ADMIN_TOKEN),
            None,
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/settings",
            Some(ADMIN_TOKEN),
            Some(r#"{"store_timezone": "Mars/Olympus"}"#),
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/mappings/skus/X",
            Some(ADMIN_TOKEN),
            Some("{not json"),
        ),
        (
            reqwest::Method::POST,
            "/api/v1/stock/sync",
            Some(OPERATOR_TOKEN),
            None,
        ),
        (reqwest::Method::GET, "/metrics", None, None),
        (reqwest::Method::GET, "/openapi.json", None, None),
    ];
    for (method, path, token, body) in calls {
        let mut req = client.request(method, format!("{base}{path}"));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        seen += &text_of(req.send().await.unwrap()).await;
    }
    // Wait for the failures to happen: the order's post attempted against SAP (login refused)
    // and the stock run finished (failed) against SAP and Magento.
    let attempted = wait_until(Duration::from_secs(60), || async {
        let post: i64 = sqlx::query_scalar("SELECT coalesce(max(attempt), 0)::bigint FROM outbox")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let open_runs: i64 =
            sqlx::query_scalar("SELECT count(*) FROM runs WHERE finished_at IS NULL")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        post >= 1 && open_runs == 0
    })
    .await;
    let log = serve.log();
    assert!(attempted, "no SAP attempt was made:\n{log}");
    for path in [
        "/api/v1/orders",
        "/api/v1/exceptions",
        "/api/v1/runs",
        "/api/v1/reports/daily",
    ] {
        let res = client
            .get(format!("{base}{path}"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        seen += &text_of(res).await;
    }
    drop(serve);
    assert!(
        log.contains("webhook rejected"),
        "the error paths ran:\n{log}"
    );
    assert_clean("the serve log", &log);
    assert_clean("the responses", &seen);
    // Stored failure details (the exceptions' and jobs' recorded errors) are shown to people too.
    let stored: String =
        sqlx::query_scalar("SELECT coalesce(string_agg(last_error::text, ' '), '') FROM outbox")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_clean("the recorded job errors", &stored);

    // Start-up errors that name the configuration.
    let db_elsewhere = with_password(
        &format!("postgres://postgres@127.0.0.1:{}/x", free_port()),
        DB_PASSWORD,
    );
    for (args, env) in [
        (
            vec!["serve"],
            vec![
                ("DATABASE_URL", db_elsewhere.clone()),
                ("B1BRIDGE_WEBHOOK_SECRETS", WEBHOOK_SECRET.into()),
            ],
        ),
        (
            vec!["serve", "--no-migrate"],
            vec![
                ("DATABASE_URL", db_url.clone()),
                (
                    "B1BRIDGE_WEBHOOK_SECRETS",
                    format!("{WEBHOOK_SECRET}!!,whsec_{SAP_PASSWORD}"),
                ),
            ],
        ),
        (
            vec!["serve", "--no-migrate"],
            vec![
                ("DATABASE_URL", db_url.clone()),
                ("B1BRIDGE_WEBHOOK_SECRETS", WEBHOOK_SECRET.into()),
                ("B1BRIDGE_API_TOKENS", format!("x:superuser:{ADMIN_TOKEN}")),
            ],
        ),
        (
            vec!["worker"],
            vec![
                ("DATABASE_URL", db_url.clone()),
                (
                    "SAP_B1_URL",
                    format!("http://manager:{SAP_PASSWORD}@127.0.0.1:1/b1s/v1"),
                ),
                ("SAP_B1_COMPANY_DB", "SBODEMOGB".into()),
                ("SAP_B1_USERNAME", "manager".into()),
                ("SAP_B1_PASSWORD", SAP_PASSWORD.into()),
            ],
        ),
    ] {
        let out = failing(&args, &env);
        assert!(!out.trim().is_empty(), "{args:?} says why it stops");
        assert_clean(&format!("{args:?} start-up error"), &out);
    }
}

/// A panic prints the `Debug` of whatever it names; no settings value shows a secret in it.
#[test]
fn settings_print_no_secret_in_debug_output() {
    let s = |v: &str| SecretString::from(v.to_owned());
    let webhook = WebhookSettings::from_raw(Some(&s(WEBHOOK_SECRET)), 300).unwrap();
    let sap = SapSettings::from_raw(
        Some("https://sap:50000/b1s/v1"),
        Some("SBODEMOGB"),
        Some("manager"),
        Some(&s(SAP_PASSWORD)),
        None,
        None,
    );
    let magento = MagentoSettings::from_raw(
        Some("https://shop.example/rest/default"),
        Some(&s(MAGENTO_TOKEN)),
    );
    let tokens = config::parse_api_tokens(Some(&s(&format!("a:admin:{ADMIN_TOKEN}")))).unwrap();
    let printed = format!("{webhook:?} {sap:?} {magento:?} {tokens:?}");
    assert!(
        printed.contains("manager"),
        "the settings were printed: {printed}"
    );
    assert_clean("Debug output", &printed);
}
