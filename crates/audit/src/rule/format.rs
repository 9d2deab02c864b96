//! Kernel rule → the line `auditctl -l` prints for it.
//!
//! auditctl prints a watch (an exit rule on every syscall whose only conditions are a
//! path, a permission mask and keys) as `-w PATH -p PERM -k KEY`; every other rule as
//! `-a ACTION,LIST`, then the architecture, the syscalls, and the conditions in the order
//! the kernel holds them. Numbers print as signed decimal except the syscall arguments
//! (hex) and the inode (unsigned); user ids keep `-1` for unset.

use super::consts::*;
use super::names::errno_name;
use super::parse::compat_arch;
use super::wire::RuleData;
use crate::interpret::{syscall_name, Arch};
use crate::RecordType;
use std::fmt::Write;

/// The `auditctl -l` line for `rule`, without the newline. `native` is the machine's
/// architecture (it decides `b64`/`b32` and names syscalls of rules without an arch).
pub fn format_rule(rule: &RuleData, native: Arch) -> String {
    let mut out = String::new();
    let watch = is_watch(rule);
    let fields = rule.fields_with_strings();
    let list = rule.flags & FILTER_MASK;
    let sym = |op: u32| operator_symbol(op).unwrap_or("?");
    let text = |s: Option<&[u8]>| String::from_utf8_lossy(s.unwrap_or_default()).into_owned();
    let mut arch = native;
    if !watch {
        let action = ACTION_NAMES
            .iter()
            .find(|(_, a)| *a == rule.action)
            .map_or("unknown", |(n, _)| *n);
        let list_name = LIST_NAMES
            .iter()
            .find(|(_, l)| *l == list)
            .map_or("unknown", |(n, _)| *n);
        let _ = write!(out, "-a {action},{list_name}");
        for (f, _) in fields.iter().filter(|(f, _)| f.field == F_ARCH) {
            let value = Arch::from_value(f.value);
            arch = value;
            let name = if value == native {
                "b64".to_string()
            } else if value == compat_arch(native) {
                "b32".to_string()
            } else if value.name() != "unknown" {
                value.name().to_string()
            } else {
                format!("0x{:X}", f.value)
            };
            let _ = write!(out, " -F arch{}{name}", sym(f.op));
        }
        write_syscalls(&mut out, rule, list, arch);
    }
    for (f, s) in &fields {
        let op = sym(f.op);
        let name = field_name(f.field);
        match f.field {
            F_ARCH => {}
            _ if name.is_none() => {
                let _ = write!(out, " f{}{op}{}", f.field, f.value as i32);
            }
            F_WATCH if watch => {
                let _ = write!(out, "-w {}", text(*s));
            }
            F_DIR if watch => {
                let _ = write!(out, "-w {}", text(*s));
            }
            F_FILTERKEY => {
                let keys = text(*s);
                for k in keys.split('\u{1}').filter(|k| !k.is_empty()) {
                    if watch {
                        let _ = write!(out, " -k {k}");
                    } else {
                        let _ = write!(out, " -F key={k}");
                    }
                }
            }
            _ if is_string_field(f.field) => {
                let _ = write!(out, " -F {}{op}{}", name.unwrap_or("?"), text(*s));
            }
            F_PERM => {
                let mut p = String::new();
                for (bit, c) in [
                    (PERM_READ, 'r'),
                    (PERM_WRITE, 'w'),
                    (PERM_EXEC, 'x'),
                    (PERM_ATTR, 'a'),
                ] {
                    if f.value & bit != 0 {
                        p.push(c);
                    }
                }
                if watch {
                    let _ = write!(out, " -p {p}");
                } else {
                    let _ = write!(out, " -F perm={p}");
                }
            }
            F_MSGTYPE => {
                let t = u16::try_from(f.value)
                    .ok()
                    .and_then(|v| RecordType(v).name());
                match t {
                    Some(n) => {
                        let _ = write!(out, " -F msgtype{op}{n}");
                    }
                    None => {
                        let _ = write!(out, " -F msgtype{op}{}", f.value as i32);
                    }
                }
            }
            F_FSTYPE => match FS_TYPES.iter().find(|(_, v)| *v == f.value) {
                Some((n, _)) => {
                    let _ = write!(out, " -F fstype{op}{n}");
                }
                None => {
                    let _ = write!(out, " -F fstype{op}{}", f.value as i32);
                }
            },
            F_EXIT => {
                let v = f.value as i32;
                match (v < 0).then(|| errno_name(v.unsigned_abs())).flatten() {
                    Some(n) => {
                        let _ = write!(out, " -F exit{op}-{n}");
                    }
                    None => {
                        let _ = write!(out, " -F exit{op}{v}");
                    }
                }
            }
            F_INODE => {
                let _ = write!(out, " -F inode{op}{}", f.value);
            }
            F_FIELD_COMPARE => {
                if let Some((l, r, _)) = COMPARISONS.iter().find(|(_, _, n)| *n == f.value) {
                    let _ = write!(out, " -C {l}{op}{r}");
                }
            }
            F_ARG0..=F_ARG3 => {
                let _ = write!(out, " -F {}{op}0x{:X}", name.unwrap_or("?"), f.value);
            }
            _ => {
                let _ = write!(out, " -F {}{op}{}", name.unwrap_or("?"), f.value as i32);
            }
        }
    }
    out
}

/// Whether auditctl shows the rule as a `-w` watch.
pub fn is_watch(rule: &RuleData) -> bool {
    let only_watch_fields = rule
        .fields
        .iter()
        .all(|f| matches!(f.field, F_PERM | F_FILTERKEY | F_DIR | F_WATCH));
    let has_perm = rule.fields.iter().any(|f| f.field == F_PERM);
    let list = rule.flags & FILTER_MASK;
    let all = matches!(list, FILTER_USER | FILTER_TASK | FILTER_EXCLUDE) || all_syscalls(rule);
    only_watch_fields && has_perm && all
}

/// auditctl treats a mask as "all" when every word but the last is all ones.
fn all_syscalls(rule: &RuleData) -> bool {
    rule.mask[..BITMASK_WORDS - 1]
        .iter()
        .all(|w| *w == u32::MAX)
}

fn write_syscalls(out: &mut String, rule: &RuleData, list: u32, arch: Arch) {
    // auditctl 3.0 prints syscalls only for the lists that filter on them.
    if matches!(list, FILTER_USER | FILTER_TASK | FILTER_EXCLUDE | FILTER_FS) {
        return;
    }
    if all_syscalls(rule) {
        out.push_str(" -S all");
        return;
    }
    let mut first = true;
    for nr in 0..(BITMASK_WORDS * 32) as u64 {
        let (word, bit) = ((nr / 32) as usize, nr % 32);
        if rule.mask[word] & (1 << bit) == 0 {
            continue;
        }
        let sep = if first { " -S " } else { "," };
        match syscall_name(arch, nr) {
            Some(n) => {
                let _ = write!(out, "{sep}{n}");
            }
            None => {
                let _ = write!(out, "{sep}{nr}");
            }
        }
        first = false;
    }
}
