//! The recording socket: accepts recorders, learns from the kernel who each one is, and
//! hands what they send to the pipeline thread.
//!
//! Who a peer is comes from the kernel, never from the peer: `SO_PEERCRED` gives its pid,
//! uid and effective gid as of `connect`, `/proc/<pid>/sessionid` and `loginuid` its
//! audit session. Only peers whose effective group is the recorder's group (the setgid
//! `sshtrail-record` binary) or root are heard; the rest are refused and reported.

use sshtrail_record::protocol::{Ack, Frame, FrameError, Hello, VERSION};
use std::ffi::CString;
use std::io::{self, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;

/// Messages the connection threads may have queued for the pipeline: a pipeline busy
/// with a checkpoint makes them (and then the recorders' own queues) wait, not grow.
const QUEUE: usize = 1024;

/// Connections served at once: beyond, new ones are closed at once (a flood of them
/// costs the daemon a thread each otherwise).
const MAX_CONNECTIONS: u64 = 1024;

/// The kernel's "no audit session / no login uid" value.
const UNSET: u32 = u32::MAX;

/// Who is at the other end, as the kernel says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
    /// The audit session (`/proc/<pid>/sessionid`), if it has one.
    pub ses: Option<u32>,
    pub loginuid: Option<u32>,
}

/// What the socket hands to the pipeline.
#[derive(Debug)]
pub enum Received {
    /// A recorder was accepted and said hello.
    Opened {
        conn: u64,
        peer: Peer,
        hello: Box<Hello>,
    },
    Frame {
        conn: u64,
        frame: Frame,
    },
    /// The connection ended; `error` says why if it was not a clean end.
    Closed {
        conn: u64,
        error: Option<String>,
    },
    /// A peer that may not record: nothing it sent is kept.
    Refused {
        peer: Peer,
        reason: String,
    },
}

/// What the daemon's settings let recorders send.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The recorder's group; `None` when the host has no such group (then only root's
    /// recorders are heard).
    pub gid: Option<u32>,
    pub record_input: bool,
    pub max_bytes: u64,
}

/// A group's id by name.
pub fn group_id(name: &str) -> Option<u32> {
    let name = CString::new(name).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: a zeroed group is a valid out-parameter.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: getgrnam_r fills `grp` with pointers into `buf`; only the gid is read.
    let rc = unsafe {
        libc::getgrnam_r(
            name.as_ptr(),
            &mut grp,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        )
    };
    (rc == 0 && !found.is_null()).then_some(grp.gr_gid)
}

fn peer_cred(stream: &UnixStream) -> io::Result<(u32, u32, u32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: SO_PEERCRED writes one ucred of `len` bytes.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((cred.pid as u32, cred.uid, cred.gid))
}

fn proc_number(pid: u32, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{name}")).ok()?;
    text.trim().parse().ok().filter(|n| *n != UNSET)
}

/// The peer of `stream`, from the kernel.
pub fn identify(stream: &UnixStream) -> io::Result<Peer> {
    let (pid, uid, gid) = peer_cred(stream)?;
    Ok(Peer {
        pid,
        uid,
        gid,
        ses: proc_number(pid, "sessionid"),
        loginuid: proc_number(pid, "loginuid"),
    })
}

/// Why `peer` may not record, if it may not.
fn refusal(peer: &Peer, policy: &Policy) -> Option<String> {
    if peer.uid != 0 && Some(peer.gid) != policy.gid {
        return Some(format!(
            "effective group {} is not the recorder's group",
            peer.gid
        ));
    }
    if peer.ses.is_none() {
        return Some("the process is in no audit session".into());
    }
    None
}

/// Binds `path` (replacing a stale socket), mode 0666 in a directory of mode 0755 when the
/// daemon creates it: anyone may connect, so that an attempt by anyone but the recorder is
/// seen, refused and reported rather than stopped unseen by the file's mode.
fn bind(path: &Path) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            std::fs::create_dir_all(dir)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()) => {
            std::fs::remove_file(path)?
        }
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ))
        }
        Err(_) => {}
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    Ok(listener)
}

