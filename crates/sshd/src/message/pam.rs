//! Lines PAM modules log inside sshd (pam_unix), and sshd's own PAM failure line.

use super::Event;

/// After `pam_unix(`: `<service>:auth): authentication failure; …`, `<service>:session):
/// session opened for user …` or `… session closed for user …`.
pub(super) fn pam_unix(rest: &str) -> Option<Event<'_>> {
    let (service, rest) = rest.split_once(':')?;
    if let Some(rest) = rest.strip_prefix("session): ") {
        if let Some(r) = rest.strip_prefix("session opened for user ") {
            return session_opened(service, r);
        }
        if let Some(user) = rest.strip_prefix("session closed for user ") {
            return Some(Event::SessionClosed { service, user });
        }
        return None;
    }
    let r = rest.strip_prefix("auth): authentication failure; ")?;
    // Fields are fixed `key=value` pairs; rhost is sshd's, user= is last and may hold
    // anything the client sent, so take it from the first `  user=` after rhost.
    let rhost_at = r.find("rhost=")?;
    let after = &r[rhost_at + "rhost=".len()..];
    let rhost_end = after.find(' ').unwrap_or(after.len());
    let rhost = &after[..rhost_end];
    let user = after[rhost_end..]
        .find("user=")
        .map(|n| &after[rhost_end + n + 5..]);
    Some(Event::PamAuthFailure {
        service,
        rhost: (!rhost.is_empty()).then_some(rhost),
        user: user.filter(|u| !u.is_empty()),
    })
}

/// `<user>[(uid=<n>)] by <who>(uid=<n>)`
fn session_opened<'a>(service: &'a str, r: &'a str) -> Option<Event<'a>> {
    let (user, _by) = r.rsplit_once(" by ")?;
    let (user, uid) = match user.strip_suffix(')').and_then(|u| u.rsplit_once("(uid=")) {
        Some((name, uid)) => match uid.parse::<u32>() {
            Ok(uid) => (name, Some(uid)),
            Err(_) => (user, None),
        },
        None => (user, None),
    };
    Some(Event::SessionOpened { service, user, uid })
}

/// `[illegal user ]<user> from <host>` after `PAM: Authentication failure for `.
pub(super) fn pam_error(rest: &str) -> Option<Event<'_>> {
    let (head, host) = rest.rsplit_once(" from ")?;
    if host.is_empty() || host.contains(' ') {
        return None;
    }
    let (user, invalid_user) = match head.strip_prefix("illegal user ") {
        Some(u) => (u, true),
        None => (head, false),
    };
    Some(Event::PamError {
        user,
        invalid_user,
        host,
    })
}
