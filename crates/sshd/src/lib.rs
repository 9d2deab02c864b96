//! # sshtrail-sshd: OpenSSH's log messages, typed
//!
//! sshd reports every login, refusal and disconnect as one line of text. This crate turns
//! those lines into values, from any of the places they end up:
//!
//! * [`parse`] reads one sshd message into a [`Message`]: an [`Event`] with borrowed
//!   fields (no allocation), whether sshd appended ` [preauth]`, and the `error: `/`fatal: `
//!   prefix if any. [`Message::fields`] gives the common columns (user, ip, port, method,
//!   key, certificate, reason) of any event.
//! * [`framing`] reads the lines around the message: `journalctl -o json` (MESSAGE as a
//!   string or byte array; `_PID`, `SYSLOG_IDENTIFIER`, `__REALTIME_TIMESTAMP`, `__CURSOR`,
//!   `_BOOT_ID`, `_MACHINE_ID`, `_HOSTNAME`), syslog files (RFC 3164 with year inference
//!   and a [`TimeZone`], RFC 5424, rsyslog's ISO 8601 format) and the `<pid> <message>`
//!   lines rsyslog writes to a pipe.
//! * [`sftp`] reads the per-operation lines of OpenSSH's SFTP server (`sftp-server -l
//!   INFO`, `internal-sftp`) into an [`SftpEvent`]: opens, closes with byte counts,
//!   removes, renames, attribute changes, with the file names' escapes undone on request.
//!
//! ```
//! use sshtrail_sshd::{framing::SyslogFramer, parse, Event, Kind, TimeZone};
//!
//! let framer = SyslogFramer::new(TimeZone::Utc);
//! let line = "Nov 23 11:00:32 vm sshd[11411]: Accepted publickey for alice from \
//!             127.0.0.1 port 52822 ssh2: ED25519 SHA256:e9crEtW7xih36EG0tmlvrNG65oPJnc8Hm8ZEDFKqPMM";
//! let framed = framer.frame(line).unwrap();
//! assert_eq!(framed.pid, Some(11411));
//! let msg = parse(&framed.message);
//! assert_eq!(msg.event.kind(), Kind::Accepted);
//! let Event::Auth(auth) = msg.event else { unreachable!() };
//! assert_eq!((auth.user, auth.peer.port), ("alice", 52822));
//! ```
//!
//! ## Hostile user names
//!
//! A client chooses its user name, and sshd logs it verbatim: `Invalid user eve from
//! 6.6.6.6 port 4444 ssh2 from 127.0.0.1 port 40000`. The parser reads every message from
//! the right, anchored on the text sshd itself appends (`from <ip> port <n>`, ` ssh2`,
//! `: <reason>`, ` id <n>`), so no user name can change the address, port, method or key
//! a message is attributed to. One case remains ambiguous in sshd's own text: a `Failed
//! publickey` line for a certificate whose key ID *and* user name are both chosen by the
//! client; then the rightmost well-formed address wins.
//!
//! ## Message kinds
//!
//! [`Kind::as_str`] names (the `kind` key of `sshtrail sshd parse`), with the sshd text:
//!
//! | kind | sshd message |
//! |---|---|
//! | `accepted` | `Accepted <method> for <user> from <ip> port <n> ssh2[: <key type> <fp>[ ID <id> (serial <n>) CA <type> <fp>]]`, every method (publickey, password, keyboard-interactive/pam, hostbased, gssapi-with-mic, none) |
//! | `failed` | `Failed <method> for [invalid user ]<user> from …` |
//! | `postponed` / `partial` | `Postponed …` / `Partial …` (same shape) |
//! | `invalid_user` | `Invalid user <user> from <ip> port <n>`; 7.x `input_userauth_request: invalid user <user>` |
//! | `not_allowed` | `User <user> [from <host>] not allowed because <reason>`: DenyUsers, AllowUsers, DenyGroups, AllowGroups, no group, shell missing / not executable, account locked |
//! | `root_refused` | `ROOT LOGIN REFUSED FROM <ip> port <n>` |
//! | `max_attempts` | `maximum authentication attempts exceeded for [invalid user ]<user> from <ip> port <n> ssh2` |
//! | `too_many_failures` | `Disconnecting [authenticating\|invalid] user <user> <ip> port <n>: Too many authentication failures`; 7.x `Disconnecting: Too many authentication failures` |
//! | `disconnecting` | other `Disconnecting …: <reason>` lines |
//! | `cert_invalid` | `Certificate invalid: <reason>` |
//! | `auth_refused` | `Authentication refused: <reason>` (StrictModes: bad ownership or modes) |
//! | `key_revoked` | `Authentication key <type> <fp> revoked by file <file>` |
//! | `key_matched` | `Accepted key <type> <fp> found at <file>:<line>` (VERBOSE) |
//! | `cert_matched` | `Accepted certificate ID "<id>" (serial <n>) signed by <type> CA <fp> via <file>` (VERBOSE) |
//! | `reverse_mapping` | `reverse mapping checking getaddrinfo for <name> [<ip>] failed`, `Address <ip> maps to <name>, but this does not map back to the address`, `Nasty PTR record …` |
//! | `timeout` | `Timeout before authentication for <ip> port <n>` |
//! | `connection_closed` | `Connection closed by [[authenticating\|invalid] user <user> ]<ip> port <n>` |
//! | `connection_reset` | `Connection reset by [… user <user> ]<ip> port <n>` |
//! | `disconnected` | `Disconnected from [[authenticating\|invalid] user <user> ]<ip> port <n>` |
//! | `received_disconnect` | `Received disconnect from <ip> port <n>:<code>: <client's reason>` |
//! | `connection` | `Connection from <ip> port <n> on <ip> port <n> rdomain "…"` (VERBOSE) |
//! | `banner_exchange` | `banner exchange: Connection from <ip> port <n>: <reason>` |
//! | `kex_exchange_identification` | `kex_exchange_identification: <reason>` |
//! | `unable_to_negotiate` | `Unable to negotiate with <ip> port <n>: <reason>` |
//! | `bad_protocol_version` | `Protocol major versions differ: …`; 7.x `Bad protocol version identification '<banner>' from <ip> port <n>` |
//! | `no_identification` | 7.x `Did not receive identification string from <ip> port <n>` |
//! | `pam_error` | `PAM: Authentication failure for [illegal user ]<user> from <host>` |
//! | `pam_auth_failure` | `pam_unix(sshd:auth): authentication failure; … rhost=<host>  user=<user>` |
//! | `session_opened` | `pam_unix(sshd:session): session opened for user <user>[(uid=<n>)] by …` |
//! | `session_closed` | `pam_unix(sshd:session): session closed for user <user>` |
//! | `session_started` | `Starting session: <shell on pts/N\|command\|subsystem '…'> for <user> from <ip> port <n> id <n>` (VERBOSE) |
//! | `session_close` | `Close session: user <user> from <ip> port <n> id <n>` (VERBOSE) |
//! | `user_child` | `User child is on pid <n>` |
//! | `other` | anything else |
//!
//! Every kind may carry the `error: ` prefix and the ` [preauth]` suffix; both are
//! recognised on any line, as is a trailing newline.

#![warn(missing_docs)]

pub mod framing;
mod message;
pub mod sftp;
pub mod time;
pub mod tz;

pub use framing::{Format, FrameError, Framed, Framer};
pub use message::{
    parse, parse_bytes, Auth, CertInfo, Event, Fields, KeyInfo, Kind, Message, Noise,
    NotAllowedReason, Outcome, Peer, Prefix, UserState,
};
pub use message::{ForwardKind, RefusedBy};
pub use sftp::{parse_sftp, SetStatChange, SftpEvent, SftpPath, TwoNameOp, TwoNames};
pub use time::Timestamp;
pub use tz::{TimeZone, TzError};
