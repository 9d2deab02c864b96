//! Records of one event → one [`CoalescedEvent`].
//!
//! The event's *primary* record is the first one that is not a syscall auxiliary
//! (SYSCALL, PATH, CWD, EXECVE, PROCTITLE, SOCKADDR, …): an AVC, LOGIN, ANOM_* or
//! TIME_* record explains why the event was logged better than the syscall that carried
//! it. Without one, the SYSCALL is primary; without a SYSCALL, the first record is, so
//! AVC-only, EXECVE-only and user-space events coalesce like any other.

use crate::coalesce::event::{CoalescedEvent, Pairs, PathRecord};
use crate::coalesce::fields::{
    self, enriched_id, id_text, resolve, role, usable_name, Role, ID_KEYS,
};
use crate::coalesce::vocabulary::{self, RecordVocab, SyscallVocab, APPARMOR_AVC};
use crate::coalesce::{ecs, objects};
use crate::interpret::{exit_text, syscall_name, Arch, NameResolver};
use crate::record::Origin;
use crate::record::Record;
use crate::record_type::{RecordClass, RecordType};
use std::borrow::Cow;

/// Record types that only add detail to the event of a syscall: SYSCALL 1300, PATH
/// 1302, IPC 1303, SOCKETCALL 1304, SOCKADDR 1306, CWD 1307, EXECVE 1309, IPC_SET_PERM
/// 1311, MQ_* 1312–1315, FD_PAIR 1317, OBJ_PID 1318, EOE 1320, BPRM_FCAPS 1321, CAPSET
/// 1322, MMAP 1323, PROCTITLE 1327, URINGOP 1336, OPENAT2 1337, AVC_PATH 1402.
#[inline]
pub(crate) fn is_auxiliary(rt: RecordType) -> bool {
    matches!(
        rt.0,
        1300 | 1302..=1304 | 1306 | 1307 | 1309 | 1311..=1315 | 1317 | 1318 | 1320..=1323
            | 1327 | 1336 | 1337 | 1402
    )
}

/// What the event's records are, found in one pass.
pub(crate) struct Parts<'a> {
    pub records: &'a [Record],
    pub primary: &'a Record,
    pub syscall: Option<&'a Record>,
    pub record_vocab: Option<&'static RecordVocab>,
    pub syscall_vocab: Option<&'static SyscallVocab>,
}

impl<'a> Parts<'a> {
    pub fn of(rt: RecordType, records: &'a [Record]) -> impl Iterator<Item = &'a Record> + 'a {
        records.iter().filter(move |r| r.record_type() == rt)
    }

    pub fn paths(&self) -> impl Iterator<Item = &'a Record> + 'a {
        Self::of(RecordType::PATH, self.records)
    }

    pub fn first(&self, rt: RecordType) -> Option<&'a Record> {
        Self::of(rt, self.records).next()
    }

    /// Whether the primary record is a user-space message (PAM, sshd, auditd).
    pub fn user_space(&self) -> bool {
        matches!(
            self.primary.record_type().class(),
            RecordClass::UserSpace | RecordClass::Daemon
        )
    }
}

/// The syscall's name: from the arch and number, else from auditd's ENRICHED `SYSCALL=`.
fn name_of_syscall(syscall: &Record) -> Option<&str> {
    let nr = syscall.value("syscall")?;
    let arch = syscall.value("arch").and_then(Arch::from_field);
    if let (Some(arch), Ok(nr)) = (arch, nr.parse::<u64>()) {
        if let Some(name) = syscall_name(arch, nr) {
            return Some(name);
        }
    }
    syscall.enriched("SYSCALL")
}

/// How much of the event to build.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Detail {
    /// Everything.
    Full,
    /// Everything but `data`, `paths`, `process.title` and `ecs`, which nothing else
    /// reads (see [`crate::coalesce::coalesce_summary`]).
    Summary,
}

pub(crate) fn build<'a>(records: &'a [Record], resolver: &dyn NameResolver) -> CoalescedEvent<'a> {
    build_with(records, resolver, Detail::Full)
}

pub(crate) fn build_with<'a>(
    records: &'a [Record],
    resolver: &dyn NameResolver,
    detail: Detail,
) -> CoalescedEvent<'a> {
    let mut ev = CoalescedEvent::default();
    let Some(first) = records.first() else {
        ev.category = "unknown";
        return ev;
    };
    let syscall = records
        .iter()
        .find(|r| r.record_type() == RecordType::SYSCALL);
    let primary = records
        .iter()
        .find(|r| !is_auxiliary(r.record_type()))
        .or(syscall)
        .unwrap_or(first);
    let syscall_name = syscall.and_then(name_of_syscall);
    let record_vocab =
        if primary.record_type() == RecordType::AVC && primary.get("apparmor").is_some() {
            Some(&APPARMOR_AVC)
        } else {
            vocabulary::record_type(primary.record_type())
        };
    let parts = Parts {
        records,
        primary,
        syscall,
        record_vocab,
        syscall_vocab: syscall_name.and_then(vocabulary::syscall),
    };

    ev.timestamp = first.timestamp();
    ev.sequence = first.serial();
    ev.node = first.node();
    ev.record_type = primary.record_type();
    ev.category = match record_vocab {
        Some(v) => v.category,
        None if syscall.is_some() => "audit-rule",
        None => "unknown",
    };

    // Primary first, then the SYSCALL, then the other records that are not auxiliary:
    // the first occurrence of a key wins everywhere.
    // Sized for a SYSCALL record (a dozen data fields): no regrowth.
    let full = detail == Detail::Full;
    if full {
        ev.data = Pairs::with_capacity(24);
    }
    collect(&mut ev, primary, syscall_name, resolver, full);
    if let Some(s) = syscall.filter(|s| !std::ptr::eq(*s, primary)) {
        collect(&mut ev, s, syscall_name, resolver, full);
    }
    for r in records {
        if !std::ptr::eq(r, primary) && !is_auxiliary(r.record_type()) {
            collect(&mut ev, r, syscall_name, resolver, full);
        }
    }
    process_records(&mut ev, &parts, full);
    objects::summarize(&mut ev, &parts, resolver);
    if full {
        ecs::categorize(&mut ev, &parts, resolver);
    }
    ev
}

