//! sshd's journal entries, through a supervised `journalctl`.
//!
//! Why a child process rather than a libsystemd binding or a pure-Rust journal reader:
//! `journalctl -o json --follow --after-cursor` is the journal's own stable interface,
//! present wherever journald is, needs no C library at build time, and reads every
//! journal file format journald has written (compressed, sealed, rotated) — a pure-Rust
//! reader would have to re-implement all of those and keep up with their changes. The
//! cursor it prints with every entry is the resume position; if `journalctl` exits it is
//! started again after the last cursor, so nothing is skipped or repeated.
//!
//! Catching up is told apart from following: from a cursor, `journalctl` first reads the
//! backlog without `--follow` and exits at the journal's end; only then does a follower
//! start, and only a quiet follower counts as caught up (idle). A `journalctl` still
//! seeking through a large journal is silent too, but it is not caught up: waits for
//! sshd's side must not end by a grace while it is.
//!
//! A reader starts *at* its cursor (`--cursor`) and drops that entry itself, rather than
//! asking for what comes after it (`--after-cursor`): with a match on the identifier and a
//! cursor whose entry does not match (the journal's tail when the daemon first starts),
//! systemd 252's `--after-cursor` also skips the first entry that does
//! (systemd/systemd#30288).

use super::lines::{read_ready, LineBuffer, Read};
use super::{Batch, LineFormat, Notice, Payload, Position, Pull, Side, Source, MAX_LINE};
use std::io;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// One running `journalctl --follow`.
struct Follower {
    child: Child,
    stdout: ChildStdout,
}

