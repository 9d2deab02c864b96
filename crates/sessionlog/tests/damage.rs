//! Damaged logs: cut off, edited, frames removed or moved. The reader returns every whole
//! record and then one error that says where; `verify` names the record and the offset.

mod common;

use sshtrail_sessionlog::codec::kinds;
use sshtrail_sessionlog::codec::{FRAME_HEAD_LEN, PREAMBLE_LEN};
use sshtrail_sessionlog::{verify, DecodeError, Message, Reader, Stream, Writer};

use common::{frame_offsets, header, log_of, one_of_each, T0};

/// A small log with a compressed frame in it.
fn small_log() -> (Vec<Message>, Vec<u8>) {
    let mut messages = one_of_each()[..6].to_vec();
    messages.push(Message::Io {
        channel: 0,
        stream: Stream::Stdout,
        data: b"-rw-r--r-- 1 root root 0 a\r\n".repeat(40),
    });
    messages.push(Message::Logout {
        reason: "closed".into(),
        duration_ms: 5,
    });
    let (bytes, _) = log_of(&messages);
    (messages, bytes)
}

#[test]
fn a_log_cut_at_any_byte_gives_every_whole_record_then_one_error() {
    let (messages, bytes) = small_log();
    let offsets = frame_offsets(&bytes);
    // offsets: header, records…, end frame, file length.
    let record_starts = &offsets[1..offsets.len() - 1];
    for cut in 0..bytes.len() {
        let cut_bytes = &bytes[..cut];
        let whole = record_starts
            .iter()
            .skip(1)
            .filter(|&&end| end <= cut as u64)
            .count();
        match Reader::new(cut_bytes) {
            Err(e) => {
                assert!(cut < offsets[1] as usize, "cut {cut}: header error {e}");
                assert!(e.is_torn(), "cut {cut}: {e}");
            }
            Ok(reader) => {
                let results: Vec<_> = reader.collect();
                let ok: Vec<Message> = results
                    .iter()
                    .filter_map(|r| r.as_ref().ok().map(|e| e.message.clone()))
                    .collect();
                assert_eq!(ok, messages[..whole.min(messages.len())], "cut {cut}");
                let errors: Vec<&DecodeError> =
                    results.iter().filter_map(|r| r.as_ref().err()).collect();
                if record_starts.contains(&(cut as u64)) {
                    // Cut exactly between frames: nothing torn, just not sealed.
                    assert!(errors.is_empty(), "cut {cut}: {errors:?}");
                } else {
                    assert_eq!(errors.len(), 1, "cut {cut}");
                    let e = errors[0];
                    assert!(e.is_torn(), "cut {cut}: {e}");
                    // The error points at the start of the torn frame…
                    let start = *record_starts.iter().rfind(|&&o| o < cut as u64).unwrap();
                    assert_eq!(e.offset(), start, "cut {cut}");
                    // …and says so in words.
                    assert!(e.to_string().contains("torn tail at offset"), "{e}");
                    // The error is last: nothing after it.
                    assert!(results.last().unwrap().is_err());
                }
            }
        }
        let v = verify(cut_bytes);
        assert!(!v.ok() && !v.sealed, "cut {cut} verified as whole");
    }
}

#[test]
fn a_flipped_bit_anywhere_fails_verify_and_names_the_frame() {
    let (_, bytes) = small_log();
    let offsets = frame_offsets(&bytes);
    let intact = verify(&bytes[..]);
    assert!(intact.ok());
    for pos in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut damaged = bytes.clone();
            damaged[pos] ^= bit;
            let v = verify(&damaged[..]);
            assert!(!v.ok(), "flip {bit:#x} at {pos} not detected");
            let problem = v.problem.expect("a problem is reported");
            if pos < PREAMBLE_LEN {
                assert_eq!(problem.offset, 0, "flip at {pos}: {problem:?}");
                assert_eq!(problem.record_index, None);
            } else {
                // Whatever the byte was (length, flags, link, payload, checksum), the damage
                // is reported at the start of the frame that holds it, with its index.
                let frame = offsets.iter().rposition(|&o| o <= pos as u64).unwrap();
                assert_eq!(problem.offset, offsets[frame], "flip at {pos}: {problem:?}");
                let index = if frame == 0 {
                    None
                } else {
                    Some(frame as u64 - 1)
                };
                assert_eq!(problem.record_index, index, "flip at {pos}: {problem:?}");
            }
            assert!(!problem.what.is_empty());
        }
    }
}

#[test]
fn a_flipped_payload_byte_is_reported_as_a_checksum_mismatch_of_that_record() {
    let (_, bytes) = small_log();
    let offsets = frame_offsets(&bytes);
    let third = offsets[3] as usize; // record 2
    let mut damaged = bytes.clone();
    damaged[third + FRAME_HEAD_LEN + 1] ^= 0x20;
    let v = verify(&damaged[..]);
    let p = v.problem.unwrap();
    assert_eq!(p.record_index, Some(2));
    assert_eq!(p.offset, third as u64);
    assert!(p.what.contains("checksum mismatch"), "{}", p.what);
    assert_eq!(
        v.records, 2,
        "the records before it are still counted as whole"
    );
}

fn splice(bytes: &[u8], offsets: &[u64], order: &[usize]) -> Vec<u8> {
    // Frames are numbered as in `offsets`: 0 = header, 1.. = records, last = end.
    let mut out = bytes[..PREAMBLE_LEN].to_vec();
    for &f in order {
        out.extend_from_slice(&bytes[offsets[f] as usize..offsets[f + 1] as usize]);
    }
    out
}

