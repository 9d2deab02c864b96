//! Records of one event → one [`CoalescedEvent`].
//!
//! The event's *primary* record is the first one that is not a syscall auxiliary
//! (SYSCALL, PATH, CWD, EXECVE, PROCTITLE, SOCKADDR, …): an AVC, LOGIN, ANOM_* or
//! TIME_* record explains why the event was logged better than the syscall that carried
//! it. Without one, the SYSCALL is primary; without a SYSCALL, the first record is, so
//! AVC-only, EXECVE-only and user-space events coalesce like any other.

use crate::coalesce::event::{CoalescedEvent, Pairs};
use crate::coalesce::fields::{self, id_name, id_text, is_own, role, Role};
use crate::coalesce::vocabulary::{self, RecordVocab, SyscallVocab, APPARMOR_AVC};
use crate::coalesce::{ecs, objects};
use crate::interpret::{exit_text, syscall_name, Arch, NameResolver};
use crate::record::Record;
use crate::record_type::{RecordClass, RecordType};
use std::borrow::Cow;

/// Record types that only add detail to the event of a syscall.
const AUXILIARY: &[u16] = &[
    1300, // SYSCALL
    1302, // PATH
    1303, // IPC
    1304, // SOCKETCALL
    1306, // SOCKADDR
    1307, // CWD
    1309, // EXECVE
    1311, // IPC_SET_PERM
    1312, 1313, 1314, 1315, // MQ_*
    1317, // FD_PAIR
    1318, // OBJ_PID
    1320, // EOE
    1321, // BPRM_FCAPS
    1322, // CAPSET
    1323, // MMAP
    1327, // PROCTITLE
    1336, // URINGOP
    1337, // OPENAT2
    1402, // AVC_PATH
];

pub(crate) fn is_auxiliary(rt: RecordType) -> bool {
    AUXILIARY.contains(&rt.0)
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

pub(crate) fn build<'a>(records: &'a [Record], resolver: &dyn NameResolver) -> CoalescedEvent<'a> {
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
    collect(&mut ev, primary, resolver);
    if let Some(s) = syscall.filter(|s| !std::ptr::eq(*s, primary)) {
        collect(&mut ev, s, resolver);
    }
    for r in records {
        if !std::ptr::eq(r, primary) && !is_auxiliary(r.record_type()) {
            collect(&mut ev, r, resolver);
        }
    }
    process_records(&mut ev, &parts);
    objects::summarize(&mut ev, &parts, resolver);
    ecs::categorize(&mut ev, &parts, resolver);
    ev
}

/// Distributes one record's fields.
fn collect<'a>(ev: &mut CoalescedEvent<'a>, record: &'a Record, resolver: &dyn NameResolver) {
    let arch = record.value("arch").and_then(Arch::from_field);
    for field in record.fields().filter(is_own) {
        match role(field.key) {
            r @ (Role::UserId | Role::GroupId) => {
                if ev.user.ids.insert(field.key, id_text(field.value)) {
                    if let Some(name) = id_name(record, field.key, r == Role::GroupId, resolver) {
                        ev.user.names.insert(field.key, name);
                    }
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
            Role::Data => {
                let value = match field.key {
                    "arch" => arch.map(|a| Cow::Borrowed(a.name())),
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
}

/// CWD, PROCTITLE, EXECVE and PATH records.
fn process_records<'a>(ev: &mut CoalescedEvent<'a>, parts: &Parts<'a>) {
    if let Some(cwd) = parts.first(RecordType::CWD).and_then(|r| r.get("cwd")) {
        if let Some(text) = fields::text(&cwd) {
            ev.process.cwd = Some(text);
        }
    }
    if let Some(title) = parts
        .first(RecordType::PROCTITLE)
        .and_then(|r| r.get("proctitle"))
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
    for path in parts.paths() {
        let mut pairs = Pairs::default();
        for field in path.fields().filter(is_own) {
            if let Some(value) = fields::text(&field) {
                pairs.insert(field.key, value);
            }
        }
        ev.paths.push(pairs);
    }
}
