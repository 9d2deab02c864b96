//! Instants and their RFC 3339 form, without a date-time dependency.
//!
//! Log timestamps only need three things here: build an instant from a civil date and time,
//! shift it by a UTC offset, and print it. Days-from-civil arithmetic (proleptic Gregorian)
//! does all three in a few lines.

use std::fmt;

/// A point in time: microseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Whole seconds since the epoch (rounded towards negative infinity).
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// Microseconds within the second, 0..1_000_000.
    pub fn subsec_micros(self) -> u32 {
        self.0.rem_euclid(1_000_000) as u32
    }

    /// Builds an instant from a UTC civil date and time; `None` when a field is out of range.
    pub fn from_civil_utc(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        min: u32,
        sec: u32,
        micros: u32,
    ) -> Option<Timestamp> {
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || min > 59
            || sec > 60 // a leap second is folded into the next second below
            || micros > 999_999
            || !(0..=9999).contains(&year)
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec);
        Some(Timestamp(secs * 1_000_000 + i64::from(micros)))
    }

    /// This instant shifted by `seconds` (used to turn local civil time into UTC).
    pub fn offset_by(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds.saturating_mul(1_000_000)))
    }

    /// The UTC civil fields: (year, month, day, hour, minute, second).
    pub fn to_civil_utc(self) -> (i64, u32, u32, u32, u32, u32) {
        let secs = self.unix_seconds();
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (
            y,
            m,
            d,
            (rem / 3600) as u32,
            (rem % 3600 / 60) as u32,
            (rem % 60) as u32,
        )
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2026-11-23T11:00:29.183076Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.to_civil_utc();
        write!(
            f,
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}Z",
            self.subsec_micros()
        )
    }
}

pub(crate) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

pub(crate) use sshtrail_fmt::time::{civil_from_days, days_from_civil};

/// Parses exactly `n` ASCII digits at the start of `s`.
pub(crate) fn digits(s: &[u8], n: usize) -> Option<u32> {
    if s.len() < n {
        return None;
    }
    let mut v: u32 = 0;
    for &b in &s[..n] {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

/// Parses an RFC 3339 / ISO 8601 timestamp with a `T` or space separator, optional fraction
/// and a `Z` or `±HH:MM`/`±HHMM` offset. Returns the instant and the bytes consumed.
pub fn parse_rfc3339_prefix(s: &str) -> Option<(Timestamp, usize)> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(b, 4)?;
    let month = digits(&b[5..], 2)?;
    let day = digits(&b[8..], 2)?;
    let hour = digits(&b[11..], 2)?;
    let min = digits(&b[14..], 2)?;
    let sec = digits(&b[17..], 2)?;
    let mut i = 19;
    let mut micros = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 6 {
                micros = micros * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..6 {
            micros *= 10;
        }
    }
    let offset: i64 = match b.get(i) {
        Some(b'Z') | Some(b'z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(&b[i + 1..], 2)?;
            let mut j = i + 3;
            if b.get(j) == Some(&b':') {
                j += 1;
            }
            let om = digits(&b[j..], 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            i = j + 2;
            let off = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let t = Timestamp::from_civil_utc(i64::from(year), month, day, hour, min, sec, micros)?;
    Some((t.offset_by(-offset), i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_format() {
        let t = Timestamp::from_civil_utc(2026, 11, 23, 11, 0, 29, 183_076).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-23T11:00:29.183076Z");
        assert_eq!(t.unix_seconds(), 1_795_431_629);
        for days in [-719_468, -1, 0, 1, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn rfc3339_offsets() {
        let (t, n) = parse_rfc3339_prefix("2026-11-23T12:00:29.5+01:00 rest").unwrap();
        assert_eq!(n, 27);
        assert_eq!(t.to_rfc3339(), "2026-11-23T11:00:29.500000Z");
        let (t, _) = parse_rfc3339_prefix("2026-11-23T11:00:29Z").unwrap();
        assert_eq!(t.subsec_micros(), 0);
        assert!(parse_rfc3339_prefix("2026-02-30T11:00:29Z").is_none());
        assert!(parse_rfc3339_prefix("2026-11-23T11:00:29").is_none());
    }
}
