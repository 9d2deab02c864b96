//! The text timeline: one line per record, `time  kind  summary`, safe to print on a terminal.

use std::fmt::Write as _;
use std::io::{BufWriter, Read, Write};

use super::escape::{self, text as esc};
use super::time::rfc3339_ms;
use crate::message::{Action, AuthMethod, Login};
use crate::{Error, Message, Reader};

/// Io and TTY data longer than this is shortened in the timeline (the JSON export has it all).
const DATA_SHOWN: usize = 512;

/// Writes the timeline. Every string that came from outside is escaped (see
/// [`escape`](super::escape)), so the output never carries raw control bytes.
/// Returns the number of records written.
pub fn text<R: Read>(mut reader: Reader<R>, out: &mut dyn Write) -> Result<u64, Error> {
    let mut out = BufWriter::new(out);
    let h = reader.header();
    writeln!(
        out,
        "{}  session  {}  host {}  machine {}  boot {}",
        rfc3339_ms(h.created_ms),
        esc(&h.session_id),
        esc(&h.host),
        esc(&h.machine_id),
        esc(&h.boot_id)
    )?;
    let mut written = 0;
    for entry in reader.by_ref() {
        let entry = entry?;
        let (kind, summary) = describe(&entry.message);
        writeln!(out, "{}  {kind}  {summary}", rfc3339_ms(entry.time_ms))?;
        written += 1;
    }
    if let Some(end) = reader.end() {
        let mut line = format!("{} records, sealed, {}", end.records, reader.digest());
        if reader.unknown_count() > 0 {
            let _ = write!(line, " ({} of unknown kinds)", reader.unknown_count());
        }
        writeln!(out, "{}  end  {line}", rfc3339_ms(end.time_ms))?;
    }
    out.flush()?;
    Ok(written)
}

fn method(m: &AuthMethod) -> String {
    match m {
        AuthMethod::None => "none".into(),
        AuthMethod::Password => "password".into(),
        AuthMethod::KeyboardInteractive => "keyboard-interactive".into(),
        AuthMethod::Publickey {
            key_type,
            fingerprint,
        } => format!("publickey {} {}", esc(key_type), esc(fingerprint)),
        AuthMethod::Gssapi { principal } => format!("gssapi {}", esc(principal)),
        AuthMethod::Certificate {
            key_type,
            fingerprint,
            key_id,
            serial,
            ca_key_type,
            ca_fingerprint,
        } => format!(
            "certificate {} {} id {} serial {serial} CA {} {}",
            esc(key_type),
            esc(fingerprint),
            escape::word(key_id),
            esc(ca_key_type),
            esc(ca_fingerprint)
        ),
    }
}

fn login(l: &Login) -> String {
    let mut s = format!("{} from {}", esc(&l.user), esc(&l.source_ip));
    if let Some(port) = l.source_port {
        let _ = write!(s, ":{port}");
    }
    let _ = write!(s, " {}", esc(&l.method));
    // The key type and fingerprint read best bare, as sshd prints them.
    for key in ["key_type", "fingerprint"] {
        if let Some(v) = l.details.get(key) {
            let _ = write!(s, " {}", esc(v));
        }
    }
    for (k, v) in &l.details {
        if k != "key_type" && k != "fingerprint" {
            let _ = write!(s, " {}={}", esc(k), escape::word(v));
        }
    }
    if l.user_id != l.user && !l.user_id.is_empty() {
        let _ = write!(s, " as {}", escape::word(&l.user_id));
    }
    if let Some(pid) = l.pid {
        let _ = write!(s, " pid {pid}");
    }
    if let Some(ses) = &l.audit_session {
        let _ = write!(s, " ses {}", esc(ses));
    }
    s
}

fn action(a: &Action) -> String {
    let object = if a.object_primary.is_empty() {
        &a.exe
    } else {
        &a.object_primary
    };
    let mut s = esc(object);
    if !a.object_secondary.is_empty() {
        let _ = write!(s, " {}", esc(&a.object_secondary));
    }
    if !a.argv.is_empty() {
        let argv: Vec<String> = a.argv.iter().map(|w| escape::word(w)).collect();
        let _ = write!(s, "  argv: {}", argv.join(" "));
    }
    // What sshd's and sftp-server's lines add: the channel, its terminal, bytes moved.
    for key in ["channel", "tty", "bytes"] {
        if let Some(value) = a.details.get(key) {
            let _ = write!(s, "  {key} {}", esc(value));
        }
    }
    let _ = write!(s, "  (pid {} uid {}", esc(&a.pid), esc(&a.uid));
    if a.euid != a.uid && !a.euid.is_empty() {
        let _ = write!(s, " euid {}", esc(&a.euid));
    }
    s.push(')');
    if !a.succeeded {
        s.push_str("  FAILED");
    }
    if !a.keys.is_empty() {
        let keys: Vec<String> = a.keys.iter().map(|k| esc(k)).collect();
        let _ = write!(s, "  key {}", keys.join(","));
    }
    s
}

