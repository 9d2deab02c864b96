//! The output model: one normalized event, borrowed from the records it came from.
//!
//! Every text is a [`Cow`]: values that appear verbatim in a record are borrowed, and only
//! what had to be decoded (hex strings, names, numbers made into text) is owned. Empty
//! parts are left out of the JSON, so a consumer never sees `"file": null` or `"tags": []`.

use crate::coalesce::fields;
use crate::coalesce::ids::IdMap;
use crate::record::{Record, Timestamp};
use crate::record_type::RecordType;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use sshtrail_fmt::time::civil_from_unix;
use std::borrow::Cow;
use std::fmt;

/// A text value: borrowed from a record where possible.
pub type Text<'a> = Cow<'a, str>;

/// Whether what the event describes succeeded.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    #[serde(rename = "fail")]
    Failure,
    /// No record of the event says (an `ANOM_ABEND`, a record without `res=`).
    #[default]
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "fail",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Ordered `key → value` pairs, serialized as a JSON object. A key is kept once: the first
/// value wins (records of one event repeat keys such as `pid`; the first is the primary's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pairs<'a> {
    /// Each key with a fingerprint (see [`fingerprint`]), so that the duplicate check
    /// costs one integer comparison per entry instead of a string comparison.
    items: Vec<(u64, Text<'a>, Text<'a>)>,
}

/// The key's length and first seven bytes: equal fingerprints mean equal keys for keys of
/// up to seven bytes (nearly all audit keys); longer keys are compared in full.
fn fingerprint(key: &str) -> u64 {
    let bytes = key.as_bytes();
    // A byte loop, not a slice copy: a copy of 0–7 bytes compiles to a memcpy call and a
    // store-forwarding stall when the buffer is read back as one integer.
    let mut print = (bytes.len().min(255) as u64) << 56;
    for (i, b) in bytes.iter().take(7).enumerate() {
        print |= u64::from(*b) << (8 * i);
    }
    print
}

impl<'a> Pairs<'a> {
    pub fn with_capacity(n: usize) -> Self {
        Pairs {
            items: Vec::with_capacity(n),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.items.iter().map(|(_, k, v)| (k.as_ref(), v.as_ref()))
    }

    fn position(&self, key: &str) -> Option<usize> {
        let print = fingerprint(key);
        self.items
            .iter()
            .position(|(p, k, _)| *p == print && (key.len() <= 7 || k == key))
    }

    /// Adds `key` unless it is already there; returns whether it was added.
    pub fn insert(&mut self, key: impl Into<Text<'a>>, value: impl Into<Text<'a>>) -> bool {
        let key = key.into();
        if self.position(&key).is_some() {
            return false;
        }
        self.items.push((fingerprint(&key), key, value.into()));
        true
    }

    /// The value for `key`, still borrowed from the record when it was.
    pub fn value(&self, key: &str) -> Option<Text<'a>> {
        self.position(key).map(|i| self.items[i].2.clone())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).map(|i| self.items[i].2.as_ref())
    }
}

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.items.len()))?;
        for (_, k, v) in &self.items {
            map.serialize_entry(k.as_ref(), v.as_ref())?;
        }
        map.end()
    }
}

/// A PATH record, serialized as an object of its own fields (a hex-encoded `name`
/// decoded, ENRICHED translations left out) straight from the record: an event's paths
/// are most of its fields, and copying them into a map first would double the work.
#[derive(Clone, Copy, Debug)]
pub struct PathRecord<'a>(pub &'a Record);

impl<'a> PathRecord<'a> {
    /// The fields as they appear in the JSON (first occurrence of a key).
    pub fn fields(self) -> impl Iterator<Item = (&'a str, Text<'a>)> + 'a {
        // Fingerprints of the keys so far; a long key whose fingerprint repeats is
        // compared with the earlier keys in full (the kernel never repeats a PATH key, so
        // that path is only taken on hostile input).
        let mut seen = [0u64; 32];
        let mut n = 0;
        let record = self.0;
        record
            .fields()
            .enumerate()
            .filter(|(_, f)| fields::is_own(f))
            .filter_map(move |(i, f)| {
                let print = fingerprint(f.key);
                if seen[..n].contains(&print)
                    && (f.key.len() <= 7 || record.fields().take(i).any(|g| g.key == f.key))
                {
                    return None;
                }
                if n < seen.len() {
                    seen[n] = print;
                    n += 1;
                }
                // Of a PATH record's fields only `name` is ever hex-encoded.
                if f.key == "name" {
                    fields::text(&f).map(|v| (f.key, v))
                } else if f.is_absent() || f.value.is_empty() {
                    None
                } else {
                    Some((f.key, Cow::Borrowed(f.value)))
                }
            })
    }

    pub fn get(self, key: &str) -> Option<Text<'a>> {
        self.fields().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

