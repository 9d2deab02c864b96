//! The `file` backend: `<dir>/<id>.sshlog` is the log itself (the daemon appends to it while
//! the session runs) and `<dir>/<id>.meta.json` its metadata sidecar, replaced atomically.
//! Nothing is queued: once the caller has fsynced the log and `finish` has written the final
//! sidecar, the session is stored.

use crate::fsutil;
use crate::{validate_id, Error, SessionMeta, ShutdownReport, Store, StoreStats};
use std::path::{Path, PathBuf};

/// Suffix of a session log file.
pub const LOG_SUFFIX: &str = ".sshlog";
/// Suffix of a metadata sidecar.
pub const META_SUFFIX: &str = ".meta.json";

/// One directory of session logs.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// Uses `dir`, creating it (mode 0750) when absent.
    pub fn new(dir: &Path) -> Result<Self, Error> {
        fsutil::create_dir(dir)?;
        Ok(FileStore {
            dir: dir.to_path_buf(),
        })
    }

    /// Where the log of `id` lives (the id is checked).
    pub fn log_path(&self, id: &str) -> Result<PathBuf, Error> {
        validate_id(id)?;
        Ok(self.dir.join(format!("{id}{LOG_SUFFIX}")))
    }

    fn meta_path(&self, id: &str) -> Result<PathBuf, Error> {
        validate_id(id)?;
        Ok(self.dir.join(format!("{id}{META_SUFFIX}")))
    }
}

/// Serializes a sidecar (shared with the S3 spool).
pub(crate) fn meta_json(meta: &SessionMeta) -> Result<Vec<u8>, Error> {
    let mut v = serde_json::to_vec_pretty(meta).map_err(|source| Error::Json {
        what: format!("of session {}", meta.id),
        source,
    })?;
    v.push(b'\n');
    Ok(v)
}

/// Parses a sidecar, naming where it came from when it is not ours.
pub(crate) fn parse_meta(bytes: &[u8], what: &str) -> Result<SessionMeta, Error> {
    serde_json::from_slice(bytes).map_err(|source| Error::Json {
        what: what.to_owned(),
        source,
    })
}

/// Oldest first, so that a listing reads like a log.
pub(crate) fn sort_listing(list: &mut [SessionMeta]) {
    list.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id)));
}

impl Store for FileStore {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn open_local(&self, id: &str) -> Result<Option<std::fs::File>, Error> {
        fsutil::open_append(&self.log_path(id)?).map(Some)
    }

    fn write_meta(&self, meta: &SessionMeta) -> Result<(), Error> {
        let path = self.meta_path(&meta.id)?;
        fsutil::write_atomic(&path, &meta_json(meta)?)
    }

    fn finish(&self, meta: &SessionMeta) -> Result<(), Error> {
        self.write_meta(meta)
    }

    fn list(&self) -> Result<Vec<SessionMeta>, Error> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| Error::io("list", &self.dir, e))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &self.dir, e))?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(META_SUFFIX)) else {
                continue;
            };
            if validate_id(id).is_err() {
                continue; // temporary files of write_atomic, strangers
            }
            match self.meta(id) {
                Ok(m) => out.push(m),
                // A damaged sidecar must not hide every other session.
                Err(e) => tracing::warn!(session = id, error = %e, "skipping unreadable sidecar"),
            }
        }
        sort_listing(&mut out);
        Ok(out)
    }

    fn meta(&self, id: &str) -> Result<SessionMeta, Error> {
        let path = self.meta_path(id)?;
        let bytes = fsutil::read_or_not_found(&path, id)?;
        parse_meta(&bytes, &path.display().to_string())
    }

    fn open(&self, id: &str) -> Result<Box<dyn std::io::Read + Send>, Error> {
        let path = self.log_path(id)?;
        match std::fs::File::open(&path) {
            Ok(f) => Ok(Box::new(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::NotFound(id.to_owned()))
            }
            Err(e) => Err(Error::io("open", path, e)),
        }
    }

    fn shutdown(&self, _deadline: std::time::Duration) -> ShutdownReport {
        ShutdownReport::default()
    }

    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }
}
