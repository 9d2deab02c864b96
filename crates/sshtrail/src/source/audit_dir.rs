//! Tailing auditd's log directory: `audit.log` and its rotated siblings.
//!
//! auditd rotates by renaming: `audit.log.(N-1)` → `audit.log.N`, …, `audit.log` →
//! `audit.log.1`, then opens a fresh `audit.log`. Files are therefore followed by inode,
//! not by name: the tailer keeps reading the file it has open to its end, then moves to
//! the next newer sibling, and a position is an `(inode, offset)` pair. At start it finds
//! the checkpoint's inode among the siblings and resumes there, reading every newer file
//! after it; if that inode is gone (rotated past `num_logs`), the gap is reported.
//!
//! An inode number alone does not name a file for long: once a rotated file is deleted,
//! the filesystem gives its number to the next new file. So a position also carries a
//! [`Fingerprint`] of the start of its file (see [`fingerprint`]), and a sibling with the
//! checkpoint's inode but another beginning is not the checkpointed file: that is a gap
//! too, as is a file now shorter than the checkpoint's offset (truncated in place).
//! While running, the open file's inode cannot be reused (the open descriptor keeps it
//! allocated), so following rotation by inode is safe there; a file opened by name is
//! checked to still be the inode the directory listing showed.
//!
//! Only complete lines are returned: a line auditd is still writing waits for its `\n`.

pub mod fingerprint;

pub use fingerprint::Fingerprint;

use super::lines::{Line, LineBuffer};
use fingerprint::Head;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where a line starts or ends: the file (by inode and fingerprint) and the byte offset
/// in it.
///
/// The device number is not kept: it is not stable across reboots for every filesystem
/// (device-mapper and NFS minor numbers, btrfs subvolumes), so requiring it to match would
/// report gaps that are not there, while a different filesystem that happens to hold a
/// file with the same inode number is caught by the fingerprint anyway.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct FilePosition {
    pub inode: u64,
    pub offset: u64,
    /// The start of the file. `None` in checkpoints written before fingerprints existed:
    /// the inode is then trusted alone, as it was when they were written. A position taken
    /// by the tailer always has one, covering at least the first `min(offset, HEAD_MAX)`
    /// bytes.
    #[serde(default)]
    pub fingerprint: Option<Fingerprint>,
}

/// What the tailer hands back.
#[derive(Debug, PartialEq, Eq)]
pub enum TailItem {
    /// A complete line (without `\n`) and the position just after it.
    Line(Vec<u8>, FilePosition),
    /// A line longer than the limit was skipped.
    TooLong { len: u64, end: FilePosition },
    /// Reading could not go on from `lost`: the file is gone, its inode now belongs to
    /// another file, or it was truncated below `lost`. Whatever it held after `lost` (and
    /// any files between it and `resumed_at`) could not be read.
    Gap {
        lost: FilePosition,
        resumed_at: FilePosition,
        reason: GapReason,
    },
    /// Nothing new for now.
    Idle,
}

/// Why a gap was reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapReason {
    /// No sibling has the inode any more.
    Gone,
    /// A sibling has the inode but another beginning: the number was reused.
    Replaced,
    /// The file is shorter than the position: truncated in place.
    Truncated,
}

impl GapReason {
    /// A short name for events: `file-gone`, `file-replaced` (the inode is another file's
    /// now, or the file was rewritten from its start), `truncated`.
    pub fn as_str(self) -> &'static str {
        match self {
            GapReason::Gone => "file-gone",
            GapReason::Replaced => "file-replaced",
            GapReason::Truncated => "truncated",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            GapReason::Gone => "the file was deleted (rotated away)",
            GapReason::Replaced => "the inode now holds another file (reused, or rewritten)",
            GapReason::Truncated => "the file was truncated below the position",
        }
    }
}

/// Tails one log directory.
pub struct AuditDirTailer {
    dir: PathBuf,
    base: String,
    file: File,
    inode: u64,
    head: Head,
    /// Offset just after the last item returned (a line boundary).
    offset: u64,
    /// Offset of the next byte to read from the file.
    read_offset: u64,
    /// Bytes read but not yet returned (an incomplete line).
    lines: LineBuffer,
    pending_gap: Option<(FilePosition, FilePosition, GapReason)>,
}