impl Serialize for PathRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (k, v) in self.fields() {
            map.serialize_entry(k, v.as_ref())?;
        }
        map.end()
    }
}

/// A `|`-separated list from the vocabulary table, serialized as a JSON array without
/// building one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct List(pub &'static str);

impl List {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn items(&self) -> impl Iterator<Item = &'static str> {
        self.0.split('|').filter(|s| !s.is_empty())
    }
}

impl Serialize for List {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for item in self.items() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

/// One normalized audit event.
#[derive(Clone, Debug, Serialize)]
pub struct CoalescedEvent<'a> {
    #[serde(rename = "@timestamp", serialize_with = "rfc3339")]
    pub timestamp: Timestamp,
    pub sequence: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<&'a str>,
    pub category: &'static str,
    /// The primary record's type, lower case (`syscall`, `user_login`).
    #[serde(serialize_with = "lower_type")]
    pub record_type: RecordType,
    pub result: Outcome,
    /// The kernel session id (`ses`), `unset` when the process has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<Text<'a>>,
    /// The audit rule keys that matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Text<'a>>,
    pub summary: Summary<'a>,
    pub user: User<'a>,
    pub process: Process<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileInfo<'a>>,
    /// Every PATH record, its fields as they were (hex names decoded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<PathRecord<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Address<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<Address<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
    /// The fields no other part took, first occurrence kept.
    #[serde(skip_serializing_if = "Pairs::is_empty")]
    pub data: Pairs<'a>,
    pub ecs: Ecs<'a>,
    /// Things the coalescer noticed but could not use (undecodable arguments, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Default for CoalescedEvent<'_> {
    fn default() -> Self {
        CoalescedEvent {
            timestamp: Timestamp::default(),
            sequence: 0,
            node: None,
            category: "unknown",
            record_type: RecordType(0),
            result: Outcome::Unknown,
            session: None,
            tags: Vec::new(),
            summary: Summary::default(),
            user: User::default(),
            process: Process::default(),
            file: None,
            paths: Vec::new(),
            source: None,
            destination: None,
            network: None,
            data: Pairs::default(),
            ecs: Ecs::default(),
            warnings: Vec::new(),
        }
    }
}

/// Who did what to which object, and how.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary<'a> {
    pub actor: Actor<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
    pub object: Object<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub how: Option<Text<'a>>,
}

/// `primary`: the login identity (auid); `secondary`: the identity acted as (uid, acct).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Actor<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary: Option<Text<'a>>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Object<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary: Option<Text<'a>>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct User<'a> {
    /// `auid`, `uid`, `euid`, … as numbers (`unset` for 4294967295).
    #[serde(skip_serializing_if = "IdMap::is_empty")]
    pub ids: IdMap<'a>,
    /// The same keys, as names where a name is known.
    #[serde(skip_serializing_if = "IdMap::is_empty")]
    pub names: IdMap<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selinux: Option<SeLinux<'a>>,
}

/// A security context `user:role:type:level[:category]` split into its parts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SeLinux<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<&'a str>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Process<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ppid: Option<&'a str>,
    /// The PROCTITLE, its NUL-separated arguments joined by spaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Text<'a>>,
    /// `comm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exe: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<Text<'a>>,
    /// The EXECVE arguments (also when the kernel split long ones into pieces).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

/// The file the event's object is, from its PATH record.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileInfo<'a> {
    pub path: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inode: Option<&'a str>,
    /// Permission bits (`mode & 0o7777`), written in octal (`"0755"`, `"6755"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Perm>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub file_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selinux: Option<SeLinux<'a>>,
}

