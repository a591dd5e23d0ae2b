//! What the simulator saw: logins, concurrency, requests per path, faults injected. Tests and
//! benchmarks assert on it (e.g. "never more than `SAP_B1_MAX_CONCURRENCY` requests at once").
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A snapshot of the counters, as `GET /sim/control/stats` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SapSimStats {
    /// Successful logins.
    pub logins: u64,
    /// The most `/b1s/v1` requests ever in progress at the same time.
    pub max_concurrent_requests: u64,
    /// The most requests ever in progress at the same time under one `B1SESSION` (logins
    /// not counted). A client process holds one session at a time, so this bounds each
    /// process on its own, also while several share the Service Layer or a killed one's
    /// requests still run.
    pub max_concurrent_requests_per_session: u64,
    pub in_flight: u64,
    /// Sessions that have not yet timed out.
    pub live_sessions: usize,
    /// All `/b1s/v1` requests.
    pub requests: u64,
    /// Requests per `"METHOD /b1s/v1/Path"` (no query string).
    pub requests_by_path: BTreeMap<String, u64>,
    /// How many orders carry each `NumAtCard`; a value above 1 is a duplicate.
    pub orders_by_num_at_card: BTreeMap<String, usize>,
    pub injected: InjectedFaults,
}

/// Faults actually applied (a rolled lock error on a GET is not applied, so not counted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InjectedFaults {
    pub lock_errors: u64,
    pub server_errors: u64,
    pub lost_responses: u64,
}

#[derive(Default)]
pub struct Traffic {
    in_flight: AtomicU64,
    max_concurrent: AtomicU64,
    requests: AtomicU64,
    pub logins: AtomicU64,
    pub lock_errors: AtomicU64,
    pub server_errors: AtomicU64,
    pub lost_responses: AtomicU64,
    by_path: Mutex<BTreeMap<String, u64>>,
    by_session: Mutex<HashMap<String, u64>>,
    max_per_session: AtomicU64,
}

/// Counts a request as in flight until dropped, also when its connection is dropped mid-way.
pub struct InFlight(Arc<Traffic>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a request under its session until dropped.
pub struct SessionInFlight {
    traffic: Arc<Traffic>,
    session: String,
}

impl Drop for SessionInFlight {
    fn drop(&mut self) {
        let mut by_session = self
            .traffic
            .by_session
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = by_session.get_mut(&self.session) {
            *n -= 1;
            if *n == 0 {
                by_session.remove(&self.session);
            }
        }
    }
}

/// A request's [`InFlight`] count, shared between the gateway's task and the handler, so that a
/// simulated lost response can end the count *before* it drops the connection: SAP has finished
/// that request's work by then, and a client that reconnects at once must not be counted as a
/// second concurrent request beside it.
#[derive(Clone)]
pub struct InFlightSlot(Arc<Mutex<Option<InFlight>>>);

impl InFlightSlot {
    pub fn new(in_flight: InFlight) -> Self {
        Self(Arc::new(Mutex::new(Some(in_flight))))
    }

    /// Ends the count now (it also ends when the last holder drops).
    pub fn end(&self) {
        let ended = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(ended);
    }
}

impl Traffic {
    pub fn begin(self: &Arc<Self>, method: &str, path: &str) -> InFlight {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_concurrent.fetch_max(now, Ordering::SeqCst);
        self.requests.fetch_add(1, Ordering::SeqCst);
        *self
            .by_path
            .lock()
            .expect("stats lock poisoned")
            .entry(format!("{method} {path}"))
            .or_default() += 1;
        InFlight(self.clone())
    }

    /// Counts a request of session `id` (after its session check) until the guard drops.
    pub fn begin_session(self: &Arc<Self>, id: &str) -> SessionInFlight {
        let mut by_session = self.by_session.lock().unwrap_or_else(|e| e.into_inner());
        let n = by_session.entry(id.to_owned()).or_default();
        *n += 1;
        self.max_per_session.fetch_max(*n, Ordering::SeqCst);
        SessionInFlight {
            traffic: self.clone(),
            session: id.to_owned(),
        }
    }

    /// Starts a new concurrency peak from what is in flight now (a test measuring one phase).
    pub fn reset_peak(&self) {
        self.max_concurrent
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
        let busiest = self
            .by_session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .copied()
            .max()
            .unwrap_or(0);
        self.max_per_session.store(busiest, Ordering::SeqCst);
    }

    pub fn snapshot(
        &self,
        live_sessions: usize,
        orders_by_num_at_card: BTreeMap<String, usize>,
    ) -> SapSimStats {
        SapSimStats {
            logins: self.logins.load(Ordering::SeqCst),
            max_concurrent_requests: self.max_concurrent.load(Ordering::SeqCst),
            max_concurrent_requests_per_session: self.max_per_session.load(Ordering::SeqCst),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            live_sessions,
            requests: self.requests.load(Ordering::SeqCst),
            requests_by_path: self.by_path.lock().expect("stats lock poisoned").clone(),
            orders_by_num_at_card,
            injected: InjectedFaults {
                lock_errors: self.lock_errors.load(Ordering::SeqCst),
                server_errors: self.server_errors.load(Ordering::SeqCst),
                lost_responses: self.lost_responses.load(Ordering::SeqCst),
            },
        }
    }
}

pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_rises_and_falls_and_the_maximum_sticks() {
        let t = Arc::new(Traffic::default());
        let a = t.begin("GET", "/b1s/v1/Items");
        let b = t.begin("GET", "/b1s/v1/Items");
        drop(a);
        let s = t.snapshot(0, BTreeMap::new());
        assert_eq!(
            (s.in_flight, s.max_concurrent_requests, s.requests),
            (1, 2, 2)
        );
        assert_eq!(s.requests_by_path["GET /b1s/v1/Items"], 2);
        drop(b);
        assert_eq!(t.snapshot(0, BTreeMap::new()).in_flight, 0);
    }

    #[test]
    fn the_per_session_peak_counts_each_session_apart() {
        let t = Arc::new(Traffic::default());
        let a1 = t.begin_session("a");
        let a2 = t.begin_session("a");
        let b1 = t.begin_session("b");
        assert_eq!(
            t.snapshot(0, BTreeMap::new())
                .max_concurrent_requests_per_session,
            2
        );
        drop((a1, a2));
        let a3 = t.begin_session("a");
        t.reset_peak();
        let s = t.snapshot(0, BTreeMap::new());
        assert_eq!(s.max_concurrent_requests_per_session, 1);
        drop((a3, b1));
        assert!(t.by_session.lock().unwrap().is_empty());
    }
}
