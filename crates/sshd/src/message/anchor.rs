//! Finding the peer address that sshd itself appended, from the right.
//!
//! sshd writes client-chosen text (user names) to the left of `<ip> port <n>` and only its
//! own fixed text to the right of it. So the peer is the *rightmost* `<ip> port <n>` whose
//! tail is exactly what sshd appends for that message. A user name that contains
//! ` from 6.6.6.6 port 4444 ssh2` sits to the left of the real one and never wins.

use std::net::IpAddr;

/// Where a connection comes from, as sshd logged it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    /// `None` when sshd logged `UNKNOWN` (the socket was already gone).
    pub ip: Option<IpAddr>,
    /// Port as logged (sshd logs 65535 for an unknown peer).
    pub port: u16,
}

/// A peer found in a message, with the text around it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found<'a> {
    /// Everything left of the address token, without the separating space.
    pub left: &'a str,
    pub peer: Peer,
    /// Everything right of the port digits.
    pub tail: &'a str,
}

/// Parses an address token as sshd prints it: dotted IPv4, IPv6 (possibly with a `%zone`,
/// which is dropped), or `UNKNOWN`.
pub(crate) fn parse_ip(token: &str) -> Option<Option<IpAddr>> {
    if token == "UNKNOWN" {
        return Some(None);
    }
    let addr = token.split_once('%').map_or(token, |(a, _)| a);
    // Cheap pre-check keeps the std parser off user text that cannot be an address.
    let plausible = !addr.is_empty()
        && addr.len() <= 45
        && addr
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || c == b'.' || c == b':');
    if !plausible {
        return None;
    }
    addr.parse::<IpAddr>().ok().map(Some)
}

/// Parses 1 to 5 ASCII digits as a port.
pub(crate) fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Finds the rightmost `<ip> port <digits>` in `s` for which `accept(left, tail)` holds:
/// `left` is the text before the address (without the separating space), `tail` the text
/// after the port digits.
pub(crate) fn rfind_peer<'a>(
    s: &'a str,
    accept: impl Fn(&'a str, &'a str) -> bool,
) -> Option<Found<'a>> {
    let bytes = s.as_bytes();
    let mut end = s.len();
    while let Some(pos) = s[..end].rfind(" port ") {
        end = pos;
        let after = pos + 6;
        let digits_end = bytes[after..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .map_or(s.len(), |n| after + n);
        let Some(port) = parse_port(&s[after..digits_end]) else {
            continue;
        };
        let tail = &s[digits_end..];
        let token_start = s[..pos].rfind(' ').map_or(0, |n| n + 1);
        let left = if token_start == 0 {
            ""
        } else {
            &s[..token_start - 1]
        };
        if !accept(left, tail) {
            continue;
        }
        let Some(ip) = parse_ip(&s[token_start..pos]) else {
            continue;
        };
        return Some(Found {
            left,
            peer: Peer { ip, port },
            tail,
        });
    }
    None
}

/// [`rfind_peer`] for `<keyword> <ip> port <n><tail>`: `left` comes back without `keyword`.
pub(crate) fn rfind_peer_after<'a>(
    s: &'a str,
    keyword: &str,
    tail_ok: impl Fn(&str) -> bool,
) -> Option<Found<'a>> {
    let found = rfind_peer(s, |left, tail| left.ends_with(keyword) && tail_ok(tail))?;
    Some(Found {
        left: &found.left[..found.left.len() - keyword.len()],
        ..found
    })
}

/// True when `s` is empty.
pub(crate) fn tail_end(s: &str) -> bool {
    s.is_empty()
}

/// The tail sshd appends to authentication results: ` ssh2` (or ` ssh1` in old logs),
/// optionally followed by `: <details>`.
pub(crate) fn tail_proto(s: &str) -> bool {
    proto_split(s).is_some()
}

/// Splits a ` <proto>[: details]` tail into the protocol and the details.
pub(crate) fn proto_split(s: &str) -> Option<(&str, Option<&str>)> {
    let rest = s.strip_prefix(' ')?;
    let (proto, details) = match rest.split_once(": ") {
        Some((p, d)) => (p, Some(d)),
        None => (rest, None),
    };
    if proto == "ssh2" || proto == "ssh1" {
        Some((proto, details))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rightmost_with_valid_tail_wins() {
        let s = "for eve from 6.6.6.6 port 4444 ssh2 from 127.0.0.1 port 5 ssh2";
        let f = rfind_peer(s, |_, t| tail_proto(t)).unwrap();
        assert_eq!(f.peer.port, 5);
        assert_eq!(f.left, "for eve from 6.6.6.6 port 4444 ssh2 from");
        assert_eq!(f.peer.ip, Some("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn unknown_and_zone() {
        let f = rfind_peer("by UNKNOWN port 65535", |_, t| tail_end(t)).unwrap();
        assert_eq!(f.peer.ip, None);
        let f = rfind_peer("by fe80::1%eth0 port 22", |_, t| tail_end(t)).unwrap();
        assert_eq!(f.peer.ip, Some("fe80::1".parse().unwrap()));
    }
}
