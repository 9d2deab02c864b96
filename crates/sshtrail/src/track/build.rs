//! Building the typed events from what the tracker decided.

use super::facts::Login;
use sshtrail_event::{
    derived_uuid, Actor, Correlation, Event, Login as LoginEvent, LoginFailed, Outcome, Peer,
    SystemAction, SystemKind,
};
use std::sync::Arc;

/// `loggedAs` the account, `userID` the certificate's key ID if one was used.
pub fn actor_from_login(pid: u32, login: &Login) -> Actor {
    let user_id = login
        .cert
        .as_ref()
        .map_or(login.user.as_str(), |cert| cert.id.as_str());
    Actor {
        logged_as: login.user.clone(),
        user_id: user_id.to_string(),
        pid: Some(pid),
        source: Peer::new(login.ip.clone(), Some(login.port)),
    }
}

/// From the audit side only: the auid's name and the PAM records' `addr=`.
pub fn actor_from_audit(auid_name: Option<&str>, addr: Option<&str>) -> Actor {
    let user = auid_name.unwrap_or("unknown").to_string();
    Actor {
        logged_as: user.clone(),
        user_id: user,
        pid: None,
        source: Peer::new(addr.unwrap_or("unknown"), None),
    }
}

/// The `auditId` of a login that got no kernel session id: derived from the login (its
/// sshd process, time and peer), so that deriving it again (after a restart, in a replay)
/// gives the same id.
pub fn login_audit_id(pid: u32, time_ms: u64, login: &Login) -> String {
    derived_uuid(&[
        b"login",
        &pid.to_le_bytes(),
        &time_ms.to_le_bytes(),
        login.user.as_bytes(),
        login.ip.as_bytes(),
        &login.port.to_le_bytes(),
    ])
}

pub fn user_login(
    time_ms: u64,
    actor: Arc<Actor>,
    login: &Login,
    audit_id: String,
    correlation: Correlation,
) -> Event {
    Event::Login(Box::new(LoginEvent {
        time_ms,
        audit_id,
        actor,
        correlation,
        method: login.method.clone(),
        key_type: login.key_type.clone(),
        fingerprint: login.fingerprint.clone(),
        cert: login.cert.clone(),
        geo: None,
    }))
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

pub fn failed_login(failed: FailedLogin<'_>) -> Event {
    Event::LoginFailed(Box::new(LoginFailed {
        time_ms: failed.time_ms,
        audit_id: derived_uuid(&[
            b"failed-login",
            &failed.time_ms.to_le_bytes(),
            &failed.pid.to_le_bytes(),
            failed.user.as_bytes(),
            failed.ip.unwrap_or_default().as_bytes(),
            &failed.port.unwrap_or_default().to_le_bytes(),
            failed.method.unwrap_or_default().as_bytes(),
            failed.reason.as_bytes(),
        ]),
        user: failed.user.to_string(),
        pid: failed.pid,
        source: Peer::new(failed.ip.unwrap_or("unknown"), failed.port),
        method: failed.method.map(str::to_string),
        reason: failed.reason.to_string(),
        geo: None,
    }))
}

/// The trail's own health: something an auditor must see as a possible hole.
///
/// Its `auditId` is derived from what it reports, like its event id.
pub fn system_action(time_ms: u64, outcome: Outcome, kind: SystemKind) -> Event {
    let what = format!("{outcome:?} {kind:?}");
    Event::System(Box::new(SystemAction {
        time_ms,
        audit_id: derived_uuid(&[b"system", &time_ms.to_le_bytes(), what.as_bytes()]),
        outcome,
        kind,
    }))
}
