//! Running the session's program between sshd and the recording.
//!
//! With a pty from sshd, the program gets a pty of the recorder's own: sshd's terminal goes
//! raw, keystrokes are copied in, output is copied out and recorded, window changes are
//! copied across. Without one, the program's stdin, stdout and stderr are pipes copied
//! byte for byte (scp, sftp, rsync and `ssh host cmd | …` see no difference). Either way
//! the recorder ends as the program ended: the same exit code, or the same signal.
//!
//! Signals: the recorder blocks the ones it relays and waits for them on a thread of its
//! own; the program starts with an empty signal mask and default dispositions.

use crate::link::Recording;
use crate::protocol::Stream;
use crate::pty;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Bytes one read takes at most.
const CHUNK: usize = 256 * 1024;

/// What the program's pipes are asked to hold (the kernel's default is 64 KiB): fewer,
/// larger reads and writes, so the relay adds fewer wake-ups to a bulk transfer.
const PIPE_SIZE: libc::c_int = 1 << 20;

/// Signals passed on to the program.
const RELAYED: [libc::c_int; 6] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// How long output still drains after the program exited (what a background job still
/// writes to the terminal).
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(200);

fn signal_set(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset adds valid signal numbers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in signals {
            libc::sigaddset(&mut set, *s);
        }
        set
    }
}

/// Blocks the relayed signals and SIGWINCH in the calling thread (and the threads it
/// starts afterwards): call first, before any thread exists.
pub fn block_signals() {
    let mut all = RELAYED.to_vec();
    all.push(libc::SIGWINCH);
    let set = signal_set(&all);
    // SAFETY: changes this thread's signal mask only.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
}

/// What runs: the program and its argv[0].
pub struct Program {
    pub path: String,
    pub arg0: String,
    pub args: Vec<String>,
}

fn command(program: &Program) -> Command {
    let mut cmd = Command::new(&program.path);
    cmd.arg0(&program.arg0).args(&program.args);
    cmd
}

/// The program's process starts as the user's, without the recorder's group, with no
/// blocked signals; in a pty it leads a session of its own with the pty as its
/// controlling terminal.
fn prepare(cmd: &mut Command, controlling_tty: bool) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let gid = libc::getgid();
            if libc::getegid() != gid && libc::setgid(gid) != 0 {
                return Err(io::Error::last_os_error());
            }
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            if controlling_tty {
                if libc::setsid() < 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

fn write_all_fd(fd: RawFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: writes from a live slice to a descriptor that outlives the call.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: reads into a live buffer of the given length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The recorder's exit status for a program that ended with `status`: its exit code, or
/// minus the signal.
pub fn status_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => -signal,
        (None, None) => 1,
    }
}

/// Ends the recorder as the program ended: the same code, or by the same signal (so
/// sshd reports `exit-signal` to the client, as it would have).
pub fn exit_like(status: i32) -> ! {
    if status < 0 {
        let signal = -status;
        // SAFETY: restores the default action and unblocks the signal, then raises it.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            let set = signal_set(&[signal]);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(signal);
        }
        std::process::exit(128 + signal);
    }
    std::process::exit(status)
}

/// Waits for the relayed signals and SIGWINCH: passes the first on to the program's
/// process group (`pid` leads one in a pty) or process, and calls `winch` for the other.
fn signal_thread(target: libc::pid_t, winch: impl Fn() + Send + 'static) {
    let mut all = RELAYED.to_vec();
    all.push(libc::SIGWINCH);
    let set = signal_set(&all);
    thread::spawn(move || loop {
        let mut signal: libc::c_int = 0;
        // SAFETY: waits for one of the blocked signals in `set`.
        if unsafe { libc::sigwait(&set, &mut signal) } != 0 {
            return;
        }
        if signal == libc::SIGWINCH {
            winch();
        } else {
            // SAFETY: sends a signal; a process that is gone makes it fail harmlessly.
            unsafe { libc::kill(target, signal) };
        }
    });
}

/// Copies `from` to `to` until `from` ends, telling `record` each chunk; returns when
/// either side fails.
fn copy(from: RawFd, to: RawFd, mut record: impl FnMut(&[u8])) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match read_fd(from, &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        record(&buf[..n]);
        if write_all_fd(to, &buf[..n]).is_err() {
            return;
        }
    }
}

