//! Sessions: a `B1SESSION` cookie that stays valid while it is used at least once per
//! `SessionTimeout` (sliding expiry, reference §1).
use axum::http::{header, HeaderMap};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct Sessions {
    timeout: Duration,
    last_used: HashMap<String, Instant>,
}

impl Sessions {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            last_used: HashMap::new(),
        }
    }

    /// Opens a session and returns its id (GUID-like, as B1's are). Dead sessions are
    /// forgotten here, so a long benchmark that logs in often does not grow the table.
    pub fn open(&mut self) -> String {
        let now = Instant::now();
        let timeout = self.timeout;
        self.last_used
            .retain(|_, last| now.duration_since(*last) <= timeout);
        let id = uuid::Uuid::new_v4().to_string();
        self.last_used.insert(id.clone(), Instant::now());
        id
    }

    /// True if the session is alive; using it restarts its idle clock.
    pub fn touch(&mut self, id: &str) -> bool {
        let now = Instant::now();
        match self.last_used.get_mut(id) {
            Some(last) if now.duration_since(*last) <= self.timeout => {
                *last = now;
                true
            }
            Some(_) => {
                self.last_used.remove(id);
                false
            }
            None => false,
        }
    }

    pub fn close(&mut self, id: &str) {
        self.last_used.remove(id);
    }

    /// Sessions that would still be accepted, counted without touching them (so a test can
    /// wait for an idle session to die without keeping it alive).
    pub fn live_count(&self) -> usize {
        let now = Instant::now();
        self.last_used
            .values()
            .filter(|last| now.duration_since(**last) <= self.timeout)
            .count()
    }

    /// Every client must log in again, as after a Service Layer restart.
    pub fn expire_all(&mut self) {
        self.last_used.clear();
    }

    /// `SessionTimeout` of the login answer, in whole minutes (rounded up, at least 1: a
    /// test's one-second timeout still reports 1, and a client must cope with an earlier 401).
    pub fn timeout_minutes(&self) -> u64 {
        self.timeout.as_secs().div_ceil(60).max(1)
    }
}

/// The `B1SESSION` value from the request's cookies.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name.trim() == "B1SESSION").then(|| value.trim().to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn sessions_slide_while_used_and_die_when_idle() {
        let mut s = Sessions::new(Duration::from_millis(50));
        let id = s.open();
        assert!(s.touch(&id));
        assert_eq!(s.live_count(), 1);
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(s.live_count(), 0);
        assert!(!s.touch(&id));
        assert!(!s.touch("unknown"));
        let id = s.open();
        s.expire_all();
        assert!(!s.touch(&id));
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("ROUTEID=.node1; B1SESSION=abc-123"),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("abc-123"));
        assert_eq!(session_cookie(&HeaderMap::new()), None);
        assert_eq!(Sessions::new(Duration::from_secs(1)).timeout_minutes(), 1);
        assert_eq!(
            Sessions::new(Duration::from_secs(1800)).timeout_minutes(),
            30
        );
    }
}
