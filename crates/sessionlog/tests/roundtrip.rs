//! Every message kind comes back from the binary format, and from JSON, exactly as written.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sshtrail_sessionlog::codec::kinds::{self, KINDS};
use sshtrail_sessionlog::{Action, Login, Message, Reader, Stream, Writer};

use common::{header, log_of, one_of_each, T0};

fn read_back(bytes: &[u8]) -> Vec<(u64, Message)> {
    Reader::new(bytes)
        .expect("header")
        .map(|e| e.map(|e| (e.time_ms, e.message)).expect("record"))
        .collect()
}

#[test]
fn the_fixture_covers_every_message_kind() {
    let used: BTreeSet<&str> = one_of_each().iter().map(Message::kind_name).collect();
    let known: BTreeSet<&str> = KINDS
        .iter()
        .map(|(_, n)| *n)
        .filter(|n| *n != "header" && *n != "end")
        .collect();
    assert_eq!(used, known);
}

#[test]
fn every_kind_round_trips_through_the_binary_format() {
    let messages = one_of_each();
    let (bytes, digest) = log_of(&messages);
    let mut reader = Reader::new(&bytes[..]).unwrap();
    assert_eq!(reader.header(), &header());
    let mut n = 0;
    for (i, entry) in reader.by_ref().enumerate() {
        let entry = entry.unwrap();
        assert_eq!(entry.index, i as u64);
        assert_eq!(entry.time_ms, T0 + 1000 * (i as u64 + 1));
        assert_eq!(entry.message, messages[i]);
        n += 1;
    }
    assert_eq!(n, messages.len());
    assert!(reader.sealed());
    assert_eq!(reader.end().unwrap().records, messages.len() as u64);
    assert_eq!(reader.digest(), digest);
}

#[test]
fn every_kind_round_trips_through_json_with_its_kind_name() {
    for m in one_of_each() {
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["kind"], m.kind_name(), "{json}");
        let back: Message = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
    }
}

#[test]
fn bytes_are_base64_in_json() {
    let m = Message::Io {
        channel: 0,
        stream: Stream::Stdout,
        data: b"\xff\x00hi".to_vec(),
    };
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["data"], "/wBoaQ==");
    assert_eq!(json["stream"], "stdout");
}

#[test]
fn kind_numbers_and_names_are_unique() {
    let numbers: BTreeSet<u64> = KINDS.iter().map(|(n, _)| *n).collect();
    let names: BTreeSet<&str> = KINDS.iter().map(|(_, n)| *n).collect();
    assert_eq!(numbers.len(), KINDS.len());
    assert_eq!(names.len(), KINDS.len());
    for m in one_of_each() {
        assert_eq!(
            kinds::kind_name(kinds::kind_number(&m)),
            Some(m.kind_name())
        );
    }
}

#[test]
fn big_io_is_compressed_and_still_round_trips() {
    let text: Vec<u8> = b"drwxr-xr-x  2 root root  4096 Nov 23 10:51 bin\r\n"
        .iter()
        .copied()
        .cycle()
        .take(64 * 1024)
        .collect();
    let m = Message::Io {
        channel: 0,
        stream: Stream::Stdout,
        data: text.clone(),
    };
    let (bytes, _) = log_of(std::slice::from_ref(&m));
    assert!(
        bytes.len() < text.len() / 4,
        "{} bytes on disk",
        bytes.len()
    );
    assert_eq!(read_back(&bytes), vec![(T0 + 1000, m)]);
}

#[test]
fn an_oversized_record_is_refused_not_written() {
    let mut w = Writer::create(Vec::new(), &header()).unwrap();
    let before = w.state();
    let m = Message::TtyInput {
        pid: "1".into(),
        data: vec![b'x'; 16 * 1024 * 1024 + 1],
    };
    assert!(matches!(
        w.append(T0, &m),
        Err(sshtrail_sessionlog::Error::TooLarge { .. })
    ));
    assert_eq!(w.state(), before);
    assert_eq!(w.get_ref().len() as u64, before.offset);
}

