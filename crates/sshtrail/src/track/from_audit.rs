//! One reassembled audit event → the [`AuditFact`] the tracker works with.

use super::facts::{AuditFact, AuditRole};
use super::redact::Redactor;
use sshtrail_audit::coalesce::{coalesce_summary, CoalescedEvent, Outcome as AuditOutcome};
use sshtrail_audit::interpret::{uid_name, NameResolver};
use sshtrail_audit::record::Origin;
use sshtrail_audit::{Record, RecordClass, RecordType};
use sshtrail_event::{ActionDetail, Object, Outcome};
use std::borrow::Cow;

/// The kernel's "no session" / "no login uid".
const UNSET: u32 = u32::MAX;

pub fn audit_fact(records: &[Record], resolver: &dyn NameResolver) -> AuditFact {
    let login = records
        .iter()
        .find(|r| r.record_type() == RecordType::LOGIN);
    // The session and login uid are on the LOGIN record, else on the first record that
    // has a session (the SYSCALL, or a PAM message): looked up in one pass over it.
    let carrier = login.or_else(|| records.iter().find(|r| r.value("ses").is_some()));
    let (ses, auid) = carrier.map_or((None, None), ses_and_auid);
    let ses = ses
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|ses| *ses != UNSET);
    if ses.is_none() {
        // Outside any login session: the tracker ignores it, so skip coalescing it.
        let first = records.first();
        return AuditFact {
            time_ms: first.map(Record::timestamp).unwrap_or_default().as_millis(),
            node: first.and_then(Record::node).map(str::to_string),
            ses: None,
            role: AuditRole::Action,
            auid_name: None,
            addr: None,
            outcome: Outcome::Succeeded,
            exit: None,
            detail: ActionDetail {
                sequence: first.map_or(0, Record::serial),
                ..ActionDetail::default()
            },
        };
    }
    // Only the summary, process, user and result are used: data, paths, title and ecs
    // are left out (a third of the cost of coalescing).
    let mut event = coalesce_summary(records, resolver);
    let record_pid = |r: &Record| r.value("pid").and_then(|v| v.parse::<u32>().ok());
    let role = if let Some(login) = login {
        AuditRole::SessionStart {
            pid: record_pid(login).unwrap_or(0),
            // `carrier` is the LOGIN record here.
            auid: auid.and_then(|v| v.parse().ok()).unwrap_or(UNSET),
            exe: event.process.exe.as_deref().map(str::to_string),
        }
    } else if let Some(end) = records.iter().find(|r| {
        r.record_type() == RecordType::USER_END || r.record_type() == RecordType::CRED_DISP
    }) {
        AuditRole::SessionEnd {
            pid: record_pid(end).unwrap_or(0),
        }
    } else {
        AuditRole::Action
    };
    let auid_name = records
        .iter()
        .find(|r| r.value("auid").is_some())
        .and_then(|r| uid_name(r, "auid", resolver))
        .filter(|name| name != "unset");
    // `addr=` is a field of user-space messages (PAM's): kernel records are not searched.
    let addr = records
        .iter()
        .filter(|r| {
            matches!(
                r.record_type().class(),
                RecordClass::UserSpace | RecordClass::Daemon
            )
        })
        .filter_map(|r| r.get("addr"))
        .find(|f| !f.is_absent())
        .map(|f| f.value.to_string());
    let outcome = match event.result {
        AuditOutcome::Failure => Outcome::Failed,
        AuditOutcome::Success | AuditOutcome::Unknown => Outcome::Succeeded,
    };
    let exit = records
        .iter()
        .find(|r| r.record_type() == RecordType::SYSCALL)
        .and_then(|r| r.value("exit"))
        .and_then(|v| v.parse::<i64>().ok());
    AuditFact {
        time_ms: event.timestamp.as_millis(),
        node: event.node.map(str::to_string),
        ses,
        role,
        auid_name,
        addr,
        outcome,
        exit,
        detail: action_detail(&mut event),
    }
}

/// The raw `ses=` and `auid=` of one record (the first of each, as [`Record::value`]
/// finds them), in one pass.
fn ses_and_auid(record: &Record) -> (Option<&str>, Option<&str>) {
    let (mut ses, mut auid) = (None, None);
    for field in record.fields().filter(|f| f.origin != Origin::Enriched) {
        match field.key {
            "ses" if ses.is_none() => ses = Some(field.value),
            "auid" if auid.is_none() => auid = Some(field.value),
            _ => continue,
        }
        if ses.is_some() && auid.is_some() {
            break;
        }
    }
    (ses, auid)
}

/// What the `UserAction` says: what was done, how, to what, by which process. The
/// command line is moved out of the coalesced event, not copied.
fn action_detail(event: &mut CoalescedEvent<'_>) -> ActionDetail {
    let text = |v: &Option<Cow<'_, str>>| v.as_deref().unwrap_or("").to_string();
    let name = |key: &str| {
        event
            .user
            .names
            .get(key)
            .or_else(|| event.user.ids.get(key))
            .map(str::to_string)
    };
    let record_type = match event.record_type.name() {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(event.record_type.to_string()),
    };
    ActionDetail {
        action: Cow::Borrowed(event.summary.action.unwrap_or("unknown")),
        how: text(&event.summary.how),
        object: Object {
            kind: Cow::Borrowed(event.summary.object.kind.unwrap_or("")),
            primary: text(&event.summary.object.primary),
            secondary: text(&event.summary.object.secondary),
        },
        uid: name("uid"),
        euid: name("euid"),
        pid: event.process.pid.map(str::to_string),
        ppid: event.process.ppid.map(str::to_string),
        exe: event.process.exe.as_deref().map(str::to_string),
        cwd: event.process.cwd.as_deref().map(str::to_string),
        keys: event.tags.iter().map(|t| t.to_string()).collect(),
        record_type,
        sequence: event.sequence,
        args: std::mem::take(&mut event.process.args),
        ..ActionDetail::default()
    }
}

/// Masks secrets in the fact's command line; marks the fact `redacted` when any was.
pub fn redact_fact(fact: &mut AuditFact, redactor: &Redactor) {
    if redactor.redact(&mut fact.detail.args) {
        fact.detail.redacted = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact_with_args(args: &[&str]) -> AuditFact {
        AuditFact {
            time_ms: 0,
            node: None,
            ses: Some(1),
            role: AuditRole::Action,
            auid_name: None,
            addr: None,
            outcome: Outcome::Succeeded,
            exit: None,
            detail: ActionDetail {
                action: "executed".into(),
                args: args.iter().map(|a| a.to_string()).collect(),
                ..ActionDetail::default()
            },
        }
    }

    #[test]
    fn redact_fact_masks_and_marks() {
        let mut fact = fact_with_args(&["mysql", "--password=hunter2", "-u", "root"]);
        redact_fact(&mut fact, &Redactor::default());
        assert_eq!(fact.detail.args, ["mysql", "--password=***", "-u", "root"]);
        assert!(fact.detail.redacted);
    }

    #[test]
    fn redact_fact_leaves_clean_arguments_as_they_were() {
        let mut fact = fact_with_args(&["ls", "-l", "/tmp"]);
        let before = fact.clone();
        redact_fact(&mut fact, &Redactor::default());
        assert_eq!(fact, before);
        assert!(!fact.detail.redacted);
    }
}