/// (kind column, summary) of one message.
fn describe(m: &Message) -> (String, String) {
    let kind = m.kind_name().to_string();
    let summary = match m {
        Message::Connect {
            remote_addr,
            local_addr,
            connection_id,
        } => format!(
            "from {} to {} id {}",
            esc(remote_addr),
            esc(local_addr),
            esc(connection_id)
        ),
        Message::Disconnect { reason } => esc(reason),
        Message::HandshakeSuccess { client_version } => esc(client_version),
        Message::HandshakeFailure {
            client_version,
            reason,
        } => format!("{}: {}", esc(client_version), esc(reason)),
        Message::AuthAttempt { user, method: m } | Message::AuthSuccess { user, method: m } => {
            format!("{} {}", esc(user), method(m))
        }
        Message::AuthFailure {
            user,
            method: m,
            reason,
        } => format!("{} {}: {}", esc(user), method(m), esc(reason)),
        Message::GlobalRequest {
            request_type,
            want_reply,
        } => format!("{} want_reply={want_reply}", esc(request_type)),
        Message::ChannelOpen {
            channel,
            channel_type,
        } => format!("ch {channel} {}", esc(channel_type)),
        Message::Exec { channel, program } => format!("ch {channel} {}", esc(program)),
        Message::Pty {
            channel,
            term,
            columns,
            rows,
            ..
        } => format!("ch {channel} {} {columns}x{rows}", esc(term)),
        Message::Shell { channel } | Message::ChannelClose { channel } => format!("ch {channel}"),
        Message::Env {
            channel,
            name,
            value,
        } => format!("ch {channel} {}={}", esc(name), escape::word(value)),
        Message::Subsystem { channel, subsystem } => format!("ch {channel} {}", esc(subsystem)),
        Message::WindowChange {
            channel,
            columns,
            rows,
            ..
        } => format!("ch {channel} {columns}x{rows}"),
        Message::Signal { channel, signal } => format!("ch {channel} {}", esc(signal)),
        Message::X11 {
            channel,
            single_connection,
            auth_protocol,
            screen,
        } => format!(
            "ch {channel} screen {screen} {} single={single_connection}",
            esc(auth_protocol)
        ),
        Message::DirectTcpip {
            channel,
            host,
            port,
            originator_host,
            originator_port,
        } => format!(
            "ch {channel} to {}:{port} from {}:{originator_port}",
            esc(host),
            esc(originator_host)
        ),
        Message::TcpipForward {
            bind_host,
            bind_port,
        }
        | Message::CancelTcpipForward {
            bind_host,
            bind_port,
        } => format!("{}:{bind_port}", esc(bind_host)),
        Message::ForwardedTcpip {
            channel,
            bind_host,
            bind_port,
            originator_host,
            originator_port,
        } => format!(
            "ch {channel} from {}:{bind_port} for {}:{originator_port}",
            esc(bind_host),
            esc(originator_host)
        ),
        Message::ExitStatus { channel, status } => format!("ch {channel} status {status}"),
        Message::ExitSignal {
            channel,
            signal,
            core_dumped,
            message,
        } => format!(
            "ch {channel} {}{} {}",
            esc(signal),
            if *core_dumped { " (core dumped)" } else { "" },
            esc(message)
        ),
        Message::StreamTotal {
            channel,
            stream,
            bytes,
            sha256,
        } => {
            let hex: String = sha256.iter().map(|b| format!("{b:02x}")).collect();
            format!(
                "ch {channel} {} {bytes} bytes sha256:{hex}",
                stream_name(*stream)
            )
        }
        Message::RecordingGap {
            channel,
            stream,
            from,
            to,
        } => format!(
            "ch {channel} {} bytes {from}..{to} not recorded",
            stream_name(*stream)
        ),
        Message::Io {
            channel,
            stream,
            data,
        } => {
            let name = stream_name(*stream);
            return (
                name.to_string(),
                format!("ch {channel} \"{}\"", escape::bytes(data, DATA_SHOWN)),
            );
        }
        Message::Login(l) => login(l),
        Message::Action(a) => return (esc(&a.action), action(a)),
        Message::TtyInput { pid, data } => {
            format!("pid {} \"{}\"", esc(pid), escape::bytes(data, DATA_SHOWN))
        }
        Message::Logout {
            reason,
            duration_ms,
        } => format!(
            "{} after {}.{:03} s",
            esc(reason),
            duration_ms / 1000,
            duration_ms % 1000
        ),
    };
    (kind, summary)
}

fn stream_name(stream: crate::Stream) -> &'static str {
    match stream {
        crate::Stream::Stdin => "stdin",
        crate::Stream::Stdout => "stdout",
        crate::Stream::Stderr => "stderr",
    }
}
