//! The auditevent JSON rendering of the typed events: one object per event, written
//! directly into a buffer.
//!
//! The bytes are those metal-toolbox's auditevent consumers have always read from
//! sshtrail: top-level keys in auditevent's order, the keys of `subjects`, `target`,
//! `metadata.extra` and `data` in sorted order (what a JSON map of them gave), strings
//! escaped as `serde_json` escapes them, floats in `serde_json`'s shortest form. Nothing
//! is built as a map first: each kind writes its own fields.

use crate::id::EventId;
use crate::model::{
    Action, Actor, Event, Geo, Host, Login, LoginFailed, Logout, Lost, Origin, Outcome, Peer,
    SystemAction, SystemKind,
};
use sshtrail_fmt::decimal::unsigned;
use sshtrail_fmt::json::string;
use sshtrail_fmt::time::rfc3339_millis;

/// Appends `event` as one JSON object (no newline).
///
/// `id` is the event's `metadata.eventId` ([`crate::id`]); `None` leaves the key out.
pub(crate) fn write_event(event: &Event, host: &Host, id: Option<&EventId>, out: &mut Vec<u8>) {
    match event {
        Event::Login(login) => write_login(login, host, id, out),
        Event::LoginFailed(failed) => write_failed(failed, host, id, out),
        Event::Action(action) => write_action(action, host, id, out),
        Event::Logout(logout) => write_logout(logout, host, id, out),
        Event::System(system) => write_system(system, host, id, out),
    }
}

/// `{"metadata":{"auditId":…,"eventId":…` up to where `extra` may follow.
fn open(out: &mut Vec<u8>, audit_id: &str, id: Option<&EventId>) {
    out.extend_from_slice(b"{\"metadata\":{\"auditId\":");
    string(out, audit_id);
    if let Some(id) = id {
        out.extend_from_slice(b",\"eventId\":\"");
        out.extend_from_slice(&id.hex());
        out.push(b'"');
    }
}

/// Closes `metadata` and writes `type`, `loggedAt` and the opening of `source`.
fn head(out: &mut Vec<u8>, kind: &str, time_ms: u64) {
    out.extend_from_slice(b"},\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"loggedAt\":\"");
    rfc3339_millis(out, time_ms / 1000, (time_ms % 1000) as u32);
    out.extend_from_slice(b"\",\"source\":");
}

fn source(out: &mut Vec<u8>, peer: &Peer) {
    out.extend_from_slice(b"{\"type\":\"IP\",\"value\":");
    string(out, &peer.address);
    if let Some(port) = peer.port {
        out.extend_from_slice(b",\"extra\":{\"port\":\"");
        unsigned(out, u64::from(port));
        out.extend_from_slice(b"\"}");
    }
    out.push(b'}');
}

fn outcome(out: &mut Vec<u8>, outcome: Outcome) {
    out.extend_from_slice(match outcome {
        Outcome::Succeeded => b",\"outcome\":\"succeeded\"",
        Outcome::Failed => b",\"outcome\":\"failed\"",
    });
}

/// `subjects` in key order: `loggedAs`, `pid`, `userID`.
fn subjects(out: &mut Vec<u8>, logged_as: &str, pid: Option<u32>, user_id: Option<&str>) {
    out.extend_from_slice(b",\"subjects\":{\"loggedAs\":");
    string(out, logged_as);
    if let Some(pid) = pid {
        out.extend_from_slice(b",\"pid\":\"");
        unsigned(out, u64::from(pid));
        out.push(b'"');
    }
    if let Some(user_id) = user_id {
        out.extend_from_slice(b",\"userID\":");
        string(out, user_id);
    }
    out.push(b'}');
}

fn actor(out: &mut Vec<u8>, actor: &Actor, outcome_of: Outcome) {
    source(out, &actor.source);
    outcome(out, outcome_of);
    subjects(out, &actor.logged_as, actor.pid, Some(&actor.user_id));
}

