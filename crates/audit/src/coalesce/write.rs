//! A direct JSON writer for [`CoalescedEvent`], for the pipeline's hot path.
//!
//! It writes exactly the bytes `serde_json::to_vec(&event)` writes (same keys, order,
//! omissions and escapes; a test compares the two on every captured event), but without
//! serde's per-value dispatch: keys are constants copied as they are, and a string is
//! scanned once and copied in runs between the bytes that need an escape. On real events
//! that is several times faster, and JSON output is most of the coalescer's cost.

use crate::coalesce::event::{
    Actor, Address, CoalescedEvent, EcsIdentity, FileInfo, List, Object, Pairs, PathRecord,
    Process, SeLinux, Text,
};
use crate::record::civil_from_unix;
use std::io::Write;

/// Appends `event` as one JSON object (no newline).
pub(crate) fn write_event(ev: &CoalescedEvent<'_>, out: &mut Vec<u8>) {
    let mut o = Obj::open(out);
    o.key("@timestamp");
    timestamp(o.out, ev.timestamp.sec, ev.timestamp.msec);
    o.key("sequence");
    number(o.out, ev.sequence);
    o.opt("node", ev.node);
    o.str("category", ev.category);
    o.key("record_type");
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
    o.str("result", ev.result.as_str());
    o.opt("session", ev.session.as_deref());
    if !ev.tags.is_empty() {
        o.key("tags");
        texts(o.out, &ev.tags);
    }

    o.key("summary");
    let mut summary = Obj::open(o.out);
    summary.key("actor");
    actor(summary.out, &ev.summary.actor);
    summary.opt("action", ev.summary.action);
    summary.key("object");
    object(summary.out, &ev.summary.object);
    summary.opt("how", ev.summary.how.as_deref());
    summary.close();

    o.key("user");
    let mut user = Obj::open(o.out);
    if !ev.user.ids.is_empty() {
        user.key("ids");
        pairs(user.out, &ev.user.ids);
    }
    if !ev.user.names.is_empty() {
        user.key("names");
        pairs(user.out, &ev.user.names);
    }
    if let Some(se) = &ev.user.selinux {
        user.key("selinux");
        selinux(user.out, se);
    }
    user.close();

    o.key("process");
    process(o.out, &ev.process);
    if let Some(file) = &ev.file {
        o.key("file");
        file_info(o.out, file);
    }
    if !ev.paths.is_empty() {
        o.key("paths");
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
        o.key("source");
        address(o.out, a);
    }
    if let Some(a) = &ev.destination {
        o.key("destination");
        address(o.out, a);
    }
    if let Some(network) = &ev.network {
        o.key("network");
        let mut n = Obj::open(o.out);
        n.str(
            "direction",
            match network.direction {
                crate::coalesce::event::Direction::Ingress => "ingress",
                crate::coalesce::event::Direction::Egress => "egress",
            },
        );
        n.close();
    }
    if !ev.data.is_empty() {
        o.key("data");
        pairs(o.out, &ev.data);
    }

    o.key("ecs");
    let mut ecs = Obj::open(o.out);
    ecs.key("event");
    let mut event = Obj::open(ecs.out);
    event.opt("kind", ev.ecs.event.kind);
    if !ev.ecs.event.category.is_empty() {
        event.key("category");
        list(event.out, ev.ecs.event.category);
    }
    if !ev.ecs.event.kind_type.is_empty() {
        event.key("type");
        list(event.out, ev.ecs.event.kind_type);
    }
    event.close();
    ecs.key("user");
    let mut u = Obj::open(ecs.out);
    u.opt("id", ev.ecs.user.id.as_deref());
    u.opt("name", ev.ecs.user.name.as_deref());
    u.key("effective");
    identity(u.out, &ev.ecs.user.effective);
    u.key("target");
    identity(u.out, &ev.ecs.user.target);
    u.key("changes");
    identity(u.out, &ev.ecs.user.changes);
    u.close();
    ecs.key("group");
    identity(ecs.out, &ev.ecs.group);
    ecs.close();

    if !ev.warnings.is_empty() {
        o.key("warnings");
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

    /// `key` is one of this module's constants: plain ASCII, nothing to escape.
    fn key(&mut self, key: &str) {
        if self.any {
            self.out.push(b',');
        }
        self.any = true;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        string(self.out, value);
    }

    fn opt(&mut self, key: &str, value: Option<&str>) {
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
    o.opt("primary", a.primary.as_deref());
    o.opt("secondary", a.secondary.as_deref());
    o.close();
}

fn object(out: &mut Vec<u8>, obj: &Object<'_>) {
    let mut o = Obj::open(out);
    o.opt("type", obj.kind);
    o.opt("primary", obj.primary.as_deref());
    o.opt("secondary", obj.secondary.as_deref());
    o.close();
}

fn selinux(out: &mut Vec<u8>, se: &SeLinux<'_>) {
    let mut o = Obj::open(out);
    o.opt("user", se.user);
    o.opt("role", se.role);
    o.opt("domain", se.domain);
    o.opt("level", se.level);
    o.opt("category", se.category);
    o.close();
}

fn process(out: &mut Vec<u8>, p: &Process<'_>) {
    let mut o = Obj::open(out);
    o.opt("pid", p.pid);
    o.opt("ppid", p.ppid);
    o.opt("title", p.title.as_deref());
    o.opt("name", p.name.as_deref());
    o.opt("exe", p.exe.as_deref());
    o.opt("cwd", p.cwd.as_deref());
    if !p.args.is_empty() {
        o.key("args");
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
    o.str("path", &f.path);
    o.opt("device", f.device);
    o.opt("inode", f.inode);
    if let Some(perm) = f.mode {
        o.key("mode");
        o.out.push(b'"');
        for shift in [9, 6, 3, 0] {
            o.out.push(b'0' + ((perm.0 & 0o7777) >> shift & 7) as u8);
        }
        o.out.push(b'"');
    }
    o.opt("type", f.file_type);
    o.opt("uid", f.uid);
    o.opt("gid", f.gid);
    o.opt("owner", f.owner.as_deref());
    o.opt("group", f.group.as_deref());
    if let Some(se) = &f.selinux {
        o.key("selinux");
        selinux(o.out, se);
    }
    o.close();
}

fn address(out: &mut Vec<u8>, a: &Address<'_>) {
    let mut o = Obj::open(out);
    o.opt("ip", a.ip.as_deref());
    o.opt("port", a.port.as_deref());
    o.opt("path", a.path.as_deref());
    o.close();
}

fn identity(out: &mut Vec<u8>, i: &EcsIdentity<'_>) {
    let mut o = Obj::open(out);
    o.opt("id", i.id.as_deref());
    o.opt("name", i.name.as_deref());
    o.close();
}

fn pairs(out: &mut Vec<u8>, p: &Pairs<'_>) {
    out.push(b'{');
    for (i, (k, v)) in p.iter().enumerate() {
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

/// `"YYYY-MM-DDTHH:MM:SS.mmmZ"`, digit by digit (no formatting machinery per event).
fn timestamp(out: &mut Vec<u8>, sec: u64, msec: u32) {
    let (year, month, day, hour, min, s) = civil_from_unix(sec);
    out.push(b'"');
    if (0..=9999).contains(&year) {
        digits(out, year as u64, 4);
    } else {
        let _ = write!(out, "{year:04}");
    }
    out.push(b'-');
    digits(out, u64::from(month), 2);
    out.push(b'-');
    digits(out, u64::from(day), 2);
    out.push(b'T');
    digits(out, u64::from(hour), 2);
    out.push(b':');
    digits(out, u64::from(min), 2);
    out.push(b':');
    digits(out, u64::from(s), 2);
    out.push(b'.');
    digits(out, u64::from(msec.min(999)), 3);
    out.extend_from_slice(b"Z\"");
}

/// `n` as exactly `width` decimal digits (zero-padded; `n` must fit).
fn digits(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut n = n;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

fn number(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Whether any of the eight bytes in `x` needs an escape (a control byte, `"` or `\`):
/// the classic "has a byte less than n / equal to c" bit tricks, eight bytes at a time.
#[inline]
fn needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x;
    let quote = x ^ (ONES * u64::from(b'"'));
    let backslash = x ^ (ONES * u64::from(b'\\'));
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    (below_space | zero(quote) | zero(backslash)) & HIGH != 0
}

/// A JSON string with serde_json's escapes: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`,
/// other control bytes as `\u00XX` (lower-case hex); everything else as it is.
fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Find the first byte that needs escaping: eight bytes at a time, then the tail by
    // table. Most values (pids, paths, names) have none and are copied in one go.
    let mut clean = 0;
    while let Some(chunk) = bytes.get(clean..clean + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if needs_escape(u64::from_le_bytes(word)) {
            break;
        }
        clean += 8;
    }
    while clean < bytes.len() && !ESCAPED[usize::from(bytes[clean])] {
        clean += 1;
    }
    out.extend_from_slice(&bytes[..clean]);
    if clean == bytes.len() {
        // Nothing to escape (nearly always): done, without walking the rest again.
        out.push(b'"');
        return;
    }
    let mut start = clean;
    for (i, &b) in bytes.iter().enumerate().skip(clean) {
        if !ESCAPED[usize::from(b)] {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Bytes JSON requires escaped: control characters, `"` and `\\`.
static ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_serde_json() {
        let samples = [
            "plain",
            "sixteen clean by",
            "eight ok\"then quote",
            "a long clean prefix of many bytes\u{1}",
            "\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{80}",
            "",
            "quote\" backslash\\ slash/",
            "\u{1b}[31mred\u{1b}[0m\ttab\nnl\rcr\u{8}\u{c}\u{7}\u{0}",
            "grüße 日本語 🚀 \u{7f}",
        ];
        for s in samples {
            let mut ours = Vec::new();
            string(&mut ours, s);
            assert_eq!(ours, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
        // Every single byte value at every offset of a 16-byte window.
        for b in 0u8..=127 {
            for at in 0..16 {
                let mut text = vec![b'x'; 16];
                text[at] = b;
                let s = String::from_utf8(text).unwrap();
                let mut ours = Vec::new();
                string(&mut ours, &s);
                assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "{b} at {at}");
            }
        }
    }

    #[test]
    fn numbers_and_times() {
        for n in [0u64, 7, 10, 99, 1_000_000, u64::MAX] {
            let mut ours = Vec::new();
            number(&mut ours, n);
            assert_eq!(ours, n.to_string().into_bytes());
        }
        let mut ours = Vec::new();
        timestamp(&mut ours, 1_795_431_100, 41);
        assert_eq!(ours, b"\"2026-11-23T10:51:40.041Z\"");
    }
}
