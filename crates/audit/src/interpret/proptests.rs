//! Property tests: the decoders take arbitrary input without panicking, and decode what
//! an encoder produced back to the original.

use super::*;
use crate::parse::parse_line;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// One EXECVE-looking token: argc, aN, aN_len, aN[i] with quoted, hex or junk values.
fn execve_token() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("argc".to_string()),
        (0u32..6).prop_map(|n| format!("a{n}")),
        (0u32..6).prop_map(|n| format!("a{n}_len")),
        (0u32..6, 0u32..4).prop_map(|(n, i)| format!("a{n}[{i}]")),
        "a[0-9]{0,12}(_len|\\[[0-9]{0,12}\\])?",
    ];
    let value = prop_oneof![
        "[0-9]{1,6}",
        "[0-9A-F]{0,16}",
        "\"[a-z ]{0,8}\"",
        "[ -~]{0,8}",
    ];
    (key, value).prop_map(|(k, v)| format!("{k}={v}"))
}

proptest! {
    #[test]
    fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(decode_hex(&hex_of(&bytes)), Some(bytes.clone()));
        prop_assert_eq!(decode_hex(&hex_of(&bytes).to_lowercase()), Some(bytes));
    }

    #[test]
    fn decoders_never_panic(s in "\\PC{0,80}", hexish in "[0-9a-fA-F]{0,90}") {
        for input in [s.as_str(), hexish.as_str()] {
            let _ = decode_hex(input);
            let _ = sockaddr(input).to_string();
            let _ = file_mode(input).map(|m| m.describe());
            let _ = exit_text(input);
            let _ = Arch::from_field(input).map(|a| (a.label(), syscall_name(a, 59)));
            let _ = capability_set(input);
            let _ = perm_text(input);
            let _ = crate::record_type::RecordType::from_name(input);
            let _ = tables::field_kind(input);
            if let Some(a) = Arch::from_name(input) {
                let _ = syscall_number(a, input);
            }
        }
    }

    #[test]
    fn inet_addresses_round_trip(a in any::<[u8; 4]>(), port in any::<u16>(), pad in 0usize..9) {
        let mut raw = vec![2, 0];
        raw.extend_from_slice(&port.to_be_bytes());
        raw.extend_from_slice(&a);
        raw.extend(std::iter::repeat_n(0, pad));
        prop_assert_eq!(sockaddr(&hex_of(&raw)), SockAddr::Inet { addr: Ipv4Addr::from(a), port });
    }

    #[test]
    fn inet6_addresses_round_trip(a in any::<[u8; 16]>(), port in any::<u16>()) {
        let mut raw = vec![10, 0];
        raw.extend_from_slice(&port.to_be_bytes());
        raw.extend_from_slice(&[0; 4]);
        raw.extend_from_slice(&a);
        raw.extend_from_slice(&[0; 4]);
        prop_assert_eq!(sockaddr(&hex_of(&raw)), SockAddr::Inet6 { addr: Ipv6Addr::from(a), port });
    }

    #[test]
    fn short_buffers_are_malformed(family in prop::sample::select(vec![2u8, 10, 16]), len in 0usize..6) {
        let mut raw = vec![family, 0];
        raw.extend(std::iter::repeat_n(0x41, len));
        let decoded = sockaddr(&hex_of(&raw));
        prop_assert!(matches!(decoded, SockAddr::Malformed { .. }), "{:?}", decoded);
    }

    #[test]
    fn execve_args_never_panic(lines in proptest::collection::vec(
        proptest::collection::vec(execve_token(), 0..8), 1..4))
    {
        let records: Vec<_> = lines
            .iter()
            .filter_map(|tokens| {
                let line = format!("type=EXECVE msg=audit(1.0:1): {}", tokens.join(" "));
                parse_line(line.as_bytes()).ok()
            })
            .collect();
        match execve_args(&records) {
            Ok(args) => prop_assert!(args.len() <= 6 * 4 + 1),
            Err(ExecveError::Incomplete { args, reason }) => {
                prop_assert!(!reason.is_empty());
                prop_assert!(args.len() <= 4096 + 8 * 3);
            }
        }
    }

    #[test]
    fn split_arguments_reassemble(arg in proptest::collection::vec(any::<u8>(), 1..200), cut in 1usize..50) {
        let hex = hex_of(&arg);
        let pieces: Vec<_> = hex.as_bytes().chunks(cut * 2).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        let mut lines = vec![format!("type=EXECVE msg=audit(1.0:1): argc=2 a0=\"x\" a1_len={}", hex.len())];
        for (i, piece) in pieces.iter().enumerate() {
            lines.push(format!("type=EXECVE msg=audit(1.0:1):  a1[{i}]={piece}"));
        }
        let records: Vec<_> = lines.iter().map(|l| parse_line(l.as_bytes()).unwrap()).collect();
        let args = execve_args(&records).unwrap();
        prop_assert_eq!(&args[1], &String::from_utf8_lossy(&arg).into_owned());
    }

    #[test]
    fn every_field_of_any_line_interprets(body in "[ -~]{0,120}") {
        let line = format!("type=SYSCALL msg=audit(1.0:1): arch=c000003e {body}");
        if let Ok(record) = parse_line(line.as_bytes()) {
            for field in record.fields() {
                let _ = interpret_field(&record, &field, None, &NoNames);
                let _ = field_text(&field);
                let _ = keys(&field);
                let _ = proctitle_args(&field);
            }
        }
    }
}
