//! Where each field of a record goes in the normalized event, and small value helpers.
//!
//! A record's fields are read once, in order; each lands in exactly one place: the
//! identities (`user.ids`), the process, the session, the rule keys, the security
//! context, the result, or, when nothing else claims it, `data`.

use crate::coalesce::event::{Outcome, SeLinux, Text};
use crate::interpret::{field_text, NameResolver};
use crate::record::{Field, Origin, Record};
use std::borrow::Cow;

/// What a field is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    /// A user or group id: the index in [`ID_KEYS`].
    Id(usize),
    Pid,
    Ppid,
    Comm,
    Exe,
    Cwd,
    Session,
    Keys,
    Subject,
    Result,
    /// Said elsewhere already (the `type=` and `msg=` of the header form).
    Skip,
    Data,
}

pub(crate) fn role(key: &str) -> Role {
    match key {
        "auid" => Role::Id(0),
        "uid" => Role::Id(1),
        "euid" => Role::Id(2),
        "suid" => Role::Id(3),
        "fsuid" => Role::Id(4),
        "old-auid" => Role::Id(5),
        "oauid" => Role::Id(6),
        "gid" => Role::Id(7),
        "egid" => Role::Id(8),
        "sgid" => Role::Id(9),
        "fsgid" => Role::Id(10),
        "pid" => Role::Pid,
        "ppid" => Role::Ppid,
        "comm" => Role::Comm,
        "exe" => Role::Exe,
        "cwd" => Role::Cwd,
        "ses" => Role::Session,
        "key" => Role::Keys,
        "subj" => Role::Subject,
        "success" | "res" | "result" => Role::Result,
        "type" | "msg" => Role::Skip,
        _ => Role::Data,
    }
}

/// The id fields of a process: key, the key of auditd's ENRICHED translation, and
/// whether it is a group id. [`role`] gives the index.
pub(crate) const ID_KEYS: [(&str, &str, bool); 11] = [
    ("auid", "AUID", false),
    ("uid", "UID", false),
    ("euid", "EUID", false),
    ("suid", "SUID", false),
    ("fsuid", "FSUID", false),
    ("old-auid", "OLD-AUID", false),
    ("oauid", "OAUID", false),
    ("gid", "GID", true),
    ("egid", "EGID", true),
    ("sgid", "SGID", true),
    ("fsgid", "FSGID", true),
];

/// The index in [`ID_KEYS`] of an ENRICHED key (`AUID` → 0).
pub(crate) fn enriched_id(key: &str) -> Option<usize> {
    Some(match key {
        "AUID" => 0,
        "UID" => 1,
        "EUID" => 2,
        "SUID" => 3,
        "FSUID" => 4,
        "OLD-AUID" => 5,
        "OAUID" => 6,
        "GID" => 7,
        "EGID" => 8,
        "SGID" => 9,
        "FSGID" => 10,
        _ => return None,
    })
}

/// A name auditd could translate (it writes `unset` for -1 and may leave it empty).
pub(crate) fn usable_name(name: &str) -> bool {
    !name.is_empty() && name != "unset"
}

/// Fields the kernel or user-space tools may write hex-encoded when the text holds a
/// space, quote or control byte (libaudit's "untrusted strings").
pub(crate) fn is_encoded(key: &str) -> bool {
    matches!(
        key,
        "comm"
            | "exe"
            | "name"
            | "cwd"
            | "path"
            | "dir"
            | "acct"
            | "cmd"
            | "data"
            | "proctitle"
            | "ocomm"
            | "watch"
            | "root_dir"
            | "vm"
            | "sw"
            | "grp"
            | "new_group"
            | "file"
            | "exe_path"
    )
}

/// The value of a field as text: `None` when absent (`?`, `(null)`), decoded when the
/// field is one the tools hex-encode.
pub(crate) fn text<'a>(field: &Field<'a>) -> Option<Text<'a>> {
    if field.is_absent() || field.value.is_empty() {
        return None;
    }
    if is_encoded(field.key) {
        Some(field_text(field))
    } else {
        Some(Cow::Borrowed(field.value))
    }
}

/// The first raw or nested field named `key`, as text.
pub(crate) fn value_text<'a>(record: &'a Record, key: &str) -> Option<Text<'a>> {
    record.get(key).and_then(|f| text(&f))
}

/// Result words used by the kernel (`success=yes`), PAM (`res=success`) and auditd
/// (`res=1`).
pub(crate) fn outcome(value: &str) -> Outcome {
    match value {
        "yes" | "success" | "1" => Outcome::Success,
        "no" | "failed" | "fail" | "0" => Outcome::Failure,
        _ => Outcome::Unknown,
    }
}

/// `4294967295` (-1 as u32) means "never set" for login uids and session ids.
pub(crate) const UNSET: &str = "4294967295";

/// An id as the event shows it: the number, or `unset`.
pub(crate) fn id_text(value: &str) -> Text<'_> {
    if value == UNSET {
        Cow::Borrowed("unset")
    } else {
        Cow::Borrowed(value)
    }
}

/// The ENRICHED key auditd writes for a raw id field.
fn enriched_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "auid" => "AUID",
        "uid" => "UID",
        "euid" => "EUID",
        "suid" => "SUID",
        "fsuid" => "FSUID",
        "old-auid" => "OLD-AUID",
        "oauid" => "OAUID",
        "ouid" => "OUID",
        "gid" => "GID",
        "egid" => "EGID",
        "sgid" => "SGID",
        "fsgid" => "FSGID",
        "ogid" => "OGID",
        "id" => "ID",
        _ => return None,
    })
}

