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
}

/// The program names OpenSSH logs under: `sshd`, and from OpenSSH 9.8 on `sshd-session`
/// and `sshd-auth` for the per-connection processes.
pub const SSHD_PROGRAMS: [&str; 3] = ["sshd", "sshd-session", "sshd-auth"];

impl Framed<'_> {
    /// True when the line comes from sshd (one of [`SSHD_PROGRAMS`], or a format that does
    /// not name the program, such as the fifo format, which only carries sshd's lines).
    pub fn is_sshd(&self) -> bool {
        self.is_from(&SSHD_PROGRAMS)
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
