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

    fn batch_wait(&self) -> Duration {
        // Rsyslog writes each line on its own.
        Duration::from_millis(20)
    }

    fn pull(&mut self, timeout: Duration) -> Pull {
        let mut batch = Batch::new();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn fifo(name: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("sshtrail-fifo-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        path
    }

    /// Pulls until `count` items came (or a few seconds passed).
    fn items(source: &mut FifoSource, count: usize) -> Vec<(Payload, Vec<u8>)> {
        let mut out = Vec::new();
        for _ in 0..50 {
            if let Pull::Batch(batch) = source.pull(Duration::from_millis(50)) {
                for item in &batch.items {
                    let bytes = match &item.payload {
                        Payload::SshdLine { range, .. } => batch.bytes_of(range).to_vec(),
                        _ => Vec::new(),
                    };
                    out.push((item.payload.clone(), bytes));
                }
            }
            if out.len() >= count {
                break;
            }
        }
        out
    }

    #[test]
    fn lines_are_bounded_writers_come_and_go_and_odd_bytes_are_passed_on() {
        let path = fifo("writers");
        let mut source = FifoSource::new(path.clone());
        // No writer yet: idle, not ended, not blocked.
        assert!(matches!(source.pull(Duration::from_millis(20)), Pull::Idle));
        // More than a pipe holds: written from a thread of its own while the source reads.
        let writing = std::thread::spawn({
            let path = path.clone();
            move || {
                let mut writer = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .expect("writer");
                let long = vec![b'x'; MAX_LINE + 10];
                writer
                    .write_all(b"4242 Accepted password for bob\n")
                    .unwrap();
                writer.write_all(&long).unwrap();
                writer.write_all(b"\n4243 caf\xe9 \xff\n").unwrap();
            }
        });
        let got = items(&mut source, 3);
        writing.join().expect("writer thread");
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].1, b"4242 Accepted password for bob");
        assert_eq!(
            got[1].0,
            Payload::Notice(Notice::TooLong {
                len: (MAX_LINE + 10) as u64
            })
        );
        // Not UTF-8: handed on as it is (the framer refuses and counts it), not a reopen.
        assert_eq!(got[2].1, b"4243 caf\xe9 \xff");
        // The writer went away: a new one is read on without anything lost.
        let mut again = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("writer");
        again
            .write_all(b"4244 Disconnected from user bob\n")
            .unwrap();
        let got = items(&mut source, 1);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, b"4244 Disconnected from user bob");
        let _ = std::fs::remove_file(&path);
    }
}
