//! # sshtrail-spool: a durable queue between the pipeline and a remote sink
//!
//! A remote destination (a NATS stream, an object store) is slower than a local file
//! and is sometimes down; the pipeline must not wait for it, and must not lose what it
//! could not send. So each remote sink is two halves:
//!
//! - [`Spool`], the half the pipeline writes to: a [`Sink`] like the file sink. Lines go
//!   into numbered *segment* files in the sink's own directory under the state directory
//!   (`00000001.jsonl`, `00000002.jsonl`, …, a new one every [`Limits::segment_bytes`]).
//!   [`Sink::sync`] makes them durable, [`Sink::mark`] names how far (segment, length) for
//!   the daemon's checkpoint, and after a crash [`Spool::restore_to_mark`] cuts the spool
//!   back to the checkpoint's mark — exactly as the file sink does — so the events
//!   derived again after the restart are spooled once.
//! - A *forwarder* thread ([`Spool::forward`]) that reads the segments from the
//!   *delivered position* on and hands batches of lines to a [`Deliver`] (the NATS
//!   publisher, the Parquet uploader). Once the destination has acknowledged a batch the
//!   new delivered position is written to the `delivered` file (fsync, rename), and
//!   segments wholly behind it are removed. A failing destination is retried with a
//!   backoff of 1 s doubling to 30 s; meanwhile the spool grows.
//!
//! **What is delivered.** The forwarder sees only lines the daemon has *committed*
//! ([`Sink::commit`]: the checkpoint naming their mark is saved), never lines a crash
//! could cut back. So the destination receives each line at least once (a crash between
//! a delivery and the write of the `delivered` file sends that batch again), and the
//! same lines at the same positions every time: a destination that de-duplicates by
//! event id (NATS's `Nats-Msg-Id`) or names what it writes by the batch's start position
//! (the lake's objects) ends up with each event once.
//!
//! **Bounded.** What is spooled but not yet delivered is held under [`Limits::max_bytes`];
//! a line that would go over is dropped and counted ([`Status::dropped`]) — the daemon
//! reports that as a `SystemAction` and its local file sink still has every event.

use sshtrail_event::sink::{Sink, SinkError};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Errors of the spool's own files.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: not a delivered position: {text:?}")]
    BadDelivered { path: PathBuf, text: String },
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sink_error(e: SpoolError) -> SinkError {
    match e {
        SpoolError::Io { path, source } => SinkError::Io { path, source },
        SpoolError::BadDelivered { path, text } => SinkError::Io {
            path,
            source: io::Error::new(io::ErrorKind::InvalidData, text),
        },
    }
}

/// How big the spool may grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A new segment file is begun once the current one is this long.
    pub segment_bytes: u64,
    /// At most this much spooled and not yet delivered; more is dropped and counted.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            segment_bytes: 16 << 20,
            max_bytes: 1 << 30,
        }
    }
}

/// A place in the spool: a segment's number and a byte offset in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub segment: u64,
    pub offset: u64,
}

impl Position {
    /// `SSSSSSSS-OOOOOOOOOOOOOOOO` (hex): a name for what begins here, the same every
    /// time the same lines are delivered.
    pub fn name(&self) -> String {
        format!("{:08x}-{:016x}", self.segment, self.offset)
    }
}

/// How a destination wants its batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gather {
    /// At most this many lines in one batch.
    pub max_lines: usize,
    /// At most about this many bytes in one batch (a single longer line still goes).
    pub max_bytes: usize,
    /// Wait up to this long for a batch to fill before delivering a smaller one
    /// (an object store wants few large objects; a stream wants no wait).
    pub max_wait: Duration,
}

/// Lines to deliver: whole event lines (each ending in `\n`), in spool order, all from
/// one segment, beginning at `start`.
pub struct Batch<'a> {
    pub start: Position,
    pub lines: &'a [&'a [u8]],
}

/// A remote destination for spooled lines.
pub trait Deliver: Send + 'static {
    /// Its batches' shape.
    fn gather(&self) -> Gather;
    /// Delivers the batch; returns once the destination holds it durably. An error
    /// means the whole batch is sent again later (with the same start).
    fn deliver(&mut self, batch: &Batch<'_>) -> Result<(), String>;
}

