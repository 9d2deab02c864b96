//! Unit tests over message shapes; the real captured lines are tested in tests/.

use super::*;

fn ev(line: &str) -> Event<'_> {
    parse(line).event
}

#[test]
fn accepted_certificate() {
    let m = parse("Accepted publickey for carol from ::1 port 54724 ssh2: ED25519-CERT SHA256:nPs ID carol@x (serial 4242) CA ED25519 SHA256:JtC\n");
    let Event::Auth(a) = m.event else {
        panic!("{m:?}")
    };
    assert_eq!(a.outcome, Outcome::Accepted);
    assert_eq!(a.user, "carol");
    assert_eq!(a.peer.ip, Some("::1".parse().unwrap()));
    let key = a.key.unwrap();
    assert_eq!(key.key_type, "ED25519-CERT");
    let cert = key.cert.unwrap();
    assert_eq!((cert.id, cert.serial), ("carol@x", 4242));
    assert_eq!(
        (cert.ca_key_type, cert.ca_fingerprint),
        ("ED25519", "SHA256:JtC")
    );
}

#[test]
fn quoted_cert_id_with_hostile_text() {
    let m = ev(
        r#"Accepted publickey for c from 10.0.0.1 port 22 ssh2: RSA-CERT SHA256:a ID "x (serial 1) CA RSA SHA256:b" (serial 7) CA RSA SHA256:c"#,
    );
    let Event::Auth(a) = m else { panic!() };
    let cert = a.key.unwrap().cert.unwrap();
    assert_eq!(cert.id, "x (serial 1) CA RSA SHA256:b");
    assert_eq!(cert.serial, 7);
    assert_eq!(cert.ca_fingerprint, "SHA256:c");
}

#[test]
fn hostile_names_do_not_move_the_peer() {
    let m = ev("Failed password for invalid user eve from 6.6.6.6 port 4444 ssh2 from 127.0.0.1 port 40000 ssh2");
    let Event::Auth(a) = m else { panic!() };
    assert_eq!(a.user, "eve from 6.6.6.6 port 4444 ssh2");
    assert!(a.invalid_user);
    assert_eq!(a.peer.ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(a.peer.port, 40000);
    let m = ev("Connection closed by invalid user a 6.6.6.6 port 1 127.0.0.1 port 5");
    assert_eq!(
        m,
        Event::ConnectionClosed {
            user: Some("a 6.6.6.6 port 1"),
            state: Some(UserState::Invalid),
            peer: Peer {
                ip: Some("127.0.0.1".parse().unwrap()),
                port: 5
            }
        }
    );
}

#[test]
fn prefix_suffix_and_other() {
    let m = parse("error: maximum authentication attempts exceeded for root from 1.2.3.4 port 5 ssh2 [preauth]\r\n");
    assert!(m.preauth);
    assert_eq!(m.prefix, Some(Prefix::Error));
    assert_eq!(m.event.kind(), Kind::MaxAttempts);
    assert_eq!(
        parse("Server listening on 0.0.0.0 port 22.").event,
        Event::Other
    );
    assert_eq!(parse("").event, Event::Other);
    assert_eq!(parse("Accepted").event, Event::Other);
}

#[test]
fn disconnect_forms() {
    let m = ev("Received disconnect from 1.2.3.4 port 5:11: x from 9.9.9.9 port 9");
    assert_eq!(
        m,
        Event::ReceivedDisconnect {
            peer: Peer {
                ip: Some("1.2.3.4".parse().unwrap()),
                port: 5
            },
            code: Some(11),
            reason: "x from 9.9.9.9 port 9"
        }
    );
    let m = ev(
        "Disconnecting authenticating user bob 1.2.3.4 port 5: Too many authentication failures",
    );
    assert_eq!(m.kind(), Kind::TooManyFailures);
    assert_eq!(
        ev("Disconnecting: Too many authentication failures").kind(),
        Kind::TooManyFailures
    );
    assert_eq!(
        ev("Disconnected from 1.2.3.4 port 5").kind(),
        Kind::Disconnected
    );
    assert_eq!(
        ev("Connection closed by UNKNOWN port 65535").kind(),
        Kind::ConnectionClosed
    );
}

#[test]
fn every_kind_has_a_distinct_name() {
    let mut names: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Kind::ALL.len());
}

