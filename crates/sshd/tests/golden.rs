//! Golden tests over lines captured from a real sshd (OpenSSH 9.2p1, Debian 12) by
//! scripts/capture-sshd-fixtures: the same events as journald JSON, three syslog file
//! formats and the fifo format. The expectations come from the capture itself (the cases
//! file, and sshd's own `Connection from` lines), not from the parser.

use sshtrail_sshd::framing::SyslogFramer;
use sshtrail_sshd::{
    parse, Event, Format, Framed, Framer, Kind, NotAllowedReason, Outcome, Peer, TimeZone,
    Timestamp,
};
use std::collections::HashMap;
use std::net::IpAddr;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DATA}{name}")).expect("fixture present")
}

/// Frames every line of a fixture; any framing error fails the test.
fn frame_all<'a>(text: &'a str, format: Format) -> Vec<Framed<'a>> {
    // The capture ran in November 2026, UTC: RFC 3164 years are inferred from that.
    let reference = Timestamp::from_civil_utc(2026, 11, 30, 0, 0, 0, 0).unwrap();
    let framer = Framer::new(format, TimeZone::Utc)
        .with_syslog(SyslogFramer::with_reference(TimeZone::Utc, reference));
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            framer
                .frame(l)
                .unwrap_or_else(|e| panic!("line {}: {e}: {l}", i + 1))
        })
        .collect()
}

fn journal() -> Vec<Framed<'static>> {
    let text: &'static str = Box::leak(read("debian12-journal.json").into_boxed_str());
    frame_all(text, Format::JournalJson)
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

#[test]
fn all_formats_carry_the_same_messages() {
    let journal = journal();
    assert!(journal.len() > 400);
    let key = |f: &Framed<'_>| (f.pid.unwrap(), f.message.to_string());
    let from_journal: Vec<_> = journal.iter().map(key).collect();
    for (file, format) in [
        ("debian12-rfc3164.log", Format::Syslog),
        ("debian12-iso8601.log", Format::Syslog),
        ("debian12-rfc5424.log", Format::Syslog),
        ("debian12-fifo.log", Format::Fifo),
    ] {
        let text = read(file);
        let lines = frame_all(&text, format);
        let got: Vec<_> = lines.iter().map(key).collect();
        // rsyslog also saw the listener's restart lines logged just before the journal
        // cursor was taken; apart from those the sequences are identical.
        assert!(got.ends_with(&from_journal), "{file}");
        if format == Format::Syslog {
            assert!(lines.iter().all(|f| f.program.as_deref() == Some("sshd")));
            assert!(lines.iter().all(|f| f.host.as_deref() == Some("vm")));
        }
    }
    // Timestamps: the ISO and RFC 5424 files carry the journal's microseconds.
    let iso = read("debian12-iso8601.log");
    let iso = frame_all(&iso, Format::Syslog);
    let tail = &iso[iso.len() - journal.len()..];
    for (a, b) in tail.iter().zip(&journal) {
        let (a, b) = (a.timestamp.unwrap().0, b.timestamp.unwrap().0);
        // imjournal stamps with the source's realtime; the journal's receive time is
        // a few milliseconds later at most.
        assert!((b - a).abs() < 1_000_000, "{a} vs {b}");
    }
    let j = &journal[0];
    assert_eq!(j.boot_id.as_deref().map(str::len), Some(32));
    assert_eq!(
        j.machine_id.as_deref(),
        Some("3d1219c7c4c5404aaa1f6d2a48adfda4")
    );
    assert!(j.cursor.as_deref().unwrap().starts_with("s="));
}

/// Every message with a peer names the peer sshd logged in that process's `Connection
/// from` line (the session child inherits it via `User child is on pid`). The captured
/// connections include hostile user names such as `eve from 6.6.6.6 port 4444 ssh2`.
#[test]
fn every_peer_is_the_real_connection() {
    let journal = journal();
    let mut conn: HashMap<u32, Peer> = HashMap::new();
    let mut checked = 0;
    for f in &journal {
        let pid = f.pid.unwrap();
        let m = parse(&f.message);
        match m.event {
            Event::Connection { peer, local } => {
                // The capture's own sshd listens on 22840 and 22841.
                assert!(local.port == 22840 || local.port == 22841);
                conn.insert(pid, peer);
            }
            Event::UserChild { pid: child } => {
                let parent = conn[&pid];
                conn.insert(child, parent);
            }
            _ => {
                let fields = m.fields();
                if let Some(port) = fields.port {
                    let real = conn.get(&pid).unwrap_or_else(|| panic!("{}", f.message));
                    assert_eq!(Some(port), Some(real.port), "{}", f.message);
                    assert_eq!(fields.ip, real.ip, "{}", f.message);
                    checked += 1;
                }
                if let Some(host) = fields.host {
                    let real = conn[&pid].ip.unwrap().to_string();
                    assert_eq!(host, real, "{}", f.message);
                }
            }
        }
    }
    assert!(checked > 150, "{checked}");
}

