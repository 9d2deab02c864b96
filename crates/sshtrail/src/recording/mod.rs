//! Terminal recordings: what `sshtrail-record` (sshd's `ForceCommand`) sends through the
//! recording socket ([`socket`]), filed into the session log of the audit session the
//! kernel says the recorder is in.
//!
//! A recording lands only in the log of its peer's own session (`/proc/<pid>/sessionid`),
//! and only while that log is open: bytes that arrive before the session's `UserLogin`
//! opened it wait (bounded, for [`PENDING_FOR_MS`]); bytes for a session whose log is
//! sealed, or that never opens, are counted and dropped. What is filed:
//!
//! | recorder sends | session log record (channel 0) |
//! |---|---|
//! | hello, pty | `pty` (terminal type, size), `env` `SSH_USER_AUTH` and `SSH_CONNECTION`, then `shell` or `exec` |
//! | hello, pipes | the same without `pty`; `exec` (the command) or `subsystem` (sftp) |
//! | output, input | `io` (stdout, stderr, stdin) |
//! | window change | `window_change` |
//! | exit | `stream_total` per stream that carried bytes, then `exit_status` or `exit_signal` |
//! | (bytes missing by their offsets) | `recording_gap`, and a `recording-gap` `SystemAction` |
//!
//! Each stream's bytes are placed by their offset against how far the log already has
//! that stream ([`Recorder::recorded`], kept in the checkpoint with the log): bytes the log
//! lacks (the recorder's queue overflowed, or the daemon was down or crashed after its
//! last checkpoint) become a `recording_gap` record, bytes it already has are not written
//! twice. A recorder that reconnects after a restart so resumes into the same log.

pub mod policy;
pub mod socket;

use crate::sessions::{Filed, Recorder, RecorderError};
use socket::{Peer, Received};
use sshtrail_event::SystemKind;
use sshtrail_record::protocol::{Frame, Hello, Mode, Stream as WireStream, Total};
use sshtrail_sessionlog::{Message, Stream};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::mpsc::{Receiver, TryRecvError};

/// How long a recording may wait for its session's log to open.
pub const PENDING_FOR_MS: u64 = 60_000;

/// Bytes a recording may hold while it waits.
const PENDING_BYTES: usize = 4 << 20;

/// What the recordings did, for metrics and the daemon's health.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordingStats {
    pub opened: u64,
    pub refused: u64,
    pub records_filed: u64,
    /// Records dropped: no open log for the session in time, or the log sealed.
    pub records_dropped: u64,
}

/// What waits to be filed.
enum Pending {
    Record {
        time_ms: u64,
        message: Box<Message>,
    },
    Data {
        time_ms: u64,
        stream: Stream,
        offset: u64,
        bytes: Vec<u8>,
    },
    /// The program's end: its streams' totals, and whether a shortfall of stdout at the
    /// end is a gap (in a pty all output is content; without one the policy may cap it).
    Exit {
        time_ms: u64,
        status: i32,
        totals: [Total; 3],
        all_output_kept: bool,
    },
}

impl Pending {
    fn size(&self) -> usize {
        match self {
            Pending::Data { bytes, .. } => bytes.len() + 32,
            _ => 64,
        }
    }
}

struct Recording {
    peer: Peer,
    ses: u32,
    mode: Mode,
    pending: Vec<Pending>,
    pending_bytes: usize,
    opened_ms: u64,
    closed: bool,
}

/// The pipeline's side of the recording socket.
/// A login whose session must be recorded, until its recording begins.
struct Expected {
    ses: u32,
    user: String,
    source: String,
    due_ms: u64,
}

/// Sessions remembered as recorded (for a login that is joined after its recording began).
const RECORDED_REMEMBERED: usize = 10_000;

/// Logins older than this (event time against the clock: a catch-up after downtime) are
/// not held to the recording policy: whether they were recorded cannot be known now.
const EXPECT_RECENT_MS: u64 = 60_000;

pub struct Recordings {
    rx: Receiver<Received>,
    required: policy::Required,
    wait_ms: u64,
    expected: Vec<Expected>,
    recorded: HashSet<u32>,
    recorded_order: VecDeque<u32>,
    open: HashMap<u64, Recording>,
    stats: RecordingStats,
    /// What to report as `SystemAction`s, until [`Recordings::take_reports`].
    reports: Vec<SystemKind>,
}

const STREAMS: [Stream; 3] = [Stream::Stdin, Stream::Stdout, Stream::Stderr];

fn index(s: Stream) -> usize {
    match s {
        Stream::Stdin => 0,
        Stream::Stdout => 1,
        Stream::Stderr => 2,
    }
}

