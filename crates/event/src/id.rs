//! Stable event ids: `metadata.eventId`, the same for the same event however often and
//! wherever it is derived.
//!
//! A consumer that receives an event twice (a sink re-sent what followed the last
//! checkpoint after a crash, a replay of logs a daemon already read, two daemons fed the
//! same logs) drops the second by its id; so the id must come from what the event *is*,
//! never from when or where it was made. It is the first 128 bits of a SHA-256 over:
//!
//! - the host (`target.host` and `target.machine-id`), so that two hosts never share ids;
//! - for an action made from a kernel audit event: the event's time stamp, serial number
//!   and session, which the kernel makes unique per host (the serial restarts at boot;
//!   the time tells the boots apart);
//! - for every other event: its rendered auditevent line without the parts added after
//!   the tracker decided it (GeoIP fields, a logout's session-log digest), which depend on
//!   a database and on the session store, not on the logs.
//!
//! Two events with the same content are rare but real: sshd logs the same `Failed
//! password …` line twice within one second of a classic syslog file (whole seconds), for
//! one connection. Each repeat gets the next *ordinal* (`id = H(first id, n)`), counted
//! over a window of recent content ([`EventIds`]); the window is part of the daemon's
//! checkpoint, so a repeat written after a restart still gets its own ordinal.
//!
//! [`derived_uuid`] makes the ids of sessions and reports that have no kernel session
//! (`auditId` of a failed login, a login sshd logged but the kernel never confirmed, a
//! `SystemAction`) from their content in the same way, UUID-shaped as before.

use crate::model::{Event, Host, Origin};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;

/// Version tag hashed into every id: a change of derivation changes every id at once.
const DOMAIN: &[u8] = b"sshtrail-event-id-v1\0";

/// How far behind the newest repeatable event (ms of event time) one is still
/// remembered for its repeats. Repeats share their time stamp, so they are written
/// together; a window of seconds covers a slow join.
const WINDOW_MS: u64 = 10_000;

/// At most this many contents are remembered (a burst of failed logins).
const WINDOW_MAX: usize = 4096;

/// A deterministic event id: 128 bits, written as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct EventId(pub [u8; 16]);

