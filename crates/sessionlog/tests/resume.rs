//! Continuing a log after a restart: from a saved ChainState, or by recovering the file.

mod common;

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};

use sshtrail_sessionlog::{recover, verify, ChainState, Error, Reader, Writer};

use common::{frame_offsets, header, log_of, one_of_each, T0};

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sessionlog-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn resuming_from_a_chain_state_continues_the_same_chain() {
    let messages = one_of_each();
    let (whole, digest) = log_of(&messages);
    for split in [0, 1, messages.len() / 2, messages.len()] {
        let mut w = Writer::create(Vec::new(), &header()).unwrap();
        for (i, m) in messages[..split].iter().enumerate() {
            w.append(T0 + 1000 * (i as u64 + 1), m).unwrap();
        }
        // The state survives a trip through JSON (it goes into a checkpoint file).
        let saved = serde_json::to_string(&w.state()).unwrap();
        let (bytes, _) = (w.get_ref().clone(), ());
        let state: ChainState = serde_json::from_str(&saved).unwrap();
        assert_eq!(state.offset, bytes.len() as u64);
        assert_eq!(state.records, split as u64);

        let mut w = Writer::resume(bytes, &state);
        for (i, m) in messages.iter().enumerate().skip(split) {
            w.append(T0 + 1000 * (i as u64 + 1), m).unwrap();
        }
        let end = T0 + 1000 * (messages.len() as u64 + 1);
        let (bytes, resumed_digest) = w.finish_at(end).unwrap();
        assert_eq!(bytes, whole, "split at {split}");
        assert_eq!(resumed_digest, digest);
    }
}

#[test]
fn the_writer_digest_and_state_match_what_a_reader_computes() {
    let messages = one_of_each();
    let mut w = Writer::create(Vec::new(), &header()).unwrap();
    for m in &messages[..5] {
        w.append(T0, m).unwrap();
    }
    let mut reader = Reader::new(&w.get_ref()[..]).unwrap();
    assert_eq!(reader.by_ref().count(), 5);
    assert_eq!(reader.state(), w.state());
    assert_eq!(reader.digest(), w.digest());
    assert_eq!(w.state().digest(), w.digest());
}

#[test]
fn a_bad_chain_state_makes_appends_fail_instead_of_writing_a_broken_chain() {
    let state = ChainState {
        offset: 0,
        records: 0,
        chain: "not hex".into(),
    };
    let mut w = Writer::resume(Vec::new(), &state);
    assert!(matches!(
        w.append(T0, &one_of_each()[0]),
        Err(Error::InvalidState(_))
    ));
    assert!(w.get_ref().is_empty());
}

#[test]
fn recover_truncates_a_torn_tail_and_the_log_continues() {
    let messages = one_of_each();
    let path = temp_path("torn.log");
    let (whole, digest) = log_of(&messages);
    let offsets = frame_offsets(&whole);
    // A crash in the middle of writing record 7: its frame is half on disk.
    let record7 = offsets[8] as usize;
    let cut = record7 + (offsets[9] as usize - record7) / 2;
    std::fs::write(&path, &whole[..cut]).unwrap();

    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let (state, recovered) = recover(&mut file).unwrap();
    assert_eq!(recovered.records, 7);
    assert_eq!(recovered.truncated_bytes, (cut - record7) as u64);
    assert!(recovered.problem.unwrap().contains("torn tail"));
    assert!(!recovered.sealed);
    assert_eq!(recovered.header, header());
    assert_eq!(state.offset, record7 as u64);
    assert_eq!(file.metadata().unwrap().len(), record7 as u64);
    assert_eq!(file.stream_position().unwrap(), record7 as u64);

    // Continue writing where the crash happened: the result is the log written in one go.
    let mut w = Writer::resume(file, &state);
    for (i, m) in messages.iter().enumerate().skip(7) {
        w.append(T0 + 1000 * (i as u64 + 1), m).unwrap();
    }
    let end = T0 + 1000 * (messages.len() as u64 + 1);
    let (_, resumed) = w.finish_at(end).unwrap();
    assert_eq!(resumed, digest);
    assert_eq!(std::fs::read(&path).unwrap(), whole);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn recover_leaves_a_clean_log_alone_and_reports_a_sealed_one() {
    let messages = one_of_each();
    let (whole, _) = log_of(&messages);
    let offsets = frame_offsets(&whole);
    let end_frame = offsets[offsets.len() - 2] as usize;
    let path = temp_path("clean.log");

    std::fs::write(&path, &whole[..end_frame]).unwrap();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let (state, rec) = recover(&mut file).unwrap();
    assert_eq!(
        (rec.truncated_bytes, rec.problem, rec.sealed),
        (0, None, false)
    );
    assert_eq!(state.offset, end_frame as u64);

    std::fs::write(&path, &whole).unwrap();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let (_, rec) = recover(&mut file).unwrap();
    assert!(rec.sealed);
    assert_eq!(rec.truncated_bytes, 0);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn recover_cuts_a_zero_filled_tail_left_by_a_crash() {
    // After a power loss a file can end in zeros where data had not reached the disk.
    let (whole, _) = log_of(&one_of_each()[..4]);
    let offsets = frame_offsets(&whole);
    let end_frame = offsets[offsets.len() - 2] as usize;
    let path = temp_path("zeros.log");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.write_all(&whole[..end_frame]).unwrap();
    file.write_all(&[0u8; 4096]).unwrap();
    let (state, rec) = recover(&mut file).unwrap();
    assert_eq!(state.offset, end_frame as u64);
    assert_eq!(rec.truncated_bytes, 4096);
    assert_eq!(file.seek(SeekFrom::End(0)).unwrap(), end_frame as u64);
    let (_, d) = Writer::resume(file, &state).finish_at(T0).unwrap();
    let v = verify(std::fs::File::open(&path).unwrap());
    assert!(v.ok(), "{:?}", v.problem);
    assert_eq!(v.digest, d);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn recover_refuses_a_file_without_a_whole_header() {
    let (whole, _) = log_of(&[]);
    let path = temp_path("noheader.log");
    std::fs::write(&path, &whole[..20]).unwrap();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    assert!(matches!(recover(&mut file), Err(Error::Decode(_))));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_log_can_be_read_while_it_is_being_written() {
    let path = temp_path("live.log");
    let file = std::fs::File::create(&path).unwrap();
    let messages = one_of_each();
    let mut w = Writer::create(file, &header()).unwrap();
    w.append(T0, &messages[0]).unwrap();

    // A second, independent handle, as `sessions show` would open it.
    let mut reader = Reader::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(reader.next().unwrap().unwrap().message, messages[0]);
    assert!(reader.next().is_none(), "nothing more yet");
    assert!(!reader.sealed());

    w.append(T0 + 1, &messages[1]).unwrap();
    w.append(T0 + 2, &messages[2]).unwrap();
    let more: Vec<_> = reader.by_ref().map(|e| e.unwrap().message).collect();
    assert_eq!(more, messages[1..3]);

    let (_, digest) = w.finish_at(T0 + 3).unwrap();
    assert!(reader.next().is_none());
    assert!(reader.sealed());
    assert_eq!(reader.digest(), digest);
    std::fs::remove_file(&path).unwrap();
}