/// `component`, `target` and, when `data` follows, the key that opens it.
fn tail(out: &mut Vec<u8>, component: &str, host: &Host) {
    out.extend_from_slice(b",\"component\":\"");
    out.extend_from_slice(component.as_bytes());
    out.extend_from_slice(b"\",\"target\":{\"host\":");
    string(out, &host.name);
    out.extend_from_slice(b",\"machine-id\":");
    string(out, &host.machine_id);
    out.push(b'}');
}

/// A JSON object of the fields given, written in key order.
fn data(out: &mut Vec<u8>, mut fields: Vec<(&str, Field<'_>)>) {
    fields.sort_by(|a, b| a.0.cmp(b.0));
    out.extend_from_slice(b",\"data\":");
    object(out, &fields);
}

fn object(out: &mut Vec<u8>, fields: &[(&str, Field<'_>)]) {
    out.push(b'{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, key);
        out.push(b':');
        value.write(out);
    }
    out.push(b'}');
}

/// A value inside `data`.
enum Field<'a> {
    Str(&'a str),
    Owned(String),
    U64(u64),
    F64(f64),
    Bool(bool),
    Strs(&'a [String]),
    Geo(&'a Geo),
}

impl Field<'_> {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Field::Str(s) => string(out, s),
            Field::Owned(s) => string(out, s),
            Field::U64(n) => unsigned(out, *n),
            Field::F64(f) => float(out, *f),
            Field::Bool(true) => out.extend_from_slice(b"true"),
            Field::Bool(false) => out.extend_from_slice(b"false"),
            Field::Strs(items) => strings(out, items),
            Field::Geo(geo) => {
                let fields = geo.fields();
                let fields: Vec<(&str, Field<'_>)> = fields
                    .iter()
                    .map(|(k, v)| (*k, Field::Str(v.as_str())))
                    .collect();
                object(out, &fields);
            }
        }
    }
}

fn strings(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, item);
    }
    out.push(b']');
}

/// `serde_json`'s own shortest form (`0.02`, `3.0`); `null` for what JSON cannot hold.
fn float(out: &mut Vec<u8>, f: f64) {
    if !f.is_finite() || serde_json::to_writer(&mut *out, &f).is_err() {
        out.extend_from_slice(b"null");
    }
}

fn rfc3339(time_ms: u64) -> String {
    sshtrail_fmt::time::rfc3339_millis_string(time_ms / 1000, (time_ms % 1000) as u32)
}

fn write_login(login: &Login, host: &Host, id: Option<&EventId>, out: &mut Vec<u8>) {
    open(out, &login.audit_id, id);
    out.extend_from_slice(b",\"extra\":{\"correlation\":\"");
    out.extend_from_slice(login.correlation.as_str().as_bytes());
    out.extend_from_slice(b"\"}");
    head(out, "UserLogin", login.time_ms);
    actor(out, &login.actor, Outcome::Succeeded);
    tail(out, "sshd", host);
    let mut fields = vec![("method", Field::Str(&login.method))];
    if let Some(key_type) = &login.key_type {
        fields.push(("key_type", Field::Str(key_type)));
    }
    if let Some(fingerprint) = &login.fingerprint {
        fields.push(("fingerprint", Field::Str(fingerprint)));
    }
    if let Some(cert) = &login.cert {
        fields.push(("cert_id", Field::Str(&cert.id)));
        fields.push(("cert_serial", Field::U64(cert.serial)));
        fields.push(("ca_key_type", Field::Str(&cert.ca_key_type)));
        fields.push(("ca_fingerprint", Field::Str(&cert.ca_fingerprint)));
    }
    if let Some(geo) = &login.geo {
        fields.push(("geo", Field::Geo(geo)));
    }
    data(out, fields);
    out.push(b'}');
}

fn write_failed(failed: &LoginFailed, host: &Host, id: Option<&EventId>, out: &mut Vec<u8>) {
    open(out, &failed.audit_id, id);
    head(out, "UserLogin", failed.time_ms);
    source(out, &failed.source);
    outcome(out, Outcome::Failed);
    subjects(out, &failed.user, Some(failed.pid), Some(&failed.user));
    tail(out, "sshd", host);
    let mut fields = vec![("reason", Field::Str(&failed.reason))];
    if let Some(method) = &failed.method {
        fields.push(("method", Field::Str(method)));
    }
    if let Some(geo) = &failed.geo {
        fields.push(("geo", Field::Geo(geo)));
    }
    data(out, fields);
    out.push(b'}');
}

fn write_action(action: &Action, host: &Host, id: Option<&EventId>, out: &mut Vec<u8>) {
    let d = &action.detail;
    out.extend_from_slice(b"{\"metadata\":{\"auditId\":\"");
    unsigned(out, u64::from(action.ses));
    out.push(b'"');
    if let Some(id) = id {
        out.extend_from_slice(b",\"eventId\":\"");
        out.extend_from_slice(&id.hex());
        out.push(b'"');
    }
    // `extra` in key order: action, bytes, channel, correlation, cwd, euid, exe, how,
    // keys, object, pid, ppid, process_args, record_type, redacted, sequence, tty, uid.
    // Actions from sshd's or sftp-server's lines have no record type or serial number.
    let audit = d.origin == Origin::Audit;
    out.extend_from_slice(b",\"extra\":{\"action\":");
    string(out, &d.action);
    if let Some(bytes) = d.bytes {
        out.extend_from_slice(b",\"bytes\":");
        unsigned(out, bytes);
    }
    if let Some(channel) = &d.channel {
        out.extend_from_slice(b",\"channel\":");
        string(out, channel);
    }
    out.extend_from_slice(b",\"correlation\":\"");
    out.extend_from_slice(action.correlation.as_str().as_bytes());
    out.push(b'"');
    let optional = |out: &mut Vec<u8>, key: &[u8], value: &Option<String>| {
        if let Some(value) = value {
            out.extend_from_slice(key);
            string(out, value);
        }
    };
    optional(out, b",\"cwd\":", &d.cwd);
    optional(out, b",\"euid\":", &d.euid);
    optional(out, b",\"exe\":", &d.exe);
    out.extend_from_slice(b",\"how\":");
    string(out, &d.how);
    out.extend_from_slice(b",\"keys\":");
    strings(out, &d.keys);
    out.extend_from_slice(b",\"object\":{\"primary\":");
    string(out, &d.object.primary);
    out.extend_from_slice(b",\"secondary\":");
    string(out, &d.object.secondary);
    out.extend_from_slice(b",\"type\":");
    string(out, &d.object.kind);
    out.push(b'}');
    optional(out, b",\"pid\":", &d.pid);
    optional(out, b",\"ppid\":", &d.ppid);
    out.extend_from_slice(b",\"process_args\":");
    strings(out, &d.args);
    if audit {
        out.extend_from_slice(b",\"record_type\":");
        string(out, &d.record_type);
    }
    if d.redacted {
        out.extend_from_slice(b",\"redacted\":true");
    }
    if audit {
        out.extend_from_slice(b",\"sequence\":");
        unsigned(out, d.sequence);
    }
    optional(out, b",\"tty\":", &d.tty);
    optional(out, b",\"uid\":", &d.uid);
    out.push(b'}');
    head(out, "UserAction", action.time_ms);
    actor(out, &action.actor, action.outcome);
    tail(out, d.origin.component(), host);
    out.push(b'}');
}

fn write_logout(logout: &Logout, host: &Host, id: Option<&EventId>, out: &mut Vec<u8>) {
    open(out, &logout.audit_id, id);
    head(out, "UserLogout", logout.time_ms);
    actor(out, &logout.actor, Outcome::Succeeded);
    tail(out, "sshd", host);
    let mut fields = vec![
        ("actions", Field::U64(logout.actions)),
        (
            "duration_seconds",
            Field::F64(logout.duration_ms() as f64 / 1000.0),
        ),
        ("reason", Field::Str(&logout.reason)),
    ];
    if let Some(log) = &logout.session_log {
        fields.push(("session_log_digest", Field::Str(&log.digest)));
        fields.push(("session_log_id", Field::Str(&log.id)));
    }
    data(out, fields);
    out.push(b'}');
}

fn write_system(system: &SystemAction, host: &Host, id: Option<&EventId>, out: &mut Vec<u8>) {
    open(out, &system.audit_id, id);
    head(out, "SystemAction", system.time_ms);
    source(out, &Peer::new("localhost", None));
    outcome(out, system.outcome);
    subjects(out, "sshtrail", None, None);
    tail(out, "sshtrail", host);
    let mut fields = vec![("action", Field::Str(system.kind.name()))];
    system_fields(&system.kind, &mut fields);
    data(out, fields);
    out.push(b'}');
}

fn system_fields<'a>(kind: &'a SystemKind, fields: &mut Vec<(&'a str, Field<'a>)>) {
    let mut text = |key: &'a str, value: &'a Option<String>| {
        if let Some(value) = value {
            fields.push((key, Field::Str(value)));
        }
    };
    match kind {
        SystemKind::DaemonStarted(started) => {
            text("checkpoint_problem", &started.checkpoint_problem);
            text("sshd_logging_problem", &started.sshd_logging_problem);
            if let Some(down) = started.downtime_seconds {
                fields.push(("resumed", Field::Bool(true)));
                fields.push(("downtime_seconds", Field::F64(down)));
            }
            if started.sessions_unreadable {
                fields.push(("sessions_restored", Field::Bool(false)));
            }
            match started.session_logs_reopened {
                Some(Some(n)) => fields.push(("session_logs_reopened", Field::U64(n))),
                Some(None) => fields.push(("session_logs_reopened", Field::Bool(false))),
                None => {}
            }
        }
        SystemKind::DaemonStopped {
            session_uploads_left,
        } => {
            if let Some(left) = session_uploads_left {
                fields.push(("session_uploads_left", Field::U64(*left)));
            }
        }
        SystemKind::HostRebooted {
            previous_boot_id,
            boot_id,
            last_seen_alive_ms,
            sessions_ended,
        } => {
            fields.push(("previous_boot_id", Field::Str(previous_boot_id)));
            fields.push(("boot_id", Field::Str(boot_id)));
            fields.push((
                "last_seen_alive",
                Field::Owned(rfc3339(*last_seen_alive_ms)),
            ));
            fields.push(("sessions_ended", Field::U64(*sessions_ended)));
        }
        SystemKind::MetricsUnavailable { error }
        | SystemKind::SourceFailed { error }
        | SystemKind::SessionLogFailed { error } => fields.push(("error", Field::Str(error))),
        SystemKind::SinkFailed {
            sink,
            error,
            backlog_bytes,
        } => {
            fields.push(("sink", Field::Str(sink)));
            fields.push(("error", Field::Str(error)));
            fields.push(("backlog_bytes", Field::U64(*backlog_bytes)));
        }
        SystemKind::SinkRecovered {
            sink,
            failures,
            backlog_bytes,
        } => {
            fields.push(("sink", Field::Str(sink)));
            fields.push(("failures", Field::U64(*failures)));
            fields.push(("backlog_bytes", Field::U64(*backlog_bytes)));
        }
        SystemKind::SinkOverflowed {
            sink,
            dropped,
            dropped_total,
        } => {
            fields.push(("sink", Field::Str(sink)));
            fields.push(("dropped", Field::U64(*dropped)));
            fields.push(("dropped_total", Field::U64(*dropped_total)));
        }
        SystemKind::RecordingGap {
            session,
            stream,
            from,
            to,
        } => {
            fields.push(("session", Field::Str(session)));
            fields.push(("stream", Field::Str(stream)));
            fields.push(("from", Field::U64(*from)));
            fields.push(("to", Field::U64(*to)));
        }
        SystemKind::SessionNotRecorded {
            session,
            user,
            source,
        } => {
            fields.push(("session", Field::Str(session)));
            fields.push(("user", Field::Str(user)));
            fields.push(("source", Field::Str(source)));
        }
        SystemKind::RecordingRefused {
            pid,
            uid,
            gid,
            session,
            reason,
        } => {
            fields.push(("pid", Field::U64(u64::from(*pid))));
            fields.push(("uid", Field::U64(u64::from(*uid))));
            fields.push(("gid", Field::U64(u64::from(*gid))));
            if let Some(session) = session {
                fields.push(("session", Field::U64(u64::from(*session))));
            }
            fields.push(("reason", Field::Str(reason)));
        }
        SystemKind::AuditRulesLoaded {
            file,
            applied,
            already_present,
            errors,
        } => {
            fields.push(("file", Field::Str(file)));
            if let Some(applied) = applied {
                fields.push(("applied", Field::U64(*applied)));
            }
            if let Some(present) = already_present {
                fields.push(("already_present", Field::U64(*present)));
            }
            if !errors.is_empty() {
                fields.push(("errors", Field::Strs(errors)));
            }
        }
        SystemKind::AuditBackfilled(backfill) | SystemKind::AuditBackfillFailed(backfill) => {
            fields.push(("since", Field::Owned(rfc3339(backfill.since_ms))));
            fields.push(("until", Field::Owned(rfc3339(backfill.until_ms))));
            fields.push(("audit_log_dir", Field::Str(&backfill.audit_log_dir)));
            if let Some(read) = backfill.records_read {
                fields.push(("records_read", Field::U64(read)));
            }
            if let Some(added) = backfill.records_backfilled {
                fields.push(("records_backfilled", Field::U64(added)));
            }
            if let Some(error) = &backfill.error {
                fields.push(("error", Field::Str(error)));
            }
        }
        SystemKind::AuditRecordsLost(Lost::Serials {
            count,
            after_sequence,
        }) => {
            fields.push(("count", Field::U64(*count)));
            fields.push(("after_sequence", Field::U64(*after_sequence)));
        }
        SystemKind::AuditRecordsLost(Lost::SocketOverflows(times)) => {
            fields.push(("socket_overflows", Field::U64(*times)));
        }
        SystemKind::LogGap(gap) => {
            fields.push(("reason", Field::Str(gap.reason)));
            fields.push(("lost_inode", Field::U64(gap.lost_inode)));
            fields.push(("lost_offset", Field::U64(gap.lost_offset)));
            fields.push(("resumed_inode", Field::U64(gap.resumed_inode)));
        }
        SystemKind::AuditConfig {
            fields: copied,
            sequence,
            ..
        } => {
            for (key, value) in copied {
                fields.push((key, Field::Str(value)));
            }
            fields.push(("sequence", Field::U64(*sequence)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActionDetail, Certificate, Correlation, Object, SessionLogRef};
    use serde_json::{json, Value};
    use std::sync::Arc;

    fn host() -> Host {
        Host {
            name: "web-1".into(),
            machine_id: "4f1c0e0d2b6a4c7e9f3a1b2c3d4e5f60".into(),
        }
    }

    fn alice() -> Arc<Actor> {
        Arc::new(Actor {
            logged_as: "alice".into(),
            user_id: "alice@example".into(),
            pid: Some(3076),
            source: Peer::new("127.0.0.1", Some(59145)),
        })
    }

    fn rendered(event: &Event) -> (String, Value) {
        let line = event.to_line(&host());
        let text = String::from_utf8(line).expect("UTF-8");
        assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
        let value = serde_json::from_str(&text).expect("one JSON object");
        (text, value)
    }

    /// Every byte value that JSON treats specially and multi-byte characters, in one
    /// string: each place a string goes must escape it as serde_json does.
    fn awkward() -> String {
        let mut s: String = (0u8..0x80).map(char::from).collect();
        s.push_str("/'é€𝄞\u{2028}\u{fffd}end");
        s
    }

    #[test]
    fn a_login_in_auditevent_shape() {
        let login = Event::Login(Box::new(Login {
            time_ms: 1_795_431_100_841,
            audit_id: "499".into(),
            actor: alice(),
            correlation: Correlation::Joined,
            method: "publickey".into(),
            key_type: Some("ED25519-CERT".into()),
            fingerprint: Some("SHA256:abc".into()),
            cert: Some(Certificate {
                id: "alice@example".into(),
                serial: 4242,
                ca_key_type: "ED25519".into(),
                ca_fingerprint: "SHA256:ca".into(),
            }),
            geo: Some(Geo {
                country_iso: Some("SE".into()),
                asn: Some(3301),
                ..Geo::default()
            }),
        }));
        let (text, value) = rendered(&login);
        assert!(text.starts_with(
            "{\"metadata\":{\"auditId\":\"499\",\"extra\":{\"correlation\":\"joined\"}},\"type\":\"UserLogin\",\"loggedAt\":\"2026-11-23T10:51:40.841Z\",\"source\":{\"type\":\"IP\",\"value\":\"127.0.0.1\",\"extra\":{\"port\":\"59145\"}},\"outcome\":\"succeeded\",\"subjects\":{\"loggedAs\":\"alice\",\"pid\":\"3076\",\"userID\":\"alice@example\"},\"component\":\"sshd\",\"target\":{\"host\":\"web-1\",\"machine-id\":\"4f1c0e0d2b6a4c7e9f3a1b2c3d4e5f60\"},\"data\":{\"ca_fingerprint\""
        ), "{text}");
        assert_eq!(
            value["data"],
            json!({"ca_fingerprint": "SHA256:ca", "ca_key_type": "ED25519",
                   "cert_id": "alice@example", "cert_serial": 4242,
                   "fingerprint": "SHA256:abc", "geo": {"asn": "3301", "country_iso": "SE"},
                   "key_type": "ED25519-CERT", "method": "publickey"})
        );
        assert_sorted(&text);
    }

    #[test]
    fn an_action_from_sshds_lines_names_its_component_channel_and_bytes_and_no_serial() {
        let action = Event::Action(Box::new(Action {
            time_ms: 1_000,
            ses: 29,
            actor: alice(),
            correlation: Correlation::Joined,
            outcome: Outcome::Succeeded,
            detail: ActionDetail {
                origin: Origin::SftpServer,
                action: "uploaded-file".into(),
                channel: Some("subsystem:sftp".into()),
                tty: Some("pts/3".into()),
                bytes: Some(10_000),
                pid: Some("77".into()),
                ..ActionDetail::default()
            },
        }));
        let (line, value) = rendered(&action);
        assert_eq!(value["component"], "sftp-server");
        let extra = &value["metadata"]["extra"];
        assert_eq!(extra["bytes"], 10_000);
        assert_eq!(extra["channel"], "subsystem:sftp");
        assert_eq!(extra["tty"], "pts/3");
        assert!(extra.get("record_type").is_none());
        assert!(extra.get("sequence").is_none());
        assert_sorted(&line);
    }

    #[test]
    fn an_action_writes_every_field_in_key_order() {
        let text = awkward();
        let action = Event::Action(Box::new(Action {
            time_ms: 1_000,
            ses: 29,
            actor: alice(),
            correlation: Correlation::AuditOnly,
            outcome: Outcome::Failed,
            detail: ActionDetail {
                action: "executed".into(),
                how: text.clone(),
                object: Object {
                    kind: "file".into(),
                    primary: text.clone(),
                    secondary: String::new(),
                },
                args: vec![text.clone(), String::new()],
                pid: Some("101".into()),
                ppid: Some("100".into()),
                exe: Some("/usr/bin/ls".into()),
                cwd: Some(text.clone()),
                uid: Some("alice".into()),
                euid: Some("root".into()),
                keys: vec!["k1".into()],
                record_type: "SYSCALL".into(),
                sequence: 77,
                redacted: true,
                ..ActionDetail::default()
            },
        }));
        let (line, value) = rendered(&action);
        assert_eq!(value["metadata"]["auditId"], "29");
        let extra = &value["metadata"]["extra"];
        assert_eq!(extra["how"], text.as_str());
        assert_eq!(extra["process_args"], json!([text, ""]));
        assert_eq!(extra["object"]["type"], "file");
        assert_eq!(extra["correlation"], "audit-only");
        assert_eq!(extra["redacted"], true);
        assert_eq!(extra["sequence"], 77);
        assert_eq!(value["outcome"], "failed");
        assert_eq!(value["component"], "auditd");
        assert!(value.get("data").is_none());
        assert_sorted(&line);
        // Absent optional fields are left out, not written as null.
        let Event::Action(mut bare) = action else {
            unreachable!()
        };
        bare.detail = ActionDetail::default();
        let (_, value) = rendered(&Event::Action(bare));
        let extra = value["metadata"]["extra"].as_object().expect("extra");
        let keys: Vec<&str> = extra.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "action",
                "correlation",
                "how",
                "keys",
                "object",
                "process_args",
                "record_type",
                "sequence"
            ]
        );
    }

    #[test]
    fn a_logout_a_failure_and_a_system_action() {
        let logout = Event::Logout(Box::new(Logout {
            time_ms: 1_020,
            audit_id: "29".into(),
            actor: alice(),
            start_ms: 1_000,
            actions: 3,
            reason: "session closed".into(),
            session_log: Some(SessionLogRef {
                id: "abc-def-29".into(),
                digest: "sha256:00".into(),
            }),
        }));
        let (line, value) = rendered(&logout);
        assert_eq!(
            value["data"],
            json!({"actions": 3, "duration_seconds": 0.02, "reason": "session closed",
                   "session_log_digest": "sha256:00", "session_log_id": "abc-def-29"})
        );
        assert!(line.contains("\"duration_seconds\":0.02,"));
        let failed = Event::LoginFailed(Box::new(LoginFailed {
            time_ms: 5,
            audit_id: "u-u-i-d".into(),
            user: "eve from 6.6.6.6 port 4444 ssh2".into(),
            pid: 7,
            source: Peer::new("unknown", None),
            method: None,
            reason: "invalid user".into(),
            geo: None,
        }));
        let (line, value) = rendered(&failed);
        assert_eq!(value["outcome"], "failed");
        assert_eq!(value["subjects"]["userID"], value["subjects"]["loggedAs"]);
        assert!(value["source"].get("extra").is_none());
        assert!(value["metadata"].get("extra").is_none());
        assert_sorted(&line);
        let system = Event::System(Box::new(SystemAction {
            time_ms: 5,
            audit_id: "x".into(),
            outcome: Outcome::Failed,
            kind: SystemKind::AuditRecordsLost(Lost::Serials {
                count: 9,
                after_sequence: 100,
            }),
        }));
        let (line, value) = rendered(&system);
        assert_eq!(
            value["data"],
            json!({"action": "audit-records-lost", "after_sequence": 100, "count": 9})
        );
        assert_eq!(value["subjects"], json!({"loggedAs": "sshtrail"}));
        assert_eq!(value["source"], json!({"type": "IP", "value": "localhost"}));
        assert_sorted(&line);
    }

    /// The keys of every nested object are in sorted order (what consumers that diff
    /// lines, and the session-log digests, have always seen). The top level keeps
    /// auditevent's own order.
    fn assert_sorted(line: &str) {
        fn walk(value: &serde_json::Value, top: bool, line: &str) {
            if let Value::Object(map) = value {
                if !top {
                    // serde_json's Map is sorted: the text must list keys in that order.
                    let mut last = 0;
                    for key in map.keys() {
                        let needle = format!("\"{key}\":");
                        let at = line[last..].find(&needle).map(|i| i + last);
                        assert!(at.is_some(), "{key} in order in {line}");
                        last = at.unwrap_or(last);
                    }
                }
                for v in map.values() {
                    walk(v, false, line);
                }
            }
        }
        let value: Value = serde_json::from_str(line).expect("JSON");
        walk(&value, true, line);
    }
}