fn text() -> impl Strategy<Value = String> {
    // Any Unicode, including control characters and escape sequences.
    proptest::string::string_regex("(?s).{0,40}").unwrap()
}

fn map() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map(text(), text(), 0..4)
}

fn action() -> impl Strategy<Value = Message> {
    (
        (text(), any::<bool>(), text(), any::<Option<u64>>()),
        (text(), text(), text(), text(), text(), text()),
        proptest::collection::vec(text(), 0..6),
        (text(), text(), text()),
        proptest::collection::vec(text(), 0..3),
        map(),
    )
        .prop_map(
            |((action, succeeded, record_type, sequence), ids, argv, obj, keys, details)| {
                Message::Action(Action {
                    action,
                    succeeded,
                    record_type,
                    sequence,
                    pid: ids.0,
                    ppid: ids.1,
                    uid: ids.2,
                    euid: ids.3,
                    exe: ids.4,
                    cwd: ids.5,
                    argv,
                    object_type: obj.0,
                    object_primary: obj.1,
                    object_secondary: obj.2,
                    keys,
                    details,
                })
            },
        )
}

fn login() -> impl Strategy<Value = Message> {
    (
        (text(), text(), text(), text()),
        any::<Option<u16>>(),
        any::<Option<u32>>(),
        proptest::option::of(text()),
        map(),
    )
        .prop_map(
            |((user, user_id, method, source_ip), port, pid, ses, details)| {
                Message::Login(Login {
                    user,
                    user_id,
                    method,
                    source_ip,
                    source_port: port,
                    pid,
                    audit_session: ses,
                    details,
                })
            },
        )
}

fn io() -> impl Strategy<Value = Message> {
    (
        any::<u32>(),
        prop_oneof![
            Just(Stream::Stdin),
            Just(Stream::Stdout),
            Just(Stream::Stderr)
        ],
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..2000),
            // Long repetitive runs: these take the compressed path.
            (any::<u8>(), 500..5000usize).prop_map(|(b, n)| vec![b; n]),
        ],
    )
        .prop_map(|(channel, stream, data)| Message::Io {
            channel,
            stream,
            data,
        })
}

fn pty() -> impl Strategy<Value = Message> {
    (
        any::<u32>(),
        text(),
        any::<[u32; 4]>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(channel, term, [c, r, w, h], modes)| Message::Pty {
            channel,
            term,
            columns: c,
            rows: r,
            width_px: w,
            height_px: h,
            modes,
        })
}

proptest! {
    #[test]
    fn arbitrary_records_round_trip(
        records in proptest::collection::vec(
            (any::<u64>(), prop_oneof![action(), login(), io(), pty()]),
            0..12,
        )
    ) {
        let mut w = Writer::create(Vec::new(), &header()).unwrap();
        for (t, m) in &records {
            w.append(*t, m).unwrap();
        }
        let (bytes, digest) = w.finish_at(u64::MAX).unwrap();
        prop_assert_eq!(read_back(&bytes), records);
        let check = sshtrail_sessionlog::verify(&bytes[..]);
        prop_assert!(check.ok(), "{:?}", check.problem);
        prop_assert_eq!(check.digest, digest);
    }
}

#[test]
fn highly_repetitive_data_at_the_size_limit_round_trips() {
    // The best case for LZ4 (all one byte) stays within the expansion bound the reader
    // enforces on hostile frames.
    let m = Message::Io {
        channel: 0,
        stream: Stream::Stdout,
        data: vec![0u8; 16 * 1024 * 1024 - 64],
    };
    let (bytes, _) = log_of(std::slice::from_ref(&m));
    assert!(bytes.len() < 100 * 1024);
    assert_eq!(read_back(&bytes), vec![(T0 + 1000, m)]);
}
