//! Process-wide counters, gauges and histograms for `/metrics`: what happens inside this
//! process (webhook rejections, ingest and SAP latency, job outcomes, the adaptive SAP
//! concurrency), as opposed to the state in Postgres that `/metrics` reads at scrape time.
//! Lock-free on the hot path (atomics); labelled families take a short mutex. Each process
//! reports its own; Prometheus adds them up across processes.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A counter per label value (or tuple of values, joined in render order).
#[derive(Default)]
pub struct CounterFamily(Mutex<BTreeMap<Vec<String>, u64>>);

impl CounterFamily {
    pub const fn new() -> Self {
        Self(Mutex::new(BTreeMap::new()))
    }

    pub fn inc(&self, labels: &[&str]) {
        let key = labels.iter().map(|l| (*l).to_owned()).collect();
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key)
            .or_default() += 1;
    }

    /// Every label tuple seen so far with its count, in label order.
    pub fn values(&self) -> Vec<(Vec<String>, u64)> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}

/// A gauge that goes up and down.
#[derive(Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    pub const fn new() -> Self {
        Self(AtomicI64::new(0))
    }

    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }

    pub fn add(&self, d: i64) {
        self.0.fetch_add(d, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Holds a gauge one higher while alive (a request in flight).
pub struct InFlight(&'static Gauge);

impl InFlight {
    pub fn enter(gauge: &'static Gauge) -> Self {
        gauge.add(1);
        Self(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.add(-1);
    }
}

/// Latency buckets (seconds, upper bounds): from a millisecond to a minute, as the webhook's
/// budget and SAP's request timeout span.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// A cumulative histogram over [`LATENCY_BUCKETS`]; the sum is kept in microseconds.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// What [`Histogram::snapshot`] reads: cumulative counts per bucket, then count and sum.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    pub cumulative: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_secs: f64,
}

impl Histogram {
    pub const fn new() -> Self {
        Self {
            buckets: [const { AtomicU64::new(0) }; LATENCY_BUCKETS.len()],
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let cumulative = LATENCY_BUCKETS
            .iter()
            .zip(&self.buckets)
            .map(|(bound, n)| {
                running += n.load(Ordering::Relaxed);
                (*bound, running)
            })
            .collect();
        HistogramSnapshot {
            cumulative,
            count: self.count.load(Ordering::Relaxed),
            sum_secs: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

/// From a webhook's arrival to its answer (verified and committed, or refused).
pub static INGEST_SECONDS: Histogram = Histogram::new();
/// Finished job attempts by job kind and outcome (`done`, `retry`, `parked`).
pub static JOB_ATTEMPTS: CounterFamily = CounterFamily::new();
/// Failed job attempts by the SAP error's class (`locked`, `transient`, `ambiguous`,
/// `session_expired`, `permanent`); failures that are not SAP's are `other`.
pub static JOB_FAILURES_BY_SAP_CLASS: CounterFamily = CounterFamily::new();
/// Service Layer requests, from sending to the whole answer read (time in the limiter's
/// queue excluded).
pub static SAP_REQUEST_SECONDS: Histogram = Histogram::new();
/// Service Layer requests sent and not yet answered.
pub static SAP_REQUESTS_IN_FLIGHT: Gauge = Gauge::new();
/// The worker pool's adaptive (AIMD) window: how many jobs it runs at once now.
pub static WORKER_CONCURRENCY: Gauge = Gauge::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_sums_in_seconds() {
        let h = Histogram::new();
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_millis(40));
        h.observe(Duration::from_secs(120));
        let s = h.snapshot();
        assert_eq!(s.count, 3);
        assert!((s.sum_secs - 120.043).abs() < 1e-9);
        let at = |bound: f64| s.cumulative.iter().find(|(b, _)| *b == bound).unwrap().1;
        assert_eq!(at(0.0025), 0);
        assert_eq!(at(0.005), 1);
        assert_eq!(at(0.05), 2);
        // Over the last bound: only in +Inf (the count).
        assert_eq!(at(60.0), 2);
    }

    #[test]
    fn counters_count_per_label_tuple_and_in_flight_returns_to_zero() {
        let f = CounterFamily::new();
        f.inc(&["post_order", "done"]);
        f.inc(&["post_order", "done"]);
        f.inc(&["post_order", "retry"]);
        assert_eq!(
            f.values(),
            [
                (vec!["post_order".into(), "done".into()], 2),
                (vec!["post_order".into(), "retry".into()], 1)
            ]
        );
        static G: Gauge = Gauge::new();
        {
            let _a = InFlight::enter(&G);
            let _b = InFlight::enter(&G);
            assert_eq!(G.get(), 2);
        }
        assert_eq!(G.get(), 0);
    }
}
