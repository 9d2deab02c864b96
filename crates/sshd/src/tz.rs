//! Time zones for syslog lines that carry no offset (RFC 3164's `Nov 23 10:59:25`).
//!
//! Supports UTC, fixed offsets and the system's compiled zone files (TZif, as found in
//! `/etc/localtime` and `/usr/share/zoneinfo`), read at run time: no zone database is built
//! in, so the host's tzdata updates apply on the next start.
//!
//! Zone files are read with the [`jiff`] crate rather than by hand. A TZif file of version 2
//! or later ends with a POSIX TZ string (e.g. `CET-1CEST,M3.5.0,M10.5.0/3`) that gives the
//! offsets after its last listed transition. "Slim" files (zic's default since tzdata 2020b)
//! list transitions only until the rules settle and leave every later year to that string;
//! "fat" ones stop listing at 2037. A reader of the transition table alone keeps the last
//! offset from there on and so gets daylight saving time wrong for every later summer or
//! winter; jiff applies the string, and handles the rest of the format.
//!
//! Zoneinfo names are looked up in jiff's view of the system database (`$TZDIR`, else
//! `/usr/share/zoneinfo`, `/usr/share/lib/zoneinfo` or `/etc/zoneinfo`).

use crate::time::Timestamp;
use jiff::tz::AmbiguousOffset;

/// Why a time-zone setting could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TzError {
    /// Neither `UTC`, an offset, `local`, nor a zone that exists.
    #[error("unknown time zone {0:?} (use UTC, +HH:MM, local, or a zoneinfo name)")]
    Unknown(String),
    /// A zoneinfo name was given but the system has no zoneinfo database.
    #[error("time zone {0:?}: no zoneinfo database found (install tzdata, or set TZDIR)")]
    NoZoneinfo(String),
    /// The zone file exists but is not a usable TZif file.
    #[error("{path}: not a usable TZif zone file: {reason}")]
    BadFile {
        /// The file that was read.
        path: String,
        /// What was wrong with it.
        reason: String,
    },
}

/// A time zone: how far local civil time is from UTC at a given instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeZone {
    /// Coordinated Universal Time.
    Utc,
    /// A constant offset east of UTC, in seconds.
    Fixed(i32),
    /// A zone whose offset changes, read from a TZif file.
    Zone(Zone),
}

/// A zone whose offset changes: its transitions and the rule for the years after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

/// A zone file larger than this is refused (real ones are a few kB).
const MAX_ZONE_FILE: u64 = 1 << 20;

impl TimeZone {
    /// Reads a setting: `UTC`/`Z`, `+02:00`/`-0500`/`UTC+1`, `local`, a zoneinfo name such
    /// as `Europe/Berlin`, or an absolute path to a TZif file.
    pub fn from_setting(setting: &str) -> Result<TimeZone, TzError> {
        let s = setting.trim();
        if s.eq_ignore_ascii_case("utc") || s == "Z" || s.eq_ignore_ascii_case("gmt") {
            return Ok(TimeZone::Utc);
        }
        if s.eq_ignore_ascii_case("local") {
            return Ok(TimeZone::local());
        }
        let offset_text = s
            .strip_prefix("UTC")
            .or_else(|| s.strip_prefix("GMT"))
            .unwrap_or(s);
        if let Some(off) = parse_offset(offset_text) {
            return Ok(TimeZone::fixed(off));
        }
        let name = s.strip_prefix(':').unwrap_or(s);
        if name.starts_with('/') {
            if !std::path::Path::new(name).is_file() {
                return Err(TzError::Unknown(setting.to_string()));
            }
            return TimeZone::from_file(name, name);
        }
        // A name must stay inside the zoneinfo tree.
        if name.split('/').any(|part| part == ".." || part.is_empty()) {
            return Err(TzError::Unknown(setting.to_string()));
        }
        let db = jiff::tz::db();
        if db.is_definitively_empty() {
            return Err(TzError::NoZoneinfo(setting.to_string()));
        }
        match db.get(name) {
            Ok(tz) => Ok(TimeZone::from_jiff(name, tz)),
            Err(_) => Err(TzError::Unknown(setting.to_string())),
        }
    }

