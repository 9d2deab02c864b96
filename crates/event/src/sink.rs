//! Where event lines go: a file, a named pipe, or standard output.
//!
//! Each sink takes whole lines and gathers them until [`Sink::flush`] (the pipeline
//! flushes once per batch of input, so a burst of events costs one `write`, not one per
//! event), or until a buffer's worth is waiting. What it writes is always whole lines,
//! on a descriptor opened for appending, so two writers never interleave within a
//! line (a pipe gets at most `PIPE_BUF` bytes per write, which the kernel keeps whole).
//! [`Sink::sync`] returns once everything written so far is as durable as the sink can
//! make it (fsync for files); only then may a source commit its position.
//!
//! A file sink is exactly once across a crash: a checkpoint records [`Sink::mark`] (the
//! current file's inode and length) after a sync, and at the next start
//! [`FileSink::restore_to_mark`] puts the output files back as they were at that mark,
//! undoing the size rotations done since, before what followed the checkpoint is written
//! again.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Errors from sinks, naming the path involved.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> SinkError + '_ {
    move |source| SinkError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Lines gathered before a sink writes them without waiting for a flush.
pub const GATHER_BYTES: usize = 64 * 1024;

/// A destination for event lines.
pub trait Sink: Send {
    /// Takes one complete line (ending in `\n`); it may wait in the sink until
    /// [`Sink::flush`].
    fn write_line(&mut self, line: &[u8]) -> Result<(), SinkError>;
    /// Hands every line taken so far to the destination (readers see them now).
    fn flush(&mut self) -> Result<(), SinkError>;
    /// Flushes, then makes everything written so far durable.
    fn sync(&mut self) -> Result<(), SinkError>;
    /// Reopens the destination (after logrotate moved it: SIGHUP).
    fn reopen(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    /// For a file: its inode and length now (after a [`Sink::sync`]), for a checkpoint. Output that can be cut
    /// back to a checkpoint is written exactly once across a crash; other sinks (pipes,
    /// stdout) cannot take back what they wrote and are at least once.
    fn mark(&self) -> Option<(u64, u64)> {
        None
    }
    /// The checkpoint naming the last [`Sink::mark`] is saved: what was synced before it
    /// can no longer be taken back, so a sink that forwards (a spool in front of a remote
    /// destination) may send it on now.
    fn commit(&mut self) {}
}

/// Appends to a regular file created with mode 0640, with optional size rotation.
pub struct FileSink {
    path: PathBuf,
    file: File,
    /// The inode of `file`, taken when it was opened: what [`Sink::mark`] names.
    inode: u64,
    /// The file's length with the gathered lines counted in.
    size: u64,
    /// Lines taken but not yet written.
    gathered: Vec<u8>,
    rotate: Option<Rotation>,
    /// Names in the directory changed (the file created, rotated) since the last sync:
    /// the next sync makes the directory durable too, so that a mark never names a file
    /// whose directory entry a power loss could take away.
    dir_changed: bool,
}

/// Size rotation: `events.json` → `events.json.1` → … → `events.json.<keep>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation {
    pub max_bytes: u64,
    pub keep: u32,
}

impl FileSink {
    pub fn open(path: &Path, rotate: Option<Rotation>) -> Result<FileSink, SinkError> {
        let file = open_append(path)?;
        let meta = file.metadata().map_err(at(path))?;
        Ok(FileSink {
            path: path.to_path_buf(),
            file,
            inode: meta.ino(),
            size: meta.len(),
            gathered: Vec::new(),
            rotate,
            dir_changed: true,
        })
    }

