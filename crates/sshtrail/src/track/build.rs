//! Building the output events from what the tracker decided.

use super::facts::{AuditFact, Login};
use sshtrail_audit::Timestamp;
use sshtrail_event::{AuditEvent, EventType, Host, Outcome, Source};
use std::collections::BTreeMap;

/// Who a session's events are attributed to: copied into every event of the session.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub subjects: BTreeMap<String, String>,
    pub source: Source,
    /// Built from the audit records alone (no sshd login was joined).
    pub from_audit_only: bool,
    /// The generated id of a login that never got a kernel session.
    pub audit_id: Option<String>,
}

impl Identity {
    /// `loggedAs` the account, `userID` the certificate's key ID if one was used.
    pub fn from_login(login: &Login) -> Identity {
        let user_id = login
            .cert
            .as_ref()
            .map_or(login.user.as_str(), |cert| cert.id.as_str());
        let subjects = BTreeMap::from([
            ("loggedAs".to_string(), login.user.clone()),
            ("userID".to_string(), user_id.to_string()),
            ("pid".to_string(), login.pid.to_string()),
        ]);
        Identity {
            subjects,
            source: Source::ip(login.ip.clone(), Some(login.port)),
            from_audit_only: false,
            audit_id: None,
        }
    }

    /// From the audit side only: the auid's name and the PAM records' `addr=`.
    pub fn from_audit(auid_name: Option<&str>, addr: Option<&str>) -> Identity {
        let user = auid_name.unwrap_or("unknown").to_string();
        let subjects = BTreeMap::from([
            ("loggedAs".to_string(), user.clone()),
            ("userID".to_string(), user),
        ]);
        Identity {
            subjects,
            source: Source::ip(addr.unwrap_or("unknown"), None),
            from_audit_only: true,
            audit_id: None,
        }
    }
}

/// RFC 3339 UTC with milliseconds.
pub fn rfc3339(time_ms: u64) -> String {
    Timestamp {
        sec: time_ms / 1000,
        msec: (time_ms % 1000) as u32,
    }
    .to_rfc3339()
}

/// A random id for events that have no kernel session id.
pub fn new_audit_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn user_login(host: &Host, login: &Login, audit_id: &str, correlation: &str) -> AuditEvent {
    let identity = Identity::from_login(login);
    let mut event = AuditEvent::new(
        EventType::UserLogin,
        "sshd",
        rfc3339(login.time_ms),
        audit_id.to_string(),
        Outcome::Succeeded,
        host,
    );
    event.subjects = identity.subjects;
    event.source = identity.source;
    let mut data = serde_json::Map::new();
    data.insert("method".into(), login.method.clone().into());
    let mut put = |key: &str, value: Option<&String>| {
        if let Some(value) = value {
            data.insert(key.into(), value.clone().into());
        }
    };
    put("key_type", login.key_type.as_ref());
    put("fingerprint", login.fingerprint.as_ref());
    if let Some(cert) = &login.cert {
        data.insert("cert_id".into(), cert.id.clone().into());
        data.insert("cert_serial".into(), cert.serial.into());
        data.insert("ca_key_type".into(), cert.ca_key_type.clone().into());
        data.insert("ca_fingerprint".into(), cert.ca_fingerprint.clone().into());
    }
    event.data = Some(data.into());
    event
        .metadata
        .extra
        .insert("correlation".into(), correlation.into());
    event
}

/// What a failed login is known by.
pub struct FailedLogin<'a> {
    pub time_ms: u64,
    pub pid: u32,
    pub user: &'a str,
    pub ip: Option<&'a str>,
    pub port: Option<u16>,
    pub method: Option<&'a str>,
    pub reason: &'a str,
}

pub fn failed_login(host: &Host, failed: FailedLogin<'_>) -> AuditEvent {
    let mut event = AuditEvent::new(
        EventType::UserLogin,
        "sshd",
        rfc3339(failed.time_ms),
        new_audit_id(),
        Outcome::Failed,
        host,
    )
    .subject("loggedAs", failed.user)
    .subject("userID", failed.user)
    .subject("pid", failed.pid);
    event.source = Source::ip(failed.ip.unwrap_or("unknown"), failed.port);
    let mut data = serde_json::Map::new();
    data.insert("reason".into(), failed.reason.into());
    if let Some(method) = failed.method {
        data.insert("method".into(), method.into());
    }
    event.data = Some(data.into());
    event
}

pub fn user_action(
    host: &Host,
    identity: &Identity,
    ses: u32,
    fact: AuditFact,
    correlation: &str,
) -> AuditEvent {
    let mut event = AuditEvent::new(
        EventType::UserAction,
        "auditd",
        fact.logged_at,
        ses.to_string(),
        fact.outcome,
        host,
    );
    event.subjects = identity.subjects.clone();
    event.source = identity.source.clone();
    event.metadata.extra = fact.extra;
    event
        .metadata
        .extra
        .insert("correlation".into(), correlation.into());
    event
}

/// How a session ended.
pub struct Logout<'a> {
    pub start_ms: u64,
    pub end_ms: u64,
    pub actions: u64,
    pub reason: &'a str,
}

pub fn user_logout(
    host: &Host,
    identity: &Identity,
    audit_id: &str,
    logout: Logout<'_>,
) -> AuditEvent {
    let mut event = AuditEvent::new(
        EventType::UserLogout,
        "sshd",
        rfc3339(logout.end_ms),
        audit_id.to_string(),
        Outcome::Succeeded,
        host,
    );
    event.subjects = identity.subjects.clone();
    event.source = identity.source.clone();
    let duration = logout.end_ms.saturating_sub(logout.start_ms) as f64 / 1000.0;
    event.data = Some(serde_json::json!({
        "duration_seconds": duration,
        "actions": logout.actions,
        "reason": logout.reason,
    }));
    event
}

/// The trail's own health: something an auditor must see as a possible hole.
pub fn system_action(
    host: &Host,
    time_ms: u64,
    action: &str,
    outcome: Outcome,
    details: serde_json::Map<String, serde_json::Value>,
) -> AuditEvent {
    let mut event = AuditEvent::new(
        EventType::SystemAction,
        "sshtrail",
        rfc3339(time_ms),
        new_audit_id(),
        outcome,
        host,
    )
    .subject("loggedAs", "sshtrail");
    event.source = Source::ip("localhost", None);
    let mut data = details;
    data.insert("action".into(), action.into());
    event.data = Some(data.into());
    event
}