    /// The machine's zone: `$TZ` when set and usable, else `/etc/localtime`, else UTC.
    pub fn local() -> TimeZone {
        if let Ok(tz) = std::env::var("TZ") {
            if !tz.is_empty() && !tz.eq_ignore_ascii_case("local") {
                if let Ok(zone) = TimeZone::from_setting(&tz) {
                    return zone;
                }
            }
        }
        TimeZone::from_file("/etc/localtime", "localtime").unwrap_or(TimeZone::Utc)
    }

    /// Reads a TZif file; `name` is only used for display.
    pub fn from_file(path: &str, name: &str) -> Result<TimeZone, TzError> {
        let bad = |reason: String| TzError::BadFile {
            path: path.to_string(),
            reason,
        };
        // Refuse to slurp anything large a setting points at.
        let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
        if !meta.is_file() {
            return Err(bad("not a regular file".to_string()));
        }
        if meta.len() > MAX_ZONE_FILE {
            return Err(bad(format!("larger than {MAX_ZONE_FILE} bytes")));
        }
        let data = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let tz = jiff::tz::TimeZone::tzif(name, &data).map_err(|e| bad(e.to_string()))?;
        Ok(TimeZone::from_jiff(name, tz))
    }

    /// `Utc` for a zero offset, else `Fixed`.
    fn fixed(offset: i32) -> TimeZone {
        if offset == 0 {
            TimeZone::Utc
        } else {
            TimeZone::Fixed(offset)
        }
    }

    /// A zone that never changes offset (e.g. `Etc/UTC`, `Etc/GMT-3`) becomes `Utc` or
    /// `Fixed`, which cost nothing to apply.
    fn from_jiff(name: &str, tz: jiff::tz::TimeZone) -> TimeZone {
        if tz.following(jiff::Timestamp::MIN).next().is_none() {
            return TimeZone::fixed(tz.to_offset(jiff::Timestamp::UNIX_EPOCH).seconds());
        }
        TimeZone::Zone(Zone {
            name: name.to_string(),
            tz,
        })
    }

    /// Offset east of UTC, in seconds, in effect at the UTC instant `unix_seconds`.
    pub fn offset_at(&self, unix_seconds: i64) -> i32 {
        match self {
            TimeZone::Utc => 0,
            TimeZone::Fixed(off) => *off,
            TimeZone::Zone(z) => z.tz.to_offset(jiff_timestamp(unix_seconds)).seconds(),
        }
    }

    /// Converts a local civil time, given as if it were UTC, into the real UTC instant.
    /// In a backward transition's repeated hour the earlier offset wins; in a forward
    /// transition's gap the time is read with the offset before the gap.
    pub fn local_to_utc(&self, local_as_utc: Timestamp) -> Timestamp {
        let off = match self {
            TimeZone::Utc => 0,
            TimeZone::Fixed(off) => *off,
            TimeZone::Zone(z) => {
                // Offsets change on whole seconds, so the whole second decides.
                let civil =
                    jiff::tz::Offset::UTC.to_datetime(jiff_timestamp(local_as_utc.unix_seconds()));
                match z.tz.to_ambiguous_timestamp(civil).offset() {
                    AmbiguousOffset::Unambiguous { offset } => offset.seconds(),
                    // Either way the offset in effect before the transition: in a fold
                    // that is the first occurrence; in a gap, the clock not yet moved on.
                    AmbiguousOffset::Gap { before, .. } | AmbiguousOffset::Fold { before, .. } => {
                        before.seconds()
                    }
                }
            }
        };
        local_as_utc.offset_by(-i64::from(off))
    }
}

/// `unix_seconds` as a jiff instant, clamped to jiff's range (years -9999 to 9999).
fn jiff_timestamp(unix_seconds: i64) -> jiff::Timestamp {
    let (min, max) = (jiff::Timestamp::MIN, jiff::Timestamp::MAX);
    let clamped = unix_seconds.clamp(min.as_second(), max.as_second());
    jiff::Timestamp::from_second(clamped).unwrap_or(if unix_seconds < 0 { min } else { max })
}

/// `+02:00`, `-0500`, `+2`, `+05:30`: seconds east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    if h.is_empty() || h.len() > 2 || m.is_empty() || m.len() > 2 {
        return None;
    }
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

