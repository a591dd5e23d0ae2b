//! Additive-increase / multiplicative-decrease of how many SAP calls run at once. A Service
//! Layer that reports locks is overloaded or contended: halving the window relieves it at
//! once, and growing back one step at a time finds the level it copes with.
//!
//! Growth is +1 per *window's worth* of consecutive successes (TCP's congestion avoidance),
//! not +1 per success: per-success growth would double the window within one round of calls
//! and hammer a SAP that was locking a moment ago, while per-window growth needs as much
//! evidence at a large window as at a small one that the higher level is safe.

/// The current concurrency window, always within `min..=max`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aimd {
    min: usize,
    max: usize,
    current: usize,
    successes: usize,
}

impl Aimd {
    /// Starts at `max` (a healthy SAP should not wait for the window to grow); `min` is at
    /// least 1 so that the pool always makes progress.
    pub fn new(min: usize, max: usize) -> Self {
        let min = min.max(1);
        let max = max.max(min);
        Self {
            min,
            max,
            current: max,
            successes: 0,
        }
    }

    pub fn current(&self) -> usize {
        self.current
    }

    pub fn on_success(&mut self) {
        self.successes += 1;
        if self.successes >= self.current {
            self.successes = 0;
            self.current = (self.current + 1).min(self.max);
        }
    }

    pub fn on_locked(&mut self) {
        self.successes = 0;
        self.current = (self.current / 2).max(self.min);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_halves_the_window_down_to_the_floor() {
        let mut w = Aimd::new(1, 8);
        assert_eq!(w.current(), 8);
        let mut seen = vec![];
        for _ in 0..5 {
            w.on_locked();
            seen.push(w.current());
        }
        assert_eq!(seen, vec![4, 2, 1, 1, 1]);
        let mut w = Aimd::new(3, 8);
        w.on_locked();
        w.on_locked();
        assert_eq!(w.current(), 3, "never below min");
    }

    #[test]
    fn successes_grow_the_window_by_one_per_window_up_to_max() {
        let mut w = Aimd::new(1, 4);
        w.on_locked();
        w.on_locked();
        assert_eq!(w.current(), 1);
        let mut seen = vec![];
        for _ in 0..12 {
            w.on_success();
            seen.push(w.current());
        }
        // 1 success at window 1, 2 at window 2, 3 at window 3, then capped at 4.
        assert_eq!(seen, vec![2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4]);
    }

    #[test]
    fn a_lock_resets_the_evidence_for_growth() {
        let mut w = Aimd::new(1, 8);
        w.on_locked(); // 4
        for _ in 0..3 {
            w.on_success();
        }
        assert_eq!(w.current(), 4);
        w.on_locked(); // 2; the three successes no longer count
        w.on_success();
        assert_eq!(w.current(), 2);
        w.on_success();
        assert_eq!(w.current(), 3);
    }

    #[test]
    fn absurd_bounds_are_made_usable() {
        let w = Aimd::new(0, 0);
        assert_eq!(w.current(), 1);
        let w = Aimd::new(5, 2);
        assert_eq!(w.current(), 5);
    }
}
