//! Port forwards, X11 and agent forwarding on real records: the sessions of
//! `tests/data/forwards/` (captured from this machine's auditd and the testbed sshd by
//! `scripts/capture-forward-fixtures`, see the README there) go the daemon's way, parse →
//! reassemble → `audit_fact`, and then through `classify_forward` with the session's
//! monitor pid from its LOGIN record; their sshd journal entries go through the journald
//! framing and the sshd message parser.
//!
//! Expectations come from the capture itself (the ports and paths the script used), not
//! from the code under test; pids, paths under the capture's temporary directory and the
//! agent socket's name change with every capture, so those are matched by shape.

use sshtrail::track::facts::{AuditFact, AuditRole};
use sshtrail::track::forward::{classify_forward, forward_outcome};
use sshtrail::track::from_audit::audit_fact;
use sshtrail_audit::interpret::NoNames;
use sshtrail_audit::parse_line;
use sshtrail_audit::reassemble::{Output, Reassembler};
use sshtrail_event::Outcome;
use sshtrail_sshd::framing::frame_journal_json;
use sshtrail_sshd::{parse, Event};

const KEY: &str = "sshtrail-forward";

fn data(name: &str) -> String {
    format!("{}/tests/data/forwards/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn facts(case: &str) -> Vec<AuditFact> {
    let text = std::fs::read(data(&format!("{case}.log"))).expect("fixture");
    let mut reassembler = Reassembler::default();
    let mut events = Vec::new();
    for (i, line) in text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let record = parse_line(line).expect("real records parse");
        reassembler.push(record, i as u64, &mut |o| {
            if let Output::Event(e) = o {
                events.push(e);
            }
        });
    }
    reassembler.finish(&mut |o| {
        if let Output::Event(e) = o {
            events.push(e);
        }
    });
    events
        .iter()
        .map(|e| audit_fact(e.records(), &NoNames))
        .collect()
}

/// One classified socket call: (action, channel, object, outcome).
type Classified = (String, Option<String>, String, Outcome);

struct Case {
    /// The session's events, as the tracker gets them.
    facts: Vec<AuditFact>,
    /// The session's privileged sshd process (its LOGIN record's pid).
    monitor: u32,
}

impl Case {
    fn load(case: &str) -> Case {
        let facts = facts(case);
        let ses: u32 = std::fs::read_to_string(data(&format!("{case}.ses")))
            .expect("ses")
            .trim()
            .parse()
            .expect("a ses");
        assert!(
            facts.iter().all(|f| f.ses == Some(ses)),
            "{case}: one session"
        );
        let monitor = facts
            .iter()
            .find_map(|f| match f.role {
                AuditRole::SessionStart { pid, .. } => Some(pid),
                _ => None,
            })
            .expect("the LOGIN record");
        Case { facts, monitor }
    }

    /// The forward rules' events.
    fn socket_calls(&self) -> impl Iterator<Item = &AuditFact> {
        self.facts
            .iter()
            .filter(|f| f.detail.keys.iter().any(|k| k == KEY))
    }

    /// What `classify_forward` makes of each socket call that it takes for a forward, with
    /// the outcome the tracker writes (`forward_outcome`).
    fn forwards(&self) -> Vec<Classified> {
        self.socket_calls()
            .filter_map(|f| {
                let mut detail = f.detail.clone();
                if !classify_forward(&mut detail, f.outcome, self.monitor) {
                    return None;
                }
                let outcome = forward_outcome(&mut detail, f.outcome, f.exit);
                Some((
                    detail.action.to_string(),
                    detail.channel,
                    detail.object.primary,
                    outcome,
                ))
            })
            .collect()
    }
}

fn fwd(action: &str, channel: Option<&str>, object: &str, outcome: Outcome) -> Classified {
    (
        action.to_string(),
        channel.map(str::to_string),
        object.to_string(),
        outcome,
    )
}

