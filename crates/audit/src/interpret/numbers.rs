//! Numbers with names: errno codes, syscall exit values, signals, capabilities and
//! capability sets, watch permissions, results, families and protocols.

use crate::tables;
use std::borrow::Cow;

/// Name of an errno value (2 → `ENOENT`). The sign is ignored, so the negative form a
/// syscall returns (-2) works too. `None` for 0 or a number the table lacks.
pub fn errno_name(n: i64) -> Option<&'static str> {
    tables::errno(n.unsigned_abs()).map(|(name, _)| name)
}

/// The text of an errno value (2 → `No such file or directory`).
pub fn errno_message(n: i64) -> Option<&'static str> {
    tables::errno(n.unsigned_abs()).map(|(_, message)| message)
}

/// Interpretation of a syscall `exit=` value, in ausearch -i's form: a negative value in
/// the kernel's error range (-4095..=-1) with a known name becomes
/// `ENOENT(No such file or directory)`; anything else (success values, pointers returned
/// by mmap, numbers no table names, non-numbers) is returned as it is, borrowed.
pub fn exit_text(exit: &str) -> Cow<'_, str> {
    match exit.parse::<i64>() {
        Ok(n @ -4095..=-1) => match tables::errno(n.unsigned_abs()) {
            Some((name, message)) => Cow::Owned(format!("{name}({message})")),
            None => Cow::Borrowed(exit),
        },
        _ => Cow::Borrowed(exit),
    }
}

/// Signal name (9 → `SIGKILL`), Linux's generic numbering.
pub fn signal_name(n: u64) -> Option<&'static str> {
    tables::signal(n)
}

/// Capability name as audit prints it (21 → `sys_admin`).
pub fn capability_name(n: u64) -> Option<&'static str> {
    tables::capability(n)
}

/// A capability set written as a hex bit mask (`cap_pe=000001ffffffffff`) as the list of
/// capability names, comma-separated; `none` for the empty set; bits no table names are
/// written as their numbers. `None` if the value is not hex.
pub fn capability_set(hex: &str) -> Option<String> {
    if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mask = u64::from_str_radix(hex, 16).ok()?;
    if mask == 0 {
        return Some("none".to_string());
    }
    let mut out = String::new();
    for bit in 0..64u64 {
        if mask & (1 << bit) == 0 {
            continue;
        }
        if !out.is_empty() {
            out.push(',');
        }
        match capability_name(bit) {
            Some(name) => out.push_str(name),
            None => out.push_str(&bit.to_string()),
        }
    }
    Some(out)
}

/// A watch permission mask (`perm=` in decimal: 1 exec, 2 write, 4 read, 8 attribute
/// change) as names in ausearch's order: `read,write,exec,attr`. `None` if not a number.
pub fn perm_text(value: &str) -> Option<String> {
    let mask: u32 = value.parse().ok()?;
    if mask == 0 {
        return Some("none".to_string());
    }
    let mut names = Vec::with_capacity(4);
    for (bit, name) in [(4, "read"), (2, "write"), (1, "exec"), (8, "attr")] {
        if mask & bit != 0 {
            names.push(name);
        }
    }
    let rest = mask & !0xf;
    let mut out = names.join(",");
    if rest != 0 {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&format!("{rest:#x}"));
    }
    Some(out)
}

/// `res=`/`result=`: the kernel writes 1/0, user space `success`/`failed`. Returns the
/// word for the numbers; words are already words.
pub fn result_text(value: &str) -> Option<&'static str> {
    match value {
        "1" => Some("success"),
        "0" => Some("failed"),
        _ => None,
    }
}

/// Whether a uid, gid or session value means "not set": (u32)-1, written as 4294967295 or,
/// by some user-space programs, -1.
pub fn is_unset_id(value: &str) -> bool {
    value == "4294967295" || value == "-1"
}

/// Socket address family name for a decimal number (`2` → `inet`).
pub fn family_name(n: u64) -> Option<&'static str> {
    tables::family(n)
}

/// IP protocol name for a decimal number (`6` → `tcp`).
pub fn protocol_name(n: u64) -> Option<&'static str> {
    tables::ip_protocol(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names() {
        assert_eq!(errno_name(2), Some("ENOENT"));
        assert_eq!(errno_name(-2), Some("ENOENT"));
        assert_eq!(errno_name(111), Some("ECONNREFUSED"));
        assert_eq!(errno_name(0), None);
        assert_eq!(errno_name(i64::MIN), None);
        assert_eq!(errno_message(13), Some("Permission denied"));
    }

    #[test]
    fn exit_values_from_real_records() {
        // execve of a missing file, connect to a closed port and to a socket of the
        // wrong type, as this machine's audit log recorded them.
        assert_eq!(exit_text("-2"), "ENOENT(No such file or directory)");
        assert_eq!(exit_text("-111"), "ECONNREFUSED(Connection refused)");
        assert_eq!(
            exit_text("-91"),
            "EPROTOTYPE(Protocol wrong type for socket)"
        );
        assert!(matches!(exit_text("0"), Cow::Borrowed("0")));
        assert!(matches!(exit_text("3"), Cow::Borrowed("3")));
        // Outside the error range: an address or a number, not an errno.
        assert_eq!(exit_text("-4096"), "-4096");
        assert_eq!(
            exit_text("-9999999999999999999999"),
            "-9999999999999999999999"
        );
        assert_eq!(exit_text("-600"), "-600");
        assert_eq!(exit_text("?"), "?");
    }

    #[test]
    fn signals_and_capabilities() {
        assert_eq!(signal_name(9), Some("SIGKILL"));
        assert_eq!(signal_name(15), Some("SIGTERM"));
        assert_eq!(signal_name(99), None);
        assert_eq!(capability_name(0), Some("chown"));
        assert_eq!(capability_name(21), Some("sys_admin"));
        assert_eq!(capability_name(40), Some("checkpoint_restore"));
        assert_eq!(capability_name(64), None);
    }

    #[test]
    fn capability_sets() {
        assert_eq!(capability_set("0").as_deref(), Some("none"));
        assert_eq!(capability_set("3").as_deref(), Some("chown,dac_override"));
        assert_eq!(capability_set("200000").as_deref(), Some("sys_admin"));
        let all = capability_set("000001ffffffffff").unwrap();
        assert_eq!(all.split(',').count(), 41);
        assert!(all.ends_with("checkpoint_restore"));
        assert_eq!(capability_set("8000000000000000").as_deref(), Some("63"));
        assert_eq!(capability_set("xyz"), None);
        assert_eq!(capability_set("11112222333344445"), None);
    }

    #[test]
    fn perms_and_results() {
        assert_eq!(perm_text("6").as_deref(), Some("read,write"));
        assert_eq!(perm_text("10").as_deref(), Some("write,attr"));
        assert_eq!(perm_text("15").as_deref(), Some("read,write,exec,attr"));
        assert_eq!(perm_text("16").as_deref(), Some("0x10"));
        assert_eq!(perm_text("wa"), None);
        assert_eq!(result_text("1"), Some("success"));
        assert_eq!(result_text("0"), Some("failed"));
        assert_eq!(result_text("success"), None);
        assert!(is_unset_id("4294967295"));
        assert!(is_unset_id("-1"));
        assert!(!is_unset_id("0"));
        assert_eq!(family_name(10), Some("inet6"));
        assert_eq!(protocol_name(17), Some("udp"));
    }
}
