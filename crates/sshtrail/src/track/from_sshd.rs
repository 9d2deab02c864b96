//! One framed sshd log line → the [`SshdFact`] the tracker works with, if it is one.
//!
//! Counting rule: each `Failed …` line and each refusal that names a user
//! (not allowed, root refused, maximum attempts) is a failed login. `Invalid user`, and
//! refusals that name no user (`Certificate invalid`, a revoked key, bad ownership), are
//! notes on the connection: if it then closes unauthenticated without a failure line,
//! that is one failed login with the note as its reason. PAM's own failure lines repeat
//! sshd's `Failed` line and are not counted again, and neither is `Failed none`: that is
//! the client asking which methods exist (every key login starts with one at VERBOSE).

use super::facts::{Login, SshdFact, SshdWhat};
use sshtrail_event::{ActionDetail, Certificate, Object, Origin};
use sshtrail_sshd::framing::Framed;
use sshtrail_sshd::{parse, Auth, Event, ForwardKind, Outcome, Peer, Prefix, RefusedBy, UserState};

/// What a line means to the tracker; `None` for lines that change nothing. A line whose
/// format carries no time (the fifo format) takes `received_ms`, when it was read.
pub fn sshd_fact(framed: &Framed<'_>, received_ms: Option<u64>) -> Option<SshdFact> {
    let pid = framed.pid?;
    let (time_ms, resolution_ms) = line_time(framed, received_ms)?;
    let what = what(framed)?;
    Some(SshdFact {
        time_ms,
        resolution_ms,
        pid,
        ses: framed.audit_session,
        what,
    })
}

/// When a line was logged (ms since the epoch) and how wide its stamp is.
pub(super) fn line_time(framed: &Framed<'_>, received_ms: Option<u64>) -> Option<(u64, u64)> {
    let time_ms = framed
        .timestamp
        .map(|t| (t.unix_seconds().max(0) as u64) * 1000 + u64::from(t.subsec_micros() / 1000))
        .or(received_ms)?;
    let resolution_ms = if framed.whole_seconds { 1000 } else { 1 };
    Some((time_ms, resolution_ms))
}

fn what(framed: &Framed<'_>) -> Option<SshdWhat> {
    let message = parse(&framed.message);
    let ip = |peer: &Peer| peer.ip.map(|ip| ip.to_string());
    let fact = match message.event {
        Event::Auth(auth) => return auth_fact(&auth),
        Event::InvalidUser { user, .. } => SshdWhat::InvalidUser {
            user: user.to_string(),
        },
        Event::NotAllowed {
            user,
            host,
            reason_text,
            ..
        } => SshdWhat::AuthFailure {
            user: user.to_string(),
            ip: host.map(str::to_string),
            port: None,
            method: None,
            reason: format!("not allowed: {reason_text}"),
        },
        Event::RootRefused { peer } => SshdWhat::AuthFailure {
            user: "root".to_string(),
            ip: ip(&peer),
            port: Some(peer.port),
            method: None,
            reason: "root login refused".to_string(),
        },
        Event::MaxAttempts {
            user,
            invalid_user,
            peer,
        } => SshdWhat::AuthFailure {
            user: user.to_string(),
            ip: ip(&peer),
            port: Some(peer.port),
            method: None,
            reason: if invalid_user {
                "maximum authentication attempts exceeded (invalid user)".to_string()
            } else {
                "maximum authentication attempts exceeded".to_string()
            },
        },
        Event::CertInvalid { reason } => SshdWhat::PreauthNote {
            reason: format!("certificate invalid: {reason}"),
        },
        Event::KeyRevoked { .. } => SshdWhat::PreauthNote {
            reason: "key revoked".to_string(),
        },
        Event::AuthRefused { reason, .. } => SshdWhat::PreauthNote {
            reason: format!("authentication refused: {reason}"),
        },
        Event::Timeout { peer } => preauth_end(None, &peer, "timeout before authentication"),
        Event::ConnectionClosed { user, state, peer }
        | Event::Disconnected { user, state, peer }
        | Event::ConnectionReset { user, state, peer } => {
            if before_auth(message.preauth, state) {
                preauth_end(user, &peer, "disconnected before authentication")
            } else {
                SshdWhat::SessionClosed {
                    reason: "disconnected".to_string(),
                }
            }
        }
        Event::Disconnecting {
            user,
            state,
            peer,
            reason,
        } => match (before_auth(message.preauth, state), peer) {
            (true, Some(peer)) => preauth_end(user, &peer, reason),
            _ => SshdWhat::SessionClosed {
                reason: reason.to_string(),
            },
        },
        Event::ReceivedDisconnect { peer, reason, .. } => {
            if message.preauth {
                preauth_end(None, &peer, "disconnected before authentication")
            } else {
                SshdWhat::SessionClosed {
                    reason: format!("received disconnect: {reason}"),
                }
            }
        }
        Event::UserChild { pid: child } => SshdWhat::UserChild { child },
        // sshd exits after `fatal:` (say PAM's setcred failed after `Accepted`): whatever
        // session that process had is over, though no disconnect line will follow.
        Event::Other if message.prefix == Some(Prefix::Fatal) && !message.preauth => {
            SshdWhat::SessionClosed {
                reason: framed.message.trim_end().to_string(),
            }
        }
        Event::SessionClosed { .. } => SshdWhat::SessionClosed {
            reason: "session closed".to_string(),
        },
        Event::SessionStarted { what, .. } => channel_opened(framed.pid, what),
        Event::ForwardRefused {
            kind,
            by,
            target,
            port,
            ..
        } => forward_line(
            framed.pid,
            "refused-forward",
            kind,
            target,
            port,
            match by {
                RefusedBy::Disabled => "forwarding disabled".to_string(),
                RefusedBy::NotPermitted => "not permitted".to_string(),
            },
        ),
        Event::ForwardFailed {
            kind,
            target,
            port,
            reason,
        } => forward_line(
            framed.pid,
            "forward-failed",
            kind,
            target,
            port,
            reason.to_string(),
        ),
        _ => return None,
    };
    Some(fact)
}