/// What a spool and its forwarder have done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Lines the destination acknowledged, since the start.
    pub delivered: u64,
    /// Batches that failed, since the start.
    pub failures: u64,
    /// The latest failure, while the destination is failing (cleared by a success).
    pub failing: Option<String>,
    /// Lines dropped because the spool was full, since the start.
    pub dropped: u64,
    /// Bytes spooled and not yet delivered.
    pub backlog_bytes: u64,
}

struct Shared {
    /// How far the forwarder may read: the last committed mark.
    committed: Position,
    delivered: Position,
    /// Bytes spooled (this run, plus the backlog found at open) and delivered: their
    /// difference is the backlog.
    written_total: u64,
    delivered_total: u64,
    status: Status,
    stop: bool,
    /// Stopping: deliver what is committed now, without waiting for batches to fill.
    draining: bool,
}

type SharedState = Arc<(Mutex<Shared>, Condvar)>;

fn lock(shared: &SharedState) -> MutexGuard<'_, Shared> {
    // A panic in the other thread leaves the data as consistent as before it.
    shared
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:08}.jsonl"))
}

/// The segment numbers in `dir`, ascending.
fn segments(dir: &Path) -> Result<Vec<u64>, SpoolError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(at(dir))? {
        let entry = entry.map_err(at(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(number) = name.strip_suffix(".jsonl") {
            if number.len() == 8 && number.bytes().all(|b| b.is_ascii_digit()) {
                if let Ok(n) = number.parse() {
                    found.push(n);
                }
            }
        }
    }
    found.sort_unstable();
    Ok(found)
}

fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(at(dir))
}

fn read_delivered(dir: &Path) -> Result<Option<Position>, SpoolError> {
    let path = dir.join("delivered");
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(at(&path)(e)),
    };
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(segment)), Some(Ok(offset)), None) => Ok(Some(Position { segment, offset })),
        _ => Err(SpoolError::BadDelivered { path, text }),
    }
}

fn write_delivered(dir: &Path, at_position: Position) -> Result<(), SpoolError> {
    let path = dir.join("delivered");
    let temporary = dir.join("delivered.new");
    let mut file = File::create(&temporary).map_err(at(&temporary))?;
    writeln!(file, "{} {}", at_position.segment, at_position.offset)
        .and_then(|()| file.sync_all())
        .map_err(at(&temporary))?;
    fs::rename(&temporary, &path).map_err(at(&path))?;
    sync_dir(dir)
}

