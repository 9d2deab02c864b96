//! The fleet session index: empty objects whose *names* say what `sessions list` prints, so
//! that listing 100,000 sessions filtered by user, host or day reads key listings only
//! (1,000 names per request) instead of one sidecar object per session.
//!
//! Every uploaded session gets three entries, one per way to look sessions up, under the
//! store's prefix:
//!
//! ```text
//! _index/v1/day/<YYYY-MM-DD>/<host>/<entry>
//! _index/v1/user/<user>/<YYYY-MM-DD>/<entry>
//! _index/v1/host/<host>/<YYYY-MM-DD>/<entry>
//! _index/v1/complete                          (marker: every session has its entries)
//! ```
//!
//! The day is the UTC day the session started. `<entry>` is two path segments of the
//! session's fields joined by `~`: `start~id~user~host` / `source~port~end~digest~bytes~
//! records~machine id`; each escaped ([`escape`]: bytes outside `[A-Za-z0-9._:+-]` become
//! `%XX`), an absent value empty. Two segments because servers that keep objects as files
//! take at most 255 bytes between slashes. Partition segments use the same escaping; one
//! longer than [`MAX_SEGMENT`] bytes becomes `%h` and 32 hex digits of its SHA-256 (`%h` is
//! never an escape), and a lister compares the fields of the entry itself, so a collision
//! cannot leak a session into another user's listing. When a segment would be longer than
//! [`MAX_ENTRY_SEGMENT`] (a hostile user name, say), or the server refuses the long key, the
//! entry is `start~id` only ([`short_entry`]) and the lister reads that session's sidecar.
//!
//! The marker makes the index authoritative. A store writes it when it first finds its
//! prefix empty; for a prefix that already holds sessions from before the index,
//! `sshtrail sessions reindex` adds the missing entries and then the marker. Without the
//! marker a listing falls back to reading every sidecar.

use crate::{Filter, SessionMeta};
use sha2::{Digest, Sha256};

/// Where the index lives under the store's prefix.
pub const ROOT: &str = "_index/v1/";
/// The marker object's name under the store's prefix.
pub const MARKER: &str = "_index/v1/complete";
/// Longest escaped partition segment kept as it is.
pub const MAX_SEGMENT: usize = 96;
/// Longest segment of an entry kept whole: S3 keys are at most 1,024 bytes, and servers
/// that keep objects as files (MinIO) take at most 255 bytes between slashes.
pub const MAX_ENTRY_SEGMENT: usize = 200;
/// Day segment of a session whose start is not a readable RFC 3339 time.
const UNKNOWN_DAY: &str = "unknown";
/// Longest day range listed day by day; a longer one lists the whole partition instead.
const MAX_DAYS_LISTED: i64 = 62;

/// Bytes besides ASCII letters and digits that [`escape`] keeps.
const KEPT: &[u8] = b".:_+-";

/// Escapes one field for a key: `[A-Za-z0-9._:+-]` stay, every other byte is `%XX`.
pub fn escape(value: &str) -> String {
    super::url::percent_encode(value, KEPT)
}

