//! The summary: who (actor) did what (action) to which object, and how.
//!
//! The action and the kind of object come from the vocabulary tables; this module finds
//! the object itself: the PATH a file syscall touched, the SOCKADDR a socket syscall
//! used, the process a signal went to, or the fields a record-type row names.

use crate::coalesce::event::{Address, CoalescedEvent, Direction, FileInfo, Network, Perm, Text};
use crate::coalesce::fields::{self, id_name, value_text};
use crate::coalesce::normalize::Parts;
use crate::interpret::{file_mode, signal_name, sockaddr, NameResolver, SockAddr};
use crate::record::{Origin, Record};
use crate::record_type::RecordType;
use std::borrow::Cow;

/// Programs that run scripts: for them `how` is the script (`comm`), not the
/// interpreter binary, which would say nothing about what ran.
const INTERPRETERS: &[&str] = &[
    "bash", "python", "python2", "python3", "perl", "ruby", "node", "php", "java", "lua", "tclsh",
    "pwsh",
];

fn is_interpreter(exe: &str) -> bool {
    let base = exe.rsplit('/').next().unwrap_or(exe);
    INTERPRETERS.iter().any(|name| {
        base.strip_prefix(name).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        })
    })
}

pub(crate) fn summarize<'a>(
    ev: &mut CoalescedEvent<'a>,
    parts: &Parts<'a>,
    resolver: &dyn NameResolver,
) {
    actor(ev, parts, resolver);

    // The record type's own meaning first (an AVC inside a syscall is about the policy
    // decision); the syscall's when the record type has none.
    let record_row = parts.record_vocab.filter(|v| !v.action.is_empty());
    let (action, kind) = match (record_row, parts.syscall_vocab) {
        (Some(row), _) => (row.action, row.object),
        (None, Some(row)) => (row.action, row.object),
        (None, None) => ("", ""),
    };
    if !action.is_empty() {
        ev.summary.action = Some(action);
    }
    if !kind.is_empty() {
        ev.summary.object.kind = Some(kind);
    }

    if let Some(row) = record_row {
        let primary = pick(parts.primary, row.primary);
        let secondary = pick(parts.primary, row.secondary);
        if primary.is_some() || secondary.is_some() {
            ev.summary.object.primary = primary;
            ev.summary.object.secondary = secondary;
        } else {
            object_by_kind(ev, parts, kind, action, resolver);
        }
    } else {
        object_by_kind(ev, parts, kind, action, resolver);
    }
    user_space_address(ev, parts);
    how(ev, parts);
}

/// The first present field among `|`-separated candidates.
fn pick<'a>(record: &'a Record, candidates: &str) -> Option<Text<'a>> {
    candidates
        .split('|')
        .filter(|k| !k.is_empty())
        .find_map(|k| value_text(record, k))
}

/// `actor.primary` is the login identity (auid, or the old one a LOGIN changed);
/// `secondary` the account acted as: a user-space message's `acct` or `id`, else `uid`.
fn actor<'a>(ev: &mut CoalescedEvent<'a>, parts: &Parts<'a>, resolver: &dyn NameResolver) {
    let login_key = if parts.primary.record_type() == RecordType::LOGIN {
        "old-auid"
    } else {
        "auid"
    };
    ev.summary.actor.primary = identity(ev, login_key);
    if parts.user_space() {
        if let Some(acct) = value_text(parts.primary, "acct") {
            ev.summary.actor.secondary = Some(acct);
            return;
        }
        if let Some(id) = parts.primary.value("id").filter(|v| *v != "?") {
            ev.summary.actor.secondary =
                id_name(parts.primary, "id", false, resolver).or(Some(Cow::Borrowed(id)));
            return;
        }
    }
    ev.summary.actor.secondary = identity(ev, "uid");
}

/// The name of an id field when known, else its number (`unset` for -1).
fn identity<'a>(ev: &CoalescedEvent<'a>, key: &str) -> Option<Text<'a>> {
    ev.user.names.value(key).or_else(|| ev.user.ids.value(key))
}

fn object_by_kind<'a>(
    ev: &mut CoalescedEvent<'a>,
    parts: &Parts<'a>,
    kind: &str,
    action: &str,
    resolver: &dyn NameResolver,
) {
    match kind {
        "file" => file_object(ev, parts, action, resolver),
        "socket" => socket_object(ev, parts, action),
        "process" => process_object(ev, parts),
        _ => {}
    }
}

