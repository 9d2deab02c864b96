//! uid/gid → name.
//!
//! An ENRICHED log already says who a uid was on the machine that wrote it (`UID="root"`
//! after the 0x1D separator); that is always preferred, because the machine reading the
//! log (a replay, a central collector) may have different accounts. Otherwise a
//! [`NameResolver`] is asked: [`SystemNames`] reads this machine's `/etc/passwd` and
//! `/etc/group` (no NSS, so LDAP/SSSD accounts are not found: those hosts should log
//! ENRICHED), [`NoNames`] resolves nothing.

use super::numbers::is_unset_id;
use crate::record::{Field, Record};
use crate::tables::{self, FieldKind};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Maps uids and gids to names.
pub trait NameResolver {
    fn user(&self, uid: u32) -> Option<String>;
    fn group(&self, gid: u32) -> Option<String>;
}

/// Resolves nothing: only ENRICHED names count (replaying logs from another machine).
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

/// Names from `/etc/passwd` and `/etc/group`, read on first use and again when the
/// file's modification time changed, checked at most once per refresh interval.
#[derive(Debug)]
pub struct SystemNames {
    users: Mutex<NameFile>,
    groups: Mutex<NameFile>,
}

#[derive(Debug)]
struct NameFile {
    path: PathBuf,
    refresh: Duration,
    checked: Option<Instant>,
    modified: Option<SystemTime>,
    names: HashMap<u32, String>,
}

impl NameFile {
    fn new(path: PathBuf, refresh: Duration) -> NameFile {
        NameFile {
            path,
            refresh,
            checked: None,
            modified: None,
            names: HashMap::new(),
        }
    }

    fn lookup(&mut self, id: u32) -> Option<String> {
        let due = match self.checked {
            None => true,
            Some(at) => at.elapsed() >= self.refresh,
        };
        if due {
            self.checked = Some(Instant::now());
            let modified = std::fs::metadata(&self.path)
                .and_then(|m| m.modified())
                .ok();
            if modified.is_none() || modified != self.modified {
                self.modified = modified;
                self.names = std::fs::read(&self.path)
                    .map(|text| parse_id_file(&String::from_utf8_lossy(&text)))
                    .unwrap_or_default();
            }
        }
        self.names.get(&id).cloned()
    }
}

/// `name:password:id:…` lines (passwd and group share the first three columns). The
/// first line for an id wins, as getpwuid does; malformed lines are skipped.
fn parse_id_file(text: &str) -> HashMap<u32, String> {
    let mut names = HashMap::new();
    for line in text.lines() {
        let mut cols = line.split(':');
        let (Some(name), Some(_), Some(id)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        if name.is_empty() || name.starts_with('#') || name.starts_with('+') {
            continue;
        }
        if let Ok(id) = id.parse::<u32>() {
            names.entry(id).or_insert_with(|| name.to_string());
        }
    }
    names
}

impl SystemNames {
    /// `/etc/passwd` and `/etc/group`, re-checked at most every 60 seconds.
    pub fn new() -> SystemNames {
        SystemNames::with_files("/etc/passwd", "/etc/group", Duration::from_secs(60))
    }

    /// Other files (a chroot, a copy taken from the machine that wrote the log, tests).
    pub fn with_files(
        passwd: impl Into<PathBuf>,
        group: impl Into<PathBuf>,
        refresh: Duration,
    ) -> SystemNames {
        SystemNames {
            users: Mutex::new(NameFile::new(passwd.into(), refresh)),
            groups: Mutex::new(NameFile::new(group.into(), refresh)),
        }
    }
}

impl Default for SystemNames {
    fn default() -> Self {
        SystemNames::new()
    }
}

impl NameResolver for SystemNames {
    fn user(&self, uid: u32) -> Option<String> {
        self.users.lock().ok()?.lookup(uid)
    }
    fn group(&self, gid: u32) -> Option<String> {
        self.groups.lock().ok()?.lookup(gid)
    }
}

/// The ENRICHED translation of `key` in `record`: auditd writes the key upper-cased
/// (`auid` → `AUID`). The upper-case key is built on the stack, and
/// [`Record::enriched`] skips raw fields without slicing them.
pub(crate) fn enriched_for<'a>(record: &'a Record, key: &str) -> Option<&'a str> {
    let mut buf = [0u8; 32];
    let upper = buf.get_mut(..key.len())?;
    upper.copy_from_slice(key.as_bytes());
    upper.make_ascii_uppercase();
    record.enriched(std::str::from_utf8(upper).ok()?)
}

/// The name for the uid or gid field `key` of `record` (`auid`, `ouid`, `gid`, …):
/// the ENRICHED translation when the log has one, else `resolver`; `unset` for
/// 4294967295/-1. Whether the field is a user or a group comes from the field table
/// (`gid`, `egid`, `ogid`, … are groups; anything else is taken as a user).
pub fn uid_name(record: &Record, key: &str, resolver: &dyn NameResolver) -> Option<String> {
    let field = record.get(key)?;
    id_name(record, &field, resolver).map(|name| name.to_string())
}

