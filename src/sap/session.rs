//! The one Service Layer session shared by every caller (reference §1, §9): the cookies that
//! identify it, and the bookkeeping that turns N simultaneous "session expired" answers into
//! exactly one new login.
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::error::SapError;

/// The cookies SAP needs on every request. `B1SESSION` is a bearer credential, so it is a
/// secret and never printed.
pub(crate) struct SessionCookies {
    b1session: SecretString,
    route_id: Option<String>,
}

impl std::fmt::Debug for SessionCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCookies")
            .field("b1session", &"[REDACTED]")
            .field("route_id", &self.route_id)
            .finish()
    }
}

impl SessionCookies {
    /// Builds the cookies from the login answer's `Set-Cookie` values, falling back to the
    /// body's `SessionId` (the same value) if a proxy dropped the cookie.
    pub fn from_login<'a>(
        set_cookies: impl IntoIterator<Item = &'a str>,
        body_session_id: Option<&str>,
    ) -> Option<Self> {
        let mut b1session = None;
        let mut route_id = None;
        for header in set_cookies {
            if let Some(v) = find_cookie(header, "B1SESSION") {
                b1session = Some(v);
            }
            if let Some(v) = find_cookie(header, "ROUTEID") {
                route_id = Some(v);
            }
        }
        let b1session = b1session.or_else(|| {
            body_session_id
                .map(str::trim)
                .filter(|s| is_cookie_value(s))
                .map(str::to_owned)
        })?;
        Some(Self {
            b1session: SecretString::from(b1session),
            route_id,
        })
    }

    /// `B1SESSION=…; ROUTEID=…`, marked sensitive so HTTP layers never log or index it.
    pub fn header_value(&self) -> HeaderValue {
        let raw = match &self.route_id {
            Some(route) => format!(
                "B1SESSION={}; ROUTEID={route}",
                self.b1session.expose_secret()
            ),
            None => format!("B1SESSION={}", self.b1session.expose_secret()),
        };
        let mut value = HeaderValue::from_str(&raw).expect("cookie values are checked when parsed");
        value.set_sensitive(true);
        value
    }
}

/// Finds `name=value` in a `Set-Cookie` value, tolerantly: the name in any case, attributes
/// in any order, a missing `Path` and a trailing `;` (as SAP sends `B1SESSION`), and several
/// cookies folded into one header by a proxy.
fn find_cookie(header: &str, name: &str) -> Option<String> {
    header
        .split([';', ','])
        .filter_map(|part| part.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .filter(|v| is_cookie_value(v))
}

fn is_cookie_value(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\'))
}

/// A logged-in session and the login that produced it.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub generation: u64,
    pub cookies: Arc<SessionCookies>,
}

/// The shared session. Logins happen only while `state` is locked, so they are serialised;
/// `generation` tells a caller whether someone else already replaced the session that SAP
/// just rejected.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    state: tokio::sync::Mutex<State>,
    /// Login attempts finished so far, read before waiting for the lock.
    finished_logins: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    current: Option<Session>,
    generation: u64,
    last_failure: Option<SapError>,
}

impl Sessions {
    /// The current session, logging in first if there is none.
    pub async fn current<F, Fut>(&self, login: F) -> Result<Session, SapError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<SessionCookies, SapError>>,
    {
        let seen = self.finished_logins.load(Ordering::SeqCst);
        let mut state = self.state.lock().await;
        if let Some(session) = &state.current {
            return Ok(session.clone());
        }
        self.login_locked(&mut state, seen, login).await
    }

    /// Replaces `stale` after SAP rejected it. If another caller already logged in again,
    /// that newer session is returned and no login happens.
    pub async fn renew<F, Fut>(&self, stale: &Session, login: F) -> Result<Session, SapError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<SessionCookies, SapError>>,
    {
        let seen = self.finished_logins.load(Ordering::SeqCst);
        let mut state = self.state.lock().await;
        match &state.current {
            Some(session) if session.generation != stale.generation => return Ok(session.clone()),
            _ => state.current = None,
        }
        self.login_locked(&mut state, seen, login).await
    }

    /// Forgets the session (for logout) and returns it.
    pub async fn take(&self) -> Option<Session> {
        self.state.lock().await.current.take()
    }