/// [`TailItem`] with the line borrowed from the tailer's buffer (no copy).
#[derive(Debug, PartialEq, Eq)]
pub enum RawItem<'a> {
    Line(&'a [u8], FilePosition),
    TooLong {
        len: u64,
        end: FilePosition,
    },
    Gap {
        lost: FilePosition,
        resumed_at: FilePosition,
        reason: GapReason,
    },
    Idle,
}

impl RawItem<'_> {
    pub fn into_owned(self) -> TailItem {
        match self {
            RawItem::Line(line, end) => TailItem::Line(line.to_vec(), end),
            RawItem::TooLong { len, end } => TailItem::TooLong { len, end },
            RawItem::Gap {
                lost,
                resumed_at,
                reason,
            } => TailItem::Gap {
                lost,
                resumed_at,
                reason,
            },
            RawItem::Idle => TailItem::Idle,
        }
    }
}

const CHUNK: usize = 64 * 1024;

/// How many times `open` lists the directory again when a rotation renamed the file it
/// chose before it could be opened.
const OPEN_ATTEMPTS: usize = 10;

/// A sibling opened by name and checked to be the inode the listing showed.
struct Opened {
    file: File,
    inode: u64,
    len: u64,
    head: Head,
}

/// Where `open` starts reading, and the gap to report first, if any.
struct Start {
    opened: Opened,
    offset: u64,
    gap: Option<(FilePosition, GapReason)>,
}

