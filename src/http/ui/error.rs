//! How the page fails: not signed in → the login form; anything else → an HTML page with the
//! API's problem (status, title, detail, the fields at fault), never a bare status.
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::layout;
use crate::http::ApiError;

#[derive(Debug)]
pub enum UiError {
    /// No live session (or its token was revoked): sign in, then come back to `next`.
    SignIn {
        next: String,
    },
    /// A form whose CSRF token or origin does not match the session.
    Forged,
    Api(ApiError),
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        UiError::Api(e)
    }
}

impl From<crate::store::StoreError> for UiError {
    fn from(e: crate::store::StoreError) -> Self {
        UiError::Api(e.into())
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn { next } => {
                let to = format!("/ui/login?next={}", layout::query_escape(&next));
                Redirect::to(&to).into_response()
            }
            UiError::Forged => error_page(
                StatusCode::FORBIDDEN,
                "Form refused",
                "This form did not come from this page in your signed-in session. Reload the \
                 page and try again.",
                &[],
            ),
            UiError::Api(e) => {
                if let ApiError::Internal(detail) = &e {
                    tracing::error!(%detail, "internal error on the operations page");
                }
                let p = e.problem();
                let fields: Vec<String> = p
                    .errors
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect();
                let status =
                    StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut res = error_page(status, &p.title, &p.detail, &fields);
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    res.headers_mut()
                        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
                }
                res
            }
        }
    }
}

fn error_page(status: StatusCode, title: &str, detail: &str, fields: &[String]) -> Response {
    let body = html! {
        div.notice.error role="alert" {
            h2 { (title) }
            p { (detail) }
            @if !fields.is_empty() {
                ul { @for f in fields { li { (f) } } }
            }
            p { a href="/" { "Back to the exception queue" } }
        }
    };
    let mut res = layout::bare_page(title, body).into_response();
    *res.status_mut() = status;
    res
}