impl Follower {
    /// Reads the entries of `programs` (syslog identifiers) from `cursor` (that entry
    /// included, if it is one of them), or from now when there is none; to the journal's
    /// end and exits (`follow` false), or on as they come.
    fn spawn(cursor: Option<&str>, programs: &[String], follow: bool) -> io::Result<Follower> {
        let mut command = Command::new("journalctl");
        command.args(["-o", "json", "--no-pager"]);
        if follow {
            command.arg("--follow");
        }
        match cursor {
            Some(cursor) => {
                command.arg(format!("--cursor={cursor}"));
            }
            None => {
                command.args(["-n", "0"]);
            }
        }
        for identifier in programs {
            command.arg(format!("SYSLOG_IDENTIFIER={identifier}"));
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("journalctl has no stdout"))?;
        Ok(Follower { child, stdout })
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct JournaldSource {
    programs: Vec<String>,
    /// The cursor of the last entry read: where a restarted `journalctl` continues.
    cursor: Option<String>,
    /// The entry a follower starts at, already read: not delivered again.
    skip: Option<String>,
    follower: Option<Follower>,
    lines: LineBuffer,
    /// After `journalctl` exited or failed to start: not before this again.
    retry_at: Option<Instant>,
    /// The reader is going through the backlog (not following yet).
    catching_up: bool,
    /// `journalctl` could not be started the last time.
    spawn_failed: bool,
}

impl JournaldSource {
    /// Follows `programs` after `cursor` (from now without one).
    pub fn new(cursor: Option<String>, programs: Vec<String>) -> JournaldSource {
        JournaldSource {
            programs,
            cursor,
            skip: None,
            follower: None,
            lines: LineBuffer::new(MAX_LINE),
            retry_at: None,
            catching_up: true,
            spawn_failed: false,
        }
    }

    fn take_lines(&mut self, batch: &mut Batch) {
        let (skip, last) = (&mut self.skip, &mut self.cursor);
        batch.take_lines(&mut self.lines, |text, batch| {
            if text.iter().all(u8::is_ascii_whitespace) {
                return;
            }
            let cursor = cursor_of(text).map(str::to_string);
            if cursor.is_some() && cursor == *skip {
                *skip = None;
                return;
            }
            if cursor.is_some() {
                last.clone_from(&cursor);
            }
            let payload = |range| Payload::SshdLine {
                format: LineFormat::JournalJson,
                range,
            };
            batch.push_line(
                text,
                payload,
                realtime_ms(text),
                cursor.map(Position::Cursor),
            );
        });
    }
}

impl Source for JournaldSource {
    fn name(&self) -> &'static str {
        "journald"
    }

    fn side(&self) -> Side {
        Side::Sshd
    }

    fn rewindable(&self) -> bool {
        true
    }

    fn pull(&mut self, timeout: Duration) -> Pull {
        let mut batch = Batch::new();
        self.take_lines(&mut batch);
        if !batch.is_empty() {
            return Pull::Batch(batch);
        }
        if self.follower.is_none() {
            if self.retry_at.is_some_and(|at| Instant::now() < at) {
                std::thread::sleep(timeout);
                // Between two readers the backlog is not read yet; but a journalctl that
                // cannot start at all must not hold the audit side's waits for ever.
                return if self.catching_up && !self.spawn_failed {
                    Pull::Pending
                } else {
                    Pull::Idle
                };
            }
            // From a cursor there may be a backlog: it is read to its end first.
            self.catching_up &= self.cursor.is_some();
            match Follower::spawn(self.cursor.as_deref(), &self.programs, !self.catching_up) {
                Ok(follower) => {
                    self.follower = Some(follower);
                    self.skip = self.cursor.clone();
                    self.spawn_failed = false;
                }
                Err(e) => {
                    self.spawn_failed = true;
                    self.retry_at = Some(Instant::now() + Duration::from_secs(5));
                    batch.push_notice(Notice::Failed(format!("journalctl: {e}")));
                    return Pull::Batch(batch);
                }
            }
        }
        let Some(follower) = self.follower.as_mut() else {
            return Pull::Idle;
        };
        match read_ready(&mut follower.stdout, &mut self.lines, timeout) {
            Ok(Read::Data) => self.take_lines(&mut batch),
            Ok(Read::Nothing) => {}
            Ok(Read::End) if self.catching_up => {
                // The backlog is read: follow from its last entry now, at once.
                self.take_lines(&mut batch);
                self.follower = None;
                self.lines.clear();
                self.retry_at = None;
                self.catching_up = false;
                if batch.is_empty() {
                    return Pull::Pending;
                }
            }
            Ok(Read::End) => {
                // journalctl exited (journald restarted, say): read on after a pause,
                // from the last cursor. A partial last line will never be completed.
                self.follower = None;
                self.lines.clear();
                self.retry_at = Some(Instant::now() + Duration::from_secs(1));
                self.catching_up = true;
            }
            Err(e) => {
                self.follower = None;
                self.lines.clear();
                self.retry_at = Some(Instant::now() + Duration::from_secs(1));
                self.catching_up = true;
                batch.push_notice(Notice::Failed(format!("journalctl: {e}")));
            }
        }
        match (batch.is_empty(), self.catching_up) {
            (false, _) => Pull::Batch(batch),
            (true, true) => Pull::Pending,
            (true, false) => Pull::Idle,
        }
    }
}

/// The cursor of the journal's last entry now (whatever wrote it): where a follower that
/// has no cursor of its own starts, so that nothing logged from here on is missed even
/// if the daemon stops before it has read anything. `None` for an empty journal.
pub fn tail_cursor() -> Option<String> {
    let out = Command::new("journalctl")
        .args(["--show-cursor", "-n", "0", "-o", "cat", "--no-pager"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("-- cursor: ").map(str::to_string))
}

/// `__CURSOR` of a `journalctl -o json` line, found without parsing the whole entry.
pub fn cursor_of(line: &[u8]) -> Option<&str> {
    json_string_value(line, b"\"__CURSOR\":\"")
}

/// `__REALTIME_TIMESTAMP` (µs) of a `journalctl -o json` line, in ms.
pub fn realtime_ms(line: &[u8]) -> Option<u64> {
    let text = json_string_value(line, b"\"__REALTIME_TIMESTAMP\":\"")?;
    text.parse::<u64>().ok().map(|us| us / 1000)
}

fn json_string_value<'a>(line: &'a [u8], key: &[u8]) -> Option<&'a str> {
    let start = memchr::memmem::find(line, key)? + key.len();
    let len = memchr::memchr(b'"', &line[start..])?;
    std::str::from_utf8(&line[start..start + len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_and_time_are_found_without_a_json_parse() {
        let line =
            br#"{"__CURSOR":"s=abc;i=1f","__REALTIME_TIMESTAMP":"1795431100841123","MESSAGE":"x"}"#;
        assert_eq!(cursor_of(line), Some("s=abc;i=1f"));
        assert_eq!(realtime_ms(line), Some(1_795_431_100_841));
        assert_eq!(cursor_of(b"{}"), None);
        assert_eq!(cursor_of(b"{\"__CURSOR\":\"unterminated"), None);
        assert_eq!(realtime_ms(br#"{"__REALTIME_TIMESTAMP":"soon"}"#), None);
    }
}
