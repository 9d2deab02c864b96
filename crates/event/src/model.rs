//! The events of the trail, typed: what the session tracker decides, before any of it
//! is written anywhere.
//!
//! Each kind carries its own fields with their own types; renderers turn them into
//! bytes (auditevent JSON in [`crate::json`], session-log records in the daemon). The
//! identity of a session ([`Actor`]) is shared by all its events through an [`Arc`], so
//! a busy session does not copy its account, key and address into every command.

use crate::id::EventId;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::Arc;

/// `succeeded` or `failed`, as auditevent spells them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Succeeded,
    Failed,
}

/// The auditevent `type` of an event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EventType {
    UserLogin,
    UserAction,
    UserLogout,
    SystemAction,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserLogin => "UserLogin",
            EventType::UserAction => "UserAction",
            EventType::UserLogout => "UserLogout",
            EventType::SystemAction => "SystemAction",
        }
    }
}

/// The host an event happened on (`target`).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Host {
    pub name: String,
    pub machine_id: String,
}

/// Where an actor came from: an address (`unknown` when no source said) and a port.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Peer {
    pub address: String,
    pub port: Option<u16>,
}

impl Peer {
    pub fn new(address: impl Into<String>, port: Option<u16>) -> Peer {
        Peer {
            address: address.into(),
            port,
        }
    }
}

/// Who a session's events are attributed to (auditevent `subjects` and `source`).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Actor {
    /// The account (`subjects.loggedAs`).
    pub logged_as: String,
    /// The certificate's key ID when one was used, else the account (`subjects.userID`).
    pub user_id: String,
    /// The session's privileged sshd process (`subjects.pid`); unknown from audit alone.
    pub pid: Option<u32>,
    pub source: Peer,
}

/// How an event's attribution was reached.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Correlation {
    /// sshd's login and the kernel's session were joined.
    Joined,
    /// No sshd login was found: attributed from the audit records alone.
    AuditOnly,
    /// No kernel session was found for sshd's login.
    SshdOnly,
}

impl Correlation {
    pub fn as_str(self) -> &'static str {
        match self {
            Correlation::Joined => "joined",
            Correlation::AuditOnly => "audit-only",
            Correlation::SshdOnly => "sshd-only",
        }
    }
}

/// A certificate's identity as sshd logs it (`… ID <id> (serial N) CA <type> <fp>`).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Certificate {
    pub id: String,
    pub serial: u64,
    pub ca_key_type: String,
    pub ca_fingerprint: String,
}

/// Where an address is, from a GeoIP database. Every field is optional: databases differ
/// in what they cover.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Geo {
    /// ISO 3166-1 alpha-2 code of the country, e.g. `"SE"`.
    pub country_iso: Option<String>,
    /// English name of the country.
    pub country: Option<String>,
    /// English name of the city (City databases only).
    pub city: Option<String>,
    /// Autonomous system number (ASN database only).
    pub asn: Option<u32>,
    /// Organization owning the autonomous system (ASN database only).
    pub as_org: Option<String>,
}

impl Geo {
    /// The fields that are present, as text, in key order (`as_org`, `asn`, `city`,
    /// `country`, `country_iso`): the form events and session metadata carry.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        [
            ("as_org", self.as_org.clone()),
            ("asn", self.asn.map(|n| n.to_string())),
            ("city", self.city.clone()),
            ("country", self.country.clone()),
            ("country_iso", self.country_iso.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }

    /// [`Geo::fields`] as a map of owned strings.
    pub fn to_map(&self) -> std::collections::BTreeMap<String, String> {
        self.fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        *self == Geo::default()
    }
}

/// A successful authentication (`Accepted …`), once its kernel session is known (or
/// given up on).
#[derive(Clone, PartialEq, Debug)]
pub struct Login {
    pub time_ms: u64,
    /// The kernel `ses`, or a generated id when the login never got one.
    pub audit_id: String,
    pub actor: Arc<Actor>,
    pub correlation: Correlation,
    pub method: String,
    pub key_type: Option<String>,
    pub fingerprint: Option<String>,
    pub cert: Option<Certificate>,
    pub geo: Option<Geo>,
}

