//! When a failed outbox job runs again, or stops and waits for a person. One pure function,
//! [`decide`], with the schedules as configuration, so the policy is tested as a table and
//! tuned without code changes.
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How a job failed, in the terms the retry policy cares about. Domain-level, so that the
/// policy does not depend on the SAP client; the SAP handlers map their errors onto it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The document or record is locked in SAP (-2039 and friends): retry soon, and send less.
    Locked,
    /// SAP or the network is unwell (5xx, timeouts, connection errors).
    Transient,
    /// The Service Layer session ended; a fresh login fixes it.
    SessionExpired,
    /// The call may or may not have taken effect (e.g. a timeout after sending). Retried like
    /// `Transient`: the handler looks the order up in SAP before creating anything again.
    Ambiguous,
    /// SAP refused the request for a reason that retrying cannot fix.
    Permanent,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Locked => "locked",
            FailureKind::Transient => "transient",
            FailureKind::SessionExpired => "session_expired",
            FailureKind::Ambiguous => "ambiguous",
            FailureKind::Permanent => "permanent",
        }
    }
}

/// One backoff schedule: delays double from `base` up to `cap`, and retrying stops after
/// `max_attempts` attempts or once the job has been failing for `max_age`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrySchedule {
    #[serde(rename = "base_ms", with = "millis")]
    pub base: Duration,
    #[serde(rename = "cap_ms", with = "millis")]
    pub cap: Duration,
    pub max_attempts: u32,
    #[serde(rename = "max_age_secs", with = "secs")]
    pub max_age: Duration,
}

impl RetrySchedule {
    /// The delay after failed attempt `attempt` (1-based): "equal jitter", i.e. between half
    /// and all of `min(cap, base·2^(attempt-1))`. The half that is not random keeps a crowd of
    /// failed jobs from coming back at once *and* from coming back immediately.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let ceiling = self.base.saturating_mul(1u32 << doublings).min(self.cap);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        ceiling.mul_f64(0.5 + 0.5 * jitter)
    }
}

/// The schedules per failure kind; `Ambiguous` and `SessionExpired` share `transient`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetrySchedules {
    pub locked: RetrySchedule,
    pub transient: RetrySchedule,
    /// The least wait after an `Ambiguous` failure (a create or action whose answer was
    /// lost or timed out). SAP may still be committing it: the next attempt looks the order
    /// up first, so it must come after SAP has finished, i.e. after at least the SAP request
    /// timeout plus a margin (docs/sap-exactly-once.md).
    #[serde(rename = "ambiguous_wait_ms", with = "millis")]
    pub ambiguous_wait: Duration,
}

/// The default [`RetrySchedules::ambiguous_wait`]: the Service Layer request timeout
/// (60 s, `SapSettings::DEFAULT_REQUEST_TIMEOUT`) plus as much again as the margin.
pub const DEFAULT_AMBIGUOUS_WAIT: Duration = Duration::from_secs(120);

impl Default for RetrySchedules {
    /// Locked: short waits (a lock is usually released within seconds), many tries (about
    /// three quarters of an hour in all). Transient: up to 10 minutes apart, for up to a day,
    /// which outlasts a Service Layer restart or an evening's maintenance window.
    fn default() -> Self {
        Self {
            locked: RetrySchedule {
                base: Duration::from_millis(500),
                cap: Duration::from_secs(30),
                max_attempts: 100,
                max_age: Duration::from_secs(24 * 3600),
            },
            transient: RetrySchedule {
                base: Duration::from_secs(2),
                cap: Duration::from_secs(600),
                max_attempts: 50,
                max_age: Duration::from_secs(24 * 3600),
            },
            ambiguous_wait: DEFAULT_AMBIGUOUS_WAIT,
        }
    }
}

/// What to do with a failed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    RetryAfter(Duration),
    /// Run again at once (a new session is all it needs).
    RetryNow,
    /// Stop, hold the order, and file an exception for a person.
    Park(ParkReason),
}

/// Why a job stopped retrying; decides the exception that is filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParkReason {
    /// SAP refused it for good (the handler's exception, else `sap_rejected`).
    Rejected,
    /// The retry budget is spent (`sap_unavailable`).
    AttemptsExhausted { attempts: u32 },
    /// The job has been failing for longer than the schedule allows (`sap_unavailable`).
    TooOld { age: Duration },
}

