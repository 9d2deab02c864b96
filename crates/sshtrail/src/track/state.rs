//! What the tracker holds between facts (and saves in the checkpoint): sessions, logins
//! waiting for their kernel session, pre-authentication notes per connection.

use super::facts::{AuditFact, Login};
use super::progress::Wait;
use serde::{Deserialize, Serialize};
use sshtrail_event::{Actor, Correlation};
use std::collections::HashMap;
use std::sync::Arc;

/// Who a session's events are attributed to, once known.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Attribution {
    pub(super) actor: Arc<Actor>,
    pub(super) correlation: Correlation,
}

/// One way a session ended, as one side saw it.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct EndSignal {
    pub(super) time_ms: u64,
    /// Width of the time stamp (1000 for whole-second syslog lines).
    pub(super) resolution_ms: u64,
    pub(super) reason: String,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Session {
    pub(super) pid: u32,
    pub(super) start_ms: u64,
    /// `None` while sshd's login is awaited.
    pub(super) attribution: Option<Attribution>,
    /// Waiting for sshd's login.
    pub(super) login_wait: Option<Wait>,
    /// Events held until the attribution is known.
    pub(super) buffered: Vec<AuditFact>,
    /// Events after the session's `USER_END`, held until its logout is written.
    pub(super) after_end: Vec<AuditFact>,
    pub(super) actions: u64,
    pub(super) sshd_end: Option<EndSignal>,
    pub(super) audit_end: Option<EndSignal>,
    /// One side said the session ended: waiting for the other side's word.
    pub(super) end_wait: Option<Wait>,
    /// The logout was written, at this event time.
    pub(super) logged_out_ms: Option<u64>,
    pub(super) auid_name: Option<String>,
    pub(super) addr: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct WaitingLogin {
    pub(super) time_ms: u64,
    pub(super) resolution_ms: u64,
    pub(super) login: Login,
    pub(super) wait: Wait,
    /// sshd said the session closed before its `LOGIN` record was seen.
    pub(super) closed: Option<EndSignal>,
    /// What sshd's lines showed done in the session (channels opened) meanwhile.
    #[serde(default)]
    pub(super) actions: Vec<AuditFact>,
}

/// Per-connection memory before authentication, for the failed-login counting rule.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Connection {
    pub(super) last_ms: u64,
    pub(super) failures: u32,
    pub(super) invalid_user: Option<String>,
    pub(super) note: Option<String>,
}

/// A login that never got an audit session: kept so its logout can still be written.
#[derive(Serialize, Deserialize)]
pub(super) struct SshdOnly {
    pub(super) actor: Arc<Actor>,
    pub(super) audit_id: String,
    pub(super) start_ms: u64,
}

#[derive(Default, Serialize, Deserialize)]
pub(super) struct State {
    pub(super) sessions: HashMap<u32, Session>,
    pub(super) ses_by_pid: HashMap<u32, u32>,
    pub(super) waiting_logins: HashMap<u32, WaitingLogin>,
    pub(super) connections: HashMap<u32, Connection>,
    pub(super) sshd_only: HashMap<u32, SshdOnly>,
    pub(super) non_ssh_sessions: HashMap<u32, u64>,
    /// User child PID → the monitor PID that owns the session.
    pub(super) monitor_of: HashMap<u32, u32>,
    /// Session actions from the logs (channels, file transfers) for a kernel session
    /// whose `LOGIN` record has not come yet.
    #[serde(default)]
    pub(super) pending_by_ses: HashMap<u32, Vec<AuditFact>>,
    /// Session actions from a process no session is known for yet: an `sftp-server`
    /// logging to syslog (which carries no audit session) before the audit side showed
    /// its exec.
    #[serde(default)]
    pub(super) pending_by_pid: HashMap<u32, Vec<AuditFact>>,
    /// `sftp-server` PID → the session whose process executed it (from the audit side).
    #[serde(default)]
    pub(super) session_of_sftp: HashMap<u32, SftpServer>,
}

/// An sftp-server process the audit side saw executed.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub(super) struct SftpServer {
    pub(super) ses: u32,
    /// When it was executed: its `session closed` line after this ends it, and its pid
    /// can then be another process's.
    pub(super) exec_ms: u64,
}

/// Which wait, for [`Tracker::end_wait`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(super) enum WaitKey {
    /// Session `ses` waits for its sshd login.
    Login(u32),
    /// Session `ses` waits for the other side's word on its end.
    End(u32),
    /// sshd process `pid`'s login waits for its `LOGIN` record.
    Audit(u32),
}