    async fn login_locked<F, Fut>(
        &self,
        state: &mut State,
        finished_before_waiting: u64,
        login: F,
    ) -> Result<Session, SapError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<SessionCookies, SapError>>,
    {
        // A login that failed while this caller waited answers for it too: a wrong password
        // must not be tried once per queued request (SAP may lock the user).
        if self.finished_logins.load(Ordering::SeqCst) > finished_before_waiting {
            if let Some(failure) = &state.last_failure {
                return Err(failure.clone());
            }
        }
        let outcome = login().await;
        self.finished_logins.fetch_add(1, Ordering::SeqCst);
        match outcome {
            Ok(cookies) => {
                state.generation += 1;
                let session = Session {
                    generation: state.generation,
                    cookies: Arc::new(cookies),
                };
                state.current = Some(session.clone());
                state.last_failure = None;
                Ok(session)
            }
            Err(e) => {
                state.last_failure = Some(e.clone());
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn cookies(id: &str) -> SessionCookies {
        SessionCookies::from_login([format!("B1SESSION={id};HttpOnly;").as_str()], None).unwrap()
    }

    fn header(c: &SessionCookies) -> String {
        c.header_value().to_str().unwrap().to_owned()
    }

    #[test]
    fn cookies_parse_sap_login_headers_without_path_and_with_trailing_semicolon() {
        let c = SessionCookies::from_login(
            [
                "B1SESSION=PTRzIjYK-weN6-1Lx1-ZG0J-3ARxfjcU0Shy;HttpOnly;",
                "ROUTEID=.node1; path=/b1s",
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            header(&c),
            "B1SESSION=PTRzIjYK-weN6-1Lx1-ZG0J-3ARxfjcU0Shy; ROUTEID=.node1"
        );
        assert!(c.header_value().is_sensitive());
    }

    #[test]
    fn cookies_tolerate_folded_headers_case_and_expires_commas() {
        let c = SessionCookies::from_login(
            ["b1session=abc; Secure; Expires=Wed, 21 Oct 2026 07:28:00 GMT, RouteId=.node2; Path=/"],
            None,
        )
        .unwrap();
        assert_eq!(header(&c), "B1SESSION=abc; ROUTEID=.node2");
    }

    #[test]
    fn cookies_fall_back_to_the_body_session_id_and_need_some_session() {
        let c = SessionCookies::from_login(["ROUTEID=.node1"], Some("body-id")).unwrap();
        assert_eq!(header(&c), "B1SESSION=body-id; ROUTEID=.node1");
        assert!(SessionCookies::from_login(["ROUTEID=.node1"], None).is_none());
        assert!(SessionCookies::from_login(["B1SESSION=;"], Some("bad value")).is_none());
    }

    #[test]
    fn session_cookies_never_print_the_session_id() {
        let shown = format!("{:?}", cookies("TOPSECRET"));
        assert!(!shown.contains("TOPSECRET"), "{shown}");
    }

    async fn counted_login(
        logins: &AtomicUsize,
        result: Result<&str, SapError>,
    ) -> Result<SessionCookies, SapError> {
        logins.fetch_add(1, Ordering::SeqCst);
        // Let the other tasks queue up behind the lock while this login is "in flight".
        tokio::task::yield_now().await;
        result.map(cookies)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_rejections_of_one_session_cause_one_login() {
        let sessions = Arc::new(Sessions::default());
        let logins = Arc::new(AtomicUsize::new(0));
        let first = sessions
            .current(|| counted_login(&logins, Ok("s1")))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (sessions, logins, stale) = (sessions.clone(), logins.clone(), first.clone());
                tokio::spawn(async move {
                    sessions
                        .renew(&stale, || counted_login(&logins, Ok("s2")))
                        .await
                        .unwrap()
                        .generation
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), first.generation + 1);
        }
        assert_eq!(logins.load(Ordering::SeqCst), 2);
    }

    /// A refused login that waits until every caller has started, so they queue behind it.
    async fn refused_login_once_all_started(
        logins: &AtomicUsize,
        started: &AtomicUsize,
        callers: usize,
        refused: SapError,
    ) -> Result<SessionCookies, SapError> {
        logins.fetch_add(1, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while started.load(Ordering::SeqCst) < callers && tokio::time::Instant::now() < deadline {
            tokio::task::yield_now().await;
        }
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        Err(refused)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_refused_login_is_shared_by_queued_callers_not_repeated() {
        const CALLERS: usize = 8;
        let sessions = Arc::new(Sessions::default());
        let logins = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let refused = SapError::Auth {
            code: None,
            message: "bad password".into(),
        };
        let tasks: Vec<_> = (0..CALLERS)
            .map(|_| {
                let (sessions, logins, started, refused) = (
                    sessions.clone(),
                    logins.clone(),
                    started.clone(),
                    refused.clone(),
                );
                tokio::spawn(async move {
                    let call = sessions.current(|| {
                        refused_login_once_all_started(&logins, &started, CALLERS, refused)
                    });
                    started.fetch_add(1, Ordering::SeqCst);
                    call.await.unwrap_err()
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), refused);
        }
        assert_eq!(logins.load(Ordering::SeqCst), 1);
        // A later call (nobody waiting) tries again: the password may have been fixed.
        let again = sessions.current(|| counted_login(&logins, Ok("s1"))).await;
        assert!(again.is_ok());
    }
}
