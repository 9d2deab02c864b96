//! From output events to session log messages and metadata.
//!
//! The event stream is what the recorder sees, so the log says the same as the events
//! did: account, identity, source and every action, with the same names.

use sshtrail_event::{AuditEvent, Outcome};
use sshtrail_sessionlog::{Action, Login, Message};
use sshtrail_sessionstore::SessionMeta;
use std::collections::BTreeMap;

/// Milliseconds since the epoch of an RFC 3339 time as the events write it
/// (`2026-11-23T10:51:40.841Z`); 0 when it is not one.
pub fn time_ms(text: &str) -> u64 {
    sshtrail_sshd::time::parse_rfc3339_prefix(text)
        .filter(|(_, used)| *used == text.len())
        .and_then(|(at, _)| {
            let seconds = u64::try_from(at.unix_seconds()).ok()?;
            Some(seconds * 1000 + u64::from(at.subsec_micros() / 1000))
        })
        .unwrap_or(0)
}

fn subject(event: &AuditEvent, key: &str) -> String {
    event.subjects.get(key).cloned().unwrap_or_default()
}

fn port(event: &AuditEvent) -> Option<u16> {
    event.source.extra.get("port").and_then(|p| p.parse().ok())
}

fn text_of(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Flattens a JSON object into `key` → text, nested objects as `outer.inner`.
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&key, inner, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), text_of(other));
        }
    }
}

pub fn login_message(event: &AuditEvent) -> Message {
    let mut details = BTreeMap::new();
    if let Some(data) = &event.data {
        flatten("", data, &mut details);
    }
    let method = details.remove("method").unwrap_or_default();
    let correlation = event
        .metadata
        .extra
        .get("correlation")
        .and_then(|c| c.as_str())
        .unwrap_or("");
    Message::Login(Login {
        user: subject(event, "loggedAs"),
        user_id: subject(event, "userID"),
        method,
        source_ip: event.source.value.clone(),
        source_port: port(event),
        pid: event.subjects.get("pid").and_then(|p| p.parse().ok()),
        audit_session: (correlation == "joined").then(|| event.metadata.audit_id.clone()),
        details,
    })
}

/// An action, or for the kernel's TTY records (pam_tty_audit) the keystrokes.
pub fn message_for_action(event: &AuditEvent) -> Message {
    let extra = &event.metadata.extra;
    let field = |key: &str| extra.get(key).map(text_of).unwrap_or_default();
    let strings = |key: &str| -> Vec<String> {
        match extra.get(key) {
            Some(serde_json::Value::Array(items)) => items.iter().map(text_of).collect(),
            _ => Vec::new(),
        }
    };
    let object = extra.get("object");
    let object_field = |key: &str| {
        object
            .and_then(|o| o.get(key))
            .map(text_of)
            .unwrap_or_default()
    };
    let record_type = field("record_type");
    if matches!(record_type.as_str(), "TTY" | "USER_TTY") {
        return Message::TtyInput {
            pid: field("pid"),
            data: object_field("primary").into_bytes(),
        };
    }
    const TYPED: [&str; 12] = [
        "action",
        "record_type",
        "sequence",
        "pid",
        "ppid",
        "uid",
        "euid",
        "exe",
        "cwd",
        "process_args",
        "object",
        "keys",
    ];
    let mut details = BTreeMap::new();
    for (key, value) in extra {
        if !TYPED.contains(&key.as_str()) {
            flatten(key, value, &mut details);
        }
    }
    Message::Action(Action {
        action: field("action"),
        succeeded: event.outcome == Outcome::Succeeded,
        record_type,
        sequence: extra.get("sequence").and_then(|s| s.as_u64()),
        pid: field("pid"),
        ppid: field("ppid"),
        uid: field("uid"),
        euid: field("euid"),
        exe: field("exe"),
        cwd: field("cwd"),
        argv: strings("process_args"),
        object_type: object_field("type"),
        object_primary: object_field("primary"),
        object_secondary: object_field("secondary"),
        keys: strings("keys"),
        details,
    })
}

pub fn logout_message(event: &AuditEvent, start_ms: u64, end_ms: u64) -> Message {
    let reason = event
        .data
        .as_ref()
        .and_then(|d| d.get("reason"))
        .map(text_of)
        .unwrap_or_default();
    Message::Logout {
        reason,
        duration_ms: end_ms.saturating_sub(start_ms),
    }
}

