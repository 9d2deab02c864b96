//! One audit record: header (type, time, serial, node) and its fields in order.
//!
//! A [`Record`] owns one copy of its text and a table of spans into it, so parsing costs
//! two allocations per record however many fields it has, and every field is borrowed
//! from the record as `&str` without copying.

use crate::record_type::RecordType;
use std::fmt;

/// Event time as the kernel stamps it: seconds since the epoch and milliseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Timestamp {
    pub sec: u64,
    pub msec: u32,
}

impl Timestamp {
    /// Milliseconds since the epoch.
    pub fn as_millis(self) -> u64 {
        self.sec
            .saturating_mul(1000)
            .saturating_add(u64::from(self.msec))
    }

    /// RFC 3339 UTC with milliseconds (`2026-11-23T10:51:40.841Z`).
    pub fn to_rfc3339(self) -> String {
        sshtrail_fmt::time::rfc3339_millis_string(self.sec, self.msec)
    }
}

/// What identifies an audit event on one node: its time stamp and serial number.
/// All records of one event share it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct EventId {
    pub timestamp: Timestamp,
    pub serial: u64,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:03}:{}",
            self.timestamp.sec, self.timestamp.msec, self.serial
        )
    }
}

/// How a value was written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Quote {
    /// `key=value`: for fields the kernel hex-encodes, a bare value is hex.
    None,
    /// `key="value"`: a literal string.
    Double,
    /// `key='value'`: a literal string (user-space records).
    Single,
}

/// Where in the record a field was found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Origin {
    /// In the record body, as the kernel or the sending program wrote it.
    Raw,
    /// Inside the `msg='…'` of a user-space record (PAM, sshd, auditd itself).
    Nested,
    /// After auditd's 0x1D separator in ENRICHED logs: a translation (`UID="root"`).
    Enriched,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldSpan {
    pub key: (u32, u32),
    pub value: (u32, u32),
    pub quote: Quote,
    pub origin: Origin,
}

/// A field borrowed from its record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Field<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub quote: Quote,
    pub origin: Origin,
}

impl Field<'_> {
    /// `?` and `(null)` are how audit writes "no value".
    pub fn is_absent(&self) -> bool {
        self.quote == Quote::None && (self.value == "?" || self.value == "(null)")
    }
}

/// One parsed audit record.
#[derive(Clone)]
pub struct Record {
    pub(crate) text: String,
    pub(crate) record_type: RecordType,
    pub(crate) id: EventId,
    pub(crate) node: Option<(u32, u32)>,
    pub(crate) fields: Vec<FieldSpan>,
}

impl Record {
    pub fn record_type(&self) -> RecordType {
        self.record_type
    }

    pub fn id(&self) -> EventId {
        self.id
    }

    pub fn serial(&self) -> u64 {
        self.id.serial
    }

    pub fn timestamp(&self) -> Timestamp {
        self.id.timestamp
    }

    /// The `node=` the record came from, if the log names one.
    pub fn node(&self) -> Option<&str> {
        self.node.map(|span| self.slice(span))
    }

    /// The text the record was parsed from (the log line without its line ending, or the
    /// netlink payload), with any invalid UTF-8 replaced by U+FFFD.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every field in record order: raw fields, nested `msg='…'` fields where they stood,
    /// then the ENRICHED translations.
    #[inline]
    pub fn fields(&self) -> impl ExactSizeIterator<Item = Field<'_>> + '_ {
        self.fields.iter().map(|span| self.field(span))
    }

    /// The first raw or nested field named `key` (never an ENRICHED translation).
    pub fn get(&self, key: &str) -> Option<Field<'_>> {
        self.fields
            .iter()
            .find(|span| span.origin != Origin::Enriched && self.key_is(span, key))
            .map(|span| self.field(span))
    }

    /// The value of the first raw or nested field named `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.get(key).map(|field| field.value)
    }

    /// The ENRICHED translation auditd appended for `key` (`UID`, `ARCH`, `SYSCALL`, …).
    pub fn enriched(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|span| span.origin == Origin::Enriched && self.key_is(span, key))
            .map(|span| self.slice(span.value))
    }

    /// Whether the log carried ENRICHED translations for this record.
    pub fn is_enriched(&self) -> bool {
        self.fields
            .iter()
            .any(|span| span.origin == Origin::Enriched)
    }

    /// Sets the node name of a record whose transport names it out of band (journald's
    /// `_HOSTNAME`, a netlink listener that knows its own host).
    pub fn set_node(&mut self, node: &str) {
        let start = self.text.len();
        self.text.push_str(node);
        self.node = Some((start as u32, self.text.len() as u32));
    }

    /// Whether the field's key is `key`: lengths first, then bytes, so that the
    /// lookups (which pass over most keys) slice nothing for keys of another length.
    #[inline]
    fn key_is(&self, span: &FieldSpan, key: &str) -> bool {
        let (start, end) = span.key;
        (end.wrapping_sub(start)) as usize == key.len()
            && self.text.as_bytes().get(start as usize..end as usize) == Some(key.as_bytes())
    }

    #[inline]
    fn field(&self, span: &FieldSpan) -> Field<'_> {
        Field {
            key: self.slice(span.key),
            value: self.slice(span.value),
            quote: span.quote,
            origin: span.origin,
        }
    }

    #[inline]
    fn slice(&self, (start, end): (u32, u32)) -> &str {
        self.text.get(start as usize..end as usize).unwrap_or("")
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("type", &self.record_type)
            .field("id", &self.id)
            .field("node", &self.node())
            .field("fields", &self.fields().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        let ts = Timestamp { sec: 0, msec: 0 };
        assert_eq!(ts.to_rfc3339(), "1970-01-01T00:00:00.000Z");
        let ts = Timestamp {
            sec: 1_795_431_100,
            msec: 841,
        };
        assert_eq!(ts.to_rfc3339(), "2026-11-23T10:51:40.841Z");
        // Leap day.
        let ts = Timestamp {
            sec: 951_782_400,
            msec: 7,
        };
        assert_eq!(ts.to_rfc3339(), "2000-02-29T00:00:00.007Z");
        // Milliseconds beyond 999 are clamped; a year past 9999 keeps all its digits.
        let ts = Timestamp {
            sec: 253_402_300_800,
            msec: 1500,
        };
        assert_eq!(ts.to_rfc3339(), "10000-01-01T00:00:00.999Z");
    }

    #[test]
    fn rfc3339_matches_the_formatter() {
        // Every field's digits against `format!` over a spread of instants.
        let mut sec = 0u64;
        while sec < 300_000_000_000 {
            let ts = Timestamp {
                sec,
                msec: (sec % 1000) as u32,
            };
            let (y, mo, d, h, mi, s) = sshtrail_fmt::time::civil_from_unix(sec);
            let want = format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
                ts.msec
            );
            assert_eq!(ts.to_rfc3339(), want);
            sec = sec * 3 / 2 + 7_777;
        }
    }
}