/// A failed authentication, or a connection that ended without one.
#[derive(Clone, PartialEq, Debug)]
pub struct LoginFailed {
    pub time_ms: u64,
    pub audit_id: String,
    pub user: String,
    /// The sshd process that reported it.
    pub pid: u32,
    pub source: Peer,
    pub method: Option<String>,
    pub reason: String,
    pub geo: Option<Geo>,
}

/// What an object of an action is: `type` (`file`, `socket`, …), and its two names.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Object {
    pub kind: Cow<'static, str>,
    pub primary: String,
    pub secondary: String,
}

/// Which program's record an action was made from: the `component` it is written with.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum Origin {
    /// A coalesced kernel audit event (`auditd`).
    #[default]
    Audit,
    /// A line of sshd's own log (a channel it opened, a forward it refused).
    Sshd,
    /// A line of sftp-server's log (`sftp-server -l INFO`, or `internal-sftp`).
    SftpServer,
}

impl Origin {
    /// The event's `component`.
    pub fn component(self) -> &'static str {
        match self {
            Origin::Audit => "auditd",
            Origin::Sshd => "sshd",
            Origin::SftpServer => "sftp-server",
        }
    }
}

/// One thing done in a session: what, how, to what, by which process. Most come from a
/// coalesced audit event; channels and file transfers come from sshd's and sftp-server's
/// lines ([`Origin`]), which have no record type or serial number.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct ActionDetail {
    #[serde(default)]
    pub origin: Origin,
    /// The SSH channel the action belongs to or opened: `shell`, `command`,
    /// `subsystem:sftp`, `forced-command`, `direct-tcpip`, `tcpip-forward`, …
    #[serde(default)]
    pub channel: Option<String>,
    /// The terminal of a channel that has one (`pts/3`).
    #[serde(default)]
    pub tty: Option<String>,
    /// Bytes moved, for a file transfer.
    #[serde(default)]
    pub bytes: Option<u64>,
    /// The verb (`executed`, `opened-file`, …; `unknown` when the vocabulary has none).
    pub action: Cow<'static, str>,
    pub how: String,
    pub object: Object,
    /// The command line (`process_args`), after redaction.
    pub args: Vec<String>,
    pub pid: Option<String>,
    pub ppid: Option<String>,
    pub exe: Option<String>,
    pub cwd: Option<String>,
    /// User names (or numbers when unknown) of the process's uid and euid.
    pub uid: Option<String>,
    pub euid: Option<String>,
    /// The audit rules' keys.
    pub keys: Vec<String>,
    /// The event's main record type (`SYSCALL`, `USER_CMD`, `TTY`, …).
    pub record_type: Cow<'static, str>,
    /// The kernel's serial number of the event.
    pub sequence: u64,
    /// Some argument was masked as a secret.
    pub redacted: bool,
}

/// A program run, a file opened, … in a session (`UserAction`).
#[derive(Clone, PartialEq, Debug)]
pub struct Action {
    pub time_ms: u64,
    /// The kernel session id: the action's `auditId`.
    pub ses: u32,
    pub actor: Arc<Actor>,
    pub correlation: Correlation,
    pub outcome: Outcome,
    pub detail: ActionDetail,
}

/// The session log a logout sealed: its name and final digest.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SessionLogRef {
    pub id: String,
    pub digest: String,
}

/// The end of a session (`UserLogout`).
#[derive(Clone, PartialEq, Debug)]
pub struct Logout {
    pub time_ms: u64,
    pub audit_id: String,
    pub actor: Arc<Actor>,
    pub start_ms: u64,
    pub actions: u64,
    pub reason: String,
    /// Filled in by the session recorder before the event leaves.
    pub session_log: Option<SessionLogRef>,
}

impl Logout {
    pub fn duration_ms(&self) -> u64 {
        self.time_ms.saturating_sub(self.start_ms)
    }
}

/// The trail's own health (`SystemAction`): anything an auditor must see as a possible
/// hole or a change in what is recorded.
#[derive(Clone, PartialEq, Debug)]
pub struct SystemAction {
    pub time_ms: u64,
    pub audit_id: String,
    pub outcome: Outcome,
    pub kind: SystemKind,
}

/// Which log a gap was found in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LogName {
    Audit,
    Sshd,
}

/// A log position that could not be read on from.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LogGap {
    pub log: LogName,
    /// `file-gone`, `file-replaced` or `truncated`.
    pub reason: &'static str,
    pub lost_inode: u64,
    pub lost_offset: u64,
    pub resumed_inode: u64,
}