/// The capture's temporary directory (`/tmp/sshtrail-fwdcap.XXXXXX`) as the case used it.
fn capture_dir(found: &[Classified]) -> String {
    found
        .iter()
        .find_map(|c| {
            let start = c.2.find("/tmp/sshtrail-fwdcap.")?;
            let rest = &c.2[start..];
            let end = rest[5..].find('/').map_or(rest.len(), |n| n + 5);
            Some(rest[..end].to_string())
        })
        .expect("a path under the capture's directory")
}

#[test]
fn forward_fixtures_are_what_audit_fact_makes_of_sshds_socket_calls() {
    // What the classification stands on, as the daemon's own decoding gives it today.
    for case in ["plain", "local", "remote", "streamlocal", "agent", "x11"] {
        let c = Case::load(case);
        assert!(c.socket_calls().count() > 0, "{case}");
        for f in c.socket_calls() {
            let d = &f.detail;
            assert_eq!(d.exe.as_deref(), Some("/usr/sbin/sshd"), "{case}");
            assert_eq!(d.record_type, "SYSCALL");
            assert_eq!(d.object.kind, "socket", "{case} {d:?}");
            assert!(
                ["connected-to", "bound-socket", "accepted-connection-from"]
                    .contains(&d.action.as_ref()),
                "{case} {d:?}"
            );
            assert!(d.pid.is_some() && d.uid.is_some(), "{case} {d:?}");
        }
    }
}

#[test]
fn a_plain_session_has_socket_calls_but_no_forwards() {
    let c = Case::load("plain");
    // sshd's own: syslog, PAM's D-Bus and userdb, netlink; from both of its processes.
    let pids: std::collections::BTreeSet<&str> = c
        .socket_calls()
        .filter_map(|f| f.detail.pid.as_deref())
        .collect();
    assert_eq!(pids.len(), 2, "the monitor and the user's process");
    assert!(c
        .socket_calls()
        .any(|f| f.detail.object.primary == "/dev/log"
            && f.detail.uid.as_deref() == Some("sshtrail-alice")));
    assert_eq!(c.forwards(), []);
}

#[test]
fn the_monitors_calls_are_never_forwards() {
    for case in [
        "plain",
        "local",
        "remote",
        "streamlocal",
        "agent",
        "x11",
        "refused",
        "disallowed",
    ] {
        let c = Case::load(case);
        let monitor = c.monitor.to_string();
        let of_monitor: Vec<&AuditFact> = c
            .socket_calls()
            .filter(|f| f.detail.pid.as_deref() == Some(monitor.as_str()))
            .collect();
        assert!(
            of_monitor.iter().any(|f| f.detail.action == "connected-to"),
            "{case}: the monitor connects (syslog, PAM)"
        );
        for f in &of_monitor {
            let mut detail = f.detail.clone();
            assert!(
                !classify_forward(&mut detail, f.outcome, c.monitor),
                "{case}: {detail:?}"
            );
        }
        // Only the pid tells them apart: pam_systemd's connect to D-Bus looks like a
        // forward to that socket.
        let dbus = of_monitor
            .iter()
            .find(|f| f.detail.object.primary == "/run/dbus/system_bus_socket")
            .expect("pam_systemd's connect");
        let mut detail = dbus.detail.clone();
        assert!(classify_forward(&mut detail, dbus.outcome, 0), "{case}");
    }
}

#[test]
fn local_forwards_are_one_connect_per_use() {
    let found = Case::load("local").forwards();
    // Two requests through -L 15432 and one through -L 15435 (`localhost`) to the HTTP
    // server on 18080, one through -L 15434 to 18099 where nothing listened; all started
    // without blocking (EINPROGRESS: the kernel says failed for each), so each is a forward
    // begun; the one nobody answered is sshd's `connect_to … failed` line. The -L to a name
    // that does not resolve never reached connect (only its DNS query, not a forward).
    let to = |port: &str| {
        fwd(
            "forwarded-to",
            Some("direct-tcpip"),
            port,
            Outcome::Succeeded,
        )
    };
    assert_eq!(
        found,
        [
            to("127.0.0.1:18080"),
            to("127.0.0.1:18080"),
            to("127.0.0.1:18099"),
            to("127.0.0.1:18080"),
        ]
    );
}