fn v4(s: &str) -> Option<std::net::IpAddr> {
    Some(s.parse().unwrap())
}

/// The lines sshd 9.2p1 logged in `crates/sshtrail/tests/data/forwards/` (see its
/// README), as captured.
#[test]
fn refused_forwards_as_captured() {
    assert_eq!(
        ev("Received request from 127.0.0.1 port 55682 to connect to host 127.0.0.1 port 18080, but the request was denied."),
        Event::ForwardRefused {
            kind: ForwardKind::Local,
            by: RefusedBy::NotPermitted,
            client: Some(Peer { ip: v4("127.0.0.1"), port: 55682 }),
            originator: None,
            target: "127.0.0.1",
            port: Some(18080),
        }
    );
    assert_eq!(
        ev("Received request from 127.0.0.1 port 55682 to remote forward to host localhost port 15441, but the request was denied."),
        Event::ForwardRefused {
            kind: ForwardKind::Remote,
            by: RefusedBy::NotPermitted,
            client: Some(Peer { ip: v4("127.0.0.1"), port: 55682 }),
            originator: None,
            target: "localhost",
            port: Some(15441),
        }
    );
    assert_eq!(
        ev("Received request to connect to path /tmp/sshtrail-fwdcap.WekzM4/target.sock, but the request was denied."),
        Event::ForwardRefused {
            kind: ForwardKind::Streamlocal,
            by: RefusedBy::NotPermitted,
            client: None,
            originator: None,
            target: "/tmp/sshtrail-fwdcap.WekzM4/target.sock",
            port: None,
        }
    );
    assert_eq!(
        ev("refused local port forward: originator 127.0.0.1 port 49518, target 127.0.0.1 port 18080"),
        Event::ForwardRefused {
            kind: ForwardKind::Local,
            by: RefusedBy::Disabled,
            client: None,
            originator: Some(Peer { ip: v4("127.0.0.1"), port: 49518 }),
            target: "127.0.0.1",
            port: Some(18080),
        }
    );
    // A socket's originator is empty, port 0.
    assert_eq!(
        ev("refused streamlocal port forward: originator  port 0, target /tmp/sshtrail-fwdcap.WekzM4/target.sock"),
        Event::ForwardRefused {
            kind: ForwardKind::Streamlocal,
            by: RefusedBy::Disabled,
            client: None,
            originator: None,
            target: "/tmp/sshtrail-fwdcap.WekzM4/target.sock",
            port: None,
        }
    );
    let m = parse("Received request from 127.0.0.1 port 55682 to connect to host 127.0.0.1 port 18080, but the request was denied.");
    assert_eq!(m.event.kind(), Kind::ForwardRefused);
    assert_eq!(m.event.kind().as_str(), "forward_refused");
    let f = m.fields();
    assert_eq!(
        (f.ip, f.port, f.reason),
        (v4("127.0.0.1"), Some(55682), Some("127.0.0.1"))
    );
}

#[test]
fn failed_forwards_as_captured() {
    let m = parse("error: connect_to 127.0.0.1 port 18099: failed.");
    assert_eq!(m.prefix, Some(Prefix::Error));
    assert_eq!(
        m.event,
        Event::ForwardFailed {
            kind: ForwardKind::Local,
            target: "127.0.0.1",
            port: Some(18099),
            reason: "failed",
        }
    );
    assert_eq!(m.event.kind().as_str(), "forward_failed");
    assert_eq!(
        ev("error: connect_to sshtrail-no-such-host.invalid: unknown host (Name or service not known)"),
        Event::ForwardFailed {
            kind: ForwardKind::Local,
            target: "sshtrail-no-such-host.invalid",
            port: None,
            reason: "unknown host (Name or service not known)",
        }
    );
    assert_eq!(
        ev("error: connect to /tmp/sshtrail-fwdcap.WekzM4/missing.sock port -2 failed: No such file or directory"),
        Event::ForwardFailed {
            kind: ForwardKind::Streamlocal,
            target: "/tmp/sshtrail-fwdcap.WekzM4/missing.sock",
            port: None,
            reason: "No such file or directory",
        }
    );
    assert_eq!(
        ev("error: connect to 10.0.0.9 port 5432 failed: Network is unreachable"),
        Event::ForwardFailed {
            kind: ForwardKind::Local,
            target: "10.0.0.9",
            port: Some(5432),
            reason: "Network is unreachable",
        }
    );
}

