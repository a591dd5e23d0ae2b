//! What stands in front of every `/b1s/v1` request, in the order a real installation applies
//! it: the Apache balancer (concurrency count, `Expect: 100-continue` failure, injected
//! latency and 5xx) and then the session check (everything except `/Login`).
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::{Duration, Instant};

use super::errors::ServiceLayerError;
use super::session::session_cookie;
use super::state::SapSimState;
use super::stats::{bump, InFlightSlot};

pub async fn gateway(
    State(state): State<SapSimState>,
    mut request: Request,
    next: Next,
) -> Response {
    let in_flight = InFlightSlot::new(
        state
            .traffic()
            .begin(request.method().as_str(), request.uri().path()),
    );
    if expects_continue(request.headers()) {
        return expect_continue_failure();
    }
    let arrival = Instant::now();
    let roll = state.roll();
    let is_login = request.uri().path() == "/b1s/v1/Login";
    // Service calls (`CompanyService_GetAdminInfo`, `…Service_Preview`) read; only creates
    // and actions commit.
    let commits =
        request.method() == Method::POST && !is_login && !request.uri().path().contains("Service_");
    // A real Service Layer goes on with a request whose client has hung up (a timed-out
    // create may still commit), so the work runs in its own task: dropping this future (the
    // connection closed) does not cancel it.
    let work = tokio::spawn(async move {
        let _in_flight = in_flight.clone();
        request.extensions_mut().insert(in_flight);
        let wake_at = state.pacing().wake_at(arrival, roll.latency, commits);
        sleep_until_precisely(wake_at).await;
        if let Some(error) = roll.server_error {
            bump(&state.traffic().server_errors);
            return error.response();
        }
        // Held to the end of the work: the per-session concurrency count.
        let _session_in_flight = if is_login {
            None
        } else {
            let session =
                session_cookie(request.headers()).filter(|id| state.with_sessions(|s| s.touch(id)));
            let Some(session) = session else {
                return ServiceLayerError::invalid_session().into_response();
            };
            Some(state.traffic().begin_session(&session))
        };
        let write_latency = if commits {
            roll.write_latency
        } else {
            Duration::ZERO
        };
        sleep_precisely(write_latency).await;
        request.extensions_mut().insert(roll);
        let response = next.run(request).await;
        if !roll.latency.is_zero() {
            let after = wake_at.elapsed().saturating_sub(write_latency);
            state.pacing().record(commits, after);
        }
        response
    });
    match work.await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "simulator request task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Waits `d`, to within a few tens of microseconds; see [`sleep_until_precisely`].
async fn sleep_precisely(d: Duration) {
    if !d.is_zero() {
        sleep_until_precisely(Instant::now() + d).await;
    }
}

/// Waits until `deadline`, to within a few tens of microseconds. Tokio's timer counts whole
/// milliseconds and rounds up twice (the deadline to its next tick, the wait to the next
/// millisecond), so a bare `tokio::time::sleep(20 ms)` answers after about 21 ms: the
/// simulator would be a slower SAP than the latency it was given, and the pipeline benchmark
/// would charge that to b1bridge. So tokio sleeps all but the last 2 ms, and a thread of the
/// blocking pool sleeps the rest (`nanosleep`). Requests in flight are few (at most the
/// client's concurrency), so are those threads, each held for 2 ms at most.
async fn sleep_until_precisely(deadline: Instant) {
    const COARSE_SLACK: Duration = Duration::from_millis(2);
    let d = deadline.saturating_duration_since(Instant::now());
    if d.is_zero() {
        return;
    }
    if d > COARSE_SLACK {
        tokio::time::sleep(d - COARSE_SLACK).await;
    }
    let rest = deadline.saturating_duration_since(Instant::now());
    if !rest.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
}

/// The SL Apache balancer answers `Expect: 100-continue` with an empty 500 and closes the
/// connection (reference §8), so a client that sends it fails loudly in tests.
fn expect_continue_failure() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
