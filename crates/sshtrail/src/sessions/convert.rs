//! The session-log rendering of the typed events: messages and metadata.
//!
//! The event stream is what the recorder sees, so the log says the same as the events
//! did: account, identity, source and every action, with the same names.

use sshtrail_event::{Action, Actor, Correlation, Geo, Host, Login, Logout, Origin, Outcome};
use sshtrail_sessionlog::{Action as LoggedAction, Login as LoggedLogin, Message};
use sshtrail_sessionstore::SessionMeta;
use std::collections::BTreeMap;

/// The geo fields under `geo.<name>`, as the login's details carry them.
fn geo_details(geo: Option<&Geo>, prefix: &str, out: &mut BTreeMap<String, String>) {
    for (key, value) in geo.map(Geo::fields).unwrap_or_default() {
        out.insert(format!("{prefix}{key}"), value);
    }
}

pub fn login_message(login: &Login) -> Message {
    let mut details = BTreeMap::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            details.insert(key.to_string(), value);
        }
    };
    put("key_type", login.key_type.clone());
    put("fingerprint", login.fingerprint.clone());
    if let Some(cert) = &login.cert {
        put("cert_id", Some(cert.id.clone()));
        put("cert_serial", Some(cert.serial.to_string()));
        put("ca_key_type", Some(cert.ca_key_type.clone()));
        put("ca_fingerprint", Some(cert.ca_fingerprint.clone()));
    }
    geo_details(login.geo.as_ref(), "geo.", &mut details);
    let actor = &login.actor;
    Message::Login(LoggedLogin {
        user: actor.logged_as.clone(),
        user_id: actor.user_id.clone(),
        method: login.method.clone(),
        source_ip: actor.source.address.clone(),
        source_port: actor.source.port,
        pid: actor.pid,
        audit_session: (login.correlation == Correlation::Joined).then(|| login.audit_id.clone()),
        details,
    })
}

/// An action, or for the kernel's TTY records (pam_tty_audit) the keystrokes.
pub fn message_for_action(action: &Action) -> Message {
    let d = &action.detail;
    if matches!(d.record_type.as_ref(), "TTY" | "USER_TTY") {
        return Message::TtyInput {
            pid: d.pid.clone().unwrap_or_default(),
            data: d.object.primary.clone().into_bytes(),
        };
    }
    let mut details = BTreeMap::from([
        (
            "correlation".to_string(),
            action.correlation.as_str().to_string(),
        ),
        ("how".to_string(), d.how.clone()),
    ]);
    if d.redacted {
        details.insert("redacted".into(), "true".into());
    }
    // Channels and file transfers come from sshd's and sftp-server's lines: no record
    // type, no serial number, and the program that said it.
    let audit = d.origin == Origin::Audit;
    if !audit {
        details.insert("component".into(), d.origin.component().into());
    }
    if let Some(channel) = &d.channel {
        details.insert("channel".into(), channel.clone());
    }
    if let Some(tty) = &d.tty {
        details.insert("tty".into(), tty.clone());
    }
    if let Some(bytes) = d.bytes {
        details.insert("bytes".into(), bytes.to_string());
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    Message::Action(LoggedAction {
        action: d.action.to_string(),
        succeeded: action.outcome == Outcome::Succeeded,
        record_type: if audit {
            d.record_type.to_string()
        } else {
            String::new()
        },
        sequence: audit.then_some(d.sequence),
        pid: text(&d.pid),
        ppid: text(&d.ppid),
        uid: text(&d.uid),
        euid: text(&d.euid),
        exe: text(&d.exe),
        cwd: text(&d.cwd),
        argv: d.args.clone(),
        object_type: d.object.kind.to_string(),
        object_primary: d.object.primary.clone(),
        object_secondary: d.object.secondary.clone(),
        keys: d.keys.clone(),
        details,
    })
}

pub fn logout_message(logout: &Logout, start_ms: u64) -> Message {
    Message::Logout {
        reason: logout.reason.clone(),
        duration_ms: logout.time_ms.saturating_sub(start_ms),
    }
}

/// What a session log is described by when it begins: from its login, or from its first
/// action when the login was never seen.
pub struct Opening<'a> {
    pub time_ms: u64,
    pub actor: &'a Actor,
    pub correlation: Correlation,
    pub method: Option<&'a str>,
    pub geo: Option<&'a Geo>,
}