/// Audit records that never arrived.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Lost {
    /// `count` serials after `after_sequence` were never seen.
    Serials { count: u64, after_sequence: u64 },
    /// The kernel's netlink socket overflowed this many times.
    SocketOverflows(u64),
}

/// A read of auditd's log to fill what a stream source missed while sshtrail was down.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Backfill {
    pub since_ms: u64,
    pub until_ms: u64,
    pub audit_log_dir: String,
    pub records_read: Option<u64>,
    pub records_backfilled: Option<u64>,
    pub error: Option<String>,
}

/// What the daemon found when it started.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Started {
    /// It resumed from a checkpoint, after this many seconds down.
    pub downtime_seconds: Option<f64>,
    /// A checkpoint that could not be used, and why.
    pub checkpoint_problem: Option<String>,
    /// The checkpoint's session table could not be read.
    pub sessions_unreadable: bool,
    /// Session logs reopened from the checkpoint: how many, or `None` when their state
    /// could not be read.
    pub session_logs_reopened: Option<Option<u64>>,
    /// What the host's sshd configuration keeps out of its log (`sshd -T`).
    pub sshd_logging_problem: Option<String>,
}

/// What a kernel audit configuration record said (`CONFIG_CHANGE`, `DAEMON_END`, …).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuditChange {
    RuleRemoved,
    AuditingDisabled,
    RuleAdded,
    ConfigChanged,
    AuditdStopped,
    AuditdAborted,
}

impl AuditChange {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditChange::RuleRemoved => "audit-rule-removed",
            AuditChange::AuditingDisabled => "auditing-disabled",
            AuditChange::RuleAdded => "audit-rule-added",
            AuditChange::ConfigChanged => "audit-config-changed",
            AuditChange::AuditdStopped => "auditd-stopped",
            AuditChange::AuditdAborted => "auditd-aborted",
        }
    }
}

/// The kinds of [`SystemAction`], each with what it reports.
#[derive(Clone, PartialEq, Debug)]
pub enum SystemKind {
    DaemonStarted(Started),
    DaemonStopped {
        session_uploads_left: Option<u64>,
    },
    /// The checkpoint was another boot's: its sessions still open were ended.
    HostRebooted {
        previous_boot_id: String,
        boot_id: String,
        last_seen_alive_ms: u64,
        sessions_ended: u64,
    },
    MetricsUnavailable {
        error: String,
    },
    AuditRulesLoaded {
        file: String,
        applied: Option<u64>,
        already_present: Option<u64>,
        errors: Vec<String>,
    },
    AuditBackfilled(Backfill),
    AuditBackfillFailed(Backfill),
    AuditRecordsLost(Lost),
    LogGap(LogGap),
    SourceFailed {
        error: String,
    },
    SessionLogFailed {
        error: String,
    },
    /// A remote sink stopped taking events: they are spooled under the state directory
    /// until it takes them again.
    SinkFailed {
        sink: String,
        error: String,
        backlog_bytes: u64,
    },
    /// A remote sink that had failed takes events again; the spooled ones follow.
    SinkRecovered {
        sink: String,
        failures: u64,
        backlog_bytes: u64,
    },
    /// A remote sink's spool was full: this many events (since the last report) were not
    /// spooled for it and will never reach it (the other sinks have them).
    SinkOverflowed {
        sink: String,
        dropped: u64,
        dropped_total: u64,
    },
    /// A process that may not record (not the recorder, or in no audit session) spoke to
    /// the recording socket: nothing it sent was kept. Who it was, from the kernel.
    RecordingRefused {
        pid: u32,
        uid: u32,
        gid: u32,
        session: Option<u32>,
        reason: String,
    },
    /// Bytes `from..to` of a stream of a session's terminal recording are not in its log:
    /// the recorder could not send them (the daemon was down or crashed, or it fell behind).
    RecordingGap {
        session: String,
        stream: &'static str,
        from: u64,
        to: u64,
    },
    /// A session of a user who must be recorded (`--require-recording`) sent no recording
    /// within a few seconds of its login: sshd without the ForceCommand, a shell started
    /// before it (`~/.bashrc`), `internal-sftp`, or a recorder that could not reach us.
    SessionNotRecorded {
        session: String,
        user: String,
        source: String,
    },
    /// A record of the kernel's audit configuration or auditd's life: the record's own
    /// fields (of a fixed set) and its serial.
    AuditConfig {
        change: AuditChange,
        fields: Vec<(&'static str, String)>,
        sequence: u64,
    },
}

impl SystemKind {
    /// The `data.action` name.
    pub fn name(&self) -> &'static str {
        match self {
            SystemKind::DaemonStarted(_) => "daemon-started",
            SystemKind::DaemonStopped { .. } => "daemon-stopped",
            SystemKind::HostRebooted { .. } => "host-rebooted",
            SystemKind::MetricsUnavailable { .. } => "metrics-unavailable",
            SystemKind::AuditRulesLoaded { .. } => "audit-rules-loaded",
            SystemKind::AuditBackfilled(_) => "audit-backfilled",
            SystemKind::AuditBackfillFailed(_) => "audit-backfill-failed",
            SystemKind::AuditRecordsLost(_) => "audit-records-lost",
            SystemKind::LogGap(gap) => match gap.log {
                LogName::Audit => "audit-log-gap",
                LogName::Sshd => "sshd-log-gap",
            },
            SystemKind::SourceFailed { .. } => "source-failed",
            SystemKind::SessionLogFailed { .. } => "session-log-failed",
            SystemKind::SinkFailed { .. } => "sink-failed",
            SystemKind::SinkRecovered { .. } => "sink-recovered",
            SystemKind::SinkOverflowed { .. } => "sink-overflowed",
            SystemKind::RecordingRefused { .. } => "recording-refused",
            SystemKind::SessionNotRecorded { .. } => "session-not-recorded",
            SystemKind::RecordingGap { .. } => "recording-gap",
            SystemKind::AuditConfig { change, .. } => change.as_str(),
        }
    }
}

