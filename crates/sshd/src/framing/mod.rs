//! Where sshd's lines come from: journald JSON, syslog files and rsyslog pipes.
//!
//! Each framer turns one line of its format into a [`Framed`] line: when, which host and
//! process, and the sshd message itself, plus the journal's cursor, boot id and machine id
//! when the source has them. Framers never panic; a line they cannot read is a
//! [`FrameError`].

mod fifo;
mod journal;
mod syslog;

pub use fifo::frame_fifo;
pub use journal::frame_journal_json;
pub use syslog::SyslogFramer;

use crate::time::Timestamp;
use crate::tz::TimeZone;
use std::borrow::Cow;

/// One log line, framed: who logged what and when.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Framed<'a> {
    /// When the line was logged (UTC), if the format says.
    pub timestamp: Option<Timestamp>,
    /// The time stamp names a whole second only (RFC 3164 `Nov 23 10:59:25`, or an
    /// RFC 3339 stamp without a fraction): the line was logged somewhere within that
    /// second, not at its start.
    pub whole_seconds: bool,
    /// Host name, if the format says.
    pub host: Option<Cow<'a, str>>,
    /// Process id of the logging process (journald: the kernel-verified `_PID`).
    pub pid: Option<u32>,
    /// Program name (`sshd`, `sshd-session`), if the format says.
    pub program: Option<Cow<'a, str>>,
    /// The message text sshd wrote.
    pub message: Cow<'a, str>,
    /// journald `__CURSOR`: where to resume reading.
    pub cursor: Option<Cow<'a, str>>,
    /// journald `_BOOT_ID`.
    pub boot_id: Option<Cow<'a, str>>,
    /// journald `_MACHINE_ID`.
    pub machine_id: Option<Cow<'a, str>>,
    /// journald `_AUDIT_SESSION`: the kernel audit session (`ses`) of the process that
    /// logged, stamped by journald itself, so the line joins its session without going
    /// through sshd's `Accepted` line. `None` when absent or unset (`4294967295`).
    pub audit_session: Option<u32>,
    /// journald `_AUDIT_LOGINUID`: the login uid (`auid`) of the process that logged.
    /// `None` when absent or unset (`4294967295`).
    pub audit_loginuid: Option<u32>,
}

/// The program names OpenSSH logs under: `sshd`, and from OpenSSH 9.8 on `sshd-session`
/// and `sshd-auth` for the per-connection processes.
pub const SSHD_PROGRAMS: [&str; 3] = ["sshd", "sshd-session", "sshd-auth"];

/// The program names OpenSSH's SFTP server logs under: `sftp-server`, the program sshd
/// executes for `Subsystem sftp /usr/lib/openssh/sftp-server` (its own process, syslog
/// identifier `sftp-server`), and `internal-sftp`, the same server run inside sshd's
/// session process (`Subsystem sftp internal-sftp`), which keeps `_COMM=sshd` but logs
/// under the identifier `internal-sftp`. Its lines are read with [`crate::sftp`].
pub const SFTP_PROGRAMS: [&str; 2] = ["sftp-server", "internal-sftp"];

impl Framed<'_> {
    /// True when the line comes from sshd (one of [`SSHD_PROGRAMS`], or a format that does
    /// not name the program, such as the fifo format, which only carries sshd's lines).
    pub fn is_sshd(&self) -> bool {
        self.is_from(&SSHD_PROGRAMS)
    }

    /// True when the line comes from OpenSSH's SFTP server (one of [`SFTP_PROGRAMS`]).
    /// Unlike [`Framed::is_sshd`], a format that does not name the program does not count:
    /// the fifo format carries sshd's lines only, and an sshd line read as SFTP would at
    /// best be noise.
    pub fn is_sftp(&self) -> bool {
        self.program
            .as_deref()
            .is_some_and(|p| SFTP_PROGRAMS.contains(&p))
    }

    /// [`Framed::is_sshd`] for a host whose sshd logs under other names as well.
    pub fn is_from<S: AsRef<str>>(&self, programs: &[S]) -> bool {
        match self.program.as_deref() {
            None => true,
            Some(p) => programs.iter().any(|name| name.as_ref() == p),
        }
    }

    /// Parses the message (see [`crate::parse`]).
    pub fn parse(&self) -> crate::Message<'_> {
        crate::parse(&self.message)
    }
}

/// Why a line could not be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The line is not valid JSON, or not a JSON object.
    #[error("not a journald JSON object: {0}")]
    Json(String),
    /// The journald entry has no MESSAGE.
    #[error("journald entry without MESSAGE")]
    NoMessage,
    /// The line does not start with a syslog header this framer knows.
    #[error("not a syslog line: {0}")]
    Syslog(&'static str),
    /// The line is not `<pid> <message>`.
    #[error("not a `<pid> <message>` line")]
    Fifo,
    /// The line is not UTF-8.
    #[error("line is not valid UTF-8")]
    NotUtf8,
}