impl Opened {
    /// `None` when the name no longer leads to that inode (a rotation just renamed it).
    fn open(sibling: &Sibling) -> io::Result<Option<Opened>> {
        let file = match File::open(&sibling.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        if meta.ino() != sibling.inode {
            return Ok(None);
        }
        let head = Head::read(&file)?;
        Ok(Some(Opened {
            file,
            inode: meta.ino(),
            len: meta.len(),
            head,
        }))
    }

    fn position(&self, offset: u64) -> FilePosition {
        FilePosition {
            inode: self.inode,
            offset,
            fingerprint: Some(self.head.fingerprint()),
        }
    }
}

impl AuditDirTailer {
    /// Opens `dir/base` (`/var/log/audit`, `audit.log`). With a checkpoint, resumes at it
    /// (through rotated siblings), or reports a gap when its file is no longer there;
    /// without, starts at the end of the current file when `from_start` is false, at the
    /// beginning of the oldest sibling when it is true.
    pub fn open(
        dir: &Path,
        base: &str,
        checkpoint: Option<FilePosition>,
        from_start: bool,
        max_line: usize,
    ) -> io::Result<AuditDirTailer> {
        for _ in 0..OPEN_ATTEMPTS {
            let siblings = list_siblings(dir, base)?;
            if siblings.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no {base} in {}", dir.display()),
                ));
            }
            let chosen = match checkpoint {
                Some(pos) => resume(&siblings, pos)?,
                None => {
                    let (sibling, at_end) = match from_start {
                        true => (&siblings[0], false),
                        false => (&siblings[siblings.len() - 1], true),
                    };
                    Opened::open(sibling)?.map(|opened| Start {
                        offset: if at_end { opened.len } else { 0 },
                        opened,
                        gap: None,
                    })
                }
            };
            let Some(Start {
                mut opened,
                offset,
                gap,
            }) = chosen
            else {
                continue;
            };
            let pending_gap = gap.map(|(lost, reason)| {
                tracing::warn!(
                    file = %dir.join(base).display(),
                    lost_inode = lost.inode,
                    lost_offset = lost.offset,
                    resumed_inode = opened.inode,
                    "cannot resume where the checkpoint says: {}",
                    reason.describe()
                );
                (lost, opened.position(0), reason)
            });
            opened.file.seek(SeekFrom::Start(offset))?;
            return Ok(AuditDirTailer {
                dir: dir.to_path_buf(),
                base: base.to_string(),
                file: opened.file,
                inode: opened.inode,
                head: opened.head,
                offset,
                read_offset: offset,
                lines: LineBuffer::new(max_line),
                pending_gap,
            });
        }
        Err(io::Error::other(format!(
            "{}: renamed under us {OPEN_ATTEMPTS} times while opening",
            dir.join(base).display()
        )))
    }

    /// The directory and the file's name: what [`super::watch::DirWatch`] watches.
    pub fn family(&self) -> (&Path, &str) {
        (&self.dir, &self.base)
    }

    /// The position just after the last line returned.
    pub fn position(&self) -> FilePosition {
        FilePosition {
            inode: self.inode,
            offset: self.offset,
            fingerprint: Some(self.head.fingerprint()),
        }
    }

    /// The next complete line, a gap report, or `Idle` when there is nothing new.
    pub fn next_item(&mut self) -> io::Result<TailItem> {
        self.next_raw().map(RawItem::into_owned)
    }

    /// [`AuditDirTailer::next_item`], the line borrowed.
    pub fn next_raw(&mut self) -> io::Result<RawItem<'_>> {
        if let Some((lost, resumed_at, reason)) = self.pending_gap.take() {
            return Ok(RawItem::Gap {
                lost,
                resumed_at,
                reason,
            });
        }
        loop {
            if self.has_line() {
                return Ok(self.take_line());
            }
            let room = self.lines.spare(CHUNK);
            let n = self.file.read(room)?;
            self.lines.filled(CHUNK, n);
            if n > 0 {
                self.note_read(n);
                continue;
            }
            // End of this file. A file shorter than what was read from it was truncated
            // in place: reading on at our offset would skip what is written from now on.
            if self.file.metadata()?.len() < self.read_offset {
                return self.restart_truncated();
            }
            // Move on only if a newer file exists; otherwise wait.
            if !self.advance_to_newer()? {
                return Ok(RawItem::Idle);
            }
        }
    }

    /// The fingerprint sees the bytes just read (the last `n` in the buffer).
    fn note_read(&mut self, n: usize) {
        let tail = self.lines.tail(n);
        self.head.saw(self.read_offset, tail);
        self.read_offset += n as u64;
    }

    /// The open file was truncated while being read: report what may have been lost and
    /// read it again from its start.
    fn restart_truncated(&mut self) -> io::Result<RawItem<'_>> {
        let lost = self.position();
        self.file.seek(SeekFrom::Start(0))?;
        self.head = Head::read(&self.file)?;
        self.lines.clear();
        self.offset = 0;
        self.read_offset = 0;
        tracing::warn!(
            file = %self.dir.join(&self.base).display(),
            inode = self.inode,
            lost_offset = lost.offset,
            "log truncated while being read: reading it again from its start"
        );
        Ok(RawItem::Gap {
            lost,
            resumed_at: self.position(),
            reason: GapReason::Truncated,
        })
    }

    /// Whether a complete line (or the end of an over-long one) is buffered.
    fn has_line(&mut self) -> bool {
        self.lines.has_line()
    }

    /// Splits one complete line off the buffer (call after [`Self::has_line`]).
    fn take_line(&mut self) -> RawItem<'_> {
        let inode = self.inode;
        let fingerprint = Some(self.head.fingerprint());
        let Some((line, used)) = self.lines.next_line() else {
            return RawItem::Idle;
        };
        self.offset += used;
        let end = FilePosition {
            inode,
            offset: self.offset,
            fingerprint,
        };
        match line {
            Line::Text(text) => RawItem::Line(text, end),
            Line::TooLong { len } => RawItem::TooLong { len, end },
        }
    }

    /// At the end of the open file: switches to the next newer sibling if there is one.
    fn advance_to_newer(&mut self) -> io::Result<bool> {
        // While the base name is still the open file, nothing newer exists (a rotation
        // renames it away before creating the next): one stat at the end of each read,
        // not a directory listing.
        if fs::metadata(self.dir.join(&self.base)).is_ok_and(|m| m.ino() == self.inode) {
            return Ok(false);
        }
        let siblings = list_siblings(&self.dir, &self.base)?;
        let Some(index) = siblings.iter().position(|s| s.inode == self.inode) else {
            // Our file was deleted (rotated past num_logs) while open: once read to its
            // end, continue with the oldest file that is still there.
            return self.switch_to(siblings.first());
        };
        self.switch_to(siblings.get(index + 1))
    }

    /// Moves to `next`, the newer sibling; false when there is none yet. Also false when
    /// `next`'s name led to another inode than listed (a rotation in between): the caller
    /// is idle for a moment and the directory is listed again at the next poll, which
    /// cannot spin however the names keep changing.
    fn switch_to(&mut self, next: Option<&Sibling>) -> io::Result<bool> {
        let Some(next) = next else {
            return Ok(false);
        };
        if next.inode == self.inode {
            return Ok(false);
        }
        let Some(opened) = Opened::open(next)? else {
            return Ok(false);
        };
        // A partial line at the end of a rotated file will never be completed.
        self.lines.clear();
        self.file = opened.file;
        self.inode = opened.inode;
        self.head = opened.head;
        self.offset = 0;
        self.read_offset = 0;
        Ok(true)
    }
}

