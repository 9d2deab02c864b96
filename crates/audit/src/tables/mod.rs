//! Lookup tables kept as data: syscalls per architecture, errno, signals, capabilities,
//! socket families, IP protocols, architectures, record types and field kinds.
//!
//! Everything under `generated/` is written by `scripts/gen-tables` from this machine's
//! kernel and libaudit headers and audit tools (`ausyscall --dump`, `errno -l`), so the
//! tables follow the installed audit userspace instead of a hand-typed copy. Lookups by
//! number index a dense array (O(1)); lookups by name on the hot path (record type and
//! field names) go through a generated perfect hash (`tables/phf.rs`).
//!
//! A number that a table does not know yields `None`; callers print the number itself.

pub(crate) mod phf;

#[rustfmt::skip]
#[allow(clippy::all)]
pub(crate) mod generated {
    pub(crate) mod arches;
    pub(crate) mod field_kinds;
    pub(crate) mod numbered;
    pub(crate) mod record_types;
    pub(crate) mod syscalls;
}

use generated::{numbered, syscalls};

/// How [`crate::interpret::interpret_field`] reads a field's value, by field name
/// (`tables/field_kinds.txt`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FieldKind {
    /// A user id; 4294967295 (-1) means unset.
    Uid,
    /// A group id; 4294967295 (-1) means unset.
    Gid,
    /// A string the kernel hex-encodes when it holds unsafe bytes.
    Escaped,
    /// The rule key(s): escaped, several keys joined by 0x01.
    Key,
    /// The process title: hex, arguments separated by NUL.
    Proctitle,
    /// `AUDIT_ARCH_*` in hex.
    Arch,
    /// A syscall number (named with the record's `arch`).
    Syscall,
    /// A syscall return value; negative values are errno codes.
    Exit,
    /// `res=`/`result=`: 1/0 or success/failed.
    Result,
    /// `success=yes|no`.
    Success,
    /// A watch permission mask (r, w, x, a bits).
    Perm,
    /// An octal file mode (type and permissions).
    Mode,
    /// A hex `struct sockaddr`.
    SockAddr,
    /// A signal number.
    Signal,
    /// A capability number.
    Capability,
    /// A capability set as a hex bit mask.
    CapSet,
    /// A login session id; 4294967295 means unset.
    Session,
    /// A socket address family number.
    Family,
    /// An IP protocol number.
    Protocol,
    /// A hex number kept as it is.
    Hex,
}

/// The interpretation kind of a field name, if the table lists it.
pub fn field_kind(name: &str) -> Option<FieldKind> {
    generated::field_kinds::FIELD_KINDS.get(name).copied()
}

fn dense(table: &'static [&'static str], n: u64) -> Option<&'static str> {
    let name = *table.get(usize::try_from(n).ok()?)?;
    (!name.is_empty()).then_some(name)
}

/// Syscall names indexed by number for an `ausyscall` table name (`x86_64`, `i386`,
/// `aarch64`, `arm`, `ppc64`, `ppc64le`, `ppc`, `s390x`, `s390`).
pub(crate) fn syscall_table(table: &str) -> Option<&'static [&'static str]> {
    Some(match table {
        "x86_64" => &syscalls::X86_64,
        "i386" => &syscalls::I386,
        "aarch64" => &syscalls::AARCH64,
        "arm" => &syscalls::ARM,
        "ppc64" => &syscalls::PPC64,
        "ppc64le" => &syscalls::PPC64LE,
        "ppc" => &syscalls::PPC,
        "s390x" => &syscalls::S390X,
        "s390" => &syscalls::S390,
        _ => return None,
    })
}

/// Name of syscall `nr` in the given table.
pub(crate) fn syscall_in(table: &'static [&'static str], nr: u64) -> Option<&'static str> {
    dense(table, nr)
}

/// `(name, message)` of a positive errno number.
pub fn errno(n: u64) -> Option<(&'static str, &'static str)> {
    let (name, message) = *numbered::ERRNO.get(usize::try_from(n).ok()?)?;
    (!name.is_empty()).then_some((name, message))
}

/// Signal name (`SIGKILL`).
pub fn signal(n: u64) -> Option<&'static str> {
    dense(&numbered::SIGNALS, n)
}

/// Capability name as audit prints it (`sys_admin`).
pub fn capability(n: u64) -> Option<&'static str> {
    dense(&numbered::CAPABILITIES, n)
}

/// Number of capabilities the table knows (bits beyond it print as numbers).
pub fn capability_count() -> usize {
    numbered::CAPABILITIES.len()
}

/// Socket address family name (`inet`, `inet6`, `local`, `netlink`).
pub fn family(n: u64) -> Option<&'static str> {
    dense(&numbered::FAMILIES, n)
}

