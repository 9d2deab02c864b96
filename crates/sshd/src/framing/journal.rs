//! `journalctl -o json` lines.
//!
//! journald writes each field as a JSON string, except: a value that is not valid UTF-8
//! (or holds control characters) becomes an array of byte numbers, a field that occurs more
//! than once becomes an array of values, and an over-long value becomes `null`. Values are
//! borrowed from the line when they contain no escapes.

use super::{chomp, FrameError, Framed};
use crate::time::Timestamp;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// Frames one `journalctl -o json` line. Time from `__REALTIME_TIMESTAMP`, pid from the
/// trusted `_PID` (else `SYSLOG_PID`), program from `SYSLOG_IDENTIFIER` (else `_COMM`),
/// audit session and login uid from the trusted `_AUDIT_SESSION` and `_AUDIT_LOGINUID`.
pub fn frame_journal_json(line: &str) -> Result<Framed<'_>, FrameError> {
    let line = chomp(line);
    let mut de = serde_json::Deserializer::from_str(line);
    let entry = Entry::deserialize(&mut de).map_err(|e| FrameError::Json(e.to_string()))?;
    de.end().map_err(|e| FrameError::Json(e.to_string()))?;
    let message = entry.message.ok_or(FrameError::NoMessage)?;
    let micros = |v: &Option<Cow<'_, str>>| v.as_deref().and_then(|s| s.parse::<i64>().ok());
    let timestamp = micros(&entry.realtime)
        .or_else(|| micros(&entry.source_realtime))
        .map(Timestamp);
    let pid = |v: &Option<Cow<'_, str>>| v.as_deref().and_then(|s| s.parse::<u32>().ok());
    Ok(Framed {
        timestamp,
        whole_seconds: false,
        host: entry.hostname,
        pid: pid(&entry.pid).or_else(|| pid(&entry.syslog_pid)),
        program: entry.identifier.or(entry.comm),
        message,
        cursor: entry.cursor,
        boot_id: entry.boot_id,
        machine_id: entry.machine_id,
        audit_session: audit_id(&entry.audit_session),
        audit_loginuid: audit_id(&entry.audit_loginuid),
    })
}

/// The kernel's "unset" value for a session id or login uid (`(u32)-1`): a process that
/// never went through a login (a daemon, or sshd's listener) has it.
const AUDIT_UNSET: u32 = u32::MAX;

fn audit_id(v: &Option<Cow<'_, str>>) -> Option<u32> {
    v.as_deref()
        .and_then(|s| s.parse::<u32>().ok())
        .filter(|&id| id != AUDIT_UNSET)
}

/// The fields this framer uses; everything else is skipped without allocating.
#[derive(Default)]
struct Entry<'a> {
    message: Option<Cow<'a, str>>,
    pid: Option<Cow<'a, str>>,
    syslog_pid: Option<Cow<'a, str>>,
    identifier: Option<Cow<'a, str>>,
    comm: Option<Cow<'a, str>>,
    realtime: Option<Cow<'a, str>>,
    source_realtime: Option<Cow<'a, str>>,
    cursor: Option<Cow<'a, str>>,
    boot_id: Option<Cow<'a, str>>,
    machine_id: Option<Cow<'a, str>>,
    hostname: Option<Cow<'a, str>>,
    audit_session: Option<Cow<'a, str>>,
    audit_loginuid: Option<Cow<'a, str>>,
}

impl<'de> Deserialize<'de> for Entry<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a journald JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut e = Entry::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "MESSAGE" => &mut e.message,
                "_PID" => &mut e.pid,
                "SYSLOG_PID" => &mut e.syslog_pid,
                "SYSLOG_IDENTIFIER" => &mut e.identifier,
                "_COMM" => &mut e.comm,
                "__REALTIME_TIMESTAMP" => &mut e.realtime,
                "_SOURCE_REALTIME_TIMESTAMP" => &mut e.source_realtime,
                "__CURSOR" => &mut e.cursor,
                "_BOOT_ID" => &mut e.boot_id,
                "_MACHINE_ID" => &mut e.machine_id,
                "_HOSTNAME" => &mut e.hostname,
                "_AUDIT_SESSION" => &mut e.audit_session,
                "_AUDIT_LOGINUID" => &mut e.audit_loginuid,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Value<'de>>()?.0;
        }
        Ok(e)
    }
}

/// One journald field value: string, byte array, array of values (first one wins), null.
struct Value<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a byte array, an array of values or null")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Value(Some(Cow::Borrowed(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Value(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Value(Some(Cow::Owned(v))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Value(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Value(None))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Value(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Value(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Either bytes (numbers) or repeated values (strings / byte arrays).
        let mut bytes: Vec<u8> = Vec::new();
        let mut first: Option<Option<Cow<'de, str>>> = None;
        while let Some(item) = seq.next_element::<Item<'de>>()? {
            match item {
                Item::Byte(b) => bytes.push(b),
                Item::Value(v) => {
                    if first.is_none() {
                        first = Some(v);
                    }
                }
            }
        }
        if let Some(v) = first {
            return Ok(Value(v));
        }
        Ok(Value(Some(match String::from_utf8(bytes) {
            Ok(s) => Cow::Owned(s),
            Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        })))
    }
}

