//! sshd's lines from a syslog file (`/var/log/auth.log`, `/var/log/secure`) and its
//! rotations, followed by inode like auditd's log, each line with the position after it.

use super::audit_dir::AuditDirTailer;
use super::audit_file::{FileTail, FILE_BATCH_WAIT};
use super::{LineFormat, Payload, Pull, Side, Source};
use sshtrail_sshd::Framer;
use std::time::Duration;

pub struct SyslogFileSource {
    tail: FileTail,
    framer: Framer,
}

impl SyslogFileSource {
    /// `framer` reads the lines' times (its time zone applies to RFC 3164 stamps).
    pub fn new(tailer: AuditDirTailer, framer: Framer) -> SyslogFileSource {
        SyslogFileSource {
            tail: FileTail::new(tailer),
            framer,
        }
    }
}

/// The time of an sshd line in `framer`'s format, in ms.
pub fn sshd_line_time(framer: &Framer, line: &[u8]) -> Option<u64> {
    let framed = framer.frame_bytes(line).ok()?;
    let t = framed.timestamp?;
    Some(u64::try_from(t.unix_seconds()).ok()? * 1000 + u64::from(t.subsec_micros() / 1000))
}

impl Source for SyslogFileSource {
    fn name(&self) -> &'static str {
        "syslog-file"
    }

    fn side(&self) -> Side {
        Side::Sshd
    }

    fn rewindable(&self) -> bool {
        true
    }

    fn pull(&mut self, timeout: Duration) -> Pull {
        let framer = &self.framer;
        self.tail.pull(timeout, |line, range| {
            let payload = Payload::SshdLine {
                format: LineFormat::Syslog,
                range,
            };
            (payload, sshd_line_time(framer, line))
        })
    }

    fn batch_wait(&self) -> Duration {
        FILE_BATCH_WAIT
    }
}
