//! Tailing auditd's log directory: `audit.log` and its rotated siblings.
//!
//! auditd rotates by renaming: `audit.log.(N-1)` → `audit.log.N`, …, `audit.log` →
//! `audit.log.1`, then opens a fresh `audit.log`. Files are therefore followed by inode,
//! not by name: the tailer keeps reading the file it has open to its end, then moves to
//! the next newer sibling, and a position is an `(inode, offset)` pair. At start it finds
//! the checkpoint's inode among the siblings and resumes there, reading every newer file
//! after it; if that inode is gone (rotated past `num_logs`), the gap is reported.
//!
//! Only complete lines are returned: a line auditd is still writing waits for its `\n`.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where a line starts or ends: the file (by inode) and the byte offset in it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct FilePosition {
    pub inode: u64,
    pub offset: u64,
}

/// What the tailer hands back.
#[derive(Debug, PartialEq, Eq)]
pub enum TailItem {
    /// A complete line (without `\n`) and the position just after it.
    Line(Vec<u8>, FilePosition),
    /// A line longer than the limit was skipped.
    TooLong { len: u64, end: FilePosition },
    /// The checkpointed file no longer exists: everything between it and `resumed_at`
    /// (the oldest file still there) could not be read.
    Gap {
        lost: FilePosition,
        resumed_at: FilePosition,
    },
    /// Nothing new for now.
    Idle,
}

/// Tails one log directory.
pub struct AuditDirTailer {
    dir: PathBuf,
    base: String,
    file: File,
    inode: u64,
    /// Offset just after the last item returned (a line boundary).
    offset: u64,
    /// Offset of the next byte to read from the file.
    read_offset: u64,
    /// Bytes read but not yet returned (an incomplete line).
    pending: Vec<u8>,
    /// Bytes skipped so far of an over-long line whose end has not been read yet.
    skipping: Option<u64>,
    max_line: usize,
    pending_gap: Option<(FilePosition, FilePosition)>,
}

const CHUNK: usize = 64 * 1024;

