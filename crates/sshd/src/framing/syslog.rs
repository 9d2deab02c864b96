//! Syslog file lines: RFC 3164 (`Nov 23 10:59:25 host sshd[12]: msg`), rsyslog's ISO 8601
//! file format (`2026-11-23T10:59:25.183076+00:00 host sshd[12]: msg`) and RFC 5424
//! (`<38>1 2026-11-23T10:59:25.183076+00:00 host sshd 12 - - msg`), told apart per line.

use super::{chomp, FrameError, Framed};
use crate::time::{digits, parse_rfc3339_prefix, Timestamp};
use crate::tz::TimeZone;
use std::borrow::Cow;

/// Frames syslog lines. RFC 3164 timestamps have neither year nor zone: the zone comes from
/// the framer's setting; the year is the latest one that puts the line no more than a week
/// after the reference time, so a December line read in January lands in the previous year
/// and a 1 January line read on 31 December in the next. The reference is the clock at each
/// line ([`SyslogFramer::new`], right for live logs) or a fixed instant
/// ([`SyslogFramer::with_reference`], e.g. a rotated file's mtime). Lines more than a year
/// older than the reference cannot be told apart from recent ones.
#[derive(Clone, Debug)]
pub struct SyslogFramer {
    tz: TimeZone,
    /// A fixed reference and its local year; `None`: the clock at each line.
    reference: Option<(Timestamp, i64)>,
}

/// How far past the reference a RFC 3164 time may be (clock skew between hosts, late reads).
const FUTURE_SLACK_SECS: i64 = 7 * 86_400;

impl SyslogFramer {
    /// A framer for zone `tz`, inferring years relative to the clock.
    pub fn new(tz: TimeZone) -> SyslogFramer {
        SyslogFramer {
            tz,
            reference: None,
        }
    }

    /// A framer that infers RFC 3164 years relative to a fixed `reference`.
    pub fn with_reference(tz: TimeZone, reference: Timestamp) -> SyslogFramer {
        let year = local_year(&tz, reference);
        SyslogFramer {
            tz,
            reference: Some((reference, year)),
        }
    }

    /// The reference instant and its year in the framer's zone.
    fn reference(&self) -> (Timestamp, i64) {
        self.reference.unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64);
            (Timestamp(now), local_year(&self.tz, Timestamp(now)))
        })
    }

    /// Frames one line (a trailing newline is ignored).
    pub fn frame<'a>(&self, line: &'a str) -> Result<Framed<'a>, FrameError> {
        let line = chomp(line);
        let (pri_len, version) = pri(line);
        let rest = &line[pri_len..];
        if version {
            return rfc5424(rest);
        }
        let b = rest.as_bytes();
        if b.len() > 4 && b[0].is_ascii_digit() && b[4] == b'-' {
            let (ts, n) =
                parse_rfc3339_prefix(rest).ok_or(FrameError::Syslog("bad ISO 8601 timestamp"))?;
            let mut framed = host_tag_message(Some(ts), rest.get(n..).unwrap_or(""))?;
            framed.whole_seconds = !has_fraction(&rest[..n]);
            return Ok(framed);
        }
        let (ts, n) = self.rfc3164_time(rest)?;
        let mut framed = host_tag_message(Some(ts), &rest[n..])?;
        framed.whole_seconds = true;
        Ok(framed)
    }

    /// `Mmm dd HH:MM:SS` (day padded with a space) → instant and bytes consumed.
    fn rfc3164_time(&self, s: &str) -> Result<(Timestamp, usize), FrameError> {
        let b = s.as_bytes();
        if b.len() < 15 || b[3] != b' ' || b[6] != b' ' || b[9] != b':' || b[12] != b':' {
            return Err(FrameError::Syslog("no RFC 3164 timestamp"));
        }
        let month = month(&b[..3]).ok_or(FrameError::Syslog("bad month"))?;
        let day = if b[4] == b' ' {
            digits(&b[5..], 1)
        } else {
            digits(&b[4..], 2)
        }
        .ok_or(FrameError::Syslog("bad day"))?;
        let hms = (digits(&b[7..], 2), digits(&b[10..], 2), digits(&b[13..], 2));
        let (Some(h), Some(m), Some(sec)) = hms else {
            return Err(FrameError::Syslog("bad time"));
        };
        let (reference, this_year) = self.reference();
        let limit = reference.unix_seconds() + FUTURE_SLACK_SECS;
        // Latest year first; 29 February may have to go back to the last leap year.
        for year in (this_year - 8..=this_year + 1).rev() {
            let Some(local) = Timestamp::from_civil_utc(year, month, day, h, m, sec, 0) else {
                continue;
            };
            // Offsets are under a day: skip the zone lookup for clearly later years.
            if local.unix_seconds() > limit + 86_400 {
                continue;
            }
            let t = self.tz.local_to_utc(local);
            if t.unix_seconds() <= limit {
                return Ok((t, 15));
            }
        }
        Err(FrameError::Syslog("bad date"))
    }
}