    fn rotate_now(&mut self, rotation: Rotation) -> Result<(), SinkError> {
        self.write_gathered()?;
        self.file.sync_all().map_err(at(&self.path))?;
        for n in (1..rotation.keep).rev() {
            let from = numbered(&self.path, n);
            if from.exists() {
                fs::rename(&from, numbered(&self.path, n + 1)).map_err(at(&from))?;
            }
        }
        if rotation.keep > 0 {
            fs::rename(&self.path, numbered(&self.path, 1)).map_err(at(&self.path))?;
        } else {
            fs::remove_file(&self.path).map_err(at(&self.path))?;
        }
        self.reopen()
    }
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// `path` for slot 0, `path.<n>` for slot `n`.
fn slot(path: &Path, n: u32) -> PathBuf {
    if n == 0 {
        path.to_path_buf()
    } else {
        numbered(path, n)
    }
}

/// Makes the names in `path`'s directory durable (renames, creations, removals).
fn sync_dir(path: &Path) -> Result<(), SinkError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir).and_then(|d| d.sync_all()).map_err(at(dir))
}

/// The file's metadata, `None` if there is no file of that name.
fn metadata_if_any(path: &Path) -> Result<Option<fs::Metadata>, SinkError> {
    match fs::metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(at(path)(e)),
    }
}

fn open_append(path: &Path) -> Result<File, SinkError> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
        .map_err(at(path))
}

impl FileSink {
    /// Writes the gathered lines (one `write_all`).
    fn write_gathered(&mut self) -> Result<(), SinkError> {
        if self.gathered.is_empty() {
            return Ok(());
        }
        let result = self.file.write_all(&self.gathered);
        self.gathered.clear();
        if let Err(e) = result {
            // Part of them may have gone in: count what the file holds, so that a later
            // mark is not short of it and a restore never cuts into lines written after.
            if let Ok(meta) = self.file.metadata() {
                self.size = meta.len();
            }
            return Err(at(&self.path)(e));
        }
        Ok(())
    }
}

impl Sink for FileSink {
    fn write_line(&mut self, line: &[u8]) -> Result<(), SinkError> {
        if let Some(rotation) = self.rotate {
            if self.size > 0 && self.size + line.len() as u64 > rotation.max_bytes {
                self.rotate_now(rotation)?;
            }
        }
        self.gathered.extend_from_slice(line);
        self.size += line.len() as u64;
        if self.gathered.len() >= GATHER_BYTES {
            self.write_gathered()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.write_gathered()
    }

    fn sync(&mut self) -> Result<(), SinkError> {
        self.write_gathered()?;
        self.file.sync_data().map_err(at(&self.path))?;
        if self.dir_changed {
            sync_dir(&self.path)?;
            self.dir_changed = false;
        }
        Ok(())
    }

    fn reopen(&mut self) -> Result<(), SinkError> {
        // What was taken before the reopen belongs to the file it was written for.
        self.write_gathered()?;
        let file = open_append(&self.path)?;
        let meta = file.metadata().map_err(at(&self.path))?;
        self.file = file;
        self.inode = meta.ino();
        self.size = meta.len();
        self.dir_changed = true;
        Ok(())
    }

    /// The file being written now and its length. Right after a rotation that is the new,
    /// empty file at `path`: the inode is the open file's own (taken when it was opened),
    /// never looked up by name.
    fn mark(&self) -> Option<(u64, u64)> {
        Some((self.inode, self.size))
    }
}

/// A [`Sink::mark`] of a [`FileSink`] as a checkpoint keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The inode of the file being written when the mark was taken.
    pub inode: u64,
    /// Its length then.
    pub length: u64,
    /// A time (ms since the Unix epoch) no earlier than the creation of that file, such
    /// as the time the checkpoint was saved. A file with the marked inode created later
    /// is another file that got the same inode number (ext4 hands a freed number out again
    /// at once, so after rotation deleted the marked file its successor often has it).
    /// `None`, or a file system that does not record creation times: not checked.
    pub created_by_ms: Option<u64>,
}

/// Why a file with the marked inode is not the marked file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// Shorter than the mark (appending and rotation never shorten a file): something
    /// else cut it, or it is another file.
    Shorter { length: u64 },
    /// Created after [`Mark::created_by_ms`]: the inode number was reused.
    CreatedLater { created_ms: u64 },
    /// The marked length does not fall at the end of a line, where every mark does
    /// unless a write failed halfway.
    NotAtLineEnd,
}

