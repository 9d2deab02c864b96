//! The few terminal calls the recorder needs, over `libc`: a new pty, raw mode on sshd's
//! terminal while the program runs in ours, window sizes, and whether echo is on.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A new pty pair: (master, slave), both close-on-exec (the program gets the slave by
/// `dup2`, which clears the flag on the copy).
pub fn open_pty(size: Option<libc::winsize>) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut master: RawFd = -1;
    let mut slave: RawFd = -1;
    let ws = size.unwrap_or(libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    });
    // SAFETY: openpty writes two descriptors into the out-parameters; name and termios
    // may be null, the winsize points at a live value.
    check(unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    })?;
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    for fd in [&master, &slave] {
        // SAFETY: fcntl on a descriptor we own.
        check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
    }
    Ok((master, slave))
}

/// Whether `fd` is a terminal.
pub fn is_tty(fd: RawFd) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// The window size of the terminal `fd`, if it is one.
pub fn window_size(fd: RawFd) -> Option<libc::winsize> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the pointer.
    let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0;
    ok.then_some(ws)
}

pub fn set_window_size(fd: RawFd, ws: &libc::winsize) -> io::Result<()> {
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer.
    check(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, ws) }).map(|_| ())
}

/// Whether the terminal behind `fd` (the pty master reports the pty's settings) is
/// reading a password: line by line (canonical) with echo off, as `getpass`, `sudo`,
/// `passwd` and `read -s` read. A line editor (readline, an editor) turns echo off too, but
/// reads key by key and echoes itself: that is typing to be seen.
pub fn reading_secret(fd: RawFd) -> bool {
    // SAFETY: a zeroed termios is a valid out-parameter for tcgetattr.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr writes into the termios.
    if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
        return true; // unknown: treated as secret, so not recorded
    }
    t.c_lflag & libc::ECHO == 0 && t.c_lflag & libc::ICANON != 0
}

/// Whether the last line a program wrote asks for a secret (`Password:`, `Enter
/// passphrase for key …:`, `Verification code:`): what is typed next, up to Enter, is not
/// recorded even if the program reads it key by key with echo on.
pub fn asks_for_secret(last_line: &[u8]) -> bool {
    const WORDS: [&str; 7] = [
        "password",
        "passphrase",
        "passcode",
        "secret",
        "token",
        "one-time",
        "verification code",
    ];
    let text = String::from_utf8_lossy(last_line).to_lowercase();
    let trimmed = text.trim_end();
    trimmed.ends_with(':') && WORDS.iter().any(|w| trimmed.contains(w))
}

/// sshd's terminal in raw mode while the program runs in the recorder's pty (which
/// does the line editing and echoing); the old settings come back on drop.
pub struct RawMode {
    fd: RawFd,
    saved: libc::termios,
}

impl RawMode {
    pub fn enter(fd: RawFd) -> io::Result<RawMode> {
        // SAFETY: as in echo_on.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: tcgetattr writes into `saved`.
        check(unsafe { libc::tcgetattr(fd, &mut saved) })?;
        let mut raw = saved;
        // SAFETY: cfmakeraw edits the copy in place.
        unsafe { libc::cfmakeraw(&mut raw) };
        // SAFETY: tcsetattr reads the termios.
        check(unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) })?;
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `enter`; failure (sshd gone) is moot.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_for_secrets_are_recognised() {
        for prompt in [
            "Password: ",
            "[sudo] password for alice: ",
            "Enter passphrase for key '/home/a/.ssh/id_ed25519': ",
            "Verification code:",
            "GitHub token:",
        ] {
            assert!(asks_for_secret(prompt.as_bytes()), "{prompt}");
        }
        for line in ["alice@host:~$ ", "password reset done.", "tokens: 5", ""] {
            assert!(!asks_for_secret(line.as_bytes()), "{line}");
        }
    }

    #[test]
    fn a_new_pty_echoes_and_a_password_read_does_not() {
        let (master, slave) = open_pty(None).expect("pty");
        assert!(!reading_secret(master.as_raw_fd()), "a new pty echoes");
        // SAFETY: a zeroed termios is a valid out-parameter; the slave is ours.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::tcgetattr(slave.as_raw_fd(), &mut t) }, 0);
        t.c_lflag &= !libc::ECHO;
        assert_eq!(
            unsafe { libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t) },
            0
        );
        assert!(reading_secret(master.as_raw_fd()), "getpass's settings");
        t.c_lflag &= !libc::ICANON;
        assert_eq!(
            unsafe { libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t) },
            0
        );
        assert!(
            !reading_secret(master.as_raw_fd()),
            "a line editor's settings"
        );
    }
}
