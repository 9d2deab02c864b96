//! Connection lifecycle, sessions, scanner noise and DNS warnings.

use super::anchor::{parse_ip, parse_port, rfind_peer, rfind_peer_after, tail_end, Peer};
use super::{Event, Noise, UserState};

/// A message that is exactly `<ip> port <n>`.
pub(super) fn peer_only(rest: &str) -> Option<Peer> {
    rfind_peer(rest, |left, tail| left.is_empty() && tail.is_empty()).map(|f| f.peer)
}

/// Splits `[[authenticating |invalid ]user <user> ]` off the text left of the peer.
fn user_part(left: &str) -> Option<(Option<&str>, Option<UserState>)> {
    if left.is_empty() {
        return Some((None, None));
    }
    if let Some(u) = left.strip_prefix("authenticating user ") {
        return Some((Some(u), Some(UserState::Authenticating)));
    }
    if let Some(u) = left.strip_prefix("invalid user ") {
        return Some((Some(u), Some(UserState::Invalid)));
    }
    if let Some(u) = left.strip_prefix("user ") {
        return Some((Some(u), Some(UserState::Authenticated)));
    }
    None
}

/// `[[authenticating|invalid ]user <user> ]<ip> port <n>` for Connection closed by /
/// Connection reset by / Disconnected from.
pub(super) fn closed_like<'a>(
    rest: &'a str,
    make: impl Fn(Option<&'a str>, Option<UserState>, Peer) -> Event<'a>,
) -> Option<Event<'a>> {
    let found = rfind_peer(rest, |left, tail| {
        tail.is_empty() && user_part(left).is_some()
    })?;
    let (user, state) = user_part(found.left)?;
    Some(make(user, state, found.peer))
}

/// After `Disconnecting`: ` [authenticating|invalid] user <user> <ip> port <n>: <reason>`
/// or the older `: <reason>`.
pub(super) fn disconnecting(rest: &str) -> Option<Event<'_>> {
    if let Some(reason) = rest.strip_prefix(": ") {
        return Some(Event::Disconnecting {
            user: None,
            state: None,
            peer: None,
            reason,
        });
    }
    let rest = rest.strip_prefix(' ')?;
    // sshd's reason follows the rightmost `port <n>: `; the user is to the left.
    let found = rfind_peer(rest, |left, tail| {
        tail.starts_with(": ") && user_part(left).is_some()
    })?;
    let (user, state) = user_part(found.left)?;
    Some(Event::Disconnecting {
        user,
        state,
        peer: Some(found.peer),
        reason: &found.tail[2..],
    })
}

/// `<ip> port <n>:<code>: <reason>` after `Received disconnect from `. No user name here,
/// but the reason is the client's text, so this one is read from the left.
pub(super) fn received_disconnect(rest: &str) -> Option<Event<'_>> {
    let (ip, rest) = rest.split_once(" port ")?;
    let ip = parse_ip(ip)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let port = parse_port(&rest[..digits])?;
    let rest = &rest[digits..];
    let (code, reason) = match rest.strip_prefix(':') {
        Some(r) => match r.split_once(": ") {
            Some((code, reason)) => (code.parse().ok(), reason),
            None => (r.strip_suffix(':').and_then(|c| c.parse().ok()), ""),
        },
        None if rest.is_empty() => (None, ""),
        None => return None,
    };
    Some(Event::ReceivedDisconnect {
        peer: Peer { ip, port },
        code,
        reason,
    })
}

/// `<ip> port <n> on <ip> port <n>[ rdomain "<name>"]` after `Connection from `.
pub(super) fn connection_from(rest: &str) -> Option<Event<'_>> {
    let (remote, local) = rest.split_once(" on ")?;
    let peer = peer_only(remote)?;
    let local_end = local.find(" rdomain ").unwrap_or(local.len());
    let local = peer_only(&local[..local_end])?;
    Some(Event::Connection { peer, local })
}

