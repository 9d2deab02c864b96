//! The meaning of a SYSCALL record's `a0`…`a3` for the syscalls where an argument is a
//! signal, an address family, an id or a mode. The kernel logs the first four syscall
//! arguments as bare hex machine words; most are pointers and stay raw.

use crate::tables::FieldKind;

/// What argument `index` (0–3) of `syscall` is, if it is worth naming.
pub(crate) fn arg_kind(syscall: &str, index: u8) -> Option<FieldKind> {
    use FieldKind::{Family, Gid, Mode, Signal, Uid};
    Some(match (syscall, index) {
        ("kill" | "tkill", 1) | ("tgkill", 2) | ("rt_sigqueueinfo", 1) => Signal,
        ("rt_tgsigqueueinfo", 2) | ("pidfd_send_signal", 1) => Signal,
        ("socket" | "socketpair", 0) => Family,
        ("setuid" | "setfsuid" | "setuid32" | "setfsuid32", 0) => Uid,
        ("setreuid" | "setreuid32", 0 | 1) | ("setresuid" | "setresuid32", 0..=2) => Uid,
        ("setgid" | "setfsgid" | "setgid32" | "setfsgid32", 0) => Gid,
        ("setregid" | "setregid32", 0 | 1) | ("setresgid" | "setresgid32", 0..=2) => Gid,
        ("chown" | "fchown" | "lchown" | "chown32" | "fchown32" | "lchown32", 1) => Uid,
        ("chown" | "fchown" | "lchown" | "chown32" | "fchown32" | "lchown32", 2) => Gid,
        ("fchownat", 2) => Uid,
        ("fchownat", 3) => Gid,
        ("chmod" | "fchmod" | "mkdir" | "mknod" | "creat", 1) => Mode,
        ("fchmodat" | "fchmodat2" | "mkdirat" | "mknodat", 2) => Mode,
        _ => return None,
    })
}

/// The argument index of `a0`…`a3`.
pub(crate) fn arg_index(key: &str) -> Option<u8> {
    match key {
        "a0" => Some(0),
        "a1" => Some(1),
        "a2" => Some(2),
        "a3" => Some(3),
        _ => None,
    }
}