/// Where to resume with checkpoint `pos`: the sibling with its inode if that is still the
/// same file, else the oldest sibling, with the reason for the gap. `None` when a rotation
/// got in the way of opening.
fn resume(siblings: &[Sibling], pos: FilePosition) -> io::Result<Option<Start>> {
    let reason = match siblings.iter().find(|s| s.inode == pos.inode) {
        Some(sibling) => {
            let Some(opened) = Opened::open(sibling)? else {
                return Ok(None);
            };
            // No fingerprint (a checkpoint from an older sshtrail): trust the inode.
            let same = match pos.fingerprint {
                Some(fp) => fp.matches(opened.head.bytes()),
                None => true,
            };
            if same && pos.offset <= opened.len {
                return Ok(Some(Start {
                    opened,
                    offset: pos.offset,
                    gap: None,
                }));
            }
            if same {
                // The same file, but shorter than the checkpoint: truncated in place.
                // What it held past its new length is lost; what was written to it since
                // the truncation starts somewhere before: read it all again (re-read audit
                // events are dropped by the high-water mark).
                return Ok(Some(Start {
                    opened,
                    offset: 0,
                    gap: Some((pos, GapReason::Truncated)),
                }));
            }
            GapReason::Replaced
        }
        None => GapReason::Gone,
    };
    // The checkpointed file is gone: every file still there may hold records after it.
    let Some(opened) = Opened::open(&siblings[0])? else {
        return Ok(None);
    };
    Ok(Some(Start {
        opened,
        offset: 0,
        gap: Some((pos, reason)),
    }))
}