impl EventId {
    /// The 32 hex digits, without allocating.
    pub fn hex(&self) -> [u8; 32] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 32];
        for (i, byte) in self.0.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(byte >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(byte & 0x0f)];
        }
        out
    }

    /// Parses 32 hex digits (either case).
    pub fn parse(text: &str) -> Option<EventId> {
        let bytes = text.as_bytes();
        if bytes.len() != 32 {
            return None;
        }
        let mut id = [0u8; 16];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let high = (pair[0] as char).to_digit(16)?;
            let low = (pair[1] as char).to_digit(16)?;
            id[i] = (high * 16 + low) as u8;
        }
        Some(EventId(id))
    }

    /// The `n`th repeat of this content (`n` ≥ 1).
    fn repeat(&self, n: u32) -> EventId {
        let mut hash = Sha256::new();
        hash.update(DOMAIN);
        hash.update(b"repeat\0");
        hash.update(self.0);
        hash.update(n.to_le_bytes());
        EventId(first_128(hash))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.hex();
        // Always ASCII hex digits.
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

fn first_128(hash: Sha256) -> [u8; 16] {
    let digest = hash.finalize();
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    id
}

fn with_host(host: &Host) -> Sha256 {
    let mut hash = Sha256::new();
    hash.update(DOMAIN);
    for part in [host.name.as_bytes(), host.machine_id.as_bytes()] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash
}

/// A UUID-shaped id (version 8, "custom") from `parts`: the same parts, the same id.
pub fn derived_uuid(parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    hash.update(DOMAIN);
    hash.update(b"uuid\0");
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    let mut b = first_128(hash);
    b[6] = (b[6] & 0x0f) | 0x80; // version 8
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex = EventId(b).hex();
    let hex = std::str::from_utf8(&hex).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// One remembered content: its first id, how many times it was seen, and its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    count: u32,
    time_ms: u64,
}

/// What the window held at a checkpoint: `(first id, times seen, event time)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdWindow(pub Vec<(String, u32, u64)>);

/// Gives each event its id, counting repeats of the same content (see the module doc).
#[derive(Default)]
pub struct EventIds {
    seen: HashMap<EventId, Seen>,
    newest_ms: u64,
    since_prune: usize,
    line: Vec<u8>,
    /// The hash state after [`with_host`] for the host last asked about: the host
    /// part (name and a 32-digit machine id) fills a whole SHA-256 block, which would
    /// otherwise be compressed again for every event.
    host_state: Option<(Host, Sha256)>,
}

impl EventIds {
    pub fn new() -> EventIds {
        EventIds::default()
    }

    /// The id of `event` on `host`. Call it once per event written, before GeoIP fields
    /// or a session-log reference are added to it.
    pub fn assign(&mut self, event: &Event, host: &Host) -> EventId {
        if let Event::Action(action) = event {
            if action.detail.origin == Origin::Audit {
                // Unique per host already: no window needed.
                let mut hash = self.with_host(host);
                hash.update(b"audit\0");
                hash.update(action.time_ms.to_le_bytes());
                hash.update(action.detail.sequence.to_le_bytes());
                hash.update(action.ses.to_le_bytes());
                return EventId(first_128(hash));
            }
        }
        self.line.clear();
        crate::json::write_event(event, host, None, &mut self.line);
        let mut hash = self.with_host(host);
        hash.update(b"line\0");
        hash.update(&self.line);
        let first = EventId(first_128(hash));
        let time_ms = event.time_ms();
        self.newest_ms = self.newest_ms.max(time_ms);
        let seen = self.seen.entry(first).or_insert(Seen { count: 0, time_ms });
        seen.count = seen.count.saturating_add(1);
        let id = match seen.count {
            1 => first,
            n => first.repeat(n - 1),
        };
        self.since_prune += 1;
        if self.since_prune >= 256 || self.seen.len() > WINDOW_MAX {
            self.prune();
        }
        id
    }

    /// [`with_host`], from the state kept for `host` (made again when the host changes:
    /// a replay learns it from the logs).
    fn with_host(&mut self, host: &Host) -> Sha256 {
        match &self.host_state {
            Some((kept, state)) if kept == host => state.clone(),
            _ => {
                let state = with_host(host);
                self.host_state = Some((host.clone(), state.clone()));
                state
            }
        }
    }

    fn prune(&mut self) {
        self.since_prune = 0;
        let oldest = self.newest_ms.saturating_sub(WINDOW_MS);
        self.seen.retain(|_, seen| seen.time_ms >= oldest);
        if self.seen.len() > WINDOW_MAX {
            let mut times: Vec<u64> = self.seen.values().map(|s| s.time_ms).collect();
            times.sort_unstable();
            let cut = times[times.len() - WINDOW_MAX];
            self.seen.retain(|_, seen| seen.time_ms >= cut);
        }
    }

    /// The window, for a checkpoint.
    pub fn window(&mut self) -> IdWindow {
        self.prune();
        let mut entries: Vec<_> = self
            .seen
            .iter()
            .map(|(id, seen)| (id.to_string(), seen.count, seen.time_ms))
            .collect();
        entries.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
        IdWindow(entries)
    }

    /// Takes back a checkpoint's window; entries that do not parse are dropped.
    pub fn restore(&mut self, window: &IdWindow) {
        for (id, count, time_ms) in &window.0 {
            if let Some(id) = EventId::parse(id) {
                self.newest_ms = self.newest_ms.max(*time_ms);
                self.seen.insert(
                    id,
                    Seen {
                        count: *count,
                        time_ms: *time_ms,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LoginFailed, Peer};

    fn host() -> Host {
        Host {
            name: "web-1".into(),
            machine_id: "m".into(),
        }
    }

    fn failed(time_ms: u64, port: u16) -> Event {
        Event::LoginFailed(Box::new(LoginFailed {
            time_ms,
            audit_id: derived_uuid(&[b"x"]),
            user: "root".into(),
            pid: 7,
            source: Peer::new("10.0.0.1", Some(port)),
            method: Some("password".into()),
            reason: "Failed password".into(),
            geo: None,
        }))
    }

    #[test]
    fn the_same_event_gets_the_same_id_in_another_run() {
        let a = EventIds::new().assign(&failed(1000, 22), &host());
        let b = EventIds::new().assign(&failed(1000, 22), &host());
        assert_eq!(a, b);
        assert_ne!(a, EventIds::new().assign(&failed(1000, 23), &host()));
        let other = Host {
            name: "web-2".into(),
            machine_id: "m".into(),
        };
        assert_ne!(a, EventIds::new().assign(&failed(1000, 22), &other));
    }

    #[test]
    fn the_kept_host_state_follows_a_change_of_host() {
        let other = Host {
            name: "web-2".into(),
            machine_id: "m".into(),
        };
        let mut ids = EventIds::new();
        let first = ids.assign(&failed(1000, 22), &host());
        let second = ids.assign(&failed(2000, 22), &other);
        assert_eq!(first, EventIds::new().assign(&failed(1000, 22), &host()));
        assert_eq!(second, EventIds::new().assign(&failed(2000, 22), &other));
    }

    #[test]
    fn repeats_get_their_own_ids_and_keep_them_across_a_checkpoint() {
        let mut ids = EventIds::new();
        let first = ids.assign(&failed(1000, 22), &host());
        let second = ids.assign(&failed(1000, 22), &host());
        assert_ne!(first, second);
        let window = ids.window();
        let mut resumed = EventIds::new();
        resumed.restore(&window);
        let third = resumed.assign(&failed(1000, 22), &host());
        let mut fresh = EventIds::new();
        fresh.assign(&failed(1000, 22), &host());
        fresh.assign(&failed(1000, 22), &host());
        assert_eq!(third, fresh.assign(&failed(1000, 22), &host()));
        assert_ne!(third, first);
        assert_ne!(third, second);
    }

    #[test]
    fn the_window_forgets_what_is_long_past() {
        let mut ids = EventIds::new();
        ids.assign(&failed(1000, 22), &host());
        for n in 0..300u16 {
            ids.assign(
                &failed(1000 + WINDOW_MS + 1 + u64::from(n), 1000 + n),
                &host(),
            );
        }
        assert!(ids.window().0.iter().all(|(_, _, t)| *t > 1000));
    }

    #[test]
    fn ids_are_hex_and_parse_back() {
        let id = EventIds::new().assign(&failed(5, 1), &host());
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(EventId::parse(&text), Some(id));
        assert_eq!(EventId::parse("zz"), None);
        assert_eq!(EventId::parse(&"g".repeat(32)), None);
    }

    #[test]
    fn derived_uuids_are_uuid_shaped_and_deterministic() {
        let a = derived_uuid(&[b"a", b"b"]);
        assert_eq!(a, derived_uuid(&[b"a", b"b"]));
        // Part boundaries count: ("ab", "") is not ("a", "b").
        assert_ne!(a, derived_uuid(&[b"ab", b""]));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
    }
}
