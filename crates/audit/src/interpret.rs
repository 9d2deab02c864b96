//! Field interpretation: raw audit field values → what they mean.
//!
//! SKELETON: the signatures below are final; the bodies are being filled in.

use crate::record::{Field, Quote, Record};
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Decodes an even-length string of hex digits. `None` on odd length or a non-hex digit.
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    if bytes.len() % 2 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks_exact(2) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out.push((hi * 16 + lo) as u8);
    }
    Some(out)
}

/// The text of a field the kernel may hex-encode (bare hex decoded; quoted as is).
pub fn field_text<'a>(field: &Field<'a>) -> Cow<'a, str> {
    if field.quote == Quote::None && !field.is_absent() {
        if let Some(bytes) = decode_hex(field.value) {
            return Cow::Owned(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Cow::Borrowed(field.value)
}

/// The keys of a `key` field (several keys are joined by 0x01).
pub fn keys(field: &Field) -> Vec<String> {
    let _ = field;
    Vec::new()
}

/// The arguments of a PROCTITLE `proctitle` field (hex decoded, split on NUL).
pub fn proctitle_args(field: &Field) -> Vec<String> {
    let _ = field;
    Vec::new()
}

/// Why the EXECVE records of an event did not yield every argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecveError {
    /// Some arguments or pieces were missing or undecodable; `args` holds what is known.
    #[error("incomplete execve arguments: {reason}")]
    Incomplete { args: Vec<String>, reason: String },
}

/// The argument list of one event from all its EXECVE records, in order.
pub fn execve_args<'a>(
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<Vec<String>, ExecveError> {
    let _ = records.into_iter().count();
    Ok(Vec::new())
}

/// The audit architecture of a syscall record (`arch=c000003e`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Arch {
    X86_64,
    I386,
    Aarch64,
    Arm,
    Armeb,
    Ppc64,
    Ppc64le,
    Ppc,
    S390x,
    S390,
    /// An `AUDIT_ARCH_*` value no table here knows.
    Other(u32),
}

impl Arch {
    /// Parses the hex `arch=` value.
    pub fn from_field(hex: &str) -> Option<Arch> {
        let _ = hex;
        None
    }

    /// The name ausearch prints (`x86_64`); `"unknown"` for [`Arch::Other`].
    pub fn name(&self) -> &'static str {
        ""
    }

    /// The name, or for [`Arch::Other`] the number as audit writes it (`c00000ff`).
    pub fn label(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.name())
    }
}

/// Syscall name for `nr` on `arch`.
pub fn syscall_name(arch: Arch, nr: u64) -> Option<&'static str> {
    let _ = (arch, nr);
    None
}

/// Syscall number for `name` on `arch`.
pub fn syscall_number(arch: Arch, name: &str) -> Option<u64> {
    let _ = (arch, name);
    None
}

/// Name of a positive errno value (2 → `ENOENT`).
pub fn errno_name(n: i64) -> Option<&'static str> {
    let _ = n;
    None
}

/// Interpretation of a syscall `exit` value.
pub fn exit_text(exit: &str) -> Cow<'_, str> {
    Cow::Borrowed(exit)
}

/// Signal name (9 → `SIGKILL`).
pub fn signal_name(n: u64) -> Option<&'static str> {
    let _ = n;
    None
}

/// Capability name (21 → `sys_admin`).
pub fn capability_name(n: u64) -> Option<&'static str> {
    let _ = n;
    None
}

/// A decoded `saddr=` socket address.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SockAddr {
    Unix { path: String },
    Inet { addr: Ipv4Addr, port: u16 },
    Inet6 { addr: Ipv6Addr, port: u16 },
    Netlink { pid: u32, groups: u32 },
    Other { family: u16, raw: String },
    Malformed { raw: String },
}

/// Decodes the hex `saddr=` of a SOCKADDR record.
pub fn sockaddr(hex: &str) -> SockAddr {
    SockAddr::Malformed {
        raw: hex.to_string(),
    }
}

/// A decoded `mode=` value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FileMode {
    pub file_type: &'static str,
    /// Permission bits including setuid/setgid/sticky (`mode & 0o7777`).
    pub perm: u32,
    /// The raw mode number.
    pub raw: u32,
}

/// Decodes an octal `mode=` value.
pub fn file_mode(octal: &str) -> Option<FileMode> {
    let _ = octal;
    None
}

/// Maps uids and gids to names.
pub trait NameResolver {
    fn user(&self, uid: u32) -> Option<String>;
    fn group(&self, gid: u32) -> Option<String>;
}

/// Resolves nothing (replay on another machine: only ENRICHED names count).
#[derive(Clone, Copy, Default, Debug)]
pub struct NoNames;

impl NameResolver for NoNames {
    fn user(&self, _uid: u32) -> Option<String> {
        None
    }
    fn group(&self, _gid: u32) -> Option<String> {
        None
    }
}

/// Reads /etc/passwd and /etc/group (cached).
#[derive(Default, Debug)]
pub struct SystemNames;

impl SystemNames {
    pub fn new() -> SystemNames {
        SystemNames
    }
}

impl NameResolver for SystemNames {
    fn user(&self, _uid: u32) -> Option<String> {
        None
    }
    fn group(&self, _gid: u32) -> Option<String> {
        None
    }
}

/// The name for the uid/gid field `key` of `record`: ENRICHED first, then `resolver`.
pub fn uid_name(record: &Record, key: &str, resolver: &dyn NameResolver) -> Option<String> {
    let _ = (record, key, resolver);
    None
}

/// The generic interpretation of one field; `None` when it equals the raw value.
pub fn interpret_field<'a>(
    record: &'a Record,
    field: &Field<'a>,
    arch: Option<Arch>,
    resolver: &dyn NameResolver,
) -> Option<Cow<'a, str>> {
    let _ = (record, field, arch, resolver);
    None
}
