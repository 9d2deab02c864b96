//! Any bytes as an sshd message: parse, flatten to fields, and name the kind.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let m = sshtrail_sshd::parse_bytes(data);
    let f = m.fields();
    let _ = (m.event.kind().as_str(), f.user, f.ip, f.port, f.cert);
    // A user name can hold anything: embedded in a real line, it must not move the peer.
    if let Ok(user) = std::str::from_utf8(data) {
        let line = format!("Failed password for invalid user {user} from 192.0.2.1 port 4242 ssh2");
        let f = sshtrail_sshd::parse(&line).fields();
        assert_eq!(f.port, Some(4242));
        assert_eq!(f.ip, Some(std::net::IpAddr::from([192, 0, 2, 1])));
    }
});
