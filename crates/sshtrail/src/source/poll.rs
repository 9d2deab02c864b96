//! Waiting for a descriptor to have something to read, with a timeout: what lets a
//! stream source say it is idle (and notice a stop) instead of blocking in `read`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

/// Whether `fd` is readable (data, or the writer's end: a read will not block) within
/// `timeout`. An interrupted wait counts as not ready yet.
pub fn readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let mut pollfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, borrowed for the duration of the call; `fd` is open for
    // as long as the BorrowedFd lives.
    let n = unsafe { libc::poll(&mut pollfd, 1, ms) };
    if n < 0 {
        let error = io::Error::last_os_error();
        if error.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(error);
    }
    Ok(n > 0 && pollfd.revents != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;

    #[test]
    fn a_pipe_is_readable_once_written_and_at_its_end() {
        let (reader, mut writer) = std::io::pipe().expect("pipe");
        assert!(!readable(reader.as_fd(), Duration::from_millis(10)).unwrap());
        writer.write_all(b"x").unwrap();
        assert!(readable(reader.as_fd(), Duration::from_millis(10)).unwrap());
        drop(writer);
        assert!(readable(reader.as_fd(), Duration::from_millis(10)).unwrap());
    }
}
