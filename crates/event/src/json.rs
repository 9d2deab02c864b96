//! A direct JSON writer for [`AuditEvent`]: the bytes `serde_json::to_writer` writes for
//! the same event (keys, order, omissions, escapes, numbers), without serde's per-value
//! dispatch and per-fragment `io::Write` calls.
//!
//! Every event the daemon and `replay` write goes through here, and serialization was
//! the largest single cost of writing an event. The tests compare this writer with
//! `serde_json` on events full of strings that need escaping.

use crate::{AuditEvent, EventType, Outcome};
use serde_json::{Map, Value};
use sshtrail_fmt::decimal::unsigned;
use sshtrail_fmt::json::string;
use std::collections::BTreeMap;

/// Appends `event` as one JSON object (no newline).
pub(crate) fn write_event(event: &AuditEvent, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"metadata\":{\"auditId\":");
    string(out, &event.metadata.audit_id);
    if !event.metadata.extra.is_empty() {
        out.extend_from_slice(b",\"extra\":");
        object(out, &event.metadata.extra);
    }
    out.extend_from_slice(b"},\"type\":");
    out.extend_from_slice(match event.event_type {
        EventType::UserLogin => b"\"UserLogin\"",
        EventType::UserAction => b"\"UserAction\"",
        EventType::UserLogout => b"\"UserLogout\"",
        EventType::SystemAction => b"\"SystemAction\"",
    });
    out.extend_from_slice(b",\"loggedAt\":");
    string(out, &event.logged_at);
    out.extend_from_slice(b",\"source\":{\"type\":");
    string(out, &event.source.kind);
    out.extend_from_slice(b",\"value\":");
    string(out, &event.source.value);
    if !event.source.extra.is_empty() {
        out.extend_from_slice(b",\"extra\":");
        strings(out, &event.source.extra);
    }
    out.extend_from_slice(b"},\"outcome\":");
    out.extend_from_slice(match event.outcome {
        Outcome::Succeeded => b"\"succeeded\"",
        Outcome::Failed => b"\"failed\"",
    });
    out.extend_from_slice(b",\"subjects\":");
    strings(out, &event.subjects);
    out.extend_from_slice(b",\"component\":");
    string(out, &event.component);
    out.extend_from_slice(b",\"target\":");
    strings(out, &event.target);
    if let Some(data) = &event.data {
        out.extend_from_slice(b",\"data\":");
        value(out, data);
    }
    out.push(b'}');
}

fn strings(out: &mut Vec<u8>, map: &BTreeMap<String, String>) {
    members(out, map, |out, v| string(out, v));
}

fn object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    members(out, map, value);
}

/// `{"key":value,…}` in the map's own order.
fn members<'a, V: 'a>(
    out: &mut Vec<u8>,
    map: impl IntoIterator<Item = (&'a String, &'a V)>,
    write: impl Fn(&mut Vec<u8>, &V),
) {
    out.push(b'{');
    for (i, (k, v)) in map.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        write(out, v);
    }
    out.push(b'}');
}

fn value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::String(s) => string(out, s),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                unsigned(out, u);
            } else if let Some(i) = n.as_i64() {
                // Only negative numbers get here (non-negative ones are u64 above).
                out.push(b'-');
                unsigned(out, i.unsigned_abs());
            } else if serde_json::to_writer(&mut *out, n).is_err() {
                // Floats: serde_json's own shortest form. Writing into memory cannot
                // fail; should it, `null` is what serde_json writes for a non-finite one.
                out.extend_from_slice(b"null");
            }
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => object(out, map),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Host, Source};
    use serde_json::json;

    fn direct(event: &AuditEvent) -> String {
        let mut out = Vec::new();
        write_event(event, &mut out);
        String::from_utf8(out).expect("writer emits UTF-8")
    }

    fn serde(event: &AuditEvent) -> String {
        serde_json::to_string(event).expect("serializable")
    }

    /// Every byte value that JSON treats specially, some that it does not (DEL, `/`,
    /// `'`), and multi-byte characters, in one string.
    fn awkward() -> String {
        let mut s: String = (0u8..0x80).map(char::from).collect();
        s.push_str("/'é€𝄞\u{2028}\u{fffd}end");
        s
    }

    fn sample(text: &str) -> AuditEvent {
        let host = Host {
            name: format!("host{text}"),
            machine_id: text.to_string(),
        };
        let mut event = AuditEvent::new(
            EventType::UserAction,
            text,
            text.to_string(),
            text.to_string(),
            Outcome::Failed,
            &host,
        )
        .subject("loggedAs", text)
        .subject(text, 7u32);
        event.source = Source::ip(text, Some(22));
        event.source.kind = text.to_string();
        event.metadata.extra.insert(text.into(), text.into());
        event.metadata.extra.insert(
            "nested".into(),
            json!({"args": [text, "", null, true, false], "n": [0, 1, u64::MAX, -1, i64::MIN],
                   "f": [0.5, 1e300, -2.25, 3.0, 1e-7], "o": {"": {}}, "a": []}),
        );
        event.data = Some(json!({"x": text, "count": 12, "empty": {}}));
        event
    }

    #[test]
    fn same_bytes_as_serde_json() {
        for text in [
            "",
            "plain",
            "a\"b\\c",
            "\u{1}\u{1f}\n\r\t\u{8}\u{c}",
            &awkward(),
        ] {
            let event = sample(text);
            assert_eq!(direct(&event), serde(&event), "text {text:?}");
        }
    }

    #[test]
    fn same_bytes_for_every_kind_and_omission() {
        let host = Host::default();
        for (kind, outcome) in [
            (EventType::UserLogin, Outcome::Succeeded),
            (EventType::UserAction, Outcome::Failed),
            (EventType::UserLogout, Outcome::Succeeded),
            (EventType::SystemAction, Outcome::Failed),
        ] {
            // Empty extra, empty source.extra, no data: all three are left out.
            let event = AuditEvent::new(kind, "sshd", String::new(), "1".into(), outcome, &host);
            let text = direct(&event);
            assert_eq!(text, serde(&event));
            assert!(!text.contains("\"extra\"") && !text.contains("\"data\""));
        }
    }

    #[test]
    fn same_bytes_on_pseudo_random_strings() {
        // A fixed xorshift sequence: strings of random bytes (kept valid UTF-8 by
        // replacing what is not), weighted towards bytes that need escaping.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..500 {
            let len = (next() % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match next() % 4 {
                    0 => (next() % 0x20) as u8,
                    1 => b"\"\\/'"[(next() % 4) as usize],
                    _ => next() as u8,
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let event = sample(&text);
            assert_eq!(direct(&event), serde(&event));
        }
    }
}
