//! Port forwards, X11 and agent forwarding, told apart among the socket calls of a
//! session's sshd processes.
//!
//! With the `sshtrail-forward` rules of `deploy/sshtrail.rules` the kernel records every
//! `connect`, `bind` and `accept` that sshd makes inside a login session. Some of them are
//! what the user asked the connection to do; [`classify_forward`] picks those out and
//! names them:
//!
//! | what the user did | the record | action | channel | object |
//! |---|---|---|---|---|
//! | `ssh -L port:host:hostport` used once | `connect` to host:hostport | `forwarded-to` | `direct-tcpip` | `ip:port` |
//! | `ssh -L path:path` (or `-L port:path`) used once | `connect` to the socket | `forwarded-to` | `streamlocal` | the path |
//! | `ssh -R port:…` | `bind` of the listening address (IPv4 and IPv6 when it is `localhost`) | `listening-for-forward` | `tcpip-forward` | `ip:port` |
//! | `ssh -R path:…` | `bind` of the socket | `listening-for-forward` | `streamlocal` | the path |
//! | `ssh -X` / `-Y` | `bind` of 127.0.0.1 and ::1, port 6000 + display | `listening-for-x11` | `x11` | `ip:port` |
//! | `ssh -A` | `bind` of `/tmp/ssh-XXXXXXXXXX/agent.<pid>` | `listening-for-agent` | `auth-agent` | the path |
//! | a connection into any of the last four | `accept` | `accepted-forwarded-connection` | none | the peer's `ip:port`, or empty for a unix socket |
//!
//! IPv6 addresses are written `[addr]:port`.
//!
//! # What the kernel shows, and what it does not
//!
//! * Only the forward's *setup*: no byte that flows through a forward is recorded (that
//!   would take a rule on every read and write of sshd).
//! * A local forward (`-L`, `-D`) shows only when it is used, once per connection through
//!   it: opening `-L 8080:db:5432` and never connecting to it leaves no trace in the
//!   kernel. A dynamic (SOCKS, `-D`) forward looks exactly like `-L` to whatever the SOCKS
//!   client asked for.
//! * sshd connects without blocking, so the kernel reports nearly every TCP forward's
//!   `connect` as failed (`EINPROGRESS`): such a `forwarded-to` is written as succeeded
//!   with `how` saying the connect was in progress ([`forward_outcome`]), which does not
//!   say whether the target accepted. When it did not, sshd logs `error: connect_to <host>
//!   port <n>: failed.` (and `… unknown host …` for a name that does not resolve), which the
//!   sshd parser reads as a `forward_failed` message. A unix-socket connect is decided at
//!   once, so its outcome is the forward's.
//! * A refused forward (`AllowTcpForwarding no`, `PermitOpen`, `PermitListen`) never gets
//!   as far as a system call: only sshd's own line says so (`forward_refused`).
//! * X11 and agent forwarding are visible only as the sockets sshd binds for them, and
//!   their use as the connections it accepts on them; which listener an `accept` was on is
//!   not in its record (only the listening file descriptor is), so its channel is left
//!   unset.
//!
//! # What is not a forward
//!
//! The same processes make socket calls of their own, in every session (see the `plain`
//! fixture), and [`classify_forward`] returns `false` for them:
//!
//! * everything of the session's privileged monitor process (PAM's modules: pam_systemd
//!   reaching D-Bus, nss lookups, syslog);
//! * netlink sockets (the C library binds one to list the host's interfaces, for
//!   getaddrinfo);
//! * `connect` to the host's own service sockets: syslog (`/dev/log`, journald's
//!   sockets) and name services (nscd, systemd-userdb, sssd, nslcd), which the C library
//!   reaches for sshd while it resolves names and logs;
//! * a TCP/UDP `connect` that succeeded at once: a datagram socket's, either the DNS
//!   query of a name sshd resolves, or the C library sorting the addresses of a name
//!   (RFC 6724) before sshd binds or connects to them; sshd's own TCP connects never
//!   succeed at once;
//! * a `connect` that names no address (`AF_UNSPEC`: undoing a datagram socket's).
//!
//! Three guesses remain. An X11 display and a remote forward both bind a TCP port on
//! loopback (or on every address); ports 6000–6063 (IANA's X11 range; sshd starts at 6010)
//! are taken as X11, so a `-R 6020:…` is reported as `listening-for-x11`, and an X11
//! display above 63 as a remote forward. A local forward to one of the service sockets
//! above (`-L /tmp/s:/dev/log`) is not reported. And a datagram `connect` that fails at
//! once (a DNS server with no route to it) looks like a TCP forward that did, so it is
//! reported as a failed `forwarded-to`.

