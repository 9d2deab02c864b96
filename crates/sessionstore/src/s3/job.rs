//! The upload record: `<spool>/<id>.upload.json`, rewritten atomically after every step, is
//! the persistent queue. Its existence means "this session still has to reach S3"; its fields
//! say how far the upload got, so that a restarted process continues instead of starting over.

use crate::{fsutil, Error};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// How far one session's upload got.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub id: String,
    /// Log size when `finish` was called (the log is complete then).
    pub size: u64,
    /// Part size chosen at `finish`; kept so that a resumed upload cuts the same parts.
    pub part_size: u64,
    /// Multipart upload id, once created.
    #[serde(default)]
    pub upload_id: Option<String>,
    /// Finished parts: number (from 1) → ETag.
    #[serde(default)]
    pub parts: BTreeMap<u32, String>,
    #[serde(default)]
    pub log_uploaded: bool,
    #[serde(default)]
    pub meta_uploaded: bool,
    /// The session's index entries are stored (absent in records from before the index:
    /// such a session gets its entries when its upload resumes).
    #[serde(default)]
    pub index_uploaded: bool,
}

impl UploadRecord {
    /// Number of parts of a multipart upload.
    pub fn part_count(&self) -> u32 {
        self.size.div_ceil(self.part_size.max(1)) as u32
    }

    /// Byte range of part `n` (1-based).
    pub fn part_range(&self, n: u32) -> (u64, u64) {
        let start = u64::from(n.saturating_sub(1)) * self.part_size;
        let end = (start + self.part_size).min(self.size);
        (start, end)
    }
}

pub fn load(path: &Path) -> Result<Option<UploadRecord>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| Error::Json {
                what: path.display().to_string(),
                source,
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

pub fn save(path: &Path, rec: &UploadRecord) -> Result<(), Error> {
    let bytes = serde_json::to_vec(rec).map_err(|source| Error::Json {
        what: path.display().to_string(),
        source,
    })?;
    fsutil::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_file_from_one() {
        let r = UploadRecord {
            size: 30_000_000,
            part_size: 5 * 1024 * 1024,
            ..Default::default()
        };
        assert_eq!(r.part_count(), 6);
        assert_eq!(r.part_range(1), (0, 5_242_880));
        assert_eq!(r.part_range(6), (26_214_400, 30_000_000));
        let total: u64 = (1..=6).map(|n| r.part_range(n)).map(|(a, b)| b - a).sum();
        assert_eq!(total, 30_000_000);
    }
}
