//! A direct JSON writer for [`CoalescedEvent`], for the pipeline's hot path.
//!
//! It writes exactly the bytes `serde_json::to_vec(&event)` writes (same keys, order,
//! omissions and escapes; a test compares the two on every captured event), but without
//! serde's per-value dispatch: keys are constants copied as they are, and a string is
//! scanned once and copied in runs between the bytes that need an escape. On real events
//! that is several times faster, and JSON output is most of the coalescer's cost.

use crate::coalesce::event::{
    Actor, Address, CoalescedEvent, EcsIdentity, FileInfo, List, Object, PathRecord, Process,
    SeLinux, Text,
};
use sshtrail_fmt::decimal::unsigned as number;
use sshtrail_fmt::json::string;
use std::io::Write;

/// `"name":`, made at compile time: keys are this module's constants and need no escape.
macro_rules! k {
    ($name:literal) => {
        concat!("\"", $name, "\":")
    };
}

/// Appends `event` as one JSON object (no newline).
pub(crate) fn write_event(ev: &CoalescedEvent<'_>, out: &mut Vec<u8>) {
    let mut o = Obj::open(out);
    o.key(k!("@timestamp"));
    timestamp(o.out, ev.timestamp.sec, ev.timestamp.msec);
    o.key(k!("sequence"));
    number(o.out, ev.sequence);
    o.opt(k!("node"), ev.node);
    o.str(k!("category"), ev.category);
    o.key(k!("record_type"));
    match ev.record_type.name() {
        Some(name) => {
            o.out.push(b'"');
            o.out.extend(name.bytes().map(|b| b.to_ascii_lowercase()));
            o.out.push(b'"');
        }
        None => {
            let _ = write!(o.out, "\"unknown[{}]\"", ev.record_type.0);
        }
    }
    o.str(k!("result"), ev.result.as_str());
    o.opt(k!("session"), ev.session.as_deref());
    if !ev.tags.is_empty() {
        o.key(k!("tags"));
        texts(o.out, &ev.tags);
    }

    o.key(k!("summary"));
    let mut summary = Obj::open(o.out);
    summary.key(k!("actor"));
    actor(summary.out, &ev.summary.actor);
    summary.opt(k!("action"), ev.summary.action);
    summary.key(k!("object"));
    object(summary.out, &ev.summary.object);
    summary.opt(k!("how"), ev.summary.how.as_deref());
    summary.close();

    o.key(k!("user"));
    let mut user = Obj::open(o.out);
    if !ev.user.ids.is_empty() {
        user.key(k!("ids"));
        pairs(user.out, ev.user.ids.iter());
    }
    if !ev.user.names.is_empty() {
        user.key(k!("names"));
        pairs(user.out, ev.user.names.iter());
    }
    if let Some(se) = &ev.user.selinux {
        user.key(k!("selinux"));
        selinux(user.out, se);
    }
    user.close();

    o.key(k!("process"));
    process(o.out, &ev.process);
    if let Some(file) = &ev.file {
        o.key(k!("file"));
        file_info(o.out, file);
    }
    if !ev.paths.is_empty() {
        o.key(k!("paths"));
        o.out.push(b'[');
        for (i, path) in ev.paths.iter().enumerate() {
            if i > 0 {
                o.out.push(b',');
            }
            path_record(o.out, *path);
        }
        o.out.push(b']');
    }
    if let Some(a) = &ev.source {
        o.key(k!("source"));
        address(o.out, a);
    }
    if let Some(a) = &ev.destination {
        o.key(k!("destination"));
        address(o.out, a);
    }
    if let Some(network) = &ev.network {
        o.key(k!("network"));
        let mut n = Obj::open(o.out);
        n.str(
            k!("direction"),
            match network.direction {
                crate::coalesce::event::Direction::Ingress => "ingress",
                crate::coalesce::event::Direction::Egress => "egress",
            },
        );
        n.close();
    }
    if !ev.data.is_empty() {
        o.key(k!("data"));
        pairs(o.out, ev.data.iter());
    }

    o.key(k!("ecs"));
    let mut ecs = Obj::open(o.out);
    ecs.key(k!("event"));
    let mut event = Obj::open(ecs.out);
    event.opt(k!("kind"), ev.ecs.event.kind);
    if !ev.ecs.event.category.is_empty() {
        event.key(k!("category"));
        list(event.out, ev.ecs.event.category);
    }
    if !ev.ecs.event.kind_type.is_empty() {
        event.key(k!("type"));
        list(event.out, ev.ecs.event.kind_type);
    }
    event.close();
    ecs.key(k!("user"));
    let mut u = Obj::open(ecs.out);
    u.opt(k!("id"), ev.ecs.user.id.as_deref());
    u.opt(k!("name"), ev.ecs.user.name.as_deref());
    u.key(k!("effective"));
    identity(u.out, &ev.ecs.user.effective);
    u.key(k!("target"));
    identity(u.out, &ev.ecs.user.target);
    u.key(k!("changes"));
    identity(u.out, &ev.ecs.user.changes);
    u.close();
    ecs.key(k!("group"));
    identity(ecs.out, &ev.ecs.group);
    ecs.close();

    if !ev.warnings.is_empty() {
        o.key(k!("warnings"));
        o.out.push(b'[');
        for (i, w) in ev.warnings.iter().enumerate() {
            if i > 0 {
                o.out.push(b',');
            }
            string(o.out, w);
        }
        o.out.push(b']');
    }
    o.close();
}

