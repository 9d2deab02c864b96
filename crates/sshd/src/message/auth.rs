//! Authentication results and refusals: the lines that say who tried to log in and how.

use super::anchor::{proto_split, rfind_peer, rfind_peer_after, tail_end, tail_proto};
use super::{Auth, CertInfo, Event, KeyInfo, NotAllowedReason, Outcome};

/// `<method> for [invalid user ]<user> from <ip> port <n> <proto>[: <details>]`
pub(super) fn auth(outcome: Outcome, rest: &str) -> Option<Event<'_>> {
    // The method is one token written by sshd; everything up to the peer is the user.
    let (method, rest) = rest.split_once(" for ")?;
    if method.is_empty() || method.contains(' ') {
        return None;
    }
    let found = rfind_peer_after(rest, " from", tail_proto)?;
    let (proto, details) = proto_split(found.tail)?;
    let (user, invalid_user) = split_invalid(found.left, "invalid user ");
    let (key, details) = match details {
        Some(d) => match parse_key_info(d) {
            Some((key, more)) => (Some(key), more),
            None => (None, Some(d)),
        },
        None => (None, None),
    };
    Some(Event::Auth(Auth {
        outcome,
        method,
        user,
        invalid_user,
        peer: found.peer,
        proto,
        key,
        details,
    }))
}

/// After `Accepted `: a login (`Accepted <method> for …`) or one of the VERBOSE key/cert
/// match lines (`Accepted key …`, `Accepted certificate ID …`).
pub(super) fn accepted_like(rest: &str) -> Option<Event<'_>> {
    if let Some(r) = rest.strip_prefix("key ") {
        if let Some(ev) = key_matched(r) {
            return Some(ev);
        }
    }
    if let Some(r) = rest.strip_prefix("certificate ID ") {
        if let Some(ev) = cert_matched(r) {
            return Some(ev);
        }
    }
    auth(Outcome::Accepted, rest)
}

fn split_invalid<'a>(s: &'a str, marker: &str) -> (&'a str, bool) {
    match s.strip_prefix(marker) {
        Some(user) => (user, true),
        None => (s, false),
    }
}

/// A key type as sshd prints it: `ED25519`, `RSA-CERT`, `ECDSA-SK`, `SK-ECDSA-CERT`, `DSA`.
fn is_key_type(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
}

/// `SHA256:<base64>` or `MD5:<hex pairs>`.
fn is_fingerprint(s: &str) -> bool {
    (s.starts_with("SHA256:") || s.starts_with("MD5:") || s.starts_with("SHA1:"))
        && !s.contains([' ', ','])
}

/// `<type> <fp>[ ID <id> (serial <n>) CA <type> <fp>][, <more>]` → key info and `<more>`.
pub(super) fn parse_key_info(s: &str) -> Option<(KeyInfo<'_>, Option<&str>)> {
    let (key_type, rest) = s.split_once(' ')?;
    if !is_key_type(key_type) {
        return None;
    }
    // OpenSSH 7.x wrote certificates as `<type> ID …`, without the key's fingerprint.
    let (fingerprint, rest) = if rest.starts_with("ID ") {
        (None, &s[key_type.len()..])
    } else {
        let fp_end = rest.find([' ', ',']).unwrap_or(rest.len());
        let fingerprint = &rest[..fp_end];
        if !is_fingerprint(fingerprint) {
            return None;
        }
        (Some(fingerprint), &rest[fp_end..])
    };
    let key = |cert| KeyInfo {
        key_type,
        fingerprint,
        cert,
    };
    if rest.is_empty() {
        return Some((key(None), None));
    }
    if let Some(more) = rest.strip_prefix(", ") {
        return Some((key(None), Some(more)));
    }
    let cert_text = rest.strip_prefix(" ID ")?;
    let (cert, more) = parse_cert_tail(cert_text)?;
    Some((key(Some(cert)), more))
}

/// `<id> (serial <n>) CA <type> <fp>[, <more>]`; the id is found from the right because a
/// CA may put any text in it.
fn parse_cert_tail(s: &str) -> Option<(CertInfo<'_>, Option<&str>)> {
    let mut end = s.len();
    while let Some(pos) = s[..end].rfind(" (serial ") {
        end = pos;
        let after = &s[pos + " (serial ".len()..];
        let Some((serial, after)) = after.split_once(") CA ") else {
            continue;
        };
        let Ok(serial) = serial.parse::<u64>() else {
            continue;
        };
        let Some((ca_key_type, after)) = after.split_once(' ') else {
            continue;
        };
        let fp_end = after.find([' ', ',']).unwrap_or(after.len());
        let ca_fingerprint = &after[..fp_end];
        let more = &after[fp_end..];
        let more = if more.is_empty() {
            None
        } else if let Some(m) = more.strip_prefix(", ") {
            Some(m)
        } else {
            continue;
        };
        if !is_key_type(ca_key_type) || !is_fingerprint(ca_fingerprint) {
            continue;
        }
        return Some((
            CertInfo {
                id: unquote(&s[..pos]),
                serial,
                ca_key_type,
                ca_fingerprint,
            },
            more,
        ));
    }
    None
}

fn unquote(s: &str) -> &str {
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// `Accepted key <type> <fp> found at <file>:<line>`
fn key_matched(rest: &str) -> Option<Event<'_>> {
    let (key_type, rest) = rest.split_once(' ')?;
    let (fingerprint, location) = rest.split_once(" found at ")?;
    if !is_key_type(key_type) || !is_fingerprint(fingerprint) {
        return None;
    }
    Some(Event::KeyMatched {
        key_type,
        fingerprint,
        location,
    })
}

