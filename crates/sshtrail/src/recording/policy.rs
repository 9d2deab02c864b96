//! Whose sessions must be recorded (`--require-recording`): user names, `@group`s, or
//! `*`. Group membership is asked of the system (`getgrouplist`, so LDAP or SSSD groups
//! count), when a login of the user is seen.

use std::collections::HashSet;
use std::ffi::CString;

#[derive(Clone, Debug, Default)]
pub struct Required {
    all: bool,
    users: HashSet<String>,
    /// Group ids of the `@group`s that exist on this host.
    groups: Vec<u32>,
}

impl Required {
    pub fn parse(list: &[String]) -> Required {
        let mut out = Required::default();
        for item in list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            if item == "*" {
                out.all = true;
            } else if let Some(group) = item.strip_prefix('@') {
                match super::socket::group_id(group) {
                    Some(gid) => out.groups.push(gid),
                    None => tracing::warn!(group, "--require-recording: no such group"),
                }
            } else {
                out.users.insert(item.to_string());
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        !self.all && self.users.is_empty() && self.groups.is_empty()
    }

    /// Whether `user`'s sessions must be recorded.
    pub fn applies(&self, user: &str) -> bool {
        if self.all || self.users.contains(user) {
            return true;
        }
        !self.groups.is_empty() && groups_of(user).iter().any(|g| self.groups.contains(g))
    }
}

/// The groups `user` is in (primary and supplementary); none if the user is unknown.
fn groups_of(user: &str) -> Vec<u32> {
    let Ok(name) = CString::new(user) else {
        return Vec::new();
    };
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: a zeroed passwd is a valid out-parameter.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwnam_r fills `pwd` with pointers into `buf`; only the gid is read.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        )
    };
    if rc != 0 || found.is_null() {
        return Vec::new();
    }
    let mut n: libc::c_int = 64;
    loop {
        let mut groups = vec![0 as libc::gid_t; n as usize];
        let asked = n;
        // SAFETY: getgrouplist writes at most `n` gids and sets `n` to how many there are.
        let rc =
            unsafe { libc::getgrouplist(name.as_ptr(), pwd.pw_gid, groups.as_mut_ptr(), &mut n) };
        if rc >= 0 {
            groups.truncate(n.max(0) as usize);
            return groups;
        }
        if n <= asked {
            return Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_groups_and_everyone() {
        let r = Required::parse(&["alice".into(), " bob ".into()]);
        assert!(r.applies("alice") && r.applies("bob") && !r.applies("carol"));
        assert!(Required::parse(&["*".into()]).applies("anyone"));
        assert!(Required::parse(&[]).is_empty());
        // root is in group root (gid 0) on every Linux host.
        assert!(Required::parse(&["@root".into()]).applies("root"));
        assert!(!Required::parse(&["@root".into()]).applies("no-such-user-here"));
    }
}
