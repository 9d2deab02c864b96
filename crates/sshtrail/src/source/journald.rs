//! Following sshd's journal entries through a supervised `journalctl`.
//!
//! Why a child process rather than a libsystemd binding or a pure-Rust journal reader:
//! `journalctl -o json --follow --after-cursor` is the journal's own stable interface,
//! present wherever journald is, needs no C library at build time, and reads every
//! journal file format journald has written (compressed, sealed, rotated) — a pure-Rust
//! reader would have to re-implement all of those and keep up with their changes. The
//! cursor it prints with every entry is the resume position; if `journalctl` exits it is
//! started again after the last cursor, so nothing is skipped or repeated.

use std::io::{self, BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

/// One running `journalctl --follow`.
pub struct JournalFollower {
    child: Child,
    lines: BufReader<ChildStdout>,
    last_cursor: Option<String>,
}

impl JournalFollower {
    /// Starts following the entries of `programs` (syslog identifiers) after `cursor`, or
    /// from now when there is none.
    pub fn spawn(cursor: Option<&str>, programs: &[String]) -> io::Result<JournalFollower> {
        let mut command = Command::new("journalctl");
        command.args(["-o", "json", "--follow", "--no-pager"]);
        match cursor {
            Some(cursor) => {
                command.arg(format!("--after-cursor={cursor}"));
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
        Ok(JournalFollower {
            child,
            lines: BufReader::with_capacity(1 << 16, stdout),
            last_cursor: cursor.map(str::to_string),
        })
    }

    /// The next entry as one JSON line; `None` when `journalctl` has exited.
    pub fn next_line(&mut self) -> io::Result<Option<String>> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.lines.read_line(&mut line)? == 0 {
                let _ = self.child.wait();
                return Ok(None);
            }
            if line.trim().is_empty() {
                continue;
            }
            if let Some(cursor) = cursor_of(&line) {
                self.last_cursor = Some(cursor.to_string());
            }
            return Ok(Some(line));
        }
    }

    /// The cursor of the last entry read (where a restarted follower continues).
    pub fn last_cursor(&self) -> Option<&str> {
        self.last_cursor.as_deref()
    }
}

impl Drop for JournalFollower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `__CURSOR` of a `journalctl -o json` line, found without parsing the whole entry.
pub fn cursor_of(line: &str) -> Option<&str> {
    const KEY: &str = "\"__CURSOR\":\"";
    let start = line.find(KEY)? + KEY.len();
    let len = line[start..].find('"')?;
    Some(&line[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_is_found_without_a_json_parse() {
        let line = r#"{"__CURSOR":"s=abc;i=1f","MESSAGE":"x"}"#;
        assert_eq!(cursor_of(line), Some("s=abc;i=1f"));
        assert_eq!(cursor_of("{}"), None);
        assert_eq!(cursor_of("{\"__CURSOR\":\"unterminated"), None);
    }
}