impl AuditDirTailer {
    /// Opens `dir/base` (`/var/log/audit`, `audit.log`). With a checkpoint, resumes at it
    /// (through rotated siblings); without, starts at the end of the current file when
    /// `from_start` is false, at the beginning of the oldest sibling when it is true.
    pub fn open(
        dir: &Path,
        base: &str,
        checkpoint: Option<FilePosition>,
        from_start: bool,
        max_line: usize,
    ) -> io::Result<AuditDirTailer> {
        let siblings = list_siblings(dir, base)?;
        let newest = siblings.last().cloned().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no {base} in {}", dir.display()),
            )
        })?;
        let mut gap = None;
        let (path, offset) = match checkpoint {
            Some(pos) => match siblings.iter().find(|s| s.inode == pos.inode) {
                Some(found) => (found.path.clone(), pos.offset),
                None => {
                    let oldest = &siblings[0];
                    gap = Some((
                        pos,
                        FilePosition {
                            inode: oldest.inode,
                            offset: 0,
                        },
                    ));
                    (oldest.path.clone(), 0)
                }
            },
            None if from_start => (siblings[0].path.clone(), 0),
            None => (newest.path.clone(), newest.len),
        };
        let mut file = File::open(&path)?;
        let meta = file.metadata()?;
        // A file shorter than the checkpoint was truncated or replaced in place: read it all.
        let offset = if offset > meta.len() { 0 } else { offset };
        file.seek(SeekFrom::Start(offset))?;
        Ok(AuditDirTailer {
            dir: dir.to_path_buf(),
            base: base.to_string(),
            file,
            inode: meta.ino(),
            offset,
            read_offset: offset,
            pending: Vec::with_capacity(CHUNK),
            skipping: None,
            max_line,
            pending_gap: gap,
        })
    }

    /// The position just after the last line returned.
    pub fn position(&self) -> FilePosition {
        FilePosition {
            inode: self.inode,
            offset: self.offset,
        }
    }

    /// The next complete line, a gap report, or `Idle` when there is nothing new.
    pub fn next_item(&mut self) -> io::Result<TailItem> {
        if let Some((lost, resumed_at)) = self.pending_gap.take() {
            return Ok(TailItem::Gap { lost, resumed_at });
        }
        loop {
            if let Some(item) = self.take_line() {
                return Ok(item);
            }
            let mut chunk = [0u8; CHUNK];
            let n = self.file.read(&mut chunk)?;
            if n > 0 {
                self.read_offset += n as u64;
                self.pending.extend_from_slice(&chunk[..n]);
                continue;
            }
            // End of this file. Move on only if a newer file exists; otherwise wait.
            if !self.advance_to_newer()? {
                return Ok(TailItem::Idle);
            }
        }
    }

    /// Splits one complete line off `pending`.
    fn take_line(&mut self) -> Option<TailItem> {
        let newline = memchr::memchr(b'\n', &self.pending);
        if let Some(skipped) = self.skipping {
            // Inside an over-long line: drop bytes up to its end.
            return match newline {
                Some(i) => {
                    self.pending.drain(..=i);
                    self.skipping = None;
                    self.offset = self.read_offset - self.pending.len() as u64;
                    Some(TailItem::TooLong {
                        len: skipped + i as u64,
                        end: self.position(),
                    })
                }
                None => {
                    self.skipping = Some(skipped + self.pending.len() as u64);
                    self.pending.clear();
                    None
                }
            };
        }
        match newline {
            Some(i) => {
                let line: Vec<u8> = self.pending[..i].to_vec();
                self.pending.drain(..=i);
                self.offset = self.read_offset - self.pending.len() as u64;
                if line.len() > self.max_line {
                    return Some(TailItem::TooLong {
                        len: line.len() as u64,
                        end: self.position(),
                    });
                }
                Some(TailItem::Line(line, self.position()))
            }
            None if self.pending.len() > self.max_line => {
                // Drop the over-long prefix now so memory stays bounded.
                self.skipping = Some(self.pending.len() as u64);
                self.pending.clear();
                None
            }
            None => None,
        }
    }

    /// At the end of the open file: switches to the next newer sibling if there is one.
    fn advance_to_newer(&mut self) -> io::Result<bool> {
        let siblings = list_siblings(&self.dir, &self.base)?;
        let Some(index) = siblings.iter().position(|s| s.inode == self.inode) else {
            // Our file was deleted (rotated past num_logs) while open: once read to its
            // end, continue with the oldest file that is still there.
            return self.switch_to(siblings.first());
        };
        self.switch_to(siblings.get(index + 1))
    }

    fn switch_to(&mut self, next: Option<&Sibling>) -> io::Result<bool> {
        let Some(next) = next else {
            return Ok(false);
        };
        if next.inode == self.inode {
            return Ok(false);
        }
        // A partial line at the end of a rotated file will never be completed.
        self.pending.clear();
        self.skipping = None;
        self.file = File::open(&next.path)?;
        self.inode = self.file.metadata()?.ino();
        self.offset = 0;
        self.read_offset = 0;
        Ok(true)
    }
}

#[derive(Clone, Debug)]
struct Sibling {
    path: PathBuf,
    inode: u64,
    len: u64,
}

