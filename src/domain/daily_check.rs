//! The daily check's pure rules: which UTC day a report covers, and the health verdict an ops
//! lead reads first. The figures come from storage; the judgement is made here, so every rule
//! is tested with plain values.
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A blocking exception unresolved for longer than this makes the day critical: orders have
/// not shipped for a whole day.
pub const BLOCKING_EXCEPTION_CRITICAL_SECS: i64 = 24 * 3600;
/// A job pending for longer than this makes the day critical: the queue is not draining.
pub const PENDING_JOB_CRITICAL_SECS: i64 = 3600;

/// One UTC calendar day, `[from, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcDay {
    pub date: NaiveDate,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl UtcDay {
    pub fn of(date: NaiveDate) -> Self {
        let from = date.and_time(chrono::NaiveTime::MIN).and_utc();
        UtcDay {
            date,
            from,
            until: from + TimeDelta::days(1),
        }
    }

    /// Reads exactly `YYYY-MM-DD` (RFC 3339 `full-date`, what the OpenAPI `date` format
    /// means): no padding, no five-digit years. Any such day is a valid question, a future one
    /// too: its day figures are zero, and the report's `generated_at`, before `from`, says so.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("'{text}' is not a UTC day: use YYYY-MM-DD, e.g. 2026-11-26");
        let shape_ok = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(bad());
        }
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad())?;
        Ok(Self::of(date))
    }
}

/// The overall verdict, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing needs anyone.
    Ok,
    /// Someone should look today: an exception is open or an order is parked.
    Attention,
    /// Orders are stuck: act now.
    Critical,
}

/// What the verdict is judged on; all "now" figures, whatever day the report covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HealthFacts {
    /// Age of the oldest `blocks_fulfilment` exception that is open or retrying.
    pub oldest_blocking_exception_age_secs: Option<i64>,
    /// Age of the oldest pending outbox job.
    pub oldest_pending_job_age_secs: Option<i64>,
    /// Exceptions open or retrying.
    pub unresolved_exceptions: i64,
    pub parked_orders: i64,
}

/// The verdict and every rule that fired, in words, critical ones first. Named
/// `DailyHealth` in the OpenAPI document: `Health` is the probes' body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = DailyHealth, example = json!({"verdict": "attention",
    "reasons": ["2 exception(s) open or retrying", "1 order(s) parked"]}))]
pub struct Health {
    pub verdict: Verdict,
    /// Why; empty when the verdict is `ok`.
    pub reasons: Vec<String>,
}

/// The rules: `critical` when a `blocks_fulfilment` exception has been unresolved for more
/// than 24 h or the oldest pending job has waited more than 1 h; otherwise `attention` when
/// any exception is open or retrying or any order is parked; otherwise `ok`.
pub fn assess(f: &HealthFacts) -> Health {
    let mut critical = vec![];
    let mut attention = vec![];
    if let Some(age) = f
        .oldest_blocking_exception_age_secs
        .filter(|age| *age > BLOCKING_EXCEPTION_CRITICAL_SECS)
    {
        critical.push(format!(
            "a blocks_fulfilment exception has been unresolved for {} (limit {})",
            human(age),
            human(BLOCKING_EXCEPTION_CRITICAL_SECS)
        ));
    }
    if let Some(age) = f
        .oldest_pending_job_age_secs
        .filter(|age| *age > PENDING_JOB_CRITICAL_SECS)
    {
        critical.push(format!(
            "the oldest pending job has waited {} (limit {}): the queue is not draining",
            human(age),
            human(PENDING_JOB_CRITICAL_SECS)
        ));
    }
    if f.unresolved_exceptions > 0 {
        attention.push(format!(
            "{} exception(s) open or retrying",
            f.unresolved_exceptions
        ));
    }
    if f.parked_orders > 0 {
        attention.push(format!("{} order(s) parked", f.parked_orders));
    }
    let verdict = if !critical.is_empty() {
        Verdict::Critical
    } else if !attention.is_empty() {
        Verdict::Attention
    } else {
        Verdict::Ok
    };
    critical.append(&mut attention);
    Health {
        verdict,
        reasons: critical,
    }
}

