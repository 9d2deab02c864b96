//! `<pid> <message>` lines: what audito-maldito's rsyslog configuration writes to its pipe.

use super::{chomp, FrameError, Framed};
use std::borrow::Cow;

/// Frames `<pid> <message>`. The format carries no time, host or program.
pub fn frame_fifo(line: &str) -> Result<Framed<'_>, FrameError> {
    let line = chomp(line);
    let (pid, message) = line.split_once(' ').ok_or(FrameError::Fifo)?;
    if pid.is_empty() || pid.len() > 10 || !pid.bytes().all(|c| c.is_ascii_digit()) {
        return Err(FrameError::Fifo);
    }
    let pid = pid.parse::<u32>().map_err(|_| FrameError::Fifo)?;
    // rsyslog's %msg% may keep the space that followed the tag.
    let message = message.strip_prefix(' ').unwrap_or(message);
    Ok(Framed {
        pid: Some(pid),
        message: Cow::Borrowed(message),
        ..Framed::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_and_message() {
        let f = frame_fifo("11411 Accepted password for bob from ::1 port 2 ssh2\n").unwrap();
        assert_eq!(f.pid, Some(11411));
        assert_eq!(f.message, "Accepted password for bob from ::1 port 2 ssh2");
        assert!(frame_fifo("x y").is_err());
        assert!(frame_fifo("99999999999 y").is_err());
        assert!(frame_fifo("123").is_err());
    }
}
