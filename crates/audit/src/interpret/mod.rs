//! Field interpretation: what a raw audit field value means.
//!
//! Audit records carry numbers and encodings: `arch=c000003e syscall=59 exit=-2
//! auid=1000 saddr=0200…`, and strings hex-encoded whenever they hold a space, a quote, a
//! control character or a non-ASCII byte. This module turns them into what a person
//! reads (`x86_64`, `execve`, `ENOENT(No such file or directory)`, `alice`,
//! `inet 127.0.0.1:22`), the way libauparse (`ausearch -i`) does, driven by data tables
//! ([`crate::tables`]) rather than code ladders:
//!
//! - strings: [`field_text`], [`keys`], [`proctitle_args`], [`execve_args`] (including
//!   arguments the kernel split across records), [`decode_hex`];
//! - numbers: [`Arch`], [`syscall_name`], [`exit_text`], [`errno_name`],
//!   [`signal_name`], [`capability_name`], [`file_mode`], [`sockaddr`];
//! - people: [`uid_name`] with a [`NameResolver`] ([`SystemNames`], [`NoNames`]);
//! - all of it per field name: [`interpret_field`], which `sshtrail audit parse` uses.
//!
//! Every function takes hostile input: garbage yields `None`, the raw value, or a
//! `Malformed` variant, never a panic. Nothing allocates when a value needs no decoding.
//!
//! ```
//! use sshtrail_audit::interpret::{exit_text, sockaddr, syscall_name, Arch};
//! let arch = Arch::from_field("c000003e").unwrap();
//! assert_eq!(syscall_name(arch, 59), Some("execve"));
//! assert_eq!(exit_text("-2"), "ENOENT(No such file or directory)");
//! assert_eq!(sockaddr("020000167F000001").to_string(), "inet 127.0.0.1:22");
//! ```

mod arch;
mod execve;
mod hex;
mod mode;
mod names;
mod numbers;
mod sockaddr;
mod syscall_args;

pub use arch::{syscall_name, syscall_number, Arch};
pub use execve::{execve_args, proctitle_args, ExecveError};
pub use hex::{decode_hex, decode_hex_into, is_hex};
pub use mode::{file_mode, FileMode};
pub use names::{uid_name, NameResolver, NoNames, SystemNames};
pub use numbers::{
    capability_name, capability_set, errno_message, errno_name, exit_text, family_name,
    is_unset_id, perm_text, protocol_name, result_text, signal_name,
};
pub use sockaddr::{sockaddr, SockAddr};

pub use crate::tables::FieldKind;

use crate::record::{Field, Origin, Quote, Record};
use crate::record_type::RecordType;
use crate::tables;
use std::borrow::Cow;

/// Whether the kernel (or libaudit) may have hex-encoded this field's value.
fn is_encoded_kind(key: &str) -> bool {
    matches!(
        tables::field_kind(key),
        Some(FieldKind::Escaped | FieldKind::Key | FieldKind::Proctitle)
    )
}

/// Decodes a bare value if it is non-empty hex; lossy UTF-8; NUL bytes kept as U+0000.
fn decode_bare<'a>(field: &Field<'a>) -> Cow<'a, str> {
    if field.quote != Quote::None || field.is_absent() || !is_hex(field.value) {
        return Cow::Borrowed(field.value);
    }
    let mut bytes = Vec::with_capacity(field.value.len() / 2);
    decode_hex_into(field.value, &mut bytes);
    Cow::Owned(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// The text of a string field, for the fields the kernel hex-encodes when they hold
/// unsafe bytes (`comm`, `exe`, `name`, `cwd`, `path`, `proctitle`, `data`, `acct`,
/// `cmd`, `key`, `ocomm`, `watch`, `dir`, `vm`, `root_dir`, the `old-`/`new-` device
/// fields, … as listed in `tables/field_kinds.txt`): a bare even-length hex value is
/// decoded, invalid UTF-8 replaced by U+FFFD and NUL bytes kept as they are (U+0000; a
/// JSON writer escapes them, nothing is silently changed). Quoted values, `(null)`, `?`,
/// anything that is not hex, and every field not in that list are returned as they are,
/// borrowed. EXECVE arguments (`a0`, `a1[2]`) share names with SYSCALL's hex numbers, so
/// they are decoded by [`execve_args`] and [`interpret_field`], which see the record type.
pub fn field_text<'a>(field: &Field<'a>) -> Cow<'a, str> {
    if field.quote != Quote::None || !is_encoded_kind(field.key) {
        return Cow::Borrowed(field.value);
    }
    decode_bare(field)
}

/// The rule keys of a `key` field: decoded like [`field_text`] and split on 0x01 (how
/// the kernel joins the keys of a rule with several `-k`). No key (`(null)`, empty)
/// gives an empty list.
pub fn keys(field: &Field) -> Vec<String> {
    if field.is_absent() || field.value.is_empty() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if field.quote == Quote::None && decode_hex_into(field.value, &mut bytes) {
        bytes
            .split(|b| *b == 1)
            .filter(|k| !k.is_empty())
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect()
    } else {
        field
            .value
            .split('\u{1}')
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect()
    }
}

fn owned_if_changed<'a>(raw: &str, text: String) -> Option<Cow<'a, str>> {
    (text != raw).then_some(Cow::Owned(text))
}