/// The session's metadata as first known, from its login (or its first action when the
/// login was never seen).
pub fn meta_from_login(id: &str, boot_id: &str, audit_id: &str, event: &AuditEvent) -> SessionMeta {
    let mut geo = BTreeMap::new();
    if let Some(found) = event.data.as_ref().and_then(|d| d.get("geo")) {
        flatten("", found, &mut geo);
    }
    let mut extra = BTreeMap::from([
        ("audit_id".to_string(), audit_id.to_string()),
        ("boot_id".to_string(), boot_id.to_string()),
        ("user_id".to_string(), subject(event, "userID")),
    ]);
    if let Some(method) = event.data.as_ref().and_then(|d| d.get("method")) {
        extra.insert("method".into(), text_of(method));
    }
    if let Some(correlation) = event.metadata.extra.get("correlation") {
        extra.insert("correlation".into(), text_of(correlation));
    }
    SessionMeta {
        id: id.to_string(),
        user: subject(event, "loggedAs"),
        source: event.source.value.clone(),
        source_port: port(event),
        host: event.target.get("host").cloned().unwrap_or_default(),
        machine_id: event.target.get("machine-id").cloned().unwrap_or_default(),
        start: event.logged_at.clone(),
        geo,
        extra,
        ..SessionMeta::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::build::{user_action, Identity};
    use crate::track::from_audit::audit_fact;
    use sshtrail_audit::interpret::NoNames;

    /// What the tracker makes of one real record (USER_TTY lines of go-libaudit's RHEL 7
    /// capture, as pam_tty_audit writes them: plain and hex-encoded keystrokes).
    fn action_of(line: &str) -> Message {
        let record = sshtrail_audit::parse_line(line.as_bytes()).expect("a record");
        let fact = audit_fact(&[record], &NoNames);
        let identity = Identity::from_audit(Some("andrew"), Some("10.0.0.1"));
        let event = user_action(
            &sshtrail_event::Host::default(),
            &identity,
            762,
            fact,
            "joined",
        );
        message_for_action(&event)
    }

    #[test]
    fn keystrokes_of_pam_tty_audit_become_tty_input() {
        let plain = "type=USER_TTY msg=audit(1491922671.974:1065045): pid=28202 uid=0 auid=1000 ses=762 subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 data=\"exit\"";
        assert_eq!(
            action_of(plain),
            Message::TtyInput {
                pid: "28202".into(),
                data: b"exit".to_vec()
            }
        );
        let hex = "type=USER_TTY msg=audit(1491922681.082:1065050): pid=28058 uid=0 auid=1000 ses=762 subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 data=7375202D20616E647265775F6B726F68";
        assert_eq!(
            action_of(hex),
            Message::TtyInput {
                pid: "28058".into(),
                data: b"su - andrew_kroh".to_vec()
            }
        );
    }

    /// Fabricated records in the shape of a real exec (the real captures are exercised
    /// end to end by `tests/sessions_replay.rs`): every typed field lands where it belongs.
    #[test]
    fn an_exec_keeps_its_command_line_and_identity() {
        let records = [
            r#"type=SYSCALL msg=audit(1700000000.100:77): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=100 pid=101 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=5 comm="ls" exe="/usr/bin/ls" key="cmds""#,
            r#"type=EXECVE msg=audit(1700000000.100:77): argc=2 a0="ls" a1="/tmp""#,
            r#"type=CWD msg=audit(1700000000.100:77): cwd="/home/alice""#,
        ];
        let records: Vec<_> = records
            .iter()
            .map(|l| sshtrail_audit::parse_line(l.as_bytes()).expect("a record"))
            .collect();
        let fact = audit_fact(&records, &NoNames);
        let identity = Identity::from_audit(Some("alice"), None);
        let event = user_action(
            &sshtrail_event::Host::default(),
            &identity,
            5,
            fact,
            "joined",
        );
        let Message::Action(action) = message_for_action(&event) else {
            panic!("an action");
        };
        assert_eq!(action.argv, ["ls", "/tmp"]);
        assert_eq!(action.exe, "/usr/bin/ls");
        assert_eq!(action.cwd, "/home/alice");
        assert_eq!(action.keys, ["cmds"]);
        assert_eq!(action.sequence, Some(77));
        assert_eq!(action.action, "executed");
        assert!(action.succeeded);
        assert_eq!(
            action.details.get("correlation").map(String::as_str),
            Some("joined")
        );
    }

    #[test]
    fn reads_the_event_times_back() {
        assert_eq!(time_ms("1970-01-01T00:00:00.000Z"), 0);
        assert_eq!(time_ms("2026-11-23T11:32:55.723Z"), 1_795_433_575_723);
        assert_eq!(time_ms("2000-02-29T00:00:01Z"), 951_782_401_000);
        assert_eq!(time_ms("not a time at all!!"), 0);
        assert_eq!(time_ms("2026-13-23T11:32:55.723Z"), 0);
    }
}
