//! The `arch=` of a SYSCALL record and syscall names per architecture.
//!
//! `arch=` is an `AUDIT_ARCH_*` value in hex: the ELF machine number with a 64-bit flag
//! (0x80000000) and a little-endian flag (0x40000000), so `c000003e` is x86_64. The same
//! syscall number means different calls on different architectures (59 is `execve` on
//! x86_64 and `olduname` on i386), so a syscall can only be named together with its arch.

use crate::tables;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// The audit architecture of a syscall record (`arch=c000003e`).
///
/// The named variants are the architectures audit ships syscall tables for; any other
/// value is kept as [`Arch::Other`] so nothing is lost.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Arch {
    X86_64,
    I386,
    Aarch64,
    /// 32-bit ARM, little-endian (`AUDIT_ARCH_ARM`).
    Arm,
    /// 32-bit ARM, big-endian (`AUDIT_ARCH_ARMEB`).
    Armeb,
    Ppc64,
    Ppc64le,
    Ppc,
    S390x,
    S390,
    /// Any other `AUDIT_ARCH_*` value.
    Other(u32),
}

const X86_64: u32 = 0xc000_003e;
const I386: u32 = 0x4000_0003;
const AARCH64: u32 = 0xc000_00b7;
const ARM: u32 = 0x4000_0028;
const ARMEB: u32 = 0x0000_0028;
const PPC64: u32 = 0x8000_0015;
const PPC64LE: u32 = 0xc000_0015;
const PPC: u32 = 0x0000_0014;
const S390X: u32 = 0x8000_0016;
const S390: u32 = 0x0000_0016;

impl Arch {
    /// Parses the hex `arch=` value (`c000003e`, either case). `None` if it is not a
    /// 32-bit hex number; an unknown number is `Some(Arch::Other(n))`.
    pub fn from_field(hex: &str) -> Option<Arch> {
        if hex.is_empty() || hex.len() > 8 {
            return None;
        }
        u32::from_str_radix(hex, 16)
            .ok()
            .filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(Arch::from_value)
    }

    /// The architecture with this `AUDIT_ARCH_*` value.
    pub fn from_value(value: u32) -> Arch {
        match value {
            X86_64 => Arch::X86_64,
            I386 => Arch::I386,
            AARCH64 => Arch::Aarch64,
            ARM => Arch::Arm,
            ARMEB => Arch::Armeb,
            PPC64 => Arch::Ppc64,
            PPC64LE => Arch::Ppc64le,
            PPC => Arch::Ppc,
            S390X => Arch::S390x,
            S390 => Arch::S390,
            other => Arch::Other(other),
        }
    }

    /// The architecture a name stands for: the names [`Arch::name`] prints and the
    /// kernel header's other `AUDIT_ARCH_*` names, lower-cased (`riscv64`).
    pub fn from_name(name: &str) -> Option<Arch> {
        tables::arch_value(name).map(Arch::from_value)
    }

    /// The `AUDIT_ARCH_*` value.
    pub fn value(self) -> u32 {
        match self {
            Arch::X86_64 => X86_64,
            Arch::I386 => I386,
            Arch::Aarch64 => AARCH64,
            Arch::Arm => ARM,
            Arch::Armeb => ARMEB,
            Arch::Ppc64 => PPC64,
            Arch::Ppc64le => PPC64LE,
            Arch::Ppc => PPC,
            Arch::S390x => S390X,
            Arch::S390 => S390,
            Arch::Other(value) => value,
        }
    }