/// The generic interpretation of one field of `record`, by the field's name (the kind
/// table in `tables/field_kinds.txt`, like libauparse's): uids and gids to names
/// (ENRICHED first, then `resolver`; `unset` for -1), hex strings decoded, `arch` and
/// `syscall` named (with `arch`, or the record's own `arch=` when `None`), negative
/// `exit` named, `res` as success/failed, `perm`, `mode`, `saddr`, `sig`, `capability`,
/// capability sets, `ses`, `fam`, `proto`; EXECVE arguments decoded.
///
/// `None` when there is nothing to add: the field is unknown, absent (`?`, `(null)`),
/// an ENRICHED translation itself, undecodable, or its interpretation equals the raw
/// value. The `proctitle` interpretation shows the arguments separated by spaces, as
/// ausearch -i does (use [`proctitle_args`] for the list). Borrowed whenever possible.
pub fn interpret_field<'a>(
    record: &'a Record,
    field: &Field<'a>,
    arch: Option<Arch>,
    resolver: &dyn NameResolver,
) -> Option<Cow<'a, str>> {
    if field.origin == Origin::Enriched || field.is_absent() || field.value.is_empty() {
        return None;
    }
    let Some(kind) = tables::field_kind(field.key) else {
        if record.record_type() == RecordType::EXECVE && execve::is_arg_value(field.key) {
            return match decode_bare(field) {
                Cow::Owned(text) => Some(Cow::Owned(text)),
                Cow::Borrowed(_) => None,
            };
        }
        if record.record_type() == RecordType::SYSCALL {
            return syscall_arg(record, field, arch, resolver);
        }
        return None;
    };
    let value = field.value;
    let number = || value.parse::<u64>().ok();
    let interpreted: Cow<'a, str> = match kind {
        FieldKind::Uid | FieldKind::Gid => names::id_name(record, field, resolver)?,
        FieldKind::Escaped => match field_text(field) {
            Cow::Owned(text) => Cow::Owned(text),
            Cow::Borrowed(_) => return None,
        },
        FieldKind::Key => {
            if field.quote != Quote::None {
                return None;
            }
            let keys = keys(field);
            if keys.is_empty() {
                return None;
            }
            Cow::Owned(keys.join(","))
        }
        FieldKind::Proctitle => {
            if field.quote != Quote::None {
                return None;
            }
            Cow::Owned(proctitle_args(field).join(" "))
        }
        FieldKind::Arch => Arch::from_field(value)?.label(),
        FieldKind::Syscall => {
            let arch = arch.or_else(|| record.value("arch").and_then(Arch::from_field))?;
            Cow::Borrowed(syscall_name(arch, number()?)?)
        }
        FieldKind::Exit => exit_text(value),
        FieldKind::Result => Cow::Borrowed(result_text(value)?),
        FieldKind::Success => return None,
        FieldKind::Perm => Cow::Owned(perm_text(value)?),
        FieldKind::Mode => Cow::Owned(file_mode(value)?.describe()),
        FieldKind::SockAddr => Cow::Owned(sockaddr(value).to_string()),
        FieldKind::Signal => Cow::Borrowed(signal_name(number()?)?),
        FieldKind::Capability => Cow::Borrowed(capability_name(number()?)?),
        // Most PATH records carry cap_fp=0 cap_fi=0 cap_fe=0: no allocation for those.
        FieldKind::CapSet if value.bytes().all(|b| b == b'0') => Cow::Borrowed("none"),
        FieldKind::CapSet => Cow::Owned(capability_set(value)?),
        FieldKind::Session => {
            if !is_unset_id(value) {
                return None;
            }
            Cow::Borrowed("unset")
        }
        FieldKind::Family => Cow::Borrowed(family_name(number()?)?),
        FieldKind::Protocol => Cow::Borrowed(protocol_name(number()?)?),
        FieldKind::Hex => return None,
    };
    match interpreted {
        Cow::Borrowed(text) if text == value => None,
        Cow::Owned(text) => owned_if_changed(value, text),
        other => Some(other),
    }
}

/// `a0`…`a3` of a SYSCALL record, for the syscalls whose argument is a signal, a family,
/// an id or a mode (see `syscall_args.rs`); the value is a bare hex machine word.
fn syscall_arg<'a>(
    record: &'a Record,
    field: &Field<'a>,
    arch: Option<Arch>,
    resolver: &dyn NameResolver,
) -> Option<Cow<'a, str>> {
    let index = syscall_args::arg_index(field.key)?;
    let arch = arch.or_else(|| record.value("arch").and_then(Arch::from_field))?;
    let name = syscall_name(arch, record.value("syscall")?.parse().ok()?)?;
    let kind = syscall_args::arg_kind(name, index)?;
    if field.value.len() > 16 {
        return None;
    }
    let word = u64::from_str_radix(field.value, 16).ok()?;
    Some(match kind {
        FieldKind::Signal => Cow::Borrowed(signal_name(word)?),
        FieldKind::Family => Cow::Borrowed(family_name(word)?),
        FieldKind::Mode => Cow::Owned(file_mode(&format!("{word:o}"))?.describe()),
        // ids are 32-bit: -1 in a 64-bit register is ffffffffffffffff.
        FieldKind::Uid | FieldKind::Gid => {
            let id = word as u32;
            if id == u32::MAX {
                Cow::Borrowed("unset")
            } else if kind == FieldKind::Gid {
                Cow::Owned(resolver.group(id)?)
            } else {
                Cow::Owned(resolver.user(id)?)
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod peer_tests;
