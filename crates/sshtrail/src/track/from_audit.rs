//! One reassembled audit event → the [`AuditFact`] the tracker works with.

use super::build::rfc3339;
use super::facts::{AuditFact, AuditRole};
use super::redact::Redactor;
use serde_json::{Map, Value};
use sshtrail_audit::coalesce::{coalesce_summary, CoalescedEvent, Outcome as AuditOutcome};
use sshtrail_audit::interpret::{uid_name, NameResolver};
use sshtrail_audit::record::Origin;
use sshtrail_audit::{Record, RecordClass, RecordType};
use sshtrail_event::Outcome;

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
    // Only the summary, process, user and result are used: data, paths, title and ecs
    // are left out (a third of the cost of coalescing).
    let event = coalesce_summary(records, resolver);
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

/// `metadata.extra` of a UserAction: what was done, how, to what, by which process.
///
/// The entries are listed in key order and collected at once: a map built from sorted
/// entries is bulk-loaded with one comparison per entry (a key never repeats here), not
/// sorted, searched and rebalanced.
fn action_extra(event: &CoalescedEvent<'_>) -> Map<String, Value> {
    let text = |v: &Option<std::borrow::Cow<'_, str>>| {
        Value::String(v.as_deref().unwrap_or("").to_string())
    };
    let object: Map<String, Value> = [
        ("primary", text(&event.summary.object.primary)),
        ("secondary", text(&event.summary.object.secondary)),
        ("type", Value::from(event.summary.object.kind.unwrap_or(""))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let strings = |items: &mut dyn Iterator<Item = &str>| {
        Value::Array(items.map(|s| Value::String(s.to_string())).collect())
    };
    let name = |key: &str| {
        event
            .user
            .names
            .get(key)
            .or_else(|| event.user.ids.get(key))
    };
    let record_type = match event.record_type.name() {
        Some(name) => name.to_string(),
        None => event.record_type.to_string(),
    };
    let optional = |key: &'static str, value: Option<&str>| value.map(|v| (key, Value::from(v)));
    let entries = [
        Some((
            "action",
            Value::from(event.summary.action.unwrap_or("unknown")),
        )),
        optional("cwd", event.process.cwd.as_deref()),
        optional("euid", name("euid")),
        optional("exe", event.process.exe.as_deref()),
        Some(("how", text(&event.summary.how))),
        Some(("keys", strings(&mut event.tags.iter().map(|t| t.as_ref())))),
        Some(("object", Value::Object(object))),
        optional("pid", event.process.pid),
        optional("ppid", event.process.ppid),
        Some((
            "process_args",
            strings(&mut event.process.args.iter().map(String::as_str)),
        )),
        Some(("record_type", Value::String(record_type))),
        Some(("sequence", Value::from(event.sequence))),
        optional("uid", name("uid")),
    ];
    debug_assert!(entries.iter().flatten().map(|(k, _)| k).is_sorted());
    entries
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// Masks secrets in the fact's `process_args`; marks the fact `redacted` when any was.
pub fn redact_fact(fact: &mut AuditFact, redactor: &Redactor) {
    let Some(Value::Array(args)) = fact.extra.get_mut("process_args") else {
        return;
    };
    // The arguments are moved out and back rather than copied: nearly every command
    // line has nothing to mask.
    let mut strings: Vec<String> = args
        .iter_mut()
        .map(|a| match a {
            Value::String(s) => std::mem::take(s),
            _ => String::new(),
        })
        .collect();
    if redactor.redact(&mut strings) {
        *args = strings.into_iter().map(Value::String).collect();
        fact.extra.insert("redacted".into(), true.into());
    } else {
        for (slot, s) in args.iter_mut().zip(strings) {
            if let Value::String(slot) = slot {
                *slot = s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fact_with_args(args: Value) -> AuditFact {
        let mut extra = Map::new();
        extra.insert("action".into(), "executed".into());
        extra.insert("process_args".into(), args);
        AuditFact {
            time_ms: 0,
            logged_at: String::new(),
            node: None,
            sequence: 1,
            ses: Some(1),
            role: AuditRole::Action,
            auid_name: None,
            addr: None,
            outcome: Outcome::Succeeded,
            extra,
        }
    }

    #[test]
    fn redact_fact_masks_and_marks() {
        let mut fact = fact_with_args(json!(["mysql", "--password=hunter2", "-u", "root"]));
        redact_fact(&mut fact, &Redactor::default());
        assert_eq!(
            fact.extra["process_args"],
            json!(["mysql", "--password=***", "-u", "root"])
        );
        assert_eq!(fact.extra["redacted"], json!(true));
    }

    #[test]
    fn redact_fact_leaves_clean_arguments_as_they_were() {
        // A non-string element (never written by audit_fact) is kept as it is too.
        let args = json!(["ls", "-l", 7, "/tmp"]);
        let mut fact = fact_with_args(args.clone());
        let before = fact.extra.clone();
        redact_fact(&mut fact, &Redactor::default());
        assert_eq!(fact.extra, before);
        assert_eq!(fact.extra["process_args"], args);
    }
}
