//! Bearer tokens and roles on `/api/v1` (contract §3): 401 without or with an unknown token,
//! 403 when the role is too low, the public endpoints open, and minted tokens stored hashed.
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api_common::*;
use crate::support::spawn_app;

#[tokio::test]
async fn api_calls_without_a_known_token_get_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/exceptions",
        "/api/v1/orders",
        "/api/v1/mappings/skus",
        "/api/v1/settings",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{path}");
        problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;

        let res = call(&app, Method::GET, path, "not-a-token-of-ours")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let p = problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
        assert!(!p.to_string().contains("not-a-token-of-ours"), "{p}");

        let res = app
            .client
            .get(app.url(path))
            .header("authorization", format!("Basic {VIEWER}"))
            .send()
            .await
            .unwrap();
        problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_act() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/exceptions",
        "/api/v1/orders",
        "/api/v1/mappings/warehouses",
        "/api/v1/settings",
    ] {
        get_json(&app, path, VIEWER).await;
    }
    let id = uuid::Uuid::now_v7();
    for path in [
        format!("/api/v1/exceptions/{id}/retry"),
        format!("/api/v1/exceptions/{id}/resolve"),
        format!("/api/v1/exceptions/{id}/ignore"),
        "/api/v1/orders/000000001/retry".to_string(),
    ] {
        let res = post_json(&app, &path, VIEWER, json!({"note": "x"})).await;
        let p = problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(
            p["detail"],
            "this needs the operator role; the token has viewer"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_operator_acts_but_cannot_change_mappings_or_settings_and_an_admin_can() {
    let app = spawn_app().await;
    // An operator passes the role check of actions (404: the exception does not exist).
    let res = post_json(
        &app,
        &format!("/api/v1/exceptions/{}/resolve", uuid::Uuid::now_v7()),
        OPERATOR,
        json!({"note": "x"}),
    )
    .await;
    problem(res, StatusCode::NOT_FOUND, "not_found").await;

    let put = |token: &'static str| {
        call(
            &app,
            Method::PUT,
            "/api/v1/mappings/skus/MH01-S-Gray",
            token,
        )
        .json(&json!({"item_code": "MH01-S-GRY"}))
    };
    problem(
        put(OPERATOR).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    problem(
        put(VIEWER).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let res = call(
        &app,
        Method::DELETE,
        "/api/v1/mappings/skus/MH01-S-Gray",
        OPERATOR,
    )
    .send()
    .await
    .unwrap();
    problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = call(&app, Method::PUT, "/api/v1/settings", OPERATOR)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    assert_eq!(put(ADMIN).send().await.unwrap().status(), StatusCode::OK);
    let res = call(&app, Method::PUT, "/api/v1/settings", ADMIN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Admins may also do what operators do.
    let res = post_json(&app, "/api/v1/orders/000000404/retry", ADMIN, json!({})).await;
    problem(res, StatusCode::NOT_FOUND, "not_found").await;
    app.stop().await;
}

#[tokio::test]
async fn the_role_check_comes_before_the_body_is_read() {
    let app = spawn_app().await;
    let res = call(&app, Method::PUT, "/api/v1/mappings/skus/A", VIEWER)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    app.stop().await;
}

#[tokio::test]
async fn health_metrics_spec_docs_and_webhook_need_no_token() {
    let app = spawn_app().await;
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/docs/redoc.standalone.js",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    // The webhook authenticates by signature, not by bearer token.
    place_order(&app, "000000001", "a@example.com", &["A"]).await;
    app.stop().await;
}

#[tokio::test]
async fn a_minted_token_is_stored_only_as_a_hash_and_its_printed_secret_authenticates() {
    let app = spawn_app().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_b1bridge"))
        .args([
            "token", "create", "--name", "ops-anna", "--role", "operator",
        ])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .expect("b1bridge runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("b1b_") && secret.len() > 40, "{secret}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("shown only this once"));

    let (role, stored): (String, String) =
        sqlx::query_as("SELECT role, secret_sha256 FROM api_tokens WHERE name = 'ops-anna'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(role, "operator");
    assert_eq!(stored, b1bridge::domain::access::secret_hash(&secret));
    let anywhere: i64 =
        sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE secret_sha256 = $1 OR name = $1")
            .bind(&secret)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(anywhere, 0, "the secret itself is nowhere");

    // It authenticates as an operator: it may act, not administer.
    get_json(&app, "/api/v1/exceptions", &secret).await;
    let res = post_json(&app, "/api/v1/orders/000000404/retry", &secret, json!({})).await;
    problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = call(&app, Method::PUT, "/api/v1/settings", &secret)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(
        audit_of(&app, "token", "ops-anna").await,
        vec![("cli".into(), "create".into(), Some("operator".into()))]
    );

    // The same name cannot be minted twice; a revoked token stops working.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_b1bridge"))
        .args(["token", "create", "--name", "ops-anna", "--role", "admin"])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(again.stdout.is_empty(), "no secret printed on failure");
    let revoke = std::process::Command::new(env!("CARGO_BIN_EXE_b1bridge"))
        .args(["token", "revoke", "--name", "ops-anna"])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let res = call(&app, Method::GET, "/api/v1/exceptions", &secret)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    app.stop().await;
}

#[tokio::test]
async fn token_create_refuses_an_unknown_role() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_b1bridge"))
        .args(["token", "create", "--name", "x", "--role", "root"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("'root' is not viewer, operator or admin")
    );
}