    /// The architecture's name (`x86_64`, `i386`, `aarch64`, `arm`, `armeb`, `ppc64`,
    /// `ppc64le`, `ppc`, `s390x`, `s390`), as ausearch and go-libaudit print them, with one
    /// deliberate difference: ausearch 3.0 prints little-endian ARM as `armeb`; we print
    /// `arm` (as go-libaudit and the kernel header do) so the two ARMs stay apart.
    /// [`Arch::Other`] values the kernel header names get that name (`riscv64`); the rest
    /// are `"unknown"` (see [`Arch::label`] to keep the number).
    pub fn name(&self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::I386 => "i386",
            Arch::Aarch64 => "aarch64",
            Arch::Arm => "arm",
            Arch::Armeb => "armeb",
            Arch::Ppc64 => "ppc64",
            Arch::Ppc64le => "ppc64le",
            Arch::Ppc => "ppc",
            Arch::S390x => "s390x",
            Arch::S390 => "s390",
            Arch::Other(value) => tables::arch_name(*value).unwrap_or("unknown"),
        }
    }

    /// The name, or for an architecture no table knows its number in hex as audit writes
    /// it (`c00000ff`), so the value is never lost.
    pub fn label(&self) -> Cow<'static, str> {
        match self {
            Arch::Other(value) if tables::arch_name(*value).is_none() => {
                Cow::Owned(format!("{value:x}"))
            }
            _ => Cow::Borrowed(self.name()),
        }
    }

    /// Whether the architecture is 64-bit (`__AUDIT_ARCH_64BIT`).
    pub fn is_64bit(self) -> bool {
        self.value() & 0x8000_0000 != 0
    }

    /// The `ausyscall` table for this architecture.
    fn syscall_table(self) -> Option<(usize, &'static [&'static str])> {
        let (index, name) = match self {
            Arch::X86_64 => (0, "x86_64"),
            Arch::I386 => (1, "i386"),
            Arch::Aarch64 => (2, "aarch64"),
            // Both byte orders use the same numbers.
            Arch::Arm | Arch::Armeb => (3, "arm"),
            Arch::Ppc64 => (4, "ppc64"),
            Arch::Ppc64le => (5, "ppc64le"),
            Arch::Ppc => (6, "ppc"),
            Arch::S390x => (7, "s390x"),
            Arch::S390 => (8, "s390"),
            Arch::Other(_) => return None,
        };
        Some((index, tables::syscall_table(name)?))
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Syscall name for `nr` on `arch` (`None` if the table has no such number; print the
/// number then).
pub fn syscall_name(arch: Arch, nr: u64) -> Option<&'static str> {
    let (_, table) = arch.syscall_table()?;
    tables::syscall_in(table, nr)
}

/// Syscall number for `name` on `arch` (for building rules). The reverse index of each
/// table is built on first use.
pub fn syscall_number(arch: Arch, name: &str) -> Option<u64> {
    static REVERSE: [OnceLock<HashMap<&'static str, u64>>; 9] = [const { OnceLock::new() }; 9];
    let (index, table) = arch.syscall_table()?;
    let reverse = REVERSE.get(index)?.get_or_init(|| {
        let mut map = HashMap::with_capacity(table.len());
        for (nr, name) in table.iter().enumerate() {
            if !name.is_empty() {
                map.entry(*name).or_insert(nr as u64);
            }
        }
        map
    });
    reverse.get(name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_from_real_records() {
        // arch=c000003e is on every x86_64 SYSCALL record of this machine.
        let arch = Arch::from_field("c000003e").unwrap();
        assert_eq!(arch, Arch::X86_64);
        assert_eq!(arch.name(), "x86_64");
        assert!(arch.is_64bit());
        assert_eq!(Arch::from_field("C000003E"), Some(Arch::X86_64));
        assert_eq!(Arch::from_field("40000003").map(|a| a.name()), Some("i386"));
        assert_eq!(
            Arch::from_field("c00000b7").map(|a| a.name()),
            Some("aarch64")
        );
        assert_eq!(Arch::from_field("40000028").map(|a| a.name()), Some("arm"));
        assert_eq!(
            Arch::from_field("c0000015").map(|a| a.name()),
            Some("ppc64le")
        );
        assert_eq!(
            Arch::from_field("80000016").map(|a| a.name()),
            Some("s390x")
        );
    }

    #[test]
    fn unknown_arches_keep_their_number() {
        let riscv = Arch::from_field("c00000f3").unwrap();
        assert_eq!(riscv, Arch::Other(0xc000_00f3));
        assert_eq!(riscv.name(), "riscv64");
        assert_eq!(riscv.label(), "riscv64");
        let odd = Arch::from_field("c00000ff").unwrap();
        assert_eq!(odd.name(), "unknown");
        assert_eq!(odd.label(), "c00000ff");
        assert_eq!(odd.to_string(), "c00000ff");
        for bad in ["", "x", "+1", "123456789", "-1", "c000003e "] {
            assert_eq!(Arch::from_field(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for arch in [
            Arch::X86_64,
            Arch::I386,
            Arch::Aarch64,
            Arch::Arm,
            Arch::Armeb,
            Arch::Ppc64,
            Arch::Ppc64le,
            Arch::Ppc,
            Arch::S390x,
            Arch::S390,
        ] {
            assert_eq!(Arch::from_name(arch.name()), Some(arch));
            assert_eq!(Arch::from_value(arch.value()), arch);
            assert!(syscall_name(arch, 1).is_some() || syscall_name(arch, 2).is_some());
        }
    }

    #[test]
    fn syscalls_depend_on_the_arch() {
        assert_eq!(syscall_name(Arch::X86_64, 59), Some("execve"));
        assert_eq!(syscall_name(Arch::X86_64, 42), Some("connect"));
        assert_eq!(syscall_name(Arch::X86_64, 257), Some("openat"));
        assert_eq!(syscall_name(Arch::I386, 11), Some("execve"));
        assert_eq!(syscall_name(Arch::Aarch64, 221), Some("execve"));
        assert_eq!(syscall_name(Arch::Arm, 11), Some("execve"));
        assert_eq!(syscall_name(Arch::Armeb, 11), Some("execve"));
        assert_eq!(syscall_name(Arch::S390x, 11), Some("execve"));
        assert_eq!(syscall_name(Arch::X86_64, 99_999), None);
        assert_eq!(syscall_name(Arch::Other(0xc000_00f3), 221), None);
        assert_eq!(syscall_number(Arch::X86_64, "execve"), Some(59));
        assert_eq!(syscall_number(Arch::I386, "execve"), Some(11));
        assert_eq!(syscall_number(Arch::Ppc64le, "execve"), Some(11));
        assert_eq!(syscall_number(Arch::X86_64, "no_such_call"), None);
        // Every name maps back to its own number.
        for nr in 0..500 {
            if let Some(name) = syscall_name(Arch::X86_64, nr) {
                assert_eq!(syscall_number(Arch::X86_64, name), Some(nr), "{name}");
            }
        }
    }
}
