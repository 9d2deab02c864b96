//! One framed sshd log line → the [`SshdFact`] the tracker works with, if it is one.
//!
//! Counting rule (DESIGN.md): each `Failed …` line and each refusal that names a user
//! (not allowed, root refused, maximum attempts) is a failed login. `Invalid user`, and
//! refusals that name no user (`Certificate invalid`, a revoked key, bad ownership), are
//! notes on the connection: if it then closes unauthenticated without a failure line,
//! that is one failed login with the note as its reason. PAM's own failure lines repeat
//! sshd's `Failed` line and are not counted again, and neither is `Failed none`: that is
//! the client asking which methods exist (every key login starts with one at VERBOSE).

use super::facts::{CertIdentity, Login, SshdFact};
use sshtrail_sshd::framing::Framed;
use sshtrail_sshd::{parse, Auth, Event, Outcome, Peer, Prefix, UserState};

/// What a line means to the tracker; `None` for lines that change nothing.
pub fn sshd_fact(framed: &Framed<'_>) -> Option<SshdFact> {
    let pid = framed.pid?;
    let time_ms = framed
        .timestamp
        .map(|t| (t.unix_seconds().max(0) as u64) * 1000 + u64::from(t.subsec_micros() / 1000))?;
    let message = parse(&framed.message);
    let ip = |peer: &Peer| peer.ip.map(|ip| ip.to_string());
    let fact = match message.event {
        Event::Auth(auth) => return auth_fact(time_ms, pid, &auth),
        Event::InvalidUser { user, peer } => SshdFact::InvalidUser {
            time_ms,
            pid,
            user: user.to_string(),
            ip: peer.as_ref().and_then(ip),
            port: peer.map(|p| p.port),
        },
        Event::NotAllowed {
            user,
            host,
            reason_text,
            ..
        } => SshdFact::AuthFailure {
            time_ms,
            pid,
            user: user.to_string(),
            ip: host.map(str::to_string),
            port: None,
            method: None,
            reason: format!("not allowed: {reason_text}"),
        },
        Event::RootRefused { peer } => SshdFact::AuthFailure {
            time_ms,
            pid,
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
        } => SshdFact::AuthFailure {
            time_ms,
            pid,
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
        Event::CertInvalid { reason } => SshdFact::PreauthNote {
            time_ms,
            pid,
            reason: format!("certificate invalid: {reason}"),
        },
        Event::KeyRevoked { .. } => SshdFact::PreauthNote {
            time_ms,
            pid,
            reason: "key revoked".to_string(),
        },
        Event::AuthRefused { reason, .. } => SshdFact::PreauthNote {
            time_ms,
            pid,
            reason: format!("authentication refused: {reason}"),
        },
        Event::Timeout { peer } => {
            preauth_end(time_ms, pid, None, &peer, "timeout before authentication")
        }
        Event::ConnectionClosed { user, state, peer }
        | Event::Disconnected { user, state, peer }
        | Event::ConnectionReset { user, state, peer } => {
            if before_auth(message.preauth, state) {
                preauth_end(
                    time_ms,
                    pid,
                    user,
                    &peer,
                    "disconnected before authentication",
                )
            } else {
                SshdFact::SessionClosed {
                    time_ms,
                    pid,
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
            (true, Some(peer)) => preauth_end(time_ms, pid, user, &peer, reason),
            _ => SshdFact::SessionClosed {
                time_ms,
                pid,
                reason: reason.to_string(),
            },
        },
        Event::ReceivedDisconnect { peer, reason, .. } => {
            if message.preauth {
                preauth_end(
                    time_ms,
                    pid,
                    None,
                    &peer,
                    "disconnected before authentication",
                )
            } else {
                SshdFact::SessionClosed {
                    time_ms,
                    pid,
                    reason: format!("received disconnect: {reason}"),
                }
            }
        }
        Event::UserChild { pid: child } => SshdFact::UserChild {
            time_ms,
            pid,
            child,
        },
        // sshd exits after `fatal:` (say PAM's setcred failed after `Accepted`): whatever
        // session that process had is over, though no disconnect line will follow.
        Event::Other if message.prefix == Some(Prefix::Fatal) && !message.preauth => {
            SshdFact::SessionClosed {
                time_ms,
                pid,
                reason: framed.message.trim_end().to_string(),
            }
        }
        Event::SessionClosed { .. } => SshdFact::SessionClosed {
            time_ms,
            pid,
            reason: "session closed".to_string(),
        },
        _ => return None,
    };
    Some(fact)
}

/// Whether a disconnect line is about a connection that never authenticated.
fn before_auth(preauth: bool, state: Option<UserState>) -> bool {
    preauth || matches!(state, Some(UserState::Authenticating | UserState::Invalid))
}

fn preauth_end(time_ms: u64, pid: u32, user: Option<&str>, peer: &Peer, reason: &str) -> SshdFact {
    SshdFact::PreauthEnded {
        time_ms,
        pid,
        user: user.map(str::to_string),
        ip: peer.ip.map(|ip| ip.to_string()),
        port: Some(peer.port),
        reason: reason.to_string(),
    }
}

fn auth_fact(time_ms: u64, pid: u32, auth: &Auth<'_>) -> Option<SshdFact> {
    let ip = auth.peer.ip.map(|ip| ip.to_string());
    match auth.outcome {
        Outcome::Accepted => Some(SshdFact::Accepted(Login {
            time_ms,
            pid,
            user: auth.user.to_string(),
            method: auth.method.to_string(),
            ip: ip.unwrap_or_else(|| "unknown".to_string()),
            port: auth.peer.port,
            key_type: auth.key.map(|k| k.key_type.to_string()),
            fingerprint: auth.key.and_then(|k| k.fingerprint).map(str::to_string),
            cert: auth.key.and_then(|k| k.cert).map(|c| CertIdentity {
                id: c.id.to_string(),
                serial: c.serial,
                ca_key_type: c.ca_key_type.to_string(),
                ca_fingerprint: c.ca_fingerprint.to_string(),
            }),
        })),
        Outcome::Failed if auth.method == "none" => None,
        Outcome::Failed => Some(SshdFact::AuthFailure {
            time_ms,
            pid,
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
