//! `POST /Login` and `POST /Logout` (reference §1).
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::errors::ServiceLayerError;
use super::json_input::{parse_object, Fields};
use super::responses::{sl_json, sl_no_content};
use super::session::session_cookie;
use super::state::SapSimState;
use super::stats::bump;

/// The version string a 10.0 FP Service Layer reports (the GUIDE's example has "1000110").
const SL_VERSION: &str = "1000190";

pub async fn login(State(state): State<SapSimState>, headers: HeaderMap, body: Bytes) -> Response {
    match open_session(&state, &headers, &body) {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

fn open_session(
    state: &SapSimState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ServiceLayerError> {
    let object = parse_object(body)?;
    let f = Fields::new(&object, "B1Session");
    let company_db = f.string("CompanyDB")?.unwrap_or_default();
    let username = f.string("UserName")?.unwrap_or_default();
    let password = f.string("Password")?.unwrap_or_default();
    if !state.credentials_match(&company_db, &username, &password) {
        // The real code and text for bad credentials were not found (reference §1); a client
        // must treat a 401 from /Login as permanent rather than log in again.
        return Err(ServiceLayerError::new(
            StatusCode::UNAUTHORIZED,
            100000027,
            "Login failed",
        ));
    }
    let (session_id, minutes) = state.with_sessions(|s| (s.open(), s.timeout_minutes()));
    bump(&state.traffic().logins);
    let body = json!({
        "odata.metadata": format!("{}/$metadata#B1Sessions/@Element", base_url(state, headers)),
        "SessionId": session_id,
        "Version": SL_VERSION,
        "SessionTimeout": minutes,
    });
    let mut response = sl_json(StatusCode::OK, &body);
    // Exactly as GUIDE p.14 shows them: no Path and a trailing ';' on B1SESSION.
    let cookies = response.headers_mut();
    let session_cookie = HeaderValue::from_str(&format!("B1SESSION={session_id};HttpOnly;"))
        .map_err(|_| ServiceLayerError::bad_request("unencodable session id"))?;
    cookies.append(header::SET_COOKIE, session_cookie);
    cookies.append(
        header::SET_COOKIE,
        HeaderValue::from_static("ROUTEID=.node1; path=/b1s"),
    );
    Ok(response)
}

/// The gateway has already checked the session.
pub async fn logout(State(state): State<SapSimState>, headers: HeaderMap) -> Response {
    if let Some(id) = session_cookie(&headers) {
        state.with_sessions(|s| s.close(&id));
    }
    sl_no_content()
}

/// `http(s)://<Host>/b1s/v1`, for `odata.metadata`.
pub fn base_url(state: &SapSimState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{}://{host}/b1s/v1", state.scheme())
}
