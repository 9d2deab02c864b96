//! One reassembled audit event → the [`AuditFact`] the tracker works with.

use super::build::rfc3339;
use super::facts::{AuditFact, AuditRole};
use super::redact::Redactor;
use serde_json::{json, Map, Value};
use sshtrail_audit::coalesce::{coalesce, CoalescedEvent, Outcome as AuditOutcome};
use sshtrail_audit::interpret::{uid_name, NameResolver};
use sshtrail_audit::{Record, RecordType};
use sshtrail_event::Outcome;

/// The kernel's "no session" / "no login uid".
const UNSET: u32 = u32::MAX;

pub fn audit_fact(records: &[Record], resolver: &dyn NameResolver) -> AuditFact {
    let login = records
        .iter()
        .find(|r| r.record_type() == RecordType::LOGIN);
    let ses = login
        .or_else(|| records.iter().find(|r| r.value("ses").is_some()))
        .and_then(|r| r.value("ses"))
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|ses| *ses != UNSET);
    if ses.is_none() {
        // Outside any login session: the tracker ignores it, so skip coalescing it.
        let timestamp = records.first().map(Record::timestamp).unwrap_or_default();
        return AuditFact {
            time_ms: timestamp.as_millis(),
            logged_at: rfc3339(timestamp.as_millis()),
            node: records.first().and_then(Record::node).map(str::to_string),
            sequence: records.first().map_or(0, Record::serial),
            ses: None,
            role: AuditRole::Action,
            auid_name: None,
            addr: None,
            outcome: Outcome::Succeeded,
            extra: Map::new(),
        };
    }
    let event = coalesce(records, resolver);
    let record_pid = |r: &Record| r.value("pid").and_then(|v| v.parse::<u32>().ok());
    let role = if let Some(login) = login {
        AuditRole::SessionStart {
            pid: record_pid(login).unwrap_or(0),
            auid: login
                .value("auid")
                .and_then(|v| v.parse().ok())
                .unwrap_or(UNSET),
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
    let addr = records
        .iter()
        .filter_map(|r| r.get("addr"))
        .find(|f| !f.is_absent())
        .map(|f| f.value.to_string());
    let outcome = match event.result {
        AuditOutcome::Failure => Outcome::Failed,
        AuditOutcome::Success | AuditOutcome::Unknown => Outcome::Succeeded,
    };
    let timestamp = event.timestamp;
    AuditFact {
        time_ms: timestamp.as_millis(),
        logged_at: rfc3339(timestamp.as_millis()),
        node: event.node.map(str::to_string),
        sequence: event.sequence,
        ses,
        role,
        auid_name,
        addr,
        outcome,
        extra: action_extra(&event),
    }
}

/// `metadata.extra` of a UserAction: what was done, how, to what, by which process.
fn action_extra(event: &CoalescedEvent<'_>) -> Map<String, Value> {
    let mut extra = Map::new();
    let text = |v: &Option<std::borrow::Cow<'_, str>>| v.as_deref().unwrap_or("").to_string();
    extra.insert(
        "action".into(),
        event.summary.action.unwrap_or("unknown").into(),
    );
    extra.insert("how".into(), text(&event.summary.how).into());
    extra.insert(
        "object".into(),
        json!({
            "type": event.summary.object.kind.unwrap_or(""),
            "primary": text(&event.summary.object.primary),
            "secondary": text(&event.summary.object.secondary),
        }),
    );
    extra.insert("process_args".into(), json!(event.process.args));
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(value) = value {
            extra.insert(key.into(), value.into());
        }
    };
    put("pid", event.process.pid);
    put("ppid", event.process.ppid);
    put("exe", event.process.exe.as_deref());
    put("cwd", event.process.cwd.as_deref());
    let name = |key: &str| {
        event
            .user
            .names
            .get(key)
            .or_else(|| event.user.ids.get(key))
    };
    put("uid", name("uid"));
    put("euid", name("euid"));
    extra.insert(
        "keys".into(),
        json!(event.tags.iter().map(|t| t.as_ref()).collect::<Vec<_>>()),
    );
    extra.insert("sequence".into(), event.sequence.into());
    extra.insert("record_type".into(), event.record_type.to_string().into());
    extra
}

/// Masks secrets in the fact's `process_args`; marks the fact `redacted` when any was.
pub fn redact_fact(fact: &mut AuditFact, redactor: &Redactor) {
    let Some(Value::Array(args)) = fact.extra.get("process_args") else {
        return;
    };
    let mut strings: Vec<String> = args
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect();
    if redactor.redact(&mut strings) {
        fact.extra.insert("process_args".into(), json!(strings));
        fact.extra.insert("redacted".into(), true.into());
    }
}
