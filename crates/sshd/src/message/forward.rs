//! Port forwards sshd refused or could not make (`LogLevel VERBOSE` and up).
//!
//! A forward that works is not logged at these levels; one that sshd's configuration
//! refuses, or whose target it cannot reach, is. The host, path and originator in these
//! lines are the client's words, sshd's are the fixed text and the `%d` numbers around
//! them: each parser takes the numbers from where sshd put them (the rightmost ` port
//! <n>`) and lets a hostile name garble at most its own field.

use super::anchor::{parse_ip, parse_port, Peer};
use super::{Event, ForwardKind, RefusedBy};

/// After `refused local port forward: originator ` (AllowTcpForwarding, DisableForwarding
/// or the key's `restrict`): `<originator> port <n>, target <host> port <n>`.
pub(super) fn refused_local(rest: &str) -> Option<Event<'_>> {
    let (left, port) = rest.rsplit_once(" port ")?;
    let port = parse_port(port)?;
    let (originator, target) = originator_and_target(left)?;
    Some(Event::ForwardRefused {
        kind: ForwardKind::Local,
        by: RefusedBy::Disabled,
        client: None,
        originator,
        target,
        port: Some(port),
    })
}

/// After `refused streamlocal port forward: originator `: `<originator> port <n>, target
/// <path>` (the path runs to the end of the line).
pub(super) fn refused_streamlocal(rest: &str) -> Option<Event<'_>> {
    let (originator, target) = originator_and_target(rest)?;
    Some(Event::ForwardRefused {
        kind: ForwardKind::Streamlocal,
        by: RefusedBy::Disabled,
        client: None,
        originator,
        target,
        port: None,
    })
}

/// `<originator> port <n>, target <target>`. The first `, target ` splits them: an
/// OpenSSH client sends an address as the originator (empty for a socket), while the
/// target is whatever its user typed, so text that looks like sshd's stays in the target.
/// An originator that is not an address is left out, not guessed at.
fn originator_and_target(s: &str) -> Option<(Option<Peer>, &str)> {
    let (originator, target) = s.split_once(", target ")?;
    let (address, port) = originator.rsplit_once(" port ")?;
    let originator = match (parse_ip(address), parse_port(port)) {
        (Some(ip), Some(port)) => Some(Peer { ip, port }),
        _ => None,
    };
    Some((originator, target))
}

/// After `Received request ` (PermitOpen, PermitListen, or the key's `permitopen=` /
/// `permitlisten=`): `[from <ip> port <n> ]to connect to host <host> port <n>`, `… to
/// remote forward to host <host> port <n>` or `to connect to path <path>`, each ending in
/// `, but the request was denied.`. OpenSSH 8.x and later name the client for host
/// requests; earlier ones, and 9.2 for paths, do not.
pub(super) fn received_request(rest: &str) -> Option<Event<'_>> {
    let rest = rest.strip_suffix(", but the request was denied.")?;
    let (client, rest) = match rest.strip_prefix("from ") {
        // The client's address is sshd's own text, so it is read from the left.
        Some(from) => {
            let (ip, after) = from.split_once(" port ")?;
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let peer = Peer {
                ip: parse_ip(ip)?,
                port: parse_port(&after[..digits])?,
            };
            (Some(peer), after[digits..].strip_prefix(' ')?)
        }
        None => (None, rest),
    };
    let request = rest.strip_prefix("to ")?;
    let (kind, target, port) = if let Some(path) = request.strip_prefix("connect to path ") {
        (ForwardKind::Streamlocal, path, None)
    } else {
        let (kind, host_port) = if let Some(h) = request.strip_prefix("connect to host ") {
            (ForwardKind::Local, h)
        } else {
            (
                ForwardKind::Remote,
                request.strip_prefix("remote forward to host ")?,
            )
        };
        let (host, port) = host_port.rsplit_once(" port ")?;
        (kind, host, Some(parse_port(port)?))
    };
    Some(Event::ForwardRefused {
        kind,
        by: RefusedBy::NotPermitted,
        client,
        originator: None,
        target,
        port,
    })
}

/// After `connect_to `: a permitted local forward whose target could not be reached,
/// `<host> port <n>: failed.` (every address refused or timed out) or `<host>: unknown
/// host (<resolver's reason>)`.
pub(super) fn connect_to_failed(rest: &str) -> Option<Event<'_>> {
    if let Some(host_port) = rest.strip_suffix(": failed.") {
        let (host, port) = host_port.rsplit_once(" port ")?;
        return Some(Event::ForwardFailed {
            kind: ForwardKind::Local,
            target: host,
            port: Some(parse_port(port)?),
            reason: "failed",
        });
    }
    // The resolver's reason is sshd's text: the last `: unknown host (` is the split.
    let at = rest.rfind(": unknown host (")?;
    let reason = &rest[at + 2..];
    if !reason.ends_with(')') {
        return None;
    }
    Some(Event::ForwardFailed {
        kind: ForwardKind::Local,
        target: &rest[..at],
        port: None,
        reason,
    })
}

/// After `connect to `: one address (or the socket) of a permitted local forward refused
/// the connection at once: `<host> port <n> failed: <strerror>`, port `-2` for a socket.
pub(super) fn connect_failed(rest: &str) -> Option<Event<'_>> {
    let (left, reason) = rest.rsplit_once(" failed: ")?;
    let (target, port) = left.rsplit_once(" port ")?;
    // sshd's PORT_STREAMLOCAL: the target is a unix socket's path.
    let (kind, port) = if port == "-2" {
        (ForwardKind::Streamlocal, None)
    } else {
        (ForwardKind::Local, Some(parse_port(port)?))
    };
    Some(Event::ForwardFailed {
        kind,
        target,
        port,
        reason,
    })
}
