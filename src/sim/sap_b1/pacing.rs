//! When the simulator answers. Its injected latency L is the time from a request's arrival to
//! its answer, as a Service Layer's latency is: what the simulator spends on the request
//! itself (its handler's work, waking up after the wait) is part of L, not added to it. A
//! simulator that answered after L plus its own work would be a slower SAP than the one asked
//! for, and the pipeline benchmark would charge the difference to b1bridge.
//!
//! The wait comes first and the work after it, so a create still commits at the end of its
//! latency (a client that gives up early leaves an add that commits later, as with SAP). So
//! the wait is cut by what the work after it has lately taken: a running average, kept apart
//! for reads and for commits, which differ. Answers come after L on average; a request whose
//! work is slower than usual answers a little later, a faster one a little sooner.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A sample beyond this is an outlier (a request that waited on the company lock behind a big
/// read, say); it is clipped so that one slow request does not make the next ones early.
const MAX_SAMPLE: Duration = Duration::from_millis(5);

/// The weight of a new sample in the running average, as a shift: 1/8.
const SHIFT: u32 = 3;

#[derive(Debug, Default)]
pub(super) struct Pacing {
    /// The recent time, in nanoseconds, from the planned end of the wait to the answer ready.
    reads: AtomicU64,
    commits: AtomicU64,
}

impl Pacing {
    /// When the wait for a request that arrived at `arrival` should end, so that the answer is
    /// ready `latency` after the arrival.
    pub(super) fn wake_at(&self, arrival: Instant, latency: Duration, commits: bool) -> Instant {
        let work = Duration::from_nanos(self.slot(commits).load(Ordering::Relaxed));
        arrival + latency.saturating_sub(work)
    }

    /// Records that a request's answer was ready `after` the planned end of its wait (not
    /// counting any wait added on purpose, such as the write latency).
    pub(super) fn record(&self, commits: bool, after: Duration) {
        let sample = after.min(MAX_SAMPLE).as_nanos() as u64;
        let slot = self.slot(commits);
        // Concurrent updates may lose one another's sample; an average does not mind.
        let old = slot.load(Ordering::Relaxed);
        let new = old - (old >> SHIFT) + (sample >> SHIFT);
        slot.store(new, Ordering::Relaxed);
    }

    fn slot(&self, commits: bool) -> &AtomicU64 {
        if commits {
            &self.commits
        } else {
            &self.reads
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_cut_by_the_work_that_usually_follows_it() {
        let pacing = Pacing::default();
        let arrival = Instant::now();
        let l = Duration::from_millis(20);
        assert_eq!(
            pacing.wake_at(arrival, l, true),
            arrival + l,
            "nothing learned yet"
        );
        for _ in 0..100 {
            pacing.record(true, Duration::from_micros(400));
        }
        let cut = arrival + l - pacing.wake_at(arrival, l, true);
        assert!(
            cut > Duration::from_micros(380) && cut <= Duration::from_micros(400),
            "{cut:?}"
        );
        assert_eq!(
            pacing.wake_at(arrival, l, false),
            arrival + l,
            "reads learn apart from commits"
        );
    }

    #[test]
    fn an_outlier_moves_the_average_only_as_far_as_the_clip() {
        let pacing = Pacing::default();
        pacing.record(false, Duration::from_secs(3));
        let arrival = Instant::now();
        let l = Duration::from_millis(20);
        let cut = arrival + l - pacing.wake_at(arrival, l, false);
        assert!(cut <= MAX_SAMPLE / 8, "{cut:?}");
    }

    #[test]
    fn a_latency_shorter_than_the_work_means_no_wait() {
        let pacing = Pacing::default();
        for _ in 0..100 {
            pacing.record(false, Duration::from_millis(2));
        }
        let arrival = Instant::now();
        assert_eq!(
            pacing.wake_at(arrival, Duration::from_millis(1), false),
            arrival
        );
    }
}