/// What [`FileSink::restore_to_mark`] found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreReport {
    /// The marked file was found and the output files are as they were at the mark: that
    /// file is `path` again, cut back to the marked length.
    Restored {
        /// Rotations undone: the marked file was `path.<rotations>` (0: still `path`).
        rotations: u32,
        /// Files removed: those newer than the marked one (`path` … `path.<rotations - 1>`),
        /// which held only what was written after the mark.
        files_removed: u32,
        /// Bytes removed, in those files and from the end of the marked one.
        bytes_removed: u64,
    },
    /// No file among `path`, `path.1` … `path.<keep>` has the marked inode: it was moved
    /// away (an operator, logrotate) or rotated out of `keep`. Nothing was changed; what
    /// was written after the mark and is still in the files will be there twice.
    NotFound {
        /// Files looked at (`keep + 1`, or 1 without rotation).
        searched: u32,
    },
    /// The file with the marked inode (at `path.<rotations>`, 0: `path`) is not the
    /// marked file. Nothing was changed, as for [`RestoreReport::NotFound`].
    NotTheMarkedFile { rotations: u32, why: Mismatch },
}

impl RestoreReport {
    /// Whether any file was changed.
    pub fn changed(&self) -> bool {
        matches!(self, RestoreReport::Restored { rotations, bytes_removed, .. }
            if *rotations > 0 || *bytes_removed > 0)
    }
}

impl std::fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestoreReport::Restored {
                rotations,
                files_removed,
                bytes_removed,
            } => write!(
                f,
                "output put back to the mark: {rotations} rotations undone, {files_removed} \
                 newer files and {bytes_removed} bytes in all removed"
            ),
            RestoreReport::NotFound { searched } => write!(
                f,
                "the marked output file is in none of the {searched} output files (moved \
                 away or rotated out): nothing cut back, events after the mark may be \
                 written twice"
            ),
            RestoreReport::NotTheMarkedFile { rotations, why } => {
                let why = match why {
                    Mismatch::Shorter { length } => format!("it is shorter ({length} bytes)"),
                    Mismatch::CreatedLater { created_ms } => {
                        format!("it was created later (at {created_ms} ms), reusing the inode")
                    }
                    Mismatch::NotAtLineEnd => "the mark is not at the end of a line".into(),
                };
                let file = match rotations {
                    0 => "the output file".to_string(),
                    n => format!("output file .{n}"),
                };
                write!(
                    f,
                    "{file} has the marked inode but is not the marked file: {why}; nothing \
                     cut back, events after the mark may be written twice"
                )
            }
        }
    }
}

/// Why the file with the marked inode cannot be the marked file, if it cannot.
fn mismatch(file: &Path, meta: &fs::Metadata, mark: &Mark) -> Result<Option<Mismatch>, SinkError> {
    use std::os::unix::fs::FileExt;
    if meta.len() < mark.length {
        return Ok(Some(Mismatch::Shorter { length: meta.len() }));
    }
    let created_ms = meta
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    if let (Some(created_ms), Some(by)) = (created_ms, mark.created_by_ms) {
        if created_ms > by {
            return Ok(Some(Mismatch::CreatedLater { created_ms }));
        }
    }
    if mark.length > 0 {
        let mut last = [0u8; 1];
        File::open(file)
            .and_then(|f| f.read_exact_at(&mut last, mark.length - 1))
            .map_err(at(file))?;
        if last[0] != b'\n' {
            return Ok(Some(Mismatch::NotAtLineEnd));
        }
    }
    Ok(None)
}