/// Distributes one record's fields. `syscall_name` is the event's syscall, named once.
///
/// One pass: auditd writes the ENRICHED translations after the raw fields, so by the
/// time `UID="alice"` comes by, `uid` is in `user.ids` and gets its name. Fields that
/// would only go to `data` are passed over unless `data` is wanted.
fn collect<'a>(
    ev: &mut CoalescedEvent<'a>,
    record: &'a Record,
    syscall_name: Option<&'a str>,
    resolver: &dyn NameResolver,
    data: bool,
) {
    // The raw values of the ids this record contributed, and which got a name.
    let mut mine: [Option<&'a str>; ID_KEYS.len()] = [None; ID_KEYS.len()];
    let mut named = 0u32;
    for field in record.fields() {
        if field.origin == Origin::Enriched {
            if let Some(i) = enriched_id(field.key) {
                if mine[i].is_some() && usable_name(field.value) {
                    ev.user.names.insert_at(i, field.value);
                    named |= 1 << i;
                }
            }
            continue;
        }
        match role(field.key) {
            Role::Id(i) => {
                if ev.user.ids.insert_at(i, id_text(field.value)) {
                    mine[i] = Some(field.value);
                }
            }
            Role::Pid => ev.process.pid = ev.process.pid.or(Some(field.value)),
            Role::Ppid => ev.process.ppid = ev.process.ppid.or(Some(field.value)),
            Role::Comm => {
                if ev.process.name.is_none() {
                    ev.process.name = fields::text(&field);
                }
            }
            Role::Exe => {
                if ev.process.exe.is_none() {
                    ev.process.exe = fields::text(&field);
                }
            }
            Role::Cwd => {
                if ev.process.cwd.is_none() {
                    ev.process.cwd = fields::text(&field);
                }
            }
            Role::Session => {
                if ev.session.is_none() && !field.is_absent() {
                    ev.session = Some(id_text(field.value));
                }
            }
            Role::Keys => fields::push_keys(&field, &mut ev.tags),
            Role::Subject => {
                if ev.user.selinux.is_none() && !field.is_absent() {
                    ev.user.selinux = Some(fields::selinux(field.value));
                }
            }
            Role::Result => {
                if ev.result == Default::default() {
                    ev.result = fields::outcome(field.value);
                }
            }
            Role::Skip => {}
            Role::Data if !data => {}
            Role::Data => {
                let value = match field.key {
                    "arch" => Arch::from_field(field.value).map(|a| Cow::Borrowed(a.name())),
                    "syscall" if record.record_type() == RecordType::SYSCALL => {
                        syscall_name.map(Cow::Borrowed)
                    }
                    "syscall" => name_of_syscall(record).map(Cow::Borrowed),
                    "exit" => Some(exit_text(field.value)),
                    _ => None,
                };
                if let Some(value) = value.or_else(|| fields::text(&field)) {
                    ev.data.insert(field.key, value);
                }
            }
        }
    }
    for (i, raw) in mine.iter().enumerate() {
        if let Some(raw) = raw.filter(|_| named & (1 << i) == 0) {
            let (_, _, group) = ID_KEYS[i];
            if let Some(name) = resolve(raw, group, resolver) {
                ev.user.names.insert_at(i, name);
            }
        }
    }
}

/// CWD, PROCTITLE, EXECVE and PATH records (the title and paths only when `full`).
fn process_records<'a>(ev: &mut CoalescedEvent<'a>, parts: &Parts<'a>, full: bool) {
    if let Some(cwd) = parts.first(RecordType::CWD).and_then(|r| r.get("cwd")) {
        if let Some(text) = fields::text(&cwd) {
            ev.process.cwd = Some(text);
        }
    }
    if let Some(title) = parts
        .first(RecordType::PROCTITLE)
        .and_then(|r| r.get("proctitle"))
        .filter(|_| full)
    {
        ev.process.title = fields::title(&title);
    }
    if parts.first(RecordType::EXECVE).is_some() {
        match crate::interpret::execve_args(Parts::of(RecordType::EXECVE, parts.records)) {
            Ok(args) => ev.process.args = args,
            Err(crate::interpret::ExecveError::Incomplete { args, reason }) => {
                ev.process.args = args;
                ev.warnings.push(format!("execve arguments: {reason}"));
            }
        }
    }
    if full {
        ev.paths = parts.paths().map(PathRecord).collect();
    }
}