/// A log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `journalctl -o json`
    JournalJson,
    /// RFC 3164, RFC 5424 or rsyslog's ISO 8601 file format (told apart per line).
    Syslog,
    /// `<pid> <message>` as rsyslog writes to a pipe for audito-maldito.
    Fifo,
}

impl Format {
    /// Guesses the format from a sample line; `None` for an empty line.
    pub fn detect(line: &str) -> Option<Format> {
        let t = line.trim_start();
        let b = t.as_bytes();
        match b.first()? {
            b'{' => Some(Format::JournalJson),
            b'<' => Some(Format::Syslog),
            c if c.is_ascii_digit() => {
                let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
                // `2026-11-23T…` is an ISO timestamp; `12345 msg` is a pid.
                if b.get(n) == Some(&b' ') {
                    Some(Format::Fifo)
                } else {
                    Some(Format::Syslog)
                }
            }
            _ => Some(Format::Syslog),
        }
    }

    /// Reads a name as used on the command line: `journal-json`, `syslog`, `fifo`.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "journal-json" | "journal" | "json" => Some(Format::JournalJson),
            "syslog" => Some(Format::Syslog),
            "fifo" => Some(Format::Fifo),
            _ => None,
        }
    }
}

/// Frames lines of one format; holds what the syslog format needs (time zone, the year of
/// reference for RFC 3164).
#[derive(Clone, Debug)]
pub struct Framer {
    format: Format,
    syslog: SyslogFramer,
}

impl Framer {
    /// A framer for `format`; `tz` applies to RFC 3164 lines, the reference year is now.
    pub fn new(format: Format, tz: TimeZone) -> Framer {
        Framer {
            format,
            syslog: SyslogFramer::new(tz),
        }
    }

    /// The format this framer reads.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Replaces the syslog framer (for a fixed reference time, for example).
    pub fn with_syslog(mut self, syslog: SyslogFramer) -> Framer {
        self.syslog = syslog;
        self
    }

    /// Frames one line (a trailing newline is ignored).
    pub fn frame<'a>(&self, line: &'a str) -> Result<Framed<'a>, FrameError> {
        match self.format {
            Format::JournalJson => frame_journal_json(line),
            Format::Syslog => self.syslog.frame(line),
            Format::Fifo => frame_fifo(line),
        }
    }

    /// Frames one line given as bytes. Journald JSON must be UTF-8; syslog and fifo lines
    /// with invalid UTF-8 are rejected too, since sshd only writes escaped text.
    pub fn frame_bytes<'a>(&self, line: &'a [u8]) -> Result<Framed<'a>, FrameError> {
        let s = std::str::from_utf8(line).map_err(|_| FrameError::NotUtf8)?;
        self.frame(s)
    }
}

/// Strips one trailing `\n` and `\r`.
pub(crate) fn chomp(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> String {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn sftp_programs() {
        // sftp-server (its own process) and internal-sftp (inside sshd, `_COMM=sshd`).
        let sftp = data("debian12-sftp-journal.json");
        let mut programs = std::collections::BTreeSet::new();
        for line in sftp.lines() {
            let f = frame_journal_json(line).unwrap();
            assert!(f.is_sftp() && !f.is_sshd(), "{line}");
            programs.insert(f.program.unwrap().into_owned());
        }
        assert_eq!(
            programs.into_iter().collect::<Vec<_>>(),
            ["internal-sftp", "sftp-server"]
        );
        let sshd = data("debian12-journal.json");
        assert!(sshd
            .lines()
            .all(|l| frame_journal_json(l).is_ok_and(|f| f.is_sshd() && !f.is_sftp())));
        let framer = SyslogFramer::new(TimeZone::Utc);
        let syslog = data("debian12-rfc3164.log");
        assert!(syslog
            .lines()
            .all(|l| framer.frame(l).is_ok_and(|f| f.is_sshd() && !f.is_sftp())));
        // The fifo format names no program: it counts as sshd (it only carries sshd's
        // lines), never as sftp.
        let fifo = data("debian12-fifo.log");
        assert!(fifo
            .lines()
            .all(|l| frame_fifo(l).is_ok_and(|f| f.is_sshd() && !f.is_sftp())));
        // Only journald knows the audit session.
        let f = framer.frame(syslog.lines().next().unwrap()).unwrap();
        assert_eq!((f.audit_session, f.audit_loginuid), (None, None));
        let f = frame_fifo(fifo.lines().next().unwrap()).unwrap();
        assert_eq!((f.audit_session, f.audit_loginuid), (None, None));
    }
}