/// `base.N … base.1, base`: oldest first.
fn list_siblings(dir: &Path, base: &str) -> io::Result<Vec<Sibling>> {
    let mut found: Vec<(u32, Sibling)> = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let index = if name == base {
            0
        } else if let Some(n) = name
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|n| n.parse::<u32>().ok())
        {
            n
        } else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        found.push((
            index,
            Sibling {
                path: entry.path(),
                inode: meta.ino(),
                len: meta.len(),
            },
        ));
    }
    found.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    Ok(found.into_iter().map(|(_, s)| s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn dir(name: &str) -> Dir {
        let path =
            std::env::temp_dir().join(format!("sshtrail-tail-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn append(path: &Path, text: &str) {
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Every line available now, as strings, until Idle.
    fn drain(t: &mut AuditDirTailer) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            match t.next_item().unwrap() {
                TailItem::Line(l, _) => out.push(String::from_utf8(l).unwrap()),
                TailItem::TooLong { len, .. } => out.push(format!("<{len}>")),
                TailItem::Gap { .. } => out.push("<gap>".into()),
                TailItem::Idle => return out,
            }
        }
    }

    /// auditd's rotation: shift .N up, rename audit.log to .1, start a new audit.log.
    fn rotate(d: &Path, keep: u32) {
        for n in (1..keep).rev() {
            let from = d.join(format!("audit.log.{n}"));
            if from.exists() {
                fs::rename(&from, d.join(format!("audit.log.{}", n + 1))).unwrap();
            }
        }
        fs::rename(d.join("audit.log"), d.join("audit.log.1")).unwrap();
        append(&d.join("audit.log"), "");
    }

    #[test]
    fn waits_for_complete_lines() {
        let d = dir("partial");
        let log = d.0.join("audit.log");
        append(&log, "a\nb");
        let mut t = AuditDirTailer::open(&d.0, "audit.log", None, true, 1000).unwrap();
        assert_eq!(drain(&mut t), vec!["a"]);
        assert_eq!(t.position().offset, 2);
        append(&log, "c\n");
        assert_eq!(drain(&mut t), vec!["bc"]);
        assert_eq!(t.position().offset, 5);
    }

    #[test]
    fn follows_rotation_reading_the_old_file_to_its_end() {
        let d = dir("rotate");
        let log = d.0.join("audit.log");
        append(&log, "1\n");
        let mut t = AuditDirTailer::open(&d.0, "audit.log", None, true, 1000).unwrap();
        assert_eq!(drain(&mut t), vec!["1"]);
        append(&log, "2\n");
        rotate(&d.0, 5);
        append(&d.0.join("audit.log.1"), "3\n"); // written through auditd's old descriptor
        append(&log, "4\n");
        assert_eq!(drain(&mut t), vec!["2", "3", "4"]);
    }

    #[test]
    fn resumes_from_a_checkpoint_through_rotated_files() {
        let d = dir("resume");
        let log = d.0.join("audit.log");
        append(&log, "1\n2\n");
        let mut t = AuditDirTailer::open(&d.0, "audit.log", None, true, 1000).unwrap();
        assert_eq!(drain(&mut t)[0], "1");
        let mut t = AuditDirTailer::open(&d.0, "audit.log", None, true, 1000).unwrap();
        let TailItem::Line(_, after_first) = t.next_item().unwrap() else {
            panic!()
        };
        drop(t);
        append(&log, "3\n");
        rotate(&d.0, 5);
        append(&log, "4\n");
        rotate(&d.0, 5);
        append(&log, "5\n");
        let mut t =
            AuditDirTailer::open(&d.0, "audit.log", Some(after_first), false, 1000).unwrap();
        assert_eq!(drain(&mut t), vec!["2", "3", "4", "5"]);
    }

    #[test]
    fn a_checkpoint_rotated_away_is_a_gap() {
        let d = dir("gap");
        let log = d.0.join("audit.log");
        append(&log, "old\n");
        let t = AuditDirTailer::open(&d.0, "audit.log", None, true, 1000).unwrap();
        let gone = FilePosition {
            inode: t.position().inode,
            offset: 4,
        };
        drop(t);
        rotate(&d.0, 1);
        fs::remove_file(d.0.join("audit.log.1")).unwrap();
        append(&log, "new\n");
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(gone), false, 1000).unwrap();
        assert_eq!(drain(&mut t), vec!["<gap>", "new"]);
    }

    #[test]
    fn over_long_lines_are_skipped_with_bounded_memory() {
        let d = dir("long");
        let log = d.0.join("audit.log");
        let long = "x".repeat(200_000);
        append(&log, &format!("ok\n{long}\nafter\n"));
        let mut t = AuditDirTailer::open(&d.0, "audit.log", None, true, 1000).unwrap();
        assert_eq!(drain(&mut t), vec!["ok", "<200000>", "after"]);
        assert!(t.pending.capacity() < 300_000);
        assert_eq!(t.position().offset, (3 + 200_001 + 6) as u64);
    }

    #[test]
    fn starts_at_the_end_without_checkpoint() {
        let d = dir("end");
        let log = d.0.join("audit.log");
        append(&log, "history\n");
        let mut t = AuditDirTailer::open(&d.0, "audit.log", None, false, 1000).unwrap();
        append(&log, "fresh\n");
        assert_eq!(drain(&mut t), vec!["fresh"]);
    }
}
