//! sshd's lines from a named pipe, `<pid> <message>` each, as audito-maldito's rsyslog
//! set-up writes them.
//!
//! The pipe is opened without blocking, and also once for writing, by the reader itself:
//! with a writer always present a pipe never reads as ended, so rsyslog can come and go
//! (restart, reload) without the reader reopening anything. The format carries no time:
//! each line takes the time it was read.

use super::lines::{read_ready, LineBuffer, Read};
use super::{wall_ms, Batch, LineFormat, Notice, Payload, Pull, Side, Source, MAX_LINE};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::Duration;

pub struct FifoSource {
    path: PathBuf,
    open: Option<(File, File)>,
    lines: LineBuffer,
}

impl FifoSource {
    pub fn new(path: PathBuf) -> FifoSource {
        FifoSource {
            path,
            open: None,
            lines: LineBuffer::new(MAX_LINE),
        }
    }

    fn open(&mut self) -> io::Result<&mut File> {
        if self.open.is_none() {
            let reader = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&self.path)?;
            let keep_open = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&self.path)?;
            self.open = Some((reader, keep_open));
        }
        match self.open.as_mut() {
            Some((reader, _)) => Ok(reader),
            None => Err(io::Error::other("fifo not open")),
        }
    }

    fn take_lines(&mut self, batch: &mut Batch) {
        let now = Some(wall_ms());
        let payload = |range| Payload::SshdLine {
            format: LineFormat::Fifo,
            range,
        };
        batch.take_lines(&mut self.lines, |text, batch| {
            batch.push_line(text, payload, now, None);
        });
    }
}

impl Source for FifoSource {
    fn name(&self) -> &'static str {
        "fifo"
    }

    fn side(&self) -> Side {
        Side::Sshd
    }

    fn rewindable(&self) -> bool {
        false
    }

    fn pull(&mut self, timeout: Duration) -> Pull {
        let mut batch = Batch::default();
        self.take_lines(&mut batch);
        if !batch.is_empty() {
            return Pull::Batch(batch);
        }
        let result = match self.open() {
            Ok(_) => {
                let Some((reader, _)) = self.open.as_mut() else {
                    return Pull::Idle;
                };
                read_ready(reader, &mut self.lines, timeout)
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(Read::Data) => {
                self.take_lines(&mut batch);
            }
            Ok(Read::Nothing) => {}
            Ok(Read::End) => {
                // Cannot happen while we hold a writer; reopen if it does.
                self.open = None;
            }
            Err(e) => {
                self.open = None;
                batch.push_notice(Notice::Failed(format!("{}: {e}", self.path.display())));
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        if batch.is_empty() {
            Pull::Idle
        } else {
            Pull::Batch(batch)
        }
    }
}