/// What the summary needs from one PATH record, read in one pass over its fields.
#[derive(Default)]
struct PathView<'a> {
    name: Option<Text<'a>>,
    /// `nametype=` since Linux 4.x; RHEL 7 kernels wrote `objtype=`.
    name_type: Option<&'a str>,
    dev: Option<&'a str>,
    inode: Option<&'a str>,
    mode: Option<&'a str>,
    ouid: Option<&'a str>,
    ogid: Option<&'a str>,
    obj: Option<&'a str>,
    owner: Option<&'a str>,
    group: Option<&'a str>,
}

impl<'a> PathView<'a> {
    fn of(path: &'a Record) -> Self {
        let mut v = PathView::default();
        for f in path.fields() {
            let slot = match (f.origin, f.key) {
                (Origin::Enriched, "OUID") => &mut v.owner,
                (Origin::Enriched, "OGID") => &mut v.group,
                (Origin::Enriched, _) => continue,
                (_, "name") => {
                    v.name = v.name.take().or_else(|| fields::text(&f));
                    continue;
                }
                (_, "nametype" | "objtype") => &mut v.name_type,
                (_, "dev") => &mut v.dev,
                (_, "inode") => &mut v.inode,
                (_, "mode") => &mut v.mode,
                (_, "ouid") => &mut v.ouid,
                (_, "ogid") => &mut v.ogid,
                (_, "obj") => &mut v.obj,
                _ => continue,
            };
            if slot.is_none() && !f.is_absent() {
                *slot = Some(f.value);
            }
        }
        v
    }

    fn name(
        named: Option<&'a str>,
        raw: Option<&'a str>,
        group: bool,
        resolver: &dyn NameResolver,
    ) -> Option<Text<'a>> {
        match named.filter(|n| fields::usable_name(n)) {
            Some(n) => Some(Cow::Borrowed(n)),
            None => raw.and_then(|r| fields::resolve(r, group, resolver).map(Cow::Owned)),
        }
    }
}

/// The file a syscall acted on: the first PATH that is not the parent directory of the
/// name (for unlink, the deleted file; for rename, the old name; for execve, the
/// program). `renamed` also names the new name as `secondary`.
fn file_object<'a>(
    ev: &mut CoalescedEvent<'a>,
    parts: &Parts<'a>,
    action: &str,
    resolver: &dyn NameResolver,
) {
    let mut chosen: Option<PathView<'a>> = None;
    let mut first_named: Option<PathView<'a>> = None;
    let mut created: Option<Text<'a>> = None;
    for path in parts.paths() {
        let view = PathView::of(path);
        if view.name.is_none() {
            continue;
        }
        if view.name_type == Some("CREATE") && created.is_none() {
            created = view.name.clone();
        }
        if chosen.is_none() && view.name_type != Some("PARENT") {
            chosen = Some(view);
        } else if first_named.is_none() {
            first_named = Some(view);
        }
        if chosen.is_some() && (created.is_some() || action != "renamed") {
            break;
        }
    }
    let Some(path) = chosen.or(first_named) else {
        if parts.primary.record_type() == RecordType::EXECVE {
            // EXECVE without PATH: argv[0] is what ran.
            if let Some(arg0) = ev.process.args.first() {
                ev.summary.object.primary = Some(Cow::Owned(arg0.clone()));
            }
        }
        return;
    };
    if action == "renamed" {
        ev.summary.object.secondary = created;
    }
    ev.summary.object.primary = path.name.clone();
    let mode = path.mode.and_then(file_mode);
    ev.file = Some(FileInfo {
        path: path.name.unwrap_or(Cow::Borrowed("")),
        device: path.dev,
        inode: path.inode,
        mode: path
            .mode
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .map(|m| Perm(m & 0o7777)),
        file_type: mode.map(|m| m.file_type).filter(|t| !t.is_empty()),
        uid: path.ouid,
        gid: path.ogid,
        owner: PathView::name(path.owner, path.ouid, false, resolver),
        group: PathView::name(path.group, path.ogid, true, resolver),
        selinux: path.obj.map(fields::selinux),
    });
}

