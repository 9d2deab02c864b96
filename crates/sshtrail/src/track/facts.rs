//! What the session tracker needs to know from each side, and nothing more.
//!
//! The sshd side arrives as [`SshdFact`]s (made from parsed sshd messages), the audit side
//! as [`AuditFact`]s (made from one reassembled and coalesced audit event). Keeping the
//! tracker on these small types keeps it independent of the parsers' own shapes.

use sshtrail_event::Outcome;

/// A certificate's identity as sshd logs it on `Accepted publickey … ID … (serial N) CA …`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertIdentity {
    pub id: String,
    pub serial: u64,
    pub ca_key_type: String,
    pub ca_fingerprint: String,
}

/// A successful authentication (`Accepted …`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Login {
    /// Event time, milliseconds since the epoch.
    pub time_ms: u64,
    /// The PID that logged it: the session's privileged sshd process.
    pub pid: u32,
    pub user: String,
    pub method: String,
    pub ip: String,
    pub port: u16,
    pub key_type: Option<String>,
    pub fingerprint: Option<String>,
    pub cert: Option<CertIdentity>,
}

/// Facts from sshd's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SshdFact {
    Accepted(Login),
    /// An authentication failure sshd reported: a failed method, a refusal.
    AuthFailure {
        time_ms: u64,
        pid: u32,
        user: String,
        ip: Option<String>,
        port: Option<u16>,
        method: Option<String>,
        reason: String,
    },
    /// `Invalid user X from …`: remembered for the connection's closing rule.
    InvalidUser {
        time_ms: u64,
        pid: u32,
        user: String,
        ip: Option<String>,
        port: Option<u16>,
    },
    /// A refusal that names no user (`Certificate invalid`, a revoked key, bad
    /// ownership): the reason a connection that then closes unauthenticated failed.
    PreauthNote {
        time_ms: u64,
        pid: u32,
        reason: String,
    },
    /// The connection ended before authentication (`Connection closed … [preauth]`,
    /// `Disconnected from invalid user …`, timeouts, resets).
    PreauthEnded {
        time_ms: u64,
        pid: u32,
        user: Option<String>,
        ip: Option<String>,
        port: Option<u16>,
        reason: String,
    },
    /// `User child is on pid N`: the session's unprivileged child, which logs the
    /// disconnect lines of the session that `pid` (the monitor) owns.
    UserChild {
        time_ms: u64,
        pid: u32,
        child: u32,
    },
    /// The authenticated session ended (`Disconnected from user …`, `Received disconnect`
    /// after authentication, `pam_unix(sshd:session): session closed`).
    SessionClosed {
        time_ms: u64,
        pid: u32,
        reason: String,
    },
}

impl SshdFact {
    pub fn time_ms(&self) -> u64 {
        match self {
            SshdFact::Accepted(login) => login.time_ms,
            SshdFact::PreauthNote { time_ms, .. }
            | SshdFact::UserChild { time_ms, .. }
            | SshdFact::AuthFailure { time_ms, .. }
            | SshdFact::InvalidUser { time_ms, .. }
            | SshdFact::PreauthEnded { time_ms, .. }
            | SshdFact::SessionClosed { time_ms, .. } => *time_ms,
        }
    }
}

/// What an audit event means for session tracking.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum AuditRole {
    /// A `LOGIN` record: process `pid` (running `exe`) got login session `ses` for `auid`.
    SessionStart {
        pid: u32,
        auid: u32,
        exe: Option<String>,
    },
    /// `USER_END` (or `CRED_DISP`) from the session's sshd process.
    SessionEnd { pid: u32 },
    /// Anything else done in a session.
    Action,
}

/// One coalesced audit event, reduced to what the tracker and the event builder use.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuditFact {
    pub time_ms: u64,
    /// RFC 3339 of the record time (events carry the source's time, never ours).
    pub logged_at: String,
    pub node: Option<String>,
    pub sequence: u64,
    /// Kernel session id; `None` when unset (4294967295).
    pub ses: Option<u32>,
    pub role: AuditRole,
    /// The auid's name (ENRICHED or resolved), used for audit-only attribution.
    pub auid_name: Option<String>,
    /// `addr=` from a PAM record of the session, the source when sshd's side is missing.
    pub addr: Option<String>,
    pub outcome: Outcome,
    /// `metadata.extra` of the UserAction: action, how, object, process_args, pid, …
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl AuditFact {
    /// Whether a session start was made by sshd (`sshd`, or `sshd-session` from OpenSSH
    /// 9.8). Unknown programs count as sshd: better an extra session than a missed one.
    pub fn is_sshd_login(&self) -> bool {
        match &self.role {
            AuditRole::SessionStart { exe: Some(exe), .. } => {
                let name = exe.rsplit('/').next().unwrap_or(exe);
                name == "sshd" || name == "sshd-session"
            }
            _ => true,
        }
    }
}