/// Decides after failed attempt `attempt` (1-based, counted since the job was queued or last
/// re-queued by an operator) of a job that has been in its current retry round for `age`.
/// `jitter` is a random number in `[0, 1)`, passed in so that this stays pure.
///
/// `SessionExpired` runs again at once, but spends an attempt like any other failure, so a
/// Service Layer that keeps dropping sessions ends as `sap_unavailable` instead of a hot loop.
pub fn decide(
    kind: FailureKind,
    attempt: u32,
    age: Duration,
    schedules: &RetrySchedules,
    jitter: f64,
) -> RetryDecision {
    let schedule = match kind {
        FailureKind::Permanent => return RetryDecision::Park(ParkReason::Rejected),
        FailureKind::Locked => &schedules.locked,
        FailureKind::Transient | FailureKind::Ambiguous | FailureKind::SessionExpired => {
            &schedules.transient
        }
    };
    if attempt >= schedule.max_attempts {
        return RetryDecision::Park(ParkReason::AttemptsExhausted { attempts: attempt });
    }
    if age >= schedule.max_age {
        return RetryDecision::Park(ParkReason::TooOld { age });
    }
    if kind == FailureKind::SessionExpired {
        return RetryDecision::RetryNow;
    }
    let delay = schedule.delay(attempt, jitter);
    if kind == FailureKind::Ambiguous {
        return RetryDecision::RetryAfter(delay.max(schedules.ambiguous_wait));
    }
    RetryDecision::RetryAfter(delay)
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailureKind::*;
    use RetryDecision::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;
    const SECS: fn(u64) -> Duration = Duration::from_secs;

    fn schedules() -> RetrySchedules {
        RetrySchedules {
            locked: RetrySchedule {
                base: MS(500),
                cap: SECS(30),
                max_attempts: 10,
                max_age: SECS(3600),
            },
            transient: RetrySchedule {
                base: SECS(2),
                cap: SECS(600),
                max_attempts: 5,
                max_age: SECS(86400),
            },
            ambiguous_wait: SECS(90),
        }
    }

    #[test]
    fn decisions_follow_the_schedule_of_each_failure_kind() {
        // (kind, attempt, age, jitter, expected)
        let table = [
            // Locked: short, doubling, capped at 30 s; jitter spans half to all of the step.
            (Locked, 1, SECS(1), 0.0, RetryAfter(MS(250))),
            (Locked, 1, SECS(1), 0.5, RetryAfter(MS(375))),
            (Locked, 2, SECS(1), 0.0, RetryAfter(MS(500))),
            (Locked, 3, SECS(1), 0.5, RetryAfter(MS(1500))),
            (Locked, 8, SECS(1), 0.0, RetryAfter(SECS(15))),
            (Locked, 9, SECS(1), 0.0, RetryAfter(SECS(15))),
            // Transient: longer steps, capped at 10 minutes.
            (Transient, 1, SECS(0), 0.0, RetryAfter(SECS(1))),
            (Transient, 4, SECS(0), 0.0, RetryAfter(SECS(8))),
            (Transient, 4, SECS(0), 1.0, RetryAfter(SECS(16))),
            // Ambiguous retries like Transient but never before SAP can have finished the
            // request whose answer was lost (timeout plus margin); then the handler looks the
            // order up first.
            (Ambiguous, 2, SECS(0), 0.0, RetryAfter(SECS(90))),
            (Ambiguous, 1, SECS(0), 1.0, RetryAfter(SECS(90))),
            (Ambiguous, 4, SECS(0), 1.0, RetryAfter(SECS(90))),
            // A new session is all SessionExpired needs.
            (SessionExpired, 1, SECS(0), 0.7, RetryNow),
            (SessionExpired, 4, SECS(0), 0.7, RetryNow),
            // Permanent parks at once, whatever the budget.
            (Permanent, 1, SECS(0), 0.0, Park(ParkReason::Rejected)),
            // Budget spent: by attempts…
            (
                Locked,
                10,
                SECS(1),
                0.0,
                Park(ParkReason::AttemptsExhausted { attempts: 10 }),
            ),
            (
                Transient,
                5,
                SECS(1),
                0.0,
                Park(ParkReason::AttemptsExhausted { attempts: 5 }),
            ),
            (
                SessionExpired,
                5,
                SECS(1),
                0.0,
                Park(ParkReason::AttemptsExhausted { attempts: 5 }),
            ),
            (
                Ambiguous,
                6,
                SECS(1),
                0.0,
                Park(ParkReason::AttemptsExhausted { attempts: 6 }),
            ),
            // …or by age.
            (
                Locked,
                2,
                SECS(3600),
                0.0,
                Park(ParkReason::TooOld { age: SECS(3600) }),
            ),
            (
                Transient,
                2,
                SECS(90000),
                0.0,
                Park(ParkReason::TooOld { age: SECS(90000) }),
            ),
        ];
        for (kind, attempt, age, jitter, expected) in table {
            assert_eq!(
                decide(kind, attempt, age, &schedules(), jitter),
                expected,
                "{kind:?} attempt {attempt} age {age:?} jitter {jitter}"
            );
        }
    }

    #[test]
    fn delays_never_exceed_the_cap_or_overflow() {
        let s = schedules().transient;
        for attempt in [0, 1, 10, 31, 32, 64, u32::MAX] {
            for jitter in [0.0, 0.5, 0.999_999, 1.0, -3.0, 7.0, f64::NAN] {
                let d = s.delay(attempt, jitter);
                assert!(d <= s.cap, "attempt {attempt} jitter {jitter}: {d:?}");
                assert!(d >= s.base / 2, "attempt {attempt} jitter {jitter}: {d:?}");
            }
        }
    }

    #[test]
    fn schedules_are_configuration_with_defaults() {
        let d = RetrySchedules::default();
        assert_eq!(d.locked.base, MS(500));
        assert_eq!(d.locked.cap, SECS(30));
        assert_eq!(d.transient.base, SECS(2));
        assert_eq!(d.transient.cap, SECS(600));
        let json = serde_json::to_value(d).unwrap();
        assert_eq!(json["locked"]["base_ms"], 500);
        assert_eq!(json["transient"]["max_age_secs"], 86400);
        let partial: RetrySchedules = serde_json::from_str(
            r#"{"locked":{"base_ms":100,"cap_ms":1000,"max_attempts":3,"max_age_secs":60}}"#,
        )
        .unwrap();
        assert_eq!(partial.locked.base, MS(100));
        assert_eq!(
            partial.transient, d.transient,
            "missing kinds keep defaults"
        );
        assert_eq!(partial.ambiguous_wait, DEFAULT_AMBIGUOUS_WAIT);
        assert!(DEFAULT_AMBIGUOUS_WAIT > crate::config::SapSettings::DEFAULT_REQUEST_TIMEOUT);
        assert_eq!(json["ambiguous_wait_ms"], 120_000);
    }
}