#[test]
fn a_removed_frame_in_the_middle_fails_verify_at_the_next_frame() {
    let (_, bytes) = small_log();
    let offsets = frame_offsets(&bytes);
    let frames = offsets.len() - 1; // header + records + end
    for removed in 1..frames - 1 {
        let order: Vec<usize> = (0..frames).filter(|&f| f != removed).collect();
        let spliced = splice(&bytes, &offsets, &order);
        let v = verify(&spliced[..]);
        let p = v.problem.expect("removal detected");
        assert_eq!(
            p.record_index,
            Some(removed as u64 - 1),
            "removed {removed}"
        );
        assert_eq!(p.offset, offsets[removed], "removed {removed}");
        assert!(p.what.contains("chain link mismatch"), "{}", p.what);
    }
}

#[test]
fn reordered_frames_fail_verify() {
    let (_, bytes) = small_log();
    let offsets = frame_offsets(&bytes);
    let frames = offsets.len() - 1;
    let mut order: Vec<usize> = (0..frames).collect();
    order.swap(3, 4);
    let v = verify(&splice(&bytes, &offsets, &order)[..]);
    let p = v.problem.expect("reordering detected");
    assert_eq!(p.record_index, Some(2));
    assert!(p.what.contains("chain link mismatch"));
}

#[test]
fn a_log_without_its_end_record_is_not_sealed() {
    let (_, bytes) = small_log();
    let offsets = frame_offsets(&bytes);
    let end_frame = offsets[offsets.len() - 2] as usize;
    let v = verify(&bytes[..end_frame]);
    assert!(!v.sealed && !v.ok());
    let p = v.problem.unwrap();
    assert_eq!(p.offset, end_frame as u64);
    assert!(p.what.contains("without its end record"), "{}", p.what);
    // The reader itself reads such a log (it may still be being written) without error.
    let reader = Reader::new(&bytes[..end_frame]).unwrap();
    let records: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
    assert!(!records.is_empty());
}

#[test]
fn data_after_the_end_record_is_reported() {
    let (_, mut bytes) = small_log();
    let len = bytes.len() as u64;
    bytes.extend_from_slice(b"appended later");
    let v = verify(&bytes[..]);
    let p = v.problem.unwrap();
    assert_eq!(p.offset, len);
    assert!(p.what.contains("after the end record"));
}

#[test]
fn unknown_kinds_from_a_newer_writer_are_skipped_and_reported() {
    // A newer writer's record: hand-built per FORMAT.md (time, kind 200, opaque fields), in a
    // frame chained like any other. Synthetic by necessity: no newer writer exists.
    let mut w = Writer::create(Vec::new(), &header()).unwrap();
    w.append(T0 + 1, &one_of_each()[0]).unwrap();
    let state = w.state();
    let mut bytes = w.get_ref().clone();
    let chain = hex(&state.chain);
    let mut payload = Vec::new();
    payload.extend_from_slice(&[0x85, 0x01]); // time 133
    payload.extend_from_slice(&[0xc8, 0x01]); // kind 200
    payload.extend_from_slice(b"\x03new");
    assert_eq!(kinds::kind_name(200), None);
    let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
    frame.push(0);
    frame.extend_from_slice(&chain[..8]);
    frame.extend_from_slice(&payload);
    let crc = crc32c(&frame);
    frame.extend_from_slice(&crc.to_le_bytes());
    bytes.extend_from_slice(&frame);
    let next = sha256(&[&chain[..], &frame].concat());
    let mut state = state;
    state.offset = bytes.len() as u64;
    state.records += 1;
    state.chain = next.iter().map(|b| format!("{b:02x}")).collect();
    let mut w = Writer::resume(bytes, &state);
    w.append(T0 + 2, &one_of_each()[1]).unwrap();
    let (bytes, digest) = w.finish_at(T0 + 3).unwrap();

    let mut reader = Reader::new(&bytes[..]).unwrap();
    let entries: Vec<_> = reader.by_ref().map(|e| e.unwrap()).collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].index, 2, "indexes count the skipped record");
    assert_eq!(reader.unknown().len(), 1);
    assert_eq!(reader.unknown()[0].kind, 200);
    assert_eq!(reader.unknown()[0].index, 1);
    let v = verify(&bytes[..]);
    assert!(v.ok(), "{:?}", v.problem);
    assert_eq!(v.digest, digest);
    assert_eq!(v.unknown.len(), 1);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// Independent implementations for the hand-built frame (not the crate's own helpers).
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn sha256(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum (coreutils)");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    hex(&String::from_utf8(out.stdout).unwrap()[..64])
}

mod hostile {
    use proptest::prelude::*;
    use sshtrail_sessionlog::{export, verify, Reader};

    use super::common::{log_of, one_of_each};

    fn exercise(bytes: &[u8]) {
        let _ = verify(bytes);
        if let Ok(r) = Reader::new(bytes) {
            let errors = r.filter(Result::is_err).count();
            assert!(errors <= 1);
            let sink = &mut std::io::sink();
            let _ = export::json_lines(Reader::new(bytes).unwrap(), sink);
            let _ = export::text(Reader::new(bytes).unwrap(), sink);
            let _ = export::asciinema(Reader::new(bytes).unwrap(), sink);
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            exercise(&bytes);
        }

        #[test]
        fn any_edit_of_a_log_is_detected(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)
        ) {
            let (bytes, digest) = log_of(&one_of_each());
            let mut edited = bytes.clone();
            for (at, value) in &edits {
                edited[at.index(bytes.len())] = *value;
            }
            exercise(&edited);
            let v = verify(&edited[..]);
            if edited == bytes {
                prop_assert!(v.ok());
            } else {
                prop_assert!(!v.ok(), "edit not detected");
                prop_assert!(!v.matches(&digest));
            }
        }
    }
}