impl FileSink {
    /// Puts the output files back as they were when [`Sink::mark`] returned the mark:
    /// what was written after it will be written again, once.
    ///
    /// `rotation` is the rotation the sink that took the mark had (`None`: only `path` is
    /// looked at). The file with the marked inode is looked for among `path`, `path.1` …
    /// `path.<keep>`, newest first:
    ///
    /// - at `path`: it is cut back to the marked length;
    /// - at `path.<j>`: the sink rotated `j` times since the mark, so `path` …
    ///   `path.<j - 1>` hold only lines written after it. It is cut back, those files are
    ///   removed, and the rotations are undone (`path.<j>` → `path`, `path.<j + 1>` →
    ///   `path.1`, …);
    /// - nowhere ([`RestoreReport::NotFound`]), or it is not the marked file
    ///   ([`RestoreReport::NotTheMarkedFile`]: shorter than the mark, created after it, or
    ///   the mark not at the end of a line): nothing is changed. The caller should say
    ///   so: lines after the mark may then be written twice.
    ///
    /// The steps run in that order (cut, remove, rename), so that a crash in the middle
    /// leaves files that a second run finishes; only an interruption among the renames
    /// leaves older files under their rotated names, out of place but whole. Everything
    /// is synced, the directory too, before it returns.
    ///
    /// This replaces `truncate_to_mark(path, inode, length)`, which looked only at `path`
    /// and so left the lines after the mark in place whenever the sink had rotated since;
    /// nothing needs that any more.
    pub fn restore_to_mark(
        path: &Path,
        rotation: Option<Rotation>,
        mark: Mark,
    ) -> Result<RestoreReport, SinkError> {
        let Mark { inode, length, .. } = mark;
        let last = rotation.map_or(0, |r| r.keep);
        let mut found = None;
        for n in 0..=last {
            let file = slot(path, n);
            if let Some(meta) = metadata_if_any(&file)? {
                if meta.ino() == inode && meta.is_file() {
                    found = Some((n, meta));
                    break;
                }
            }
        }
        let Some((rotations, meta)) = found else {
            return Ok(RestoreReport::NotFound {
                searched: last.saturating_add(1),
            });
        };
        if let Some(why) = mismatch(&slot(path, rotations), &meta, &mark)? {
            return Ok(RestoreReport::NotTheMarkedFile { rotations, why });
        }
        let now = meta.len();
        let marked = slot(path, rotations);
        let mut bytes_removed = now.saturating_sub(length);
        if bytes_removed > 0 {
            let file = OpenOptions::new()
                .write(true)
                .open(&marked)
                .map_err(at(&marked))?;
            file.set_len(length).map_err(at(&marked))?;
            file.sync_all().map_err(at(&marked))?;
        }
        if rotations == 0 {
            return Ok(RestoreReport::Restored {
                rotations,
                files_removed: 0,
                bytes_removed,
            });
        }
        let mut files_removed = 0;
        for n in 0..rotations {
            let newer = slot(path, n);
            let Some(meta) = metadata_if_any(&newer)? else {
                continue;
            };
            match fs::remove_file(&newer) {
                Ok(()) => {
                    files_removed += 1;
                    bytes_removed = bytes_removed.saturating_add(meta.len());
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(at(&newer)(e)),
            }
        }
        // Oldest last: `path.<n>` → `path.<n - rotations>`, whose name is free by now (a
        // newer file removed above, or a file already moved down in this loop).
        for from in rotations..=last {
            let older = slot(path, from);
            match fs::rename(&older, slot(path, from - rotations)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(at(&older)(e)),
            }
        }
        sync_dir(path)?;
        Ok(RestoreReport::Restored {
            rotations,
            files_removed,
            bytes_removed,
        })
    }
}

/// Writes to a named pipe whose reader may be slow (writes block: backpressure) or
/// gone (the pipe is reopened, which waits for a new reader).
pub struct FifoSink {
    path: PathBuf,
    pipe: Option<File>,
    /// Whole lines, at most `PIPE_BUF` bytes of them (unless one line is longer).
    gathered: Vec<u8>,
}

/// The most a write to a pipe may hold and still not interleave with another writer's.
const PIPE_BUF: usize = 4096;

impl FifoSink {
    /// `path` must already be a fifo (audito-maldito users create it with mkfifo).
    pub fn open(path: &Path) -> Result<FifoSink, SinkError> {
        let meta = fs::metadata(path).map_err(at(path))?;
        if !meta.file_type().is_fifo() {
            return Err(SinkError::Io {
                path: path.to_path_buf(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "not a fifo"),
            });
        }
        Ok(FifoSink {
            path: path.to_path_buf(),
            pipe: None,
            gathered: Vec::new(),
        })
    }