use sshtrail_event::{ActionDetail, Origin, Outcome};
use std::borrow::Cow;
use std::net::IpAddr;

/// The coalescer's verbs for the three system calls.
const CONNECT: &str = "connected-to";
const BIND: &str = "bound-socket";
const ACCEPT: &str = "accepted-connection-from";

/// The TCP ports X11 displays listen on: IANA registers 6000–6063 for X11, and sshd's
/// `X11DisplayOffset` (10 unless set) starts its displays at 6010.
const X11_PORTS: std::ops::RangeInclusive<u16> = 6000..=6063;

/// Unix sockets the C library and syslog(3) connect to on sshd's behalf.
const SERVICE_SOCKETS: &[&str] = &[
    "/dev/log",
    "/var/run/nscd/socket",
    "/run/nscd/socket",
    "/var/lib/sss/pipes/nss",
    "/var/run/nslcd/socket",
    "/run/nslcd/socket",
];
/// Directories of such sockets (journald's, systemd-userdb's services).
const SERVICE_SOCKET_DIRS: &[&str] = &["/run/systemd/journal/", "/run/systemd/userdb/"];

/// If `detail` is a forward done by sshd's unprivileged session process: rewrites it in
/// place (action `forwarded-to` / `listening-for-forward` / `listening-for-x11` /
/// `listening-for-agent` / `accepted-forwarded-connection`, channel `direct-tcpip` /
/// `tcpip-forward` / `streamlocal` / `x11` / `auth-agent`, object the target/bound
/// address as `ip:port` or the socket path) and returns true; else leaves it as it was
/// and returns false.
///
/// `outcome` is the event's (the system call's result): a TCP/UDP `connect` that
/// succeeded at once is a datagram socket's, not a forward's (see the module's notes).
/// `monitor_pid` is the session's privileged sshd process: its connects are PAM's, not
/// forwards.
pub fn classify_forward(detail: &mut ActionDetail, outcome: Outcome, monitor_pid: u32) -> bool {
    if detail.origin != Origin::Audit || detail.object.kind != "socket" {
        return false;
    }
    if !detail.exe.as_deref().is_some_and(is_sshd) {
        return false;
    }
    // Without a pid the monitor cannot be ruled out.
    let Some(pid) = detail.pid.as_deref().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    if pid == monitor_pid {
        return false;
    }
    let Some(address) = Address::of(&detail.object.primary, &detail.object.secondary) else {
        return false;
    };
    let (action, channel) = match (detail.action.as_ref(), &address) {
        (CONNECT, Address::Inet(..)) if outcome == Outcome::Succeeded => return false,
        (CONNECT, Address::Inet(..)) => ("forwarded-to", Some("direct-tcpip")),
        (CONNECT, Address::Unix(path)) if is_service_socket(path) => return false,
        (CONNECT, Address::Unix(_)) => ("forwarded-to", Some("streamlocal")),
        (BIND, Address::Inet(_, port)) if X11_PORTS.contains(port) => {
            ("listening-for-x11", Some("x11"))
        }
        (BIND, Address::Inet(..)) => ("listening-for-forward", Some("tcpip-forward")),
        (BIND, Address::Unix(path)) if is_agent_socket(path, pid) => {
            ("listening-for-agent", Some("auth-agent"))
        }
        (BIND, Address::Unix(_)) => ("listening-for-forward", Some("streamlocal")),
        (ACCEPT, _) => ("accepted-forwarded-connection", None),
        // Other calls, and a connect or bind that names no address.
        _ => return false,
    };
    detail.object.primary = address.to_string();
    detail.object.secondary.clear();
    detail.action = Cow::Borrowed(action);
    detail.channel = channel.map(str::to_string);
    true
}

/// Linux's `EINPROGRESS`, as the audit record's `exit=` has it.
const EINPROGRESS: i64 = -115;

/// The outcome a classified forward is written with. sshd connects to a local
/// forward's target without waiting, so the kernel reports the `connect` as failed with
/// `EINPROGRESS` whether or not the target then accepts: that is a forward begun, written
/// as succeeded with `how` saying so; a target that refuses is sshd's own
/// `forward-failed` line. Any other failure stays one.
pub fn forward_outcome(detail: &mut ActionDetail, outcome: Outcome, exit: Option<i64>) -> Outcome {
    if detail.action == "forwarded-to" && exit == Some(EINPROGRESS) {
        detail.how = "connect in progress (EINPROGRESS: sshd does not wait for the target)".into();
        return Outcome::Succeeded;
    }
    outcome
}