/// Whether an RFC 3339 time stamp has a fraction of a second (`…:25.183076+00:00`).
fn has_fraction(stamp: &str) -> bool {
    stamp.as_bytes().get(19) == Some(&b'.')
}

fn local_year(tz: &TimeZone, t: Timestamp) -> i64 {
    t.offset_by(i64::from(tz.offset_at(t.unix_seconds())))
        .to_civil_utc()
        .0
}

/// Length of a leading `<PRI>` (and `1 ` version for RFC 5424); whether it was RFC 5424.
fn pri(line: &str) -> (usize, bool) {
    let b = line.as_bytes();
    if b.first() != Some(&b'<') {
        return (0, false);
    }
    let n = b[1..]
        .iter()
        .take(4)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n == 0 || b.get(1 + n) != Some(&b'>') {
        return (0, false);
    }
    let end = n + 2;
    if b.get(end) == Some(&b'1') && b.get(end + 1) == Some(&b' ') {
        (end + 2, true)
    } else {
        (end, false)
    }
}

fn month(m: &[u8]) -> Option<u32> {
    Some(match m {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// ` host tag: message` after the timestamp.
fn host_tag_message(timestamp: Option<Timestamp>, s: &str) -> Result<Framed<'_>, FrameError> {
    let s = s.strip_prefix(' ').ok_or(FrameError::Syslog("no host"))?;
    let (host, rest) = s.split_once(' ').ok_or(FrameError::Syslog("no tag"))?;
    let (tag, message) = match rest.split_once(' ') {
        Some((tag, message)) => (tag, message),
        None => (rest, ""),
    };
    let tag = tag
        .strip_suffix(':')
        .ok_or(FrameError::Syslog("tag without ':'"))?;
    let (program, pid) = match tag.split_once('[') {
        Some((program, pid)) => {
            let pid = pid
                .strip_suffix(']')
                .and_then(|p| p.parse::<u32>().ok())
                .ok_or(FrameError::Syslog("bad pid in tag"))?;
            (program, Some(pid))
        }
        None => (tag, None),
    };
    Ok(Framed {
        timestamp,
        host: Some(Cow::Borrowed(host)),
        pid,
        program: Some(Cow::Borrowed(program)),
        message: Cow::Borrowed(message),
        ..Framed::default()
    })
}

/// `TIMESTAMP HOST APP PROCID MSGID SD [MSG]` after `<PRI>1 `.
fn rfc5424(s: &str) -> Result<Framed<'_>, FrameError> {
    let mut parts = s.splitn(6, ' ');
    let mut next = || {
        parts
            .next()
            .ok_or(FrameError::Syslog("short RFC 5424 header"))
    };
    let ts = next()?;
    let host = next()?;
    let app = next()?;
    let procid = next()?;
    let _msgid = next()?;
    let rest = next().unwrap_or("");
    let timestamp = if ts == "-" {
        None
    } else {
        match parse_rfc3339_prefix(ts) {
            Some((t, n)) if n == ts.len() => Some(t),
            _ => return Err(FrameError::Syslog("bad RFC 5424 timestamp")),
        }
    };
    let message = skip_structured_data(rest)?;
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    let whole_seconds = timestamp.is_some() && !has_fraction(ts);
    let nil = |v: &'_ str| v != "-";
    Ok(Framed {
        timestamp,
        whole_seconds,
        host: Some(host).filter(|h| nil(h)).map(Cow::Borrowed),
        pid: if nil(procid) {
            procid.parse().ok()
        } else {
            None
        },
        program: Some(app).filter(|a| nil(a)).map(Cow::Borrowed),
        message: Cow::Borrowed(message),
        ..Framed::default()
    })
}

/// Skips `-` or one or more `[id k="v" …]` elements (with `\]`, `\"` escapes) and the space
/// after them.
fn skip_structured_data(s: &str) -> Result<&str, FrameError> {
    if let Some(rest) = s.strip_prefix('-') {
        return Ok(rest.strip_prefix(' ').unwrap_or(rest));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quotes = false;
        i += 1;
        loop {
            match b.get(i) {
                None => return Err(FrameError::Syslog("unterminated structured data")),
                Some(b'\\') => i += 2,
                Some(b'"') => {
                    in_quotes = !in_quotes;
                    i += 1;
                }
                Some(b']') if !in_quotes => {
                    i += 1;
                    break;
                }
                Some(_) => i += 1,
            }
        }
    }
    if i == 0 {
        return Err(FrameError::Syslog("bad structured data"));
    }
    let rest = s
        .get(i..)
        .ok_or(FrameError::Syslog("bad structured data"))?;
    Ok(rest.strip_prefix(' ').unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framer() -> SyslogFramer {
        let reference = Timestamp::from_civil_utc(2026, 11, 23, 12, 0, 0, 0).unwrap();
        SyslogFramer::with_reference(TimeZone::Utc, reference)
    }

    #[test]
    fn rfc3164_with_year_inference() {
        let f = framer();
        let x = f
            .frame("Nov 23 11:00:29 vm sshd[11411]: Connection from x\n")
            .unwrap();
        assert_eq!(
            x.timestamp.unwrap().to_rfc3339(),
            "2026-11-23T11:00:29.000000Z"
        );
        assert_eq!(x.pid, Some(11411));
        assert_eq!(x.program.as_deref(), Some("sshd"));
        assert_eq!(x.message, "Connection from x");
        assert!(x.whole_seconds, "RFC 3164 stamps name a whole second");
        // A December line seen in November is from last year.
        let x = f.frame("Dec 31 23:59:59 vm sshd[1]: m").unwrap();
        assert_eq!(
            x.timestamp.unwrap().to_rfc3339(),
            "2025-12-31T23:59:59.000000Z"
        );
        let x = f.frame("<38>Nov  3 01:02:03 vm sshd: m").unwrap();
        assert_eq!(
            x.timestamp.unwrap().to_rfc3339(),
            "2026-11-03T01:02:03.000000Z"
        );
        assert_eq!(x.pid, None);
        // Zone applies to RFC 3164 only.
        let f = SyslogFramer::with_reference(TimeZone::Fixed(3600), f.reference().0);
        let x = f.frame("Nov 23 11:00:29 vm sshd[1]: m").unwrap();
        assert_eq!(
            x.timestamp.unwrap().to_rfc3339(),
            "2026-11-23T10:00:29.000000Z"
        );
        // Read on 31 December, a 1 January line is from the next year.
        let dec31 = Timestamp::from_civil_utc(2026, 12, 31, 23, 0, 0, 0).unwrap();
        let g = SyslogFramer::with_reference(TimeZone::Utc, dec31);
        let x = g.frame("Jan  1 00:10:00 vm sshd[1]: m").unwrap();
        assert_eq!(
            x.timestamp.unwrap().to_rfc3339(),
            "2027-01-01T00:10:00.000000Z"
        );
        assert!(g.frame("Feb 30 00:10:00 vm sshd[1]: m").is_err());
        // 29 February falls back to the last leap year.
        let x = f.frame("Feb 29 11:00:29 vm sshd[1]: m").unwrap();
        assert_eq!(x.timestamp.unwrap().to_civil_utc().0, 2024);
    }

    #[test]
    fn iso_and_5424() {
        let f = framer();
        let x = f
            .frame("2026-11-23T11:00:29.183076+01:00 vm sshd-session[5]: hello")
            .unwrap();
        assert_eq!(
            x.timestamp.unwrap().to_rfc3339(),
            "2026-11-23T10:00:29.183076Z"
        );
        assert_eq!(x.program.as_deref(), Some("sshd-session"));
        assert!(!x.whole_seconds);
        let x = f
            .frame("2026-11-23T11:00:29+01:00 vm sshd[5]: hello")
            .unwrap();
        assert!(x.whole_seconds, "no fraction: a whole second");
        let x = f
            .frame("<38>1 2026-11-23T11:00:29.183076+00:00 vm sshd 11411 - - Connection from")
            .unwrap();
        assert_eq!(x.pid, Some(11411));
        assert_eq!(x.host.as_deref(), Some("vm"));
        assert_eq!(x.message, "Connection from");
        let x = f
            .frame(r#"<38>1 - - sshd - ID1 [a b="x\]y"][c] msg"#)
            .unwrap();
        assert_eq!(x.message, "msg");
        assert_eq!(x.timestamp, None);
    }

    #[test]
    fn garbage() {
        let f = framer();
        for line in [
            "",
            "Nov",
            "Foo 23 11:00:29 vm sshd[1]: m",
            "Nov 23 11:00:29 vm",
            "<38>1 x",
            "2026-13-01T00:00:00Z vm a: b",
            "Nov 23 11:00:29 vm sshd[x]: m",
        ] {
            assert!(f.frame(line).is_err(), "{line}");
        }
    }
}