/// Runs the program in a pty of the recorder's; returns its status code.
pub fn run_in_pty(
    program: &Program,
    recording: Arc<Recording>,
    record_input: bool,
) -> io::Result<i32> {
    let outer: RawFd = 0;
    let size = pty::window_size(outer);
    let (master, slave) = pty::open_pty(size)?;
    let mut cmd = command(program);
    let slave_file = File::from(slave);
    cmd.stdin(Stdio::from(slave_file.try_clone()?))
        .stdout(Stdio::from(slave_file.try_clone()?))
        .stderr(Stdio::from(slave_file));
    prepare(&mut cmd, true);
    let raw = pty::RawMode::enter(outer).ok();
    let mut child = cmd.spawn()?;
    // The parent's copies of the slave go now: the master reads EIO once the program's
    // side is closed, and not before.
    drop(cmd);
    let master = Arc::new(master);
    let pid = child.id() as libc::pid_t;

    {
        let master = Arc::clone(&master);
        let recording = Arc::clone(&recording);
        signal_thread(-pid, move || {
            if let Some(ws) = pty::window_size(outer) {
                let _ = pty::set_window_size(master.as_raw_fd(), &ws);
                recording.resize(ws.ws_col, ws.ws_row);
            }
        });
    }
    // The end of what the program last wrote: whether it asks for a password.
    let last_line = Arc::new(Mutex::new(Vec::<u8>::new()));
    {
        let master = Arc::clone(&master);
        let recording = Arc::clone(&recording);
        let last_line = Arc::clone(&last_line);
        thread::spawn(move || {
            let fd = master.as_raw_fd();
            let mut secret = false;
            copy(outer, fd, |bytes| {
                if !record_input {
                    recording.data(Stream::Stdin, bytes, false);
                    return;
                }
                // A secret lasts until Enter; the prompt is looked at afresh after it.
                secret =
                    secret || pty::reading_secret(fd) || pty::asks_for_secret(&lock(&last_line));
                recording.data(Stream::Stdin, bytes, !secret);
                if bytes.iter().any(|b| *b == b'\r' || *b == b'\n') {
                    secret = false;
                    lock(&last_line).clear();
                }
            });
        });
    }
    let output = {
        let master = Arc::clone(&master);
        let recording = Arc::clone(&recording);
        thread::spawn(move || {
            copy(master.as_raw_fd(), 1, |bytes| {
                remember_last_line(&mut lock(&last_line), bytes);
                recording.data(Stream::Stdout, bytes, true)
            })
        })
    };
    let status = status_code(wait(&mut child)?);
    // The master reads EIO once no process holds the slave; one that still does (a
    // background job) gets a moment, then the session ends as sshd would end it.
    let done = Arc::new(AtomicI32::new(0));
    let flag = Arc::clone(&done);
    let waiter = thread::spawn(move || {
        let _ = output.join();
        flag.store(1, Ordering::SeqCst);
    });
    let mut waited = Duration::ZERO;
    while done.load(Ordering::SeqCst) == 0 && waited < DRAIN_AFTER_EXIT {
        thread::sleep(Duration::from_millis(10));
        waited += Duration::from_millis(10);
    }
    if done.load(Ordering::SeqCst) == 1 {
        let _ = waiter.join();
    }
    drop(raw);
    recording.finish(status);
    Ok(status)
}

/// Longest tail of the output kept for [`pty::asks_for_secret`].
const LAST_LINE: usize = 256;

fn remember_last_line(line: &mut Vec<u8>, bytes: &[u8]) {
    match bytes.iter().rposition(|b| *b == b'\n') {
        Some(at) => {
            line.clear();
            line.extend_from_slice(&bytes[at + 1..]);
        }
        None => line.extend_from_slice(bytes),
    }
    if line.len() > LAST_LINE {
        line.drain(..line.len() - LAST_LINE);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn wait(child: &mut Child) -> io::Result<ExitStatus> {
    loop {
        match child.wait() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Runs the program with plain pipes; returns its status code.
pub fn run_with_pipes(program: &Program, recording: Arc<Recording>) -> io::Result<i32> {
    let mut cmd = command(program);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    prepare(&mut cmd, false);
    let mut child = cmd.spawn()?;
    signal_thread(child.id() as libc::pid_t, || {});
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(io::Error::other("the program's pipes were not made"));
    };
    for fd in [stdin.as_raw_fd(), stdout.as_raw_fd(), stderr.as_raw_fd()] {
        // SAFETY: F_SETPIPE_SZ on a pipe we hold; a refusal (the per-user limit) leaves
        // the default size, which works too.
        unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_SIZE) };
    }
    {
        let recording = Arc::clone(&recording);
        // Dropping the pipe at the end of our stdin closes the program's: EOF passes on.
        thread::spawn(move || {
            let to = OwnedFd::from(stdin);
            copy(0, to.as_raw_fd(), |bytes| {
                recording.data(Stream::Stdin, bytes, true)
            });
        });
    }
    let relays: Vec<_> = [
        (OwnedFd::from(stdout), 1, Stream::Stdout),
        (OwnedFd::from(stderr), 2, Stream::Stderr),
    ]
    .into_iter()
    .map(|(from, to, stream)| {
        let recording = Arc::clone(&recording);
        thread::spawn(move || {
            copy(from.as_raw_fd(), to, |bytes| {
                recording.data(stream, bytes, true)
            })
        })
    })
    .collect();
    let status = status_code(wait(&mut child)?);
    for relay in relays {
        let _ = relay.join();
    }
    recording.finish(status);
    Ok(status)
}
