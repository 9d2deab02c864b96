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