/// Whether a disconnect line is about a connection that never authenticated.
fn before_auth(preauth: bool, state: Option<UserState>) -> bool {
    preauth || matches!(state, Some(UserState::Authenticating | UserState::Invalid))
}

fn preauth_end(user: Option<&str>, peer: &Peer, reason: &str) -> SshdWhat {
    SshdWhat::PreauthEnded {
        user: user.map(str::to_string),
        ip: peer.ip.map(|ip| ip.to_string()),
        port: Some(peer.port),
        reason: reason.to_string(),
    }
}

fn auth_fact(auth: &Auth<'_>) -> Option<SshdWhat> {
    let ip = auth.peer.ip.map(|ip| ip.to_string());
    match auth.outcome {
        Outcome::Accepted => Some(SshdWhat::Accepted(Login {
            user: auth.user.to_string(),
            method: auth.method.to_string(),
            ip: ip.unwrap_or_else(|| "unknown".to_string()),
            port: auth.peer.port,
            key_type: auth.key.map(|k| k.key_type.to_string()),
            fingerprint: auth.key.and_then(|k| k.fingerprint).map(str::to_string),
            cert: auth.key.and_then(|k| k.cert).map(|c| Certificate {
                id: c.id.to_string(),
                serial: c.serial,
                ca_key_type: c.ca_key_type.to_string(),
                ca_fingerprint: c.ca_fingerprint.to_string(),
            }),
        })),
        Outcome::Failed if auth.method == "none" => None,
        Outcome::Failed => Some(SshdWhat::AuthFailure {
            user: auth.user.to_string(),
            ip,
            port: Some(auth.peer.port),
            method: Some(auth.method.to_string()),
            reason: if auth.invalid_user {
                format!("failed {} (invalid user)", auth.method)
            } else {
                format!("failed {}", auth.method)
            },
        }),
        Outcome::Postponed | Outcome::Partial => None,
    }
}

/// `Starting session: <what>`, where sshd's `<what>` is `shell`, `command`,
/// `subsystem '<name>'` or `forced-command (<from>) '<command>'`, each followed by
/// ` on <tty>` when the channel has a terminal. The user's own command is not in the line
/// (the audit side has it, as the program it executes); a forced command is the
/// administrator's, so its text is kept.
fn channel_opened(pid: Option<u32>, what: &str) -> SshdWhat {
    let (kind, tty) = match what.rsplit_once(" on ") {
        Some((kind, tty)) if is_tty_name(tty) => (kind, Some(tty)),
        _ => (what, None),
    };
    let (channel, how, object) = if let Some(rest) = kind.strip_prefix("subsystem ") {
        let name = rest.trim_matches('\'');
        (format!("subsystem:{name}"), String::new(), name.to_string())
    } else if let Some(rest) = kind.strip_prefix("forced-command ") {
        // `(config) '<command>'` or `(key-option) '<command>'`.
        let (from, command) = match rest.split_once(") ") {
            Some((from, command)) => (from.trim_start_matches('('), command),
            None => ("", rest),
        };
        let command = command
            .strip_prefix('\'')
            .and_then(|c| c.strip_suffix('\''))
            .unwrap_or(command);
        (
            "forced-command".to_string(),
            from.to_string(),
            command.to_string(),
        )
    } else {
        (kind.to_string(), String::new(), kind.to_string())
    };
    SshdWhat::SessionAction {
        outcome: sshtrail_event::Outcome::Succeeded,
        detail: Box::new(ActionDetail {
            origin: Origin::Sshd,
            action: "opened-channel".into(),
            how,
            object: Object {
                kind: "ssh-channel".into(),
                primary: object,
                secondary: String::new(),
            },
            channel: Some(channel),
            tty: tty.map(str::to_string),
            pid: pid.map(|p| p.to_string()),
            exe: None,
            ..ActionDetail::default()
        }),
    }
}