/// `Accepted certificate ID "<id>" (serial <n>) signed by <type> CA <fp> via <source>`
fn cert_matched(rest: &str) -> Option<Event<'_>> {
    // The tail `via <source>` is sshd's own; the id may contain anything, so work from the
    // rightmost `) signed by ` whose remainder has the right shape.
    let mut end = rest.len();
    while let Some(pos) = rest[..end].rfind(") signed by ") {
        end = pos;
        let after = &rest[pos + ") signed by ".len()..];
        let Some((ca_key_type, after)) = after.split_once(" CA ") else {
            continue;
        };
        let (ca_fingerprint, via) = match after.split_once(" via ") {
            Some((fp, via)) => (fp, Some(via)),
            None => (after, None),
        };
        if !is_key_type(ca_key_type) || !is_fingerprint(ca_fingerprint) {
            continue;
        }
        let head = &rest[..pos];
        let Some(serial_pos) = head.rfind(" (serial ") else {
            continue;
        };
        let Ok(serial) = head[serial_pos + " (serial ".len()..].parse::<u64>() else {
            continue;
        };
        return Some(Event::CertMatched {
            cert: CertInfo {
                id: unquote(&head[..serial_pos]),
                serial,
                ca_key_type,
                ca_fingerprint,
            },
            via,
        });
    }
    None
}

/// `Invalid user <user> from <ip> port <n>`
pub(super) fn invalid_user(rest: &str) -> Option<Event<'_>> {
    let found = rfind_peer_after(rest, " from", tail_end)?;
    Some(Event::InvalidUser {
        user: found.left,
        peer: Some(found.peer),
    })
}

/// `maximum authentication attempts exceeded for [invalid user ]<user> from <ip> port <n>
/// ssh2`
pub(super) fn max_attempts(rest: &str) -> Option<Event<'_>> {
    let found = rfind_peer_after(rest, " from", |t| {
        t.is_empty() || proto_split(t).is_some_and(|(_, d)| d.is_none())
    })?;
    let (user, invalid_user) = split_invalid(found.left, "invalid user ");
    Some(Event::MaxAttempts {
        user,
        invalid_user,
        peer: found.peer,
    })
}

/// `<ip> port <n>` after `ROOT LOGIN REFUSED FROM `
pub(super) fn root_refused(rest: &str) -> Option<Event<'_>> {
    let found = rfind_peer(rest, |left, tail| left.is_empty() && tail.is_empty())?;
    Some(Event::RootRefused { peer: found.peer })
}

const NOT_ALLOWED: &[(&str, NotAllowedReason)] = &[
    ("listed in DenyUsers", NotAllowedReason::DenyUsers),
    ("not listed in AllowUsers", NotAllowedReason::AllowUsers),
    (
        "a group is listed in DenyGroups",
        NotAllowedReason::DenyGroups,
    ),
    (
        "none of user's groups are listed in AllowGroups",
        NotAllowedReason::AllowGroups,
    ),
    ("not in any group", NotAllowedReason::NoGroup),
    ("account is locked", NotAllowedReason::Locked),
];

/// `<user> [from <host>] not allowed because <reason>`
pub(super) fn not_allowed(rest: &str) -> Option<Event<'_>> {
    // The reason is sshd's text (plus an admin-set shell path), so the rightmost
    // " not allowed because " is the real one.
    let pos = rest.rfind(" not allowed because ")?;
    let reason_text = &rest[pos + " not allowed because ".len()..];
    let head = &rest[..pos];
    let reason = NOT_ALLOWED
        .iter()
        .find(|(text, _)| *text == reason_text)
        .map(|(_, r)| *r)
        .or_else(|| {
            let shell = reason_text.strip_prefix("shell ")?;
            if shell.ends_with(" does not exist") {
                Some(NotAllowedReason::ShellMissing)
            } else if shell.ends_with(" is not executable") {
                Some(NotAllowedReason::ShellNotExecutable)
            } else {
                None
            }
        })
        .unwrap_or(NotAllowedReason::Other);
    // sshd writes `from <host>` for the Allow/Deny rules but not for shell or lock checks.
    let (user, host) = match reason {
        NotAllowedReason::ShellMissing
        | NotAllowedReason::ShellNotExecutable
        | NotAllowedReason::Locked => (head, None),
        _ => match head.rsplit_once(" from ") {
            Some((user, host)) if !host.is_empty() && !host.contains(' ') => (user, Some(host)),
            _ => (head, None),
        },
    };
    if user.is_empty() {
        return None;
    }
    Some(Event::NotAllowed {
        user,
        host,
        reason,
        reason_text,
    })
}

/// `Authentication refused: <reason>`; StrictModes names the offending path last.
pub(super) fn auth_refused(reason: &str) -> Event<'_> {
    let path = reason
        .strip_prefix("bad ownership or modes for ")
        .and_then(|r| {
            r.strip_prefix("file ")
                .or_else(|| r.strip_prefix("directory "))
        });
    Event::AuthRefused { reason, path }
}

/// `<type> <fp> revoked by file <file>` (or `… revoked by <source>`), after
/// `Authentication key `.
pub(super) fn key_revoked(rest: &str) -> Option<Event<'_>> {
    let (key_type, rest) = rest.split_once(' ')?;
    let (fingerprint, rest) = rest.split_once(" revoked")?;
    if !is_key_type(key_type) || !is_fingerprint(fingerprint) {
        return None;
    }
    let file = rest
        .strip_prefix(" by file ")
        .or_else(|| rest.strip_prefix(" by "))
        .filter(|f| !f.is_empty());
    Some(Event::KeyRevoked {
        key_type,
        fingerprint,
        file,
    })
}
