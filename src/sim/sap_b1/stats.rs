//! What the simulator saw: logins, concurrency, requests per path, faults injected. Tests and
//! benchmarks assert on it (e.g. "never more than `SAP_B1_MAX_CONCURRENCY` requests at once").
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A snapshot of the counters, as `GET /sim/control/stats` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SapSimStats {
    /// Successful logins.
    pub logins: u64,
    /// The most `/b1s/v1` requests ever in progress at the same time.
    pub max_concurrent_requests: u64,
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
}

/// Counts a request as in flight until dropped, also when its connection is dropped mid-way.
pub struct InFlight(Arc<Traffic>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
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

    /// Starts a new concurrency peak from what is in flight now (a test measuring one phase).
    pub fn reset_peak(&self) {
        self.max_concurrent
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    pub fn snapshot(
        &self,
        live_sessions: usize,
        orders_by_num_at_card: BTreeMap<String, usize>,
    ) -> SapSimStats {
        SapSimStats {
            logins: self.logins.load(Ordering::SeqCst),
            max_concurrent_requests: self.max_concurrent.load(Ordering::SeqCst),
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
}
