//! The kind table (kind number ⇄ name) and the field layout of every kind.
//!
//! A record payload is `time_ms varint, kind varint, fields…`; the fields of each kind are
//! encoded in the order written here and listed in FORMAT.md. Numbers are never reused: a
//! new kind gets a new number, and readers skip numbers they do not know.
//! A newer writer may append fields at the end of a kind; readers ignore trailing bytes.

use crate::codec::wire::{self, Dec, WireError};
use crate::message::{Action, AuthMethod, Login, Message, Stream};

/// Codec-level kinds that are not [`Message`]s.
pub const HEADER: u64 = 0;
pub const END: u64 = 1;

/// Every kind this version knows: (number, name). Names are the JSON `kind` values.
pub const KINDS: &[(u64, &str)] = &[
    (HEADER, "header"),
    (END, "end"),
    (2, "connect"),
    (3, "disconnect"),
    (4, "handshake_success"),
    (5, "handshake_failure"),
    (6, "auth_attempt"),
    (7, "auth_success"),
    (8, "auth_failure"),
    (9, "global_request"),
    (10, "channel_open"),
    (11, "exec"),
    (12, "pty"),
    (13, "shell"),
    (14, "env"),
    (15, "subsystem"),
    (16, "window_change"),
    (17, "signal"),
    (18, "x11"),
    (19, "direct_tcpip"),
    (20, "tcpip_forward"),
    (21, "cancel_tcpip_forward"),
    (22, "forwarded_tcpip"),
    (23, "exit_status"),
    (24, "exit_signal"),
    (25, "channel_close"),
    (26, "io"),
    (27, "stream_total"),
    (28, "recording_gap"),
    (64, "login"),
    (65, "action"),
    (66, "tty_input"),
    (67, "logout"),
];

/// Authentication methods inside auth records: (number, name).
pub const AUTH_METHODS: &[(u64, &str)] = &[
    (0, "none"),
    (1, "password"),
    (2, "publickey"),
    (3, "keyboard_interactive"),
    (4, "gssapi"),
    (5, "certificate"),
];

/// Streams of io records: (number, name).
pub const STREAMS: &[(u64, &str)] = &[(0, "stdin"), (1, "stdout"), (2, "stderr")];

/// The name of a kind number, if this version knows it.
pub fn kind_name(kind: u64) -> Option<&'static str> {
    KINDS
        .iter()
        .find(|(n, _)| *n == kind)
        .map(|(_, name)| *name)
}

fn number_of(name: &str) -> u64 {
    // Every Message variant has an entry (checked by tests/format_doc.rs); fall back to an
    // impossible number rather than panic.
    KINDS
        .iter()
        .find(|(_, n)| *n == name)
        .map_or(u64::MAX, |(k, _)| *k)
}

pub(crate) fn name_of(m: &Message) -> &'static str {
    match m {
        Message::Connect { .. } => "connect",
        Message::Disconnect { .. } => "disconnect",
        Message::HandshakeSuccess { .. } => "handshake_success",
        Message::HandshakeFailure { .. } => "handshake_failure",
        Message::AuthAttempt { .. } => "auth_attempt",
        Message::AuthSuccess { .. } => "auth_success",
        Message::AuthFailure { .. } => "auth_failure",
        Message::GlobalRequest { .. } => "global_request",
        Message::ChannelOpen { .. } => "channel_open",
        Message::Exec { .. } => "exec",
        Message::Pty { .. } => "pty",
        Message::Shell { .. } => "shell",
        Message::Env { .. } => "env",
        Message::Subsystem { .. } => "subsystem",
        Message::WindowChange { .. } => "window_change",
        Message::Signal { .. } => "signal",
        Message::X11 { .. } => "x11",
        Message::DirectTcpip { .. } => "direct_tcpip",
        Message::TcpipForward { .. } => "tcpip_forward",
        Message::CancelTcpipForward { .. } => "cancel_tcpip_forward",
        Message::ForwardedTcpip { .. } => "forwarded_tcpip",
        Message::ExitStatus { .. } => "exit_status",
        Message::ExitSignal { .. } => "exit_signal",
        Message::ChannelClose { .. } => "channel_close",
        Message::Io { .. } => "io",
        Message::StreamTotal { .. } => "stream_total",
        Message::RecordingGap { .. } => "recording_gap",
        Message::Login(_) => "login",
        Message::Action(_) => "action",
        Message::TtyInput { .. } => "tty_input",
        Message::Logout { .. } => "logout",
    }
}

