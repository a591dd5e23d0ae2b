//! How times, ages and amounts read on the page.
use chrono::{DateTime, Utc};
use maud::{html, Markup};

/// `2026-12-03 07:55 UTC`, in a `<time>` element that carries the exact instant.
pub fn at(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M UTC")) } }
}

/// A duration in the largest two units people think in: `45 s`, `12 min`, `3 h 12 min`, `2 d 4 h`.
pub fn age(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match () {
        _ if d > 0 => format!("{d} d {h} h"),
        _ if h > 0 => format!("{h} h {m} min"),
        _ if m > 0 => format!("{m} min"),
        _ => format!("{secs} s"),
    }
}

/// `850 ms`, `7.2 s`, `3 min`: a latency or duration in the unit people read it in.
pub fn seconds(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else if secs < 120.0 {
        format!("{secs:.1} s")
    } else {
        age(secs.round() as i64)
    }
}

/// The age of `t` at `now`.
pub fn age_since(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    age((now - t).num_seconds())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_read_in_their_unit() {
        assert_eq!(seconds(0.0424), "42 ms");
        assert_eq!(seconds(7.24), "7.2 s");
        assert_eq!(seconds(3725.0), "1 h 2 min");
    }

    #[test]
    fn ages_read_in_two_units() {
        assert_eq!(age(-5), "0 s");
        assert_eq!(age(45), "45 s");
        assert_eq!(age(12 * 60 + 5), "12 min");
        assert_eq!(age(3 * 3600 + 12 * 60), "3 h 12 min");
        assert_eq!(age(2 * 86_400 + 4 * 3600 + 59), "2 d 4 h");
    }
}