/// File permission bits, serialized as four octal digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perm(pub u32);

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0 & 0o7777)
    }
}

impl Serialize for Perm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A network or local socket endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Address<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<Text<'a>>,
    /// A unix socket path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Text<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Network {
    pub direction: Direction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

/// Elastic Common Schema categorization.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Ecs<'a> {
    pub event: EcsEvent,
    pub user: EcsUser<'a>,
    pub group: EcsIdentity<'a>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct EcsEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "List::is_empty")]
    pub category: List,
    #[serde(rename = "type", skip_serializing_if = "List::is_empty")]
    pub kind_type: List,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct EcsIdentity<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
}

/// `id`/`name`: who is logged in; `effective`: who the process acts as; `target`: the
/// account acted upon; `changes`: the identity after a change (login id, setuid).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EcsUser<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
    pub effective: EcsIdentity<'a>,
    pub target: EcsIdentity<'a>,
    pub changes: EcsIdentity<'a>,
}

/// Writes the RFC 3339 UTC form straight into the serializer (no intermediate `String`).
fn rfc3339<S: Serializer>(ts: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    struct Rfc3339(Timestamp);
    impl fmt::Display for Rfc3339 {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let (year, month, day, hour, min, sec) = civil_from_unix(self.0.sec);
            write!(
                f,
                "{year:04}-{month:02}-{day:02}T{hour:02}:{min:02}:{sec:02}.{:03}Z",
                self.0.msec.min(999)
            )
        }
    }
    serializer.collect_str(&Rfc3339(*ts))
}

/// `SYSCALL` → `syscall`, `UNKNOWN[1999]` → `unknown[1999]`.
fn lower_type<S: Serializer>(rt: &RecordType, serializer: S) -> Result<S::Ok, S::Error> {
    struct Lower(RecordType);
    impl fmt::Display for Lower {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.0.name() {
                Some(name) => {
                    for c in name.chars() {
                        fmt::Write::write_char(f, c.to_ascii_lowercase())?;
                    }
                    Ok(())
                }
                None => write!(f, "unknown[{}]", self.0 .0),
            }
        }
    }
    serializer.collect_str(&Lower(*rt))
}

#[cfg(test)]
mod fingerprint_tests {
    use super::fingerprint;

    #[test]
    fn is_the_length_and_the_first_seven_bytes() {
        let keys = [
            "", "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh", "old-auid",
            "x\u{e9}",
        ];
        for key in keys {
            let mut want = (key.len() as u64) << 56;
            for (i, b) in key.bytes().take(7).enumerate() {
                want |= u64::from(b) << (8 * i);
            }
            assert_eq!(fingerprint(key), want, "{key:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_records_decode_names_and_drop_repeats_and_translations() {
        let line = b"type=PATH msg=audit(1.0:1): item=0 name=2F746D702F6120622E747874 \
            mode=0100644 item=9 ouid=0\x1dOUID=\"root\"";
        let record = crate::parse_line(line).unwrap();
        let path = PathRecord(&record);
        let fields: Vec<_> = path.fields().collect();
        assert_eq!(
            fields,
            [
                ("item", Cow::Borrowed("0")),
                ("name", Cow::Owned("/tmp/a b.txt".to_string())),
                ("mode", Cow::Borrowed("0100644")),
                ("ouid", Cow::Borrowed("0")),
            ]
        );
        assert_eq!(
            serde_json::to_string(&path).unwrap(),
            r#"{"item":"0","name":"/tmp/a b.txt","mode":"0100644","ouid":"0"}"#
        );
    }

    #[test]
    fn pairs_keep_the_first_value_of_a_key() {
        let mut p = Pairs::default();
        assert!(p.insert("pid", "1"));
        assert!(!p.insert("pid", "2"));
        // Long keys sharing their first seven bytes are still told apart.
        assert!(p.insert("cap_fver", "a"));
        assert!(p.insert("cap_fvex", "b"));
        assert!(!p.insert("cap_fver", "c"));
        assert_eq!(p.get("pid"), Some("1"));
        assert_eq!(p.get("cap_fvex"), Some("b"));
        assert_eq!(p.len(), 3);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"pid":"1","cap_fver":"a","cap_fvex":"b"}"#
        );
    }
}
