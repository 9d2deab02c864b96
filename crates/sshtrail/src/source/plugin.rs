//! Records on standard input, as auditd's plugin framework (`plugins.d`, `format =
//! string`) writes them: one record per line.
//!
//! auditd deactivates a plugin by closing its end of the pipe (and sending SIGTERM): the
//! end of input is [`Pull::End`], which stops the daemon, checkpoint written. A stream
//! cannot be read again: what the daemon missed while down is backfilled from auditd's
//! own log at the next start.

use super::lines::{read_ready, LineBuffer, Read};
use super::{audit_line_time, Batch, Notice, Payload, Pull, Side, Source, MAX_LINE};
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

pub struct PluginSource {
    input: File,
    lines: LineBuffer,
    ended: bool,
}

impl PluginSource {
    /// Reads this process's standard input (through its own descriptor: no buffering
    /// that a wait for input could not see).
    pub fn stdin() -> io::Result<PluginSource> {
        let fd = io::stdin().as_fd().try_clone_to_owned()?;
        Ok(PluginSource::new(File::from(fd)))
    }

    pub fn new(input: File) -> PluginSource {
        PluginSource {
            input,
            lines: LineBuffer::new(MAX_LINE),
            ended: false,
        }
    }
}

/// The complete lines buffered, as audit line items (up to a batch).
pub(super) fn audit_lines(lines: &mut LineBuffer, batch: &mut Batch) {
    batch.take_lines(lines, |text, batch| {
        batch.push_line(text, Payload::AuditLine, audit_line_time(text), None);
    });
}

impl Source for PluginSource {
    fn name(&self) -> &'static str {
        "plugin"
    }

    fn side(&self) -> Side {
        Side::Audit
    }

    fn rewindable(&self) -> bool {
        false
    }

    fn batch_wait(&self) -> Duration {
        // auditd writes each record on its own. Not longer: while we wait, its socket
        // fills (a few hundred records) and then its dispatcher's queue (q_depth); at
        // 50 ms auditd dropped about 1% of the records ("queue to plugins is full") at
        // ~1,500 execs/s here, at 20 ms none.
        Duration::from_millis(20)
    }

    fn pull(&mut self, timeout: Duration) -> Pull {
        let mut batch = Batch::new();
        audit_lines(&mut self.lines, &mut batch);
        if !batch.is_empty() {
            return Pull::Batch(batch);
        }
        if self.ended {
            return Pull::End;
        }
        match read_ready(&mut self.input, &mut self.lines, timeout) {
            Ok(Read::Data) => {
                audit_lines(&mut self.lines, &mut batch);
                if batch.is_empty() {
                    Pull::Idle
                } else {
                    Pull::Batch(batch)
                }
            }
            Ok(Read::Nothing) => Pull::Idle,
            Ok(Read::End) => {
                self.ended = true;
                Pull::End
            }
            Err(e) => {
                self.ended = true;
                batch.push_notice(Notice::Failed(format!("plugin stdin: {e}")));
                Pull::Batch(batch)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn records_come_with_their_times_and_the_pipe_closing_ends_the_source() {
        let (reader, mut writer) = std::io::pipe().expect("pipe");
        let mut source = PluginSource::new(File::from(std::os::fd::OwnedFd::from(reader)));
        assert!(matches!(source.pull(Duration::from_millis(10)), Pull::Idle));
        writer
            .write_all(b"type=USER_END msg=audit(1795431100.841:42): pid=1 uid=0\ntype=EO")
            .unwrap();
        let Pull::Batch(batch) = source.pull(Duration::from_millis(100)) else {
            panic!("a batch");
        };
        assert_eq!(batch.items.len(), 1, "only the complete line");
        assert_eq!(batch.items[0].time_ms, Some(1_795_431_100_841));
        writer
            .write_all(b"E msg=audit(1795431100.841:42): \n")
            .unwrap();
        drop(writer);
        let Pull::Batch(batch) = source.pull(Duration::from_millis(100)) else {
            panic!("the rest");
        };
        assert_eq!(batch.items.len(), 1);
        assert!(matches!(source.pull(Duration::from_millis(100)), Pull::End));
        assert!(matches!(source.pull(Duration::from_millis(10)), Pull::End));
    }
}
