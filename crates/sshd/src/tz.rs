//! Time zones for syslog lines that carry no offset (RFC 3164's `Nov 23 10:59:25`).
//!
//! Supports UTC, fixed offsets and the system's compiled zone files (TZif, as found in
//! `/etc/localtime` and `/usr/share/zoneinfo`). Only the transition table is read: past the
//! last transition the last offset holds. Debian and RHEL ship "fat" zone files with
//! transitions up to 2037, so that covers every log line that exists today.

use crate::time::Timestamp;
use std::path::Path;

/// Why a time-zone setting could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TzError {
    /// Neither `UTC`, an offset, `local`, nor a zone file that exists.
    #[error("unknown time zone {0:?} (use UTC, +HH:MM, local, or a zoneinfo name)")]
    Unknown(String),
    /// The zone file exists but is not a TZif file this reader understands.
    #[error("{path}: not a usable TZif zone file")]
    BadFile {
        /// The file that was read.
        path: String,
    },
}

/// A time zone: how far local civil time is from UTC at a given instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeZone {
    /// Coordinated Universal Time.
    Utc,
    /// A constant offset east of UTC, in seconds.
    Fixed(i32),
    /// A zone with transitions read from a TZif file.
    Zone(Zone),
}

/// Transition table of a TZif zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    name: String,
    /// (UTC instant in seconds from which `offset` applies, offset in seconds), ascending.
    transitions: Vec<(i64, i32)>,
    /// Offset before the first transition.
    initial: i32,
}

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
            return Ok(if off == 0 {
                TimeZone::Utc
            } else {
                TimeZone::Fixed(off)
            });
        }
        let name = s.strip_prefix(':').unwrap_or(s);
        let path = if name.starts_with('/') {
            name.to_string()
        } else {
            // A name must stay inside the zoneinfo tree.
            if name.split('/').any(|part| part == ".." || part.is_empty()) {
                return Err(TzError::Unknown(setting.to_string()));
            }
            format!("/usr/share/zoneinfo/{name}")
        };
        if !Path::new(&path).is_file() {
            return Err(TzError::Unknown(setting.to_string()));
        }
        TimeZone::from_file(&path, name)
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
        let bad = || TzError::BadFile {
            path: path.to_string(),
        };
        // Zone files are a few kB; refuse to slurp anything large a setting points at.
        let meta = std::fs::metadata(path).map_err(|_| bad())?;
        if !meta.is_file() || meta.len() > 1 << 20 {
            return Err(bad());
        }
        let data = std::fs::read(path).map_err(|_| bad())?;
        let zone = parse_tzif(&data, name).ok_or_else(bad)?;
        Ok(if zone.transitions.is_empty() && zone.initial == 0 {
            TimeZone::Utc
        } else if zone.transitions.is_empty() {
            TimeZone::Fixed(zone.initial)
        } else {
            TimeZone::Zone(zone)
        })
    }

    /// Offset east of UTC, in seconds, in effect at the UTC instant `unix_seconds`.
    pub fn offset_at(&self, unix_seconds: i64) -> i32 {
        match self {
            TimeZone::Utc => 0,
            TimeZone::Fixed(off) => *off,
            TimeZone::Zone(z) => {
                let idx = z.transitions.partition_point(|&(at, _)| at <= unix_seconds);
                if idx == 0 {
                    z.initial
                } else {
                    z.transitions[idx - 1].1
                }
            }
        }
    }

    /// Converts a local civil time, given as if it were UTC, into the real UTC instant.
    /// In a backward transition's repeated hour the earlier offset wins; in a forward
    /// transition's gap the time is read with the offset before the gap.
    pub fn local_to_utc(&self, local_as_utc: Timestamp) -> Timestamp {
        let secs = local_as_utc.unix_seconds();
        let first = self.offset_at(secs);
        let guess = secs - i64::from(first);
        let second = self.offset_at(guess);
        let off = if second == first {
            first
        } else {
            let alt = secs - i64::from(second);
            if self.offset_at(alt) == second {
                second.max(first)
            } else {
                first
            }
        };
        local_as_utc.offset_by(-i64::from(off))
    }
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

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }
    fn be32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Header counts of one TZif data block.
struct Counts {
    isut: usize,
    isstd: usize,
    leap: usize,
    time: usize,
    typ: usize,
    chars: usize,
}

fn read_header(r: &mut Reader<'_>) -> Option<(u8, Counts)> {
    if r.take(4)? != b"TZif" {
        return None;
    }
    let version = r.take(1)?[0];
    r.take(15)?;
    let mut c = [0usize; 6];
    for v in &mut c {
        *v = r.be32()? as usize;
    }
    Some((
        version,
        Counts {
            isut: c[0],
            isstd: c[1],
            leap: c[2],
            time: c[3],
            typ: c[4],
            chars: c[5],
        },
    ))
}

/// Reads the 64-bit block of a version 2+ file, or the 32-bit block of a version 1 file.
fn parse_tzif(data: &[u8], name: &str) -> Option<Zone> {
    let mut r = Reader { data, pos: 0 };
    let (version, c) = read_header(&mut r)?;
    let mut time_size = 4;
    let mut counts = c;
    if version >= b'2' {
        // Skip the v1 block, whose size the v1 header gives.
        let skip = counts.time * 5 + counts.typ * 6 + counts.chars + counts.leap * 8;
        r.take(skip + counts.isstd + counts.isut)?;
        let (_, c2) = read_header(&mut r)?;
        counts = c2;
        time_size = 8;
    }
    if counts.typ == 0 || counts.typ > 256 {
        return None;
    }
    let mut times = Vec::with_capacity(counts.time.min(4096));
    for _ in 0..counts.time {
        let b = r.take(time_size)?;
        let t = if time_size == 8 {
            i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        } else {
            i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        times.push(t);
    }
    let idx = r.take(counts.time)?.to_vec();
    let mut types = Vec::with_capacity(counts.typ);
    for _ in 0..counts.typ {
        let b = r.take(6)?;
        types.push(i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    }
    let mut transitions = Vec::with_capacity(times.len());
    for (t, i) in times.into_iter().zip(idx) {
        transitions.push((t, *types.get(usize::from(i))?));
    }
    Some(Zone {
        name: name.to_string(),
        transitions,
        initial: types[0],
    })
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