/// The kind number a message is written with.
pub fn kind_number(m: &Message) -> u64 {
    number_of(name_of(m))
}

fn put_method(b: &mut Vec<u8>, m: &AuthMethod) {
    use wire::put_str as s;
    match m {
        AuthMethod::None => wire::put_varint(b, 0),
        AuthMethod::Password => wire::put_varint(b, 1),
        AuthMethod::Publickey {
            key_type,
            fingerprint,
        } => {
            wire::put_varint(b, 2);
            s(b, key_type);
            s(b, fingerprint);
        }
        AuthMethod::KeyboardInteractive => wire::put_varint(b, 3),
        AuthMethod::Gssapi { principal } => {
            wire::put_varint(b, 4);
            s(b, principal);
        }
        AuthMethod::Certificate {
            key_type,
            fingerprint,
            key_id,
            serial,
            ca_key_type,
            ca_fingerprint,
        } => {
            wire::put_varint(b, 5);
            s(b, key_type);
            s(b, fingerprint);
            s(b, key_id);
            wire::put_varint(b, *serial);
            s(b, ca_key_type);
            s(b, ca_fingerprint);
        }
    }
}

fn get_method(d: &mut Dec) -> Result<AuthMethod, WireError> {
    Ok(match d.varint()? {
        0 => AuthMethod::None,
        1 => AuthMethod::Password,
        2 => AuthMethod::Publickey {
            key_type: d.str()?,
            fingerprint: d.str()?,
        },
        3 => AuthMethod::KeyboardInteractive,
        4 => AuthMethod::Gssapi {
            principal: d.str()?,
        },
        5 => AuthMethod::Certificate {
            key_type: d.str()?,
            fingerprint: d.str()?,
            key_id: d.str()?,
            serial: d.varint()?,
            ca_key_type: d.str()?,
            ca_fingerprint: d.str()?,
        },
        _ => return Err("unknown authentication method"),
    })
}

fn stream_number(s: Stream) -> u64 {
    match s {
        Stream::Stdin => 0,
        Stream::Stdout => 1,
        Stream::Stderr => 2,
    }
}

fn get_stream(d: &mut Dec) -> Result<Stream, WireError> {
    match d.varint()? {
        0 => Ok(Stream::Stdin),
        1 => Ok(Stream::Stdout),
        2 => Ok(Stream::Stderr),
        _ => Err("unknown stream"),
    }
}