/// `<ip> port <n>: <reason>` (banner exchange, Unable to negotiate).
pub(super) fn with_reason(noise: Noise, rest: &str) -> Option<Event<'_>> {
    let (peer_text, reason) = rest.split_once(": ").unwrap_or((rest, ""));
    let peer = peer_only(peer_text)?;
    Some(Event::Noise {
        noise,
        peer: Some(peer),
        reason,
    })
}

pub(super) fn noise<'a>(noise: Noise, peer: Option<Peer>, reason: &'a str) -> Event<'a> {
    Event::Noise {
        noise,
        peer,
        reason,
    }
}

/// `'<banner>' from <ip> port <n>` after `Bad protocol version identification ` (the banner
/// is the client's text).
pub(super) fn bad_protocol_version(rest: &str) -> Event<'_> {
    let found = rfind_peer_after(rest, " from", tail_end);
    Event::Noise {
        noise: Noise::BadProtocolVersion,
        peer: found.map(|f| f.peer),
        reason: found.map_or(rest, |f| f.left),
    }
}

/// `<what> for <user> from <ip> port <n> id <n>` after `Starting session: `.
pub(super) fn session_started(rest: &str) -> Option<Event<'_>> {
    let found = rfind_peer_after(rest, " from", session_id_tail)?;
    let id = session_id_tail_value(found.tail)?;
    // `what` is sshd's (shell on pts/N, command, subsystem '…', forced-command …); the
    // user is between the last ` for ` and the peer: an account name holds no space, a
    // forced command's text may hold ` for ` (seen: `forced-command (config) '/bin/echo
    // forced for you on pts/9' on pts/0 for alice from …`).
    let (what, user) = found.left.rsplit_once(" for ")?;
    Some(Event::SessionStarted {
        what,
        user,
        peer: found.peer,
        id,
    })
}

/// `<user> from <ip> port <n> id <n>` after `Close session: user `.
pub(super) fn session_close(rest: &str) -> Option<Event<'_>> {
    let found = rfind_peer_after(rest, " from", session_id_tail)?;
    Some(Event::SessionClose {
        user: found.left,
        peer: found.peer,
        id: session_id_tail_value(found.tail)?,
    })
}

fn session_id_tail(t: &str) -> bool {
    session_id_tail_value(t).is_some()
}

fn session_id_tail_value(t: &str) -> Option<u32> {
    let id = t.strip_prefix(" id ")?;
    if id.is_empty() || !id.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

/// `<name> [<ip>] failed[ - POSSIBLE BREAK-IN ATTEMPT!]` after `reverse mapping checking
/// getaddrinfo for `.
pub(super) fn reverse_mapping(rest: &str) -> Option<Event<'_>> {
    let open = rest.rfind(" [")?;
    let close = open + rest[open..].find(']')?;
    Some(Event::ReverseMapping {
        ip: parse_ip(&rest[open + 2..close]).flatten(),
        hostname: Some(&rest[..open]),
    })
}

/// `<ip> maps to <name>, but this does not map back to the address.` after `Address `.
pub(super) fn address_maps(rest: &str) -> Option<Event<'_>> {
    let (ip, rest) = rest.split_once(" maps to ")?;
    let (name, _) = rest.rsplit_once(", but this does not map back to the address")?;
    Some(Event::ReverseMapping {
        ip: Some(parse_ip(ip)??),
        hostname: Some(name),
    })
}

/// `"<name>" is set up for <ip>, ignoring` after `Nasty PTR record `.
pub(super) fn nasty_ptr(rest: &str) -> Event<'_> {
    let (name, ip) = match rest.rsplit_once(" is set up for ") {
        Some((name, tail)) => (
            Some(name.trim_matches('"')),
            tail.strip_suffix(", ignoring").and_then(parse_ip).flatten(),
        ),
        None => (None, None),
    };
    Event::ReverseMapping { ip, hostname: name }
}