impl Zone {
    /// The name this zone was loaded under.
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_offsets() {
        assert_eq!(TimeZone::from_setting("UTC").unwrap(), TimeZone::Utc);
        assert_eq!(
            TimeZone::from_setting("+02:00").unwrap(),
            TimeZone::Fixed(7200)
        );
        assert_eq!(
            TimeZone::from_setting("-0530").unwrap(),
            TimeZone::Fixed(-19800)
        );
        assert_eq!(
            TimeZone::from_setting("UTC+1").unwrap(),
            TimeZone::Fixed(3600)
        );
        assert!(TimeZone::from_setting("Mars/Olympus").is_err());
        assert!(TimeZone::from_setting("../../etc/passwd").is_err());
    }

    #[test]
    fn names_stay_inside_the_zoneinfo_tree() {
        for name in [
            "../../etc/passwd",
            "Europe/../../../etc/passwd",
            "Europe//Berlin",
            "Europe/",
        ] {
            let err = TimeZone::from_setting(name).unwrap_err();
            assert!(matches!(err, TzError::Unknown(_)), "{name}: {err}");
        }
    }

    /// Whether the system's zoneinfo is there; missing, the test is skipped, unless
    /// SSHTRAIL_REQUIRE_LIVE=1 (CI) makes that a failure.
    fn have_zoneinfo(test: &str) -> bool {
        if !jiff::tz::db().is_definitively_empty() {
            return true;
        }
        if std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
            panic!("{test}: no zoneinfo database (install tzdata)");
        }
        eprintln!("{test}: skipped: no zoneinfo database");
        false
    }

    #[test]
    fn zones_that_never_change_become_utc_or_fixed() {
        if !have_zoneinfo("zones_that_never_change_become_utc_or_fixed") {
            return;
        }
        assert_eq!(TimeZone::from_setting("Etc/UTC").unwrap(), TimeZone::Utc);
        // POSIX-style names: Etc/GMT-3 is three hours east of UTC.
        assert_eq!(
            TimeZone::from_setting("Etc/GMT-3").unwrap(),
            TimeZone::Fixed(3 * 3600)
        );
        match TimeZone::from_setting(":Europe/Berlin").unwrap() {
            TimeZone::Zone(z) => assert_eq!(z.name(), "Europe/Berlin"),
            other => panic!("Europe/Berlin: {other:?}"),
        }
    }

    #[test]
    fn absolute_paths_are_read_as_tzif() {
        if !have_zoneinfo("absolute_paths_are_read_as_tzif") {
            return;
        }
        let path = "/usr/share/zoneinfo/Europe/Berlin";
        if std::path::Path::new(path).is_file() {
            let tz = TimeZone::from_setting(path).unwrap();
            assert_eq!(tz, TimeZone::from_file(path, path).unwrap());
            let summer = Timestamp::from_civil_utc(2026, 7, 15, 12, 0, 0, 0).unwrap();
            assert_eq!(tz.offset_at(summer.unix_seconds()), 7200);
        }
        // A file that is there but is no zone file.
        let err = TimeZone::from_setting("/etc/passwd").unwrap_err();
        assert!(matches!(err, TzError::BadFile { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("/etc/passwd: not a usable TZif zone file: "),
            "{err}"
        );
        let err = TimeZone::from_setting("/nonexistent/zone").unwrap_err();
        assert!(matches!(err, TzError::Unknown(_)), "{err}");
    }

    #[test]
    fn berlin_summer_and_winter_from_system_zoneinfo() {
        // The system tzdata is the reference here; skip quietly where it is not installed.
        let Ok(tz) = TimeZone::from_setting("Europe/Berlin") else {
            return;
        };
        let winter = Timestamp::from_civil_utc(2026, 1, 15, 12, 0, 0, 0).unwrap();
        let summer = Timestamp::from_civil_utc(2026, 7, 15, 12, 0, 0, 0).unwrap();
        assert_eq!(tz.offset_at(winter.unix_seconds()), 3600);
        assert_eq!(tz.offset_at(summer.unix_seconds()), 7200);
        assert_eq!(
            tz.local_to_utc(summer).to_rfc3339(),
            "2026-07-15T10:00:00.000000Z"
        );
    }
}
