//! The reassembler against go-libaudit's reassembler inputs, read in place from
//! `../shared/peer-testdata` (skipped when that folder is absent).

use sshtrail_audit::parse_line;
use sshtrail_audit::reassemble::{Output, Reassembler, Stats};
use std::path::PathBuf;

fn peer_file(name: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/peer-testdata/go-libaudit/testdata")
        .join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!("skipped: {} not present", path.display());
            None
        }
    }
}

/// Replays a log with the record count as the clock (as `sshtrail audit parse` does for
/// files: deterministic, and immune to time jumps inside a log); returns (serial, record
/// count) per event.
fn replay(text: &str) -> (Vec<(u64, usize)>, Stats) {
    let mut reassembler = Reassembler::default();
    let mut events = Vec::new();
    let mut collect = |output: Output| {
        if let Output::Event(event) = output {
            events.push((event.id().serial, event.records().len()));
        }
    };
    for (index, line) in text.lines().enumerate() {
        let record = parse_line(line.as_bytes()).expect("peer lines parse");
        reassembler.push(record, index as u64, &mut collect);
    }
    reassembler.finish(&mut collect);
    (events, reassembler.stats())
}

#[test]
fn normal_log_has_no_loss() {
    let Some(text) = peer_file("normal.log") else {
        return;
    };
    let (events, stats) = replay(&text);
    assert_eq!(
        events.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![58, 59, 60, 61, 62]
    );
    assert_eq!(
        events.iter().map(|e| e.1).sum::<usize>(),
        text.lines().count()
    );
    assert_eq!((stats.lost, stats.late), (0, 0));
}

#[test]
fn lost_messages_counts_nine() {
    let Some(text) = peer_file("lost_messages.log") else {
        return;
    };
    let (events, stats) = replay(&text);
    assert_eq!(
        events.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![49, 59, 60, 61, 62]
    );
    assert_eq!(stats.lost, 9);
}

#[test]
fn out_of_order_records_regroup() {
    let Some(text) = peer_file("out_of_order.log") else {
        return;
    };
    let (events, stats) = replay(&text);
    assert_eq!(
        events.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![58, 59, 60, 61, 62]
    );
    assert_eq!(
        events.iter().map(|e| e.1).sum::<usize>(),
        text.lines().count()
    );
    assert_eq!((stats.lost, stats.late), (0, 0));
}

#[test]
fn rollover_is_not_loss() {
    let Some(text) = peer_file("rollover.log") else {
        return;
    };
    let (events, stats) = replay(&text);
    assert_eq!(
        events.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![4294967294, 4294967295, 0, 1, 2]
    );
    assert_eq!(stats.lost, 0);
}