/// [`uid_name`] for a field already in hand, borrowing whatever it can.
pub(crate) fn id_name<'a>(
    record: &'a Record,
    field: &Field<'a>,
    resolver: &dyn NameResolver,
) -> Option<std::borrow::Cow<'a, str>> {
    use std::borrow::Cow;
    if let Some(name) = enriched_for(record, field.key) {
        return Some(Cow::Borrowed(name));
    }
    if is_unset_id(field.value) {
        return Some(Cow::Borrowed("unset"));
    }
    let id: u32 = field.value.parse().ok()?;
    let name = if tables::field_kind(field.key) == Some(FieldKind::Gid) {
        resolver.group(id)
    } else {
        resolver.user(id)
    };
    name.map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_line;

    #[test]
    fn passwd_parsing() {
        let names = parse_id_file(
            "root:x:0:0:root:/root:/bin/bash\n\
             daemon:x:1:1::/:/usr/sbin/nologin\n\
             broken line\n\
             other:x:notanumber:1::/:/bin/sh\n\
             dup:x:0:0::/:/bin/sh\n",
        );
        assert_eq!(names.get(&0).map(String::as_str), Some("root"));
        assert_eq!(names.get(&1).map(String::as_str), Some("daemon"));
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn system_names_read_this_machine() {
        let names = SystemNames::new();
        assert_eq!(names.user(0).as_deref(), Some("root"));
        assert_eq!(names.group(0).as_deref(), Some("root"));
        assert_eq!(names.user(4_000_000_000), None);
    }

    #[test]
    fn system_names_follow_file_changes() {
        let dir = std::env::temp_dir().join(format!("sshtrail-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let passwd = dir.join("passwd");
        std::fs::write(&passwd, "alice:x:1000:1000::/home/alice:/bin/sh\n").unwrap();
        let names = SystemNames::with_files(&passwd, dir.join("missing"), Duration::ZERO);
        assert_eq!(names.user(1000).as_deref(), Some("alice"));
        assert_eq!(names.group(1000), None);
        // A different length guarantees a visible change even if the mtime ties.
        std::fs::write(
            &passwd,
            "bob:x:1000:1000::/home/bob:/bin/sh\nx:x:1:1::/:/bin/sh\n",
        )
        .unwrap();
        let later = SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&passwd)
            .and_then(|f| f.set_modified(later))
            .unwrap();
        assert_eq!(names.user(1000).as_deref(), Some("bob"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A resolver with fixed answers, to tell resolver names from ENRICHED ones.
    struct Fixed;
    impl NameResolver for Fixed {
        fn user(&self, uid: u32) -> Option<String> {
            Some(format!("user{uid}"))
        }
        fn group(&self, gid: u32) -> Option<String> {
            Some(format!("group{gid}"))
        }
    }

    #[test]
    fn enriched_first_then_resolver() {
        // A PATH record from this machine's ENRICHED log (0x1D before the translations).
        let line = "type=PATH msg=audit(1795431785.414:441): item=0 name=\"/tmp/hb/watched\" inode=10011940 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\x1dOUID=\"root\" OGID=\"root\"";
        let record = parse_line(line.as_bytes()).unwrap();
        assert_eq!(uid_name(&record, "ouid", &Fixed).as_deref(), Some("root"));
        assert_eq!(uid_name(&record, "ogid", &Fixed).as_deref(), Some("root"));
        // Without the translations the resolver answers, user or group by field kind.
        let raw = line.split('\x1d').next().unwrap();
        let record = parse_line(raw.as_bytes()).unwrap();
        assert_eq!(uid_name(&record, "ouid", &Fixed).as_deref(), Some("user0"));
        assert_eq!(uid_name(&record, "ogid", &Fixed).as_deref(), Some("group0"));
        assert_eq!(uid_name(&record, "ouid", &NoNames), None);
        assert_eq!(uid_name(&record, "nosuchfield", &Fixed), None);
    }

    #[test]
    fn unset_ids() {
        // Fabricated from a real LOGIN record: auid=-1 is how some user-space senders
        // write an unset id.
        let line = "type=LOGIN msg=audit(1795431785.122:186): pid=5 uid=0 old-auid=4294967295 auid=-1 ses=1 res=1";
        let record = parse_line(line.as_bytes()).unwrap();
        assert_eq!(
            uid_name(&record, "old-auid", &Fixed).as_deref(),
            Some("unset")
        );
        assert_eq!(uid_name(&record, "auid", &Fixed).as_deref(), Some("unset"));
        assert_eq!(uid_name(&record, "uid", &Fixed).as_deref(), Some("user0"));
    }
}