/// Appends `kind` and the fields of `m` to `b`.
pub(crate) fn encode(b: &mut Vec<u8>, m: &Message) {
    use wire::{put_bool as flag, put_bytes as bytes, put_str as s, put_varint as n};
    n(b, kind_number(m));
    match m {
        Message::Connect {
            remote_addr,
            local_addr,
            connection_id,
        } => {
            s(b, remote_addr);
            s(b, local_addr);
            s(b, connection_id);
        }
        Message::Disconnect { reason } => s(b, reason),
        Message::HandshakeSuccess { client_version } => s(b, client_version),
        Message::HandshakeFailure {
            client_version,
            reason,
        } => {
            s(b, client_version);
            s(b, reason);
        }
        Message::AuthAttempt { user, method } | Message::AuthSuccess { user, method } => {
            s(b, user);
            put_method(b, method);
        }
        Message::AuthFailure {
            user,
            method,
            reason,
        } => {
            s(b, user);
            put_method(b, method);
            s(b, reason);
        }
        Message::GlobalRequest {
            request_type,
            want_reply,
        } => {
            s(b, request_type);
            flag(b, *want_reply);
        }
        Message::ChannelOpen {
            channel,
            channel_type,
        } => {
            n(b, u64::from(*channel));
            s(b, channel_type);
        }
        Message::Exec { channel, program } => {
            n(b, u64::from(*channel));
            s(b, program);
        }
        Message::Pty {
            channel,
            term,
            columns,
            rows,
            width_px,
            height_px,
            modes,
        } => {
            n(b, u64::from(*channel));
            s(b, term);
            for v in [columns, rows, width_px, height_px] {
                n(b, u64::from(*v));
            }
            bytes(b, modes);
        }
        Message::Shell { channel } | Message::ChannelClose { channel } => {
            n(b, u64::from(*channel));
        }
        Message::Env {
            channel,
            name,
            value,
        } => {
            n(b, u64::from(*channel));
            s(b, name);
            s(b, value);
        }
        Message::Subsystem { channel, subsystem } => {
            n(b, u64::from(*channel));
            s(b, subsystem);
        }
        Message::WindowChange {
            channel,
            columns,
            rows,
            width_px,
            height_px,
        } => {
            for v in [channel, columns, rows, width_px, height_px] {
                n(b, u64::from(*v));
            }
        }
        Message::Signal { channel, signal } => {
            n(b, u64::from(*channel));
            s(b, signal);
        }
        Message::X11 {
            channel,
            single_connection,
            auth_protocol,
            screen,
        } => {
            n(b, u64::from(*channel));
            flag(b, *single_connection);
            s(b, auth_protocol);
            n(b, u64::from(*screen));
        }
        Message::DirectTcpip {
            channel,
            host,
            port,
            originator_host,
            originator_port,
        } => {
            n(b, u64::from(*channel));
            s(b, host);
            n(b, u64::from(*port));
            s(b, originator_host);
            n(b, u64::from(*originator_port));
        }
        Message::TcpipForward {
            bind_host,
            bind_port,
        }
        | Message::CancelTcpipForward {
            bind_host,
            bind_port,
        } => {
            s(b, bind_host);
            n(b, u64::from(*bind_port));
        }
        Message::ForwardedTcpip {
            channel,
            bind_host,
            bind_port,
            originator_host,
            originator_port,
        } => {
            n(b, u64::from(*channel));
            s(b, bind_host);
            n(b, u64::from(*bind_port));
            s(b, originator_host);
            n(b, u64::from(*originator_port));
        }
        Message::ExitStatus { channel, status } => {
            n(b, u64::from(*channel));
            n(b, u64::from(*status));
        }
        Message::ExitSignal {
            channel,
            signal,
            core_dumped,
            message,
        } => {
            n(b, u64::from(*channel));
            s(b, signal);
            flag(b, *core_dumped);
            s(b, message);
        }
        Message::Io {
            channel,
            stream,
            data,
        } => {
            n(b, u64::from(*channel));
            n(b, stream_number(*stream));
            bytes(b, data);
        }
        Message::StreamTotal {
            channel,
            stream,
            bytes: total,
            sha256,
        } => {
            n(b, u64::from(*channel));
            n(b, stream_number(*stream));
            n(b, *total);
            bytes(b, sha256);
        }
        Message::RecordingGap {
            channel,
            stream,
            from,
            to,
        } => {
            n(b, u64::from(*channel));
            n(b, stream_number(*stream));
            n(b, *from);
            n(b, *to);
        }
        Message::Login(l) => encode_login(b, l),
        Message::Action(a) => encode_action(b, a),
        Message::TtyInput { pid, data } => {
            s(b, pid);
            bytes(b, data);
        }
        Message::Logout {
            reason,
            duration_ms,
        } => {
            s(b, reason);
            n(b, *duration_ms);
        }
    }
}

fn encode_login(b: &mut Vec<u8>, l: &Login) {
    use wire::{put_bool, put_str as s, put_varint as n};
    s(b, &l.user);
    s(b, &l.user_id);
    s(b, &l.method);
    s(b, &l.source_ip);
    put_bool(b, l.source_port.is_some());
    if let Some(p) = l.source_port {
        n(b, u64::from(p));
    }
    put_bool(b, l.pid.is_some());
    if let Some(p) = l.pid {
        n(b, u64::from(p));
    }
    put_bool(b, l.audit_session.is_some());
    if let Some(ses) = &l.audit_session {
        s(b, ses);
    }
    wire::put_map(b, &l.details);
}

fn encode_action(b: &mut Vec<u8>, a: &Action) {
    use wire::{put_bool, put_str as s};
    s(b, &a.action);
    put_bool(b, a.succeeded);
    s(b, &a.record_type);
    put_bool(b, a.sequence.is_some());
    if let Some(seq) = a.sequence {
        wire::put_varint(b, seq);
    }
    for field in [&a.pid, &a.ppid, &a.uid, &a.euid, &a.exe, &a.cwd] {
        s(b, field);
    }
    wire::put_strs(b, &a.argv);
    for field in [&a.object_type, &a.object_primary, &a.object_secondary] {
        s(b, field);
    }
    wire::put_strs(b, &a.keys);
    wire::put_map(b, &a.details);
}