#[test]
fn a_remote_forward_is_its_binds_and_each_connection_into_it() {
    let found = Case::load("remote").forwards();
    // `-R 15433:…` listens on localhost: both families; then one request through it.
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(
        found[..2],
        [
            fwd(
                "listening-for-forward",
                Some("tcpip-forward"),
                "[::1]:15433",
                Outcome::Succeeded
            ),
            fwd(
                "listening-for-forward",
                Some("tcpip-forward"),
                "127.0.0.1:15433",
                Outcome::Succeeded
            ),
        ]
    );
    let (action, channel, peer, outcome) = &found[2];
    assert_eq!(
        (action.as_str(), channel, outcome),
        ("accepted-forwarded-connection", &None, &Outcome::Succeeded)
    );
    assert!(peer.starts_with("127.0.0.1:"), "{peer}");
}

#[test]
fn unix_socket_forwards_both_ways() {
    let found = Case::load("streamlocal").forwards();
    let dir = capture_dir(&found);
    assert_eq!(
        found,
        [
            // -R <dir>/alice/remote.sock: sshd listens there as the user.
            fwd(
                "listening-for-forward",
                Some("streamlocal"),
                &format!("{dir}/alice/remote.sock"),
                Outcome::Succeeded
            ),
            // -L to <dir>/target.sock, used once.
            fwd(
                "forwarded-to",
                Some("streamlocal"),
                &format!("{dir}/target.sock"),
                Outcome::Succeeded
            ),
            // One connection into the -R socket: an unnamed peer.
            fwd(
                "accepted-forwarded-connection",
                None,
                "",
                Outcome::Succeeded
            ),
            // -L to a socket that is not there: a unix connect fails at once.
            fwd(
                "forwarded-to",
                Some("streamlocal"),
                &format!("{dir}/missing.sock"),
                Outcome::Failed
            ),
        ]
    );
}

#[test]
fn agent_forwarding_is_a_bind_of_the_agent_socket_and_its_use() {
    let c = Case::load("agent");
    let found = c.forwards();
    assert_eq!(found.len(), 2, "{found:?}");
    let (action, channel, path, outcome) = &found[0];
    assert_eq!(
        (action.as_str(), channel.as_deref(), outcome),
        (
            "listening-for-agent",
            Some("auth-agent"),
            &Outcome::Succeeded
        )
    );
    // /tmp/ssh-XXXXXXXXXX/agent.<the user's sshd process>
    let user_pid = c
        .socket_calls()
        .find(|f| f.detail.uid.as_deref() == Some("sshtrail-alice"))
        .and_then(|f| f.detail.pid.clone())
        .expect("the user's process");
    assert!(path.starts_with("/tmp/ssh-"), "{path}");
    assert!(path.ends_with(&format!("/agent.{user_pid}")), "{path}");
    // `ssh-add -l` in the session used it once.
    assert_eq!(
        found[1],
        fwd(
            "accepted-forwarded-connection",
            None,
            "",
            Outcome::Succeeded
        )
    );
}

#[test]
fn x11_forwarding_is_a_bind_of_display_10_and_its_use() {
    let found = Case::load("x11").forwards();
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(
        found[..2],
        [
            fwd(
                "listening-for-x11",
                Some("x11"),
                "[::1]:6010",
                Outcome::Succeeded
            ),
            fwd(
                "listening-for-x11",
                Some("x11"),
                "127.0.0.1:6010",
                Outcome::Succeeded
            ),
        ]
    );
    // The session connected once to its display.
    assert_eq!(found[2].0, "accepted-forwarded-connection");
    assert!(found[2].2.starts_with("127.0.0.1:"), "{:?}", found[2]);
}

#[test]
fn refused_forwards_leave_no_forward_in_the_kernel() {
    // PermitOpen / PermitListen (bob) and AllowTcpForwarding no (empty): sshd refuses
    // before any socket call; only its log says so. bob's -R socket is not covered by
    // PermitListen: sshd tries to bind it, in a directory that is not bob's.
    let found = Case::load("refused").forwards();
    let dir = capture_dir(&found);
    assert_eq!(
        found,
        [fwd(
            "listening-for-forward",
            Some("streamlocal"),
            &format!("{dir}/alice/bob-remote.sock"),
            Outcome::Failed
        )]
    );
    assert_eq!(Case::load("disallowed").forwards(), []);
}