fn file_len(path: &Path) -> Result<u64, SpoolError> {
    match fs::metadata(path) {
        Ok(meta) => Ok(meta.len()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(at(path)(e)),
    }
}

/// The writing half of a spool (see the crate doc).
pub struct Spool {
    dir: PathBuf,
    limits: Limits,
    file: File,
    segment: u64,
    /// The current segment's length with the gathered lines counted in.
    length: u64,
    gathered: Vec<u8>,
    /// The mark of the last sync, released to the forwarder by the next commit.
    synced: Position,
    shared: SharedState,
    dir_changed: bool,
}

impl Spool {
    /// Opens (creating) the spool in `dir`, appending to its last segment.
    pub fn open(dir: &Path, limits: Limits) -> Result<Spool, SpoolError> {
        fs::create_dir_all(dir).map_err(at(dir))?;
        let existing = segments(dir)?;
        let segment = existing.last().copied().unwrap_or(1);
        let path = segment_path(dir, segment);
        let file = open_append(&path)?;
        let length = file_len(&path)?;
        let end = Position {
            segment,
            offset: length,
        };
        let first = Position {
            segment: existing.first().copied().unwrap_or(1),
            offset: 0,
        };
        let delivered = read_delivered(dir)?.unwrap_or(first).min(end).max(first);
        let mut backlog = 0;
        for &n in existing.iter().filter(|&&n| n >= delivered.segment) {
            let len = file_len(&segment_path(dir, n))?;
            let from = if n == delivered.segment {
                delivered.offset
            } else {
                0
            };
            backlog += len.saturating_sub(from);
        }
        let shared = Arc::new((
            Mutex::new(Shared {
                // What is in the files at open was committed by the run that wrote it
                // (the caller cut the spool back to the checkpoint's mark first).
                committed: end,
                delivered,
                written_total: backlog,
                delivered_total: 0,
                status: Status {
                    backlog_bytes: backlog,
                    ..Status::default()
                },
                stop: false,
                draining: false,
            }),
            Condvar::new(),
        ));
        Ok(Spool {
            dir: dir.to_path_buf(),
            limits,
            file,
            segment,
            length,
            gathered: Vec::new(),
            synced: end,
            shared,
            dir_changed: true,
        })
    }

    /// Puts the spool in `dir` back to `mark` (a checkpoint's [`Sink::mark`]): segments
    /// after the marked one removed, the marked one cut to the marked length. Returns the
    /// bytes removed. Call it before [`Spool::open`].
    pub fn restore_to_mark(dir: &Path, mark: (u64, u64)) -> Result<u64, SpoolError> {
        let (segment, length) = mark;
        if !dir.exists() {
            return Ok(0);
        }
        let mut removed = 0;
        for n in segments(dir)? {
            let path = segment_path(dir, n);
            if n > segment {
                removed += file_len(&path)?;
                fs::remove_file(&path).map_err(at(&path))?;
            } else if n == segment {
                let len = file_len(&path)?;
                if len > length {
                    let file = OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(at(&path))?;
                    file.set_len(length)
                        .and_then(|()| file.sync_all())
                        .map_err(at(&path))?;
                    removed += len - length;
                }
            }
        }
        if let Some(delivered) = read_delivered(dir)? {
            let mark = Position {
                segment,
                offset: length,
            };
            if delivered > mark {
                write_delivered(dir, mark)?;
            }
        }
        sync_dir(dir)?;
        Ok(removed)
    }

    /// Starts the forwarder thread that hands committed lines to `deliver`.
    pub fn forward(&self, name: &str, deliver: Box<dyn Deliver>) -> Result<Forwarder, SpoolError> {
        let shared = Arc::clone(&self.shared);
        let dir = self.dir.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sink-{name}"))
            .spawn({
                let shared = Arc::clone(&shared);
                let name = name.to_string();
                move || forward_loop(&name, &dir, &shared, deliver)
            })
            .map_err(at(&self.dir))?;
        Ok(Forwarder {
            shared,
            thread: Some(thread),
        })
    }

    /// What the spool and its forwarder have done.
    pub fn status(&self) -> Status {
        lock(&self.shared).status.clone()
    }

    /// A handle that reads [`Spool::status`] after the spool was handed to the pipeline.
    pub fn watch(&self) -> Watch {
        Watch {
            shared: Arc::clone(&self.shared),
        }
    }

    fn write_gathered(&mut self) -> Result<(), SpoolError> {
        if self.gathered.is_empty() {
            return Ok(());
        }
        let path = segment_path(&self.dir, self.segment);
        self.file.write_all(&self.gathered).map_err(at(&path))?;
        self.gathered.clear();
        Ok(())
    }

    fn next_segment(&mut self) -> Result<(), SpoolError> {
        self.write_gathered()?;
        let path = segment_path(&self.dir, self.segment);
        self.file.sync_all().map_err(at(&path))?;
        self.segment += 1;
        let path = segment_path(&self.dir, self.segment);
        self.file = open_append(&path)?;
        self.length = 0;
        self.dir_changed = true;
        Ok(())
    }
}

fn open_append(path: &Path) -> Result<File, SpoolError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(at(path))
}