/// `90 s`, `75 min`, `26 h`: whole units, rounded down, so a limit never reads as exceeded
/// when it is not.
fn human(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_day_is_midnight_to_midnight_utc() {
        let d = UtcDay::parse("2026-11-26").unwrap();
        assert_eq!(d.from.to_rfc3339(), "2026-11-26T00:00:00+00:00");
        assert_eq!(d.until.to_rfc3339(), "2026-11-27T00:00:00+00:00");
        assert_eq!(d.date, day("2026-11-26"));
    }

    #[test]
    fn malformed_days_are_refused_with_a_reason_and_future_days_are_answered() {
        assert!(UtcDay::parse("2026-11-26").is_ok());
        for bad in [
            "26.11.2026",
            "2026-13-01",
            "2026-02-30",
            "",
            "2026-11-26T00:00:00Z",
            " 2026-11-26",
            "+2026-11-26",
            "12026-11-26",
            "2026-1-26",
        ] {
            let e = UtcDay::parse(bad).unwrap_err();
            assert!(e.contains("YYYY-MM-DD"), "{bad}: {e}");
        }
        assert_eq!(UtcDay::parse("4327-11-18").unwrap().date, day("4327-11-18"));
    }

    #[test]
    fn nothing_open_is_ok() {
        let h = assess(&HealthFacts {
            oldest_pending_job_age_secs: Some(PENDING_JOB_CRITICAL_SECS),
            ..HealthFacts::default()
        });
        assert_eq!(h.verdict, Verdict::Ok);
        assert!(h.reasons.is_empty());
    }

    #[test]
    fn an_open_exception_or_a_parked_order_needs_attention() {
        let h = assess(&HealthFacts {
            unresolved_exceptions: 2,
            ..HealthFacts::default()
        });
        assert_eq!(h.verdict, Verdict::Attention);
        assert_eq!(h.reasons, ["2 exception(s) open or retrying"]);
        let h = assess(&HealthFacts {
            parked_orders: 1,
            ..HealthFacts::default()
        });
        assert_eq!(h.verdict, Verdict::Attention);
        assert_eq!(h.reasons, ["1 order(s) parked"]);
    }

    #[test]
    fn a_blocking_exception_older_than_a_day_is_critical() {
        let at_limit = HealthFacts {
            oldest_blocking_exception_age_secs: Some(BLOCKING_EXCEPTION_CRITICAL_SECS),
            unresolved_exceptions: 1,
            ..HealthFacts::default()
        };
        assert_eq!(assess(&at_limit).verdict, Verdict::Attention);
        let h = assess(&HealthFacts {
            oldest_blocking_exception_age_secs: Some(26 * 3600),
            ..at_limit
        });
        assert_eq!(h.verdict, Verdict::Critical);
        assert_eq!(
            h.reasons,
            [
                "a blocks_fulfilment exception has been unresolved for 26 h (limit 24 h)",
                "1 exception(s) open or retrying"
            ]
        );
    }

    #[test]
    fn a_job_pending_over_an_hour_is_critical() {
        let h = assess(&HealthFacts {
            oldest_pending_job_age_secs: Some(PENDING_JOB_CRITICAL_SECS + 15 * 60),
            ..HealthFacts::default()
        });
        assert_eq!(h.verdict, Verdict::Critical);
        assert_eq!(
            h.reasons,
            ["the oldest pending job has waited 75 min (limit 60 min): the queue is not draining"]
        );
    }

    #[test]
    fn durations_read_in_whole_units() {
        assert_eq!(human(59), "59 s");
        assert_eq!(human(119), "119 s");
        assert_eq!(human(3600), "60 min");
        assert_eq!(human(2 * 3600 - 1), "119 min");
        assert_eq!(human(24 * 3600), "24 h");
    }
}
