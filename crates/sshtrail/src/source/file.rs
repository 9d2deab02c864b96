//! Captured logs read whole, for `replay`: an audit log, or an sshd log in any of the
//! framings (journald JSON, syslog, fifo lines), from a file, standard input or memory.
//! They end; they are never idle, so merging them by time is deterministic.

use super::lines::LineBuffer;
use super::syslog_file::sshd_line_time;
use super::{
    audit_line_time, Batch, LineFormat, Notice, Payload, Pull, Side, Source, BATCH_ITEMS, MAX_LINE,
};
use crate::pipeline::framer as pipeline_framer;
use sshtrail_sshd::{Framer, TimeZone, Timestamp};
use std::io::Read;
use std::time::Duration;

/// What a captured file holds.
pub enum Contents {
    Audit,
    /// sshd lines in this format; `None`: told from the first line.
    Sshd(Option<LineFormat>),
}

pub struct FileSource {
    name: String,
    input: Box<dyn Read + Send>,
    contents: Contents,
    /// Reads the sshd lines' times (for merging).
    framer: Option<Framer>,
    tz: TimeZone,
    syslog_reference: Option<Timestamp>,
    lines: LineBuffer,
    ended: bool,
}

impl FileSource {
    /// `syslog_reference`: the instant RFC 3164 stamps (no year) are read relative to,
    /// as for the pipeline's own framing (see [`crate::pipeline::framer`]).
    pub fn new(
        name: String,
        input: Box<dyn Read + Send>,
        contents: Contents,
        tz: TimeZone,
        syslog_reference: Option<Timestamp>,
    ) -> FileSource {
        let framer = match contents {
            Contents::Sshd(Some(format)) => Some(pipeline_framer(format, &tz, syslog_reference)),
            _ => None,
        };
        FileSource {
            name,
            input,
            contents,
            framer,
            tz,
            syslog_reference,
            lines: LineBuffer::new(MAX_LINE),
            ended: false,
        }
    }

    /// The file's name, as given.
    pub fn file_name(&self) -> &str {
        &self.name
    }

    fn take_lines(&mut self, batch: &mut Batch) {
        let (contents, framer, tz, reference) = (
            &self.contents,
            &mut self.framer,
            &self.tz,
            self.syslog_reference,
        );
        batch.take_lines(&mut self.lines, |text, batch| match contents {
            Contents::Audit => {
                batch.push_line(text, Payload::AuditLine, audit_line_time(text), None);
            }
            Contents::Sshd(_) => {
                if framer.is_none() {
                    let sample = String::from_utf8_lossy(text);
                    *framer =
                        LineFormat::detect(&sample).map(|f| pipeline_framer(f, tz, reference));
                }
                let Some(framer) = framer.as_ref() else {
                    return;
                };
                let format = framer.format();
                let payload = |range| Payload::SshdLine { format, range };
                batch.push_line(text, payload, sshd_line_time(framer, text), None);
            }
        });
    }
}

impl Source for FileSource {
    fn name(&self) -> &'static str {
        "file"
    }

    fn side(&self) -> Side {
        match self.contents {
            Contents::Audit => Side::Audit,
            Contents::Sshd(_) => Side::Sshd,
        }
    }

    fn rewindable(&self) -> bool {
        true
    }

    fn pull(&mut self, _timeout: Duration) -> Pull {
        let mut batch = Batch::new();
        loop {
            self.take_lines(&mut batch);
            if batch.items.len() >= BATCH_ITEMS {
                return Pull::Batch(batch);
            }
            if self.ended {
                // A last line without its newline is still a line of the file.
                if self.lines.pending() > 0 {
                    self.lines.push(b"\n");
                    self.take_lines(&mut batch);
                }
                return if batch.is_empty() {
                    Pull::End
                } else {
                    Pull::Batch(batch)
                };
            }
            const CHUNK: usize = 64 * 1024;
            let room = self.lines.spare(CHUNK);
            match self.input.read(room) {
                Ok(0) => {
                    self.lines.filled(CHUNK, 0);
                    self.ended = true;
                }
                Ok(n) => self.lines.filled(CHUNK, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    self.lines.filled(CHUNK, 0);
                }
                Err(e) => {
                    self.lines.filled(CHUNK, 0);
                    self.ended = true;
                    batch.push_notice(Notice::Failed(format!("{}: {e}", self.name)));
                }
            }
        }
    }
}