impl Sink for Spool {
    fn write_line(&mut self, line: &[u8]) -> Result<(), SinkError> {
        let len = line.len() as u64;
        {
            let mut shared = lock(&self.shared);
            let backlog = shared.written_total.saturating_sub(shared.delivered_total);
            if backlog + len > self.limits.max_bytes {
                shared.status.dropped += 1;
                return Ok(());
            }
            shared.written_total += len;
            shared.status.backlog_bytes = backlog + len;
        }
        if self.length > 0 && self.length + len > self.limits.segment_bytes {
            self.next_segment().map_err(sink_error)?;
        }
        self.gathered.extend_from_slice(line);
        self.length += len;
        if self.gathered.len() >= sshtrail_event::sink::GATHER_BYTES {
            self.write_gathered().map_err(sink_error)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.write_gathered().map_err(sink_error)
    }

    fn sync(&mut self) -> Result<(), SinkError> {
        self.write_gathered().map_err(sink_error)?;
        let path = segment_path(&self.dir, self.segment);
        self.file
            .sync_data()
            .map_err(|e| sink_error(at(&path)(e)))?;
        if self.dir_changed {
            sync_dir(&self.dir).map_err(sink_error)?;
            self.dir_changed = false;
        }
        self.synced = Position {
            segment: self.segment,
            offset: self.length,
        };
        Ok(())
    }

    fn mark(&self) -> Option<(u64, u64)> {
        Some((self.synced.segment, self.synced.offset))
    }

    fn commit(&mut self) {
        let mut shared = lock(&self.shared);
        if self.synced > shared.committed {
            shared.committed = self.synced;
            self.shared.1.notify_all();
        }
    }
}

/// Reads a spool's [`Status`] from elsewhere (the daemon's health reports, metrics).
#[derive(Clone)]
pub struct Watch {
    shared: SharedState,
}

impl Watch {
    pub fn status(&self) -> Status {
        lock(&self.shared).status.clone()
    }
}

/// The forwarder thread of a spool; [`Forwarder::stop`] ends it.
pub struct Forwarder {
    shared: SharedState,
    thread: Option<JoinHandle<()>>,
}

impl Forwarder {
    /// Asks the thread to stop and waits for it up to `wait`; a delivery still running
    /// then is left to finish on its own (what it sends is sent again after the next
    /// start). Returns whether everything committed was delivered.
    pub fn stop(mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        {
            let mut shared = lock(&self.shared);
            // Let it deliver what is committed first, within the wait, and at once.
            shared.draining = true;
            self.shared.1.notify_all();
            while shared.delivered < shared.committed && shared.status.failing.is_none() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                shared = self
                    .shared
                    .1
                    .wait_timeout(shared, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            shared.stop = true;
            self.shared.1.notify_all();
        }
        let done = {
            let shared = lock(&self.shared);
            shared.delivered >= shared.committed
        };
        if let Some(thread) = self.thread.take() {
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
        done
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        let mut shared = lock(&self.shared);
        shared.stop = true;
        self.shared.1.notify_all();
    }
}

/// Reads what lies between `from` and `until` in `from`'s segment: whole lines, at most
/// `gather`'s worth. Returns the bytes and where the next read begins.
fn read_batch(
    dir: &Path,
    from: Position,
    until: Position,
    gather: Gather,
) -> Result<(Vec<u8>, Position), SpoolError> {
    let path = segment_path(dir, from.segment);
    let end = if from.segment == until.segment {
        until.offset
    } else {
        file_len(&path)?
    };
    if from.offset >= end {
        if from.segment < until.segment {
            // This segment is done: the next one begins.
            return Ok((
                Vec::new(),
                Position {
                    segment: from.segment + 1,
                    offset: 0,
                },
            ));
        }
        return Ok((Vec::new(), from));
    }
    let mut file = File::open(&path).map_err(at(&path))?;
    file.seek(SeekFrom::Start(from.offset)).map_err(at(&path))?;
    let want = (end - from.offset).min(gather.max_bytes.max(1) as u64);
    let mut bytes = Vec::with_capacity(want as usize);
    Read::by_ref(&mut file)
        .take(want)
        .read_to_end(&mut bytes)
        .map_err(at(&path))?;
    // Whole lines only, and at most max_lines of them.
    let mut cut = 0;
    let mut lines = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            cut = i + 1;
            lines += 1;
            if lines >= gather.max_lines.max(1) {
                break;
            }
        }
    }
    if cut == 0 {
        // One line longer than max_bytes: read it whole.
        let mut rest = Vec::new();
        file.take(end - from.offset - bytes.len() as u64)
            .read_to_end(&mut rest)
            .map_err(at(&path))?;
        bytes.extend_from_slice(&rest);
        cut = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
    }
    bytes.truncate(cut);
    let next = Position {
        segment: from.segment,
        offset: from.offset + cut as u64,
    };
    Ok((bytes, next))
}

fn forward_loop(name: &str, dir: &Path, shared: &SharedState, mut deliver: Box<dyn Deliver>) {
    let gather = deliver.gather();
    let mut backoff = Duration::from_secs(1);
    let mut waiting_since: Option<Instant> = None;
    loop {
        let (from, until) = {
            let mut state = lock(shared);
            while !state.stop && state.delivered >= state.committed {
                waiting_since = None;
                state = shared.1.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.stop && state.delivered >= state.committed {
                return;
            }
            (state.delivered, state.committed)
        };
        let (bytes, next) = match read_batch(dir, from, until, gather) {
            Ok(read) => read,
            Err(e) => {
                tracing::error!(sink = name, "reading the spool: {e}");
                if !pause(shared, &mut backoff) {
                    return;
                }
                continue;
            }
        };
        if bytes.is_empty() {
            if next != from {
                advance(name, dir, shared, from, next, 0, 0);
            }
            continue;
        }
        let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
        // A batch smaller than wanted waits for more, up to max_wait, unless stopping
        // or the segment ended.
        let full = lines.len() >= gather.max_lines || bytes.len() >= gather.max_bytes;
        let segment_ended = from.segment < until.segment;
        if !full && !segment_ended && !gather.max_wait.is_zero() {
            let since = *waiting_since.get_or_insert_with(Instant::now);
            let left = gather.max_wait.saturating_sub(since.elapsed());
            if !left.is_zero() {
                let state = lock(shared);
                if !state.stop && !state.draining {
                    let _ = shared
                        .1
                        .wait_timeout(state, left.min(Duration::from_millis(500)));
                    continue;
                }
            }
        }
        let batch = Batch {
            start: from,
            lines: &lines,
        };
        match deliver.deliver(&batch) {
            Ok(()) => {
                backoff = Duration::from_secs(1);
                waiting_since = None;
                advance(
                    name,
                    dir,
                    shared,
                    from,
                    next,
                    lines.len() as u64,
                    bytes.len() as u64,
                );
            }
            Err(e) => {
                {
                    let mut state = lock(shared);
                    state.status.failures += 1;
                    if state.status.failing.is_none() {
                        tracing::warn!(sink = name, "delivery failed: {e}; spooling");
                    }
                    state.status.failing = Some(e);
                    shared.1.notify_all();
                }
                if !pause(shared, &mut backoff) {
                    return;
                }
            }
        }
    }
}

/// Waits out the backoff (or until stopped: false).
fn pause(shared: &SharedState, backoff: &mut Duration) -> bool {
    let deadline = Instant::now() + *backoff;
    *backoff = (*backoff * 2).min(Duration::from_secs(30));
    let mut state = lock(shared);
    while !state.stop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        state = shared
            .1
            .wait_timeout(state, left)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    false
}

/// Records a delivery: the `delivered` file first, then the counters; removes the
/// segments left behind.
fn advance(
    name: &str,
    dir: &Path,
    shared: &SharedState,
    from: Position,
    next: Position,
    lines: u64,
    bytes: u64,
) {
    if let Err(e) = write_delivered(dir, next) {
        // Delivered, but not recorded: sent again after a restart (the destination
        // drops repeats).
        tracing::error!(sink = name, "{e}");
    }
    if next.segment > from.segment {
        let old = segment_path(dir, from.segment);
        if let Err(e) = fs::remove_file(&old) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(sink = name, "{}: {e}", old.display());
            }
        }
    }
    let mut state = lock(shared);
    state.delivered = next;
    state.delivered_total += bytes;
    state.status.delivered += lines;
    state.status.failing = None;
    state.status.backlog_bytes = state.written_total.saturating_sub(state.delivered_total);
    shared.1.notify_all();
}

#[cfg(test)]
mod tests;
