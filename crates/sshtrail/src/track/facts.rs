//! What the session tracker needs to know from each side, and nothing more.
//!
//! The sshd side arrives as [`SshdFact`]s (made from parsed sshd messages), the audit side
//! as [`AuditFact`]s (made from one reassembled and coalesced audit event). Keeping the
//! tracker on these small types keeps it independent of the parsers' own shapes.

use serde::{Deserialize, Serialize};
use sshtrail_event::{ActionDetail, Certificate, Outcome};

/// A successful authentication (`Accepted …`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub user: String,
    pub method: String,
    pub ip: String,
    pub port: u16,
    pub key_type: Option<String>,
    pub fingerprint: Option<String>,
    pub cert: Option<Certificate>,
}

/// One fact from sshd's log: when, from which process, and what.
///
/// A log line's time stamp may be coarse: RFC 3164 syslog writes whole seconds. The line
/// then happened somewhere in `[time_ms, time_ms + resolution_ms)`, and the tracker treats
/// it as that interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshdFact {
    /// Event time, ms since the epoch (the start of the interval for coarse stamps).
    pub time_ms: u64,
    /// How wide the time stamp's interval is: 1 for journald and RFC 3339 lines with
    /// fractions, 1000 for whole seconds.
    pub resolution_ms: u64,
    /// The process that logged it (journald's `_PID`, syslog's `sshd[PID]`).
    pub pid: u32,
    /// The kernel audit session of that process, where the log says (journald's trusted
    /// `_AUDIT_SESSION`): a join key no user can forge.
    pub ses: Option<u32>,
    pub what: SshdWhat,
}

/// The kinds of sshd facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SshdWhat {
    Accepted(Login),
    /// An authentication failure sshd reported: a failed method, a refusal.
    AuthFailure {
        user: String,
        ip: Option<String>,
        port: Option<u16>,
        method: Option<String>,
        reason: String,
    },
    /// `Invalid user X from …`: remembered for the connection's closing rule.
    InvalidUser {
        user: String,
    },
    /// A refusal that names no user (`Certificate invalid`, a revoked key, bad
    /// ownership): the reason a connection that then closes unauthenticated failed.
    PreauthNote {
        reason: String,
    },
    /// The connection ended before authentication (`Connection closed … [preauth]`,
    /// `Disconnected from invalid user …`, timeouts, resets).
    PreauthEnded {
        user: Option<String>,
        ip: Option<String>,
        port: Option<u16>,
        reason: String,
    },
    /// `User child is on pid N`: the session's unprivileged child, which logs the
    /// disconnect lines of the session that `pid` (the monitor) owns.
    UserChild {
        child: u32,
    },
    /// The authenticated session ended (`Disconnected from user …`, `Received disconnect`
    /// after authentication, `pam_unix(sshd:session): session closed`).
    SessionClosed {
        reason: String,
    },
    /// Something done inside an authenticated session that only the logs show: a channel
    /// sshd started (`Starting session: …`), a file sftp-server moved. It joins the
    /// session of `ses`, else of the logging process (sshd's user child, or an
    /// `sftp-server` whose exec the audit side saw).
    SessionAction {
        outcome: Outcome,
        detail: Box<ActionDetail>,
    },
    /// An sftp-server process said its session closed (`session closed for local user`):
    /// its pid may be another process's from now on.
    SftpServerEnded,
}

/// What an audit event means for session tracking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditFact {
    /// Event time, ms since the epoch (the record's own time stamp).
    pub time_ms: u64,
    pub node: Option<String>,
    /// Kernel session id; `None` when unset (4294967295).
    pub ses: Option<u32>,
    pub role: AuditRole,
    /// The auid's name (ENRICHED or resolved), used for audit-only attribution.
    pub auid_name: Option<String>,
    /// `addr=` from a PAM record of the session, the source when sshd's side is missing.
    pub addr: Option<String>,
    pub outcome: Outcome,
    /// The system call's return value (`exit=` of its SYSCALL record), when it has one:
    /// a failed outcome does not say which failure (a non-blocking connect in progress).
    #[serde(default)]
    pub exit: Option<i64>,
    /// What the `UserAction` says: action, how, object, command line, process, ids.
    pub detail: ActionDetail,
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