/// The session's metadata as first known.
pub fn meta_for(
    id: &str,
    boot_id: &str,
    audit_id: &str,
    host: &Host,
    opening: &Opening<'_>,
) -> SessionMeta {
    let mut geo = BTreeMap::new();
    geo_details(opening.geo, "", &mut geo);
    let mut extra = BTreeMap::from([
        ("audit_id".to_string(), audit_id.to_string()),
        ("boot_id".to_string(), boot_id.to_string()),
        ("user_id".to_string(), opening.actor.user_id.clone()),
        (
            "correlation".to_string(),
            opening.correlation.as_str().to_string(),
        ),
    ]);
    if let Some(method) = opening.method {
        extra.insert("method".into(), method.to_string());
    }
    SessionMeta {
        id: id.to_string(),
        user: opening.actor.logged_as.clone(),
        source: opening.actor.source.address.clone(),
        source_port: opening.actor.source.port,
        host: host.name.clone(),
        machine_id: host.machine_id.clone(),
        start: rfc3339(opening.time_ms),
        geo,
        extra,
        ..SessionMeta::default()
    }
}

pub fn rfc3339(time_ms: u64) -> String {
    sshtrail_fmt::time::rfc3339_millis_string(time_ms / 1000, (time_ms % 1000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::from_audit::audit_fact;
    use sshtrail_audit::interpret::NoNames;
    use sshtrail_event::Peer;
    use std::sync::Arc;

    fn action_of(records: &[&str]) -> Action {
        let records: Vec<_> = records
            .iter()
            .map(|l| sshtrail_audit::parse_line(l.as_bytes()).expect("a record"))
            .collect();
        let fact = audit_fact(&records, &NoNames);
        Action {
            time_ms: fact.time_ms,
            ses: fact.ses.unwrap_or(0),
            actor: Arc::new(Actor {
                logged_as: "andrew".into(),
                user_id: "andrew".into(),
                pid: None,
                source: Peer::new("10.0.0.1", None),
            }),
            correlation: Correlation::Joined,
            outcome: fact.outcome,
            detail: fact.detail,
        }
    }

    /// What the tracker makes of one real record (USER_TTY lines of go-libaudit's RHEL 7
    /// capture, as pam_tty_audit writes them: plain and hex-encoded keystrokes).
    #[test]
    fn keystrokes_of_pam_tty_audit_become_tty_input() {
        let plain = "type=USER_TTY msg=audit(1491922671.974:1065045): pid=28202 uid=0 auid=1000 ses=762 subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 data=\"exit\"";
        assert_eq!(
            message_for_action(&action_of(&[plain])),
            Message::TtyInput {
                pid: "28202".into(),
                data: b"exit".to_vec()
            }
        );
        let hex = "type=USER_TTY msg=audit(1491922681.082:1065050): pid=28058 uid=0 auid=1000 ses=762 subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 data=7375202D20616E647265775F6B726F68";
        assert_eq!(
            message_for_action(&action_of(&[hex])),
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
        let action = action_of(&[
            r#"type=SYSCALL msg=audit(1700000000.100:77): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=100 pid=101 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=5 comm="ls" exe="/usr/bin/ls" key="cmds""#,
            r#"type=EXECVE msg=audit(1700000000.100:77): argc=2 a0="ls" a1="/tmp""#,
            r#"type=CWD msg=audit(1700000000.100:77): cwd="/home/alice""#,
        ]);
        let Message::Action(logged) = message_for_action(&action) else {
            panic!("an action");
        };
        assert_eq!(logged.argv, ["ls", "/tmp"]);
        assert_eq!(logged.exe, "/usr/bin/ls");
        assert_eq!(logged.cwd, "/home/alice");
        assert_eq!(logged.keys, ["cmds"]);
        assert_eq!(logged.sequence, Some(77));
        assert_eq!(logged.action, "executed");
        assert!(logged.succeeded);
        assert_eq!(
            logged.details.get("correlation").map(String::as_str),
            Some("joined")
        );
    }
}