/// One event of the trail.
#[derive(Clone, PartialEq, Debug)]
pub enum Event {
    Login(Box<Login>),
    LoginFailed(Box<LoginFailed>),
    Action(Box<Action>),
    Logout(Box<Logout>),
    System(Box<SystemAction>),
}

impl Event {
    pub fn event_type(&self) -> EventType {
        match self {
            Event::Login(_) | Event::LoginFailed(_) => EventType::UserLogin,
            Event::Action(_) => EventType::UserAction,
            Event::Logout(_) => EventType::UserLogout,
            Event::System(_) => EventType::SystemAction,
        }
    }

    /// Event time (ms since the epoch): the source's, never the processing time.
    pub fn time_ms(&self) -> u64 {
        match self {
            Event::Login(e) => e.time_ms,
            Event::LoginFailed(e) => e.time_ms,
            Event::Action(e) => e.time_ms,
            Event::Logout(e) => e.time_ms,
            Event::System(e) => e.time_ms,
        }
    }

    /// The `metadata.auditId`: the session an event belongs to (or a generated id).
    pub fn audit_id(&self) -> Cow<'_, str> {
        match self {
            Event::Login(e) => Cow::Borrowed(&e.audit_id),
            Event::LoginFailed(e) => Cow::Borrowed(&e.audit_id),
            Event::Action(e) => Cow::Owned(e.ses.to_string()),
            Event::Logout(e) => Cow::Borrowed(&e.audit_id),
            Event::System(e) => Cow::Borrowed(&e.audit_id),
        }
    }

    pub fn outcome(&self) -> Outcome {
        match self {
            Event::Login(_) | Event::Logout(_) => Outcome::Succeeded,
            Event::LoginFailed(_) => Outcome::Failed,
            Event::Action(e) => e.outcome,
            Event::System(e) => e.outcome,
        }
    }

    /// The event as one auditevent JSON line (with `\n`), for `host`.
    pub fn to_line(&self, host: &Host) -> Vec<u8> {
        let mut line = Vec::with_capacity(1024);
        self.write_line(host, &mut line);
        line
    }

    /// [`Event::to_line`] appended to `out`: a writer of many events reuses one buffer.
    pub fn write_line(&self, host: &Host, out: &mut Vec<u8>) {
        crate::json::write_event(self, host, None, out);
        out.push(b'\n');
    }

    /// [`Event::write_line`] with the event's `metadata.eventId`.
    pub fn write_line_with_id(&self, host: &Host, id: &EventId, out: &mut Vec<u8>) {
        crate::json::write_event(self, host, Some(id), out);
        out.push(b'\n');
    }
}