/// sshd's forward lines of a case: (pid, kind, target, port), with the refusal's rule or
/// the failure's reason.
fn forward_lines(case: &str) -> Vec<(u32, String, String, Option<u16>, String)> {
    let text = std::fs::read_to_string(data(&format!("{case}.journal.json"))).expect("journal");
    text.lines()
        .filter_map(|line| {
            let framed = frame_journal_json(line).expect("captured entries frame");
            let pid = framed.pid.expect("journald's _PID");
            match parse(&framed.message).event {
                Event::ForwardRefused {
                    kind,
                    by,
                    target,
                    port,
                    ..
                } => Some((
                    pid,
                    kind.as_str().to_string(),
                    target.to_string(),
                    port,
                    format!("{by:?}"),
                )),
                Event::ForwardFailed {
                    kind,
                    target,
                    port,
                    reason,
                } => Some((
                    pid,
                    kind.as_str().to_string(),
                    target.to_string(),
                    port,
                    reason.to_string(),
                )),
                _ => None,
            }
        })
        .collect()
}

/// The pid sshd's `User child is on pid N` names: the user's process.
fn user_child(case: &str) -> u32 {
    let text = std::fs::read_to_string(data(&format!("{case}.journal.json"))).expect("journal");
    text.lines()
        .find_map(
            |line| match parse(&frame_journal_json(line).ok()?.message).event {
                Event::UserChild { pid } => Some(pid),
                _ => None,
            },
        )
        .expect("a user child line")
}

#[test]
fn sshd_logs_refused_and_failed_forwards_from_the_users_process() {
    let row = |pid: u32, kind: &str, target: &str, port: Option<u16>, why: &str| {
        (
            pid,
            kind.to_string(),
            target.to_string(),
            port,
            why.to_string(),
        )
    };
    // The capture's directory, from the one socket line of the case.
    let dir_of = |rows: &[(u32, String, String, Option<u16>, String)]| {
        rows.iter()
            .find_map(|r| r.2.strip_suffix("/target.sock").map(str::to_string))
            .expect("a socket target")
    };

    let child = user_child("refused");
    let rows = forward_lines("refused");
    let dir = dir_of(&rows);
    assert_eq!(
        rows,
        [
            row(child, "remote", "localhost", Some(15441), "NotPermitted"),
            row(child, "local", "127.0.0.1", Some(18080), "NotPermitted"),
            row(
                child,
                "streamlocal",
                &format!("{dir}/target.sock"),
                None,
                "NotPermitted"
            ),
        ]
    );

    // AllowTcpForwarding no: the local ones are logged, the remote ones are not.
    let child = user_child("disallowed");
    let rows = forward_lines("disallowed");
    let dir = dir_of(&rows);
    assert_eq!(
        rows,
        [
            row(child, "local", "127.0.0.1", Some(18080), "Disabled"),
            row(
                child,
                "streamlocal",
                &format!("{dir}/target.sock"),
                None,
                "Disabled"
            ),
        ]
    );

    let child = user_child("local");
    assert_eq!(
        forward_lines("local"),
        [
            row(child, "local", "127.0.0.1", Some(18099), "failed"),
            row(
                child,
                "local",
                "sshtrail-no-such-host.invalid",
                None,
                "unknown host (Name or service not known)"
            ),
        ]
    );
    let child = user_child("streamlocal");
    let rows = forward_lines("streamlocal");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].0, rows[0].1.as_str(), rows[0].3, rows[0].4.as_str()),
        (child, "streamlocal", None, "No such file or directory")
    );
    assert!(rows[0].2.ends_with("/missing.sock"), "{rows:?}");

    // Forwards that worked are not logged at VERBOSE.
    for case in ["plain", "remote", "agent", "x11"] {
        assert_eq!(forward_lines(case), [], "{case}");
    }
}
