//! Dates and times as B1 reads them: `'2014-04-23'`, `'20140423'`, `'2014-04-23T12:21:21'`,
//! `'20140423000000'` for a date (time part ignored) and `'18:38:00'`, `'1838'` for a time
//! (date part ignored) (GUIDE p.34). Responses use `2014-04-23` and `18:38:00`.
use chrono::{NaiveDate, NaiveTime};

/// The date part of any accepted spelling.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s = raw.trim();
    if let Some(d) = s
        .get(..10)
        .and_then(|p| NaiveDate::parse_from_str(p, "%Y-%m-%d").ok())
    {
        return Some(d);
    }
    let digits = s.get(..8)?;
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
    } else {
        None
    }
}

/// The time part of any accepted spelling, to the second.
pub fn parse_time(raw: &str) -> Option<NaiveTime> {
    let s = raw.trim();
    // A full timestamp: keep what follows the date.
    let s = match s.find('T') {
        Some(i) => &s[i + 1..],
        None => s,
    };
    let s = s.trim_end_matches('Z');
    for format in ["%H:%M:%S", "%H:%M", "%H%M%S", "%H%M"] {
        if let Ok(t) = NaiveTime::parse_from_str(s, format) {
            return Some(t);
        }
    }
    // `20140423183800`: the last six digits.
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveTime::parse_from_str(&s[8..], "%H%M%S").ok();
    }
    None
}

pub fn format_time(t: NaiveTime) -> String {
    t.format("%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_date_spelling_names_the_same_day() {
        let day = NaiveDate::from_ymd_opt(2014, 4, 23).unwrap();
        for s in [
            "2014-04-23",
            "20140423",
            "2014-04-23T12:21:21",
            "20140423000000",
        ] {
            assert_eq!(parse_date(s), Some(day), "{s}");
        }
        assert_eq!(parse_date("23/04/2014"), None);
    }

    #[test]
    fn every_documented_time_spelling_names_the_same_time() {
        let t = NaiveTime::from_hms_opt(18, 38, 0).unwrap();
        for s in [
            "18:38:00",
            "1838",
            "183800",
            "2014-04-23T18:38:00",
            "20140423183800",
        ] {
            assert_eq!(parse_time(s), Some(t), "{s}");
        }
        assert_eq!(parse_time("late"), None);
    }
}