/// sshd's session processes: `sshd` up to OpenSSH 9.7, `sshd-session` from 9.8. The
/// kernel appends ` (deleted)` to the path of a binary replaced since it started.
fn is_sshd(exe: &str) -> bool {
    let exe = exe.strip_suffix(" (deleted)").unwrap_or(exe);
    let name = exe.rsplit('/').next().unwrap_or(exe);
    name == "sshd" || name == "sshd-session"
}

fn is_service_socket(path: &str) -> bool {
    SERVICE_SOCKETS.contains(&path) || SERVICE_SOCKET_DIRS.iter().any(|d| path.starts_with(d))
}

/// sshd's forwarded agent socket: `/tmp/ssh-XXXXXXXXXX/agent.<pid>` (mkdtemp's ten
/// letters and digits; the pid of the process that binds it) up to OpenSSH 10.0. 10.1
/// moved it under the user's `~/.ssh/agent/` (not yet seen on a host here: taken from
/// its release notes).
fn is_agent_socket(path: &str, pid: u32) -> bool {
    if let Some(rest) = path.strip_prefix("/tmp/ssh-") {
        let Some((dir, file)) = rest.split_once('/') else {
            return false;
        };
        let pid_matches = file
            .strip_prefix("agent.")
            .and_then(|p| p.parse::<u32>().ok())
            == Some(pid);
        return dir.len() == 10 && dir.bytes().all(|c| c.is_ascii_alphanumeric()) && pid_matches;
    }
    path.rsplit_once('/')
        .is_some_and(|(dir, file)| dir.ends_with("/.ssh/agent") && !file.is_empty())
}

/// A socket address as the coalescer leaves it in the object: the IP in `primary` and
/// the port in `secondary`, or a unix socket's path in `primary`.
enum Address<'a> {
    Inet(IpAddr, u16),
    Unix(&'a str),
    /// No address: an unnamed unix socket's peer, `AF_UNSPEC`, or one the record did
    /// not decode.
    Unnamed,
}

impl<'a> Address<'a> {
    /// `None` for what cannot be a forward's: netlink, or a port without an address.
    fn of(primary: &'a str, secondary: &str) -> Option<Address<'a>> {
        if primary.starts_with("netlink:") {
            return None;
        }
        if !secondary.is_empty() {
            let ip = primary.parse().ok()?;
            let port = secondary.parse().ok()?;
            return Some(Address::Inet(ip, port));
        }
        if primary.is_empty() {
            return Some(Address::Unnamed);
        }
        Some(Address::Unix(primary))
    }
}

impl std::fmt::Display for Address<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Inet(IpAddr::V4(ip), port) => write!(f, "{ip}:{port}"),
            Address::Inet(IpAddr::V6(ip), port) => write!(f, "[{ip}]:{port}"),
            Address::Unix(path) => f.write_str(path),
            Address::Unnamed => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sshtrail_event::Object;

    const MONITOR: u32 = 100;

    fn call(action: &'static str, primary: &str, secondary: &str) -> ActionDetail {
        ActionDetail {
            action: Cow::Borrowed(action),
            how: "/usr/sbin/sshd".into(),
            object: Object {
                kind: Cow::Borrowed("socket"),
                primary: primary.into(),
                secondary: secondary.into(),
            },
            pid: Some("101".into()),
            ppid: Some(MONITOR.to_string()),
            exe: Some("/usr/sbin/sshd".into()),
            uid: Some("alice".into()),
            keys: vec!["sshtrail-forward".into()],
            record_type: Cow::Borrowed("SYSCALL"),
            ..ActionDetail::default()
        }
    }

    /// The classification, or `None` when it is not a forward (then `detail` must be
    /// unchanged).
    fn classify(
        mut detail: ActionDetail,
        outcome: Outcome,
    ) -> Option<(String, Option<String>, String)> {
        let before = detail.clone();
        if classify_forward(&mut detail, outcome, MONITOR) {
            assert!(detail.object.secondary.is_empty());
            Some((
                detail.action.to_string(),
                detail.channel,
                detail.object.primary,
            ))
        } else {
            assert_eq!(detail, before, "a non-forward is left as it was");
            None
        }
    }

    fn want(
        action: &str,
        channel: Option<&str>,
        object: &str,
    ) -> Option<(String, Option<String>, String)> {
        Some((
            action.to_string(),
            channel.map(str::to_string),
            object.to_string(),
        ))
    }