fn stream(s: WireStream) -> Stream {
    match s {
        WireStream::Stdin => Stream::Stdin,
        WireStream::Stdout => Stream::Stdout,
        WireStream::Stderr => Stream::Stderr,
    }
}

/// The records a recorder's hello stands for.
fn opening(hello: &Hello) -> Vec<Message> {
    let mut out = Vec::new();
    if hello.mode == Mode::Pty {
        out.push(Message::Pty {
            channel: 0,
            term: hello.term.clone().unwrap_or_default(),
            columns: u32::from(hello.cols),
            rows: u32::from(hello.rows),
            width_px: 0,
            height_px: 0,
            modes: Vec::new(),
        });
    }
    // What the recorder learnt from sshd's environment: the key or certificate the session
    // authenticated with (`ExposeAuthInfo yes`), and the connection's addresses.
    for (name, value) in [
        ("SSH_USER_AUTH", &hello.user_auth),
        ("SSH_CONNECTION", &hello.connection),
    ] {
        if let Some(value) = value {
            out.push(Message::Env {
                channel: 0,
                name: name.into(),
                value: value.trim_end().to_string(),
            });
        }
    }
    match hello.command.as_deref() {
        None => out.push(Message::Shell { channel: 0 }),
        Some(c)
            if matches!(
                sshtrail_record::cli::program_name(c),
                "internal-sftp" | "sftp-server"
            ) =>
        {
            out.push(Message::Subsystem {
                channel: 0,
                subsystem: "sftp".into(),
            })
        }
        Some(c) => out.push(Message::Exec {
            channel: 0,
            program: c.to_string(),
        }),
    }
    out
}

/// What a frame asks to file, if anything.
fn pending_of(frame: Frame, mode: Mode) -> Option<Pending> {
    match frame {
        Frame::Data {
            stream: s,
            offset,
            time_us,
            bytes,
        } => Some(Pending::Data {
            time_ms: time_us / 1000,
            stream: stream(s),
            offset,
            bytes,
        }),
        Frame::Resize {
            time_us,
            cols,
            rows,
        } => Some(Pending::Record {
            time_ms: time_us / 1000,
            message: Box::new(Message::WindowChange {
                channel: 0,
                columns: u32::from(cols),
                rows: u32::from(rows),
                width_px: 0,
                height_px: 0,
            }),
        }),
        Frame::Exit {
            time_us,
            status,
            totals,
        } => Some(Pending::Exit {
            time_ms: time_us / 1000,
            status,
            totals,
            all_output_kept: mode == Mode::Pty,
        }),
        Frame::Hello(_) | Frame::Ack(_) => None,
    }
}

fn exit_message(status: i32) -> Message {
    if status >= 0 {
        Message::ExitStatus {
            channel: 0,
            status: status as u32,
        }
    } else {
        Message::ExitSignal {
            channel: 0,
            signal: signal_name(-status),
            core_dumped: false,
            message: String::new(),
        }
    }
}

/// A signal's name without `SIG`, as SSH's `exit-signal` names it.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "HUP",
        libc::SIGINT => "INT",
        libc::SIGQUIT => "QUIT",
        libc::SIGILL => "ILL",
        libc::SIGABRT => "ABRT",
        libc::SIGFPE => "FPE",
        libc::SIGKILL => "KILL",
        libc::SIGSEGV => "SEGV",
        libc::SIGPIPE => "PIPE",
        libc::SIGALRM => "ALRM",
        libc::SIGTERM => "TERM",
        libc::SIGUSR1 => "USR1",
        libc::SIGUSR2 => "USR2",
        other => return other.to_string(),
    };
    name.to_string()
}

impl Recordings {
    pub fn new(rx: Receiver<Received>, required: policy::Required, wait_ms: u64) -> Recordings {
        Recordings {
            rx,
            required,
            wait_ms,
            expected: Vec::new(),
            recorded: HashSet::new(),
            recorded_order: VecDeque::new(),
            open: HashMap::new(),
            stats: RecordingStats::default(),
            reports: Vec::new(),
        }
    }

    pub fn stats(&self) -> RecordingStats {
        self.stats
    }

    /// Files what the recorders sent since the last call. Called before a session's log
    /// is sealed too: a recorder exits only once the daemon has its last frame, and sshd
    /// ends the session after that, so all of a session's recording is in by then.
    pub fn take(&mut self, recorder: &mut Recorder, now_ms: u64) {
        self.receive(now_ms);
        self.file_pending(recorder, now_ms);
        self.check_expected(now_ms);
    }