/// The SOCKADDR of a socket syscall: the peer for connect/accept/send/receive.
fn socket_object<'a>(ev: &mut CoalescedEvent<'a>, parts: &Parts<'a>, action: &str) {
    let Some(saddr) = parts
        .first(RecordType::SOCKADDR)
        .and_then(|r| r.value("saddr"))
    else {
        return;
    };
    let address = match sockaddr(saddr) {
        SockAddr::Inet { addr, port } => Address {
            ip: Some(Cow::Owned(addr.to_string())),
            port: Some(Cow::Owned(port.to_string())),
            path: None,
        },
        SockAddr::Inet6 { addr, port } => Address {
            ip: Some(Cow::Owned(addr.to_string())),
            port: Some(Cow::Owned(port.to_string())),
            path: None,
        },
        SockAddr::Unix { path } => Address {
            path: Some(Cow::Owned(path)),
            ..Address::default()
        },
        SockAddr::Netlink { pid, .. } => {
            ev.summary.object.primary = Some(Cow::Owned(format!("netlink:{pid}")));
            return;
        }
        SockAddr::Other { .. } | SockAddr::Malformed { .. } => return,
    };
    ev.summary.object.primary = address.ip.clone().or_else(|| address.path.clone());
    ev.summary.object.secondary = address.port.clone();
    match action {
        "connected-to" | "sent-to" | "checked-peer-address-of" => {
            ev.destination = Some(address);
            ev.network = Some(Network {
                direction: Direction::Egress,
            });
        }
        "accepted-connection-from" | "received-from" => {
            ev.source = Some(address);
            ev.network = Some(Network {
                direction: Direction::Ingress,
            });
        }
        _ => {}
    }
}

/// The process a signal or trace went to: OBJ_PID names it; else the syscall's `a0`.
fn process_object<'a>(ev: &mut CoalescedEvent<'a>, parts: &Parts<'a>) {
    if let Some(obj) = parts.first(RecordType(1318)) {
        ev.summary.object.primary = value_text(obj, "ocomm");
        ev.summary.object.secondary = obj.value("opid").map(Cow::Borrowed);
        return;
    }
    let target = parts
        .syscall
        .and_then(|s| s.value("a0"))
        .and_then(|a0| i64::from_str_radix(a0, 16).ok())
        .filter(|pid| *pid > 0 && *pid < 1 << 31);
    if let Some(pid) = target {
        ev.summary.object.primary = Some(Cow::Owned(pid.to_string()));
    }
}

/// User-space messages name the remote end in `addr=` (sshd, login): it is the source.
fn user_space_address<'a>(ev: &mut CoalescedEvent<'a>, parts: &Parts<'a>) {
    if !parts.user_space() || ev.source.is_some() {
        return;
    }
    if let Some(addr) = value_text(parts.primary, "addr") {
        ev.source = Some(Address {
            ip: Some(addr),
            ..Address::default()
        });
        ev.network = Some(Network {
            direction: Direction::Ingress,
        });
    }
}

/// How the action was done: the program (`exe`), or for scripts the script's name.
fn how<'a>(ev: &mut CoalescedEvent<'a>, parts: &Parts<'a>) {
    if parts.primary.record_type() == RecordType(1701) {
        // ANOM_ABEND: the program crashed by a signal.
        if let Some(sig) = parts.primary.value("sig") {
            let name = sig.parse().ok().and_then(signal_name);
            ev.summary.how = Some(name.map_or(Cow::Borrowed(sig), Cow::Borrowed));
            return;
        }
    }
    ev.summary.how = match (&ev.process.exe, &ev.process.name) {
        (Some(exe), Some(comm)) if is_interpreter(exe) => Some(comm.clone()),
        (Some(exe), _) => Some(exe.clone()),
        (None, Some(comm)) => Some(comm.clone()),
        (None, None) => None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreters_by_base_name() {
        assert!(is_interpreter("/usr/bin/python3.5"));
        assert!(is_interpreter("/usr/bin/bash"));
        assert!(!is_interpreter("/usr/bin/dash"));
        assert!(!is_interpreter("/usr/bin/pythonic-tool"));
        assert!(!is_interpreter("/usr/sbin/sshd"));
    }
}
