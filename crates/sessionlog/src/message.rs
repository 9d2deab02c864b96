//! What a session log records: one [`Message`] per record.
//!
//! Two families share the enum. The *protocol* kinds mirror what an SSH server sees on the
//! wire (connect, authentication, channel requests, stdin/stdout/stderr); only an SSH server
//! or a terminal recorder can produce them. The *host* kinds ([`Login`], [`Action`],
//! [`Message::TtyInput`], [`Message::Logout`]) are what the sshtrail daemon learns from sshd's
//! log and the kernel audit records.
//!
//! Secrets have no field to go into: password authentication records the user only,
//! keyboard-interactive records no answers, X11 records no cookie. A secret can therefore
//! never be written by mistake, whatever a caller does.
//!
//! In JSON every message is an object whose `kind` names the variant (snake_case); byte
//! fields (`data`, `modes`) are standard base64 strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::b64;

/// One record of a session log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    // ── connection ─────────────────────────────────────────────────────────────────────
    /// A TCP connection reached the SSH server.
    Connect {
        remote_addr: String,
        local_addr: String,
        connection_id: String,
    },
    /// The connection ended.
    Disconnect { reason: String },
    /// SSH version exchange and key exchange completed.
    HandshakeSuccess { client_version: String },
    /// SSH version exchange or key exchange failed.
    HandshakeFailure {
        client_version: String,
        reason: String,
    },

    // ── authentication ────────────────────────────────────────────────────────────────
    /// The client tried to authenticate.
    AuthAttempt { user: String, method: AuthMethod },
    /// Authentication succeeded.
    AuthSuccess { user: String, method: AuthMethod },
    /// Authentication failed.
    AuthFailure {
        user: String,
        method: AuthMethod,
        reason: String,
    },

    // ── requests and channels ─────────────────────────────────────────────────────────
    /// A connection-level (global) request, e.g. `keepalive@openssh.com`.
    GlobalRequest {
        request_type: String,
        want_reply: bool,
    },
    /// A channel was opened (`session`, `direct-tcpip`, `x11`, …).
    ChannelOpen { channel: u32, channel_type: String },
    /// `exec` request: run one program.
    Exec { channel: u32, program: String },
    /// `pty-req`: a pseudo terminal with its size and encoded terminal modes (RFC 4254 §8).
    Pty {
        channel: u32,
        term: String,
        columns: u32,
        rows: u32,
        width_px: u32,
        height_px: u32,
        #[serde(with = "b64")]
        modes: Vec<u8>,
    },
    /// `shell` request.
    Shell { channel: u32 },
    /// `env` request.
    Env {
        channel: u32,
        name: String,
        value: String,
    },
    /// `subsystem` request, e.g. `sftp`.
    Subsystem { channel: u32, subsystem: String },
    /// `window-change` request: the terminal was resized.
    WindowChange {
        channel: u32,
        columns: u32,
        rows: u32,
        width_px: u32,
        height_px: u32,
    },
    /// `signal` request (signal name without `SIG`).
    Signal { channel: u32, signal: String },
    /// `x11-req`. The authentication cookie is deliberately not recorded.
    X11 {
        channel: u32,
        single_connection: bool,
        auth_protocol: String,
        screen: u32,
    },
    /// Local port forwarding: a `direct-tcpip` channel to `host:port`.
    DirectTcpip {
        channel: u32,
        host: String,
        port: u32,
        originator_host: String,
        originator_port: u32,
    },
    /// Remote port forwarding requested (`tcpip-forward` global request).
    TcpipForward { bind_host: String, bind_port: u32 },
    /// Remote port forwarding cancelled (`cancel-tcpip-forward`).
    CancelTcpipForward { bind_host: String, bind_port: u32 },
    /// Remote port forwarding: a `forwarded-tcpip` channel from `bind` to the client.
    ForwardedTcpip {
        channel: u32,
        bind_host: String,
        bind_port: u32,
        originator_host: String,
        originator_port: u32,
    },
    /// The program on a channel exited.
    ExitStatus { channel: u32, status: u32 },
    /// The program on a channel was killed by a signal.
    ExitSignal {
        channel: u32,
        signal: String,
        core_dumped: bool,
        message: String,
    },
    /// A channel was closed.
    ChannelClose { channel: u32 },
    /// Bytes on one stream of a channel. Binary safe.
    Io {
        channel: u32,
        stream: Stream,
        #[serde(with = "b64")]
        data: Vec<u8>,
    },

    /// Every byte one stream of a channel carried, counted and hashed (a terminal
    /// recorder writes it at the end, also for bytes whose content it did not keep).
    StreamTotal {
        channel: u32,
        stream: Stream,
        bytes: u64,
        #[serde(with = "b64")]
        sha256: Vec<u8>,
    },
    /// Bytes `from..to` of one stream are missing from the `io` records: the recorder
    /// could not deliver them (its daemon was away, or it fell behind).
    RecordingGap {
        channel: u32,
        stream: Stream,
        from: u64,
        to: u64,
    },

    // ── host side (written by the sshtrail daemon) ────────────────────────────────────
    /// A successful login, as sshd and the kernel report it.
    Login(Login),
    /// One coalesced kernel audit event of the session.
    Action(Action),
    /// Keyboard input recorded by the kernel (`TTY` audit records from `pam_tty_audit`).
    TtyInput {
        pid: String,
        #[serde(with = "b64")]
        data: Vec<u8>,
    },
    /// The session ended.
    Logout { reason: String, duration_ms: u64 },
}