    /// A login was written: if its user must be recorded, its recording is awaited.
    pub fn login(&mut self, login: &sshtrail_event::Login, now_ms: u64) {
        let Ok(ses) = login.audit_id.parse::<u32>() else {
            return; // no kernel session: nothing could be recorded into it
        };
        if self.required.is_empty()
            || now_ms.saturating_sub(login.time_ms) > EXPECT_RECENT_MS
            || self.recorded.contains(&ses)
            || !self.required.applies(&login.actor.logged_as)
        {
            return;
        }
        self.expected.push(Expected {
            ses,
            user: login.actor.logged_as.clone(),
            source: login.actor.source.address.clone(),
            due_ms: now_ms + self.wait_ms,
        });
    }

    fn check_expected(&mut self, now_ms: u64) {
        let recorded = &self.recorded;
        let mut late = Vec::new();
        self.expected.retain(|e| {
            if recorded.contains(&e.ses) {
                return false;
            }
            if now_ms < e.due_ms {
                return true;
            }
            late.push(SystemKind::SessionNotRecorded {
                session: e.ses.to_string(),
                user: e.user.clone(),
                source: e.source.clone(),
            });
            false
        });
        for kind in late {
            tracing::warn!(?kind, "a session that must be recorded is not");
            self.reports.push(kind);
        }
    }

    /// The refusals and other things to report as `SystemAction`s since the last call.
    pub fn take_reports(&mut self) -> Vec<SystemKind> {
        std::mem::take(&mut self.reports)
    }

    fn receive(&mut self, now_ms: u64) {
        loop {
            match self.rx.try_recv() {
                Ok(received) => self.received(received, now_ms),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            }
        }
    }

    fn received(&mut self, received: Received, now_ms: u64) {
        match received {
            Received::Opened { conn, peer, hello } => {
                let Some(ses) = peer.ses else { return };
                self.stats.opened += 1;
                if self.recorded.insert(ses) {
                    self.recorded_order.push_back(ses);
                    while self.recorded_order.len() > RECORDED_REMEMBERED {
                        if let Some(old) = self.recorded_order.pop_front() {
                            self.recorded.remove(&old);
                        }
                    }
                }
                let time_ms = hello.started_us / 1000;
                // A recorder that reconnects (after a restart) has said all this before.
                let resumed = hello.offsets.iter().any(|o| *o > 0);
                let pending: Vec<Pending> = if resumed {
                    Vec::new()
                } else {
                    opening(&hello)
                        .into_iter()
                        .map(|message| Pending::Record {
                            time_ms,
                            message: Box::new(message),
                        })
                        .collect()
                };
                tracing::info!(
                    pid = peer.pid,
                    uid = peer.uid,
                    ses,
                    resumed,
                    "recording started"
                );
                self.open.insert(
                    conn,
                    Recording {
                        peer,
                        ses,
                        mode: hello.mode,
                        pending_bytes: pending.iter().map(Pending::size).sum(),
                        pending,
                        opened_ms: now_ms,
                        closed: false,
                    },
                );
            }
            Received::Frame { conn, frame } => {
                let Some(recording) = self.open.get_mut(&conn) else {
                    return;
                };
                let Some(pending) = pending_of(frame, recording.mode) else {
                    return;
                };
                let size = pending.size();
                // Dropped bytes show as a gap when the next ones are filed.
                if recording.pending_bytes + size > PENDING_BYTES {
                    self.stats.records_dropped += 1;
                    return;
                }
                recording.pending_bytes += size;
                recording.pending.push(pending);
            }
            Received::Closed { conn, error } => {
                if let Some(recording) = self.open.get_mut(&conn) {
                    recording.closed = true;
                    if let Some(error) = error {
                        tracing::warn!(pid = recording.peer.pid, ses = recording.ses, %error, "recording ended early");
                    }
                }
            }
            Received::Refused { peer, reason } => {
                self.stats.refused += 1;
                tracing::warn!(pid = peer.pid, uid = peer.uid, gid = peer.gid, %reason, "recording refused");
                self.reports.push(SystemKind::RecordingRefused {
                    pid: peer.pid,
                    uid: peer.uid,
                    gid: peer.gid,
                    session: peer.ses,
                    reason,
                });
            }
        }
    }

    /// With no session logs kept: drops what came (the refusals are still reported).
    pub fn discard(&mut self, now_ms: u64) {
        self.receive(now_ms);
        self.check_expected(now_ms);
        for recording in self.open.values_mut() {
            self.stats.records_dropped += recording.pending.len() as u64;
            recording.pending.clear();
        }
        self.open.retain(|_, r| !r.closed);
    }

