//! Unix time to civil UTC time, without a date crate: every audit event carries a time
//! stamp, and a general formatter cost more than the rest of building the event.

use crate::decimal::fixed;

/// A civil UTC date and time: year, month (1–12), day (1–31), hour, minute, second.
pub type Civil = (i64, u32, u32, u32, u32, u32);

/// Unix seconds to a proleptic Gregorian UTC date and time.
pub fn civil_from_unix(secs: u64) -> Civil {
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Days since 1970-01-01 (negative before) → year, month (1–12), day (1–31).
///
/// Howard Hinnant's days-to-civil algorithm: days counted in 400-year eras of 146,097
/// days, with years that start in March so that a leap day is the last day of its year.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The inverse of [`civil_from_days`]: days since 1970-01-01 of a proleptic Gregorian
/// date (`month` 1–12; an out-of-range day counts on from the month's first).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ` (no quotes). `msec` above 999 is written as 999;
/// a year past 9999 is written in full.
pub fn rfc3339_millis(out: &mut Vec<u8>, sec: u64, msec: u32) {
    let (year, month, day, hour, min, s) = civil_from_unix(sec);
    if (0..=9999).contains(&year) {
        fixed(out, year as u64, 4);
    } else {
        crate::decimal::unsigned(out, year.unsigned_abs());
    }
    out.push(b'-');
    fixed(out, u64::from(month), 2);
    out.push(b'-');
    fixed(out, u64::from(day), 2);
    out.push(b'T');
    fixed(out, u64::from(hour), 2);
    out.push(b':');
    fixed(out, u64::from(min), 2);
    out.push(b':');
    fixed(out, u64::from(s), 2);
    out.push(b'.');
    fixed(out, u64::from(msec.min(999)), 3);
    out.push(b'Z');
}

/// [`rfc3339_millis`] as a `String`.
pub fn rfc3339_millis_string(sec: u64, msec: u32) -> String {
    let mut out = Vec::with_capacity(24);
    rfc3339_millis(&mut out, sec, msec);
    // Only ASCII digits and punctuation were written.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(sec: u64, msec: u32) -> String {
        rfc3339_millis_string(sec, msec)
    }

    #[test]
    fn known_instants() {
        // Each checked with `date -u -d @SEC +%FT%T`.
        assert_eq!(stamp(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(stamp(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(stamp(1_795_431_100, 41), "2026-11-23T10:51:40.041Z");
        assert_eq!(stamp(4_102_444_799, 999), "2099-12-31T23:59:59.999Z");
        assert_eq!(stamp(1, 5000), "1970-01-01T00:00:01.999Z");
    }

    #[test]
    fn every_day_of_four_centuries_follows_the_previous() {
        // Day by day from 1970 to 2370: the date advances by exactly one calendar day.
        let mut prev = civil_from_unix(0);
        for day in 1..146_097u64 {
            let next = civil_from_unix(day * 86_400);
            let (y, m, d, ..) = prev;
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let month_len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let expect = if d < month_len {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
            assert_eq!((next.0, next.1, next.2), expect, "day {day}");
            prev = next;
        }
    }

    #[test]
    fn days_round_trip_across_eras() {
        for days in (-800_000i64..800_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn far_future_years_are_written_whole() {
        assert!(stamp(u64::MAX / 1000, 0).len() > 24);
    }
}