/// The stream an [`Message::Io`] record belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdin,
    Stdout,
    Stderr,
}

/// How a client authenticated, with what identifies the credential but never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuthMethod {
    /// `none` method (probe for the allowed methods).
    None,
    /// Password. There is no field for the password itself, by design.
    Password,
    /// Public key.
    Publickey {
        key_type: String,
        fingerprint: String,
    },
    /// Keyboard-interactive; the answers (often passwords or OTPs) are not recorded.
    KeyboardInteractive,
    /// GSSAPI (Kerberos) with the authenticated principal, when known.
    Gssapi { principal: String },
    /// OpenSSH certificate.
    Certificate {
        key_type: String,
        fingerprint: String,
        key_id: String,
        serial: u64,
        ca_key_type: String,
        ca_fingerprint: String,
    },
}

/// A successful login as the daemon sees it (sshd's `Accepted …` joined with the kernel's
/// `LOGIN` record).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// Account logged into.
    pub user: String,
    /// Identity: certificate key id when a certificate was used, else the account.
    pub user_id: String,
    /// sshd's method name (`publickey`, `password`, `keyboard-interactive`, …).
    pub method: String,
    pub source_ip: String,
    pub source_port: Option<u16>,
    /// sshd's session process.
    pub pid: Option<u32>,
    /// Kernel audit session id (`ses`), once known.
    pub audit_session: Option<String>,
    /// Anything else sshd said about the credential (`key_type`, `fingerprint`, `cert_id`, …).
    pub details: BTreeMap<String, String>,
}

/// One kernel audit event attributed to the session (a `UserAction`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Normalized action, e.g. `executed`, `opened-file`, `connected-to`.
    pub action: String,
    pub succeeded: bool,
    /// Audit record type of the event's primary record, e.g. `SYSCALL`.
    pub record_type: String,
    /// Audit event serial.
    pub sequence: Option<u64>,
    pub pid: String,
    pub ppid: String,
    pub uid: String,
    pub euid: String,
    pub exe: String,
    pub cwd: String,
    pub argv: Vec<String>,
    pub object_type: String,
    pub object_primary: String,
    pub object_secondary: String,
    /// Audit rule keys (`-k`).
    pub keys: Vec<String>,
    pub details: BTreeMap<String, String>,
}

impl Message {
    /// The `kind` name used in JSON, the text timeline and FORMAT.md.
    pub fn kind_name(&self) -> &'static str {
        crate::codec::kinds::name_of(self)
    }
}