    /// Writes what waits into the open logs; gives up what waited too long.
    fn file_pending(&mut self, recorder: &mut Recorder, now_ms: u64) {
        let mut finished = Vec::new();
        for (conn, recording) in &mut self.open {
            let audit_id = recording.ses.to_string();
            let mut filed = 0;
            let mut lost = false;
            for pending in &recording.pending {
                match file(recorder, &audit_id, pending, &mut self.reports) {
                    Ok(Filed::Written) => filed += 1,
                    Ok(Filed::NotOpen) => break,
                    // The log is sealed (or failed): nothing after this can be filed.
                    Ok(Filed::Sealed) | Err(_) => {
                        lost = true;
                        break;
                    }
                }
            }
            self.stats.records_filed += filed as u64;
            recording.pending.drain(..filed);
            if lost {
                self.stats.records_dropped += recording.pending.len() as u64;
                recording.pending.clear();
                recording.closed = true;
            }
            let expired = now_ms.saturating_sub(recording.opened_ms) > PENDING_FOR_MS
                && !recording.pending.is_empty()
                && recorder.recorded(&audit_id).is_none();
            if expired {
                self.stats.records_dropped += recording.pending.len() as u64;
                tracing::warn!(
                    ses = recording.ses,
                    dropped = recording.pending.len(),
                    "recording for a session without an open log: dropped"
                );
                recording.pending.clear();
                recording.closed = true;
            }
            recording.pending_bytes = recording.pending.iter().map(Pending::size).sum();
            if recording.closed && recording.pending.is_empty() {
                finished.push(*conn);
            }
        }
        for conn in finished {
            self.open.remove(&conn);
        }
    }
}

/// Files one pending item: a `Data` by its offset against what the log has (a gap
/// first if bytes are missing, the part the log already has left out).
fn file(
    recorder: &mut Recorder,
    audit_id: &str,
    pending: &Pending,
    reports: &mut Vec<SystemKind>,
) -> Result<Filed, RecorderError> {
    let Some(had) = recorder.recorded(audit_id) else {
        return Ok(if recorder.is_sealed(audit_id) {
            Filed::Sealed
        } else {
            Filed::NotOpen
        });
    };
    match pending {
        Pending::Record { time_ms, message } => {
            recorder.file_recorded(audit_id, *time_ms, message, None)
        }
        Pending::Data {
            time_ms,
            stream,
            offset,
            bytes,
        } => {
            let i = index(*stream);
            let end = offset + bytes.len() as u64;
            if end <= had[i] {
                return Ok(Filed::Written); // the log has these already
            }
            // Keyboard input is left out by policy (echo off, input not recorded): a jump
            // in its offsets is no gap, and its length is nobody's business.
            if *offset > had[i] && *stream != Stream::Stdin {
                gap(
                    recorder, audit_id, *time_ms, *stream, had[i], *offset, reports,
                )?;
            }
            let skip = had[i].saturating_sub(*offset) as usize;
            let io = Message::Io {
                channel: 0,
                stream: *stream,
                data: bytes[skip..].to_vec(),
            };
            recorder.file_recorded(audit_id, *time_ms, &io, Some((i, end)))
        }
        Pending::Exit {
            time_ms,
            status,
            totals,
            all_output_kept,
        } => {
            let stdout = index(Stream::Stdout);
            if *all_output_kept && totals[stdout].bytes > had[stdout] {
                let gap = Message::RecordingGap {
                    channel: 0,
                    stream: Stream::Stdout,
                    from: had[stdout],
                    to: totals[stdout].bytes,
                };
                recorder.file_recorded(
                    audit_id,
                    *time_ms,
                    &gap,
                    Some((stdout, totals[stdout].bytes)),
                )?;
            }
            for (i, total) in totals.iter().enumerate() {
                if total.bytes == 0 {
                    continue;
                }
                let message = Message::StreamTotal {
                    channel: 0,
                    stream: STREAMS[i],
                    bytes: total.bytes,
                    sha256: total.sha256.to_vec(),
                };
                recorder.file_recorded(audit_id, *time_ms, &message, None)?;
            }
            recorder.file_recorded(audit_id, *time_ms, &exit_message(*status), None)
        }
    }
}

/// A `recording_gap` record, and the `recording-gap` event that says so.
fn gap(
    recorder: &mut Recorder,
    audit_id: &str,
    time_ms: u64,
    stream: Stream,
    from: u64,
    to: u64,
    reports: &mut Vec<SystemKind>,
) -> Result<Filed, RecorderError> {
    let message = Message::RecordingGap {
        channel: 0,
        stream,
        from,
        to,
    };
    let filed = recorder.file_recorded(audit_id, time_ms, &message, Some((index(stream), to)))?;
    tracing::warn!(
        session = audit_id,
        ?stream,
        from,
        to,
        "bytes missing from a recording"
    );
    reports.push(SystemKind::RecordingGap {
        session: audit_id.to_string(),
        stream: match stream {
            Stream::Stdin => "stdin",
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        },
        from,
        to,
    });
    Ok(filed)
}