/// An element of a journald array.
enum Item<'a> {
    Byte(u8),
    Value(Option<Cow<'a, str>>),
}

impl<'de> Deserialize<'de> for Item<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Item<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte or a value")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                u8::try_from(v)
                    .map(Item::Byte)
                    .map_err(|_| E::custom("byte out of range"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u8::try_from(v)
                    .map(Item::Byte)
                    .map_err(|_| E::custom("byte out of range"))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Item::Value(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Item::Value(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Item::Value(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                ValueVisitor.visit_seq(seq).map(|v| Item::Value(v.0))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_message_is_borrowed() {
        let line = r#"{"MESSAGE":"Accepted password for bob from ::1 port 2 ssh2","_PID":"7","SYSLOG_PID":"8","SYSLOG_IDENTIFIER":"sshd","__REALTIME_TIMESTAMP":"1795431565848485","_HOSTNAME":"vm","__CURSOR":"s=1;i=2","_BOOT_ID":"b","_MACHINE_ID":"m","X":[1,2]}"#;
        let f = frame_journal_json(line).unwrap();
        assert!(matches!(f.message, Cow::Borrowed(_)));
        assert_eq!(f.pid, Some(7));
        assert_eq!(f.program.as_deref(), Some("sshd"));
        assert_eq!(f.host.as_deref(), Some("vm"));
        assert_eq!(f.cursor.as_deref(), Some("s=1;i=2"));
        assert_eq!(
            f.timestamp.unwrap().to_rfc3339(),
            "2026-11-23T10:59:25.848485Z"
        );
    }

    #[test]
    fn byte_array_and_repeated_fields() {
        let line = r#"{"MESSAGE":[104,105,255],"_PID":["9","10"],"SYSLOG_IDENTIFIER":null}"#;
        let f = frame_journal_json(line).unwrap();
        assert_eq!(f.message, "hi\u{fffd}");
        assert_eq!(f.pid, Some(9));
        assert_eq!(f.program, None);
    }

    /// Captured with OpenSSH 9.2's sftp-server and internal-sftp, Debian 12.
    const SFTP: &str = include_str!("../../tests/data/debian12-sftp-journal.json");

    #[test]
    fn audit_session_and_loginuid() {
        let lines: Vec<_> = SFTP.lines().collect();
        let f = frame_journal_json(lines[0]).unwrap();
        assert_eq!(f.program.as_deref(), Some("sftp-server"));
        assert_eq!((f.audit_session, f.audit_loginuid), (Some(1), Some(1001)));
        assert!(f.is_sftp() && !f.is_sshd());
        // internal-sftp runs inside sshd: the identifier, not _COMM, names it.
        let f = frame_journal_json(lines[74]).unwrap();
        assert!(f.message.starts_with("session opened"));
        assert_eq!(f.program.as_deref(), Some("internal-sftp"));
        assert_eq!((f.audit_session, f.audit_loginuid), (Some(5), Some(1001)));
        assert!(f.is_sftp() && !f.is_sshd());
        // sshd's listener was never in a login session: journald leaves the fields out.
        let line = r#"{"MESSAGE":"Server listening on 127.0.0.1 port 22830.","_PID":"1","SYSLOG_IDENTIFIER":"sshd"}"#;
        let f = frame_journal_json(line).unwrap();
        assert_eq!((f.audit_session, f.audit_loginuid), (None, None));
        assert!(f.is_sshd() && !f.is_sftp());
    }

    #[test]
    fn unset_or_bad_audit_ids_are_none() {
        for (v, want) in [
            (r#""4294967295""#, None),
            (r#""4294967296""#, None),
            (r#""-1""#, None),
            (r#""""#, None),
            (r#""x7""#, None),
            ("null", None),
            ("[115,101,115]", None),
            ("0", Some(0)),
            (r#""4294967294""#, Some(4_294_967_294)),
        ] {
            let line = format!(r#"{{"MESSAGE":"m","_AUDIT_SESSION":{v},"_AUDIT_LOGINUID":{v}}}"#);
            let f = frame_journal_json(&line).unwrap();
            assert_eq!((f.audit_session, f.audit_loginuid), (want, want), "{v}");
        }
    }

    #[test]
    fn bad_lines() {
        assert!(matches!(frame_journal_json("{"), Err(FrameError::Json(_))));
        assert!(matches!(frame_journal_json("[]"), Err(FrameError::Json(_))));
        assert_eq!(frame_journal_json("{}"), Err(FrameError::NoMessage));
        assert!(frame_journal_json(r#"{"MESSAGE":[300]}"#).is_err());
    }
}