#[derive(Clone, Debug)]
struct Sibling {
    path: PathBuf,
    inode: u64,
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
                TailItem::Gap { reason, .. } => out.push(format!("<gap: {}>", reason.as_str())),
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
            offset: 4,
            ..t.position()
        };
        drop(t);
        rotate(&d.0, 1);
        fs::remove_file(d.0.join("audit.log.1")).unwrap();
        append(&log, "new\n");
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(gone), false, 1000).unwrap();
        assert_eq!(drain(&mut t), vec!["<gap: file-gone>", "new"]);
    }

    #[test]
    fn over_long_lines_are_skipped_with_bounded_memory() {
        let d = dir("long");
        let log = d.0.join("audit.log");
        let long = "x".repeat(200_000);
        append(&log, &format!("ok\n{long}\nafter\n"));
        let mut t = AuditDirTailer::open(&d.0, "audit.log", None, true, 1000).unwrap();
        assert_eq!(drain(&mut t), vec!["ok", "<200000>", "after"]);
        assert!(t.lines.capacity() < 300_000);
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

    /// Every item available now, until Idle (not included).
    fn items(t: &mut AuditDirTailer) -> Vec<TailItem> {
        let mut out = Vec::new();
        loop {
            match t.next_item().unwrap() {
                TailItem::Idle => return out,
                item => out.push(item),
            }
        }
    }

    fn inode_of(path: &Path) -> u64 {
        fs::metadata(path).unwrap().ino()
    }

    /// `count` audit-like lines, numbered from `first`, each with its own timestamp.
    fn lines(first: u32, count: u32) -> String {
        (first..first + count)
            .map(|n| format!("type=SYSCALL msg=audit(1700000000.{n:03}:{n}): n={n}\n"))
            .collect()
    }

    /// The position just after the `n`th line (1-based) read from the start.
    fn after_line(d: &Path, n: usize) -> FilePosition {
        let mut t = AuditDirTailer::open(d, "audit.log", None, true, 1000).unwrap();
        let mut end = None;
        for _ in 0..n {
            match t.next_item().unwrap() {
                TailItem::Line(_, pos) => end = Some(pos),
                other => panic!("expected a line, got {other:?}"),
            }
        }
        end.unwrap()
    }

    #[test]
    fn an_inode_reused_by_a_newer_file_is_a_gap_not_a_resume() {
        // auditd with num_logs = 2 rotates twice while sshtrail is down: the checkpointed
        // file A is deleted by the second rotation, and the fresh audit.log created right
        // after is likely to get A's inode number.
        let d = dir("reuse");
        let log = d.0.join("audit.log");
        append(&log, &lines(1, 3));
        let checkpoint = after_line(&d.0, 2);
        rotate(&d.0, 2);
        append(&log, &lines(10, 2)); // file C
        fs::remove_file(d.0.join("audit.log.1")).unwrap(); // A, rotated away
        rotate(&d.0, 2);
        append(&log, &lines(20, 4)); // file D
        let d_inode = inode_of(&log);
        // On ext4 and tmpfs D really gets A's inode (so this checkpoint is exactly the one
        // saved); where the filesystem hands out another number, the same situation is
        // simulated by pointing the checkpoint at D's inode with A's fingerprint.
        let reused = d_inode == checkpoint.inode;
        eprintln!("inode reused by the filesystem: {reused}");
        let checkpoint = FilePosition {
            inode: d_inode,
            ..checkpoint
        };
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(checkpoint), false, 1000).unwrap();
        let got = items(&mut t);
        let TailItem::Gap {
            lost,
            resumed_at,
            reason,
        } = &got[0]
        else {
            panic!("expected a gap first, got {:?}", got[0]);
        };
        assert_eq!(*lost, checkpoint);
        assert_eq!(*reason, GapReason::Replaced);
        // Resumed at the start of the oldest file still there: C, then all of D.
        assert_eq!(resumed_at.inode, inode_of(&d.0.join("audit.log.1")));
        assert_eq!(resumed_at.offset, 0);
        let text: Vec<String> = got[1..]
            .iter()
            .map(|item| match item {
                TailItem::Line(line, _) => String::from_utf8(line.clone()).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            text.concat(),
            lines(10, 2).replace('\n', "") + &lines(20, 4).replace('\n', "")
        );
    }

    #[test]
    fn an_unchanged_file_resumes_exactly_without_a_gap() {
        let d = dir("same");
        let log = d.0.join("audit.log");
        // Longer than HEAD_MAX, so that the fingerprint is read back from the file.
        append(&log, &lines(100, 200));
        assert!(fs::metadata(&log).unwrap().len() > fingerprint::HEAD_MAX as u64);
        let checkpoint = after_line(&d.0, 150);
        assert_eq!(
            checkpoint.fingerprint.unwrap().len as usize,
            fingerprint::HEAD_MAX
        );
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(checkpoint), false, 1000).unwrap();
        let mut want: Vec<String> = lines(250, 50).lines().map(str::to_string).collect();
        assert_eq!(drain(&mut t), want);
        // And again from the very same checkpoint, as after a crash before the next save.
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(checkpoint), false, 1000).unwrap();
        append(&log, &lines(300, 1));
        want.extend(lines(300, 1).lines().map(str::to_string));
        assert_eq!(drain(&mut t), want);
    }

    #[test]
    fn a_file_grown_since_the_checkpoint_is_still_the_same_file() {
        let d = dir("grown");
        let log = d.0.join("audit.log");
        append(&log, &lines(1, 2));
        // Taken while the file was two lines long: the fingerprint covers only those.
        let checkpoint = after_line(&d.0, 1);
        let small = checkpoint.fingerprint.unwrap();
        assert_eq!(small.len as u64, fs::metadata(&log).unwrap().len());
        // auditd appends well past HEAD_MAX while sshtrail is down.
        append(&log, &lines(3, 300));
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(checkpoint), false, 1000).unwrap();
        let got = drain(&mut t);
        assert_eq!(got.len(), 301);
        assert_eq!(got[0], lines(2, 1).trim_end());
        // Positions taken now cover the full head, and still match a restart.
        let later = t.position();
        assert_eq!(
            later.fingerprint.unwrap().len as usize,
            fingerprint::HEAD_MAX
        );
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(later), false, 1000).unwrap();
        append(&log, "tail\n");
        assert_eq!(drain(&mut t), vec!["tail"]);
    }

    #[test]
    fn positions_of_a_growing_file_are_covered_by_their_fingerprint() {
        let d = dir("cover");
        let log = d.0.join("audit.log");
        append(&log, "");
        let mut t = AuditDirTailer::open(&d.0, "audit.log", None, false, 1000).unwrap();
        for n in 0..120 {
            append(&log, &lines(n, 1));
            for item in items(&mut t) {
                let TailItem::Line(_, pos) = item else {
                    panic!("{item:?}")
                };
                let covered = pos.fingerprint.unwrap().len as u64;
                assert!(covered >= pos.offset.min(fingerprint::HEAD_MAX as u64));
                let head = fs::read(&log).unwrap();
                assert!(pos.fingerprint.unwrap().matches(&head));
            }
        }
    }

    #[test]
    fn a_checkpoint_without_fingerprint_trusts_the_inode() {
        // What an sshtrail from before fingerprints saved: resumed as it always was.
        let d = dir("legacy");
        let log = d.0.join("audit.log");
        append(&log, &lines(1, 3));
        let checkpoint = FilePosition {
            fingerprint: None,
            ..after_line(&d.0, 2)
        };
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(checkpoint), false, 1000).unwrap();
        assert_eq!(drain(&mut t), vec![lines(3, 1).trim_end()]);
        // Shorter than the checkpoint: a gap now, where it used to re-read silently.
        fs::write(&log, "x\n").unwrap();
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(checkpoint), false, 1000).unwrap();
        assert_eq!(drain(&mut t), vec!["<gap: truncated>", "x"]);
    }

    #[test]
    fn a_file_truncated_and_rewritten_while_down_is_a_gap() {
        let d = dir("rewritten");
        let log = d.0.join("audit.log");
        append(&log, &lines(1, 3));
        let checkpoint = after_line(&d.0, 2);
        // Truncated in place (same inode) and written again, longer than before.
        let file = fs::OpenOptions::new().write(true).open(&log).unwrap();
        file.set_len(0).unwrap();
        drop(file);
        append(&log, &lines(50, 5));
        assert_eq!(inode_of(&log), checkpoint.inode);
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(checkpoint), false, 1000).unwrap();
        let got = drain(&mut t);
        assert_eq!(got[0], "<gap: file-replaced>");
        assert_eq!(got[1..].concat(), lines(50, 5).replace('\n', ""));
    }

    #[test]
    fn a_file_truncated_below_the_checkpoint_is_a_gap_and_read_again() {
        // Truncated in place to a length that keeps the fingerprinted head: the same
        // file, but what lay past the new end is gone.
        let d = dir("truncated");
        let log = d.0.join("audit.log");
        append(&log, &lines(100, 200));
        let cut = after_line(&d.0, 120);
        let checkpoint = after_line(&d.0, 180);
        assert!(cut.offset > fingerprint::HEAD_MAX as u64);
        let file = fs::OpenOptions::new().write(true).open(&log).unwrap();
        file.set_len(cut.offset).unwrap();
        drop(file);
        let mut t = AuditDirTailer::open(&d.0, "audit.log", Some(checkpoint), false, 1000).unwrap();
        let got = items(&mut t);
        assert_eq!(
            got[0],
            TailItem::Gap {
                lost: checkpoint,
                resumed_at: FilePosition {
                    offset: 0,
                    ..checkpoint
                },
                reason: GapReason::Truncated,
            }
        );
        assert_eq!(got.len(), 1 + 120);
    }

    #[test]
    fn a_file_truncated_while_being_read_is_a_gap_and_read_again() {
        let d = dir("live-truncate");
        let log = d.0.join("audit.log");
        append(&log, &lines(1, 50));
        let mut t = AuditDirTailer::open(&d.0, "audit.log", None, true, 1000).unwrap();
        assert_eq!(drain(&mut t).len(), 50);
        let before = t.position();
        let file = fs::OpenOptions::new().write(true).open(&log).unwrap();
        file.set_len(0).unwrap();
        drop(file);
        append(&log, "fresh\n");
        let got = items(&mut t);
        assert_eq!(
            got[0],
            TailItem::Gap {
                lost: before,
                resumed_at: FilePosition {
                    inode: before.inode,
                    offset: 0,
                    fingerprint: Some(Fingerprint::of(b"fresh\n")),
                },
                reason: GapReason::Truncated,
            }
        );
        assert!(matches!(&got[1], TailItem::Line(l, _) if l == b"fresh"));
        // Its positions now fingerprint the new content.
        assert!(t
            .position()
            .fingerprint
            .unwrap()
            .matches(&fs::read(&log).unwrap()));
    }
}
