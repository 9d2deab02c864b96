//! Small file-system helpers shared by the `file` backend and the S3 spool: directories and
//! files with the modes the crate promises, and atomic replacement of small files.

use crate::Error;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Session logs are audit data: readable by the owner and its group (an auditors' group),
/// never by everyone.
pub const DIR_MODE: u32 = 0o750;
pub const FILE_MODE: u32 = 0o640;

/// Creates `dir` (and missing parents) with mode 0750. An existing directory keeps its mode:
/// an operator who made it stricter meant it.
pub fn create_dir(dir: &Path) -> Result<(), Error> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| Error::io("create directory", dir, e))
}

/// Opens a log for appending: created 0640 if absent, never truncated. O_APPEND makes every
/// write land at the end, also after the caller truncated the file to its checkpoint.
pub fn open_append(path: &Path) -> Result<File, Error> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| Error::io("open", path, e))
}

/// Replaces `path` with `bytes` so that a reader (or a crash) sees either the old or the new
/// content: write a temporary file beside it, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    // Unique per call: two threads may replace different files with the same name prefix.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp.{}.{n}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(FILE_MODE)
            .open(&tmp)
            .map_err(|e| Error::io("create", &tmp, e))?;
        f.write_all(bytes)
            .map_err(|e| Error::io("write", &tmp, e))?;
        f.sync_all().map_err(|e| Error::io("fsync", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| Error::io("rename into", path, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes the temporaries [`write_atomic`] leaves when its process dies between creating
/// one and renaming it (`.<name>.tmp.<pid>.<n>` of a pid no longer running). Called by
/// the one process that owns `dir`'s writing, at start; returns how many went.
pub fn remove_stale_temporaries(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let me = std::process::id();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temporary_pid) else {
            continue;
        };
        let alive = pid == me || Path::new(&format!("/proc/{pid}")).exists();
        if !alive && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The writer's pid, if `name` is one of [`write_atomic`]'s temporaries.
fn temporary_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, tail) = rest.rsplit_once(".tmp.")?;
    let (pid, n) = tail.split_once('.')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Makes a rename or unlink in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))
}

/// Removes a file; absent is fine (the work was already done before a crash).
pub fn remove_if_exists(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Reads a file, mapping "absent" to `NotFound(id)`.
pub fn read_or_not_found(path: &Path, id: &str) -> Result<Vec<u8>, Error> {
    match fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound(id.to_owned())),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dead_writers_temporaries_are_removed() {
        let dir = std::env::temp_dir().join(format!("sshtrail-stale-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // pid 0 never names a running writer: as good as dead.
        let dead = dir.join(".a-b-1.upload.json.tmp.0.5");
        let mine = dir.join(format!(".a-b-1.meta.json.tmp.{}.1", std::process::id()));
        let other = [".lock", "a-b-1.sshlog", ".x.tmp.notapid.1", "a.tmp.0.1"];
        for f in [&dead, &mine] {
            fs::write(f, b"partial").unwrap();
        }
        for f in other {
            fs::write(dir.join(f), b"keep").unwrap();
        }
        assert_eq!(remove_stale_temporaries(&dir), 1);
        assert!(!dead.exists());
        assert!(mine.exists());
        for f in other {
            assert!(dir.join(f).exists(), "{f}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