/// The hostile user names the capture sent come back intact as the user field.
#[test]
fn hostile_user_names_are_reported_verbatim() {
    let cases = read("debian12-cases.tsv");
    let journal = journal();
    let invalid: Vec<(String, IpAddr)> = journal
        .iter()
        .filter_map(|f| match parse(&f.message).event {
            Event::InvalidUser {
                user,
                peer: Some(p),
            } => Some((user.to_string(), p.ip.unwrap())),
            _ => None,
        })
        .collect();
    let mut seen = 0;
    for line in cases.lines().filter(|l| l.starts_with("hostile")) {
        let cols: Vec<_> = line.split('\t').collect();
        // sshd cuts a user name at its first ':' (what follows is a BSD auth style).
        let name = cols[2].split(':').next().unwrap();
        let want_ip: IpAddr = cols[1].parse().unwrap();
        assert!(
            invalid.iter().any(|(u, i)| u == name && *i == want_ip),
            "{name:?} from {want_ip} not found"
        );
        seen += 1;
    }
    assert_eq!(seen, 8);
    // And the Failed lines for them keep method and invalid-user flag.
    let failed = journal
        .iter()
        .filter_map(|f| match parse(&f.message).event {
            Event::Auth(a) if a.user == "eve from 6.6.6.6 port 4444 ssh2" => Some(a),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert!(failed
        .iter()
        .any(|a| a.method == "password" && a.invalid_user && a.peer.ip == ip("127.0.0.1")));
    assert!(failed
        .iter()
        .any(|a| a.method == "keyboard-interactive/pam" && a.peer.ip == ip("::1")));
}

fn events() -> Vec<(Framed<'static>, Event<'static>, bool)> {
    journal()
        .into_iter()
        .map(|f| {
            // Leak the message so the parsed event can outlive the loop (test only).
            let msg: &'static str = Box::leak(f.message.to_string().into_boxed_str());
            let m = parse(msg);
            (f, m.event, m.preauth)
        })
        .collect()
}

#[test]
fn logins_by_every_method() {
    let evs = events();
    let accepted: Vec<_> = evs
        .iter()
        .filter_map(|(f, e, _)| match e {
            Event::Auth(a) if a.outcome == Outcome::Accepted => Some((f, *a)),
            _ => None,
        })
        .collect();
    let methods = |m: &str| accepted.iter().filter(|(_, a)| a.method == m).count();
    assert_eq!(methods("publickey"), 7); // key v4/v6/pty/sftp/allow port, cert v4/v6
    assert_eq!(methods("password"), 2);
    assert_eq!(methods("keyboard-interactive/pam"), 1);
    assert_eq!(methods("none"), 1);
    assert!(accepted
        .iter()
        .all(|(_, a)| a.proto == "ssh2" && !a.invalid_user));

    // Key logins: the fingerprint is the one sshd matched in authorized_keys just before.
    for (f, a) in accepted.iter().filter(|(_, a)| a.method == "publickey") {
        let key = a.key.unwrap();
        if a.user == "sshtrail-alice" {
            assert_eq!(key.key_type, "ED25519");
            assert!(key.cert.is_none());
            let matched = evs.iter().any(|(g, e, _)| {
                g.pid == f.pid
                    && matches!(e, Event::KeyMatched { fingerprint, location, .. }
                        if Some(*fingerprint) == key.fingerprint
                        && location.ends_with("/authorized_keys/sshtrail-alice:1"))
            });
            assert!(matched, "{}", f.message);
        } else {
            assert_eq!(a.user, "sshtrail-carol");
            assert_eq!(key.key_type, "ED25519-CERT");
            let cert = key.cert.unwrap();
            assert_eq!(cert.id, "carol@sshtrail-test");
            assert_eq!(cert.serial, 4242);
            assert_eq!(cert.ca_key_type, "ED25519");
            let matched = evs.iter().any(|(g, e, _)| {
                g.pid == f.pid
                    && matches!(e, Event::CertMatched { cert: c, via: Some(v) }
                    if *c == cert && v.ends_with("/ca/user_ca.pub"))
            });
            assert!(matched, "{}", f.message);
        }
    }
    // Both address families.
    assert!(accepted
        .iter()
        .any(|(_, a)| a.peer.ip == ip("::1") && a.method == "password"));
    assert!(accepted
        .iter()
        .any(|(_, a)| a.peer.ip == ip("::1") && a.key.is_some_and(|k| k.cert.is_some())));
    // A login's session: PAM session opened with uid, a Starting session, a close.
    let (login, _) = accepted
        .iter()
        .find(|(_, a)| a.method == "password")
        .unwrap();
    let same_pid = |k: Kind| {
        evs.iter()
            .any(|(g, e, _)| g.pid == login.pid && e.kind() == k)
    };
    assert!(
        same_pid(Kind::SessionOpened) && same_pid(Kind::SessionClosed) && same_pid(Kind::UserChild)
    );
    assert!(evs.iter().any(|(_, e, _)| matches!(e,
        Event::SessionOpened { service: "sshd", user: "sshtrail-bob", uid: Some(u) } if *u >= 1000)));
    let whats: Vec<_> = evs
        .iter()
        .filter_map(|(_, e, _)| match e {
            Event::SessionStarted { what, .. } => Some(*what),
            _ => None,
        })
        .collect();
    assert!(whats.contains(&"command"));
    assert!(whats.contains(&"subsystem 'sftp'"));
    assert!(whats.iter().any(|w| w.starts_with("command on pts/")));
}

#[test]
fn refusals_and_failures() {
    let evs = events();
    let find = |k: Kind| -> Vec<&(Framed<'static>, Event<'static>, bool)> {
        evs.iter().filter(|(_, e, _)| e.kind() == k).collect()
    };
    let reasons: Vec<_> = find(Kind::NotAllowed)
        .iter()
        .map(|(_, e, _)| match e {
            Event::NotAllowed {
                user, reason, host, ..
            } => (*user, *reason, *host),
            _ => unreachable!(),
        })
        .collect();
    for want in [
        (
            "sshtrail-denied",
            NotAllowedReason::DenyUsers,
            Some("127.0.0.1"),
        ),
        (
            "sshtrail-grpdenied",
            NotAllowedReason::DenyGroups,
            Some("127.0.0.1"),
        ),
        (
            "sshtrail-bob",
            NotAllowedReason::AllowUsers,
            Some("127.0.0.1"),
        ),
        (
            "sshtrail-carol",
            NotAllowedReason::AllowGroups,
            Some("127.0.0.1"),
        ),
        ("sshtrail-noshell", NotAllowedReason::ShellMissing, None),
    ] {
        assert!(reasons.contains(&want), "{want:?} in {reasons:?}");
    }
    let root = find(Kind::RootRefused);
    assert_eq!(root.len(), 2);
    assert_eq!(root.iter().filter(|(_, _, pre)| *pre).count(), 1);

    let max = find(Kind::MaxAttempts);
    assert!(matches!(
        max[0],
        (
            _,
            Event::MaxAttempts {
                user: "sshtrail-alice",
                invalid_user: false,
                ..
            },
            true
        )
    ));
    let too_many = find(Kind::TooManyFailures);
    assert_eq!(too_many[0].0.pid, max[0].0.pid);

    let cert_invalid: Vec<_> = find(Kind::CertInvalid)
        .iter()
        .map(|(_, e, _)| match e {
            Event::CertInvalid { reason } => *reason,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(cert_invalid, ["expired", "name is not a listed principal"]);
    // The failed certificate attempts carry their serials.
    let serials: Vec<u64> = evs
        .iter()
        .filter_map(|(_, e, _)| match e {
            Event::Auth(a) if a.outcome == Outcome::Failed => a.key?.cert.map(|c| c.serial),
            _ => None,
        })
        .collect();
    assert_eq!(serials, [4243, 4244]);

    let revoked = find(Kind::KeyRevoked);
    let (
        rf,
        Event::KeyRevoked {
            fingerprint, file, ..
        },
        _,
    ) = revoked[0]
    else {
        unreachable!()
    };
    assert!(file.unwrap().ends_with("/revoked_keys"));
    // sshd still logs the revoked key's failed attempt under the same fingerprint.
    assert!(evs.iter().any(|(g, e, _)| g.pid == rf.pid
        && matches!(e, Event::Auth(a) if a.outcome == Outcome::Failed && a.user == "sshtrail-dave"
            && a.key.is_some_and(|k| k.fingerprint == Some(*fingerprint)))));

    let refused = find(Kind::AuthRefused);
    assert!(
        matches!(refused[0].1, Event::AuthRefused { path: Some(p), .. } if p.ends_with("authorized_keys/sshtrail-sloppy"))
    );

    // Failures by method, and invalid users.
    let failed = |m: &str, invalid: bool| {
        evs.iter().any(|(_, e, _)| {
            matches!(e, Event::Auth(a)
            if a.outcome == Outcome::Failed && a.method == m && a.invalid_user == invalid)
        })
    };
    assert!(failed("password", false) && failed("password", true));
    assert!(failed("keyboard-interactive/pam", false) && failed("keyboard-interactive/pam", true));
    assert!(failed("publickey", false) && failed("none", true));
    let pam = find(Kind::PamAuthFailure);
    assert!(pam.iter().any(|(_, e, _)| matches!(
        e,
        Event::PamAuthFailure {
            rhost: Some("127.0.0.1"),
            user: Some("sshtrail-bob"),
            ..
        }
    )));
    assert!(find(Kind::PamError).iter().any(|(_, e, _)| matches!(
        e,
        Event::PamError {
            user: "nosuchuser",
            invalid_user: true,
            host: "127.0.0.1"
        }
    )));
}

#[test]
fn disconnects_and_noise() {
    let evs = events();
    let kinds: Vec<Kind> = evs.iter().map(|(_, e, _)| e.kind()).collect();
    for k in [
        Kind::ConnectionClosed,
        Kind::Disconnected,
        Kind::ReceivedDisconnect,
        Kind::ConnectionReset,
        Kind::BannerExchange,
        Kind::KexExchangeIdentification,
        Kind::UnableToNegotiate,
        Kind::BadProtocolVersion,
    ] {
        assert!(kinds.contains(&k), "{k}");
    }
    let states = |want: sshtrail_sshd::UserState| {
        evs.iter().any(|(_, e, pre)| {
            *pre && matches!(e,
            Event::ConnectionClosed { state: Some(s), user: Some(_), .. } if *s == want)
        })
    };
    assert!(states(sshtrail_sshd::UserState::Authenticating));
    assert!(states(sshtrail_sshd::UserState::Invalid));
    assert!(evs.iter().any(|(_, e, _)| matches!(
        e,
        Event::ReceivedDisconnect {
            code: Some(11),
            reason: "disconnected by user",
            ..
        }
    )));
    assert!(evs.iter().any(|(_, e, _)| matches!(
        e,
        Event::Disconnected {
            user: Some("sshtrail-bob"),
            state: Some(sshtrail_sshd::UserState::Authenticated),
            ..
        }
    )));
    let negotiate: Vec<_> = evs
        .iter()
        .filter_map(|(_, e, _)| match e {
            Event::Noise {
                noise: sshtrail_sshd::Noise::UnableToNegotiate,
                peer,
                reason,
            } => Some((peer.unwrap().ip, *reason)),
            _ => None,
        })
        .collect();
    assert!(negotiate
        .iter()
        .any(|(i, r)| *i == ip("::1") && r.contains("no matching host key type")));
}

/// Lines of OpenSSH versions this machine cannot run: hand-written (fabricated), see the
/// header of the file. Columns: kind, user, ip, port, method, cert id, serial, line.
#[test]
fn fabricated_other_versions() {
    let text = read("fabricated-other-openssh-versions.tsv");
    let framer = SyslogFramer::with_reference(
        TimeZone::Utc,
        Timestamp::from_civil_utc(2025, 6, 1, 0, 0, 0, 0).unwrap(),
    );
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.splitn(8, '\t').collect();
        assert_eq!(cols.len(), 8, "line {}", i + 1);
        let framed = framer
            .frame(cols[7])
            .unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        assert!(framed.is_sshd(), "line {}", i + 1);
        let m = parse(&framed.message);
        let f = m.fields();
        let opt = |s: &str| (s != "-").then(|| s.to_string());
        let ctx = format!("line {}: {}", i + 1, cols[7]);
        assert_eq!(m.event.kind().as_str(), cols[0], "{ctx}");
        assert_eq!(f.user.map(str::to_string), opt(cols[1]), "{ctx}");
        assert_eq!(f.ip.map(|i| i.to_string()), opt(cols[2]), "{ctx}");
        assert_eq!(f.port.map(|p| p.to_string()), opt(cols[3]), "{ctx}");
        assert_eq!(f.method.map(str::to_string), opt(cols[4]), "{ctx}");
        assert_eq!(f.cert.map(|c| c.id.to_string()), opt(cols[5]), "{ctx}");
        assert_eq!(f.cert.map(|c| c.serial.to_string()), opt(cols[6]), "{ctx}");
        n += 1;
    }
    assert!(n >= 30, "{n}");
}
