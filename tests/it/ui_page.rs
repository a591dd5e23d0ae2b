//! The operations page over HTTP (the browser story itself is tests/ui_browser): signing in
//! exchanges the token for an HttpOnly, SameSite=Strict session cookie; forms need the
//! session's CSRF token; revoking the token or signing out ends the session; roles hold.
use b1bridge::domain::access::{secret_hash, Role};
use b1bridge::store::tokens;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

use crate::api_common::*;
use crate::support::{spawn_app, TestApp};

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(h: &HeaderMap) -> &str {
    h[LOCATION].to_str().unwrap()
}

/// Signs in with `token`; returns the session cookie (`b1b_session=…`).
async fn sign_in(app: &TestApp, token: &str) -> String {
    let res = browser()
        .post(app.url("/ui/login"))
        .form(&[("token", token), ("next", "/ui/orders")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/ui/orders");
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(attrs.contains(&"HttpOnly"), "{cookie}");
    assert!(attrs.contains(&"SameSite=Strict"), "{cookie}");
    assert!(attrs.contains(&"Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires"),
        "a browser-session cookie: {cookie}"
    );
    assert!(!cookie.contains(token), "the cookie is not the token");
    attrs[0].to_owned()
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    browser()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn html(app: &TestApp, cookie: &str, path: &str) -> String {
    let res = page(app, cookie, path).await;
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    res.text().await.unwrap()
}

/// The CSRF token the page's forms carry.
fn csrf_of(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF token")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

async fn post_form(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    browser()
        .post(app.url(path))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn status_of(app: &TestApp, id: uuid::Uuid) -> String {
    get_json(app, &format!("/api/v1/exceptions/{id}"), VIEWER).await["exception"]["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_unsigned_browser_is_sent_to_the_login_form_and_back() {
    let app = spawn_app().await;
    let res = page(&app, "", "/ui/orders?status=parked").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(res.headers()),
        "/ui/login?next=%2Fui%2Forders%3Fstatus%3Dparked"
    );
    let form = page(&app, "", "/ui/login?next=%2Fui%2Forders").await;
    assert_eq!(form.status(), StatusCode::OK);
    let text = form.text().await.unwrap();
    assert!(
        text.contains(r#"<label for="token">API token</label>"#),
        "{text}"
    );
    assert!(text.contains(r#"name="next" value="/ui/orders""#));
    app.stop().await;
}

#[tokio::test]
async fn signing_in_checks_the_token_and_follows_only_local_paths() {
    let app = spawn_app().await;
    let cookie = sign_in(&app, OPERATOR).await;
    let queue = html(&app, &cookie, "/").await;
    assert!(queue.contains("Signed in as <strong>operator</strong> (operator)"));

    let refused = browser()
        .post(app.url("/ui/login"))
        .form(&[("token", "wrong-secret-0123456789")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().get(SET_COOKIE).is_none());
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("unknown or has been revoked"));

    let empty = browser()
        .post(app.url("/ui/login"))
        .form(&[("token", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let too_long = "x".repeat(1025);
    let long = browser()
        .post(app.url("/ui/login"))
        .form(&[("token", too_long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(long.status(), StatusCode::BAD_REQUEST);

    let offsite = browser()
        .post(app.url("/ui/login"))
        .form(&[("token", OPERATOR), ("next", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(offsite.headers()), "/");

    let cross_site = browser()
        .post(app.url("/ui/login"))
        .header("origin", "https://evil.example")
        .form(&[("token", OPERATOR)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert!(cross_site.headers().get(SET_COOKIE).is_none());

    let forged = page(&app, "b1b_session=made-up-value", "/").await;
    assert_eq!(forged.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

#[tokio::test]
async fn actions_need_the_sessions_csrf_token_and_the_operator_role() {
    let app = spawn_app().await;
    place_order(&app, "000950001", "a@example.com", &["MISSING-1"]).await;
    let id = park_with(&app, &unknown_sku("000950001", "MISSING-1")).await;
    let action = format!("/ui/exceptions/{id}/action");

    // A viewer sees the row but no action, and an action is refused with the reason.
    let viewer = sign_in(&app, VIEWER).await;
    let queue = html(&app, &viewer, "/").await;
    assert!(queue.contains("000950001") && queue.contains("MISSING-1"));
    assert!(!queue.contains(&action), "no action form for a viewer");
    let csrf = csrf_of(&queue);
    let res = post_form(
        &app,
        &viewer,
        &action,
        &[("csrf", &csrf), ("action", "retry")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("b1b_flash=error"));
    assert_eq!(status_of(&app, id).await, "open");

    // An operator's form without the session's CSRF token changes nothing.
    let operator = sign_in(&app, OPERATOR).await;
    let queue = html(&app, &operator, "/").await;
    assert!(queue.contains(&action));
    let csrf = csrf_of(&queue);
    let res = post_form(
        &app,
        &operator,
        &action,
        &[("csrf", "forged"), ("action", "retry")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, id).await, "open");
    let other_session_csrf = csrf_of(&html(&app, &viewer, "/").await);
    let res = post_form(
        &app,
        &operator,
        &action,
        &[("csrf", &other_session_csrf), ("action", "retry")],
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "another session's token"
    );

    // Resolving needs a note, as in the API: refused with the reason, shown after the redirect.
    let res = post_form(
        &app,
        &operator,
        &action,
        &[
            ("csrf", &csrf),
            ("action", "resolve"),
            ("return_to", "/?team=merchandising"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/?team=merchandising");
    let flash = res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(flash.starts_with("b1b_flash=error"), "{flash}");
    let shown = html(
        &app,
        &format!("{operator}; {flash}"),
        "/?team=merchandising",
    )
    .await;
    assert!(shown.contains("note: is required"), "the refusal is shown");
    assert_eq!(status_of(&app, id).await, "open");

    // The real thing: retried, with the note in the audit log under the operator's name.
    let res = post_form(
        &app,
        &operator,
        &action,
        &[
            ("csrf", &csrf),
            ("action", "retry"),
            ("note", "mapped in SAP"),
            ("return_to", "https://evil.example/"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/", "only local paths");
    assert_eq!(status_of(&app, id).await, "retrying");
    assert_eq!(
        audit_of(&app, "exception", &id.to_string()).await,
        vec![(
            "operator".into(),
            "retry".into(),
            Some("mapped in SAP".into())
        )]
    );

    // The order page shows it, and the report draws the day.
    let order = html(&app, &operator, "/ui/orders/000950001").await;
    assert!(order.contains("MISSING-1") && order.contains("retrying"));
    let report = html(&app, &operator, "/ui/report").await;
    assert!(report.contains(r#"role="img""#) && report.contains("Orders per hour (UTC)"));
    assert!(
        report.contains("Intake and sync")
            && report.contains("not measured: no reconciliation has run"),
        "drift and totals say they are not measured before a reconciliation"
    );
    app.stop().await;
}

#[tokio::test]
async fn admins_map_skus_on_the_page_and_others_cannot() {
    let app = spawn_app().await;
    let operator = sign_in(&app, OPERATOR).await;
    let table = html(&app, &operator, "/ui/mappings/skus").await;
    assert!(!table.contains(r#"id="edit""#), "no edit form below admin");
    let csrf = csrf_of(&table);
    let res = post_form(
        &app,
        &operator,
        "/ui/mappings/skus",
        &[("csrf", &csrf), ("key", "MH01"), ("item_code", "MH01-X")],
    )
    .await;
    assert!(res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("b1b_flash=error"));

    let admin = sign_in(&app, ADMIN).await;
    let table = html(&app, &admin, "/ui/mappings/skus?key=MH01").await;
    assert!(
        table.contains(r#"id="m-key" type="text" name="key" value="MH01""#),
        "pre-filled"
    );
    let csrf = csrf_of(&table);
    let res = post_form(
        &app,
        &admin,
        "/ui/mappings/skus",
        &[("csrf", &csrf), ("key", "MH01"), ("item_code", "MH01-X")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("b1b_flash=ok"));
    let stored = get_json(&app, "/api/v1/mappings/skus", VIEWER).await;
    assert_eq!(stored["items"][0]["key"], "MH01");
    assert_eq!(stored["items"][0]["value"]["item_code"], "MH01-X");
    assert_eq!(stored["items"][0]["updated_by"], "admin");

    let res = post_form(
        &app,
        &admin,
        "/ui/mappings/skus/delete",
        &[("csrf", &csrf), ("key", "MH01")],
    )
    .await;
    assert!(res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("b1b_flash=ok"));
    let stored = get_json(&app, "/api/v1/mappings/skus", VIEWER).await;
    assert_eq!(stored["items"].as_array().unwrap().len(), 0);
    app.stop().await;
}

#[tokio::test]
async fn revoking_the_token_or_signing_out_ends_the_session() {
    let app = spawn_app().await;
    let secret = "b1b_minted-for-the-page-0123456789";
    let mut conn = app.db.pool.acquire().await.unwrap();
    tokens::create(
        &mut conn,
        "anna",
        Role::Operator,
        &secret_hash(secret),
        "test",
    )
    .await
    .unwrap();
    let cookie = sign_in(&app, secret).await;
    assert_eq!(page(&app, &cookie, "/").await.status(), StatusCode::OK);
    tokens::revoke(&mut conn, "anna", "test").await.unwrap();
    let res = page(&app, &cookie, "/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(res.headers()).starts_with("/ui/login"));

    let cookie = sign_in(&app, OPERATOR).await;
    let csrf = csrf_of(&html(&app, &cookie, "/").await);
    let wrong = post_form(&app, &cookie, "/ui/logout", &[("csrf", "nope")]).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        page(&app, &cookie, "/").await.status(),
        StatusCode::OK,
        "still signed in"
    );
    let out = post_form(&app, &cookie, "/ui/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(out.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        page(&app, &cookie, "/").await.status(),
        StatusCode::SEE_OTHER
    );
    app.stop().await;
}

#[tokio::test]
async fn admins_change_settings_on_the_page() {
    let app = spawn_app().await;
    let operator = sign_in(&app, OPERATOR).await;
    let view = html(&app, &operator, "/ui/settings").await;
    assert!(
        !view.contains(r#"id="s-guest_policy""#),
        "read-only below admin"
    );

    let admin = sign_in(&app, ADMIN).await;
    let form = html(&app, &admin, "/ui/settings").await;
    assert!(form.contains(r#"<select id="s-guest_policy" name="guest_policy">"#));
    let csrf = csrf_of(&form);
    let mut fields: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("guest_policy", "per_email"),
        ("guest_card_code", "WEBGUEST"),
        ("card_code_prefix", "W"),
        ("default_warehouse", "01"),
        ("serial_batch_policy", "post"),
        ("default_freight_expense_code", "1"),
        ("tax_exempt_code", "EX"),
        ("safety_stock", "2.5"),
        ("item_cache_ttl_secs", "600"),
        ("tax_localization", ""),
        ("tax_strategy", "magento_line_tax"),
        ("total_tolerance", "0.01"),
        ("store_timezone", "Europe/London"),
    ];
    assert!(form.contains(r#"<select id="s-tax_localization" name="tax_localization">"#));
    let res = post_form(&app, &admin, "/ui/settings", &fields).await;
    assert!(res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("b1b_flash=ok"));
    let stored = get_json(&app, "/api/v1/settings", VIEWER).await;
    assert_eq!(stored["guest_policy"], "per_email");
    assert_eq!(stored["serial_batch_policy"], "post");
    assert_eq!(stored["item_cache_ttl_secs"], 600);
    assert_eq!(stored["safety_stock"].to_string(), "2.5");
    assert!(stored["tax_localization"].is_null(), "automatic");
    assert_eq!(stored["tax_strategy"], "magento_line_tax");
    assert_eq!(stored["total_tolerance"].to_string(), "0.01");
    assert_eq!(stored["store_timezone"], "Europe/London");

    // A value the API refuses is refused here too, naming the field; nothing changes.
    fields[9] = ("item_cache_ttl_secs", "5");
    let res = post_form(&app, &admin, "/ui/settings", &fields).await;
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap();
    let flash = percent_encoding::percent_decode_str(cookie).decode_utf8_lossy();
    assert!(
        flash.starts_with("b1b_flash=error:")
            && flash.contains("item_cache_ttl_secs: must be between 10 and 86400"),
        "{flash}"
    );
    assert_eq!(
        get_json(&app, "/api/v1/settings", VIEWER).await["item_cache_ttl_secs"],
        600
    );

    let res = post_form(
        &app,
        &operator,
        "/ui/settings",
        &[("csrf", &csrf_of(&view)), ("guest_policy", "hold")],
    )
    .await;
    assert!(res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("b1b_flash=error"));
    assert_eq!(
        get_json(&app, "/api/v1/settings", VIEWER).await["guest_policy"],
        "per_email"
    );
    app.stop().await;
}