    fn pipe(&mut self) -> Result<&mut File, SinkError> {
        if self.pipe.is_none() {
            // Blocks until a reader opens the other end.
            let pipe = OpenOptions::new()
                .write(true)
                .open(&self.path)
                .map_err(at(&self.path))?;
            self.pipe = Some(pipe);
        }
        self.pipe.as_mut().ok_or_else(|| SinkError::Io {
            path: self.path.clone(),
            source: io::Error::other("fifo not open"),
        })
    }
}

impl FifoSink {
    fn write_gathered(&mut self) -> Result<(), SinkError> {
        if self.gathered.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.gathered);
        let result = self.pipe()?.write_all(&chunk);
        let result = match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                // The reader went away: wait for the next one and write the lines again.
                self.pipe = None;
                self.pipe()?.write_all(&chunk)
            }
            other => other,
        };
        self.gathered = chunk;
        self.gathered.clear();
        result.map_err(at(&self.path))
    }
}

impl Sink for FifoSink {
    fn write_line(&mut self, line: &[u8]) -> Result<(), SinkError> {
        if self.gathered.len() + line.len() > PIPE_BUF {
            self.write_gathered()?;
        }
        self.gathered.extend_from_slice(line);
        if self.gathered.len() >= PIPE_BUF {
            self.write_gathered()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.write_gathered()
    }

    fn sync(&mut self) -> Result<(), SinkError> {
        // What write() accepted is the reader's: nothing more to make durable.
        self.write_gathered()
    }

    fn reopen(&mut self) -> Result<(), SinkError> {
        self.write_gathered()?;
        self.pipe = None;
        Ok(())
    }
}

/// A sink let go hands over what it gathered (as `BufWriter` does); a `kill -9` loses
/// it, which is no loss: nothing gathered was ever covered by a checkpoint.
impl Drop for FileSink {
    fn drop(&mut self) {
        let _ = self.write_gathered();
    }
}

impl Drop for FifoSink {
    fn drop(&mut self) {
        if self.pipe.is_some() {
            let _ = self.write_gathered();
        }
    }
}

impl Drop for StdoutSink {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Standard output.
pub struct StdoutSink {
    out: io::Stdout,
    gathered: Vec<u8>,
}

impl StdoutSink {
    pub fn new() -> StdoutSink {
        StdoutSink {
            out: io::stdout(),
            gathered: Vec::new(),
        }
    }
}

impl Default for StdoutSink {
    fn default() -> Self {
        StdoutSink::new()
    }
}

impl Sink for StdoutSink {
    fn write_line(&mut self, line: &[u8]) -> Result<(), SinkError> {
        self.gathered.extend_from_slice(line);
        if self.gathered.len() >= GATHER_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        let mut out = self.out.lock();
        let result = out.write_all(&self.gathered).and_then(|()| out.flush());
        self.gathered.clear();
        result.map_err(at(Path::new("<stdout>")))
    }