    #[test]
    fn each_kind_of_forward() {
        use Outcome::{Failed, Succeeded};
        assert_eq!(
            classify(call(CONNECT, "10.1.2.3", "5432"), Failed),
            want("forwarded-to", Some("direct-tcpip"), "10.1.2.3:5432")
        );
        assert_eq!(
            classify(call(CONNECT, "/run/db.sock", ""), Succeeded),
            want("forwarded-to", Some("streamlocal"), "/run/db.sock")
        );
        assert_eq!(
            classify(call(BIND, "::1", "8080"), Succeeded),
            want("listening-for-forward", Some("tcpip-forward"), "[::1]:8080")
        );
        assert_eq!(
            classify(call(BIND, "/home/alice/r.sock", ""), Succeeded),
            want(
                "listening-for-forward",
                Some("streamlocal"),
                "/home/alice/r.sock"
            )
        );
        assert_eq!(
            classify(call(BIND, "127.0.0.1", "6011"), Succeeded),
            want("listening-for-x11", Some("x11"), "127.0.0.1:6011")
        );
        assert_eq!(
            classify(call(BIND, "/tmp/ssh-AbCdEf0123/agent.101", ""), Succeeded),
            want(
                "listening-for-agent",
                Some("auth-agent"),
                "/tmp/ssh-AbCdEf0123/agent.101"
            )
        );
        assert_eq!(
            classify(call(ACCEPT, "192.0.2.7", "40000"), Succeeded),
            want("accepted-forwarded-connection", None, "192.0.2.7:40000")
        );
        assert_eq!(
            classify(call(ACCEPT, "", ""), Succeeded),
            want("accepted-forwarded-connection", None, "")
        );
    }

    #[test]
    fn failed_calls_are_still_forwards() {
        // A display already taken, a -R port in use, a socket that is not there.
        assert_eq!(
            classify(call(BIND, "127.0.0.1", "6010"), Outcome::Failed),
            want("listening-for-x11", Some("x11"), "127.0.0.1:6010")
        );
        assert_eq!(
            classify(call(BIND, "0.0.0.0", "2222"), Outcome::Failed),
            want(
                "listening-for-forward",
                Some("tcpip-forward"),
                "0.0.0.0:2222"
            )
        );
        assert_eq!(
            classify(call(CONNECT, "/tmp/missing.sock", ""), Outcome::Failed),
            want("forwarded-to", Some("streamlocal"), "/tmp/missing.sock")
        );
    }

    #[test]
    fn the_monitor_and_other_programs_are_not_forwards() {
        let mut d = call(CONNECT, "10.1.2.3", "5432");
        d.pid = Some(MONITOR.to_string());
        assert_eq!(classify(d, Outcome::Failed), None);
        let mut d = call(CONNECT, "10.1.2.3", "5432");
        d.exe = Some("/usr/bin/curl".into());
        assert_eq!(classify(d, Outcome::Failed), None);
        let mut d = call(CONNECT, "10.1.2.3", "5432");
        d.pid = None;
        assert_eq!(classify(d, Outcome::Failed), None);
        let mut d = call(CONNECT, "10.1.2.3", "5432");
        d.pid = Some("not a pid".into());
        assert_eq!(classify(d, Outcome::Failed), None);
        let mut d = call(CONNECT, "10.1.2.3", "5432");
        d.exe = None;
        assert_eq!(classify(d, Outcome::Failed), None);
        // An sshd line is never a system call.
        let mut d = call(CONNECT, "10.1.2.3", "5432");
        d.origin = Origin::Sshd;
        assert_eq!(classify(d, Outcome::Failed), None);
    }

    #[test]
    fn sshd_session_and_a_replaced_binary_count_as_sshd() {
        for exe in [
            "/usr/lib/openssh/sshd-session",
            "/usr/libexec/openssh/sshd-session",
            "/usr/sbin/sshd (deleted)",
        ] {
            let mut d = call(CONNECT, "10.1.2.3", "5432");
            d.exe = Some(exe.into());
            assert!(classify(d, Outcome::Failed).is_some(), "{exe}");
        }
        // A program merely named like it is not.
        let mut d = call(CONNECT, "10.1.2.3", "5432");
        d.exe = Some("/home/alice/bin/sshd-helper".into());
        assert_eq!(classify(d, Outcome::Failed), None);
    }

