//! Where event lines go: a file, a named pipe, or standard output.
//!
//! Each sink takes whole lines and writes each with one `write_all` on an unbuffered
//! descriptor opened for appending, so two writers never interleave within a line.
//! [`Sink::sync`] returns once everything written so far is as durable as the sink can
//! make it (fsync for files); only then may a source commit its position.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Errors from sinks, naming the path involved.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> SinkError + '_ {
    move |source| SinkError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A destination for event lines.
pub trait Sink: Send {
    /// Writes one complete line (ending in `\n`).
    fn write_line(&mut self, line: &[u8]) -> Result<(), SinkError>;
    /// Makes everything written so far durable.
    fn sync(&mut self) -> Result<(), SinkError>;
    /// Reopens the destination (after logrotate moved it: SIGHUP).
    fn reopen(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    /// For a file: its inode and length now, for a checkpoint. Output that can be cut
    /// back to a checkpoint is written exactly once across a crash; other sinks (pipes,
    /// stdout) cannot take back what they wrote and are at least once.
    fn mark(&self) -> Option<(u64, u64)> {
        None
    }
}

/// Appends to a regular file created with mode 0640, with optional size rotation.
pub struct FileSink {
    path: PathBuf,
    file: File,
    size: u64,
    rotate: Option<Rotation>,
}

/// Size rotation: `events.json` → `events.json.1` → … → `events.json.<keep>`.
#[derive(Clone, Copy, Debug)]
pub struct Rotation {
    pub max_bytes: u64,
    pub keep: u32,
}

impl FileSink {
    pub fn open(path: &Path, rotate: Option<Rotation>) -> Result<FileSink, SinkError> {
        let file = open_append(path)?;
        let size = file.metadata().map_err(at(path))?.len();
        Ok(FileSink {
            path: path.to_path_buf(),
            file,
            size,
            rotate,
        })
    }

    fn rotate_now(&mut self, rotation: Rotation) -> Result<(), SinkError> {
        self.file.sync_all().map_err(at(&self.path))?;
        for n in (1..rotation.keep).rev() {
            let from = numbered(&self.path, n);
            if from.exists() {
                fs::rename(&from, numbered(&self.path, n + 1)).map_err(at(&from))?;
            }
        }
        if rotation.keep > 0 {
            fs::rename(&self.path, numbered(&self.path, 1)).map_err(at(&self.path))?;
        } else {
            fs::remove_file(&self.path).map_err(at(&self.path))?;
        }
        self.reopen()
    }
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn open_append(path: &Path) -> Result<File, SinkError> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
        .map_err(at(path))
}

impl Sink for FileSink {
    fn write_line(&mut self, line: &[u8]) -> Result<(), SinkError> {
        if let Some(rotation) = self.rotate {
            if self.size > 0 && self.size + line.len() as u64 > rotation.max_bytes {
                self.rotate_now(rotation)?;
            }
        }
        self.file.write_all(line).map_err(at(&self.path))?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), SinkError> {
        self.file.sync_data().map_err(at(&self.path))
    }

    fn reopen(&mut self) -> Result<(), SinkError> {
        self.file = open_append(&self.path)?;
        self.size = self.file.metadata().map_err(at(&self.path))?.len();
        Ok(())
    }

    fn mark(&self) -> Option<(u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        let meta = self.file.metadata().ok()?;
        Some((meta.ino(), self.size))
    }
}

impl FileSink {
    /// Cuts the file at `path` back to `length` if it is still the file with `inode`:
    /// what lies beyond a checkpoint will be written again. Returns the bytes removed.
    pub fn truncate_to_mark(path: &Path, inode: u64, length: u64) -> Result<u64, SinkError> {
        use std::os::unix::fs::MetadataExt;
        let meta = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(at(path)(e)),
        };
        if meta.ino() != inode || meta.len() <= length {
            return Ok(0);
        }
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(at(path))?;
        file.set_len(length).map_err(at(path))?;
        file.sync_all().map_err(at(path))?;
        Ok(meta.len() - length)
    }
}

/// Writes to a named pipe whose reader may be slow (writes block: backpressure) or
/// gone (the pipe is reopened, which waits for a new reader).
pub struct FifoSink {
    path: PathBuf,
    pipe: Option<File>,
}

