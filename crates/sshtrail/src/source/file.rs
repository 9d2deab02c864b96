//! Captured logs read whole, for `replay`: an audit log, or an sshd log in any of the
//! framings (journald JSON, syslog, fifo lines), from a file, standard input or memory.
//! They end; they are never idle, so merging them by time is deterministic.

use super::lines::{Line, LineBuffer};
use super::syslog_file::sshd_line_time;
use super::{
    audit_line_time, Batch, Item, LineFormat, Notice, Payload, Pull, Side, Source, BATCH_ITEMS,
    MAX_LINE,
};
use crate::pipeline::framer;
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
            Contents::Sshd(Some(format)) => Some(framer(format, &tz, syslog_reference)),
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
        while batch.items.len() < BATCH_ITEMS {
            let Some((line, _)) = self.lines.next_line() else {
                return;
            };
            let text = match line {
                Line::Text(text) => text,
                Line::TooLong { len } => {
                    batch.push_notice(Notice::TooLong { len });
                    continue;
                }
            };
            let (payload, time_ms) = match self.contents {
                Contents::Audit => {
                    let time_ms = audit_line_time(text);
                    (Payload::AuditLine(batch.push_bytes(text)), time_ms)
                }
                Contents::Sshd(_) => {
                    if self.framer.is_none() {
                        let sample = String::from_utf8_lossy(text);
                        self.framer = LineFormat::detect(&sample)
                            .map(|f| framer(f, &self.tz, self.syslog_reference));
                    }
                    let Some(framer) = &self.framer else {
                        continue;
                    };
                    let time_ms = sshd_line_time(framer, text);
                    let payload = Payload::SshdLine {
                        format: framer.format(),
                        range: batch.push_bytes(text),
                    };
                    (payload, time_ms)
                }
            };
            batch.items.push(Item {
                payload,
                time_ms,
                end: None,
            });
        }
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
        let mut batch = Batch::default();
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