/// IP protocol name (`tcp`, `udp`).
pub fn ip_protocol(n: u64) -> Option<&'static str> {
    dense(&numbered::IP_PROTOCOLS, n)
}

/// Name of an `AUDIT_ARCH_*` value as the kernel header spells it, lower-cased.
pub fn arch_name(value: u32) -> Option<&'static str> {
    generated::arches::arch_name(value)
}

/// `AUDIT_ARCH_*` value of a lower-cased header name (`x86_64`, `riscv64`).
pub fn arch_value(name: &str) -> Option<u32> {
    generated::arches::arch_value(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_tables_hold_well_known_entries() {
        assert_eq!(errno(2), Some(("ENOENT", "No such file or directory")));
        assert_eq!(errno(13).map(|e| e.0), Some("EACCES"));
        assert_eq!(errno(512).map(|e| e.0), Some("ERESTARTSYS"));
        assert_eq!(errno(0), None);
        assert_eq!(errno(u64::MAX), None);
        assert_eq!(signal(9), Some("SIGKILL"));
        assert_eq!(
            signal(6),
            Some("SIGABRT"),
            "the first name of an alias pair wins"
        );
        assert_eq!(signal(0), None);
        assert_eq!(capability(21), Some("sys_admin"));
        assert_eq!(capability(0), Some("chown"));
        assert_eq!(family(2), Some("inet"));
        assert_eq!(family(10), Some("inet6"));
        assert_eq!(family(16), Some("netlink"));
        assert_eq!(ip_protocol(6), Some("tcp"));
        assert_eq!(ip_protocol(17), Some("udp"));
        assert_eq!(ip_protocol(3), None);
    }

    #[test]
    fn every_syscall_table_is_present_and_indexed_by_number() {
        for arch in [
            "x86_64", "i386", "aarch64", "arm", "ppc64", "ppc64le", "ppc", "s390x", "s390",
        ] {
            let table = syscall_table(arch).unwrap();
            assert!(table.len() > 250, "{arch}: {} entries", table.len());
        }
        let x86 = syscall_table("x86_64").unwrap();
        assert_eq!(syscall_in(x86, 59), Some("execve"));
        assert_eq!(syscall_in(x86, 42), Some("connect"));
        assert_eq!(
            syscall_in(syscall_table("i386").unwrap(), 11),
            Some("execve")
        );
        assert_eq!(
            syscall_in(syscall_table("aarch64").unwrap(), 221),
            Some("execve")
        );
        assert_eq!(syscall_in(x86, 100_000), None);
    }

    #[test]
    fn field_kinds_cover_the_common_fields() {
        assert_eq!(field_kind("auid"), Some(FieldKind::Uid));
        assert_eq!(field_kind("ogid"), Some(FieldKind::Gid));
        assert_eq!(field_kind("proctitle"), Some(FieldKind::Proctitle));
        assert_eq!(field_kind("saddr"), Some(FieldKind::SockAddr));
        assert_eq!(field_kind("key"), Some(FieldKind::Key));
        assert_eq!(field_kind("pid"), None);
        assert_eq!(field_kind(""), None);
        // Every listed name is found under its own kind (the perfect hash has no misses).
        let map = &generated::field_kinds::FIELD_KINDS;
        assert!(map.is_well_formed());
        assert!(generated::record_types::BY_NAME.is_well_formed());
        assert!(map.entries().count() > 90);
        for (name, kind) in map.entries() {
            assert_eq!(field_kind(name), Some(*kind), "{name}");
        }
    }

    /// The generated files match what `scripts/gen-tables` makes from this machine, when
    /// the machine has the sources (auditd's ausyscall, libaudit-dev, moreutils' errno).
    #[test]
    fn generated_tables_are_current() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let tools = [
            "/usr/bin/ausyscall",
            "/usr/bin/errno",
            "/usr/include/libaudit.h",
        ];
        if tools.iter().any(|t| !std::path::Path::new(t).exists()) {
            eprintln!("skipped: gen-tables sources not installed ({tools:?})");
            return;
        }
        let out = std::process::Command::new("python3")
            .arg(root.join("scripts/gen-tables"))
            .arg("--check")
            .output();
        match out {
            Ok(out) => assert!(
                out.status.success(),
                "scripts/gen-tables --check: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("skipped: python3 not runnable: {e}"),
        }
    }

    #[test]
    fn arch_values_follow_the_kernel_header() {
        assert_eq!(arch_name(0xc000_003e), Some("x86_64"));
        assert_eq!(arch_value("i386"), Some(0x4000_0003));
        assert_eq!(arch_value("riscv64"), Some(0xc000_00f3));
    }
}
