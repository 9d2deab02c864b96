//! A file sink with size rotation, "crashed" after its mark (the sink dropped with lines
//! written after the mark, as a `kill -9` leaves it), restored to the mark and written
//! again from the mark on: the output files come out exactly as those of a run that never
//! crashed, every line once, in order. Real files in a temporary directory.

use sshtrail_event::sink::{FileSink, Mark, Mismatch, RestoreReport, Rotation, Sink};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// 10 bytes a line, 3 lines a file, `events.json` and 3 rotated files.
const ROTATION: Rotation = Rotation {
    max_bytes: 30,
    keep: 3,
};

fn line(i: usize) -> Vec<u8> {
    format!("line-{i:04}\n").into_bytes()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "sshtrail-sink-restore-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn events(&self) -> PathBuf {
        self.0.join("events.json")
    }

    fn file(&self, n: u32) -> PathBuf {
        if n == 0 {
            self.events()
        } else {
            self.0.join(format!("events.json.{n}"))
        }
    }

    /// Every file in the directory: name → (inode, contents).
    fn snapshot(&self) -> BTreeMap<String, (u64, Vec<u8>)> {
        fs::read_dir(&self.0)
            .expect("read dir")
            .map(|entry| {
                let entry = entry.expect("entry");
                let path = entry.path();
                let inode = fs::metadata(&path).expect("metadata").ino();
                let name = entry.file_name().to_string_lossy().into_owned();
                (name, (inode, fs::read(&path).expect("read")))
            })
            .collect()
    }

    /// Every file in the directory: name → contents.
    fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        self.snapshot()
            .into_iter()
            .map(|(name, (_, bytes))| (name, bytes))
            .collect()
    }

    /// The lines of `events.json.<keep>` … `events.json.1`, `events.json`: oldest first.
    fn lines_oldest_first(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for n in (0..=ROTATION.keep).rev() {
            if let Ok(text) = fs::read_to_string(self.file(n)) {
                lines.extend(text.split_inclusive('\n').map(str::to_string));
            }
        }
        lines
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Writes `lines` as the pipeline does a batch: taken one by one, then flushed.
fn write(sink: &mut FileSink, lines: std::ops::Range<usize>) {
    for i in lines {
        sink.write_line(&line(i)).expect("write");
    }
    sink.flush().expect("flush");
}

/// The files of a run that writes lines `0..total` and never crashes.
fn uncrashed(name: &str, total: usize) -> BTreeMap<String, Vec<u8>> {
    let dir = TempDir::new(&format!("{name}-reference"));
    let mut sink = FileSink::open(&dir.events(), Some(ROTATION)).expect("open");
    write(&mut sink, 0..total);
    sink.sync().expect("sync");
    drop(sink);
    dir.contents()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The sink's mark now, as a checkpoint saved now keeps it.
fn mark_of(sink: &FileSink) -> Mark {
    let (inode, length) = sink.mark().expect("a file sink has a mark");
    Mark {
        inode,
        length,
        created_by_ms: Some(now_ms()),
    }
}

/// Lines `0..before` written and synced, the mark taken, lines `before..before + after`
/// written, then the sink gone without another sync: the crash. Returns the mark.
fn crash_after_mark(dir: &TempDir, before: usize, after: usize) -> Mark {
    let mut sink = FileSink::open(&dir.events(), Some(ROTATION)).expect("open");
    write(&mut sink, 0..before);
    sink.sync().expect("sync");
    let mark = mark_of(&sink);
    // Files created from here on are younger than the mark by more than a clock tick.
    std::thread::sleep(std::time::Duration::from_millis(20));
    write(&mut sink, before..before + after);
    drop(sink);
    mark
}

/// Where the file with `inode` is now: 0 for `events.json`, `n` for `events.json.<n>`.
fn slot_of(dir: &TempDir, inode: u64) -> Option<u32> {
    (0..=ROTATION.keep + 1).find(|n| fs::metadata(dir.file(*n)).is_ok_and(|m| m.ino() == inode))
}

/// After a crash `rotations` rotations after the mark: restore, write again from the mark
/// on, and compare with the run that did not crash.
fn restore_and_rewrite(name: &str, before: usize, after: usize, rotations: u32, torn: bool) {
    let dir = TempDir::new(name);
    let mark = crash_after_mark(&dir, before, after);
    let (inode, length) = (mark.inode, mark.length);
    assert_eq!(
        slot_of(&dir, inode),
        Some(rotations),
        "{name}: the sink rotated {rotations} times after the mark"
    );
    if torn {
        // The kill landed in the middle of a write: half a line at the end.
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(dir.events())
            .expect("open");
        file.write_all(b"line-").expect("write");
    }
    let report = FileSink::restore_to_mark(&dir.events(), Some(ROTATION), mark).expect("restore");
    let RestoreReport::Restored {
        rotations: undone,
        files_removed,
        bytes_removed,
    } = report
    else {
        panic!("{name}: {report:?}");
    };
    assert_eq!(undone, rotations, "{name}");
    assert_eq!(files_removed, rotations, "{name}: the newer files");
    let written_after = (after * 10 + if torn { 5 } else { 0 }) as u64;
    assert_eq!(
        bytes_removed, written_after,
        "{name}: all written after the mark"
    );
    // The marked file is `events.json` again, at the marked length.
    let meta = fs::metadata(dir.events()).expect("events.json");
    assert_eq!((meta.ino(), meta.len()), (inode, length), "{name}");

    let mut sink = FileSink::open(&dir.events(), Some(ROTATION)).expect("reopen");
    write(&mut sink, before..before + after);
    drop(sink);
    let total = before + after;
    assert_eq!(dir.contents(), uncrashed(name, total), "{name}");
    // Every line once, in order: the last lines written, as many as the files keep.
    let lines = dir.lines_oldest_first();
    let first = total - lines.len();
    let expected: Vec<String> = (first..total)
        .map(|i| String::from_utf8(line(i)).expect("ascii"))
        .collect();
    assert_eq!(lines, expected, "{name}");
    if (rotations as usize) < ROTATION.keep as usize {
        // Nothing rotated out here: every line ever written is in the files.
        assert_eq!(first, 0, "{name}");
    }
}

// Four lines before the mark: `events.json.1` holds 0-2, `events.json` holds 3 (10 bytes),
// where the mark is. Each case writes lines after it so that the sink rotates 0, 1, 2 or
// `keep` (3) times.

#[test]
fn no_rotation_after_the_mark() {
    restore_and_rewrite("rot0", 4, 2, 0, false);
}

#[test]
fn no_rotation_after_the_mark_torn_last_line() {
    restore_and_rewrite("rot0-torn", 4, 2, 0, true);
}

#[test]
fn one_rotation_after_the_mark() {
    restore_and_rewrite("rot1", 4, 3, 1, false);
}

#[test]
fn two_rotations_after_the_mark_torn_last_line() {
    restore_and_rewrite("rot2-torn", 4, 6, 2, true);
}

#[test]
fn keep_rotations_after_the_mark() {
    // The marked file is the oldest kept (`events.json.3`); the one before it is gone.
    restore_and_rewrite("rot3", 4, 9, 3, false);
}

#[test]
fn restoring_twice_changes_nothing_the_second_time() {
    let dir = TempDir::new("twice");
    let mark = crash_after_mark(&dir, 4, 6);
    let first = FileSink::restore_to_mark(&dir.events(), Some(ROTATION), mark).expect("restore");
    assert!(first.changed(), "{first:?}");
    let before = dir.snapshot();
    let second =
        FileSink::restore_to_mark(&dir.events(), Some(ROTATION), mark).expect("restore again");
    assert_eq!(
        second,
        RestoreReport::Restored {
            rotations: 0,
            files_removed: 0,
            bytes_removed: 0
        }
    );
    assert!(!second.changed());
    assert_eq!(dir.snapshot(), before);
}

#[test]
fn killed_between_the_rename_and_the_new_file() {
    // A rotation renamed `events.json` away and the kill came before the new one was
    // created: the marked file is `events.json.1` and there is no `events.json`.
    let dir = TempDir::new("no-current");
    let mark = crash_after_mark(&dir, 4, 3);
    fs::remove_file(dir.events()).expect("remove");
    let report = FileSink::restore_to_mark(&dir.events(), Some(ROTATION), mark).expect("restore");
    assert_eq!(
        report,
        RestoreReport::Restored {
            rotations: 1,
            files_removed: 0,
            bytes_removed: 20
        }
    );
    let mut sink = FileSink::open(&dir.events(), Some(ROTATION)).expect("reopen");
    write(&mut sink, 4..7);
    drop(sink);
    assert_eq!(dir.contents(), uncrashed("no-current", 7));
}

#[test]
fn a_restore_interrupted_after_removing_finishes_when_run_again() {
    let dir = TempDir::new("interrupted");
    let mark = crash_after_mark(&dir, 4, 6);
    assert_eq!(slot_of(&dir, mark.inode), Some(2));
    // The first restore removed the newer files, then the machine went down.
    fs::remove_file(dir.file(0)).expect("remove");
    fs::remove_file(dir.file(1)).expect("remove");
    let report = FileSink::restore_to_mark(&dir.events(), Some(ROTATION), mark).expect("restore");
    assert_eq!(
        report,
        RestoreReport::Restored {
            rotations: 2,
            files_removed: 0,
            bytes_removed: 20
        }
    );
    let mut sink = FileSink::open(&dir.events(), Some(ROTATION)).expect("reopen");
    write(&mut sink, 4..10);
    drop(sink);
    assert_eq!(dir.contents(), uncrashed("interrupted", 10));
}

#[test]
fn more_rotations_than_kept_files_the_mark_is_gone_nothing_changes() {
    // Four rotations after the mark with keep 3: the marked file was rotated out and
    // deleted. Nothing tells the files left apart from files an operator put there, so
    // nothing is touched, and the report says so: the lines written after the mark that
    // are still in the files are there twice once they are written again.
    let dir = TempDir::new("rot4");
    let mark = crash_after_mark(&dir, 4, 12);
    let before = dir.snapshot();
    let report = FileSink::restore_to_mark(&dir.events(), Some(ROTATION), mark).expect("restore");
    // ext4 often gives the freed inode number to the next file created: a file with the
    // marked inode may be there, created after the mark.
    let reused = slot_of(&dir, mark.inode);
    eprintln!("the marked inode is now at {reused:?}: {report}");
    match reused {
        None => assert_eq!(report, RestoreReport::NotFound { searched: 4 }),
        Some(n) => assert!(
            matches!(
                report,
                RestoreReport::NotTheMarkedFile { rotations, why: Mismatch::CreatedLater { .. } }
                    if rotations == n
            ),
            "{report:?}"
        ),
    }
    assert!(!report.changed());
    assert_eq!(dir.snapshot(), before, "nothing changed");
    // Written again: here every line is once, in order, but only because all lines have
    // one size, so that the lines written again fill files exactly like the first time and
    // push every earlier copy out. With lines of different sizes a kept file can hold the
    // end of the first copy and the start of the second: this case is at least once.
    let mut sink = FileSink::open(&dir.events(), Some(ROTATION)).expect("reopen");
    write(&mut sink, 4..16);
    drop(sink);
    let lines = dir.lines_oldest_first();
    let expected: Vec<String> = (16 - lines.len()..16)
        .map(|i| String::from_utf8(line(i)).expect("ascii"))
        .collect();
    assert_eq!(lines, expected);
}

#[test]
fn mark_moved_away_by_an_operator_nothing_changes() {
    let dir = TempDir::new("moved");
    let mut sink = FileSink::open(&dir.events(), Some(ROTATION)).expect("open");
    write(&mut sink, 0..4);
    sink.sync().expect("sync");
    let mark = mark_of(&sink);
    write(&mut sink, 4..5);
    // logrotate's way: move the file away, then SIGHUP.
    fs::rename(dir.events(), dir.0.join("events.json-20261201")).expect("rename");
    sink.reopen().expect("reopen");
    write(&mut sink, 5..7);
    drop(sink);
    let before = dir.snapshot();
    let report = FileSink::restore_to_mark(&dir.events(), Some(ROTATION), mark).expect("restore");
    assert_eq!(report, RestoreReport::NotFound { searched: 4 });
    assert_eq!(dir.snapshot(), before, "nothing changed");
    // Without rotation only `events.json` is looked at.
    let report = FileSink::restore_to_mark(&dir.events(), None, mark).expect("restore");
    assert_eq!(report, RestoreReport::NotFound { searched: 1 });
    assert_eq!(dir.snapshot(), before, "nothing changed");
}

#[test]
fn no_output_file_at_all_nothing_changes() {
    let dir = TempDir::new("empty");
    let mark = Mark {
        inode: 12345,
        length: 10,
        created_by_ms: None,
    };
    let report = FileSink::restore_to_mark(&dir.events(), Some(ROTATION), mark).expect("restore");
    assert_eq!(report, RestoreReport::NotFound { searched: 4 });
    assert!(dir.snapshot().is_empty());
}

#[test]
fn marked_file_shorter_than_the_mark_nothing_changes() {
    let dir = TempDir::new("shorter");
    let mark = crash_after_mark(&dir, 4, 3);
    // Something else cut the marked file (now `events.json.1`) below the mark.
    fs::OpenOptions::new()
        .write(true)
        .open(dir.file(1))
        .expect("open")
        .set_len(mark.length - 4)
        .expect("cut");
    let before = dir.snapshot();
    let report = FileSink::restore_to_mark(&dir.events(), Some(ROTATION), mark).expect("restore");
    assert_eq!(
        report,
        RestoreReport::NotTheMarkedFile {
            rotations: 1,
            why: Mismatch::Shorter {
                length: mark.length - 4
            }
        }
    );
    assert!(!report.changed());
    assert_eq!(dir.snapshot(), before, "nothing changed");
}

#[test]
fn a_file_created_after_the_mark_or_a_mark_inside_a_line_is_not_the_marked_file() {
    let dir = TempDir::new("not-marked");
    let mark = crash_after_mark(&dir, 4, 3);
    let before = dir.snapshot();
    // The same inode, but the checkpoint is older than the file: another file that got
    // the freed inode number.
    let older_checkpoint = Mark {
        created_by_ms: Some(0),
        ..mark
    };
    let report = FileSink::restore_to_mark(&dir.events(), Some(ROTATION), older_checkpoint)
        .expect("restore");
    let created = fs::metadata(dir.file(1)).expect("metadata").created();
    if created.is_ok() {
        assert!(
            matches!(
                report,
                RestoreReport::NotTheMarkedFile {
                    rotations: 1,
                    why: Mismatch::CreatedLater { .. }
                }
            ),
            "{report:?}"
        );
        assert_eq!(dir.snapshot(), before, "nothing changed");
    } else {
        eprintln!("no creation times on this file system: not checked");
    }
    // Every mark is at the end of a line; this one is not.
    let inside_a_line = Mark {
        length: mark.length - 3,
        ..mark
    };
    let report =
        FileSink::restore_to_mark(&dir.events(), Some(ROTATION), inside_a_line).expect("restore");
    assert_eq!(
        report,
        RestoreReport::NotTheMarkedFile {
            rotations: 1,
            why: Mismatch::NotAtLineEnd
        }
    );
    assert_eq!(dir.snapshot(), before, "nothing changed");
    assert!(!report.to_string().is_empty());
}

fn inode_and_len(path: &Path) -> (u64, u64) {
    let meta = fs::metadata(path).expect("metadata");
    (meta.ino(), meta.len())
}

#[test]
fn mark_names_the_new_file_right_after_a_rotation() {
    let dir = TempDir::new("mark");
    let mut sink = FileSink::open(&dir.events(), Some(ROTATION)).expect("open");
    assert_eq!(sink.mark(), Some(inode_and_len(&dir.events())));
    write(&mut sink, 0..3);
    let full = sink.mark().expect("mark");
    assert_eq!(full, inode_and_len(&dir.events()));
    assert_eq!(full.1, 30);
    // This line does not fit: the sink rotates, then writes it to the new file.
    write(&mut sink, 3..4);
    let after = sink.mark().expect("mark");
    assert_eq!(after, inode_and_len(&dir.events()));
    assert_eq!(after.1, 10);
    assert_ne!(after.0, full.0);
    assert_eq!(inode_and_len(&dir.file(1)), full, "the old file, rotated");
    // A mark taken now and restored to at once changes nothing.
    sink.sync().expect("sync");
    let before = dir.snapshot();
    let mark = Mark {
        inode: after.0,
        length: after.1,
        created_by_ms: Some(now_ms()),
    };
    let report = FileSink::restore_to_mark(&dir.events(), Some(ROTATION), mark).expect("restore");
    assert!(!report.changed(), "{report:?}");
    assert_eq!(dir.snapshot(), before);
    // After a reopen (SIGHUP), the reopened file.
    fs::rename(dir.events(), dir.0.join("moved")).expect("rename");
    sink.reopen().expect("reopen");
    assert_eq!(sink.mark(), Some(inode_and_len(&dir.events())));
    assert_eq!(sink.mark().map(|m| m.1), Some(0));
}
