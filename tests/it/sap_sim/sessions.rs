//! Login, cookies, session expiry and the balancer's refusal of `Expect: 100-continue`.
use super::{credentials, login, read, Answer, Sl};
use b1bridge::sim::sap_b1::{spawn, SapSimConfig};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

fn assert_invalid_session(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    assert_eq!(
        answer.error(),
        (
            301,
            "Invalid session or session already timeout.".to_owned()
        )
    );
}

#[tokio::test]
async fn login_sets_exactly_the_two_documented_cookies_and_answers_the_session() {
    let sim = spawn(SapSimConfig::default()).await.unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/Login", sim.base_url()))
        .json(&credentials())
        .send()
        .await
        .unwrap();
    let answer = read(response).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    let session = body["SessionId"].as_str().unwrap();
    let cookies: Vec<&str> = answer
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        cookies,
        [
            format!("B1SESSION={session};HttpOnly;").as_str(),
            "ROUTEID=.node1; path=/b1s"
        ]
    );
    assert_eq!(body["SessionTimeout"], 30);
    assert!(body["Version"].is_string());
    assert!(body["odata.metadata"]
        .as_str()
        .unwrap()
        .ends_with("/b1s/v1/$metadata#B1Sessions/@Element"));
    assert_eq!(
        answer.header("content-type"),
        Some("application/json;odata=minimalmetadata;charset=utf-8")
    );
    assert_eq!(answer.header("DataServiceVersion"), Some("3.0"));
    assert_eq!(sim.stats().logins, 1);
}

#[tokio::test]
async fn wrong_credentials_get_401_with_a_v1_error_body_and_no_cookie() {
    let sim = spawn(SapSimConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    for (db, user, password) in [
        ("SBODEMOGB", "manager", "wrong"),
        ("OTHERDB", "manager", "1234"),
        ("SBODEMOGB", "", "1234"),
    ] {
        let body = serde_json::json!({"CompanyDB": db, "UserName": user, "Password": password});
        let answer = read(
            http.post(format!("{}/Login", sim.base_url()))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_ne!(
            answer.error().0,
            301,
            "a bad login must not look like an expired session"
        );
        assert!(answer.header("set-cookie").is_none());
    }
    assert_eq!(sim.stats().logins, 0);
}

#[tokio::test]
async fn requests_without_a_valid_session_get_401_code_301() {
    let sl = Sl::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/Items('RACER')", sl.sim.base_url());
    assert_invalid_session(&read(http.get(&url).send().await.unwrap()).await);
    let bogus = http
        .get(&url)
        .header("Cookie", "B1SESSION=not-a-session; ROUTEID=.node1");
    assert_invalid_session(&read(bogus.send().await.unwrap()).await);
    // ROUTEID alone is not a session; B1SESSION alone is (ROUTEID is only stickiness).
    let session_only = sl.cookie.split(';').next().unwrap().to_owned();
    let answer = read(
        http.get(&url)
            .header("Cookie", session_only)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn expired_sessions_get_401_code_301_until_the_client_logs_in_again() {
    let mut sl = Sl::start().await;
    assert_eq!(sl.get("Items('RACER')").await.status, StatusCode::OK);
    sl.sim.expire_all_sessions();
    assert_invalid_session(&sl.get("Items('RACER')").await);
    sl.cookie = login(&sl.http, &sl.sim).await;
    assert_eq!(sl.get("Items('RACER')").await.status, StatusCode::OK);
    // The same through the control endpoint.
    let answer = sl.control("expire-sessions", &serde_json::json!({})).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert_invalid_session(&sl.get("Items('RACER')").await);
}

#[tokio::test]
async fn session_timeout_is_idle_time_and_slides_with_every_request() {
    let timeout = Duration::from_secs(1);
    let sl = Sl::start_with(SapSimConfig {
        session_timeout: timeout,
        ..Default::default()
    })
    .await;
    // Used every 300 ms for twice the timeout: it stays alive.
    let start = Instant::now();
    while start.elapsed() < 2 * timeout {
        assert_eq!(sl.get("Warehouses('01')").await.status, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Left alone, it dies: poll the control stats (which do not touch sessions).
    let deadline = Instant::now() + 5 * timeout;
    while sl.sim.stats().live_sessions > 0 {
        assert!(Instant::now() < deadline, "the idle session never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_invalid_session(&sl.get("Warehouses('01')").await);
}

#[tokio::test]
async fn logout_ends_the_session_with_204() {
    let sl = Sl::start().await;
    let answer = sl.post_empty("Logout").await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert_invalid_session(&sl.get("Items('RACER')").await);
}

#[tokio::test]
async fn expect_100_continue_gets_the_balancers_empty_500_and_connection_close() {
    let sim = spawn(SapSimConfig::default()).await.unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/Login", sim.base_url()))
        .header("Expect", "100-continue")
        .json(&credentials())
        .send()
        .await
        .unwrap();
    let answer = read(response).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(answer.text.is_empty());
    assert_eq!(sim.stats().logins, 0);
}
