//! The S3 write side's local directory: live logs, their sidecars, and upload records.

use super::{LOG_SUFFIX, META_SUFFIX};
use crate::{fsutil, validate_id, Error};
use std::path::{Path, PathBuf};

/// Suffix of an upload record (see `job`).
pub const RECORD_SUFFIX: &str = ".upload.json";

pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    pub fn new(dir: &Path) -> Result<Self, Error> {
        fsutil::create_dir(dir)?;
        Ok(Spool {
            dir: dir.to_path_buf(),
        })
    }

    /// Opens an existing spool without creating or locking anything.
    pub fn existing(dir: &Path) -> Self {
        Spool {
            dir: dir.to_path_buf(),
        }
    }

    /// Takes the spool's lock (`<spool>/.lock`, flock): one uploading process per spool, or
    /// two would send the same parts and race on the upload records. Held while the returned
    /// file is open; the kernel drops it when the process dies, even by SIGKILL.
    pub fn lock(&self) -> Result<std::fs::File, Error> {
        use std::os::unix::io::AsRawFd;
        let path = self.dir.join(".lock");
        let f = fsutil::open_append(&path)?;
        // SAFETY: flock on a descriptor we own, no memory involved.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(Error::BadValue {
                    key: "spool_dir".into(),
                    reason: format!("{} is in use by another process", self.dir.display()),
                });
            }
            return Err(Error::io("lock", path, e));
        }
        // The lock is ours: what an uploader killed mid-write left behind is stale.
        fsutil::remove_stale_temporaries(&self.dir);
        Ok(f)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Paths take ids that were validated by the caller.
    pub fn log(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{LOG_SUFFIX}"))
    }

    pub fn meta(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{META_SUFFIX}"))
    }

    pub fn record(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{RECORD_SUFFIX}"))
    }

    /// Sessions with an upload record, i.e. still to be uploaded, in name order.
    pub fn pending(&self) -> Result<Vec<String>, Error> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| Error::io("list", &self.dir, e))?;
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &self.dir, e))?;
            let name = entry.file_name();
            if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(RECORD_SUFFIX)) {
                if validate_id(id).is_ok() {
                    ids.push(id.to_owned());
                }
            }
        }
        ids.sort();
        Ok(ids)
    }
}