/// Asks the resolver for the name of a numeric id.
pub(crate) fn resolve(raw: &str, group: bool, resolver: &dyn NameResolver) -> Option<String> {
    if raw == UNSET {
        return None;
    }
    let num: u32 = raw.parse().ok()?;
    if group {
        resolver.group(num)
    } else {
        resolver.user(num)
    }
}

/// The name for the id field `key` of `record` (one lookup; [`ID_KEYS`] fields are named
/// in bulk while a record is collected).
pub(crate) fn id_name<'a>(
    record: &'a Record,
    key: &str,
    group: bool,
    resolver: &dyn NameResolver,
) -> Option<Text<'a>> {
    let raw = record.value(key)?;
    if raw == UNSET {
        return None;
    }
    let name = enriched_key(key).and_then(|k| record.enriched(k));
    if let Some(name) = name.filter(|n| usable_name(n)) {
        return Some(Cow::Borrowed(name));
    }
    resolve(raw, group, resolver).map(Cow::Owned)
}

/// Splits `user:role:type:level[:category]`; a context without colons (AppArmor's
/// `unconfined`, a profile path) is all `user`, as libaudit shows it.
pub(crate) fn selinux(context: &str) -> SeLinux<'_> {
    let mut parts = context.splitn(5, ':');
    SeLinux {
        user: parts.next().filter(|s| !s.is_empty()),
        role: parts.next(),
        domain: parts.next(),
        level: parts.next(),
        category: parts.next(),
    }
}

/// Rule keys: several keys are joined by 0x01 (hex-encoded then), and old auditd
/// versions wrote `key="key=name"`.
pub(crate) fn push_keys<'a>(field: &Field<'a>, tags: &mut Vec<Text<'a>>) {
    if field.is_absent() {
        return;
    }
    match field_text(field) {
        Cow::Borrowed(s) => {
            for k in s.split('\u{1}') {
                let k = k.strip_prefix("key=").unwrap_or(k);
                if !k.is_empty() {
                    tags.push(Cow::Borrowed(k));
                }
            }
        }
        Cow::Owned(s) => {
            for k in s.split('\u{1}') {
                let k = k.strip_prefix("key=").unwrap_or(k);
                if !k.is_empty() {
                    tags.push(Cow::Owned(k.to_string()));
                }
            }
        }
    }
}

/// The PROCTITLE as one line: NUL-separated arguments joined by spaces. A hex title is
/// decoded and its NULs replaced in one buffer (one allocation).
pub(crate) fn title<'a>(field: &Field<'a>) -> Option<Text<'a>> {
    if field.is_absent() || field.value.is_empty() {
        return None;
    }
    if field.quote != crate::record::Quote::None {
        return Some(Cow::Borrowed(field.value));
    }
    let Some(mut bytes) = crate::interpret::decode_hex(field.value) else {
        return Some(Cow::Borrowed(field.value));
    };
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    for b in bytes.iter_mut().filter(|b| **b == 0) {
        *b = b' ';
    }
    Some(Cow::Owned(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

/// Whether a field is one of the record's own (not an ENRICHED translation).
pub(crate) fn is_own(field: &Field) -> bool {
    field.origin != Origin::Enriched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_line;

    #[test]
    fn keys_split_and_strip() {
        let r = parse_line(b"type=SYSCALL msg=audit(1.0:1): key=65786563013634626974").unwrap();
        let mut tags = Vec::new();
        push_keys(&r.get("key").unwrap(), &mut tags);
        assert_eq!(tags, vec!["exec", "64bit"]);
        let r = parse_line(b"type=SYSCALL msg=audit(1.0:1): key=\"key=net\"").unwrap();
        let mut tags = Vec::new();
        push_keys(&r.get("key").unwrap(), &mut tags);
        assert_eq!(tags, vec!["net"]);
        let r = parse_line(b"type=SYSCALL msg=audit(1.0:1): key=(null)").unwrap();
        let mut tags = Vec::new();
        push_keys(&r.get("key").unwrap(), &mut tags);
        assert!(tags.is_empty());
    }

    #[test]
    fn contexts() {
        let c = selinux("system_u:system_r:sshd_t:s0-s0:c0.c1023");
        assert_eq!(c.domain, Some("sshd_t"));
        assert_eq!(c.category, Some("c0.c1023"));
        let c = selinux("unconfined");
        assert_eq!((c.user, c.role), (Some("unconfined"), None));
    }

    #[test]
    fn title_joins_arguments() {
        let r = parse_line(b"type=PROCTITLE msg=audit(1.0:1): proctitle=756E616D65002D61").unwrap();
        assert_eq!(
            title(&r.get("proctitle").unwrap()).as_deref(),
            Some("uname -a")
        );
        let r = parse_line(b"type=PROCTITLE msg=audit(1.0:1): proctitle=61620000").unwrap();
        assert_eq!(title(&r.get("proctitle").unwrap()).as_deref(), Some("ab"));
        let r = parse_line(b"type=PROCTITLE msg=audit(1.0:1): proctitle=\"(sshd)\"").unwrap();
        assert_eq!(
            title(&r.get("proctitle").unwrap()).as_deref(),
            Some("(sshd)")
        );
    }
}
