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