/// Decodes the fields of a known message kind; `Ok(None)` for a kind this version does not
/// know (including the codec kinds `header` and `end`, which the caller handles first).
pub(crate) fn decode(kind: u64, d: &mut Dec) -> Result<Option<Message>, WireError> {
    let m = match kind {
        2 => Message::Connect {
            remote_addr: d.str()?,
            local_addr: d.str()?,
            connection_id: d.str()?,
        },
        3 => Message::Disconnect { reason: d.str()? },
        4 => Message::HandshakeSuccess {
            client_version: d.str()?,
        },
        5 => Message::HandshakeFailure {
            client_version: d.str()?,
            reason: d.str()?,
        },
        6 => Message::AuthAttempt {
            user: d.str()?,
            method: get_method(d)?,
        },
        7 => Message::AuthSuccess {
            user: d.str()?,
            method: get_method(d)?,
        },
        8 => Message::AuthFailure {
            user: d.str()?,
            method: get_method(d)?,
            reason: d.str()?,
        },
        9 => Message::GlobalRequest {
            request_type: d.str()?,
            want_reply: d.bool()?,
        },
        10 => Message::ChannelOpen {
            channel: d.u32()?,
            channel_type: d.str()?,
        },
        11 => Message::Exec {
            channel: d.u32()?,
            program: d.str()?,
        },
        12 => Message::Pty {
            channel: d.u32()?,
            term: d.str()?,
            columns: d.u32()?,
            rows: d.u32()?,
            width_px: d.u32()?,
            height_px: d.u32()?,
            modes: d.bytes()?,
        },
        13 => Message::Shell { channel: d.u32()? },
        14 => Message::Env {
            channel: d.u32()?,
            name: d.str()?,
            value: d.str()?,
        },
        15 => Message::Subsystem {
            channel: d.u32()?,
            subsystem: d.str()?,
        },
        16 => Message::WindowChange {
            channel: d.u32()?,
            columns: d.u32()?,
            rows: d.u32()?,
            width_px: d.u32()?,
            height_px: d.u32()?,
        },
        17 => Message::Signal {
            channel: d.u32()?,
            signal: d.str()?,
        },
        18 => Message::X11 {
            channel: d.u32()?,
            single_connection: d.bool()?,
            auth_protocol: d.str()?,
            screen: d.u32()?,
        },
        19 => Message::DirectTcpip {
            channel: d.u32()?,
            host: d.str()?,
            port: d.u32()?,
            originator_host: d.str()?,
            originator_port: d.u32()?,
        },
        20 => Message::TcpipForward {
            bind_host: d.str()?,
            bind_port: d.u32()?,
        },
        21 => Message::CancelTcpipForward {
            bind_host: d.str()?,
            bind_port: d.u32()?,
        },
        22 => Message::ForwardedTcpip {
            channel: d.u32()?,
            bind_host: d.str()?,
            bind_port: d.u32()?,
            originator_host: d.str()?,
            originator_port: d.u32()?,
        },
        23 => Message::ExitStatus {
            channel: d.u32()?,
            status: d.u32()?,
        },
        24 => Message::ExitSignal {
            channel: d.u32()?,
            signal: d.str()?,
            core_dumped: d.bool()?,
            message: d.str()?,
        },
        25 => Message::ChannelClose { channel: d.u32()? },
        26 => Message::Io {
            channel: d.u32()?,
            stream: get_stream(d)?,
            data: d.bytes()?,
        },
        27 => Message::StreamTotal {
            channel: d.u32()?,
            stream: get_stream(d)?,
            bytes: d.varint()?,
            sha256: d.bytes()?,
        },
        28 => Message::RecordingGap {
            channel: d.u32()?,
            stream: get_stream(d)?,
            from: d.varint()?,
            to: d.varint()?,
        },
        64 => Message::Login(Login {
            user: d.str()?,
            user_id: d.str()?,
            method: d.str()?,
            source_ip: d.str()?,
            source_port: d.opt(Dec::u16)?,
            pid: d.opt(Dec::u32)?,
            audit_session: d.opt(Dec::str)?,
            details: d.map()?,
        }),
        65 => Message::Action(Action {
            action: d.str()?,
            succeeded: d.bool()?,
            record_type: d.str()?,
            sequence: d.opt(Dec::varint)?,
            pid: d.str()?,
            ppid: d.str()?,
            uid: d.str()?,
            euid: d.str()?,
            exe: d.str()?,
            cwd: d.str()?,
            argv: d.strs()?,
            object_type: d.str()?,
            object_primary: d.str()?,
            object_secondary: d.str()?,
            keys: d.strs()?,
            details: d.map()?,
        }),
        66 => Message::TtyInput {
            pid: d.str()?,
            data: d.bytes()?,
        },
        67 => Message::Logout {
            reason: d.str()?,
            duration_ms: d.varint()?,
        },
        _ => return Ok(None),
    };
    Ok(Some(m))
}