impl FifoSink {
    /// `path` must already be a fifo (audito-maldito users create it with mkfifo).
    pub fn open(path: &Path) -> Result<FifoSink, SinkError> {
        let meta = fs::metadata(path).map_err(at(path))?;
        if !meta.file_type().is_fifo() {
            return Err(SinkError::Io {
                path: path.to_path_buf(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "not a fifo"),
            });
        }
        Ok(FifoSink {
            path: path.to_path_buf(),
            pipe: None,
        })
    }

    fn pipe(&mut self) -> Result<&mut File, SinkError> {
        if self.pipe.is_none() {
            // Blocks until a reader opens the other end.
            let pipe = OpenOptions::new()
                .write(true)
                .open(&self.path)
                .map_err(at(&self.path))?;
            self.pipe = Some(pipe);
        }
        self.pipe.as_mut().ok_or_else(|| SinkError::Io {
            path: self.path.clone(),
            source: io::Error::other("fifo not open"),
        })
    }
}

impl Sink for FifoSink {
    fn write_line(&mut self, line: &[u8]) -> Result<(), SinkError> {
        let result = self.pipe()?.write_all(line);
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                // The reader went away: wait for the next one and write the line again.
                self.pipe = None;
                self.pipe()?.write_all(line).map_err(at(&self.path))
            }
            Err(e) => Err(at(&self.path)(e)),
        }
    }

    fn sync(&mut self) -> Result<(), SinkError> {
        // A pipe has nothing to flush: what write() accepted is the reader's.
        Ok(())
    }

    fn reopen(&mut self) -> Result<(), SinkError> {
        self.pipe = None;
        Ok(())
    }
}

/// Standard output.
pub struct StdoutSink {
    out: io::Stdout,
}

impl StdoutSink {
    pub fn new() -> StdoutSink {
        StdoutSink { out: io::stdout() }
    }
}

impl Default for StdoutSink {
    fn default() -> Self {
        StdoutSink::new()
    }
}

impl Sink for StdoutSink {
    fn write_line(&mut self, line: &[u8]) -> Result<(), SinkError> {
        let mut out = self.out.lock();
        out.write_all(line).map_err(at(Path::new("<stdout>")))
    }

    fn sync(&mut self) -> Result<(), SinkError> {
        self.out.lock().flush().map_err(at(Path::new("<stdout>")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sshtrail-sink-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn file_sink_creates_0640_appends_and_reopens() {
        let dir = temp_dir("file");
        let path = dir.join("events.json");
        let mut sink = FileSink::open(&path, None).unwrap();
        sink.write_line(b"one\n").unwrap();
        sink.sync().unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode & !0o640,
            0,
            "no more than 0640 (umask may remove bits)"
        );
        // logrotate moves the file away, then signals: writes go to the new file.
        fs::rename(&path, dir.join("events.json.old")).unwrap();
        sink.reopen().unwrap();
        sink.write_line(b"two\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two\n");
        assert_eq!(fs::read(dir.join("events.json.old")).unwrap(), b"one\n");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn file_sink_rotates_by_size_and_keeps_n() {
        let dir = temp_dir("rotate");
        let path = dir.join("e.json");
        let rotation = Rotation {
            max_bytes: 10,
            keep: 2,
        };
        let mut sink = FileSink::open(&path, Some(rotation)).unwrap();
        for line in ["aaaaaa\n", "bbbbbb\n", "cccccc\n", "dddddd\n"] {
            sink.write_line(line.as_bytes()).unwrap();
        }
        assert_eq!(fs::read(&path).unwrap(), b"dddddd\n");
        assert_eq!(fs::read(numbered(&path, 1)).unwrap(), b"cccccc\n");
        assert_eq!(fs::read(numbered(&path, 2)).unwrap(), b"bbbbbb\n");
        assert!(!numbered(&path, 3).exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn fifo_sink_refuses_regular_files() {
        let dir = temp_dir("fifo");
        let path = dir.join("plain");
        fs::write(&path, b"").unwrap();
        assert!(FifoSink::open(&path).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