#[test]
fn forward_kinds_name_their_channels() {
    let all = [
        ForwardKind::Local,
        ForwardKind::Remote,
        ForwardKind::Streamlocal,
    ];
    let names: Vec<_> = all.iter().map(|k| (k.as_str(), k.channel())).collect();
    assert_eq!(
        names,
        [
            ("local", "direct-tcpip"),
            ("remote", "tcpip-forward"),
            ("streamlocal", "streamlocal")
        ]
    );
}

#[test]
fn hostile_forward_targets_keep_sshds_numbers() {
    // The target is the client's text; the port sshd printed is the last one.
    let Event::ForwardRefused { target, port, originator, .. } = ev(
        "refused local port forward: originator 127.0.0.1 port 1, target x port 9, target y port 22",
    ) else {
        panic!()
    };
    assert_eq!((target, port), ("x port 9, target y", Some(22)));
    assert_eq!(
        originator,
        Some(Peer {
            ip: v4("127.0.0.1"),
            port: 1
        })
    );
    // An originator that is not an address is dropped, not guessed at.
    let Event::ForwardRefused {
        originator, target, ..
    } = ev("refused local port forward: originator evil port 1 port 2, target db port 5432")
    else {
        panic!()
    };
    assert_eq!((originator, target), (None, "db"));
    let Event::ForwardRefused { target, port, client, .. } = ev(
        "Received request from 10.0.0.1 port 5 to connect to host h port 1, but the request was denied. port 2, but the request was denied.",
    ) else {
        panic!()
    };
    assert_eq!(
        (target, port, client.map(|c| c.port)),
        ("h port 1, but the request was denied.", Some(2), Some(5))
    );
    let Event::ForwardFailed { target, port, .. } =
        ev("error: connect_to a port 1: failed. port 7: failed.")
    else {
        panic!()
    };
    assert_eq!((target, port), ("a port 1: failed.", Some(7)));
    let Event::ForwardFailed { target, reason, .. } =
        ev("error: connect_to h: unknown host (x): unknown host (Temporary failure in name resolution)")
    else {
        panic!()
    };
    assert_eq!(
        (target, reason),
        (
            "h: unknown host (x)",
            "unknown host (Temporary failure in name resolution)"
        )
    );
}

#[test]
fn malformed_forward_lines_are_other() {
    for line in [
        "refused local port forward: originator 1.2.3.4 port 5, target h port 99999",
        "refused local port forward: originator 1.2.3.4 port 5 target h port 22",
        "refused local port forward: originator ",
        "refused streamlocal port forward: originator x",
        "Received request from 1.2.3.4 port 5 to connect to host h port 22",
        "Received request from nowhere port 5 to connect to host h port 22, but the request was denied.",
        "Received request from 1.2.3.4 port 5to connect to host h port 22, but the request was denied.",
        "Received request to do something else, but the request was denied.",
        "Received request to connect to host h, but the request was denied.",
        "connect_to h port x: failed.",
        "connect_to h: unknown host (unterminated",
        "connect_to h",
        "connect to h port 70000 failed: x",
        "connect to h failed: x",
        "connect_to",
    ] {
        assert_eq!(ev(line), Event::Other, "{line}");
    }
}

#[test]
fn a_forced_command_holding_for_and_on_keeps_the_user_and_the_whole_command() {
    // Captured from OpenSSH 9.2 with `ForceCommand /bin/echo forced for you on pts/9`.
    let Event::SessionStarted { what, user, id, .. } = ev(
        "Starting session: forced-command (config) '/bin/echo forced for you on pts/9' on pts/0 for sshtrail-alice from 127.0.0.1 port 33666 id 0",
    ) else {
        panic!()
    };
    assert_eq!(user, "sshtrail-alice");
    assert_eq!(
        what,
        "forced-command (config) '/bin/echo forced for you on pts/9' on pts/0"
    );
    assert_eq!(id, 0);
}
