//! The recorder's side of the recording socket: one connection to the daemon, frames
//! handed over through a bounded queue so that a slow or absent daemon never slows the
//! session, and a new connection when the daemon comes back.

use crate::protocol::{Ack, Frame, FrameError, Hello, Stream, Total};
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Frames the queue holds (each up to 64 KiB of output: a few MiB in all).
const QUEUE_FRAMES: usize = 64;

/// How long the recorder waits for the daemon's answer to its `Hello`.
const ACK_WAIT: Duration = Duration::from_secs(2);

/// How often a lost daemon is looked for again.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// How long the end of a session waits for the queue to reach the daemon.
const FLUSH_WAIT: Duration = Duration::from_secs(3);

pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Connects and says hello; the daemon's answer, or why not.
pub fn connect(path: &Path, hello: &Hello) -> Result<(UnixStream, Ack), FrameError> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(ACK_WAIT))?;
    Frame::Hello(hello.clone()).write_to(&mut stream)?;
    match Frame::read_from(&mut stream)? {
        Some(Frame::Ack(ack)) => {
            stream.set_read_timeout(None)?;
            Ok((stream, ack))
        }
        Some(other) => Err(FrameError::Malformed(format!(
            "the daemon answered {other:?}"
        ))),
        None => Err(FrameError::Io(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "the daemon refused the recording",
        ))),
    }
}

#[derive(Default)]
struct Streams {
    bytes: [u64; 3],
    hashers: [Sha256; 3],
}

/// What the relay threads report to: counts and hashes every byte, and sends what the
/// policy allows.
pub struct Recording {
    streams: Mutex<Streams>,
    queue: Option<SyncSender<Frame>>,
    sender: Mutex<Option<JoinHandle<()>>>,
    /// Content bytes per stream sent at most (`u64::MAX`: all).
    content_limit: [u64; 3],
}

impl Recording {
    /// A recording that goes nowhere (the daemon is away and the policy allows that):
    /// the session runs exactly as it would without the recorder.
    pub fn unrecorded() -> Recording {
        Recording {
            streams: Mutex::new(Streams::default()),
            queue: None,
            sender: Mutex::new(None),
            content_limit: [0; 3],
        }
    }

    /// Starts sending over `stream` (connected, acknowledged); reconnects to `path` with
    /// `hello` if the daemon goes away. `content_limit` is per stream (stdin, stdout,
    /// stderr).
    pub fn start(
        stream: UnixStream,
        path: PathBuf,
        hello: Hello,
        content_limit: [u64; 3],
    ) -> Arc<Recording> {
        let (tx, rx) = mpsc::sync_channel(QUEUE_FRAMES);
        let recording = Arc::new(Recording {
            streams: Mutex::new(Streams::default()),
            queue: Some(tx),
            sender: Mutex::new(None),
            content_limit,
        });
        let weak = Arc::downgrade(&recording);
        let handle = std::thread::spawn(move || {
            send_loop(rx, Some(stream), &path, hello, move || {
                weak.upgrade().map(|r| lock(&r.streams).bytes)
            })
        });
        *lock(&recording.sender) = Some(handle);
        recording
    }

    fn offer(&self, frame: Frame) {
        if let Some(queue) = &self.queue {
            // A full queue drops the frame: the offsets show the gap.
            let _ = queue.try_send(frame);
        }
    }

    /// `bytes` passed on `stream`; `send` says whether their content may go to the daemon
    /// (for keyboard input: the policy allows it and echo is on).
    pub fn data(&self, stream: Stream, bytes: &[u8], send: bool) {
        let i = stream as usize;
        let offset = {
            let mut s = lock(&self.streams);
            s.hashers[i].update(bytes);
            let offset = s.bytes[i];
            s.bytes[i] += bytes.len() as u64;
            offset
        };
        let limit = self.content_limit[i];
        if !send || offset >= limit || self.queue.is_none() {
            return;
        }
        let room = (limit - offset).min(bytes.len() as u64) as usize;
        for frame in crate::protocol::data_frames(stream, offset, now_us(), &bytes[..room]) {
            self.offer(frame);
        }
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.offer(Frame::Resize {
            time_us: now_us(),
            cols,
            rows,
        });
    }

    /// The program ended with `status`: the totals go out, and the queue is given a few
    /// seconds to reach the daemon.
    pub fn finish(&self, status: i32) {
        let totals = {
            let s = lock(&self.streams);
            let mut totals = [Total {
                bytes: 0,
                sha256: [0; 32],
            }; 3];
            for (i, total) in totals.iter_mut().enumerate() {
                total.bytes = s.bytes[i];
                total.sha256 = s.hashers[i].clone().finalize().into();
            }
            totals
        };
        if let Some(queue) = &self.queue {
            let exit = Frame::Exit {
                time_us: now_us(),
                status,
                totals,
            };
            // The last frame waits for room rather than being dropped, and the sender
            // for the daemon to have it: the process exits right after this.
            let _ = queue.send_timeout_compat(exit, FLUSH_WAIT);
            if let Some(handle) = lock(&self.sender).take() {
                let _ = handle.join();
            }
        }
    }

    /// Totals so far (bytes per stream).
    pub fn bytes(&self) -> [u64; 3] {
        lock(&self.streams).bytes
    }
}

trait SendTimeout<T> {
    fn send_timeout_compat(&self, value: T, wait: Duration) -> Result<(), ()>;
}

impl<T> SendTimeout<T> for SyncSender<T> {
    /// `SyncSender` has no `send_timeout`: try until the deadline.
    fn send_timeout_compat(&self, mut value: T, wait: Duration) -> Result<(), ()> {
        let deadline = Instant::now() + wait;
        loop {
            match self.try_send(value) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(_)) => return Err(()),
                Err(TrySendError::Full(v)) if Instant::now() < deadline => {
                    value = v;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TrySendError::Full(_)) => return Err(()),
            }
        }
    }
}

fn send_loop(
    rx: Receiver<Frame>,
    mut stream: Option<UnixStream>,
    path: &Path,
    mut hello: Hello,
    offsets: impl Fn() -> Option<[u64; 3]>,
) {
    let mut last_try = Instant::now();
    loop {
        let frame = match rx.recv_timeout(RECONNECT_EVERY) {
            Ok(frame) => Some(frame),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if stream.is_none() && last_try.elapsed() >= RECONNECT_EVERY {
            last_try = Instant::now();
            let Some(now) = offsets() else { return };
            hello.offsets = now;
            stream = connect(path, &hello).ok().map(|(s, _)| s);
        }
        let Some(frame) = frame else { continue };
        let last = matches!(frame, Frame::Exit { .. });
        let Some(s) = stream.as_mut() else {
            if last {
                return;
            }
            continue;
        };
        if s.write_all(&frame.encode()).is_err() {
            stream = None;
            continue;
        }
        if last {
            // The daemon closes once it has the end; wait for that so nothing is cut.
            let _ = s.shutdown(std::net::Shutdown::Write);
            let _ = s.set_read_timeout(Some(FLUSH_WAIT));
            let _ = Frame::read_from(s);
            return;
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.queue = None;
        if let Some(handle) = lock(&self.sender).take() {
            let _ = handle.join();
        }
    }
}