    #[test]
    fn sshds_own_socket_calls_are_not_forwards() {
        use Outcome::{Failed, Succeeded};
        for (action, primary, secondary, outcome) in [
            (CONNECT, "/dev/log", "", Succeeded),
            (CONNECT, "/run/systemd/journal/dev-log", "", Succeeded),
            (CONNECT, "/var/run/nscd/socket", "", Failed),
            (
                CONNECT,
                "/run/systemd/userdb/io.systemd.Multiplexer",
                "",
                Failed,
            ),
            (BIND, "netlink:0", "", Succeeded),
            // getaddrinfo's address sorting and a DNS query: datagram connects.
            (CONNECT, "::1", "15433", Succeeded),
            (CONNECT, "10.255.255.53", "53", Succeeded),
            (CONNECT, "", "", Succeeded),
            (BIND, "", "", Succeeded),
        ] {
            assert_eq!(
                classify(call(action, primary, secondary), outcome),
                None,
                "{action} {primary} {secondary}"
            );
        }
    }

    #[test]
    fn other_actions_and_objects_are_left_alone() {
        assert_eq!(
            classify(call("executed", "/bin/sh", ""), Outcome::Succeeded),
            None
        );
        assert_eq!(
            classify(call("listen-for-connections", "", ""), Outcome::Succeeded),
            None
        );
        let mut d = call(CONNECT, "10.1.2.3", "5432");
        d.object.kind = Cow::Borrowed("file");
        assert_eq!(classify(d, Outcome::Failed), None);
    }

    #[test]
    fn malformed_objects_never_panic_and_are_not_forwards() {
        for (primary, secondary) in [
            ("10.1.2.3", "99999"),
            ("10.1.2.3", "-1"),
            ("not an address", "80"),
            ("", "80"),
            ("\u{0}\u{1d}", "x"),
        ] {
            assert_eq!(
                classify(call(CONNECT, primary, secondary), Outcome::Failed),
                None,
                "{primary:?} {secondary:?}"
            );
        }
    }

    #[test]
    fn agent_sockets_are_told_from_other_unix_sockets() {
        let bind = |path: &str| classify(call(BIND, path, ""), Outcome::Succeeded).map(|c| c.0);
        let agent = Some("listening-for-agent".to_string());
        let forward = Some("listening-for-forward".to_string());
        assert_eq!(bind("/tmp/ssh-AbCdEf0123/agent.101"), agent);
        assert_eq!(bind("/home/alice/.ssh/agent/s.k3Jq9.sshd.Xz81"), agent);
        // Another process's agent name, a wrong directory shape, no pid: a -R socket.
        assert_eq!(bind("/tmp/ssh-AbCdEf0123/agent.102"), forward);
        assert_eq!(bind("/tmp/ssh-short/agent.101"), forward);
        assert_eq!(bind("/tmp/ssh-AbCdEf0123/agent."), forward);
        assert_eq!(bind("/tmp/ssh-AbCdEf0123"), forward);
        assert_eq!(bind("/tmp/ssh-AbCdEf01!3/agent.101"), forward);
        assert_eq!(bind("/home/alice/.ssh/agent/"), forward);
    }

    #[test]
    fn x11_is_the_iana_range() {
        let bind =
            |port: &str| classify(call(BIND, "127.0.0.1", port), Outcome::Succeeded).map(|c| c.0);
        assert_eq!(bind("6000").as_deref(), Some("listening-for-x11"));
        assert_eq!(bind("6063").as_deref(), Some("listening-for-x11"));
        assert_eq!(bind("5999").as_deref(), Some("listening-for-forward"));
        assert_eq!(bind("6064").as_deref(), Some("listening-for-forward"));
    }

    #[test]
    fn a_forward_begun_without_waiting_is_written_as_begun_and_other_failures_stay() {
        let mut detail = ActionDetail {
            action: "forwarded-to".into(),
            ..ActionDetail::default()
        };
        assert_eq!(
            forward_outcome(&mut detail, Outcome::Failed, Some(-115)),
            Outcome::Succeeded
        );
        assert!(detail.how.contains("EINPROGRESS"));
        let mut refused = ActionDetail {
            action: "forwarded-to".into(),
            ..ActionDetail::default()
        };
        // ECONNREFUSED (a unix socket's connect is decided at once).
        assert_eq!(
            forward_outcome(&mut refused, Outcome::Failed, Some(-111)),
            Outcome::Failed
        );
        let mut bound = ActionDetail {
            action: "listening-for-forward".into(),
            ..ActionDetail::default()
        };
        assert_eq!(
            forward_outcome(&mut bound, Outcome::Failed, Some(-115)),
            Outcome::Failed
        );
    }
}