/// An open JSON object: writes the comma before every key but the first.
struct Obj<'o> {
    out: &'o mut Vec<u8>,
    any: bool,
}

impl<'o> Obj<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, any: false }
    }

    /// `key` is `"name":` from [`k!`].
    fn key(&mut self, key: &'static str) {
        if self.any {
            self.out.push(b',');
        }
        self.any = true;
        self.out.extend_from_slice(key.as_bytes());
    }

    fn str(&mut self, key: &'static str, value: &str) {
        self.key(key);
        string(self.out, value);
    }

    fn opt(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

fn actor(out: &mut Vec<u8>, a: &Actor<'_>) {
    let mut o = Obj::open(out);
    o.opt(k!("primary"), a.primary.as_deref());
    o.opt(k!("secondary"), a.secondary.as_deref());
    o.close();
}

fn object(out: &mut Vec<u8>, obj: &Object<'_>) {
    let mut o = Obj::open(out);
    o.opt(k!("type"), obj.kind);
    o.opt(k!("primary"), obj.primary.as_deref());
    o.opt(k!("secondary"), obj.secondary.as_deref());
    o.close();
}

fn selinux(out: &mut Vec<u8>, se: &SeLinux<'_>) {
    let mut o = Obj::open(out);
    o.opt(k!("user"), se.user);
    o.opt(k!("role"), se.role);
    o.opt(k!("domain"), se.domain);
    o.opt(k!("level"), se.level);
    o.opt(k!("category"), se.category);
    o.close();
}

fn process(out: &mut Vec<u8>, p: &Process<'_>) {
    let mut o = Obj::open(out);
    o.opt(k!("pid"), p.pid);
    o.opt(k!("ppid"), p.ppid);
    o.opt(k!("title"), p.title.as_deref());
    o.opt(k!("name"), p.name.as_deref());
    o.opt(k!("exe"), p.exe.as_deref());
    o.opt(k!("cwd"), p.cwd.as_deref());
    if !p.args.is_empty() {
        o.key(k!("args"));
        o.out.push(b'[');
        for (i, arg) in p.args.iter().enumerate() {
            if i > 0 {
                o.out.push(b',');
            }
            string(o.out, arg);
        }
        o.out.push(b']');
    }
    o.close();
}

fn file_info(out: &mut Vec<u8>, f: &FileInfo<'_>) {
    let mut o = Obj::open(out);
    o.str(k!("path"), &f.path);
    o.opt(k!("device"), f.device);
    o.opt(k!("inode"), f.inode);
    if let Some(perm) = f.mode {
        o.key(k!("mode"));
        o.out.push(b'"');
        for shift in [9, 6, 3, 0] {
            o.out.push(b'0' + ((perm.0 & 0o7777) >> shift & 7) as u8);
        }
        o.out.push(b'"');
    }
    o.opt(k!("type"), f.file_type);
    o.opt(k!("uid"), f.uid);
    o.opt(k!("gid"), f.gid);
    o.opt(k!("owner"), f.owner.as_deref());
    o.opt(k!("group"), f.group.as_deref());
    if let Some(se) = &f.selinux {
        o.key(k!("selinux"));
        selinux(o.out, se);
    }
    o.close();
}

fn address(out: &mut Vec<u8>, a: &Address<'_>) {
    let mut o = Obj::open(out);
    o.opt(k!("ip"), a.ip.as_deref());
    o.opt(k!("port"), a.port.as_deref());
    o.opt(k!("path"), a.path.as_deref());
    o.close();
}

fn identity(out: &mut Vec<u8>, i: &EcsIdentity<'_>) {
    let mut o = Obj::open(out);
    o.opt(k!("id"), i.id.as_deref());
    o.opt(k!("name"), i.name.as_deref());
    o.close();
}

fn pairs<'k, 'v>(out: &mut Vec<u8>, p: impl Iterator<Item = (&'k str, &'v str)>) {
    out.push(b'{');
    for (i, (k, v)) in p.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        string(out, v);
    }
    out.push(b'}');
}

fn path_record(out: &mut Vec<u8>, path: PathRecord<'_>) {
    out.push(b'{');
    for (i, (k, v)) in path.fields().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        string(out, &v);
    }
    out.push(b'}');
}

fn texts(out: &mut Vec<u8>, items: &[Text<'_>]) {
    out.push(b'[');
    for (i, t) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, t);
    }
    out.push(b']');
}

fn list(out: &mut Vec<u8>, l: List) {
    out.push(b'[');
    for (i, item) in l.items().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, item);
    }
    out.push(b']');
}

/// `"YYYY-MM-DDTHH:MM:SS.mmmZ"`, quoted.
fn timestamp(out: &mut Vec<u8>, sec: u64, msec: u32) {
    out.push(b'"');
    sshtrail_fmt::time::rfc3339_millis(out, sec, msec);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    // Escapes and numbers are `sshtrail_fmt`'s, tested there; whole events are compared
    // with serde's output in `coalesce`'s tests.
    #[test]
    fn times_are_quoted() {
        let mut ours = Vec::new();
        timestamp(&mut ours, 1_795_431_100, 41);
        assert_eq!(ours, b"\"2026-11-23T10:51:40.041Z\"");
    }
}
