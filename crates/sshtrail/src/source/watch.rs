//! Waiting for a log file to change, without polling: inotify on its directory.
//!
//! A tailed log (`audit.log`, `auth.log`) gives no sign when it grows; reading it again
//! every few ms costs a wake-up each time even on a quiet host. Instead the tailer waits
//! on inotify for a change to any file of its family (`audit.log`, `audit.log.1`, …):
//! written to, created, renamed or removed, which also covers rotation. The directory
//! is watched, not the file, so a rotation that replaces the file needs no new watch.
//! When inotify is not to be had (its limits reached), the caller polls instead.

use super::poll;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// What in the directory counts as a change of the family.
const MASK: u32 = libc::IN_MODIFY
    | libc::IN_CREATE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_DELETE
    | libc::IN_CLOSE_WRITE;

/// Bytes before an event's name: wd, mask, cookie, len.
const EVENT_HEADER: usize = 16;

pub struct DirWatch {
    fd: OwnedFd,
    /// The family's name: events for names that start with it count.
    base: Vec<u8>,
    /// The watch is gone (the directory was removed or unmounted): callers poll.
    lost: bool,
}

impl DirWatch {
    /// Watches `dir` for changes to `base` and the names that begin with it.
    pub fn new(dir: &Path, base: &str) -> io::Result<DirWatch> {
        // SAFETY: no pointers; the result is checked before use.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor this function owns from here on.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let path = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a path"))?;
        // SAFETY: a valid descriptor and a NUL-terminated path that outlives the call.
        let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), MASK) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(DirWatch {
            fd,
            base: base.as_bytes().to_vec(),
            lost: false,
        })
    }

    /// Whether the watch still works; once it does not, the caller polls.
    pub fn is_lost(&self) -> bool {
        self.lost
    }

    /// Waits up to `timeout` for the family to change. True if it did (or may have: the
    /// kernel's queue overflowed), false at the timeout.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.drain()? {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !poll::readable(self.fd.as_fd(), left)? {
                return Ok(false);
            }
        }
    }

    /// Reads every queued event; true if one was about the family.
    fn drain(&mut self) -> io::Result<bool> {
        let mut changed = false;
        // Aligned for the kernel's struct inotify_event.
        let mut buf = [0u64; 512];
        loop {
            // SAFETY: `buf` is valid for writes of its size in bytes for the call.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    std::mem::size_of_val(&buf),
                )
            };
            if n < 0 {
                let error = io::Error::last_os_error();
                return match error.kind() {
                    io::ErrorKind::WouldBlock => Ok(changed),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(error),
                };
            }
            let n = n as usize;
            if n == 0 {
                return Ok(changed);
            }
            // SAFETY: the first `n` bytes were written by the read above.
            let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
            changed |= self.relevant(bytes);
        }
    }

    /// Whether any event in `bytes` (whole events, as read) concerns the family.
    fn relevant(&mut self, mut bytes: &[u8]) -> bool {
        let mut changed = false;
        while bytes.len() >= EVENT_HEADER {
            let word = |at: usize| {
                let mut b = [0u8; 4];
                b.copy_from_slice(&bytes[at..at + 4]);
                u32::from_ne_bytes(b)
            };
            let mask = word(4);
            let len = word(12) as usize;
            let Some(name) = bytes.get(EVENT_HEADER..EVENT_HEADER + len) else {
                break;
            };
            // The name is NUL-padded.
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            if mask & libc::IN_Q_OVERFLOW != 0 || name.starts_with(&self.base) {
                changed = true;
            }
            if mask & libc::IN_IGNORED != 0 {
                // The directory went away (or its file system): nothing more will come.
                self.lost = true;
                changed = true;
            }
            bytes = &bytes[EVENT_HEADER + len..];
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Write;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sshtrail-watch-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn wakes_for_its_family_not_for_its_neighbours() {
        let dir = temp_dir("family");
        fs::write(dir.join("audit.log"), b"").unwrap();
        let mut watch = DirWatch::new(&dir, "audit.log").unwrap();
        assert!(
            !watch.wait(Duration::from_millis(20)).unwrap(),
            "nothing yet"
        );
        fs::write(dir.join("kern.log"), b"other\n").unwrap();
        assert!(
            !watch.wait(Duration::from_millis(20)).unwrap(),
            "a neighbour"
        );
        let mut log = fs::OpenOptions::new()
            .append(true)
            .open(dir.join("audit.log"))
            .unwrap();
        log.write_all(b"line\n").unwrap();
        assert!(watch.wait(Duration::from_millis(500)).unwrap(), "a write");
        assert!(!watch.wait(Duration::from_millis(20)).unwrap(), "drained");
        fs::rename(dir.join("audit.log"), dir.join("audit.log.1")).unwrap();
        assert!(
            watch.wait(Duration::from_millis(500)).unwrap(),
            "a rotation"
        );
        let _ = watch.wait(Duration::ZERO);
        fs::write(dir.join("audit.log"), b"").unwrap();
        assert!(
            watch.wait(Duration::from_millis(500)).unwrap(),
            "the new file"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_removed_directory_is_a_lost_watch() {
        let dir = temp_dir("gone");
        let mut watch = DirWatch::new(&dir, "audit.log").unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert!(watch.wait(Duration::from_millis(500)).unwrap());
        assert!(watch.is_lost());
    }
}