/// `pts/3`, `tty1`: what sshd prints for the channel's terminal (`/dev/` cut off).
fn is_tty_name(name: &str) -> bool {
    (name.starts_with("pts/") || name.starts_with("tty"))
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/')
}

/// A forward sshd refused, or could not make (its target unreachable): only its own line
/// says so, for no system call was made (or the kernel cannot tell: sshd connects without
/// waiting). Failed, in the session of the process that logged it.
fn forward_line(
    pid: Option<u32>,
    action: &'static str,
    kind: ForwardKind,
    target: &str,
    port: Option<u16>,
    how: String,
) -> SshdWhat {
    let primary = match port {
        Some(port) if target.contains(':') => format!("[{target}]:{port}"),
        Some(port) => format!("{target}:{port}"),
        None => target.to_string(),
    };
    SshdWhat::SessionAction {
        outcome: sshtrail_event::Outcome::Failed,
        detail: Box::new(ActionDetail {
            origin: Origin::Sshd,
            action: action.into(),
            how,
            object: Object {
                kind: if port.is_some() { "socket" } else { "file" }.into(),
                primary,
                secondary: String::new(),
            },
            channel: Some(kind.channel().to_string()),
            pid: pid.map(|p| p.to_string()),
            ..ActionDetail::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (channel, tty, how, object) of a `Starting session:` line's `what`.
    fn channel(what: &str) -> (String, Option<String>, String, String) {
        let SshdWhat::SessionAction { detail, outcome } = channel_opened(Some(7), what) else {
            panic!("a session action")
        };
        assert_eq!(outcome, sshtrail_event::Outcome::Succeeded);
        assert_eq!(detail.action, "opened-channel");
        assert_eq!(detail.origin, Origin::Sshd);
        (
            detail.channel.unwrap_or_default(),
            detail.tty,
            detail.how,
            detail.object.primary,
        )
    }

    #[test]
    fn every_kind_of_session_sshd_starts_is_its_channel() {
        // The `what` of real lines from OpenSSH 9.2 (the testbed's captures).
        let pts = Some("pts/0".to_string());
        assert_eq!(
            channel("shell on pts/0"),
            ("shell".into(), pts.clone(), "".into(), "shell".into())
        );
        assert_eq!(
            channel("command"),
            ("command".into(), None, "".into(), "command".into())
        );
        assert_eq!(
            channel("command on pts/0"),
            ("command".into(), pts.clone(), "".into(), "command".into())
        );
        assert_eq!(
            channel("subsystem 'sftp'"),
            ("subsystem:sftp".into(), None, "".into(), "sftp".into())
        );
        assert_eq!(
            channel("forced-command (config) '/bin/echo forced for you on pts/9' on pts/0"),
            (
                "forced-command".into(),
                pts,
                "config".into(),
                "/bin/echo forced for you on pts/9".into()
            )
        );
        // A quote left after ` on `: not a terminal.
        assert_eq!(
            channel("forced-command (key-option) '/bin/echo forced for you on pts/9'").1,
            None
        );
    }

    #[test]
    fn a_refused_forward_is_a_failed_action_naming_its_target() {
        let SshdWhat::SessionAction { detail, outcome } = forward_line(
            Some(7),
            "refused-forward",
            ForwardKind::Local,
            "::1",
            Some(80),
            "not permitted".into(),
        ) else {
            panic!()
        };
        assert_eq!(outcome, sshtrail_event::Outcome::Failed);
        assert_eq!(detail.object.primary, "[::1]:80");
        assert_eq!(detail.channel.as_deref(), Some("direct-tcpip"));
    }
}