    fn sync(&mut self) -> Result<(), SinkError> {
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sshtrail-sink-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn file_sink_creates_0640_appends_and_reopens() {
        let dir = temp_dir("file");
        let path = dir.join("events.json");
        let mut sink = FileSink::open(&path, None).unwrap();
        sink.write_line(b"one\n").unwrap();
        sink.sync().unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode & !0o640,
            0,
            "no more than 0640 (umask may remove bits)"
        );
        // logrotate moves the file away, then signals: writes go to the new file.
        fs::rename(&path, dir.join("events.json.old")).unwrap();
        sink.write_line(b"between\n").unwrap();
        sink.reopen().unwrap();
        sink.write_line(b"two\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"", "a line waits for the flush");
        sink.flush().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two\n");
        assert_eq!(
            fs::read(dir.join("events.json.old")).unwrap(),
            b"one\nbetween\n",
            "what was taken before the reopen went to the file it was taken for"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn file_sink_rotates_by_size_and_keeps_n() {
        let dir = temp_dir("rotate");
        let path = dir.join("e.json");
        let rotation = Rotation {
            max_bytes: 10,
            keep: 2,
        };
        let mut sink = FileSink::open(&path, Some(rotation)).unwrap();
        for line in ["aaaaaa\n", "bbbbbb\n", "cccccc\n", "dddddd\n"] {
            sink.write_line(line.as_bytes()).unwrap();
        }
        sink.flush().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"dddddd\n");
        assert_eq!(fs::read(numbered(&path, 1)).unwrap(), b"cccccc\n");
        assert_eq!(fs::read(numbered(&path, 2)).unwrap(), b"bbbbbb\n");
        assert!(!numbered(&path, 3).exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn file_sink_writes_a_buffer_full_without_a_flush_and_marks_only_what_it_synced() {
        let dir = temp_dir("gather");
        let path = dir.join("e.json");
        let mut sink = FileSink::open(&path, None).unwrap();
        let line = vec![b'x'; 999];
        let mut line = line;
        line.push(b'\n');
        let mut taken = 0;
        while fs::metadata(&path).unwrap().len() == 0 {
            sink.write_line(&line).unwrap();
            taken += line.len();
            assert!(
                taken <= GATHER_BYTES + line.len(),
                "gathered past the bound"
            );
        }
        assert_eq!(fs::metadata(&path).unwrap().len() as usize, taken);
        sink.write_line(b"tail\n").unwrap();
        sink.sync().unwrap();
        let (_, len) = sink.mark().unwrap();
        assert_eq!(len as usize, taken + 5);
        assert_eq!(fs::metadata(&path).unwrap().len(), len);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn fifo_sink_writes_whole_lines_at_most_pipe_buf_at_a_time() {
        let dir = temp_dir("fifo-gather");
        let path = dir.join("p");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        let reader_path = path.clone();
        let reader = std::thread::spawn(move || {
            use std::io::Read;
            let mut pipe = File::open(&reader_path).unwrap();
            let mut reads = Vec::new();
            let mut buf = vec![0u8; 65536];
            loop {
                let n = pipe.read(&mut buf).unwrap();
                if n == 0 {
                    return reads;
                }
                reads.push(buf[..n].to_vec());
                // Let the writer get ahead so that reads see its writes whole.
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        });
        let mut sink = FifoSink::open(&path).unwrap();
        let mut sent = Vec::new();
        for i in 0..300 {
            let line = format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "p".repeat(i % 50));
            sink.write_line(line.as_bytes()).unwrap();
            sent.extend_from_slice(line.as_bytes());
        }
        sink.flush().unwrap();
        drop(sink);
        let reads = reader.join().unwrap();
        assert_eq!(reads.concat(), sent, "every line, in order, once");
        assert!(
            reads.len() < 300,
            "lines were gathered: {} reads",
            reads.len()
        );
        // Each write is whole lines of at most PIPE_BUF bytes, which the kernel keeps
        // whole, so whatever a read returns ends at a line's end.
        for read in &reads {
            assert_eq!(read.last(), Some(&b'\n'), "a read cut a line");
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn fifo_sink_refuses_regular_files() {
        let dir = temp_dir("fifo");
        let path = dir.join("plain");
        fs::write(&path, b"").unwrap();
        assert!(FifoSink::open(&path).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
