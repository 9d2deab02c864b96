//! Names auditctl accepts in place of numbers: users, groups, errno codes.

use crate::tables;
use std::sync::OnceLock;

/// `-F uid=root`: the id of a user in /etc/passwd.
pub fn uid(name: &str) -> Option<u32> {
    lookup("/etc/passwd", name)
}

/// `-F gid=adm`: the id of a group in /etc/group.
pub fn gid(name: &str) -> Option<u32> {
    lookup("/etc/group", name)
}

/// Both files have `name:x:id:...`.
fn lookup(path: &str, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.split(':');
        (parts.next()? == name).then_some(())?;
        parts.nth(1)?.parse().ok()
    })
}

/// Highest errno number the table may hold (the kernel's `MAX_ERRNO`).
const MAX_ERRNO: u64 = 4095;

/// The number of an errno name (`EACCES` → 13).
pub fn errno_number(name: &str) -> Option<u32> {
    static NAMES: OnceLock<Vec<(&'static str, u32)>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            (1..=MAX_ERRNO)
                .filter_map(|n| tables::errno(n).map(|(name, _)| (name, n as u32)))
                .collect()
        })
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
}

/// The name of a positive errno number.
pub fn errno_name(n: u32) -> Option<&'static str> {
    tables::errno(u64::from(n)).map(|(name, _)| name)
}
