//! Properties: arbitrary input never panics, and no user name can move the peer.

use proptest::prelude::*;
use sshtrail_sshd::framing::{frame_fifo, frame_journal_json, SyslogFramer};
use sshtrail_sshd::{parse, parse_bytes, Format, TimeZone, Timestamp};
use std::net::IpAddr;

/// Every sshd message form that carries a user name and a peer; `{u}` is the user name,
/// `{a}`/`{p}` the peer sshd appends.
const FORMS: &[&str] = &[
    "Accepted password for {u} from {a} port {p} ssh2",
    "Accepted publickey for {u} from {a} port {p} ssh2: ED25519 SHA256:e9crEtW7xih36EG0tmlvrNG65oPJnc8Hm8ZEDFKqPMM",
    "Accepted publickey for {u} from {a} port {p} ssh2: RSA-CERT SHA256:x ID id (serial 1) CA RSA SHA256:y",
    "Failed password for invalid user {u} from {a} port {p} ssh2",
    "Failed publickey for {u} from {a} port {p} ssh2: ED25519 SHA256:abc",
    "Failed none for invalid user {u} from {a} port {p} ssh2",
    "Postponed keyboard-interactive/pam for {u} from {a} port {p} ssh2 [preauth]",
    "Partial publickey for {u} from {a} port {p} ssh2: ED25519 SHA256:abc",
    "Invalid user {u} from {a} port {p}",
    "error: maximum authentication attempts exceeded for invalid user {u} from {a} port {p} ssh2 [preauth]",
    "Disconnecting invalid user {u} {a} port {p}: Too many authentication failures [preauth]",
    "Disconnecting authenticating user {u} {a} port {p}: Too many authentication failures [preauth]",
    "Connection closed by invalid user {u} {a} port {p} [preauth]",
    "Connection closed by authenticating user {u} {a} port {p} [preauth]",
    "Connection reset by invalid user {u} {a} port {p} [preauth]",
    "Disconnected from invalid user {u} {a} port {p} [preauth]",
    "Disconnected from user {u} {a} port {p}",
    "Starting session: command for {u} from {a} port {p} id 0",
    "Starting session: shell on pts/0 for {u} from {a} port {p} id 3",
    "Close session: user {u} from {a} port {p} id 0",
];

/// User names built from the pieces an attacker would use to imitate sshd's own text.
fn hostile_name() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(" from ".to_string()),
        Just(" port ".to_string()),
        Just(" ssh2".to_string()),
        Just(": ".to_string()),
        Just(" [preauth]".to_string()),
        Just(" id 0".to_string()),
        Just("invalid user ".to_string()),
        Just(" on ".to_string()),
        Just("6.6.6.6".to_string()),
        Just("2001:db8::6".to_string()),
        Just("UNKNOWN".to_string()),
        Just(" ED25519 SHA256:abc".to_string()),
        "[0-9]{1,6}",
        "[a-z]{1,4}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u16; 8]>().prop_map(IpAddr::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn user_names_never_move_the_peer(user in hostile_name(), ip in addr(), port in any::<u16>(), form in 0..FORMS.len()) {
        let line = FORMS[form]
            .replace("{a}", &ip.to_string())
            .replace("{p}", &port.to_string())
            .replacen("{u}", &user, 1);
        let m = parse(&line);
        let f = m.fields();
        prop_assert_eq!(f.ip, Some(ip), "{}", line);
        prop_assert_eq!(f.port, Some(port), "{}", line);
        // The name itself comes back intact, except where it begins with the qualifier
        // sshd itself writes in front of names (`invalid user `), which sshd's text cannot
        // tell apart.
        let qualified = ["invalid user ", "authenticating user ", "user "]
            .iter()
            .any(|q| user.starts_with(q));
        if !qualified {
            prop_assert_eq!(f.user, Some(user.as_str()), "{}", line);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..300)) {
        let m = parse_bytes(&data);
        let _ = m.fields();
        let _ = m.event.kind();
        if let Ok(s) = std::str::from_utf8(&data) {
            let _ = frame_fifo(s);
            let _ = frame_journal_json(s);
            let framer = SyslogFramer::with_reference(TimeZone::Fixed(3600), Timestamp(0));
            if let Ok(f) = framer.frame(s) {
                let _ = f.parse().fields();
            }
            let _ = Format::detect(s);
        }
    }

    #[test]
    fn arbitrary_text_after_known_prefixes_never_panics(
        prefix in prop::sample::select(vec![
            "Accepted ", "Accepted key ", "Accepted certificate ID ", "Failed ", "Postponed ",
            "Invalid user ", "User ", "ROOT LOGIN REFUSED FROM ", "Disconnecting",
            "Connection closed by ", "Connection from ", "Received disconnect from ",
            "Starting session: ", "Close session: user ", "pam_unix(", "PAM: Authentication failure for ",
            "reverse mapping checking getaddrinfo for ", "Address ", "Nasty PTR record ",
            "Authentication key ", "banner exchange: Connection from ", "Unable to negotiate with ",
            "Bad protocol version identification ", "<38>1 ", "Nov 23 11:00:29 ", "2026-11-23T11:00:29Z ",
        ]),
        rest in ".{0,120}",
    ) {
        let line = format!("{prefix}{rest}");
        let _ = parse(&line).fields();
        let framer = SyslogFramer::with_reference(TimeZone::Utc, Timestamp(0));
        let _ = framer.frame(&line);
    }
}