/// Starts listening on `path`; what recorders send arrives on the receiver.
pub fn listen(path: &Path, policy: Policy) -> io::Result<Receiver<Received>> {
    let listener = bind(path)?;
    let (tx, rx) = mpsc::sync_channel(QUEUE);
    let policy = Arc::new(policy);
    let next = Arc::new(AtomicU64::new(1));
    let serving = Arc::new(AtomicU64::new(0));
    std::thread::Builder::new()
        .name("record-socket".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if serving.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                    tracing::warn!("too many recordings at once: one refused");
                    continue;
                }
                let (tx, policy) = (tx.clone(), Arc::clone(&policy));
                let conn = next.fetch_add(1, Ordering::Relaxed);
                let done = Arc::clone(&serving);
                serving.fetch_add(1, Ordering::Relaxed);
                let spawned =
                    std::thread::Builder::new()
                        .name("recording".into())
                        .spawn(move || {
                            serve(conn, stream, &policy, &tx);
                            done.fetch_sub(1, Ordering::Relaxed);
                        });
                if let Err(e) = spawned {
                    serving.fetch_sub(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, "cannot serve a recorder");
                }
            }
        })?;
    Ok(rx)
}

fn serve(conn: u64, stream: UnixStream, policy: &Policy, tx: &SyncSender<Received>) {
    let peer = match identify(&stream) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "recording peer unknown: closed");
            return;
        }
    };
    if let Some(reason) = refusal(&peer, policy) {
        let _ = tx.send(Received::Refused { peer, reason });
        return;
    }
    let mut reader = BufReader::with_capacity(64 * 1024, &stream);
    let hello = match Frame::read_from(&mut reader) {
        Ok(Some(Frame::Hello(hello))) if hello.version == VERSION => hello,
        Ok(Some(Frame::Hello(hello))) => {
            let reason = format!("recorder speaks version {}", hello.version);
            let _ = tx.send(Received::Refused { peer, reason });
            return;
        }
        other => {
            let reason = match other {
                Err(e) => e.to_string(),
                _ => "the recorder did not begin with hello".into(),
            };
            let _ = tx.send(Received::Refused { peer, reason });
            return;
        }
    };
    let ack = Ack {
        record_input: policy.record_input,
        max_bytes: policy.max_bytes,
        session: peer.ses.map(|s| s.to_string()),
    };
    if let Err(e) = ack_to(&stream, &ack) {
        let _ = tx.send(Received::Closed {
            conn,
            error: Some(e.to_string()),
        });
        return;
    }
    if tx
        .send(Received::Opened {
            conn,
            peer,
            hello: Box::new(hello),
        })
        .is_err()
    {
        return;
    }
    let error = loop {
        match Frame::read_from(&mut reader) {
            Ok(Some(frame @ (Frame::Hello(_) | Frame::Ack(_)))) => {
                break Some(format!("unexpected {frame:?}"))
            }
            Ok(Some(frame)) => {
                let last = matches!(frame, Frame::Exit { .. });
                if tx.send(Received::Frame { conn, frame }).is_err() {
                    return;
                }
                if last {
                    break None;
                }
            }
            Ok(None) => break Some("the recorder went away before the program ended".into()),
            Err(FrameError::Io(e)) => break Some(e.to_string()),
            Err(e) => break Some(e.to_string()),
        }
    };
    let _ = tx.send(Received::Closed { conn, error });
}

fn ack_to(mut stream: &UnixStream, ack: &Ack) -> io::Result<()> {
    Frame::Ack(ack.clone()).write_to(&mut stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(gid: Option<u32>) -> Policy {
        Policy {
            gid,
            record_input: false,
            max_bytes: 1 << 20,
        }
    }

    #[test]
    fn the_kernel_names_the_peer() {
        let (a, _b) = UnixStream::pair().expect("pair");
        let peer = identify(&a).expect("identify");
        assert_eq!(peer.pid, std::process::id());
        // SAFETY: getuid/getegid have no preconditions.
        assert_eq!(peer.uid, unsafe { libc::getuid() });
        assert_eq!(peer.gid, unsafe { libc::getegid() });
        assert_eq!(peer.ses, proc_number(std::process::id(), "sessionid"));
    }

    #[test]
    fn only_the_recorder_group_or_root_in_a_session_may_record() {
        let user = |gid, ses| Peer {
            pid: 1,
            uid: 1000,
            gid,
            ses,
            loginuid: Some(1000),
        };
        assert!(refusal(&user(5000, Some(3)), &policy(Some(5000))).is_none());
        assert!(refusal(&user(1000, Some(3)), &policy(Some(5000))).is_some());
        assert!(refusal(&user(5000, Some(3)), &policy(None)).is_some());
        assert!(refusal(&user(5000, None), &policy(Some(5000))).is_some());
        let root = Peer {
            uid: 0,
            gid: 0,
            ..user(0, Some(3))
        };
        assert!(refusal(&root, &policy(Some(5000))).is_none());
    }
}