/// The inverse of [`escape`]; `None` for anything [`escape`] cannot have written.
pub fn unescape(field: &str) -> Option<String> {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = field.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || KEPT.contains(&b) => {
                out.push(b);
                i += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// A partition segment (user or host): escaped, or a hash when long.
pub fn segment(value: &str) -> String {
    let escaped = escape(value);
    if escaped.len() <= MAX_SEGMENT && !escaped.is_empty() {
        return escaped;
    }
    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("%h{hex}")
}

/// The UTC day (`YYYY-MM-DD`) of an RFC 3339 time, `None` when it is not one.
pub fn day(time: &str) -> Option<String> {
    let b = time.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = time.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&mo) {
        return None;
    }
    if !(1..=31).contains(&d) || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (h, mi) = (num(11..13)?, num(14..16)?);
    // The zone is the last thing in the string: `Z` or `±HH:MM`.
    let offset_min = if time.ends_with(['Z', 'z']) {
        0
    } else {
        let zone = time.get(time.len().checked_sub(6)?..)?;
        let sign = match zone.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (zh, zm) = (
            zone.get(1..3)?.parse::<i64>().ok()?,
            zone.get(4..6)?.parse::<i64>().ok()?,
        );
        sign * (zh * 60 + zm)
    };
    let days = sshtrail_fmt::time::days_from_civil(y, mo as u32, d as u32);
    let minutes = days * 1440 + h * 60 + mi - offset_min;
    let (y, mo, d) = sshtrail_fmt::time::civil_from_days(minutes.div_euclid(1440));
    Some(format!("{y:04}-{mo:02}-{d:02}"))
}

/// The entry of a session (see the module documentation): two path segments, or the
/// start-and-id form when a segment would be longer than [`MAX_ENTRY_SEGMENT`].
pub fn entry(meta: &SessionMeta) -> String {
    let opt = |v: &Option<String>| v.as_deref().map(escape).unwrap_or_default();
    let who = [
        escape(&meta.start),
        escape(&meta.id),
        escape(&meta.user),
        escape(&meta.host),
    ]
    .join("~");
    let what = [
        escape(&meta.source),
        meta.source_port.map(|p| p.to_string()).unwrap_or_default(),
        opt(&meta.end),
        opt(&meta.digest),
        meta.bytes.to_string(),
        meta.records.to_string(),
        escape(&meta.machine_id),
    ]
    .join("~");
    if who.len() <= MAX_ENTRY_SEGMENT && what.len() <= MAX_ENTRY_SEGMENT {
        format!("{who}/{what}")
    } else {
        short_entry(meta)
    }
}

/// The start-and-id entry: always short; a lister reads the session's sidecar for the rest.
pub fn short_entry(meta: &SessionMeta) -> String {
    format!("{}~{}", escape(&meta.start), escape(&meta.id))
}

/// The index keys of a session (see the module documentation), each under `list_prefix`
/// (the store's prefix with its trailing `/`, or empty), with the entry `entry` gives.
pub fn keys(list_prefix: &str, meta: &SessionMeta) -> [String; 3] {
    keys_with(list_prefix, meta, &entry(meta))
}

/// [`keys`] with the short entry, for a server that refuses the long keys.
pub fn short_keys(list_prefix: &str, meta: &SessionMeta) -> [String; 3] {
    keys_with(list_prefix, meta, &short_entry(meta))
}

fn keys_with(list_prefix: &str, meta: &SessionMeta, entry: &str) -> [String; 3] {
    let day = day(&meta.start).unwrap_or_else(|| UNKNOWN_DAY.into());
    let (user, host) = (segment(&meta.user), segment(&meta.host));
    [
        format!("{list_prefix}{ROOT}day/{day}/{host}/{entry}"),
        format!("{list_prefix}{ROOT}user/{user}/{day}/{entry}"),
        format!("{list_prefix}{ROOT}host/{host}/{day}/{entry}"),
    ]
}

/// What an entry name holds.
#[derive(Debug, PartialEq)]
pub enum Entry {
    /// Everything `sessions list` needs.
    Whole(Box<SessionMeta>),
    /// Only start and id: the sidecar has the rest (the fields were too long for a key).
    IdOnly { start: String, id: String },
}

/// Reads the entry at the end of an index key; `None` for names this module did not write.
pub fn parse_entry(key: &str) -> Option<Entry> {
    let mut segments = key.rsplit('/');
    let last: Vec<&str> = segments.next()?.split('~').collect();
    if last.len() == 2 {
        return Some(Entry::IdOnly {
            start: unescape(last[0])?,
            id: unescape(last[1])?,
        });
    }
    let who: Vec<&str> = segments.next()?.split('~').collect();
    if who.len() != 4 || last.len() != 7 {
        return None;
    }
    let opt = |f: &str| -> Option<Option<String>> {
        if f.is_empty() {
            Some(None)
        } else {
            unescape(f).map(Some)
        }
    };
    Some(Entry::Whole(Box::new(SessionMeta {
        start: unescape(who[0])?,
        id: unescape(who[1])?,
        user: unescape(who[2])?,
        host: unescape(who[3])?,
        source: unescape(last[0])?,
        source_port: match last[1] {
            "" => None,
            p => Some(p.parse().ok()?),
        },
        end: opt(last[2])?,
        digest: opt(last[3])?,
        bytes: last[4].parse().ok()?,
        records: last[5].parse().ok()?,
        machine_id: unescape(last[6])?,
        ..Default::default()
    })))
}

/// The key prefixes (under the store's list prefix) whose listing holds every session the
/// filter can match: the narrowest of the three trees, day by day when the range is short.
pub fn prefixes(list_prefix: &str, filter: &Filter) -> Vec<String> {
    let days = day_range(filter);
    let tree = |name: &str, seg: Option<String>| -> Vec<String> {
        let base = match seg {
            Some(s) => format!("{list_prefix}{ROOT}{name}/{s}/"),
            None => format!("{list_prefix}{ROOT}{name}/"),
        };
        match &days {
            Some(days) => days.iter().map(|d| format!("{base}{d}/")).collect(),
            None => vec![base],
        }
    };
    match (&filter.user, &filter.host) {
        (Some(user), _) => tree("user", Some(segment(user))),
        (None, Some(host)) => tree("host", Some(segment(host))),
        (None, None) => tree("day", None),
    }
}

/// Every day from `since` to `until`, when both are given and the range is short.
fn day_range(filter: &Filter) -> Option<Vec<String>> {
    let parse = |d: &str| -> Option<i64> {
        let (y, m, d) = (d.get(0..4)?, d.get(5..7)?, d.get(8..10)?);
        Some(sshtrail_fmt::time::days_from_civil(
            y.parse().ok()?,
            m.parse().ok()?,
            d.parse().ok()?,
        ))
    };
    let (from, to) = (
        parse(filter.since.as_deref()?)?,
        parse(filter.until.as_deref()?)?,
    );
    if to < from || to - from >= MAX_DAYS_LISTED {
        return None;
    }
    Some(
        (from..=to)
            .map(|n| {
                let (y, m, d) = sshtrail_fmt::time::civil_from_days(n);
                format!("{y:04}-{m:02}-{d:02}")
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> SessionMeta {
        SessionMeta {
            id: "3f1c0a9b2d4e-8a7b6c5d-42".into(),
            user: "alice".into(),
            source: "192.0.2.7".into(),
            source_port: Some(51234),
            host: "bastion-1".into(),
            machine_id: "3f1c0a9b2d4e".into(),
            start: "2026-12-01T23:59:58.120Z".into(),
            end: Some("2026-12-02T00:10:00.000Z".into()),
            digest: Some("sha256:00ff".into()),
            bytes: 4096,
            records: 12,
            ..Default::default()
        }
    }

    #[test]
    fn entries_round_trip_every_listed_field() {
        let m = meta();
        let keys = keys("logs/", &m);
        assert_eq!(
            keys[0],
            format!("logs/_index/v1/day/2026-12-01/bastion-1/{}", entry(&m))
        );
        assert!(keys[1].starts_with("logs/_index/v1/user/alice/2026-12-01/"));
        assert!(keys[2].starts_with("logs/_index/v1/host/bastion-1/2026-12-01/"));
        for k in &keys {
            assert_eq!(parse_entry(k), Some(Entry::Whole(Box::new(m.clone()))));
        }
        let live = SessionMeta {
            end: None,
            digest: None,
            source_port: None,
            ..m
        };
        assert_eq!(
            parse_entry(&entry(&live)),
            Some(Entry::Whole(Box::new(live.clone())))
        );
    }

    #[test]
    fn hostile_values_stay_inside_their_field() {
        let m = SessionMeta {
            user: "a/b~c%d é\n../x".into(),
            host: "h~1/..".into(),
            ..meta()
        };
        let keys = keys("", &m);
        for k in &keys {
            assert_eq!(k.matches('/').count(), 6, "{k}");
            assert_eq!(parse_entry(k), Some(Entry::Whole(Box::new(m.clone()))));
        }
        let long = SessionMeta {
            user: "ü".repeat(300),
            ..meta()
        };
        let keys = super::keys("p/", &long);
        assert!(keys.iter().all(|k| k.len() < 1024), "{keys:?}");
        assert!(keys[1].starts_with("p/_index/v1/user/%h"));
        assert_eq!(
            parse_entry(&keys[1]),
            Some(Entry::IdOnly {
                start: long.start.clone(),
                id: long.id.clone()
            })
        );
        assert_eq!(
            parse_entry(&short_keys("", &meta())[0]),
            Some(Entry::IdOnly {
                start: meta().start,
                id: meta().id
            })
        );
        assert_eq!(parse_entry("p/_index/v1/day/x/y/not-an-entry"), None);
        assert_eq!(parse_entry("p/_index/v1/day/x/a~b~c/1~2~3~4~5~6~7"), None);
        assert_eq!(parse_entry("a~b~c"), None);
        assert_eq!(unescape("%4"), None);
        assert_eq!(unescape("a/b"), None);
        assert_eq!(unescape("%FF"), None); // not UTF-8
    }

    #[test]
    fn days_are_utc() {
        assert_eq!(
            day("2026-12-01T23:59:58.120Z").as_deref(),
            Some("2026-12-01")
        );
        assert_eq!(
            day("2026-12-01T23:30:00+00:00").as_deref(),
            Some("2026-12-01")
        );
        assert_eq!(
            day("2026-12-01T23:30:00-01:00").as_deref(),
            Some("2026-12-02")
        );
        assert_eq!(
            day("2026-01-01T00:30:00+01:00").as_deref(),
            Some("2025-12-31")
        );
        assert_eq!(day("2026-13-01T00:00:00Z"), None);
        assert_eq!(day("yesterday"), None);
        assert_eq!(day("2026-12-01T00:00:00"), None);
    }

    #[test]
    fn the_narrowest_tree_is_listed() {
        let f =
            |user: Option<&str>, host: Option<&str>, since: Option<&str>, until: Option<&str>| {
                let filter = Filter {
                    user: user.map(Into::into),
                    host: host.map(Into::into),
                    since: since.map(Into::into),
                    until: until.map(Into::into),
                };
                prefixes("", &filter)
            };
        assert_eq!(f(None, None, None, None), ["_index/v1/day/"]);
        assert_eq!(
            f(Some("bob"), Some("h"), None, None),
            ["_index/v1/user/bob/"]
        );
        assert_eq!(f(None, Some("h"), None, None), ["_index/v1/host/h/"]);
        assert_eq!(
            f(None, None, Some("2026-02-28"), Some("2026-03-01")),
            ["_index/v1/day/2026-02-28/", "_index/v1/day/2026-03-01/"]
        );
        assert_eq!(
            f(None, None, Some("2026-01-01"), Some("2026-12-31")),
            ["_index/v1/day/"]
        );
        assert_eq!(f(None, None, Some("2026-01-01"), None), ["_index/v1/day/"]);
    }
}
