//! Injected faults: lock errors, balancer 5xx, lost responses, their determinism, and the
//! concurrency statistics.
use super::{order, Sl};
use b1bridge::sim::sap_b1::{Faults, SapSimConfig};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn injected_lock_errors_are_minus_2039_and_write_nothing() {
    let sl = Sl::start().await;
    sl.sim
        .set_faults(Faults {
            lock_error_rate: 1.0,
            ..Default::default()
        })
        .unwrap();
    let answer = sl
        .post("Orders", &order("WEBGUEST", "L-1", "RACER", 1))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.error(),
        (-2039, "Another user or another operation modified data; to continue, open the window again (ODBC -2039)".to_owned())
    );
    assert_eq!(sl.sim.orders_by_num_at_card("L-1"), 0);
    // Reads are not writes: they still work.
    assert_eq!(sl.get("Items('RACER')").await.status, StatusCode::OK);
    assert_eq!(sl.sim.stats().injected.lock_errors, 1);
    sl.sim.set_faults(Faults::default()).unwrap();
    sl.create_order(&order("WEBGUEST", "L-1", "RACER", 1)).await;
    assert_eq!(sl.sim.orders_by_num_at_card("L-1"), 1);
}

#[tokio::test]
async fn injected_server_errors_look_like_the_load_balancer() {
    let sl = Sl::start().await;
    let answer = sl
        .control("faults", &json!({"server_error_rate": 1.0, "seed": 3}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let answer = sl.get("Items('RACER')").await;
        match answer.status.as_u16() {
            502 | 503 => assert_eq!(answer.json(), json!({"message": "Service Unavailable"})),
            500 => assert!(answer.text.is_empty()),
            other => panic!("unexpected status {other}"),
        }
        seen.insert(answer.status.as_u16());
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [500, 502, 503]);
    assert_eq!(sl.sim.stats().injected.server_errors, 30);
}

#[tokio::test]
async fn a_lost_response_is_a_connection_error_yet_the_order_exists_exactly_once() {
    let sl = Sl::start().await;
    let sent = post_losing_answers(
        &sl,
        "Orders",
        Some(&order("WEBGUEST", "000000099", "RACER", 1)),
    )
    .await;
    let error = sent.expect_err("the response must be lost");
    // hyper's IncompleteMessage: the connection closed before any response arrived.
    assert!(error.is_request() && !error.is_status(), "{error:?}");
    assert!(
        format!("{error:?}").contains("IncompleteMessage"),
        "{error:?}"
    );
    sl.sim.set_faults(Faults::default()).unwrap();
    let found = sl
        .get("Orders?$filter=NumAtCard eq '000000099'&$select=DocEntry")
        .await
        .json();
    assert_eq!(found["value"].as_array().unwrap().len(), 1);
    assert_eq!(sl.sim.orders_by_num_at_card("000000099"), 1);
    assert_eq!(sl.sim.stats().injected.lost_responses, 1);
    // Reads never lose their response.
    sl.sim
        .set_faults(Faults {
            lost_response_rate: 1.0,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(sl.get("Items('RACER')").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_committed_cancel_can_lose_its_answer_too_and_the_order_stays_cancelled() {
    let sl = Sl::start().await;
    let entry = sl
        .create_order(&order("WEBGUEST", "LC-1", "RACER", 1))
        .await["DocEntry"]
        .as_i64()
        .unwrap();
    let sent = post_losing_answers(&sl, &format!("Orders({entry})/Cancel"), None).await;
    assert!(sent.is_err(), "the answer must be lost: {sent:?}");
    assert_eq!(sl.sim.stats().injected.lost_responses, 1);
    assert!(sl.sim.order(entry).unwrap().cancelled.is_yes());
    // A refused action has nothing to lose: its error arrives.
    let again = sl.post_empty(&format!("Orders({entry})/Cancel")).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.text);
    assert_eq!(sl.sim.stats().injected.lost_responses, 1);
}

/// Every answer lost from now on; then a raw `POST /b1s/v1/{path}` (the test client's own
/// helpers expect an answer).
async fn post_losing_answers(
    sl: &Sl,
    path: &str,
    body: Option<&serde_json::Value>,
) -> reqwest::Result<reqwest::Response> {
    sl.sim
        .set_faults(Faults {
            lost_response_rate: 1.0,
            ..Default::default()
        })
        .unwrap();
    let request = sl
        .http
        .post(format!("{}/{path}", sl.sim.base_url()))
        .header("Cookie", &sl.cookie);
    match body {
        Some(body) => request.json(body),
        None => request,
    }
    .send()
    .await
}

/// The statuses of `n` writes and reads against a fresh simulator with these faults.
async fn statuses(faults: Faults, n: usize) -> Vec<u16> {
    let sl = Sl::start_with(SapSimConfig {
        faults: Faults::default(),
        ..Default::default()
    })
    .await;
    sl.sim.set_faults(faults).unwrap();
    let mut out = Vec::new();
    for i in 0..n {
        let answer = if i % 2 == 0 {
            sl.post(
                "Orders",
                &order("WEBGUEST", &format!("S-{i}"), "24-WG084", 1),
            )
            .await
        } else {
            sl.get("Items('24-WG084')").await
        };
        out.push(answer.status.as_u16());
    }
    out
}

#[tokio::test]
async fn the_same_fault_seed_replays_the_same_faults() {
    let faults = |seed| Faults {
        lock_error_rate: 0.3,
        server_error_rate: 0.2,
        seed,
        ..Default::default()
    };
    let first = statuses(faults(42), 40).await;
    assert_eq!(first, statuses(faults(42), 40).await);
    assert_ne!(first, statuses(faults(43), 40).await);
    assert!(
        first.contains(&201) && first.contains(&400) && first.iter().any(|s| *s >= 500),
        "{first:?}"
    );
}

#[tokio::test]
async fn concurrent_requests_are_counted_and_latency_is_applied_outside_locks() {
    let sl = Sl::start().await;
    sl.sim
        .set_faults(Faults {
            latency_ms: 300,
            ..Default::default()
        })
        .unwrap();
    let started = std::time::Instant::now();
    let requests = (0..6).map(|_| sl.get("Warehouses"));
    let answers = futures::future::join_all(requests).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::OK));
    // Six requests of 300 ms each overlap instead of queueing behind a lock.
    assert!(started.elapsed() < std::time::Duration::from_millis(6 * 300));
    let stats = sl.sim.stats();
    assert_eq!(stats.max_concurrent_requests, 6);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.logins, 1);
    assert_eq!(stats.requests_by_path["GET /b1s/v1/Warehouses"], 6);
    assert_eq!(stats.requests_by_path["POST /b1s/v1/Login"], 1);
    let over_http: serde_json::Value = sl
        .http
        .get(format!("{}/sim/control/stats", sl.sim.root_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http["max_concurrent_requests"], 6);
}

#[tokio::test]
async fn a_lost_response_also_drops_the_connection_when_the_router_is_served_by_plain_axum() {
    use b1bridge::sim::sap_b1::{router, SapSimState};
    let state = SapSimState::new(SapSimConfig::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("http://{addr}/b1s/v1/Login"))
        .json(&super::credentials())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cookie = format!("B1SESSION={}", login["SessionId"].as_str().unwrap());
    state
        .set_faults(Faults {
            lost_response_rate: 1.0,
            ..Default::default()
        })
        .unwrap();
    let sent = http
        .post(format!("http://{addr}/b1s/v1/Orders"))
        .header("Cookie", cookie)
        .json(&order("WEBGUEST", "000000098", "RACER", 1))
        .send()
        .await;
    let error = sent.expect_err("the response must be lost");
    assert!(error.is_request(), "{error:?}");
    assert_eq!(state.orders_by_num_at_card("000000098"), 1);
}
